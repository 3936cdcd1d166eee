/*
 * virtqueue.c - the driver side of a split virtqueue (virtio 1.2 2.7): a
 * free list of descriptors, chains made available, used chains taken back.
 * Pure: the ring memory comes from the caller, no locks (callers serialize),
 * so the host unit tests run it against a simulated device.
 */
#include <string.h>

#include "drivers/virtio.h"
#include "kernel/err.h"

/* Offsets in 16-bit units in the avail and used rings (2.7.6, 2.7.8). */
#define RING_FLAGS 0
#define RING_IDX 1
#define AVAIL_RING 2
#define USED_ELEMS_BYTES 4

size_t virtq_desc_bytes(unsigned size)
{
	return 16u * size;
}

size_t virtq_avail_bytes(unsigned size)
{
	return 6u + 2u * size; /* flags, idx, ring[size], used_event */
}

size_t virtq_used_bytes(unsigned size)
{
	return 6u + 8u * size; /* flags, idx, ring[size], avail_event */
}

static volatile struct virtq_used_elem *virtq_used_elem(struct virtq *vq,
							 uint16_t slot)
{
	return (volatile struct virtq_used_elem *)((volatile uint8_t *)vq->used +
						   USED_ELEMS_BYTES) + slot;
}

int virtq_init(struct virtq *vq, unsigned size, void *desc, void *avail,
	       void *used)
{
	if (size == 0 || size > VIRTQ_MAX_SIZE || (size & (size - 1)))
		return KEEL_EINVAL;
	memset(vq, 0, sizeof(*vq));
	memset(desc, 0, virtq_desc_bytes(size));
	memset(avail, 0, virtq_avail_bytes(size));
	memset(used, 0, virtq_used_bytes(size));
	vq->size = (uint16_t)size;
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	for (unsigned i = 0; i < size; i++)
		vq->desc[i].next = (uint16_t)((i + 1) & (size - 1));
	vq->free_head = 0;
	vq->free_count = (uint16_t)size;
	return 0;
}

int virtq_add(struct virtq *vq, const struct virtq_buf *bufs, unsigned out,
	      unsigned in, void *cookie)
{
	unsigned n = out + in;
	uint16_t head = vq->free_head, idx = head;

	if (!cookie || n == 0 || n > vq->size)
		return KEEL_EINVAL;
	if (n > vq->free_count)
		return KEEL_EBUSY;
	/* The chain follows the free list: each free descriptor's next is
	 * already the following free one (2.7.5). */
	for (unsigned i = 0; i < n; i++) {
		struct virtq_desc *d = &vq->desc[idx];

		d->addr = bufs[i].addr;
		d->len = bufs[i].len;
		d->flags = (uint16_t)((i >= out ? VIRTQ_DESC_F_WRITE : 0) |
				      (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
		idx = d->next & (vq->size - 1);
	}
	vq->free_head = idx;
	vq->free_count = (uint16_t)(vq->free_count - n);
	vq->cookie[head] = cookie;
	vq->chain_len[head] = (uint16_t)n;
	vq->avail[AVAIL_RING + (vq->avail_idx & (vq->size - 1))] = head;
	/* 2.7.13.3.1: the ring entry and descriptors before the index. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	vq->avail_idx++;
	vq->avail[RING_IDX] = vq->avail_idx;
	return 0;
}

bool virtq_kick_needed(struct virtq *vq)
{
	/* 2.7.13.4.1: read the device's flags only after the new index is
	 * visible to it (a full barrier: a store then a load). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return !(vq->used[RING_FLAGS] & VIRTQ_USED_F_NO_NOTIFY);
}

int virtq_get_used(struct virtq *vq, void **cookie, uint32_t *len)
{
	uint16_t used_idx = vq->used[RING_IDX], pending, id, tail;
	volatile struct virtq_used_elem *e;

	/* 2.7.14: the index before the entries it covers. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	pending = virtq_ring_pending(used_idx, vq->last_used);
	if (!pending)
		return 0;
	if (pending > vq->size)
		return KEEL_EIO;
	e = virtq_used_elem(vq, vq->last_used & (vq->size - 1));
	if (e->id >= vq->size || !vq->cookie[e->id])
		return KEEL_EIO;
	id = (uint16_t)e->id;
	*cookie = vq->cookie[id];
	*len = e->len;
	/* Back to the free list: the chain's own links lead to its tail. */
	tail = id;
	for (unsigned i = 1; i < vq->chain_len[id]; i++)
		tail = vq->desc[tail].next & (vq->size - 1);
	vq->desc[tail].next = vq->free_head;
	vq->free_head = id;
	vq->free_count = (uint16_t)(vq->free_count + vq->chain_len[id]);
	vq->cookie[id] = NULL;
	vq->chain_len[id] = 0;
	vq->last_used++;
	return 1;
}

void virtq_set_interrupts(struct virtq *vq, bool enabled)
{
	vq->avail[RING_FLAGS] = enabled ? 0 : VIRTQ_AVAIL_F_NO_INTERRUPT;
}
