// unit-sources: drivers/virtio/virtqueue.c
/* Host unit tests for the split virtqueue (drivers/virtio/virtqueue.c)
 * against a simulated device that follows the device side of virtio 1.1,
 * 2.6: it takes chains from the available ring, returns them on the used
 * ring, and decides notifications and interrupts as the spec says. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../drivers/virtio/virtqueue.h"

/* ---- the simulated device ----------------------------------------------- */

struct sim {
	struct virtq	vq;
	void		*mem;
	void		*cookies[VIRTQ_SIZE_MAX];
	uint16_t	last_avail;	/* next available entry to take */
	uint16_t	used_idx;	/* device's copy of used->idx */
	int		interrupts;	/* interrupts the device raised */
};

static struct sim *
sim_new(uint16_t size, int event_idx)
{
	struct sim *s = calloc(1, sizeof(*s));
	size_t bytes = virtq_ring_bytes(size);

	assert_non_null(s);
	s->mem = aligned_alloc(4096, (bytes + 4095) & ~(size_t)4095);
	assert_non_null(s->mem);
	memset(s->mem, 0, bytes);
	assert_int_equal(virtq_init(&s->vq, size, s->mem, 0x100000, s->cookies, event_idx), 0);
	return s;
}

static void
sim_free(struct sim *s)
{
	free(s->mem);
	free(s);
}

static uint16_t *
sim_used_event(struct sim *s)
{
	return &s->vq.avail->ring[s->vq.size];
}

static uint16_t *
sim_avail_event(struct sim *s)
{
	return (uint16_t *)&s->vq.used->ring[s->vq.size];
}

/* Take the next available chain: its head and descriptor count, or -1. */
static int
sim_take(struct sim *s, int *ndesc)
{
	uint16_t head, i;
	int n = 1;

	if (s->vq.avail->idx == s->last_avail)
		return -1;
	head = s->vq.avail->ring[s->last_avail++ & (s->vq.size - 1)];
	assert_true(head < s->vq.size);
	for (i = head; s->vq.desc[i].flags & VIRTQ_DESC_F_NEXT; i = s->vq.desc[i].next) {
		n++;
		assert_true(n <= s->vq.size);
	}
	if (ndesc != NULL)
		*ndesc = n;
	return head;
}

