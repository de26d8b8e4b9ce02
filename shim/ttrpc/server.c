#include "server.h"
#include "cleanup.h"
#include "envelope.h"
#include "fd.h"
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Requests and replies are small; a frame that does not fit is assembled by the decoder in a buffer
 * of exactly its size, freed once it is dispatched. So a read buffer of one page is enough, and a
 * long-lived shim keeps no more than that per server or client (issue 6's memory targets). */
#define READ_BUF_SIZE 4096
/* Stop reading from a peer whose replies pile up unread; resume below half of it. */
#define WRITE_HIGH_WATER (1u << 20)
/* A peer that lets this much pile up is not reading at all: drop it. */
#define WRITE_HARD_LIMIT (64u << 20)

struct method {
	const char *service, *method;
	ttrpc_handler_fn fn;
	void *data;
};

/* One accepted connection. Freed when the handle has closed and no request refers to it any
 * more, so a parked request can always look at it. */
struct conn {
	uv_pipe_t pipe;		  /* pipe.data = this */
	struct ttrpc_server *srv; /* NULL once the handle has closed */
	struct dlist link;	  /* in srv->conns until the handle has closed */
	struct ttrpc_decoder dec;
	unsigned refs;	 /* 1 until the handle has closed, +1 per outstanding request */
	unsigned writes; /* uv_write requests not completed */
	bool closing;	 /* uv_close called: replies are dropped */
	bool draining;	 /* server closing: no reads, close once writes are done */
	bool reading;
};

struct ttrpc_request {
	struct conn *conn;
	uint32_t stream_id;
	Ttrpc__Request *msg;
};

struct write_req {
	uv_write_t req;
	uint8_t *buf;
};

struct ttrpc_server {
	uv_loop_t *loop;
	uv_pipe_t listener;
	bool listener_used; /* listener initialised (and closed once, at close or on failure) */
	uv_timer_t close_timer;
	bool timer_closed;
	struct method *methods;
	size_t n_methods;
	struct dlist conns;
	unsigned n_open;
	unsigned pending_closes; /* listener and timer closes not completed */
	bool closing;
	void (*done)(void *);
	void *done_data;
	/* Shared by all connections: read callbacks never overlap on one loop. */
	uint8_t rbuf[READ_BUF_SIZE];
};

static void conn_close(struct conn *conn);

struct ttrpc_server *
ttrpc_server_new(uv_loop_t *loop)
{
	struct ttrpc_server *srv = xcalloc(1, sizeof(*srv));

	srv->loop = loop;
	dlist_init(&srv->conns);
	uv_timer_init(loop, &srv->close_timer);
	srv->close_timer.data = srv;
	return srv;
}

void
ttrpc_server_register(struct ttrpc_server *srv, const char *service, const char *method,
		      ttrpc_handler_fn fn, void *data)
{
	struct method *m = NULL;

	for (size_t i = 0; i < srv->n_methods; i++) {
		if (strcmp(srv->methods[i].service, service) == 0 &&
		    strcmp(srv->methods[i].method, method) == 0)
			m = &srv->methods[i];
	}
	if (m == NULL) {
		srv->methods = xrealloc(srv->methods, (srv->n_methods + 1) * sizeof(*m));
		m = &srv->methods[srv->n_methods++];
	}
	*m = (struct method){ .service = service, .method = method, .fn = fn, .data = data };
}

unsigned
ttrpc_server_connections(const struct ttrpc_server *srv)
{
	return srv->n_open;
}

/* ---- shutdown bookkeeping ---- */

static void
server_maybe_free(struct ttrpc_server *srv)
{
	if (!srv->closing || !srv->timer_closed || srv->pending_closes > 0 ||
	    !dlist_empty(&srv->conns))
		return;
	if (srv->done)
		srv->done(srv->done_data);
	free(srv->methods);
	free(srv);
}

static void
on_handle_closed(uv_handle_t *h)
{
	struct ttrpc_server *srv = h->data;

	srv->pending_closes--;
	server_maybe_free(srv);
}

/* Once every connection is gone, the timer is the last handle to close. */
static void
server_maybe_finish(struct ttrpc_server *srv)
{
	if (!srv->closing || srv->timer_closed || !dlist_empty(&srv->conns))
		return;
	srv->timer_closed = true;
	srv->pending_closes++;
	uv_close((uv_handle_t *)&srv->close_timer, on_handle_closed);
}

/* ---- connections ---- */

static void
conn_unref(struct conn *conn)
{
	if (--conn->refs > 0)
		return;
	ttrpc_decoder_release(&conn->dec);
	free(conn);
}

static void
on_conn_closed(uv_handle_t *h)
{
	struct conn *conn = h->data;
	struct ttrpc_server *srv = conn->srv;

	dlist_del(&conn->link);
	conn->srv = NULL;
	conn_unref(conn);
	server_maybe_finish(srv);
}

static void
conn_close(struct conn *conn)
{
	if (conn->closing)
		return;
	conn->closing = true;
	conn->reading = false;
	conn->srv->n_open--;
	ttrpc_decoder_release(&conn->dec);
	uv_close((uv_handle_t *)&conn->pipe, on_conn_closed);
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct conn *conn = h->data;

	*buf = uv_buf_init((char *)conn->srv->rbuf, sizeof(conn->srv->rbuf));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void
conn_set_reading(struct conn *conn, bool on)
{
	if (conn->closing || conn->draining || conn->reading == on)
		return;
	if (on && uv_read_start((uv_stream_t *)&conn->pipe, on_alloc, on_read) < 0) {
		conn_close(conn);
		return;
	}
	if (!on)
		uv_read_stop((uv_stream_t *)&conn->pipe);
	conn->reading = on;
}

static void
on_write(uv_write_t *req, int status)
{
	struct write_req *wr = (struct write_req *)req;
	struct conn *conn = req->handle->data;
	size_t queued;

	free(wr->buf);
	free(wr);
	conn->writes--;
	if (conn->closing)
		return;
	if (status < 0) {
		log_debug("ttrpc: write reply: %s", uv_strerror(status));
		conn_close(conn);
		return;
	}
	if (conn->draining) {
		if (conn->writes == 0)
			conn_close(conn);
		return;
	}
	queued = uv_stream_get_write_queue_size((uv_stream_t *)&conn->pipe);
	if (!conn->reading && queued < WRITE_HIGH_WATER / 2)
		conn_set_reading(conn, true);
}

/* Queues one whole frame (takes buf). Each frame is one uv_write, and libuv completes writes in
 * order, so frames never interleave however many are queued. */
static void
conn_send(struct conn *conn, uint8_t *buf, size_t len)
{
	struct write_req *wr;
	uv_buf_t b;
	size_t queued;
	int r;

	if (conn->closing) {
		free(buf);
		return;
	}
	wr = xcalloc(1, sizeof(*wr));
	wr->buf = buf;
	b = uv_buf_init((char *)buf, (unsigned)len);
	r = uv_write(&wr->req, (uv_stream_t *)&conn->pipe, &b, 1, on_write);
	if (r < 0) {
		free(buf);
		free(wr);
		log_debug("ttrpc: write reply: %s", uv_strerror(r));
		conn_close(conn);
		return;
	}
	conn->writes++;
	queued = uv_stream_get_write_queue_size((uv_stream_t *)&conn->pipe);
	if (queued > WRITE_HARD_LIMIT) {
		log_warn("ttrpc: dropping a connection that does not read its replies");
		conn_close(conn);
	} else if (queued > WRITE_HIGH_WATER) {
		conn_set_reading(conn, false);
	}
}

static void conn_send_status(struct conn *conn, uint32_t stream_id, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
conn_send_status(struct conn *conn, uint32_t stream_id, int code, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	uint8_t *frame;
	size_t len;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	frame = ttrpc_envelope_response(stream_id, code, msg, NULL, 0, &len);
	conn_send(conn, frame, len);
}

static const struct method *
server_lookup(const struct ttrpc_server *srv, const char *service, const char *method,
	      bool *service_known)
{
	*service_known = false;
	for (size_t i = 0; i < srv->n_methods; i++) {
		if (strcmp(srv->methods[i].service, service) != 0)
			continue;
		*service_known = true;
		if (strcmp(srv->methods[i].method, method) == 0)
			return &srv->methods[i];
	}
	return NULL;
}

/* A decoded request frame: answer the protocol errors here, hand the rest to its handler. The
 * checks and their messages follow the Go server, whose clients may match on them. */
static void
conn_dispatch(struct conn *conn, uint32_t stream_id, const uint8_t *payload, size_t len)
{
	const struct method *m;
	struct ttrpc_request *req;
	Ttrpc__Request *msg;
	bool service_known;

	msg = ttrpc__request__unpack(NULL, len, payload);
	if (msg == NULL) {
		conn_send_status(conn, stream_id, MINI_E_INVALID,
				 "unmarshal request error: invalid ttrpc.Request");
		return;
	}
	if (stream_id % 2 != 1) {
		ttrpc__request__free_unpacked(msg, NULL);
		conn_send_status(conn, stream_id, MINI_E_INVALID,
				 "StreamID must be odd for client initiated streams");
		return;
	}
	m = server_lookup(conn->srv, msg->service, msg->method, &service_known);
	if (m == NULL) {
		if (service_known)
			conn_send_status(conn, stream_id, MINI_E_UNIMPLEMENTED, "method %s",
					 msg->method);
		else
			conn_send_status(conn, stream_id, MINI_E_UNIMPLEMENTED, "service %s",
					 msg->service);
		ttrpc__request__free_unpacked(msg, NULL);
		return;
	}
	log_debug("ttrpc: request %s/%s stream %u", msg->service, msg->method, stream_id);
	req = xcalloc(1, sizeof(*req));
	req->conn = conn;
	req->stream_id = stream_id;
	req->msg = msg;
	conn->refs++;
	m->fn(req, m->data);
}

static int
on_frame(void *data, const struct ttrpc_header *h, const uint8_t *payload)
{
	struct conn *conn = data;

	switch (h->type) {
	case TTRPC_TYPE_REQUEST:
	case TTRPC_TYPE_RESPONSE:
	case TTRPC_TYPE_DATA:
		break;
	default:
		/* Not a message type ttrpc has ever defined: this is not a ttrpc peer, and the
		 * lengths that follow are as meaningless as this one. */
		log_warn("ttrpc: closing connection after a frame of unknown type %u", h->type);
		conn_close(conn);
		return -1;
	}
	if (payload == NULL)
		conn_send_status(conn, h->stream_id, MINI_E_EXHAUSTED,
				 "message length %u exceed maximum message size of %u", h->length,
				 TTRPC_MAX_MESSAGE);
	else if (h->type == TTRPC_TYPE_REQUEST)
		conn_dispatch(conn, h->stream_id, payload, h->length);
	/* Other types are ignored, as the Go server does, for compatibility. A handler may have
	 * closed this connection or the whole server: then stop decoding. */
	return conn->closing || conn->draining ? -1 : 0;
}

static void
on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *conn = s->data;

	if (nread == 0 || conn->closing)
		return;
	if (nread < 0) {
		if (nread != UV_EOF)
			log_debug("ttrpc: read: %s", uv_strerror((int)nread));
		/* EOF or error: the client is gone, as far as ttrpc is concerned. */
		conn_close(conn);
		return;
	}
	ttrpc_decoder_feed(&conn->dec, (const uint8_t *)buf->base, (size_t)nread, on_frame, conn);
}

static bool
peer_allowed(struct conn *conn)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	uv_os_fd_t fd;

	if (uv_fileno((uv_handle_t *)&conn->pipe, &fd) < 0)
		return false;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		log_warn("ttrpc: refusing connection: SO_PEERCRED: %s", strerror(errno));
		return false;
	}
	if (cred.uid != geteuid() || cred.gid != getegid()) {
		log_warn("ttrpc: refusing connection from pid %d uid %u gid %u", (int)cred.pid,
			 cred.uid, cred.gid);
		return false;
	}
	return true;
}

