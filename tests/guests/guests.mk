# guests.mk - the test guests (tests/guests/README.md), included by the top
# Makefile. For each payload image <name>: build/guests/<name>.elf (ELF64
# linked at 1 MiB, Keel's 64-bit start) and build/guests/<name>.rom (flat
# firmware image ending at 4 GiB: the same payload behind stub.S); plus
# modes16.rom (real mode only, no payload). GUEST_IMAGES lists them all.
# build/guests/checks-bare.rom and modes16-bare.rom are variants for plain
# QEMU without Keel (README.md), not part of `all`.

GUEST_DIR := tests/guests
GUEST_B := $(or $(B),build)/guests
GUEST_INC := $(shell gcc -print-file-name=include)
GUEST_CFLAGS := -std=gnu11 -O2 -m64 -ffreestanding -nostdinc \
	-isystem $(GUEST_INC) -I. -fno-pic -fno-pie -mcmodel=small \
	-mno-red-zone -mgeneral-regs-only -fno-stack-protector \
	-fno-asynchronous-unwind-tables -fno-builtin -fno-strict-aliasing \
	-fno-common -fno-tree-loop-distribute-patterns \
	-Wall -Wextra -Werror -Wno-unused-parameter -MMD -MP
GUEST_ASFLAGS := -m64 -nostdinc -I. -D__ASSEMBLY__ -MMD -MP
GUEST_LDFLAGS := -nostdlib -static -z max-page-size=0x1000 -z noexecstack \
	--no-warn-rwx-segments --build-id=none
GUEST_Q := $(if $(V),,@)

GUEST_PAYLOADS := checks triple badaccess bench flood
GUEST_RUNTIME := $(GUEST_B)/obj/start64.o $(GUEST_B)/obj/lib.o
GUEST_IMAGES := $(foreach g,$(GUEST_PAYLOADS),$(GUEST_B)/$(g).elf \
	$(GUEST_B)/$(g).rom) $(GUEST_B)/modes16.rom

.PHONY: guests
guests: $(GUEST_IMAGES)
# Keep the objects make would otherwise treat as intermediate.
.SECONDARY: $(foreach o,$(GUEST_PAYLOADS) checks-bare stub start64 lib \
	modes16 modes16-bare,$(GUEST_B)/obj/$(o).o)

$(GUEST_B)/obj/%.o: $(GUEST_DIR)/%.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  GUESTCC $<")
	$(GUEST_Q)gcc $(GUEST_CFLAGS) -c $< -o $@

$(GUEST_B)/obj/%.o: $(GUEST_DIR)/%.S
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  GUESTAS $<")
	$(GUEST_Q)gcc $(GUEST_ASFLAGS) -c $< -o $@

$(GUEST_B)/obj/%-bare.o: $(GUEST_DIR)/%.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  GUESTCC $< (bare)")
	$(GUEST_Q)gcc $(GUEST_CFLAGS) -DGUEST_BARE -c $< -o $@

$(GUEST_B)/obj/%-bare.o: $(GUEST_DIR)/%.S
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  GUESTAS $< (bare)")
	$(GUEST_Q)gcc $(GUEST_ASFLAGS) -DGUEST_BARE -c $< -o $@

# The payload: runtime first (start64.S's _start must land at 1 MiB).
$(GUEST_B)/%.elf: $(GUEST_B)/obj/%.o $(GUEST_RUNTIME) $(GUEST_DIR)/payload.ld
	@$(if $(V),,echo "  GUESTLD $@")
	$(GUEST_Q)ld $(GUEST_LDFLAGS) -T $(GUEST_DIR)/payload.ld -o $@ \
		$(GUEST_RUNTIME) $<

# The ROM: the payload's bytes as section .payload, placed so that it ends
# where the stub's page begins (rom.ld). Keel wants a multiple of 4 KiB; the
# images stay below 64 KiB so that everything is reachable from real mode.
$(GUEST_B)/%.rom: $(GUEST_B)/%.elf $(GUEST_B)/obj/stub.o $(GUEST_DIR)/rom.ld
	@$(if $(V),,echo "  GUESTROM $@")
	$(GUEST_Q)objcopy -O binary $< $(GUEST_B)/obj/$*.bin
	$(GUEST_Q)cd $(GUEST_B)/obj && objcopy -I binary -O elf64-x86-64 \
		-B i386:x86-64 --rename-section \
		.data=.payload,alloc,load,readonly,data,contents \
		$*.bin $*.payload.o
	$(GUEST_Q)size=$$(stat -c %s $(GUEST_B)/obj/$*.bin); \
	base=$$(( 0xFFFFF000 - (size + 4095) / 4096 * 4096 )); \
	ld $(GUEST_LDFLAGS) -T $(GUEST_DIR)/rom.ld --defsym=ROM_BASE=$$base \
		-o $(GUEST_B)/obj/$*.rom.elf $(GUEST_B)/obj/stub.o \
		$(GUEST_B)/obj/$*.payload.o
	$(GUEST_Q)objcopy -O binary $(GUEST_B)/obj/$*.rom.elf $@
	$(GUEST_Q)size=$$(stat -c %s $@); \
	if [ $$((size % 4096)) -ne 0 ] || [ $$size -ge 65536 ]; then \
		echo "guests.mk: $@ is $$size bytes (want a multiple of 4 KiB," \
			"below 64 KiB)" >&2; rm -f $@; exit 1; fi

