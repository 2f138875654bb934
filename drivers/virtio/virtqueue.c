/*
 * Split virtqueue logic (virtio 1.1, 2.6): descriptor free list, chains,
 * notification and interrupt suppression.  See virtqueue.h.
 *
 * Memory layout (2.6, alignment per 2.6 table "Virtqueue Part
 * Alignment"): descriptor table (16-byte aligned), then the available
 * ring with used_event, then the used ring with avail_event at the next
 * 64-byte boundary (4 is the minimum; 64 keeps the device's writes off
 * the driver's cache lines).
 *
 * The free list threads through the descriptors' next fields, which the
 * device only reads.  A chain is taken off the front of the list and put
 * back in front when the device returns it.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "virtqueue.h"

#define USED_ALIGN	64

static size_t
avail_bytes(uint16_t size)
{
	return sizeof(struct virtq_avail) + sizeof(uint16_t) * ((size_t)size + 1);
}

static size_t
used_offset(uint16_t size)
{
	size_t off = sizeof(struct virtq_desc) * size + avail_bytes(size);

	return (off + USED_ALIGN - 1) & ~(size_t)(USED_ALIGN - 1);
}

size_t
virtq_ring_bytes(uint16_t size)
{
	return used_offset(size) + sizeof(struct virtq_used)
	    + sizeof(struct virtq_used_elem) * size + sizeof(uint16_t);
}

/* used_event sits after the available ring, avail_event after the used one. */
static volatile uint16_t *
used_event(struct virtq *vq)
{
	return &vq->avail->ring[vq->size];
}

static volatile uint16_t *
avail_event(struct virtq *vq)
{
	return (volatile uint16_t *)&vq->used->ring[vq->size];
}

int
virtq_init(struct virtq *vq, uint16_t size, void *mem, uint64_t pa,
    void **cookies, int event_idx)
{
	uint8_t *base = mem;

	if (size == 0 || (size & (size - 1)) != 0 || size > VIRTQ_SIZE_MAX)
		return -EINVAL;
	memset(vq, 0, sizeof(*vq));
	vq->size = size;
	vq->event_idx = event_idx;
	vq->desc = (struct virtq_desc *)base;
	vq->avail = (struct virtq_avail *)(base + sizeof(struct virtq_desc) * size);
	vq->used = (struct virtq_used *)(base + used_offset(size));
	vq->desc_pa = pa;
	vq->avail_pa = pa + sizeof(struct virtq_desc) * size;
	vq->used_pa = pa + used_offset(size);
	vq->cookie = cookies;
	for (uint16_t i = 0; i < size; i++) {
		vq->desc[i].next = (uint16_t)(i + 1);
		cookies[i] = NULL;
	}
	vq->num_free = size;
	vq->free_head = 0;
	return 0;
}

int
virtq_next_head(const struct virtq *vq)
{
	return vq->num_free > 0 ? vq->free_head : -1;
}

int
virtq_add(struct virtq *vq, const struct dma_run *runs, int n, int nread, void *cookie)
{
	uint16_t head, i, last = 0;

	if (n <= 0 || n > vq->size || nread < 0 || nread > n || cookie == NULL)
		return -EINVAL;
	if (n > vq->num_free)
		return -EAGAIN;
	head = i = vq->free_head;
	for (int k = 0; k < n; k++) {
		struct virtq_desc *d = &vq->desc[i];

		d->addr = runs[k].addr;
		d->len = runs[k].len;
		d->flags = (uint16_t)((k >= nread ? VIRTQ_DESC_F_WRITE : 0)
		    | (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
		last = i;
		i = d->next;
	}
	vq->free_head = vq->desc[last].next;
	vq->num_free = (uint16_t)(vq->num_free - n);
	vq->cookie[head] = cookie;

	/* 2.6.13.2-3: the ring entry, then (after a barrier) the index. */
	vq->avail->ring[vq->avail_idx & (vq->size - 1)] = head;
	virtq_wmb();
	vq->avail_idx++;
	*(volatile uint16_t *)&vq->avail->idx = vq->avail_idx;
	return head;
}

int
virtq_kick_prepare(struct virtq *vq)
{
	uint16_t old = vq->kicked_idx, new_idx = vq->avail_idx;
	int kick;

	/* 2.6.13.4: the index store must be visible before we read the
	 * device's suppression state, or we could miss its update. */
	virtq_mb();
	if (old == new_idx)
		return 0;
	if (vq->event_idx)
		kick = virtq_need_event(*avail_event(vq), new_idx, old);
	else
		kick = !(*(volatile uint16_t *)&vq->used->flags & VIRTQ_USED_F_NO_NOTIFY);
	vq->kicked_idx = new_idx;
	return kick;
}

int
virtq_has_used(const struct virtq *vq)
{
	return *(volatile uint16_t *)&vq->used->idx != vq->last_used;
}

void *
virtq_get_used(struct virtq *vq, uint32_t *len)
{
	for (;;) {
		struct virtq_used_elem *e;
		uint16_t head, i;
		uint16_t n = 1;
		void *cookie;

		if (!virtq_has_used(vq))
			return NULL;
		/* 2.6.14: read the entry only after seeing the index. */
		virtq_rmb();
		e = &vq->used->ring[vq->last_used & (vq->size - 1)];
		vq->last_used++;
		if (e->id >= vq->size || vq->cookie[e->id] == NULL) {
			vq->bad_used++;		/* a device bug: skip it */
			continue;
		}
		head = (uint16_t)e->id;
		cookie = vq->cookie[head];
		vq->cookie[head] = NULL;
		for (i = head; vq->desc[i].flags & VIRTQ_DESC_F_NEXT; i = vq->desc[i].next)
			n++;
		vq->desc[i].next = vq->free_head;
		vq->free_head = head;
		vq->num_free = (uint16_t)(vq->num_free + n);
		if (len != NULL)
			*len = e->len;
		return cookie;
	}
}

void
virtq_disable_intr(struct virtq *vq)
{
	/* With EVENT_IDX the flag is ignored (2.6.10.2): leaving used_event
	 * where virtq_enable_intr() put it does the job, since the device
	 * interrupts once when its index passes that value and not again
	 * until the driver moves it. */
	if (!vq->event_idx)
		*(volatile uint16_t *)&vq->avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
}

int
virtq_enable_intr(struct virtq *vq)
{
	if (vq->event_idx)
		*used_event(vq) = vq->last_used;
	else
		*(volatile uint16_t *)&vq->avail->flags = 0;
	/* The device may have published entries before it saw the request:
	 * look again after a full fence (store, then load). */
	virtq_mb();
	return virtq_has_used(vq);
}
