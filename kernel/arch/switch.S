/*
 * switch.S - switch_context(uint64_t *save_rsp, uint64_t new_rsp): save the
 * callee-saved registers (SysV ABI: rbx, rbp, r12-r15) on the current stack,
 * store RSP in *save_rsp, load new_rsp, restore and return into the other
 * thread. Interrupts must be off. Everything else is caller-saved.
 *
 * thread_start: where a new thread's first switch returns to; its stack holds
 * the six zeroed registers, then thread_start. It calls sched_thread_entry().
 */
	.text
	.globl switch_context
switch_context:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, (%rdi)
	movq %rsi, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret

	.globl thread_start
thread_start:
	xorl %ebp, %ebp
	call sched_thread_entry
	ud2
