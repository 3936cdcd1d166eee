UNIT_TESTS += pt
UNIT_SRCS_pt := mm/pt.c mm/pmm.c
