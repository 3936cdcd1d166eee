/*
 * io.c - a VM's I/O-port and MMIO ranges: devices register a range and a
 * handler, the exit path finds the range of an access and calls it. The
 * tables are fixed arrays inside struct vm (VM_MAX_PIO, VM_MAX_MMIO), in
 * registration order. Devices register while the VM is built, before any
 * vCPU runs, so dispatch takes no lock and allocates nothing.
 */
#include "kernel/compiler.h"
#include "kernel/err.h"
#include "kernel/virt/virt.h"

int vm_register_pio(struct vm *vm, uint16_t base, uint16_t len, pio_fn fn,
		    void *dev)
{
	uint32_t end = (uint32_t)base + len; /* exclusive, up to 0x10000 */

	if (!len || !fn)
		return KEEL_EINVAL;
	/* Ports are 16 bits: a range may end at 0xFFFF, not wrap to 0. */
	if (end > 0x10000)
		return KEEL_ERANGE;
	for (unsigned i = 0; i < vm->pio_count; i++) {
		const struct pio_range *r = &vm->pio[i];

		if (base < (uint32_t)r->base + r->len && r->base < end)
			return KEEL_EEXIST;
	}
	/* No KEEL_ENOSPC in err.h: a full table is "out of range". */
	if (vm->pio_count >= VM_MAX_PIO)
		return KEEL_ERANGE;
	vm->pio[vm->pio_count++] = (struct pio_range){
		.base = base, .len = len, .fn = fn, .dev = dev,
	};
	return 0;
}

int vm_register_mmio(struct vm *vm, uint64_t base, uint64_t len, mmio_fn fn,
		     void *dev)
{
	uint64_t last = base + (len - 1); /* inclusive: a range may end at 2^64 */

	if (!len || !fn)
		return KEEL_EINVAL;
	if (last < base)
		return KEEL_ERANGE;
	for (unsigned i = 0; i < vm->mmio_count; i++) {
		const struct mmio_range *r = &vm->mmio[i];

		if (base <= r->base + (r->len - 1) && r->base <= last)
			return KEEL_EEXIST;
	}
	if (vm->mmio_count >= VM_MAX_MMIO)
		return KEEL_ERANGE;
	vm->mmio[vm->mmio_count++] = (struct mmio_range){
		.base = base, .len = len, .fn = fn, .dev = dev,
	};
	return 0;
}

/*
 * The hot path: one unsigned compare per range finds the one that holds the
 * first byte (port - base wraps to a huge value below the range); ranges do
 * not overlap, so it is the only candidate. An access that runs past its
 * end reaches another device or nothing: no device sees it (KEEL_ENOENT),
 * as on a bus where the decode needs the whole access. Sizes the exits can
 * not produce (0, more than 4 for ports, 8 for MMIO) are KEEL_EINVAL; other
 * odd sizes (a 3-byte piece of an access split at a page boundary) go to
 * the device, which may refuse them.
 */
__hot int vm_pio_dispatch(struct vcpu *vcpu, uint16_t port, uint8_t size, bool in,
		    uint32_t *val)
{
	const struct vm *vm = vcpu->vm;

	if (!size || size > 4)
		return KEEL_EINVAL;
	for (unsigned i = 0; i < vm->pio_count; i++) {
		const struct pio_range *r = &vm->pio[i];
		uint32_t off = (uint32_t)port - r->base;

		if (off < r->len) {
			if (size > r->len - off)
				return KEEL_ENOENT;
			return r->fn(vcpu, r->dev, port, size, in, val);
		}
	}
	return KEEL_ENOENT;
}

__hot int vm_mmio_dispatch(struct vcpu *vcpu, uint64_t gpa, uint8_t size, bool write,
		     uint64_t *val)
{
	const struct vm *vm = vcpu->vm;

	if (!size || size > 8)
		return KEEL_EINVAL;
	for (unsigned i = 0; i < vm->mmio_count; i++) {
		const struct mmio_range *r = &vm->mmio[i];
		uint64_t off = gpa - r->base;

		if (off < r->len) {
			if (size > r->len - off)
				return KEEL_ENOENT;
			return r->fn(vcpu, r->dev, off, size, write, val);
		}
	}
	return KEEL_ENOENT;
}
