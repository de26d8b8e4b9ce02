#include "sync.h"
#include "cleanup.h"
#include "xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

struct sync_hdr {
	uint32_t type;
	int32_t errnum;
	int64_t value;
};

void
sync_msg_free(struct sync_msg *m)
{
	if (m == NULL)
		return;
	free(m->data);
	free(m);
}

void
sync_msg_freep(struct sync_msg **m)
{
	sync_msg_free(*m);
	*m = NULL;
}

static int
send_raw(int fd, enum sync_type type, int errnum, int64_t value, const char *data, size_t len,
	 struct mini_err **err)
{
	struct sync_hdr h = { .type = type, .errnum = errnum, .value = value };
	struct iovec iov[2] = {
		{ .iov_base = &h, .iov_len = sizeof(h) },
		{ .iov_base = (void *)data, .iov_len = len },
	};
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	ssize_t n;

	if (len > SYNC_MAX_PAYLOAD)
		return mini_err_set(err, EMSGSIZE, "sync message too large (%zu bytes)", len);
	/* sendmsg rather than write: MSG_NOSIGNAL, so a dead peer is EPIPE, not SIGPIPE. */
	do
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return mini_err_set(err, errno, "send sync message");
	return 0;
}

int
sync_send(int fd, enum sync_type type, int64_t value, const char *data, size_t len,
	  struct mini_err **err)
{
	return send_raw(fd, type, 0, value, data, len, err);
}

void
sync_send_error(int fd, const struct mini_err *e)
{
	const char *msg = e && e->msg ? e->msg : "unknown error";
	size_t len = strlen(msg);

	if (len > SYNC_MAX_PAYLOAD)
		len = SYNC_MAX_PAYLOAD;
	send_raw(fd, SYNC_ERROR, e ? e->errnum : EIO, 0, msg, len, NULL);
}

int
sync_recv(int fd, struct sync_msg **out, struct mini_err **err)
{
	_cleanup_free_ char *buf = xmalloc(sizeof(struct sync_hdr) + SYNC_MAX_PAYLOAD + 1);
	struct sync_hdr h;
	struct sync_msg *m;
	ssize_t n;

	do
		n = recv(fd, buf, sizeof(struct sync_hdr) + SYNC_MAX_PAYLOAD, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return mini_err_set(err, errno, "receive sync message");
	if (n == 0)
		return mini_err_set(err, EPIPE, "peer exited");
	if ((size_t)n < sizeof(h))
		return mini_err_set(err, EPROTO, "short sync message");
	memcpy(&h, buf, sizeof(h));
	m = xcalloc(1, sizeof(*m));
	m->type = (enum sync_type)h.type;
	m->errnum = h.errnum;
	m->value = h.value;
	m->len = (size_t)n - sizeof(h);
	m->data = xstrndup(buf + sizeof(h), m->len);
	*out = m;
	return 0;
}

int
sync_expect(int fd, enum sync_type type, struct sync_msg **out, struct mini_err **err)
{
	_cleanup_(sync_msg_freep) struct sync_msg *m = NULL;
	int ret;

	ret = sync_recv(fd, &m, err);
	if (ret < 0)
		return ret;
	if (m->type == SYNC_ERROR)
		return mini_err_set(err, m->errnum, "%s", m->data);
	if (m->type != type)
		return mini_err_set(err, EPROTO, "sync: expected message %d, got %d", type,
				    m->type);
	if (out)
		*out = steal_ptr(&m);
	return 0;
}
