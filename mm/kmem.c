/*
 * kmem.c - the kernel's address space: builds Keel's own page tables (a direct
 * map of every memory-map range at DIRECT_MAP_BASE, the kernel image mapped
 * W^X), feeds the boot memory map to the pmm, and later maps MMIO and kernel
 * stacks with guard pages. Owns kmem_lock (the kernel page-table lock), taken
 * before the pmm lock.
 */
#include <string.h>

#include "boot/boot_info.h"
#include "kernel/arch/x86.h"
#include "kernel/err.h"
#include "kernel/log.h"
#include "kernel/spinlock.h"
#include "mm/mm.h"

/*
 * Virtual layout of the upper half (PML4 slot in brackets):
 *   DIRECT_MAP_BASE       0xFFFF800000000000 [256]  physical memory, up to
 *   KMEM_STACK_BASE       0xFFFFFE0000000000 [508]  kernel stacks, 1 MiB slots
 *   KERNEL_VIRT_BASE      0xFFFFFFFF80000000 [511]  the kernel image
 */
#define KMEM_STACK_BASE 0xFFFFFE0000000000ULL
#define KMEM_STACK_SLOT (1ULL << 20)
#define KMEM_STACK_SLOTS 4096
#define KMEM_DIRECT_MAP_SIZE (KMEM_STACK_BASE - DIRECT_MAP_BASE)
#define KMEM_IDENTITY_LIMIT (1ULL << 47) /* the canonical lower half */

/*
 * Both boot paths map at least [0, 4 GiB) at DIRECT_MAP_BASE before entering
 * the kernel. Until Keel runs on its own tables the pmm only gets memory below
 * this limit, since the new tables (and the pmm metadata) are written through
 * the boot direct map.
 */
#define KMEM_BOOT_MAP_LIMIT (4ULL << 30)
#define KMEM_LOW_LIMIT (1ULL << 20) /* AP trampoline, BIOS areas: never given out */

/*
 * IA32_PAT (SDM 11.12.2): the power-on value 0x0007040600070406 (WB, WT, UC-,
 * UC, twice) with PA1 changed to WC (0x01), so that PWT alone selects
 * write-combining. pt.c's x86 format relies on PA0 = WB, PA1 = WC, PA3 = UC.
 */
#define KMEM_PAT 0x0007040600070106ULL

/* Linker symbols (kernel/arch/kernel.ld), page aligned, virtual. */
extern char __kernel_start[], __text_start[], __text_end[], __rodata_start[],
	__rodata_end[], __data_start[], __bss_end[], __ksyms_start[],
	__kernel_end[];

struct kmem_range {
	uint64_t base, end; /* [base, end) physical */
};

#define KMEM_EXCL_MAX (BOOT_MODULES_MAX + 8)

static struct spinlock kmem_lock = SPINLOCK_INIT;
static struct pgtable kmem_pt;
static struct pt_format kmem_fmt;
static uint16_t kmem_stack_pages[KMEM_STACK_SLOTS]; /* 0: slot free */
static unsigned kmem_stack_next;			/* next-fit cursor */

/* Physical ranges the pmm must never get: sorted by base at use. */
static struct kmem_range kmem_excl[KMEM_EXCL_MAX];
static unsigned kmem_excl_count;

static void kmem_exclude(uint64_t base, uint64_t len)
{
	uint64_t end = base + len;

	if (!len)
		return;
	if (end < base)
		end = UINT64_MAX;
	if (kmem_excl_count == KMEM_EXCL_MAX) {
		/* Cannot happen with the fixed maxima of boot_info. */
		log_err("mm: too many reserved ranges, %#llx+%#llx not protected",
			(unsigned long long)base, (unsigned long long)len);
		return;
	}
	kmem_excl[kmem_excl_count].base = ALIGN_DOWN(base, PAGE_SIZE);
	kmem_excl[kmem_excl_count].end =
		end > UINT64_MAX - PAGE_SIZE ? UINT64_MAX : ALIGN_UP(end, PAGE_SIZE);
	kmem_excl_count++;
	/* insertion sort: a few dozen entries at most */
	for (unsigned i = kmem_excl_count - 1;
	     i > 0 && kmem_excl[i].base < kmem_excl[i - 1].base; i--) {
		struct kmem_range t = kmem_excl[i];

		kmem_excl[i] = kmem_excl[i - 1];
		kmem_excl[i - 1] = t;
	}
}

