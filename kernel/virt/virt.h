/*
 * virt.h - the architecture-neutral virtualization core: VMs, vCPUs, the one
 * normalized exit, the backend interface that vmx/ and svm/ implement, and the
 * lifecycle calls the management agent uses. The only thing kernel/virt knows
 * of a backend is struct virt_backend.
 *
 * Lock order: vm->lock, then the pmm lock. The exit path takes no lock and
 * allocates nothing: whatever a VM needs is made when the VM is made.
 */
#ifndef KEEL_VIRT_H
#define KEEL_VIRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/fpu.h"
#include "kernel/sched.h"
#include "kernel/spinlock.h"
#include "mm/mm.h"

#define VM_NAME_MAX 32
#define VM_MAX_VCPUS 64
#define VM_MAX_PIO 32	       /* I/O port ranges a VM's devices register */
#define VM_MAX_MMIO 32	       /* MMIO ranges */
#define VM_MAX_REGIONS 8       /* guest memory regions (RAM, ROM, aliases) */
#define VM_CONSOLE_SIZE 16384  /* bytes of serial output kept per VM */
#define VCPU_CPUID_CACHE 8     /* CPUID answers a vCPU remembers */

/* ---------------------------------------------------------------- state -- */

struct vcpu_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags;
};

/* Segment attributes in the packed form both VMCB and our code use:
 * bits 7:0 = descriptor bits 47:40 (type, S, DPL, P), bits 11:8 = descriptor
 * bits 55:52 (AVL, L, D/B, G). VMX converts to its access-rights format. */
struct vcpu_segment {
	uint16_t sel;
	uint16_t attr;
	uint32_t limit;
	uint64_t base;
};

#define SEG_ATTR_P (1u << 7)
#define SEG_ATTR_S (1u << 4)
#define SEG_ATTR_L (1u << 9)
#define SEG_ATTR_DB (1u << 10)
#define SEG_ATTR_G (1u << 11)

struct vcpu_dtable {
	uint64_t base;
	uint32_t limit;
};

struct vcpu_sregs {
	struct vcpu_segment cs, ds, es, fs, gs, ss, tr, ldtr;
	struct vcpu_dtable gdtr, idtr;
	uint64_t cr0, cr2, cr3, cr4, efer;
	uint8_t cpl;
};

/* ----------------------------------------------------------------- exits -- */

enum exit_reason {
	EXIT_NONE = 0,	    /* handled inside the backend; run again */
	EXIT_CPUID,	    /* regs rax/rcx in, the core fills rax..rdx */
	EXIT_IO,	    /* port I/O: io.* */
	EXIT_MSR_READ,	    /* msr.index; the core sets msr.value or injects #GP */
	EXIT_MSR_WRITE,	    /* msr.index, msr.value */
	EXIT_NPF,	    /* nested page fault: npf.* (MMIO or a bad access) */
	EXIT_HLT,
	EXIT_INTR_WINDOW,   /* the guest can take an interrupt now */
	EXIT_EXTINT,	    /* a host interrupt arrived (already serviced) */
	EXIT_SHUTDOWN,	    /* triple fault */
	EXIT_VMCALL,	    /* VMMCALL / VMCALL */
	EXIT_INVD,	    /* INVD or WBINVD: nothing to do, skip it */
	EXIT_VIRT_INSN,	    /* the guest ran a VMX/SVM instruction: #UD it */
	EXIT_ENTRY_FAILED,  /* the hardware refused the guest state: fail.* */
	EXIT_NMI,	    /* a host NMI arrived during the guest */
	EXIT_XSETBV,	    /* XSETBV: ECX, EDX:EAX in the registers */
	EXIT_UNKNOWN,	    /* anything else: unknown.* says what */
	EXIT_REASON_COUNT
};

