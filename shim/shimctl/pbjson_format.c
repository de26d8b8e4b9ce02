/* pbjson output: protobuf-c message -> JSON (see pbjson.h for the mapping). */
#include "pbjson_internal.h"

#include "cleanup.h"
#include "xalloc.h"

#include "google/protobuf/any.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static void gen_message(yajl_gen g, const ProtobufCMessage *msg, const struct pbjson_opts *o);

static void
gen_str(yajl_gen g, const char *s)
{
	if (s == NULL)
		s = "";
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static void
gen_base64(yajl_gen g, const uint8_t *data, size_t len)
{
	_cleanup_free_ char *s = pbjson_base64_encode(data, len);

	gen_str(g, s);
}

/* The shortest decimal that reads back as the same value, so 0.1f prints as 0.1 and not as
 * yajl_gen_double's 0.10000000149011612. */
static void
gen_real(yajl_gen g, double v, bool is_float)
{
	char buf[40];

	if (isnan(v)) {
		gen_str(g, "NaN");
		return;
	}
	if (isinf(v)) {
		gen_str(g, v > 0 ? "Infinity" : "-Infinity");
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (is_float ? strtof(buf, NULL) == (float)v : strtod(buf, NULL) == v)
			break;
	}
	yajl_gen_number(g, buf, strlen(buf));
}

static void
gen_u64(yajl_gen g, uint64_t v)
{
	char buf[24];

	/* yajl_gen_integer takes a long long; larger values go out as number text. */
	if (v <= LLONG_MAX) {
		yajl_gen_integer(g, (long long)v);
		return;
	}
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	yajl_gen_number(g, buf, strlen(buf));
}

static void
gen_enum(yajl_gen g, const ProtobufCEnumDescriptor *d, int value)
{
	const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, value);

	if (ev != NULL)
		gen_str(g, ev->name);
	else
		yajl_gen_integer(g, value);
}

/* One value of field f stored at p (a member, or an element of a repeated array). */
static void
gen_value(yajl_gen g, const ProtobufCFieldDescriptor *f, const void *p, const struct pbjson_opts *o)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		yajl_gen_integer(g, *(const int32_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		yajl_gen_integer(g, *(const uint32_t *)p);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		yajl_gen_integer(g, (long long)*(const int64_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		gen_u64(g, *(const uint64_t *)p);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		gen_real(g, *(const float *)p, true);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		gen_real(g, *(const double *)p, false);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		yajl_gen_bool(g, *(const protobuf_c_boolean *)p);
		break;
	case PROTOBUF_C_TYPE_ENUM:
		gen_enum(g, f->descriptor, *(const int *)p);
		break;
	case PROTOBUF_C_TYPE_STRING:
		gen_str(g, *(char *const *)p);
		break;
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = p;
		gen_base64(g, b->data, b->len);
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *m = *(const ProtobufCMessage *const *)p;
		if (m == NULL)
			yajl_gen_null(g);
		else
			gen_message(g, m, o);
		break;
	}
	}
}

/* A map key as JSON object key text. */
static void
gen_map_key(yajl_gen g, const ProtobufCFieldDescriptor *f, const void *p)
{
	char buf[24];

	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		gen_str(g, *(char *const *)p);
		return;
	case PROTOBUF_C_TYPE_BOOL:
		gen_str(g, *(const protobuf_c_boolean *)p ? "true" : "false");
		return;
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		snprintf(buf, sizeof(buf), "%" PRId32, *(const int32_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		snprintf(buf, sizeof(buf), "%" PRIu32, *(const uint32_t *)p);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		snprintf(buf, sizeof(buf), "%" PRId64, *(const int64_t *)p);
		break;
	default:
		/* uint64/fixed64; protobuf allows no other key types. */
		snprintf(buf, sizeof(buf), "%" PRIu64, *(const uint64_t *)p);
		break;
	}
	gen_str(g, buf);
}

static void
gen_map(yajl_gen g, const ProtobufCFieldDescriptor *f, const ProtobufCMessage *const *entries,
	size_t n, const struct pbjson_opts *o)
{
	const ProtobufCMessageDescriptor *ed = f->descriptor;

	yajl_gen_map_open(g);
	for (size_t i = 0; i < n; i++) {
		gen_map_key(g, &ed->fields[0], PBJSON_CMEMBER(entries[i], ed->fields[0].offset));
		gen_value(g, &ed->fields[1], PBJSON_CMEMBER(entries[i], ed->fields[1].offset), o);
	}
	yajl_gen_map_close(g);
}

static void
gen_repeated(yajl_gen g, const ProtobufCFieldDescriptor *f, const ProtobufCMessage *msg,
	     const struct pbjson_opts *o)
{
	size_t n = *(const size_t *)PBJSON_CMEMBER(msg, f->quantifier_offset);
	const char *arr = *(const char *const *)PBJSON_CMEMBER(msg, f->offset);
	size_t size = pbjson_type_size(f->type);

	if (pbjson_is_map(f)) {
		gen_map(g, f, (const ProtobufCMessage *const *)arr, n, o);
		return;
	}
	yajl_gen_array_open(g);
	for (size_t i = 0; i < n; i++)
		gen_value(g, f, arr + i * size, o);
	yajl_gen_array_close(g);
}

static bool
is_zero(const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_ENUM:
		return *(const uint32_t *)p == 0;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return *(const uint64_t *)p == 0;
	case PROTOBUF_C_TYPE_FLOAT:
		return *(const float *)p == 0;
	case PROTOBUF_C_TYPE_DOUBLE:
		return *(const double *)p == 0;
	case PROTOBUF_C_TYPE_BOOL:
		return !*(const protobuf_c_boolean *)p;
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)p;
		return s == NULL || *s == '\0';
	}
	case PROTOBUF_C_TYPE_BYTES:
		return ((const ProtobufCBinaryData *)p)->len == 0;
	case PROTOBUF_C_TYPE_MESSAGE:
		return *(const ProtobufCMessage *const *)p == NULL;
	}
	return true;
}

