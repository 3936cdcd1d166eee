/*
 * acpi.c - reads the firmware's ACPI tables (RSDP, RSDT/XSDT, MADT, MCFG, HPET,
 * FADT, DSDT/SSDTs) into struct acpi_info. Owns the global 'acpi' filled once
 * at boot by acpi_init(); everything else here is host-testable.
 *
 * Nothing in a table is trusted: each one is mapped header-first, its Length
 * bounded, its checksum verified; every field read is checked against that
 * Length. A bad table is logged and skipped, never followed. Mappings from the
 * map function must stay valid until acpi_parse() returns (the direct map does).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernel/acpi.h"
#include "kernel/err.h"
#include "kernel/log.h"

#define ACPI_HDR_LEN 36		  /* System Description Table Header, 5.2.6 */
#define ACPI_TABLE_MAX (16u << 20) /* no real table comes near this */
#define ACPI_MAX_TABLES 256	  /* root entries we follow */
#define ACPI_RSDP_V1_LEN 20	  /* 5.2.5.3: checksum covers these */
#define ACPI_RSDP_V2_LEN 36
#define ACPI_RSDP_MAX_LEN 4096

/* FADT offsets, ACPI 6.5 Table 5.9. */
#define FADT_DSDT 40
#define FADT_SCI_INT 46
#define FADT_SMI_CMD 48
#define FADT_ACPI_ENABLE 52
#define FADT_PM1A_EVT_BLK 56
#define FADT_PM1B_EVT_BLK 60
#define FADT_PM1A_CNT_BLK 64
#define FADT_PM1B_CNT_BLK 68
#define FADT_PM_TMR_BLK 76
#define FADT_PM1_EVT_LEN 88
#define FADT_PM1_CNT_LEN 89
#define FADT_PM_TMR_LEN 91
#define FADT_FLAGS 112
#define FADT_REV1_LEN 116 /* ACPI 1.0 FADT ends after Flags */
#define FADT_RESET_REG 116
#define FADT_RESET_VALUE 128
#define FADT_X_DSDT 140
#define FADT_X_PM1A_EVT_BLK 148
#define FADT_X_PM1B_EVT_BLK 160
#define FADT_X_PM1A_CNT_BLK 172
#define FADT_X_PM1B_CNT_BLK 184
#define FADT_X_PM_TMR_BLK 208

#define FADT_F_TMR_VAL_EXT (1u << 8)
#define FADT_F_RESET_REG_SUP (1u << 10)
#define FADT_F_HW_REDUCED_ACPI (1u << 20)

#define GAS_LEN 12

/* MADT, ACPI 6.5 5.2.12: LAPIC address and Flags, then subtables. */
#define MADT_SUBTABLES 44
#define MADT_PCAT_COMPAT (1u << 0)
#define MADT_LAPIC 0
#define MADT_IOAPIC 1
#define MADT_ISO 2
#define MADT_NMI_SOURCE 3
#define MADT_LAPIC_NMI 4
#define MADT_LAPIC_ADDR_OVERRIDE 5
#define MADT_X2APIC 9
#define MADT_X2APIC_NMI 10
#define MADT_LAPIC_ENABLED (1u << 0)
#define MADT_LAPIC_ONLINE_CAPABLE (1u << 1)

/* MCFG, PCI Firmware spec 3.3 4.1.2: 8 reserved bytes, then 16-byte entries. */
#define MCFG_ENTRIES 44
#define MCFG_ENTRY_LEN 16

/* HPET table (IA-PC HPET spec 1.0a 3.2.4): base address GAS at 40. */
#define HPET_BASE_GAS 40

/* Little-endian reads from byte pointers: tables have no alignment. */
static uint16_t acpi_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t acpi_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static uint64_t acpi_rd64(const uint8_t *p)
{
	return (uint64_t)acpi_rd32(p) | ((uint64_t)acpi_rd32(p + 4) << 32);
}

static uint8_t acpi_checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum += *p++;
	return sum;
}

/* A table's signature, printable, for messages. */
static void acpi_sig_str(const uint8_t *sig, char out[5])
{
	for (int i = 0; i < 4; i++)
		out[i] = (sig[i] >= 0x20 && sig[i] < 0x7F) ? (char)sig[i] : '?';
	out[4] = 0;
}

struct acpi_ctx {
	acpi_map_fn map;
	struct acpi_info *out;
	bool ssdt_s5; /* an SSDT's \_S5 is held in s5a/s5b */
	uint8_t s5a, s5b;
};

