#include "run_capture.h"
#include "cleanup.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long
elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* Reads what the pipe holds now: kept up to max, dropped beyond (so the writer never stalls). */
static void
take_output(int fd, char *buf, size_t max, size_t *len)
{
	char sink[4096];
	ssize_t n;

	for (;;) {
		if (*len < max)
			n = read(fd, buf + *len, max - *len);
		else
			n = read(fd, sink, sizeof(sink));
		if (n <= 0)
			return;
		if (*len < max)
			*len += (size_t)n;
	}
}

static pid_t
start(const struct spawn_opts *o, char *const *argv, int wr, struct mini_err **err)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, wr, 1);
	if (o->merge_stderr)
		posix_spawn_file_actions_adddup2(&fa, wr, 2);
	else
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	rc = o->path ? posix_spawn(&pid, o->path, &fa, NULL, argv, environ)
		     : posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return mini_err_set(err, rc, "run %s", o->path ? o->path : argv[0]);
	return pid;
}

int
spawn_capture(const struct spawn_opts *o, char *const *argv, char **out, size_t *len, int *status,
	      struct mini_err **err)
{
	_cleanup_close_ int rd = -1, wr = -1;
	_cleanup_free_ char *buf = xmalloc(o->max_output + 1);
	struct timespec t0;
	int p[2];
	pid_t pid;

	*len = 0;
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return mini_err_set(err, errno, "pipe for %s", argv[0]);
	rd = p[0];
	wr = p[1];
	pid = start(o, argv, wr, err);
	if (pid < 0)
		return (int)pid;
	close(steal_fd(&wr));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd pfd = { .fd = rd, .events = POLLIN };
		pid_t w = waitpid(pid, status, WNOHANG);

		take_output(rd, buf, o->max_output, len);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return mini_err_set(err, errno, "wait for %s", argv[0]);
		if (o->timeout_ms && elapsed_ms(&t0) > (long)o->timeout_ms) {
			kill(pid, SIGKILL);
			while (waitpid(pid, status, 0) < 0 && errno == EINTR)
				;
			return mini_err_set(err, ETIMEDOUT, "%s did not finish in %u ms", argv[0],
					    o->timeout_ms);
		}
		poll(&pfd, 1, 20);
	}
	buf[*len] = '\0';
	*out = steal_ptr(&buf);
	return 0;
}
