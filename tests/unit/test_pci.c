/*
 * test_pci.c - drivers/pci.c, drivers/pci_irq.c, drivers/virtio_pci.c
 * (capability discovery) and drivers/virtqueue.c on the host: BAR decoding
 * and sizing, enumeration
 * over a simulated ECAM and over simulated 0xCF8/0xCFC ports (multi-function
 * devices, bridges), capability walking, MSI-X/MSI/INTx programming and
 * dispatch, and split-virtqueue index arithmetic against a simulated device.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/pci.h"
#include "drivers/virtio.h"
#include "kernel/acpi.h"
#include "kernel/cpu.h"
#include "kernel/err.h"
#include "kernel/log.h"
#include "kernel/trap.h"
#include "mm/mm.h"
#include "tests/unit/shim/host_shim.h"

/* ------------------------------------------------- the kernel around pci.c */

struct acpi_info acpi;
struct percpu percpu_data[MAX_CPUS];
uint64_t mm_direct_offset;

static irq_handler_fn trap_handlers[256];

void trap_register(unsigned vector, irq_handler_fn fn)
{
	assert_true(vector >= PCI_VEC_FIRST && vector <= PCI_VEC_LAST);
	trap_handlers[vector] = fn;
}

/* QEMU's MADT: IRQ 0 on GSI 2; 5, 9, 10, 11 level, active high. */
int ioapic_isa_resolve(const struct acpi_info *a, uint8_t isa_irq,
		       uint32_t *gsi, bool *active_low, bool *level)
{
	*gsi = isa_irq == 0 ? 2 : isa_irq;
	*active_low = false;
	*level = isa_irq == 9 || isa_irq == 10 || isa_irq == 11;
	return isa_irq < 16 ? 0 : KEEL_EINVAL;
}

static struct {
	unsigned calls;
	uint32_t gsi, dest;
	uint8_t vector;
	bool low, level;
} route;

int ioapic_route_gsi(uint32_t gsi, uint8_t vector, uint32_t dest_apic_id,
		     bool active_low, bool level)
{
	route.calls++;
	route.gsi = gsi;
	route.vector = vector;
	route.dest = dest_apic_id;
	route.low = active_low;
	route.level = level;
	return 0;
}

void time_udelay(uint64_t us)
{
}

uint64_t pmm_alloc(unsigned order, unsigned flags)
{
	fail_msg("virtio_pci_find_caps allocates nothing");
	return 0;
}

void pmm_free(uint64_t pa, unsigned order)
{
}

/* ------------------------------------------------ simulated configuration */

#define ECAM_BASE 0xE0000000ull
#define SIM_BUSES 3
#define BAR1_PA 0xFEB00000ull
#define BAR4_PA 0xFE000000ull
#define APIC_ID 2

struct sim_fn {
	bool present;
	unsigned nbars;
	uint32_t bar_mask[6]; /* writable bits of each BAR dword */
};

static uint8_t ecam_mem[SIM_BUSES << 20] __attribute__((aligned(4096)));
static struct sim_fn sim[SIM_BUSES][32][8];
static uint8_t bar1_mem[4096] __attribute__((aligned(4096)));
static uint8_t bar4_mem[16384] __attribute__((aligned(4096)));
static bool ecam_bus_mapped[SIM_BUSES];
static bool sized_with_decode_on;
static uint32_t cf8;
static unsigned port_accesses;

static uint8_t *cfg(unsigned bus, unsigned dev, unsigned fn)
{
	return ecam_mem + ((bus << 20) | (dev << 15) | (fn << 12));
}

static uint32_t rd(const uint8_t *p, unsigned size)
{
	uint32_t v = 0;

	memcpy(&v, p, size);
	return v;
}

static void wr(uint8_t *p, unsigned size, uint32_t v)
{
	memcpy(p, &v, size);
}

static uint32_t sim_cfg_read(unsigned bus, unsigned dev, unsigned fn,
			     unsigned reg, unsigned size)
{
	assert_true(bus < SIM_BUSES);
	assert_int_equal(reg % size, 0);
	return rd(cfg(bus, dev, fn) + reg, size);
}

static void sim_cfg_write(unsigned bus, unsigned dev, unsigned fn, unsigned reg,
			  unsigned size, uint32_t v)
{
	struct sim_fn *s = &sim[bus][dev][fn];
	uint8_t *c = cfg(bus, dev, fn);

	assert_int_equal(reg % size, 0);
	if (!s->present || reg < 4 || (reg >= 8 && reg < 12) || reg == 0x0E)
		return; /* absent, or read-only ids, class, header type */
	if (reg >= 0x10 && reg < 0x10 + 4 * s->nbars) {
		unsigned i = (reg - 0x10) / 4;
		uint32_t old = rd(c + reg, 4);

		assert_int_equal(size, 4);
		if (v == 0xFFFFFFFFu && (rd(c + 4, 2) & 3))
			sized_with_decode_on = true;
		/* Hardwired bits (flags, bits below the size) keep their value. */
		wr(c + reg, 4, (v & s->bar_mask[i]) | (old & ~s->bar_mask[i]));
		return;
	}
	wr(c + reg, size, v);
}

static bool in(const void *p, const uint8_t *base, size_t len)
{
	return (const uint8_t *)p >= base && (const uint8_t *)p < base + len;
}

uint32_t pci_hw_mmio_read(const volatile void *p, unsigned size)
{
	if (in((const void *)p, ecam_mem, sizeof(ecam_mem))) {
		size_t off = (const uint8_t *)p - ecam_mem;

		return sim_cfg_read(off >> 20, (off >> 15) & 31, (off >> 12) & 7,
				    off & 0xFFF, size);
	}
	if (in((const void *)p, bar1_mem, sizeof(bar1_mem)) ||
	    in((const void *)p, bar4_mem, sizeof(bar4_mem)))
		return rd((const uint8_t *)p, size);
	fail_msg("MMIO read outside the simulation");
	return 0;
}

