/*
 * test_fault: make the CPU fault on purpose, one way per run, chosen by the
 * first argument:
 *
 *	null		read address 0
 *	unmapped	read 0xdead0000, which nothing maps
 *	write-text	write into a function's code (text is read-only: W^X)
 *	exec-data	call into a static buffer holding "ret" (data is NX)
 *	exec-heap	call into a malloc'd buffer holding "ret" (heap is NX)
 *	write-rodata	write into a string constant
 *	stack-overflow	recurse until the stack's guard page
 *	ud2		an undefined instruction
 *	div0		divide by zero
 *
 * Each case should end in the kernel's fault dump and status 125; getting
 * past the fault prints "test_fault: survived" and exits 1.  The faulting
 * code sits in a function named fault_<case> so that tests/test_faults.py
 * can look for it in the symbolized backtrace.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

typedef void (*fn_t)(void);

static volatile uint64_t sink;

NOINLINE static void fault_null(void)
{
	sink = *(volatile uint64_t *)(uintptr_t)0;
}

NOINLINE static void fault_unmapped(void)
{
	sink = *(volatile uint64_t *)(uintptr_t)0xdead0000;
}

NOINLINE static void fault_write_text(void)
{
	volatile uint8_t *code = (volatile uint8_t *)(uintptr_t)&fault_null;

	*code = 0xc3;
}

/* "ret": harmless if the CPU did run it. */
static uint8_t data_ret[16] = { 0xc3 };

NOINLINE static void fault_exec_data(void)
{
	fn_t f = (fn_t)(uintptr_t)data_ret;

	f();
	sink = 1;	/* keeps the call from being a tail jump */
}

NOINLINE static void fault_exec_heap(void)
{
	uint8_t *buf = malloc(64);
	fn_t f;

	if (buf == NULL) {
		printf("test_fault: malloc failed\n");
		exit(2);
	}
	memset(buf, 0xc3, 64);
	f = (fn_t)(uintptr_t)buf;
	f();
	sink = 2;
}

static const char rodata_text[] = "constant";

NOINLINE static void fault_write_rodata(void)
{
	volatile char *p = (volatile char *)(uintptr_t)rodata_text;

	p[0] = 'C';
}

/* Each frame keeps a buffer live across the call, so the recursion can be
 * neither flattened into a loop nor optimized away. */
static volatile int forever = 1;

NOINLINE static uint64_t fault_stack_overflow(uint64_t depth)
{
	volatile uint8_t pad[256];

	pad[depth % sizeof(pad)] = (uint8_t)depth;
	if (forever)
		sink += fault_stack_overflow(depth + 1);
	return pad[(depth + 1) % sizeof(pad)];
}

NOINLINE static void fault_ud2(void)
{
	__asm__ volatile("ud2");
}

NOINLINE static void fault_div0(void)
{
	uint64_t num = 1, zero = 0;

	/* In asm, so that the compiler cannot reason the division away. */
	__asm__ volatile("xor %%edx, %%edx\n\tdivq %2" : "+a"(num) : "0"(num), "r"(zero) : "rdx");
	sink = num;
}

static void run_stack_overflow(void)
{
	sink = fault_stack_overflow(0);
}

static const struct {
	const char	*name;
	void		(*fn)(void);
} cases[] = {
	{ "null",		fault_null },
	{ "unmapped",		fault_unmapped },
	{ "write-text",		fault_write_text },
	{ "exec-data",		fault_exec_data },
	{ "exec-heap",		fault_exec_heap },
	{ "write-rodata",	fault_write_rodata },
	{ "stack-overflow",	run_stack_overflow },
	{ "ud2",		fault_ud2 },
	{ "div0",		fault_div0 },
};

int main(int argc, char **argv)
{
	if (argc != 2)
		goto usage;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (strcmp(argv[1], cases[i].name) != 0)
			continue;
		printf("test_fault: %s\n", cases[i].name);
		cases[i].fn();
		printf("test_fault: survived %s\n", cases[i].name);
		return 1;
	}
usage:
	printf("usage: test_fault CASE; cases:");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		printf(" %s", cases[i].name);
	printf("\n");
	return 2;
}
