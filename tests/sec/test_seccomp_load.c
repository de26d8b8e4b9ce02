/* Behaviour of compiled filters in forked children: ERRNO values, KILL_PROCESS, the kernel's
 * no_new_privs / CAP_SYS_ADMIN rule, flags, and SCMP_ACT_NOTIFY end to end (listener fd → parent
 * with pidfd_getfd → agent over a unix socket → the agent answers the child's syscall). */
#include "tap.h"
#include "sec_util.h"

#include "seccomp.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

static char tmpdir[] = "/tmp/mini-seccomp-XXXXXX";

/* Compiles a profile given as JSON text. Aborts on error: the profiles here are valid. */
static int
compile(const char *json, unsigned *flags)
{
	_cleanup_(tree_freep) yajl_val v = parse_json(json);
	_cleanup_err_ struct mini_err *err = NULL;
	int fd = -1;

	if (minirt_seccomp_compile(v, &fd, flags, &err) < 0) {
		printf("# compile: %s\n", err->msg);
		abort();
	}
	return fd;
}

/* Forks; the child loads the filter (after no_new_privs when nnp), runs fn and reports a line
 * on the pipe. Returns what the child wrote; *status is its wait status. */
static char *
run_child(int memfd, unsigned flags, bool nnp, void (*fn)(int out), int *status)
{
	int p[2];
	pid_t pid;
	char *out;

	if (pipe2(p, O_CLOEXEC) < 0)
		abort();
	pid = fork();
	if (pid == 0) {
		struct rlimit no_core = { 0, 0 };
		struct mini_err *err = NULL;
		int nfd;

		close(p[0]);
		setrlimit(RLIMIT_CORE, &no_core); /* KILL_PROCESS dumps core otherwise */
		if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			_exit(100);
		if (minirt_seccomp_load(memfd, flags, &nfd, &err) < 0) {
			dprintf(p[1], "load: %s (%d)", err->msg, err->errnum);
			_exit(1);
		}
		fn(p[1]);
		_exit(0);
	}
	close(p[1]);
	out = slurp_fd(p[0]);
	close(p[0]);
	waitpid(pid, status, 0);
	return out;
}

static void
errno_child(int out)
{
	char buf[256], path[256];
	long r1, r2, r3;
	int e1, e2;

	r1 = syscall(SYS_getcwd, buf, sizeof(buf));
	e1 = errno;
	snprintf(path, sizeof(path), "%s/denied", tmpdir);
	r2 = mkdir(path, 0700);
	e2 = errno;
	r3 = syscall(SYS_getpid) == getpid();
	dprintf(out, "getcwd %ld/%d mkdir %ld/%d exists %d getpid ok %ld", r1, e1, r2, e2,
		access(path, F_OK) == 0, r3);
}

static void
check_errno(void)
{
	unsigned flags;
	int status, fd = compile("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
				 "{\"names\": [\"getcwd\"], \"action\": \"SCMP_ACT_ERRNO\", "
				 "\"errnoRet\": 38},"
				 "{\"names\": [\"mkdir\", \"mkdirat\"], \"action\": "
				 "\"SCMP_ACT_ERRNO\", \"errnoRet\": 1}]}",
				 &flags);
	_cleanup_free_ char *out = run_child(fd, flags, true, errno_child, &status);

	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "ERRNO child exits normally");
	is_str(out, "getcwd -1/38 mkdir -1/1 exists 0 getpid ok 1",
	       "getcwd gets ENOSYS (38), mkdir EPERM (1), other syscalls pass");
	close(fd);
}

static void
getppid_child(int out)
{
	dprintf(out, "before ");
	syscall(SYS_getppid);
	dprintf(out, "survived");
}

static void
check_kill(void)
{
	unsigned flags;
	int status, fd = compile("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
				 "{\"names\": [\"getppid\"], \"action\": "
				 "\"SCMP_ACT_KILL_PROCESS\"}]}",
				 &flags);
	_cleanup_free_ char *out = run_child(fd, flags, true, getppid_child, &status);

	ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS, "KILL_PROCESS: child dies of SIGSYS");
	is_str(out, "before ", "KILL_PROCESS: nothing runs after the denied syscall");
	close(fd);
}

static void
nothing(int out)
{
	dprintf(out, "loaded");
}