static void
on_connection(uv_stream_t *listener, int status)
{
	struct ttrpc_server *srv = listener->data;
	struct conn *conn;
	int r;

	if (status < 0) {
		log_warn("ttrpc: accept: %s", uv_strerror(status));
		return;
	}
	if (srv->closing)
		return;
	conn = xcalloc(1, sizeof(*conn));
	uv_pipe_init(srv->loop, &conn->pipe, 0);
	conn->pipe.data = conn;
	conn->srv = srv;
	conn->refs = 1;
	ttrpc_decoder_init(&conn->dec);
	dlist_add_tail(&srv->conns, &conn->link);
	srv->n_open++;
	r = uv_accept(listener, (uv_stream_t *)&conn->pipe);
	if (r < 0) {
		log_warn("ttrpc: accept: %s", uv_strerror(r));
		conn_close(conn);
		return;
	}
	if (!peer_allowed(conn)) {
		conn_close(conn);
		return;
	}
	conn_set_reading(conn, true);
}

/* ---- listening ---- */

int
ttrpc_server_listen_fd(struct ttrpc_server *srv, int fd, struct mini_err **err)
{
	_cleanup_close_ int owned = fd;
	int listening = 0;
	socklen_t len = sizeof(listening);
	int r;

	if (srv->listener_used || srv->closing)
		return mini_err_set(err, EBUSY, "ttrpc server already listening");
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0)
		return mini_err_set(err, errno, "ttrpc listen on fd %d", fd);
	if (!listening)
		return mini_err_set(err, EINVAL, "ttrpc listen on fd %d: not a listening socket",
				    fd);
	/* An inherited fd (containerd passes fd 3) must not leak into the processes we spawn. */
	r = set_cloexec(fd, 1, err);
	if (r < 0)
		return r;
	uv_pipe_init(srv->loop, &srv->listener, 0);
	srv->listener.data = srv;
	srv->listener_used = true;
	r = uv_pipe_open(&srv->listener, fd);
	if (r == 0) {
		steal_fd(&owned);
		r = uv_listen((uv_stream_t *)&srv->listener, SOMAXCONN, on_connection);
	}
	if (r < 0) {
		srv->pending_closes++;
		uv_close((uv_handle_t *)&srv->listener, on_handle_closed);
		return mini_err_set(err, -r, "ttrpc listen on fd %d", fd);
	}
	return 0;
}

