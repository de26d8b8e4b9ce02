/* A scripted Task service for shimctl's tests: just enough of a shim to answer every shortcut,
 * run "processes" on FIFOs the way a shim does, and log each request it got.
 *
 * Usage: fake_shim SOCKET LOG BUNDLE
 *
 * Container "c1" exists (init pid 4242, RUNNING); any other id is NotFound "container not
 * created". Exec ids: "dup" already exists, "sleeper" is running and never exits. An exec's
 * args[0] picks what it does once started:
 *   echo ARGS...  writes ARGS joined by spaces and a newline to stdout, exits 0
 *   fail          writes "oops\n" to stderr, exits 3
 *   cat           copies stdin to stdout until EOF, exits 0
 *   spec          writes the process JSON it got to stdout, exits 0
 *   tty           writes "terminal=<bool> stderr=<path>\n", exits 0
 *   sleep         runs until killed (exit status 128 + signal)
 * Create answers pid 4242 for any request. Each request is appended to LOG as "<Method>
 * ns=<metadata> <request as JSON>". Events/Forward is served too (logged only). Shutdown replies
 * and exits. */
#include "cleanup.h"
#include "pbjson.h"
#include "server.h"
#include "shimctl.h"
#include "xalloc.h"

#include "containerd/runc/options.pb-c.h"
#include "containerd/cgroups/v1/metrics.pb-c.h"
#include "containerd/services/ttrpc/events/v1/events.pb-c.h"
#include "containerd/task/v2/shim.pb-c.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define INIT_PID 4242
#define GO_ZERO_SECONDS (-62135596800LL)
#define MAX_EXECS 16

struct fake_exec {
	char *id;
	char *spec; /* process JSON */
	char **args;
	bool terminal, started, exited;
	char *stderr_path;
	int in_fd, out_fd, err_fd;
	uint32_t pid, status;
	uv_poll_t in_poll;
	bool polling;
	struct ttrpc_request *waiters[4];
	int n_waiters;
};

static struct fake_exec *execs[MAX_EXECS];
static FILE *log_file;
static const char *bundle;
static uv_loop_t *loop;
static struct ttrpc_server *server;
static uint32_t next_pid = 5000;

static const struct pbjson_opts log_opts = { .lookup = shimctl_lookup_type };

static void
log_request(struct ttrpc_request *req, const ProtobufCMessageDescriptor *d)
{
	size_t len;
	const uint8_t *p = ttrpc_request_payload(req, &len);
	const char *ns = ttrpc_request_metadata(req, SHIMCTL_NS_METADATA);
	ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, len, p);
	_cleanup_free_ char *json = m ? pbjson_format(m, &log_opts) : xstrdup("(undecodable)");

	fprintf(log_file, "%s ns=%s %s\n", ttrpc_request_method(req), ns ? ns : "-", json);
	fflush(log_file);
	if (m)
		protobuf_c_message_free_unpacked(m, NULL);
}

/* Decodes and logs the request; NULL after replying InvalidArgument. */
static ProtobufCMessage *
decode(struct ttrpc_request *req, const ProtobufCMessageDescriptor *d)
{
	size_t len;
	const uint8_t *p = ttrpc_request_payload(req, &len);
	ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, len, p);

	log_request(req, d);
	if (m == NULL)
		ttrpc_reply_status(req, MINI_E_INVALID, "cannot decode %s", d->name);
	return m;
}

static struct fake_exec *
find_exec(const char *id)
{
	for (int i = 0; i < MAX_EXECS; i++) {
		if (execs[i] && strcmp(execs[i]->id, id) == 0)
			return execs[i];
	}
	return NULL;
}

static struct fake_exec *
add_exec(const char *id)
{
	for (int i = 0; i < MAX_EXECS; i++) {
		if (execs[i] == NULL) {
			execs[i] = xcalloc(1, sizeof(*execs[i]));
			execs[i]->id = xstrdup(id);
			execs[i]->in_fd = execs[i]->out_fd = execs[i]->err_fd = -1;
			return execs[i];
		}
	}
	abort();
}

static void
exec_free_memory(struct fake_exec *e)
{
	for (char **a = e->args; a && *a; a++)
		free(*a);
	free(e->args);
	free(e->id);
	free(e->spec);
	free(e->stderr_path);
	free(e);
}

