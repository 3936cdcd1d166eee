/*
 * virt_detect.h - what each CPU offers for hardware virtualization, read at
 * bring-up and kept for the backends (vmx/, svm/).
 */
#ifndef KEEL_VIRT_DETECT_H
#define KEEL_VIRT_DETECT_H

#include <stdbool.h>
#include <stdint.h>

enum virt_kind {
	VIRT_NONE = 0,
	VIRT_VMX = 1,
	VIRT_SVM = 2,
};

struct virt_caps {
	enum virt_kind kind; /* what this CPU can run, VIRT_NONE if not usable */
	char why[96];	     /* when VIRT_NONE: the reason */
	/* VMX (Intel SDM vol.3 A.1-A.10) */
	bool vmx;
	uint64_t feature_control;
	bool fc_locked, fc_vmx_enabled;
	uint64_t vmx_basic, vmx_procbased2, vmx_ept_vpid;
	bool ept, vpid, unrestricted_guest;
	/* SVM (AMD APM vol.2 15.4, CPUID 8000_000Ah) */
	bool svm;
	bool svm_disabled; /* VM_CR.SVMDIS */
	uint32_t svm_rev, svm_nasid, svm_features;
	bool npt, nrip_save, flush_by_asid, decode_assists;
};

/* Fill the capabilities of CPU 'cpu' (run on that CPU). */
void virt_detect_cpu(unsigned cpu);
/* Decide from every online CPU, print the summary once; the result holds for
 * the whole machine (a mix is treated as none). */
enum virt_kind virt_detect_summary(void);
const struct virt_caps *virt_caps_of(unsigned cpu);
const char *virt_kind_name(enum virt_kind k);

#endif