int
ttrpc_server_listen_path(struct ttrpc_server *srv, const char *path, struct mini_err **err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	mode_t old_mask;
	int r;

	if (strncmp(path, "unix://", 7) == 0)
		path += 7;
	if (strlen(path) >= sizeof(addr.sun_path))
		return mini_err_set(err, ENAMETOOLONG, "ttrpc listen on %s", path);
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return mini_err_set(err, errno, "ttrpc listen on %s: socket", path);
	/* The socket file is created with mode 0600 from the start (single-threaded: the umask
	 * change is not visible to anyone else). */
	old_mask = umask(0177);
	r = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old_mask);
	if (r < 0 && errno == EADDRINUSE)
		return mini_err_setc(err, MINI_E_EXISTS, EEXIST, "ttrpc listen on %s: bind", path);
	if (r < 0)
		return mini_err_set(err, errno, "ttrpc listen on %s: bind", path);
	if (listen(fd, SOMAXCONN) < 0) {
		r = mini_err_set(err, errno, "ttrpc listen on %s", path);
		unlink(path);
		return r;
	}
	r = ttrpc_server_listen_fd(srv, steal_fd(&fd), err);
	if (r < 0) {
		unlink(path);
		return r;
	}
	return 0;
}

/* ---- closing ---- */

static void
on_close_timeout(uv_timer_t *t)
{
	struct ttrpc_server *srv = t->data;
	struct dlist *it, *next;

	for (it = srv->conns.next; it != &srv->conns; it = next) {
		next = it->next;
		conn_close(dlist_entry(it, struct conn, link));
	}
}

