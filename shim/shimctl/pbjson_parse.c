/* pbjson input: JSON -> protobuf-c message (see pbjson.h for the mapping).
 *
 * Partially built messages are always consistent for protobuf_c_message_free_unpacked: repeated
 * arrays are zero-filled and attached before their elements are parsed, and every field is set
 * at most once (a repeated key is an error), so nothing is overwritten without being freed. */
#include "pbjson_internal.h"

#include "cleanup.h"
#include "xalloc.h"

#include "google/protobuf/any.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>

static ProtobufCMessage *parse_message(const ProtobufCMessageDescriptor *d, const yajl_val v,
				       const struct pbjson_opts *o, struct mini_err **err);

static const char *
json_type_name(const yajl_val v)
{
	if (YAJL_IS_STRING(v))
		return "a string";
	if (YAJL_IS_NUMBER(v))
		return "a number";
	if (YAJL_IS_OBJECT(v))
		return "an object";
	if (YAJL_IS_ARRAY(v))
		return "an array";
	if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v))
		return "a boolean";
	return "null";
}

static int
type_error(const yajl_val v, const char *want, struct mini_err **err)
{
	return pbjson_err(err, "expected %s, got %s", want, json_type_name(v));
}

static ProtobufCMessage *
new_message(const ProtobufCMessageDescriptor *d)
{
	ProtobufCMessage *m = xcalloc(1, d->sizeof_message);

	protobuf_c_message_init(d, m);
	return m;
}

/* Integers come as JSON numbers or decimal strings (protojson's form for 64-bit values); an
 * exponent or fraction is accepted when the value is integral ("1e3"). */
static const char *
number_text(const yajl_val v)
{
	if (YAJL_IS_NUMBER(v))
		return v->u.number.r;
	if (YAJL_IS_STRING(v))
		return v->u.string;
	return NULL;
}

static int
int_from_text(const char *s, int64_t min, int64_t max, int64_t *out, struct mini_err **err)
{
	char *end;
	long long ll;
	double dv;

	errno = 0;
	ll = strtoll(s, &end, 10);
	if (*s != '\0' && *end == '\0' && errno == 0 && !isspace((unsigned char)*s)) {
		if (ll < min || ll > max)
			return pbjson_err(err, "integer %s out of range", s);
		*out = ll;
		return 0;
	}
	/* strtod would also take hex, "inf" and "nan"; only decimal exponents are wanted. */
	dv = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || isspace((unsigned char)*s) || dv != trunc(dv) ||
	    strpbrk(s, "xXnNiI") != NULL)
		return pbjson_err(err, "invalid integer \"%s\"", s);
	if (dv < (double)min || dv > (double)max)
		return pbjson_err(err, "integer %s out of range", s);
	*out = (int64_t)dv;
	return 0;
}

static int
uint_from_text(const char *s, uint64_t max, uint64_t *out, struct mini_err **err)
{
	char *end;
	unsigned long long ull;
	double dv;

	/* strtoull accepts and negates a leading '-'; an unsigned field must not. */
	if (*s == '-' || *s == '\0' || isspace((unsigned char)*s))
		return pbjson_err(err, "invalid unsigned integer \"%s\"", s);
	errno = 0;
	ull = strtoull(s, &end, 10);
	if (*end == '\0' && errno == 0) {
		if (ull > max)
			return pbjson_err(err, "integer %s out of range", s);
		*out = ull;
		return 0;
	}
	dv = strtod(s, &end);
	if (*end != '\0' || dv != trunc(dv) || strpbrk(s, "xXnNiI") != NULL)
		return pbjson_err(err, "invalid unsigned integer \"%s\"", s);
	if (dv > (double)max)
		return pbjson_err(err, "integer %s out of range", s);
	*out = (uint64_t)dv;
	return 0;
}

static int
real_from_json(const yajl_val v, double *out, struct mini_err **err)
{
	const char *s = number_text(v);
	char *end;

	if (s == NULL)
		return type_error(v, "a number", err);
	if (strcmp(s, "NaN") == 0) {
		*out = NAN;
		return 0;
	}
	if (strcmp(s, "Infinity") == 0 || strcmp(s, "-Infinity") == 0) {
		*out = *s == '-' ? -INFINITY : INFINITY;
		return 0;
	}
	*out = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || isspace((unsigned char)*s))
		return pbjson_err(err, "invalid number \"%s\"", s);
	return 0;
}

