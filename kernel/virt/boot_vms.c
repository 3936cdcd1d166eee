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
#include "kernel/virt/boot_proto.h"
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

/* The strings vm_create copies (vm_config holds pointers): the command
 * line, and each module's "path args" as GRUB passes it. One allocation,
 * the caller's to free. */
static char *boot_vm_strings(const struct cfg_vm *c, struct vm_config *vc)
{
	size_t len = strlen(c->cmdline) + 1;
	char *buf, *p;

	for (unsigned i = 0; i < c->module_count; i++)
		len += strlen(c->modules[i].path) + 1 +
		       strlen(c->modules[i].args) + 1;
	buf = kmalloc(len);
	if (!buf)
		return NULL;
	p = buf;
	memcpy(p, c->cmdline, strlen(c->cmdline) + 1);
	vc->cmdline = p;
	p += strlen(p) + 1;
	for (unsigned i = 0; i < c->module_count; i++) {
		const struct cfg_file *m = &c->modules[i];
		size_t n = strlen(m->path);
		memcpy(p, m->path, n);
		if (m->args[0]) {
			p[n++] = ' ';
			memcpy(p + n, m->args, strlen(m->args));
			n += strlen(m->args);
		}
		p[n] = '\0';
		vc->modules[i].cmdline = p;
		p += n + 1;
	}
	return buf;
}

static int boot_vm_kernel(const struct boot_info *bi, const struct cfg_vm *c,
			  struct vm_config *vc)
{
	static const char *const names[] = {
		[VM_START_LONG64] = "ELF64",
		[VM_START_LINUX] = "Linux",
		[VM_START_MULTIBOOT] = "Multiboot",
	};

	vc->image = module_data(bi, c->kernel.path, &vc->image_size, c->name,
				"kernel");
	if (!vc->image)
		return KEEL_ENOENT;
	const char *why = "";
	if (vm_kernel_format(vc->image, vc->image_size, &vc->start, &why)) {
		/* why says what the Multiboot search saw (a bad checksum). */
		log_err("vm %s: kernel %s is neither a Linux bzImage (\"HdrS\" at "
			"0x202), a Multiboot kernel (%s) nor an ELF64 executable",
			c->name, c->kernel.path, why);
		return KEEL_ENOTSUP;
	}
	if (c->initrd.path[0] && vc->start != VM_START_LINUX) {
		log_err("vm %s: initrd %s: only a Linux kernel takes an initrd "
			"(kernel %s is %s)", c->name, c->initrd.path,
			c->kernel.path, names[vc->start]);
		return KEEL_EINVAL;
	}
	if (c->module_count && vc->start != VM_START_MULTIBOOT) {
		log_err("vm %s: module=: only a Multiboot kernel takes modules "
			"(kernel %s is %s%s)", c->name, c->kernel.path,
			names[vc->start],
			vc->start == VM_START_LINUX ? "; use initrd=" : "");
		return KEEL_EINVAL;
	}
	if (c->initrd.path[0]) {
		vc->initrd = module_data(bi, c->initrd.path, &vc->initrd_size,
					 c->name, "initrd");
		if (!vc->initrd)
			return KEEL_ENOENT;
	}
	if (c->module_count > VM_MAX_MODULES) {
		log_err("vm %s: %u modules, at most %u", c->name, c->module_count,
			VM_MAX_MODULES);
		return KEEL_EINVAL;
	}
	vc->module_count = c->module_count;
	for (unsigned i = 0; i < c->module_count; i++) {
		vc->modules[i].data = module_data(bi, c->modules[i].path,
						  &vc->modules[i].size, c->name,
						  "module");
		if (!vc->modules[i].data)
			return KEEL_ENOENT;
	}
	return 0;
}

static int boot_vm_one(const struct boot_info *bi, const struct cfg_vm *c)
{
	struct vm_config config, *vc = &config;
	char *strings = NULL;
	struct vm *vm;
	int err;

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
		err = boot_vm_kernel(bi, c, vc);
		if (err)
			return err;
		if (vc->start != VM_START_LONG64) {
			strings = boot_vm_strings(c, vc);
			if (!strings)
				return KEEL_ENOMEM;
		}
	} else {
		log_err("vm %s: neither firmware nor kernel is set", c->name);
		return KEEL_EINVAL;
	}
	err = vm_create(vc, &vm);
	kfree(strings); /* the VM made copies of its own */
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
