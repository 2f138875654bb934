/*
 * The command line: "kernel-args -- app-args" (QEMU -append).
 *
 * Words are separated by blanks; double quotes group ("a b" is one word)
 * and a backslash takes the next character literally.  The first word
 * "--" separates kernel arguments from the service's argv.  Kernel
 * arguments are "key=value", "-key value" (as the seed's "-freq 2000"),
 * "-key=value" or a bare "key".  Pure code: tested on the host.
 */
#ifndef KERNEL_CMDLINE_H
#define KERNEL_CMDLINE_H

#include <kernel/param.h>

struct karg {
	const char	*key;
	const char	*value;		/* "" for a bare key */
	int		used;		/* taken by kargs_take() */
};

struct kargs {
	int		nkernel;
	struct karg	kernel[KERNEL_ARGS_MAX];
	int		argc;
	char		*argv[APP_ARGS_MAX + 2];	/* argv[0] = service name, NULL-terminated */
};

/* Kernel arguments that take a value after a blank ("-freq 2000"). */
#define KARGS_WITH_VALUE	{ "freq", NULL }

/*
 * Split s (modified in place) into ka; argv[0] is set to progname.
 * Returns 0, or -1 with *err describing the problem (unterminated quote,
 * too many arguments, a "-key" missing its value).
 */
int	cmdline_parse(char *s, const char *progname, struct kargs *ka, const char **err);

/* The value of the last kernel argument named key (marking every one with
 * that name used), or NULL if there is none. */
const char *kargs_take(struct kargs *ka, const char *key);

/* Every value of the kernel arguments named key, in order, into values
 * (at most max; each marked used); how many there are, which may be more
 * than max. */
int	kargs_take_all(struct kargs *ka, const char *key, const char **values, int max);

/* The kernel's arguments, parsed at boot (main.c). */
extern struct kargs boot_args;

#endif
