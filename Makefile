# Keel - one entry point: build, images, run, test, bench, deps.
#
#   make            every artifact of DESIGN.md section 10
#   make deps       install what is missing (Debian 12, as root)
#   make run        boot Keel in QEMU (OVMF, SVM under TCG, 4 CPUs, 2 GiB)
#   make test       unit tests (plain and ASan/UBSan) + integration tests
#   make test-slow  the long suites
#   make bench      figures, one "bench <name> <value> <unit>" line each
#   make clean

B := build
GCCINC := $(shell gcc -print-file-name=include)

.DEFAULT_GOAL := all
.PHONY: all deps run test test-slow bench clean unit unit-asan lint images
.SECONDEXPANSION:

# ---------------------------------------------------------------- kernel ----

KERNEL_CFLAGS := -std=gnu11 -O2 -g -ffreestanding -nostdinc \
	-isystem $(GCCINC) -Ikernel/libc/include -I. \
	-fno-pic -fno-pie -mcmodel=kernel -mno-red-zone -mgeneral-regs-only \
	-fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
	-fstack-protector-strong -mstack-protector-guard=global \
	-fno-strict-aliasing -fno-common -fno-tree-loop-distribute-patterns \
	-U__linux__ -U__linux -Ulinux -U__gnu_linux__ -U__unix__ -U__unix -Uunix \
	-Wall -Wextra -Werror -Wno-unused-parameter -MMD -MP
KERNEL_ASFLAGS := $(filter-out -std=gnu11,$(KERNEL_CFLAGS)) -D__ASSEMBLY__

# The kernel's sources, in no particular order (init order is in kernel/main.c).
KERNEL_SRCS := \
	kernel/arch/entry.S kernel/arch/trap_entry.S kernel/arch/switch.S \
	kernel/arch/trampoline.S \
	kernel/main.c kernel/mb2.c kernel/err.c kernel/config.c kernel/log.c \
	kernel/cpu.c kernel/trap.c kernel/ksyms.c kernel/panic.c \
	kernel/smp.c kernel/sched.c kernel/virt_detect.c kernel/selftest.c \
	kernel/acpi.c kernel/acpi_s5.c kernel/power.c kernel/apic.c kernel/ioapic.c \
	kernel/time.c kernel/shell.c \
	kernel/virt/vm.c kernel/virt/exit.c kernel/virt/guest.c kernel/virt/load.c \
	kernel/virt/elf64.c kernel/virt/msr.c kernel/virt/boot_vms.c \
	kernel/virt/selftest_vm.c kernel/virt/emulate.c kernel/virt/decode.c \
	kernel/virt/gwalk.c kernel/virt/reset.c kernel/vdev/uart.c kernel/vdev/testdev.c kernel/vdev/vdev.c \
	svm/svm.c svm/vmcb.c svm/svm_asm.S svm/svm_exit.c svm/svm_msr.c svm/asid.c \
	vmx/vmx.c vmx/vmcs.c vmx/vmx_asm.S vmx/vmx_exit.c vmx/vmx_msr.c vmx/ept.c \
	kernel/libc/string.c kernel/libc/printf.c \
	mm/pmm.c mm/pt.c mm/kmem.c mm/heap.c mm/gmem.c \
	kernel/virt/io.c kernel/virt/cpuid.c \
	kernel/virt/linux.c kernel/virt/multiboot.c \
	kernel/virt/acpi_gen.c kernel/virt/aml.c kernel/wallclock.c \
	kernel/virt/fpu.c kernel/fpu.c \
	kernel/vdev/irq.c kernel/vdev/lapic.c kernel/vdev/ioapic.c \
	kernel/vdev/pic.c kernel/vdev/pit.c kernel/vdev/rtc.c kernel/vdev/pm.c \
	kernel/vdev/pci.c \
	drivers/pci.c drivers/pci_irq.c drivers/netdev.c drivers/virtqueue.c \
	drivers/virtio_pci.c drivers/virtio_net.c \
	drivers/e1000e.c \
	drivers/serial.c drivers/fbcon.c drivers/font.c
