/*
 * newlib's system calls.  The console is stdin/stdout/stderr; there are no
 * files, processes or signals, and those calls fail with ENOSYS (or EBADF
 * for a descriptor that cannot exist).  Time comes from the TSC, the wall
 * clock from the RTC read once, on first use.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>

#include <kernel/console.h>
#include <kernel/exit.h>
#include <kernel/ktime.h>

/*
 * Our newlib is configured for x86_64-elf, which sets MISSING_SYSCALL_NAMES:
 * it calls these by their POSIX names (write, sbrk, ...), declared in the
 * headers above, not the underscored ones other ports use.
 */
int	open(const char *path, int flags, ...);
int	wait(int *status);
void	_init(void);
void	_fini(void);

static int
is_console(int fd)
{
	return fd >= 0 && fd <= 2;
}

_READ_WRITE_RETURN_TYPE
write(int fd, const void *buf, size_t len)
{
	if (fd != 1 && fd != 2) {
		errno = EBADF;
		return -1;
	}
	console_write(buf, len);
	return (_READ_WRITE_RETURN_TYPE)len;
}

_READ_WRITE_RETURN_TYPE
read(int fd, void *buf, size_t len)
{
	if (fd != 0) {
		errno = EBADF;
		return -1;
	}
	/* Never blocks: what has arrived, or 0 (end of input) if nothing has. */
	return (_READ_WRITE_RETURN_TYPE)console_read(buf, len);
}

int
close(int fd)
{
	if (is_console(fd))
		return 0;
	errno = EBADF;
	return -1;
}

int
fstat(int fd, struct stat *st)
{
	if (!is_console(fd)) {
		errno = EBADF;
		return -1;
	}
	st->st_mode = S_IFCHR;
	st->st_blksize = 0;
	return 0;
}

int
isatty(int fd)
{
	if (is_console(fd))
		return 1;
	errno = EBADF;
	return 0;
}

off_t
lseek(int fd, off_t off, int whence)
{
	(void)off;
	(void)whence;
	errno = is_console(fd) ? ESPIPE : EBADF;
	return -1;
}

void
_exit(int status)
{
	machine_exit(status);
}

pid_t
getpid(void)
{
	return 1;
}

int
kill(pid_t pid, int sig)
{
	/* raise() and abort() end here: stop the VM like an uncaught signal. */
	if (pid == 1)
		machine_exit(128 + sig > 126 ? 126 : 128 + sig);
	errno = ESRCH;
	return -1;
}

/* ---- time --------------------------------------------------------------- */

uint64_t rtc_epoch_seconds(void);

static uint64_t
realtime_ns(void)
{
	static uint64_t offset;	/* epoch ns at now_ns() == 0 */
	static int known;

	if (!known) {
		uint64_t t = now_ns();

		offset = rtc_epoch_seconds() * 1000000000ULL - t;
		known = 1;
	}
	return offset + now_ns();
}

int
gettimeofday(struct timeval *tv, void *tz)
{
	uint64_t ns = realtime_ns();

	(void)tz;
	if (tv != NULL) {
		tv->tv_sec = ns / 1000000000ULL;
		tv->tv_usec = ns / 1000 % 1000000;
	}
	return 0;
}

int
clock_gettime(clockid_t id, struct timespec *ts)
{
	uint64_t ns;

	switch (id) {
	case CLOCK_MONOTONIC:
		ns = now_ns();
		break;
	case CLOCK_REALTIME:
		ns = realtime_ns();
		break;
	default:
		errno = EINVAL;
		return -1;
	}
	ts->tv_sec = ns / 1000000000ULL;
	ts->tv_nsec = ns % 1000000000ULL;
	return 0;
}

int
clock_getres(clockid_t id, struct timespec *res)
{
	if (id != CLOCK_MONOTONIC && id != CLOCK_REALTIME) {
		errno = EINVAL;
		return -1;
	}
	if (res != NULL) {
		res->tv_sec = 0;
		res->tv_nsec = 1;
	}
	return 0;
}

clock_t
times(struct tms *t)
{
	clock_t ticks = now_ns() / (1000000000ULL / CLOCKS_PER_SEC);

	if (t != NULL) {
		t->tms_utime = ticks;
		t->tms_stime = 0;
		t->tms_cutime = 0;
		t->tms_cstime = 0;
	}
	return ticks;
}

/* ---- what a unikernel does not have ------------------------------------- */

int
open(const char *path, int flags, ...)
{
	(void)path;
	(void)flags;
	errno = ENOSYS;
	return -1;
}

int
unlink(const char *path)
{
	(void)path;
	errno = ENOSYS;
	return -1;
}

int
link(const char *old, const char *new)
{
	(void)old;
	(void)new;
	errno = ENOSYS;
	return -1;
}

int
stat(const char *path, struct stat *st)
{
	(void)path;
	(void)st;
	errno = ENOSYS;
	return -1;
}

pid_t
fork(void)
{
	errno = ENOSYS;
	return -1;
}

int
execve(const char *path, char *const argv[], char *const envp[])
{
	(void)path;
	(void)argv;
	(void)envp;
	errno = ENOSYS;
	return -1;
}

int
wait(int *status)
{
	(void)status;
	errno = ENOSYS;
	return -1;
}

/* newlib's __libc_init_array/__libc_fini_array call these; .init_array
 * does the work. */
void _init(void) {}
void _fini(void) {}
