/*
 * pci_irq.c - interrupts of host PCI functions: MSI-X, else MSI, else INTx
 * through the I/O APIC, on IDT vectors PCI_VEC_FIRST..PCI_VEC_LAST, all
 * delivered to CPU 0, each dispatched to the handlers registered on it.
 *
 * One lock, pci_vec_lock: the vectors and handler lists. Handlers are
 * published with a release store and never removed, so the dispatcher
 * walks a list without it. pci_irq_setup runs from drivers' probe during
 * pci_init, on one thread: the INTx line table needs no lock.
 */
#include "drivers/pci.h"
#include "kernel/acpi.h"
#include "kernel/cpu.h"
#include "kernel/err.h"
#include "kernel/ioapic.h"
#include "kernel/log.h"
#include "kernel/spinlock.h"
#include "kernel/trap.h"

#ifdef KEEL_HOST_TEST
/* tests/unit/test_pci.c simulates the MSI-X table. */
void pci_hw_mmio_write(volatile void *p, unsigned size, uint32_t v);
#else
static inline void pci_hw_mmio_write(volatile void *p, unsigned size, uint32_t v)
{
	*(volatile uint32_t *)p = v; /* PCI 3.0 6.8.2: dword accesses only */
}
#endif

#define PCI_COMMAND 0x04
#define PCI_CMD_MEM (1u << 1)
#define PCI_CMD_INTX_DISABLE (1u << 10)

/* MSI capability, PCI 3.0 6.8.1. */
#define MSI_CTL_ENABLE (1u << 0)
#define MSI_CTL_MME_MASK (7u << 4)
#define MSI_CTL_64BIT (1u << 7)
#define MSI_CTL_PVM (1u << 8)
/* MSI-X capability and table, PCI 3.0 6.8.2. */
#define MSIX_CTL_SIZE_MASK 0x7FFu
#define MSIX_CTL_MASKALL (1u << 14)
#define MSIX_CTL_ENABLE (1u << 15)
#define MSIX_TABLE_BIR_MASK 7u
#define MSIX_ENTRY_BYTES 16
#define MSIX_ENTRY_ADDR_LO 0
#define MSIX_ENTRY_ADDR_HI 1
#define MSIX_ENTRY_DATA 2
#define MSIX_ENTRY_CTRL 3 /* in dwords */
#define MSIX_ENTRY_MASKED 1u

/* SDM vol.3 11.11.1: the MSI address of the local APICs. */
#define MSI_ADDR_BASE 0xFEE00000u
#define MSI_ADDR_DEST_SHIFT 12

int pci_msi_compose(uint32_t dest_apic_id, uint8_t vector, uint64_t *addr,
		    uint32_t *data)
{
	/* The address holds an 8-bit destination (physical mode, RH = 0,
	 * DM = 0); 0xFF is broadcast. Data: fixed delivery, edge. */
	if (dest_apic_id > 0xFE || vector < 0x20)
		return KEEL_ERANGE;
	*addr = MSI_ADDR_BASE | (dest_apic_id << MSI_ADDR_DEST_SHIFT);
	*data = vector;
	return 0;
}

/* ------------------------------------------------- vectors and handlers - */

struct pci_irq_handler {
	pci_irq_fn fn;
	void *ctx;
	unsigned index;
	struct pci_irq_handler *next;
};

#define PCI_HANDLERS_MAX 64
#define PCI_INTX_LINES_MAX 24

static struct spinlock pci_vec_lock = SPINLOCK_INIT;
static struct pci_irq_handler pci_handler_pool[PCI_HANDLERS_MAX];
static unsigned pci_handlers_used;
static struct pci_irq_handler *pci_vec_handlers[256];
static bool pci_vec_taken[256];
static struct {
	uint32_t gsi;
	uint8_t vector;
} pci_intx_lines[PCI_INTX_LINES_MAX];
static unsigned pci_intx_count;

/* Every vector of ours lands here; a shared INTx vector has one handler
 * per device, each of which checks its own device. */
static void pci_irq_dispatch(struct trap_frame *tf)
{
	struct pci_irq_handler *h =
		__atomic_load_n(&pci_vec_handlers[tf->vector & 0xFF], __ATOMIC_ACQUIRE);

	for (; h; h = h->next)
		h->fn(h->ctx, h->index);
}

