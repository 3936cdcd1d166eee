/*
 * heap.c - kmalloc/kzalloc/kfree: size classes of 16..2048 bytes carved from
 * slabs (pmm blocks), and whole pmm blocks for anything larger. Every object
 * has a 16-byte header in front of it that says where it came from, so kfree
 * needs no size and can refuse pointers it never handed out. Owns heap_lock,
 * taken before the pmm lock.
 */
#include <string.h>

#include "kernel/log.h"
#include "kernel/spinlock.h"
#include "mm/mm.h"

#define HEAP_MAGIC_USED 0x4B48454Du /* "MEHK" */
#define HEAP_MAGIC_FREE 0x6B68656Du /* "mehk" */
#define HEAP_MAGIC_SLAB 0x534C4142u /* "BALS" */
#define HEAP_CLASS_LARGE 0xFFFFu
#define HEAP_ALIGN 16

/* In front of every object; 16 bytes, so objects stay 16-byte aligned. */
struct heap_hdr {
	uint32_t magic;
	uint16_t cls;	/* size class, or HEAP_CLASS_LARGE */
	uint16_t order; /* large: the pmm order of the block */
	struct heap_slab *slab; /* slab objects: their slab */
};

/* At the start of every slab (a naturally aligned pmm block). */
struct heap_slab {
	uint32_t magic;
	uint16_t cls;
	uint16_t used;
	uint16_t total;
	void *free;		       /* first free object (payload), linked
					  through the payloads */
	struct heap_slab *next, *prev; /* in the class's partial list */
} __attribute__((aligned(HEAP_ALIGN)));

struct heap_class {
	uint32_t size;	/* payload bytes */
	unsigned order; /* slab size: at least 8 objects per slab */
	struct heap_slab *partial; /* slabs with a free object */
};

static struct heap_class heap_classes[] = {
	{ 16, 0, NULL },  { 32, 0, NULL },  { 64, 0, NULL },
	{ 128, 0, NULL }, { 256, 0, NULL }, { 512, 1, NULL },
	{ 1024, 2, NULL }, { 2048, 3, NULL },
};
#define HEAP_NCLASSES (sizeof(heap_classes) / sizeof(heap_classes[0]))
#define HEAP_SMALL_MAX 2048

static struct spinlock heap_lock = SPINLOCK_INIT;

static uint64_t heap_stride(const struct heap_class *c)
{
	return c->size + sizeof(struct heap_hdr);
}

static char *heap_first_obj(struct heap_slab *s)
{
	return (char *)s + sizeof(struct heap_slab);
}

static void heap_partial_add(struct heap_class *c, struct heap_slab *s)
{
	s->prev = NULL;
	s->next = c->partial;
	if (c->partial)
		c->partial->prev = s;
	c->partial = s;
}

static void heap_partial_remove(struct heap_class *c, struct heap_slab *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		c->partial = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->next = s->prev = NULL;
}

/* A new slab for class i, every object free. Called with heap_lock held. */
static struct heap_slab *heap_slab_new(unsigned i)
{
	struct heap_class *c = &heap_classes[i];
	uint64_t pa = pmm_alloc(c->order, 0);
	uint64_t stride = heap_stride(c);
	struct heap_slab *s;
	void **link;
	char *obj;

	if (!pa)
		return NULL;
	s = phys_to_virt(pa);
	s->magic = HEAP_MAGIC_SLAB;
	s->cls = (uint16_t)i;
	s->used = 0;
	s->total = (uint16_t)(((PAGE_SIZE << c->order) - sizeof(*s)) / stride);
	link = &s->free;
	obj = heap_first_obj(s);
	for (unsigned k = 0; k < s->total; k++, obj += stride) {
		struct heap_hdr *h = (struct heap_hdr *)obj;

		h->magic = HEAP_MAGIC_FREE;
		h->cls = (uint16_t)i;
		h->order = 0;
		h->slab = s;
		*link = h + 1;
		link = (void **)(h + 1);
	}
	*link = NULL;
	heap_partial_add(c, s);
	return s;
}

void heap_init(void)
{
	uint64_t flags = spin_lock_irqsave(&heap_lock);

	for (unsigned i = 0; i < HEAP_NCLASSES; i++)
		heap_classes[i].partial = NULL;
	spin_unlock_irqrestore(&heap_lock, flags);
}