/* A scalar written as text: a JSON number's digits, a string, or a map key. */
static int
scalar_from_text(const ProtobufCFieldDescriptor *f, const char *s, void *p, struct mini_err **err)
{
	int64_t i = 0;
	uint64_t u = 0;
	int r = 0;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		r = int_from_text(s, INT32_MIN, INT32_MAX, &i, err);
		*(int32_t *)p = (int32_t)i;
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		r = int_from_text(s, INT64_MIN, INT64_MAX, &i, err);
		*(int64_t *)p = i;
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		r = uint_from_text(s, UINT32_MAX, &u, err);
		*(uint32_t *)p = (uint32_t)u;
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		r = uint_from_text(s, UINT64_MAX, &u, err);
		*(uint64_t *)p = u;
		break;
	case PROTOBUF_C_TYPE_BOOL:
		if (strcmp(s, "true") != 0 && strcmp(s, "false") != 0)
			return pbjson_err(err, "invalid boolean \"%s\"", s);
		*(protobuf_c_boolean *)p = strcmp(s, "true") == 0;
		break;
	case PROTOBUF_C_TYPE_STRING:
		*(char **)p = xstrdup(s);
		break;
	default:
		return pbjson_err(err, "unsupported map key type");
	}
	return r;
}

static int
enum_from_json(const ProtobufCEnumDescriptor *d, const yajl_val v, int *out, struct mini_err **err)
{
	const ProtobufCEnumValue *ev;
	int64_t i;

	if (YAJL_IS_STRING(v)) {
		ev = protobuf_c_enum_descriptor_get_value_by_name(d, v->u.string);
		if (ev == NULL)
			return pbjson_err(err, "unknown value \"%s\" of enum %s", v->u.string,
					  d->name);
		*out = ev->value;
		return 0;
	}
	if (!YAJL_IS_NUMBER(v))
		return type_error(v, "an enum name or number", err);
	/* Unnamed numbers are kept, as proto3 enums are open. */
	if (int_from_text(v->u.number.r, INT32_MIN, INT32_MAX, &i, err) < 0)
		return mini_err_ret(*err);
	*out = (int)i;
	return 0;
}

/* Parses one value of field f into p (a member, or an element of a repeated array). */
static int
parse_value(const ProtobufCFieldDescriptor *f, const yajl_val v, void *p,
	    const struct pbjson_opts *o, struct mini_err **err)
{
	double dv = 0;

	switch (f->type) {
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
		if (real_from_json(v, &dv, err) < 0)
			return mini_err_ret(*err);
		if (f->type == PROTOBUF_C_TYPE_FLOAT)
			*(float *)p = (float)dv;
		else
			*(double *)p = dv;
		return 0;
	case PROTOBUF_C_TYPE_BOOL:
		if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
			return type_error(v, "a boolean", err);
		*(protobuf_c_boolean *)p = YAJL_IS_TRUE(v);
		return 0;
	case PROTOBUF_C_TYPE_ENUM:
		return enum_from_json(f->descriptor, v, p, err);
	case PROTOBUF_C_TYPE_STRING:
		if (!YAJL_IS_STRING(v))
			return type_error(v, "a string", err);
		*(char **)p = xstrdup(v->u.string);
		return 0;
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData *b = p;
		if (!YAJL_IS_STRING(v))
			return type_error(v, "a base64 string", err);
		return pbjson_base64_decode(v->u.string, strlen(v->u.string), &b->data, &b->len,
					    err);
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		*(ProtobufCMessage **)p = parse_message(f->descriptor, v, o, err);
		return *(ProtobufCMessage **)p ? 0 : mini_err_ret(*err);
	default:
		if (number_text(v) == NULL)
			return type_error(v, "an integer", err);
		return scalar_from_text(f, number_text(v), p, err);
	}
}

/* Parses a singular field and records its presence (has_x for proto2, the case of a oneof). */
static int
set_single(const ProtobufCFieldDescriptor *f, ProtobufCMessage *m, const yajl_val v,
	   const struct pbjson_opts *o, struct mini_err **err)
{
	if (parse_value(f, v, PBJSON_MEMBER(m, f->offset), o, err) < 0)
		return mini_err_ret(*err);
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		*(uint32_t *)PBJSON_MEMBER(m, f->quantifier_offset) = f->id;
	else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
		 f->type != PROTOBUF_C_TYPE_MESSAGE)
		*(protobuf_c_boolean *)PBJSON_MEMBER(m, f->quantifier_offset) = 1;
	return 0;
}

static int
set_map(const ProtobufCFieldDescriptor *f, ProtobufCMessage *m, const yajl_val v,
	const struct pbjson_opts *o, struct mini_err **err)
{
	const ProtobufCMessageDescriptor *ed = f->descriptor;
	size_t n = v->u.object.len;
	ProtobufCMessage **entries = n ? xcalloc(n, sizeof(*entries)) : NULL;

	*(size_t *)PBJSON_MEMBER(m, f->quantifier_offset) = n;
	*(ProtobufCMessage ***)PBJSON_MEMBER(m, f->offset) = entries;
	for (size_t i = 0; i < n; i++) {
		const char *key = v->u.object.keys[i];
		entries[i] = new_message(ed);
		if (scalar_from_text(&ed->fields[0], key,
				     PBJSON_MEMBER(entries[i], ed->fields[0].offset), err) < 0 ||
		    set_single(&ed->fields[1], entries[i], v->u.object.values[i], o, err) < 0)
			return mini_err_wrap(err, "key \"%s\"", key);
	}
	return 0;
}