/* CPU 0 runs the management thread that consumes the work these
 * interrupts announce. */
static uint32_t pci_irq_dest(void)
{
	return percpu_data[0].apic_id;
}

static int pci_vec_alloc(unsigned n, uint8_t *out)
{
	unsigned got = 0;
	uint64_t flags = spin_lock_irqsave(&pci_vec_lock);

	for (unsigned v = PCI_VEC_FIRST; v <= PCI_VEC_LAST && got < n; v++)
		if (!pci_vec_taken[v])
			out[got++] = (uint8_t)v;
	if (got == n)
		for (unsigned i = 0; i < n; i++)
			pci_vec_taken[out[i]] = true;
	spin_unlock_irqrestore(&pci_vec_lock, flags);
	return got == n ? 0 : KEEL_EBUSY;
}

static void pci_vec_free(unsigned n, const uint8_t *vecs)
{
	uint64_t flags = spin_lock_irqsave(&pci_vec_lock);

	for (unsigned i = 0; i < n; i++)
		pci_vec_taken[vecs[i]] = false;
	spin_unlock_irqrestore(&pci_vec_lock, flags);
}

/* Publish a handler on vector v; it may run as soon as this returns. */
static int pci_vec_add_handler(uint8_t v, pci_irq_fn fn, void *ctx,
			       unsigned index)
{
	struct pci_irq_handler *h;
	uint64_t flags = spin_lock_irqsave(&pci_vec_lock);

	if (pci_handlers_used >= PCI_HANDLERS_MAX) {
		spin_unlock_irqrestore(&pci_vec_lock, flags);
		return KEEL_ENOMEM;
	}
	h = &pci_handler_pool[pci_handlers_used++];
	*h = (struct pci_irq_handler){.fn = fn, .ctx = ctx, .index = index,
				      .next = pci_vec_handlers[v]};
	__atomic_store_n(&pci_vec_handlers[v], h, __ATOMIC_RELEASE);
	spin_unlock_irqrestore(&pci_vec_lock, flags);
	trap_register(v, pci_irq_dispatch);
	return 0;
}

static void pci_intx_set(struct pci_dev *d, bool disabled)
{
	uint16_t cmd = pci_cfg_read16(d, PCI_COMMAND);

	if (disabled)
		cmd |= PCI_CMD_INTX_DISABLE;
	else
		cmd &= ~PCI_CMD_INTX_DISABLE;
	pci_cfg_write16(d, PCI_COMMAND, cmd);
}

static void pci_msix_write(volatile uint32_t *table, unsigned entry,
			   unsigned dword, uint32_t v)
{
	pci_hw_mmio_write(table + entry * (MSIX_ENTRY_BYTES / 4) + dword, 4, v);
}

