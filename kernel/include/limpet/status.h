/*
 * The exit statuses that are not a service's own, in one table for the
 * kernel, the loader, net/ and the front end (which reads this file to
 * name them).  A status reaches QEMU as bootinfo.h describes.
 */
#ifndef LIMPET_STATUS_H
#define LIMPET_STATUS_H

/* A command line the kernel or a driver cannot use: a kernel argument,
 * a service option (by convention, one that limpet_getopt() or
 * limpet_arg_number() refused). */
#define LIMPET_STATUS_USAGE	2
/* TLS could not be set up: a certificate or key given at boot that does
 * not load, or no healthy entropy source. */
#define LIMPET_STATUS_TLS_SETUP	3
/* The loader refused the image, or the CPU cannot run it (no long mode
 * or NX), before the kernel ran. */
#define LIMPET_STATUS_BAD_IMAGE	124
/* A kernel fault or panic (the kernel printed a dump). */
#define LIMPET_STATUS_FAULT	125
/* The largest status a guest can report; larger ones are clamped. */
#define LIMPET_STATUS_MAX	126

#endif /* LIMPET_STATUS_H */
