#include "hooks.h"
#include "cleanup.h"
#include "fd.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define HOOK_OUTPUT_MAX 4096

static void __attribute__((noreturn)) hook_child(const struct spec_hook *h, int in, int out)
{
	char *const fallback[] = { h->path, NULL };
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(127);
	execve(h->path, h->args ? h->args : fallback, h->env ? h->env : environ);
	dprintf(2, "exec %s: %s", h->path, strerror(errno));
	_exit(127);
}

/* Writes the state without dying of SIGPIPE when the hook does not read its stdin. */
static void
feed_state(int fd, const char *json)
{
	sigset_t pipe_set, old;
	struct timespec zero = { 0, 0 };

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipe_set, &old);
	write_all(fd, json, strlen(json), NULL);
	sigtimedwait(&pipe_set, NULL, &zero);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int
run_one(const struct spec_hook *h, const char *kind, size_t idx, const char *state_json,
	struct mini_err **err)
{
	_cleanup_close_ int in_r = -1, in_w = -1, out_r = -1, out_w = -1, pidfd = -1;
	char out[HOOK_OUTPUT_MAX + 1];
	size_t used = 0;
	long long deadline = h->timeout > 0 ? now_ms() + h->timeout * 1000LL : 0;
	bool out_open = true, exited = false;
	int pfd[2], status = 0;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return mini_err_set(err, errno, "pipe");
	in_r = pfd[0];
	in_w = pfd[1];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return mini_err_set(err, errno, "pipe");
	out_r = pfd[0];
	out_w = pfd[1];
	pid = fork();
	if (pid < 0)
		return mini_err_set(err, errno, "fork %s hook", kind);
	if (pid == 0)
		hook_child(h, in_r, out_w);
	close(steal_fd(&in_r));
	close(steal_fd(&out_w));
	pidfd = pidfd_open(pid, 0);
	feed_state(in_w, state_json);
	close(steal_fd(&in_w));
	while (!exited) {
		struct pollfd p[2] = { { .fd = out_open ? out_r : -1, .events = POLLIN },
				       { .fd = pidfd, .events = POLLIN } };
		int timeout = -1, n;

		if (deadline) {
			long long left = deadline - now_ms();
			timeout = left > 0 ? (int)left : 0;
		}
		n = poll(p, 2, timeout);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return mini_err_set(err, ETIMEDOUT, "%s hook #%zu %s: timed out after %d s",
					    kind, idx, h->path, h->timeout);
		}
		if (p[0].revents) {
			char buf[1024];
			ssize_t r = read(out_r, buf, sizeof(buf));

			if (r <= 0) {
				out_open = false;
			} else if (used < HOOK_OUTPUT_MAX) {
				size_t take = (size_t)r < HOOK_OUTPUT_MAX - used
						      ? (size_t)r
						      : HOOK_OUTPUT_MAX - used;
				memcpy(out + used, buf, take);
				used += take;
			}
		}
		/* Without a pidfd, wait for EOF on the output, then reap. */
		if ((pidfd >= 0 && p[1].revents) || (pidfd < 0 && !out_open))
			exited = true;
	}
	if (waitpid(pid, &status, 0) < 0)
		return mini_err_set(err, errno, "wait for %s hook %s", kind, h->path);
	out[used] = '\0';
	while (used > 0 && (out[used - 1] == '\n' || out[used - 1] == '\r'))
		out[--used] = '\0';
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		return mini_err_set(err, 0, "%s hook #%zu %s: killed by signal %d%s%s", kind, idx,
				    h->path, WTERMSIG(status), used ? ": " : "", out);
	return mini_err_set(err, 0, "%s hook #%zu %s: exit status %d%s%s", kind, idx, h->path,
			    WEXITSTATUS(status), used ? ": " : "", out);
}

int
hooks_run(const struct minirt_spec *s, enum spec_hook_kind k, const char *state_json,
	  struct mini_err **err)
{
	size_t i;
	int ret;

	for (i = 0; i < s->hooks_len[k]; i++) {
		ret = run_one(&s->hooks[k][i], spec_hook_name(k), i, state_json, err);
		if (ret < 0)
			return ret;
	}
	return 0;
}