void pci_hw_mmio_write(volatile void *p, unsigned size, uint32_t v)
{
	if (in((void *)p, ecam_mem, sizeof(ecam_mem))) {
		size_t off = (uint8_t *)p - ecam_mem;

		sim_cfg_write(off >> 20, (off >> 15) & 31, (off >> 12) & 7,
			      off & 0xFFF, size, v);
		return;
	}
	if (in((void *)p, bar1_mem, sizeof(bar1_mem))) {
		assert_int_equal(size, 4); /* PCI 3.0 6.8.2: dword accesses */
		wr((uint8_t *)p, size, v);
		return;
	}
	fail_msg("MMIO write outside the simulation");
}

/* Configuration mechanism #1 (PCI 3.0 3.2.2.3.2) over the same functions. */
uint32_t pci_hw_port_read(uint16_t port, unsigned size)
{
	unsigned lane = port - 0xCFC;

	port_accesses++;
	if (port == 0xCF8)
		return cf8;
	assert_true(port >= 0xCFC && lane + size <= 4);
	if (!(cf8 & 0x80000000u) || ((cf8 >> 16) & 0xFF) >= SIM_BUSES)
		return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
	return sim_cfg_read((cf8 >> 16) & 0xFF, (cf8 >> 11) & 31, (cf8 >> 8) & 7,
			    (cf8 & 0xFC) + lane, size);
}

void pci_hw_port_write(uint16_t port, unsigned size, uint32_t v)
{
	unsigned lane = port - 0xCFC;

	port_accesses++;
	if (port == 0xCF8) {
		assert_int_equal(size, 4);
		cf8 = v;
		return;
	}
	assert_true(port >= 0xCFC && lane + size <= 4);
	if (!(cf8 & 0x80000000u) || ((cf8 >> 16) & 0xFF) >= SIM_BUSES)
		return;
	sim_cfg_write((cf8 >> 16) & 0xFF, (cf8 >> 11) & 31, (cf8 >> 8) & 7,
		      (cf8 & 0xFC) + lane, size, v);
}

void *mm_map_mmio(uint64_t pa, uint64_t len, unsigned prot)
{
	assert_true(prot & PT_UC);
	if (pa >= ECAM_BASE && pa + len <= ECAM_BASE + sizeof(ecam_mem)) {
		assert_int_equal(len, 1u << 20); /* one bus at a time */
		ecam_bus_mapped[(pa - ECAM_BASE) >> 20] = true;
		return ecam_mem + (pa - ECAM_BASE);
	}
	if (pa == BAR1_PA && len <= sizeof(bar1_mem))
		return bar1_mem;
	if (pa == BAR4_PA && len <= sizeof(bar4_mem))
		return bar4_mem;
	return NULL;
}

static void sim_add(unsigned bus, unsigned dev, unsigned fn, uint16_t vendor,
		    uint16_t device, uint8_t cls, uint8_t sub, uint8_t header)
{
	uint8_t *c = cfg(bus, dev, fn);

	memset(c, 0, 4096);
	wr(c + 0x00, 2, vendor);
	wr(c + 0x02, 2, device);
	c[0x0A] = sub;
	c[0x0B] = cls;
	c[0x0E] = header;
	sim[bus][dev][fn].present = true;
	sim[bus][dev][fn].nbars = (header & 0x7F) == 1 ? 2 : 6;
}

static void sim_bar(unsigned bus, unsigned dev, unsigned fn, unsigned i,
		    uint32_t value, uint32_t mask)
{
	wr(cfg(bus, dev, fn) + 0x10 + 4 * i, 4, value);
	sim[bus][dev][fn].bar_mask[i] = mask;
}

/* A capability: id, next, then bytes. */
static void sim_cap(uint8_t *c, unsigned at, uint8_t id, uint8_t next)
{
	c[0x06] |= 0x10; /* status: capabilities list */
	if (!c[0x34])
		c[0x34] = (uint8_t)at;
	c[at] = id;
	c[at + 1] = next;
}

static void sim_vcap(uint8_t *c, unsigned at, uint8_t next, uint8_t type,
		     uint8_t bar, uint32_t off, uint32_t len)
{
	sim_cap(c, at, 0x09, next);
	c[at + 2] = type == 2 ? 20 : 16;
	c[at + 3] = type;
	c[at + 4] = bar;
	wr(c + at + 8, 4, off);
	wr(c + at + 12, 4, len);
}

static void sim_intx(uint8_t *c, uint8_t pin, uint8_t line)
{
	c[0x3D] = pin;
	c[0x3C] = line;
}

/*
 * bus 0: 00.0 host bridge; 01.0 + 01.2 multi-function; 02.0 single-function
 *        (a function 1 answers but must not be probed); 03.0 bridge to bus 2;
 *        04.0 MSI 64-bit + per-vector masking; 05.0 MSI 32-bit; 06.0, 07.0
 *        INTx on line 11; 08.0 INTx on line 5; 09.0 no pin; 0a.0 line 0xFF.
 * bus 1: 00.0, behind no bridge: never found.
 * bus 2: 00.0 transitional virtio-net, QEMU's layout.
 */
