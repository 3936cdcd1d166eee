UNIT_TESTS += printf
UNIT_SRCS_printf := tests/unit/shim/printf_host.c
