#include "mount_helper.h"
#include "cleanup.h"
#include "strv.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FUSE_SUPER_MAGIC 0x65735546
#define HELPER_OUTPUT_MAX 4096
#define HELPER_TIMEOUT_MS (60 * 1000)

extern char **environ;

const char *
mount_helper_for(const char *type, const char **subtype)
{
	if (strncmp(type, "fuse3.", 6) == 0) {
		*subtype = type + 6;
		return "mount.fuse3";
	}
	if (strncmp(type, "fuse.", 5) == 0) {
		*subtype = type + 5;
		return "mount.fuse";
	}
	return NULL;
}

static long
elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* Runs argv (PATH lookup) with stdout and stderr into a pipe, waits for it, and keeps the first
 * HELPER_OUTPUT_MAX bytes it printed. Not until EOF: a FUSE helper leaves a daemon behind that
 * may hold the pipe. The daemon never calls waitpid() elsewhere while a Create or Delete runs
 * (one thread), so waiting for this one pid takes nothing from the reaper. */
static int
run_helper(char *const *argv, char *out, int *status, struct mini_err **err)
{
	_cleanup_close_ int rd = -1, wr = -1;
	posix_spawn_file_actions_t fa;
	struct timespec start;
	size_t len = 0;
	pid_t pid;
	int p[2], rc;

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return mini_err_set(err, errno, "pipe for %s", argv[0]);
	rd = p[0];
	wr = p[1];
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, wr, 1);
	posix_spawn_file_actions_adddup2(&fa, wr, 2);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return mini_err_set(err, rc, "run %s", argv[0]);
	close(steal_fd(&wr));
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd pfd = { .fd = rd, .events = POLLIN };
		pid_t w = waitpid(pid, status, WNOHANG);
		ssize_t n;

		while (len < HELPER_OUTPUT_MAX &&
		       (n = read(rd, out + len, HELPER_OUTPUT_MAX - len)) > 0)
			len += (size_t)n;
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return mini_err_set(err, errno, "wait for %s", argv[0]);
		if (elapsed_ms(&start) > HELPER_TIMEOUT_MS) {
			kill(pid, SIGKILL);
			while (waitpid(pid, status, 0) < 0 && errno == EINTR)
				;
			out[len] = '\0';
			return mini_err_set(err, ETIMEDOUT, "%s did not finish in %d s", argv[0],
					    HELPER_TIMEOUT_MS / 1000);
		}
		poll(&pfd, 1, 20);
	}
	out[len] = '\0';
	return 0;
}

static char *
join_argv(char *const *argv)
{
	size_t cap = 1, len = 0;
	char *s;

	for (size_t i = 0; argv[i]; i++)
		cap += strlen(argv[i]) + 1;
	s = xmalloc(cap);
	s[0] = '\0';
	for (size_t i = 0; argv[i]; i++)
		len += (size_t)sprintf(s + len, "%s%s", i ? " " : "", argv[i]);
	return s;
}

int
mount_with_helper(const char *helper, const char *subtype, const char *source, const char *target,
		  char *const *options, size_t n_options, struct mini_err **err)
{
	_cleanup_(strv_freep) struct strv argv = { 0 };
	_cleanup_free_ char *cmd = NULL;
	char out[HELPER_OUTPUT_MAX + 1];
	int status = 0, rc;

	strv_push(&argv, helper);
	strv_push(&argv, source);
	strv_push(&argv, target);
	for (size_t i = 0; i < n_options; i++) {
		strv_push(&argv, "-o");
		strv_push(&argv, options[i]);
	}
	strv_push(&argv, "-t");
	strv_push(&argv, subtype);
	rc = run_helper(argv.v, out, &status, err);
	if (rc < 0)
		return rc;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	cmd = join_argv(argv.v);
	out[strcspn(out, "\n")] = '\0'; /* its first line says what went wrong */
	return mini_err_set(err, EIO, "mount helper [%s] failed (%s %d): %s", cmd,
			    WIFEXITED(status) ? "exit" : "signal",
			    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), out);
}

bool
mount_is_fuse(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == FUSE_SUPER_MAGIC;
}

int
unmount_fuse(const char *path, struct mini_err **err)
{
	static const char *const helpers[] = { "fusermount3", "fusermount" };
	char out[HELPER_OUTPUT_MAX + 1];

	for (size_t i = 0; i < sizeof(helpers) / sizeof(*helpers); i++) {
		char *argv[] = { (char *)helpers[i], "-u", (char *)path, NULL };
		struct mini_err *e = NULL;
		int status = 0;

		if (run_helper(argv, out, &status, &e) == 0 && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0)
			return 0;
		mini_err_free(e);
	}
	return mini_err_set(err, EIO, "fusermount3/fusermount -u %s failed", path);
}
