/* shimctl exec: run a process in the container with this terminal's stdio, as `ctr task exec`
 * does: FIFOs, Exec, Start, copy until Wait returns, Delete.
 *
 * Wait blocks in the shim until the process exits, so it runs on a second thread (with Delete
 * after it) while the main thread copies stdio and forwards signals and window sizes. */
#include "shimctl.h"

#include "cleanup.h"
#include "exec_io.h"
#include "fs.h"
#include "strv.h"
#include "xalloc.h"

#include "containerd/task/v2/shim.pb-c.h"
#include "google/protobuf/empty.pb-c.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#define SPEC_TYPE_URL "types.containerd.io/opencontainers/runtime-spec/1/Process"
#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* After the exit (and Delete), how long to keep reading output before giving up on EOF. */
#define DRAIN_MS 2000

struct exec_opts {
	const char *exec_id, *cwd, *user;
	struct strv env; /* K=V overrides */
	bool tty;
	char **args;
};

struct waiter {
	struct shimctl *ctx;
	const char *exec_id;
	int wake_fd;
	uint32_t status;
	struct mini_err *err; /* Wait's or Delete's failure */
};

static void
exec_help(void)
{
	fputs("Usage: shimctl [--address ADDR] [--namespace NS] --id ID exec --exec-id E [-t]\n"
	      "                [--cwd DIR] [--env K=V]... [--user UID[:GID]] -- ARGS...\n"
	      "\n"
	      "Runs ARGS in the container through the shim: creates FIFOs in a temporary\n"
	      "directory, calls Exec (the process spec is the init's \"process\" from the\n"
	      "bundle's config.json when readable, with ARGS and the options applied), Start,\n"
	      "then copies this terminal's stdin/stdout/stderr until Wait returns, and Deletes\n"
	      "the exec. shimctl exits with the process's exit status. INT, TERM, HUP and QUIT\n"
	      "sent to shimctl are forwarded to the process; at EOF on stdin shimctl calls\n"
	      "CloseIO.\n"
	      "\n"
	      "Options:\n"
	      "  -e, --exec-id E   the exec id (required)\n"
	      "  -t, --tty         allocate a terminal; this terminal goes raw and its size is\n"
	      "                    forwarded (ResizePty); TERM=xterm unless TERM is set\n"
	      "  --cwd DIR         working directory (default: the init's, else /)\n"
	      "  --env K=V         set an environment variable (repeatable)\n"
	      "  --user UID[:GID]  numeric user (default: the init's, else 0:0)\n"
	      "\n"
	      "Examples:\n"
	      "  shimctl --id c1 exec --exec-id ls1 -- ls -l /\n"
	      "  shimctl --id c1 exec --exec-id sh1 -t -- /bin/sh\n"
	      "  echo hi | shimctl --address /run/containerd/s/abc --id c1 exec -e cat1 -- cat\n",
	      stdout);
}

/* --- the process spec --- */

