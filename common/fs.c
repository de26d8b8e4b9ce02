#include "fs.h"
#include "cleanup.h"
#include "fd.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *
path_join(const char *a, const char *b)
{
	size_t la = strlen(a);

	while (*b == '/')
		b++;
	if (la > 0 && a[la - 1] == '/')
		return xasprintf("%s%s", a, b);
	return xasprintf("%s/%s", a, b);
}

int
mkdir_p(const char *path, mode_t mode, struct mini_err **err)
{
	_cleanup_free_ char *p = xstrdup(path);
	char *s;

	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return mini_err_set(err, errno, "mkdir %s", p);
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return mini_err_set(err, errno, "mkdir %s", p);
	return 0;
}

int
read_file(const char *path, char **out, size_t *len, struct mini_err **err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	size_t cap = 4096, used = 0;

	if (fd < 0)
		return mini_err_set(err, errno, "open %s", path);
	buf = xmalloc(cap);
	for (;;) {
		ssize_t n;

		if (used + 1 >= cap) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		n = read(fd, buf + used, cap - used - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return mini_err_set(err, errno, "read %s", path);
		if (n == 0)
			break;
		used += (size_t)n;
	}
	buf[used] = '\0';
	if (len)
		*len = used;
	*out = steal_ptr(&buf);
	return 0;
}

int
write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
		  struct mini_err **err)
{
	_cleanup_free_ char *dup = xstrdup(path);
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	const char *base;

	base = basename(dup);
	{
		_cleanup_free_ char *dir_copy = xstrdup(path);
		tmp = xasprintf("%s/.%s.%d.tmp", dirname(dir_copy), base, (int)getpid());
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return mini_err_set(err, errno, "create %s", tmp);
	if (write_all(fd, data, len, err) < 0) {
		unlink(tmp);
		return mini_err_wrap(err, "write %s", tmp);
	}
	if (fchmod(fd, mode) < 0 || close(steal_fd(&fd)) < 0) {
		int saved = errno;
		unlink(tmp);
		return mini_err_set(err, saved, "finish %s", tmp);
	}
	if (rename(tmp, path) < 0) {
		int saved = errno;
		unlink(tmp);
		return mini_err_set(err, saved, "rename %s to %s", tmp, path);
	}
	return 0;
}