static int pci_msix_setup(struct pci_dev *d, unsigned want, pci_irq_fn fn,
			  void *ctx)
{
	unsigned cap = d->msix_cap, size, bir, n, i;
	uint16_t ctl = pci_cfg_read16(d, cap + 2);
	uint32_t tbl = pci_cfg_read32(d, cap + 4), data;
	uint8_t vecs[PCI_MAX_VECTORS];
	volatile uint32_t *table;
	uint64_t addr, off;
	uint8_t *bar;
	int r;

	size = (ctl & MSIX_CTL_SIZE_MASK) + 1;
	bir = tbl & MSIX_TABLE_BIR_MASK;
	off = tbl & ~MSIX_TABLE_BIR_MASK;
	n = want < size ? want : size;
	if (n > PCI_MAX_VECTORS)
		n = PCI_MAX_VECTORS;
	if (bir >= PCI_MAX_BARS || off + (uint64_t)size * MSIX_ENTRY_BYTES >
					   d->bars[bir].size)
		return KEEL_ECORRUPT;
	bar = pci_bar_map(d, bir);
	if (!bar)
		return KEEL_ENOENT;
	table = (volatile uint32_t *)(bar + off);
	r = pci_vec_alloc(n, vecs);
	if (r)
		return r;
	/* The table is in memory space; INTx must stay quiet once MSI-X is
	 * on (PCI 3.0 6.8.2: the function may not use INTx then anyway). */
	pci_cfg_write16(d, PCI_COMMAND, pci_cfg_read16(d, PCI_COMMAND) |
						PCI_CMD_MEM | PCI_CMD_INTX_DISABLE);
	/* Enable with the whole function masked, program, then unmask
	 * (PCI 3.0 6.8.2.3 and 6.8.3.5: entries are written while masked). */
	pci_cfg_write16(d, cap + 2, ctl | MSIX_CTL_ENABLE | MSIX_CTL_MASKALL);
	for (i = 0; i < size; i++)
		pci_msix_write(table, i, MSIX_ENTRY_CTRL, MSIX_ENTRY_MASKED);
	for (i = 0; i < n; i++) {
		r = pci_msi_compose(pci_irq_dest(), vecs[i], &addr, &data);
		if (!r)
			r = pci_vec_add_handler(vecs[i], fn, ctx, i);
		if (r) {
			/* Handlers already published stay, unreachable (their
			 * entries stay masked); their vectors are not reused. */
			pci_vec_free(n - i, vecs + i);
			pci_cfg_write16(d, cap + 2, ctl & ~MSIX_CTL_ENABLE);
			return r;
		}
		pci_msix_write(table, i, MSIX_ENTRY_ADDR_LO, (uint32_t)addr);
		pci_msix_write(table, i, MSIX_ENTRY_ADDR_HI, (uint32_t)(addr >> 32));
		pci_msix_write(table, i, MSIX_ENTRY_DATA, data);
		d->irq_vector[i] = vecs[i];
	}
	for (i = 0; i < n; i++)
		pci_msix_write(table, i, MSIX_ENTRY_CTRL, 0);
	d->msix_table = table;
	d->irq_count = n;
	d->irq_mode = PCI_IRQ_MSIX;
	pci_cfg_write16(d, cap + 2, (ctl | MSIX_CTL_ENABLE) & ~MSIX_CTL_MASKALL);
	return (int)n;
}

static int pci_msi_setup(struct pci_dev *d, pci_irq_fn fn, void *ctx)
{
	unsigned cap = d->msi_cap;
	uint16_t ctl = pci_cfg_read16(d, cap + 2);
	bool is64 = ctl & MSI_CTL_64BIT;
	unsigned data_off = cap + (is64 ? 0x0C : 0x08);
	unsigned mask_off = cap + (is64 ? 0x10 : 0x0C);
	uint64_t addr;
	uint32_t data;
	uint8_t vec;
	int r;

	r = pci_vec_alloc(1, &vec);
	if (r)
		return r;
	r = pci_msi_compose(pci_irq_dest(), vec, &addr, &data);
	if (!r)
		r = pci_vec_add_handler(vec, fn, ctx, 0);
	if (r) {
		pci_vec_free(1, &vec);
		return r;
	}
	/* PCI 3.0 6.8.1: one message (MME 0), then enable. */
	pci_cfg_write16(d, cap + 2, ctl & ~(MSI_CTL_ENABLE | MSI_CTL_MME_MASK));
	pci_cfg_write32(d, cap + 4, (uint32_t)addr);
	if (is64)
		pci_cfg_write32(d, cap + 8, (uint32_t)(addr >> 32));
	pci_cfg_write16(d, data_off, (uint16_t)data);
	if (ctl & MSI_CTL_PVM)
		pci_cfg_write32(d, mask_off, 0);
	pci_intx_set(d, true);
	d->irq_vector[0] = vec;
	d->irq_count = 1;
	d->irq_mode = PCI_IRQ_MSI;
	pci_cfg_write16(d, cap + 2, (ctl & ~MSI_CTL_MME_MASK) | MSI_CTL_ENABLE);
	return 1;
}

/* INTx: Keel has no AML interpreter for _PRT, so the line firmware wrote
 * into config space is the GSI (PCI 3.0 6.2.4). Through an ISA IRQ number
 * the MADT's override says how it is signalled when it names a level
 * trigger (QEMU: level, active high); otherwise PCI's own: level, active
 * low (PCI 3.0 2.2.6). Vectors are shared per GSI. */
