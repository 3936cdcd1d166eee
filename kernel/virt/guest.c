/*
 * guest.c - the emulator's window on a vCPU: instruction fetch and data
 * access at guest linear addresses, through the guest's own page tables
 * (gwalk), then to guest RAM, ROM (writes dropped, as a PC's ROM does) or a
 * device's MMIO handler. Anything else is a bad access that stops the VM.
 */
#include <string.h>

#include "kernel/err.h"
#include "kernel/virt/virt_internal.h"

static int ga_read_gpa(void *ctx, uint64_t gpa, uint64_t *val)
{
	struct guest_access *ga = ctx;
	return gmem_read(ga->vcpu->vm, gpa, val, sizeof(*val));
}

static int ga_write_gpa(void *ctx, uint64_t gpa, uint64_t val)
{
	struct guest_access *ga = ctx;
	enum gmem_kind kind;

	if (!gmem_translate(ga->vcpu->vm, gpa, &kind) || kind != GMEM_RAM)
		return KEEL_ERANGE;
	return gmem_write(ga->vcpu->vm, gpa, &val, sizeof(val));
}

/* Linear to guest-physical; fills the fault or the bad access. */
static int ga_translate(struct guest_access *ga, uint64_t gva, unsigned access,
			uint64_t *gpa)
{
	struct gwalk_ops ops = {.read_gpa = ga_read_gpa,
				.write_gpa = ga_write_gpa,
				.ctx = ga,
				.maxphyaddr = 0};
	uint32_t pf_error = 0;

	if (ga->sregs->cpl == 3)
		access |= GWALK_USER;
	switch (gwalk_translate(&ops, ga->sregs, gva, access, gpa, &pf_error)) {
	case GWALK_OK:
		return 0;
	case GWALK_PAGE_FAULT:
		ga->fault = (struct emu_fault){.vector = 14, .has_error = true,
					       .error = pf_error, .cr2 = gva};
		return EMU_FAULT;
	default:
		ga->bad = true;
		ga->bad_gpa = *gpa;
		ga->bad_write = false;
		return EMU_ERROR;
	}
}

/* One access that stays within a page. */
static int ga_access(struct guest_access *ga, uint64_t gva, void *buf,
		     unsigned len, bool write, bool fetch)
{
	struct vm *vm = ga->vcpu->vm;
	uint64_t gpa;
	enum gmem_kind kind;
	int err = ga_translate(ga, gva, write ? GWALK_WRITE : fetch ? GWALK_FETCH : 0,
			       &gpa);

	if (err)
		return err;
	if (!fetch && len <= 8) {
		uint64_t val = 0;
		if (write)
			memcpy(&val, buf, len);
		err = vm_mmio_dispatch(ga->vcpu, gpa, (uint8_t)len, write, &val);
		if (err == 0) {
			if (!write)
				memcpy(buf, &val, len);
			return 0;
		}
		if (err != KEEL_ENOENT)
			return EMU_ERROR;
	}
	if (gmem_translate(vm, gpa, &kind) &&
	    gmem_translate(vm, gpa + len - 1, NULL)) {
		if (!write)
			return gmem_read(vm, gpa, buf, len) ? EMU_ERROR : 0;
		if (kind == GMEM_ROM)
			return 0; /* ROM ignores writes */
		return gmem_write(vm, gpa, buf, len) ? EMU_ERROR : 0;
	}
	ga->bad = true;
	ga->bad_gpa = gpa;
	ga->bad_write = write;
	return EMU_ERROR;
}

int guest_linear_rw(struct guest_access *ga, uint64_t gva, void *buf,
		    unsigned len, bool write)
{
	uint8_t *p = buf;

	while (len) {
		unsigned chunk = (unsigned)(PAGE_SIZE - (gva & (PAGE_SIZE - 1)));
		if (chunk > len)
			chunk = len;
		int err = ga_access(ga, gva, p, chunk, write, false);
		if (err)
			return err;
		gva += chunk;
		p += chunk;
		len -= chunk;
	}
	return 0;
}

static int ga_fetch(void *ctx, uint64_t gva, uint8_t *buf, unsigned len)
{
	struct guest_access *ga = ctx;

	while (len) {
		unsigned chunk = (unsigned)(PAGE_SIZE - (gva & (PAGE_SIZE - 1)));
		if (chunk > len)
			chunk = len;
		int err = ga_access(ga, gva, buf, chunk, false, true);
		if (err)
			return err;
		gva += chunk;
		buf += chunk;
		len -= chunk;
	}
	return 0;
}

static int ga_read(void *ctx, uint64_t gva, unsigned size, uint64_t *val)
{
	*val = 0;
	return guest_linear_rw(ctx, gva, val, size, false);
}

static int ga_write(void *ctx, uint64_t gva, unsigned size, uint64_t val)
{
	return guest_linear_rw(ctx, gva, &val, size, true);
}

void guest_access_init(struct guest_access *ga, struct vcpu *vcpu,
		       struct vcpu_sregs *sregs, struct emu_ops *ops)
{
	memset(ga, 0, sizeof(*ga));
	ga->vcpu = vcpu;
	ga->sregs = sregs;
	ops->fetch = ga_fetch;
	ops->read = ga_read;
	ops->write = ga_write;
	ops->ctx = ga;
}

int guest_linear_to_gpa(struct vcpu *vcpu, struct vcpu_sregs *sregs,
			uint64_t gva, uint64_t *gpa)
{
	struct guest_access ga;
	struct emu_ops ops;

	guest_access_init(&ga, vcpu, sregs, &ops);
	return ga_translate(&ga, gva, GWALK_FETCH, gpa);
}