/*
 * Map one whole table at pa: header first, then Length bytes, checksum over
 * all of them (5.2.6: the sum of all bytes must be zero). 'want' is the
 * expected signature or NULL. Returns NULL after a warning on any problem.
 */
static const uint8_t *acpi_map_table(struct acpi_ctx *c, uint64_t pa,
				     const char *want, uint32_t *len_out)
{
	const uint8_t *h, *t;
	char sig[5] = "????";
	uint32_t len;

	c->out->tables_seen++;
	h = c->map(pa, ACPI_HDR_LEN);
	if (!h) {
		log_warn("acpi: table %s at 0x%llx cannot be mapped, skipped",
			 want ? want : "?", (unsigned long long)pa);
		goto bad;
	}
	acpi_sig_str(h, sig);
	if (want && memcmp(h, want, 4) != 0) {
		log_warn("acpi: table at 0x%llx is '%s', expected %s, skipped",
			 (unsigned long long)pa, sig, want);
		goto bad;
	}
	len = acpi_rd32(h + 4);
	if (len < ACPI_HDR_LEN || len > ACPI_TABLE_MAX) {
		log_warn("acpi: table %s at 0x%llx has bad length %u, skipped",
			 sig, (unsigned long long)pa, len);
		goto bad;
	}
	t = c->map(pa, len);
	if (!t) {
		log_warn("acpi: table %s at 0x%llx (%u bytes) cannot be mapped, skipped",
			 sig, (unsigned long long)pa, len);
		goto bad;
	}
	if (acpi_checksum(t, len) != 0) {
		log_warn("acpi: table %s at 0x%llx has a bad checksum, skipped",
			 sig, (unsigned long long)pa);
		goto bad;
	}
	*len_out = len;
	return t;
bad:
	c->out->tables_bad++;
	return NULL;
}

/* ---- MADT ---- */

static bool acpi_cpu_known(const struct acpi_info *a, uint32_t apic_id)
{
	for (unsigned i = 0; i < a->cpu_count; i++)
		if (a->cpus[i].apic_id == apic_id)
			return true;
	return false;
}

struct acpi_madt_state {
	unsigned cpus_dropped, ioapics_dropped, overrides_dropped, skipped;
};

static void acpi_madt_add_cpu(struct acpi_info *a, struct acpi_madt_state *st,
			      uint32_t apic_id, uint32_t uid, uint32_t flags,
			      bool x2apic)
{
	/* 5.2.12.2: neither Enabled nor Online Capable means "do not use". */
	if (!(flags & (MADT_LAPIC_ENABLED | MADT_LAPIC_ONLINE_CAPABLE)))
		return;
	/* 5.2.12.12: firmware may list a CPU with APIC id < 255 in both forms. */
	if (acpi_cpu_known(a, apic_id)) {
		log_debug("acpi: madt: apic id %u listed twice, ignored", apic_id);
		return;
	}
	if (a->cpu_count >= ACPI_MAX_CPUS) {
		st->cpus_dropped++;
		return;
	}
	struct acpi_cpu *cpu = &a->cpus[a->cpu_count++];
	cpu->apic_id = apic_id;
	cpu->uid = uid;
	cpu->x2apic = x2apic;
	cpu->enabled = flags & MADT_LAPIC_ENABLED;
}

/* One subtable e[0..elen) (elen checked >= the type's size by the caller). */
static void acpi_madt_entry(struct acpi_info *a, struct acpi_madt_state *st,
			    const uint8_t *e)
{
	switch (e[0]) {
	case MADT_LAPIC:
		/* 0xFF is the broadcast id, never a CPU (5.2.12.2). */
		if (e[3] != 0xFF)
			acpi_madt_add_cpu(a, st, e[3], e[2], acpi_rd32(e + 4),
					  false);
		break;
	case MADT_X2APIC:
		if (acpi_rd32(e + 4) != 0xFFFFFFFFu)
			acpi_madt_add_cpu(a, st, acpi_rd32(e + 4),
					  acpi_rd32(e + 12), acpi_rd32(e + 8),
					  true);
		break;
	case MADT_IOAPIC:
		if (a->ioapic_count >= ACPI_MAX_IOAPICS) {
			st->ioapics_dropped++;
			break;
		}
		a->ioapics[a->ioapic_count++] = (struct acpi_ioapic){
			.id = e[2],
			.address = acpi_rd32(e + 4),
			.gsi_base = acpi_rd32(e + 8),
		};
		break;
	case MADT_ISO:
		if (a->override_count >= ACPI_MAX_OVERRIDES) {
			st->overrides_dropped++;
			break;
		}
		a->overrides[a->override_count++] = (struct acpi_override){
			.bus = e[2],
			.source = e[3],
			.gsi = acpi_rd32(e + 4),
			.flags = acpi_rd16(e + 8),
		};
		break;
	case MADT_LAPIC_ADDR_OVERRIDE:
		if (acpi_rd64(e + 4))
			a->lapic_address = acpi_rd64(e + 4);
		break;
	default:
		st->skipped++;
		break;
	}
}