# Real mode only: modes16.S is the whole ROM (one page).
$(GUEST_B)/modes16.rom $(GUEST_B)/modes16-bare.rom: $(GUEST_B)/%.rom: \
		$(GUEST_B)/obj/%.o $(GUEST_DIR)/rom.ld
	@$(if $(V),,echo "  GUESTROM $@")
	$(GUEST_Q)ld $(GUEST_LDFLAGS) -T $(GUEST_DIR)/rom.ld \
		--defsym=ROM_BASE=0xFFFFF000 -o $(GUEST_B)/obj/$*.rom.elf $<
	$(GUEST_Q)objcopy -O binary $(GUEST_B)/obj/$*.rom.elf $@

# checks for plain QEMU (README.md, "Testing the guests without Keel").
$(GUEST_B)/checks-bare.elf: $(GUEST_B)/obj/checks-bare.o $(GUEST_RUNTIME) \
		$(GUEST_DIR)/payload.ld
	@$(if $(V),,echo "  GUESTLD $@")
	$(GUEST_Q)ld $(GUEST_LDFLAGS) -T $(GUEST_DIR)/payload.ld -o $@ \
		$(GUEST_RUNTIME) $<

# mbtest: a Multiboot (v1) kernel, 32-bit, ELF32 at 1 MiB (mbtest.c says
# what it checks). mbtest.elf has the loader read its program headers;
# mbtest-aout.elf is the same kernel with the a.out kludge (header flags
# bit 16). Its own objects (build/guests/obj32/), its own tiny runtime.
MBTEST_CFLAGS := $(filter-out -m64 -mcmodel=small -mno-red-zone,$(GUEST_CFLAGS)) \
	-m32 -march=i686
MBTEST_ASFLAGS := $(filter-out -m64,$(GUEST_ASFLAGS)) -m32
MBTEST_LDFLAGS := -m elf_i386 $(GUEST_LDFLAGS)
MBTEST_IMAGES := $(GUEST_B)/mbtest.elf $(GUEST_B)/mbtest-aout.elf
GUEST_IMAGES += $(MBTEST_IMAGES)
guests: $(MBTEST_IMAGES)

$(GUEST_B)/obj32/mbtest.o: $(GUEST_DIR)/mbtest.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  GUESTCC $< (32-bit)")
	$(GUEST_Q)gcc $(MBTEST_CFLAGS) -c $< -o $@

$(GUEST_B)/obj32/mbstart.o: $(GUEST_DIR)/mbstart.S
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  GUESTAS $< (32-bit)")
	$(GUEST_Q)gcc $(MBTEST_ASFLAGS) -c $< -o $@

$(GUEST_B)/obj32/mbstart-aout.o: $(GUEST_DIR)/mbstart.S
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  GUESTAS $< (32-bit, a.out kludge)")
	$(GUEST_Q)gcc $(MBTEST_ASFLAGS) -DMB_AOUT -c $< -o $@

$(GUEST_B)/mbtest.elf: $(GUEST_B)/obj32/mbstart.o $(GUEST_B)/obj32/mbtest.o \
		$(GUEST_DIR)/mbtest.ld
	@$(if $(V),,echo "  GUESTLD $@")
	$(GUEST_Q)ld $(MBTEST_LDFLAGS) -T $(GUEST_DIR)/mbtest.ld -o $@ \
		$(filter %.o,$^)

$(GUEST_B)/mbtest-aout.elf: $(GUEST_B)/obj32/mbstart-aout.o \
		$(GUEST_B)/obj32/mbtest.o $(GUEST_DIR)/mbtest.ld
	@$(if $(V),,echo "  GUESTLD $@")
	$(GUEST_Q)ld $(MBTEST_LDFLAGS) -T $(GUEST_DIR)/mbtest.ld -o $@ \
		$(filter %.o,$^)

-include $(wildcard $(GUEST_B)/obj/*.d)
-include $(wildcard $(GUEST_B)/obj32/*.d)