/* Return a chain on the used ring and interrupt if the driver asked. */
static void
sim_complete(struct sim *s, uint16_t head, uint32_t len)
{
	uint16_t old = s->used_idx;
	int intr;

	s->vq.used->ring[s->used_idx & (s->vq.size - 1)].id = head;
	s->vq.used->ring[s->used_idx & (s->vq.size - 1)].len = len;
	s->used_idx++;
	s->vq.used->idx = s->used_idx;
	if (s->vq.event_idx)
		intr = virtq_need_event(*sim_used_event(s), s->used_idx, old);
	else
		intr = !(s->vq.avail->flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
	s->interrupts += intr;
}

static int
add1(struct sim *s, uint64_t addr, void *cookie)
{
	struct dma_run run = { .addr = addr, .len = 100 };

	return virtq_add(&s->vq, &run, 1, 1, cookie);
}

/* ---- tests ------------------------------------------------------------------ */

static void
layout(void **state)
{
	struct sim *s = sim_new(256, 1);

	(void)state;
	assert_int_equal(s->vq.desc_pa, 0x100000);
	assert_int_equal(s->vq.avail_pa, 0x100000 + 16 * 256);
	/* 2.6: used ring 4-aligned, and the rings do not overlap. */
	assert_int_equal(s->vq.used_pa % 4, 0);
	assert_true(s->vq.used_pa >= s->vq.avail_pa + 4 + 2 * 256 + 2);
	assert_true(virtq_ring_bytes(256) >= s->vq.used_pa - 0x100000 + 4 + 8 * 256 + 2);
	assert_int_equal(s->vq.num_free, 256);
	assert_int_equal(virtq_init(&s->vq, 100, s->mem, 0, s->cookies, 0), -EINVAL);
	assert_int_equal(virtq_init(&s->vq, 0, s->mem, 0, s->cookies, 0), -EINVAL);
	sim_free(s);
}

static void
chain_add_complete(void **state)
{
	struct sim *s = sim_new(8, 0);
	struct dma_run segs[3] = {
		{ .addr = 0x1000, .len = 12 },
		{ .addr = 0x2000, .len = 100 },
		{ .addr = 0x3000, .len = 2000 },	/* the device writes it */
	};
	int cookie, head, n, h;
	uint32_t len = 0;

	(void)state;
	h = virtq_next_head(&s->vq);
	head = virtq_add(&s->vq, segs, 3, 2, &cookie);
	assert_int_equal(head, h);
	assert_int_equal(s->vq.num_free, 5);
	assert_int_equal(virtq_in_flight(&s->vq), 3);
	assert_int_equal(sim_take(s, &n), head);
	assert_int_equal(n, 3);
	/* The chain as the device walks it. */
	uint16_t i = (uint16_t)head;
	for (int k = 0; k < 3; k++) {
		assert_int_equal(s->vq.desc[i].addr, segs[k].addr);
		assert_int_equal(s->vq.desc[i].len, segs[k].len);
		assert_int_equal(!!(s->vq.desc[i].flags & VIRTQ_DESC_F_WRITE), k == 2);
		assert_int_equal(!!(s->vq.desc[i].flags & VIRTQ_DESC_F_NEXT), k < 2);
		i = s->vq.desc[i].next;
	}
	assert_null(virtq_get_used(&s->vq, &len));
	sim_complete(s, (uint16_t)head, 1234);
	assert_true(virtq_has_used(&s->vq));
	assert_ptr_equal(virtq_get_used(&s->vq, &len), &cookie);
	assert_int_equal(len, 1234);
	assert_int_equal(s->vq.num_free, 8);
	assert_null(virtq_get_used(&s->vq, &len));
	sim_free(s);
}

static void
ring_full(void **state)
{
	struct sim *s = sim_new(8, 0);
	struct dma_run segs[9] = { { 0 } };
	int c[9];

	(void)state;
	for (int i = 0; i < 8; i++)
		assert_true(add1(s, 0x1000 * (i + 1), &c[i]) >= 0);
	assert_int_equal(s->vq.num_free, 0);
	assert_int_equal(virtq_next_head(&s->vq), -1);
	assert_int_equal(add1(s, 0x9000, &c[8]), -EAGAIN);
	/* Bad arguments are refused whatever the ring holds. */
	assert_int_equal(virtq_add(&s->vq, segs, 9, 9, &c[0]), -EINVAL);
	assert_int_equal(virtq_add(&s->vq, segs, 0, 0, &c[0]), -EINVAL);
	assert_int_equal(virtq_add(&s->vq, segs, 1, 1, NULL), -EINVAL);
	assert_int_equal(virtq_add(&s->vq, segs, 1, 2, &c[0]), -EINVAL);
	assert_int_equal(virtq_add(&s->vq, segs, 1, -1, &c[0]), -EINVAL);

	/* Freeing one single-descriptor chain makes room for one, not two. */
	sim_complete(s, (uint16_t)sim_take(s, NULL), 0);
	assert_ptr_equal(virtq_get_used(&s->vq, NULL), &c[0]);
	assert_int_equal(virtq_add(&s->vq, segs, 2, 2, &c[8]), -EAGAIN);
	assert_true(add1(s, 0x9000, &c[8]) >= 0);
	assert_int_equal(add1(s, 0xa000, &c[8]), -EAGAIN);
	sim_free(s);
}

static void
used_in_device_order(void **state)
{
	struct sim *s = sim_new(4, 0);
	int c[4], heads[4];
	const int order[4] = { 2, 0, 3, 1 };

	(void)state;
	for (int i = 0; i < 4; i++) {
		assert_true(add1(s, 0x1000 * (i + 1), &c[i]) >= 0);
		heads[i] = sim_take(s, NULL);
	}
	for (int i = 0; i < 4; i++)
		sim_complete(s, (uint16_t)heads[order[i]], (uint32_t)order[i]);
	for (int i = 0; i < 4; i++) {
		uint32_t len;

		assert_ptr_equal(virtq_get_used(&s->vq, &len), &c[order[i]]);
		assert_int_equal(len, order[i]);
	}
	assert_int_equal(s->vq.num_free, 4);
	/* Descriptors freed out of order are all usable again. */
	for (int i = 0; i < 4; i++)
		assert_true(add1(s, 0x1000, &c[i]) >= 0);
	assert_int_equal(s->vq.num_free, 0);
	sim_free(s);
}

/* 70000 chains through a 4-entry ring: every index wraps past 65535. */
static void
wrap_around(void **state)
{
	struct sim *s = sim_new(4, 1);
	int c[4];
	struct dma_run segs[2] = { { .addr = 0x1000, .len = 10 }, { .addr = 0x2000, .len = 20 } };

	(void)state;
	for (uint32_t round = 0; round < 70000; round++) {
		int k = (int)(round % 2) + 1;	/* chains of 1 and 2 */
		int h1 = virtq_add(&s->vq, segs, k, 1, &c[0]);
		int h2 = virtq_add(&s->vq, segs, 1, 1, &c[1]);
		int n;
		uint32_t len;

		assert_true(h1 >= 0 && h2 >= 0);
		assert_int_equal(sim_take(s, &n), h1);
		assert_int_equal(n, k);
		assert_int_equal(sim_take(s, &n), h2);
		/* Out of order, so the free list is shuffled as it goes. */
		sim_complete(s, (uint16_t)h2, round);
		sim_complete(s, (uint16_t)h1, round + 1);
		assert_ptr_equal(virtq_get_used(&s->vq, &len), &c[1]);
		assert_int_equal(len, round);
		assert_ptr_equal(virtq_get_used(&s->vq, &len), &c[0]);
		assert_int_equal(len, round + 1);
		assert_null(virtq_get_used(&s->vq, NULL));
		assert_int_equal(s->vq.num_free, 4);
	}
	assert_int_equal(s->vq.avail_idx, (uint16_t)140000);
	assert_int_equal(s->vq.last_used, (uint16_t)140000);
	assert_int_equal(s->vq.avail->idx, (uint16_t)140000);
	sim_free(s);
}

static void
kick_without_event_idx(void **state)
{
	struct sim *s = sim_new(8, 0);
	int c;

	(void)state;
	assert_int_equal(virtq_kick_prepare(&s->vq), 0);	/* nothing new */
	add1(s, 0x1000, &c);
	assert_int_equal(virtq_kick_prepare(&s->vq), 1);
	assert_int_equal(virtq_kick_prepare(&s->vq), 0);	/* already told */
	s->vq.used->flags = VIRTQ_USED_F_NO_NOTIFY;		/* device polling */
	add1(s, 0x1000, &c);
	assert_int_equal(virtq_kick_prepare(&s->vq), 0);
	s->vq.used->flags = 0;
	add1(s, 0x1000, &c);
	assert_int_equal(virtq_kick_prepare(&s->vq), 1);
	sim_free(s);
}

static void
kick_with_event_idx(void **state)
{
	struct sim *s = sim_new(8, 1);
	int c;

	(void)state;
	/* The device wants a kick when entry 0 is made available. */
	*sim_avail_event(s) = 0;
	add1(s, 0x1000, &c);
	assert_int_equal(virtq_kick_prepare(&s->vq), 1);
	/* It has not caught up (still wants to hear about entry 0): no kick. */
	add1(s, 0x1000, &c);
	add1(s, 0x1000, &c);
	assert_int_equal(virtq_kick_prepare(&s->vq), 0);
	/* It took everything and asks for the next entry (3): a batch of two
	 * crossing it kicks once. */
	while (sim_take(s, NULL) >= 0)
		;
	*sim_avail_event(s) = s->last_avail;
	add1(s, 0x1000, &c);
	add1(s, 0x1000, &c);
	assert_int_equal(virtq_kick_prepare(&s->vq), 1);
	/* An event far ahead (wrapping) is not crossed. */
	*sim_avail_event(s) = (uint16_t)(s->vq.avail_idx + 100);
	add1(s, 0x1000, &c);
	assert_int_equal(virtq_kick_prepare(&s->vq), 0);
	sim_free(s);
}

static void
need_event_arithmetic(void **state)
{
	(void)state;
	/* Moving from old to new_idx crosses event when old <= event < new_idx. */
	assert_true(virtq_need_event(5, 6, 5));
	assert_false(virtq_need_event(5, 5, 4));
	assert_true(virtq_need_event(4, 6, 3));
	assert_false(virtq_need_event(7, 6, 3));
	/* Across the 16-bit wrap. */
	assert_true(virtq_need_event(65535, 1, 65534));
	assert_true(virtq_need_event(0, 2, 65535));
	assert_false(virtq_need_event(3, 2, 65535));
}

static void
interrupts_without_event_idx(void **state)
{
	struct sim *s = sim_new(8, 0);
	int c[3], h[3];

	(void)state;
	for (int i = 0; i < 3; i++) {
		add1(s, 0x1000, &c[i]);
		h[i] = sim_take(s, NULL);
	}
	virtq_disable_intr(&s->vq);
	sim_complete(s, (uint16_t)h[0], 0);
	assert_int_equal(s->interrupts, 0);
	/* Re-enabling sees the entry that arrived while disabled. */
	assert_true(virtq_enable_intr(&s->vq));
	assert_non_null(virtq_get_used(&s->vq, NULL));
	assert_false(virtq_enable_intr(&s->vq));
	sim_complete(s, (uint16_t)h[1], 0);
	assert_int_equal(s->interrupts, 1);
	sim_free(s);
}

/*
 * EVENT_IDX (2.6.7.2, 2.6.10.2): one interrupt when the used index passes
 * used_event, none after it until the driver moves used_event; and the
 * race where the device publishes an entry after the driver's last reap
 * but before the device could see the new used_event: no interrupt comes,
 * so virtq_enable_intr() must report the entry.
 */
static void
interrupts_with_event_idx(void **state)
{
	struct sim *s = sim_new(8, 1);
	int c[6], h[6];

	(void)state;
	for (int i = 0; i < 6; i++) {
		add1(s, 0x1000, &c[i]);
		h[i] = sim_take(s, NULL);
	}
	assert_false(virtq_enable_intr(&s->vq));	/* used_event = 0 */
	sim_complete(s, (uint16_t)h[0], 0);
	assert_int_equal(s->interrupts, 1);
	/* The driver polls; the device keeps completing; no more interrupts
	 * while the driver has not re-enabled them. */
	virtq_disable_intr(&s->vq);
	assert_non_null(virtq_get_used(&s->vq, NULL));
	sim_complete(s, (uint16_t)h[1], 0);
	sim_complete(s, (uint16_t)h[2], 0);
	assert_int_equal(s->interrupts, 1);
	assert_non_null(virtq_get_used(&s->vq, NULL));
	assert_non_null(virtq_get_used(&s->vq, NULL));
	assert_null(virtq_get_used(&s->vq, NULL));

	/* The race: the device completes h[3] after the driver found the
	 * ring empty, and checks the old used_event (0): no interrupt. */
	sim_complete(s, (uint16_t)h[3], 0);
	assert_int_equal(s->interrupts, 1);
	/* Enabling moves used_event to 3 (already passed) and must say so. */
	assert_true(virtq_enable_intr(&s->vq));
	assert_int_equal(*sim_used_event(s), 3);
	assert_non_null(virtq_get_used(&s->vq, NULL));
	/* Now quiet: enabling reports nothing, and the next completion
	 * interrupts exactly once. */
	assert_false(virtq_enable_intr(&s->vq));
	assert_int_equal(*sim_used_event(s), 4);
	sim_complete(s, (uint16_t)h[4], 0);
	assert_int_equal(s->interrupts, 2);
	sim_complete(s, (uint16_t)h[5], 0);
	assert_int_equal(s->interrupts, 2);
	sim_free(s);
}

static void
bogus_used_id(void **state)
{
	struct sim *s = sim_new(4, 0);
	int c;
	int h;

	(void)state;
	h = add1(s, 0x1000, &c);
	sim_take(s, NULL);
	sim_complete(s, 77, 0);			/* out of range */
	sim_complete(s, (uint16_t)((h + 1) % 4), 0);	/* not in flight */
	sim_complete(s, (uint16_t)h, 5);
	assert_ptr_equal(virtq_get_used(&s->vq, NULL), &c);
	assert_int_equal(s->vq.bad_used, 2);
	assert_int_equal(s->vq.num_free, 4);
	sim_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(layout),
		cmocka_unit_test(chain_add_complete),
		cmocka_unit_test(ring_full),
		cmocka_unit_test(used_in_device_order),
		cmocka_unit_test(wrap_around),
		cmocka_unit_test(kick_without_event_idx),
		cmocka_unit_test(kick_with_event_idx),
		cmocka_unit_test(need_event_arithmetic),
		cmocka_unit_test(interrupts_without_event_idx),
		cmocka_unit_test(interrupts_with_event_idx),
		cmocka_unit_test(bogus_used_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
