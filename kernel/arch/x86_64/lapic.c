/*
 * The local APIC: interrupt acknowledgement and the one timer the kernel
 * uses.  Register offsets and LVT bits from the Intel SDM vol. 3, ch. 11
 * ("Advanced Programmable Interrupt Controller").
 *
 * The timer runs in TSC-deadline mode when the CPU has it (KVM does; QEMU
 * TCG does not), since a deadline in TSC ticks needs no scaling and never
 * fires early.  Otherwise it runs one-shot, divide by 16, with counts
 * scaled from the TSC by a ratio measured once: during TSC calibration when
 * the platform used the LAPIC there (lapic_ref_*), else at timer_init().
 */
#include <stdint.h>

#include <kernel/intr.h>
#include <kernel/ktime.h>
#include <kernel/log.h>
#include <kernel/loop.h>
#include <kernel/mm.h>

#include "cpu.h"
#include "platform.h"

#define APIC_BASE_ENABLE	(1ULL << 11)
#define APIC_BASE_ADDR		0x000ffffffffff000ULL

#define LAPIC_ID		0x020
#define LAPIC_TPR		0x080
#define LAPIC_EOI		0x0b0
#define LAPIC_SVR		0x0f0
#define LAPIC_LVT_TIMER		0x320
#define LAPIC_TIMER_INIT	0x380
#define LAPIC_TIMER_CUR		0x390
#define LAPIC_TIMER_DIV		0x3e0

#define SVR_ENABLE		(1u << 8)
#define LVT_MASKED		(1u << 16)
#define LVT_ONESHOT		(0u << 17)
#define LVT_TSC_DEADLINE	(2u << 17)
#define TIMER_DIV_1		0xb
#define TIMER_DIV_16		0x3
#define TIMER_DIV_16_SHIFT	4

#define CPUID1_ECX_TSC_DEADLINE	(1u << 24)

/* One-shot calibration window: 1 ms of TSC. */
#define CAL_NS			1000000ULL
/* QEMU's APIC bus runs at 1 GHz; /16 is the fallback if counting fails. */
#define LAPIC_FALLBACK_HZ	62500000ULL
/* lapic_ref_mark(): reads of the count, the tightest bracketed one kept. */
#define MARK_READS		4

static volatile uint32_t *lapic;
static int deadline_mode;
/* One-shot: LAPIC counts = TSC ticks * tsc_mult >> 32. */
static uint64_t tsc_mult;
/* Counts per TSC tick at divide by 1, 32.32, from lapic_ref_stop(); 0 if
 * calibration did not use the LAPIC. */
static uint64_t ref_mult;

static uint32_t lapic_read(uint32_t reg)
{
	return lapic[reg / 4];
}

static void lapic_write(uint32_t reg, uint32_t v)
{
	lapic[reg / 4] = v;
}

void lapic_init(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	if (!(base & APIC_BASE_ENABLE))
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE);
	if (lapic == NULL)			/* lapic_ref_start() may have */
		lapic = mmio_map(base & APIC_BASE_ADDR, 4096);

	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
	lapic_write(LAPIC_TPR, 0);		/* accept every priority */
	lapic_write(LAPIC_SVR, SVR_ENABLE | VEC_SPURIOUS);
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

uint32_t lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

/*
 * The deadline the timer is set for, or 0 when it is not running (never
 * armed, disarmed, or fired).  The loop arms the timer before every halt,
 * mostly for the same deadline (lwIP's next timer); each LAPIC write is
 * an exit to the hypervisor, which then reprograms a host timer, so a
 * deadline already set is not set again.
 */
static uint64_t armed_ns;

static void timer_irq(struct trapframe *tf, void *arg)
{
	(void)tf;
	(void)arg;
	armed_ns = 0;
	loop_timer_irq();
}

/*
 * The LAPIC's current count and the TSC at the moment it was read (the
 * middle of two reads around it), in one straight run of code that is
 * called for both ends of the window: under QEMU TCG, code run for the
 * first time is translated first, and that must not fall between the two.
 */
static __attribute__((noinline)) uint32_t sample(uint64_t *tsc)
{
	uint64_t a, b;
	uint32_t c;

	a = rdtsc();
	c = lapic[LAPIC_TIMER_CUR / 4];
	b = rdtsc();
	*tsc = a + (b - a) / 2;
	return c;
}

/*
 * TSC calibration's use of the timer (platform.h).  Runs with IF=0 before
 * timer_init(), so lapic_init() is done here first (it is idempotent); the
 * LVT stays masked, and the count is stopped again at the end.
 */
void lapic_ref_start(void)
{
	lapic_init();
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | LVT_ONESHOT | VEC_TIMER);
	lapic_write(LAPIC_TIMER_DIV, TIMER_DIV_1);
	lapic_write(LAPIC_TIMER_INIT, UINT32_MAX);
}