/* Call fn on every part of [base, end) ∩ [lo, hi) outside the exclusions. */
static void kmem_for_each_piece(uint64_t base, uint64_t end, uint64_t lo,
				uint64_t hi,
				void (*fn)(uint64_t b, uint64_t e, void *ctx),
				void *ctx)
{
	if (base < lo)
		base = lo;
	if (end > hi)
		end = hi;
	for (unsigned i = 0; i < kmem_excl_count && base < end; i++) {
		if (kmem_excl[i].end <= base)
			continue;
		if (kmem_excl[i].base >= end)
			break;
		if (kmem_excl[i].base > base)
			fn(base, kmem_excl[i].base, ctx);
		base = kmem_excl[i].end;
	}
	if (base < end)
		fn(base, end, ctx);
}

static uint64_t kmem_entry_end(const struct boot_mmap_entry *m)
{
	uint64_t end = m->base + m->length;

	return end < m->base ? UINT64_MAX : end;
}

static void kmem_add_piece(uint64_t b, uint64_t e, void *ctx)
{
	pmm_add_range(b, e - b);
}

/* Give every entry of 'type' to the pmm, clipped to [lo, hi), minus the
 * exclusions. */
static void kmem_add_type(const struct boot_info *bi, uint32_t nmap,
			  uint32_t type, uint64_t lo, uint64_t hi)
{
	for (uint32_t i = 0; i < nmap; i++) {
		const struct boot_mmap_entry *m = &bi->mmap[i];

		if (m->type == type)
			kmem_for_each_piece(m->base, kmem_entry_end(m), lo, hi,
					    kmem_add_piece, NULL);
	}
}

struct kmem_meta_search {
	uint64_t size;
	uint64_t best; /* highest fitting base so far, 0: none */
};

static void kmem_meta_piece(uint64_t b, uint64_t e, void *ctx)
{
	struct kmem_meta_search *s = ctx;
	uint64_t top = ALIGN_DOWN(e, PAGE_SIZE);

	b = ALIGN_UP(b, PAGE_SIZE);
	if (top - b >= s->size && top - s->size > s->best)
		s->best = top - s->size;
}

static bool kmem_cpu_has_1g_pages(void)
{
	uint32_t a, b, c, d;

	cpuid(0x80000000, 0, &a, &b, &c, &d);
	if (a < 0x80000001)
		return false;
	cpuid(0x80000001, 0, &a, &b, &c, &d);
	return d & (1u << 26); /* Page1GB (SDM vol. 2A, CPUID) */
}

/* The direct map of one memory-map entry, clipped to the direct map area. */
static int kmem_map_direct(uint64_t base, uint64_t end, unsigned prot)
{
	base = ALIGN_DOWN(base, PAGE_SIZE);
	end = end > KMEM_DIRECT_MAP_SIZE ? KMEM_DIRECT_MAP_SIZE
					 : ALIGN_UP(end, PAGE_SIZE);
	if (base >= end)
		return 0;
	return pt_map(&kmem_pt, DIRECT_MAP_BASE + base, base, end - base, prot);
}

/* The kernel image, section by section (W^X): virtual address -> physical is
 * a fixed offset from where the loader put it. */
static int kmem_map_kernel(const struct boot_info *bi)
{
	const struct {
		const char *start, *end;
		unsigned prot;
	} sec[] = {
		{ __kernel_start, __text_start, PT_R | PT_X }, /* entry stubs */
		{ __text_start, __text_end, PT_R | PT_X },
		{ __text_end, __rodata_start, PT_R },
		{ __rodata_start, __rodata_end, PT_R },
		{ __rodata_end, __data_start, PT_R },
		{ __data_start, __bss_end, PT_R | PT_W },
		{ __bss_end, __ksyms_start, PT_R | PT_W },
		{ __ksyms_start, __kernel_end, PT_R },
	};

	for (unsigned i = 0; i < sizeof(sec) / sizeof(sec[0]); i++) {
		uint64_t s = (uint64_t)(uintptr_t)sec[i].start;
		uint64_t e = (uint64_t)(uintptr_t)sec[i].end;
		int err;

		if (e < s || s < KERNEL_LINK_BASE || (s | e) & (PAGE_SIZE - 1)) {
			log_err("mm: kernel section %u [%#llx, %#llx) is malformed",
				i, (unsigned long long)s, (unsigned long long)e);
			return KEEL_EINVAL;
		}
		if (s == e)
			continue;
		err = pt_map(&kmem_pt, s, s - KERNEL_LINK_BASE + bi->kernel_phys,
			     e - s, sec[i].prot | PT_GLOBAL);
		if (err)
			return err;
	}
	return 0;
}

