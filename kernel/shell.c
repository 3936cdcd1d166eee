/*
 * shell.c - Keel's local console. A thread on CPU 0 polls the serial port
 * for a line and runs it; the same thread watches PM1 status for the ACPI
 * power button (ACPI 6.5 4.8.3.1.1, PWRBTN_STS), so an admin's soft power-off
 * (a press, or IPMI "chassis power soft") shuts Keel down cleanly. A second
 * thread writes what is logged to the consoles.
 */
#include <stdio.h>
#include <string.h>

#include "drivers/serial.h"
#include "kernel/acpi.h"
#include "kernel/arch/x86.h"
#include "kernel/cpu.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/sched.h"
#include "kernel/shell.h"
#include "kernel/time.h"
#include "kernel/err.h"
#include "kernel/vdev/vdev.h"
#include "kernel/virt/virt.h"
#include "mm/mm.h"

#define SHELL_POLL_NS 20000000ULL /* 20 ms */
#define CONSOLE_POLL_NS 10000000ULL  /* a logged line shows within 10 ms */
#define CONSOLE_FLUSH_NS 40000000ULL /* a framebuffer redraws 25 times a second */

static char shell_line[256];
static size_t shell_len;
/* "vm <name> console": what is typed goes to this VM's COM1 until Ctrl-]. */
static struct vm *shell_attached;
#define SHELL_DETACH 0x1D /* Ctrl-] */
#define SHELL_INPUT_WAIT_NS 5000000000ULL

static void shell_shutdown(bool reboot)
{
	kprint_line("keel: %s", reboot ? "rebooting" : "powering off");
	/* What is logged from here on is written at once: no thread will. */
	console_set_async(false);
	console_flush();
	irq_disable();
	if (reboot)
		power_reboot();
	power_off();
}

static void shell_status(void)
{
	struct pmm_stats st;
	uint64_t up = time_ns() / 1000000000ULL;

	pmm_get_stats(&st);
	kprint_line("keel: up %llus, %u cpu(s), %llu MiB usable, %llu MiB free",
		    (unsigned long long)up, cpu_count_online,
		    (unsigned long long)(mm_usable_bytes() >> 20),
		    (unsigned long long)((st.free_pages * PAGE_SIZE) >> 20));
	for (unsigned c = 0; c < MAX_CPUS; c++) {
		if (!percpu_data[c].online)
			continue;
		struct sched_stats ss;
		sched_get_stats(c, &ss);
		kprint_line("  cpu %u: apic %u, %llu interrupts, %llu switches",
			    c, percpu_data[c].apic_id,
			    (unsigned long long)percpu_data[c].irq_count,
			    (unsigned long long)ss.switches);
	}
}

static void shell_vms(void)
{
	struct vm *vms[64];
	unsigned n = vm_list_get(vms, 64);

	if (!n)
		kprint_line("keel: no VMs");
	for (unsigned i = 0; i < n; i++) {
		struct vm *vm = vms[i];
		uint64_t exits = 0;
		for (unsigned c = 0; c < vm->vcpu_count; c++)
			exits += vm->vcpus[c]->exits_total;
		kprint_line("  %-16s %-8s cpus=%u mem_mib=%llu exits=%llu%s%s",
			    vm->name, vm_state_name(vm->state), vm->vcpu_count,
			    (unsigned long long)(vm->mem_bytes >> 20),
			    (unsigned long long)exits,
			    vm->state == VM_STOPPED ? " reason=" : "",
			    vm->state == VM_STOPPED ?
				    vm_stop_reason_name(vm->stop_reason) : "");
	}
}

/* Type text into a VM's serial port, waiting while its UART's FIFO is full
 * (the guest drains it at its own pace). */
static int shell_vm_input(struct vm *vm, const char *text, size_t len)
{
	uint64_t give_up = time_ns() + SHELL_INPUT_WAIT_NS;

	while (len) {
		unsigned n = vdev_console_input(vm, text, (unsigned)len);
		text += n;
		len -= n;
		if (!len)
			break;
		if (vm->state != VM_RUNNING || time_ns() > give_up)
			return KEEL_ETIMEDOUT;
		thread_sleep_ns(1000000);
	}
	return 0;
}

