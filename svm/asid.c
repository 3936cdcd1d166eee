/*
 * asid.c - address space IDs for guest TLB entries (AMD APM vol.2 15.16),
 * handed out per host CPU with a generation counter as Linux KVM does: few
 * ASIDs exist (16 under QEMU TCG, ASID 0 being the host's), so they are
 * recycled by flushing the whole TLB once instead of tracking owners. Runs on
 * the entering CPU with interrupts off; no lock.
 */
#include "kernel/compiler.h"
#include "svm/svm_softc.h"

void svm_asid_pool_init(struct svm_asid_pool *pool, uint32_t nasid,
			bool flush_by_asid)
{
	pool->generation = 1;
	pool->max = nasid > 1 ? nasid - 1 : 1;
	/* Start exhausted: the first vCPU to enter opens a new generation
	 * with a full flush, so nothing left in the TLB from before Keel
	 * enabled SVM can be mistaken for a guest's. */
	pool->next = pool->max + 1;
	pool->flush_by_asid = flush_by_asid;
}

__hot void svm_asid_prepare(struct svm_asid_pool *pool, unsigned cpu,
		      struct svm_vcpu *sv)
{
	struct vmcb_control *c = &sv->vmcb->control;
	uint8_t tlb = VMCB_TLB_NOTHING;
	bool flush = __atomic_exchange_n(&sv->flush_pending, false,
					 __ATOMIC_ACQUIRE);

	if (sv->asid_cpu != cpu || sv->asid_generation != pool->generation) {
		/*
		 * A fresh ASID of the current generation has no TLB entries on
		 * this CPU (the generation began with a full flush), so a
		 * pending flush is satisfied by taking it.
		 */
		if (pool->next > pool->max) {
			pool->generation++;
			pool->next = 1;
			tlb = VMCB_TLB_FLUSH_ALL;
		}
		sv->asid = pool->next++;
		sv->asid_generation = pool->generation;
		sv->asid_cpu = cpu;
		c->asid = sv->asid;
	} else if (flush) {
		tlb = pool->flush_by_asid ? VMCB_TLB_FLUSH_ASID
					  : VMCB_TLB_FLUSH_ALL;
	}
	c->tlb_control = tlb;
}
