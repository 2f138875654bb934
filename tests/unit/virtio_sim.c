/*
 * The simulated virtio-net device of virtio_sim.h, its transport, and host
 * stubs of the kernel functions the driver and the netif call: the clock,
 * interrupts, pages, the event loop's sources and work, logging.
 *
 * The device side follows virtio 1.1 (2.1 status, 2.6 split rings with
 * EVENT_IDX, 4.1.4.5 / 4.2.2 interrupts) and QEMU 7.2's checks on what the
 * driver gives it (hw/virtio/virtio.c virtqueue_split_pop() and
 * virtqueue_map_desc(); hw/net/virtio-net.c virtio_net_flush_tx()): a
 * zero-length descriptor, a device-readable descriptor after a writable
 * one, a chain with no readable part, one shorter than the 12-byte header,
 * and, on a backend without a vnet header (user networking), a chain with
 * nothing after the header ("virtio-net nothing to send"), are errors.  An
 * error does what QEMU's virtio_error() does: NEEDS_RESET, a configuration
 * interrupt, and no more queue processing until a reset.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <limpet.h>
#include <kernel/cmdline.h>
#include <kernel/exit.h>
#include <kernel/intr.h>
#include <kernel/ktime.h>
#include <kernel/log.h>
#include <kernel/loop.h>
#include <kernel/mm.h>
#include <kernel/pci.h>

#include "virtio_sim.h"

struct sim sim;

/* Undefined behaviour anywhere (lwIP included) fails the program, rather
 * than printing a line that a passing run would hide. */
const char *__ubsan_default_options(void);

const char *
__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

/* ---- kernel stubs: clock, interrupts, exit, arguments ---------------------- */

static uint64_t clock_ns = 1000000000ULL;	/* a second after "boot" */

uint64_t
now_ns(void)
{
	clock_ns += sim.tick_per_read;
	return clock_ns;
}

uint64_t
limpet_now_ns(void)
{
	return clock_ns;
}

uint64_t
sim_now(void)
{
	return clock_ns;
}

void
delay_us(uint64_t us)
{
	clock_ns += us * 1000;
}

struct kargs boot_args;

void
machine_exit(int status)
{
	fail_msg("machine_exit(%d)", status);
	abort();
}

int
shutdown_hook_add(void (*fn)(void))
{
	(void)fn;
	return 0;
}

static struct {
	irq_handler_t	fn;
	void		*arg;
} irqs[256];
static int next_vector = VEC_DEVICE_BASE;

int
irq_alloc_vector(void)
{
	return next_vector < 255 ? next_vector++ : -ENOSPC;
}

int
irq_register(unsigned vector, irq_handler_t fn, void *arg)
{
	if (vector < 32 || vector > 254)
		return -EINVAL;
	irqs[vector].fn = fn;
	irqs[vector].arg = arg;
	return 0;
}

static void
raise_irq(unsigned vector)
{
	if (vector < 256 && irqs[vector].fn != NULL)
		irqs[vector].fn(NULL, irqs[vector].arg);
}

int
pci_present(void)
{
	return 1;
}

/* virtio's bus (drivers/virtio/virtio.c, for drivers/netdev.c's probe):
 * the simulated device is the only one there is. */
int
virtio_probe(void)
{
	return sim.vdev == NULL && sim_attach() != NULL;
}

/* ---- logging ----------------------------------------------------------------- */

int log_level = LOG_TRACE;

#define LOG_KEEP	256
static char *logs[LOG_KEEP];
static int nlogs;

static void
keep_line(const char *fmt, va_list ap)
{
	char buf[512];

	kvsnprintf(buf, sizeof(buf), fmt, ap);
	if (getenv("SIM_VERBOSE") != NULL)
		fprintf(stderr, "  | %s\n", buf);
	if (nlogs == LOG_KEEP) {
		free(logs[0]);
		memmove(logs, logs + 1, sizeof(logs[0]) * (LOG_KEEP - 1));
		nlogs--;
	}
	logs[nlogs++] = strdup(buf);
}

