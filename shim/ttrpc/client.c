/* The asynchronous ttrpc client (ttrpc_client_*). The blocking one is in client_sync.c. */
#include "client.h"
#include "cleanup.h"
#include "envelope.h"
#include "frame.h"
#include "dlist.h"
#include "log.h"
#include "ttrpc/ttrpc.pb-c.h"
#include "xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

/* Requests and replies are small; a frame that does not fit is assembled by the decoder in a buffer
 * of exactly its size, freed once it is dispatched. So a read buffer of one page is enough, and a
 * long-lived shim keeps no more than that per server or client (issue 6's memory targets). */
#define READ_BUF_SIZE 4096

enum conn_state {
	CONN_IDLE,	 /* no pipe handle */
	CONN_CONNECTING, /* uv_pipe_connect in progress */
	CONN_UP,
	CONN_CLOSING, /* uv_close in progress; reconnects from its callback if calls wait */
};

struct call {
	struct dlist link; /* in c->queued until sent, then in c->inflight */
	uint32_t stream_id;
	uint8_t *frame; /* the encoded request until it is handed to uv_write */
	size_t frame_len;
	uint64_t deadline; /* uv_now() ms; 0 = none */
	char *what;	   /* "service/method", for messages */
	ttrpc_call_cb cb;
	void *data;
};

struct write_req {
	uv_write_t req;
	uint8_t *buf;
};

struct ttrpc_client {
	uv_loop_t *loop;
	char *path;
	uv_pipe_t pipe;
	uv_connect_t connect_req;
	enum conn_state state;
	uv_timer_t timer; /* the earliest call deadline */
	struct dlist queued, inflight;
	uint32_t next_id;
	struct ttrpc_decoder dec;
	bool closing;
	unsigned pending_closes;
	uint8_t rbuf[READ_BUF_SIZE];
};

static void client_connect(struct ttrpc_client *c);
static void on_timer(uv_timer_t *t);

void
ttrpc_result_clear(struct ttrpc_result *res)
{
	free(res->message);
	free(res->payload);
	memset(res, 0, sizeof(*res));
}

struct ttrpc_client *
ttrpc_client_new(uv_loop_t *loop, const char *path)
{
	struct ttrpc_client *c = xcalloc(1, sizeof(*c));

	if (strncmp(path, "unix://", 7) == 0)
		path += 7;
	c->loop = loop;
	c->path = xstrdup(path);
	c->state = CONN_IDLE;
	dlist_init(&c->queued);
	dlist_init(&c->inflight);
	ttrpc_decoder_init(&c->dec);
	uv_timer_init(loop, &c->timer);
	c->timer.data = c;
	return c;
}

static void
call_free(struct call *call)
{
	free(call->frame);
	free(call->what);
	free(call);
}

/* Unlinks call, reports res, frees call. */
static void
call_complete(struct call *call, const struct ttrpc_result *res)
{
	dlist_del(&call->link);
	call->cb(res, call->data);
	call_free(call);
}

