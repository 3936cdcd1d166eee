/*
 * boot.h - the kernel's side of the boot paths: both entries end in
 * kernel_main() with a struct boot_info the kernel owns.
 */
#ifndef KEEL_BOOT_H
#define KEEL_BOOT_H

#include "boot/boot_info.h"

void kernel_main(struct boot_info *bi) __attribute__((noreturn));
/* Physical address of a kernel symbol (the kernel may be loaded anywhere). */
uint64_t kernel_virt_to_phys(const void *p);
extern uint64_t kernel_phys_base;

#endif
