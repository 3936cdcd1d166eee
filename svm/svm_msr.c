/*
 * svm_msr.c - the I/O and MSR permission maps (AMD APM vol.2 15.10.1, 15.11)
 * and the two MSRs the backend answers itself: EFER, whose SVME bit the guest
 * must not see but VMRUN needs, and PAT, which lives in the VMCB (G_PAT).
 * Every other intercepted MSR goes to the core. Pure code, host-tested.
 */
#include <string.h>

#include "kernel/arch/x86.h"
#include "kernel/err.h"
#include "svm/svm_softc.h"


/* --------------------------------------------------------------- IOPM -- */

/*
 * APM 15.10.1: one bit per port, 64K ports, plus bits beyond 0xFFFF that a
 * multi-byte access at the top of the port space checks: 12 KiB. Every port
 * is intercepted; the core emulates or ignores what no device claims.
 */
void svm_iopm_init(uint8_t *iopm)
{
	memset(iopm, 0xFF, SVM_IOPM_SIZE);
}

void svm_iopm_set(uint8_t *iopm, uint16_t port, bool intercept)
{
	if (intercept)
		iopm[port / 8] |= 1u << (port % 8);
	else
		iopm[port / 8] &= ~(1u << (port % 8));
}

/* What the CPU does for an access of 'size' bytes (1, 2, 4) at 'port': it
 * exits when the bit of any byte of the access is set. */
bool svm_iopm_intercepted(const uint8_t *iopm, uint16_t port, unsigned size)
{
	for (unsigned i = 0; i < size; i++) {
		unsigned p = (unsigned)port + i; /* up to 0x10002: 12 KiB */

		if (iopm[p / 8] & (1u << (p % 8)))
			return true;
	}
	return false;
}

/* -------------------------------------------------------------- MSRPM -- */

/*
 * APM 15.11: two bits per MSR (even: read, odd: write) for three ranges of
 * 8K MSRs, 2 KiB each; MSRs outside them always exit.
 */
static const struct {
	uint32_t first;
	unsigned offset; /* byte offset of its 2 KiB in the map */
} svm_msrpm_ranges[] = {
	{ 0x00000000, 0x0000 },
	{ 0xC0000000, 0x0800 },
	{ 0xC0010000, 0x1000 },
};
#define SVM_MSRPM_RANGE_MSRS 0x2000u

int svm_msrpm_position(uint32_t msr, bool write, unsigned *byte,
		       unsigned *bit)
{
	for (unsigned i = 0; i < sizeof(svm_msrpm_ranges) /
					sizeof(svm_msrpm_ranges[0]);
	     i++) {
		uint32_t n = msr - svm_msrpm_ranges[i].first;

		if (msr < svm_msrpm_ranges[i].first ||
		    n >= SVM_MSRPM_RANGE_MSRS)
			continue;
		*byte = svm_msrpm_ranges[i].offset + n / 4;
		*bit = (n % 4) * 2 + (write ? 1 : 0);
		return 0;
	}
	return KEEL_ERANGE;
}

void svm_msrpm_set(uint8_t *msrpm, uint32_t msr, bool read, bool write)
{
	unsigned byte, bit;

	if (!svm_msrpm_position(msr, false, &byte, &bit)) {
		if (read)
			msrpm[byte] |= 1u << bit;
		else
			msrpm[byte] &= ~(1u << bit);
	}
	if (!svm_msrpm_position(msr, true, &byte, &bit)) {
		if (write)
			msrpm[byte] |= 1u << bit;
		else
			msrpm[byte] &= ~(1u << bit);
	}
}

bool svm_msrpm_intercepted(const uint8_t *msrpm, uint32_t msr, bool write)
{
	unsigned byte, bit;

	if (svm_msrpm_position(msr, write, &byte, &bit))
		return true;
	return msrpm[byte] & (1u << bit);
}

/*
 * Everything is intercepted except the MSRs whose guest values live in the
 * VMCB save area and that VMRUN or VMLOAD/VMSAVE switch on every entry and
 * exit (APM 15.5.1, 15.5.2): the guest reads and writes its own copy. EFER
 * and PAT are in the save area too but stay intercepted (svm_msr_access).
 */

void svm_msrpm_init(uint8_t *msrpm)
{
	memset(msrpm, 0xFF, SVM_MSRPM_SIZE);
	for (unsigned i = 0; i < virt_msr_passthrough_count;
	     i++)
		svm_msrpm_set(msrpm, virt_msr_passthrough[i], false, false);
}

/* ------------------------------------------------- emulated MSRs -- */

/* EFER bits a guest may write: what the CPUID policy can show it. SVME is
 * accepted and ignored: it is hidden on reads and always kept set. */
#define SVM_EFER_WRITABLE (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | EFER_SVME)

static enum svm_msr_result svm_msr_write_efer(struct svm_vcpu *sv,
					      uint64_t value)
{
	struct vmcb_save *s = &sv->vmcb->save;
	uint64_t old = s->efer, new;

	if (value & ~SVM_EFER_WRITABLE)
		return SVM_MSR_GP;
	/* APM 14.6.1: changing LME while paging is on raises #GP. */
	if ((s->cr0 & CR0_PG) && ((value ^ old) & EFER_LME))
		return SVM_MSR_GP;
	/* LMA is the CPU's: a write does not change it (it follows CR0.PG
	 * with LME, which the CPU does for the guest under VMRUN). */
	new = (value & ~EFER_LMA) | (old & EFER_LMA) | EFER_SVME;
	if ((new ^ old) & (EFER_NXE | EFER_LME))
		svm_asid_request_flush(sv);
	s->efer = new;
	return SVM_MSR_DONE;
}

/* SDM 11.12.2: each PAT entry is 0 (UC), 1 (WC), 4 (WT), 5 (WP), 6 (WB) or
 * 7 (UC-); anything else in any byte raises #GP. */
static bool svm_pat_valid(uint64_t pat)
{
	for (unsigned i = 0; i < 8; i++) {
		uint8_t t = pat >> (i * 8);

		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

enum svm_msr_result svm_msr_access(struct svm_vcpu *sv, uint32_t index,
				   bool write, uint64_t *value)
{
	struct vmcb_save *s = &sv->vmcb->save;

	switch (index) {
	case MSR_EFER:
		if (write)
			return svm_msr_write_efer(sv, *value);
		*value = s->efer & ~EFER_SVME;
		return SVM_MSR_DONE;
	case MSR_IA32_PAT:
		if (!write) {
			*value = s->g_pat;
			return SVM_MSR_DONE;
		}
		if (!svm_pat_valid(*value))
			return SVM_MSR_GP;
		/* Memory types are cached with translations. */
		if (s->g_pat != *value)
			svm_asid_request_flush(sv);
		s->g_pat = *value;
		return SVM_MSR_DONE;
	default:
		return SVM_MSR_CORE;
	}
}
