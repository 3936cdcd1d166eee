/*
 * vdev.c - wiring the devices of vdev.h into a VM: port and MMIO
 * registration, the UART's console output, the test device's ports (results,
 * end, timer, echo, bench markers) and the debug-exit port.
 */
#include <stdio.h>
#include <string.h>

#include "kernel/compiler.h"
#include "kernel/err.h"
#include "kernel/log.h"
#include "kernel/time.h"
#include "kernel/vdev/vdev.h"
#include "mm/mm.h"

struct vdev_state {
	struct uart16550 uart;
	struct testdev test;
	uint16_t debug_exit;
};

__hot static struct vdev_state *vdev_of(struct vm *vm)
{
	return vm->devices;
}

__hot static int uart_pio(struct vcpu *vcpu, void *dev, uint16_t port, uint8_t size,
		    bool in, uint32_t *val)
{
	struct vdev_state *s = dev;
	uint8_t b = (uint8_t)*val;
	int out = uart_io(&s->uart, port - 0x3F8, in, &b);

	if (in)
		*val = b; /* wider reads see the byte, upper bits zero */
	else if (out >= 0)
		vm_console_putc(vcpu->vm, (char)out);
	return 0;
}

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

void vdev_reset(struct vm *vm)
{
	struct vdev_state *s = vdev_of(vm);

	memset(&s->uart, 0, sizeof(s->uart));
	memset(&s->test, 0, sizeof(s->test));
	s->test.echo = TESTDEV_ECHO_RESET;
	s->test.vector = 0x40;
}

int vdev_init(struct vm *vm, uint16_t debug_exit_port)
{
	struct vdev_state *s = kzalloc(sizeof(*s));
	int err;

	if (!s)
		return KEEL_ENOMEM;
	vm->devices = s;
	vdev_reset(vm);
	s->debug_exit = debug_exit_port;
	err = vm_register_pio(vm, 0x3F8, 8, uart_pio, s);
	if (!err)
		err = vm_register_pio(vm, TESTDEV_PORT, TESTDEV_PORTS, test_pio, s);
	if (!err)
		err = vm_register_mmio(vm, SCRATCH_BASE, SCRATCH_SIZE, scratch_mmio, s);
	if (!err && debug_exit_port)
		err = vm_register_pio(vm, debug_exit_port, 1, debug_exit_pio, s);
	return err;
}

void vdev_destroy(struct vm *vm)
{
	kfree(vm->devices);
	vm->devices = NULL;
}

__hot uint64_t vdev_timer_poll(struct vcpu *vcpu, uint64_t now)
{
	struct vdev_state *s = vdev_of(vcpu->vm);

	if (vcpu->id != 0 || !s || !s->test.timer_deadline_ns)
		return 0;
	if (now < s->test.timer_deadline_ns)
		return s->test.timer_deadline_ns;
	s->test.timer_deadline_ns = 0;
	vcpu->pending_irq = s->test.vector;
	return 0;
}
