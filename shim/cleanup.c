/* The `delete` action: containerd's cleanup when a shim connection closes (after a normal
 * teardown, or because the shim died). Idempotent: forced runtime delete, unmount the rootfs,
 * remove a stale socket, and print a DeleteResponse on stdout (the only thing on stdout). */
#include "cleanup.h"
#include "fs.h"
#include "log.h"
#include "mount.h"
#include "options.h"
#include "pidutil.h"
#include "runtime_client.h"
#include "shim.h"
#include "xalloc.h"

#include "containerd/task/v2/shim.pb-c.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* containerd gives the whole action 5 s. */
#define RUNTIME_DELETE_TIMEOUT_MS 4000

/* Runs the runtime synchronously (no loop here), bounded in time. Returns its wait status or
 * -1. */
static int
run_sync(char **argv)
{
	int null_fd, status = 0;
	struct timespec step = { 0, 10 * 1000 * 1000 };
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		null_fd = open("/dev/null", O_RDWR);
		dup2(null_fd, 0);
		dup2(null_fd, 1);
		dup2(null_fd, 2);
		syscall(SYS_close_range, 3U, ~0U, 0U);
		execvp(rt_exec_path(argv[0]), argv);
		_exit(127);
	}
	for (int waited = 0; waited < RUNTIME_DELETE_TIMEOUT_MS; waited += 10) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -1;
		nanosleep(&step, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

static void
runtime_delete(const char *bundle, const struct shim_args *a)
{
	_cleanup_free_ char *binary = NULL, *root = NULL, *msg = NULL;
	char *args[] = { "delete", "--force", (char *)a->id, NULL };
	struct rt rt;
	struct stat st;
	char **argv;
	long off;
	int status, errnum = 0;

	shim_state_read(bundle, &binary, &root);
	rt_setup(&rt, binary, NULL, a->ns, bundle);
	if (root) {
		free(rt.root);
		rt.root = steal_ptr(&root);
	}
	off = stat(rt.log, &st) == 0 ? (long)st.st_size : 0;
	argv = rt_argv(&rt, args);
	status = run_sync(argv);
	for (size_t i = 0; argv[i]; i++)
		free(argv[i]);
	free(argv);
	if (status == 0) {
		rt_clear(&rt);
		return;
	}
	msg = rt_last_log_error(rt.log, off, &errnum);
	/* Nothing to delete is what a clean teardown looks like. */
	if (msg == NULL || errnum == ENOENT || strstr(msg, "does not exist") ||
	    strstr(msg, "not exist"))
		log_debug("runtime delete %s: %s", a->id, msg ? msg : "failed");
	else
		log_warn("runtime delete %s: %s", a->id, msg);
	rt_clear(&rt);
}

/* A socket nobody listens on any more is removed; a live one (grouped containers) is not. */
static void
remove_stale_socket(const char *bundle)
{
	_cleanup_free_ char *path = path_join(bundle, "address"), *addr = NULL;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *sock;
	int fd;

	if (read_file(path, &addr, NULL, NULL) < 0 || strncmp(addr, "unix://", 7) != 0)
		return;
	sock = addr + 7;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno == ECONNREFUSED)
		unlink(sock);
	close(fd);
}

int
shim_delete(const struct shim_args *a)
{
	Containerd__Task__V2__DeleteResponse resp = CONTAINERD__TASK__V2__DELETE_RESPONSE__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	_cleanup_free_ char *cwd = NULL, *rootfs = NULL, *pidf = NULL;
	_cleanup_free_ uint8_t *buf = NULL;
	const char *bundle = a->bundle;
	struct mini_err *err = NULL;
	struct timespec now;
	pid_t pid = 0;
	size_t len;

	/* stdout carries the protobuf; logs go to stderr (containerd logs them as warnings). */
	mini_log_init(2, MINI_LOG_TEXT, a->debug ? MINI_LOG_DEBUG : MINI_LOG_WARN);
	if (a->id == NULL || a->ns == NULL) {
		log_error("delete: -namespace and -id are required");
		return 1;
	}
	if (bundle == NULL) {
		cwd = getcwd(NULL, 0);
		bundle = cwd ? cwd : ".";
	}
	runtime_delete(bundle, a);
	rootfs = path_join(bundle, "rootfs");
	if (unmount_all(rootfs, &err) < 0) {
		log_warn("delete %s: %s", a->id, err->msg);
		mini_err_free(err);
	}
	remove_stale_socket(bundle);
	pidf = path_join(bundle, "init.pid");
	if (pid_file_read(pidf, &pid, NULL) < 0)
		pid = 0;
	clock_gettime(CLOCK_REALTIME, &now);
	ts.seconds = now.tv_sec;
	ts.nanos = (int32_t)now.tv_nsec;
	resp.pid = (uint32_t)pid;
	resp.exit_status = 128 + SIGKILL;
	resp.exited_at = &ts;
	len = protobuf_c_message_get_packed_size(&resp.base);
	buf = xmalloc(len + 1);
	protobuf_c_message_pack(&resp.base, buf);
	if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0)
		return 1;
	return 0;
}
