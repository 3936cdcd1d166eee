UNIT_TESTS += boot_text
UNIT_SRCS_boot_text := boot/text.c
