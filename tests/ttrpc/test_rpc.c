/* The ttrpc server and the asynchronous client together over a unix socket in a temporary
 * directory, on one loop: dispatch, errors, parked requests, timeouts, metadata, protocol abuse,
 * replies after the connection closed, reconnects and server shutdown. */
#include "tap.h"
#include "rpc_util.h"
#include "envelope.h"
#include "err.h"
#include "ttrpc/ttrpc.pb-c.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static uv_loop_t loop;
static char dir[] = "/tmp/mini-ttrpc-XXXXXX";
static char *sock;

static bool
all_done2(void *arg)
{
	struct outcome *o = arg;

	return o[0].done && o[1].done;
}

static unsigned conns_want;

static bool
have_parked(void *arg)
{
	return n_parked > 0;
}

static bool
conns_back(void *arg)
{
	return ttrpc_server_connections(arg) == conns_want;
}

static struct ttrpc_server *
start_server(void)
{
	struct ttrpc_server *srv = ttrpc_server_new(&loop);
	struct mini_err *err = NULL;
	int r;

	test_service_register(srv);
	r = ttrpc_server_listen_path(srv, sock, &err);
	is_int(r, 0, "server listens on %s", sock);
	mini_err_free(err);
	return srv;
}

static void
on_server_done(void *data)
{
	*(bool *)data = true;
}

static void
stop_server(struct ttrpc_server *srv)
{
	bool done = false;

	ttrpc_server_close(srv, 1000, on_server_done, &done);
	ok(run_until(&loop, &done, 3000), "server close completes and calls done");
	unlink(sock);
}

static void
test_dispatch(struct ttrpc_client *c)
{
	struct outcome o = { 0 };

	call_kv(c, "Echo", "hello", "world", 0, &o);
	ok(run_until(&loop, &o.done, 3000), "Echo completes");
	is_int(o.code, 0, "Echo status OK");
	is_str(o.key, "hello", "Echo payload key");
	is_str(o.value, "world", "Echo payload value");
	outcome_clear(&o);

	call_kv(c, "Fail", "", "", 0, &o);
	run_until(&loop, &o.done, 3000);
	is_int(o.code, 5, "ttrpc_reply_err maps ESRCH to NotFound");
	is_str(o.message, "process abc: No such process", "and renders the error chain");
	ok(o.len == 0, "error replies carry no payload");
	outcome_clear(&o);

	call_kv(c, "Status", "", "", 0, &o);
	run_until(&loop, &o.done, 3000);
	is_int(o.code, 9, "ttrpc_reply_status sends the code");
	is_str(o.message, "cannot start a running process", "and the formatted message");
	outcome_clear(&o);
}

static void
test_unimplemented(struct ttrpc_client *c)
{
	struct outcome o = { 0 };
	struct mini_err *err = NULL;

	ttrpc_client_call(c, "nope.v1.Nope", "Echo", NULL, 0, NULL, 0, on_outcome, &o, &err);
	run_until(&loop, &o.done, 3000);
	is_int(o.code, 12, "unknown service → Unimplemented");
	is_str(o.message, "service nope.v1.Nope", "message names the service");
	outcome_clear(&o);

	call_kv(c, "Nope", "", "", 0, &o);
	run_until(&loop, &o.done, 3000);
	is_int(o.code, 12, "unknown method → Unimplemented");
	is_str(o.message, "method Nope", "message names the method");
	outcome_clear(&o);
}

