/*
 * vmx_asm.S - the VM entry and exit path (Intel SDM vol.3 26, 27, 30.3):
 *
 *   int vmx_vmenter(struct vmx_gprs *gprs, int launched);
 *
 * Expects: interrupts off, the vCPU's VMCS current on this CPU with every
 * field but HOST_RSP written (HOST_RIP = vmx_vmexit_host_rip).
 * Returns: VMX_ENTER_EXITED after a VM exit, with the guest's GPRs in *gprs
 * (RSP, RIP, RFLAGS stay in the VMCS); VMX_ENTER_FAIL_VALID or
 * VMX_ENTER_FAIL_INVALID when VMLAUNCH/VMRESUME did not enter. Interrupts
 * are off either way (a VM exit clears RFLAGS, 27.5.3).
 * Clobbers: every caller-saved register; rbx, rbp, r12-r15 are saved on the
 * stack and restored.
 *
 * HOST_RSP is written here, just before the entry, so the exit lands on
 * this very frame (the gprs pointer on top). A VM exit loads the host's
 * CR0/3/4, segment and descriptor-table state, EFER and PAT from the VMCS;
 * the GPRs are whatever the guest left, so they are saved first.
 */
#include "vmx/vmx_softc.h"

#define VMCS_HOST_RSP_FIELD 0x6C14

	.text
	.globl vmx_vmenter
	.type vmx_vmenter, @function
vmx_vmenter:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdi			/* gprs, found again after the exit */

	movl $VMCS_HOST_RSP_FIELD, %eax
	vmwrite %rsp, %rax
	jbe .Lfail			/* CF or ZF: the write failed */

	testl %esi, %esi		/* launched? (mov keeps the flags) */
	movq VMX_GPRS_RAX(%rdi), %rax
	movq VMX_GPRS_RBX(%rdi), %rbx
	movq VMX_GPRS_RCX(%rdi), %rcx
	movq VMX_GPRS_RDX(%rdi), %rdx
	movq VMX_GPRS_RSI(%rdi), %rsi
	movq VMX_GPRS_RBP(%rdi), %rbp
	movq VMX_GPRS_R8(%rdi), %r8
	movq VMX_GPRS_R9(%rdi), %r9
	movq VMX_GPRS_R10(%rdi), %r10
	movq VMX_GPRS_R11(%rdi), %r11
	movq VMX_GPRS_R12(%rdi), %r12
	movq VMX_GPRS_R13(%rdi), %r13
	movq VMX_GPRS_R14(%rdi), %r14
	movq VMX_GPRS_R15(%rdi), %r15
	movq VMX_GPRS_RDI(%rdi), %rdi	/* last: it held the pointer */
	jnz 1f
	vmlaunch
	jmp .Lfail
1:	vmresume
	/* Falls through only when the entry failed. */
.Lfail:
	/* CF: VMfailInvalid; ZF: VMfailValid (30.2). mov keeps the flags. */
	movl $VMX_ENTER_FAIL_INVALID, %eax
	jc 2f
	movl $VMX_ENTER_FAIL_VALID, %eax
2:	addq $8, %rsp			/* gprs */
	jmp .Lrestore

	.globl vmx_vmexit_host_rip
	.type vmx_vmexit_host_rip, @function
vmx_vmexit_host_rip:
	/* VM exit: RSP = HOST_RSP (gprs on top), interrupts off. */
	pushq %rdi			/* guest RDI */
	movq 8(%rsp), %rdi		/* gprs */
	movq %rax, VMX_GPRS_RAX(%rdi)
	movq %rbx, VMX_GPRS_RBX(%rdi)
	movq %rcx, VMX_GPRS_RCX(%rdi)
	movq %rdx, VMX_GPRS_RDX(%rdi)
	movq %rsi, VMX_GPRS_RSI(%rdi)
	movq %rbp, VMX_GPRS_RBP(%rdi)
	movq %r8, VMX_GPRS_R8(%rdi)
	movq %r9, VMX_GPRS_R9(%rdi)
	movq %r10, VMX_GPRS_R10(%rdi)
	movq %r11, VMX_GPRS_R11(%rdi)
	movq %r12, VMX_GPRS_R12(%rdi)
	movq %r13, VMX_GPRS_R13(%rdi)
	movq %r14, VMX_GPRS_R14(%rdi)
	movq %r15, VMX_GPRS_R15(%rdi)
	popq VMX_GPRS_RDI(%rdi)
	addq $8, %rsp			/* gprs */
	xorl %eax, %eax			/* VMX_ENTER_EXITED */
.Lrestore:
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
	.size vmx_vmenter, . - vmx_vmenter

	.section .note.GNU-stack,"",@progbits
