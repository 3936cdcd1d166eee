/*
 * pci.h - the guest's PCI host bridge: configuration mechanism #1 at
 * 0xCF8/0xCFC (PCI Local Bus 3.0, 3.2.2.3.2), the PIIX3/ICH Reset Control
 * Register at 0xCF9, and bus 0 as a table of devices, each a 256-byte
 * configuration space with a write mask. 00:00.0 is an i440FX host bridge.
 */
#ifndef KEEL_VDEV_PCI_H
#define KEEL_VDEV_PCI_H

#include <stdbool.h>
#include <stdint.h>

#define VPCI_PORT_ADDR 0xCF8
#define VPCI_PORT_RCR 0xCF9
#define VPCI_PORT_DATA 0xCFC
#define VPCI_CONFIG_SIZE 256
#define VPCI_DEVFNS 256 /* bus 0: device 31:3, function 2:0 */
#define VPCI_DEVFN(dev, fn) (((dev) << 3) | (fn))

/* Standard header offsets (PCI 3.0, 6.1). */
#define VPCI_VENDOR_ID 0x00
#define VPCI_DEVICE_ID 0x02
#define VPCI_COMMAND 0x04
#define VPCI_STATUS 0x06
#define VPCI_REVISION 0x08
#define VPCI_CLASS_PROG 0x09 /* programming interface, subclass, class */
#define VPCI_HEADER_TYPE 0x0E

struct vpci_dev {
	uint8_t config[VPCI_CONFIG_SIZE];
	uint8_t wmask[VPCI_CONFIG_SIZE];   /* bits a guest write changes */
	uint8_t w1cmask[VPCI_CONFIG_SIZE]; /* bits a guest write of 1 clears */
	/* Called after a guest write went through the masks (a BAR moved,
	 * the command register changed, ...): the access's offset and size.
	 * NULL when the device has nothing to do. Under the caller's lock. */
	void (*config_written)(struct vpci_dev *d, unsigned off, unsigned size);
	void *opaque; /* the device's own */
};

struct vpci {
	uint32_t config_address; /* CONFIG_ADDRESS as last written */
	uint8_t rcr;		 /* 0xCF9: SYS_RST (bit 1), FULL_RST (bit 3) */
	struct vpci_dev *dev[VPCI_DEVFNS];
	struct vpci_dev host_bridge;
};

/* Header type 0 identity, all else zero and read-only but for the command
 * register (I/O, memory, bus master, parity, SERR, INTx disable) and the
 * status register's error bits (write 1 to clear). */
void vpci_dev_init(struct vpci_dev *d, uint16_t vendor, uint16_t device,
		   uint32_t class_code, uint8_t revision);
/* Little-endian accessors for building a configuration space. */
void vpci_config_set(struct vpci_dev *d, unsigned off, unsigned size, uint32_t val);
uint32_t vpci_config_get(const struct vpci_dev *d, unsigned off, unsigned size);

/* Empty bus but for the host bridge (8086:1237, class 06/00/00) at 00:00.0. */
void vpci_init(struct vpci *p);
/* Reset (the VM restarts): CONFIG_ADDRESS, the RCR and the host bridge
 * back to their power-on values; added devices stay in the table (their
 * owners reset their configuration spaces). */
void vpci_reset(struct vpci *p);
/* Put d at devfn on bus 0: 0, KEEL_EINVAL (devfn > 255, d NULL) or
 * KEEL_EEXIST. d stays the caller's and must outlive p. */
int vpci_add_device(struct vpci *p, unsigned devfn, struct vpci_dev *d);
/* An access at 0xCF8-0xCFF of size 1, 2 or 4. CONFIG_ADDRESS latches
 * dword accesses only; 0xCF9 is byte-wide; other non-dword accesses at
 * 0xCF8-0xCFB read all ones and write nothing (they are ISA cycles on a
 * PIIX). *reset = true when the guest wrote RCR with RST_CPU (bit 2):
 * PIIX3/ICH start the reset on RST_CPU going 0->1 and the bit never reads
 * back as 1, so every such write resets (Linux's reboot=pci writes 0x02,
 * then 0x06). Returns 0, KEEL_ENOENT for another port or KEEL_EINVAL for
 * another size. */
int vpci_io(struct vpci *p, uint16_t port, uint8_t size, bool in, uint32_t *val,
	    bool *reset);

#endif
