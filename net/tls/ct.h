/*
 * limpet_ct_declassify(p, n): the n bytes at p, computed from a secret,
 * are public from here on, and the code may branch on them: whether a
 * key is in range, an r or s of 0, a shared secret of all zeros, results
 * the caller learns anyway.
 *
 * In an image it does nothing (ct.c).  The constant-time test
 * (tests/test_ecc_ct.py) links the image's own p256.o and x25519.o with
 * a harness (tests/ct/) that marks the secrets undefined for valgrind's
 * memcheck and defines this to mark these bytes defined again; memcheck
 * then reports any other branch or memory address that depends on a
 * secret.  A function of its own, not a macro, so that the object files
 * tested are the ones the image links.
 */
#ifndef LIMPET_TLS_CT_H
#define LIMPET_TLS_CT_H

#include <stddef.h>

void	limpet_ct_declassify(const void *p, size_t n);

#endif
