/*
 * modules.c - loads every file the configuration names (host module=
 * entries, then each VM's kernel, initrd, firmware, disk and modules, in
 * config_for_each_file order) into module memory and lists each in
 * boot_info, missing or not, so the kernel can say which VM lacks what.
 */
#include "boot/loader.h"
#include "boot/mmap.h"

struct modules_list {
	struct boot_info *bi;
	unsigned skipped; /* beyond BOOT_MODULES_MAX */
};

/* Bounded copy; dst always NUL-terminated. */
static void modules_copy(char *dst, const char *src, UINTN dst_size)
{
	UINTN i = 0;

	for (; src[i] && i + 1 < dst_size; i++)
		dst[i] = src[i];
	dst[i] = 0;
}

static void modules_add(void *ctx, const struct cfg_file *file)
{
	struct modules_list *list = ctx;
	struct boot_module *m;

	if (list->bi->module_count == BOOT_MODULES_MAX) {
		list->skipped++;
		return;
	}
	m = &list->bi->modules[list->bi->module_count++];
	modules_copy(m->path, file->path, sizeof(m->path));
	modules_copy(m->args, file->args, sizeof(m->args));
}

static void modules_load_one(struct loader *ld, struct boot_module *m)
{
	struct loaded_file f;
	EFI_STATUS st;

	st = fs_read_file(&ld->vol, m->path, MMAP_EFI_MODULE, &f);
	if (!EFI_ERROR(st)) {
		m->phys = (UINT64)(UINTN)f.data;
		m->size = f.size;
		Print(L"keel-loader: loaded %a (%ld bytes)\r\n", m->path,
		      f.size);
		return;
	}
	if (st == EFI_OUT_OF_RESOURCES) {
		/* phys stays 0; size says how much memory it wanted. */
		m->flags |= BOOT_MODULE_TOO_BIG;
		m->size = f.size;
		Print(L"keel-loader: %a: too big for the free memory (%ld bytes)\r\n",
		      m->path, f.size);
		return;
	}
	m->flags |= BOOT_MODULE_MISSING;
	if (st == EFI_NOT_FOUND)
		Print(L"keel-loader: %a: not found\r\n", m->path);
	else
		Print(L"keel-loader: %a: not loaded: %r\r\n", m->path, st);
}

void modules_load(struct loader *ld)
{
	struct modules_list list = { .bi = ld->bi };

	config_for_each_file(ld->cfg, modules_add, &list);
	if (list.skipped)
		Print(L"keel-loader: more than %d files named, %d not loaded\r\n",
		      BOOT_MODULES_MAX, list.skipped);
	for (unsigned i = 0; i < ld->bi->module_count; i++)
		modules_load_one(ld, &ld->bi->modules[i]);
}
