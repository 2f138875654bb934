/*
 * Interrupt and exception entry: 256 stubs of 16 bytes each at isr_stubs,
 * so the IDT entry for vector n is isr_stubs + 16 * n.  Each stub pushes
 * an error code where the CPU does not (Intel SDM vol. 3, 6.13), then the
 * vector, and joins isr_common, which saves the registers as a struct
 * trapframe (intr.h), the SSE state with fxsave (newlib code may be using
 * SSE when the interrupt arrives), and calls trap_entry(tf).
 */
	.text
	.align	16
	.globl	isr_stubs
isr_stubs:
	.set	vec, 0
	.rept	256
	.align	16
	.if	(vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	.else
	pushq	$0
	.endif
	pushq	$vec
	jmp	isr_common
	.set	vec, vec + 1
	.endr

	.type	isr_common, @function
isr_common:
	pushq	%rax
	pushq	%rbx
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%rbp
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, %rbx		/* struct trapframe *, callee-saved */
	subq	$512, %rsp
	andq	$-16, %rsp
	fxsave	(%rsp)
	movq	%rbx, %rdi
	cld
	call	trap_entry
	fxrstor	(%rsp)
	movq	%rbx, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rbp
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rbx
	popq	%rax
	addq	$16, %rsp		/* vector and error code */
	iretq
	.size	isr_common, . - isr_common
