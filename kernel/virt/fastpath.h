/*
 * fastpath.h - what a backend may use to finish the hottest exits (CPUID,
 * the no-op hypercall) inside its own run loop, without the core's exit
 * switch: answers the core computed before, kept per vCPU. A miss simply
 * goes the slow way, which fills the caches. (Linux KVM keeps a fast path
 * for the same reason: exits are the hot path.)
 */
#ifndef KEEL_VIRT_FASTPATH_H
#define KEEL_VIRT_FASTPATH_H

#include <string.h>

#include "kernel/virt/virt.h"
#include "mm/mm.h"

static inline unsigned cpuid_cache_slot(uint32_t leaf, uint32_t subleaf)
{
	return (leaf ^ (leaf >> 27) ^ (subleaf * 3)) % VCPU_CPUID_CACHE;
}

/* The guest's answer for CPUID leaf/subleaf if known. */
static inline bool vcpu_cpuid_cached(const struct vcpu *v, uint32_t leaf,
				     uint32_t subleaf, uint32_t regs[4])
{
	const typeof(v->cpuid_cache[0]) *c =
		&v->cpuid_cache[cpuid_cache_slot(leaf, subleaf)];
	if (!c->valid || c->leaf != leaf || c->subleaf != subleaf)
		return false;
	/* Spelled out, and below a byte loop: under TCG a call to memcpy or
	 * memcmp is a return through QEMU's slow indirect-jump lookup, whose
	 * cache every world switch empties. */
	regs[0] = c->regs[0];
	regs[1] = c->regs[1];
	regs[2] = c->regs[2];
	regs[3] = c->regs[3];
	return true;
}

static inline void vcpu_cpuid_remember(struct vcpu *v, uint32_t leaf,
				       uint32_t subleaf, const uint32_t regs[4])
{
	typeof(v->cpuid_cache[0]) *c =
		&v->cpuid_cache[cpuid_cache_slot(leaf, subleaf)];
	c->leaf = leaf;
	c->subleaf = subleaf;
	memcpy(c->regs, regs, sizeof(c->regs));
	c->valid = true;
}

/* The length of the instruction at rip when it was decoded before and its
 * bytes are unchanged; 0 otherwise. *mode is its code size (2, 4, 8). */
static inline unsigned vcpu_insn_len_cached(const struct vcpu *v, uint64_t rip,
					    uint64_t cr3, unsigned *mode)
{
	const typeof(v->insn_cache) *c = &v->insn_cache;

	if (!c->len || c->rip != rip || c->cr3 != cr3)
		return 0;
	const volatile uint8_t *now = phys_to_virt(c->hpa);
	for (unsigned i = 0; i < c->len; i++)
		if (now[i] != c->bytes[i])
			return 0;
	*mode = c->mode;
	return c->len;
}

/* RIP after an instruction of len bytes in code size mode. */
static inline uint64_t vcpu_rip_advance(uint64_t rip, unsigned len,
					unsigned mode)
{
	rip += len;
	if (mode == 2)
		rip &= 0xFFFF;
	else if (mode == 4)
		rip &= 0xFFFFFFFF;
	return rip;
}

#endif
