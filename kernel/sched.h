/*
 * sched.h - kernel threads on per-CPU run queues: round-robin with a time
 * slice, preemption from the LAPIC timer, timed sleep, block/wake, and an idle
 * thread per CPU that halts. A thread stays on the CPU it was created on
 * (vCPU threads are pinned by default).
 */
#ifndef KEEL_SCHED_H
#define KEEL_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/spinlock.h"

#define THREAD_STACK_SIZE (32 * 1024)
#define SCHED_SLICE_NS 10000000ULL /* 10 ms */

enum thread_state {
	THREAD_RUNNABLE,
	THREAD_RUNNING,
	THREAD_SLEEPING, /* until wake_ns */
	THREAD_BLOCKED,	 /* until thread_wake() */
	THREAD_DEAD,
};

struct thread {
	uint64_t rsp; /* saved by switch_context */
	void *stack_top;
	size_t stack_size;
	enum thread_state state;
	unsigned cpu;
	char name[24];
	void (*entry)(void *arg);
	void *arg;
	uint64_t wake_ns;
	uint64_t slice_end_ns;
	uint64_t timer_ns; /* thread_timer_at: an interrupt wanted by then */
	void *fpu;	   /* FPU save area (thread_fpu_enable), or NULL */
	uint64_t switches; /* times switched in */
	bool wake_pending; /* a wake that raced with blocking */
	struct thread *next; /* run queue or sleep list */
};

/* A completion: one side waits until the other says done. */
struct completion {
	struct spinlock lock;
	bool done;
	struct thread *waiter;
};

void sched_init_cpu(void);	      /* each CPU: run queue + idle thread */
void sched_start(void) __attribute__((noreturn)); /* become this CPU's idle loop */
struct thread *thread_create(const char *name, unsigned cpu,
			     void (*entry)(void *), void *arg);
struct thread *thread_current(void);
void thread_yield(void);
void thread_sleep_ns(uint64_t ns);
void thread_block(void);
/* Until thread_wake() (or a wake that came before, as thread_block) or ns
 * have passed, whichever is first. */
void thread_block_timeout(uint64_t ns);	     /* until thread_wake() (or a pending wake) */
void thread_wake(struct thread *t);
/* The running thread wants a timer interrupt on this CPU at ns (time_ns
 * clock) or earlier while it runs, without sleeping: a vCPU in the guest
 * whose virtual timer is due. Once, until it fires or is set again; 0
 * withdraws the wish (the interrupt may still come). */
void thread_timer_at(uint64_t ns);
void thread_exit(void) __attribute__((noreturn));
void completion_init(struct completion *c);
void completion_wait(struct completion *c);
void completion_done(struct completion *c);

/* From the interrupt path (kernel/trap.c). */
void sched_preempt(void);
struct sched_stats {
	uint64_t switches, preemptions, wakeups;
};
void sched_get_stats(unsigned cpu, struct sched_stats *st);

#endif