/* Invalidate this CPU's translations of [va, va+len). Other CPUs are not
 * told (no shootdown yet): see mm_map_mmio and mm_free_stack. */
static void kmem_flush(uint64_t va, uint64_t len)
{
	if (len <= 32 * PAGE_SIZE) {
		for (uint64_t o = 0; o < len; o += PAGE_SIZE)
			invlpg(va + o);
	} else {
		write_cr3(read_cr3()); /* the direct map and stacks are not global */
	}
}

void mm_init_ap(void)
{
	/* SDM 11.12.4: every CPU must use the same PAT. EFER.NXE must already
	 * be set before NX bits are used (SDM 4.1.1), set it anyway. */
	uint64_t cr4;

	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	wrmsr(MSR_IA32_PAT, KMEM_PAT);
	write_cr0(read_cr0() | CR0_WP); /* supervisor writes honour RW */
	if (kmem_pt.root && read_cr3() != kmem_pt.root)
		write_cr3(kmem_pt.root);
	/* Toggling CR4.PGE flushes the TLB including global entries (SDM
	 * 4.10.4.1): nothing cached under the old PAT or old tables stays. */
	cr4 = read_cr4();
	write_cr4(cr4 & ~CR4_PGE);
	write_cr4(cr4 | CR4_PGE);
}

