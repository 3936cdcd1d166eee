UNIT_TESTS += gwalk
UNIT_SRCS_gwalk := kernel/virt/gwalk.c
