#include "loop.h"
#include "cleanup.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

/* Another process may take the free device between LOOP_CTL_GET_FREE and LOOP_SET_FD (EBUSY):
 * ask again, backing off a little, as losetup and containerd do. */
#define LOOP_TRIES 100

static int
free_loop_number(struct mini_err **err)
{
	_cleanup_close_ int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	int n;

	if (ctl < 0)
		return mini_err_set(err, errno, "open /dev/loop-control");
	n = ioctl(ctl, LOOP_CTL_GET_FREE);
	if (n < 0)
		return mini_err_set(err, errno, "get a free loop device");
	return n;
}

/* 0 and an fd of dev bound to file, or -EBUSY (lost a race for dev) or another -errno. */
static int
bind_file(const char *file, const char *dev, bool readonly, int *out, struct mini_err **err)
{
	int flags = (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	_cleanup_close_ int back = open(file, flags), loop = -1;
	struct loop_info64 info = { .lo_flags = LO_FLAGS_AUTOCLEAR };

	if (back < 0)
		return mini_err_set(err, errno, "open loop backing file %s", file);
	loop = open(dev, flags);
	if (loop < 0)
		return mini_err_set(err, errno, "open loop device %s", dev);
	if (ioctl(loop, LOOP_SET_FD, back) < 0)
		return mini_err_set(err, errno, "attach %s to %s", file, dev);
	if (readonly)
		info.lo_flags |= LO_FLAGS_READ_ONLY;
	strncpy((char *)info.lo_file_name, file, sizeof(info.lo_file_name) - 1);
	if (ioctl(loop, LOOP_SET_STATUS64, &info) < 0) {
		int e = errno;

		ioctl(loop, LOOP_CLR_FD, 0);
		return mini_err_set(err, e, "set up loop device %s for %s", dev, file);
	}
	*out = steal_fd(&loop);
	return 0;
}

int
loop_attach(const char *file, bool readonly, char **dev, struct mini_err **err)
{
	for (int try = 1; try <= LOOP_TRIES; try++) {
		const struct timespec pause = { 0, try * 1000L * 1000L };
		struct mini_err *e = NULL;
		int n = free_loop_number(err), fd = -1, rc;
		char *path;

		if (n < 0)
			return n;
		path = xasprintf("/dev/loop%d", n);
		rc = bind_file(file, path, readonly, &fd, &e);
		if (rc == 0) {
			*dev = path;
			return fd;
		}
		free(path);
		if (rc != -EBUSY || try == LOOP_TRIES) {
			*err = e;
			return rc;
		}
		mini_err_free(e);
		nanosleep(&pause, NULL);
	}
	return -EBUSY; /* not reached */
}
