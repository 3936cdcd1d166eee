UNIT_TESTS += acpi_gen
UNIT_SRCS_acpi_gen := kernel/virt/acpi_gen.c kernel/virt/aml.c kernel/acpi.c kernel/acpi_s5.c
