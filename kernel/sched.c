/*
 * sched.c - per-CPU round-robin scheduler. Each CPU owns one run queue (FIFO
 * of runnable threads) and one sleep list (sorted by wake time), both under
 * the queue's lock; other CPUs only ever add to them (thread_wake) and then
 * send VEC_RESCHED. The LAPIC one-shot timer is armed for the earlier of the
 * current slice's end and the first sleeper's wake time; an idle CPU with no
 * sleepers arms nothing and halts.
 */
#include <stdio.h>
#include <string.h>

#include "kernel/apic.h"
#include "kernel/arch/x86.h"
#include "kernel/cpu.h"
#include "kernel/fpu.h"
#include "kernel/log.h"
#include "kernel/panic.h"
#include "kernel/sched.h"
#include "kernel/time.h"
#include "kernel/trap.h"
#include "mm/mm.h"

struct sched_rq {
	struct spinlock lock;
	struct thread *head, *tail; /* runnable, FIFO */
	struct thread *sleepers;    /* sorted by wake_ns */
	struct thread *dead;	    /* to free once we are off its stack */
	struct thread idle_thread;
	struct sched_stats stats;
	uint64_t armed_ns;	    /* the LAPIC timer's deadline, or UINT64_MAX;
				       this CPU only, interrupts off */
};

void switch_context(uint64_t *save_rsp, uint64_t new_rsp);
extern char thread_start[];

static void rq_enqueue(struct sched_rq *rq, struct thread *t)
{
	t->next = NULL;
	if (rq->tail)
		rq->tail->next = t;
	else
		rq->head = t;
	rq->tail = t;
}

static struct thread *rq_dequeue(struct sched_rq *rq)
{
	struct thread *t = rq->head;
	if (t) {
		rq->head = t->next;
		if (!rq->head)
			rq->tail = NULL;
		t->next = NULL;
	}
	return t;
}

static void rq_add_sleeper(struct sched_rq *rq, struct thread *t)
{
	struct thread **pp = &rq->sleepers;
	while (*pp && (*pp)->wake_ns <= t->wake_ns)
		pp = &(*pp)->next;
	t->next = *pp;
	*pp = t;
}

static void rq_remove_sleeper(struct sched_rq *rq, struct thread *t)
{
	for (struct thread **pp = &rq->sleepers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			t->next = NULL;
			return;
		}
	}
}

static void rq_wake_expired(struct sched_rq *rq, uint64_t now)
{
	while (rq->sleepers && rq->sleepers->wake_ns <= now) {
		struct thread *t = rq->sleepers;
		rq->sleepers = t->next;
		t->state = THREAD_RUNNABLE;
		rq_enqueue(rq, t);
		rq->stats.wakeups++;
	}
}

static void rq_arm_timer(struct sched_rq *rq, struct thread *next, uint64_t now)
{
	uint64_t deadline = UINT64_MAX;

	if (next != &rq->idle_thread)
		deadline = next->slice_end_ns;
	if (rq->sleepers && rq->sleepers->wake_ns < deadline)
		deadline = rq->sleepers->wake_ns;
	if (next->timer_ns) {
		if (next->timer_ns <= now)
			next->timer_ns = 0; /* it fired: asked for once */
		else if (next->timer_ns < deadline)
			deadline = next->timer_ns;
	}
	rq->armed_ns = deadline;
	if (deadline == UINT64_MAX)
		lapic_timer_cancel();
	else
		lapic_timer_arm_ns(deadline > now ? deadline - now : 1);
}

/* Pick the next thread and switch to it. Interrupts are off on return to the
 * caller's flags. */
static void schedule(void)
{
	uint64_t flags = irq_save();
	struct percpu *cpu = this_cpu();
	struct sched_rq *rq = cpu->rq;
	struct thread *prev = cpu->current;

	spin_lock(&rq->lock);
	if (rq->dead && rq->dead != prev) {
		if (rq->dead->fpu)
			fpu_area_free(rq->dead->fpu);
		mm_free_stack(rq->dead->stack_top, rq->dead->stack_size);
		kfree(rq->dead);
		rq->dead = NULL;
	}
	uint64_t now = time_ns();
	rq_wake_expired(rq, now);
	if (prev->state == THREAD_RUNNING) {
		prev->state = THREAD_RUNNABLE;
		if (prev != &rq->idle_thread)
			rq_enqueue(rq, prev);
	}
	if (prev->state == THREAD_DEAD)
		rq->dead = prev;
	struct thread *next = rq_dequeue(rq);
	if (!next)
		next = &rq->idle_thread;
	next->state = THREAD_RUNNING;
	next->slice_end_ns = now + SCHED_SLICE_NS;
	cpu->need_resched = false;
	rq_arm_timer(rq, next, now);
	spin_unlock(&rq->lock);

	if (next != prev) {
		if (next->fpu)
			fpu_claim(next->fpu);
		rq->stats.switches++;
		next->switches++;
		cpu->current = next;
		switch_context(&prev->rsp, next->rsp);
	}
	irq_restore(flags);
}