static void
test_parked(struct ttrpc_client *c)
{
	struct outcome o[2] = { 0 };
	Ttrpc__KeyValue kv = TTRPC__KEY_VALUE__INIT;

	n_parked = 0;
	call_kv(c, "Park", "wait", "for it", 0, &o[0]);
	call_kv(c, "Echo", "quick", "reply", 0, &o[1]);
	ok(run_until(&loop, &o[1].done, 3000), "a request behind a parked one is answered");
	ok(!o[0].done, "while the parked request is still open");
	is_int(n_parked, 1, "the handler kept the request");
	is_str(ttrpc_request_method(parked[0]), "Park", "parked request keeps its method");
	kv.key = "late";
	kv.value = "answer";
	ttrpc_reply(parked[0], &kv.base);
	n_parked = 0;
	ok(run_until(&loop, &o[0].done, 3000), "the parked request is answered later");
	ok(o[0].order > o[1].order, "replies went out of order on one connection");
	is_str(o[0].key, "late", "the late reply carries its own payload");
	outcome_clear(&o[0]);
	outcome_clear(&o[1]);
}

static void
test_timeout(struct ttrpc_client *c)
{
	struct outcome o = { 0 }, after = { 0 };

	n_parked = 0;
	call_kv(c, "Park", "", "", 50 * 1000 * 1000, &o);
	ok(run_until(&loop, &o.done, 3000), "a call with a 50 ms timeout completes");
	is_int(o.code, 4, "with DeadlineExceeded");
	ok(strstr(o.message, "deadline exceeded") != NULL, "message says so: %s", o.message);
	ok(n_parked == 1 && ttrpc_request_timeout_nano(parked[0]) == 50 * 1000 * 1000,
	   "the server saw timeout_nano");
	/* The late reply finds no call and is dropped; the connection still works. */
	ttrpc_reply(parked[0], NULL);
	n_parked = 0;
	call_kv(c, "Echo", "still", "alive", 1000 * 1000 * 1000, &after);
	run_until(&loop, &after.done, 3000);
	ok(after.code == 0 && after.value && strcmp(after.value, "alive") == 0,
	   "a late reply to a timed-out call is dropped, the next call works");
	outcome_clear(&o);
	outcome_clear(&after);
}

static void
test_metadata(struct ttrpc_client *c)
{
	struct outcome o = { 0 };

	call_kv(c, "Meta", "", "", 7 * 1000 * 1000 * 1000LL, &o);
	run_until(&loop, &o.done, 3000);
	is_int(o.code, 0, "Meta OK");
	is_str(o.key, "testns", "metadata delivered to the handler");
	is_str(o.value, "7000000000", "timeout_nano delivered to the handler");
	outcome_clear(&o);
}

static bool
raw_has(void *arg)
{
	struct raw_peer *p = arg;

	return p->n > 0 || p->eof;
}

static bool
raw_eof(void *arg)
{
	return ((struct raw_peer *)arg)->eof;
}

static void
raw_expect(struct raw_peer *p, uint32_t stream, int code, const char *what)
{
	ok(run_until_fn(&loop, raw_has, p, 3000) && p->n == 1, "%s: one reply", what);
	if (p->n < 1)
		return;
	is_int(p->frames[0].h.type, TTRPC_TYPE_RESPONSE, "%s: a response frame", what);
	is_int(p->frames[0].h.stream_id, stream, "%s: on the offending stream", what);
	is_int(p->frames[0].code, code, "%s: status %d (%s)", what, code,
	       p->frames[0].message ? p->frames[0].message : "-");
	free(p->frames[0].message);
	p->frames[0].message = NULL;
	p->n = 0;
}

