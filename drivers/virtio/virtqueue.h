/*
 * Split virtqueues (virtio 1.1, 2.6): the driver's side of the rings.
 *
 * Pure ring logic, with no transport and no kernel dependency, so the host
 * unit tests can run it against a simulated device.  The caller supplies
 * the ring memory and its device (physical) address, and a chain as the
 * device-physical runs of dma_runs() (kernel/mm.h); the transport tells the device where the
 * three parts are (desc_pa, avail_pa, used_pa) and does the notifying.
 *
 * Use:
 *	virtq_add() one or more chains, then if virtq_kick_prepare() says so,
 *	notify the device.  Reap with virtq_get_used() until it returns NULL;
 *	then virtq_enable_intr(), and if that reports entries that slipped in
 *	meanwhile, reap again.  virtq_disable_intr() while polling.
 *
 * Not thread-safe: one caller at a time (the event loop).
 */
#ifndef DRIVERS_VIRTQUEUE_H
#define DRIVERS_VIRTQUEUE_H

#include <stddef.h>
#include <stdint.h>

#include <kernel/mm.h>	/* struct dma_run */

#include "virtio_reg.h"

/* Ordering between the driver's ring writes and the device (2.6.13,
 * "Supplying Buffers to The Device").  x86 keeps stores in order and
 * loads in order, so only store-then-load needs a fence. */
#define virtq_wmb()	__asm__ volatile("" ::: "memory")
#define virtq_rmb()	__asm__ volatile("" ::: "memory")
#define virtq_mb()	__asm__ volatile("mfence" ::: "memory")

struct virtq {
	uint16_t		size;		/* entries, a power of 2 */
	uint16_t		num_free;	/* free descriptors */
	uint16_t		free_head;	/* first free descriptor */
	uint16_t		avail_idx;	/* our copy of avail->idx */
	uint16_t		kicked_idx;	/* avail_idx at the last notify */
	uint16_t		last_used;	/* next used entry to collect */
	int			event_idx;	/* VIRTIO_F_RING_EVENT_IDX */
	struct virtq_desc	*desc;
	struct virtq_avail	*avail;
	struct virtq_used	*used;
	uint64_t		desc_pa, avail_pa, used_pa;
	void			**cookie;	/* per head; NULL = free */
	uint64_t		bad_used;	/* device returned a bogus id */
};

/* Bytes of ring memory virtq_init() needs for size entries. */
size_t	virtq_ring_bytes(uint16_t size);
/* Lay the rings out in mem (zeroed, virtq_ring_bytes(size) bytes, at
 * device address pa) and link every descriptor into the free list.
 * cookies holds size pointers.  0, or -EINVAL for a bad size. */
int	virtq_init(struct virtq *vq, uint16_t size, void *mem, uint64_t pa,
	    void **cookies, int event_idx);

/* The head the next virtq_add() will use, or -1 when no descriptor is
 * free (so a per-head side table can be filled first). */
int	virtq_next_head(const struct virtq *vq);
/* Put n runs on the ring as one chain, returning its head, or -EAGAIN
 * when fewer than n descriptors are free, -EINVAL for n or nread out of
 * range or a NULL cookie.  The device reads the first nread runs and
 * writes the others (2.6.4.2: readable before writable).  It sees the
 * chain after the avail index is published here; notify it when
 * virtq_kick_prepare() says so. */
int	virtq_add(struct virtq *vq, const struct dma_run *runs, int n, int nread, void *cookie);
/* Nonzero when the chains added since the last call need a notification
 * (2.6.7.2 / 2.6.10.1): per avail_event with EVENT_IDX, else unless the
 * device set VIRTQ_USED_F_NO_NOTIFY. */
int	virtq_kick_prepare(struct virtq *vq);
/* The cookie of the next used chain (freeing its descriptors), with the
 * bytes the device wrote in *len; NULL when nothing is pending. */
void	*virtq_get_used(struct virtq *vq, uint32_t *len);
/* Whether used entries are waiting. */
int	virtq_has_used(const struct virtq *vq);
/* Ask the device not to interrupt for used buffers (a hint, 2.6.7). */
void	virtq_disable_intr(struct virtq *vq);
/* Ask for an interrupt at the next used buffer; returns nonzero when
 * entries are already pending (published before the request was seen),
 * in which case the caller must reap again rather than wait. */
int	virtq_enable_intr(struct virtq *vq);
/* Descriptors in use (chains the device holds). */
static inline uint16_t virtq_in_flight(const struct virtq *vq)
{
	return (uint16_t)(vq->size - vq->num_free);
}

/* 2.6.7.2: with EVENT_IDX, the other side wants a notification when the
 * index moves from old past event (all arithmetic mod 2^16). */
static inline int virtq_need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

#endif
