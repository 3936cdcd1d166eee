UNIT_TESTS += apic
UNIT_SRCS_apic := kernel/apic.c
