/*
 * fs.c - reads files from the volume the loader came from: the FAT file
 * system it was loaded from (EFI_SIMPLE_FILE_SYSTEM_PROTOCOL, UEFI 2.10
 * 13.4-13.5), or, after a PXE boot, the TFTP server that served it
 * (EFI_PXE_BASE_CODE_PROTOCOL.Mtftp, UEFI 2.10 24.3). Files land in whole
 * pages of the memory type the caller names.
 */
#include "boot/loader.h"
#include "boot/text.h"

/* RFC 2348 block size: the most that fits a 1500-byte Ethernet frame.
 * Servers that do not know the option answer with the default 512. */
#define FS_TFTP_BLOCK 1468

static int fs_ip_set(const UINT8 ip[4])
{
	return ip[0] | ip[1] | ip[2] | ip[3];
}

EFI_STATUS fs_open_volume(struct boot_volume *vol, EFI_HANDLE device)
{
	EFI_PXE_BASE_CODE_PROTOCOL *pxe = NULL;
	EFI_PXE_BASE_CODE_MODE *mode;
	EFI_STATUS st;

	SetMem(vol, sizeof(*vol), 0);
	vol->root = LibOpenRoot(device);
	if (vol->root)
		return EFI_SUCCESS;

	st = uefi_call_wrapper(BS->HandleProtocol, 3, device,
			       &gEfiPxeBaseCodeProtocolGuid, (void **)&pxe);
	if (EFI_ERROR(st) || !pxe || !pxe->Mode)
		return EFI_UNSUPPORTED;
	mode = pxe->Mode;
	if (!mode->Started || mode->UsingIpv6)
		return EFI_UNSUPPORTED;
	/* The server that sent us: siaddr of the DHCP ACK, or of the proxy
	 * DHCP offer when a separate PXE server answered (PXE 2.1 2.2). */
	if (mode->DhcpAckReceived && fs_ip_set(mode->DhcpAck.Dhcpv4.BootpSiAddr))
		CopyMem(&vol->server.v4, mode->DhcpAck.Dhcpv4.BootpSiAddr, 4);
	else if (mode->ProxyOfferReceived &&
		 fs_ip_set(mode->ProxyOffer.Dhcpv4.BootpSiAddr))
		CopyMem(&vol->server.v4, mode->ProxyOffer.Dhcpv4.BootpSiAddr, 4);
	else
		return EFI_NOT_FOUND;
	vol->pxe = pxe;
	return EFI_SUCCESS;
}

/* Pages for size bytes plus the NUL after them. out->size is set even when
 * that fails, so the caller can say how big the file was. */
static EFI_STATUS fs_alloc(struct loaded_file *out, UINT64 size, UINT32 type)
{
	EFI_STATUS st;

	out->size = size;
	if (size >= ~0ULL - LOADER_PAGE)
		return EFI_OUT_OF_RESOURCES;
	out->pages = (size + 1 + LOADER_PAGE - 1) / LOADER_PAGE;
	st = loader_alloc_pages(type, out->pages * LOADER_PAGE, &out->data);
	if (EFI_ERROR(st)) {
		out->pages = 0;
		return EFI_OUT_OF_RESOURCES;
	}
	((char *)out->data)[size] = 0;
	return EFI_SUCCESS;
}

void fs_free_file(struct loaded_file *f)
{
	if (f->data)
		loader_free_pages(f->data, f->pages * LOADER_PAGE);
	f->data = NULL;
	f->size = f->pages = 0;
}

static EFI_STATUS fs_read_all(EFI_FILE_HANDLE fh, struct loaded_file *out)
{
	UINT64 done = 0;

	while (done < out->size) {
		UINTN chunk = out->size - done;
		EFI_STATUS st = uefi_call_wrapper(fh->Read, 3, fh, &chunk,
						  (char *)out->data + done);

		if (EFI_ERROR(st))
			return st;
		if (chunk == 0)
			return EFI_END_OF_FILE; /* shorter than its FileSize */
		done += chunk;
	}
	return EFI_SUCCESS;
}

