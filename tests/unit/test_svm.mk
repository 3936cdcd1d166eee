UNIT_TESTS += svm
UNIT_SRCS_svm := svm/vmcb.c svm/svm_exit.c svm/svm_msr.c svm/asid.c kernel/virt/msr.c kernel/virt/reset.c
