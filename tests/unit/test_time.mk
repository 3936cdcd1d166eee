UNIT_TESTS += time
UNIT_SRCS_time := kernel/time.c
