#include "pidutil.h"
#include "cleanup.h"
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
pid_start_time(pid_t pid, unsigned long long *start, char *state, struct mini_err **err)
{
	char path[64], buf[1024], *p;
	_cleanup_close_ int fd = -1;
	unsigned long long st = 0;
	ssize_t n;
	int field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mini_err_set(err, errno == ENOENT ? ESRCH : errno, "open %s", path);
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return mini_err_set(err, errno == ENOENT ? ESRCH : errno, "read %s", path);
	buf[n] = '\0';
	/* comm may contain spaces and parentheses: fields restart after the last ')'. */
	p = strrchr(buf, ')');
	if (p == NULL || p[1] != ' ')
		return mini_err_set(err, EINVAL, "parse %s", path);
	p += 2;
	if (state)
		*state = *p;
	/* p is at field 3 (state); the start time is field 22. */
	for (field = 3; field < 22 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (p == NULL || sscanf(p, "%llu", &st) != 1)
		return mini_err_set(err, EINVAL, "parse %s", path);
	*start = st;
	return 0;
}

bool
pid_is_alive(pid_t pid, unsigned long long start)
{
	unsigned long long st = 0;
	char state = 0;

	if (pid <= 0)
		return false;
	if (pid_start_time(pid, &st, &state, NULL) < 0)
		return false;
	if (state == 'Z' || state == 'X')
		return false;
	return start == 0 || st == start;
}

int
pid_file_write(const char *path, pid_t pid, struct mini_err **err)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d", (int)pid);

	return write_file_atomic(path, buf, (size_t)n, 0644, err);
}

int
pid_file_read(const char *path, pid_t *pid, struct mini_err **err)
{
	_cleanup_free_ char *text = NULL;
	char *end = NULL;
	long v;
	int ret;

	ret = read_file(path, &text, NULL, err);
	if (ret < 0)
		return ret;
	errno = 0;
	v = strtol(text, &end, 10);
	while (end && (*end == '\n' || *end == ' '))
		end++;
	if (errno || end == text || *end != '\0' || v <= 0)
		return mini_err_set(err, EINVAL, "parse pid file %s", path);
	*pid = (pid_t)v;
	return 0;
}
