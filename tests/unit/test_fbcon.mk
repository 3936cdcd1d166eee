UNIT_TESTS += fbcon
UNIT_SRCS_fbcon := drivers/fbcon.c drivers/font.c
