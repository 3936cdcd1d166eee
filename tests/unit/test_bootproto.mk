UNIT_TESTS += bootproto
UNIT_SRCS_bootproto := kernel/virt/linux.c kernel/virt/multiboot.c kernel/virt/elf64.c
