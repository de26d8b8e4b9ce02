/* The ttrpc frame codec: a 10-byte header (big-endian uint32 data length, uint32 stream id,
 * uint8 type, uint8 flags) followed by `length` bytes. Pure data transformation, no I/O, so the
 * server, both clients and the fuzzer share it. */
#ifndef MINI_TTRPC_FRAME_H
#define MINI_TTRPC_FRAME_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#define TTRPC_HEADER_LEN 10
/* The largest data length either side accepts (Go ttrpc's messageLengthMax). */
#define TTRPC_MAX_MESSAGE (4u << 20)

enum ttrpc_msg_type {
	TTRPC_TYPE_REQUEST = 1,
	TTRPC_TYPE_RESPONSE = 2,
	TTRPC_TYPE_DATA = 3, /* streaming, ttrpc >= 1.2; never sent to a task-API shim */
};

struct ttrpc_header {
	uint32_t length; /* data length, header excluded */
	uint32_t stream_id;
	uint8_t type;
	uint8_t flags;
};

void ttrpc_header_pack(const struct ttrpc_header *h, uint8_t out[TTRPC_HEADER_LEN]);
void ttrpc_header_unpack(const uint8_t in[TTRPC_HEADER_LEN], struct ttrpc_header *h);

/* Encodes header + payload into a new buffer of *out_len bytes. Caller owns the result. Returns
 * NULL (nothing allocated) when len exceeds TTRPC_MAX_MESSAGE. */
uint8_t *ttrpc_frame_encode(uint32_t stream_id, uint8_t type, uint8_t flags, const uint8_t *payload,
			    size_t len, size_t *out_len);

/* Like ttrpc_frame_encode with msg packed as the payload, without an intermediate copy. */
uint8_t *ttrpc_frame_encode_msg(uint32_t stream_id, uint8_t type, uint8_t flags,
				const ProtobufCMessage *msg, size_t *out_len);

/* Called once per complete frame. payload (h->length bytes) is valid only during the call. For a
 * frame whose length exceeds TTRPC_MAX_MESSAGE, payload is NULL: it is reported as soon as its
 * header is complete and its data is then skipped without being buffered. Return 0 to go on, or a
 * negative value to stop: ttrpc_decoder_feed then returns it at once (for example because the
 * callback closed the connection the bytes came from). */
typedef int (*ttrpc_frame_cb)(void *data, const struct ttrpc_header *h, const uint8_t *payload);

/* Incremental decoder: bytes go in as they are read, in chunks of any size. */
struct ttrpc_decoder {
	uint8_t hdr[TTRPC_HEADER_LEN];
	size_t hdr_got;		 /* header bytes collected so far */
	struct ttrpc_header cur; /* valid once hdr_got == TTRPC_HEADER_LEN */
	uint8_t *buf;		 /* data of cur collected so far (only when split across chunks) */
	size_t buf_got;
	uint32_t skip; /* data bytes of an oversize frame still to discard */
};

void ttrpc_decoder_init(struct ttrpc_decoder *d);
/* Frees the partial frame, if any; d can be fed again afterwards (from a clean state). */
void ttrpc_decoder_release(struct ttrpc_decoder *d);
/* Consumes n bytes, calling cb for every frame they complete. Returns 0, or the first negative
 * value cb returned (the rest of p is then not consumed and d must be released). */
int ttrpc_decoder_feed(struct ttrpc_decoder *d, const uint8_t *p, size_t n, ttrpc_frame_cb cb,
		       void *data);
/* True when no frame is partly received (a stream may end cleanly here). */
int ttrpc_decoder_idle(const struct ttrpc_decoder *d);

#endif
