/*
 * layout.h - what the test guests' ROM stub (assembly) and payload (C) agree
 * on: guest-physical addresses they use, the stub's per-vCPU records, and the
 * devices of the platform Keel gives every VM (tests/guests/README.md).
 */
#ifndef GUEST_LAYOUT_H
#define GUEST_LAYOUT_H

/* The payload is linked and run at 1 MiB, in both start modes. */
#define PAYLOAD_BASE 0x100000

/* Firmware start only (the 64-bit start keeps Keel's tables below 0x8000):
 * one record per vCPU of what the stub saw in each mode, the flag the BSP
 * sets once the payload is in RAM, and the stub's identity page tables
 * (PML4, PDPT, four PDs of 2 MiB pages: the low 4 GiB). */
#define STUB_REC_BASE 0x8000
#define STUB_REC_SHIFT 7 /* 128 bytes per vCPU */
#define STUB_MAX_CPUS 64
#define STUB_READY 0xA000
#define STUB_READY_LO 0x4C45454B /* "KEELRDY!" */
#define STUB_READY_HI 0x21594452
#define STUB_PT_BASE 0x10000

/* Offsets in a stub record. */
#define REC_MAGIC 0	  /* REC_MAGIC_VALUE once long mode was reached */
#define REC_STAGES 4	  /* bit 0 real, 1 protected, 2 long */
#define REC_RM_CR0 8	  /* real mode: CR0 */
#define REC_RM_CS 12	  /* real mode: CS selector at the reset vector */
#define REC_RM_EFER 16	  /* real mode: EFER (8 bytes) */
#define REC_RM_HV 24	  /* real mode: CPUID 0x40000000 EBX */
#define REC_PM_CR0 28	  /* protected mode: CR0 */
#define REC_PM_CS 32	  /* protected mode: CS selector */
#define REC_PM_CS_AR 36	  /* protected mode: LAR of CS */
#define REC_PM_MMIO 40	  /* protected mode: MMIO scratch read back */
#define REC_LM_CS_AR 44	  /* long mode: LAR of CS */
#define REC_LM_CR0 48	  /* long mode: CR0 (8 bytes) */
#define REC_LM_CR4 56	  /* long mode: CR4 (8 bytes) */
#define REC_LM_EFER 64	  /* long mode: EFER (8 bytes) */
#define REC_ID 72	  /* the vCPU index the stub found */
#define REC_MAGIC_VALUE 0x42555453 /* "STUB" */

/* The ROM stub's GDT selectors (the payload loads its own, same values). */
#define SEL_CODE64 0x08
#define SEL_DATA 0x10
#define SEL_CODE32 0x18

/* Payload: per-vCPU stacks. */
#define GUEST_MAX_CPUS 16
#define GUEST_STACK_SHIFT 14 /* 16 KiB */

/* Devices (tests/guests/README.md, "The platform"). */
#define COM1 0x3F8
#define TESTDEV_RESULT 0xA00 /* OUT: one check's result, 0 = pass */
#define TESTDEV_END 0xA01    /* OUT8: end the VM with this status */
#define TESTDEV_TIMER 0xA04  /* OUT32: one-shot timer, microseconds */
#define TESTDEV_VECTOR 0xA08 /* OUT8: the timer's vector (default 0x40) */
#define TESTDEV_ECHO 0xA0C   /* IN/OUT 8/16/32: echo, reset "KEEL" */
#define TESTDEV_BENCH 0xA10  /* OUT32: bench marker */
#define TESTDEV_ECHO_RESET 0x4B45454C
#define TIMER_VECTOR 0x40
#define SCRATCH_BASE 0xFEB00000
#define SCRATCH_SIZE 0x1000
#define SCRATCH_MAGIC_LO 0x4C45454B /* "KEEL" */
#define SCRATCH_MAGIC_HI 0x4F494D4D /* "MMIO" */
#define SCRATCH_STUB 0xE00 /* the stub writes 0xE00 + 4 * vCPU (PM check) */

/* Architectural bits the stub and payload test. */
#define CR0_PE 0x00000001
#define CR0_ET 0x00000010
#define CR0_NW 0x20000000
#define CR0_CD 0x40000000
#define CR0_PG 0x80000000
#define CR4_PAE 0x00000020
#define MSR_EFER 0xC0000080
#define EFER_SCE 0x001
#define EFER_LME 0x100
#define EFER_LMA 0x400
#define EFER_SVME 0x1000

#endif
