/*
 * virtio.h - Keel as a virtio driver: split virtqueues (drivers/virtqueue.c,
 * pure, host-tested) and the modern virtio-over-PCI transport
 * (drivers/virtio_pci.c), shared by the host's virtio device drivers
 * (virtio-net today, virtio-blk later). Virtio 1.2: 2.7 (split
 * virtqueues), 3.1 (initialization), 4.1 (virtio over PCI).
 *
 * Everything in the rings and registers is little-endian, as is x86.
 */
#ifndef KEEL_DRIVERS_VIRTIO_H
#define KEEL_DRIVERS_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pci_dev;

/* Device status (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1u
#define VIRTIO_STATUS_DRIVER 2u
#define VIRTIO_STATUS_DRIVER_OK 4u
#define VIRTIO_STATUS_FEATURES_OK 8u
#define VIRTIO_STATUS_NEEDS_RESET 64u
#define VIRTIO_STATUS_FAILED 128u

/* Reserved feature bits (6). */
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_F_ACCESS_PLATFORM 33
#define VIRTIO_F_RING_PACKED 34
#define VIRTIO_FEATURE(bit) (1ull << (bit))

/* ISR status (4.1.4.5). */
#define VIRTIO_ISR_QUEUE 1u
#define VIRTIO_ISR_CONFIG 2u

#define VIRTIO_MSI_NO_VECTOR 0xFFFF

/* ------------------------------------------------ split virtqueue (2.7) ---- */

#define VIRTQ_MAX_SIZE 256 /* what Keel uses at most, whatever the device offers */

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

#define VIRTQ_DESC_F_NEXT 1u
#define VIRTQ_DESC_F_WRITE 2u /* device writes (otherwise reads) */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1u
#define VIRTQ_USED_F_NO_NOTIFY 1u

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

/* A buffer of a chain: its physical address and length. */
struct virtq_buf {
	uint64_t addr;
	uint32_t len;
};

/* The driver's view of one queue. The ring memory belongs to the caller;
 * the device owns the descriptors between virtq_add and virtq_get_used.
 * Not locked: callers serialize adds, and gets, of one queue. */
struct virtq {
	uint16_t size;	     /* power of 2, <= VIRTQ_MAX_SIZE */
	uint16_t free_head;  /* descriptor free list through .next */
	uint16_t free_count;
	uint16_t avail_idx;  /* next avail->idx to publish (free-running) */
	uint16_t last_used;  /* next used->idx entry to consume */
	struct virtq_desc *desc;
	volatile uint16_t *avail; /* flags, idx, ring[size], used_event */
	volatile uint16_t *used;  /* flags, idx, then virtq_used_elem[size] */
	void *cookie[VIRTQ_MAX_SIZE];	  /* per chain head; NULL: free */
	uint16_t chain_len[VIRTQ_MAX_SIZE];
	/* The transport's (virtio_pci_queue_setup). */
	uint16_t index;
	volatile uint16_t *notify;
};

/* Bytes of each ring part for a queue of 'size' (2.7: alignment 16, 2, 4). */
size_t virtq_desc_bytes(unsigned size);
size_t virtq_avail_bytes(unsigned size);
size_t virtq_used_bytes(unsigned size);
/* Set up over zero-filled ring memory. KEEL_EINVAL unless size is a power
 * of 2 in 1..VIRTQ_MAX_SIZE. */
int virtq_init(struct virtq *vq, unsigned size, void *desc, void *avail,
	       void *used);
/* Make a chain of 'out' device-readable then 'in' device-writable buffers
 * available; 'cookie' (not NULL) comes back from virtq_get_used. 0,
 * KEEL_EBUSY (not enough free descriptors), KEEL_EINVAL. */
int virtq_add(struct virtq *vq, const struct virtq_buf *bufs, unsigned out,
	      unsigned in, void *cookie);
/* After adds: does the device want a notification (2.7.7.2, no
 * VIRTIO_F_EVENT_IDX)? */
bool virtq_kick_needed(struct virtq *vq);
/* Take one used chain: 1 with *cookie and *len (bytes the device wrote),
 * 0 when none, KEEL_EIO when the device broke the ring (an index ahead by
 * more than the queue, an id not in flight). */
