/*
 * The watchdog timer of the Intel 6300ESB I/O controller hub, as QEMU
 * emulates it (-device i6300esb, hw/watchdog/wdt_i6300esb.c).  See
 * kernel/watchdog.h for how the kernel uses it.
 *
 * Registers (Intel 6300ESB I/O Controller Hub datasheet, document
 * 300641, the watchdog timer's chapter):
 *  - in PCI configuration space, the configuration register (0x60, 16
 *    bits: what a timeout does, the prescaler) and the lock register
 *    (0x68, 8 bits: enable, mode, lock);
 *  - in the 16 bytes of memory BAR 0, the two preload registers and the
 *    reload register.  A write to a preload register or to the reload
 *    register takes effect only straight after the unlock sequence
 *    (0x80 then 0x86 written to the reload register), and relocks it.
 *
 * The counter runs in two stages: from preload 1 down to zero (which
 * would raise an interrupt; we turn that off), then from preload 2 down
 * to zero, which resets the machine.  A reload starts stage 1 again, so
 * the timeout is the sum of both stages.  QEMU honours the configuration
 * register only as a 16-bit access and the lock register only as an
 * 8-bit one; the preloads are 32-bit writes and the reload a 16-bit one.
 */
#include <errno.h>
#include <stdint.h>

#include <kernel/log.h>
#include <kernel/pci.h>
#include <kernel/watchdog.h>

#define ESB_VENDOR_INTEL	0x8086
#define ESB_DEVICE_WDT		0x25ab

/* PCI configuration space. */
#define ESB_CONFIG		0x60	/* 16 bits */
#define ESB_CONFIG_OUTPUT_OFF	(1u << 5)	/* set: a timeout resets nothing */
#define ESB_CONFIG_1MHZ		(1u << 2)	/* prescaler 2^5 instead of 2^15 */
#define ESB_CONFIG_INT_NONE	0x3		/* no interrupt after stage 1 */
#define ESB_LOCK		0x68	/* 8 bits */
#define ESB_LOCK_FREE_RUN	(1u << 2)	/* clear: stage 2 resets (watchdog mode) */
#define ESB_LOCK_ENABLE		(1u << 1)
#define ESB_LOCK_LOCKED		(1u << 0)	/* no changes until reset */

/* Memory BAR 0. */
#define ESB_BAR			0
#define ESB_BAR_SIZE		16
#define ESB_PRELOAD1		0x00	/* 32 bits, 20 of them used */
#define ESB_PRELOAD2		0x04
#define ESB_RELOAD		0x0c	/* 16 bits */
#define ESB_RELOAD_KICK		(1u << 8)	/* start stage 1 again */
#define ESB_RELOAD_TIMEOUT	(1u << 9)	/* read: it reset the machine; write 1: clear */
#define ESB_UNLOCK1		0x80
#define ESB_UNLOCK2		0x86

#define ESB_PRELOAD_MAX		0xfffffu
/*
 * One tick at the 1 kHz setting: 2^15 clocks of the 33 MHz PCI bus, 30 ns
 * each as QEMU counts them: 983,040 ns.
 */
#define ESB_TICK_NS		(30ULL << 15)

static struct pci_dev esb_pci;

static volatile uint8_t *
regs(struct watchdog *w)
{
	return (volatile uint8_t *)w->regs;
}

static void
unlock(struct watchdog *w)
{
	*(volatile uint16_t *)(regs(w) + ESB_RELOAD) = ESB_UNLOCK1;
	*(volatile uint16_t *)(regs(w) + ESB_RELOAD) = ESB_UNLOCK2;
}

static void
reload_write(struct watchdog *w, uint16_t v)
{
	unlock(w);
	*(volatile uint16_t *)(regs(w) + ESB_RELOAD) = v;
}

static void
preload_write(struct watchdog *w, int reg, uint32_t ticks)
{
	unlock(w);
	*(volatile uint32_t *)(regs(w) + reg) = ticks;
}

static void
esb_pet(struct watchdog *w)
{
	reload_write(w, ESB_RELOAD_KICK);
}

static int
esb_start(struct watchdog *w, uint64_t timeout_ns, uint64_t *actual)
{
	/* Half the timeout in each stage, rounded up to whole ticks. */
	uint64_t ticks = (timeout_ns / 2 + ESB_TICK_NS - 1) / ESB_TICK_NS;

	if (ticks == 0 || ticks > ESB_PRELOAD_MAX)
		return -ERANGE;
	/* Locked: only a reset would let us change its settings. */
	if (pci_read8(&esb_pci, ESB_LOCK) & ESB_LOCK_LOCKED)
		return -EBUSY;
	/* Stopped while it is set up, in case something enabled it. */
	pci_write8(&esb_pci, ESB_LOCK, 0);
	/* 1 kHz, reset at the end of stage 2, no interrupt at the end of
	 * stage 1 (QEMU could not deliver one and says so on stderr). */
	pci_write16(&esb_pci, ESB_CONFIG, ESB_CONFIG_INT_NONE);
	preload_write(w, ESB_PRELOAD1, (uint32_t)ticks);
	preload_write(w, ESB_PRELOAD2, (uint32_t)ticks);
	/* Enabling starts stage 1 with the new preloads. */
	pci_write8(&esb_pci, ESB_LOCK, ESB_LOCK_ENABLE);
	*actual = 2 * ticks * ESB_TICK_NS;
	return 0;
}

static const struct watchdog_ops esb_ops = {
	.start	= esb_start,
	.pet	= esb_pet,
};

static int
found(struct pci_dev *d, void *arg)
{
	int *seen = arg;

	if (d->vendor != ESB_VENDOR_INTEL || d->device != ESB_DEVICE_WDT)
		return 0;
	esb_pci = *d;
	*seen = 1;
	return 1;	/* the first one */
}

int
watchdog_probe(struct watchdog *w)
{
	int seen = 0;
	uint16_t cmd;

	pci_enumerate(found, &seen);
	if (!seen)
		return -ENODEV;
	w->ops = &esb_ops;
	w->name = "i6300esb";
	ksnprintf(w->where, sizeof(w->where), "%02x:%02x.%x", esb_pci.bus,
	    esb_pci.dev, esb_pci.fn);
	w->max_ns = 2 * ESB_PRELOAD_MAX * ESB_TICK_NS;
	/* Memory decoding only: the device does no DMA and raises no
	 * interrupt here.  The firmware has usually turned it on already,
	 * and a write would make QEMU rebuild its memory map (about a
	 * millisecond under TCG). */
	cmd = pci_read16(&esb_pci, PCI_COMMAND);
	if (!(cmd & PCI_COMMAND_MEMORY))
		pci_write16(&esb_pci, PCI_COMMAND, cmd | PCI_COMMAND_MEMORY);
	if ((w->regs = pci_map_bar(&esb_pci, ESB_BAR, 0, ESB_BAR_SIZE)) == NULL) {
		log_warn("watchdog: i6300esb at %s: BAR 0 missing or unmappable, ignored",
		    w->where);
		return -ENODEV;
	}
	/* The timeout flag survives the reset it caused; clear it, or the
	 * next boot after an ordinary reset would blame the watchdog. */
	w->fired_last = (*(volatile uint16_t *)(regs(w) + ESB_RELOAD) &
	    ESB_RELOAD_TIMEOUT) != 0;
	if (w->fired_last)
		reload_write(w, ESB_RELOAD_TIMEOUT);
	return 0;
}