struct vm_exit {
	enum exit_reason reason;
	uint8_t insn_len; /* length of the exiting instruction, 0 if unknown */
	union {
		struct {
			uint16_t port;
			uint8_t size; /* 1, 2 or 4 */
			bool in;
			bool string; /* INS/OUTS */
			bool rep;
		} io;
		struct {
			uint32_t index;
			uint64_t value;
		} msr;
		struct {
			uint64_t gpa;
			uint64_t gva; /* when the hardware reports it, else 0 */
			bool write, fetch;
			bool present;	   /* a translation exists (permission fault) */
			bool in_guest_walk; /* while walking the guest's own tables */
		} npf;
		struct {
			uint64_t code; /* VM-instruction error / VMEXIT_INVALID */
			char why[64];
		} fail;
		struct {
			uint64_t code, info1, info2;
		} unknown;
	};
};

/* --------------------------------------------------------------- backend -- */

enum event_type {
	EVENT_EXTINT = 0, /* external interrupt */
	EVENT_NMI = 2,
	EVENT_EXCEPTION = 3,
	EVENT_SOFTINT = 4,
};

struct vm;
struct vcpu;

struct virt_backend {
	const char *name; /* "svm", "vmx" */
	/* On each CPU, once: turn the extension on (EFER.SVME / VMXON). */
	int (*cpu_enable)(void);
	/* Per VM: the nested page table format and a hook after (un)mapping. */
	const struct pt_format *npt_format;
	int (*vm_init)(struct vm *vm);
	void (*vm_destroy)(struct vm *vm);
	/* Per vCPU: hardware context (VMCB / VMCS), x86 reset state. */
	int (*vcpu_create)(struct vcpu *vcpu);
	void (*vcpu_destroy)(struct vcpu *vcpu);
	/* Run until an exit the core must see; fills *exit. Interrupts may be
	 * on when called; the backend disables them around entry. */
	int (*vcpu_run)(struct vcpu *vcpu, struct vm_exit *exit);
	void (*get_regs)(struct vcpu *vcpu, struct vcpu_regs *regs);
	void (*set_regs)(struct vcpu *vcpu, const struct vcpu_regs *regs);
	void (*get_sregs)(struct vcpu *vcpu, struct vcpu_sregs *sregs);
	void (*set_sregs)(struct vcpu *vcpu, const struct vcpu_sregs *sregs);
	/* Queue an event for the next entry. has_error: push error_code. */
	void (*inject_event)(struct vcpu *vcpu, uint8_t vector,
			     enum event_type type, bool has_error,
			     uint32_t error_code);
	/* Ask for EXIT_INTR_WINDOW as soon as the guest can take one. */
	void (*request_intr_window)(struct vcpu *vcpu, bool on);
	/* Translations of this VM changed (after an unmap or a protection
	 * change): flush before the next entry of each vCPU. */
	void (*flush)(struct vm *vm);
	/* Whether the guest is in an interrupt shadow / has IF set. */
	bool (*can_inject_intr)(struct vcpu *vcpu);
};

/* The backend chosen at boot (virt_init), or NULL when there is none. */
extern const struct virt_backend *virt;

/* ------------------------------------------------------------- devices -- */

/* A port I/O handler: for an IN fill *val (size bytes), for an OUT consume
 * *val. Returns 0, or a negative code which stops the VM ("error"). */
typedef int (*pio_fn)(struct vcpu *vcpu, void *dev, uint16_t port,
		      uint8_t size, bool in, uint32_t *val);
/* An MMIO handler: offset within the registered range, size 1/2/4/8. */
typedef int (*mmio_fn)(struct vcpu *vcpu, void *dev, uint64_t offset,
		       uint8_t size, bool write, uint64_t *val);

struct pio_range {
	uint16_t base, len;
	pio_fn fn;
	void *dev;
};

struct mmio_range {
	uint64_t base, len;
	mmio_fn fn;
	void *dev;
};

/* Register [base, base+len) (kernel/virt/io.c). KEEL_EINVAL: len 0 or no fn;
 * KEEL_ERANGE: the range wraps, or the table is full; KEEL_EEXIST: overlaps a
 * range already registered. Before the VM's vCPUs run: dispatch is unlocked. */
