// unit-sources: kernel/timerq.c
/*
 * Host unit tests for the timer queue (kernel/timerq.c): ordering, FIFO
 * ties, removal anywhere, popping expired timers, re-insertion, and a
 * randomized comparison against a reference sort.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <kernel/timerq.h>

static void tinit(struct limpet_timer *t, uint64_t deadline)
{
	memset(t, 0, sizeof(*t));
	t->deadline = deadline;
}

/* Walk the queue both ways and check links, order and count. */
static void check_queue(const struct timerq *q)
{
	const struct limpet_timer *t, *prev = NULL;
	size_t n = 0;

	for (t = q->head; t != NULL; prev = t, t = t->next) {
		assert_ptr_equal(t->prev, prev);
		assert_true(t->armed);
		if (prev != NULL)
			assert_true(prev->deadline <= t->deadline);
		n++;
	}
	assert_ptr_equal(q->tail, prev);
	assert_int_equal(n, q->count);
	if (q->count == 0) {
		assert_null(q->head);
		assert_null(q->tail);
	}
}

static void test_empty(void **state)
{
	struct timerq q;

	(void)state;
	timerq_init(&q);
	assert_null(timerq_peek(&q));
	assert_null(timerq_pop_expired(&q, UINT64_MAX));
	assert_int_equal(timerq_next_deadline(&q), UINT64_MAX);
	check_queue(&q);
}

static void test_order(void **state)
{
	static const uint64_t d[] = { 50, 10, 40, 30, 20, 60, 5 };
	static const uint64_t sorted[] = { 5, 10, 20, 30, 40, 50, 60 };
	struct limpet_timer t[7];
	struct timerq q;
	size_t i;

	(void)state;
	timerq_init(&q);
	for (i = 0; i < 7; i++) {
		tinit(&t[i], d[i]);
		timerq_insert(&q, &t[i]);
		check_queue(&q);
	}
	assert_int_equal(timerq_next_deadline(&q), 5);
	for (i = 0; i < 7; i++) {
		struct limpet_timer *p = timerq_pop_expired(&q, UINT64_MAX);

		assert_non_null(p);
		assert_int_equal(p->deadline, sorted[i]);
		assert_false(p->armed);
		assert_null(p->next);
		assert_null(p->prev);
		check_queue(&q);
	}
	assert_null(timerq_peek(&q));
}

static void test_ties_fifo(void **state)
{
	struct limpet_timer t[6];
	struct timerq q;
	size_t i;

	(void)state;
	timerq_init(&q);
	/* Three at 100, interleaved with earlier and later ones. */
	tinit(&t[0], 100);
	tinit(&t[1], 50);
	tinit(&t[2], 100);
	tinit(&t[3], 200);
	tinit(&t[4], 100);
	tinit(&t[5], 50);
	for (i = 0; i < 6; i++)
		timerq_insert(&q, &t[i]);
	check_queue(&q);

	assert_ptr_equal(timerq_pop_expired(&q, 1000), &t[1]);
	assert_ptr_equal(timerq_pop_expired(&q, 1000), &t[5]);
	assert_ptr_equal(timerq_pop_expired(&q, 1000), &t[0]);
	assert_ptr_equal(timerq_pop_expired(&q, 1000), &t[2]);
	assert_ptr_equal(timerq_pop_expired(&q, 1000), &t[4]);
	assert_ptr_equal(timerq_pop_expired(&q, 1000), &t[3]);
	assert_null(timerq_pop_expired(&q, 1000));
}

static void fill3(struct timerq *q, struct limpet_timer t[3])
{
	timerq_init(q);
	tinit(&t[0], 10);
	tinit(&t[1], 20);
	tinit(&t[2], 30);
	timerq_insert(q, &t[2]);
	timerq_insert(q, &t[0]);
	timerq_insert(q, &t[1]);
	check_queue(q);
}

static void test_remove(void **state)
{
	struct limpet_timer t[3];
	struct timerq q;

	(void)state;
	/* head */
	fill3(&q, t);
	timerq_remove(&q, &t[0]);
	check_queue(&q);
	assert_false(t[0].armed);
	assert_ptr_equal(q.head, &t[1]);
	assert_ptr_equal(q.tail, &t[2]);

	/* middle */
	fill3(&q, t);
	timerq_remove(&q, &t[1]);
	check_queue(&q);
	assert_ptr_equal(q.head, &t[0]);
	assert_ptr_equal(t[0].next, &t[2]);

	/* tail */
	fill3(&q, t);
	timerq_remove(&q, &t[2]);
	check_queue(&q);
	assert_ptr_equal(q.tail, &t[1]);

	/* all, then the queue works again */
	timerq_remove(&q, &t[0]);
	timerq_remove(&q, &t[1]);
	check_queue(&q);
	assert_int_equal(q.count, 0);
	timerq_insert(&q, &t[1]);
	check_queue(&q);
	assert_ptr_equal(timerq_peek(&q), &t[1]);
}

