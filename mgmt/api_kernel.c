/*
 * api_kernel.c - mgmt/api_host.h in Keel: the REST API's view of VMs
 * (kernel/virt/virt.h), the log, physical memory, the local consoles,
 * keel.cfg's password and mbedTLS's PBKDF2 and SHA-256. Management thread
 * only (the VM calls are the lifecycle calls the shell makes too).
 */
#include <stdio.h>
#include <string.h>

#include "kernel/config.h"
#include "kernel/cpu.h"
#include "kernel/err.h"
#include "kernel/log.h"
#include "kernel/sched.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"
#include "kernel/vdev/vdev.h"
#include "kernel/virt/virt.h"
#include "mbedtls/md.h"
#include "mbedtls/pkcs5.h"
#include "mbedtls/sha256.h"
#include "mgmt/api_host.h"
#include "mm/mm.h"

#ifndef KEEL_VERSION
#define KEEL_VERSION "dev"
#endif

#define POWEROFF_WAIT_NS 2000000000ULL /* vCPUs leave at their next exit */
#define API_VM_MAX_LIST 64 /* = VM_MAX (kernel/virt/virt_internal.h) */

extern struct keel_config keel_cfg; /* kernel/main.c */

/* ---------------------------------------------------------------- VMs -- */

static struct vm *vm_by_id(unsigned id)
{
	struct vm *vms[API_VM_MAX_LIST];
	unsigned n = vm_list_get(vms, API_VM_MAX_LIST);

	for (unsigned i = 0; i < n; i++)
		if (vms[i]->id == id)
			return vms[i];
	return NULL;
}

static void vm_info(const struct vm *vm, struct api_vm_info *out)
{
	static const enum api_vm_state states[] = {
		[VM_CREATED] = API_VM_CREATED,
		[VM_RUNNING] = API_VM_RUNNING,
		[VM_PAUSED] = API_VM_PAUSED,
		[VM_STOPPED] = API_VM_STOPPED,
	};

	memset(out, 0, sizeof(*out));
	out->id = vm->id;
	snprintf(out->name, sizeof(out->name), "%s", vm->name);
	out->state = states[vm->state];
	out->cpus = vm->vcpu_count;
	out->memory_mib = vm->mem_bytes >> 20;
	out->cmdline = vm->cfg.cmdline;
}

unsigned api_host_vm_list(struct api_vm_info *out, unsigned max)
{
	struct vm *vms[API_VM_MAX_LIST];
	unsigned n = vm_list_get(vms, API_VM_MAX_LIST);

	if (n > max)
		n = max;
	for (unsigned i = 0; i < n; i++)
		vm_info(vms[i], &out[i]);
	return n;
}

int api_host_vm_get(unsigned id, struct api_vm_info *out)
{
	struct vm *vm = vm_by_id(id);

	if (!vm)
		return KEEL_ENOENT;
	vm_info(vm, out);
	return 0;
}

int api_host_vm_find(const char *name, struct api_vm_info *out)
{
	struct vm *vm = strnlen(name, VM_NAME_MAX) < VM_NAME_MAX ? vm_find(name)
								  : NULL;

	if (!vm)
		return KEEL_ENOENT;
	vm_info(vm, out);
	return 0;
}

int api_host_vm_create(const struct api_vm_spec *spec, unsigned *id,
		       char *why, size_t why_len)
{
	struct vm_config cfg;
	const char *format_why = "";
	struct vm *vm;
	int err;

	if (!virt) {
		snprintf(why, why_len, "this machine has no usable hardware "
			 "virtualization");
		return KEEL_ENOTSUP;
	}
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.name, sizeof(cfg.name), "%s", spec->name);
	cfg.cpus = spec->cpus;
	cfg.mem = spec->memory_mib << 20;
	if (spec->firmware) {
		cfg.firmware = spec->firmware;
		cfg.firmware_size = spec->firmware_size;
		cfg.start = VM_START_RESET;
	} else {
		cfg.image = spec->kernel;
		cfg.image_size = spec->kernel_size;
		if (vm_kernel_format(spec->kernel, spec->kernel_size, &cfg.start,
				     &format_why)) {
			snprintf(why, why_len, "kernel: neither a Linux bzImage, a "
				 "Multiboot kernel (%s) nor an ELF64 executable",
				 format_why);
			return KEEL_EINVAL;
		}
		if (spec->initrd && cfg.start != VM_START_LINUX) {
			snprintf(why, why_len, "initrd: only a Linux kernel takes "
				 "an initrd");
			return KEEL_EINVAL;
		}
		if (spec->cmdline && cfg.start == VM_START_LONG64) {
			snprintf(why, why_len, "cmdline: an ELF64 kernel takes no "
				 "command line");
			return KEEL_EINVAL;
		}
		cfg.initrd = spec->initrd;
		cfg.initrd_size = spec->initrd_size;
		cfg.cmdline = spec->cmdline; /* vm_create copies it */
	}
	err = vm_create(&cfg, &vm);
	if (err == KEEL_EINVAL || err == KEEL_ENOTSUP || err == KEEL_ERANGE) {
		snprintf(why, why_len, "the loader refused the VM: %s",
			 err_str(err));
		return KEEL_EINVAL;
	}
	if (err)
		return err;
	*id = vm->id;
	return 0;
}

