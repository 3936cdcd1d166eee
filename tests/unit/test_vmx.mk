UNIT_TESTS += vmx
UNIT_SRCS_vmx := vmx/vmcs.c vmx/vmx_exit.c vmx/vmx_msr.c vmx/ept.c mm/pt.c mm/pmm.c kernel/virt/msr.c kernel/virt/reset.c
