/*
 * test_args: print the arguments main() received, one per line as
 *
 *	argv[I] (LEN) [TEXT]
 *
 * so that tests/test_args.py can compare them with what it passed after
 * "--".  The guest itself checks what it can know alone: argv[0] is set
 * and argv[argc] is NULL.
 */
#include <stdio.h>
#include <string.h>

static int failures;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		printf("test_args: FAILED: %s (line %d)\n", #cond, __LINE__); \
		failures++;						\
	}								\
} while (0)

int
main(int argc, char **argv)
{
	CHECK(argc >= 1);
	CHECK(argv != NULL);
	if (argc < 1 || argv == NULL)
		return 1;
	CHECK(argv[argc] == NULL);
	CHECK(argv[0] != NULL);

	printf("argc=%d\n", argc);
	for (int i = 0; i < argc; i++)
		printf("argv[%d] (%zu) [%s]\n", i, strlen(argv[i]), argv[i]);
	if (failures)
		return 1;
	printf("test_args: OK\n");
	return 0;
}
