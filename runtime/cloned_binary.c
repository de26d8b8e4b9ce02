/* CVE-2019-5736: a process in the container could open /proc/<pid>/exe of a runtime process that
 * joined it and overwrite the runtime binary on the host. We re-execute from a sealed memfd copy
 * before doing anything for a container (crun's and runc's answer): the container can only
 * reach the copy, and the seals make it immutable. */
#include "cleanup.h"
#include "minirt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

#define CLONED_ENV "_MINIRUN_CLONED"
#define REQUIRED_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

extern char **environ;

static bool
running_sealed(void)
{
	_cleanup_close_ int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	int seals;

	if (self < 0)
		return false;
	seals = fcntl(self, F_GET_SEALS);
	return seals >= 0 && (seals & REQUIRED_SEALS) == REQUIRED_SEALS;
}

int
minirt_ensure_cloned_binary(char **argv, struct mini_err **err)
{
	_cleanup_close_ int self = -1, memfd = -1;
	struct stat st;
	off_t off = 0;

	if (running_sealed()) {
		unsetenv(CLONED_ENV);
		return 0;
	}
	/* We were re-executed and still are not sealed: do not loop. */
	if (getenv(CLONED_ENV))
		return mini_err_set(err, EPERM, "re-executed from a memfd but it is not sealed");
	self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return mini_err_set(err, errno, "open /proc/self/exe");
	if (fstat(self, &st) < 0)
		return mini_err_set(err, errno, "stat /proc/self/exe");
	/* MFD_EXEC: kernels with vm.memfd_noexec refuse to exec a memfd made without it. */
	memfd = memfd_create("minirun", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (memfd < 0 && errno == EINVAL)
		memfd = memfd_create("minirun", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (memfd < 0)
		return mini_err_set(err, errno, "memfd_create");
	while (off < st.st_size) {
		ssize_t n = sendfile(memfd, self, NULL, (size_t)(st.st_size - off));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return mini_err_set(err, n < 0 ? errno : EIO, "copy /proc/self/exe");
		off += n;
	}
	if (fcntl(memfd, F_ADD_SEALS, REQUIRED_SEALS) < 0)
		return mini_err_set(err, errno, "seal the binary copy");
	if (setenv(CLONED_ENV, "1", 1) < 0)
		return mini_err_set(err, errno, "setenv");
	fexecve(memfd, argv, environ);
	unsetenv(CLONED_ENV);
	return mini_err_set(err, errno, "re-execute from the sealed copy");
}
