UNIT_TESTS += gmem
UNIT_SRCS_gmem := mm/gmem.c mm/pt.c mm/pmm.c