void
ttrpc_server_close(struct ttrpc_server *srv, unsigned timeout_ms, void (*done)(void *), void *data)
{
	struct dlist *it, *next;

	if (srv->closing)
		return;
	srv->closing = true;
	srv->done = done;
	srv->done_data = data;
	if (srv->listener_used && !uv_is_closing((uv_handle_t *)&srv->listener)) {
		srv->pending_closes++;
		uv_close((uv_handle_t *)&srv->listener, on_handle_closed);
	}
	for (it = srv->conns.next; it != &srv->conns; it = next) {
		struct conn *conn = dlist_entry(it, struct conn, link);

		next = it->next;
		if (conn->closing)
			continue;
		conn_set_reading(conn, false);
		conn->draining = true;
		if (conn->writes == 0)
			conn_close(conn);
	}
	if (!dlist_empty(&srv->conns))
		uv_timer_start(&srv->close_timer, on_close_timeout, timeout_ms, 0);
	server_maybe_finish(srv);
}

/* ---- requests ---- */

const char *
ttrpc_request_service(const struct ttrpc_request *req)
{
	return req->msg->service;
}

const char *
ttrpc_request_method(const struct ttrpc_request *req)
{
	return req->msg->method;
}

const uint8_t *
ttrpc_request_payload(const struct ttrpc_request *req, size_t *len)
{
	*len = req->msg->payload.len;
	return req->msg->payload.data;
}

