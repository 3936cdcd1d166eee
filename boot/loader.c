/*
 * loader.c - the UEFI entry point of Keel: the boot steps of DESIGN.md
 * section 2 in order, the page allocation they share, and giving memory back
 * when a step fails so the firmware's boot manager can try the next option.
 */
#include "boot/loader.h"
#include "boot/mmap.h"

#ifndef KEEL_VERSION
#define KEEL_VERSION "dev"
#endif

#define LOADER_ERROR_STALL_US 5000000 /* time to read the error */

EFI_STATUS loader_alloc_pages(UINT32 type, UINT64 bytes, void **out)
{
	EFI_PHYSICAL_ADDRESS addr = 0;
	EFI_STATUS st;

	st = uefi_call_wrapper(BS->AllocatePages, 4, AllocateAnyPages,
			       (EFI_MEMORY_TYPE)type,
			       (bytes + LOADER_PAGE - 1) / LOADER_PAGE, &addr);
	*out = EFI_ERROR(st) ? NULL : (void *)(UINTN)addr;
	return st;
}

void loader_free_pages(void *p, UINT64 bytes)
{
	uefi_call_wrapper(BS->FreePages, 2, (EFI_PHYSICAL_ADDRESS)(UINTN)p,
			  (bytes + LOADER_PAGE - 1) / LOADER_PAGE);
}

/* Give back what the kernel would have kept: OS-loader memory types are
 * not freed by the firmware and would look reserved to the next OS. */
static void loader_release(struct loader *ld)
{
	struct boot_info *bi = ld->bi;

	if (ld->cfg)
		FreePool(ld->cfg);
	if (!bi)
		return;
	for (unsigned i = 0; i < bi->module_count; i++)
		if (bi->modules[i].phys)
			loader_free_pages((void *)(UINTN)bi->modules[i].phys,
					  bi->modules[i].size + 1);
	if (bi->cfg_file)
		loader_free_pages((void *)(UINTN)bi->cfg_file,
				  bi->cfg_file_len + 1);
	if (bi->cmdline)
		loader_free_pages((void *)(UINTN)bi->cmdline,
				  bi->cmdline_len + 1);
	if (bi->kernel_phys)
		loader_free_pages((void *)(UINTN)bi->kernel_phys,
				  ld->kernel_alloc);
	loader_free_pages(bi, sizeof(*bi));
}

/* Leave the loader with st after an error message was printed: wait so the
 * message can be read, then let the boot manager go on (UEFI 2.10 3.1.2). */
static EFI_STATUS loader_give_up(struct loader *ld, EFI_STATUS st)
{
	loader_release(ld);
	uefi_call_wrapper(BS->Stall, 1, (UINTN)LOADER_ERROR_STALL_US);
	return st;
}

static EFI_STATUS loader_init_boot_info(struct loader *ld)
{
	static const char name[] = "keel-uefi " KEEL_VERSION;
	struct boot_info *bi;
	EFI_STATUS st;

	st = loader_alloc_pages(MMAP_EFI_BOOTINFO, sizeof(*bi), (void **)&bi);
	if (EFI_ERROR(st))
		return st;
	SetMem(bi, sizeof(*bi), 0);
	bi->magic = BOOT_INFO_MAGIC;
	bi->version = BOOT_INFO_VERSION;
	bi->size = sizeof(*bi);
	bi->method = BOOT_METHOD_UEFI;
	CopyMem(bi->loader, (void *)name,
		sizeof(name) < sizeof(bi->loader) ? sizeof(name)
						  : sizeof(bi->loader) - 1);
	bi->boot_from_network = ld->vol.pxe != NULL;
	ld->bi = bi;
	return EFI_SUCCESS;
}

/* Called by gnu-efi's crt0 (_start) after relocation, System V ABI. */
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	struct loader ld;
	EFI_STATUS st;

	InitializeLib(image, systab);
	SetMem(&ld, sizeof(ld), 0);
	ld.image = image;
	/* The boot manager arms a 5-minute watchdog (UEFI 2.10 3.1.2); a
	 * large guest image over TFTP may take longer. */
	uefi_call_wrapper(BS->SetWatchdogTimer, 4, 0, 0, 0, NULL);
	Print(L"keel-loader: Keel UEFI loader %a\r\n", KEEL_VERSION);

	st = uefi_call_wrapper(BS->HandleProtocol, 3, image,
			       &gEfiLoadedImageProtocolGuid,
			       (void **)&ld.image_info);
	if (EFI_ERROR(st)) {
		Print(L"keel-loader: error: no loaded image protocol: %r\r\n",
		      st);
		return loader_give_up(&ld, st);
	}
	st = fs_open_volume(&ld.vol, ld.image_info->DeviceHandle);
	if (EFI_ERROR(st)) {
		Print(L"keel-loader: error: the boot device has neither a file system nor PXE: %r\r\n",
		      st);
		return loader_give_up(&ld, st);
	}
	st = loader_init_boot_info(&ld);
	if (!EFI_ERROR(st)) {
		ld.cfg = AllocatePool(sizeof(*ld.cfg));
		if (!ld.cfg)
			st = EFI_OUT_OF_RESOURCES;
	}
	if (EFI_ERROR(st)) {
		Print(L"keel-loader: error: no memory for boot_info: %r\r\n",
		      st);
		return loader_give_up(&ld, st);
	}

	options_read(&ld);
	st = kernel_load(&ld);
	if (EFI_ERROR(st))
		return loader_give_up(&ld, st);
	modules_load(&ld);
	bootinfo_collect(&ld);
	st = handover_start_kernel(&ld);
	return loader_give_up(&ld, st);
}
