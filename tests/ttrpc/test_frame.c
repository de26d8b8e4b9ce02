/* The ttrpc frame codec: header layout, incremental decoding over arbitrary chunk boundaries,
 * oversize frames and garbage. */
#include "tap.h"
#include "frame.h"
#include "envelope.h"
#include "ttrpc/ttrpc.pb-c.h"
#include "xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SEEN 512

/* What the callback saw: one entry per frame. */
struct seen {
	int n;
	struct ttrpc_header h[MAX_SEEN];
	uint8_t *data[MAX_SEEN]; /* copy of the payload, NULL for an oversize report */
	int stop_after;		 /* callback returns -1 once n reaches this (0 = never) */
};

static int
on_frame(void *data, const struct ttrpc_header *h, const uint8_t *payload)
{
	struct seen *s = data;

	if (s->n < MAX_SEEN) {
		s->h[s->n] = *h;
		s->data[s->n] = NULL;
		if (payload) {
			s->data[s->n] = xmalloc(h->length + 1);
			memcpy(s->data[s->n], payload, h->length);
		}
	}
	s->n++;
	return s->stop_after && s->n >= s->stop_after ? -1 : 0;
}

static void
seen_clear(struct seen *s)
{
	for (int i = 0; i < s->n && i < MAX_SEEN; i++)
		free(s->data[i]);
	memset(s, 0, sizeof(*s));
}

static void
test_header(void)
{
	struct ttrpc_header h = {
		.length = 0x00102030, .stream_id = 0xdeadbeef, .type = 2, .flags = 5
	};
	struct ttrpc_header back;
	uint8_t buf[TTRPC_HEADER_LEN];
	/* length, stream id, type, flags */
	const uint8_t *want = (const uint8_t *)"\x00\x10\x20\x30"
					       "\xde\xad\xbe\xef"
					       "\x02\x05";

	ttrpc_header_pack(&h, buf);
	ok(memcmp(buf, want, TTRPC_HEADER_LEN) == 0,
	   "header packs big-endian length, stream, type, flags");
	ttrpc_header_unpack(buf, &back);
	is_int(back.length, h.length, "length round trip");
	is_int(back.stream_id, h.stream_id, "stream id round trip");
	is_int(back.type, 2, "type round trip");
	is_int(back.flags, 5, "flags round trip");
}

static void
test_encode(void)
{
	const uint8_t payload[] = "hello";
	size_t len = 0;
	uint8_t *f = ttrpc_frame_encode(7, TTRPC_TYPE_REQUEST, 0, payload, 5, &len);
	struct ttrpc_header h;

	is_int(len, TTRPC_HEADER_LEN + 5, "encoded frame is header + payload");
	ttrpc_header_unpack(f, &h);
	is_int(h.length, 5, "encoded length");
	is_int(h.stream_id, 7, "encoded stream id");
	ok(memcmp(f + TTRPC_HEADER_LEN, "hello", 5) == 0, "encoded payload follows the header");
	free(f);

	f = ttrpc_frame_encode(1, TTRPC_TYPE_REQUEST, 0, NULL, TTRPC_MAX_MESSAGE + 1, &len);
	ok(f == NULL, "a payload over TTRPC_MAX_MESSAGE is refused");
	f = ttrpc_frame_encode(1, TTRPC_TYPE_RESPONSE, 0, NULL, 0, &len);
	ok(f != NULL && len == TTRPC_HEADER_LEN, "an empty payload encodes to a bare header");
	free(f);
}

static void
test_byte_by_byte(void)
{
	const char *text = "split over many reads";
	size_t len = 0;
	uint8_t *f = ttrpc_frame_encode(3, TTRPC_TYPE_REQUEST, 0, (const uint8_t *)text,
					strlen(text), &len);
	struct ttrpc_decoder d;
	struct seen s = { 0 };
	int bad = 0;

	ttrpc_decoder_init(&d);
	for (size_t i = 0; i < len; i++) {
		if (ttrpc_decoder_feed(&d, f + i, 1, on_frame, &s) != 0)
			bad++;
		if (i + 1 < len && s.n != 0)
			bad++;
	}
	is_int(bad, 0, "no frame is delivered before its last byte");
	is_int(s.n, 1, "one frame after the last byte");
	is_int(s.h[0].stream_id, 3, "its stream id");
	ok(s.data[0] && memcmp(s.data[0], text, strlen(text)) == 0, "its payload");
	ok(ttrpc_decoder_idle(&d), "decoder idle after a whole frame");
	ttrpc_decoder_release(&d);
	seen_clear(&s);
	free(f);
}

/* 200 frames of sizes 0..199 (payload byte i of frame k is k+i), concatenated. */
static uint8_t *
make_stream(size_t *total)
{
	uint8_t *all = NULL;
	size_t n = 0;

	for (uint32_t k = 0; k < 200; k++) {
		uint8_t payload[200];
		size_t len;
		uint8_t *f;

		for (uint32_t i = 0; i < k; i++)
			payload[i] = (uint8_t)(k + i);
		f = ttrpc_frame_encode(2 * k + 1, TTRPC_TYPE_RESPONSE, 0, payload, k, &len);
		all = xrealloc(all, n + len);
		memcpy(all + n, f, len);
		n += len;
		free(f);
	}
	*total = n;
	return all;
}