static void sim_build(void)
{
	uint8_t *c;

	memset(ecam_mem, 0xFF, sizeof(ecam_mem));
	memset(sim, 0, sizeof(sim));
	memset(bar1_mem, 0, sizeof(bar1_mem));
	memset(bar4_mem, 0, sizeof(bar4_mem));
	memset(ecam_bus_mapped, 0, sizeof(ecam_bus_mapped));
	memset(&route, 0, sizeof(route));
	sized_with_decode_on = false;
	port_accesses = 0;

	sim_add(0, 0, 0, 0x8086, 0x29C0, 0x06, 0x00, 0x00);
	sim_add(0, 1, 0, 0x1234, 0x1111, 0x01, 0x06, 0x80);
	sim_bar(0, 1, 0, 4, 0xC041, 0xFFFFFFE0);     /* I/O, 32 ports */
	sim_bar(0, 1, 0, 5, 0xFEB10000, 0xFFFFF000); /* mem32, 4 KiB */
	wr(cfg(0, 1, 0) + 4, 2, 0x0007);	     /* decoding on */
	sim_add(0, 1, 2, 0x1234, 0x1112, 0x0C, 0x05, 0x00);
	sim_add(0, 2, 0, 0x1234, 0x2222, 0x03, 0x00, 0x00);
	sim_add(0, 2, 1, 0x1234, 0xDEAD, 0x03, 0x80, 0x00);
	sim_add(0, 3, 0, 0x8086, 0x3333, 0x06, 0x04, 0x01);
	cfg(0, 3, 0)[0x18] = 0;
	cfg(0, 3, 0)[0x19] = 2;
	cfg(0, 3, 0)[0x1A] = 2;

	sim_add(0, 4, 0, 0x1234, 0x4444, 0x02, 0x00, 0x00);
	c = cfg(0, 4, 0);
	sim_cap(c, 0x50, 0x05, 0);
	wr(c + 0x52, 2, 0x0182); /* 64-bit, per-vector masking, MMC 2 */
	wr(c + 0x60, 4, 0xFFFFFFFF);
	sim_intx(c, 1, 11);
	sim_add(0, 5, 0, 0x1234, 0x5555, 0x02, 0x00, 0x00);
	c = cfg(0, 5, 0);
	sim_cap(c, 0x40, 0x01, 0x60); /* power management first */
	sim_cap(c, 0x60, 0x05, 0);
	sim_add(0, 6, 0, 0x1234, 0x6666, 0x02, 0x00, 0x00);
	sim_intx(cfg(0, 6, 0), 1, 11);
	wr(cfg(0, 6, 0) + 4, 2, 0x0400); /* firmware left INTx disabled */
	sim_add(0, 7, 0, 0x1234, 0x7777, 0x02, 0x00, 0x00);
	sim_intx(cfg(0, 7, 0), 2, 11);
	sim_add(0, 8, 0, 0x1234, 0x8888, 0x02, 0x00, 0x00);
	sim_intx(cfg(0, 8, 0), 1, 5);
	sim_add(0, 9, 0, 0x1234, 0x9999, 0x02, 0x00, 0x00);
	sim_add(0, 10, 0, 0x1234, 0xAAAA, 0x02, 0x00, 0x00);
	sim_intx(cfg(0, 10, 0), 1, 0xFF);

	sim_add(1, 0, 0, 0x1234, 0x0101, 0x02, 0x00, 0x00);

	sim_add(2, 0, 0, 0x1AF4, 0x1000, 0x02, 0x00, 0x00);
	c = cfg(2, 0, 0);
	wr(c + 0x2C, 2, 0x1AF4);
	wr(c + 0x2E, 2, 0x0001);		   /* subsystem: virtio type 1 */
	sim_bar(2, 0, 0, 0, 0xC001, 0xFFFFFFE0);   /* I/O, 32 ports */
	sim_bar(2, 0, 0, 1, (uint32_t)BAR1_PA, 0xFFFFF000);
	sim_bar(2, 0, 0, 4, (uint32_t)BAR4_PA | 0xC, 0xFFFFC000); /* 64-bit pref */
	sim_bar(2, 0, 0, 5, 0, 0xFFFFFFFF);
	sim_intx(c, 1, 10);
	sim_cap(c, 0x40, 0x11, 0x50);
	wr(c + 0x42, 2, 3);	     /* 4 entries */
	wr(c + 0x44, 4, 0x000 | 1);  /* table: BAR1 + 0 */
	wr(c + 0x48, 4, 0x800 | 1);  /* PBA: BAR1 + 0x800 */
	sim_vcap(c, 0x50, 0x60, 1, 0, 0, 0x20);	       /* common in an I/O BAR */
	sim_vcap(c, 0x60, 0x70, 1, 4, 0x0000, 0x1000); /* common */
	sim_vcap(c, 0x70, 0x80, 3, 4, 0x1000, 0x1000); /* ISR */
	sim_vcap(c, 0x80, 0x90, 4, 4, 0x2000, 0x1000); /* device */
	sim_vcap(c, 0x90, 0xA4, 2, 4, 0x3000, 0x1000); /* notify, 20 bytes */
	wr(c + 0x90 + 16, 4, 4);		       /* notify_off_multiplier */
	sim_vcap(c, 0xA4, 0xB4, 0x20, 4, 0, 0x1000);   /* reserved type */
	sim_vcap(c, 0xB4, 0x00, 1, 4, 0x3800, 0x100);  /* a second common */
}

static int setup_ecam(void **state)
{
	(void)state;
	memset(&acpi, 0, sizeof(acpi));
	acpi.mcfg_count = 1;
	acpi.mcfg[0] = (struct acpi_mcfg){.base = ECAM_BASE, .segment = 0,
					  .bus_start = 0, .bus_end = SIM_BUSES - 1};
	percpu_data[0].apic_id = APIC_ID;
	sim_build();
	test_log_reset();
	pci_init();
	return 0;
}

static int setup_cf8(void **state)
{
	(void)state;
	memset(&acpi, 0, sizeof(acpi));
	percpu_data[0].apic_id = APIC_ID;
	sim_build();
	test_log_reset();
	pci_init();
	return 0;
}

static struct pci_dev *find_dev(unsigned bus, unsigned dev, unsigned fn)
{
	for (unsigned i = 0; i < pci_device_count(); i++) {
		struct pci_dev *d = pci_device(i);

		if (d->bus == bus && d->dev == dev && d->fn == fn)
			return d;
	}
	return NULL;
}

/* ----------------------------------------------------------- BAR decode -- */

