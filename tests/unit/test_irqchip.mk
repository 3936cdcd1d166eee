UNIT_TESTS += irqchip
UNIT_SRCS_irqchip := kernel/vdev/lapic.c kernel/vdev/ioapic.c kernel/vdev/pic.c
