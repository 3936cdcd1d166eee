UNIT_TESTS += io
UNIT_SRCS_io := kernel/virt/io.c