# ---- management agent (mgmt/) and the libc its libraries need ----
KERNEL_SRCS += mgmt/mgmt.c mgmt/net.c mgmt/tls.c mgmt/fingerprint.c \
	mgmt/port/sys_arch.c mgmt/port/entropy.c mgmt/port/entropy_est.c \
	kernel/libc/stdlib.c kernel/libc/float.c kernel/config_keys.c
KERNEL_SRCS += mgmt/http.c mgmt/http_parse.c mgmt/ws.c mgmt/sha1.c mgmt/api.c mgmt/api_vms.c mgmt/auth.c mgmt/images.c mgmt/api_kernel.c mgmt/openapi.S
# ---- end management agent ----
KERNEL_SRCS := $(foreach f,$(KERNEL_SRCS),$(if $(wildcard $(f)),$(f)))
KERNEL_OBJS := $(patsubst %,$(B)/obj/%.o,$(KERNEL_SRCS))

# ------------------------------------------------- third-party libraries ----
# lwIP 2.2, mbedTLS 3.6 and cJSON 1.7 for the management agent: Debian's
# source packages, fetched and patched into third_party/ by `make deps`
# (scripts/deps.sh), never committed. Built with the kernel's flags; lwIP
# and mbedTLS keep -mgeneral-regs-only (neither has floating point, and
# without the flag GCC uses SSE for copies; checked below). cJSON needs
# double: it is an "FPU island" built with SSE, like kernel/libc/float.c,
# and called only by the management thread, which has an FPU context
# (thread_fpu_enable). Their warnings are theirs (-w). Archives, so only
# what Keel calls is linked.
TP := third_party
TP_OUT := $(B)/third_party
TP_NEED := $(TP)/mbedtls/library/ssl_tls.c $(TP)/lwip/src/core/tcp.c \
	$(TP)/cjson/cJSON.c
TP_MISSING := $(filter-out $(wildcard $(TP_NEED)),$(TP_NEED))

