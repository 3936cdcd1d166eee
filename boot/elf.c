/*
 * elf.c - checks a kernel ELF64 image against what the loader relies on and
 * copies its PT_LOAD segments into place. The file may come from the boot
 * volume (\keel\kernel.elf), so nothing in it is trusted: every offset and
 * size is bounded before use (System V gABI, ELF-64 Object File Format 1.5).
 */
#include <string.h>

#include "boot/boot_info.h"
#include "boot/elf.h"
#include "kernel/err.h"

#define ELF_PT_LOAD 1
#define ELF_ET_EXEC 2
#define ELF_EM_X86_64 62
#define ELF_CLASS64 2
#define ELF_DATA2LSB 1
#define ELF_PAGE 4096ULL

struct elf64_ehdr {
	unsigned char e_ident[16];
	uint16_t e_type;
	uint16_t e_machine;
	uint32_t e_version;
	uint64_t e_entry;
	uint64_t e_phoff;
	uint64_t e_shoff;
	uint32_t e_flags;
	uint16_t e_ehsize;
	uint16_t e_phentsize;
	uint16_t e_phnum;
	uint16_t e_shentsize;
	uint16_t e_shnum;
	uint16_t e_shstrndx;
};

struct elf64_phdr {
	uint32_t p_type;
	uint32_t p_flags;
	uint64_t p_offset;
	uint64_t p_vaddr;
	uint64_t p_paddr;
	uint64_t p_filesz;
	uint64_t p_memsz;
	uint64_t p_align;
};

/* Headers are copied out rather than cast in place: a file read from disk
 * or TFTP has no alignment guarantee. */
static void elf_read_phdr(const void *file, const struct elf64_ehdr *eh,
			  unsigned i, struct elf64_phdr *ph)
{
	memcpy(ph, (const char *)file + eh->e_phoff + (uint64_t)i * sizeof(*ph),
	       sizeof(*ph));
}

static int elf_fail(const char **why, const char *reason, int err)
{
	*why = reason;
	return err;
}

static int elf_check_header(const void *file, size_t size,
			    struct elf64_ehdr *eh, const char **why)
{
	if (size < sizeof(*eh))
		return elf_fail(why, "shorter than an ELF header", KEEL_ECORRUPT);
	memcpy(eh, file, sizeof(*eh));
	if (memcmp(eh->e_ident, "\177ELF", 4) != 0)
		return elf_fail(why, "not an ELF file", KEEL_EINVAL);
	if (eh->e_ident[4] != ELF_CLASS64 || eh->e_ident[5] != ELF_DATA2LSB)
		return elf_fail(why, "not a little-endian ELF64 file",
				KEEL_EINVAL);
	if (eh->e_machine != ELF_EM_X86_64)
		return elf_fail(why, "not an x86-64 ELF file", KEEL_EINVAL);
	if (eh->e_type != ELF_ET_EXEC)
		return elf_fail(why, "not an executable (ET_EXEC)", KEEL_EINVAL);
	if (eh->e_phentsize != sizeof(struct elf64_phdr) || eh->e_phnum == 0)
		return elf_fail(why, "no usable program headers",
				KEEL_ECORRUPT);
	if (eh->e_phoff > size ||
	    (uint64_t)eh->e_phnum * sizeof(struct elf64_phdr) >
		    size - eh->e_phoff)
		return elf_fail(why, "program headers outside the file",
				KEEL_ECORRUPT);
	return 0;
}

/* Each PT_LOAD's file bytes inside the file; returns the lowest one. */
static int elf_check_segments(const void *file, size_t size,
			      const struct elf64_ehdr *eh,
			      struct elf64_phdr *lowest, const char **why)
{
	struct elf64_phdr ph;
	int found = 0;

