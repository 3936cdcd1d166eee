UNIT_TESTS += acpi
UNIT_SRCS_acpi := kernel/acpi.c
