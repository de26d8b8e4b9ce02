/* Building ttrpc.Request / ttrpc.Response frames (internal to the ttrpc library). */
#ifndef MINI_TTRPC_ENVELOPE_H
#define MINI_TTRPC_ENVELOPE_H

#include "client.h"
#include "err.h"

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

/* Packs msg into a new buffer (NULL msg = google.protobuf.Empty, zero bytes). Caller owns the
 * result (never NULL: an empty payload is a 1-byte allocation). */
uint8_t *ttrpc_pack(const ProtobufCMessage *msg, size_t *len);

/* A complete Request frame. Returns NULL and sets *err (-EMSGSIZE class) when the frame would
 * exceed TTRPC_MAX_MESSAGE. Caller owns the result. */
uint8_t *ttrpc_envelope_request(uint32_t stream_id, const char *service, const char *method,
				const ProtobufCMessage *req, int64_t timeout_ns,
				const struct ttrpc_kv *md, size_t n_md, size_t *out_len,
				struct mini_err **err);

/* A complete Response frame: status {code, message} and payload. Never fails: a response that
 * would exceed TTRPC_MAX_MESSAGE is replaced by a ResourceExhausted status. Caller owns it. */
uint8_t *ttrpc_envelope_response(uint32_t stream_id, int code, const char *message,
				 const uint8_t *payload, size_t len, size_t *out_len);

/* Patches the stream id of an encoded frame (the client numbers frames when it sends them). */
void ttrpc_envelope_set_stream(uint8_t *frame, uint32_t stream_id);

#endif
