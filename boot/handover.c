/*
 * handover.c - the loader's last act: page tables and a stack for the
 * kernel, the final memory map, ExitBootServices (UEFI 2.10 7.4), the map
 * translated into boot_info, and the jump to entry64 (boot/trampoline.S).
 * Between the final GetMemoryMap and ExitBootServices nothing prints or
 * allocates, or the map key would go stale.
 */
#include "boot/loader.h"
#include "boot/mmap.h"
#include "boot/paging.h"
#include "kernel/arch/x86.h"

#define HANDOVER_STACK_SIZE (64 * 1024) /* boot_info.h: at least 64 KiB */
#define HANDOVER_MAP_SLACK 32 /* descriptors our own allocations may add */
#define HANDOVER_EBS_TRIES 8
#define HANDOVER_MIN_TOP (4ULL << 30) /* MMIO below 4 GiB is mapped too */
#define HANDOVER_COM1 0x3F8
#define CR4_LA57 (1ULL << 12)
#define CPUID_80000001_EDX_PDPE1GB (1u << 26)

void handover_jump(uint64_t cr3, uint64_t rsp, uint64_t boot_info,
		   uint64_t entry64)
	__attribute__((noreturn, visibility("hidden")));

struct handover_map {
	void *buf;
	UINTN buf_size; /* allocated bytes */
	UINTN size;	/* bytes GetMemoryMap filled */
	UINTN key;
	UINTN desc_size;
	UINT32 desc_version;
};

static EFI_STATUS handover_get_map(struct handover_map *m)
{
	m->size = m->buf_size;
	return uefi_call_wrapper(BS->GetMemoryMap, 5, &m->size,
				 (EFI_MEMORY_DESCRIPTOR *)m->buf, &m->key,
				 &m->desc_size, &m->desc_version);
}

/* A buffer with room for the map plus what later allocations add. */
static EFI_STATUS handover_alloc_map(struct handover_map *m)
{
	EFI_STATUS st;

	if (m->buf)
		FreePool(m->buf);
	m->buf = NULL;
	m->buf_size = 0;
	st = handover_get_map(m);
	if (st != EFI_BUFFER_TOO_SMALL)
		return EFI_ERROR(st) ? st : EFI_DEVICE_ERROR;
	m->buf_size = m->size + HANDOVER_MAP_SLACK * m->desc_size;
	m->buf = AllocatePool(m->buf_size);
	return m->buf ? EFI_SUCCESS : EFI_OUT_OF_RESOURCES;
}

static bool handover_has_gib_pages(void)
{
	uint32_t a, b, c, d;

	cpuid(0x80000000, 0, &a, &b, &c, &d);
	if (a < 0x80000001)
		return false;
	cpuid(0x80000001, 0, &a, &b, &c, &d);
	return d & CPUID_80000001_EDX_PDPE1GB;
}

/* Tables for the kernel, taken from EfiLoaderData pages (reclaimable: the
 * kernel leaves them at once) before the final memory map is read. */
static EFI_STATUS handover_build_tables(struct loader *ld,
					const struct handover_map *m,
					uint64_t *cr3)
{
	struct paging_layout l = {
		.map_top = mmap_ram_top(m->buf, m->size, m->desc_size),
		.gib_pages = handover_has_gib_pages(),
		.kernel_virt = ld->kernel.image_start,
		.kernel_phys = ld->bi->kernel_phys,
		.kernel_size = ld->bi->kernel_size,
		.la57 = (read_cr4() & CR4_LA57) != 0,
	};
	struct paging_pool pool = { 0 };
	unsigned n;
	EFI_STATUS st;

	if (l.map_top < HANDOVER_MIN_TOP)
		l.map_top = HANDOVER_MIN_TOP;
	n = paging_tables_needed(&l);
	if (n == 0) {
		Print(L"keel-loader: error: cannot map memory up to 0x%lx\r\n",
		      l.map_top);
		return EFI_UNSUPPORTED;
	}
	st = loader_alloc_pages(EfiLoaderData, (UINT64)n * LOADER_PAGE,
				(void **)&pool.pages);
	if (EFI_ERROR(st)) {
		Print(L"keel-loader: error: no memory for %d page tables: %r\r\n",
		      n, st);
		return st;
	}
	pool.count = n;
	if (paging_build(&l, &pool, cr3) != 0) {
		Print(L"keel-loader: error: building page tables failed\r\n");
		return EFI_LOAD_ERROR;
	}
	Print(L"keel-loader: direct map [0, 0x%lx) with %a pages%a, %d tables\r\n",
	      l.map_top, l.gib_pages ? "1 GiB" : "2 MiB",
	      l.la57 ? " (5-level)" : "", n);
	return EFI_SUCCESS;
}