void thread_timer_at(uint64_t ns)
{
	uint64_t flags = irq_save();
	struct percpu *cpu = this_cpu();
	struct sched_rq *rq = cpu->rq;

	cpu->current->timer_ns = ns;
	if (ns && ns < rq->armed_ns) {
		uint64_t now = time_ns();
		lapic_timer_arm_ns(ns > now ? ns - now : 1);
		rq->armed_ns = ns;
	}
	irq_restore(flags);
}

void sched_preempt(void)
{
	this_cpu()->rq->stats.preemptions++;
	schedule();
}

/* The timer: a slice ended or a sleeper is due, then switch; or it was a
 * running thread's own deadline (thread_timer_at), which needs nothing but
 * the interrupt itself (a vCPU left the guest and looks at its timers) and
 * the timer armed again for what remains. */
static void sched_timer_irq(struct trap_frame *tf)
{
	struct percpu *cpu = this_cpu();
	struct sched_rq *rq = cpu->rq;
	struct thread *cur = cpu->current;
	uint64_t now = time_ns();

	if (cur == &rq->idle_thread || now >= cur->slice_end_ns) {
		cpu->need_resched = true;
		return;
	}
	spin_lock(&rq->lock);
	bool due = rq->sleepers && rq->sleepers->wake_ns <= now;
	if (!due) {
		if (cur->timer_ns && cur->timer_ns <= now)
			cur->timer_ns = 0;
		rq_arm_timer(rq, cur, now);
	}
	spin_unlock(&rq->lock);
	if (due)
		cpu->need_resched = true;
}

static void sched_resched_irq(struct trap_frame *tf)
{
	this_cpu()->need_resched = true;
}

void sched_init_cpu(void)
{
	struct percpu *cpu = this_cpu();
	struct sched_rq *rq = kzalloc(sizeof(*rq));

	BUG_ON(!rq);
	rq->armed_ns = UINT64_MAX;
	rq->idle_thread.state = THREAD_RUNNING;
	rq->idle_thread.cpu = cpu->cpu;
	snprintf(rq->idle_thread.name, sizeof(rq->idle_thread.name), "idle/%u",
		 cpu->cpu);
	cpu->rq = rq;
	cpu->idle = &rq->idle_thread;
	cpu->current = &rq->idle_thread;
	if (cpu->cpu == 0) {
		trap_register(VEC_TIMER, sched_timer_irq);
		trap_register(VEC_RESCHED, sched_resched_irq);
	}
}

void sched_start(void)
{
	struct percpu *cpu = this_cpu();

	for (;;) {
		irq_disable();
		if (cpu->rq->head || cpu->need_resched) {
			schedule();
			continue;
		}
		/* STI's one-instruction shadow makes "sti; hlt" atomic: an
		 * interrupt cannot slip in between and be slept through. */
		__asm__ volatile("sti; hlt" ::: "memory");
	}
}

void sched_thread_entry(void)
{
	struct thread *t = this_cpu()->current;

	irq_enable();
	t->entry(t->arg);
	thread_exit();
}

struct thread *thread_create(const char *name, unsigned cpu,
			     void (*entry)(void *), void *arg)
{
	if (cpu >= MAX_CPUS || !percpu_data[cpu].online || !percpu_data[cpu].rq)
		return NULL;
	struct thread *t = kzalloc(sizeof(*t));
	if (!t)
		return NULL;
	t->stack_size = THREAD_STACK_SIZE;
	t->stack_top = mm_alloc_stack(t->stack_size);
	if (!t->stack_top) {
		kfree(t);
		return NULL;
	}
	strlcpy(t->name, name, sizeof(t->name));
	t->cpu = cpu;
	t->entry = entry;
	t->arg = arg;
	/* The first switch_context into t pops six registers and returns to
	 * thread_start, which leaves RSP at stack_top (16-byte aligned) for
	 * its call: the SysV ABI's alignment at every call, which code built
	 * with SSE (cJSON) relies on. */
	uint64_t *sp = (uint64_t *)t->stack_top;
	*--sp = (uint64_t)thread_start;
	for (int i = 0; i < 6; i++)
		*--sp = 0;
	t->rsp = (uint64_t)sp;

	struct sched_rq *rq = percpu_data[cpu].rq;
	uint64_t flags = spin_lock_irqsave(&rq->lock);
	t->state = THREAD_RUNNABLE;
	rq_enqueue(rq, t);
	spin_unlock_irqrestore(&rq->lock, flags);
	if (cpu != cpu_id())
		lapic_send_ipi(percpu_data[cpu].apic_id, VEC_RESCHED);
	return t;
}

