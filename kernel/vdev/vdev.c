/*
 * vdev.c - the PC every VM gets, wired from the pure register models: COM1
 * (16550, IRQ 4), the PIC pair, the PIT, the CMOS/RTC, the IOAPIC, ACPI PM1
 * and PM timer (SCI on IRQ 9), the i8042 and port 0x92 (reset), the PCI
 * host bridge with the 0xCF9 reset register, plus Keel's test device, the
 * MMIO scratch page and the debug-exit port. Local APICs and interrupt
 * routing are in irq.c.
 *
 * Lock order: vdev_state.lock (the VM-level models), then vm->lock. Local
 * APICs are their vCPU's own and take no lock.
 */
#include <stdio.h>
#include <string.h>

#include "kernel/compiler.h"
#include "kernel/cpu.h"
#include "kernel/err.h"
#include "kernel/log.h"
#include "kernel/sched.h"
#include "kernel/time.h"
#include "kernel/vdev/vdev.h"
#include "kernel/vdev/vdev_internal.h"
#include "kernel/virt/virt_internal.h"
#include "kernel/wallclock.h"
#include "mm/mm.h"

__hot static struct vdev_state *vdev_of(struct vm *vm)
{
	return vm->devices;
}

/* A device model changed state that a timer depends on: poll at the next
 * entry of vCPU 0. Under s->lock. */
static void vdev_poll_soon(struct vdev_state *s)
{
	s->next_poll_ns = 1;
}

/* ---------------------------------------------------------------- COM1 -- */

static void uart_update_irq(struct vdev_state *s)
{
	vdev_irq_set_locked(s, VDEV_COM1_IRQ, uart_irq_level(&s->uart));
}

__hot static int uart_pio(struct vcpu *vcpu, void *dev, uint16_t port,
			  uint8_t size, bool in, uint32_t *val)
{
	struct vdev_state *s = dev;
	uint8_t b = (uint8_t)*val;
	uint64_t flags = spin_lock_irqsave(&s->lock);
	int out = uart_io(&s->uart, port - 0x3F8, in, &b);

	uart_update_irq(s);
	spin_unlock_irqrestore(&s->lock, flags);
	if (in)
		*val = b; /* wider reads see the byte, upper bits zero */
	else if (out >= 0)
		vm_console_putc(vcpu->vm, (char)out);
	return 0;
}

unsigned vdev_console_input(struct vm *vm, const char *buf, unsigned len)
{
	struct vdev_state *s = vdev_of(vm);
	uint64_t flags = spin_lock_irqsave(&s->lock);
	unsigned n = uart_rx_push(&s->uart, (const uint8_t *)buf, len);

	uart_update_irq(s);
	spin_unlock_irqrestore(&s->lock, flags);
	return n;
}

/* ------------------------------------------------------- PIC, PIT, RTC -- */

static int pic_pio(struct vcpu *vcpu, void *dev, uint16_t port, uint8_t size,
		   bool in, uint32_t *val)
{
	struct vdev_state *s = dev;
	uint64_t flags = spin_lock_irqsave(&s->lock);

	/* Byte registers: a wider access touches only the first. */
	uint8_t b = (uint8_t)*val;
	vpic_io(&s->pic, port, in, &b);
	if (in)
		*val = b;
	spin_unlock_irqrestore(&s->lock, flags);
	/* Unmasking or an EOI can expose a request. */
	vdev_extint_kick(s);
	return 0;
}

static int pit_pio(struct vcpu *vcpu, void *dev, uint16_t port, uint8_t size,
		   bool in, uint32_t *val)
{
	struct vdev_state *s = dev;
	uint64_t flags = spin_lock_irqsave(&s->lock);
	uint8_t b = (uint8_t)*val;

	vpit_io(&s->pit, port, in, &b, time_ns());
	if (in)
		*val = b;
	else
		vdev_poll_soon(s);
	spin_unlock_irqrestore(&s->lock, flags);
	return 0;
}

static int rtc_pio(struct vcpu *vcpu, void *dev, uint16_t port, uint8_t size,
		   bool in, uint32_t *val)
{
	struct vdev_state *s = dev;
	uint64_t flags = spin_lock_irqsave(&s->lock);
	uint8_t b = (uint8_t)*val;

	vrtc_io(&s->rtc, port, in, &b, time_ns());
	if (in)
		*val = b;
	vdev_irq_set_locked(s, VDEV_RTC_IRQ, vrtc_irq_level(&s->rtc));
	vdev_poll_soon(s);
	spin_unlock_irqrestore(&s->lock, flags);
	return 0;
}

