# boot.mk - the UEFI loader, $(B)/BOOTX64.EFI (included by the top Makefile).
#
# Built with Debian's gnu-efi 3.0.15: objects are PIC ELF, linked as a
# shared object against crt0-efi-x86_64.o with gnu-efi's linker script, then
# converted to a PE32+ EFI application by objcopy.
#
# The kernel is embedded: boot/kernel_blob.S pulls $(BOOT_KERNEL_ELF) in
# with .incbin into section .rodata.kernel_blob (4 KiB aligned, symbols
# kernel_blob_start/kernel_blob_end). gnu-efi's linker script places
# .rodata* inside its .data output section, which the objcopy -j list keeps.
# BOOT_KERNEL_ELF defaults to $(B)/kernel.elf; tests may point it at another
# kernel, with B= set to a scratch directory.
#
# kernel/config.c and config_keys.c (the keel.cfg parser) are compiled here a second time with
# the loader's flags, so the loader and the kernel read keel.cfg the same way.

EFI_INC := /usr/include/efi
EFI_LIB := /usr/lib
BOOT_KERNEL_ELF ?= $(B)/kernel.elf
KEEL_VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)

# GNU_EFI_USE_MS_ABI: uefi_call_wrapper calls firmware directly through
# ms_abi function pointers, so argument types are checked by the compiler.
# -nostdinc with the kernel's libc headers: config.c sees the same
# <string.h> as in the kernel, and nothing of glibc leaks in.
BOOT_CFLAGS := -std=gnu11 -O2 -nostdinc -isystem $(GCCINC) \
	-Ikernel/libc/include -I$(EFI_INC) -I$(EFI_INC)/x86_64 -I. \
	-fpic -ffreestanding -fno-stack-protector -fno-stack-check \
	-fshort-wchar -mno-red-zone -maccumulate-outgoing-args \
	-fno-asynchronous-unwind-tables -fno-strict-aliasing \
	-DEFI_FUNCTION_WRAPPER -DGNU_EFI_USE_MS_ABI \
	-DKEEL_VERSION='"$(KEEL_VERSION)"' \
	-Wall -Wextra -Werror -MMD -MP

BOOT_SRCS := boot/loader.c boot/options.c boot/fs.c boot/kernel.c \
	boot/modules.c boot/bootinfo.c boot/handover.c boot/elf.c \
	boot/mmap.c boot/paging.c boot/text.c boot/libc.c \
	boot/trampoline.S
BOOT_OBJS := $(patsubst boot/%,$(B)/boot/%.o,$(BOOT_SRCS)) \
	$(B)/boot/kernel/config.c.o $(B)/boot/kernel/config_keys.c.o \
	$(B)/boot/kernel_blob.S.o

$(B)/boot/%.c.o: boot/%.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $< (efi)")
	$(Q)gcc $(BOOT_CFLAGS) -c $< -o $@

$(B)/boot/%.S.o: boot/%.S
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  AS      $< (efi)")
	$(Q)gcc $(BOOT_CFLAGS) -D__ASSEMBLY__ -c $< -o $@

# Same flags as the kernel's build of it where they matter for warnings.
$(B)/boot/kernel/%.c.o: kernel/%.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $< (efi)")
	$(Q)gcc $(BOOT_CFLAGS) -Wno-unused-parameter -c $< -o $@

# Loops in memmove & co. must not be turned back into calls to themselves.
$(B)/boot/libc.c.o: BOOT_CFLAGS += -fno-tree-loop-distribute-patterns

$(B)/boot/kernel_blob.S.o: boot/kernel_blob.S $(BOOT_KERNEL_ELF)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  AS      $< ($(BOOT_KERNEL_ELF))")
	$(Q)gcc $(BOOT_CFLAGS) -D__ASSEMBLY__ \
		-DKERNEL_BLOB_PATH='"$(BOOT_KERNEL_ELF)"' -c $< -o $@

# --no-undefined: a shared link would otherwise leave a missing function to
# crash at run time.
$(B)/boot/loader.so: $(BOOT_OBJS)
	@$(if $(V),,echo "  LD      $@")
	$(Q)ld -shared -Bsymbolic --no-undefined -nostdlib -L$(EFI_LIB) \
		-T$(EFI_LIB)/elf_x86_64_efi.lds $(EFI_LIB)/crt0-efi-x86_64.o \
		$(BOOT_OBJS) -o $@ -lgnuefi -lefi

$(B)/BOOTX64.EFI: $(B)/boot/loader.so
	@$(if $(V),,echo "  EFI     $@")
	$(Q)objcopy -j .text -j .sdata -j .data -j .rodata -j .dynamic \
		-j .dynsym -j .rel -j .rela -j .rel.* -j .rela.* -j .reloc \
		--target efi-app-x86_64 --subsystem=10 $< $@

-include $(BOOT_OBJS:.o=.d)
