/*
 * svm_asm.S - the VMRUN path (AMD APM vol.2 15.5, 15.17):
 *
 *   void svm_vmrun(struct svm_gprs *gprs, uint64_t vmcb_pa,
 *                  uint64_t host_vmcb_pa);
 *
 * gprs is the first member of struct svm_vcpu: after each #VMEXIT,
 * svm_fastpath(sv) (svm.c) may finish the exit at once; then the guest is
 * entered again without switching FS/GS/TR & co back to the host's: that
 * C function touches neither %gs nor the stack canary's %fs (Keel's canary
 * is a global), and runs with GIF=0, so no interrupt comes in between.
 *
 * Expects: interrupts off (the caller picked the ASID for this CPU), GIF=1.
 * Returns: interrupts off, GIF=1, the guest's GPRs in *gprs; the guest's RAX,
 * RSP, RIP, RFLAGS and the VMLOAD/VMSAVE state in its VMCB.
 * Clobbers: every caller-saved register (rax, rcx, rdx, rsi, rdi, r8-r11);
 * rbx, rbp, r12-r15 are saved on the stack and restored.
 *
 * Sequence: CLGI, then STI: with GIF=0 no interrupt is taken, but VMRUN saves
 * the host's RFLAGS.IF=1, and with V_INTR_MASKING that is what lets a host
 * interrupt end the guest with #VMEXIT(INTR) (APM 15.21.1). VMLOAD guest
 * (FS, GS, TR, LDTR, KernelGSBase, STAR/LSTAR/CSTAR/SFMASK, SYSENTER_*: VMRUN
 * does not switch them), VMRUN, VMSAVE guest, VMLOAD host (GS base: the
 * per-CPU pointer is wrong until then, so nothing here touches %gs), CLI,
 * STGI. The interrupt that caused an INTR exit stays pending and is taken
 * when the caller turns interrupts back on.
 */
#include "svm/svm_softc.h"

	.section .text.hot, "ax"
	.globl svm_vmrun
	.type svm_vmrun, @function
svm_vmrun:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdx			/* 16(%rsp): host VMCB, for the VMLOAD after exit */
	pushq %rdi			/* 8(%rsp): gprs, to store the guest's back */
	pushq %rsi			/* 0(%rsp): guest VMCB; RSP is 16-aligned now */

	movq %rsi, %rax			/* VMLOAD/VMRUN/VMSAVE take rAX */
	clgi
	sti
	vmload %rax
.Lenter:
	movq 8(%rsp), %rdi
	movq SVM_GPRS_RBX(%rdi), %rbx
	movq SVM_GPRS_RCX(%rdi), %rcx
	movq SVM_GPRS_RDX(%rdi), %rdx
	movq SVM_GPRS_RSI(%rdi), %rsi
	movq SVM_GPRS_RBP(%rdi), %rbp
	movq SVM_GPRS_R8(%rdi), %r8
	movq SVM_GPRS_R9(%rdi), %r9
	movq SVM_GPRS_R10(%rdi), %r10
	movq SVM_GPRS_R11(%rdi), %r11
	movq SVM_GPRS_R12(%rdi), %r12
	movq SVM_GPRS_R13(%rdi), %r13
	movq SVM_GPRS_R14(%rdi), %r14
	movq SVM_GPRS_R15(%rdi), %r15
	movq SVM_GPRS_RDI(%rdi), %rdi	/* last: it held the pointer */

	vmrun %rax
	/* #VMEXIT: host RSP, RIP, RAX (= guest VMCB), RFLAGS (IF=1) back;
	 * GIF=0; FS, GS, TR, ... still hold the guest's. */

	pushq %rdi			/* guest RDI */
	movq 16(%rsp), %rdi		/* gprs */
	movq %rbx, SVM_GPRS_RBX(%rdi)
	movq %rcx, SVM_GPRS_RCX(%rdi)
	movq %rdx, SVM_GPRS_RDX(%rdi)
	movq %rsi, SVM_GPRS_RSI(%rdi)
	movq %rbp, SVM_GPRS_RBP(%rdi)
	movq %r8, SVM_GPRS_R8(%rdi)
	movq %r9, SVM_GPRS_R9(%rdi)
	movq %r10, SVM_GPRS_R10(%rdi)
	movq %r11, SVM_GPRS_R11(%rdi)
	movq %r12, SVM_GPRS_R12(%rdi)
	movq %r13, SVM_GPRS_R13(%rdi)
	movq %r14, SVM_GPRS_R14(%rdi)
	movq %r15, SVM_GPRS_R15(%rdi)
	popq SVM_GPRS_RDI(%rdi)

	/* rdi = gprs = the svm_vcpu */
	call svm_fastpath
	testb %al, %al
	movq 0(%rsp), %rax		/* guest VMCB */
	jnz .Lenter

	vmsave %rax
	addq $16, %rsp			/* guest VMCB, gprs */
	popq %rax			/* host VMCB */
	vmload %rax

	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	/* Host registers are whole again before an NMI can come in. */
	cli
	stgi
	ret
	.size svm_vmrun, . - svm_vmrun