/* -------------------------------------------------- PM, resets, PCI host -- */

/* The guest asked for a reset (0xCF9, the i8042, port 0x92): the VM starts
 * over from its boot state. vm_reset parks every vCPU, this one included,
 * so it runs on a thread of its own. */
static void vdev_reset_thread(void *arg)
{
	struct vm *vm = arg;
	int err = vm_reset(vm);

	if (err && err != KEEL_EBUSY)
		log_err("vm %s: guest-requested reset failed: %s", vm->name,
			err_str(err));
	__atomic_store_n(&vdev_of(vm)->reset_busy, false, __ATOMIC_RELEASE);
	thread_exit();
}

static void vdev_guest_reset(struct vcpu *vcpu, const char *how)
{
	struct vm *vm = vcpu->vm;
	struct vdev_state *s = vdev_of(vm);

	if (__atomic_exchange_n(&s->reset_busy, true, __ATOMIC_ACQ_REL))
		return; /* one is on its way */
	log_info("vm %s: reset by the guest (%s)", vm->name, how);
	if (!thread_create("vm-reset", cpu_id(), vdev_reset_thread, vm)) {
		__atomic_store_n(&s->reset_busy, false, __ATOMIC_RELEASE);
		vm_fail(vcpu, VM_STOP_RESET, "the guest asked for a reset (%s) "
			"and Keel had no memory to restart it", how);
	}
}

static int pm_pio(struct vcpu *vcpu, void *dev, uint16_t port, uint8_t size,
		  bool in, uint32_t *val)
{
	struct vdev_state *s = dev;
	enum vpm_event ev = VPM_EV_NONE;
	uint64_t flags = spin_lock_irqsave(&s->lock);

	vpm_io(&s->pm, port, size, in, val, time_ns(), &ev);
	vdev_irq_set_locked(s, VDEV_SCI_IRQ, vpm_sci_level(&s->pm));
	vdev_poll_soon(s);
	spin_unlock_irqrestore(&s->lock, flags);
	if (ev == VPM_EV_S5)
		vm_stop(vcpu->vm, VM_STOP_POWEROFF, "by the guest (ACPI S5)");
	else if (ev == VPM_EV_SLEEP)
		log_warn("vm %s: the guest asked for a sleep state Keel does not "
			 "offer (only S5); ignored", vcpu->vm->name);
	return 0;
}

void vdev_power_button(struct vm *vm)
{
	struct vdev_state *s = vdev_of(vm);
	uint64_t flags = spin_lock_irqsave(&s->lock);

	vpm_power_button(&s->pm);
	vdev_irq_set_locked(s, VDEV_SCI_IRQ, vpm_sci_level(&s->pm));
	spin_unlock_irqrestore(&s->lock, flags);
}

static int kbc_pio(struct vcpu *vcpu, void *dev, uint16_t port, uint8_t size,
		   bool in, uint32_t *val)
{
	struct vdev_state *s = dev;
	bool reset = false;
	uint64_t flags = spin_lock_irqsave(&s->lock);
	uint8_t b = (uint8_t)*val;

	if (port == 0x92)
		vport92_io(&s->port92, in, &b, &reset);
	else
		vkbc_io(&s->kbc, port, in, &b, &reset);
	if (in)
		*val = b;
	spin_unlock_irqrestore(&s->lock, flags);
	if (reset)
		vdev_guest_reset(vcpu, port == 0x92 ? "port 0x92" : "i8042");
	return 0;
}

static int pci_pio(struct vcpu *vcpu, void *dev, uint16_t port, uint8_t size,
		   bool in, uint32_t *val)
{
	struct vdev_state *s = dev;
	bool reset = false;
	uint64_t flags = spin_lock_irqsave(&s->lock);

	vpci_io(&s->pci, port, size, in, val, &reset);
	spin_unlock_irqrestore(&s->lock, flags);
	if (reset)
		vdev_guest_reset(vcpu, "port 0xCF9");
	return 0;
}

/* ------------------------------------------------------ Keel test device -- */

