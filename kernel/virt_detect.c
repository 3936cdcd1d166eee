/*
 * virt_detect.c - VMX or SVM, read on every CPU. Nothing is enabled here: the
 * backends do that. VMX needs IA32_FEATURE_CONTROL to allow VMXON outside SMX
 * (or to be unlocked, in which case the VMX backend locks it with the bit
 * set), EPT and unrestricted guest; SVM needs VM_CR.SVMDIS clear and NPT.
 */
#include <stdio.h>
#include <string.h>

#include "kernel/arch/x86.h"
#include "kernel/cpu.h"
#include "kernel/log.h"
#include "kernel/virt_detect.h"

static struct virt_caps caps[MAX_CPUS];

const char *virt_kind_name(enum virt_kind k)
{
	return k == VIRT_VMX ? "vmx" : k == VIRT_SVM ? "svm" : "none";
}

const struct virt_caps *virt_caps_of(unsigned cpu)
{
	return cpu < MAX_CPUS ? &caps[cpu] : NULL;
}

static void detect_vmx(struct virt_caps *v)
{
	uint64_t procbased = 0;

	/* SDM vol.3 24.1 / A.3: secondary controls exist when bit 63 of
	 * IA32_VMX_PROCBASED_CTLS (allowed-1 of bit 31) is set. */
	if (!rdmsr_safe(MSR_IA32_FEATURE_CONTROL, &v->feature_control) ||
	    !rdmsr_safe(MSR_IA32_VMX_BASIC, &v->vmx_basic) ||
	    !rdmsr_safe(MSR_IA32_VMX_PROCBASED_CTLS, &procbased)) {
		snprintf(v->why, sizeof(v->why), "VMX capability MSRs unreadable");
		return;
	}
	v->fc_locked = v->feature_control & 1;
	v->fc_vmx_enabled = v->feature_control & (1u << 2);
	if (procbased & (1ULL << 63)) {
		rdmsr_safe(MSR_IA32_VMX_PROCBASED_CTLS2, &v->vmx_procbased2);
		uint64_t allowed1 = v->vmx_procbased2 >> 32;
		v->ept = allowed1 & (1u << 1);
		v->vpid = allowed1 & (1u << 5);
		v->unrestricted_guest = allowed1 & (1u << 7);
		if (v->ept || v->vpid)
			rdmsr_safe(MSR_IA32_VMX_EPT_VPID_CAP, &v->vmx_ept_vpid);
	}
	if (v->fc_locked && !v->fc_vmx_enabled)
		snprintf(v->why, sizeof(v->why),
			 "VMX disabled by firmware (IA32_FEATURE_CONTROL locked)");
	else if (!v->ept)
		snprintf(v->why, sizeof(v->why), "VMX without EPT");
	else if (!v->unrestricted_guest)
		snprintf(v->why, sizeof(v->why), "VMX without unrestricted guest");
	else
		v->kind = VIRT_VMX;
}

static void detect_svm(struct virt_caps *v)
{
	uint32_t a, b, c, d;
	uint64_t vm_cr = 0;

	if (rdmsr_safe(MSR_VM_CR, &vm_cr))
		v->svm_disabled = vm_cr & (1u << 4);
	cpuid(0x8000000A, 0, &a, &b, &c, &d);
	v->svm_rev = a & 0xFF;
	v->svm_nasid = b;
	v->svm_features = d;
	v->npt = d & (1u << 0);
	v->nrip_save = d & (1u << 3);
	v->flush_by_asid = d & (1u << 6);
	v->decode_assists = d & (1u << 7);
	if (v->svm_disabled)
		snprintf(v->why, sizeof(v->why),
			 "SVM disabled by firmware (VM_CR.SVMDIS)");
	else if (!v->npt)
		snprintf(v->why, sizeof(v->why), "SVM without nested paging");
	else if (v->svm_nasid < 2)
		snprintf(v->why, sizeof(v->why), "SVM with no guest ASIDs");
	else
		v->kind = VIRT_SVM;
}

void virt_detect_cpu(unsigned cpu)
{
	struct virt_caps *v = &caps[cpu];
	uint32_t a, b, c, d, maxext;

	memset(v, 0, sizeof(*v));
	cpuid(1, 0, &a, &b, &c, &d);
	v->vmx = c & (1u << 5);
	cpuid(0x80000000, 0, &maxext, &b, &c, &d);
	if (maxext >= 0x8000000A) {
		cpuid(0x80000001, 0, &a, &b, &c, &d);
		v->svm = c & (1u << 2);
	}
	if (v->vmx)
		detect_vmx(v);
	else if (v->svm)
		detect_svm(v);
	else
		snprintf(v->why, sizeof(v->why),
			 "the CPU has neither VMX nor SVM");
}

enum virt_kind virt_detect_summary(void)
{
	const struct virt_caps *v0 = &caps[0];
	enum virt_kind kind = v0->kind;

	for (unsigned c = 1; c < MAX_CPUS; c++) {
		if (!percpu_data[c].online)
			continue;
		if (caps[c].kind != kind) {
			log_warn("virt: cpu %u differs from cpu 0 (%s vs %s: %s)", c,
				 virt_kind_name(caps[c].kind), virt_kind_name(kind),
				 caps[c].why);
			kind = VIRT_NONE;
		}
	}
	if (v0->vmx)
		log_info("virt: VMX%s, IA32_FEATURE_CONTROL %#llx (%s), EPT %s, "
			 "VPID %s, unrestricted guest %s, VMCS revision %#llx",
			 kind == VIRT_VMX ? "" : " (not usable)",
			 (unsigned long long)v0->feature_control,
			 v0->fc_locked ? "locked" : "unlocked, Keel will lock it",
			 v0->ept ? "yes" : "no", v0->vpid ? "yes" : "no",
			 v0->unrestricted_guest ? "yes" : "no",
			 (unsigned long long)(v0->vmx_basic & 0x7FFFFFFF));
	if (v0->svm)
		log_info("virt: SVM%s rev %u, %u ASIDs, NPT %s, NRIP save %s, "
			 "flush-by-ASID %s, decode assists %s",
			 kind == VIRT_SVM ? "" : " (not usable)", v0->svm_rev,
			 v0->svm_nasid, v0->npt ? "yes" : "no",
			 v0->nrip_save ? "yes" : "no",
			 v0->flush_by_asid ? "yes" : "no",
			 v0->decode_assists ? "yes" : "no");
	if (kind == VIRT_NONE)
		log_warn("virt: no usable hardware virtualization: %s; "
			 "Keel will run but cannot start VMs",
			 v0->why[0] ? v0->why : "CPUs differ");
	return kind;
}
