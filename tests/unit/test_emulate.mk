UNIT_TESTS += emulate
UNIT_SRCS_emulate := kernel/virt/decode.c kernel/virt/emulate.c
