UNIT_TESTS += libc
# test_libc.c includes kernel/libc/stdlib.c and float.c under other names.
UNIT_SRCS_libc :=
$(B)/unit/test_libc $(B)/unit-asan/test_libc: \
	kernel/libc/stdlib.c kernel/libc/float.c
