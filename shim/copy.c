#include "copy.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SPLICE_CHUNK (1u << 20)
#define BUF_SIZE (32u << 10)
/* Loop iterations per wake-up, so one busy stream cannot starve the others. */
#define PUMP_BUDGET 32

enum side { SIDE_NONE, SIDE_SRC, SIDE_DST };

struct copier {
	uv_loop_t *loop;
	const char *name;
	int src, dst;
	uv_poll_t src_poll, dst_poll;
	enum side armed;
	bool use_splice;
	bool dst_file; /* a regular file: always writable, epoll refuses it */
	bool finished, freeing;
	bool linger;	/* keep dst open after the end while it holds unread bytes */
	bool lingering; /* the copy ended, dst is kept open: its reader has not taken everything */
	int open_handles;
	char *buf;
	size_t len, off;
	unsigned long long bytes;
	copier_cb drain_cb;
	void *drain_data;
	bool drain_eof;
};

static void pump(struct copier *c);
static void on_poll(uv_poll_t *h, int status, int events);

bool
copier_finished(const struct copier *c)
{
	return c->finished;
}

size_t
copier_unread(const struct copier *c)
{
	int n = 0;

	if (c->dst_file || c->dst < 0 || ioctl(c->dst, FIONREAD, &n) < 0 || n < 0)
		return 0;
	return (size_t)n;
}

unsigned long long
copier_bytes(const struct copier *c)
{
	return c->bytes;
}

static void
maybe_free(struct copier *c)
{
	if (!c->freeing || c->open_handles > 0)
		return;
	if (c->dst >= 0)
		close(c->dst);
	free(c->buf);
	free(c);
}

static void
on_handle_closed(uv_handle_t *h)
{
	struct copier *c = h->data;

	if (--c->open_handles > 0)
		return;
	/* The fds may be closed only now: epoll must forget them first. A lingering destination
	 * whose reader has not taken everything yet stays open until copier_release. */
	if (c->src >= 0)
		close(c->src);
	c->src = -1;
	if (c->linger && !c->freeing && copier_unread(c) > 0) {
		c->lingering = true;
	} else if (c->dst >= 0) {
		close(c->dst);
		c->dst = -1;
	}
	maybe_free(c);
}

static void
close_handles(struct copier *c)
{
	uv_close((uv_handle_t *)&c->src_poll, on_handle_closed);
	if (!c->dst_file)
		uv_close((uv_handle_t *)&c->dst_poll, on_handle_closed);
}

static void
fire_drain(struct copier *c)
{
	copier_cb cb = c->drain_cb;

	if (cb == NULL)
		return;
	c->drain_cb = NULL;
	cb(c->drain_data);
}

/* The copy is over: stop polling, close the fds once the handles are closed. */
static void
finish(struct copier *c)
{
	if (c->finished)
		return;
	c->finished = true;
	c->armed = SIDE_NONE;
	close_handles(c);
	fire_drain(c);
}

static void
arm(struct copier *c, enum side s)
{
	if (c->armed == s)
		return;
	if (c->armed == SIDE_SRC)
		uv_poll_stop(&c->src_poll);
	else if (c->armed == SIDE_DST)
		uv_poll_stop(&c->dst_poll);
	if (s == SIDE_DST && c->dst_file)
		s = SIDE_SRC; /* cannot happen: regular files do not say EAGAIN */
	c->armed = s;
	if (s == SIDE_SRC)
		uv_poll_start(&c->src_poll, UV_READABLE | UV_DISCONNECT, on_poll);
	else if (s == SIDE_DST)
		uv_poll_start(&c->dst_poll, UV_WRITABLE, on_poll);
}

/* splice says EAGAIN for an empty source and for a full destination alike: ask poll which.
 * SIDE_NONE: poll sees both sides ready, so splice and poll disagree about this pair of files;
 * the caller falls back to read/write, whose EAGAIN is unambiguous, rather than spin. */