int64_t
ttrpc_request_timeout_nano(const struct ttrpc_request *req)
{
	return req->msg->timeout_nano;
}

const char *
ttrpc_request_metadata(const struct ttrpc_request *req, const char *key)
{
	for (size_t i = 0; i < req->msg->n_metadata; i++) {
		if (strcmp(req->msg->metadata[i]->key, key) == 0)
			return req->msg->metadata[i]->value;
	}
	return NULL;
}

/* Sends the response if the connection is still there, then frees req. */
static void
request_finish(struct ttrpc_request *req, int code, const char *message, const uint8_t *payload,
	       size_t len)
{
	struct conn *conn = req->conn;
	uint8_t *frame;
	size_t flen;

	if (!conn->closing) {
		frame = ttrpc_envelope_response(req->stream_id, code, message, payload, len, &flen);
		conn_send(conn, frame, flen);
	} else {
		log_debug("ttrpc: dropping reply to %s/%s: connection closed", req->msg->service,
			  req->msg->method);
	}
	ttrpc__request__free_unpacked(req->msg, NULL);
	free(req);
	conn_unref(conn);
}

void
ttrpc_reply(struct ttrpc_request *req, const ProtobufCMessage *msg)
{
	_cleanup_free_ uint8_t *payload = NULL;
	size_t len = 0;

	if (!req->conn->closing)
		payload = ttrpc_pack(msg, &len);
	request_finish(req, 0, NULL, payload, len);
}

void
ttrpc_reply_status(struct ttrpc_request *req, int code, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	request_finish(req, code, msg, NULL, 0);
}

void
ttrpc_reply_err(struct ttrpc_request *req, struct mini_err *err)
{
	_cleanup_free_ char *msg = mini_err_render(err);
	int code = mini_err_grpc_code(err);

	mini_err_free(err);
	/* An error without a class must still not read as success. */
	request_finish(req, code ? code : MINI_E_UNKNOWN, msg, NULL, 0);
}
