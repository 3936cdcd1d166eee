/*
 * options.c - the configuration the loader needs (DESIGN.md section 10):
 * defaults, then \keel\keel.cfg, then the UEFI load options. Both texts are
 * kept for the kernel in module memory; the loader parses them only for the
 * file names it must load, with no warnings (the kernel reports mistakes).
 */
#include "boot/loader.h"
#include "boot/mmap.h"
#include "boot/text.h"

#define OPTIONS_CFG_PATH "\\keel\\keel.cfg"

static void options_read_file(struct loader *ld)
{
	struct loaded_file f;
	EFI_STATUS st;

	st = fs_read_file(&ld->vol, OPTIONS_CFG_PATH, MMAP_EFI_MODULE, &f);
	if (st == EFI_NOT_FOUND) {
		Print(L"keel-loader: no %a, using defaults\r\n",
		      OPTIONS_CFG_PATH);
		return;
	}
	if (EFI_ERROR(st)) {
		Print(L"keel-loader: %a: %r, using defaults\r\n",
		      OPTIONS_CFG_PATH, st);
		return;
	}
	ld->bi->cfg_file = (UINT64)(UINTN)f.data;
	ld->bi->cfg_file_len = f.size;
	config_apply(ld->cfg, f.data, f.size, CFG_FORM_FILE, "keel.cfg", NULL,
		     NULL);
	Print(L"keel-loader: read %a (%ld bytes)\r\n", OPTIONS_CFG_PATH,
	      f.size);
}

static void options_read_cmdline(struct loader *ld)
{
	EFI_LOADED_IMAGE *li = ld->image_info;
	UINTN bytes = li->LoadOptionsSize;
	char *text, *kept;
	int len;

	if (!li->LoadOptions || bytes < 2)
		return;
	text = AllocatePool(bytes / 2 + 1);
	if (!text)
		return;
	len = text_load_options(li->LoadOptions, bytes, text, bytes / 2 + 1);
	/* Not text: the boot manager's own option data, not a command line. */
	if (len <= 0 ||
	    EFI_ERROR(loader_alloc_pages(MMAP_EFI_MODULE, (UINT64)len + 1,
					 (void **)&kept))) {
		FreePool(text);
		return;
	}
	CopyMem(kept, text, (UINTN)len + 1);
	FreePool(text);
	ld->bi->cmdline = (UINT64)(UINTN)kept;
	ld->bi->cmdline_len = (UINT64)len;
	config_apply(ld->cfg, kept, (size_t)len, CFG_FORM_CMDLINE,
		     "command line", NULL, NULL);
	Print(L"keel-loader: command line: %a\r\n", kept);
}

void options_read(struct loader *ld)
{
	config_defaults(ld->cfg);
	options_read_file(ld);
	options_read_cmdline(ld);
}