/* Minimum length of each subtable type we read (ACPI 6.5 5.2.12.x). */
static unsigned acpi_madt_min_len(uint8_t type)
{
	switch (type) {
	case MADT_LAPIC:
		return 8;
	case MADT_IOAPIC:
		return 12;
	case MADT_ISO:
		return 10;
	case MADT_LAPIC_ADDR_OVERRIDE:
		return 12;
	case MADT_X2APIC:
		return 16;
	default:
		return 2;
	}
}

static void acpi_parse_madt(struct acpi_ctx *c, const uint8_t *t, uint32_t len,
			    uint64_t pa)
{
	struct acpi_info *a = c->out;
	struct acpi_madt_state st = {0};
	uint32_t off;

	if (a->have_madt) {
		log_warn("acpi: second MADT at 0x%llx ignored",
			 (unsigned long long)pa);
		return;
	}
	if (len < MADT_SUBTABLES) {
		log_warn("acpi: MADT at 0x%llx too short (%u bytes), skipped",
			 (unsigned long long)pa, len);
		a->tables_bad++;
		return;
	}
	a->have_madt = true;
	a->lapic_address = acpi_rd32(t + 36);
	a->pcat_compat = acpi_rd32(t + 40) & MADT_PCAT_COMPAT;

	for (off = MADT_SUBTABLES; off < len;) {
		const uint8_t *e = t + off;
		uint32_t left = len - off;
		unsigned elen;

		if (left < 2) {
			log_warn("acpi: MADT at 0x%llx: %u stray bytes at offset %u",
				 (unsigned long long)pa, left, off);
			break;
		}
		elen = e[1];
		if (elen < 2) {
			/* Can't step past it: stop here, keep what came before. */
			log_warn("acpi: MADT at 0x%llx: entry type %u at offset %u has length %u, rest ignored",
				 (unsigned long long)pa, e[0], off, elen);
			break;
		}
		if (elen > left) {
			log_warn("acpi: MADT at 0x%llx: entry type %u at offset %u runs past the end, rest ignored",
				 (unsigned long long)pa, e[0], off);
			break;
		}
		if (elen < acpi_madt_min_len(e[0]))
			log_warn("acpi: MADT at 0x%llx: entry type %u at offset %u too short (%u), skipped",
				 (unsigned long long)pa, e[0], off, elen);
		else
			acpi_madt_entry(a, &st, e);
		off += elen;
	}

	if (st.cpus_dropped)
		log_warn("acpi: MADT lists more than %u CPUs, %u ignored",
			 ACPI_MAX_CPUS, st.cpus_dropped);
	if (st.ioapics_dropped)
		log_warn("acpi: MADT lists more than %u IOAPICs, %u ignored",
			 ACPI_MAX_IOAPICS, st.ioapics_dropped);
	if (st.overrides_dropped)
		log_warn("acpi: MADT lists more than %u interrupt overrides, %u ignored",
			 ACPI_MAX_OVERRIDES, st.overrides_dropped);
	if (st.skipped)
		log_debug("acpi: MADT: %u entries of types not used skipped",
			  st.skipped);
}

/* ---- MCFG, HPET ---- */

