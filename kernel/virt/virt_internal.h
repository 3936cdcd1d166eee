/*
 * virt_internal.h - kernel/virt's own business: shared between vm.c,
 * exit.c, load.c, msr.c and guestmem access; not for other subsystems.
 */
#ifndef KEEL_VIRT_INTERNAL_H
#define KEEL_VIRT_INTERNAL_H

#include "kernel/virt/emulate.h"
#include "kernel/virt/virt.h"

#define VM_MAX 64

/* load.c: guest memory layout and images; the boot state of every vCPU. */
int vm_load(struct vm *vm, const struct vm_config *cfg);
int vm_boot_state(struct vm *vm, const struct vm_config *cfg);

/* ELF64 (System V ABI, x86-64 supplement), what the 64-bit start needs. */
struct elf64_ehdr {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

#define ELF_PT_LOAD 1
/* Keel's structures for the 64-bit start live below this guest address. */
#define VM_BOOT_RESERVED_END 0x8000ULL
#define VM_LOW_RAM_MAX 0xC0000000ULL

/* The ELF64 image check the loader uses (elf64.c, host-testable): 0 and the
 * entry, or KEEL_EINVAL and why. */
int elf64_guest_check(const void *image, size_t size, uint64_t *entry,
		      const char **why);

/* fpu.c */
int vcpu_fpu_init(struct vcpu *vcpu);
void vcpu_fpu_release(struct vcpu *vcpu);
void vcpu_fpu_reset(struct vcpu *vcpu);
void vcpu_fpu_destroy(struct vcpu *vcpu);
int vcpu_xcr0_set(struct vcpu *vcpu, uint32_t index, uint64_t val);

/* vm.c */
void vm_kick_all(struct vm *vm);
void vcpu_kick(struct vcpu *vcpu);

/* exit.c */
void vcpu_deliver_irq(struct vcpu *vcpu);
int vcpu_wait_dead(struct vcpu *vcpu, uint64_t rip);
void vcpu_dump(struct vcpu *vcpu);

/* msr.c: the guest's MSRs the core emulates. 0, or -1 for #GP. */
int vmsr_read(struct vcpu *vcpu, uint32_t index, uint64_t *val);
int vmsr_write(struct vcpu *vcpu, uint32_t index, uint64_t val);

/* guest.c: the emulator's view of a vCPU (fetch/read/write at linear
 * addresses through the guest's page tables to RAM, ROM or devices). */
struct guest_access {
	struct vcpu *vcpu;
	struct vcpu_sregs *sregs;
	struct emu_fault fault;
	bool bad;	    /* touched something that is neither RAM nor a device */
	uint64_t bad_gpa;
	bool bad_write;
};
void guest_access_init(struct guest_access *ga, struct vcpu *vcpu,
		       struct vcpu_sregs *sregs, struct emu_ops *ops);
/* Guest-physical address of an instruction fetch at gva (0), or not. */
int guest_linear_to_gpa(struct vcpu *vcpu, struct vcpu_sregs *sregs,
			uint64_t gva, uint64_t *gpa);
/* Read or write guest memory at a linear address (string I/O). */
int guest_linear_rw(struct guest_access *ga, uint64_t gva, void *buf,
		    unsigned len, bool write);

#endif