static void
on_poll_closed(uv_handle_t *h)
{
	exec_free_memory(h->data);
}

static void
free_exec(struct fake_exec *e)
{
	for (int i = 0; i < MAX_EXECS; i++) {
		if (execs[i] == e)
			execs[i] = NULL;
	}
	closep(&e->in_fd);
	closep(&e->out_fd);
	closep(&e->err_fd);
	for (int i = 0; i < e->n_waiters; i++)
		ttrpc_reply_status(e->waiters[i], MINI_E_CANCELED, "shim shutting down");
	e->n_waiters = 0;
	if (e->polling) {
		uv_poll_stop(&e->in_poll);
		uv_close((uv_handle_t *)&e->in_poll, on_poll_closed);
		return;
	}
	exec_free_memory(e);
}

static bool
check_container(struct ttrpc_request *req, const char *id)
{
	if (strcmp(id, "c1") == 0)
		return true;
	ttrpc_reply_status(req, MINI_E_NOTFOUND, "container not created");
	return false;
}

/* The exec exec_id names, or NULL; false after replying NotFound when a non-empty exec_id names
 * none. */
static bool
lookup_exec(struct ttrpc_request *req, const char *exec_id, struct fake_exec **e)
{
	*e = find_exec(exec_id);
	if (*exec_id == '\0' || *e != NULL)
		return true;
	ttrpc_reply_status(req, MINI_E_NOTFOUND, "process %s does not exist", exec_id);
	return false;
}

static void
set_go_zero(Google__Protobuf__Timestamp *ts)
{
	ts->seconds = GO_ZERO_SECONDS;
	ts->nanos = 0;
}

/* Replies to a Wait: the process exited with status at a fixed time. */
static void
reply_exited(struct ttrpc_request *req, uint32_t status)
{
	Containerd__Task__V2__WaitResponse res = CONTAINERD__TASK__V2__WAIT_RESPONSE__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;

	ts.seconds = 1714557600;
	res.exit_status = status;
	res.exited_at = &ts;
	ttrpc_reply(req, &res.base);
}

static void
exec_exit(struct fake_exec *e, uint32_t status)
{
	e->exited = true;
	e->status = status;
	for (int i = 0; i < e->n_waiters; i++)
		reply_exited(e->waiters[i], status);
	e->n_waiters = 0;
	if (e->polling)
		uv_poll_stop(&e->in_poll);
}

static void fd_printf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
fd_printf(int fd, const char *fmt, ...)
{
	_cleanup_free_ char *s = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	if (fd >= 0 && write(fd, s, strlen(s)) < 0)
		fprintf(stderr, "fake_shim: write: %s\n", strerror(errno));
}

static void
on_stdin(uv_poll_t *h, int status, int events)
{
	struct fake_exec *e = h->data;
	char buf[4096];
	ssize_t n = read(e->in_fd, buf, sizeof(buf));

	if (n > 0) {
		if (write(e->out_fd, buf, (size_t)n) < 0)
			fprintf(stderr, "fake_shim: write: %s\n", strerror(errno));
		return;
	}
	if (n < 0 && errno == EAGAIN)
		return;
	exec_exit(e, 0);
}

static void
run_exec(struct fake_exec *e)
{
	const char *prog = e->args && e->args[0] ? e->args[0] : "";

	if (strcmp(prog, "echo") == 0) {
		for (char **a = e->args + 1; *a; a++)
			fd_printf(e->out_fd, "%s%s", *a, a[1] ? " " : "\n");
		exec_exit(e, 0);
	} else if (strcmp(prog, "fail") == 0) {
		fd_printf(e->err_fd, "oops\n");
		exec_exit(e, 3);
	} else if (strcmp(prog, "spec") == 0) {
		fd_printf(e->out_fd, "%s\n", e->spec);
		exec_exit(e, 0);
	} else if (strcmp(prog, "tty") == 0) {
		fd_printf(e->out_fd, "terminal=%s stderr=%s\n", e->terminal ? "true" : "false",
			  e->stderr_path);
		exec_exit(e, 0);
	} else if (strcmp(prog, "cat") == 0) {
		uv_poll_init(loop, &e->in_poll, e->in_fd);
		e->in_poll.data = e;
		e->polling = true;
		uv_poll_start(&e->in_poll, UV_READABLE | UV_DISCONNECT, on_stdin);
	} else if (strcmp(prog, "sleep") != 0) {
		fd_printf(e->err_fd >= 0 ? e->err_fd : e->out_fd, "%s: not found\n", prog);
		exec_exit(e, 127);
	}
}

