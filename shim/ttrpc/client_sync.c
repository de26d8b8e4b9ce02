/* The blocking one-shot ttrpc call (ttrpc_call_sync): plain sockets and poll(2), no loop, so that
 * command-line tools need no libuv machinery. */
#include "client.h"
#include "cleanup.h"
#include "envelope.h"
#include "frame.h"
#include "ttrpc/ttrpc.pb-c.h"
#include "xalloc.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define SYNC_STREAM_ID 1

struct sync_state {
	struct ttrpc_result *res;
	bool done;
	int error; /* a protocol failure (negative errno), reported as a transport error */
};

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Milliseconds left until deadline for poll(2): -1 = no deadline, 0 = expired. */
static int
ms_left(int64_t deadline)
{
	int64_t left;

	if (deadline == 0)
		return -1;
	left = deadline - now_ns();
	if (left <= 0)
		return 0;
	left = (left + 999999) / 1000000;
	return left > 1000000 ? 1000000 : (int)left;
}

static int
sync_connect(const char *path, int64_t timeout_ns, struct mini_err **err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;

	if (strlen(path) >= sizeof(addr.sun_path))
		return mini_err_setc(err, MINI_E_UNAVAILABLE, ENAMETOOLONG, "connect %s", path);
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return mini_err_set(err, errno, "connect %s: socket", path);
	if (timeout_ns > 0) {
		/* A unix connect() to a full backlog waits up to the send timeout. */
		struct timeval tv = { .tv_sec = timeout_ns / 1000000000,
				      .tv_usec = (timeout_ns % 1000000000) / 1000 };

		if (tv.tv_sec == 0 && tv.tv_usec == 0)
			tv.tv_usec = 1;
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	while (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EINPROGRESS)
			return mini_err_setc(err, MINI_E_DEADLINE, ETIMEDOUT, "connect %s", path);
		return mini_err_setc(err, MINI_E_UNAVAILABLE, errno, "connect %s", path);
	}
	return steal_fd(&fd);
}

static int
wait_fd(int fd, short events, int64_t deadline, const char *what, struct mini_err **err)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int r;

	for (;;) {
		r = poll(&pfd, 1, ms_left(deadline));
		if (r > 0)
			return 0;
		if (r == 0)
			return mini_err_setc(err, MINI_E_DEADLINE, ETIMEDOUT,
					     "%s: deadline exceeded", what);
		if (errno != EINTR)
			return mini_err_set(err, errno, "%s: poll", what);
	}
}

static int
sync_send(int fd, const uint8_t *buf, size_t len, int64_t deadline, struct mini_err **err)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n >= 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return mini_err_setc(err, MINI_E_UNAVAILABLE, errno, "send request");
		int r = wait_fd(fd, POLLOUT, deadline, "send request", err);

		if (r < 0)
			return r;
	}
	return 0;
}

static void
result_fill(struct ttrpc_result *res, const Ttrpc__Response *resp)
{
	res->code = resp->status ? resp->status->code : 0;
	res->message = xstrdup(resp->status ? resp->status->message : "");
	res->len = resp->payload.len;
	res->payload = xmalloc(res->len ? res->len : 1);
	if (res->len)
		memcpy(res->payload, resp->payload.data, res->len);
}

static int
on_sync_frame(void *data, const struct ttrpc_header *h, const uint8_t *payload)
{
	struct sync_state *st = data;
	Ttrpc__Response *resp;

	if (h->stream_id != SYNC_STREAM_ID)
		return 0;
	st->done = true;
	if (payload == NULL) {
		st->res->code = MINI_E_EXHAUSTED;
		st->res->message =
			xasprintf("response length %u exceeds maximum message size of %u",
				  h->length, TTRPC_MAX_MESSAGE);
		return -1;
	}
	if (h->type != TTRPC_TYPE_RESPONSE) {
		st->error = -EPROTO;
		return -1;
	}
	resp = ttrpc__response__unpack(NULL, h->length, payload);
	if (resp == NULL) {
		st->error = -EBADMSG;
		return -1;
	}
	result_fill(st->res, resp);
	ttrpc__response__free_unpacked(resp, NULL);
	return -1;
}

static int
sync_receive(int fd, struct sync_state *st, int64_t deadline, struct mini_err **err)
{
	_cleanup_free_ uint8_t *buf = xmalloc(65536);
	struct ttrpc_decoder dec;
	int ret = 0;

	ttrpc_decoder_init(&dec);
	while (!st->done) {
		ssize_t n = recv(fd, buf, 65536, MSG_DONTWAIT);

		if (n > 0) {
			ttrpc_decoder_feed(&dec, buf, (size_t)n, on_sync_frame, st);
			continue;
		}
		if (n == 0) {
			ret = mini_err_setc(err, MINI_E_UNAVAILABLE, ECONNRESET,
					    "connection closed before the reply");
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			ret = mini_err_setc(err, MINI_E_UNAVAILABLE, errno, "receive reply");
			break;
		}
		ret = wait_fd(fd, POLLIN, deadline, "receive reply", err);
		if (ret < 0)
			break;
	}
	ttrpc_decoder_release(&dec);
	if (ret == 0 && st->error)
		ret = mini_err_setc(err, MINI_E_INTERNAL, -st->error, "invalid reply");
	return ret;
}

int
ttrpc_call_sync(const char *path, const char *service, const char *method,
		const ProtobufCMessage *req, int64_t timeout_ns, const struct ttrpc_kv *md,
		size_t n_md, struct ttrpc_result *res, struct mini_err **err)
{
	int64_t deadline = timeout_ns > 0 ? now_ns() + timeout_ns : 0;
	struct sync_state st = { .res = res };
	_cleanup_free_ uint8_t *frame = NULL;
	_cleanup_close_ int fd = -1;
	size_t len;
	int r;

	memset(res, 0, sizeof(*res));
	if (strncmp(path, "unix://", 7) == 0)
		path += 7;
	frame = ttrpc_envelope_request(SYNC_STREAM_ID, service, method, req, timeout_ns, md, n_md,
				       &len, err);
	if (frame == NULL)
		return -EMSGSIZE;
	fd = sync_connect(path, timeout_ns, err);
	if (fd < 0)
		return fd;
	r = sync_send(fd, frame, len, deadline, err);
	if (r == 0)
		r = sync_receive(fd, &st, deadline, err);
	if (r < 0) {
		ttrpc_result_clear(res);
		if (err)
			mini_err_wrap(err, "ttrpc call %s/%s", service, method);
	}
	return r;
}
