/*
 * trampoline.S - the last step of the loader, after ExitBootServices:
 * switch to the loader-built page tables and stack and jump to the kernel's
 * entry64 (boot_info.h, comment at struct kernel_header). This code runs on
 * memory that the new tables identity-map, so changing CR3 under it is safe.
 *
 * void handover_jump(uint64_t cr3, uint64_t rsp, uint64_t boot_info,
 *                    uint64_t entry64)   System V ABI; never returns.
 * In: RDI = PML4 (or PML5) physical address, RSI = new RSP (16-byte aligned
 * minus 8, a zero "return address" already stored there), RDX = boot_info
 * physical address, RCX = entry64 (virtual, mapped by the new tables).
 * Out: interrupts off, CR3/RSP switched, RDI = boot_info, RBP = 0.
 * Clobbers everything; the loader's stack and state are gone.
 */
	.text
	.globl handover_jump
	.hidden handover_jump
	.type handover_jump, @function
handover_jump:
	cli
	mov %rdi, %cr3
	mov %rsi, %rsp
	mov %rdx, %rdi
	xor %ebp, %ebp
	jmp *%rcx
	.size handover_jump, . - handover_jump

	.section .note.GNU-stack, "", @progbits
