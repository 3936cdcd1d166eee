UNIT_TESTS += acpi
UNIT_SRCS_acpi := kernel/acpi.c kernel/acpi_s5.c
