UNIT_TESTS += log
UNIT_SRCS_log := kernel/log.c