static void call_fail(struct call *call, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
call_fail(struct call *call, int code, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	struct ttrpc_result res = { .code = code };
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	res.message = msg;
	call_complete(call, &res);
}

/* Fails every call of batch (a detached list): callbacks may start new calls, which must land in
 * the client's lists and not in this batch. */
static void
fail_batch(struct dlist *batch, int code, const char *why)
{
	while (!dlist_empty(batch)) {
		struct call *call = dlist_entry(batch->next, struct call, link);

		call_fail(call, code, "ttrpc call %s: %s", call->what, why);
	}
}

static void
client_arm_timer(struct ttrpc_client *c)
{
	struct dlist *lists[] = { &c->queued, &c->inflight };
	uint64_t first = 0, now = uv_now(c->loop);

	if (c->closing)
		return;
	for (size_t i = 0; i < 2; i++) {
		for (struct dlist *it = lists[i]->next; it != lists[i]; it = it->next) {
			struct call *call = dlist_entry(it, struct call, link);

			if (call->deadline && (first == 0 || call->deadline < first))
				first = call->deadline;
		}
	}
	if (first == 0) {
		uv_timer_stop(&c->timer);
		return;
	}
	uv_timer_start(&c->timer, on_timer, first > now ? first - now : 0, 0);
}

static struct call *
first_expired(struct ttrpc_client *c, uint64_t now)
{
	struct dlist *lists[] = { &c->queued, &c->inflight };

	for (size_t i = 0; i < 2; i++) {
		for (struct dlist *it = lists[i]->next; it != lists[i]; it = it->next) {
			struct call *call = dlist_entry(it, struct call, link);

			if (call->deadline && call->deadline <= now)
				return call;
		}
	}
	return NULL;
}

static void
on_timer(uv_timer_t *t)
{
	struct ttrpc_client *c = t->data;
	uint64_t now = uv_now(c->loop);
	struct call *call;

	/* One at a time: each callback may change the lists. A late reply to an expired call
	 * then finds no stream and is dropped. */
	while (!c->closing && (call = first_expired(c, now)) != NULL)
		call_fail(call, MINI_E_DEADLINE, "ttrpc call %s: deadline exceeded", call->what);
	client_arm_timer(c);
}

static void
client_maybe_free(struct ttrpc_client *c)
{
	if (c->pending_closes > 0)
		return;
	ttrpc_decoder_release(&c->dec);
	free(c->path);
	free(c);
}

static void
on_timer_closed(uv_handle_t *h)
{
	struct ttrpc_client *c = h->data;

	c->pending_closes--;
	client_maybe_free(c);
}

static void
on_pipe_closed(uv_handle_t *h)
{
	struct ttrpc_client *c = h->data;

	if (c->closing) {
		c->pending_closes--;
		client_maybe_free(c);
		return;
	}
	c->state = CONN_IDLE;
	if (!dlist_empty(&c->queued))
		client_connect(c);
}

/* The connection is unusable: close it, and fail the calls that were sent on it (and the queued
 * ones too when it never came up). Later calls reconnect. */
static void
client_break(struct ttrpc_client *c, bool fail_queued, const char *why)
{
	struct dlist sent, waiting;

	if (c->state == CONN_CONNECTING || c->state == CONN_UP) {
		c->state = CONN_CLOSING;
		ttrpc_decoder_release(&c->dec);
		uv_close((uv_handle_t *)&c->pipe, on_pipe_closed);
	}
	dlist_move_all(&c->inflight, &sent);
	dlist_init(&waiting);
	if (fail_queued)
		dlist_move_all(&c->queued, &waiting);
	fail_batch(&sent, MINI_E_UNAVAILABLE, why);
	fail_batch(&waiting, MINI_E_UNAVAILABLE, why);
	client_arm_timer(c);
}

static void
on_write(uv_write_t *req, int status)
{
	struct write_req *wr = (struct write_req *)req;
	struct ttrpc_client *c = req->handle->data;
	_cleanup_free_ char *why = NULL;

	free(wr->buf);
	free(wr);
	if (status >= 0 || c->closing || c->state != CONN_UP)
		return;
	why = xasprintf("write: %s", uv_strerror(status));
	client_break(c, false, why);
}

/* Sends every queued call, in order, each frame as one uv_write. */
static void
client_flush(struct ttrpc_client *c)
{
	while (c->state == CONN_UP && !dlist_empty(&c->queued)) {
		struct call *call = dlist_entry(c->queued.next, struct call, link);
		struct write_req *wr = xcalloc(1, sizeof(*wr));
		uv_buf_t b;
		int r;

		call->stream_id = c->next_id;
		c->next_id += 2;
		ttrpc_envelope_set_stream(call->frame, call->stream_id);
		wr->buf = steal_ptr(&call->frame);
		b = uv_buf_init((char *)wr->buf, (unsigned)call->frame_len);
		dlist_del(&call->link);
		dlist_add_tail(&c->inflight, &call->link);
		r = uv_write(&wr->req, (uv_stream_t *)&c->pipe, &b, 1, on_write);
		if (r < 0) {
			_cleanup_free_ char *why = xasprintf("write: %s", uv_strerror(r));

			free(wr->buf);
			free(wr);
			client_break(c, false, why);
		}
	}
}

static struct call *
find_inflight(struct ttrpc_client *c, uint32_t stream_id)
{
	for (struct dlist *it = c->inflight.next; it != &c->inflight; it = it->next) {
		struct call *call = dlist_entry(it, struct call, link);

		if (call->stream_id == stream_id)
			return call;
	}
	return NULL;
}

static void
call_deliver(struct call *call, const uint8_t *payload, size_t len)
{
	Ttrpc__Response *resp = ttrpc__response__unpack(NULL, len, payload);
	struct ttrpc_result res = { 0 };

	if (resp == NULL) {
		call_fail(call, MINI_E_INTERNAL, "ttrpc call %s: unmarshal response", call->what);
		return;
	}
	if (resp->status) {
		res.code = resp->status->code;
		res.message = resp->status->message;
	} else {
		res.message = "";
	}
	res.payload = resp->payload.data;
	res.len = resp->payload.len;
	call_complete(call, &res);
	ttrpc__response__free_unpacked(resp, NULL);
}

static int
on_frame(void *data, const struct ttrpc_header *h, const uint8_t *payload)
{
	struct ttrpc_client *c = data;
	struct call *call = find_inflight(c, h->stream_id);

	if (call == NULL)
		log_debug("ttrpc: dropping a message for unknown stream %u", h->stream_id);
	else if (payload == NULL)
		call_fail(call, MINI_E_EXHAUSTED,
			  "ttrpc call %s: response length %u exceeds maximum message size of %u",
			  call->what, h->length, TTRPC_MAX_MESSAGE);
	else if (h->type != TTRPC_TYPE_RESPONSE)
		call_fail(call, MINI_E_INTERNAL, "ttrpc call %s: unexpected message type %u",
			  call->what, h->type);
	else
		call_deliver(call, payload, h->length);
	/* A callback may have closed the client. */
	if (c->closing || c->state != CONN_UP)
		return -1;
	return 0;
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct ttrpc_client *c = h->data;

	*buf = uv_buf_init((char *)c->rbuf, sizeof(c->rbuf));
}

static void
on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct ttrpc_client *c = s->data;
	_cleanup_free_ char *why = NULL;

	if (nread == 0 || c->closing || c->state != CONN_UP)
		return;
	if (nread > 0) {
		ttrpc_decoder_feed(&c->dec, (const uint8_t *)buf->base, (size_t)nread, on_frame, c);
		client_arm_timer(c);
		return;
	}
	why = nread == UV_EOF ? xstrdup("connection closed by the server")
			      : xasprintf("read: %s", uv_strerror((int)nread));
	client_break(c, false, why);
}