static void test_bar_decode(void **state)
{
	struct pci_bar b;

	(void)state;
	/* I/O, 32 ports (bit 0 set, bit 1 reserved). */
	assert_int_equal(pci_bar_decode(0xC001, 0, 0xFFFFFFE1, 0, &b), 1);
	assert_true(b.io);
	assert_int_equal(b.phys, 0xC000);
	assert_int_equal(b.size, 0x20);
	/* A 16-bit I/O decoder reads the upper half back as zero. */
	assert_int_equal(pci_bar_decode(0xC041, 0, 0x0000FFC1, 0, &b), 1);
	assert_int_equal(b.size, 0x40);
	assert_int_equal(b.phys, 0xC040);
	/* Memory, 32-bit, 16 KiB. */
	assert_int_equal(pci_bar_decode(0xFEB00000, 0, 0xFFFFC000, 0, &b), 1);
	assert_false(b.io);
	assert_false(b.prefetch);
	assert_int_equal(b.phys, 0xFEB00000);
	assert_int_equal(b.size, 0x4000);
	/* Memory, 32-bit, prefetchable, 2 GiB: the largest 32-bit BAR. */
	assert_int_equal(pci_bar_decode(0x80000008, 0, 0x80000008, 0, &b), 1);
	assert_true(b.prefetch);
	assert_int_equal(b.size, 0x80000000ull);
	/* Memory, 64-bit, prefetchable, 8 GiB above 32 GiB: two slots. */
	assert_int_equal(pci_bar_decode(0x0000000C, 0x8, 0x0000000C, 0xFFFFFFFE, &b), 2);
	assert_true(b.prefetch);
	assert_int_equal(b.phys, 0x800000000ull);
	assert_int_equal(b.size, 0x200000000ull);
	/* Memory, 64-bit, 16 KiB below 4 GiB. */
	assert_int_equal(pci_bar_decode(0xFE00000C, 0, 0xFFFFC00C, 0xFFFFFFFF, &b), 2);
	assert_int_equal(b.phys, 0xFE000000ull);
	assert_int_equal(b.size, 0x4000);
	/* Not implemented: reads back zero. */
	assert_int_equal(pci_bar_decode(0, 0, 0, 0, &b), 1);
	assert_int_equal(b.size, 0);
	assert_int_equal(b.phys, 0);
	/* Implemented, but firmware assigned no address. */
	assert_int_equal(pci_bar_decode(0, 0, 0xFFFFF000, 0, &b), 1);
	assert_int_equal(b.size, 0x1000);
	assert_int_equal(b.phys, 0);
}

static void test_msi_compose(void **state)
{
	uint64_t addr = 0;
	uint32_t data = 0;

	(void)state;
	assert_int_equal(pci_msi_compose(0, 0x40, &addr, &data), 0);
	assert_int_equal(addr, 0xFEE00000ull);
	assert_int_equal(data, 0x40);
	assert_int_equal(pci_msi_compose(5, 0x41, &addr, &data), 0);
	assert_int_equal(addr, 0xFEE05000ull);
	assert_int_equal(data, 0x41);
	assert_int_equal(pci_msi_compose(0xFE, 0xDF, &addr, &data), 0);
	assert_int_equal(addr, 0xFEEFE000ull);
	/* 0xFF is broadcast; more than 8 bits needs interrupt remapping. */
	assert_int_equal(pci_msi_compose(0xFF, 0x40, &addr, &data), KEEL_ERANGE);
	assert_int_equal(pci_msi_compose(0x100, 0x40, &addr, &data), KEEL_ERANGE);
	assert_int_equal(pci_msi_compose(0, 0x10, &addr, &data), KEEL_ERANGE);
}

/* ---------------------------------------------------------- enumeration -- */

static void check_topology(bool ecam)
{
	static const struct {
		uint8_t bus, dev, fn;
		uint16_t vendor, device;
	} want[] = {
		{0, 0, 0, 0x8086, 0x29C0},  {0, 1, 0, 0x1234, 0x1111},
		{0, 1, 2, 0x1234, 0x1112},  {0, 2, 0, 0x1234, 0x2222},
		{0, 3, 0, 0x8086, 0x3333},  {2, 0, 0, 0x1AF4, 0x1000},
		{0, 4, 0, 0x1234, 0x4444},  {0, 5, 0, 0x1234, 0x5555},
		{0, 6, 0, 0x1234, 0x6666},  {0, 7, 0, 0x1234, 0x7777},
		{0, 8, 0, 0x1234, 0x8888},  {0, 9, 0, 0x1234, 0x9999},
		{0, 10, 0, 0x1234, 0xAAAA},
	};

	/* Depth first: the bus behind 00:03.0 comes before 00:04.0. */
	assert_int_equal(pci_device_count(), sizeof(want) / sizeof(want[0]));
	for (unsigned i = 0; i < pci_device_count(); i++) {
		struct pci_dev *d = pci_device(i);

		assert_int_equal(d->bus, want[i].bus);
		assert_int_equal(d->dev, want[i].dev);
		assert_int_equal(d->fn, want[i].fn);
		assert_int_equal(d->vendor, want[i].vendor);
		assert_int_equal(d->device, want[i].device);
		assert_int_equal(d->ecam != NULL, ecam);
	}
	assert_null(pci_device(pci_device_count()));
	assert_null(find_dev(0, 2, 1)); /* not multi-function */
	assert_null(find_dev(1, 0, 0)); /* behind no bridge */
}