static void bench_mark(struct vcpu *vcpu, struct testdev *t, uint32_t marker)
{
	uint64_t now = time_ns();

	/* Odd markers close the interval the previous even one opened. */
	if ((marker & 1) && t->bench_count &&
	    t->bench_marker[(t->bench_count - 1) % 8] == marker - 1) {
		uint64_t start = t->bench_ns[(t->bench_count - 1) % 8];
		kprint_line("keel: vm %s bench marker %u-%u %llu ns", vcpu->vm->name,
			    marker - 1, marker, (unsigned long long)(now - start));
	}
	t->bench_marker[t->bench_count % 8] = marker;
	t->bench_ns[t->bench_count % 8] = now;
	t->bench_count++;
}

__hot static int test_pio(struct vcpu *vcpu, void *dev, uint16_t port, uint8_t size,
		    bool in, uint32_t *val)
{
	struct vdev_state *s = dev;
	struct testdev *t = &s->test;
	unsigned reg = port - TESTDEV_PORT;
	uint32_t mask = size == 4 ? 0xFFFFFFFFu : (1u << (size * 8)) - 1;

	if (reg == TESTDEV_ECHO) {
		if (in)
			*val = t->echo & mask;
		else
			t->echo = (t->echo & ~mask) | (*val & mask);
		return 0;
	}
	if (in) {
		*val = mask; /* nothing else reads */
		return 0;
	}
	switch (reg) {
	case TESTDEV_RESULT:
		if (*val & mask)
			t->failed++;
		else
			t->passed++;
		break;
	case TESTDEV_END: {
		struct vm *vm = vcpu->vm;
		vm->exit_status = *val & 0xFF;
		char detail[64];
		snprintf(detail, sizeof(detail), "status=%u passed=%llu failed=%llu",
			 *val & 0xFF, (unsigned long long)t->passed,
			 (unsigned long long)t->failed);
		vm_stop(vm, VM_STOP_EXIT, detail);
		break;
	}
	case TESTDEV_TIMER:
		t->timer_deadline_ns = time_ns() + (uint64_t)(*val & mask) * 1000;
		if (!t->timer_deadline_ns)
			t->timer_deadline_ns = 1;
		break;
	case TESTDEV_VECTOR:
		t->vector = (uint8_t)*val;
		break;
	case TESTDEV_BENCH:
		bench_mark(vcpu, t, *val);
		break;
	}
	return 0;
}

__hot static int scratch_mmio(struct vcpu *vcpu, void *dev, uint64_t off,
			uint8_t size, bool write, uint64_t *val)
{
	struct vdev_state *s = dev;
	return testdev_mmio(&s->test, off, size, write, val);
}

static int debug_exit_pio(struct vcpu *vcpu, void *dev, uint16_t port,
			  uint8_t size, bool in, uint32_t *val)
{
	char detail[32];

	if (in) {
		*val = 0xFFFFFFFFu;
		return 0;
	}
	/* QEMU's isa-debug-exit: the status is what was written. */
	vcpu->vm->exit_status = *val;
	snprintf(detail, sizeof(detail), "status=%u", *val);
	vm_stop(vcpu->vm, VM_STOP_EXIT, detail);
	return 0;
}

/* ------------------------------------------------------------- timers -- */

/* The VM-level timers (PIT channel 0, RTC, PM timer), run by vCPU 0. */
static uint64_t vdev_poll_platform(struct vdev_state *s, uint64_t now)
{
	uint64_t flags = spin_lock_irqsave(&s->lock);
	uint64_t next = 0, t;
	bool edge = false;

	t = vpit_poll(&s->pit, now, &edge);
	if (edge) {
		/* IRQ 0 is an edge: a pulse on the PIC's pin 0 and IOAPIC pin 2. */
		vdev_irq_set_locked(s, 0, true);
		vdev_irq_set_locked(s, 0, false);
	}
	next = t;
	t = vrtc_poll(&s->rtc, now);
	vdev_irq_set_locked(s, VDEV_RTC_IRQ, vrtc_irq_level(&s->rtc));
	if (t && (!next || t < next))
		next = t;
	t = vpm_poll(&s->pm, now);
	vdev_irq_set_locked(s, VDEV_SCI_IRQ, vpm_sci_level(&s->pm));
	if (t && (!next || t < next))
		next = t;
	s->next_poll_ns = next;
	spin_unlock_irqrestore(&s->lock, flags);
	return next;
}

