/*
 * testdev.c - the register model of the MMIO scratch device at SCRATCH_BASE:
 * 4 KiB that read back what was written, at any width and offset (little
 * endian), with a read-only magic in the last 8 bytes. Test guests use it to
 * drive every MMIO path of the instruction emulator.
 */
#include <string.h>

#include "kernel/compiler.h"
#include "kernel/err.h"
#include "kernel/vdev/vdev.h"

__hot int testdev_mmio(struct testdev *t, uint64_t off, uint8_t size, bool write,
		 uint64_t *val)
{
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return KEEL_EINVAL;
	if (off >= SCRATCH_SIZE || size > SCRATCH_SIZE - off)
		return KEEL_ERANGE;
	if (write) {
		if (off + size > SCRATCH_SIZE - 8)
			size = off >= SCRATCH_SIZE - 8 ? 0 :
			       (uint8_t)(SCRATCH_SIZE - 8 - off);
		memcpy(t->scratch + off, val, size); /* the magic is read-only */
		return 0;
	}
	uint8_t bytes[8];
	memcpy(bytes, t->scratch + off, size);
	uint64_t magic = SCRATCH_MAGIC;
	for (unsigned i = 0; i < size; i++)
		if (off + i >= SCRATCH_SIZE - 8)
			bytes[i] = ((uint8_t *)&magic)[off + i - (SCRATCH_SIZE - 8)];
	*val = 0;
	memcpy(val, bytes, size);
	return 0;
}
