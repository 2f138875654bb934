/*
 * The VM generation ID (Microsoft's "Virtual Machine Generation ID"
 * specification, 2012): 128 bits the hypervisor changes whenever the VM
 * may be running a second time from the same state, after a restore from
 * a snapshot or as a clone.  QEMU offers it on pc and q35 with
 * -device vmgenid,guid=auto (libvirt: <genid/>; Hyper-V always).
 * Software that must never repeat itself (a DRBG) reseeds when it
 * changes.
 */
#ifndef KERNEL_VMGENID_H
#define KERNEL_VMGENID_H

#include <stdint.h>

#define VMGENID_BYTES	16

/* The current value: 0, or -ENODEV when the machine offers none.  The
 * first call looks for it in the ACPI tables and logs what it found;
 * later ones read 16 bytes of memory. */
int	vmgenid_read(uint8_t id[VMGENID_BYTES]);

#endif