__hot uint64_t vdev_timer_poll(struct vcpu *vcpu, uint64_t now)
{
	struct vdev_state *s = vdev_of(vcpu->vm);
	uint64_t next = vdev_lapic_poll(vcpu, now);

	if (vcpu->id != 0 || !s)
		return next;
	uint64_t plat = s->next_poll_ns;
	if (plat && now >= plat)
		plat = vdev_poll_platform(s, now);
	if (plat && (!next || plat < next))
		next = plat;
	if (s->test.timer_deadline_ns) {
		if (now < s->test.timer_deadline_ns) {
			if (!next || s->test.timer_deadline_ns < next)
				next = s->test.timer_deadline_ns;
		} else {
			s->test.timer_deadline_ns = 0;
			vcpu->pending_irq = s->test.vector;
		}
	}
	return next;
}

/* ---------------------------------------------------------- lifecycle -- */

static void vdev_reset_models(struct vm *vm, struct vdev_state *s)
{
	uint64_t now = time_ns();
	uint64_t low = vm->mem_bytes < VM_LOW_RAM_MAX ? vm->mem_bytes :
							  VM_LOW_RAM_MAX;

	uart_init(&s->uart);
	memset(&s->test, 0, sizeof(s->test));
	s->test.echo = TESTDEV_ECHO_RESET;
	s->test.vector = 0x40;
	vpic_init(&s->pic);
	vioapic_init(&s->ioapic, vdev_irq_route, vm);
	vpit_init(&s->pit, now);
	vrtc_init(&s->rtc, wallclock_now_s(), now, low, vm->mem_bytes - low);
	vpm_init(&s->pm);
	vkbc_init(&s->kbc);
	vpci_reset(&s->pci);
	s->port92 = 0x02; /* A20 on */
	s->irq_lines = 0;
	s->next_poll_ns = 1;
}

void vdev_reset(struct vm *vm)
{
	struct vdev_state *s = vdev_of(vm);
	uint64_t flags = spin_lock_irqsave(&s->lock);

	vdev_reset_models(vm, s);
	spin_unlock_irqrestore(&s->lock, flags);
	for (unsigned i = 0; i < vm->vcpu_count; i++)
		vdev_lapic_reset(vm->vcpus[i]);
}

int vdev_init(struct vm *vm, uint16_t debug_exit_port)
{
	struct vdev_state *s = kzalloc(sizeof(*s));
	int err;

	if (!s)
		return KEEL_ENOMEM;
	vm->devices = s;
	s->vm = vm;
	s->lock = (struct spinlock)SPINLOCK_INIT;
	vpci_init(&s->pci);
	vdev_reset_models(vm, s);
	s->debug_exit = debug_exit_port;

	static const struct {
		uint16_t base, len;
		pio_fn fn;
	} ports[] = {
		{0x3F8, 8, uart_pio},
		{TESTDEV_PORT, TESTDEV_PORTS, test_pio},
		{0x20, 2, pic_pio},
		{0xA0, 2, pic_pio},
		{0x4D0, 2, pic_pio},
		{0x40, 4, pit_pio},
		{0x61, 1, pit_pio},
		{0x70, 2, rtc_pio},
		{0x60, 1, kbc_pio},
		{0x64, 1, kbc_pio},
		{0x92, 1, kbc_pio},
		{VDEV_PM_BASE, VDEV_PM_LEN, pm_pio},
		{0xCF8, 8, pci_pio},
	};
	err = 0;
	for (unsigned i = 0; !err && i < sizeof(ports) / sizeof(ports[0]); i++)
		err = vm_register_pio(vm, ports[i].base, ports[i].len, ports[i].fn,
				      s);
	if (!err)
		err = vm_register_mmio(vm, SCRATCH_BASE, SCRATCH_SIZE, scratch_mmio, s);
	if (!err)
		err = vdev_irq_register(vm, s);
	if (!err && debug_exit_port)
		err = vm_register_pio(vm, debug_exit_port, 1, debug_exit_pio, s);
	if (err)
		log_err("vm %s: devices: %s", vm->name, err_str(err));
	return err;
}

void vdev_destroy(struct vm *vm)
{
	for (unsigned i = 0; i < vm->vcpu_count; i++) {
		kfree(vm->vcpus[i]->lapic);
		vm->vcpus[i]->lapic = NULL;
	}
	kfree(vm->devices);
	vm->devices = NULL;
}