/* Without no_new_privs the kernel wants CAP_SYS_ADMIN: drop it from the effective set. */
static void
check_eacces(void)
{
	unsigned flags;
	int status, fd = compile("{\"defaultAction\": \"SCMP_ACT_ALLOW\"}", &flags);
	int p[2];
	pid_t pid;
	_cleanup_free_ char *out = NULL;

	if (pipe2(p, O_CLOEXEC) < 0)
		abort();
	pid = fork();
	if (pid == 0) {
		struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
		struct __user_cap_data_struct data[2];
		struct mini_err *err = NULL;
		int nfd;

		close(p[0]);
		if (syscall(SYS_capget, &hdr, data) < 0)
			_exit(100);
		data[0].effective = data[1].effective = 0;
		if (syscall(SYS_capset, &hdr, data) < 0)
			_exit(101);
		if (minirt_seccomp_load(fd, flags, &nfd, &err) < 0)
			dprintf(p[1], "%s (%d)", err->msg, err->errnum);
		_exit(0);
	}
	close(p[1]);
	out = slurp_fd(p[0]);
	close(p[0]);
	waitpid(pid, &status, 0);
	is_str(out, "load seccomp filter: needs no_new_privs or CAP_SYS_ADMIN (13)",
	       "no no_new_privs and no CAP_SYS_ADMIN: EACCES, explained");

	if (geteuid() == 0) {
		free(out);
		out = run_child(fd, flags, false, nothing, &status);
		is_str(out, "loaded", "with CAP_SYS_ADMIN no no_new_privs is needed");
	} else {
		ok(!require_root(), "CAP_SYS_ADMIN load%s",
		   require_root() ? ": not root" : " # SKIP not root");
	}
	close(fd);
}

static void
check_flags_load(void)
{
	_cleanup_free_ char *out = NULL;
	unsigned flags;
	int status, fd = compile("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"flags\": ["
				 "\"SECCOMP_FILTER_FLAG_LOG\", \"SECCOMP_FILTER_FLAG_SPEC_ALLOW\"],"
				 " \"syscalls\": [{\"names\": [\"getcwd\"], \"action\": "
				 "\"SCMP_ACT_LOG\"}]}",
				 &flags);

	out = run_child(fd, flags, true, nothing, &status);
	is_str(out, "loaded", "loads with LOG and SPEC_ALLOW (flags 0x%x)", flags);
	close(fd);

	/* A memfd holding something that is not a program. */
	fd = memfd_create("junk", MFD_CLOEXEC);
	if (fd < 0 || write(fd, "abc", 3) != 3)
		abort();
	free(out);
	out = run_child(fd, 0, true, nothing, &status);
	ok(strstr(out, "3 bytes is not a program (22)") != NULL, "junk memfd: EINVAL");
	close(fd);
}

/* --- NOTIFY --- */

static void
notify_child_exit(int out)
{
	(void)out;
}

