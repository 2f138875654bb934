/*
 * exit.elf: an image that ends the VM at once.  The benchmark boots it
 * with the loader on the same QEMU line as the services, and the time
 * QEMU takes from its start to its exit is QEMU's own start-up floor
 * (firmware and loader included).
 *
 * The loader enters it in long mode, PVH in 32-bit protected mode (its
 * ELF note names _start as the PVH entry, as kernel/arch/x86_64/pvh_entry.S
 * does for images): these instructions encode the same in both.  Writing 0
 * to the isa-debug-exit port (0xf4, as ./limpet run configures it) makes
 * QEMU exit with status 1.  Linked at 2 MiB, where the loader puts images.
 */
	.section .note.Xen, "a", @note
	.balign	4
	.long	4, 8, 18		/* namesz, descsz, XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz	"Xen"
	.quad	_start

	.text
	.globl	_start
_start:
	movw	$0xf4, %dx
	xorl	%eax, %eax
	outb	%al, %dx
1:	hlt
	jmp	1b

	.section .note.GNU-stack, "", @progbits