void
log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	(void)level;
	va_start(ap, fmt);
	keep_line(fmt, ap);
	va_end(ap);
}

int
kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	keep_line(fmt, ap);
	va_end(ap);
	return 0;
}

void
panic(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fail_msg("panic: %s", buf);
	abort();
}

int
sim_logged(const char *s)
{
	int n = 0;

	for (int i = 0; i < nlogs; i++)
		n += strstr(logs[i], s) != NULL;
	return n;
}

static void
logs_clear(void)
{
	for (int i = 0; i < nlogs; i++)
		free(logs[i]);
	nlogs = 0;
}

/* ---- pages and addresses ---------------------------------------------------- */

struct pmm kernel_pmm;		/* nfree 0: the netif's smallest pool */

struct page_run {
	void	*p;
	size_t	npages;
};
static struct page_run pages[64];
static int npages_runs;

void *
page_alloc_uninit(size_t n)
{
	void *p;

	if (n == 0 || npages_runs == 64)
		return NULL;
	if ((p = aligned_alloc(PAGE_SIZE, n * PAGE_SIZE)) == NULL)
		return NULL;
	memset(p, 0xa5, n * PAGE_SIZE);
	pages[npages_runs++] = (struct page_run){ p, n };
	return p;
}

void *
page_alloc(size_t n)
{
	void *p = page_alloc_uninit(n);

	if (p != NULL)
		memset(p, 0, n * PAGE_SIZE);
	return p;
}

void
page_free(void *p, size_t n)
{
	for (int i = 0; i < npages_runs; i++)
		if (pages[i].p == p) {
			assert_int_equal(pages[i].npages, n);
			free(p);
			pages[i] = pages[--npages_runs];
			return;
		}
	fail_msg("page_free(%p): not allocated", p);
}

struct map {
	uint64_t	va;
	uint8_t		*host;
	size_t		npages;
	uint64_t	pa[64];
};
static struct map maps[16];
static int nmaps;

void
sim_map(uint64_t va, void *host, size_t npages, const uint64_t *pa)
{
	assert_true(nmaps < 16 && npages <= 64);
	assert_int_equal(va % PAGE_SIZE, 0);
	maps[nmaps].va = va;
	maps[nmaps].host = host;
	maps[nmaps].npages = npages;
	memcpy(maps[nmaps].pa, pa, npages * sizeof(*pa));
	nmaps++;
}

uint64_t
virt_to_phys(uint64_t va)
{
	for (int i = 0; i < nmaps; i++)
		if (va >= maps[i].va && va < maps[i].va + maps[i].npages * PAGE_SIZE)
			return maps[i].pa[(va - maps[i].va) / PAGE_SIZE] + va % PAGE_SIZE;
	return va;
}

void *
sim_host(uint64_t pa)
{
	for (int i = 0; i < nmaps; i++)
		for (size_t k = 0; k < maps[i].npages; k++)
			if (pa - maps[i].pa[k] < PAGE_SIZE)
				return maps[i].host + k * PAGE_SIZE + (pa - maps[i].pa[k]);
	return (void *)(uintptr_t)pa;
}

/* Copy len bytes at device address pa (page by page: the pages behind a
 * physically contiguous run need not be contiguous on the host). */
static void
dma_read(void *out, uint64_t pa, uint32_t len)
{
	uint8_t *o = out;

	while (len > 0) {
		uint32_t chunk = (uint32_t)(PAGE_SIZE - pa % PAGE_SIZE);

		if (chunk > len)
			chunk = len;
		memcpy(o, sim_host(pa), chunk);
		o += chunk;
		pa += chunk;
		len -= chunk;
	}
}

static void
dma_write(uint64_t pa, const void *in, uint32_t len)
{
	const uint8_t *i = in;

	while (len > 0) {
		uint32_t chunk = (uint32_t)(PAGE_SIZE - pa % PAGE_SIZE);

		if (chunk > len)
			chunk = len;
		memcpy(sim_host(pa), i, chunk);
		i += chunk;
		pa += chunk;
		len -= chunk;
	}
}