static bool
field_present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f, bool emit_defaults)
{
	const void *p = PBJSON_CMEMBER(msg, f->offset);

	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)PBJSON_CMEMBER(msg, f->quantifier_offset) == f->id;
	switch (f->label) {
	case PROTOBUF_C_LABEL_REQUIRED:
		return true;
	case PROTOBUF_C_LABEL_REPEATED:
		return emit_defaults || *(const size_t *)PBJSON_CMEMBER(msg, f->quantifier_offset);
	case PROTOBUF_C_LABEL_OPTIONAL:
		/* proto2: strings and messages are present when non-NULL, others have has_x. */
		if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE)
			return *(const void *const *)p != NULL &&
			       *(const void *const *)p != f->default_value;
		return *(const protobuf_c_boolean *)PBJSON_CMEMBER(msg, f->quantifier_offset);
	case PROTOBUF_C_LABEL_NONE:
		return emit_defaults || !is_zero(f, p);
	}
	return false;
}

static void
gen_any(yajl_gen g, const Google__Protobuf__Any *a, const struct pbjson_opts *o)
{
	const char *url = a->type_url ? a->type_url : "";
	const ProtobufCMessageDescriptor *d;

	yajl_gen_map_open(g);
	gen_str(g, "type_url");
	gen_str(g, url);
	gen_str(g, "value");
	if (strncmp(url, PBJSON_RUNTIME_SPEC_PREFIX, strlen(PBJSON_RUNTIME_SPEC_PREFIX)) == 0 &&
	    a->value.len > 0) {
		_cleanup_free_ char *text = xstrndup((const char *)a->value.data, a->value.len);
		yajl_val tree = yajl_tree_parse(text, NULL, 0);
		if (tree != NULL) {
			pbjson_gen_tree(g, tree);
			yajl_tree_free(tree);
			yajl_gen_map_close(g);
			return;
		}
	} else if ((d = pbjson_resolve_any(o, url)) != NULL) {
		ProtobufCMessage *m =
			protobuf_c_message_unpack(d, NULL, a->value.len, a->value.data);
		if (m != NULL) {
			gen_message(g, m, o);
			protobuf_c_message_free_unpacked(m, NULL);
			yajl_gen_map_close(g);
			return;
		}
	}
	gen_base64(g, a->value.data, a->value.len);
	yajl_gen_map_close(g);
}

