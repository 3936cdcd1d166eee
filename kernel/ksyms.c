/*
 * ksyms.c - function names for backtraces. The table is generated from the
 * linked kernel by scripts/gen-ksyms.sh into the .ksyms section: a count, then
 * (address, name offset) pairs sorted by address, then the names.
 */
#include <stddef.h>
#include <stdint.h>

#include "kernel/panic.h"

struct ksym {
	uint64_t addr;
	uint32_t name;
	uint32_t reserved;
};

extern const uint64_t ksyms_count;
extern const struct ksym ksyms_table[];
extern const char ksyms_names[];
extern const char __text_start[], __text_end[];

const char *ksyms_lookup(uint64_t addr, uint64_t *offset)
{
	if (addr < (uint64_t)__text_start || addr >= (uint64_t)__text_end ||
	    ksyms_count == 0)
		return NULL;
	uint64_t lo = 0, hi = ksyms_count;
	while (hi - lo > 1) { /* last symbol with address <= addr */
		uint64_t mid = lo + (hi - lo) / 2;
		if (ksyms_table[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	if (ksyms_table[lo].addr > addr)
		return NULL;
	*offset = addr - ksyms_table[lo].addr;
	return ksyms_names + ksyms_table[lo].name;
}