static void acpi_parse_mcfg(struct acpi_ctx *c, const uint8_t *t, uint32_t len,
			    uint64_t pa)
{
	struct acpi_info *a = c->out;
	uint32_t off;

	if (len < MCFG_ENTRIES) {
		log_warn("acpi: MCFG at 0x%llx too short (%u bytes), skipped",
			 (unsigned long long)pa, len);
		a->tables_bad++;
		return;
	}
	if ((len - MCFG_ENTRIES) % MCFG_ENTRY_LEN)
		log_warn("acpi: MCFG at 0x%llx: length %u leaves a partial entry",
			 (unsigned long long)pa, len);
	for (off = MCFG_ENTRIES; len - off >= MCFG_ENTRY_LEN;
	     off += MCFG_ENTRY_LEN) {
		const uint8_t *e = t + off;
		struct acpi_mcfg m = {
			.base = acpi_rd64(e),
			.segment = acpi_rd16(e + 8),
			.bus_start = e[10],
			.bus_end = e[11],
		};

		if (!m.base || m.bus_start > m.bus_end) {
			log_warn("acpi: MCFG at 0x%llx: entry %u (base 0x%llx, buses %u-%u) invalid, skipped",
				 (unsigned long long)pa,
				 (off - MCFG_ENTRIES) / MCFG_ENTRY_LEN,
				 (unsigned long long)m.base, m.bus_start,
				 m.bus_end);
			continue;
		}
		if (a->mcfg_count >= ACPI_MAX_MCFG) {
			log_warn("acpi: MCFG: more than %u ranges, rest ignored",
				 ACPI_MAX_MCFG);
			break;
		}
		a->mcfg[a->mcfg_count++] = m;
	}
}

static void acpi_parse_hpet(struct acpi_ctx *c, const uint8_t *t, uint32_t len,
			    uint64_t pa)
{
	struct acpi_info *a = c->out;
	uint64_t base;

	if (a->have_hpet)
		return; /* more HPET blocks may exist; the first is enough */
	if (len < HPET_BASE_GAS + GAS_LEN) {
		log_warn("acpi: HPET at 0x%llx too short (%u bytes), skipped",
			 (unsigned long long)pa, len);
		a->tables_bad++;
		return;
	}
	base = acpi_rd64(t + HPET_BASE_GAS + 4);
	/* The HPET spec requires its registers in memory space. */
	if (t[HPET_BASE_GAS] != ACPI_SPACE_MEMORY || !base) {
		log_warn("acpi: HPET at 0x%llx: base (space %u, 0x%llx) not a memory address, skipped",
			 (unsigned long long)pa, t[HPET_BASE_GAS],
			 (unsigned long long)base);
		return;
	}
	a->have_hpet = true;
	a->hpet_address = base;
}

/* ---- FADT ---- */

/* Fields past a short FADT's Length read as zero (ACPICA does the same). */
static uint32_t fadt_rd32(const uint8_t *t, uint32_t len, uint32_t off)
{
	return off + 4 <= len ? acpi_rd32(t + off) : 0;
}

static uint8_t fadt_rd8(const uint8_t *t, uint32_t len, uint32_t off)
{
	return off < len ? t[off] : 0;
}

static void acpi_gas_decode(const uint8_t *p, struct acpi_gas *g)
{
	g->space = p[0];
	g->bit_width = p[1];
	g->bit_offset = p[2];
	g->access_size = p[3];
	g->address = acpi_rd64(p + 4);
}

/*
 * One PM block: the 64-bit X_ GAS when the table has it and it is non-zero
 * (5.2.9: "if non-zero, OSPM uses it"), else the legacy I/O port + length.
 */
static void acpi_fadt_block(const uint8_t *t, uint32_t len, uint32_t x_off,
			    uint32_t legacy_off, uint32_t len_off,
			    struct acpi_gas *g)
{
	uint8_t blk_len = fadt_rd8(t, len, len_off);

	if (x_off + GAS_LEN <= len && acpi_rd64(t + x_off + 4)) {
		acpi_gas_decode(t + x_off, g);
		if (!g->bit_width)
			g->bit_width = (uint8_t)(blk_len * 8);
		return;
	}
	uint32_t port = fadt_rd32(t, len, legacy_off);
	if (!port) {
		*g = (struct acpi_gas){.space = ACPI_SPACE_NONE};
		return;
	}
	*g = (struct acpi_gas){
		.space = ACPI_SPACE_IO,
		.bit_width = (uint8_t)(blk_len * 8),
		.address = port,
	};
}

