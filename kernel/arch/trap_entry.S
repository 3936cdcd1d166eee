/*
 * trap_entry.S - one stub per IDT vector. Each pushes a dummy error code when
 * the CPU pushes none (SDM vol.3 6.13: #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP,
 * #VC, #SX push one), then the vector, then every general register, and calls
 * trap_dispatch(struct trap_frame *). Clobbers nothing of the interrupted
 * context. Keel runs only in ring 0, so there is no SWAPGS.
 */
	.text

.macro TRAP_STUB vec
	.balign 16
	.if (\vec == 8) || (\vec == 10) || (\vec == 11) || (\vec == 12) || (\vec == 13) || (\vec == 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
	.else
	pushq $0
	.endif
	pushq $\vec
	jmp trap_common
.endm

	.globl trap_stubs_start
trap_stubs_start:
.set vec, 0
.rept 256
	TRAP_STUB vec
	.set vec, vec + 1
.endr
	.balign 16
	.globl trap_stubs_end
trap_stubs_end:

trap_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	movq %rsp, %rdi
	call trap_dispatch
	.globl trap_return
trap_return:
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp		/* vector, error code */
	iretq