static void check_bars(void)
{
	struct pci_dev *d = find_dev(2, 0, 0), *m = find_dev(0, 1, 0);

	assert_non_null(d);
	assert_true(d->bars[0].io);
	assert_int_equal(d->bars[0].phys, 0xC000);
	assert_int_equal(d->bars[0].size, 0x20);
	assert_false(d->bars[1].io);
	assert_int_equal(d->bars[1].phys, BAR1_PA);
	assert_int_equal(d->bars[1].size, 0x1000);
	assert_int_equal(d->bars[2].size, 0);
	assert_true(d->bars[4].prefetch);
	assert_int_equal(d->bars[4].phys, BAR4_PA);
	assert_int_equal(d->bars[4].size, 0x4000);
	assert_int_equal(d->bars[5].size, 0); /* the upper half of BAR4 */
	/* Every BAR value and the command register came back as they were,
	 * and no BAR was sized with decoding on. */
	assert_int_equal(rd(cfg(2, 0, 0) + 0x20, 4), BAR4_PA | 0xC);
	assert_int_equal(rd(cfg(2, 0, 0) + 0x24, 4), 0);
	assert_int_equal(rd(cfg(0, 1, 0) + 0x20, 4), 0xC041);
	assert_int_equal(rd(cfg(0, 1, 0) + 4, 2), 0x0007);
	assert_false(sized_with_decode_on);
	assert_int_equal(m->bars[4].size, 0x20);
	assert_int_equal(m->bars[5].phys, 0xFEB10000);
	assert_int_equal(m->bars[5].size, 0x1000);
	/* Transitional virtio: the type is the subsystem id. */
	assert_int_equal(d->subsys_device, 1);
	assert_int_equal(d->class_code, 0x02);
	assert_int_equal(d->irq_pin, 1);
	assert_int_equal(d->irq_line, 10);
	assert_int_equal(d->msix_cap, 0x40);
	assert_int_equal(d->msi_cap, 0);
	assert_int_equal(find_dev(0, 4, 0)->msi_cap, 0x50);
	assert_int_equal(find_dev(0, 5, 0)->msi_cap, 0x60);
}

static void test_enumerate_ecam(void **state)
{
	(void)state;
	check_topology(true);
	check_bars();
	assert_true(ecam_bus_mapped[0]);
	assert_false(ecam_bus_mapped[1]);
	assert_true(ecam_bus_mapped[2]);
	assert_int_equal(port_accesses, 0);
	assert_non_null(strstr(test_log_all,
			       "pci: 0000:02:00.0 1af4:1000 class 02/00 virtio-net\n"));
	assert_non_null(strstr(test_log_all,
			       "pci: 0000:00:03.0 8086:3333 class 06/04 PCI bridge\n"));
	/* ECAM reaches extended configuration space. */
	wr(cfg(0, 0, 0) + 0x100, 4, 0x12345678);
	assert_int_equal(pci_cfg_read32(find_dev(0, 0, 0), 0x100), 0x12345678);
}

static void test_enumerate_cf8(void **state)
{
	struct pci_dev *d;

	(void)state;
	check_topology(false);
	check_bars();
	assert_false(ecam_bus_mapped[0]);
	assert_true(port_accesses > 0);
	d = find_dev(2, 0, 0);
	/* Sub-dword accesses go through the matching byte lane. */
	assert_int_equal(pci_cfg_read8(d, 0x0B), 0x02);
	assert_int_equal(pci_cfg_read16(d, 0x2E), 0x0001);
	pci_cfg_write8(d, 0x3C, 9);
	assert_int_equal(cfg(2, 0, 0)[0x3C], 9);
	assert_int_equal(cfg(2, 0, 0)[0x3D], 1);
	/* Mechanism #1 has 256 bytes; misaligned accesses are refused. */
	port_accesses = 0;
	assert_int_equal(pci_cfg_read32(d, 0x100), 0xFFFFFFFFu);
	assert_int_equal(pci_cfg_read16(d, 0x01), 0xFFFF);
	pci_cfg_write32(d, 0x102, 0);
	assert_int_equal(port_accesses, 0);
}

/* ---------------------------------------------------------- capabilities - */

static void test_caps(void **state)
{
	struct pci_dev *d = find_dev(2, 0, 0), loop = {0};
	uint8_t *c;

	(void)state;
	assert_int_equal(pci_find_cap(d, 0x11), 0x40);
	assert_int_equal(pci_find_cap(d, 0x09), 0x50);
	assert_int_equal(pci_find_next_cap(d, 0x50, 0x09), 0x60);
	assert_int_equal(pci_find_next_cap(d, 0x90, 0x09), 0xA4);
	assert_int_equal(pci_find_next_cap(d, 0xB4, 0x09), 0);
	assert_int_equal(pci_find_cap(d, 0x05), 0);

	/* A list that loops ends; reserved low pointer bits are ignored. */
	c = cfg(1, 5, 0);
	memset(c, 0, 4096);
	loop.bus = 1, loop.dev = 5, loop.ecam = c;
	sim_cap(c, 0x40, 0x09, 0x47);
	sim_cap(c, 0x44, 0x01, 0x40);
	assert_int_equal(pci_find_cap(&loop, 0x01), 0x44);
	assert_int_equal(pci_find_cap(&loop, 0x05), 0);
	/* A pointer into the header ends the list. */
	c[0x45] = 0x20;
	assert_int_equal(pci_find_cap(&loop, 0x05), 0);
	/* No capabilities list bit: no capabilities. */
	c[0x06] = 0;
	assert_int_equal(pci_find_cap(&loop, 0x09), 0);
}

static void test_virtio_caps(void **state)
{
	struct pci_dev *d = find_dev(2, 0, 0);
	struct virtio_pci_caps vc;

	(void)state;
	assert_int_equal(virtio_pci_device_type(d), 1);
	assert_int_equal(virtio_pci_find_caps(d, &vc), 0);
	/* The common structure in an I/O BAR is skipped, the next used; the
	 * second memory one is ignored (4.1.4.1: the first one). */
	assert_int_equal(vc.common_bar, 4);
	assert_int_equal(vc.common_off, 0);
	assert_int_equal(vc.common_len, 0x1000);
	assert_int_equal(vc.isr_off, 0x1000);
	assert_int_equal(vc.device_off, 0x2000);
	assert_int_equal(vc.device_len, 0x1000);
	assert_int_equal(vc.notify_off, 0x3000);
	assert_int_equal(vc.notify_mult, 4);
	/* A structure beyond its BAR is not used. */
	wr(cfg(2, 0, 0) + 0x90 + 8, 4, 0x3800);
	assert_int_equal(virtio_pci_find_caps(d, &vc), KEEL_ENOENT);
	/* Without a notify structure (legacy only): not a modern device. */
	wr(cfg(2, 0, 0) + 0x90 + 8, 4, 0x3000);
	cfg(2, 0, 0)[0x93] = 0x30;
	assert_int_equal(virtio_pci_find_caps(d, &vc), KEEL_ENOENT);
	cfg(2, 0, 0)[0x93] = 2;
	/* Modern device id 0x1041; not virtio. */
	d->device = 0x1041;
	assert_int_equal(virtio_pci_device_type(d), 1);
	d->vendor = 0x8086;
	assert_int_equal(virtio_pci_device_type(d), 0);
}

