/*
 * boot_vms.c - the VMs keel.cfg describes (vm.<name>.* keys): their images
 * come from the files the loader brought along (boot modules), they are
 * created after bring-up and started unless autostart=no.
 */
#include <string.h>

#include "boot/boot_info.h"
#include "kernel/config.h"
#include "kernel/err.h"
#include "kernel/log.h"
#include "kernel/virt/virt_internal.h"

static const void *module_data(const struct boot_info *bi, const char *path,
			       size_t *size, const char *vm, const char *key)
{
	for (uint32_t i = 0; i < bi->module_count; i++) {
		const struct boot_module *m = &bi->modules[i];
		if (!config_path_equal(m->path, path))
			continue;
		if (m->flags & (BOOT_MODULE_MISSING | BOOT_MODULE_TOO_BIG) ||
		    !m->phys) {
			log_err("vm %s: %s %s was not loaded", vm, key, path);
			return NULL;
		}
		*size = m->size;
		return phys_to_virt(m->phys);
	}
	log_err("vm %s: %s %s: no such file was loaded", vm, key, path);
	return NULL;
}

static bool is_elf64(const void *p, size_t size)
{
	const uint8_t *b = p;
	return size >= 16 && !memcmp(b, "\177ELF", 4) && b[4] == 2;
}

static int boot_vm_one(const struct boot_info *bi, const struct cfg_vm *c)
{
	struct vm_config config, *vc = &config;
	struct vm *vm;

	memset(vc, 0, sizeof(*vc));
	strlcpy(vc->name, c->name, sizeof(vc->name));
	vc->cpus = c->cpus;
	vc->mem = c->mem;
	vc->debug_exit = c->debug_exit;
	if (c->firmware.path[0] && c->kernel.path[0]) {
		log_err("vm %s: both firmware and kernel are set; choose one",
			c->name);
		return KEEL_EINVAL;
	}
	if (c->firmware.path[0]) {
		vc->firmware = module_data(bi, c->firmware.path, &vc->firmware_size,
					   c->name, "firmware");
		if (!vc->firmware)
			return KEEL_ENOENT;
		vc->start = VM_START_RESET;
	} else if (c->kernel.path[0]) {
		vc->image = module_data(bi, c->kernel.path, &vc->image_size,
					c->name, "kernel");
		if (!vc->image)
			return KEEL_ENOENT;
		if (!is_elf64(vc->image, vc->image_size)) {
			log_err("vm %s: kernel %s: only ELF64 kernels run in this "
				"build (Linux and Multiboot kernels come later)",
				c->name, c->kernel.path);
			return KEEL_ENOTSUP;
		}
		vc->start = VM_START_LONG64;
	} else {
		log_err("vm %s: neither firmware nor kernel is set", c->name);
		return KEEL_EINVAL;
	}
	int err = vm_create(vc, &vm);
	if (err) {
		log_err("vm %s: not created: %s", c->name, err_str(err));
		return err;
	}
	if (c->autostart)
		err = vm_start(vm);
	return err;
}

void boot_vms_start(const struct boot_info *bi, const struct keel_config *cfg)
{
	if (!cfg->vm_count)
		return;
	if (!virt) {
		log_err("keel: %u VM(s) configured, but this machine has no usable "
			"hardware virtualization", cfg->vm_count);
		return;
	}
	for (unsigned i = 0; i < cfg->vm_count; i++)
		boot_vm_one(bi, &cfg->vms[i]);
}