int vm_register_pio(struct vm *vm, uint16_t base, uint16_t len, pio_fn fn,
		    void *dev);
int vm_register_mmio(struct vm *vm, uint64_t base, uint64_t len, mmio_fn fn,
		     void *dev);
/* Dispatch one access (used by the exit handler, and by tests). Returns 0,
 * KEEL_ENOENT when no one range holds the whole access, KEEL_EINVAL for a
 * size of 0 or above 4 (PIO) / 8 (MMIO), or the handler's error. */
int vm_pio_dispatch(struct vcpu *vcpu, uint16_t port, uint8_t size, bool in,
		    uint32_t *val);
int vm_mmio_dispatch(struct vcpu *vcpu, uint64_t gpa, uint8_t size, bool write,
		     uint64_t *val);

/* ------------------------------------------------------------ guest RAM -- */

enum gmem_kind {
	GMEM_RAM = 0,
	GMEM_ROM = 1, /* read and execute; writes are dropped */
};

/* A guest-physical range backed by host memory, in 2 MiB chunks aligned in
 * guest-physical space: chunk i covers ALIGN_DOWN(gpa, 2 MiB) + i * 2 MiB.
 * A chunk wholly inside the range is one 2 MiB host block when one is free
 * (blocks[i]); any other chunk (the head or tail of an unaligned range, or
 * no block free) is 4 KiB pages, listed in a page of 512 host addresses
 * (pages[i]; 0 for pages outside the range). Exactly one of blocks[i] and
 * pages[i] is set. Alias regions share another region's memory (the
 * firmware's copy below 1 MiB) and own none: blocks, pages NULL. */
struct gmem_region {
	uint64_t gpa, size;
	enum gmem_kind kind;
	unsigned alias_of;    /* owning region's index + 1 when an alias, else 0 */
	uint64_t alias_off;   /* offset into that region */
	uint64_t *blocks;     /* per chunk: host address of its 2 MiB block, or 0 */
	uint64_t *pages;      /* per chunk: host address of its page list, or 0 */
	uint64_t count;	      /* chunks: entries in blocks[] and in pages[] */
};

/* Add RAM or ROM at [gpa, gpa+size) (4 KiB aligned, below 2^47), zero-filled,
 * mapped in vm->npt (which the caller has set up). Memory is taken with
 * PMM_GUEST. KEEL_EEXIST: overlaps a region; KEEL_ERANGE: out of the
 * guest-physical space or VM_MAX_REGIONS reached; KEEL_ENOMEM: nothing kept. */
int gmem_add(struct vm *vm, uint64_t gpa, uint64_t size, enum gmem_kind kind);
/* Map [gpa, gpa+size) to the same host pages as [src_gpa, ...), which must
 * lie inside one region already added (KEEL_ENOENT, KEEL_ERANGE), with the
 * given kind. */
int gmem_alias(struct vm *vm, uint64_t gpa, uint64_t size, uint64_t src_gpa,
	       enum gmem_kind kind);
/* Host physical address behind gpa, or 0 when gpa is not guest memory;
 * *kind tells RAM or ROM (may be NULL). */
uint64_t gmem_translate(const struct vm *vm, uint64_t gpa, enum gmem_kind *kind);
/* Copy between guest-physical memory and the host, crossing pages as
 * needed. Fail with KEEL_ERANGE (nothing copied) when any byte is not guest
 * memory. gmem_write also writes ROM (loading firmware). */
int gmem_read(const struct vm *vm, uint64_t gpa, void *buf, size_t len);
int gmem_write(struct vm *vm, uint64_t gpa, const void *buf, size_t len);
/* Unmap every region from vm->npt (the table itself stays) and free all
 * host memory behind them. */
void gmem_destroy(struct vm *vm);
/* Bytes of host memory behind the guest: every region but aliases. */
uint64_t gmem_total(const struct vm *vm);

