/* Cleanup attributes: every local that owns something is declared with one, so every early
 * return releases it. Hand ownership over with steal_ptr()/steal_fd(). */
#ifndef MINI_CLEANUP_H
#define MINI_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(fn) __attribute__((cleanup(fn)))

static inline void
freep(void *p)
{
	free(*(void **)p);
}

static inline void
closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

static inline void
fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

static inline void
closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_closedir_ _cleanup_(closedirp)
#define _cleanup_err_ _cleanup_(mini_err_freep)

/* Returns *pp and leaves NULL behind, so the cleanup attribute no longer frees it. */
#define steal_ptr(pp)                         \
	({                                    \
		__typeof__(*(pp)) _p = *(pp); \
		*(pp) = NULL;                 \
		_p;                           \
	})

static inline int
steal_fd(int *fd)
{
	int r = *fd;
	*fd = -1;
	return r;
}

#endif