/* ------------------------------------------------------------ interrupts - */

static struct {
	unsigned calls;
	void *ctx[8];
	unsigned index[8];
} got;

static void handler(void *ctx, unsigned index)
{
	if (got.calls < 8) {
		got.ctx[got.calls] = ctx;
		got.index[got.calls] = index;
	}
	got.calls++;
}

static void fire(uint8_t vector)
{
	struct trap_frame tf = {.vector = vector};

	assert_non_null(trap_handlers[vector]);
	trap_handlers[vector](&tf);
}

static void test_msix(void **state)
{
	struct pci_dev *d = find_dev(2, 0, 0);
	volatile uint32_t *t = (volatile uint32_t *)bar1_mem;
	enum pci_irq_mode mode = PCI_IRQ_NONE;
	int ctx;

	(void)state;
	for (unsigned i = 0; i < 4; i++)
		t[4 * i + 3] = 0; /* firmware left every entry unmasked */
	assert_int_equal(pci_irq_setup(d, 3, handler, &ctx, &mode), 3);
	assert_int_equal(mode, PCI_IRQ_MSIX);
	for (unsigned i = 0; i < 3; i++) {
		uint8_t v = d->irq_vector[i];

		assert_true(v >= PCI_VEC_FIRST && v <= PCI_VEC_LAST);
		assert_int_equal(t[4 * i + 0], 0xFEE00000u | (APIC_ID << 12));
		assert_int_equal(t[4 * i + 1], 0);
		assert_int_equal(t[4 * i + 2], v);
		assert_int_equal(t[4 * i + 3], 0); /* unmasked */
		for (unsigned j = 0; j < i; j++)
			assert_int_not_equal(d->irq_vector[j], v);
	}
	assert_int_equal(t[4 * 3 + 3], 1); /* the unused entry is masked */
	/* Message control: enabled, function unmasked. */
	assert_int_equal(rd(cfg(2, 0, 0) + 0x42, 2) & 0xC000, 0x8000);
	/* Memory decoding on (the table is in a BAR), INTx off. */
	assert_int_equal(rd(cfg(2, 0, 0) + 4, 2) & 0x0402, 0x0402);

	memset(&got, 0, sizeof(got));
	fire(d->irq_vector[1]);
	fire(d->irq_vector[2]);
	assert_int_equal(got.calls, 2);
	assert_ptr_equal(got.ctx[0], &ctx);
	assert_int_equal(got.index[0], 1);
	assert_int_equal(got.index[1], 2);

	pci_irq_mask(d, true);
	assert_int_equal(rd(cfg(2, 0, 0) + 0x42, 2) & 0xC000, 0xC000);
	pci_irq_mask(d, false);
	assert_int_equal(rd(cfg(2, 0, 0) + 0x42, 2) & 0xC000, 0x8000);
	/* Once is enough. */
	assert_int_equal(pci_irq_setup(d, 1, handler, &ctx, &mode), KEEL_EINVAL);
}

static void test_msi(void **state)
{
	struct pci_dev *d64 = find_dev(0, 4, 0), *d32 = find_dev(0, 5, 0);
	enum pci_irq_mode mode;
	uint8_t *c;
	int ctx;

	(void)state;
	assert_int_equal(pci_irq_setup(d64, 4, handler, &ctx, &mode), 1);
	assert_int_equal(mode, PCI_IRQ_MSI);
	c = cfg(0, 4, 0);
	assert_int_equal(rd(c + 0x54, 4), 0xFEE00000u | (APIC_ID << 12));
	assert_int_equal(rd(c + 0x58, 4), 0);
	assert_int_equal(rd(c + 0x5C, 2), d64->irq_vector[0]);
	assert_int_equal(rd(c + 0x60, 4), 0); /* vector 0 unmasked */
	/* Enabled with one message (MME 0); INTx off. */
	assert_int_equal(rd(c + 0x52, 2) & 0x71, 0x01);
	assert_true(rd(c + 4, 2) & 0x0400);
	pci_irq_mask(d64, true);
	assert_int_equal(rd(c + 0x60, 4), 1);
	pci_irq_mask(d64, false);
	assert_int_equal(rd(c + 0x60, 4), 0);
	assert_int_equal(route.calls, 0); /* INTx was never touched */

	assert_int_equal(pci_irq_setup(d32, 1, handler, &ctx, &mode), 1);
	c = cfg(0, 5, 0);
	assert_int_equal(rd(c + 0x64, 4), 0xFEE00000u | (APIC_ID << 12));
	assert_int_equal(rd(c + 0x68, 2), d32->irq_vector[0]);
	assert_int_equal(rd(c + 0x62, 2) & 1, 1);
	/* No per-vector masking: masking leaves MSI on rather than lose it. */
	pci_irq_mask(d32, true);
	assert_int_equal(rd(c + 0x62, 2) & 1, 1);
	memset(&got, 0, sizeof(got));
	fire(d32->irq_vector[0]);
	assert_int_equal(got.calls, 1);
	assert_int_equal(got.index[0], 0);
}

