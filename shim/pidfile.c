#include "pidfile.h"
#include "cleanup.h"
#include "fs.h"

#include <errno.h>
#include <stdlib.h>

int
pid_file_read(const char *path, pid_t *pid, struct mini_err **err)
{
	_cleanup_free_ char *text = NULL;
	char *end = NULL;
	long v;

	if (read_file(path, &text, NULL, err) < 0)
		return -1;
	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || v <= 0 || v > 4194304 || (*end && *end != '\n'))
		return mini_err_set(err, EINVAL, "pid file %s: not a pid: %.20s", path, text);
	*pid = (pid_t)v;
	return 0;
}