/* -------------------------------------------------------------- vm/vcpu -- */

enum vm_state {
	VM_CREATED = 0,
	VM_RUNNING,
	VM_PAUSED,
	VM_STOPPED,
};

enum vm_stop_reason {
	VM_STOP_NONE = 0,
	VM_STOP_POWEROFF,
	VM_STOP_RESET,
	VM_STOP_TRIPLE_FAULT,
	VM_STOP_BAD_ACCESS,
	VM_STOP_ENTRY_FAILED,
	VM_STOP_HALTED,
	VM_STOP_EXIT,
	VM_STOP_ERROR,
};

/* A VM's initial boot: where vCPU 0 starts. */
enum vm_start_mode {
	VM_START_RESET = 0, /* x86 reset state: CS:IP = F000:FFF0 */
	VM_START_LONG64,    /* an ELF64 image entered in 64-bit mode on an
			       identity map of the low 4 GiB (kernel/virt/load.c) */
	VM_START_LINUX,	    /* a Linux bzImage (boot protocol 2.12+), 64-bit
			       entry; vCPUs but the first wait for INIT-SIPI */
	VM_START_MULTIBOOT, /* a Multiboot (v1) kernel, 32-bit protected-mode
			       entry; vCPUs but the first wait for INIT-SIPI */
};

#define VM_MAX_MODULES 8

/* A Multiboot module: its bytes and its command line (the path and the
 * arguments keel.cfg gave, as GRUB passes them). */
struct vm_module {
	const void *data;
	size_t size;
	const char *cmdline;
};

struct vm_config {
	char name[VM_NAME_MAX];
	unsigned cpus;
	uint64_t mem;
	const void *firmware; /* flat image ending at 4 GiB, or NULL */
	size_t firmware_size;
	const void *image;    /* the kernel: ELF64, bzImage or Multiboot */
	size_t image_size;
	const void *initrd;   /* Linux: the initrd, or NULL */
	size_t initrd_size;
	const char *cmdline;  /* Linux and Multiboot: the command line, or NULL */
	struct vm_module modules[VM_MAX_MODULES]; /* Multiboot */
	unsigned module_count;
	enum vm_start_mode start;
	uint16_t debug_exit;  /* 0: none */
};

/* Multiprocessor start (SDM vol.3 9.4): where a vCPU is between INIT and
 * the start-up IPI. */
enum vcpu_mp_state {
	VCPU_MP_RUNNABLE = 0,
	VCPU_MP_WAIT_SIPI,  /* after INIT (an AP of a Linux/Multiboot VM from
			       the start): runs nothing until a SIPI */
};

struct vlapic;

struct vcpu {
	struct vm *vm;
	unsigned id;
	volatile enum vcpu_mp_state mp_state;
	volatile int sipi_vector; /* a start-up IPI arrived: its vector, or -1 */
	volatile bool init_pending; /* an INIT IPI arrived */
	volatile bool nmi_pending;
	/* Set (by any CPU) when an interrupt, NMI, INIT or SIPI may be waiting:
	 * the vCPU looks before its next entry (kernel/vdev/irq.c). */
	volatile unsigned intr_work;
	struct vlapic *lapic;	  /* this vCPU's local APIC (kernel/vdev) */
	/* x87/SSE/AVX state (kernel/virt/fpu.c): saved here while another
	 * vCPU owns the CPU's registers; XCR0 as the guest set it. */
	void *fpu;
	uint64_t xcr0;
	unsigned host_cpu;    /* the CPU its thread is pinned to */
	struct thread *thread;
	void *hw;	      /* backend context (VMCB / VMCS and friends) */
	/* Pending virtual interrupt (a single line until the LAPIC model of
	 * the Linux issue): vector, or -1. */
	volatile int pending_irq;
	bool intr_window_requested;
	bool halted;	      /* in HLT, waiting for an interrupt */
	uint64_t halt_wake_ns; /* test timer deadline while halted, 0: none */
	uint64_t exits[EXIT_REASON_COUNT];
	uint64_t exits_total;
	/* The last instruction whose length had to be decoded (no NRIP save):
	 * a loop of CPUID or VMMCALL exits hits the same RIP again and again.
	 * Valid while the bytes at its host address are still the same. */
	struct {
		uint64_t rip, cr3, hpa;
		uint8_t len, mode;
		uint8_t bytes[15];
	} insn_cache;
	/* The guest's CPUID answers computed so far (the policy is fixed for a
	 * vCPU's life): the backend's fast path answers from here. */
	struct {
		uint32_t leaf, subleaf;
		uint32_t regs[4];
		bool valid;
	} cpuid_cache[VCPU_CPUID_CACHE];
};