/* Returns the DSDT address, 0 if none. */
static uint64_t acpi_parse_fadt(struct acpi_ctx *c, const uint8_t *t,
				uint32_t len, uint64_t pa)
{
	struct acpi_info *a = c->out;
	uint32_t flags;

	if (a->have_fadt) {
		log_warn("acpi: second FADT at 0x%llx ignored",
			 (unsigned long long)pa);
		return 0;
	}
	if (len < FADT_REV1_LEN)
		log_warn("acpi: FADT at 0x%llx short (%u bytes, 1.0 has %u), missing fields read as 0",
			 (unsigned long long)pa, len, FADT_REV1_LEN);
	a->have_fadt = true;
	a->sci_irq = (uint16_t)(fadt_rd8(t, len, FADT_SCI_INT) |
				(fadt_rd8(t, len, FADT_SCI_INT + 1) << 8));
	a->smi_cmd = fadt_rd32(t, len, FADT_SMI_CMD);
	a->acpi_enable = fadt_rd8(t, len, FADT_ACPI_ENABLE);
	a->pm1_evt_len = fadt_rd8(t, len, FADT_PM1_EVT_LEN);
	flags = fadt_rd32(t, len, FADT_FLAGS);
	a->pm_tmr_32bit = flags & FADT_F_TMR_VAL_EXT;
	a->hw_reduced = flags & FADT_F_HW_REDUCED_ACPI;

	acpi_fadt_block(t, len, FADT_X_PM1A_EVT_BLK, FADT_PM1A_EVT_BLK,
			FADT_PM1_EVT_LEN, &a->pm1a_evt);
	acpi_fadt_block(t, len, FADT_X_PM1B_EVT_BLK, FADT_PM1B_EVT_BLK,
			FADT_PM1_EVT_LEN, &a->pm1b_evt);
	acpi_fadt_block(t, len, FADT_X_PM1A_CNT_BLK, FADT_PM1A_CNT_BLK,
			FADT_PM1_CNT_LEN, &a->pm1a_cnt);
	acpi_fadt_block(t, len, FADT_X_PM1B_CNT_BLK, FADT_PM1B_CNT_BLK,
			FADT_PM1_CNT_LEN, &a->pm1b_cnt);
	acpi_fadt_block(t, len, FADT_X_PM_TMR_BLK, FADT_PM_TMR_BLK,
			FADT_PM_TMR_LEN, &a->pm_tmr);

	/* RESET_REG and RESET_VALUE exist from FADT revision 2 (length 129+). */
	a->reset_reg = (struct acpi_gas){.space = ACPI_SPACE_NONE};
	if ((flags & FADT_F_RESET_REG_SUP) && len > FADT_RESET_VALUE) {
		struct acpi_gas g;

		acpi_gas_decode(t + FADT_RESET_REG, &g);
		if (g.address && (g.space == ACPI_SPACE_MEMORY ||
				  g.space == ACPI_SPACE_IO ||
				  g.space == ACPI_SPACE_PCI)) {
			a->have_reset_reg = true;
			a->reset_reg = g;
			a->reset_value = t[FADT_RESET_VALUE];
		} else {
			log_warn("acpi: FADT reset register (space %u, 0x%llx) unusable",
				 g.space, (unsigned long long)g.address);
		}
	}

	if (len >= FADT_X_DSDT + 8 && acpi_rd64(t + FADT_X_DSDT))
		a->dsdt = acpi_rd64(t + FADT_X_DSDT);
	else
		a->dsdt = fadt_rd32(t, len, FADT_DSDT);
	return a->dsdt;
}

/* ---- DSDT, SSDT, the root ---- */

static void acpi_parse_aml_table(struct acpi_ctx *c, const uint8_t *t,
				 uint32_t len, bool is_dsdt)
{
	uint8_t a, b;

	if (!acpi_find_s5(t + ACPI_HDR_LEN, len - ACPI_HDR_LEN, &a, &b))
		return;
	if (is_dsdt) {
		c->out->have_s5 = true;
		c->out->s5_slp_typa = a;
		c->out->s5_slp_typb = b;
	} else if (!c->ssdt_s5) {
		c->ssdt_s5 = true;
		c->s5a = a;
		c->s5b = b;
	}
}

/* Has the root listed this address before entry i? */
static bool acpi_root_dup(const uint8_t *t, uint32_t esz, uint32_t i,
			  uint64_t pa)
{
	for (uint32_t j = 0; j < i; j++) {
		const uint8_t *e = t + ACPI_HDR_LEN + j * esz;

		if ((esz == 8 ? acpi_rd64(e) : acpi_rd32(e)) == pa)
			return true;
	}
	return false;
}

