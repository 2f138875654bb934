/*
 * QEMU's fw_cfg device through its I/O ports (docs/specs/fw_cfg.rst):
 * write a 16-bit key to the selector port, then read the item's bytes
 * one at a time from the data port.  Key 0x0000 is the signature "QEMU";
 * key 0x0019 is the file directory: a big-endian count, then for each file
 * its big-endian size and key and a NUL-terminated name of up to 56
 * bytes.  The byte-wide data port is slow under emulation (one exit a
 * byte) but the files read here are a few KiB, once, at start-up; the DMA
 * interface would not be worth its code.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <kernel/fw_cfg.h>

#include "cpu.h"

#define PORT_SELECTOR	0x510
#define PORT_DATA	0x511
#define KEY_SIGNATURE	0x0000
#define KEY_FILE_DIR	0x0019

struct dir_entry {		/* as the device sends it, big-endian */
	uint8_t		size[4];
	uint8_t		select[2];
	uint8_t		reserved[2];
	char		name[FW_CFG_NAME_MAX + 1];
};

static void
select_key(uint16_t key)
{
	outw(PORT_SELECTOR, key);
}

static void
read_bytes(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len-- > 0)
		*p++ = inb(PORT_DATA);
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Whether the device is there: its signature reads "QEMU" (on a machine
 * without it the port reads 0xff). */
static bool
present(void)
{
	static int state;	/* 0 unknown, 1 present, -1 absent */
	char sig[4];

	if (state == 0) {
		select_key(KEY_SIGNATURE);
		read_bytes(sig, sizeof(sig));
		state = memcmp(sig, "QEMU", 4) == 0 ? 1 : -1;
	}
	return state > 0;
}

/* Find name in the directory: 0 with its key and size, or -errno. */
static int
find(const char *name, uint16_t *key, uint32_t *size)
{
	struct dir_entry e;
	uint8_t count[4];
	uint32_t n;

	if (!present())
		return -ENODEV;
	if (strlen(name) > FW_CFG_NAME_MAX)
		return -ENOENT;
	select_key(KEY_FILE_DIR);
	read_bytes(count, sizeof(count));
	/* The directory is read in order, entry by entry, from one select. */
	for (n = be32(count); n > 0; n--) {
		read_bytes(&e, sizeof(e));
		e.name[FW_CFG_NAME_MAX] = '\0';
		if (strcmp(e.name, name) == 0) {
			*key = (uint16_t)(e.select[0] << 8 | e.select[1]);
			*size = be32(e.size);
			return 0;
		}
	}
	return -ENOENT;
}

int
fw_cfg_size(const char *name, size_t *size)
{
	uint16_t key;
	uint32_t n;
	int err;

	if ((err = find(name, &key, &n)) != 0)
		return err;
	*size = n;
	return 0;
}

int
fw_cfg_read(const char *name, void *buf, size_t len, size_t *got)
{
	uint16_t key;
	uint32_t n;
	int err;

	*got = 0;
	if ((err = find(name, &key, &n)) != 0)
		return err;
	if (n > len)
		return -EFBIG;
	select_key(key);
	read_bytes(buf, n);
	*got = n;
	return 0;
}
