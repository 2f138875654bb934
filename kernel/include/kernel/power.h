/*
 * Power events from outside the VM: the ACPI power button (what QEMU's
 * system_powerdown, libvirt's virsh shutdown and a cloud's "stop" press),
 * and powering off.  The service sees them through limpet_on_shutdown()
 * (limpet.h).
 */
#ifndef KERNEL_POWER_H
#define KERNEL_POWER_H

/* Boot: find the machine's power button and listen to it (pc and q35:
 * ACPI's fixed power button, through the SCI; microvm: QEMU's Generic
 * Event Device).  Quietly nothing on a machine without one. */
void	power_init(void);

/* For the arch code, once it has a power button: let the loop take its
 * presses. */
void	power_register(void);

/* From the power button's interrupt handler: a press. */
void	power_button_pressed(void);

/* Power the machine off (ACPI sleep state S5); returns only when it
 * cannot (no ACPI). */
void	power_off(void);

#endif
