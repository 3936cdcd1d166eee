/*
 * ept.c - the EPT format the VMX backend builds its VMs' tables with (the
 * twin of npt.c): mm/pt.c's pt_format_ept with the leaf sizes this CPU's
 * IA32_VMX_EPT_VPID_CAP allows (SDM vol.3 A.10: bit 16 2 MiB, bit 17
 * 1 GiB). Set once on CPU 0 at enable, before any VM exists.
 */
#include "mm/mm.h"
#include "vmx/vmx_softc.h"

struct pt_format vmx_ept_format;

void vmx_ept_format_init(const struct vmx_controls *c)
{
	vmx_ept_format = pt_format_ept;
	vmx_ept_format.large_2m = pt_format_ept.large_2m && c->ept_2m;
	vmx_ept_format.large_1g = pt_format_ept.large_1g && c->ept_1g &&
				  vmx_ept_format.large_2m;
}
