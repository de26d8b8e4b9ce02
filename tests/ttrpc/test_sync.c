/* ttrpc_call_sync against a server running its loop in a forked child (the blocking client must
 * not need a loop), and the SO_PEERCRED check of the server. */
#include "tap.h"
#include "rpc_util.h"
#include "err.h"
#include "ttrpc/ttrpc.pb-c.h"
#include "xalloc.h"

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/mini-ttrpc-sync-XXXXXX";
static char *sock, *open_sock;

/* A listening socket anybody may connect to, so that only the credential check can refuse. */
static int
listen_open(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    chmod(path, 0666) < 0 || listen(fd, 16) < 0)
		_exit(2);
	return fd;
}

static void
serve(int ready_fd)
{
	uv_loop_t loop;
	struct ttrpc_server *a, *b;
	struct mini_err *err = NULL;

	uv_loop_init(&loop);
	a = ttrpc_server_new(&loop);
	b = ttrpc_server_new(&loop);
	test_service_register(a);
	test_service_register(b);
	if (ttrpc_server_listen_path(a, sock, &err) < 0 ||
	    ttrpc_server_listen_fd(b, listen_open(open_sock), &err) < 0)
		_exit(3);
	if (write(ready_fd, "x", 1) != 1)
		_exit(4);
	close(ready_fd);
	uv_run(&loop, UV_RUN_DEFAULT);
	_exit(0);
}

static int
sync_kv(const char *path, const char *method, const char *value, int64_t timeout_ns,
	struct ttrpc_result *res, struct mini_err **err)
{
	Ttrpc__KeyValue kv = TTRPC__KEY_VALUE__INIT;
	struct ttrpc_kv md[] = { { "containerd-namespace-ttrpc", "syncns" } };

	kv.key = "k";
	kv.value = (char *)value;
	return ttrpc_call_sync(path, TEST_SVC, method, &kv.base, timeout_ns, md, 1, res, err);
}

static Ttrpc__KeyValue *
result_kv(const struct ttrpc_result *res)
{
	return ttrpc__key_value__unpack(NULL, res->len, res->payload);
}

static void
test_calls(void)
{
	struct ttrpc_result res = { 0 };
	struct mini_err *err = NULL;
	Ttrpc__KeyValue *kv;
	int r;

	r = sync_kv(sock, "Echo", "blocking", 2000000000, &res, &err);
	is_int(r, 0, "sync Echo returns 0");
	is_int(res.code, 0, "status OK");
	kv = result_kv(&res);
	ok(kv && strcmp(kv->value, "blocking") == 0, "payload decodes to the echoed value");
	if (kv)
		ttrpc__key_value__free_unpacked(kv, NULL);
	ttrpc_result_clear(&res);
	ok(res.payload == NULL && res.message == NULL, "ttrpc_result_clear empties the result");

	r = sync_kv(sock, "Meta", "", 0, &res, &err);
	kv = result_kv(&res);
	ok(r == 0 && kv && strcmp(kv->key, "syncns") == 0, "sync call carries metadata");
	ok(kv && strcmp(kv->value, "0") == 0, "no timeout → timeout_nano 0");
	if (kv)
		ttrpc__key_value__free_unpacked(kv, NULL);
	ttrpc_result_clear(&res);

	r = sync_kv(sock, "Nope", "", 0, &res, &err);
	ok(r == 0 && res.code == 12, "unknown method: call succeeds with code Unimplemented");
	is_str(res.message, "method Nope", "and its message");
	ttrpc_result_clear(&res);

	r = sync_kv(sock, "Fail", "", 0, &res, &err);
	ok(r == 0 && res.code == 5 && res.len == 0, "error status from a handler");
	ttrpc_result_clear(&res);

	r = sync_kv(sock, "Park", "", 100 * 1000 * 1000, &res, &err);
	is_int(r, -ETIMEDOUT, "a reply that never comes times out");
	ok(err && mini_err_grpc_code(err) == 4, "as DeadlineExceeded");
	ok(err && strstr(err->msg, TEST_SVC "/Park"), "error names the call: %s",
	   err ? err->msg : "");
	mini_err_free(err);
	err = NULL;

	r = sync_kv("unix:///nonexistent/x.sock", "Echo", "", 0, &res, &err);
	ok(r < 0 && err && mini_err_grpc_code(err) == 14, "missing socket → Unavailable");
	mini_err_free(err);
	err = NULL;

	r = sync_kv(open_sock, "Echo", "", 0, &res, &err);
	ok(r == 0 && res.code == 0, "a peer with our credentials is accepted");
	ttrpc_result_clear(&res);
	mini_err_free(err);
	err = NULL;
}

static void
test_peercred(void)
{
	pid_t pid;
	int status;

	if (geteuid() != 0) {
		ok(1, "# SKIP peer credential check needs root to switch users");
		return;
	}
	pid = fork();
	if (pid == 0) {
		struct ttrpc_result res = { 0 };
		struct mini_err *err = NULL;
		int r;

		if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
			_exit(10);
		r = sync_kv(open_sock, "Echo", "", 2000000000, &res, &err);
		/* Refused at accept: closed before any reply. */
		_exit(r < 0 && err && mini_err_grpc_code(err) == 14 ? 0 : 11);
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "a peer with another uid/gid is refused (child status %d)",
	   WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

int
main(void)
{
	int ready[2];
	char byte;
	pid_t server;
	int status;

	if (!mkdtemp(dir) || chmod(dir, 0711) < 0 || pipe(ready) < 0) {
		perror("setup");
		return 1;
	}
	sock = xasprintf("%s/a.sock", dir);
	open_sock = xasprintf("%s/b.sock", dir);
	server = fork();
	if (server == 0) {
		close(ready[0]);
		serve(ready[1]);
	}
	close(ready[1]);
	ok(read(ready[0], &byte, 1) == 1, "server child is listening");
	close(ready[0]);

	test_calls();
	test_peercred();

	kill(server, SIGKILL);
	waitpid(server, &status, 0);
	unlink(sock);
	unlink(open_sock);
	rmdir(dir);
	free(sock);
	free(open_sock);
	return tap_done();
}