/*
 * What the guest's netdev_tx() found in v[0] when it lost a frame (issue
 * 12, before 4f8acf1): a device-readable descriptor ending where the frame
 * begins.  The words alternate a and l, both below 2^32, so that a
 * struct virtq_seg anywhere in the painted stack reads {a, l} or {l, a},
 * write 0, whichever way it lines up with them: with a + l the frame's
 * device address, either ends where the frame begins.
 */
void __attribute__((noinline))
sim_paint_stack(uint64_t a, uint64_t l)
{
	uint64_t w[4096];

	assert_true(a < (1ULL << 32) && l < (1ULL << 32));
	for (size_t i = 0; i < 4096; i += 2) {
		w[i] = a;
		w[i + 1] = l;
	}
	/* The stores must happen: the memory counts as read. */
	__asm__ volatile("" : : "r"(w) : "memory");
}

/* ---- the loop: sources and work --------------------------------------------- */

static struct loop_source *sources[8];
static int nsources;
static struct limpet_work *work_head, *work_tail;

void
loop_source_register(struct loop_source *src)
{
	assert_true(nsources < 8);
	sources[nsources++] = src;
}

void
loop_source_signal(struct loop_source *src)
{
	src->signalled = 1;
}

void
limpet_work_init(struct limpet_work *w, limpet_work_fn fn, void *arg)
{
	memset(w, 0, sizeof(*w));
	w->fn = fn;
	w->arg = arg;
}

void
limpet_soon(struct limpet_work *w)
{
	if (w->queued)
		return;
	w->queued = true;
	w->next = NULL;
	if (work_tail != NULL)
		work_tail->next = w;
	else
		work_head = w;
	work_tail = w;
}

void
sim_loop(void)
{
	for (int turn = 0; turn < 100000; turn++) {
		int busy = 0;

		while (work_head != NULL) {
			struct limpet_work *w = work_head;

			if ((work_head = w->next) == NULL)
				work_tail = NULL;
			w->queued = false;
			w->fn(w, w->arg);
			busy = 1;
		}
		for (int i = 0; i < nsources; i++) {
			struct loop_source *s = sources[i];

			if (s->signalled || (s->next_deadline != NULL &&
			    clock_ns >= s->next_deadline(s))) {
				s->signalled = 0;
				if (s->poll(s))
					s->signalled = 1;	/* more: poll again */
				busy = 1;
			}
		}
		if (!busy)
			return;
	}
	fail_msg("the loop never settles");
}

void
sim_poll(void)
{
	for (int i = 0; i < nsources; i++) {
		struct loop_source *s = sources[i];

		s->signalled = 0;
		if (s->poll(s))
			s->signalled = 1;
	}
}

void
sim_advance(uint64_t ns)
{
	clock_ns += ns;
	sim_loop();
}

/* ---- the device: interrupts ------------------------------------------------- */

static void
queue_interrupt(unsigned qi)
{
	sim.interrupts[qi]++;
	if (sim.cfg.mmio)
		sim.isr |= VIRTIO_ISR_QUEUE;
	raise_irq(sim.vector);
}

/* virtio_notify_config(): only a live device tells. */
void
sim_config_interrupt(void)
{
	sim.generation++;
	if (!(sim.status & VIRTIO_STATUS_DRIVER_OK))
		return;
	if (sim.cfg.mmio) {
		sim.isr |= VIRTIO_ISR_QUEUE | VIRTIO_ISR_CONFIG;	/* QEMU sets both */
		sim.cfg_interrupts++;
		raise_irq(sim.vector);
	} else if (!sim.cfg.no_cfg_vector) {
		sim.cfg_interrupts++;
		raise_irq(sim.cfg_vector);
	}
}

void
sim_break(const char *why)
{
	snprintf(sim.error, sizeof(sim.error), "%s", why);
	if (sim.driver_features & VIRTIO_BIT(VIRTIO_F_VERSION_1)) {
		sim.status |= VIRTIO_STATUS_NEEDS_RESET;
		sim_config_interrupt();
	}
	sim.broken = 1;
}

