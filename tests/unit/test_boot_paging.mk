UNIT_TESTS += boot_paging
UNIT_SRCS_boot_paging := boot/paging.c