/*
 * Read the count MARK_READS times, each between two TSC reads, and keep the
 * read whose TSC reads are closest: the vCPU thread may be preempted, or
 * (under TCG) a block translated, between them.  All in one function that
 * is called for both ends, so both are measured alike.
 */
__attribute__((noinline)) void lapic_ref_mark(struct lapic_mark *m)
{
	uint64_t a, b, best = UINT64_MAX;
	uint32_t c;
	int i;

	for (i = 0; i < MARK_READS; i++) {
		a = rdtsc();
		c = lapic[LAPIC_TIMER_CUR / 4];
		b = rdtsc();
		if (b - a < best) {
			best = b - a;
			m->tsc = a + (b - a) / 2;
			m->count = c;
		}
	}
	m->spread = best > UINT32_MAX ? UINT32_MAX : (uint32_t)best;
}

uint32_t lapic_ref_stop(const struct lapic_mark *first, const struct lapic_mark *last)
{
	uint32_t counts;

	lapic_write(LAPIC_TIMER_INIT, 0);
	if (last->count >= first->count || last->tsc <= first->tsc)
		return 0;
	counts = first->count - last->count;
	/* counts < 2^32, so the shift cannot overflow. */
	ref_mult = ((uint64_t)counts << 32) / (last->tsc - first->tsc);
	return counts;
}

/* LAPIC counts per TSC tick, as a 32.32 fixed-point ratio. */
static uint64_t measure_ratio(void)
{
	uint64_t t0, t1, window = ns_to_tsc(CAL_NS);
	uint32_t c0, c1;

	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | LVT_ONESHOT | VEC_TIMER);
	lapic_write(LAPIC_TIMER_INIT, UINT32_MAX);
	c0 = sample(&t0);
	/* Bounded by the TSC, which always counts. */
	while (rdtsc() - t0 < window)
		pause();
	c1 = sample(&t1);
	lapic_write(LAPIC_TIMER_INIT, 0);

	if (c1 >= c0 || t1 <= t0) {
		log_warn("lapic: timer does not count; assuming %llu Hz",
		    (unsigned long long)LAPIC_FALLBACK_HZ);
		return (LAPIC_FALLBACK_HZ << 32) / tsc_hz();
	}
	return ((uint64_t)(c0 - c1) << 32) / (t1 - t0);
}

void timer_init(void)
{
	uint32_t a, b, c, d;

	if (irq_register(VEC_TIMER, timer_irq, NULL) != 0)
		panic("lapic: timer vector %d is taken", VEC_TIMER);

	cpuid(1, 0, &a, &b, &c, &d);
	deadline_mode = (c & CPUID1_ECX_TSC_DEADLINE) != 0;
	if (deadline_mode) {
		lapic_write(LAPIC_LVT_TIMER, LVT_TSC_DEADLINE | VEC_TIMER);
		/* SDM 11.5.4.1: order the LVT write before any deadline write. */
		__asm__ volatile("mfence" ::: "memory");
		wrmsr(MSR_TSC_DEADLINE, 0);
		log_debug("lapic: timer in tsc-deadline mode");
	} else {
		lapic_write(LAPIC_TIMER_DIV, TIMER_DIV_16);
		/* /16 counts 16 times slower than the /1 that was measured. */
		tsc_mult = ref_mult != 0 ? ref_mult >> TIMER_DIV_16_SHIFT : measure_ratio();
		lapic_write(LAPIC_LVT_TIMER, LVT_ONESHOT | VEC_TIMER);
		log_debug("lapic: timer one-shot, %llu kHz after /16 (%s)",
		    (unsigned long long)((uint64_t)((unsigned __int128)tsc_hz() * tsc_mult >> 32) / 1000),
		    ref_mult != 0 ? "ratio from calibration" : "ratio measured");
	}
}

void timer_arm(uint64_t deadline_ns)
{
	uint64_t target, now;
	unsigned __int128 count;

	if (deadline_ns == 0) {
		if (armed_ns == 0)
			return;
		armed_ns = 0;
		if (deadline_mode)
			wrmsr(MSR_TSC_DEADLINE, 0);
		else
			lapic_write(LAPIC_TIMER_INIT, 0);
		return;
	}

	if (deadline_ns == armed_ns)
		return;
	armed_ns = deadline_ns;
	target = time_origin() + ns_to_tsc(deadline_ns);
	if (deadline_mode) {
		/* A deadline in the past fires at once; 0 would disarm. */
		wrmsr(MSR_TSC_DEADLINE, target != 0 ? target : 1);
		return;
	}

	/* Round up so that the interrupt does not come before the deadline;
	 * a deadline beyond the 32-bit count fires early and the loop
	 * re-arms. */
	now = rdtsc();
	count = target > now ? (((unsigned __int128)(target - now) * tsc_mult) >> 32) + 1 : 1;
	lapic_write(LAPIC_TIMER_INIT, count > UINT32_MAX ? UINT32_MAX : (uint32_t)count);
}

const char *timer_mode(void)
{
	return deadline_mode ? "tsc-deadline" : "one-shot";
}