static int
listen_at(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (s < 0 || bind(s, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(s, 4) < 0)
		abort();
	return s;
}

/* Accepts one agent connection: the payload (until EOF) and the fd sent with it. */
static char *
agent_receive(int listener, int *fd_out)
{
	char buf[65536];
	union {
		char c[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.c, .msg_controllen = sizeof(u.c)
	};
	_cleanup_close_ int conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
	struct cmsghdr *cm;
	size_t len = 0;
	ssize_t n;

	*fd_out = -1;
	if (conn < 0)
		return NULL;
	n = recvmsg(conn, &mh, MSG_CMSG_CLOEXEC);
	if (n <= 0)
		return NULL;
	len = (size_t)n;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(fd_out, CMSG_DATA(cm), sizeof(int));
	while ((n = read(conn, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	return strdup(buf);
}

static const char *
json_str(yajl_val root, const char **path)
{
	yajl_val v = yajl_tree_get(root, path, yajl_t_string);

	return v ? v->u.string : NULL;
}

static void
check_notify(void)
{
	_cleanup_free_ char *sock_path = NULL, *profile = NULL, *state = NULL, *payload = NULL;
	_cleanup_close_ int listener = -1, memfd = -1, nfd = -1, agent_fd = -1;
	_cleanup_(tree_freep) yajl_val msg = NULL;
	_cleanup_err_ struct mini_err *err = NULL;
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	unsigned flags;
	int p[2], remote = -1, status = -1, ret;
	pid_t pid;

	if (asprintf(&sock_path, "%s/agent.sock", tmpdir) < 0 ||
	    asprintf(&profile,
		     "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"%s\","
		     " \"listenerMetadata\": \"meta \\\"quoted\\\"\\n\", \"syscalls\": [{\"names\":"
		     " [\"getppid\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}",
		     sock_path) < 0)
		abort();
	listener = listen_at(sock_path);
	memfd = compile(profile, &flags);
	ok(flags & SECCOMP_FILTER_FLAG_NEW_LISTENER, "NOTIFY profile asks for a listener");

	if (pipe2(p, O_CLOEXEC) < 0)
		abort();
	pid = fork();
	if (pid == 0) {
		struct mini_err *e = NULL;
		int fd = -1;
		long r;

		close(p[0]);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    minirt_seccomp_load(memfd, flags, &fd, &e) < 0)
			fd = -1;
		/* As the runtime's child would: only the number, with write(2). */
		if (write(p[1], &fd, sizeof(fd)) != sizeof(fd) || fd < 0)
			_exit(2);
		r = syscall(SYS_getppid);
		notify_child_exit(p[1]);
		_exit(r == 4242 ? 0 : 3);
	}
	close(p[1]);
	ok(read(p[0], &remote, sizeof(remote)) == sizeof(remote) && remote >= 0,
	   "child loaded the filter and reported listener fd %d", remote);
	close(p[0]);

	ret = minirt_seccomp_take_notify_fd(pid, remote, &nfd, &err);
	is_int(ret, 0, "parent takes the listener fd with pidfd_getfd");
	if (ret < 0) {
		printf("#   %s\n", err->msg);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return;
	}
	if (asprintf(&state,
		     "{\"ociVersion\":\"1.0.2-dev\",\"id\":\"ctr1\",\"status\":\"creating\","
		     "\"pid\":%d,\"bundle\":\"/b\"}",
		     (int)pid) < 0)
		abort();
	ret = minirt_seccomp_send_notify(sock_path, "meta \"quoted\"\n", nfd, pid, state, &err);
	is_int(ret, 0, "state and fd sent to the agent");

	payload = agent_receive(listener, &agent_fd);
	ok(payload && agent_fd >= 0, "agent received a payload and an fd");
	msg = payload ? yajl_tree_parse(payload, NULL, 0) : NULL;
	ok(msg != NULL, "payload is JSON: %s", payload ? payload : "(none)");
	{
		const char *ver[] = { "ociVersion", NULL }, *fds[] = { "fds", NULL };
		const char *meta[] = { "metadata", NULL }, *id[] = { "state", "id", NULL };
		const char *ppid[] = { "pid", NULL };
		yajl_val f = msg ? yajl_tree_get(msg, fds, yajl_t_array) : NULL;
		yajl_val pv = msg ? yajl_tree_get(msg, ppid, yajl_t_number) : NULL;

		is_str(msg ? json_str(msg, ver) : NULL, "1.0.2-dev", "ociVersion from the state");
		ok(f && f->u.array.len == 1 && YAJL_IS_STRING(f->u.array.values[0]) &&
			   strcmp(f->u.array.values[0]->u.string, "seccompFd") == 0,
		   "fds is [\"seccompFd\"]");
		ok(pv && YAJL_GET_INTEGER(pv) == pid, "pid");
		is_str(msg ? json_str(msg, meta) : NULL, "meta \"quoted\"\n", "metadata escaped");
		is_str(msg ? json_str(msg, id) : NULL, "ctr1", "state embedded");
	}

	/* Be the agent: answer the child's getppid with 4242. */
	memset(&req, 0, sizeof(req));
	ret = agent_fd >= 0 ? ioctl(agent_fd, SECCOMP_IOCTL_NOTIF_RECV, &req) : -1;
	ok(ret == 0 && req.pid == (__u32)pid && req.data.nr == SYS_getppid,
	   "agent sees the child's getppid");
	memset(&resp, 0, sizeof(resp));
	resp.id = req.id;
	resp.val = 4242;
	ok(ret == 0 && ioctl(agent_fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) == 0, "agent answers");
	if (ret != 0)
		kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child's getppid returned 4242");
	unlink(sock_path);

	ret = minirt_seccomp_send_notify(sock_path, NULL, nfd, 0, state, &err);
	ok(ret == -ENOENT && strstr(err->msg, "connect to seccomp agent at ") != NULL,
	   "no agent: connect error names the path");
	mini_err_freep(&err);
	ret = minirt_seccomp_send_notify(sock_path, NULL, nfd, 0, "[1]", &err);
	is_str(err ? err->msg : NULL, "container state for the seccomp agent: expected an object",
	       "state must be an object");
}

int
main(int argc, char **argv)
{
	char cmd[64];

	(void)argc;
	(void)argv;
	alarm(60); /* a NOTIFY bug would otherwise hang the suite */
	if (mkdtemp(tmpdir) == NULL)
		abort();
	check_errno();
	check_kill();
	check_eacces();
	check_flags_load();
	check_notify();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmpdir);
	return tap_done();
}