static void *heap_alloc_large(size_t size)
{
	uint64_t need = (uint64_t)size + sizeof(struct heap_hdr), pa;
	unsigned order = 0;
	struct heap_hdr *h;

	while (order <= PMM_MAX_ORDER && (PAGE_SIZE << order) < need)
		order++;
	if (order > PMM_MAX_ORDER || need < size)
		return NULL;
	pa = pmm_alloc(order, 0);
	if (!pa)
		return NULL;
	h = phys_to_virt(pa);
	h->magic = HEAP_MAGIC_USED;
	h->cls = HEAP_CLASS_LARGE;
	h->order = (uint16_t)order;
	h->slab = NULL;
	return h + 1;
}

void *kmalloc(size_t size)
{
	struct heap_class *c = NULL;
	struct heap_slab *s;
	struct heap_hdr *h;
	uint64_t flags;
	void *p;
	unsigned i;

	if (size > HEAP_SMALL_MAX)
		return heap_alloc_large(size);
	for (i = 0; i < HEAP_NCLASSES; i++) {
		c = &heap_classes[i];
		if (size <= c->size)
			break;
	}

	flags = spin_lock_irqsave(&heap_lock);
	s = c->partial;
	if (!s)
		s = heap_slab_new(i);
	if (!s) {
		spin_unlock_irqrestore(&heap_lock, flags);
		return NULL;
	}
	p = s->free;
	s->free = *(void **)p;
	h = (struct heap_hdr *)p - 1;
	h->magic = HEAP_MAGIC_USED;
	if (++s->used == s->total)
		heap_partial_remove(c, s);
	spin_unlock_irqrestore(&heap_lock, flags);
	return p;
}

void *kzalloc(size_t size)
{
	void *p = kmalloc(size);

	if (p)
		memset(p, 0, size);
	return p;
}

/* Is h the header of an object of slab s? (s itself checked by caller) */
static bool heap_obj_in_slab(struct heap_slab *s, const struct heap_hdr *h)
{
	const struct heap_class *c = &heap_classes[s->cls];
	uint64_t off = (uint64_t)((const char *)h - heap_first_obj(s));

	return (const char *)h >= heap_first_obj(s) &&
	       off % heap_stride(c) == 0 && off / heap_stride(c) < s->total;
}

void kfree(void *p)
{
	struct heap_hdr *h;
	const char *why = NULL;
	struct heap_slab *s;
	struct heap_class *c;
	uint64_t flags, slab_pa = 0;
	unsigned slab_order = 0;

	if (!p)
		return;
	if ((uintptr_t)p % HEAP_ALIGN) {
		log_err("heap: kfree(%p): not a heap pointer (misaligned), ignored",
			p);
		return;
	}
	h = (struct heap_hdr *)p - 1;

	flags = spin_lock_irqsave(&heap_lock);
	if (h->magic == HEAP_MAGIC_FREE) {
		why = "double free";
	} else if (h->magic != HEAP_MAGIC_USED) {
		why = "not a heap pointer";
	} else if (h->cls == HEAP_CLASS_LARGE) {
		if (h->order > PMM_MAX_ORDER || ((uintptr_t)h % PAGE_SIZE))
			why = "corrupted header";
	} else {
		s = h->slab;
		if (h->cls >= HEAP_NCLASSES || !s ||
		    ((uintptr_t)s % PAGE_SIZE) || s->magic != HEAP_MAGIC_SLAB ||
		    s->cls != h->cls || !heap_obj_in_slab(s, h) || !s->used)
			why = "corrupted header";
	}
	if (why) {
		spin_unlock_irqrestore(&heap_lock, flags);
		log_err("heap: kfree(%p): %s, ignored", p, why);
		return;
	}

	h->magic = HEAP_MAGIC_FREE;
	if (h->cls == HEAP_CLASS_LARGE) {
		unsigned order = h->order;

		spin_unlock_irqrestore(&heap_lock, flags);
		pmm_free(virt_to_phys(h), order);
		return;
	}

	s = h->slab;
	c = &heap_classes[s->cls];
	*(void **)p = s->free;
	s->free = p;
	if (s->used-- == s->total)
		heap_partial_add(c, s);
	/* An empty slab goes back to the pmm unless it is the class's only
	 * partial slab (alloc/free of one object must not thrash the pmm). */
	if (!s->used && (s->prev || s->next)) {
		heap_partial_remove(c, s);
		s->magic = 0;
		slab_pa = virt_to_phys(s);
		slab_order = c->order;
	}
	spin_unlock_irqrestore(&heap_lock, flags);
	if (slab_pa)
		pmm_free(slab_pa, slab_order);
}
