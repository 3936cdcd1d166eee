UNIT_TESTS += pmm_contig
UNIT_SRCS_pmm_contig := mm/pmm.c
