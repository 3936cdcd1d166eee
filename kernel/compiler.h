/*
 * compiler.h - attributes Keel's code uses by name.
 *
 * __hot: on the VM-exit path. The linker script puts every such function
 * together at the start of .text, so an exit touches few code pages: under
 * an emulator (QEMU's TCG flushes its TLB on every world switch) each page
 * touched costs a TLB refill, and on hardware it costs i-TLB and cache lines.
 */
#ifndef KEEL_COMPILER_H
#define KEEL_COMPILER_H

#define __hot __attribute__((hot, section(".text.hot")))

#endif