int mm_init(const struct boot_info *bi, uint64_t mem_reserve)
{
	uint32_t nmap = bi->mmap_count, nmod = bi->module_count;
	uint64_t max_phys = 0, meta_bytes, kernel_bytes, usable_before;
	struct kmem_meta_search ms;
	struct pmm_stats st;
	bool huge = kmem_cpu_has_1g_pages();
	int err;

	mm_direct_offset = DIRECT_MAP_BASE;
	if (nmap > BOOT_MMAP_MAX)
		nmap = BOOT_MMAP_MAX;
	if (nmod > BOOT_MODULES_MAX)
		nmod = BOOT_MODULES_MAX;

	/* (1) The pmm covers the RAM it may ever manage; RESERVED ranges far
	 * above RAM (PCI windows, the HyperTransport hole) would only inflate
	 * the metadata. */
	for (uint32_t i = 0; i < nmap; i++) {
		const struct boot_mmap_entry *m = &bi->mmap[i];
		uint64_t end = kmem_entry_end(m);

		if ((m->type == BOOT_MEM_USABLE ||
		     m->type == BOOT_MEM_RECLAIMABLE ||
		     m->type == BOOT_MEM_BOOTINFO) && end > max_phys)
			max_phys = end;
	}
	if (max_phys > KMEM_DIRECT_MAP_SIZE) {
		log_warn("mm: RAM above %llu GiB is ignored",
			 (unsigned long long)(KMEM_DIRECT_MAP_SIZE >> 30));
		max_phys = KMEM_DIRECT_MAP_SIZE;
	}
	max_phys = ALIGN_DOWN(max_phys, PAGE_SIZE);

	/* What must survive: low memory, the kernel, modules, config text. */
	kmem_excl_count = 0;
	kmem_exclude(0, KMEM_LOW_LIMIT);
	kernel_bytes = (uint64_t)(uintptr_t)__kernel_end -
		       (uint64_t)(uintptr_t)__kernel_start;
	if (bi->kernel_size > kernel_bytes)
		kernel_bytes = bi->kernel_size;
	kmem_exclude(bi->kernel_phys, kernel_bytes);
	for (uint32_t i = 0; i < nmod; i++) {
		const struct boot_module *mod = &bi->modules[i];

		if (!(mod->flags & BOOT_MODULE_MISSING) && mod->phys)
			kmem_exclude(mod->phys, mod->size);
	}
	if (bi->cfg_file)
		kmem_exclude(bi->cfg_file, bi->cfg_file_len + 1); /* NUL */
	if (bi->cmdline)
		kmem_exclude(bi->cmdline, bi->cmdline_len + 1);

	meta_bytes = ALIGN_UP(pmm_metadata_bytes(max_phys), PAGE_SIZE);
	ms.size = meta_bytes;
	ms.best = 0;
	for (uint32_t i = 0; i < nmap; i++) {
		const struct boot_mmap_entry *m = &bi->mmap[i];

		if (m->type == BOOT_MEM_USABLE)
			kmem_for_each_piece(m->base, kmem_entry_end(m),
					    KMEM_LOW_LIMIT, KMEM_BOOT_MAP_LIMIT,
					    kmem_meta_piece, &ms);
	}
	if (!ms.best) {
		log_err("mm: no room below 4 GiB for %llu KiB of allocator metadata",
			(unsigned long long)(meta_bytes >> 10));
		return KEEL_ENOMEM;
	}
	pmm_init(max_phys, phys_to_virt(ms.best));
	kmem_exclude(ms.best, meta_bytes);

	/* (2) Usable RAM the boot direct map reaches: enough to build the
	 * tables with. */
	kmem_add_type(bi, nmap, BOOT_MEM_USABLE, KMEM_LOW_LIMIT, KMEM_BOOT_MAP_LIMIT);

	/* (3) Keel's own tables. */
	kmem_fmt = pt_format_x86;
	kmem_fmt.large_1g = huge;
	err = pt_init(&kmem_pt, &kmem_fmt);
	/* RESERVED first, so a page shared with RAM ends up write-back. */
	for (int pass = 0; pass < 2 && !err; pass++) {
		for (uint32_t i = 0; i < nmap && !err; i++) {
			const struct boot_mmap_entry *m = &bi->mmap[i];
			bool reserved = m->type == BOOT_MEM_RESERVED;

			if (m->type == BOOT_MEM_BAD || reserved != (pass == 0))
				continue;
			/* RESERVED below 4 GiB is mostly MMIO (SDM 11.3:
			 * device memory must not be cached). */
			err = kmem_map_direct(m->base, kmem_entry_end(m),
					      PT_R | PT_W | (reserved ? PT_UC : 0));
		}
	}
	/* The framebuffer is often absent from the memory map; the console
	 * keeps drawing through the direct map. */
	if (!err && bi->fb.phys && bi->fb.size)
		err = kmem_map_direct(bi->fb.phys, bi->fb.phys + bi->fb.size,
				      PT_R | PT_W | PT_WC);
	if (!err)
		err = kmem_map_kernel(bi);
	if (err) {
		log_err("mm: building the kernel page tables failed: %s",
			err_str(err));
		return err;
	}
	mm_init_ap(); /* NXE, PAT, WP, CR3, PGE on this CPU */

	/* (4) The rest: usable RAM above the boot map, then what firmware and
	 * the loader used (boot_info was copied into the kernel by now). */
	kmem_add_type(bi, nmap, BOOT_MEM_USABLE, KMEM_BOOT_MAP_LIMIT, UINT64_MAX);
	pmm_get_stats(&st);
	usable_before = st.managed_pages;
	kmem_add_type(bi, nmap, BOOT_MEM_RECLAIMABLE, KMEM_LOW_LIMIT, UINT64_MAX);
	kmem_add_type(bi, nmap, BOOT_MEM_BOOTINFO, KMEM_LOW_LIMIT, UINT64_MAX);

	/* (5) */
	pmm_set_reserve(mem_reserve);

	/* (6) */
	pmm_get_stats(&st);
	log_info("mm: %llu MiB usable, %llu MiB reclaimed from firmware, direct map with %s pages, kernel text RX / data NX",
		 (unsigned long long)(st.managed_pages >> (20 - PAGE_SHIFT)),
		 (unsigned long long)((st.managed_pages - usable_before) >>
				      (20 - PAGE_SHIFT)),
		 huge ? "1G" : "2M");
	log_debug("mm: pmm metadata %llu KiB at %#llx, %llu page-table pages, reserve %llu MiB",
		  (unsigned long long)(meta_bytes >> 10),
		  (unsigned long long)ms.best,
		  (unsigned long long)kmem_pt.table_pages,
		  (unsigned long long)(mem_reserve >> 20));
	if (st.reserve_pages >= st.free_pages)
		log_warn("mm: mem_reserve=%llu MiB leaves no memory for guests",
			 (unsigned long long)(mem_reserve >> 20));
	return 0;
}

