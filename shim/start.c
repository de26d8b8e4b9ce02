/* The `start` action: containerd runs it (cwd = bundle) and reads one line from it, the address
 * of a listening socket. It binds the socket, re-executes this binary as the daemon with the
 * socket on fd 3, and prints the address. Nothing else may reach stdout or stderr on success:
 * containerd parses the combined output. */
#include "cgroup.h"
#include "cleanup.h"
#include "fd.h"
#include "fs.h"
#include "json.h"
#include "options.h"
#include "pidutil.h"
#include "sha256.h"
#include "shim.h"
#include "strv.h"
#include "xalloc.h"

#include "google/protobuf/any.pb-c.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define SOCKET_DIR "/run/containerd/s"
#define STDIN_MAX (1u << 20)

/* Go's path.Clean for absolute or relative slash paths: collapse "//", drop ".", resolve "..". */
static char *
path_clean(const char *in)
{
	size_t n = strlen(in);
	char *out = xmalloc(n + 2), *w = out;
	bool abs = in[0] == '/';

	if (abs)
		*w++ = '/';
	for (const char *p = in; *p;) {
		const char *e;
		size_t len;

		while (*p == '/')
			p++;
		e = strchrnul(p, '/');
		len = (size_t)(e - p);
		if (len == 0 || (len == 1 && p[0] == '.')) {
			/* skip */
		} else if (len == 2 && p[0] == '.' && p[1] == '.') {
			char *slash;

			if (w > out + abs) {
				*w = '\0';
				slash = strrchr(out + abs, '/');
				w = slash ? slash : out + abs;
			} else if (!abs) {
				if (w > out)
					*w++ = '/';
				memcpy(w, "..", 2), w += 2;
			}
		} else {
			if (w > out + abs)
				*w++ = '/';
			memcpy(w, p, len);
			w += len;
		}
		p = e;
	}
	if (w == out)
		*w++ = '.';
	*w = '\0';
	return out;
}

char *
shim_socket_path(const char *address, const char *ns, const char *group)
{
	_cleanup_free_ char *joined = xasprintf("%s/%s/%s", address, ns, group);
	_cleanup_free_ char *clean = path_clean(joined);
	char hex[65];

	sha256_hex(clean, strlen(clean), hex);
	return xasprintf("%s/%s", SOCKET_DIR, hex);
}

/* The grouping id: containers annotated alike share one shim (the runc shim's grouping keys,
 * with our own group annotation instead of runc's). */
static char *
group_id(const char *id)
{
	static const char *const keys[] = { "io.containerd.mini.v2.group",
					    "io.kubernetes.cri.sandbox-id" };
	_cleanup_free_ char *text = NULL;
	_cleanup_(yajl_tree_freep) yajl_val v = NULL;
	yajl_val ann;

	if (read_file("config.json", &text, NULL, NULL) < 0 ||
	    json_parse(text, "config.json", &v, NULL) < 0)
		return xstrdup(id);
	ann = json_get(v, "annotations");
	for (size_t i = 0; i < 2; i++) {
		yajl_val g = json_get(ann, keys[i]);

		if (YAJL_IS_STRING(g) && *g->u.string)
			return xstrdup(g->u.string);
	}
	return xstrdup(id);
}

static int
connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	return fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : -1;
}

/* Binds path. Returns the fd, 0 when another shim already serves it (grouping), or -1. */
static int
bind_socket(const char *path, struct mini_err **err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;

	if (strlen(path) >= sizeof(sa.sun_path))
		return mini_err_set(err, ENAMETOOLONG, "socket path %s", path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (mkdir_p(SOCKET_DIR, 0700, err) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return mini_err_set(err, errno, "create socket");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno != EADDRINUSE)
			return mini_err_set(err, errno, "bind %s", path);
		if (connect_to(path) == 0)
			return 0;
		/* Stale: its shim is gone. */
		unlink(path);
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			return mini_err_set(err, errno, "bind %s", path);
	}
	if (listen(fd, SOMAXCONN) < 0)
		return mini_err_set(err, errno, "listen on %s", path);
	if (chmod(path, 0600) < 0)
		return mini_err_set(err, errno, "chmod %s", path);
	return steal_fd(&fd);
}

/* The runtime options containerd writes on stdin (a protobuf Any), if any. containerd 2.3+
 * writes a BootstrapParams instead, whose field 1 is the container id: not options. */
static void
read_stdin_options(const char *id, struct shim_opts *o)
{
	_cleanup_free_ uint8_t *buf = xmalloc(STDIN_MAX);
	Google__Protobuf__Any *any;
	size_t n = 0;

	memset(o, 0, sizeof(*o));
	if (read_all(0, buf, STDIN_MAX, &n, NULL) < 0 || n == 0)
		return;
	any = google__protobuf__any__unpack(NULL, n, buf);
	if (any == NULL)
		return;
	if (strcmp(any->type_url, id) != 0)
		shim_opts_decode(any->type_url, any->value.data, any->value.len, o, NULL);
	google__protobuf__any__free_unpacked(any, NULL);
}

