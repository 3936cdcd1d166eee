/*
 * bootinfo.c - collects into boot_info what only the firmware knows and the
 * kernel cannot find by itself once boot services are gone: ACPI RSDP,
 * SMBIOS entry point, GOP framebuffer, boot device path and an RNG seed.
 * Nothing here is fatal: a missing fact is left 0 and the kernel copes.
 */
#include "boot/loader.h"
#include "boot/text.h"

/* UEFI 2.10 4.6.1.1 (configuration table GUIDs), 37.5 (EFI_RNG_PROTOCOL). */
static EFI_GUID bootinfo_acpi20_guid = ACPI_20_TABLE_GUID;
static EFI_GUID bootinfo_acpi10_guid = ACPI_TABLE_GUID;
static EFI_GUID bootinfo_smbios3_guid = SMBIOS3_TABLE_GUID;
static EFI_GUID bootinfo_smbios_guid = SMBIOS_TABLE_GUID;
static EFI_GUID bootinfo_rng_guid = EFI_RNG_PROTOCOL_GUID;

static UINT64 bootinfo_find_table(EFI_GUID *guid)
{
	for (UINTN i = 0; i < ST->NumberOfTableEntries; i++)
		if (CompareGuid(&ST->ConfigurationTable[i].VendorGuid, guid) ==
		    0)
			return (UINT64)(UINTN)ST->ConfigurationTable[i]
				.VendorTable;
	return 0;
}

static void bootinfo_tables(struct boot_info *bi)
{
	/* ACPI 2.0+ RSDP (has the XSDT) before the 1.0 one. */
	bi->acpi_rsdp = bootinfo_find_table(&bootinfo_acpi20_guid);
	if (!bi->acpi_rsdp)
		bi->acpi_rsdp = bootinfo_find_table(&bootinfo_acpi10_guid);
	bi->smbios = bootinfo_find_table(&bootinfo_smbios3_guid);
	bi->smbios_major = bi->smbios ? 3 : 0;
	if (!bi->smbios) {
		bi->smbios = bootinfo_find_table(&bootinfo_smbios_guid);
		bi->smbios_major = bi->smbios ? 2 : 0;
	}
}

static void bootinfo_framebuffer(struct boot_framebuffer *fb)
{
	EFI_GRAPHICS_OUTPUT_PROTOCOL *gop = NULL;
	EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info;
	EFI_STATUS st;

	st = uefi_call_wrapper(BS->LocateProtocol, 3,
			       &gEfiGraphicsOutputProtocolGuid, NULL,
			       (void **)&gop);
	if (EFI_ERROR(st) || !gop || !gop->Mode || !gop->Mode->Info)
		return;
	info = gop->Mode->Info;
	switch (info->PixelFormat) {
	case PixelRedGreenBlueReserved8BitPerColor:
		fb->format = BOOT_FB_RGBX;
		break;
	case PixelBlueGreenRedReserved8BitPerColor:
		fb->format = BOOT_FB_BGRX;
		break;
	case PixelBitMask:
		fb->format = BOOT_FB_BITMASK;
		fb->red_mask = info->PixelInformation.RedMask;
		fb->green_mask = info->PixelInformation.GreenMask;
		fb->blue_mask = info->PixelInformation.BlueMask;
		break;
	default: /* PixelBltOnly: no linear framebuffer to hand over */
		return;
	}
	fb->phys = gop->Mode->FrameBufferBase;
	fb->size = gop->Mode->FrameBufferSize;
	fb->width = info->HorizontalResolution;
	fb->height = info->VerticalResolution;
	fb->pitch = info->PixelsPerScanLine * 4;
	fb->bpp = 32;
}

static void bootinfo_device(struct loader *ld)
{
	EFI_DEVICE_PATH *dp = DevicePathFromHandle(ld->image_info->DeviceHandle);
	CHAR16 *text;

	if (!dp)
		return;
	text = DevicePathToStr(dp);
	if (!text)
		return;
	text_ucs2_to_ascii(text, ld->bi->boot_device,
			   sizeof(ld->bi->boot_device));
	FreePool(text);
}

static void bootinfo_seed(struct boot_info *bi)
{
	EFI_RNG_PROTOCOL *rng = NULL;
	EFI_STATUS st;

	st = uefi_call_wrapper(BS->LocateProtocol, 3, &bootinfo_rng_guid, NULL,
			       (void **)&rng);
	if (EFI_ERROR(st) || !rng)
		return;
	/* NULL algorithm: the driver's default (UEFI 2.10 37.5.2). */
	st = uefi_call_wrapper(rng->GetRNG, 4, rng, NULL,
			       (UINTN)sizeof(bi->seed), bi->seed);
	if (!EFI_ERROR(st))
		bi->seed_len = sizeof(bi->seed);
}

void bootinfo_collect(struct loader *ld)
{
	struct boot_info *bi = ld->bi;

	bootinfo_tables(bi);
	bootinfo_framebuffer(&bi->fb);
	bootinfo_device(ld);
	bootinfo_seed(bi);
	Print(L"keel-loader: acpi=0x%lx smbios%d=0x%lx fb=%dx%d@0x%lx format=%d seed=%d net=%d boot=%a\r\n",
	      bi->acpi_rsdp, bi->smbios_major, bi->smbios, bi->fb.width,
	      bi->fb.height, bi->fb.phys, bi->fb.format, bi->seed_len,
	      bi->boot_from_network, bi->boot_device);
}
