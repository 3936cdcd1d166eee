/*
 * elf.h - checking and loading the kernel's ELF64 image (boot/elf.c).
 * Pure code: no firmware call, so host unit tests run it unchanged.
 */
#ifndef KEEL_BOOT_ELF_H
#define KEEL_BOOT_ELF_H

#include <stddef.h>
#include <stdint.h>

/* What the loader needs of a kernel image that passed elf_check_kernel(). */
struct elf_kernel {
	uint64_t image_start; /* virtual, = KERNEL_LINK_BASE */
	uint64_t image_end;   /* virtual, page aligned, bss included */
	uint64_t entry64;     /* virtual address of the UEFI-path entry */
};

/* The largest kernel image (bss included) the loader accepts. */
#define ELF_KERNEL_MAX_IMAGE (512ULL << 20)

/*
 * Check that file[0..size) is a Keel kernel: ELF64, little-endian, x86-64,
 * ET_EXEC, program headers and every PT_LOAD's bytes inside the file, every
 * PT_LOAD inside [image_start, image_end), and a struct kernel_header at the
 * start of the lowest PT_LOAD. Returns 0 and fills *out, or a negative
 * KEEL_E* code with *why set to a short reason for the console.
 */
int elf_check_kernel(const void *file, size_t size, struct elf_kernel *out,
		     const char **why);

/*
 * Copy every PT_LOAD of a checked file to dest + (p_vaddr - image_start) and
 * zero the rest of [image_start, image_end) (bss and gaps). dest holds
 * image_end - image_start bytes.
 */
void elf_load_kernel(const void *file, const struct elf_kernel *k, void *dest);

#endif
