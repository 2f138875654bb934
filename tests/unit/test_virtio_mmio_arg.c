// unit-sources: drivers/virtio/virtio_mmio_arg.c
// unit-include: drivers/include drivers/virtio
/* Host unit tests for the virtio_mmio.device= argument's parser
 * (drivers/virtio/virtio_mmio_arg.c), Linux's form as Firecracker
 * writes it. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "virtio_dev.h"

static void
firecracker_form(void **state)
{
	struct virtio_mmio_arg a;

	(void)state;
	assert_int_equal(virtio_mmio_parse_arg("4K@0xd0000000:5", &a), 0);
	assert_int_equal(a.base, 0xd0000000);
	assert_int_equal(a.size, 4096);
	assert_int_equal(a.gsi, 5);
	assert_int_equal(virtio_mmio_parse_arg("512@0xFEB02E00:47:3", &a), 0);
	assert_int_equal(a.base, 0xfeb02e00);
	assert_int_equal(a.size, 512);
	assert_int_equal(a.gsi, 47);
	assert_int_equal(virtio_mmio_parse_arg("1m@4026531840:10", &a), 0);
	assert_int_equal(a.base, 4026531840u);
	assert_int_equal(a.size, 1 << 20);
}

static void
refused(void **state)
{
	static const char *bad[] = {
		"", "4K", "4K@", "4K@0xd0000000", "4K@0xd0000000:", "4K0xd0000000:5",
		"@0xd0000000:5", "0@0xd0000000:5", "4X@0xd0000000:5", "4K@0x:5",
		"4K@0xd0000000:5:", "4K@0xd0000000:5:x", "4K@0xd0000000:5 ", "-4K@0x1000:5",
		"4K@0xd0000002:5",				/* unaligned */
		"255@0xd0000000:5",				/* smaller than the registers */
		"4K@0xd0000000:256",				/* no such GSI */
		"16E@0x1000:5", "99999999999999999999@0x1000:5",	/* overflow */
		"4K@0xfffffffffffff000:5",			/* wraps */
		"4K@0x400000000000:5",				/* beyond the identity map */
	};
	struct virtio_mmio_arg a = { 1, 2, 3 };

	(void)state;
	assert_int_equal(virtio_mmio_parse_arg(NULL, &a), -EINVAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (virtio_mmio_parse_arg(bad[i], &a) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(a.base, 1);		/* untouched */
		assert_int_equal(a.size, 2);
		assert_int_equal(a.gsi, 3);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(firecracker_form),
		cmocka_unit_test(refused),
	};

	return cmocka_run_group_tests_name("virtio_mmio_arg", tests, NULL, NULL);
}
