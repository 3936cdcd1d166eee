/*
 * irq.c - how a VM's interrupts reach its vCPUs: device lines into the PIC
 * and the IOAPIC (GSIs), IOAPIC and IPI messages into the local APICs, the
 * PIC's INTR into whichever local APIC takes ExtINT on LINT0, and INIT, SIPI
 * and NMI into the vCPU's own state. A vCPU that gets something is kicked:
 * woken from HLT, or made to leave the guest by a host IPI.
 *
 * Lock order: vdev_state.lock, then vm->lock (vcpu_kick). A local APIC is
 * touched only by its own vCPU's thread, except for vlapic_accept (atomic).
 */
#include <string.h>

#include "kernel/arch/x86.h"
#include "kernel/compiler.h"
#include "kernel/err.h"
#include "kernel/sched.h"
#include "kernel/time.h"
#include "kernel/vdev/vdev_internal.h"
#include "kernel/virt/virt_internal.h"
#include "mm/mm.h"

#define MSR_IA32_APIC_BASE 0x1B
#define MSR_IA32_TSC_DEADLINE 0x6E0
#define MSR_X2APIC_FIRST 0x800
#define MSR_X2APIC_LAST 0x8FF

/* Something may be waiting for v: make its thread look. */
static void irq_kick(struct vcpu *v)
{
	__atomic_store_n(&v->intr_work, 1, __ATOMIC_RELEASE);
	if (v->thread != thread_current())
		vcpu_kick(v);
}

/* ------------------------------------------------------------ routing -- */

static bool irq_msg_matches(struct vcpu *v, const struct irq_msg *m)
{
	struct vlapic *l = v->lapic;

	switch (m->shorthand) {
	case IRQ_SH_SELF:
		return l->id == m->source;
	case IRQ_SH_ALL:
		return true;
	case IRQ_SH_OTHERS:
		return l->id != m->source;
	default:
		return vlapic_match_dest(l, m);
	}
}

static void irq_deliver_one(struct vcpu *v, const struct irq_msg *m)
{
	switch (m->delivery) {
	case IRQ_DM_FIXED:
	case IRQ_DM_LOWEST:
		if (vlapic_accept(v->lapic, m->vector, m->level))
			irq_kick(v);
		break;
	case IRQ_DM_NMI:
		v->nmi_pending = true;
		irq_kick(v);
		break;
	case IRQ_DM_INIT:
		/* The level-triggered de-assert of the INIT IPI does nothing on
		 * processors since the Pentium 4 (SDM vol.3 11.6.1). */
		if (m->level && !m->assert)
			break;
		/* Wait-for-SIPI starts now, not when v's thread gets to it:
		 * Linux sends the SIPI right after the INIT, and it must not
		 * be lost. v's thread resets its registers (init_pending). */
		v->sipi_vector = -1;
		__atomic_store_n(&v->mp_state, VCPU_MP_WAIT_SIPI, __ATOMIC_RELEASE);
		v->init_pending = true;
		irq_kick(v);
		break;
	case IRQ_DM_SIPI:
		/* Only a processor waiting for SIPI takes it; later SIPIs are
		 * ignored (SDM vol.3 9.4.4.1). */
		if (v->mp_state == VCPU_MP_WAIT_SIPI) {
			int none = -1;
			if (__atomic_compare_exchange_n(&v->sipi_vector, &none,
							m->vector, false,
							__ATOMIC_ACQ_REL,
							__ATOMIC_ACQUIRE))
				irq_kick(v);
		}
		break;
	case IRQ_DM_EXTINT:
		irq_kick(v); /* it asks the PIC for the vector */
		break;
	default:
		break; /* SMI: there is no SMM */
	}
}

void vdev_irq_route(void *ctx, const struct irq_msg *m)
{
	struct vm *vm = ctx;

	for (unsigned i = 0; i < vm->vcpu_count; i++) {
		struct vcpu *v = vm->vcpus[i];
		if (!v->lapic || !irq_msg_matches(v, m))
			continue;
		irq_deliver_one(v, m);
		/* Lowest priority: one of the matching processors takes it;
		 * the first is as good as any (SDM vol.3 11.6.2.4 leaves the
		 * choice to the chipset). */
		if (m->delivery == IRQ_DM_LOWEST && m->shorthand == IRQ_SH_NONE)
			break;
	}
}