static void
test_protocol_abuse(struct ttrpc_server *srv)
{
	struct ttrpc_header h = { .stream_id = 3, .type = TTRPC_TYPE_REQUEST };
	Ttrpc__KeyValue body = TTRPC__KEY_VALUE__INIT;
	struct raw_peer p;
	uint8_t *frame, hdr[TTRPC_HEADER_LEN];
	size_t len;
	unsigned before = ttrpc_server_connections(srv);

	is_int(raw_open(&loop, &p, sock), 0, "raw peer connects");

	/* 1. Oversize: reported, its data skipped, the connection keeps working. */
	h.length = TTRPC_MAX_MESSAGE + 1;
	ttrpc_header_pack(&h, hdr);
	raw_write(&p, hdr, sizeof(hdr));
	{
		uint8_t *junk = xcalloc(1, h.length);

		raw_write(&p, junk, h.length);
		free(junk);
	}
	raw_expect(&p, 3, 8, "oversize frame");

	/* 2. Even stream id. */
	body.key = "k";
	body.value = "v";
	frame = ttrpc_envelope_request(4, TEST_SVC, "Echo", &body.base, 0, NULL, 0, &len, NULL);
	raw_write(&p, frame, len);
	free(frame);
	raw_expect(&p, 4, 3, "even stream id");

	/* 3. A request frame whose payload is not a ttrpc.Request. */
	frame = ttrpc_frame_encode(5, TTRPC_TYPE_REQUEST, 0, (const uint8_t *)"\xff\xff\xff", 3,
				   &len);
	raw_write(&p, frame, len);
	free(frame);
	raw_expect(&p, 5, 3, "undecodable request");

	/* 4. Response and data frames sent to the server are ignored; the next request works. */
	frame = ttrpc_frame_encode(7, TTRPC_TYPE_RESPONSE, 0, (const uint8_t *)"x", 1, &len);
	raw_write(&p, frame, len);
	free(frame);
	frame = ttrpc_envelope_request(9, TEST_SVC, "Echo", &body.base, 0, NULL, 0, &len, NULL);
	raw_write(&p, frame, len);
	free(frame);
	raw_expect(&p, 9, 0, "request after an ignored response frame");
	ok(ttrpc_server_connections(srv) == before + 1, "the raw connection is still open");

	/* 5. Bytes that are not ttrpc at all: the connection is closed. */
	raw_write(&p, "GET / HTTP/1.1\r\nHost: shim\r\n\r\n", 30);
	ok(run_until_fn(&loop, raw_eof, &p, 3000),
	   "garbage bytes: the server closes the connection");
	is_int(p.n, 0, "and sends nothing back");
	raw_close(&p);
	run_until(&loop, &p.closed, 1000);
	is_int(ttrpc_server_connections(srv), before, "connection count back to %u", before);
}

/* A parked request outlives its connection: the reply is dropped, the request freed (ASan
 * checks the latter), and nothing crashes. */
static void
test_reply_after_close(struct ttrpc_server *srv)
{
	struct ttrpc_client *c2 = ttrpc_client_new(&loop, sock);
	struct outcome o = { 0 };
	unsigned before = ttrpc_server_connections(srv);
	Ttrpc__KeyValue kv = TTRPC__KEY_VALUE__INIT;

	n_parked = 0;
	call_kv(c2, "Park", "", "", 0, &o);
	run_until_fn(&loop, have_parked, NULL, 3000);
	is_int(n_parked, 1, "second client's request parked");
	is_int(ttrpc_server_connections(srv), before + 1, "second connection counted");
	ttrpc_client_close(c2);
	conns_want = before;
	ok(o.done && o.code == 1, "closing the client cancels its call (code %d)", o.code);
	run_until_fn(&loop, conns_back, srv, 3000);
	is_int(ttrpc_server_connections(srv), before, "server noticed the closed connection");
	is_str(ttrpc_request_service(parked[0]), TEST_SVC, "parked request still readable");
	kv.key = "nobody";
	kv.value = "listens";
	ttrpc_reply(parked[0], &kv.base);
	n_parked = 0;
	uv_run(&loop, UV_RUN_NOWAIT);
	ok(1, "reply to a closed connection dropped without a crash");
	outcome_clear(&o);
}

enum { N_BIG = 64 };

static bool
big_done(void *arg)
{
	struct outcome *o = arg;

	for (int i = 0; i < N_BIG; i++) {
		if (!o[i].done)
			return false;
	}
	return true;
}

