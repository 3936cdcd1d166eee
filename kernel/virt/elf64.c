/*
 * elf64.c - checking an ELF64 executable a VM is to start from (the 64-bit
 * start of kernel/virt/load.c): header, program headers and every loadable
 * segment bounded by the file and by the guest RAM Keel will give it.
 */
#include <string.h>

#include "kernel/err.h"
#include "kernel/virt/virt_internal.h"

#define EI_CLASS 4
#define EI_DATA 5
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ET_EXEC 2
#define EM_X86_64 62

int elf64_guest_check(const void *image, size_t size, uint64_t *entry,
		      const char **why)
{
	struct elf64_ehdr ehdr, *eh = &ehdr;

	if (size < sizeof(*eh) || memcmp(image, "\177ELF", 4)) {
		*why = "not an ELF file";
		return KEEL_EINVAL;
	}
	memcpy(eh, image, sizeof(*eh)); /* the image may be unaligned */
	if (eh->ident[EI_CLASS] != ELFCLASS64 || eh->ident[EI_DATA] != ELFDATA2LSB ||
	    eh->machine != EM_X86_64 || eh->type != ET_EXEC) {
		*why = "not an x86-64 ELF executable";
		return KEEL_EINVAL;
	}
	if (eh->phentsize != sizeof(struct elf64_phdr) || eh->phnum == 0 ||
	    eh->phnum > 64 || eh->phoff > size ||
	    size - eh->phoff < (uint64_t)eh->phnum * sizeof(struct elf64_phdr)) {
		*why = "program headers outside the file";
		return KEEL_EINVAL;
	}
	bool entry_ok = false;
	for (unsigned i = 0; i < eh->phnum; i++) {
		struct elf64_phdr ph;
		memcpy(&ph, (const uint8_t *)image + eh->phoff + i * sizeof(ph),
		       sizeof(ph));
		if (ph.type != ELF_PT_LOAD)
			continue;
		if (ph.filesz > ph.memsz || ph.offset > size ||
		    size - ph.offset < ph.filesz) {
			*why = "a segment lies outside the file";
			return KEEL_EINVAL;
		}
		if (ph.paddr < VM_BOOT_RESERVED_END || ph.memsz > VM_LOW_RAM_MAX ||
		    ph.paddr > VM_LOW_RAM_MAX - ph.memsz) {
			*why = "a segment lies outside [0x8000, 3 GiB)";
			return KEEL_EINVAL;
		}
		/* The guest runs on an identity map: virtual = physical. */
		if (ph.vaddr != ph.paddr) {
			*why = "a segment's virtual and physical addresses differ";
			return KEEL_EINVAL;
		}
		if (eh->entry - ph.vaddr < ph.memsz)
			entry_ok = true;
	}
	if (!entry_ok) {
		*why = "the entry point is in no segment";
		return KEEL_EINVAL;
	}
	*entry = eh->entry;
	return 0;
}

