/*
 * multiboot.c - Multiboot (v1) for a direct kernel start (Multiboot
 * Specification 0.6.96, 3.1-3.3): the OS image's header found and checked,
 * what to load where (the a.out kludge or the ELF program headers), where
 * the modules go, and the boot information structure. Pure: load.c writes
 * the result into guest memory.
 */
#include <string.h>

#include "kernel/err.h"
#include "kernel/virt/boot_proto.h"

#define MB_HF_KNOWN (MB_HF_PAGE_ALIGN | MB_HF_MEMINFO | MB_HF_VIDEO)

/* -------------------------------------------------------------- header -- */

int mb_header_find(const void *image, size_t size, struct mb_header *h,
		   const char **why)
{
	const uint8_t *b = image;
	size_t limit = size < MB_SEARCH ? size : MB_SEARCH;
	bool bad_sum = false;

	/* 3.1.1: the header, 32-bit aligned, lies completely within the
	 * first 8192 bytes; magic + flags + checksum == 0 (mod 2^32). */
	for (size_t off = 0; off + 12 <= limit; off += 4) {
		if (get32(b, off) != MB_HEADER_MAGIC)
			continue;
		uint32_t flags = get32(b, off + 4);
		if ((uint32_t)(MB_HEADER_MAGIC + flags + get32(b, off + 8))) {
			bad_sum = true;
			continue;
		}
		memset(h, 0, sizeof(*h));
		h->offset = off;
		h->flags = flags;
		/* 3.1.2: bits 0-15 are requirements; one the loader does not
		 * understand must make it fail. */
		if (flags & MB_HF_REQUIRED & ~MB_HF_KNOWN) {
			*why = "the Multiboot header requires a feature Keel does "
			       "not know (flags bits 3-15)";
			return KEEL_EINVAL;
		}
		size_t len = flags & MB_HF_VIDEO ? 48 : flags & MB_HF_AOUT ? 32 : 12;
		if (off + len > limit) {
			*why = "the Multiboot header's address or video fields lie "
			       "past the first 8 KiB or the end of the file";
			return KEEL_EINVAL;
		}
		if (flags & MB_HF_AOUT) {
			h->header_addr = get32(b, off + 12);
			h->load_addr = get32(b, off + 16);
			h->load_end_addr = get32(b, off + 20);
			h->bss_end_addr = get32(b, off + 24);
			h->entry_addr = get32(b, off + 28);
		}
		if (flags & MB_HF_VIDEO) {
			h->mode_type = get32(b, off + 32);
			h->width = get32(b, off + 36);
			h->height = get32(b, off + 40);
			h->depth = get32(b, off + 44);
		}
		return 0;
	}
	*why = bad_sum ? "a Multiboot magic in the first 8 KiB, but no valid "
			 "checksum"
		       : "no Multiboot header in the first 8 KiB";
	return KEEL_ENOENT;
}

/* ---------------------------------------------------------------- plan -- */

static int plan_add(struct mb_plan *p, const struct boot_e820_entry *map,
		    unsigned n, uint64_t file_off, uint64_t filesz,
		    uint64_t memsz, uint64_t addr, const char **why)
{
	if (!memsz)
		return 0;
	if (addr >= BOOT_4G || memsz > BOOT_4G - addr) {
		*why = "a segment lies above 4 GiB";
		return KEEL_EINVAL;
	}
	if (addr < BOOT_AREA_END) {
		*why = "a segment lies below 0x30000, over Keel's boot structures";
		return KEEL_EINVAL;
	}
	if (!boot_e820_usable(map, n, addr, memsz)) {
		*why = "a segment lies outside the guest's usable RAM (too "
		       "little memory, or in the hole below 1 MiB)";
		return KEEL_EINVAL;
	}
	if (p->count == MB_MAX_SEGMENTS) {
		*why = "more than 16 loadable segments";
		return KEEL_EINVAL;
	}
	p->seg[p->count++] = (struct mb_segment){.file_off = file_off,
						 .filesz = filesz,
						 .memsz = memsz,
						 .addr = (uint32_t)addr};
	if (addr + memsz > p->end)
		p->end = addr + memsz;
	return 0;
}

