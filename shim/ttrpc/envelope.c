#include "envelope.h"
#include "frame.h"
#include "ttrpc/ttrpc.pb-c.h"
#include "xalloc.h"

#include <errno.h>
#include <stdlib.h>

uint8_t *
ttrpc_pack(const ProtobufCMessage *msg, size_t *len)
{
	size_t n = msg ? protobuf_c_message_get_packed_size(msg) : 0;
	uint8_t *buf = xmalloc(n ? n : 1);

	if (n)
		protobuf_c_message_pack(msg, buf);
	*len = n;
	return buf;
}

uint8_t *
ttrpc_envelope_request(uint32_t stream_id, const char *service, const char *method,
		       const ProtobufCMessage *req, int64_t timeout_ns, const struct ttrpc_kv *md,
		       size_t n_md, size_t *out_len, struct mini_err **err)
{
	Ttrpc__Request r = TTRPC__REQUEST__INIT;
	Ttrpc__KeyValue *kv = NULL, **kvp = NULL;
	uint8_t *payload = NULL, *frame = NULL;
	size_t plen = 0;

	payload = ttrpc_pack(req, &plen);
	r.service = (char *)service;
	r.method = (char *)method;
	r.payload.data = payload;
	r.payload.len = plen;
	r.timeout_nano = timeout_ns > 0 ? timeout_ns : 0;
	if (n_md > 0) {
		kv = xcalloc(n_md, sizeof(*kv));
		kvp = xcalloc(n_md, sizeof(*kvp));
		for (size_t i = 0; i < n_md; i++) {
			ttrpc__key_value__init(&kv[i]);
			kv[i].key = (char *)(md[i].key ? md[i].key : "");
			kv[i].value = (char *)(md[i].value ? md[i].value : "");
			kvp[i] = &kv[i];
		}
		r.n_metadata = n_md;
		r.metadata = kvp;
	}
	frame = ttrpc_frame_encode_msg(stream_id, TTRPC_TYPE_REQUEST, 0, &r.base, out_len);
	free(kvp);
	free(kv);
	free(payload);
	if (frame == NULL)
		mini_err_setc(err, MINI_E_EXHAUSTED, EMSGSIZE,
			      "encode request %s/%s: larger than %u bytes", service, method,
			      TTRPC_MAX_MESSAGE);
	return frame;
}

uint8_t *
ttrpc_envelope_response(uint32_t stream_id, int code, const char *message, const uint8_t *payload,
			size_t len, size_t *out_len)
{
	Ttrpc__Response r = TTRPC__RESPONSE__INIT;
	Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
	uint8_t *frame;

	/* Like the Go server, always send a status (code 0 on success). */
	st.code = code;
	st.message = (char *)(message ? message : "");
	r.status = &st;
	r.payload.data = (uint8_t *)payload;
	r.payload.len = code == 0 ? len : 0;
	frame = ttrpc_frame_encode_msg(stream_id, TTRPC_TYPE_RESPONSE, 0, &r.base, out_len);
	if (frame)
		return frame;
	st.code = MINI_E_EXHAUSTED;
	st.message = "response larger than the maximum message size";
	r.payload.len = 0;
	return ttrpc_frame_encode_msg(stream_id, TTRPC_TYPE_RESPONSE, 0, &r.base, out_len);
}

void
ttrpc_envelope_set_stream(uint8_t *frame, uint32_t stream_id)
{
	frame[4] = (uint8_t)(stream_id >> 24);
	frame[5] = (uint8_t)(stream_id >> 16);
	frame[6] = (uint8_t)(stream_id >> 8);
	frame[7] = (uint8_t)stream_id;
}
