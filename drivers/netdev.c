/*
 * The network devices the drivers attached (drivers/include/netdev.h):
 * the list net/ picks from, the probe of every bus that has network
 * devices on it, and their counters in the shutdown report.
 */
#include <errno.h>
#include <stddef.h>

#include <netdev.h>
#include <kernel/log.h>
#include <kernel/exit.h>

#include "virtio/virtio_dev.h"

/* The buses' probes, in order: each attaches what it finds. */
static int (*const buses[])(void) = {
	virtio_probe,
};

static struct netdev *devs[NETDEV_MAX];
static int ndevs;

static void
print_stats(void)
{
	for (int i = 0; i < ndevs; i++) {
		const struct netdev_stats *s = &devs[i]->stats;

		kprintf("%s: rx %llu pkts %llu bytes %llu drops %llu large, tx %llu pkts "
		    "%llu bytes %llu drops %llu invalid %llu csum %llu tso (largest %llu bytes), "
		    "tx ring full %llu, rx no buffers %llu, interrupts %llu, bytes copied %llu, "
		    "device resets %llu, link changes %llu, tx stalls %llu\n",
		    devs[i]->name,
		    (unsigned long long)s->rx_packets, (unsigned long long)s->rx_bytes,
		    (unsigned long long)s->rx_drops, (unsigned long long)s->rx_large,
		    (unsigned long long)s->tx_packets, (unsigned long long)s->tx_bytes,
		    (unsigned long long)s->tx_drops, (unsigned long long)s->tx_invalid,
		    (unsigned long long)s->tx_csum,
		    (unsigned long long)s->tx_tso,
		    (unsigned long long)s->tx_tso_max,
		    (unsigned long long)s->tx_ring_full, (unsigned long long)s->rx_no_buffers,
		    (unsigned long long)s->interrupts, (unsigned long long)s->bytes_copied,
		    (unsigned long long)s->device_resets, (unsigned long long)s->link_changes,
		    (unsigned long long)s->tx_stalls);
	}
}

int
netdev_register(struct netdev *dev)
{
	for (int i = 0; i < ndevs; i++)
		if (devs[i] == dev)
			return 0;	/* a slot the driver reuses (host tests) */
	if (dev->tx == NULL || dev->rx_refill == NULL || dev->ops == NULL ||
	    dev->ops->start == NULL)
		return -EINVAL;
	if (ndevs == NETDEV_MAX)
		return -ENOSPC;
	if (ndevs == 0)
		shutdown_hook_add(print_stats);
	devs[ndevs++] = dev;
	return 0;
}

int
netdev_probe(void)
{
	static int probed;

	if (!probed++)
		for (size_t i = 0; i < sizeof(buses) / sizeof(buses[0]); i++)
			buses[i]();
	return ndevs;
}

struct netdev *
netdev_get(int index)
{
	return index >= 0 && index < ndevs ? devs[index] : NULL;
}
