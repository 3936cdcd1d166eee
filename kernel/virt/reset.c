/*
 * reset.c - the x86 RESET state (SDM vol.3 9.1.1 table 9-1, APM vol.2
 * 14.1.3 table 14-1) in the neutral register structures, one copy for both
 * backends: real mode, CS:IP = F000:FFF0 with CS base 0xFFFF0000.
 */
#include <string.h>

#include "kernel/virt/virt.h"

void vcpu_reset_state(struct vcpu_regs *r, struct vcpu_sregs *s,
		      uint32_t signature)
{
	const struct vcpu_segment data = {.sel = 0, .attr = 0x0093,
					  .limit = 0xFFFF, .base = 0};

	memset(r, 0, sizeof(*r));
	memset(s, 0, sizeof(*s));
	/* EDX holds the processor's family, model and stepping after RESET. */
	r->rdx = signature;
	r->rip = VCPU_RESET_RIP;
	r->rflags = 0x2;
	/* Code: present, readable, accessed; data: read/write, accessed. */
	s->cs = (struct vcpu_segment){.sel = VCPU_RESET_CS_SEL, .attr = 0x009B,
				      .limit = 0xFFFF, .base = VCPU_RESET_CS_BASE};
	s->ds = s->es = s->ss = s->fs = s->gs = data;
	s->ldtr = (struct vcpu_segment){.attr = 0x0082, .limit = 0xFFFF};
	s->tr = (struct vcpu_segment){.attr = 0x008B, .limit = 0xFFFF};
	s->gdtr.limit = 0xFFFF;
	s->idtr.limit = 0xFFFF;
	s->cr0 = VCPU_RESET_CR0;
}