static void test_pop_expired(void **state)
{
	struct limpet_timer t[4];
	struct timerq q;

	(void)state;
	timerq_init(&q);
	tinit(&t[0], 100);
	tinit(&t[1], 200);
	tinit(&t[2], 300);
	tinit(&t[3], 200);
	timerq_insert(&q, &t[2]);
	timerq_insert(&q, &t[1]);
	timerq_insert(&q, &t[0]);
	timerq_insert(&q, &t[3]);

	assert_null(timerq_pop_expired(&q, 99));
	assert_ptr_equal(timerq_pop_expired(&q, 100), &t[0]);	/* deadline == now */
	assert_null(timerq_pop_expired(&q, 199));
	assert_ptr_equal(timerq_pop_expired(&q, 250), &t[1]);
	assert_ptr_equal(timerq_pop_expired(&q, 250), &t[3]);
	assert_null(timerq_pop_expired(&q, 250));
	assert_ptr_equal(timerq_peek(&q), &t[2]);
	assert_int_equal(q.count, 1);
	check_queue(&q);
}

/* What the loop does with a periodic timer: pop it, move it on, re-insert. */
static void test_reinsert(void **state)
{
	struct limpet_timer a, b, c;
	struct timerq q;
	struct limpet_timer *p;

	(void)state;
	timerq_init(&q);
	tinit(&a, 10);
	tinit(&b, 15);
	tinit(&c, 20);
	timerq_insert(&q, &a);
	timerq_insert(&q, &b);
	timerq_insert(&q, &c);

	p = timerq_pop_expired(&q, 10);
	assert_ptr_equal(p, &a);
	p->deadline += 10;			/* 20: ties with c, goes after it */
	timerq_insert(&q, p);
	check_queue(&q);
	assert_ptr_equal(q.head, &b);
	assert_ptr_equal(b.next, &c);
	assert_ptr_equal(c.next, &a);

	/* Moving an armed timer: remove then insert at an earlier deadline. */
	timerq_remove(&q, &a);
	a.deadline = 1;
	timerq_insert(&q, &a);
	check_queue(&q);
	assert_ptr_equal(timerq_peek(&q), &a);
}

struct ref {
	uint64_t	deadline;
	size_t		seq;	/* insertion order, for FIFO ties */
	size_t		index;
};

static int ref_cmp(const void *x, const void *y)
{
	const struct ref *a = x, *b = y;

	if (a->deadline != b->deadline)
		return a->deadline < b->deadline ? -1 : 1;
	return a->seq < b->seq ? -1 : (a->seq > b->seq);
}

#define NRANDOM 2000

static void test_random_vs_sort(void **state)
{
	static struct limpet_timer t[NRANDOM];
	static struct ref ref[NRANDOM];
	static bool removed[NRANDOM];
	struct timerq q;
	size_t i, n = 0, seq = 0;
	unsigned seed;

	(void)state;
	for (seed = 1; seed <= 5; seed++) {
		srand(seed);
		timerq_init(&q);
		memset(removed, 0, sizeof(removed));
		n = 0;
		/* Small deadline range so that ties are common. */
		for (i = 0; i < NRANDOM; i++) {
			tinit(&t[i], (uint64_t)(rand() % 500));
			timerq_insert(&q, &t[i]);
			ref[n++] = (struct ref){ t[i].deadline, seq++, i };
		}
		/* Remove a random quarter, some re-inserted with new deadlines. */
		for (i = 0; i < NRANDOM / 4; i++) {
			size_t k = (size_t)rand() % NRANDOM, j;

			if (removed[k])
				continue;
			timerq_remove(&q, &t[k]);
			for (j = 0; j < n; j++)
				if (ref[j].index == k)
					break;
			ref[j] = ref[--n];
			if (rand() % 2) {
				t[k].deadline = (uint64_t)(rand() % 500);
				timerq_insert(&q, &t[k]);
				ref[n++] = (struct ref){ t[k].deadline, seq++, k };
			} else {
				removed[k] = true;
			}
		}
		check_queue(&q);
		assert_int_equal(q.count, n);

		qsort(ref, n, sizeof(ref[0]), ref_cmp);
		/* Pop in steps of "now" to exercise the expiry bound. */
		i = 0;
		for (uint64_t now = 0; now < 600; now += 37) {
			struct limpet_timer *p;

			while ((p = timerq_pop_expired(&q, now)) != NULL) {
				assert_true(i < n);
				assert_ptr_equal(p, &t[ref[i].index]);
				assert_true(p->deadline <= now);
				i++;
			}
			if (q.head != NULL)
				assert_true(q.head->deadline > now);
		}
		assert_int_equal(i, n);
		assert_int_equal(q.count, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_ties_fifo),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_pop_expired),
		cmocka_unit_test(test_reinsert),
		cmocka_unit_test(test_random_vs_sort),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
