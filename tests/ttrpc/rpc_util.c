#include "rpc_util.h"
#include "cleanup.h"
#include "err.h"
#include "ttrpc/ttrpc.pb-c.h"
#include "xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct ttrpc_request *parked[MAX_PARKED];
int n_parked;
int big_calls;
bool shutdown_done;
static int completions;

/* ---- the test service ---- */

static Ttrpc__KeyValue *
req_kv(struct ttrpc_request *req)
{
	size_t len;
	const uint8_t *p = ttrpc_request_payload(req, &len);

	return ttrpc__key_value__unpack(NULL, len, p);
}

/* Replies KeyValue{key: the request's key, value: its value}, or Internal if it does not
 * decode (as the Go server does). */
static void
h_echo(struct ttrpc_request *req, void *data)
{
	Ttrpc__KeyValue *kv = req_kv(req);

	if (kv == NULL) {
		ttrpc_reply_status(req, 13, "ttrpc: error unmarshalling payload");
		return;
	}
	ttrpc_reply(req, &kv->base);
	ttrpc__key_value__free_unpacked(kv, NULL);
}

static void
h_park(struct ttrpc_request *req, void *data)
{
	if (n_parked == MAX_PARKED) {
		ttrpc_reply_status(req, 8, "too many parked");
		return;
	}
	parked[n_parked++] = req;
}

/* Replies KeyValue{key: the namespace metadata, value: timeout_nano}. */
static void
h_meta(struct ttrpc_request *req, void *data)
{
	Ttrpc__KeyValue kv = TTRPC__KEY_VALUE__INIT;
	const char *ns = ttrpc_request_metadata(req, "containerd-namespace-ttrpc");
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRId64, ttrpc_request_timeout_nano(req));
	kv.key = (char *)(ns ? ns : "(none)");
	kv.value = buf;
	ttrpc_reply(req, &kv.base);
}

static void
h_fail(struct ttrpc_request *req, void *data)
{
	struct mini_err *err = NULL;

	mini_err_set(&err, ESRCH, "process %s", "abc");
	ttrpc_reply_err(req, err);
}

static void
h_status(struct ttrpc_request *req, void *data)
{
	ttrpc_reply_status(req, 9, "cannot start %s", "a running process");
}

/* Replies with a value of the requested size (key = size in bytes), filled with the request's
 * value repeated: large replies exercise the write queue. */
static void
h_big(struct ttrpc_request *req, void *data)
{
	Ttrpc__KeyValue *in = req_kv(req);
	Ttrpc__KeyValue out = TTRPC__KEY_VALUE__INIT;
	size_t n = in ? strtoul(in->key, NULL, 10) : 0;
	char *v = xmalloc(n + 1);

	big_calls++;

	for (size_t i = 0; i < n; i++)
		v[i] = in->value[i % strlen(in->value)];
	v[n] = '\0';
	out.key = in ? in->value : "";
	out.value = v;
	ttrpc_reply(req, &out.base);
	free(v);
	if (in)
		ttrpc__key_value__free_unpacked(in, NULL);
}

static void
on_shutdown_done(void *data)
{
	shutdown_done = true;
}

/* Like the shim's Shutdown: answer, then close the server from inside its own handler. */
static void
h_shutdown(struct ttrpc_request *req, void *data)
{
	ttrpc_reply(req, NULL);
	ttrpc_server_close(data, 1000, on_shutdown_done, NULL);
}

void
test_service_register(struct ttrpc_server *srv)
{
	ttrpc_server_register(srv, TEST_SVC, "Shutdown", h_shutdown, srv);
	ttrpc_server_register(srv, TEST_SVC, "Echo", h_echo, NULL);
	ttrpc_server_register(srv, TEST_SVC, "Park", h_park, NULL);
	ttrpc_server_register(srv, TEST_SVC, "Meta", h_meta, NULL);
	ttrpc_server_register(srv, TEST_SVC, "Fail", h_fail, NULL);
	ttrpc_server_register(srv, TEST_SVC, "Status", h_status, NULL);
	ttrpc_server_register(srv, TEST_SVC, "Big", h_big, NULL);
}

/* ---- calls ---- */

void
on_outcome(const struct ttrpc_result *res, void *data)
{
	struct outcome *o = data;
	Ttrpc__KeyValue *kv;

	if (o->done) {
		/* The callback must run exactly once: make a second run visible. */
		o->code = -1000;
		return;
	}
	o->done = true;
	o->code = res->code;
	o->message = xstrdup(res->message ? res->message : "(null)");
	o->len = res->len;
	o->order = ++completions;
	kv = res->len ? ttrpc__key_value__unpack(NULL, res->len, res->payload) : NULL;
	if (kv) {
		o->key = xstrdup(kv->key);
		o->value = xstrdup(kv->value);
		ttrpc__key_value__free_unpacked(kv, NULL);
	}
}