static void acpi_parse_entry(struct acpi_ctx *c, uint64_t pa, uint64_t *dsdt)
{
	const uint8_t *t;
	uint32_t len;

	t = acpi_map_table(c, pa, NULL, &len);
	if (!t)
		return;
	if (!memcmp(t, "APIC", 4))
		acpi_parse_madt(c, t, len, pa);
	else if (!memcmp(t, "MCFG", 4))
		acpi_parse_mcfg(c, t, len, pa);
	else if (!memcmp(t, "HPET", 4))
		acpi_parse_hpet(c, t, len, pa);
	else if (!memcmp(t, "FACP", 4)) {
		uint64_t d = acpi_parse_fadt(c, t, len, pa);

		if (d)
			*dsdt = d;
	} else if (!memcmp(t, "SSDT", 4))
		acpi_parse_aml_table(c, t, len, false);
	/* Everything else (FACS is reached through the FADT, not the root;
	 * DSDT likewise; SRAT, DMAR, BGRT, ...) is not ours yet. */
}

/* Walk an RSDT (esz 4) or XSDT (esz 8). false when the root itself is bad. */
static bool acpi_parse_root(struct acpi_ctx *c, uint64_t pa, bool xsdt)
{
	const char *want = xsdt ? "XSDT" : "RSDT";
	uint32_t esz = xsdt ? 8 : 4, len, n;
	const uint8_t *t;
	uint64_t dsdt = 0;

	t = acpi_map_table(c, pa, want, &len);
	if (!t)
		return false;
	n = (len - ACPI_HDR_LEN) / esz;
	if ((len - ACPI_HDR_LEN) % esz)
		log_warn("acpi: %s at 0x%llx: length %u leaves a partial entry",
			 want, (unsigned long long)pa, len);
	if (n > ACPI_MAX_TABLES) {
		log_warn("acpi: %s at 0x%llx lists %u tables, only the first %u read",
			 want, (unsigned long long)pa, n, ACPI_MAX_TABLES);
		n = ACPI_MAX_TABLES;
	}
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *e = t + ACPI_HDR_LEN + i * esz;
		uint64_t tpa = xsdt ? acpi_rd64(e) : acpi_rd32(e);

		if (!tpa) {
			log_warn("acpi: %s entry %u is null, skipped", want, i);
			continue;
		}
		if (acpi_root_dup(t, esz, i, tpa)) {
			log_warn("acpi: %s entry %u (0x%llx) listed twice, skipped",
				 want, i, (unsigned long long)tpa);
			continue;
		}
		acpi_parse_entry(c, tpa, &dsdt);
	}

	if (dsdt) {
		t = acpi_map_table(c, dsdt, "DSDT", &len);
		if (t)
			acpi_parse_aml_table(c, t, len, true);
	}
	/* DSDT first (its \_S5 wins), then the first SSDT that has one. */
	if (!c->out->have_s5 && c->ssdt_s5) {
		c->out->have_s5 = true;
		c->out->s5_slp_typa = c->s5a;
		c->out->s5_slp_typb = c->s5b;
	}
	return true;
}

static void acpi_info_reset(struct acpi_info *out)
{
	memset(out, 0, sizeof(*out));
	out->pm1a_evt.space = ACPI_SPACE_NONE;
	out->pm1b_evt.space = ACPI_SPACE_NONE;
	out->pm1a_cnt.space = ACPI_SPACE_NONE;
	out->pm1b_cnt.space = ACPI_SPACE_NONE;
	out->pm_tmr.space = ACPI_SPACE_NONE;
	out->reset_reg.space = ACPI_SPACE_NONE;
}