static void
on_connect(uv_connect_t *req, int status)
{
	struct ttrpc_client *c = req->data;
	_cleanup_free_ char *why = NULL;
	int r;

	/* Canceled: the pipe is being closed, by ttrpc_client_close. */
	if (status == UV_ECANCELED || c->closing || c->state != CONN_CONNECTING)
		return;
	if (status < 0) {
		why = xasprintf("connect %s: %s", c->path, uv_strerror(status));
		client_break(c, true, why);
		return;
	}
	r = uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
	if (r < 0) {
		why = xasprintf("read %s: %s", c->path, uv_strerror(r));
		client_break(c, true, why);
		return;
	}
	c->state = CONN_UP;
	client_flush(c);
}

static void
client_connect(struct ttrpc_client *c)
{
	uv_pipe_init(c->loop, &c->pipe, 0);
	c->pipe.data = c;
	c->connect_req.data = c;
	c->state = CONN_CONNECTING;
	/* Stream ids are per connection: a new one starts again at 1. */
	c->next_id = 1;
	ttrpc_decoder_init(&c->dec);
	/* Errors, even immediate ones, arrive through on_connect on a later loop turn. */
	uv_pipe_connect(&c->connect_req, &c->pipe, c->path, on_connect);
}

int
ttrpc_client_call(struct ttrpc_client *c, const char *service, const char *method,
		  const ProtobufCMessage *req, int64_t timeout_ns, const struct ttrpc_kv *md,
		  size_t n_md, ttrpc_call_cb cb, void *data, struct mini_err **err)
{
	struct call *call;
	uint8_t *frame;
	size_t len;

	if (c->closing)
		return mini_err_setc(err, MINI_E_CANCELED, ESHUTDOWN,
				     "ttrpc call %s/%s: client closed", service, method);
	/* libuv would silently truncate the path and connect elsewhere. */
	if (strlen(c->path) >= sizeof(((struct sockaddr_un *)NULL)->sun_path))
		return mini_err_setc(err, MINI_E_UNAVAILABLE, ENAMETOOLONG,
				     "ttrpc call %s/%s: connect %s", service, method, c->path);
	frame = ttrpc_envelope_request(0, service, method, req, timeout_ns, md, n_md, &len, err);
	if (frame == NULL)
		return -EMSGSIZE;
	call = xcalloc(1, sizeof(*call));
	call->frame = frame;
	call->frame_len = len;
	call->what = xasprintf("%s/%s", service, method);
	call->cb = cb;
	call->data = data;
	if (timeout_ns > 0)
		call->deadline = uv_now(c->loop) + (uint64_t)((timeout_ns + 999999) / 1000000);
	dlist_add_tail(&c->queued, &call->link);
	if (call->deadline)
		client_arm_timer(c);
	switch (c->state) {
	case CONN_IDLE:
		client_connect(c);
		break;
	case CONN_UP:
		client_flush(c);
		break;
	case CONN_CONNECTING:
	case CONN_CLOSING:
		break;
	}
	return 0;
}

void
ttrpc_client_close(struct ttrpc_client *c)
{
	struct dlist sent, waiting;

	if (c->closing)
		return;
	c->closing = true;
	/* New calls are refused from here on, so both batches are final. */
	dlist_move_all(&c->inflight, &sent);
	dlist_move_all(&c->queued, &waiting);
	fail_batch(&sent, MINI_E_CANCELED, "client closed");
	fail_batch(&waiting, MINI_E_CANCELED, "client closed");
	c->pending_closes++;
	uv_close((uv_handle_t *)&c->timer, on_timer_closed);
	switch (c->state) {
	case CONN_CONNECTING:
	case CONN_UP:
		c->state = CONN_CLOSING;
		c->pending_closes++;
		uv_close((uv_handle_t *)&c->pipe, on_pipe_closed);
		break;
	case CONN_CLOSING:
		/* on_pipe_closed is already on its way and will count itself. */
		c->pending_closes++;
		break;
	case CONN_IDLE:
		break;
	}
}
