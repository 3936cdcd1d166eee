/*
 * selftest.c - checks of the kernel's own machinery that only a running
 * machine can make (threads, preemption, sleeping, locks across CPUs, cross-CPU
 * calls, the allocators, the exception report). Started by selftest= in
 * keel.cfg; the integration tests read their result lines.
 */
#include <stdio.h>
#include <string.h>

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
};

static bool list_has(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if ((len == n && !strncmp(p, name, n)) ||
		    (len == 3 && !strncmp(p, "all", 3) && strcmp(name, "fault") &&
		     strcmp(name, "stack") && strcmp(name, "vmcycle")))
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