static void test_intx(void **state)
{
	struct pci_dev *a = find_dev(0, 6, 0), *b = find_dev(0, 7, 0);
	struct pci_dev *c = find_dev(0, 8, 0);
	enum pci_irq_mode mode;
	int ca, cb, cc;

	(void)state;
	/* Line 11: QEMU's MADT says level, active high. */
	assert_int_equal(pci_irq_setup(a, 3, handler, &ca, &mode), 1);
	assert_int_equal(mode, PCI_IRQ_INTX);
	assert_int_equal(route.calls, 1);
	assert_int_equal(route.gsi, 11);
	assert_int_equal(route.dest, APIC_ID);
	assert_true(route.level);
	assert_false(route.low);
	assert_int_equal(route.vector, a->irq_vector[0]);
	assert_false(rd(cfg(0, 6, 0) + 4, 2) & 0x0400); /* INTx enabled */
	/* The same line shares the vector; it is routed once. */
	assert_int_equal(pci_irq_setup(b, 1, handler, &cb, &mode), 1);
	assert_int_equal(route.calls, 1);
	assert_int_equal(b->irq_vector[0], a->irq_vector[0]);
	memset(&got, 0, sizeof(got));
	fire(a->irq_vector[0]);
	assert_int_equal(got.calls, 2);
	assert_true((got.ctx[0] == &ca && got.ctx[1] == &cb) ||
		    (got.ctx[0] == &cb && got.ctx[1] == &ca));
	/* Line 5 without an override: PCI's level, active low. */
	assert_int_equal(pci_irq_setup(c, 1, handler, &cc, &mode), 1);
	assert_int_equal(route.calls, 2);
	assert_int_equal(route.gsi, 5);
	assert_true(route.level);
	assert_true(route.low);
	assert_int_not_equal(c->irq_vector[0], a->irq_vector[0]);
	/* Masking is the command register's interrupt disable. */
	pci_irq_mask(a, true);
	assert_true(rd(cfg(0, 6, 0) + 4, 2) & 0x0400);
	pci_irq_mask(a, false);
	assert_false(rd(cfg(0, 6, 0) + 4, 2) & 0x0400);
	/* No pin, or a line firmware did not fill in: nothing to use. */
	assert_true(pci_irq_setup(find_dev(0, 9, 0), 1, handler, &cc, &mode) < 0);
	assert_int_equal(mode, PCI_IRQ_NONE);
	assert_true(pci_irq_setup(find_dev(0, 10, 0), 1, handler, &cc, &mode) < 0);
	assert_int_equal(route.calls, 2);
}

/* ------------------------------------------------------------ virtqueue -- */

static struct virtq vq;
static struct virtq_desc q_desc[VIRTQ_MAX_SIZE] __attribute__((aligned(16)));
static uint16_t q_avail[3 + VIRTQ_MAX_SIZE];
static uint8_t q_used[6 + 8 * VIRTQ_MAX_SIZE] __attribute__((aligned(4)));
static uint16_t dev_last_avail, dev_used_idx;

/* The device's side (2.7.6, 2.7.8): take the next available head, and
 * return a chain as used. */
static uint16_t dev_take(void)
{
	uint16_t head;

	assert_int_not_equal(q_avail[1], dev_last_avail);
	head = q_avail[2 + (dev_last_avail & (vq.size - 1))];
	dev_last_avail++;
	return head;
}

static void dev_use(uint32_t id, uint32_t len)
{
	struct virtq_used_elem e = {.id = id, .len = len};

	memcpy(q_used + 4 + 8 * (dev_used_idx & (vq.size - 1)), &e, 8);
	dev_used_idx++;
	memcpy(q_used + 2, &dev_used_idx, 2);
}

static void vq_init(unsigned size)
{
	memset(q_avail, 0xAA, sizeof(q_avail));
	memset(q_used, 0xAA, sizeof(q_used));
	assert_int_equal(virtq_init(&vq, size, q_desc, q_avail, q_used), 0);
	dev_last_avail = 0;
	dev_used_idx = 0;
}

static void test_virtq_sizes(void **state)
{
	(void)state;
	assert_int_equal(virtq_desc_bytes(256), 4096);
	assert_int_equal(virtq_avail_bytes(256), 518);
	assert_int_equal(virtq_used_bytes(256), 2054);
	assert_int_equal(virtq_init(&vq, 0, q_desc, q_avail, q_used), KEEL_EINVAL);
	assert_int_equal(virtq_init(&vq, 3, q_desc, q_avail, q_used), KEEL_EINVAL);
	assert_int_equal(virtq_init(&vq, 512, q_desc, q_avail, q_used), KEEL_EINVAL);
	vq_init(256);
	assert_int_equal(vq.free_count, 256);
	assert_int_equal(q_avail[0], 0); /* the rings start zeroed */
	assert_int_equal(q_avail[1], 0);
	assert_int_equal(virtq_ring_pending(0, 0), 0);
	assert_int_equal(virtq_ring_pending(2, 65534), 4);
	assert_int_equal(virtq_ring_pending(5, 65535), 6);
	assert_int_equal(virtq_ring_pending(300, 44), 256);
}

static void test_virtq_chain(void **state)
{
	struct virtq_buf bufs[3] = {{0x1000, 12}, {0x2000, 100}, {0x3000, 1}};
	int a, b, *cookie;
	uint32_t len;
	uint16_t h1, h2, d;

	(void)state;
	vq_init(8);
	/* Two device-readable buffers then one it writes (a block request). */
	assert_int_equal(virtq_add(&vq, bufs, 2, 1, &a), 0);
	assert_int_equal(virtq_add(&vq, bufs, 0, 1, &b), 0);
	assert_int_equal(vq.free_count, 4);
	assert_int_equal(q_avail[1], 2);
	h1 = dev_take();
	h2 = dev_take();
	d = h1;
	assert_int_equal(q_desc[d].addr, 0x1000);
	assert_int_equal(q_desc[d].flags, VIRTQ_DESC_F_NEXT);
	d = q_desc[d].next;
	assert_int_equal(q_desc[d].len, 100);
	assert_int_equal(q_desc[d].flags, VIRTQ_DESC_F_NEXT);
	d = q_desc[d].next;
	assert_int_equal(q_desc[d].addr, 0x3000);
	assert_int_equal(q_desc[d].flags, VIRTQ_DESC_F_WRITE);
	assert_int_equal(q_desc[h2].flags, VIRTQ_DESC_F_WRITE);
	assert_int_equal(q_desc[h2].addr, 0x1000);

	/* Nothing used yet; then used out of order. */
	assert_int_equal(virtq_get_used(&vq, (void **)&cookie, &len), 0);
	dev_use(h2, 60);
	dev_use(h1, 1);
	assert_int_equal(virtq_get_used(&vq, (void **)&cookie, &len), 1);
	assert_ptr_equal(cookie, &b);
	assert_int_equal(len, 60);
	assert_int_equal(virtq_get_used(&vq, (void **)&cookie, &len), 1);
	assert_ptr_equal(cookie, &a);
	assert_int_equal(len, 1);
	assert_int_equal(virtq_get_used(&vq, (void **)&cookie, &len), 0);
	assert_int_equal(vq.free_count, 8);

	/* Full: eight one-buffer chains, the ninth waits. */
	for (int i = 0; i < 8; i++)
		assert_int_equal(virtq_add(&vq, bufs, 1, 0, &a), 0);
	assert_int_equal(virtq_add(&vq, bufs, 1, 0, &a), KEEL_EBUSY);
	assert_int_equal(virtq_add(&vq, bufs, 1, 0, NULL), KEEL_EINVAL);
	assert_int_equal(virtq_add(&vq, bufs, 0, 0, &a), KEEL_EINVAL);
}