void *mm_map_mmio(uint64_t pa, uint64_t len, unsigned prot)
{
	unsigned cache = (prot & PT_WC) && !(prot & PT_UC) ? PT_WC : PT_UC;
	unsigned want = PT_R | PT_W | cache;
	uint64_t base, end, va, flags;
	int err = 0;

	if (!len || pa + len < pa || pa + len > KMEM_DIRECT_MAP_SIZE ||
	    !kmem_pt.root) {
		log_err("mm: cannot map MMIO %#llx+%#llx",
			(unsigned long long)pa, (unsigned long long)len);
		return NULL;
	}
	base = ALIGN_DOWN(pa, PAGE_SIZE);
	end = ALIGN_UP(pa + len, PAGE_SIZE);
	va = DIRECT_MAP_BASE + base;

	flags = spin_lock_irqsave(&kmem_lock);
	/* Already mapped the same way (a RESERVED range, an earlier call):
	 * leave the large pages alone. */
	for (uint64_t a = base; a < end;) {
		uint64_t tpa;
		unsigned tprot, level;

		if (pt_translate(&kmem_pt, DIRECT_MAP_BASE + a, &tpa, &tprot,
				 &level) ||
		    tpa != a || (tprot & (PT_W | PT_X | PT_UC | PT_WC)) !=
					(want & ~PT_R)) {
			/* even a failed map may have split large pages */
			err = pt_map(&kmem_pt, va, base, end - base, want);
			kmem_flush(va, end - base);
			break;
		}
		a = ALIGN_DOWN(a, PAGE_SIZE << (9 * (level - 1))) +
		    (PAGE_SIZE << (9 * (level - 1)));
	}
	spin_unlock_irqrestore(&kmem_lock, flags);
	if (err) {
		log_err("mm: mapping MMIO %#llx+%#llx failed: %s",
			(unsigned long long)pa, (unsigned long long)len,
			err_str(err));
		return NULL;
	}
	return (void *)(uintptr_t)(DIRECT_MAP_BASE + pa);
}

int mm_map_identity(uint64_t pa, uint64_t len)
{
	uint64_t base = ALIGN_DOWN(pa, PAGE_SIZE), flags;
	int err;

	if (!len || pa + len < pa || pa + len > KMEM_IDENTITY_LIMIT ||
	    !kmem_pt.root)
		return KEEL_EINVAL;
	flags = spin_lock_irqsave(&kmem_lock);
	err = pt_map(&kmem_pt, base, base, ALIGN_UP(pa + len, PAGE_SIZE) - base,
		     PT_R | PT_W | PT_X);
	spin_unlock_irqrestore(&kmem_lock, flags);
	return err;
}

void mm_unmap_identity(uint64_t pa, uint64_t len)
{
	uint64_t base = ALIGN_DOWN(pa, PAGE_SIZE), flags, n;

	if (!len || pa + len < pa || pa + len > KMEM_IDENTITY_LIMIT ||
	    !kmem_pt.root)
		return;
	n = ALIGN_UP(pa + len, PAGE_SIZE) - base;
	flags = spin_lock_irqsave(&kmem_lock);
	if (!pt_unmap(&kmem_pt, base, n))
		kmem_flush(base, n);
	spin_unlock_irqrestore(&kmem_lock, flags);
}

/* Unmap and free the first n pages below a slot's top. */
static void kmem_stack_release(uint64_t top, uint64_t n)
{
	for (uint64_t i = 1; i <= n; i++) {
		uint64_t va = top - i * PAGE_SIZE, pa;

		if (pt_translate(&kmem_pt, va, &pa, NULL, NULL))
			continue;
		pt_unmap(&kmem_pt, va, PAGE_SIZE);
		invlpg(va);
		pmm_free_page(pa);
	}
}

