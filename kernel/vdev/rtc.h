/*
 * rtc.h - the guest's MC146818 CMOS RTC at ports 0x70 (index, bit 7 masks
 * NMI) and 0x71 (data): the time derived from a base plus now_ns, registers
 * A-D, periodic / alarm / update-ended interrupts on IRQ 8, and the 128
 * bytes of NVRAM filled as a PC BIOS (SeaBIOS under QEMU) would.
 */
#ifndef KEEL_VDEV_RTC_H
#define KEEL_VDEV_RTC_H

#include <stdbool.h>
#include <stdint.h>

#define VRTC_PORT_INDEX 0x70
#define VRTC_PORT_DATA 0x71
#define VRTC_CMOS_SIZE 128

#define VRTC_REG_A 0x0A	       /* UIP 7, DV 6:4, RS 3:0 */
#define VRTC_REG_B 0x0B	       /* SET PIE AIE UIE SQWE DM 24/12 DSE */
#define VRTC_REG_C 0x0C	       /* IRQF PF AF UF; read clears */
#define VRTC_REG_D 0x0D	       /* VRT */
#define VRTC_A_DV_32K 0x20     /* divider chain running on 32.768 kHz */
#define VRTC_B_SET 0x80
#define VRTC_B_PIE 0x40
#define VRTC_B_AIE 0x20
#define VRTC_B_UIE 0x10
#define VRTC_C_IRQF 0x80
#define VRTC_C_PF 0x40
#define VRTC_C_AF 0x20
#define VRTC_C_UF 0x10
#define VRTC_UIP_NS 244000     /* UIP is set this long before each update */

struct vrtc {
	uint8_t index;	     /* last index written to 0x70 (bits 6:0) */
	bool nmi_masked;     /* bit 7 of that write (the glue may honour it) */
	uint8_t cmos[VRTC_CMOS_SIZE]; /* NVRAM, A and B; the time registers
					 only while the clock is stopped */
	uint8_t flags;	     /* register C's PF, AF and UF */
	int64_t origin_ns;   /* a second boundary of the divider chain */
	uint64_t origin_s;   /* Unix time of the registers at origin_ns */
	uint64_t last_ns;    /* the flags are up to date to here */
};

/* Reset state: the time is epoch_s (Unix seconds, UTC) at now_ns, register
 * A 0x26 (32.768 kHz, 1024 Hz periodic rate), B 0x02 (24-hour, BCD), no
 * interrupts; the NVRAM holds the memory sizes (bytes; mem_below_4g counts
 * from 0, the first 640 KiB are base memory) as QEMU's pc_cmos_init writes
 * them, the equipment byte and the century. */
void vrtc_init(struct vrtc *r, uint64_t epoch_s, uint64_t now_ns,
	       uint64_t mem_below_4g, uint64_t mem_above_4g);
/* One byte at 0x70 or 0x71: 0, or KEEL_ENOENT for any other port (reads
 * then see 0xFF). Call vrtc_poll (or vrtc_irq_level) after each access:
 * reading register C lowers IRQ 8, writing A or B moves the next event. */
int vrtc_io(struct vrtc *r, uint16_t port, bool in, uint8_t *val, uint64_t now_ns);
/* Bring the flags up to now_ns. Returns when an enabled interrupt can next
 * be raised (ns), or 0: none enabled, or IRQ 8 is already high (it stays so
 * until the guest reads register C). */
uint64_t vrtc_poll(struct vrtc *r, uint64_t now_ns);
/* The IRQ 8 line: register C's IRQF = (PF & PIE) | (AF & AIE) | (UF & UIE). */
bool vrtc_irq_level(const struct vrtc *r);
/* Set an NVRAM byte from the host side (e.g. SeaBIOS's CPU count at 0x5F);
 * keeps the 0x10-0x2D checksum right. Not for indexes 0x00-0x0D. */
void vrtc_cmos_set(struct vrtc *r, uint8_t index, uint8_t val);

#endif
