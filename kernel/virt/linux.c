/*
 * linux.c - the Linux/x86 boot protocol for a direct kernel start (boot.rst,
 * "THE LINUX/x86 BOOT PROTOCOL" and "64-bit BOOT PROTOCOL"; zero-page.rst):
 * the bzImage's setup header checked, where kernel, initrd and command line
 * go, the zero page; and the guest's e820 map, which Multiboot mirrors.
 * Pure: load.c writes the result into guest memory.
 */
#include <string.h>

#include "kernel/err.h"
#include "kernel/virt/boot_proto.h"

static uint64_t align_up(uint64_t x, uint64_t a)
{
	return (x + a - 1) & ~(a - 1);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* ---------------------------------------------------------------- e820 -- */

static unsigned e820_add(struct boot_e820_entry *map, unsigned n, unsigned max,
			 uint64_t addr, uint64_t size, uint32_t type)
{
	if (!size || n >= max)
		return n;
	map[n] = (struct boot_e820_entry){.addr = addr, .size = size, .type = type};
	return n + 1;
}

unsigned boot_e820_build(uint64_t low, uint64_t high,
			 struct boot_e820_entry *map, unsigned max)
{
	unsigned n = 0;

	/* Below 1 MiB, what a PC's BIOS reports: conventional memory up to
	 * the EBDA, the EBDA reserved, the BIOS area (here: ACPI tables)
	 * reserved; 0xA0000-0xDFFFF is in no entry (VGA window, option ROMs). */
	n = e820_add(map, n, max, 0, min_u64(low, BOOT_EBDA), E820_RAM);
	n = e820_add(map, n, max, BOOT_EBDA, 0xA0000 - BOOT_EBDA, E820_RESERVED);
	n = e820_add(map, n, max, BOOT_ACPI_BASE, BOOT_ACPI_SIZE, E820_RESERVED);
	if (low > BOOT_HIGH_MEM)
		n = e820_add(map, n, max, BOOT_HIGH_MEM, low - BOOT_HIGH_MEM,
			     E820_RAM);
	/* The interrupt controllers' MMIO pages (MP spec 1.4, 3.6.1 default
	 * addresses), so that nothing is placed over them. */
	n = e820_add(map, n, max, BOOT_IOAPIC_BASE, 0x1000, E820_RESERVED);
	n = e820_add(map, n, max, BOOT_LAPIC_BASE, 0x1000, E820_RESERVED);
	n = e820_add(map, n, max, BOOT_4G, high, E820_RAM);
	return n;
}

bool boot_e820_usable(const struct boot_e820_entry *map, unsigned n,
		      uint64_t addr, uint64_t size)
{
	if (addr + size < addr)
		return false;
	for (unsigned i = 0; i < n; i++)
		if (map[i].type == E820_RAM && addr >= map[i].addr &&
		    addr + size <= map[i].addr + map[i].size)
			return true;
	return false;
}

int boot_e820_fit(const struct boot_e820_entry *map, unsigned n, uint64_t from,
		  uint64_t size, uint64_t align, uint64_t limit, uint64_t *addr)
{
	bool found = false;
	uint64_t best = 0;

	for (unsigned i = 0; i < n; i++) {
		uint64_t end = map[i].addr + map[i].size;
		if (map[i].type != E820_RAM)
			continue;
		uint64_t a = align_up(max_u64(from, map[i].addr), align);
		if (a < from || a + size < a || a + size > min_u64(end, limit))
			continue;
		if (!found || a < best)
			best = a;
		found = true;
	}
	if (!found)
		return KEEL_ENOMEM;
	*addr = best;
	return 0;
}

/* --------------------------------------------------------------- image -- */

int linux_image_check(const void *image, size_t size, struct linux_image *li,
		      const char **why)
{
	const uint8_t *b = image;

	if (size < LINUX_HDR_VERSION + 2) {
		*why = "too small to hold a Linux setup header (no \"HdrS\")";
		return KEEL_EINVAL;
	}
	if (memcmp(b + LINUX_HDR_MAGIC, "HdrS", 4)) {
		*why = "no \"HdrS\" signature at 0x202: not a Linux bzImage";
		return KEEL_EINVAL;
	}
	if (get16(b, LINUX_HDR_BOOT_FLAG) != 0xAA55) {
		*why = "boot_flag at 0x1FE is not 0xAA55";
		return KEEL_EINVAL;
	}
	memset(li, 0, sizeof(*li));
	li->version = get16(b, LINUX_HDR_VERSION);
	if (li->version < LINUX_VERSION_MIN) {
		*why = "boot protocol older than 2.12 (no xloadflags, no 64-bit "
		       "entry): Linux 3.8 or later is needed";
		return KEEL_EINVAL;
	}
	/* boot.rst: the header ends at 0x202 + the byte at 0x201 (the jump's
	 * displacement). 2.12 has fields up to init_size at 0x260. */
	li->hdr_end = LINUX_HDR_MAGIC + b[LINUX_HDR_JUMP + 1];
	if (li->hdr_end < LINUX_HDR_INIT_SIZE + 4 ||
	    li->hdr_end > LINUX_HDR_MAX_END) {
		*why = "the setup header's length (byte 0x201) does not fit "
		       "protocol 2.12";
		return KEEL_EINVAL;
	}
	if (size < li->hdr_end) {
		*why = "the file ends inside the setup header";
		return KEEL_EINVAL;
	}
	li->loadflags = b[LINUX_HDR_LOADFLAGS];
	li->xloadflags = get16(b, LINUX_HDR_XLOADFLAGS);
	li->kernel_alignment = get32(b, LINUX_HDR_KERNEL_ALIGNMENT);
	li->pref_address = get64(b, LINUX_HDR_PREF_ADDRESS);
	li->init_size = get32(b, LINUX_HDR_INIT_SIZE);
	li->initrd_addr_max = get32(b, LINUX_HDR_INITRD_ADDR_MAX);
	li->cmdline_size = get32(b, LINUX_HDR_CMDLINE_SIZE);
	if (!(li->loadflags & LINUX_LOADED_HIGH)) {
		*why = "loadflags LOADED_HIGH clear: a zImage, not a bzImage";
		return KEEL_EINVAL;
	}
	if (!(li->xloadflags & LINUX_XLF_KERNEL_64)) {
		*why = "xloadflags XLF_KERNEL_64 clear: no 64-bit entry (a 32-bit "
		       "kernel?)";
		return KEEL_EINVAL;
	}
	if (!b[LINUX_HDR_RELOCATABLE]) {
		*why = "relocatable_kernel is 0: Keel loads relocatable kernels "
		       "only (CONFIG_RELOCATABLE)";
		return KEEL_EINVAL;
	}
	uint32_t ka = li->kernel_alignment;
	if (ka < 0x1000 || (ka & (ka - 1))) {
		*why = "kernel_alignment is not a power of two of at least 4 KiB";
		return KEEL_EINVAL;
	}
	if (li->pref_address & (ka - 1)) {
		*why = "pref_address is not a multiple of kernel_alignment";
		return KEEL_EINVAL;
	}
	if (li->pref_address < BOOT_HIGH_MEM || li->pref_address >= BOOT_4G) {
		*why = "pref_address is not between 1 MiB and 4 GiB";
		return KEEL_EINVAL;
	}
	/* boot.rst: setup_sects 0 means 4. The boot sector is one more. */
	unsigned sects = b[LINUX_HDR_SETUP_SECTS] ? b[LINUX_HDR_SETUP_SECTS] : 4;
	li->setup_size = (size_t)(sects + 1) * 512;
	if (li->setup_size < li->hdr_end || li->setup_size >= size) {
		*why = "the file ends inside the real-mode setup (setup_sects "
		       "too large, or the file is truncated)";
		return KEEL_EINVAL;
	}
	li->kernel_size = size - li->setup_size;
	if (li->init_size < li->kernel_size) {
		*why = "init_size is smaller than the kernel in the file";
		return KEEL_EINVAL;
	}
	return 0;
}

/* -------------------------------------------------------------- layout -- */

int linux_initrd_place(const struct boot_e820_entry *map, unsigned n,
		       uint64_t size, uint64_t addr_max, uint64_t kernel_lo,
		       uint64_t kernel_hi, uint64_t *addr)
{
	uint64_t limit = min_u64(addr_max + 1, BOOT_4G);
	bool found = false;
	uint64_t best = 0;

	for (unsigned i = 0; i < n; i++) {
		if (map[i].type != E820_RAM)
			continue;
		uint64_t lo = max_u64(map[i].addr, BOOT_HIGH_MEM);
		uint64_t hi = min_u64(map[i].addr + map[i].size, limit);
		/* The usable range without the kernel: below it, above it. */
		uint64_t piece[2][2] = {
			{lo, min_u64(hi, kernel_lo)},
			{max_u64(lo, kernel_hi), hi},
		};
		for (unsigned k = 0; k < 2; k++) {
			uint64_t plo = piece[k][0], phi = piece[k][1];
			if (plo >= phi || phi - plo < size)
				continue;
			uint64_t a = (phi - size) & ~0xFFFULL;
			if (a < plo)
				continue;
			if (!found || a > best)
				best = a;
			found = true;
		}
	}
	if (!found)
		return KEEL_ENOMEM;
	*addr = best;
	return 0;
}

int linux_layout_plan(const struct linux_image *li,
		      const struct boot_e820_entry *map, unsigned n,
		      uint64_t initrd_size, size_t cmdline_len,
		      struct linux_layout *lay, const char **why)
{
	memset(lay, 0, sizeof(*lay));
	/* boot.rst: a relocatable kernel may go anywhere kernel_alignment
	 * allows, but its decompressor runs at LOAD_PHYSICAL_ADDR or above
	 * in any case: pref_address costs nothing. */
	lay->kernel = li->pref_address;
	lay->entry = li->pref_address + LINUX_ENTRY64_OFFSET;
	if (!boot_e820_usable(map, n, lay->kernel, li->init_size)) {
		*why = "the kernel needs init_size bytes of RAM from its "
		       "pref_address: give the VM more memory";
		return KEEL_ENOMEM;
	}
	if (cmdline_len > li->cmdline_size) {
		*why = "the command line is longer than the kernel's cmdline_size";
		return KEEL_EINVAL;
	}
	if (cmdline_len + 1 > BOOT_CMDLINE_END - BOOT_CMDLINE) {
		*why = "the command line is longer than 64 KiB";
		return KEEL_EINVAL;
	}
	lay->cmdline = BOOT_CMDLINE;
	lay->boot_params = BOOT_ZERO_PAGE;
	if (initrd_size) {
		int err = linux_initrd_place(map, n, initrd_size,
					     li->initrd_addr_max, lay->kernel,
					     lay->kernel + li->init_size,
					     &lay->initrd);
		if (err) {
			*why = "no room for the initrd in RAM below the kernel's "
			       "initrd_addr_max beside the kernel's init_size: "
			       "give the VM more memory";
			return err;
		}
		lay->initrd_size = initrd_size;
	}
	return 0;
}

/* ----------------------------------------------------------- zero page -- */

void linux_boot_params_build(uint8_t *zp, const void *image,
			     const struct linux_image *li,
			     const struct linux_layout *lay,
			     const struct boot_e820_entry *map, unsigned n,
			     uint64_t acpi_rsdp)
{
	const uint8_t *b = image;

	/* boot.rst, "64-bit BOOT PROTOCOL": zero boot_params, copy the setup
	 * header from the image, then set what a boot loader must. */
	memset(zp, 0, 4096);
	memcpy(zp + LINUX_HDR_START, b + LINUX_HDR_START,
	       li->hdr_end - LINUX_HDR_START);
	zp[LINUX_HDR_TYPE_OF_LOADER] = 0xFF; /* no assigned loader id */
	/* Keep LOADED_HIGH; QUIET off (the console is the point), no
	 * KEEP_SEGMENTS (obsolete), no CAN_USE_HEAP (heap_end_ptr is for the
	 * real-mode setup, which a 64-bit entry skips). */
	zp[LINUX_HDR_LOADFLAGS] = (li->loadflags | LINUX_LOADED_HIGH) &
				  ~(LINUX_QUIET | LINUX_KEEP_SEGMENTS |
				    LINUX_CAN_USE_HEAP);
	zp[LINUX_HDR_HEAP_END_PTR] = 0;
	zp[LINUX_HDR_HEAP_END_PTR + 1] = 0;
	/* Not taken from the file: no setup_data list, a plain PC. */
	put64(zp, LINUX_HDR_SETUP_DATA, 0);
	put32(zp, LINUX_HDR_HARDWARE_SUBARCH, 0);
	put32(zp, LINUX_HDR_CMD_LINE_PTR, (uint32_t)lay->cmdline);
	put32(zp, LINUX_ZP_EXT_CMD_LINE_PTR, (uint32_t)(lay->cmdline >> 32));
	put32(zp, LINUX_HDR_RAMDISK_IMAGE, (uint32_t)lay->initrd);
	put32(zp, LINUX_ZP_EXT_RAMDISK_IMAGE, (uint32_t)(lay->initrd >> 32));
	put32(zp, LINUX_HDR_RAMDISK_SIZE, (uint32_t)lay->initrd_size);
	put32(zp, LINUX_ZP_EXT_RAMDISK_SIZE, (uint32_t)(lay->initrd_size >> 32));
	if (n > LINUX_ZP_E820_MAX)
		n = LINUX_ZP_E820_MAX;
	zp[LINUX_ZP_E820_ENTRIES] = (uint8_t)n;
	memcpy(zp + LINUX_ZP_E820_TABLE, map, n * sizeof(*map));
	/* zero-page.rst: acpi_rsdp_addr is part of boot_params for every
	 * protocol version (boot.rst's 2.14 header field was withdrawn);
	 * kernels before 4.20 ignore it and scan 0xE0000-0xFFFFF, where the
	 * RSDP is too. screen_info stays zero: orig_video_isVGA 0, no VGA. */
	put64(zp, LINUX_ZP_ACPI_RSDP, acpi_rsdp);
}

static size_t dec_u64(char *buf, uint64_t v)
{
	char tmp[20];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

static bool cmdline_has(const char *s, const char *param)
{
	size_t n = strlen(param);

	for (const char *p = s; (p = strstr(p, param)); p += n)
		if (p == s || p[-1] == ' ')
			return true;
	return false;
}

int linux_cmdline_compose(char *dst, size_t cap, const char *src,
			  uint64_t tsc_khz)
{
	static const char param[] = "tsc_early_khz=";
	size_t len = strlen(src);
	char num[20];

	if (len + 1 > cap)
		return KEEL_ERANGE;
	memcpy(dst, src, len + 1);
	if (!tsc_khz || cmdline_has(src, param))
		return 0;
	size_t nlen = dec_u64(num, tsc_khz);
	size_t sep = len ? 1 : 0;
	if (len + sep + sizeof(param) - 1 + nlen + 1 > cap)
		return KEEL_ERANGE;
	char *p = dst + len;
	if (sep)
		*p++ = ' ';
	memcpy(p, param, sizeof(param) - 1);
	p += sizeof(param) - 1;
	memcpy(p, num, nlen);
	p[nlen] = '\0';
	return 0;
}