/* 3.1.3: with flags bit 16 the header's addresses say it all: the file from
 * the header's offset minus (header_addr - load_addr) is loaded at
 * load_addr up to load_end_addr (0: the end of the file), then zeros up to
 * bss_end_addr (0: none); the entry is entry_addr. */
static int plan_aout(const struct mb_header *h, size_t size,
		     const struct boot_e820_entry *map, unsigned n,
		     struct mb_plan *p, const char **why)
{
	if (h->header_addr < h->load_addr) {
		*why = "a.out kludge: header_addr is below load_addr";
		return KEEL_EINVAL;
	}
	uint64_t before = h->header_addr - h->load_addr;
	if (before > h->offset) {
		*why = "a.out kludge: load_addr lies before the start of the file";
		return KEEL_EINVAL;
	}
	uint64_t file_off = h->offset - before;
	uint64_t filesz = size - file_off;
	if (h->load_end_addr) {
		if (h->load_end_addr <= h->load_addr) {
			*why = "a.out kludge: load_end_addr is not above load_addr";
			return KEEL_EINVAL;
		}
		filesz = (uint64_t)h->load_end_addr - h->load_addr;
		if (filesz > size - file_off) {
			*why = "a.out kludge: load_end_addr lies past the end of "
			       "the file";
			return KEEL_EINVAL;
		}
	}
	uint64_t memsz = filesz;
	if (h->bss_end_addr) {
		if (h->bss_end_addr < h->load_addr + filesz) {
			*why = "a.out kludge: bss_end_addr is below load_end_addr";
			return KEEL_EINVAL;
		}
		memsz = (uint64_t)h->bss_end_addr - h->load_addr;
	}
	if (h->entry_addr < h->load_addr ||
	    h->entry_addr - h->load_addr >= filesz) {
		*why = "a.out kludge: entry_addr lies outside [load_addr, "
		       "load_end_addr)";
		return KEEL_EINVAL;
	}
	p->entry = h->entry_addr;
	return plan_add(p, map, n, file_off, filesz, memsz, h->load_addr, why);
}

/* The fields of an ELF32 or ELF64 header or program header that matter
 * (System V gABI, "ELF Header" and "Program Header"). */
struct elf_any {
	uint64_t entry, phoff;
	unsigned phentsize, phnum;
};

struct elf_any_phdr {
	uint32_t type;
	uint64_t offset, vaddr, paddr, filesz, memsz;
};

static void elf_phdr_read(const uint8_t *b, bool is64, uint64_t off,
			  struct elf_any_phdr *ph)
{
	ph->type = get32(b, off);
	if (is64) {
		ph->offset = get64(b, off + 8);
		ph->vaddr = get64(b, off + 16);
		ph->paddr = get64(b, off + 24);
		ph->filesz = get64(b, off + 32);
		ph->memsz = get64(b, off + 40);
	} else {
		ph->offset = get32(b, off + 4);
		ph->vaddr = get32(b, off + 8);
		ph->paddr = get32(b, off + 12);
		ph->filesz = get32(b, off + 16);
		ph->memsz = get32(b, off + 20);
	}
}

#define ELF_PT_LOAD 1

/* 3.1.4 ("the ELF format"): the segments at their physical addresses. The
 * entry is e_entry; when it lies in a segment's virtual range (a higher-half
 * kernel) it is moved to the same offset in that segment's physical range,
 * as GRUB does. */
static int plan_elf(const uint8_t *b, size_t size,
		    const struct boot_e820_entry *map, unsigned n,
		    struct mb_plan *p, const char **why)
{
	struct elf_any e;