static void
daemon_exec(const struct shim_args *a, int fd, const char *path)
{
	struct strv argv = { 0 };
	int null_fd = open("/dev/null", O_RDWR);

	setsid();
	/* containerd waits for EOF on our stdout and stderr: the daemon must not hold them. */
	dup2(null_fd, 0);
	dup2(null_fd, 1);
	dup2(null_fd, 2);
	if (fd != 3)
		dup2(fd, 3); /* clears close-on-exec */
	else
		fcntl(3, F_SETFD, 0);
	syscall(SYS_close_range, 4U, ~0U, 0U);
	strv_push(&argv, a->argv0);
	strv_push(&argv, "-namespace");
	strv_push(&argv, a->ns);
	strv_push(&argv, "-id");
	strv_push(&argv, a->id);
	strv_push(&argv, "-address");
	strv_push(&argv, a->address ? a->address : "");
	strv_push(&argv, "-socket");
	strv_push(&argv, path);
	if (a->debug)
		strv_push(&argv, "-debug");
	execv("/proc/self/exe", argv.v);
	_exit(127);
}

/* The shim is more expendable than containerd: one point more likely to be OOM-killed. */
static void
adjust_oom_score(pid_t pid)
{
	_cleanup_free_ char *own = NULL, *path = xasprintf("/proc/%d/oom_score_adj", (int)pid);
	char buf[16];
	long score;
	int fd, n;

	if (read_file("/proc/self/oom_score_adj", &own, NULL, NULL) < 0)
		return;
	score = strtol(own, NULL, 10) + 1;
	score = score > 1000 ? 1000 : score < -1000 ? -1000 : score;
	n = snprintf(buf, sizeof(buf), "%ld", score);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, buf, (size_t)n) < 0) {
			/* best effort */
		}
		close(fd);
	}
}

/* The shim_cgroup option: move the daemon into that existing cgroup, as the runc shim does (the
 * unified hierarchy, or every v1 controller that has it); an error when it cannot. */
static int
enter_shim_cgroup(const char *cg, pid_t pid, struct mini_err **err)
{
	static const char *const v1[] = { "memory", "cpu",     "cpuacct", "pids",    "blkio",
					  "cpuset", "devices", "freezer", "systemd", NULL };
	static const char *const v2[] = { "", NULL };
	const char *const *ctrls = shim_cgroup_unified_host() ? v2 : v1;
	char buf[16];
	int n = snprintf(buf, sizeof(buf), "%d", (int)pid), joined = 0;

	for (size_t i = 0; ctrls[i]; i++) {
		_cleanup_free_ char *p = xasprintf("/sys/fs/cgroup/%s%s%s/cgroup.procs", ctrls[i],
						   *ctrls[i] ? "/" : "", cg);
		_cleanup_close_ int fd = open(p, O_WRONLY | O_CLOEXEC);

		if (fd < 0 && errno == ENOENT && ctrls == v1)
			continue; /* a v1 controller without that cgroup, as runc's shim allows */
		if (fd < 0 || write(fd, buf, (size_t)n) < 0)
			return mini_err_set(err, errno, "join shim cgroup %s (%s)", cg, p);
		joined++;
	}
	if (joined == 0)
		return mini_err_set(err, ENOENT, "join shim cgroup %s: no cgroup controller has it",
				    cg);
	return 0;
}

/* Undoes a started daemon when start fails after the fork. */
static void
kill_daemon(pid_t pid, const char *path)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	unlink(path);
}

int
shim_start(const struct shim_args *a)
{
	_cleanup_free_ char *group = NULL, *path = NULL, *addr = NULL;
	struct mini_err *err = NULL;
	struct shim_opts o;
	int fd;
	pid_t pid;

	if (a->ns == NULL || a->id == NULL) {
		fprintf(stderr, "start: -namespace and -id are required\n");
		return 1;
	}
	read_stdin_options(a->id, &o);
	group = group_id(a->id);
	path = shim_socket_path(a->address ? a->address : "", a->ns, group);
	addr = xasprintf("unix://%s", path);
	fd = bind_socket(path, &err);
	if (fd < 0)
		goto fail;
	/* containerd 1.6 reads this file back untrimmed after a restart: no newline. */
	if (write_file_atomic("address", addr, strlen(addr), 0644, &err) < 0) {
		if (fd > 0) {
			close(fd);
			unlink(path);
		}
		goto fail;
	}
	if (fd > 0) {
		pid = fork();
		if (pid < 0) {
			mini_err_set(&err, errno, "fork shim daemon");
			goto fail;
		}
		if (pid == 0)
			daemon_exec(a, fd, path);
		close(fd);
		if ((o.shim_cgroup && enter_shim_cgroup(o.shim_cgroup, pid, &err) < 0) ||
		    pid_file_write("shim.pid", pid, &err) < 0) {
			kill_daemon(pid, path);
			goto fail;
		}
		adjust_oom_score(pid);
	}
	shim_opts_clear(&o);
	printf("%s", addr);
	fflush(stdout);
	return 0;
fail:
	shim_opts_clear(&o);
	{
		_cleanup_free_ char *msg = mini_err_render(err);

		fprintf(stderr, "%s\n", msg);
	}
	mini_err_free(err);
	return 1;
}
