/* libFuzzer target: arbitrary bytes through the ttrpc frame decoder, as a connection would deliver
 * them, and every complete frame's payload through the envelope decoders, as the server
 * (ttrpc.Request) and the clients (ttrpc.Response) do. The first input byte picks the read
 * size, so frame boundaries fall everywhere inside reads. */
#include "frame.h"
#include "ttrpc/ttrpc.pb-c.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t frames_seen;

static void
use_request(const Ttrpc__Request *r)
{
	volatile size_t sink = 0;

	/* Touch everything a handler may read. */
	sink += strlen(r->service) + strlen(r->method) + r->payload.len;
	for (size_t i = 0; i < r->n_metadata; i++)
		sink += strlen(r->metadata[i]->key) + strlen(r->metadata[i]->value);
	(void)sink;
}

static int
on_frame(void *data, const struct ttrpc_header *h, const uint8_t *payload)
{
	struct ttrpc_header back;
	uint8_t hdr[TTRPC_HEADER_LEN];
	Ttrpc__Request *req;
	Ttrpc__Response *resp;

	frames_seen++;
	/* The header must survive a round trip bit for bit. */
	ttrpc_header_pack(h, hdr);
	ttrpc_header_unpack(hdr, &back);
	if (back.length != h->length || back.stream_id != h->stream_id || back.type != h->type ||
	    back.flags != h->flags)
		abort();
	if (payload == NULL) {
		/* Oversize reports only for lengths over the cap. */
		if (h->length <= TTRPC_MAX_MESSAGE)
			abort();
		return 0;
	}
	if (h->length > TTRPC_MAX_MESSAGE)
		abort();
	req = ttrpc__request__unpack(NULL, h->length, payload);
	if (req) {
		use_request(req);
		ttrpc__request__free_unpacked(req, NULL);
	}
	resp = ttrpc__response__unpack(NULL, h->length, payload);
	if (resp) {
		volatile size_t sink = resp->payload.len;

		if (resp->status)
			sink += strlen(resp->status->message);
		(void)sink;
		ttrpc__response__free_unpacked(resp, NULL);
	}
	/* A callback may stop the decoder; exercise that path too. */
	return h->flags == 0xff ? -1 : 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ttrpc_decoder d;
	size_t chunk;

	if (size == 0)
		return 0;
	chunk = data[0] ? data[0] : size;
	data++;
	size--;
	ttrpc_decoder_init(&d);
	while (size > 0) {
		size_t n = size < chunk ? size : chunk;

		if (ttrpc_decoder_feed(&d, data, n, on_frame, NULL) < 0)
			break;
		data += n;
		size -= n;
	}
	ttrpc_decoder_release(&d);
	return 0;
}