void *mm_alloc_stack(size_t size)
{
	uint64_t pages = ALIGN_UP((uint64_t)size, PAGE_SIZE) >> PAGE_SHIFT;
	uint64_t top, flags;
	unsigned slot;

	/* At least one unmapped page below every stack: the guard. */
	if (!size || pages > KMEM_STACK_SLOT / PAGE_SIZE - 1 || !kmem_pt.root)
		return NULL;

	flags = spin_lock_irqsave(&kmem_lock);
	for (slot = 0; slot < KMEM_STACK_SLOTS; slot++)
		if (!kmem_stack_pages[(kmem_stack_next + slot) % KMEM_STACK_SLOTS])
			break;
	if (slot == KMEM_STACK_SLOTS) {
		spin_unlock_irqrestore(&kmem_lock, flags);
		log_err("mm: out of kernel stack slots");
		return NULL;
	}
	/* Next fit: a freed slot is reused as late as possible, which keeps
	 * stale translations on other CPUs harmless for longer. */
	slot = (kmem_stack_next + slot) % KMEM_STACK_SLOTS;
	kmem_stack_next = (slot + 1) % KMEM_STACK_SLOTS;
	top = KMEM_STACK_BASE + (uint64_t)(slot + 1) * KMEM_STACK_SLOT;
	for (uint64_t i = 1; i <= pages; i++) {
		uint64_t pa = pmm_alloc_page(0);

		if (!pa || pt_map(&kmem_pt, top - i * PAGE_SIZE, pa, PAGE_SIZE,
				  PT_R | PT_W)) {
			if (pa)
				pmm_free_page(pa);
			kmem_stack_release(top, i - 1);
			spin_unlock_irqrestore(&kmem_lock, flags);
			return NULL;
		}
	}
	kmem_stack_pages[slot] = (uint16_t)pages;
	spin_unlock_irqrestore(&kmem_lock, flags);
	return (void *)(uintptr_t)top;
}

void mm_free_stack(void *top, size_t size)
{
	uint64_t t = (uint64_t)(uintptr_t)top, flags, slot;
	uint64_t pages = ALIGN_UP((uint64_t)size, PAGE_SIZE) >> PAGE_SHIFT;

	if (!top)
		return;
	slot = (t - KMEM_STACK_BASE) / KMEM_STACK_SLOT;
	flags = spin_lock_irqsave(&kmem_lock);
	if (t <= KMEM_STACK_BASE || (t - KMEM_STACK_BASE) % KMEM_STACK_SLOT ||
	    slot > KMEM_STACK_SLOTS || !kmem_stack_pages[slot - 1] ||
	    kmem_stack_pages[slot - 1] != pages) {
		spin_unlock_irqrestore(&kmem_lock, flags);
		log_err("mm: bad stack free %p size %zu, ignored", top, size);
		return;
	}
	/* No TLB shootdown: the thread that used the stack is gone, and slots
	 * are reused next-fit. */
	kmem_stack_release(t, pages);
	kmem_stack_pages[slot - 1] = 0;
	spin_unlock_irqrestore(&kmem_lock, flags);
}

bool mm_is_stack_guard(uint64_t va)
{
	/* Lock-free on purpose: the panic path asks. */
	if (va < KMEM_STACK_BASE ||
	    va >= KMEM_STACK_BASE + KMEM_STACK_SLOTS * KMEM_STACK_SLOT)
		return false;
	uint64_t slot = (va - KMEM_STACK_BASE) / KMEM_STACK_SLOT;
	uint64_t top = KMEM_STACK_BASE + (slot + 1) * KMEM_STACK_SLOT;
	uint16_t pages = kmem_stack_pages[slot];
	return pages && va < top - (uint64_t)pages * PAGE_SIZE;
}

uint64_t mm_kernel_cr3(void)
{
	return kmem_pt.root;
}

uint64_t mm_usable_bytes(void)
{
	struct pmm_stats st;

	pmm_get_stats(&st);
	return st.managed_pages * PAGE_SIZE;
}