static int
set_repeated(const ProtobufCFieldDescriptor *f, ProtobufCMessage *m, const yajl_val v,
	     const struct pbjson_opts *o, struct mini_err **err)
{
	size_t size = pbjson_type_size(f->type), n;
	char *arr;

	if (pbjson_is_map(f)) {
		if (!YAJL_IS_OBJECT(v))
			return type_error(v, "an object", err);
		return set_map(f, m, v, o, err);
	}
	if (!YAJL_IS_ARRAY(v))
		return type_error(v, "an array", err);
	n = v->u.array.len;
	arr = n ? xcalloc(n, size) : NULL;
	*(size_t *)PBJSON_MEMBER(m, f->quantifier_offset) = n;
	*(char **)PBJSON_MEMBER(m, f->offset) = arr;
	for (size_t i = 0; i < n; i++) {
		if (parse_value(f, v->u.array.values[i], arr + i * size, o, err) < 0)
			return mini_err_wrap(err, "[%zu]", i);
	}
	return 0;
}

/* Whether key names field f: the .proto name or protoc's json_name (lowerCamelCase: each '_'
 * dropped and the letter after it upper-cased). */
static bool
key_matches(const char *field, const char *key)
{
	bool upper_next = false;

	if (strcmp(field, key) == 0)
		return true;
	for (const char *p = field; *p; p++) {
		char c = *p;
		if (c == '_') {
			upper_next = true;
			continue;
		}
		if (upper_next)
			c = (char)toupper((unsigned char)c);
		upper_next = false;
		if (*key++ != c)
			return false;
	}
	return *key == '\0';
}

static int
find_field(const ProtobufCMessageDescriptor *d, const char *key)
{
	for (unsigned i = 0; i < d->n_fields; i++) {
		if (key_matches(d->fields[i].name, key))
			return (int)i;
	}
	return -1;
}

/* Rejects a second member of a oneof group (members share the case member's offset). */
static int
check_oneof(const ProtobufCMessageDescriptor *d, const bool *seen, unsigned idx,
	    struct mini_err **err)
{
	const ProtobufCFieldDescriptor *f = &d->fields[idx];

	if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
		return 0;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *g = &d->fields[i];
		if (seen[i] && i != idx && (g->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    g->quantifier_offset == f->quantifier_offset)
			return mini_err_set(err, EINVAL,
					    "fields \"%s\" and \"%s\" of %s are in the same oneof",
					    g->name, f->name, d->name);
	}
	return 0;
}

static int
fill_fields(const ProtobufCMessageDescriptor *d, ProtobufCMessage *m, const yajl_val v,
	    const struct pbjson_opts *o, struct mini_err **err)
{
	_cleanup_free_ bool *seen = NULL;

	if (!YAJL_IS_OBJECT(v))
		return pbjson_err(err, "expected an object for %s, got %s", d->name,
				  json_type_name(v));
	seen = xcalloc(d->n_fields + 1, sizeof(*seen));
	for (size_t k = 0; k < v->u.object.len; k++) {
		const char *key = v->u.object.keys[k];
		const yajl_val val = v->u.object.values[k];
		const ProtobufCFieldDescriptor *f;
		int idx = find_field(d, key), r;

		if (idx < 0)
			return pbjson_err(err, "unknown field \"%s\" in %s", key, d->name);
		f = &d->fields[idx];
		if (seen[idx])
			return pbjson_err(err, "field \"%s\" of %s given twice", f->name, d->name);
		/* null means "not set", as in protojson. */
		if (YAJL_IS_NULL(val))
			continue;
		if (check_oneof(d, seen, (unsigned)idx, err) < 0)
			return mini_err_ret(*err);
		seen[idx] = true;
		if (f->label == PROTOBUF_C_LABEL_REPEATED)
			r = set_repeated(f, m, val, o, err);
		else
			r = set_single(f, m, val, o, err);
		if (r < 0)
			return mini_err_wrap(err, "%s", f->name);
	}
	return 0;
}

/* The value of an Any: base64 text for any type, or JSON for a type we can encode. */
static int
any_value(Google__Protobuf__Any *a, const yajl_val v, const struct pbjson_opts *o,
	  struct mini_err **err)
{
	const ProtobufCMessageDescriptor *d;
	ProtobufCMessage *m;