static int pci_intx_setup(struct pci_dev *d, pci_irq_fn fn, void *ctx)
{
	uint32_t gsi = d->irq_line;
	bool low = true, level = true, have = false;
	uint8_t vec = 0;
	int r;

	if (!d->irq_pin || d->irq_pin > 4)
		return KEEL_ENOTSUP;
	if (d->irq_line == 0 || d->irq_line == 0xFF)
		return KEEL_ENOENT;
	if (d->irq_line < 16) {
		bool olow, olevel;

		r = ioapic_isa_resolve(&acpi, d->irq_line, &gsi, &olow, &olevel);
		if (r)
			return r;
		if (olevel)
			low = olow;
	}
	for (unsigned i = 0; i < pci_intx_count; i++)
		if (pci_intx_lines[i].gsi == gsi) {
			vec = pci_intx_lines[i].vector;
			have = true;
		}
	if (!have) {
		if (pci_intx_count >= PCI_INTX_LINES_MAX)
			return KEEL_EBUSY;
		r = pci_vec_alloc(1, &vec);
		if (r)
			return r;
	}
	r = pci_vec_add_handler(vec, fn, ctx, 0);
	if (r) {
		if (!have)
			pci_vec_free(1, &vec);
		return r;
	}
	if (!have) {
		r = ioapic_route_gsi(gsi, vec, pci_irq_dest(), low, level);
		if (r) {
			log_warn("pci: %04x:%02x:%02x.%u INTx gsi %u: %s", d->segment,
				 d->bus, d->dev, d->fn, gsi, err_str(r));
			return r;
		}
		pci_intx_lines[pci_intx_count].gsi = gsi;
		pci_intx_lines[pci_intx_count++].vector = vec;
	}
	d->irq_gsi = gsi;
	d->irq_vector[0] = vec;
	d->irq_count = 1;
	d->irq_mode = PCI_IRQ_INTX;
	pci_intx_set(d, false);
	return 1;
}

int pci_irq_setup(struct pci_dev *d, unsigned vectors, pci_irq_fn fn, void *ctx,
		  enum pci_irq_mode *mode)
{
	static const char *const names[] = {"none", "MSI-X", "MSI", "INTx"};
	int r = KEEL_ENOTSUP;

	if (mode)
		*mode = PCI_IRQ_NONE;
	if (!fn || !vectors || d->irq_mode != PCI_IRQ_NONE)
		return KEEL_EINVAL;
	if (d->msix_cap) {
		r = pci_msix_setup(d, vectors, fn, ctx);
		if (r < 0)
			log_info("pci: %04x:%02x:%02x.%u MSI-X: %s, trying MSI/INTx",
				 d->segment, d->bus, d->dev, d->fn, err_str(r));
	}
	if (r < 0 && d->msi_cap) {
		r = pci_msi_setup(d, fn, ctx);
		if (r < 0)
			log_info("pci: %04x:%02x:%02x.%u MSI: %s, trying INTx",
				 d->segment, d->bus, d->dev, d->fn, err_str(r));
	}
	if (r < 0)
		r = pci_intx_setup(d, fn, ctx);
	if (r < 0) {
		log_warn("pci: %04x:%02x:%02x.%u: no usable interrupt (%s)",
			 d->segment, d->bus, d->dev, d->fn, err_str(r));
		return r;
	}
	if (mode)
		*mode = d->irq_mode;
	log_info("pci: %04x:%02x:%02x.%u %s, %d vector(s) from %#x", d->segment,
		 d->bus, d->dev, d->fn, names[d->irq_mode], r, d->irq_vector[0]);
	return r;
}

void pci_irq_mask(struct pci_dev *d, bool masked)
{
	uint16_t ctl;

	switch (d->irq_mode) {
	case PCI_IRQ_MSIX:
		ctl = pci_cfg_read16(d, d->msix_cap + 2);
		ctl = masked ? ctl | MSIX_CTL_MASKALL : ctl & ~MSIX_CTL_MASKALL;
		pci_cfg_write16(d, d->msix_cap + 2, ctl);
		break;
	case PCI_IRQ_MSI:
		/* Without per-vector masking MSI cannot be masked (turning it
		 * off would lose the interrupt): left alone. */
		ctl = pci_cfg_read16(d, d->msi_cap + 2);
		if (ctl & MSI_CTL_PVM)
			pci_cfg_write32(d, d->msi_cap + ((ctl & MSI_CTL_64BIT) ? 0x10 : 0x0C),
					masked ? 1 : 0);
		break;
	case PCI_IRQ_INTX:
		pci_intx_set(d, masked);
		break;
	case PCI_IRQ_NONE:
		break;
	}
}
