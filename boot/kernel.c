/*
 * kernel.c - chooses the kernel (\keel\kernel.elf on the boot volume when it
 * is there and valid, else the copy embedded in this EFI file by
 * boot/kernel_blob.S), places it at a 2 MiB-aligned physical address in
 * kernel memory and records where in boot_info.
 */
#include "boot/loader.h"
#include "boot/mmap.h"
#include "boot/paging.h"

#define KERNEL_OVERRIDE_PATH "\\keel\\kernel.elf"
#define KERNEL_BELOW_4G 0xFFFFFFFFULL

/* boot/kernel_blob.S: build/kernel.elf as it was when the loader was built. */
extern const char kernel_blob_start[] __attribute__((visibility("hidden")));
extern const char kernel_blob_end[] __attribute__((visibility("hidden")));

/*
 * size bytes (a 2 MiB multiple) at a 2 MiB-aligned address: over-allocate by
 * 2 MiB less a page and give back the head and tail. Below 4 GiB when there
 * is room (firmware and old devices prefer it), anywhere otherwise.
 */
static EFI_STATUS kernel_alloc(UINT64 size, UINT64 *phys)
{
	UINT64 total = size + PAGING_2M - LOADER_PAGE, aligned, tail;
	EFI_PHYSICAL_ADDRESS addr = KERNEL_BELOW_4G;
	EFI_STATUS st;

	st = uefi_call_wrapper(BS->AllocatePages, 4, AllocateMaxAddress,
			       (EFI_MEMORY_TYPE)MMAP_EFI_KERNEL,
			       total / LOADER_PAGE, &addr);
	if (EFI_ERROR(st)) {
		addr = 0;
		st = uefi_call_wrapper(BS->AllocatePages, 4, AllocateAnyPages,
				       (EFI_MEMORY_TYPE)MMAP_EFI_KERNEL,
				       total / LOADER_PAGE, &addr);
	}
	if (EFI_ERROR(st))
		return st;
	aligned = (addr + PAGING_2M - 1) & ~(PAGING_2M - 1);
	tail = addr + total - (aligned + size);
	if (aligned > addr)
		uefi_call_wrapper(BS->FreePages, 2, addr,
				  (aligned - addr) / LOADER_PAGE);
	if (tail)
		uefi_call_wrapper(BS->FreePages, 2, aligned + size,
				  tail / LOADER_PAGE);
	*phys = aligned;
	return EFI_SUCCESS;
}

/* The override when present and valid; otherwise its problem is printed and
 * *file stays NULL. */
static void kernel_try_override(struct loader *ld, struct loaded_file *f,
				const void **file)
{
	const char *why;
	EFI_STATUS st;

	st = fs_read_file(&ld->vol, KERNEL_OVERRIDE_PATH, EfiLoaderData, f);
	if (st == EFI_NOT_FOUND)
		return;
	if (EFI_ERROR(st)) {
		Print(L"keel-loader: %a: %r, using the embedded kernel\r\n",
		      KERNEL_OVERRIDE_PATH, st);
		return;
	}
	if (elf_check_kernel(f->data, f->size, &ld->kernel, &why) != 0) {
		Print(L"keel-loader: %a: %a, using the embedded kernel\r\n",
		      KERNEL_OVERRIDE_PATH, why);
		fs_free_file(f);
		return;
	}
	Print(L"keel-loader: using %a from the %a (%ld bytes)\r\n",
	      KERNEL_OVERRIDE_PATH,
	      ld->vol.pxe ? "TFTP server" : "boot volume", f->size);
	*file = f->data;
}

EFI_STATUS kernel_load(struct loader *ld)
{
	struct elf_kernel *k = &ld->kernel;
	struct loaded_file over;
	const void *file = NULL;
	const char *why;
	UINT64 phys, size;
	EFI_STATUS st;

	kernel_try_override(ld, &over, &file);
	if (!file) {
		/* Two symbols, one blob: compare addresses, not pointers. */
		UINTN blob_size = (UINTN)kernel_blob_end - (UINTN)kernel_blob_start;

		file = kernel_blob_start;
		if (elf_check_kernel(file, blob_size, k, &why) != 0) {
			Print(L"keel-loader: error: embedded kernel: %a\r\n",
			      why);
			return EFI_LOAD_ERROR;
		}
	}

	size = (k->image_end - k->image_start + PAGING_2M - 1) &
	       ~(PAGING_2M - 1);
	st = kernel_alloc(size, &phys);
	if (EFI_ERROR(st)) {
		Print(L"keel-loader: error: no memory for the kernel (%ld KiB): %r\r\n",
		      size >> 10, st);
		if (file != kernel_blob_start)
			fs_free_file(&over);
		return st;
	}
	elf_load_kernel(file, k, (void *)(UINTN)phys);
	if (file != kernel_blob_start)
		fs_free_file(&over);

	ld->bi->kernel_phys = phys;
	ld->bi->kernel_size = k->image_end - k->image_start;
	ld->kernel_alloc = size;
	Print(L"keel-loader: kernel at 0x%lx (%ld KiB), entry64 0x%lx\r\n",
	      phys, ld->bi->kernel_size >> 10, k->entry64);
	return EFI_SUCCESS;
}
