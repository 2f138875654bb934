/*
 * Our elliptic-curve code, P-256 (net/tls/p256.c) and X25519
 * (net/tls/x25519.c), as a filter for tests/test_ecc_differential.py,
 * which compares what it prints with OpenSSL (Python's cryptography) and
 * with NIST's test vectors.  Host-only; linked with the two sources and
 * net/tls/ct.c.
 *
 * One command a line on stdin, one answer a line on stdout, flushed, so
 * that the test can batch thousands of commands through one pipe.  Every
 * value is exactly 64 hex digits (32 bytes): big-endian for P-256,
 * little-endian for X25519 (the byte orders of p256.h and x25519.h).
 *
 *	x25519 SCALAR U			-> OUT | err CODE
 *	x25519_base SCALAR		-> OUT | err CODE
 *	p256_scalar_ok K		-> 1 | 0
 *	p256_base K			-> X Y | err CODE
 *	p256_mul K QX QY		-> X Y | err CODE
 *	p256_ecdh D QX QY		-> Z | err CODE
 *	p256_sign D Z K			-> R S | err CODE
 *	p256_point_ok X Y		-> 1 | 0
 *
 * CODE is the name of the errno value the call returned (EINVAL, EDOM,
 * ERANGE, EAGAIN).  A line that is not one of these (an unknown command,
 * a wrong number of values, a value that is not 64 hex digits, a line
 * longer than any command or with a NUL byte) is answered "err input" and
 * changes nothing.
 * Exits 0 at the end of the input.
 *
 * "ecc_diff --flip N" flips the last bit of the Nth answer that is values
 * or a 1 or 0 (counted from 1): a wrong result that the test must catch,
 * its proof that a difference would be seen.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p256.h"
#include "x25519.h"

#define VALUE_BYTES	32
#define MAX_ARGS	3
/* The longest command: a name and three values, with room to spare. */
#define LINE_MAX_LEN	512

/* Answers given so far, and which one --flip spoils (0: none). */
static unsigned long answers, flip_at;

/* The errno name of a call's result, or NULL for one it never returns. */
static const char *
errname(int rc)
{
	switch (rc) {
	case -EINVAL:
		return "EINVAL";
	case -EDOM:
		return "EDOM";
	case -ERANGE:
		return "ERANGE";
	case -EAGAIN:
		return "EAGAIN";
	default:
		return NULL;
	}
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly 64 hex digits into 32 bytes, in the order written. */
static bool
unhex(uint8_t out[VALUE_BYTES], const char *s)
{
	if (strlen(s) != 2 * VALUE_BYTES)
		return false;
	for (size_t i = 0; i < VALUE_BYTES; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static void
put_hex(const uint8_t v[VALUE_BYTES])
{
	for (size_t i = 0; i < VALUE_BYTES; i++)
		printf("%02x", v[i]);
}

static void
answer(int rc, uint8_t *a, const uint8_t *b)
{
	if (rc != 0) {
		if (errname(rc) != NULL)
			printf("err %s\n", errname(rc));
		else
			printf("err %d\n", rc);
		return;
	}
	if (++answers == flip_at)
		a[VALUE_BYTES - 1] ^= 1;
	put_hex(a);
	if (b != NULL) {
		putchar(' ');
		put_hex(b);
	}
	putchar('\n');
}

static void
answer_bool(bool v)
{
	if (++answers == flip_at)
		v = !v;
	printf("%d\n", v ? 1 : 0);
}

enum op { X25519, X25519_BASE, SCALAR_OK, BASE, MUL, ECDH, SIGN, POINT_OK };

static const struct command {
	const char	*name;
	enum op		 op;
	int		 nargs;
} commands[] = {
	{ "x25519",		X25519,		2 },
	{ "x25519_base",	X25519_BASE,	1 },
	{ "p256_scalar_ok",	SCALAR_OK,	1 },
	{ "p256_base",		BASE,		1 },
	{ "p256_mul",		MUL,		3 },
	{ "p256_ecdh",		ECDH,		3 },
	{ "p256_sign",		SIGN,		3 },
	{ "p256_point_ok",	POINT_OK,	2 },
};

/* Runs one line, already split into words; false if it is malformed. */
static bool
run(char **words, int nwords)
{
	uint8_t v[MAX_ARGS][VALUE_BYTES], a[VALUE_BYTES], b[VALUE_BYTES];
	const struct command *c = NULL;

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(words[0], commands[i].name) == 0)
			c = &commands[i];
	if (c == NULL || nwords != 1 + c->nargs)
		return false;
	for (int i = 0; i < c->nargs; i++)
		if (!unhex(v[i], words[1 + i]))
			return false;

	switch (c->op) {
	case X25519:
		answer(limpet_x25519(a, v[0], v[1]), a, NULL);
		break;
	case X25519_BASE:
		answer(limpet_x25519_base(a, v[0]), a, NULL);
		break;
	case SCALAR_OK:
		answer_bool(limpet_p256_scalar_ok(v[0]));
		break;
	case BASE:
		answer(limpet_p256_base_mul(a, b, v[0]), a, b);
		break;
	case MUL:
		answer(limpet_p256_mul(a, b, v[0], v[1], v[2]), a, b);
		break;
	case ECDH:
		answer(limpet_p256_ecdh(a, v[0], v[1], v[2]), a, NULL);
		break;
	case SIGN:
		answer(limpet_p256_sign(a, b, v[0], v[1], v[2]), a, b);
		break;
	case POINT_OK:
		answer_bool(limpet_p256_point_ok(v[0], v[1]));
		break;
	}
	return true;
}

/*
 * Splits line in place at spaces and tabs (and a CR before the newline);
 * returns the number of words, or -1 if there are more than max.
 */
static int
split(char *line, char **words, size_t max)
{
	size_t n = 0;
	char *p = line;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			*p++ = '\0';
		if (*p == '\0')
			return (int)n;
		if (n == max)
			return -1;
		words[n++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r')
			p++;
	}
}

/*
 * Reads one line, without its newline, into line.  Returns 1 for a line,
 * 0 at the end of the input, -1 for a line that is too long or holds a
 * NUL byte (read to its end and dropped).
 */
static int
read_line(char line[LINE_MAX_LEN])
{
	size_t len = 0;
	bool bad = false;
	int ch;

	while ((ch = getchar()) != EOF && ch != '\n') {
		if (ch == '\0' || len == LINE_MAX_LEN - 1)
			bad = true;
		else
			line[len++] = (char)ch;
	}
	line[len] = '\0';
	if (ch == EOF && len == 0 && !bad)
		return 0;
	return bad ? -1 : 1;
}

int
main(int argc, char **argv)
{
	char line[LINE_MAX_LEN];
	bool usage_ok;
	int got;

	if (argc == 3 && strcmp(argv[1], "--flip") == 0) {
		char *end;

		flip_at = strtoul(argv[2], &end, 10);
		usage_ok = *argv[2] != '\0' && *end == '\0';
	} else {
		usage_ok = argc == 1;
	}
	if (!usage_ok) {
		fprintf(stderr, "usage: ecc_diff [--flip N] < commands\n");
		return 2;
	}

	while ((got = read_line(line)) != 0) {
		char *words[1 + MAX_ARGS + 1];
		int nwords = got > 0 ? split(line, words, sizeof(words) / sizeof(words[0])) : -1;

		if (nwords <= 0 || !run(words, nwords))
			printf("err input\n");
		fflush(stdout);
	}
	return ferror(stdin) ? 1 : 0;
}