/* args from the process JSON. */
static char **
spec_args(const char *spec)
{
	const char *path[] = { "args", NULL };
	yajl_val tree = yajl_tree_parse(spec, NULL, 0), args;
	char **out;
	size_t n = 0;

	args = tree ? yajl_tree_get(tree, path, yajl_t_array) : NULL;
	out = xcalloc((args ? args->u.array.len : 0) + 1, sizeof(*out));
	for (size_t i = 0; args && i < args->u.array.len; i++) {
		if (YAJL_IS_STRING(args->u.array.values[i]))
			out[n++] = xstrdup(args->u.array.values[i]->u.string);
	}
	yajl_tree_free(tree);
	return out;
}

/* The handlers below get the decoded request; on_request frees it after they return. */

static void
do_exec(struct ttrpc_request *req, const void *msg)
{
	const Containerd__Task__V2__ExecProcessRequest *r = msg;
	struct fake_exec *e;

	if (find_exec(r->exec_id)) {
		ttrpc_reply_status(req, MINI_E_EXISTS, "id %s: already exists", r->exec_id);
		return;
	}
	e = add_exec(r->exec_id);
	e->terminal = r->terminal;
	e->spec = r->spec ? xstrndup((const char *)r->spec->value.data, r->spec->value.len)
			  : xstrdup("{}");
	e->args = spec_args(e->spec);
	e->stderr_path = xstrdup(r->stderr);
	/* As a shim does: the output FIFOs read-write (a keep-alive reader), stdin read-only. */
	if (*r->stdout)
		e->out_fd = open(r->stdout, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (*r->stderr)
		e->err_fd = open(r->stderr, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (*r->stdin)
		e->in_fd = open(r->stdin, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ttrpc_reply(req, NULL);
}

static void
do_start(struct ttrpc_request *req, const void *msg)
{
	const Containerd__Task__V2__StartRequest *r = msg;
	Containerd__Task__V2__StartResponse res = CONTAINERD__TASK__V2__START_RESPONSE__INIT;
	struct fake_exec *e;

	if (!lookup_exec(req, r->exec_id, &e))
		return;
	res.pid = e ? (e->pid = next_pid++) : INIT_PID;
	ttrpc_reply(req, &res.base);
	if (e) {
		e->started = true;
		run_exec(e);
	}
}

static void
do_wait(struct ttrpc_request *req, const void *msg)
{
	const Containerd__Task__V2__WaitRequest *r = msg;
	struct fake_exec *e;

	if (!lookup_exec(req, r->exec_id, &e))
		return;
	if (*r->exec_id == '\0')
		reply_exited(req, 7);
	else if (e->exited)
		reply_exited(req, e->status);
	else if (e->n_waiters < 4)
		e->waiters[e->n_waiters++] = req;
	else
		ttrpc_reply_status(req, MINI_E_EXHAUSTED, "too many waiters");
}

static void
do_delete(struct ttrpc_request *req, const void *msg)
{
	const Containerd__Task__V2__DeleteRequest *r = msg;
	Containerd__Task__V2__DeleteResponse res = CONTAINERD__TASK__V2__DELETE_RESPONSE__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	struct fake_exec *e;

	if (!lookup_exec(req, r->exec_id, &e))
		return;
	ts.seconds = 1714557600;
	res.exited_at = &ts;
	if (*r->exec_id == '\0') {
		res.pid = INIT_PID;
		res.exit_status = 7;
		ttrpc_reply(req, &res.base);
	} else if (e->started && !e->exited) {
		ttrpc_reply_status(req, MINI_E_PRECONDITION, "cannot delete a running process");
	} else {
		res.pid = e->pid;
		res.exit_status = e->status;
		free_exec(e);
		ttrpc_reply(req, &res.base);
	}
}

static void
do_create(struct ttrpc_request *req, const void *msg)
{
	Containerd__Task__V2__CreateTaskResponse res =
		CONTAINERD__TASK__V2__CREATE_TASK_RESPONSE__INIT;

	res.pid = INIT_PID;
	ttrpc_reply(req, &res.base);
}

static void
do_state(struct ttrpc_request *req, const void *msg)
{
	const Containerd__Task__V2__StateRequest *r = msg;
	Containerd__Task__V2__StateResponse res = CONTAINERD__TASK__V2__STATE_RESPONSE__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	struct fake_exec *e;

	if (!lookup_exec(req, r->exec_id, &e))
		return;
	set_go_zero(&ts);
	res.id = r->id;
	res.exec_id = r->exec_id;
	res.bundle = (char *)bundle;
	res.pid = e ? e->pid : INIT_PID;
	res.status = e && e->exited ? CONTAINERD__V1__TYPES__STATUS__STOPPED
				    : CONTAINERD__V1__TYPES__STATUS__RUNNING;
	res.exit_status = e ? e->status : 0;
	res.exited_at = &ts;
	ttrpc_reply(req, &res.base);
}

static void
do_kill(struct ttrpc_request *req, const void *msg)
{
	const Containerd__Task__V2__KillRequest *r = msg;
	struct fake_exec *e = find_exec(r->exec_id);

	if (*r->exec_id && (e == NULL || e->exited)) {
		ttrpc_reply_status(req, MINI_E_NOTFOUND, "process already finished");
		return;
	}
	ttrpc_reply(req, NULL);
	if (e && e->started)
		exec_exit(e, 128 + r->signal);
}

static void
do_pids(struct ttrpc_request *req, const void *msg)
{
	Containerd__Task__V2__PidsResponse res = CONTAINERD__TASK__V2__PIDS_RESPONSE__INIT;
	Containerd__V1__Types__ProcessInfo p0 = CONTAINERD__V1__TYPES__PROCESS_INFO__INIT;
	Containerd__V1__Types__ProcessInfo p1 = CONTAINERD__V1__TYPES__PROCESS_INFO__INIT;
	Containerd__V1__Types__ProcessInfo *ps[] = { &p0, &p1 };
	Containerd__Runc__V1__ProcessDetails pd = CONTAINERD__RUNC__V1__PROCESS_DETAILS__INIT;
	Google__Protobuf__Any info = GOOGLE__PROTOBUF__ANY__INIT;
	uint8_t buf[64];

	pd.exec_id = "e1";
	info.type_url = "containerd.runc.v1.ProcessDetails";
	info.value.len = containerd__runc__v1__process_details__pack(&pd, buf);
	info.value.data = buf;
	p0.pid = INIT_PID;
	p1.pid = 4243;
	p1.info = &info;
	res.n_processes = 2;
	res.processes = ps;
	ttrpc_reply(req, &res.base);
}

static void
do_stats(struct ttrpc_request *req, const void *msg)
{
	Containerd__Task__V2__StatsResponse res = CONTAINERD__TASK__V2__STATS_RESPONSE__INIT;
	Io__Containerd__Cgroups__V1__Metrics m = IO__CONTAINERD__CGROUPS__V1__METRICS__INIT;
	Io__Containerd__Cgroups__V1__PidsStat pids = IO__CONTAINERD__CGROUPS__V1__PIDS_STAT__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	uint8_t buf[64];

	pids.current = 3;
	pids.limit = 10;
	m.pids = &pids;
	any.type_url = "io.containerd.cgroups.v1.Metrics";
	any.value.len = io__containerd__cgroups__v1__metrics__pack(&m, buf);
	any.value.data = buf;
	res.stats = &any;
	ttrpc_reply(req, &res.base);
}

static void
do_connect(struct ttrpc_request *req, const void *msg)
{
	Containerd__Task__V2__ConnectResponse res = CONTAINERD__TASK__V2__CONNECT_RESPONSE__INIT;

	res.shim_pid = (uint32_t)getpid();
	res.task_pid = INIT_PID;
	res.version = "fake";
	ttrpc_reply(req, &res.base);
}

static void
on_closed(void *data)
{
	uv_stop(loop);
}

static void
do_shutdown(struct ttrpc_request *req, const void *msg)
{
	ttrpc_reply(req, NULL);
	ttrpc_server_close(server, 1000, on_closed, NULL);
}

/* Pause, Resume, ResizePty, CloseIO, Update, Forward: answer Empty. */
static void
do_empty(struct ttrpc_request *req, const void *msg)
{
	ttrpc_reply(req, NULL);
}

/* A method the fake serves: its request type, whether the request's "id" must name the
 * container, and what it does. */
struct handler {
	const char *method;
	const ProtobufCMessageDescriptor *req;
	bool check_id;
	void (*fn)(struct ttrpc_request *req, const void *msg);
};

static const struct handler task_handlers[] = {
	{ "Create", &containerd__task__v2__create_task_request__descriptor, false, do_create },
	{ "State", &containerd__task__v2__state_request__descriptor, true, do_state },
	{ "Start", &containerd__task__v2__start_request__descriptor, true, do_start },
	{ "Delete", &containerd__task__v2__delete_request__descriptor, true, do_delete },
	{ "Pids", &containerd__task__v2__pids_request__descriptor, true, do_pids },
	{ "Pause", &containerd__task__v2__pause_request__descriptor, false, do_empty },
	{ "Resume", &containerd__task__v2__resume_request__descriptor, false, do_empty },
	{ "Kill", &containerd__task__v2__kill_request__descriptor, true, do_kill },
	{ "Exec", &containerd__task__v2__exec_process_request__descriptor, true, do_exec },
	{ "ResizePty", &containerd__task__v2__resize_pty_request__descriptor, false, do_empty },
	{ "CloseIO", &containerd__task__v2__close_iorequest__descriptor, false, do_empty },
	{ "Update", &containerd__task__v2__update_task_request__descriptor, false, do_empty },
	{ "Wait", &containerd__task__v2__wait_request__descriptor, true, do_wait },
	{ "Stats", &containerd__task__v2__stats_request__descriptor, true, do_stats },
	{ "Connect", &containerd__task__v2__connect_request__descriptor, false, do_connect },
	{ "Shutdown", &containerd__task__v2__shutdown_request__descriptor, false, do_shutdown },
};

static const struct handler forward_handler = {
	"Forward", &containerd__services__events__ttrpc__v1__forward_request__descriptor, false,
	do_empty
};

/* The request's string field "id". */
static const char *
request_id(const ProtobufCMessage *m)
{
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(m->descriptor, "id");

	return *(const char *const *)((const char *)m + f->offset);
}

/* Every method: decode and log the request, check the container, run the handler. */
static void
on_request(struct ttrpc_request *req, void *data)
{
	const struct handler *h = data;
	ProtobufCMessage *m = decode(req, h->req);

	if (m == NULL)
		return;
	if (!h->check_id || check_container(req, request_id(m)))
		h->fn(req, m);
	protobuf_c_message_free_unpacked(m, NULL);
}

int
main(int argc, char **argv)
{
	_cleanup_err_ struct mini_err *err = NULL;
	struct fake_exec *e;

	if (argc != 4) {
		fprintf(stderr, "usage: fake_shim SOCKET LOG BUNDLE\n");
		return 2;
	}
	log_file = fopen(argv[2], "ae");
	if (log_file == NULL)
		return 1;
	bundle = argv[3];
	loop = uv_default_loop();
	server = ttrpc_server_new(loop);
	for (size_t i = 0; i < sizeof(task_handlers) / sizeof(task_handlers[0]); i++)
		ttrpc_server_register(server, SHIMCTL_TASK_SERVICE, task_handlers[i].method,
				      on_request, (void *)&task_handlers[i]);
	ttrpc_server_register(server, SHIMCTL_EVENTS_SERVICE, forward_handler.method, on_request,
			      (void *)&forward_handler);
	add_exec("dup");
	e = add_exec("sleeper");
	e->started = true;
	e->pid = 4999;
	if (ttrpc_server_listen_path(server, argv[1], &err) < 0) {
		_cleanup_free_ char *s = mini_err_render(err);
		fprintf(stderr, "fake_shim: %s\n", s);
		return 1;
	}
	uv_run(loop, UV_RUN_DEFAULT);
	for (int i = 0; i < MAX_EXECS; i++) {
		if (execs[i])
			free_exec(execs[i]);
	}
	uv_run(loop, UV_RUN_NOWAIT);
	uv_loop_close(loop);
	fclose(log_file);
	return 0;
}