int virtq_get_used(struct virtq *vq, void **cookie, uint32_t *len);
/* Used entries not yet taken: the free-running indices wrap at 2^16. */
static inline uint16_t virtq_ring_pending(uint16_t used_idx, uint16_t last_used)
{
	return (uint16_t)(used_idx - last_used);
}
/* Ask the device not to interrupt for this queue (a hint, 2.7.7.1). */
void virtq_set_interrupts(struct virtq *vq, bool enabled);

/* ------------------------------------------- virtio over PCI (4.1) ---- */

/* Where each structure of a modern device lives (4.1.4). */
struct virtio_pci_caps {
	uint8_t common_bar, notify_bar, isr_bar, device_bar;
	uint32_t common_off, common_len;
	uint32_t notify_off, notify_len, notify_mult;
	uint32_t isr_off, isr_len;
	uint32_t device_off, device_len; /* device_len 0: none */
};

/* Find the capabilities (the first of each type whose BAR is a memory
 * BAR, 4.1.4.1). 0, or KEEL_ENOENT naming nothing when common, notify or
 * ISR is missing (a legacy-only device). */
int virtio_pci_find_caps(const struct pci_dev *d, struct virtio_pci_caps *c);

struct virtio_pci {
	struct pci_dev *pci;
	volatile uint8_t *common;
	volatile uint8_t *notify;
	uint32_t notify_len, notify_mult;
	volatile uint8_t *isr;
	volatile uint8_t *device; /* device-specific configuration, or NULL */
	uint32_t device_len;
};

/* The virtio device type of a PCI function (5: 1 net, 2 block, ...), 0 if
 * it is not a virtio device. */
unsigned virtio_pci_device_type(const struct pci_dev *d);
/* Map the structures (BARs on, bus mastering on), reset the device and
 * acknowledge it (3.1.1 steps 1-3). 0 or KEEL_E*. */
int virtio_pci_open(struct virtio_pci *vp, struct pci_dev *d);
/* Write 0 and wait for the device to read 0 (4.1.4.3.2). */
int virtio_pci_reset(struct virtio_pci *vp);
uint8_t virtio_pci_status(struct virtio_pci *vp);
void virtio_pci_set_status(struct virtio_pci *vp, uint8_t bits); /* ORs */
/* Offer: the device's features. Accept 'wanted & offered', set
 * FEATURES_OK and check the device kept it (3.1.1 steps 4-6). Returns 0
 * with *accepted, KEEL_ENOTSUP when 'required' bits are not offered,
 * KEEL_EIO when the device refused. */
int virtio_pci_negotiate(struct virtio_pci *vp, uint64_t wanted,
			 uint64_t required, uint64_t *accepted);
/* Set up queue 'index' with at most max_size entries over fresh zeroed
 * DMA memory, its MSI-X vector (VIRTIO_MSI_NO_VECTOR: none), and enable it
 * (4.1.5.1.3). KEEL_ENOENT when the device has no such queue, KEEL_EIO when
 * it refused the vector. */
int virtio_pci_queue_setup(struct virtio_pci *vp, unsigned index,
			   unsigned max_size, uint16_t msix_vector,
			   struct virtq *vq);
/* The MSI-X vector for configuration changes; KEEL_EIO when refused. */
int virtio_pci_config_vector(struct virtio_pci *vp, uint16_t msix_vector);
/* Tell the device about new buffers in vq (4.1.4.4). */
void virtio_pci_notify(struct virtio_pci *vp, struct virtq *vq);
/* Read and clear the ISR status (the INTx acknowledgement). */
uint8_t virtio_pci_isr(struct virtio_pci *vp);
/* Read device-specific configuration consistently (config_generation,
 * 2.5.1/4.1.4.3.1). KEEL_ERANGE outside the structure. */
int virtio_pci_config_read(struct virtio_pci *vp, unsigned off, void *buf,
			   unsigned len);

/* ------------------------------------------------------------- drivers ---- */

/* Registers the virtio-net PCI driver (drivers/virtio_net.c); before
 * pci_init(). */
void virtio_net_register(void);

#endif
