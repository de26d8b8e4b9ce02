#include "process.h"
#include "cleanup.h"
#include "json.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

int
process_set_rlimits(const struct spec_process *p, struct mini_err **err)
{
	size_t i;

	for (i = 0; i < p->rlimits_len; i++) {
		struct rlimit rl = { .rlim_cur = p->rlimits[i].soft,
				     .rlim_max = p->rlimits[i].hard };

		if (setrlimit(p->rlimits[i].resource, &rl) < 0)
			return mini_err_set(err, errno, "setrlimit %s (soft %llu, hard %llu)",
					    p->rlimits[i].type, (unsigned long long)rl.rlim_cur,
					    (unsigned long long)rl.rlim_max);
	}
	return 0;
}

/* The passwd entry of uid in the container: name and home, when there is one. */
static void
lookup_passwd(uid_t uid, char **name, char **home)
{
	_cleanup_fclose_ FILE *f = fopen("/etc/passwd", "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;

	*name = *home = NULL;
	if (f == NULL)
		return;
	while (getline(&line, &cap, f) > 0) {
		char *fields[7] = { NULL };
		char *p = line;
		int n = 0;

		line[strcspn(line, "\n")] = '\0';
		/* strsep keeps empty fields, which passwd lines have. */
		while (n < 7 && (fields[n] = strsep(&p, ":")) != NULL)
			n++;
		if (n < 6 || strtoul(fields[2], NULL, 10) != uid || fields[2][0] == '\0')
			continue;
		*name = xstrdup(fields[0]);
		*home = xstrdup(fields[5]);
		return;
	}
}

/* Stdio made outside the container (the shim's pipes, a pty) is handed to the user the process
 * becomes, as runc does: the uid changes, the gid stays (the shim's IoGid, a pty's group), and
 * /dev/null is left alone. An owner or group the user namespace does not map is not an error. */
static int
fix_stdio_owner(uid_t uid, struct mini_err **err)
{
	struct stat null, st;

	if (stat("/dev/null", &null) < 0)
		return mini_err_set(err, errno, "stat /dev/null");
	for (int fd = 0; fd < 3; fd++) {
		if (fstat(fd, &st) < 0)
			return mini_err_set(err, errno, "fstat stdio fd %d", fd);
		if (st.st_uid == uid || st.st_rdev == null.st_rdev)
			continue;
		if (fchown(fd, uid, st.st_gid) < 0 && errno != EINVAL && errno != EPERM)
			return mini_err_set(err, errno, "chown stdio fd %d to uid %u", fd, uid);
	}
	return 0;
}

int
process_set_user(const struct spec_process *p, struct mini_err **err)
{
	size_t n = p->user.additional_gids_len;
	gid_t *groups = (gid_t *)p->user.additional_gids;
	int r = fix_stdio_owner(p->user.uid, err);

	if (r < 0)
		return r;

	/* The config always names a gid, so like runc we add no groups from /etc/group: the
	 * supplementary groups are exactly additionalGids. */
	if (setgroups(n, n ? groups : NULL) < 0 && !(errno == EPERM && n == 0))
		return mini_err_set(err, errno, "setgroups");
	if (setgid(p->user.gid) < 0)
		return mini_err_set(err, errno, "setgid %u", p->user.gid);
	if (setuid(p->user.uid) < 0)
		return mini_err_set(err, errno, "setuid %u", p->user.uid);
	umask(p->user.umask_present ? (mode_t)p->user.umask : 0022);
	return 0;
}

int
process_chdir(const char *cwd, struct mini_err **err)
{
	char buf[PATH_MAX];

	if (chdir(cwd) < 0)
		return mini_err_set(err, errno, "chdir to cwd %s", cwd);
	/* CVE-2024-21626: a cwd outside our root is reported by getcwd as "(unreachable)…". */
	if (getcwd(buf, sizeof(buf)) == NULL || buf[0] != '/')
		return mini_err_set(err, EPERM, "cwd %s is outside the container's root", cwd);
	return 0;
}

static bool
env_has(char *const *env, const char *key)
{
	size_t n = strlen(key);

	for (; env && *env; env++)
		if (strncmp(*env, key, n) == 0 && (*env)[n] == '=')
			return true;
	return false;
}

char **
process_env(const struct spec_process *p)
{
	size_t n = p->env_len, i;
	char **env = xcalloc(n + 2, sizeof(char *));

	for (i = 0; i < n; i++)
		env[i] = xstrdup(p->env[i]);
	if (!env_has(env, "HOME")) {
		_cleanup_free_ char *name = NULL;
		_cleanup_free_ char *home = NULL;

		lookup_passwd(p->user.uid, &name, &home);
		env[n] = xasprintf("HOME=%s", home && home[0] ? home : "/");
	}
	return env;
}

static const char *
env_get(char *const *env, const char *key)
{
	size_t n = strlen(key);

	for (; env && *env; env++)
		if (strncmp(*env, key, n) == 0 && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}

static int
check_exec(const char *path, const char *arg0, struct mini_err **err)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return mini_err_set(err, errno, "exec %s", arg0);
	if (S_ISDIR(st.st_mode))
		return mini_err_set(err, EACCES, "exec %s: is a directory", arg0);
	if (access(path, X_OK) < 0)
		return mini_err_set(err, errno, "exec %s", arg0);
	return 0;
}

int
process_find_executable(const struct spec_process *p, char *const *env, char **out,
			struct mini_err **err)
{
	const char *arg0 = p->args[0];
	_cleanup_free_ char *path_copy = NULL;
	const char *path;
	char *dir, *save = NULL;
	int ret;

	if (strchr(arg0, '/')) {
		ret = check_exec(arg0, arg0, err);
		if (ret < 0)
			return ret;
		*out = xstrdup(arg0);
		return 0;
	}
	path = env_get(env, "PATH");
	path_copy = xstrdup(path ? path : DEFAULT_PATH);
	for (dir = strtok_r(path_copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		_cleanup_free_ char *cand = xasprintf("%s/%s", dir[0] ? dir : ".", arg0);
		struct stat st;

		if (stat(cand, &st) < 0 || S_ISDIR(st.st_mode) || access(cand, X_OK) < 0)
			continue;
		*out = steal_ptr(&cand);
		return 0;
	}
	return mini_err_set(err, ENOENT, "exec: \"%s\": executable file not found in $PATH", arg0);
}

static int
cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

void
process_close_fds_except(unsigned preserve, const int *keep, size_t n_keep)
{
	int sorted[32];
	unsigned from = 3 + preserve;
	size_t i, n = 0;

	for (i = 0; i < n_keep && n < 32; i++)
		if (keep[i] >= (int)from)
			sorted[n++] = keep[i];
	qsort(sorted, n, sizeof(int), cmp_int);
	for (i = 0; i < n; i++) {
		if ((unsigned)sorted[i] > from)
			close_range(from, (unsigned)sorted[i] - 1, 0);
		from = (unsigned)sorted[i] + 1;
	}
	close_range(from, ~0U, 0);
}

int
process_prepare_fds(unsigned preserve, struct mini_err **err)
{
	unsigned fd;

	if (close_range(3 + preserve, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		return mini_err_set(err, errno, "mark fds close-on-exec");
	for (fd = 3; fd < 3 + preserve; fd++) {
		int flags = fcntl((int)fd, F_GETFD);

		if (flags >= 0 && fcntl((int)fd, F_SETFD, flags & ~FD_CLOEXEC) < 0)
			return mini_err_set(err, errno, "make fd %u inheritable", fd);
	}
	return 0;
}

int
process_exec(const struct spec_process *p, const char *path, char *const *env,
	     struct mini_err **err)
{
	sigset_t none;
	int sig;

	/* no_new_privs was set by security_apply: after the seccomp filter, prctl may be
	 * denied. The user process starts with default dispositions, whatever minirun set. */
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(path, p->args, env);
	return mini_err_set(err, errno, "exec %s", p->args[0]);
}