/* "vm <name> <action>" */
static void shell_vm(const char *args)
{
	char name[VM_NAME_MAX];
	const char *sp = strchr(args, ' ');
	size_t n = sp ? (size_t)(sp - args) : strlen(args);

	if (!sp || n == 0 || n >= sizeof(name)) {
		kprint_line("keel: usage: vm <name> start|stop|shutdown|pause|"
			    "resume|reset|destroy|console|send <text>");
		return;
	}
	memcpy(name, args, n);
	name[n] = 0;
	const char *action = sp + 1;
	struct vm *vm = vm_find(name);
	if (!vm) {
		kprint_line("keel: no VM named '%s'", name);
		return;
	}
	int err;
	if (!strncmp(action, "send ", 5) || !strcmp(action, "send")) {
		const char *text = action[4] ? action + 5 : "";
		err = shell_vm_input(vm, text, strlen(text));
		if (!err)
			err = shell_vm_input(vm, "\r", 1);
		if (err)
			kprint_line("keel: vm %s send: the guest is not reading its "
				    "serial port; input dropped", name);
		return;
	}
	if (!strcmp(action, "console")) {
		if (vm->state != VM_RUNNING) {
			kprint_line("keel: vm %s is %s", name, vm_state_name(vm->state));
			return;
		}
		kprint_line("keel: typing goes to vm %s; Ctrl-] returns to Keel",
			    name);
		shell_attached = vm;
		return;
	}
	if (!strcmp(action, "start"))
		err = vm_start(vm);
	else if (!strcmp(action, "stop"))
		err = vm_stop(vm, VM_STOP_POWEROFF, "by the console");
	else if (!strcmp(action, "shutdown")) {
		/* Ask the guest: its OS powers off when it sees the press. */
		err = vm->state == VM_RUNNING ? 0 : KEEL_EBUSY;
		if (!err)
			vdev_power_button(vm);
	} else if (!strcmp(action, "pause"))
		err = vm_pause(vm);
	else if (!strcmp(action, "resume"))
		err = vm_resume(vm);
	else if (!strcmp(action, "reset"))
		err = vm_reset(vm);
	else if (!strcmp(action, "destroy"))
		err = vm_destroy(vm);
	else {
		kprint_line("keel: unknown action '%s'", action);
		return;
	}
	kprint_line("keel: vm %s %s: %s", name, action, err ? err_str(err) : "ok");
}

static void shell_run(const char *cmd)
{
	if (!strcmp(cmd, ""))
		return;
	if (!strcmp(cmd, "help"))
		kprint_line("keel: commands: help, status, log, vms, "
			    "vm <name> start|stop|shutdown|pause|resume|reset|"
			    "destroy|console|send <text>, poweroff, reboot");
	else if (!strcmp(cmd, "vms"))
		shell_vms();
	else if (!strncmp(cmd, "vm ", 3))
		shell_vm(cmd + 3);
	else if (!strcmp(cmd, "status"))
		shell_status();
	else if (!strcmp(cmd, "log")) {
		char buf[1024];
		uint64_t seq = 0;
		size_t n;
		while ((n = log_read(&seq, buf, sizeof(buf) - 1)) > 0) {
			buf[n] = 0;
			console_emergency_write(buf, n);
		}
	} else if (!strcmp(cmd, "poweroff"))
		shell_shutdown(false);
	else if (!strcmp(cmd, "reboot"))
		shell_shutdown(true);
	else
		kprint_line("keel: unknown command '%s' (try help)", cmd);
}

static void shell_thread(void *arg)
{
	for (;;) {
		int c;
		while ((c = serial_getc()) >= 0) {
			if (shell_attached) {
				char ch = (char)c;
				if (c == SHELL_DETACH) {
					shell_attached = NULL;
					kprint_line("keel: back to Keel's console");
				} else if (shell_vm_input(shell_attached, &ch, 1)) {
					kprint_line("keel: vm %s does not read its "
						    "serial port; detached",
						    shell_attached->name);
					shell_attached = NULL;
				}
				continue;
			}
			if (c == '\r' || c == '\n') {
				shell_line[shell_len] = 0;
				shell_len = 0;
				shell_run(shell_line);
			} else if ((c == 0x7F || c == 0x08) && shell_len) {
				shell_len--;
			} else if (c >= 0x20 && c < 0x7F &&
				   shell_len < sizeof(shell_line) - 1) {
				shell_line[shell_len++] = (char)c;
			}
		}
		if (power_button_pressed()) {
			kprint_line("keel: power button pressed");
			shell_shutdown(false);
		}
		thread_sleep_ns(SHELL_POLL_NS);
	}
}

/* Keel's output: once this thread runs, what is logged reaches the consoles
 * from here (kernel/log.c), and no CPU that logs waits for them. */
static void console_thread(void *arg)
{
	console_set_async(true);
	for (;;) {
		console_service(time_ns(), CONSOLE_FLUSH_NS);
		thread_sleep_ns(CONSOLE_POLL_NS);
	}
}

void shell_start(void)
{
	if (!thread_create("console", 0, console_thread, NULL))
		log_err("keel: no console thread; CPUs that log write to the "
			"consoles themselves");
	if (!thread_create("shell", 0, shell_thread, NULL))
		log_err("keel: could not start the console shell");
}