static enum side
blocked_side(struct copier *c)
{
	struct pollfd pf[2] = { { c->src, POLLIN, 0 }, { c->dst, POLLOUT, 0 } };

	if (c->dst_file || poll(pf, 2, 0) < 0)
		return SIDE_SRC;
	if (!(pf[1].revents & (POLLOUT | POLLERR | POLLHUP)))
		return SIDE_DST;
	if (!(pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
		return SIDE_SRC;
	return SIDE_NONE;
}

/* One step. Returns 1 to continue, 0 when waiting (armed), -1 when finished. */
static int
step(struct copier *c)
{
	ssize_t n;

	if (c->off < c->len) {
		n = write(c->dst, c->buf + c->off, c->len - c->off);
		if (n < 0 && errno == EINTR)
			return 1;
		if (n < 0 && errno == EAGAIN) {
			arm(c, SIDE_DST);
			return 0;
		}
		if (n < 0) {
			log_debug("copy %s: write: %s", c->name, strerror(errno));
			return -1;
		}
		c->off += (size_t)n;
		c->bytes += (unsigned long long)n;
		if (c->off == c->len)
			c->off = c->len = 0;
		return 1;
	}
	if (c->use_splice) {
		n = splice(c->src, NULL, c->dst, NULL, SPLICE_CHUNK,
			   SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
		if (n > 0) {
			c->bytes += (unsigned long long)n;
			return 1;
		}
		if (n == 0)
			return -1; /* EOF */
		if (errno == EINTR)
			return 1;
		if (errno == EINVAL || errno == ENOSYS) {
			c->use_splice = false; /* neither side is a pipe, or the fs cannot splice */
			return 1;
		}
		if (errno == EAGAIN) {
			enum side b = blocked_side(c);

			if (b == SIDE_NONE) {
				c->use_splice = false;
				return 1;
			}
			arm(c, b);
			return 0;
		}
		if (errno != EIO)
			log_debug("copy %s: splice: %s", c->name, strerror(errno));
		return -1; /* EIO: a pty whose slave side is gone; EPIPE: reader gone */
	}
	if (c->buf == NULL)
		c->buf = xmalloc(BUF_SIZE);
	n = read(c->src, c->buf, BUF_SIZE);
	if (n > 0) {
		c->len = (size_t)n;
		c->off = 0;
		return 1;
	}
	if (n < 0 && errno == EINTR)
		return 1;
	if (n < 0 && errno == EAGAIN) {
		arm(c, SIDE_SRC);
		return 0;
	}
	return -1;
}

static void
pump(struct copier *c)
{
	int budget = PUMP_BUDGET, r = 1;

	if (c->finished)
		return;
	while (budget-- > 0 && (r = step(c)) > 0)
		;
	if (r < 0) {
		finish(c);
		return;
	}
	if (r > 0) {
		arm(c, SIDE_SRC); /* budget used up: come back on the next loop turn */
		return;
	}
	if (c->armed == SIDE_SRC && c->off == c->len && c->drain_cb && !c->drain_eof)
		fire_drain(c);
}

static void
on_poll(uv_poll_t *h, int status, int events)
{
	pump(h->data);
}

struct copier *
copier_new(uv_loop_t *loop, const char *name, int src, int dst, struct mini_err **err)
{
	struct copier *c;
	int rc;

	fcntl(src, F_SETFL, fcntl(src, F_GETFL) | O_NONBLOCK);
	fcntl(dst, F_SETFL, fcntl(dst, F_GETFL) | O_NONBLOCK);
	/* Both handles are initialised before anything can fail: uv_poll_init only fails for fds
	 * epoll refuses (regular files), and then neither is registered. */
	c = xcalloc(1, sizeof(*c));
	c->loop = loop;
	c->name = name;
	c->src = src;
	c->dst = dst;
	c->use_splice = true;
	rc = uv_poll_init(loop, &c->src_poll, src);
	if (rc == 0) {
		rc = uv_poll_init(loop, &c->dst_poll, dst);
		if (rc == UV_EPERM) {
			/* A regular file (file:// log URI): written synchronously, never polled. */
			c->dst_file = true;
			rc = 0;
		}
		if (rc < 0) {
			/* dst refused: close the src handle, then the fds, asynchronously. */
			c->src_poll.data = c;
			c->open_handles = 1;
			c->freeing = true;
			c->finished = true;
			uv_close((uv_handle_t *)&c->src_poll, on_handle_closed);
			return mini_err_set(err, -rc, "poll %s destination", name), NULL;
		}
	} else {
		close(src);
		close(dst);
		free(c);
		return mini_err_set(err, -rc, "poll %s source", name), NULL;
	}
	c->open_handles = c->dst_file ? 1 : 2;
	c->src_poll.data = c;
	c->dst_poll.data = c;
	arm(c, SIDE_SRC);
	return c;
}

void
copier_drain(struct copier *c, bool until_eof, copier_cb cb, void *data)
{
	c->drain_cb = cb;
	c->drain_data = data;
	c->drain_eof = until_eof;
	if (c->finished) {
		fire_drain(c);
		return;
	}
	/* Pump now: the answer "nothing left" needs a read that says EAGAIN. */
	pump(c);
}

void
copier_linger(struct copier *c)
{
	c->linger = true;
}

void
copier_release(struct copier *c)
{
	if (!c->lingering)
		return;
	c->lingering = false;
	close(c->dst);
	c->dst = -1;
}

void
copier_cancel_drain(struct copier *c)
{
	c->drain_cb = NULL;
	c->drain_data = NULL;
}

void
copier_free(struct copier *c)
{
	if (c == NULL)
		return;
	c->drain_cb = NULL;
	c->freeing = true;
	if (!c->finished) {
		c->finished = true;
		c->armed = SIDE_NONE;
		close_handles(c);
		return;
	}
	maybe_free(c);
}