static void
gen_str(yajl_gen g, const char *s)
{
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static bool
env_overridden(const struct exec_opts *o, const char *kv)
{
	size_t klen = strcspn(kv, "=");

	for (size_t i = 0; i < o->env.n; i++) {
		if (strncmp(o->env.v[i], kv, klen) == 0 && o->env.v[i][klen] == '=')
			return true;
	}
	return false;
}

static void
gen_env(yajl_gen g, const struct exec_opts *o, yajl_val base)
{
	bool has_term = env_overridden(o, "TERM=");

	yajl_gen_array_open(g);
	if (base == NULL || !YAJL_IS_ARRAY(base)) {
		if (!env_overridden(o, DEFAULT_PATH))
			gen_str(g, DEFAULT_PATH);
	} else {
		for (size_t i = 0; i < base->u.array.len; i++) {
			const yajl_val e = base->u.array.values[i];
			if (!YAJL_IS_STRING(e) || env_overridden(o, e->u.string))
				continue;
			has_term |= strncmp(e->u.string, "TERM=", 5) == 0;
			gen_str(g, e->u.string);
		}
	}
	for (size_t i = 0; i < o->env.n; i++)
		gen_str(g, o->env.v[i]);
	/* What containerd's WithTTY gives a container created with a terminal. */
	if (o->tty && !has_term)
		gen_str(g, "TERM=xterm");
	yajl_gen_array_close(g);
}

static int
gen_user(yajl_gen g, const char *user, struct mini_err **err)
{
	unsigned long uid, gid = 0;
	char *end;

	uid = strtoul(user, &end, 10);
	if (end == user || (*end != '\0' && *end != ':'))
		return mini_err_set(err, EINVAL, "invalid --user \"%s\": want UID[:GID]", user);
	if (*end == ':') {
		const char *g_str = end + 1;
		gid = strtoul(g_str, &end, 10);
		if (end == g_str || *end != '\0')
			return mini_err_set(err, EINVAL, "invalid --user \"%s\": want UID[:GID]",
					    user);
	}
	yajl_gen_map_open(g);
	gen_str(g, "uid");
	yajl_gen_integer(g, (long long)uid);
	gen_str(g, "gid");
	yajl_gen_integer(g, (long long)gid);
	yajl_gen_map_close(g);
	return 0;
}

/* The init's process object from <bundle>/config.json, or NULL (then defaults are used). */
static yajl_val
read_base_process(struct shimctl *ctx, yajl_val *tree)
{
	const char *path[] = { "process", NULL };
	Containerd__Task__V2__StateRequest req = CONTAINERD__TASK__V2__STATE_REQUEST__INIT;
	Containerd__Task__V2__StateResponse *st = NULL;
	_cleanup_err_ struct mini_err *err = NULL;
	_cleanup_free_ char *cfg = NULL, *text = NULL;

	*tree = NULL;
	req.id = (char *)ctx->id;
	if (shimctl_rpc(ctx, SHIMCTL_TASK_SERVICE, "State", &req.base,
			&containerd__task__v2__state_response__descriptor,
			SHIMCTL_DEFAULT_TIMEOUT_NS, (ProtobufCMessage **)&st, &err) < 0)
		return NULL;
	cfg = xasprintf("%s/config.json", st->bundle);
	protobuf_c_message_free_unpacked(&st->base, NULL);
	if (read_file(cfg, &text, NULL, &err) < 0)
		return NULL;
	*tree = yajl_tree_parse(text, NULL, 0);
	return *tree ? yajl_tree_get(*tree, path, yajl_t_object) : NULL;
}

/* The OCI process JSON for the request. Caller owns the result. */
static char *
build_spec(struct shimctl *ctx, const struct exec_opts *o, struct mini_err **err)
{
	yajl_val tree = NULL, base = read_base_process(ctx, &tree), env = NULL;
	bool have_cwd = false, have_user = false;
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	char *out = NULL;
	size_t len;

	if (g == NULL)
		abort();
	yajl_gen_map_open(g);
	for (size_t i = 0; base && i < base->u.object.len; i++) {
		const char *k = base->u.object.keys[i];
		if (strcmp(k, "args") == 0 || strcmp(k, "terminal") == 0 ||
		    strcmp(k, "consoleSize") == 0 || (strcmp(k, "cwd") == 0 && o->cwd) ||
		    (strcmp(k, "user") == 0 && o->user))
			continue;
		if (strcmp(k, "env") == 0) {
			env = base->u.object.values[i];
			continue;
		}
		have_cwd |= strcmp(k, "cwd") == 0;
		have_user |= strcmp(k, "user") == 0;
		gen_str(g, k);
		pbjson_gen_tree(g, base->u.object.values[i]);
	}
	gen_str(g, "args");
	yajl_gen_array_open(g);
	for (char **a = o->args; *a; a++)
		gen_str(g, *a);
	yajl_gen_array_close(g);
	gen_str(g, "terminal");
	yajl_gen_bool(g, o->tty);
	gen_str(g, "env");
	gen_env(g, o, env);
	if (!have_cwd) {
		gen_str(g, "cwd");
		gen_str(g, o->cwd ? o->cwd : "/");
	}
	if (!have_user) {
		gen_str(g, "user");
		if (gen_user(g, o->user ? o->user : "0:0", err) < 0)
			goto out;
	}
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	out = xstrndup((const char *)buf, len);
out:
	yajl_gen_free(g);
	yajl_tree_free(tree);
	return out;
}

/* --- RPCs --- */

static int
task_rpc(struct shimctl *ctx, const char *method, const ProtobufCMessage *req,
	 const ProtobufCMessageDescriptor *res_desc, int64_t timeout, ProtobufCMessage **res,
	 struct mini_err **err)
{
	ProtobufCMessage *tmp = NULL;
	int r = shimctl_rpc(ctx, SHIMCTL_TASK_SERVICE, method, req, res_desc, timeout,
			    res ? res : &tmp, err);

	if (r == 0 && res == NULL)
		protobuf_c_message_free_unpacked(tmp, NULL);
	return r;
}

static int
exec_create(struct shimctl *ctx, const struct exec_opts *o, const struct exec_io *io,
	    struct mini_err **err)
{
	Containerd__Task__V2__ExecProcessRequest req =
		CONTAINERD__TASK__V2__EXEC_PROCESS_REQUEST__INIT;
	Google__Protobuf__Any spec = GOOGLE__PROTOBUF__ANY__INIT;
	_cleanup_free_ char *json = build_spec(ctx, o, err);

	if (json == NULL)
		return mini_err_ret(*err);
	spec.type_url = SPEC_TYPE_URL;
	spec.value.data = (uint8_t *)json;
	spec.value.len = strlen(json);
	req.id = (char *)ctx->id;
	req.exec_id = (char *)o->exec_id;
	req.terminal = o->tty;
	req.stdin = io->paths[EXEC_STDIN];
	req.stdout = io->paths[EXEC_STDOUT];
	req.stderr = io->paths[EXEC_STDERR] ? io->paths[EXEC_STDERR] : "";
	req.spec = &spec;
	return task_rpc(ctx, "Exec", &req.base, &google__protobuf__empty__descriptor,
			SHIMCTL_DEFAULT_TIMEOUT_NS, NULL, err);
}

static int
exec_simple(struct shimctl *ctx, const char *method, const char *exec_id,
	    const ProtobufCMessageDescriptor *res_desc, int64_t timeout, ProtobufCMessage **res,
	    struct mini_err **err)
{
	/* Start, Wait and Delete requests are all {id, exec_id}. */
	Containerd__Task__V2__StartRequest req = CONTAINERD__TASK__V2__START_REQUEST__INIT;

	req.id = (char *)ctx->id;
	req.exec_id = (char *)exec_id;
	return task_rpc(ctx, method, &req.base, res_desc, timeout, res, err);
}

static void
resize(struct shimctl *ctx, const char *exec_id)
{
	Containerd__Task__V2__ResizePtyRequest req = CONTAINERD__TASK__V2__RESIZE_PTY_REQUEST__INIT;
	_cleanup_err_ struct mini_err *err = NULL;
	struct winsize ws;

	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_col == 0)
		return;
	req.id = (char *)ctx->id;
	req.exec_id = (char *)exec_id;
	req.width = ws.ws_col;
	req.height = ws.ws_row;
	/* Best effort: a failed resize must not end the session. */
	task_rpc(ctx, "ResizePty", &req.base, &google__protobuf__empty__descriptor,
		 SHIMCTL_DEFAULT_TIMEOUT_NS, NULL, &err);
}