	for (unsigned i = 0; i < eh->e_phnum; i++) {
		elf_read_phdr(file, eh, i, &ph);
		if (ph.p_type != ELF_PT_LOAD || ph.p_memsz == 0)
			continue;
		if (ph.p_filesz > ph.p_memsz)
			return elf_fail(why, "segment file size above memory size",
					KEEL_ECORRUPT);
		if (ph.p_offset > size || ph.p_filesz > size - ph.p_offset)
			return elf_fail(why, "segment outside the file",
					KEEL_ECORRUPT);
		if (ph.p_vaddr + ph.p_memsz < ph.p_vaddr)
			return elf_fail(why, "segment wraps the address space",
					KEEL_ECORRUPT);
		if (!found || ph.p_vaddr < lowest->p_vaddr)
			*lowest = ph;
		found = 1;
	}
	if (!found)
		return elf_fail(why, "no PT_LOAD segment", KEEL_EINVAL);
	return 0;
}

/* The struct kernel_header at the start of the lowest PT_LOAD (boot_info.h). */
static int elf_check_kernel_header(const void *file,
				   const struct elf64_phdr *lowest,
				   struct elf_kernel *k, const char **why)
{
	struct kernel_header kh;

	if (lowest->p_filesz < sizeof(kh))
		return elf_fail(why, "first segment too small for a kernel header",
				KEEL_EINVAL);
	memcpy(&kh, (const char *)file + lowest->p_offset, sizeof(kh));
	if (memcmp(kh.magic, KERNEL_HEADER_MAGIC, sizeof(kh.magic)) != 0)
		return elf_fail(why, "no KEELKRNL kernel header", KEEL_EINVAL);
	if (kh.version != KERNEL_HEADER_VERSION)
		return elf_fail(why, "unknown kernel header version",
				KEEL_ENOTSUP);
	if (kh.size < sizeof(kh) || kh.size > lowest->p_filesz)
		return elf_fail(why, "bad kernel header size", KEEL_ECORRUPT);
	if (kh.image_start != KERNEL_LINK_BASE ||
	    lowest->p_vaddr != kh.image_start)
		return elf_fail(why, "image not linked at KERNEL_LINK_BASE",
				KEEL_EINVAL);
	if (kh.image_end <= kh.image_start || kh.image_end % ELF_PAGE != 0 ||
	    kh.image_end - kh.image_start > ELF_KERNEL_MAX_IMAGE)
		return elf_fail(why, "bad image_end", KEEL_ERANGE);
	if (kh.entry64 < kh.image_start || kh.entry64 >= kh.image_end)
		return elf_fail(why, "entry64 outside the image", KEEL_ERANGE);
	k->image_start = kh.image_start;
	k->image_end = kh.image_end;
	k->entry64 = kh.entry64;
	return 0;
}

int elf_check_kernel(const void *file, size_t size, struct elf_kernel *out,
		     const char **why)
{
	struct elf64_ehdr eh;
	struct elf64_phdr ph, lowest = { 0 };
	struct elf_kernel k;
	int err;

	err = elf_check_header(file, size, &eh, why);
	if (err)
		return err;
	err = elf_check_segments(file, size, &eh, &lowest, why);
	if (err)
		return err;
	err = elf_check_kernel_header(file, &lowest, &k, why);
	if (err)
		return err;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		elf_read_phdr(file, &eh, i, &ph);
		if (ph.p_type != ELF_PT_LOAD || ph.p_memsz == 0)
			continue;
		if (ph.p_vaddr < k.image_start ||
		    ph.p_vaddr + ph.p_memsz > k.image_end)
			return elf_fail(why, "segment outside [image_start, image_end)",
					KEEL_ERANGE);
	}
	*out = k;
	*why = "ok";
	return 0;
}

void elf_load_kernel(const void *file, const struct elf_kernel *k, void *dest)
{
	const struct elf64_ehdr *eh = file;
	struct elf64_ehdr h;
	struct elf64_phdr ph;

	memcpy(&h, eh, sizeof(h));
	memset(dest, 0, k->image_end - k->image_start);
	for (unsigned i = 0; i < h.e_phnum; i++) {
		elf_read_phdr(file, &h, i, &ph);
		if (ph.p_type != ELF_PT_LOAD || ph.p_memsz == 0)
			continue;
		memcpy((char *)dest + (ph.p_vaddr - k->image_start),
		       (const char *)file + ph.p_offset, ph.p_filesz);
	}
}