static EFI_STATUS fs_read_fat(struct boot_volume *vol, const char *path,
			      UINT32 type, struct loaded_file *out)
{
	CHAR16 name[BOOT_PATH_MAX + 2];
	EFI_FILE_HANDLE fh;
	EFI_FILE_INFO *info;
	UINT64 size;
	EFI_STATUS st;

	if (text_path_to_ucs2(path, name, sizeof(name) / sizeof(name[0])))
		return EFI_INVALID_PARAMETER;
	st = uefi_call_wrapper(vol->root->Open, 5, vol->root, &fh, name,
			       EFI_FILE_MODE_READ, 0ULL);
	if (EFI_ERROR(st))
		return st;
	info = LibFileInfo(fh);
	if (!info) {
		uefi_call_wrapper(fh->Close, 1, fh);
		return EFI_DEVICE_ERROR;
	}
	size = info->FileSize;
	st = (info->Attribute & EFI_FILE_DIRECTORY) ? EFI_NOT_FOUND
						     : EFI_SUCCESS;
	FreePool(info);
	if (!EFI_ERROR(st))
		st = fs_alloc(out, size, type);
	if (!EFI_ERROR(st)) {
		st = fs_read_all(fh, out);
		if (EFI_ERROR(st))
			fs_free_file(out);
	}
	uefi_call_wrapper(fh->Close, 1, fh);
	return st;
}

/*
 * A TFTP error packet from the server for a read request means it will not
 * give us that file: report it as not found. The RFC 1350 error code cannot
 * tell more: EDK2 stores the code's network-order high byte in the one-byte
 * TftpError.ErrorCode, so "File not found" (1) reads as 0.
 */
static EFI_STATUS fs_tftp_status(struct boot_volume *vol, EFI_STATUS st)
{
	if (st == EFI_TFTP_ERROR && vol->pxe->Mode->TftpErrorReceived)
		return EFI_NOT_FOUND;
	return st;
}

static EFI_STATUS fs_read_tftp(struct boot_volume *vol, const char *path,
			       UINT32 type, struct loaded_file *out)
{
	EFI_PXE_BASE_CODE_PROTOCOL *pxe = vol->pxe;
	char name[BOOT_PATH_MAX];
	UINTN block = FS_TFTP_BLOCK;
	UINT64 size = 0, got;
	EFI_STATUS st;

	if (text_path_to_tftp(path, name, sizeof(name)))
		return EFI_INVALID_PARAMETER;
	st = uefi_call_wrapper(pxe->Mtftp, 10, pxe,
			       EFI_PXE_BASE_CODE_TFTP_GET_FILE_SIZE, NULL,
			       FALSE, &size, NULL, &vol->server,
			       (UINT8 *)name, NULL, FALSE);
	if (EFI_ERROR(st))
		return fs_tftp_status(vol, st);
	st = fs_alloc(out, size, type);
	if (EFI_ERROR(st))
		return st;
	got = size;
	st = uefi_call_wrapper(pxe->Mtftp, 10, pxe,
			       EFI_PXE_BASE_CODE_TFTP_READ_FILE, out->data,
			       FALSE, &got, &block, &vol->server,
			       (UINT8 *)name, NULL, FALSE);
	if (!EFI_ERROR(st) && got != size)
		st = EFI_END_OF_FILE; /* changed between the two requests */
	if (EFI_ERROR(st)) {
		fs_free_file(out);
		return fs_tftp_status(vol, st);
	}
	return EFI_SUCCESS;
}

EFI_STATUS fs_read_file(struct boot_volume *vol, const char *path,
			UINT32 mem_type, struct loaded_file *out)
{
	SetMem(out, sizeof(*out), 0);
	if (vol->root)
		return fs_read_fat(vol, path, mem_type, out);
	if (vol->pxe)
		return fs_read_tftp(vol, path, mem_type, out);
	return EFI_NOT_READY;
}