static void
forward_signal(struct shimctl *ctx, const char *exec_id, int sig)
{
	Containerd__Task__V2__KillRequest req = CONTAINERD__TASK__V2__KILL_REQUEST__INIT;
	_cleanup_err_ struct mini_err *err = NULL;

	req.id = (char *)ctx->id;
	req.exec_id = (char *)exec_id;
	req.signal = (uint32_t)sig;
	task_rpc(ctx, "Kill", &req.base, &google__protobuf__empty__descriptor,
		 SHIMCTL_DEFAULT_TIMEOUT_NS, NULL, &err);
}

static void
close_stdin(struct shimctl *ctx, const char *exec_id, struct exec_io *io)
{
	Containerd__Task__V2__CloseIORequest req = CONTAINERD__TASK__V2__CLOSE_IOREQUEST__INIT;
	_cleanup_err_ struct mini_err *err = NULL;

	exec_io_close_stdin(io);
	req.id = (char *)ctx->id;
	req.exec_id = (char *)exec_id;
	req.stdin = true;
	task_rpc(ctx, "CloseIO", &req.base, &google__protobuf__empty__descriptor,
		 SHIMCTL_DEFAULT_TIMEOUT_NS, NULL, &err);
}

static void *
wait_thread(void *arg)
{
	struct waiter *w = arg;
	Containerd__Task__V2__WaitResponse *res = NULL;

	if (exec_simple(w->ctx, "Wait", w->exec_id,
			&containerd__task__v2__wait_response__descriptor, 0,
			(ProtobufCMessage **)&res, &w->err) == 0) {
		w->status = res->exit_status;
		protobuf_c_message_free_unpacked(&res->base, NULL);
		/* Delete makes the shim flush and close its ends of the FIFOs, which ends the
		 * copy with EOF. */
		exec_simple(w->ctx, "Delete", w->exec_id,
			    &containerd__task__v2__delete_response__descriptor,
			    SHIMCTL_DEFAULT_TIMEOUT_NS, NULL, &w->err);
	}
	if (write(w->wake_fd, "x", 1) < 0) {
		/* The main thread polls the other end; a full pipe cannot happen with one byte. */
	}
	return NULL;
}

