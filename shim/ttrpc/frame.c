#include "frame.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

/* Handed to callbacks for zero-length frames, so that NULL always means "oversize". */
static const uint8_t empty_payload[1];

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

void
ttrpc_header_pack(const struct ttrpc_header *h, uint8_t out[TTRPC_HEADER_LEN])
{
	put_be32(out, h->length);
	put_be32(out + 4, h->stream_id);
	out[8] = h->type;
	out[9] = h->flags;
}

void
ttrpc_header_unpack(const uint8_t in[TTRPC_HEADER_LEN], struct ttrpc_header *h)
{
	h->length = get_be32(in);
	h->stream_id = get_be32(in + 4);
	h->type = in[8];
	h->flags = in[9];
}

static uint8_t *
frame_alloc(uint32_t stream_id, uint8_t type, uint8_t flags, size_t len, size_t *out_len)
{
	struct ttrpc_header h = {
		.length = (uint32_t)len, .stream_id = stream_id, .type = type, .flags = flags
	};
	uint8_t *buf;

	if (len > TTRPC_MAX_MESSAGE)
		return NULL;
	buf = xmalloc(TTRPC_HEADER_LEN + len);
	ttrpc_header_pack(&h, buf);
	*out_len = TTRPC_HEADER_LEN + len;
	return buf;
}

uint8_t *
ttrpc_frame_encode(uint32_t stream_id, uint8_t type, uint8_t flags, const uint8_t *payload,
		   size_t len, size_t *out_len)
{
	uint8_t *buf = frame_alloc(stream_id, type, flags, len, out_len);

	if (buf && len > 0)
		memcpy(buf + TTRPC_HEADER_LEN, payload, len);
	return buf;
}

uint8_t *
ttrpc_frame_encode_msg(uint32_t stream_id, uint8_t type, uint8_t flags, const ProtobufCMessage *msg,
		       size_t *out_len)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = frame_alloc(stream_id, type, flags, len, out_len);

	if (buf)
		protobuf_c_message_pack(msg, buf + TTRPC_HEADER_LEN);
	return buf;
}

void
ttrpc_decoder_init(struct ttrpc_decoder *d)
{
	memset(d, 0, sizeof(*d));
}

void
ttrpc_decoder_release(struct ttrpc_decoder *d)
{
	free(d->buf);
	ttrpc_decoder_init(d);
}

int
ttrpc_decoder_idle(const struct ttrpc_decoder *d)
{
	return d->hdr_got == 0 && d->skip == 0;
}

/* Takes header bytes from *p; returns 1 once the header is complete. */
static int
take_header(struct ttrpc_decoder *d, const uint8_t **p, size_t *n)
{
	size_t want = TTRPC_HEADER_LEN - d->hdr_got;
	size_t take = *n < want ? *n : want;

	memcpy(d->hdr + d->hdr_got, *p, take);
	d->hdr_got += take;
	*p += take;
	*n -= take;
	if (d->hdr_got < TTRPC_HEADER_LEN)
		return 0;
	ttrpc_header_unpack(d->hdr, &d->cur);
	return 1;
}

static void
frame_done(struct ttrpc_decoder *d)
{
	free(d->buf);
	d->buf = NULL;
	d->buf_got = 0;
	d->hdr_got = 0;
}

/* Takes data bytes for the current (accepted) frame; delivers it once complete. The frame is
 * consumed before cb runs, so a callback that releases d leaves nothing dangling. */
static int
take_data(struct ttrpc_decoder *d, const uint8_t **p, size_t *n, ttrpc_frame_cb cb, void *data)
{
	struct ttrpc_header h = d->cur;
	const uint8_t *whole;
	uint8_t *owned;
	size_t want, take;
	int ret;

	if (d->buf == NULL && *n >= h.length) {
		/* The whole frame is in this chunk: no copy. */
		whole = h.length ? *p : empty_payload;
		*p += h.length;
		*n -= h.length;
		frame_done(d);
		return cb(data, &h, whole);
	}
	if (d->buf == NULL)
		d->buf = xmalloc(h.length);
	want = h.length - d->buf_got;
	take = *n < want ? *n : want;
	memcpy(d->buf + d->buf_got, *p, take);
	d->buf_got += take;
	*p += take;
	*n -= take;
	if (d->buf_got < h.length)
		return 0;
	owned = d->buf;
	d->buf = NULL;
	frame_done(d);
	ret = cb(data, &h, owned);
	free(owned);
	return ret;
}

int
ttrpc_decoder_feed(struct ttrpc_decoder *d, const uint8_t *p, size_t n, ttrpc_frame_cb cb,
		   void *data)
{
	int ret;

	while (n > 0) {
		if (d->skip > 0) {
			size_t take = n < d->skip ? n : d->skip;

			p += take;
			n -= take;
			d->skip -= (uint32_t)take;
			continue;
		}
		if (d->hdr_got < TTRPC_HEADER_LEN) {
			if (!take_header(d, &p, &n))
				return 0;
			if (d->cur.length > TTRPC_MAX_MESSAGE) {
				struct ttrpc_header h = d->cur;

				/* Report first, then discard without buffering. */
				d->skip = h.length;
				d->hdr_got = 0;
				ret = cb(data, &h, NULL);
				if (ret < 0)
					return ret;
				continue;
			}
		}
		ret = take_data(d, &p, &n, cb, data);
		if (ret < 0)
			return ret;
	}
	return 0;
}