int api_host_vm_action(unsigned id, enum api_vm_action action)
{
	struct vm *vm = vm_by_id(id);
	uint64_t deadline;
	int err;

	if (!vm)
		return KEEL_ENOENT;
	switch (action) {
	case API_VM_START:
		return vm_start(vm);
	case API_VM_STOP:
		if (vm->state != VM_RUNNING)
			return KEEL_EBUSY;
		vdev_power_button(vm);
		return 0;
	case API_VM_POWEROFF:
		err = vm_stop(vm, VM_STOP_POWEROFF, "by the management API");
		if (err)
			return KEEL_EBUSY; /* stopped meanwhile */
		/* Answer with the state the VM reaches in a moment. */
		deadline = time_ns() + POWEROFF_WAIT_NS;
		while (vm->state != VM_STOPPED && time_ns() < deadline)
			thread_sleep_ns(1000000);
		return 0;
	case API_VM_RESET:
		return vm_reset(vm);
	case API_VM_PAUSE:
		return vm_pause(vm);
	case API_VM_RESUME:
		return vm_resume(vm);
	case API_VM_DELETE:
		return vm_destroy(vm);
	default:
		return KEEL_EINVAL;
	}
}

int api_host_vm_console_read(unsigned id, uint64_t *pos, char *buf,
			     size_t cap, size_t *n, uint64_t *written)
{
	struct vm *vm = vm_by_id(id);
	uint64_t flags, w, oldest, p, k;

	if (!vm)
		return KEEL_ENOENT;
	flags = spin_lock_irqsave(&vm->console_lock);
	w = vm->console_written;
	oldest = w > VM_CONSOLE_SIZE ? w - VM_CONSOLE_SIZE : 0;
	p = *pos < oldest ? oldest : *pos > w ? w : *pos;
	k = w - p < cap ? w - p : cap;
	for (uint64_t i = 0; i < k; i++)
		buf[i] = vm->console[(p + i) % VM_CONSOLE_SIZE];
	spin_unlock_irqrestore(&vm->console_lock, flags);
	*pos = p;
	*n = (size_t)k;
	*written = w;
	return 0;
}

long api_host_vm_console_write(unsigned id, const char *buf, size_t len)
{
	struct vm *vm = vm_by_id(id);

	if (!vm)
		return KEEL_ENOENT;
	if (vm->state == VM_STOPPED || vm->state == VM_CREATED)
		return (long)len; /* nothing reads it: dropped */
	if (len > 0xFFFFFFFFu)
		len = 0xFFFFFFFFu;
	return vdev_console_input(vm, buf, (unsigned)len);
}

/* ---------------------------------------------------------- the host -- */

void api_host_info(struct api_host_info *h)
{
	struct pmm_stats st;

	pmm_get_stats(&st);
	h->version = KEEL_VERSION;
	h->cpus = cpu_count_online;
	h->memory_total_mib = mm_usable_bytes() >> 20;
	h->memory_free_mib = (st.free_pages << PAGE_SHIFT) >> 20;
	h->virt = virt ? virt->name : "none";
	h->uptime_s = time_ns() / 1000000000ULL;
}

uint64_t api_host_mem_available(void)
{
	struct pmm_stats st;

	pmm_get_stats(&st);
	if (st.free_pages <= st.reserve_pages)
		return 0;
	return (st.free_pages - st.reserve_pages) << PAGE_SHIFT;
}

size_t api_host_log_read(uint64_t *seq, char *buf, size_t len)
{
	return log_read(seq, buf, len);
}

void *api_host_image_alloc(uint64_t size)
{
	uint64_t pa = pmm_alloc_contig(ALIGN_UP(size, PAGE_SIZE) >> PAGE_SHIFT,
				       PMM_GUEST);

	return pa ? phys_to_virt(pa) : NULL;
}

void api_host_image_free(void *p, uint64_t size)
{
	pmm_free_contig(virt_to_phys(p), ALIGN_UP(size, PAGE_SIZE) >> PAGE_SHIFT);
}

void api_host_console_print(const char *line)
{
	/* Straight to the consoles: the log ring is what GET /log serves. */
	console_emergency_write(line, strlen(line));
	console_emergency_write("\n", 1);
}

const char *api_host_password_hash(void)
{
	return keel_cfg.password;
}

/* ------------------------------------------------------------- crypto -- */

int api_host_pbkdf2_sha256(const uint8_t *pw, size_t pw_len,
			   const uint8_t *salt, size_t salt_len,
			   uint32_t iterations, uint8_t *key, size_t key_len)
{
	return mbedtls_pkcs5_pbkdf2_hmac_ext(MBEDTLS_MD_SHA256, pw, pw_len,
					     salt, salt_len, iterations,
					     (uint32_t)key_len, key) ?
		       KEEL_EIO : 0;
}

struct api_sha256 {
	mbedtls_sha256_context ctx;
};

struct api_sha256 *api_host_sha256_new(void)
{
	struct api_sha256 *s = kmalloc(sizeof(*s));

	if (!s)
		return NULL;
	mbedtls_sha256_init(&s->ctx);
	if (mbedtls_sha256_starts(&s->ctx, 0)) { /* 0: SHA-256, not SHA-224 */
		api_host_sha256_free(s);
		return NULL;
	}
	return s;
}

void api_host_sha256_update(struct api_sha256 *s, const void *p, size_t n)
{
	mbedtls_sha256_update(&s->ctx, p, n);
}

void api_host_sha256_final(struct api_sha256 *s, uint8_t digest[32])
{
	mbedtls_sha256_finish(&s->ctx, digest);
	api_host_sha256_free(s);
}

void api_host_sha256_free(struct api_sha256 *s)
{
	if (!s)
		return;
	mbedtls_sha256_free(&s->ctx);
	kfree(s);
}