/* Something the driver gave the device is wrong: a driver bug. */
static void
device_error(const char *why)
{
	sim.errors++;
	sim_break(why);
}

void
sim_set_link(int up)
{
	sim.link = up ? VIRTIO_NET_S_LINK_UP : 0;
	if (sim.driver_features & VIRTIO_BIT(VIRTIO_NET_F_STATUS))
		sim_config_interrupt();
}

/* ---- the device: rings ------------------------------------------------------- */

static struct virtq_avail *
avail(unsigned qi)
{
	return sim_host(sim.q[qi].avail_pa);
}

static struct virtq_used *
used(unsigned qi)
{
	return sim_host(sim.q[qi].used_pa);
}

static int
event_idx(void)
{
	return (sim.driver_features & VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX)) != 0;
}

/* Return a chain and interrupt if the driver asked (2.6.7.2, 2.6.10). */
static void
push_used(unsigned qi, uint16_t head, uint32_t len)
{
	struct simq *q = &sim.q[qi];
	struct virtq_used *u = used(qi);
	uint16_t old = q->used_idx;
	int intr;

	u->ring[q->used_idx % q->size].id = head;
	u->ring[q->used_idx % q->size].len = len;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	q->used_idx++;
	u->idx = q->used_idx;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (event_idx())
		intr = virtq_need_event(avail(qi)->ring[q->size], q->used_idx, old);
	else
		intr = !(avail(qi)->flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
	if (intr)
		queue_interrupt(qi);
}

/* With EVENT_IDX, ask to be notified of the next chain made available. */
static void
want_notify(unsigned qi)
{
	if (event_idx())
		*(uint16_t *)&used(qi)->ring[sim.q[qi].size] = sim.q[qi].last_avail;
}

/*
 * Take the next available chain as QEMU's virtqueue_split_pop() does,
 * into desc[] (*n of them, the readable ones first); its head, -1 when
 * none is available, -2 after an error (device_error()).
 */
static int
pop(unsigned qi, struct sim_desc *desc, int *n)
{
	struct simq *q = &sim.q[qi];
	const struct virtq_desc *table = sim_host(q->desc_pa);
	uint16_t head, i;
	int writable = 0;

	if (sim.broken || !q->enabled || !(sim.status & VIRTIO_STATUS_DRIVER_OK))
		return -1;
	if (avail(qi)->idx == q->last_avail)
		return -1;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if ((uint16_t)(avail(qi)->idx - q->last_avail) > q->size) {
		device_error("Guest moved used index");
		return -2;
	}
	head = avail(qi)->ring[q->last_avail % q->size];
	q->last_avail++;
	if (head >= q->size) {
		device_error("Guest says index is available");
		return -2;
	}
	*n = 0;
	for (i = head;;) {
		const struct virtq_desc *d = &table[i];

		if (*n == q->size || *n == SIM_CHAIN_MAX) {
			device_error("Looped descriptor");
			return -2;
		}
		if (d->flags & VIRTQ_DESC_F_INDIRECT) {
			device_error("indirect descriptor without the feature");
			return -2;
		}
		if (d->len == 0) {
			device_error("virtio: zero sized buffers are not allowed");
			return -2;
		}
		if (d->flags & VIRTQ_DESC_F_WRITE)
			writable = 1;
		else if (writable) {
			device_error("Incorrect order for descriptors");
			return -2;
		}
		desc[(*n)++] = (struct sim_desc){ d->addr, d->len, d->flags };
		if (!(d->flags & VIRTQ_DESC_F_NEXT))
			break;
		if (d->next >= q->size) {
			device_error("Desc next is out of range");
			return -2;
		}
		i = d->next;
	}
	return head;
}

int
sim_tx_process(void)
{
	struct simq *q = &sim.q[VIRTIO_NET_TXQ];
	int taken = 0;

	for (;;) {
		struct sim_chain *c = calloc(1, sizeof(*c));
		uint32_t total = 0;
		int out = 0, head;

		assert_non_null(c);
		if ((head = pop(VIRTIO_NET_TXQ, c->desc, &c->ndesc)) < 0) {
			free(c);
			break;
		}
		c->head = (uint16_t)head;
		while (out < c->ndesc && !(c->desc[out].flags & VIRTQ_DESC_F_WRITE))
			total += c->desc[out++].len;
		/* virtio_net_flush_tx(), QEMU 7.2.  A popped chain that fails
		 * is detached: never returned to the driver. */
		if (out < 1) {
			device_error("virtio-net header not in first element");
			free(c);
			break;
		}
		if (total < sizeof(struct virtio_net_hdr)) {
			device_error(sim.cfg.vnet_hdr ? "virtio-net header incorrect"
			    : "virtio-net header is invalid");
			free(c);
			break;
		}
		if (!sim.cfg.vnet_hdr && total == sizeof(struct virtio_net_hdr)) {
			device_error("virtio-net nothing to send");
			free(c);
			break;
		}
		/* The bytes as the device reads them: header, then frame. */
		uint8_t *all = malloc(total);
		uint32_t off = 0;

		assert_non_null(all);
		for (int k = 0; k < out; k++) {
			dma_read(all + off, c->desc[k].addr, c->desc[k].len);
			off += c->desc[k].len;
		}
		memcpy(&c->hdr, all, sizeof(c->hdr));
		c->len = total - (uint32_t)sizeof(c->hdr);
		c->frame = malloc(c->len ? c->len : 1);
		assert_non_null(c->frame);
		memcpy(c->frame, all + sizeof(c->hdr), c->len);
		free(all);
		if (sim.ntx == sim.tx_cap) {
			sim.tx_cap = sim.tx_cap ? 2 * sim.tx_cap : 64;
			sim.tx = realloc(sim.tx, sizeof(*sim.tx) * (size_t)sim.tx_cap);
			assert_non_null(sim.tx);
		}
		sim.tx[sim.ntx] = c;
		assert_true(sim.nheld < (int)(sizeof(sim.held) / sizeof(sim.held[0])));
		sim.held[sim.nheld++] = sim.ntx++;
		taken++;
		if (sim.tx_auto)
			sim_tx_complete(-1);
	}
	if (q->enabled)
		want_notify(VIRTIO_NET_TXQ);
	return taken;
}

int
sim_tx_complete(int n)
{
	int done = 0;

	if (n < 0 || n > sim.nheld)
		n = sim.nheld;
	/* A broken device processes nothing (QEMU's vdev->broken). */
	if (sim.broken || !(sim.status & VIRTIO_STATUS_DRIVER_OK))
		return 0;
	for (; done < n; done++) {
		struct sim_chain *c = sim.tx[sim.held[done]];

		c->completed = 1;
		push_used(VIRTIO_NET_TXQ, c->head, 0);
	}
	memmove(sim.held, sim.held + done, sizeof(sim.held[0]) * (size_t)(sim.nheld - done));
	sim.nheld -= done;
	return done;
}

int
sim_rx_deliver(const void *frame, uint32_t len)
{
	struct sim_desc desc[SIM_CHAIN_MAX];
	struct virtio_net_hdr hdr = { .num_buffers = 1 };
	uint32_t room = 0, left = len + (uint32_t)sizeof(hdr), off = 0;
	const uint8_t *f = frame;
	int n, head;

	if ((head = pop(VIRTIO_NET_RXQ, desc, &n)) < 0)
		return -1;
	for (int k = 0; k < n; k++) {
		if (!(desc[k].flags & VIRTQ_DESC_F_WRITE)) {
			device_error("virtio-net receive queue contains no in buffers");
			return -1;
		}
		room += desc[k].len;
	}
	assert_true(room >= left);	/* one buffer holds a frame of the MTU */
	for (int k = 0; k < n && left > 0; k++) {
		uint32_t chunk = desc[k].len < left ? desc[k].len : left;
		uint8_t tmp[2048];

		assert_true(chunk <= sizeof(tmp));
		for (uint32_t b = 0; b < chunk; b++, off++)
			tmp[b] = off < sizeof(hdr) ? ((uint8_t *)&hdr)[off] : f[off - sizeof(hdr)];
		dma_write(desc[k].addr, tmp, chunk);
		left -= chunk;
	}
	push_used(VIRTIO_NET_RXQ, (uint16_t)head, len + (uint32_t)sizeof(hdr));
	return 0;
}

int
sim_rx_posted(void **bufs, int max)
{
	struct simq *q = &sim.q[VIRTIO_NET_RXQ];
	const struct virtq_desc *table;
	int n = 0;

	if (!q->enabled)
		return 0;
	table = sim_host(q->desc_pa);
	for (uint16_t i = q->last_avail; i != avail(VIRTIO_NET_RXQ)->idx; i++) {
		uint16_t head = avail(VIRTIO_NET_RXQ)->ring[i % q->size];

		assert_true(head < q->size);
		if (n < max)
			bufs[n] = sim_host(table[head].addr);
		n++;
	}
	return n;
}

/* ---- the transport ----------------------------------------------------------- */

static void
check_dev(struct virtio_dev *d)
{
	assert_ptr_equal(d, sim.vdev);
}

static uint8_t
get_status(struct virtio_dev *d)
{
	check_dev(d);
	return sim.status;
}

/* virtio_reset(): forget the features, the queues, what was in flight. */
static void
device_reset(void)
{
	if (sim.reset_stuck)
		return;
	sim.status = 0;
	sim.driver_features = 0;
	sim.broken = 0;
	sim.isr = 0;
	memset(sim.q, 0, sizeof(sim.q));
	for (int i = 0; i < sim.nheld; i++)
		sim.tx[sim.held[i]]->completed = -1;	/* dropped */
	sim.nheld = 0;
}

static void
set_status(struct virtio_dev *d, uint8_t status)
{
	check_dev(d);
	if (status == 0) {
		device_reset();
		return;
	}
	if (sim.reset_stuck)
		return;
	/* 3.1.1 step 6: FEATURES_OK only for features the device offered.
	 * Otherwise the driver's value is taken as it is, as QEMU's
	 * virtio_set_status() takes it. */
	if ((status & VIRTIO_STATUS_FEATURES_OK) && !(sim.status & VIRTIO_STATUS_FEATURES_OK) &&
	    (sim.driver_features & ~sim.cfg.features) != 0)
		status &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	sim.status = status;
	if ((status & VIRTIO_STATUS_DRIVER_OK) && sim.q[VIRTIO_NET_TXQ].enabled)
		want_notify(VIRTIO_NET_TXQ);
}

static uint64_t
get_features(struct virtio_dev *d)
{
	check_dev(d);
	return sim.cfg.features;
}

static void
set_features(struct virtio_dev *d, uint64_t features)
{
	check_dev(d);
	assert_false(sim.status & VIRTIO_STATUS_FEATURES_OK);
	sim.driver_features = features;
}

static uint8_t
cfg_read8(struct virtio_dev *d, unsigned off)
{
	uint8_t cfg[8];

	check_dev(d);
	memcpy(cfg, sim.mac, 6);
	memcpy(cfg + 6, &sim.link, 2);
	assert_true(off < sizeof(cfg));
	return cfg[off];
}

static uint32_t
cfg_generation(struct virtio_dev *d)
{
	check_dev(d);
	return sim.generation;
}

static int
setup_irq(struct virtio_dev *d, unsigned vector, unsigned cfg_vector)
{
	check_dev(d);
	sim.setup_irqs++;
	sim.vector = vector;
	sim.cfg_vector = cfg_vector;
	return 0;
}

static uint16_t
queue_max(struct virtio_dev *d, unsigned idx)
{
	check_dev(d);
	return idx < 2 ? sim.cfg.queue_max : 0;
}

static int
setup_queue(struct virtio_dev *d, unsigned idx, const struct virtq *vq)
{
	check_dev(d);
	assert_true(idx < 2);
	assert_true(vq->size <= sim.cfg.queue_max);
	/* 3.1.1 step 7 comes after FEATURES_OK and before DRIVER_OK. */
	assert_true(sim.status & VIRTIO_STATUS_FEATURES_OK);
	assert_false(sim.status & VIRTIO_STATUS_DRIVER_OK);
	sim.q[idx] = (struct simq){ .enabled = 1, .size = vq->size, .desc_pa = vq->desc_pa,
	    .avail_pa = vq->avail_pa, .used_pa = vq->used_pa };
	return 0;
}

static void
notify(struct virtio_dev *d, unsigned idx)
{
	check_dev(d);
	assert_true(idx < 2);
	sim.notifies[idx]++;
	if (idx == VIRTIO_NET_TXQ)
		sim_tx_process();
	if (sim.on_notify != NULL)
		sim.on_notify(idx);
}

static uint32_t
irq_ack(struct virtio_dev *d)
{
	uint32_t isr = sim.isr;

	check_dev(d);
	sim.isr = 0;
	return isr;
}

static const struct virtio_ops sim_ops = {
	.name = "sim",		/* the device: "virtio-net-sim0" */
	.get_status = get_status,
	.set_status = set_status,
	.get_features = get_features,
	.set_features = set_features,
	.cfg_read8 = cfg_read8,
	.cfg_generation = cfg_generation,
	.setup_irq = setup_irq,
	.queue_max = queue_max,
	.setup_queue = setup_queue,
	.notify = notify,
};

static const struct virtio_ops sim_mmio_ops = {
	.name = "sim-mmio",
	.get_status = get_status,
	.set_status = set_status,
	.get_features = get_features,
	.set_features = set_features,
	.cfg_read8 = cfg_read8,
	.cfg_generation = cfg_generation,
	.setup_irq = setup_irq,
	.queue_max = queue_max,
	.setup_queue = setup_queue,
	.notify = notify,
	.irq_ack = irq_ack,
};

/* ---- set up ------------------------------------------------------------------- */

void
sim_create(const struct sim_config *cfg)
{
	memset(&sim, 0, sizeof(sim));
	if (cfg != NULL)
		sim.cfg = *cfg;
	if (sim.cfg.features == 0)
		sim.cfg.features = SIM_FEATURES_USER;
	if (sim.cfg.queue_max == 0)
		sim.cfg.queue_max = 256;
	memcpy(sim.mac, (const uint8_t[6]){ 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 }, 6);
	sim.link = VIRTIO_NET_S_LINK_UP;
	logs_clear();
	nmaps = 0;
	nsources = 0;
	work_head = work_tail = NULL;
}

struct netdev *
sim_attach(void)
{
	struct virtio_dev *d = virtio_net_driver.alloc();

	assert_non_null(d);
	d->drv = &virtio_net_driver;
	d->ops = sim.cfg.mmio ? &sim_mmio_ops : &sim_ops;
	sim.vdev = d;
	if (virtio_net_driver.attach(d) != 0) {
		sim.vdev = NULL;
		return NULL;
	}
	/* Devices fill the driver's table from slot 0, and the test's
	 * device is the only one: netdev_get(0) is it (sim_destroy() hands
	 * the slot back). */
	return netdev_get(0);
}

void
sim_destroy(void)
{
	if (sim.vdev != NULL)
		virtio_net_driver.release(sim.vdev);
	for (int i = 0; i < sim.ntx; i++) {
		free(sim.tx[i]->frame);
		free(sim.tx[i]);
	}
	free(sim.tx);
	while (npages_runs > 0)
		free(pages[--npages_runs].p);
	logs_clear();
	nsources = 0;
	nmaps = 0;
	work_head = work_tail = NULL;
	memset(&sim, 0, sizeof(sim));
}