static void
gen_fields(yajl_gen g, const ProtobufCMessage *msg, const struct pbjson_opts *o)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	bool emit_defaults = o && (o->flags & PBJSON_EMIT_DEFAULTS);

	yajl_gen_map_open(g);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (!field_present(msg, f, emit_defaults))
			continue;
		gen_str(g, f->name);
		if (f->label == PROTOBUF_C_LABEL_REPEATED)
			gen_repeated(g, f, msg, o);
		else
			gen_value(g, f, PBJSON_CMEMBER(msg, f->offset), o);
	}
	yajl_gen_map_close(g);
}

static void
gen_message(yajl_gen g, const ProtobufCMessage *msg, const struct pbjson_opts *o)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;

	if (pbjson_is_type(d, "google.protobuf.Timestamp")) {
		const Google__Protobuf__Timestamp *ts = (const void *)msg;
		char buf[48];
		if (pbjson_timestamp_format(ts->seconds, ts->nanos, buf, sizeof(buf))) {
			gen_str(g, buf);
			return;
		}
	} else if (pbjson_is_type(d, "google.protobuf.Any")) {
		gen_any(g, (const void *)msg, o);
		return;
	}
	gen_fields(g, msg, o);
}

void
pbjson_gen(yajl_gen g, const ProtobufCMessage *msg, const struct pbjson_opts *opts)
{
	gen_message(g, msg, opts);
}

struct outbuf {
	char *p;
	size_t n, cap;
};

static void
out_put(struct outbuf *o, char c)
{
	if (o->n + 1 >= o->cap)
		o->p = xrealloc(o->p, o->cap *= 2);
	o->p[o->n++] = c;
}

static void
out_newline(struct outbuf *o, int depth)
{
	out_put(o, '\n');
	for (int i = 0; i < depth * 2; i++)
		out_put(o, ' ');
}

/* Re-indents compact JSON with two spaces per level. yajl's own beautifier prints an empty
 * object as "{\n\n}", which reads badly for the many empty replies shimctl shows. */
static char *
indent_json(const char *in, size_t len)
{
	struct outbuf o = { .p = xmalloc(len * 2 + 64), .cap = len * 2 + 64 };
	bool in_str = false;
	int depth = 0;

	for (size_t i = 0; i < len; i++) {
		char c = in[i];

		out_put(&o, c);
		if (in_str) {
			if (c == '\\' && i + 1 < len)
				out_put(&o, in[++i]);
			else if (c == '"')
				in_str = false;
			continue;
		}
		switch (c) {
		case '"':
			in_str = true;
			break;
		case '{':
		case '[':
			/* Empty containers stay on one line. */
			if (i + 1 < len && (in[i + 1] == '}' || in[i + 1] == ']'))
				out_put(&o, in[++i]);
			else
				out_newline(&o, ++depth);
			break;
		case '}':
		case ']':
			/* The closer went out already; put the line break before it. */
			o.n--;
			out_newline(&o, --depth);
			out_put(&o, c);
			break;
		case ',':
			out_newline(&o, depth);
			break;
		case ':':
			out_put(&o, ' ');
			break;
		}
	}
	out_put(&o, '\n');
	out_put(&o, '\0');
	return o.p;
}

char *
pbjson_format(const ProtobufCMessage *msg, const struct pbjson_opts *opts)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t len;
	char *out;

	if (g == NULL)
		abort();
	gen_message(g, msg, opts);
	yajl_gen_get_buf(g, &buf, &len);
	if (opts && (opts->flags & PBJSON_PRETTY))
		out = indent_json((const char *)buf, len);
	else
		out = xstrndup((const char *)buf, len);
	yajl_gen_free(g);
	return out;
}
