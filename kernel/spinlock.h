/*
 * spinlock.h - ticket spinlocks. spin_lock_irqsave() is the form to use for any
 * lock an interrupt handler may also take. Host unit tests (KEEL_HOST_TEST) get
 * the same code without the interrupt flag handling.
 */
#ifndef KEEL_SPINLOCK_H
#define KEEL_SPINLOCK_H

#include <stdint.h>

struct spinlock {
	volatile uint16_t next;
	volatile uint16_t owner;
};

#define SPINLOCK_INIT {0, 0}

static inline void spin_lock(struct spinlock *l)
{
	uint16_t me = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
	while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != me)
		__asm__ volatile("pause" ::: "memory");
}

static inline int spin_trylock(struct spinlock *l)
{
	uint16_t owner = __atomic_load_n(&l->owner, __ATOMIC_RELAXED);
	uint32_t old = ((uint32_t)owner << 16) | owner; /* next == owner: free */
	uint32_t new = ((uint32_t)owner << 16) | (uint16_t)(owner + 1);
	return __atomic_compare_exchange_n((uint32_t *)l, &old, new, 0,
					   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static inline void spin_unlock(struct spinlock *l)
{
	__atomic_store_n(&l->owner, (uint16_t)(l->owner + 1), __ATOMIC_RELEASE);
}

#ifdef KEEL_HOST_TEST
static inline uint64_t spin_lock_irqsave(struct spinlock *l)
{
	spin_lock(l);
	return 0;
}
static inline void spin_unlock_irqrestore(struct spinlock *l, uint64_t f)
{
	(void)f;
	spin_unlock(l);
}
#else
#include "kernel/arch/x86.h"
static inline uint64_t spin_lock_irqsave(struct spinlock *l)
{
	uint64_t f = irq_save();
	spin_lock(l);
	return f;
}
static inline void spin_unlock_irqrestore(struct spinlock *l, uint64_t f)
{
	spin_unlock(l);
	irq_restore(f);
}
#endif

#endif