int acpi_parse(uint64_t rsdp_pa, acpi_map_fn map, struct acpi_info *out)
{
	struct acpi_ctx c = {.map = map, .out = out};
	const uint8_t *r;
	uint64_t rsdt, xsdt = 0;

	acpi_info_reset(out);
	if (!rsdp_pa || !map)
		return KEEL_ENOENT;
	/* RSDP, 5.2.5.3: the ACPI 1.0 part is 20 bytes with its own checksum. */
	r = map(rsdp_pa, ACPI_RSDP_V1_LEN);
	if (!r || memcmp(r, "RSD PTR ", 8) != 0) {
		log_warn("acpi: no RSDP at 0x%llx", (unsigned long long)rsdp_pa);
		return KEEL_ENOENT;
	}
	if (acpi_checksum(r, ACPI_RSDP_V1_LEN) != 0) {
		log_warn("acpi: RSDP at 0x%llx has a bad checksum",
			 (unsigned long long)rsdp_pa);
		return KEEL_ECORRUPT;
	}
	out->revision = r[15];
	for (int i = 0; i < 6; i++) {
		uint8_t ch = r[9 + i];

		out->oem_id[i] = (ch >= 0x20 && ch < 0x7F) ? (char)ch : ' ';
	}
	for (int i = 5; i >= 0 && out->oem_id[i] == ' '; i--)
		out->oem_id[i] = 0;
	rsdt = acpi_rd32(r + 16);

	if (out->revision >= 2) {
		/* 2.0+: Length and an extended checksum over all of it. */
		uint32_t len;

		r = map(rsdp_pa, ACPI_RSDP_V2_LEN);
		len = r ? acpi_rd32(r + 20) : 0;
		if (!r || len < ACPI_RSDP_V2_LEN || len > ACPI_RSDP_MAX_LEN) {
			log_warn("acpi: RSDP at 0x%llx: bad length %u",
				 (unsigned long long)rsdp_pa, len);
			return KEEL_ECORRUPT;
		}
		r = map(rsdp_pa, len);
		if (!r || acpi_checksum(r, len) != 0) {
			log_warn("acpi: RSDP at 0x%llx has a bad extended checksum",
				 (unsigned long long)rsdp_pa);
			return KEEL_ECORRUPT;
		}
		xsdt = acpi_rd64(r + 24);
	}

	if (xsdt) {
		if (acpi_parse_root(&c, xsdt, true))
			return 0;
		log_warn("acpi: XSDT unusable, trying the RSDT");
	}
	if (rsdt && acpi_parse_root(&c, rsdt, false))
		return 0;
	log_warn("acpi: RSDP at 0x%llx leads to no usable RSDT/XSDT",
		 (unsigned long long)rsdp_pa);
	return KEEL_ECORRUPT;
}

#ifndef KEEL_HOST_TEST
#include <stdio.h>

#include "mm/mm.h"

struct acpi_info acpi;

/* Firmware puts ACPI tables in RAM (ACPI reclaim/NVS/reserved), all of which
 * mm keeps in the direct map. */
static const void *acpi_map_direct(uint64_t pa, size_t len)
{
	if (!pa || pa + len < pa)
		return NULL;
	return phys_to_virt(pa);
}

static void acpi_gas_str(const struct acpi_gas *g, char *buf, size_t size)
{
	static const char *const space[] = {"mmio", "port", "pci"};

	if (g->space == ACPI_SPACE_NONE)
		snprintf(buf, size, "none");
	else if (g->space <= ACPI_SPACE_PCI)
		snprintf(buf, size, "%s 0x%llx", space[g->space],
			 (unsigned long long)g->address);
	else
		snprintf(buf, size, "space%u 0x%llx", g->space,
			 (unsigned long long)g->address);
}

int acpi_init(uint64_t rsdp_pa)
{
	char tmr[40], rst[48], s5[16];
	int err = acpi_parse(rsdp_pa, acpi_map_direct, &acpi);

	if (err) {
		log_warn("acpi: no usable tables (%s)", err_str(err));
		return err;
	}
	acpi_gas_str(&acpi.pm_tmr, tmr, sizeof(tmr));
	if (acpi.have_reset_reg) {
		char g[40];

		acpi_gas_str(&acpi.reset_reg, g, sizeof(g));
		snprintf(rst, sizeof(rst), "%s=0x%x", g, acpi.reset_value);
	} else {
		snprintf(rst, sizeof(rst), "none");
	}
	if (acpi.have_s5)
		snprintf(s5, sizeof(s5), "%u/%u", acpi.s5_slp_typa,
			 acpi.s5_slp_typb);
	else
		snprintf(s5, sizeof(s5), "none");
	log_info("acpi: rev %u oem %s, %u cpus, %u ioapics, hpet %s, mcfg %u, pm timer %s%s, reset reg %s, s5 typ %s",
		 acpi.revision, acpi.oem_id, acpi.cpu_count, acpi.ioapic_count,
		 acpi.have_hpet ? "yes" : "no", acpi.mcfg_count, tmr,
		 acpi.pm_tmr_32bit ? " (32-bit)" : "", rst, s5);
	if (acpi.tables_bad)
		log_warn("acpi: %u of %u tables were bad and skipped",
			 acpi.tables_bad, acpi.tables_seen);
	return 0;
}
#endif