TP_MBEDTLS_SRCS := $(wildcard $(TP)/mbedtls/library/*.c)
TP_LWIP_SRCS := $(wildcard $(TP)/lwip/src/core/*.c $(TP)/lwip/src/core/ipv4/*.c) \
	$(TP)/lwip/src/netif/ethernet.c
TP_CJSON_SRCS := $(TP)/cjson/cJSON.c
tp_objs = $(patsubst $(TP)/%.c,$(TP_OUT)/%.o,$(1))
KERNEL_LIBS := $(TP_OUT)/libmbedtls.a $(TP_OUT)/liblwip.a $(TP_OUT)/libcjson.a

# Where Keel's code and the libraries find the libraries' headers and the
# port (mgmt/port: lwipopts.h, arch/cc.h, keel_mbedtls_config.h).
MGMT_INC := -Imgmt/port -isystem $(TP)/mbedtls/include \
	-isystem $(TP)/lwip/src/include -isystem $(TP)/cjson \
	-DMBEDTLS_CONFIG_FILE='"keel_mbedtls_config.h"'
TP_CFLAGS := $(filter-out -g -Wall -Wextra -Werror -Wno-unused-parameter,$(KERNEL_CFLAGS)) \
	-w $(MGMT_INC) -I$(TP)/mbedtls/library
# Floating point allowed: cJSON and the libc functions only it calls.
FPU_ISLAND_CFLAGS = $(filter-out -mgeneral-regs-only,$(1)) -DKEEL_LIBC_FPU

MGMT_OBJS := $(filter $(B)/obj/mgmt/%,$(KERNEL_OBJS))
$(MGMT_OBJS): KERNEL_CFLAGS += $(MGMT_INC)
$(MGMT_OBJS): | tp-check
$(B)/obj/kernel/libc/float.c.o: KERNEL_CFLAGS := \
	$(call FPU_ISLAND_CFLAGS,$(KERNEL_CFLAGS))
$(call tp_objs,$(TP_CJSON_SRCS)): TP_CFLAGS := $(call FPU_ISLAND_CFLAGS,$(TP_CFLAGS))

.PHONY: tp-check
tp-check:
	@if [ -n "$(TP_MISSING)" ]; then \
		echo "error: the lwIP, mbedTLS and cJSON sources are missing" \
			"($(TP_MISSING)); run 'make deps' first" >&2; \
		exit 1; \
	fi

$(TP_OUT)/%.o: $(TP)/%.c | tp-check
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $<")
	$(Q)gcc $(TP_CFLAGS) -c $< -o $@

# No SIMD or x87 register may appear outside the FPU island.
define tp_archive
	@$(if $(V),,echo "  AR      $@")
	$(Q)rm -f $@
	$(Q)if [ "$(2)" = nofpu ] && objdump -d $(1) | grep -q '%[xy]mm\|%st\b\|%mm[0-7]'; then \
		echo "error: $@: SSE/x87 code outside the FPU island" >&2; exit 1; fi
	$(Q)ar rcs $@ $(1)
endef
$(TP_OUT)/libmbedtls.a: $(call tp_objs,$(TP_MBEDTLS_SRCS)) | tp-check
	$(call tp_archive,$(call tp_objs,$(TP_MBEDTLS_SRCS)),nofpu)
$(TP_OUT)/liblwip.a: $(call tp_objs,$(TP_LWIP_SRCS)) | tp-check
	$(call tp_archive,$(call tp_objs,$(TP_LWIP_SRCS)),nofpu)
$(TP_OUT)/libcjson.a: $(call tp_objs,$(TP_CJSON_SRCS)) | tp-check
	$(call tp_archive,$(call tp_objs,$(TP_CJSON_SRCS)),fpu)

-include $(patsubst %.o,%.d,$(call tp_objs,$(TP_MBEDTLS_SRCS) $(TP_LWIP_SRCS) $(TP_CJSON_SRCS)))
# ------------------------------------------- end third-party libraries ----

# V=1 shows the commands.
Q := $(if $(V),,@)

$(B)/obj/%.c.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $<")
	$(Q)gcc $(KERNEL_CFLAGS) -c $< -o $@

$(B)/obj/%.S.o: %.S
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  AS      $<")
	$(Q)gcc $(KERNEL_ASFLAGS) -c $< -o $@

# Backtraces name functions: link once, extract the text symbols into a table
# (its own section after .bss, so adding it moves no code), link again.
KERNEL_LDFLAGS := -nostdlib -static -z max-page-size=0x1000 -z noexecstack \
	--no-warn-rwx-segments -T kernel/arch/kernel.ld

$(B)/kernel.stage1.elf: $(KERNEL_OBJS) $(KERNEL_LIBS) $(B)/obj/ksyms_empty.o kernel/arch/kernel.ld
	@$(if $(V),,echo "  LD      $@")
	$(Q)ld $(KERNEL_LDFLAGS) -o $@ $(KERNEL_OBJS) $(B)/obj/ksyms_empty.o \
		--start-group $(KERNEL_LIBS) --end-group

$(B)/obj/ksyms_empty.o: scripts/gen-ksyms.sh
	@mkdir -p $(dir $@)
	$(Q)scripts/gen-ksyms.sh /dev/null > $(B)/obj/ksyms_empty.S
	$(Q)gcc $(KERNEL_ASFLAGS) -c $(B)/obj/ksyms_empty.S -o $@

$(B)/obj/ksyms_table.o: $(B)/kernel.stage1.elf scripts/gen-ksyms.sh
	$(Q)scripts/gen-ksyms.sh $< > $(B)/obj/ksyms_table.S
	$(Q)gcc $(KERNEL_ASFLAGS) -c $(B)/obj/ksyms_table.S -o $@

$(B)/kernel.elf: $(B)/obj/ksyms_table.o $(B)/kernel.stage1.elf
	@$(if $(V),,echo "  LD      $@")
	$(Q)ld $(KERNEL_LDFLAGS) -o $@ $(KERNEL_OBJS) $(B)/obj/ksyms_table.o \
		--start-group $(KERNEL_LIBS) --end-group
	@scripts/check-kernel.sh $@ $(B)/kernel.stage1.elf

-include $(KERNEL_OBJS:.o=.d)

# ---------------------------------------------------------------- loader ----

-include boot/boot.mk

# ---------------------------------------------------------------- images ----

$(B)/keel-usb.img: $(B)/BOOTX64.EFI scripts/mkusb.sh
	@$(if $(V),,echo "  IMAGE   $@")
	$(Q)scripts/mkusb.sh $(B)/BOOTX64.EFI $@

$(B)/pxe/BOOTX64.EFI: $(B)/BOOTX64.EFI scripts/mkpxe.sh
	@$(if $(V),,echo "  IMAGE   $@")
	$(Q)scripts/mkpxe.sh $(B)/BOOTX64.EFI $(B)/pxe

$(B)/keel.iso: $(B)/kernel.elf scripts/mkiso.sh
	@$(if $(V),,echo "  IMAGE   $@")
	$(Q)scripts/mkiso.sh $(B)/kernel.elf $@

images: $(B)/keel-usb.img $(B)/pxe/BOOTX64.EFI $(B)/keel.iso

all: $(B)/kernel.elf $(B)/BOOTX64.EFI images

-include tests/guests/guests.mk
all: $(GUEST_IMAGES)

# --------------------------------------------------------------- keelctl ----

# The admin's client (DESIGN.md section 6), built for the host with libcurl,
# cJSON and OpenSSL (make deps installs their -dev packages).
KEELCTL_SRCS := $(wildcard mgmt/keelctl/*.c)
KEELCTL_OBJS := $(patsubst %,$(B)/host/%.o,$(KEELCTL_SRCS))
KEELCTL_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-D_FORTIFY_SOURCE=2 -fstack-protector-strong -I. -MMD -MP
KEELCTL_LIBS := -lcurl -lcjson -lssl -lcrypto

$(B)/host/%.c.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  HOSTCC  $<")
	$(Q)gcc $(KEELCTL_CFLAGS) -c $< -o $@

$(B)/keelctl: $(KEELCTL_OBJS)
	@$(if $(V),,echo "  LD      $@")
	$(Q)gcc -o $@ $(KEELCTL_OBJS) $(KEELCTL_LIBS)

all: $(B)/keelctl

-include $(KEELCTL_OBJS:.o=.d)

# ------------------------------------------------------------------ deps ----

deps:
	@scripts/deps.sh

# ------------------------------------------------------------------- run ----

run: deps all
	scripts/run-qemu.sh

# ----------------------------------------------------------------- tests ----

HOST_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror -Wno-unused-parameter \
	-DKEEL_HOST_TEST -I.
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
UNIT_TESTS :=
-include $(wildcard tests/unit/*.mk)
UNIT_COMMON := tests/unit/shim/host_shim.c kernel/err.c

$(B)/unit/test_%: tests/unit/test_%.c $$(UNIT_SRCS_$$*) $(UNIT_COMMON) $(wildcard tests/unit/shim/*.h)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  HOSTCC  $@")
	$(Q)gcc $(HOST_CFLAGS) -o $@ $< $(UNIT_SRCS_$*) $(UNIT_COMMON) -lcmocka

$(B)/unit-asan/test_%: tests/unit/test_%.c $$(UNIT_SRCS_$$*) $(UNIT_COMMON) $(wildcard tests/unit/shim/*.h)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  HOSTCC  $@")
	$(Q)gcc $(HOST_CFLAGS) $(ASAN_FLAGS) -o $@ $< $(UNIT_SRCS_$*) $(UNIT_COMMON) -lcmocka

UNIT_BINS := $(patsubst %,$(B)/unit/test_%,$(UNIT_TESTS))
UNIT_ASAN_BINS := $(patsubst %,$(B)/unit-asan/test_%,$(UNIT_TESTS))

unit: $(UNIT_BINS) $(UNIT_ASAN_BINS)
	@scripts/run-unit.sh $(UNIT_BINS) $(UNIT_ASAN_BINS)

test: deps
	@$(MAKE) --no-print-directory all $(UNIT_BINS) $(UNIT_ASAN_BINS)
	@scripts/test.sh

test-slow: deps
	@$(MAKE) --no-print-directory all $(UNIT_BINS) $(UNIT_ASAN_BINS)
	@KEEL_SLOW=1 scripts/test.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@scripts/bench.sh

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
		--suppress=missingIncludeSystem -I. kernel mm drivers boot svm vmx
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
		--suppress=missingIncludeSystem -I. -Ithird_party/cjson \
		$(wildcard mgmt/*.c) mgmt/port

clean:
	rm -rf $(B)