static void
test_many_big(struct ttrpc_client *c)
{
	enum { N = N_BIG };
	static struct outcome o[N];
	char key[16], val[8];
	int good = 0;

	/* 64 concurrent 200 KiB replies: far more than the socket buffer, so the write queue
	 * holds many frames at once; each must arrive whole. */
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "%d", 200 * 1024);
		snprintf(val, sizeof(val), "%c%c", 'a' + i % 26, 'A' + i % 26);
		call_kv(c, "Big", key, val, 0, &o[i]);
	}
	run_until_fn(&loop, big_done, o, 20000);
	for (int i = 0; i < N; i++) {
		bool fine = o[i].done && o[i].code == 0 && o[i].value &&
			    strlen(o[i].value) == 200 * 1024;

		for (size_t k = 0; fine && k < 200 * 1024; k++)
			fine = o[i].value[k] == (k % 2 ? 'A' : 'a') + i % 26;
		good += fine;
		outcome_clear(&o[i]);
	}
	is_int(good, N, "64 concurrent large replies arrive intact (frames never interleave)");
}

static int want_big;

static bool
big_reached(void *arg)
{
	return big_calls >= want_big;
}

static bool
raw_total_reached(void *arg)
{
	struct raw_peer *p = arg;

	return p->total >= want_big || p->eof;
}

static void
raw_big_request(struct raw_peer *p, uint32_t stream, const char *size)
{
	Ttrpc__KeyValue body = TTRPC__KEY_VALUE__INIT;
	uint8_t *frame;
	size_t len;

	body.key = (char *)size;
	body.value = "xy";
	frame = ttrpc_envelope_request(stream, TEST_SVC, "Big", &body.base, 0, NULL, 0, &len, NULL);
	raw_write(p, frame, len);
	free(frame);
}

/* A peer that sends requests but does not read the replies: the server stops reading from it
 * once about 1 MiB of replies is queued, and resumes when the peer reads again. */
static void
test_backpressure(void)
{
	enum { N = 40 };
	struct raw_peer p;
	int sent;

	raw_open(&loop, &p, sock);
	raw_reading(&p, false);
	big_calls = 0;
	for (sent = 0; sent < N; sent++) {
		raw_big_request(&p, 2 * (uint32_t)sent + 1, "1048576");
		want_big = sent + 1;
		if (!run_until_fn(&loop, big_reached, NULL, 300)) {
			sent++;
			break;
		}
	}
	ok(sent < N && big_calls < sent,
	   "server stops reading while replies pile up (%d of %d read)", big_calls, sent);
	for (; sent < N; sent++)
		raw_big_request(&p, 2 * (uint32_t)sent + 1, "1048576");
	raw_reading(&p, true);
	want_big = N;
	run_until_fn(&loop, raw_total_reached, &p, 20000);
	is_int(p.total, N, "all 1 MiB replies arrive once the peer reads again");
	is_int(big_calls, N, "and every request was handled");
	ok(p.n > 0 && p.frames[0].code == 0 && p.frames[0].h.length > 1048576, "replies are whole");
	raw_close(&p);
	run_until(&loop, &p.closed, 1000);
}

static struct ttrpc_server *
extra_server(const char *path)
{
	struct ttrpc_server *srv = ttrpc_server_new(&loop);

	test_service_register(srv);
	if (ttrpc_server_listen_path(srv, path, NULL) < 0)
		ok(0, "listen on %s", path);
	return srv;
}

