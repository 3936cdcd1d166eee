/*
 * selftest.c - checks of the kernel's own machinery that only a running
 * machine can make (threads, preemption, sleeping, locks across CPUs, cross-CPU
 * calls, the allocators, the exception report, a frame through the first
 * NIC). Started by selftest= in keel.cfg; the integration tests read their
 * result lines.
 */
#include <stdio.h>
#include <string.h>

#include "drivers/netdev.h"
#include "kernel/apic.h"
#include "kernel/arch/x86.h"
#include "kernel/cpu.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/sched.h"
#include "kernel/selftest.h"
#include "kernel/smp.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"
#include "kernel/virt/virt.h"
#include "mm/mm.h"

#define MS 1000000ULL

static unsigned st_passed, st_failed;

static void result(const char *name, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void result(const char *name, bool ok, const char *fmt, ...)
{
	char detail[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	kprint_line("selftest %s: %s (%s)", name, ok ? "ok" : "FAILED", detail);
	if (ok)
		st_passed++;
	else
		st_failed++;
}

static unsigned last_cpu(void)
{
	unsigned last = 0;
	for (unsigned c = 0; c < MAX_CPUS; c++)
		if (percpu_data[c].online)
			last = c;
	return last;
}

/* ---- sleep: a sleeping thread wakes on time ---- */
static void test_sleep(void)
{
	uint64_t worst = 0, t0, dt;
	bool ok = true;

	for (int i = 0; i < 5; i++) {
		t0 = time_ns();
		thread_sleep_ns(30 * MS);
		dt = time_ns() - t0;
		if (dt < 30 * MS)
			ok = false;
		if (dt - 30 * MS > worst)
			worst = dt - 30 * MS;
	}
	/* TCG is slow and shared: allow 50 ms of lateness, never earliness. */
	result("sleep", ok && worst < 50 * MS,
	       "5 x 30 ms sleeps, worst lateness %llu us",
	       (unsigned long long)(worst / 1000));
}

/* ---- threads: a thread on every CPU, joined with completions ---- */
struct thr_arg {
	struct completion done;
	unsigned ran_on;
	unsigned loops;
};

static void thr_body(void *p)
{
	struct thr_arg *a = p;
	for (unsigned i = 0; i < 3; i++) {
		thread_sleep_ns(5 * MS);
		a->loops++;
	}
	a->ran_on = cpu_id();
	completion_done(&a->done);
}

static void test_threads(void)
{
	static struct thr_arg args[MAX_CPUS];
	unsigned n = 0, good = 0;

	for (unsigned c = 0; c < MAX_CPUS; c++) {
		if (!percpu_data[c].online)
			continue;
		memset(&args[c], 0, sizeof(args[c]));
		completion_init(&args[c].done);
		args[c].ran_on = ~0u;
		if (thread_create("selftest-thr", c, thr_body, &args[c]))
			n++;
	}
	for (unsigned c = 0; c < MAX_CPUS; c++) {
		if (!percpu_data[c].online)
			continue;
		completion_wait(&args[c].done);
		if (args[c].ran_on == c && args[c].loops == 3)
			good++;
	}
	result("threads", n == cpu_count_online && good == n,
	       "%u threads on %u cpus, %u ran where created", n, cpu_count_online,
	       good);
}

/* ---- preempt: two threads that never yield share one CPU ---- */
struct spin_arg {
	struct completion done;
	volatile uint64_t *other_progress;
	volatile uint64_t progress;
	uint64_t start_ns, end_ns;
	bool saw_other_move; /* the other advanced while we were running */
};

static void spin_body(void *p)
{
	struct spin_arg *a = p;
	a->start_ns = time_ns();
	uint64_t other_at_start = *a->other_progress;
	while (time_ns() - a->start_ns < 150 * MS) {
		a->progress++;
		if (*a->other_progress != other_at_start)
			a->saw_other_move = true;
	}
	a->end_ns = time_ns();
	completion_done(&a->done);
}

static void test_preempt(void)
{
	static struct spin_arg a, b;
	unsigned cpu = last_cpu();
	struct sched_stats before, after;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	completion_init(&a.done);
	completion_init(&b.done);
	a.other_progress = &b.progress;
	b.other_progress = &a.progress;
	sched_get_stats(cpu, &before);
	thread_create("selftest-spin-a", cpu, spin_body, &a);
	thread_create("selftest-spin-b", cpu, spin_body, &b);
	completion_wait(&a.done);
	completion_wait(&b.done);
	sched_get_stats(cpu, &after);
	uint64_t pre = after.preemptions - before.preemptions;
	result("preempt", a.saw_other_move && b.saw_other_move && pre >= 2,
	       "cpu %u: %llu preemptions, both threads progressed while the "
	       "other ran: %s", cpu, (unsigned long long)pre,
	       a.saw_other_move && b.saw_other_move ? "yes" : "no");
}

/* ---- spinlock: every CPU increments one counter under one lock ---- */
static struct spinlock st_lock = SPINLOCK_INIT;
static uint64_t st_counter;
#define LOCK_ROUNDS 20000

static void lock_body(void *p)
{
	struct completion *done = p;
	for (unsigned i = 0; i < LOCK_ROUNDS; i++) {
		uint64_t f = spin_lock_irqsave(&st_lock);
		uint64_t v = st_counter; /* a non-atomic read-modify-write */
		cpu_relax();
		st_counter = v + 1;
		spin_unlock_irqrestore(&st_lock, f);
	}
	completion_done(done);
}

static void test_spinlock(void)
{
	static struct completion done[MAX_CPUS];
	unsigned n = 0;

	st_counter = 0;
	for (unsigned c = 0; c < MAX_CPUS; c++) {
		if (!percpu_data[c].online)
			continue;
		completion_init(&done[c]);
		if (thread_create("selftest-lock", c, lock_body, &done[c]))
			n++;
	}
	for (unsigned c = 0; c < MAX_CPUS; c++)
		if (percpu_data[c].online)
			completion_wait(&done[c]);
	result("spinlock", st_counter == (uint64_t)n * LOCK_ROUNDS,
	       "%u cpus x %u increments = %llu", n, LOCK_ROUNDS,
	       (unsigned long long)st_counter);
}

/* ---- xcall: a function runs on each CPU, on that CPU ---- */
static volatile uint32_t xcall_seen[MAX_CPUS];

static void xcall_body(void *p)
{
	xcall_seen[cpu_id()] += 1 + (uint32_t)(uintptr_t)p;
}

static void test_xcall(void)
{
	unsigned good = 0;

	memset((void *)xcall_seen, 0, sizeof(xcall_seen));
	xcall_all(xcall_body, (void *)(uintptr_t)41);
	for (unsigned c = 0; c < MAX_CPUS; c++)
		if (percpu_data[c].online && xcall_seen[c] == 42)
			good++;
	result("xcall", good == cpu_count_online, "%u of %u cpus ran the call",
	       good, cpu_count_online);
}

/* ---- pmm: take every 2 MiB block, give them back ---- */
static void test_pmm(void)
{
	struct pmm_stats s0, s1, s2;
	uint64_t *list = NULL; /* a chain through the blocks themselves */
	uint64_t blocks = 0, pa;

	pmm_get_stats(&s0);
	while ((pa = pmm_alloc(9, 0)) != 0) {
		*(uint64_t **)phys_to_virt(pa) = list;
		list = phys_to_virt(pa);
		blocks++;
	}
	pmm_get_stats(&s1);
	uint64_t big_left = 0;
	for (unsigned o = 9; o <= PMM_MAX_ORDER; o++)
		big_left += s1.free_blocks[o];
	while (list) {
		uint64_t *next = *(uint64_t **)list;
		pmm_free(virt_to_phys(list), 9);
		list = next;
	}
	pmm_get_stats(&s2);
	result("pmm", blocks > 0 && big_left == 0 &&
			      s2.free_pages == s0.free_pages &&
			      s1.free_pages + blocks * 512 == s0.free_pages,
	       "%llu x 2 MiB taken, %llu smaller pages left, free %llu -> %llu",
	       (unsigned long long)blocks, (unsigned long long)s1.free_pages,
	       (unsigned long long)s0.free_pages,
	       (unsigned long long)s2.free_pages);
}

/* ---- heap: many sizes, patterns intact, memory back ---- */
static void test_heap(void)
{
	static void *ptrs[512];
	struct pmm_stats s0, s1;
	bool ok = true;

	pmm_get_stats(&s0);
	for (int round = 0; round < 3; round++) {
		for (unsigned i = 0; i < 512; i++) {
			size_t size = 1 + (i * 37) % 9000;
			ptrs[i] = kmalloc(size);
			if (!ptrs[i] || ((uintptr_t)ptrs[i] & 15)) {
				ok = false;
				continue;
			}
			memset(ptrs[i], (int)(i & 0xFF), size);
		}
		for (unsigned i = 0; i < 512; i++) {
			size_t size = 1 + (i * 37) % 9000;
			uint8_t *p = ptrs[i];
			if (p && (p[0] != (i & 0xFF) || p[size - 1] != (i & 0xFF)))
				ok = false;
			kfree(p);
		}
	}
	pmm_get_stats(&s1);
	result("heap", ok, "3 x 512 allocations of 1..9000 bytes, free pages "
	       "%llu -> %llu", (unsigned long long)s0.free_pages,
	       (unsigned long long)s1.free_pages);
}

/* ---- fault: a kernel bug on one CPU is reported and stops them all ---- */
static void fault_body(void *p)
{
	kprint_line("selftest fault: writing to address 0 on cpu %u", cpu_id());
	*(volatile uint64_t *)p = 0xBAD;
}

static void test_fault(void)
{
	thread_create("selftest-fault", last_cpu(), fault_body, NULL);
	thread_sleep_ns(5000 * MS);
	result("fault", false, "the fault did not stop the machine");
}

/* ---- stack: running off the end of a kernel stack hits its guard page ---- */
static unsigned recurse(unsigned depth)
{
	volatile char pad[512];

	pad[0] = (char)depth;
	if (depth > 1000000)
		return pad[0];
	return recurse(depth + 1) + pad[0];
}

static void stack_body(void *p)
{
	kprint_line("selftest stack: recursing on cpu %u until the guard page",
		    cpu_id());
	recurse(0);
}

static void test_stack(void)
{
	thread_create("selftest-stack", last_cpu(), stack_body, NULL);
	thread_sleep_ns(5000 * MS);
	result("stack", false, "the overflow did not stop the machine");
}

/* ---- vmcycle: VMs made and destroyed 50 times give back every page ---- */
static void test_vmcycle(void)
{
	char detail[160];
	int err = virt_selftest_cycle(50, detail, sizeof(detail));
	result("vmcycle", err == 0, "%s", detail);
}

/* ---- net: a DHCP DISCOVER built by hand leaves the first NIC; QEMU's
 * slirp (even with restrict=on) answers with an OFFER. The waiter is a
 * helper thread that counts its wakes, so the interrupt -> netdev_notify
 * -> thread_wake path is checked too. ---- */
#define NET_FRAME_LEN (14 + 20 + 8 + 236 + 312) /* slirp wants a full bootp_t */

static struct {
	uint32_t xid;
	volatile unsigned rx_frames;
	volatile bool offer;
	volatile unsigned wakes;
	volatile bool stop;
	struct completion done;
} st_net;

static void net_rx(void *ctx, const void *frame, size_t len)
{
	const uint8_t *f = frame;
	size_t ip = 14, udp, bootp;

	st_net.rx_frames++;
	/* IPv4 (RFC 791), UDP (RFC 768) to port 68, BOOTP reply (RFC 951)
	 * with our xid. */
	if (len < ip + 20 || f[12] != 0x08 || f[13] != 0x00 || f[ip + 9] != 17)
		return;
	udp = ip + (f[ip] & 0xF) * 4u;
	bootp = udp + 8;
	if (len < bootp + 8 || f[udp + 2] != 0 || f[udp + 3] != 68 || f[bootp] != 2)
		return;
	if (((uint32_t)f[bootp + 4] << 24 | (uint32_t)f[bootp + 5] << 16 |
	     (uint32_t)f[bootp + 6] << 8 | f[bootp + 7]) == st_net.xid)
		st_net.offer = true;
}

static void net_waiter(void *arg)
{
	while (!st_net.stop) {
		thread_block();
		if (!st_net.stop)
			st_net.wakes++;
	}
	completion_done(&st_net.done);
}

static size_t net_build_discover(uint8_t *f, const uint8_t mac[6], uint32_t xid)
{
	size_t ip = 14, udp = ip + 20, bootp = udp + 8, o = bootp + 236;
	uint16_t ip_len = (uint16_t)(NET_FRAME_LEN - ip);
	uint16_t udp_len = (uint16_t)(NET_FRAME_LEN - udp);
	uint32_t sum = 0;

	memset(f, 0, NET_FRAME_LEN);
	memset(f, 0xFF, 6);			/* broadcast */
	memcpy(f + 6, mac, 6);
	f[12] = 0x08;				/* IPv4 */
	f[ip] = 0x45;				/* version 4, 20-byte header */
	f[ip + 2] = (uint8_t)(ip_len >> 8), f[ip + 3] = (uint8_t)ip_len;
	f[ip + 8] = 64;				/* TTL */
	f[ip + 9] = 17;				/* UDP */
	memset(f + ip + 16, 0xFF, 4);		/* 0.0.0.0 -> 255.255.255.255 */
	for (size_t i = 0; i < 20; i += 2)
		sum += (uint32_t)f[ip + i] << 8 | f[ip + i + 1];
	while (sum >> 16)
		sum = (sum & 0xFFFF) + (sum >> 16);
	f[ip + 10] = (uint8_t)(~sum >> 8), f[ip + 11] = (uint8_t)~sum;
	f[udp + 1] = 68, f[udp + 3] = 67;	/* client -> server; no checksum */
	f[udp + 4] = (uint8_t)(udp_len >> 8), f[udp + 5] = (uint8_t)udp_len;
	f[bootp] = 1, f[bootp + 1] = 1, f[bootp + 2] = 6; /* request, Ethernet */
	f[bootp + 4] = (uint8_t)(xid >> 24), f[bootp + 5] = (uint8_t)(xid >> 16);
	f[bootp + 6] = (uint8_t)(xid >> 8), f[bootp + 7] = (uint8_t)xid;
	f[bootp + 10] = 0x80;			/* broadcast flag */
	memcpy(f + bootp + 28, mac, 6);		/* chaddr */
	/* RFC 2131 3.1 / RFC 2132: magic cookie, DHCPDISCOVER, end. */
	f[o] = 99, f[o + 1] = 130, f[o + 2] = 83, f[o + 3] = 99;
	f[o + 4] = 53, f[o + 5] = 1, f[o + 6] = 1;
	f[o + 7] = 255;
	return NET_FRAME_LEN;
}

static void test_net(void)
{
	static uint8_t frame[NET_FRAME_LEN];
	struct netdev *nd = netdev_get(0);
	struct thread *waiter, *old_waiter;
	netdev_rx_fn old_rx;
	uint64_t t0, dt = 0;
	void *old_ctx;
	size_t len;
	int err;

	if (!nd) {
		result("net", false, "no network device");
		return;
	}
	memset(&st_net, 0, sizeof(st_net));
	completion_init(&st_net.done);
	st_net.xid = (uint32_t)time_ns() ^ 0x4B45454Cu;
	waiter = thread_create("selftest-netwait", 0, net_waiter, NULL);
	if (!waiter) {
		result("net", false, "no thread");
		return;
	}
	len = net_build_discover(frame, nd->mac, st_net.xid);
	/* Borrowed from the management stack, if it runs: given back below. */
	old_rx = nd->rx, old_ctx = nd->rx_ctx, old_waiter = nd->waiter;
	netdev_attach(nd, net_rx, NULL, waiter);
	t0 = time_ns();
	err = nd->ops->xmit(nd, frame, len);
	while (!err && !st_net.offer && time_ns() - t0 < 5000 * MS) {
		nd->ops->poll(nd);
		if (st_net.offer)
			dt = time_ns() - t0;
		else
			thread_sleep_ns(10 * MS);
	}
	/* The waiter shares CPU 0 with us: let it run before counting. */
	thread_sleep_ns(50 * MS);
	netdev_attach(nd, old_rx, old_ctx, old_waiter);
	st_net.stop = true;
	thread_wake(waiter);
	completion_wait(&st_net.done);
	result("net", !err && st_net.offer && st_net.wakes > 0,
	       "%s link %s: DHCP DISCOVER %s, rx %u frames, offer %s after %llu ms, "
	       "%u interrupt wakes", nd->name, nd->link_up ? "up" : "down",
	       err ? "not sent" : "sent", st_net.rx_frames,
	       st_net.offer ? "yes" : "no", (unsigned long long)(dt / MS),
	       st_net.wakes);
}

/* ---- netlink: the first NIC's link goes down and comes back (the test
 * pulls it with QMP set_link). poll reads the link only after a
 * configuration-change interrupt, so this checks that path. ---- */
static void test_netlink(void)
{
	struct netdev *nd = netdev_get(0);
	unsigned downs = 0, ups = 0, downs0, ups0;
	struct thread *old_waiter;
	netdev_rx_fn old_rx;
	void *old_ctx;
	uint64_t t0;

	if (!nd) {
		result("netlink", false, "no network device");
		return;
	}
	old_rx = nd->rx, old_ctx = nd->rx_ctx, old_waiter = nd->waiter;
	netdev_attach(nd, old_rx, old_ctx, thread_current());
	/* The driver counts every change it sees, whoever polls it (the
	 * management thread does too): count from here. */
	downs0 = nd->link_downs;
	ups0 = nd->link_ups;
	kprint_line("selftest netlink: waiting for %s to go down and up", nd->name);
	t0 = time_ns();
	while (!(downs && ups) && time_ns() - t0 < 60000 * MS) {
		nd->ops->poll(nd);
		downs = nd->link_downs - downs0;
		ups = downs ? nd->link_ups - ups0 : 0;
		if (!(downs && ups))
			thread_block_timeout(100 * MS); /* netdev_notify ends it early */
	}
	netdev_attach(nd, old_rx, old_ctx, old_waiter);
	result("netlink", downs && ups, "%s: %u down, %u up", nd->name, downs, ups);
}

struct selftest {
	const char *name;
	void (*run)(void);
};

static const struct selftest selftests[] = {
	{"sleep", test_sleep},	   {"threads", test_threads},
	{"preempt", test_preempt}, {"spinlock", test_spinlock},
	{"xcall", test_xcall},	   {"heap", test_heap},
	{"pmm", test_pmm},	   {"fault", test_fault},
	{"stack", test_stack},	   {"vmcycle", test_vmcycle},
	{"net", test_net},	   {"netlink", test_netlink},
};

static bool list_has(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if ((len == n && !strncmp(p, name, n)) ||
		    (len == 3 && !strncmp(p, "all", 3) && strcmp(name, "fault") &&
		     strcmp(name, "stack") && strcmp(name, "vmcycle") &&
		     strncmp(name, "net", 3)))
			return true;
		p += len + (end ? 1 : 0);
	}
	return false;
}

static char selftest_names[64];

static void selftest_thread(void *arg)
{
	for (size_t i = 0; i < sizeof(selftests) / sizeof(selftests[0]); i++)
		if (list_has(selftest_names, selftests[i].name))
			selftests[i].run();
	kprint_line("selftest: %u passed, %u failed", st_passed, st_failed);
}

void selftest_start(const char *names)
{
	strlcpy(selftest_names, names, sizeof(selftest_names));
	if (!thread_create("selftest", 0, selftest_thread, NULL))
		log_err("selftest: could not start");
}