static int
check_stream(const struct seen *s)
{
	if (s->n != 200)
		return 0;
	for (uint32_t k = 0; k < 200; k++) {
		if (s->h[k].stream_id != 2 * k + 1 || s->h[k].length != k || !s->data[k])
			return 0;
		for (uint32_t i = 0; i < k; i++) {
			if (s->data[k][i] != (uint8_t)(k + i))
				return 0;
		}
	}
	return 1;
}

static void
test_many_frames(void)
{
	size_t total, off;
	uint8_t *all = make_stream(&total);
	struct ttrpc_decoder d;
	struct seen s = { 0 };
	unsigned seed = 12345;

	ttrpc_decoder_init(&d);
	is_int(ttrpc_decoder_feed(&d, all, total, on_frame, &s), 0, "feed of 200 frames at once");
	ok(check_stream(&s),
	   "all 200 frames (zero-length ones included) delivered intact, in order");
	seen_clear(&s);

	/* The same stream in random chunk sizes from 1 to 97 bytes. */
	for (off = 0; off < total;) {
		size_t chunk = 1 + (size_t)(rand_r(&seed) % 97);

		if (chunk > total - off)
			chunk = total - off;
		ttrpc_decoder_feed(&d, all + off, chunk, on_frame, &s);
		off += chunk;
	}
	ok(check_stream(&s), "all 200 frames intact when fed in random chunks");
	ok(ttrpc_decoder_idle(&d), "decoder idle at the end");
	seen_clear(&s);

	/* A callback that stops after frame 5: the rest of the chunk is not consumed. */
	s.stop_after = 5;
	is_int(ttrpc_decoder_feed(&d, all, total, on_frame, &s), -1,
	       "feed returns the callback's negative value");
	is_int(s.n, 5, "and delivers nothing after it");
	ttrpc_decoder_release(&d);
	seen_clear(&s);
	free(all);
}

static void
test_oversize(void)
{
	const size_t big = TTRPC_MAX_MESSAGE + 12345;
	struct ttrpc_header h = { .length = (uint32_t)big, .stream_id = 9, .type = 1 };
	uint8_t *stream, *tail;
	size_t tail_len, total, off;
	struct ttrpc_decoder d;
	struct seen s = { 0 };
	int buffered = 0;

	tail = ttrpc_frame_encode(11, TTRPC_TYPE_REQUEST, 0, (const uint8_t *)"after", 5,
				  &tail_len);
	total = TTRPC_HEADER_LEN + big + tail_len;
	stream = xmalloc(total);
	ttrpc_header_pack(&h, stream);
	memset(stream + TTRPC_HEADER_LEN, 0xab, big);
	memcpy(stream + TTRPC_HEADER_LEN + big, tail, tail_len);

	ttrpc_decoder_init(&d);
	for (off = 0; off < total; off += 65536) {
		size_t chunk = total - off < 65536 ? total - off : 65536;

		ttrpc_decoder_feed(&d, stream + off, chunk, on_frame, &s);
		if (d.buf != NULL)
			buffered++;
		if (off == 0)
			is_int(s.n, 1, "oversize frame reported as soon as its header arrives");
	}
	is_int(buffered, 0, "oversize data is never buffered");
	is_int(s.n, 2, "oversize report, then the next frame");
	ok(s.data[0] == NULL && s.h[0].length == big && s.h[0].stream_id == 9,
	   "report carries a NULL payload, the length and the stream id");
	ok(s.n == 2 && s.h[1].stream_id == 11 && s.data[1] && memcmp(s.data[1], "after", 5) == 0,
	   "the frame after the skipped data decodes normally");
	ttrpc_decoder_release(&d);
	seen_clear(&s);

	/* Exactly the maximum is still fine (length only: the payload pointer is what counts). */
	h.length = TTRPC_MAX_MESSAGE;
	ttrpc_header_pack(&h, stream);
	ttrpc_decoder_init(&d);
	ttrpc_decoder_feed(&d, stream, TTRPC_HEADER_LEN + TTRPC_MAX_MESSAGE, on_frame, &s);
	ok(s.n == 1 && s.data[0] != NULL, "a frame of exactly TTRPC_MAX_MESSAGE is delivered");
	ttrpc_decoder_release(&d);
	seen_clear(&s);
	free(stream);
	free(tail);
}

