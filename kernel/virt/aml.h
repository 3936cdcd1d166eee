/*
 * aml.h - a small AML byte-code writer for the tables Keel gives its guests
 * (ACPI 6.5 chapter 20, "ACPI Machine Language Specification"): names,
 * integers, strings, packages, scopes, devices, methods and resource
 * templates, enough for a static DSDT. Pure: host-testable, no allocation.
 *
 * Objects that hold a PkgLength (Scope, Device, Method, Package) are opened
 * with aml_*_begin and closed with aml_end; the PkgLength is inserted when
 * the object is closed, in its shortest encoding. A writer that ran out of
 * room keeps counting, so aml.len says how much room it needed.
 */
#ifndef KEEL_VIRT_AML_H
#define KEEL_VIRT_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AML_MAX_DEPTH 8
#define AML_PKGLEN_MAX 0x0FFFFFFFu /* 4 bytes: 4 + 8 + 8 + 8 bits */

struct aml {
	uint8_t *buf;
	size_t cap;
	size_t len;    /* bytes written, or needed once overflow is set */
	bool overflow; /* buf was too small: its contents are unusable */
	bool invalid;  /* a bad name, nesting or length was asked for */
	unsigned depth;
	size_t open[AML_MAX_DEPTH]; /* where open objects' PkgLengths go */
};

void aml_init(struct aml *a, void *buf, size_t cap);
/* True when everything asked for was written and every object closed. */
bool aml_ok(const struct aml *a);

/*
 * Encode PkgLength value len (ACPI 6.5 20.2.4), which counts the PkgLength
 * bytes themselves, into out. Returns the bytes used (1-4), or 0 when len
 * exceeds AML_PKGLEN_MAX.
 */
size_t aml_pkglen_encode(uint8_t out[4], uint32_t len);
/* The PkgLength value for an object whose body after the PkgLength is
 * body bytes long (so that value = body + encoded size), or 0 if too big. */
uint32_t aml_pkglen_for_body(size_t body);

void aml_byte(struct aml *a, uint8_t v);
void aml_bytes(struct aml *a, const void *p, size_t n);

/* A NameString (20.2.2): optional "\" or "^" prefixes, then NameSegs of one
 * to four characters ('_' padded) separated by '.'; e.g. "\\_SB.PCI0". */
void aml_name_string(struct aml *a, const char *name);
/* Integer constant (20.2.3) in its shortest form: Zero, One, Byte, Word,
 * DWord or QWord. */
void aml_integer(struct aml *a, uint64_t v);
/* String constant: printable ASCII, NUL-terminated in the AML. */
void aml_string(struct aml *a, const char *s);
/* EISAID("PNP0A03") (6.1.5): three letters and four hex digits compressed
 * to 32 bits, emitted as an integer constant like iasl does. */
void aml_eisaid(struct aml *a, const char *id);

/* Name(name, ...): the data object must follow. */
void aml_name(struct aml *a, const char *name);
void aml_name_integer(struct aml *a, const char *name, uint64_t v);
void aml_name_str(struct aml *a, const char *name, const char *s);
void aml_name_eisaid(struct aml *a, const char *name, const char *id);

/* Open objects; each one ends with aml_end. */
void aml_scope_begin(struct aml *a, const char *name);
void aml_device_begin(struct aml *a, const char *name);
void aml_method_begin(struct aml *a, const char *name, unsigned nargs,
		      bool serialized);
void aml_package_begin(struct aml *a, unsigned elements);
void aml_end(struct aml *a);

/* Return(integer) inside a method. */
void aml_return_integer(struct aml *a, uint64_t v);
/* Buffer(){bytes}: BufferOp, PkgLength, BufferSize, the bytes. */
void aml_buffer(struct aml *a, const void *p, size_t n);

/*
 * Resource descriptors (ACPI 6.5 6.4), written into a writer of their own
 * and then wrapped by aml_resource_template, which adds the End Tag and the
 * Buffer around them.
 */
/* IO(Decode16, base, base, 1, len): a fixed range of I/O ports. */
void aml_res_io(struct aml *r, uint16_t base, uint8_t len);
/* IRQNoFlags(){irq}: edge-triggered, active-high, exclusive (6.4.2.1). */
void aml_res_irq_noflags(struct aml *r, uint8_t irq);
/* WordBusNumber(ResourceProducer, MinFixed, MaxFixed, PosDecode, ...). */
void aml_res_word_bus(struct aml *r, uint16_t min, uint16_t max);
/* WordIO(ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange). */
void aml_res_word_io(struct aml *r, uint16_t min, uint16_t max);
/* DWordMemory(ResourceProducer, PosDecode, MinFixed, MaxFixed, Cacheable
 * or NonCacheable, ReadWrite). */
void aml_res_dword_mem(struct aml *r, uint32_t min, uint32_t max,
		       bool cacheable);
/* Buffer(){r's descriptors, EndTag}. */
void aml_resource_template(struct aml *a, const struct aml *r);

#endif
