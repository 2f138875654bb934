/*
 * QEMU's firmware configuration device (fw_cfg; docs/specs/fw_cfg.rst in
 * QEMU's source): named blobs the host hands the guest, for example with
 *	qemu-system-x86_64 -fw_cfg name=opt/limpet/tls/cert,file=cert.pem
 * (libvirt: <sysinfo type='fwcfg'><entry name='opt/...' file='...'/>).
 * Names a user chooses start with "opt/" (QEMU's rule).  pc, q35 and
 * microvm have it, at I/O ports 0x510-0x511.
 */
#ifndef KERNEL_FW_CFG_H
#define KERNEL_FW_CFG_H

#include <stddef.h>
#include <stdint.h>

/* The longest name the device carries, without its NUL. */
#define FW_CFG_NAME_MAX	55

/* The size of the file called name: 0 and *size, -ENOENT when there is
 * none, -ENODEV when the machine has no fw_cfg device. */
int	fw_cfg_size(const char *name, size_t *size);

/* Read the file called name into buf (at most len bytes; *got says how
 * many): 0, -ENOENT, -ENODEV, or -EFBIG when the file is longer than len
 * (nothing is read then). */
int	fw_cfg_read(const char *name, void *buf, size_t len, size_t *got);

#endif
