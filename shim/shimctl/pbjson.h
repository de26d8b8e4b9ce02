/* pbjson: JSON <-> protobuf-c messages, driven only by ProtobufCMessageDescriptor, so it works for
 * any message type.
 *
 * Mapping (close to protojson with UseProtoNames):
 * - Field names are the .proto names (snake_case); on input the lowerCamelCase JSON name is
 *   accepted too. An unknown field is an error naming the field and the message.
 * - 64-bit integers are written as JSON numbers (not strings as protojson does), because shimctl
 *   output is read by people and by Python, which both handle 64-bit numbers; on input a number
 *   or a decimal string is accepted for any integer field.
 * - bytes are standard base64 (input also accepts the URL-safe alphabet and missing padding);
 *   enums are written by name (a number when the value has no name) and read by name or number;
 *   repeated fields are arrays; maps are objects keyed by the key's text; JSON null means unset.
 * - google.protobuf.Timestamp is an RFC 3339 string in UTC ("2024-05-01T10:00:00.5Z"); an object
 *   {"seconds":…,"nanos":…} is accepted on input and written when the value is out of range.
 * - google.protobuf.Any is {"type_url": T, "value": V}. V is the decoded message as JSON when T
 *   names a type the lookup knows (with or without a "host/" prefix), the JSON document itself
 *   when T starts with types.containerd.io/opencontainers/runtime-spec/ (those values hold JSON,
 *   not protobuf), and base64 otherwise. Input accepts the same forms.
 *
 * Messages returned by pbjson_parse are allocated with malloc and freed with
 * protobuf_c_message_free_unpacked(msg, NULL).
 */
#ifndef MINI_SHIMCTL_PBJSON_H
#define MINI_SHIMCTL_PBJSON_H

#include "err.h"

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

/* Finds a message type by its full name ("containerd.events.TaskExit"); NULL when unknown. */
typedef const ProtobufCMessageDescriptor *(*pbjson_lookup_fn)(const char *full_name);

enum pbjson_flags {
	/* Also write fields holding their default (zero, "", [], unset message as null), like
	 * protojson's EmitUnpopulated. Fields with explicit presence (proto2 optional, oneof
	 * members) are still written only when set. */
	PBJSON_EMIT_DEFAULTS = 1 << 0,
	/* Indent the output (two spaces) and end it with a newline. */
	PBJSON_PRETTY = 1 << 1,
};

struct pbjson_opts {
	unsigned flags;		 /* enum pbjson_flags */
	pbjson_lookup_fn lookup; /* resolves Any type URLs; NULL = every Any value is base64 */
};

/* Builds a message of type desc from the JSON text json (len bytes, need not be NUL-terminated).
 * Empty or all-blank text is {}. opts may be NULL. Caller owns the result; NULL and *err (EINVAL
 * for bad input) on failure. */
ProtobufCMessage *pbjson_parse(const ProtobufCMessageDescriptor *desc, const char *json, size_t len,
			       const struct pbjson_opts *opts, struct mini_err **err);

/* Like pbjson_parse from an already parsed yajl tree (borrowed). */
ProtobufCMessage *pbjson_from_tree(const ProtobufCMessageDescriptor *desc, const yajl_val v,
				   const struct pbjson_opts *opts, struct mini_err **err);

/* Writes msg as one JSON value into g. Never fails: values that cannot be decoded (an Any whose
 * payload does not unpack) fall back to base64. */
void pbjson_gen(yajl_gen g, const ProtobufCMessage *msg, const struct pbjson_opts *opts);

/* msg as a NUL-terminated JSON text. Caller owns the result. */
char *pbjson_format(const ProtobufCMessage *msg, const struct pbjson_opts *opts);

/* Writes the yajl tree v (borrowed) into g. */
void pbjson_gen_tree(yajl_gen g, const yajl_val v);

/* Standard base64 with padding. Caller owns the NUL-terminated result. */
char *pbjson_base64_encode(const uint8_t *data, size_t len);

/* Decodes standard or URL-safe base64, padding optional. Caller owns *out (NULL when *out_len is
 * 0). Returns 0, or -EINVAL (and sets *err) on a bad character or length. */
int pbjson_base64_decode(const char *s, size_t slen, uint8_t **out, size_t *out_len,
			 struct mini_err **err);

/* Formats seconds/nanos as RFC 3339 UTC into buf (at least 40 bytes). Returns false when the
 * value is outside years 1-9999 or nanos outside [0, 1e9). */
bool pbjson_timestamp_format(int64_t seconds, int32_t nanos, char *buf, size_t size);

/* Parses an RFC 3339 date-time with a Z or ±HH:MM offset and up to 9 fractional digits.
 * Returns 0, or -EINVAL (and sets *err). */
int pbjson_timestamp_parse(const char *s, int64_t *seconds, int32_t *nanos, struct mini_err **err);

#endif
