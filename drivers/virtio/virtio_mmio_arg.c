/*
 * The kernel argument that announces a virtio-mmio transport, in Linux's
 * form (Documentation/admin-guide/kernel-parameters.txt, virtio_mmio.device):
 *
 *	virtio_mmio.device=<size>@<base>:<irq>[:<id>]
 *
 * size in bytes with an optional K, M or G; base in hex (0x...) or decimal;
 * irq (a GSI) in decimal; id, Linux's platform device id, is accepted and
 * ignored.  Firecracker announces its devices this way
 * ("virtio_mmio.device=4K@0xd0000000:5").  Pure code: tested on the host.
 */
#include <errno.h>
#include <stdint.h>

#include "virtio_dev.h"

/* A number at *s in base 16 (after "0x") or 10; advances *s. */
static int
number(const char **s, uint64_t *v)
{
	const char *p = *s;
	unsigned base = 10, d;
	uint64_t n = 0;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	for (*s = p; ; p++) {
		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			break;
		if (n > (UINT64_MAX - d) / base)
			return -ERANGE;
		n = n * base + d;
	}
	if (p == *s)
		return -EINVAL;
	*s = p;
	*v = n;
	return 0;
}

int
virtio_mmio_parse_arg(const char *s, struct virtio_mmio_arg *out)
{
	uint64_t size, base, irq, id, shift = 0;

	if (s == NULL || number(&s, &size) != 0)
		return -EINVAL;
	switch (*s) {
	case 'K': case 'k': shift = 10; s++; break;
	case 'M': case 'm': shift = 20; s++; break;
	case 'G': case 'g': shift = 30; s++; break;
	}
	if (size == 0 || size > (UINT64_MAX >> shift))
		return -EINVAL;
	size <<= shift;
	if (*s++ != '@' || number(&s, &base) != 0 || *s++ != ':' ||
	    number(&s, &irq) != 0)
		return -EINVAL;
	if (*s == ':' && (s++, number(&s, &id) != 0))
		return -EINVAL;
	if (*s != '\0')
		return -EINVAL;
	/* Version 2's registers end at 0x100 (virtio 1.1, 4.2.2); the
	 * transport must lie below the 46-bit reach of the identity map. */
	if (size < 0x100 || base + size < base || base + size > (1ULL << 46) ||
	    base % 4 != 0 || irq > 255)
		return -EINVAL;
	out->base = base;
	out->size = size;
	out->gsi = (unsigned)irq;
	return 0;
}