struct thread *thread_current(void)
{
	return this_cpu()->current;
}

void thread_yield(void)
{
	schedule();
}

void thread_sleep_ns(uint64_t ns)
{
	uint64_t flags = irq_save();
	struct thread *t = this_cpu()->current;
	struct sched_rq *rq = this_cpu()->rq;

	BUG_ON(t == &rq->idle_thread);
	spin_lock(&rq->lock);
	t->wake_ns = time_ns() + ns;
	t->state = THREAD_SLEEPING;
	rq_add_sleeper(rq, t);
	spin_unlock(&rq->lock);
	schedule();
	irq_restore(flags);
}

void thread_block_timeout(uint64_t ns)
{
	uint64_t flags = irq_save();
	struct thread *t = this_cpu()->current;
	struct sched_rq *rq = this_cpu()->rq;

	BUG_ON(t == &rq->idle_thread);
	spin_lock(&rq->lock);
	if (t->wake_pending) {
		t->wake_pending = false;
		spin_unlock(&rq->lock);
		irq_restore(flags);
		return;
	}
	t->wake_ns = time_ns() + ns;
	t->state = THREAD_SLEEPING;
	rq_add_sleeper(rq, t);
	spin_unlock(&rq->lock);
	schedule();
	irq_restore(flags);
}

void thread_block(void)
{
	uint64_t flags = irq_save();
	struct thread *t = this_cpu()->current;
	struct sched_rq *rq = this_cpu()->rq;

	spin_lock(&rq->lock);
	if (t->wake_pending) {
		t->wake_pending = false;
		spin_unlock(&rq->lock);
		irq_restore(flags);
		return;
	}
	t->state = THREAD_BLOCKED;
	spin_unlock(&rq->lock);
	schedule();
	irq_restore(flags);
}

void thread_wake(struct thread *t)
{
	struct sched_rq *rq = percpu_data[t->cpu].rq;
	uint64_t flags = spin_lock_irqsave(&rq->lock);
	bool queued = false;

	if (t->state == THREAD_SLEEPING) {
		rq_remove_sleeper(rq, t);
		queued = true;
	} else if (t->state == THREAD_BLOCKED) {
		queued = true;
	} else if (t->state != THREAD_DEAD) {
		t->wake_pending = true; /* it has not blocked yet */
	}
	if (queued) {
		t->state = THREAD_RUNNABLE;
		rq_enqueue(rq, t);
		rq->stats.wakeups++;
	}
	spin_unlock_irqrestore(&rq->lock, flags);
	if (queued) {
		if (t->cpu != cpu_id())
			lapic_send_ipi(percpu_data[t->cpu].apic_id, VEC_RESCHED);
		else
			this_cpu()->need_resched = true;
	}
}

void thread_exit(void)
{
	irq_disable();
	this_cpu()->current->state = THREAD_DEAD;
	schedule();
	panic("a dead thread was scheduled");
}

void completion_init(struct completion *c)
{
	memset(c, 0, sizeof(*c));
}

void completion_wait(struct completion *c)
{
	for (;;) {
		uint64_t flags = spin_lock_irqsave(&c->lock);
		if (c->done) {
			spin_unlock_irqrestore(&c->lock, flags);
			return;
		}
		c->waiter = thread_current();
		spin_unlock_irqrestore(&c->lock, flags);
		thread_block();
	}
}

void completion_done(struct completion *c)
{
	uint64_t flags = spin_lock_irqsave(&c->lock);
	c->done = true;
	struct thread *w = c->waiter;
	c->waiter = NULL;
	spin_unlock_irqrestore(&c->lock, flags);
	if (w)
		thread_wake(w);
}

void sched_get_stats(unsigned cpu, struct sched_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (cpu < MAX_CPUS && percpu_data[cpu].rq)
		*st = percpu_data[cpu].rq->stats;
}