struct vm {
	char name[VM_NAME_MAX];
	unsigned id;
	struct spinlock lock;
	volatile enum vm_state state;
	volatile bool stop_requested;
	volatile bool pause_requested;
	bool started;		       /* vm_start ran: vCPU threads exist */
	volatile unsigned vcpus_parked; /* vCPU threads waiting in a pause */
	unsigned vcpus_dead_halted;	/* halted with IF=0, nothing to wake */
	enum vm_stop_reason stop_reason;
	char stop_detail[128];
	uint64_t exit_status; /* for VM_STOP_EXIT */

	struct vm_config cfg; /* as created; images must outlive the VM, its
				 strings are the VM's own copies (strings) */
	char *strings;
	uint64_t mem_bytes; /* guest RAM as configured */
	struct pgtable npt;
	unsigned region_count;
	struct gmem_region regions[VM_MAX_REGIONS];

	unsigned pio_count, mmio_count;
	struct pio_range pio[VM_MAX_PIO];
	struct mmio_range mmio[VM_MAX_MMIO];

	unsigned vcpu_count;
	struct vcpu *vcpus[VM_MAX_VCPUS];
	unsigned vcpus_running; /* threads not yet finished */
	struct completion done;

	void *backend;	/* backend per-VM state */
	void *devices;	/* kernel/vdev state */

	/* Serial output of the guest (a ring) and the line being assembled,
	 * under console_lock (several vCPUs may write). */
	struct spinlock console_lock;
	char console[VM_CONSOLE_SIZE];
	uint64_t console_written;
	char line[160];
	unsigned line_len;
	/* Lines shown on Keel's console are rate-limited per VM (a guest must
	 * not flood a 115200-baud serial line the host logs through); the
	 * VM's own console buffer keeps everything. */
	uint64_t line_tokens_ns; /* token bucket, in ns of credit */
	uint64_t line_last_ns;
	uint64_t lines_suppressed;
};

/* Lifecycle (the management agent's calls). All return 0 or KEEL_E*. */
int vm_create(const struct vm_config *cfg, struct vm **out);
int vm_start(struct vm *vm);
int vm_pause(struct vm *vm);
int vm_resume(struct vm *vm);
/* Every vCPU back to the boot state it was created with. */
int vm_reset(struct vm *vm);
/* Stop now (poweroff): every vCPU leaves the guest at its next exit. */
int vm_stop(struct vm *vm, enum vm_stop_reason why, const char *detail);
/* Wait until every vCPU thread has finished (after a stop). */
void vm_wait(struct vm *vm);
int vm_destroy(struct vm *vm);
const char *vm_stop_reason_name(enum vm_stop_reason r);
/* Which start a kernel image needs (kernel/virt/load.c): a Linux bzImage,
 * a Multiboot kernel or an ELF64 executable, in that order of checks.
 * KEEL_ENOTSUP when it is none; *why may then say what the Multiboot
 * search saw (a bad checksum). */
int vm_kernel_format(const void *image, size_t size, enum vm_start_mode *mode,
		     const char **why);
/* Look VMs up (the console and, later, the management agent). A VM found
 * stays valid until vm_destroy, which only these same callers make. */
