/*
 * pit.h - the guest's i8254 programmable interval timer (ports 0x40-0x43)
 * and the channel-2 gate / speaker port 0x61. A pure register model: counts
 * are derived from the now_ns passed in (no per-tick work), and channel 0's
 * output is queried with vpit_poll, never pushed. Intel 8254 datasheet.
 */
#ifndef KEEL_VDEV_PIT_H
#define KEEL_VDEV_PIT_H

#include <stdbool.h>
#include <stdint.h>

#define VPIT_HZ 1193182 /* 14.31818 MHz / 12 */
#define VPIT_PORT_CH0 0x40
#define VPIT_PORT_CMD 0x43
#define VPIT_PORT_B 0x61 /* system control port B */

/* Where a counter is in its cycle (8254 datasheet, "Mode definitions"). */
enum vpit_state {
	VPIT_IDLE,	   /* control word written, no count yet */
	VPIT_WAIT_TRIGGER, /* modes 1 and 5: count written, no gate edge yet */
	VPIT_COUNTING,
};

struct vpit_channel {
	uint8_t ctrl;	  /* RW1 RW0 M2 M1 M0 BCD as last written (status) */
	uint8_t mode;	  /* 0-5 (6 and 7 are 2 and 3) */
	uint8_t rw;	  /* 1 LSB, 2 MSB, 3 LSB then MSB */
	uint8_t state;	  /* enum vpit_state */
	bool gate;
	bool null_count;  /* count written but not yet in the counting element */
	uint16_t cr;	  /* count register: the last count written */
	uint32_t n;	  /* the count the element runs on, 2-65536 */
	uint16_t held;	  /* what a read returns while not counting */
	uint64_t start;	  /* PIT tick at which the element had counted base */
	uint64_t base;	  /* ticks counted before start (gate pauses) */
	bool reload_pending; /* modes 2/3: cr takes over at reload_tick */
	uint64_t reload_tick;
	uint64_t edge_seen; /* channel 0: count up to which edges were taken */
	uint8_t write_lsb; /* first byte of an LSB-then-MSB write */
	bool write_msb;	   /* write flip-flop: the next byte is the MSB */
	bool read_msb;	   /* read flip-flop */
	uint8_t latched;   /* counter latch: rw code of what is left, 0 none */
	uint16_t latch;
	bool status_latched;
	uint8_t status;
};

struct vpit {
	struct vpit_channel ch[3];
	uint8_t port_b;	   /* port 0x61 bits 3:0 as written */
	bool refresh;	   /* port 0x61 bit 4, toggles on each read */
	bool irq0_pending; /* channel 0 rose since the last vpit_poll */
};

/* Power-on state as QEMU leaves it (no BIOS needed): every channel in mode 3
 * with count 65536, channels 0 and 1 running (gate tied high), channel 2's
 * gate low. */
void vpit_init(struct vpit *p, uint64_t now_ns);
/* One byte at port 0x40-0x43 or 0x61. Returns 0, or KEEL_ENOENT for any
 * other port (reads then see 0xFF). */
int vpit_io(struct vpit *p, uint16_t port, bool in, uint8_t *val, uint64_t now_ns);
/* *irq0_edge = whether channel 0's OUT rose since the last poll (several
 * periods missed are one edge: pulse IRQ 0 once). Returns the time (ns) of
 * its next rising edge, or 0 when none is scheduled. Call it again after
 * every vpit_io write: reprogramming moves the next edge. */
uint64_t vpit_poll(struct vpit *p, uint64_t now_ns, bool *irq0_edge);

#endif
