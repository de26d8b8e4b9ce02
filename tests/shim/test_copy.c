/* The non-blocking copier on a real loop: data moves from one pipe to another (splice), a full
 * destination stalls the source instead of the loop, a drain reports "nothing readable left",
 * and EOF closes both ends. */
#include "copy.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

static int drained;

static void
on_drained(void *data)
{
	drained++;
}

static size_t
read_some(int fd, char *buf, size_t cap)
{
	ssize_t n = read(fd, buf, cap);

	return n > 0 ? (size_t)n : 0;
}

/* An output that ends while its reader has not taken the last bytes: with copier_linger the
 * destination stays open (copier_unread still sees those bytes) until copier_release, after
 * which the reader gets the bytes and then EOF. */
static void
linger_case(uv_loop_t *loop)
{
	int src[2], dst[2];
	struct copier *c;
	char buf[16];

	if (pipe2(src, O_CLOEXEC) < 0 || pipe2(dst, O_CLOEXEC | O_NONBLOCK) < 0)
		return;
	c = copier_new(loop, "linger", src[0], dst[1], NULL);
	ok(c != NULL, "lingering copier created");
	copier_linger(c);
	ok(write(src[1], "tail", 4) == 4, "write the tail");
	close(src[1]);
	for (int i = 0; i < 20 && !copier_finished(c); i++)
		uv_run(loop, UV_RUN_NOWAIT);
	ok(copier_finished(c), "lingering copier finished at EOF");
	for (int i = 0; i < 5; i++)
		uv_run(loop, UV_RUN_NOWAIT);
	is_int((int)copier_unread(c), 4, "unread tail still seen after the end");
	ok(read(dst[0], buf, sizeof(buf)) == 4, "reader gets the tail");
	ok(read(dst[0], buf, 1) < 0 && errno == EAGAIN, "destination still open: no EOF yet");
	copier_release(c);
	ok(read(dst[0], buf, 1) == 0, "released: reader sees EOF");
	copier_release(c); /* a second release does nothing */
	copier_free(c);
	uv_run(loop, UV_RUN_NOWAIT);
	close(dst[0]);
}

int
main(void)
{
	uv_loop_t loop;
	int src[2], dst[2];
	struct copier *c;
	char buf[200000], big[200000];
	size_t got = 0;

	uv_loop_init(&loop);
	if (pipe2(src, O_CLOEXEC) < 0 || pipe2(dst, O_CLOEXEC | O_NONBLOCK) < 0)
		return 1;
	c = copier_new(&loop, "test", src[0], dst[1], NULL);
	ok(c != NULL, "copier created");

	/* Small write: copied, and a drain completes once the source is empty. */
	ok(write(src[1], "hello", 5) == 5, "write");
	copier_drain(c, false, on_drained, NULL);
	for (int i = 0; i < 10 && drained == 0; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	is_int(drained, 1, "drain reported");
	got = read_some(dst[0], buf, sizeof(buf));
	ok(got == 5 && memcmp(buf, "hello", 5) == 0, "bytes arrived");

	/* More than the destination pipe holds: the copy waits for the reader, the loop does
	 * not block, and nothing is lost. */
	memset(big, 'x', sizeof(big));
	for (size_t i = 0; i < sizeof(big); i += 997)
		big[i] = (char)('a' + i % 26);
	fcntl(src[1], F_SETFL, O_NONBLOCK);
	{
		size_t sent = 0, recvd = 0;
		char *in = malloc(sizeof(big));

		for (int spins = 0; spins < 100000 && recvd < sizeof(big); spins++) {
			ssize_t n;

			if (sent < sizeof(big)) {
				n = write(src[1], big + sent, sizeof(big) - sent);
				if (n > 0)
					sent += (size_t)n;
			}
			uv_run(&loop, UV_RUN_NOWAIT);
			n = read(dst[0], in + recvd, sizeof(big) - recvd);
			if (n > 0)
				recvd += (size_t)n;
		}
		ok(recvd == sizeof(big) && memcmp(in, big, sizeof(big)) == 0,
		   "200 kB through 64 kB pipes, byte-exact");
		free(in);
	}
	ok(copier_bytes(c) == 5 + sizeof(big), "bytes counted");

	/* EOF: the writer goes away; the copy ends and closes its destination. */
	close(src[1]);
	copier_drain(c, true, on_drained, NULL);
	for (int i = 0; i < 10 && drained < 2; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	is_int(drained, 2, "drain until EOF reported");
	ok(copier_finished(c), "finished at EOF");
	for (int i = 0; i < 5; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	ok(read(dst[0], buf, 1) == 0, "destination closed: reader sees EOF");
	copier_free(c);
	uv_run(&loop, UV_RUN_NOWAIT);
	close(dst[0]);
	linger_case(&loop);
	ok(uv_loop_close(&loop) == 0, "no handle left");
	return tap_done();
}