static void irq_lapic_eoi(void *ctx, uint8_t vector)
{
	struct vm *vm = ctx;
	struct vdev_state *s = vm->devices;
	uint64_t flags = spin_lock_irqsave(&s->lock);

	vioapic_eoi(&s->ioapic, vector);
	spin_unlock_irqrestore(&s->lock, flags);
}

void vdev_extint_kick(struct vdev_state *s)
{
	struct vm *vm = s->vm;
	uint64_t flags = spin_lock_irqsave(&s->lock);
	bool intr = vpic_intr(&s->pic);

	spin_unlock_irqrestore(&s->lock, flags);
	if (!intr)
		return;
	for (unsigned i = 0; i < vm->vcpu_count; i++) {
		struct vcpu *v = vm->vcpus[i];
		if (v->lapic && vlapic_accepts_extint(v->lapic))
			irq_kick(v);
	}
}

void vdev_irq_set_locked(struct vdev_state *s, unsigned gsi, bool level)
{
	uint32_t bit = 1u << gsi;

	if (gsi >= VDEV_GSI_COUNT || !!(s->irq_lines & bit) == level)
		return;
	s->irq_lines = level ? s->irq_lines | bit : s->irq_lines & ~bit;
	if (gsi < 16) {
		bool before = vpic_intr(&s->pic);
		vpic_set_irq(&s->pic, gsi, level);
		if (!before && vpic_intr(&s->pic)) {
			struct vm *vm = s->vm;
			for (unsigned i = 0; i < vm->vcpu_count; i++) {
				struct vcpu *v = vm->vcpus[i];
				if (v->lapic && vlapic_accepts_extint(v->lapic))
					irq_kick(v);
			}
		}
	}
	/* ISA IRQ 0 is wired to IOAPIC pin 2 (the MADT's override); IRQ 2
	 * is the PICs' cascade and reaches no IOAPIC pin. */
	if (gsi != 2)
		vioapic_set_irq(&s->ioapic, gsi == 0 ? 2 : gsi, level);
}

void vdev_irq_set(struct vm *vm, unsigned gsi, bool level)
{
	struct vdev_state *s = vm->devices;
	uint64_t flags = spin_lock_irqsave(&s->lock);

	vdev_irq_set_locked(s, gsi, level);
	spin_unlock_irqrestore(&s->lock, flags);
}

/* ------------------------------------------------ what the vCPU takes -- */

__hot int vdev_intr_pending(struct vcpu *vcpu)
{
	struct vlapic *l = vcpu->lapic;
	struct vdev_state *s = vcpu->vm->devices;

	if (!l)
		return -1;
	int vector = vlapic_pending(l);
	if (vector >= 0)
		return vector;
	if (vlapic_accepts_extint(l)) {
		uint64_t flags = spin_lock_irqsave(&s->lock);
		bool intr = vpic_intr(&s->pic);
		spin_unlock_irqrestore(&s->lock, flags);
		if (intr)
			return VDEV_INTR_EXTINT;
	}
	return -1;
}

__hot int vdev_intr_take(struct vcpu *vcpu)
{
	struct vlapic *l = vcpu->lapic;
	struct vdev_state *s = vcpu->vm->devices;
	int vector = vlapic_pending(l);

	if (vector >= 0) {
		vlapic_ack(l, (uint8_t)vector);
		return vector;
	}
	if (!vlapic_accepts_extint(l))
		return -1;
	/* The INTA cycle: the PIC names the vector (or its spurious one). */
	uint64_t flags = spin_lock_irqsave(&s->lock);
	vector = vpic_intr(&s->pic) ? vpic_ack(&s->pic) : -1;
	spin_unlock_irqrestore(&s->lock, flags);
	return vector;
}

/* ---------------------------------------------------------- local APIC -- */

