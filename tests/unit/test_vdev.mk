UNIT_TESTS += vdev
UNIT_SRCS_vdev := kernel/vdev/uart.c kernel/vdev/testdev.c kernel/virt/elf64.c