static void
test_garbage(void)
{
	uint8_t junk[4096];
	unsigned seed = 99;
	struct ttrpc_decoder d;
	struct seen s = { 0 };
	int bad = 0;

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)rand_r(&seed);
	/* Small lengths so that many garbage frames complete. */
	for (size_t i = 0; i + TTRPC_HEADER_LEN <= sizeof(junk); i += 37) {
		junk[i] = 0;
		junk[i + 1] = 0;
		junk[i + 2] = 0;
	}
	ttrpc_decoder_init(&d);
	ttrpc_decoder_feed(&d, junk, sizeof(junk), on_frame, &s);
	for (int i = 0; i < s.n && i < MAX_SEEN; i++) {
		Ttrpc__Request *r;

		if (s.data[i] == NULL)
			continue;
		/* What the server does next: a failure is fine, a crash is not. */
		r = ttrpc__request__unpack(NULL, s.h[i].length, s.data[i]);
		if (r && (r->service == NULL || r->method == NULL))
			bad++;
		if (r)
			ttrpc__request__free_unpacked(r, NULL);
	}
	ok(s.n > 0, "garbage yields frames (%d) without a crash", s.n);
	is_int(bad, 0, "any request that does decode has non-NULL strings");
	ttrpc_decoder_release(&d);
	seen_clear(&s);

	ttrpc_decoder_init(&d);
	ok(ttrpc_decoder_idle(&d), "fresh decoder is idle");
	ttrpc_decoder_feed(&d, (const uint8_t *)"\0\0", 2, on_frame, &s);
	ok(!ttrpc_decoder_idle(&d), "decoder holding half a header is not idle");
	ttrpc_decoder_release(&d);
	ok(ttrpc_decoder_idle(&d), "released decoder is idle again");
	seen_clear(&s);
}

static void
test_envelope(void)
{
	struct ttrpc_kv md[] = { { "containerd-namespace-ttrpc", "default" }, { "k", NULL } };
	Ttrpc__KeyValue body = TTRPC__KEY_VALUE__INIT;
	struct mini_err *err = NULL;
	struct ttrpc_header h;
	Ttrpc__Request *r;
	Ttrpc__Response *resp;
	uint8_t *f;
	size_t len;

	body.key = "a";
	body.value = "b";
	f = ttrpc_envelope_request(5, "svc", "M", &body.base, 1000, md, 2, &len, &err);
	ttrpc_header_unpack(f, &h);
	ok(h.type == TTRPC_TYPE_REQUEST && h.stream_id == 5 && h.length == len - TTRPC_HEADER_LEN,
	   "request frame header");
	r = ttrpc__request__unpack(NULL, h.length, f + TTRPC_HEADER_LEN);
	ok(r != NULL, "request envelope decodes");
	if (r) {
		is_str(r->service, "svc", "service");
		is_str(r->method, "M", "method");
		is_int(r->timeout_nano, 1000, "timeout_nano");
		is_int(r->n_metadata, 2, "metadata count");
		is_str(r->metadata[1]->value, "", "NULL metadata value sent as empty");
		ttrpc__request__free_unpacked(r, NULL);
	}
	free(f);

	f = ttrpc_envelope_response(7, 5, "not found", (const uint8_t *)"x", 1, &len);
	ttrpc_header_unpack(f, &h);
	resp = ttrpc__response__unpack(NULL, h.length, f + TTRPC_HEADER_LEN);
	ok(resp && resp->status && resp->status->code == 5 && resp->payload.len == 0,
	   "error response: status set, payload dropped");
	if (resp)
		ttrpc__response__free_unpacked(resp, NULL);
	free(f);

	f = ttrpc_envelope_response(7, 0, NULL, (const uint8_t *)"xyz", 3, &len);
	ttrpc_header_unpack(f, &h);
	resp = ttrpc__response__unpack(NULL, h.length, f + TTRPC_HEADER_LEN);
	ok(resp && resp->status && resp->status->code == 0 && resp->payload.len == 3,
	   "success response: status code 0 and the payload");
	if (resp)
		ttrpc__response__free_unpacked(resp, NULL);
	free(f);

	{
		char *huge = xmalloc(TTRPC_MAX_MESSAGE + 2);

		memset(huge, 'x', TTRPC_MAX_MESSAGE + 1);
		huge[TTRPC_MAX_MESSAGE + 1] = '\0';
		body.value = huge;
		f = ttrpc_envelope_request(1, "svc", "M", &body.base, 0, NULL, 0, &len, &err);
		ok(f == NULL && err && err->code == 8,
		   "an oversize request is refused with an error");
		mini_err_free(err);
		f = ttrpc_envelope_response(3, 2, huge, NULL, 0, &len);
		ttrpc_header_unpack(f, &h);
		resp = ttrpc__response__unpack(NULL, h.length, f + TTRPC_HEADER_LEN);
		ok(resp && resp->status && resp->status->code == 8,
		   "an oversize response becomes ResourceExhausted");
		if (resp)
			ttrpc__response__free_unpacked(resp, NULL);
		free(f);
		free(huge);
	}
}

int
main(void)
{
	test_header();
	test_encode();
	test_byte_by_byte();
	test_many_frames();
	test_oversize();
	test_garbage();
	test_envelope();
	return tap_done();
}