/* ttrpc_server_close lets a queued reply flush before closing, but only for timeout_ms. */
static void
test_close_flush(void)
{
	char *path = xasprintf("%s/flush.sock", dir);
	struct ttrpc_server *srv = extra_server(path);
	struct raw_peer p;
	bool done = false;

	raw_open(&loop, &p, path);
	raw_reading(&p, false);
	big_calls = 0;
	want_big = 1;
	raw_big_request(&p, 1, "2097152");
	run_until_fn(&loop, big_reached, NULL, 3000);
	ttrpc_server_close(srv, 5000, on_server_done, &done);
	uv_run(&loop, UV_RUN_NOWAIT);
	ok(!done, "close waits for a reply still queued");
	raw_reading(&p, true);
	ok(run_until(&loop, &done, 5000), "close completes once the reply is flushed");
	ok(p.total == 1 && p.frames[0].code == 0 && p.frames[0].h.length > 2097152,
	   "the peer got the whole 2 MiB reply");
	ok(run_until_fn(&loop, raw_eof, &p, 3000), "then the connection was closed");
	raw_close(&p);
	run_until(&loop, &p.closed, 1000);
	unlink(path);

	/* A peer that never reads: the flush gives up after the timeout. */
	srv = extra_server(path);
	raw_open(&loop, &p, path);
	raw_reading(&p, false);
	big_calls = 0;
	raw_big_request(&p, 1, "2097152");
	run_until_fn(&loop, big_reached, NULL, 3000);
	done = false;
	ttrpc_server_close(srv, 100, on_server_done, &done);
	ok(run_until(&loop, &done, 3000),
	   "close of a server with a stuck peer completes after 100 ms");
	raw_close(&p);
	run_until(&loop, &p.closed, 1000);
	unlink(path);
	free(path);
}

/* The shim's Shutdown pattern: a handler replies, then closes its own server. */
static void
test_shutdown_in_handler(void)
{
	char *path = xasprintf("%s/shutdown.sock", dir);
	struct ttrpc_client *c;
	struct outcome o = { 0 };
	struct mini_err *err = NULL;

	extra_server(path);
	c = ttrpc_client_new(&loop, path);
	shutdown_done = false;
	ttrpc_client_call(c, TEST_SVC, "Shutdown", NULL, 0, NULL, 0, on_outcome, &o, &err);
	ok(run_until(&loop, &o.done, 3000) && o.code == 0, "Shutdown is answered (code %d)",
	   o.code);
	ok(run_until(&loop, &shutdown_done, 3000), "and the server it closed calls done");
	outcome_clear(&o);
	ttrpc_client_close(c);
	unlink(path);
	free(path);
}

static void
test_client_errors(void)
{
	struct ttrpc_client *c = ttrpc_client_new(&loop, "unix:///nonexistent/mini.sock");
	struct outcome o[2] = { 0 };
	struct mini_err *err = NULL;
	Ttrpc__KeyValue kv = TTRPC__KEY_VALUE__INIT;
	char *huge = xmalloc(TTRPC_MAX_MESSAGE + 1);
	int r;

	call_kv(c, "Echo", "", "", 0, &o[0]);
	call_kv(c, "Echo", "", "", 0, &o[1]);
	ok(run_until_fn(&loop, all_done2, o, 3000), "calls to a missing socket complete");
	ok(o[0].code == 14 && o[1].code == 14, "with Unavailable (%d, %d)", o[0].code, o[1].code);
	ok(o[0].message && strstr(o[0].message, "connect /nonexistent/mini.sock"),
	   "message names the socket: %s", o[0].message);
	outcome_clear(&o[0]);
	outcome_clear(&o[1]);

	memset(huge, 'x', TTRPC_MAX_MESSAGE);
	huge[TTRPC_MAX_MESSAGE] = '\0';
	kv.key = "k";
	kv.value = huge;
	r = ttrpc_client_call(c, TEST_SVC, "Echo", &kv.base, 0, NULL, 0, on_outcome, &o[0], &err);
	ok(r < 0 && err != NULL && !o[0].done,
	   "an oversize request is refused at once, no callback");
	mini_err_free(err);
	err = NULL;
	free(huge);

	/* Calls still queued (connecting) when the client closes: Canceled, exactly once. */
	call_kv(c, "Echo", "", "", 0, &o[0]);
	ttrpc_client_close(c);
	ok(o[0].done && o[0].code == 1, "close cancels a queued call (code %d)", o[0].code);
	uv_run(&loop, UV_RUN_NOWAIT);
	outcome_clear(&o[0]);
}

