UNIT_TESTS += ioapic
UNIT_SRCS_ioapic := kernel/ioapic.c