struct vm *vm_find(const char *name);
unsigned vm_list_get(struct vm **out, unsigned max);
const char *vm_state_name(enum vm_state s);

/* Called by a vCPU's own exit path to end the VM with a reason (logs the
 * stop line once, with a dump of the vCPU's state for failures). */
void vm_fail(struct vcpu *vcpu, enum vm_stop_reason why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Guest serial output: collect bytes into lines "[name] line" on Keel's
 * console and into vm->console. */
void vm_console_putc(struct vm *vm, char c);

/* ---------------------------------------------------------- virt core -- */

struct boot_info;
struct keel_config;
/* Create (and, unless autostart=no, start) the VMs keel.cfg describes. */
void boot_vms_start(const struct boot_info *bi, const struct keel_config *cfg);

/* At boot, after SMP: pick the backend for the detected extension and enable
 * it on every CPU. Returns 0, or KEEL_ENOTSUP when there is none. */
int virt_init(void);
/* Handle one exit in common code: 0 to run on, 1 when the vCPU must stop. */
int virt_handle_exit(struct vcpu *vcpu, struct vm_exit *exit);

/* The x86 RESET state (kernel/virt/reset.c), for the backends' vcpu_create:
 * every register of r and s, EDX = signature (CPUID 1 EAX). Backends add
 * what only they hold (EFER.SVME, DR6/DR7, PAT). */
#define VCPU_RESET_CR0 0x60000010ULL /* CD | NW | ET */
#define VCPU_RESET_CS_SEL 0xF000
#define VCPU_RESET_CS_BASE 0xFFFF0000ULL
#define VCPU_RESET_RIP 0xFFF0ULL
void vcpu_reset_state(struct vcpu_regs *r, struct vcpu_sregs *s,
		      uint32_t signature);

/* Self-test (kernel/virt/selftest_vm.c): create/run/stop/destroy VMs
 * 'rounds' times; 0 when free memory ends where it started. */
int virt_selftest_cycle(unsigned rounds, char *detail, size_t len);

/* The guest's FPU and XCR0 (kernel/virt/fpu.c). Backends, with interrupts
 * off right before entry: vcpu_fpu_load, then vcpu_xcr0_enter; right
 * after the exit: vcpu_xcr0_exit. */
void vcpu_xsetbv(uint64_t val);
void vcpu_fpu_load(struct vcpu *vcpu);
static inline void vcpu_xcr0_enter(const struct vcpu *v)
{
	if (v->xcr0 != fpu_host_xcr0)
		vcpu_xsetbv(v->xcr0);
}
static inline void vcpu_xcr0_exit(const struct vcpu *v)
{
	if (v->xcr0 != fpu_host_xcr0)
		vcpu_xsetbv(fpu_host_xcr0);
}

/* The MSRs a guest reads and writes without an exit, the same on both
 * backends (kernel/virt/msr.c): FS/GS bases, KERNEL_GS_BASE, the SYSCALL
 * and SYSENTER MSRs. Their guest values live in the VMCB or VMCS, or are
 * switched by the backend; everything else is intercepted. */
extern const uint32_t virt_msr_passthrough[];
extern const unsigned virt_msr_passthrough_count;

/* CPUID policy (kernel/virt/cpuid.c, one table): what a guest sees for
 * leaf/subleaf. regs[0..3] = EAX..EDX: in, what the host CPU reports for the
 * same leaf; out, the guest's view. Host-testable: no CPUID executed here. */
struct cpuid_guest {
	unsigned vcpu_id, vcpu_count;
	uint32_t host_max_leaf, host_max_ext_leaf;
};
void cpuid_policy_apply(const struct cpuid_guest *g, uint32_t leaf,
			uint32_t subleaf, uint32_t regs[4]);
/* The kernel's wrapper: executes CPUID on this host CPU and applies it. */
void cpuid_guest_view(struct vcpu *vcpu, uint32_t leaf, uint32_t subleaf,
		      uint32_t regs[4]);

#endif