	if (size < 16 || memcmp(b, "\177ELF", 4)) {
		*why = "neither the a.out kludge (flags bit 16) nor an ELF file";
		return KEEL_EINVAL;
	}
	bool is64 = b[4] == 2;
	size_t ehsize = is64 ? 64 : 52;
	if ((b[4] != 1 && b[4] != 2) || b[5] != 1 || size < ehsize ||
	    get16(b, 16) != 2 || get16(b, 18) != (is64 ? 62 : 3)) {
		*why = "not an ELF32 i386 (or ELF64 x86-64) executable";
		return KEEL_EINVAL;
	}
	e.entry = is64 ? get64(b, 24) : get32(b, 24);
	e.phoff = is64 ? get64(b, 32) : get32(b, 28);
	e.phentsize = get16(b, is64 ? 54 : 42);
	e.phnum = get16(b, is64 ? 56 : 44);
	if (e.phentsize != (is64 ? 56u : 32u) || e.phnum == 0 || e.phnum > 64 ||
	    e.phoff > size ||
	    size - e.phoff < (uint64_t)e.phnum * e.phentsize) {
		*why = "the ELF program headers lie outside the file";
		return KEEL_EINVAL;
	}
	bool entry_found = false;
	for (unsigned i = 0; i < e.phnum; i++) {
		struct elf_any_phdr ph;
		elf_phdr_read(b, is64, e.phoff + (uint64_t)i * e.phentsize, &ph);
		if (ph.type != ELF_PT_LOAD || !ph.memsz)
			continue;
		if (ph.filesz > ph.memsz || ph.offset > size ||
		    size - ph.offset < ph.filesz) {
			*why = "an ELF segment lies outside the file";
			return KEEL_EINVAL;
		}
		int err = plan_add(p, map, n, ph.offset, ph.filesz, ph.memsz,
				   ph.paddr, why);
		if (err)
			return err;
		if (!entry_found && e.entry - ph.vaddr < ph.memsz) {
			p->entry = (uint32_t)(ph.paddr + (e.entry - ph.vaddr));
			entry_found = true;
		}
	}
	for (unsigned i = 0; !entry_found && i < p->count; i++) {
		if (e.entry - p->seg[i].addr < p->seg[i].memsz) {
			p->entry = (uint32_t)e.entry;
			entry_found = true;
		}
	}
	if (!entry_found) {
		*why = "the ELF entry point lies in no loaded segment";
		return KEEL_EINVAL;
	}
	return 0;
}

int mb_plan_build(const void *image, size_t size, const struct mb_header *h,
		  const struct boot_e820_entry *map, unsigned n,
		  struct mb_plan *p, const char **why)
{
	memset(p, 0, sizeof(*p));
	if (h->flags & MB_HF_AOUT)
		return plan_aout(h, size, map, n, p, why);
	return plan_elf(image, size, map, n, p, why);
}

/* ------------------------------------------------------------- modules -- */

int mb_modules_place(const struct boot_e820_entry *map, unsigned n,
		     uint64_t after, const uint64_t *sizes, unsigned count,
		     uint32_t *starts, const char **why)
{
	uint64_t cursor = after;

	/* 3.3: modules lie where the loader likes, not over the kernel; on
	 * 4 KiB boundaries always (flags bit 0 asks for it; it costs less
	 * than a page per module otherwise). */
	for (unsigned i = 0; i < count; i++) {
		uint64_t a;
		if (boot_e820_fit(map, n, cursor, sizes[i], 0x1000, BOOT_4G, &a)) {
			*why = "the modules do not fit in guest RAM below 4 GiB "
			       "after the kernel: give the VM more memory";
			return KEEL_ENOMEM;
		}
		starts[i] = (uint32_t)a;
		cursor = a + sizes[i];
	}
	return 0;
}

/* ---------------------------------------------------------------- info -- */

struct info_buf {
	uint8_t *buf;
	size_t cap, used;
	uint32_t base;
};

