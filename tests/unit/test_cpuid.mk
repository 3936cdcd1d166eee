UNIT_TESTS += cpuid
UNIT_SRCS_cpuid := kernel/virt/cpuid.c
