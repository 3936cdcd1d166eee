UNIT_TESTS += boot_mmap
UNIT_SRCS_boot_mmap := boot/mmap.c