/* Reserve len bytes (aligned) at *addr (guest-physical); false when full. */
static bool info_take(struct info_buf *ib, size_t len, size_t align,
		      uint32_t *addr)
{
	size_t at = (ib->used + align - 1) & ~(align - 1);

	if (at > ib->cap || ib->cap - at < len)
		return false;
	ib->used = at + len;
	*addr = ib->base + (uint32_t)at;
	return true;
}

static bool info_string(struct info_buf *ib, const char *s, uint32_t *addr)
{
	size_t len = strlen(s) + 1;

	if (!info_take(ib, len, 1, addr))
		return false;
	memcpy(ib->buf + (*addr - ib->base), s, len);
	return true;
}

int mb_info_build(const struct mb_info_input *in, void *buf, size_t cap,
		  uint32_t base, size_t *used)
{
	struct info_buf ib = {.buf = buf, .cap = cap, .base = base};
	struct mb_info info;
	uint32_t info_at, mods_at, mmap_at;

	memset(&info, 0, sizeof(info));
	if (!info_take(&ib, sizeof(info), 16, &info_at) ||
	    !info_take(&ib, in->mod_count * sizeof(struct mb_mod_entry), 16,
		       &mods_at) ||
	    !info_take(&ib, in->map_count * sizeof(struct mb_mmap_entry), 8,
		       &mmap_at))
		return KEEL_ERANGE;
	memset(buf, 0, ib.used);

	/* mem_lower: KiB from 0 (at most 640); mem_upper: KiB from 1 MiB up
	 * to the first hole (3.3). */
	info.flags = MB_INFO_MEM | MB_INFO_MODS | MB_INFO_MMAP |
		     MB_INFO_LOADER_NAME;
	for (unsigned i = 0; i < in->map_count; i++) {
		const struct boot_e820_entry *e = &in->map[i];
		if (e->type != E820_RAM)
			continue;
		if (e->addr == 0)
			info.mem_lower = (uint32_t)((e->size < 0xA0000 ? e->size
								   : 0xA0000) >> 10);
		if (e->addr == BOOT_HIGH_MEM)
			info.mem_upper = (uint32_t)((e->size >> 10) > 0xFFFFFFFFu
							    ? 0xFFFFFFFFu
							    : e->size >> 10);
	}
	/* The memory map: each entry preceded by its size, 20 (3.3). */
	for (unsigned i = 0; i < in->map_count; i++) {
		struct mb_mmap_entry m = {
			.size = sizeof(m) - sizeof(m.size),
			.base_addr = in->map[i].addr,
			.length = in->map[i].size,
			.type = in->map[i].type == E820_RAM ? 1 : 2,
		};
		memcpy(ib.buf + (mmap_at - base) + i * sizeof(m), &m, sizeof(m));
	}
	info.mmap_addr = mmap_at;
	info.mmap_length = in->map_count * sizeof(struct mb_mmap_entry);

	for (unsigned i = 0; i < in->mod_count; i++) {
		const char *s = in->mods[i].cmdline ? in->mods[i].cmdline : "";
		uint32_t str;
		if (!info_string(&ib, s, &str))
			return KEEL_ERANGE;
		struct mb_mod_entry m = {.mod_start = in->mods[i].start,
					 .mod_end = in->mods[i].end,
					 .string = str};
		memcpy(ib.buf + (mods_at - base) + i * sizeof(m), &m, sizeof(m));
	}
	info.mods_count = in->mod_count;
	info.mods_addr = mods_at;
	if (in->cmdline) {
		uint32_t str;
		if (!info_string(&ib, in->cmdline, &str))
			return KEEL_ERANGE;
		info.cmdline = str;
		info.flags |= MB_INFO_CMDLINE;
	}
	uint32_t name;
	if (!info_string(&ib, "Keel", &name))
		return KEEL_ERANGE;
	info.boot_loader_name = name;
	memcpy(ib.buf + (info_at - base), &info, sizeof(info));
	*used = ib.used;
	return 0;
}