/* After ExitBootServices failed for good there is no console: say so on
 * COM1 directly (a no-op where there is none) and stop. */
static void __attribute__((noreturn)) handover_dead(const char *msg)
{
	for (; *msg; msg++) {
		for (int i = 0; i < 100000 && !(inb(HANDOVER_COM1 + 5) & 0x20);
		     i++)
			cpu_relax();
		outb(HANDOVER_COM1, (uint8_t)*msg);
	}
	for (;;) {
		irq_disable();
		cpu_halt();
	}
}

/* The final map and ExitBootServices, retried while the map key goes stale
 * (UEFI 2.10 7.4.6: EFI_INVALID_PARAMETER). No Print in here. */
static EFI_STATUS handover_exit_boot_services(struct loader *ld,
					      struct handover_map *m,
					      bool *tried)
{
	EFI_STATUS st = EFI_INVALID_PARAMETER;

	*tried = false;
	for (int i = 0; i < HANDOVER_EBS_TRIES; i++) {
		st = handover_get_map(m);
		if (st == EFI_BUFFER_TOO_SMALL && !*tried) {
			/* Allocating is still allowed: the map is read again. */
			st = handover_alloc_map(m);
			if (EFI_ERROR(st))
				return st;
			continue;
		}
		if (EFI_ERROR(st))
			return st;
		*tried = true;
		st = uefi_call_wrapper(BS->ExitBootServices, 2, ld->image,
				       m->key);
		if (st != EFI_INVALID_PARAMETER)
			return st;
	}
	return st;
}

EFI_STATUS handover_start_kernel(struct loader *ld)
{
	struct boot_info *bi = ld->bi;
	struct handover_map m = { 0 };
	unsigned dropped;
	uint64_t cr3, rsp;
	void *stack;
	bool tried;
	EFI_STATUS st;

	st = handover_alloc_map(&m);
	if (!EFI_ERROR(st))
		st = handover_get_map(&m);
	if (EFI_ERROR(st)) {
		Print(L"keel-loader: error: GetMemoryMap: %r\r\n", st);
		return st;
	}
	/* A dry run of the translation, while we can still print. */
	bi->mmap_count = mmap_translate(m.buf, m.size, m.desc_size, bi->mmap,
					BOOT_MMAP_MAX, &dropped);
	if (dropped)
		Print(L"keel-loader: memory map has more than %d runs, %d left out\r\n",
		      BOOT_MMAP_MAX, dropped);

	st = handover_build_tables(ld, &m, &cr3);
	if (EFI_ERROR(st))
		return st;
	st = loader_alloc_pages(EfiLoaderData, HANDOVER_STACK_SIZE, &stack);
	if (EFI_ERROR(st)) {
		Print(L"keel-loader: error: no memory for the kernel stack: %r\r\n",
		      st);
		return st;
	}
	/* boot_info.h: 16-byte aligned minus 8, as just after a call; the
	 * zero "return address" ends backtraces. */
	rsp = (uint64_t)(UINTN)stack + HANDOVER_STACK_SIZE - 8;
	*(uint64_t *)(UINTN)rsp = 0;

	Print(L"keel-loader: starting the kernel\r\n");
	st = handover_exit_boot_services(ld, &m, &tried);
	if (EFI_ERROR(st)) {
		if (tried)
			handover_dead("keel-loader: error: ExitBootServices failed\r\n");
		Print(L"keel-loader: error: GetMemoryMap: %r\r\n", st);
		return st;
	}

	/* Boot services are gone: only plain code from here on. */
	bi->mmap_count = mmap_translate(m.buf, m.size, m.desc_size, bi->mmap,
					BOOT_MMAP_MAX, &dropped);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	handover_jump(cr3, rsp, (uint64_t)(UINTN)bi, ld->kernel.entry64);
}