	if (YAJL_IS_STRING(v))
		return pbjson_base64_decode(v->u.string, strlen(v->u.string), &a->value.data,
					    &a->value.len, err);
	if (strncmp(a->type_url, PBJSON_RUNTIME_SPEC_PREFIX, strlen(PBJSON_RUNTIME_SPEC_PREFIX)) ==
	    0) {
		yajl_gen g = yajl_gen_alloc(NULL);
		const unsigned char *buf;
		size_t len;

		if (g == NULL)
			abort();
		pbjson_gen_tree(g, v);
		yajl_gen_get_buf(g, &buf, &len);
		a->value.data = xmalloc(len ? len : 1);
		memcpy(a->value.data, buf, len);
		a->value.len = len;
		yajl_gen_free(g);
		return 0;
	}
	d = pbjson_resolve_any(o, a->type_url);
	if (d == NULL)
		return mini_err_set(err, EINVAL,
				    "unknown type \"%s\" in google.protobuf.Any: give value as "
				    "base64",
				    a->type_url);
	m = parse_message(d, v, o, err);
	if (m == NULL)
		return mini_err_ret(*err);
	a->value.len = protobuf_c_message_get_packed_size(m);
	a->value.data = xmalloc(a->value.len ? a->value.len : 1);
	protobuf_c_message_pack(m, a->value.data);
	protobuf_c_message_free_unpacked(m, NULL);
	return 0;
}

static int
fill_any(Google__Protobuf__Any *a, const yajl_val v, const struct pbjson_opts *o,
	 struct mini_err **err)
{
	yajl_val url = NULL, value = NULL;

	if (!YAJL_IS_OBJECT(v))
		return type_error(v, "an object {\"type_url\", \"value\"}", err);
	for (size_t k = 0; k < v->u.object.len; k++) {
		const char *key = v->u.object.keys[k];
		if (key_matches("type_url", key))
			url = v->u.object.values[k];
		else if (strcmp(key, "value") == 0)
			value = v->u.object.values[k];
		else
			return mini_err_set(err, EINVAL,
					    "unknown field \"%s\" in google.protobuf.Any", key);
	}
	if (url != NULL && !YAJL_IS_NULL(url)) {
		if (!YAJL_IS_STRING(url))
			return type_error(url, "a string for type_url", err);
		a->type_url = xstrdup(url->u.string);
	}
	if (value == NULL || YAJL_IS_NULL(value))
		return 0;
	if (*a->type_url == '\0')
		return pbjson_err(err, "google.protobuf.Any has a value but no type_url");
	if (any_value(a, value, o, err) < 0)
		return mini_err_wrap(err, "value");
	return 0;
}

static int
fill_message(const ProtobufCMessageDescriptor *d, ProtobufCMessage *m, const yajl_val v,
	     const struct pbjson_opts *o, struct mini_err **err)
{
	if (pbjson_is_type(d, "google.protobuf.Timestamp") && YAJL_IS_STRING(v)) {
		Google__Protobuf__Timestamp *ts = (void *)m;
		return pbjson_timestamp_parse(v->u.string, &ts->seconds, &ts->nanos, err);
	}
	if (pbjson_is_type(d, "google.protobuf.Any"))
		return fill_any((void *)m, v, o, err);
	return fill_fields(d, m, v, o, err);
}

static ProtobufCMessage *
parse_message(const ProtobufCMessageDescriptor *d, const yajl_val v, const struct pbjson_opts *o,
	      struct mini_err **err)
{
	ProtobufCMessage *m = new_message(d);

	if (fill_message(d, m, v, o, err) < 0) {
		protobuf_c_message_free_unpacked(m, NULL);
		return NULL;
	}
	return m;
}

ProtobufCMessage *
pbjson_from_tree(const ProtobufCMessageDescriptor *desc, const yajl_val v,
		 const struct pbjson_opts *opts, struct mini_err **err)
{
	return parse_message(desc, v, opts, err);
}

ProtobufCMessage *
pbjson_parse(const ProtobufCMessageDescriptor *desc, const char *json, size_t len,
	     const struct pbjson_opts *opts, struct mini_err **err)
{
	_cleanup_free_ char *text = xstrndup(json, len);
	char errbuf[512];
	ProtobufCMessage *m;
	yajl_val tree;
	size_t i;

	for (i = 0; i < len && isspace((unsigned char)text[i]); i++)
		;
	if (i == len || text[i] == '\0')
		return new_message(desc);
	errbuf[0] = '\0';
	tree = yajl_tree_parse(text, errbuf, sizeof(errbuf));
	if (tree == NULL) {
		/* yajl's message spans lines (it quotes the input); keep the first. */
		errbuf[strcspn(errbuf, "\n")] = '\0';
		pbjson_err(err, "invalid JSON: %s", errbuf[0] ? errbuf : "parse error");
		return NULL;
	}
	m = parse_message(desc, tree, opts, err);
	yajl_tree_free(tree);
	return m;
}
