UNIT_TESTS += boot_elf
UNIT_SRCS_boot_elf := boot/elf.c
