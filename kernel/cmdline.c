/* Command-line splitting and kernel-argument lookup (see cmdline.h). */
#include <stddef.h>
#include <string.h>

#include <kernel/cmdline.h>

/* Split s into words in place; returns the count or -1. */
static int
split(char *s, char **words, int max, const char **err)
{
	char *r = s, *w = s;
	int n = 0;

	for (;;) {
		int quoted = 0;

		while (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r')
			r++;
		if (*r == '\0')
			return n;
		if (n == max) {
			*err = "too many arguments";
			return -1;
		}
		words[n++] = w;
		while (*r != '\0' && (quoted || (*r != ' ' && *r != '\t' &&
		    *r != '\n' && *r != '\r'))) {
			if (*r == '"') {
				quoted = !quoted;
				r++;
			} else if (*r == '\\' && r[1] != '\0') {
				*w++ = r[1];
				r += 2;
			} else {
				*w++ = *r++;
			}
		}
		if (quoted) {
			*err = "unterminated double quote";
			return -1;
		}
		if (*r != '\0')
			r++;
		*w++ = '\0';
	}
}

static int
takes_value(const char *key)
{
	static const char *const keys[] = KARGS_WITH_VALUE;

	for (int i = 0; keys[i] != NULL; i++)
		if (strcmp(key, keys[i]) == 0)
			return 1;
	return 0;
}

int
cmdline_parse(char *s, const char *progname, struct kargs *ka, const char **err)
{
	char *words[KERNEL_ARGS_MAX + APP_ARGS_MAX + 1];
	int n, i;

	memset(ka, 0, sizeof(*ka));
	ka->argv[0] = (char *)progname;
	ka->argc = 1;
	n = split(s, words, KERNEL_ARGS_MAX + APP_ARGS_MAX + 1, err);
	if (n < 0)
		return -1;
	for (i = 0; i < n && strcmp(words[i], "--") != 0; i++) {
		struct karg *k;
		char *eq;

		if (ka->nkernel == KERNEL_ARGS_MAX) {
			*err = "too many kernel arguments";
			return -1;
		}
		k = &ka->kernel[ka->nkernel++];
		k->key = words[i][0] == '-' && words[i][1] != '\0' ? words[i] + 1 : words[i];
		if ((eq = strchr(words[i], '=')) != NULL) {
			*eq = '\0';
			k->value = eq + 1;
		} else if (words[i][0] == '-' && takes_value(k->key)) {
			if (i + 1 == n || strcmp(words[i + 1], "--") == 0) {
				*err = "a kernel argument is missing its value";
				return -1;
			}
			k->value = words[++i];
		} else {
			k->value = "";
		}
	}
	if (i < n)
		i++;			/* skip "--" */
	if (n - i > APP_ARGS_MAX) {
		*err = "too many application arguments";
		return -1;
	}
	for (; i < n; i++)
		ka->argv[ka->argc++] = words[i];
	ka->argv[ka->argc] = NULL;
	return 0;
}

const char *
kargs_take(struct kargs *ka, const char *key)
{
	const char *v = NULL;

	for (int i = 0; i < ka->nkernel; i++) {
		if (strcmp(ka->kernel[i].key, key) == 0) {
			ka->kernel[i].used = 1;
			v = ka->kernel[i].value;
		}
	}
	return v;
}

int
kargs_take_all(struct kargs *ka, const char *key, const char **values, int max)
{
	int n = 0;

	for (int i = 0; i < ka->nkernel; i++) {
		if (strcmp(ka->kernel[i].key, key) == 0) {
			ka->kernel[i].used = 1;
			if (n < max)
				values[n] = ka->kernel[i].value;
			n++;
		}
	}
	return n;
}