/* The server goes away under a live client: calls in flight fail Unavailable, and the client
 * reconnects to the next server on the same path. */
static void
test_reconnect(struct ttrpc_server **srv, struct ttrpc_client *c)
{
	struct outcome o = { 0 };

	n_parked = 0;
	call_kv(c, "Park", "", "", 0, &o);
	run_until_fn(&loop, have_parked, NULL, 3000);
	stop_server(*srv);
	ok(run_until(&loop, &o.done, 3000), "server close ends the in-flight call");
	is_int(o.code, 14, "with Unavailable: %s", o.message ? o.message : "");
	outcome_clear(&o);
	/* The parked request outlived its server as well. */
	ttrpc_reply_status(parked[0], 0, "late");
	n_parked = 0;

	*srv = start_server();
	call_kv(c, "Echo", "again", "reconnected", 0, &o);
	run_until(&loop, &o.done, 3000);
	ok(o.code == 0 && o.value && strcmp(o.value, "reconnected") == 0,
	   "the client reconnects to a new server");
	outcome_clear(&o);
}

static void
test_listen_errors(struct ttrpc_server *srv)
{
	struct ttrpc_server *other = ttrpc_server_new(&loop);
	struct mini_err *err = NULL;
	struct stat st;
	bool done = false;
	int r;

	ok(stat(sock, &st) == 0 && (st.st_mode & 0777) == 0600, "socket file has mode 0600");
	r = ttrpc_server_listen_path(other, sock, &err);
	ok(r < 0 && err && mini_err_grpc_code(err) == 6, "binding over an existing socket fails");
	mini_err_free(err);
	err = NULL;
	ok(access(sock, F_OK) == 0, "and leaves the existing socket alone");
	r = ttrpc_server_listen_fd(other, dup(0), &err);
	ok(r < 0 && err, "listen_fd refuses a non-listening fd");
	mini_err_free(err);
	ttrpc_server_close(other, 0, on_server_done, &done);
	ok(run_until(&loop, &done, 1000), "a server that never listened closes");

	/* An inherited listening fd (as containerd passes fd 3) gets close-on-exec. */
	{
		char *path = xasprintf("%s/inherited.sock", dir);
		struct sockaddr_un addr = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);

		snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
		other = ttrpc_server_new(&loop);
		ok(fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
			   listen(fd, 4) == 0 && ttrpc_server_listen_fd(other, fd, NULL) == 0,
		   "listen_fd serves an inherited listening socket");
		ok(fcntl(fd, F_GETFD) & FD_CLOEXEC, "and marks it close-on-exec");
		done = false;
		ttrpc_server_close(other, 0, on_server_done, &done);
		run_until(&loop, &done, 1000);
		ok(fcntl(fd, F_GETFD) < 0, "server close closes the listening fd");
		unlink(path);
		free(path);
	}
}

int
main(void)
{
	struct ttrpc_server *srv;
	struct ttrpc_client *c;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	sock = xasprintf("%s/t.sock", dir);
	uv_loop_init(&loop);
	srv = start_server();
	c = ttrpc_client_new(&loop, sock);

	test_dispatch(c);
	test_unimplemented(c);
	test_parked(c);
	test_timeout(c);
	test_metadata(c);
	test_protocol_abuse(srv);
	test_reply_after_close(srv);
	test_many_big(c);
	test_backpressure();
	test_close_flush();
	test_shutdown_in_handler();
	test_client_errors();
	test_listen_errors(srv);
	test_reconnect(&srv, c);

	ttrpc_client_close(c);
	stop_server(srv);
	uv_run(&loop, UV_RUN_DEFAULT);
	is_int(uv_loop_close(&loop), 0, "every handle closed");
	rmdir(dir);
	free(sock);
	return tap_done();
}
