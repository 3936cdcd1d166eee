UNIT_TESTS += fastpath
UNIT_SRCS_fastpath :=