void
outcome_clear(struct outcome *o)
{
	free(o->message);
	free(o->key);
	free(o->value);
	memset(o, 0, sizeof(*o));
}

int
call_kv(struct ttrpc_client *c, const char *method, const char *key, const char *value,
	int64_t timeout_ns, struct outcome *o)
{
	Ttrpc__KeyValue kv = TTRPC__KEY_VALUE__INIT;
	struct ttrpc_kv md[] = { { "containerd-namespace-ttrpc", "testns" } };
	struct mini_err *err = NULL;
	int r;

	kv.key = (char *)key;
	kv.value = (char *)value;
	r = ttrpc_client_call(c, TEST_SVC, method, &kv.base, timeout_ns, md, 1, on_outcome, o,
			      &err);
	mini_err_free(err);
	return r;
}

/* ---- loop ---- */

static void
on_guard(uv_timer_t *t)
{
	*(bool *)t->data = true;
}

static void
on_guard_closed(uv_handle_t *h)
{
}

bool
run_until_fn(uv_loop_t *loop, bool (*pred)(void *), void *arg, unsigned timeout_ms)
{
	uv_timer_t guard;
	bool expired = false;

	uv_timer_init(loop, &guard);
	guard.data = &expired;
	uv_timer_start(&guard, on_guard, timeout_ms, 0);
	while (!pred(arg) && !expired)
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&guard, on_guard_closed);
	/* Let the close complete without blocking on other handles. */
	uv_run(loop, UV_RUN_NOWAIT);
	return pred(arg);
}

static bool
flag_set(void *arg)
{
	return *(const bool *)arg;
}

bool
run_until(uv_loop_t *loop, const bool *flag, unsigned timeout_ms)
{
	return run_until_fn(loop, flag_set, (void *)flag, timeout_ms);
}

/* ---- raw peer ---- */

static uint8_t raw_buf[65536];

static int
raw_on_frame(void *data, const struct ttrpc_header *h, const uint8_t *payload)
{
	struct raw_peer *p = data;
	struct raw_frame *f;
	Ttrpc__Response *resp;

	p->total++;
	if (p->n == RAW_MAX_FRAMES)
		return 0;
	f = &p->frames[p->n++];
	f->h = *h;
	f->code = -1;
	resp = payload ? ttrpc__response__unpack(NULL, h->length, payload) : NULL;
	if (resp) {
		f->code = resp->status ? resp->status->code : 0;
		f->message = xstrdup(resp->status ? resp->status->message : "");
		ttrpc__response__free_unpacked(resp, NULL);
	}
	return 0;
}

static void
raw_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	*buf = uv_buf_init((char *)raw_buf, sizeof(raw_buf));
}

static void
raw_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct raw_peer *p = s->data;

	if (nread < 0) {
		p->eof = true;
		uv_read_stop(s);
		return;
	}
	ttrpc_decoder_feed(&p->dec, (const uint8_t *)buf->base, (size_t)nread, raw_on_frame, p);
}

int
raw_open(uv_loop_t *loop, struct raw_peer *p, const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	memset(p, 0, sizeof(*p));
	ttrpc_decoder_init(&p->dec);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* A unix connect completes at once while the listener's backlog has room. */
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	uv_pipe_init(loop, &p->pipe, 0);
	p->pipe.data = p;
	uv_pipe_open(&p->pipe, fd);
	uv_read_start((uv_stream_t *)&p->pipe, raw_alloc, raw_read);
	return 0;
}

struct raw_write {
	uv_write_t req;
	char *buf;
};

static void
raw_written(uv_write_t *req, int status)
{
	struct raw_write *w = (struct raw_write *)req;

	free(w->buf);
	free(w);
}

void
raw_write(struct raw_peer *p, const void *buf, size_t len)
{
	struct raw_write *w = xcalloc(1, sizeof(*w));
	uv_buf_t b;

	w->buf = xmalloc(len);
	memcpy(w->buf, buf, len);
	b = uv_buf_init(w->buf, (unsigned)len);
	if (uv_write(&w->req, (uv_stream_t *)&p->pipe, &b, 1, raw_written) < 0) {
		free(w->buf);
		free(w);
	}
}

static void
raw_closed(uv_handle_t *h)
{
	struct raw_peer *p = h->data;

	p->closed = true;
}

void
raw_close(struct raw_peer *p)
{
	for (int i = 0; i < p->n; i++)
		free(p->frames[i].message);
	p->n = 0;
	ttrpc_decoder_release(&p->dec);
	uv_close((uv_handle_t *)&p->pipe, raw_closed);
}

void
raw_reading(struct raw_peer *p, bool on)
{
	if (on)
		uv_read_start((uv_stream_t *)&p->pipe, raw_alloc, raw_read);
	else
		uv_read_stop((uv_stream_t *)&p->pipe);
}
