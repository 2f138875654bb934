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

#include <kernel/console.h>
#include <kernel/exit.h>
#include <kernel/ktime.h>

/* newlib calls these by their underscored names; declare them here. */
int	_write(int fd, const void *buf, size_t len);
int	_read(int fd, void *buf, size_t len);
int	_close(int fd);
int	_fstat(int fd, struct stat *st);
int	_isatty(int fd);
off_t	_lseek(int fd, off_t off, int whence);
void	_exit(int status);
int	_kill(int pid, int sig);
int	_getpid(void);
int	_open(const char *path, int flags, ...);
int	_gettimeofday(struct timeval *tv, void *tz);
clock_t	_times(struct tms *t);
int	_unlink(const char *path);
int	_link(const char *old, const char *new);
int	_stat(const char *path, struct stat *st);
int	_fork(void);
int	_execve(const char *path, char *const argv[], char *const envp[]);
int	_wait(int *status);
void	_init(void);
void	_fini(void);

static int
is_console(int fd)
{
	return fd >= 0 && fd <= 2;
}

int
_write(int fd, const void *buf, size_t len)
{
	if (fd != 1 && fd != 2) {
		errno = EBADF;
		return -1;
	}
	console_write(buf, len);
	return (int)len;
}

int
_read(int fd, void *buf, size_t len)
{
	if (fd != 0) {
		errno = EBADF;
		return -1;
	}
	/* Never blocks: what has arrived, or 0 (end of input) if nothing has. */
	return (int)console_read(buf, len);
}

int
_close(int fd)
{
	if (is_console(fd))
		return 0;
	errno = EBADF;
	return -1;
}

int
_fstat(int fd, struct stat *st)
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
_isatty(int fd)
{
	if (is_console(fd))
		return 1;
	errno = EBADF;
	return 0;
}

off_t
_lseek(int fd, off_t off, int whence)
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

int
_getpid(void)
{
	return 1;
}

int
_kill(int pid, int sig)
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
_gettimeofday(struct timeval *tv, void *tz)
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
_times(struct tms *t)
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
_open(const char *path, int flags, ...)
{
	(void)path;
	(void)flags;
	errno = ENOSYS;
	return -1;
}

int
_unlink(const char *path)
{
	(void)path;
	errno = ENOSYS;
	return -1;
}

int
_link(const char *old, const char *new)
{
	(void)old;
	(void)new;
	errno = ENOSYS;
	return -1;
}

int
_stat(const char *path, struct stat *st)
{
	(void)path;
	(void)st;
	errno = ENOSYS;
	return -1;
}

int
_fork(void)
{
	errno = ENOSYS;
	return -1;
}

int
_execve(const char *path, char *const argv[], char *const envp[])
{
	(void)path;
	(void)argv;
	(void)envp;
	errno = ENOSYS;
	return -1;
}

int
_wait(int *status)
{
	(void)status;
	errno = ENOSYS;
	return -1;
}

/* newlib's __libc_init_array/__libc_fini_array call these; .init_array
 * does the work. */
void _init(void) {}
void _fini(void) {}