/* --- the copy loop --- */

enum { P_STDIN, P_FIFO_IN, P_STDOUT, P_STDERR, P_WAKE, P_SIGNAL, P_N };

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
on_signal(struct shimctl *ctx, const struct exec_opts *o, int sigfd)
{
	struct signalfd_siginfo si;

	if (read(sigfd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGWINCH)
		resize(ctx, o->exec_id);
	else
		forward_signal(ctx, o->exec_id, (int)si.ssi_signo);
}

static int
copy_loop(struct shimctl *ctx, const struct exec_opts *o, struct exec_io *io, int wake_fd,
	  int sigfd, struct mini_err **err)
{
	struct pollfd p[P_N];
	bool stdin_open = true, exited = false;
	int64_t deadline = 0;

	for (;;) {
		int r, timeout = -1;

		if (exited && io->fds[EXEC_STDOUT] < 0 && io->fds[EXEC_STDERR] < 0)
			return 0;
		if (exited) {
			timeout = (int)(deadline - now_ms());
			if (timeout <= 0)
				return 0;
		}
		p[P_STDIN] =
			(struct pollfd){ stdin_open && !exited && io->len == 0 ? 0 : -1, POLLIN };
		p[P_FIFO_IN] = (struct pollfd){ io->len ? io->fds[EXEC_STDIN] : -1, POLLOUT };
		p[P_STDOUT] = (struct pollfd){ io->fds[EXEC_STDOUT], POLLIN };
		p[P_STDERR] = (struct pollfd){ io->fds[EXEC_STDERR], POLLIN };
		p[P_WAKE] = (struct pollfd){ exited ? -1 : wake_fd, POLLIN };
		p[P_SIGNAL] = (struct pollfd){ sigfd, POLLIN };
		r = poll(p, P_N, timeout);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return mini_err_set(err, errno, "poll");
		for (int i = EXEC_STDOUT; i <= EXEC_STDERR; i++) {
			if (p[P_STDOUT + i - EXEC_STDOUT].revents &&
			    exec_io_pump_output(io, i, err) < 0)
				return mini_err_ret(*err);
		}
		if (p[P_STDIN].revents) {
			r = exec_io_read_stdin(io, err);
			if (r < 0)
				return mini_err_ret(*err);
			if (r == 0) {
				stdin_open = false;
				close_stdin(ctx, o->exec_id, io);
			}
		}
		if (p[P_FIFO_IN].revents && exec_io_flush_stdin(io, err) < 0)
			return mini_err_ret(*err);
		if (p[P_SIGNAL].revents)
			on_signal(ctx, o, sigfd);
		if (p[P_WAKE].revents) {
			exited = true;
			deadline = now_ms() + DRAIN_MS;
		}
	}
}

/* Runs the exec once the FIFOs exist. Returns the exit code. */
static int
run(struct shimctl *ctx, const struct exec_opts *o, struct exec_io *io, int sigfd)
{
	_cleanup_err_ struct mini_err *err = NULL;
	struct waiter w = { .ctx = ctx, .exec_id = o->exec_id };
	_cleanup_close_ int wake_r = -1, wake_w = -1;
	int pipefd[2];
	pthread_t thread;

	if (exec_create(ctx, o, io, &err) < 0)
		goto fail;
	if (exec_simple(ctx, "Start", o->exec_id, &containerd__task__v2__start_response__descriptor,
			SHIMCTL_DEFAULT_TIMEOUT_NS, NULL, &err) < 0) {
		_cleanup_err_ struct mini_err *derr = NULL;
		exec_simple(ctx, "Delete", o->exec_id,
			    &containerd__task__v2__delete_response__descriptor,
			    SHIMCTL_DEFAULT_TIMEOUT_NS, NULL, &derr);
		goto fail;
	}
	if (o->tty) {
		if (exec_io_make_raw(io, &err) < 0)
			goto fail;
		resize(ctx, o->exec_id);
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		mini_err_set(&err, errno, "pipe");
		goto fail;
	}
	wake_r = pipefd[0];
	wake_w = pipefd[1];
	w.wake_fd = wake_w;
	if ((errno = pthread_create(&thread, NULL, wait_thread, &w)) != 0) {
		mini_err_set(&err, errno, "start the wait thread");
		goto fail;
	}
	if (copy_loop(ctx, o, io, wake_r, sigfd, &err) < 0) {
		/* The thread may still be blocked in Wait and will write to w: exit from here,
		 * while w is alive, instead of returning. */
		exec_io_close(io);
		shimctl_print_error(err);
		exit(SHIMCTL_EXIT_FAIL);
	}
	pthread_join(thread, NULL);
	exec_io_close(io);
	if (w.err) {
		shimctl_print_error(w.err);
		mini_err_free(w.err);
		return SHIMCTL_EXIT_FAIL;
	}
	return w.status > 255 ? 255 : (int)w.status;
fail:
	exec_io_close(io);
	shimctl_print_error(err);
	return SHIMCTL_EXIT_FAIL;
}

static int
parse_exec(struct shimctl *ctx, int argc, char **argv, struct exec_opts *o)
{
	enum { OPT_EXEC_ID = OPT_CMD, OPT_CWD, OPT_ENV, OPT_USER };
	static const struct option opts[] = {
		SHIMCTL_GLOBAL_OPTIONS,
		{ "exec-id", required_argument, NULL, 'e' },
		{ "tty", no_argument, NULL, 't' },
		{ "cwd", required_argument, NULL, OPT_CWD },
		{ "env", required_argument, NULL, OPT_ENV },
		{ "user", required_argument, NULL, OPT_USER },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	/* '+': stop at the first argument, so ARGS may carry options of their own. */
	while ((opt = getopt_long(argc, argv, "+he:t", opts, NULL)) != -1) {
		int r = shimctl_global_opt(ctx, opt, optarg);
		if (r < 0)
			return SHIMCTL_EXIT_USAGE;
		if (r > 0)
			continue;
		switch (opt) {
		case 'h':
			exec_help();
			return SHIMCTL_EXIT_OK;
		case 'e':
			o->exec_id = optarg;
			break;
		case 't':
			o->tty = true;
			break;
		case OPT_CWD:
			o->cwd = optarg;
			break;
		case OPT_ENV:
			if (strchr(optarg, '=') == NULL)
				return shimctl_usage_error("exec", "--env wants K=V, got \"%s\"",
							   optarg);
			strv_push(&o->env, optarg);
			break;
		case OPT_USER:
			o->user = optarg;
			break;
		default:
			return shimctl_usage_error("exec", "unknown option");
		}
	}
	if (o->exec_id == NULL || *o->exec_id == '\0')
		return shimctl_usage_error("exec", "--exec-id is required");
	if (optind >= argc)
		return shimctl_usage_error("exec", "no command given (ARGS after --)");
	if (shimctl_require_id(ctx, "exec") == NULL)
		return SHIMCTL_EXIT_USAGE;
	o->args = argv + optind;
	return -1;
}

int
cmd_exec(struct shimctl *ctx, int argc, char **argv)
{
	_cleanup_err_ struct mini_err *err = NULL;
	_cleanup_close_ int sigfd = -1;
	struct exec_opts o = { 0 };
	struct exec_io io;
	sigset_t mask;
	int ret;

	ret = parse_exec(ctx, argc, argv, &o);
	if (ret >= 0)
		goto out;
	/* Signals arrive through a signalfd in the copy loop: WINCH resizes, the others are
	 * forwarded to the process. A broken pipe is an error return, not a death. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGWINCH);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGQUIT);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigfd < 0) {
		mini_err_set(&err, errno, "signalfd");
		shimctl_print_error(err);
		ret = SHIMCTL_EXIT_FAIL;
		goto out;
	}
	if (exec_io_open(&io, o.tty, &err) < 0) {
		shimctl_print_error(err);
		ret = SHIMCTL_EXIT_FAIL;
		goto out;
	}
	ret = run(ctx, &o, &io, sigfd);
out:
	strv_clear(&o.env);
	return ret;
}
