/*
 * kernel_blob.S - the kernel ELF file inside BOOTX64.EFI, so network boot
 * needs one file (DESIGN.md section 2). KERNEL_BLOB_PATH comes from
 * boot/boot.mk. The section name matches the gnu-efi linker script's
 * *(.rodata*), which places it in the .data output section that the final
 * objcopy keeps; page alignment lets the ELF headers be read in place.
 */
	.section .rodata.kernel_blob, "a", @progbits
	.balign 4096
	.globl kernel_blob_start
	.hidden kernel_blob_start
kernel_blob_start:
	.incbin KERNEL_BLOB_PATH
	.globl kernel_blob_end
	.hidden kernel_blob_end
kernel_blob_end:

	.section .note.GNU-stack, "", @progbits