static void test_virtq_wrap(void **state)
{
	static int cookies[4];
	struct virtq_buf buf;
	uint32_t len;
	int *cookie;

	(void)state;
	vq_init(4);
	/* 70000 buffers through a queue of 4: both free-running indices
	 * wrap past 65535, and slots are index mod 4. */
	for (uint32_t i = 0; i < 70000; i++) {
		uint16_t head;

		buf.addr = 0x10000 + (uint64_t)(i & 3) * 0x800;
		buf.len = 2048;
		assert_int_equal(virtq_add(&vq, &buf, 0, 1, &cookies[i & 3]), 0);
		assert_int_equal(q_avail[1], (uint16_t)(i + 1));
		assert_int_equal(q_avail[2 + (i & 3)], vq.avail[2 + (i & 3)]);
		head = dev_take();
		assert_int_equal(q_desc[head].addr, buf.addr);
		dev_use(head, i & 0x7FF);
		assert_int_equal(virtq_get_used(&vq, (void **)&cookie, &len), 1);
		assert_ptr_equal(cookie, &cookies[i & 3]);
		assert_int_equal(len, i & 0x7FF);
	}
	assert_int_equal(vq.avail_idx, (uint16_t)70000);
	assert_int_equal(vq.last_used, (uint16_t)70000);
	assert_int_equal(vq.free_count, 4);

	/* Four in flight across the wrap, returned in one batch. */
	vq_init(4);
	vq.avail_idx = vq.last_used = dev_last_avail = dev_used_idx = 65534;
	for (int i = 0; i < 4; i++)
		assert_int_equal(virtq_add(&vq, &buf, 0, 1, &cookies[i]), 0);
	assert_int_equal(q_avail[1], 2);
	for (int i = 0; i < 4; i++)
		dev_use(dev_take(), 100 + i);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(virtq_get_used(&vq, (void **)&cookie, &len), 1);
		assert_ptr_equal(cookie, &cookies[i]);
		assert_int_equal(len, 100 + i);
	}
	assert_int_equal(virtq_get_used(&vq, (void **)&cookie, &len), 0);
}

static void test_virtq_bad_device(void **state)
{
	struct virtq_buf buf = {0x1000, 64};
	uint32_t len;
	void *cookie;
	int a;
	uint16_t idx;

	(void)state;
	vq_init(8);
	assert_int_equal(virtq_add(&vq, &buf, 1, 0, &a), 0);
	/* An id that is not in flight. */
	dev_use(5, 0);
	assert_int_equal(virtq_get_used(&vq, &cookie, &len), KEEL_EIO);
	/* An id beyond the queue. */
	vq_init(8);
	assert_int_equal(virtq_add(&vq, &buf, 1, 0, &a), 0);
	dev_use(8, 0);
	assert_int_equal(virtq_get_used(&vq, &cookie, &len), KEEL_EIO);
	/* The used index more than a queue ahead, over a valid entry. */
	vq_init(8);
	assert_int_equal(virtq_add(&vq, &buf, 1, 0, &a), 0);
	dev_use(dev_take(), 0);
	idx = 9;
	memcpy(q_used + 2, &idx, 2);
	assert_int_equal(virtq_get_used(&vq, &cookie, &len), KEEL_EIO);
	idx = 1;
	memcpy(q_used + 2, &idx, 2);
	assert_int_equal(virtq_get_used(&vq, &cookie, &len), 1);

	/* Notification suppression both ways (2.7.7). */
	vq_init(8);
	q_used[0] = VIRTQ_USED_F_NO_NOTIFY;
	assert_false(virtq_kick_needed(&vq));
	q_used[0] = 0;
	assert_true(virtq_kick_needed(&vq));
	virtq_set_interrupts(&vq, false);
	assert_int_equal(q_avail[0], VIRTQ_AVAIL_F_NO_INTERRUPT);
	virtq_set_interrupts(&vq, true);
	assert_int_equal(q_avail[0], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bar_decode),
		cmocka_unit_test(test_msi_compose),
		cmocka_unit_test_setup(test_enumerate_ecam, setup_ecam),
		cmocka_unit_test_setup(test_enumerate_cf8, setup_cf8),
		cmocka_unit_test_setup(test_caps, setup_ecam),
		cmocka_unit_test_setup(test_virtio_caps, setup_ecam),
		cmocka_unit_test_setup(test_msix, setup_ecam),
		cmocka_unit_test_setup(test_msi, setup_cf8),
		cmocka_unit_test_setup(test_intx, setup_ecam),
		cmocka_unit_test(test_virtq_sizes),
		cmocka_unit_test(test_virtq_chain),
		cmocka_unit_test(test_virtq_wrap),
		cmocka_unit_test(test_virtq_bad_device),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