__hot uint64_t vdev_lapic_poll(struct vcpu *vcpu, uint64_t now)
{
	return vcpu->lapic ? vlapic_timer_poll(vcpu->lapic, now) : 0;
}

void vdev_lapic_reset(struct vcpu *vcpu)
{
	struct vlapic *l = vcpu->lapic;

	if (!l)
		return;
	vlapic_init(l, vcpu->id, vcpu->id == 0, vdev_irq_route, irq_lapic_eoi,
		    vcpu->vm);
	l->tsc_hz = time_tsc_hz();
	/* A kernel Keel starts directly has no BIOS to set the BSP up as a
	 * PC BIOS does: the PIC's INTR through LINT0 (virtual wire). */
	if (vcpu->id == 0 && (vcpu->vm->cfg.start == VM_START_LINUX ||
			      vcpu->vm->cfg.start == VM_START_MULTIBOOT))
		vlapic_set_virtual_wire(l);
}

void vdev_lapic_init_ipi(struct vcpu *vcpu)
{
	if (vcpu->lapic)
		vlapic_reset_init(vcpu->lapic);
}

int vdev_vcpu_init(struct vcpu *vcpu)
{
	vcpu->lapic = kzalloc(sizeof(*vcpu->lapic));
	if (!vcpu->lapic)
		return KEEL_ENOMEM;
	vdev_lapic_reset(vcpu);
	return 0;
}

static int lapic_mmio(struct vcpu *vcpu, void *dev, uint64_t off, uint8_t size,
		      bool write, uint64_t *val)
{
	uint32_t v = (uint32_t)*val;

	/* The registers are 32 bits wide on 16-byte boundaries; other widths
	 * are undefined (SDM vol.3 11.4.1): read as zero, dropped. */
	if (size != 4 || (off & 3)) {
		if (!write)
			*val = 0;
		return 0;
	}
	if (write)
		return vlapic_mmio_write(vcpu->lapic, (uint32_t)off, v, time_ns()) ?
			       KEEL_EINVAL : 0;
	vlapic_mmio_read(vcpu->lapic, (uint32_t)off, &v, time_ns());
	*val = v;
	return 0;
}

static int ioapic_mmio(struct vcpu *vcpu, void *dev, uint64_t off, uint8_t size,
		       bool write, uint64_t *val)
{
	struct vdev_state *s = dev;
	uint64_t flags = spin_lock_irqsave(&s->lock);

	if (size != 4 || (off & 3)) {
		if (!write)
			*val = 0;
	} else if (write) {
		vioapic_mmio_write(&s->ioapic, (uint32_t)off, (uint32_t)*val);
	} else {
		*val = vioapic_mmio_read(&s->ioapic, (uint32_t)off);
	}
	spin_unlock_irqrestore(&s->lock, flags);
	return 0;
}

int vdev_irq_register(struct vm *vm, struct vdev_state *s)
{
	int err = vm_register_mmio(vm, VDEV_LAPIC_BASE, PAGE_SIZE, lapic_mmio, s);

	if (!err)
		err = vm_register_mmio(vm, VDEV_IOAPIC_BASE, PAGE_SIZE, ioapic_mmio,
				       s);
	return err;
}

int vdev_lapic_msr(struct vcpu *vcpu, uint32_t msr, bool write, uint64_t *val)
{
	struct vlapic *l = vcpu->lapic;

	if (!l)
		return 1;
	if (msr == MSR_IA32_APIC_BASE) {
		if (!write) {
			*val = vlapic_get_base(l);
			return 0;
		}
		return vlapic_set_base(l, *val);
	}
	if (msr == MSR_IA32_TSC_DEADLINE) {
		if (!write) {
			*val = vlapic_tsc_deadline_read(l);
			return 0;
		}
		vlapic_tsc_deadline_write(l, *val, rdtsc(), time_ns());
		return 0;
	}
	if (msr < MSR_X2APIC_FIRST || msr > MSR_X2APIC_LAST)
		return 1;
	if (write)
		return vlapic_msr_write(l, msr, *val, time_ns());
	return vlapic_msr_read(l, msr, val, time_ns());
}
