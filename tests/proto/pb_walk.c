/* Descriptor-driven fill / compare / wire inspection for protobuf-c messages (see pb_walk.h). */
#include "pb_walk.h"

#include "cleanup.h"
#include "xalloc.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* None of our messages is recursive; the limit only turns a mistake into a test failure
 * instead of unbounded recursion. */
#define MAX_DEPTH 8
#define N_REPEATED 2

#define SLOT(m, off) ((char *)(m) + (off))
#define CSLOT(m, off) ((const char *)(m) + (off))

static ProtobufCMessage *new_filled(const ProtobufCMessageDescriptor *desc, unsigned *seed,
				    int depth);

static size_t
elem_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return sizeof(uint32_t);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return sizeof(uint64_t);
	case PROTOBUF_C_TYPE_FLOAT:
		return sizeof(float);
	case PROTOBUF_C_TYPE_DOUBLE:
		return sizeof(double);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_ENUM:
		/* protobuf-c forces every generated enum to int size. */
		return sizeof(int);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	}
	return 0;
}

/* The last non-zero value of the enum, so the field is never at its default. */
static int
nonzero_enum_value(const ProtobufCEnumDescriptor *ed)
{
	for (unsigned i = ed->n_values; i > 0; i--) {
		if (ed->values[i - 1].value != 0)
			return ed->values[i - 1].value;
	}
	return 0;
}

/* Values are chosen to exercise the encodings: negative int32/int64 take 10-byte varints,
 * unsigned values above 2^31 / 2^63 use the top bit. */
static void
fill_value(const ProtobufCFieldDescriptor *f, void *slot, unsigned *seed, int depth)
{
	unsigned s = ++*seed;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		*(int32_t *)slot = -1000 * (int32_t)s;
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		*(uint32_t *)slot = 0x80000000u + s;
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		*(int64_t *)slot = -10000000000LL * (int64_t)s;
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		*(uint64_t *)slot = (UINT64_C(1) << 63) + s;
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		*(float *)slot = (float)s + 0.25f;
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		*(double *)slot = (double)s + 0.125;
		break;
	case PROTOBUF_C_TYPE_BOOL:
		*(protobuf_c_boolean *)slot = 1;
		break;
	case PROTOBUF_C_TYPE_ENUM:
		*(int *)slot = nonzero_enum_value(f->descriptor);
		break;
	case PROTOBUF_C_TYPE_STRING:
		*(char **)slot = xasprintf("%s-%u", f->name, s);
		break;
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData *b = slot;

		b->len = 3;
		b->data = xmalloc(b->len);
		b->data[0] = 0x00;
		b->data[1] = 0xff;
		b->data[2] = (uint8_t)s;
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		*(ProtobufCMessage **)slot = new_filled(f->descriptor, seed, depth + 1);
		break;
	}
}

static void
fill_field(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, unsigned *seed, int depth)
{
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t sz = elem_size(f->type);
		char *arr = xcalloc(N_REPEATED, sz);

		for (size_t i = 0; i < N_REPEATED; i++)
			fill_value(f, arr + i * sz, seed, depth);
		*(size_t *)SLOT(m, f->quantifier_offset) = N_REPEATED;
		*(void **)SLOT(m, f->offset) = arr;
		return;
	}
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		uint32_t *which = (uint32_t *)SLOT(m, f->quantifier_offset);

		/* Only one member of a oneof can be set; the first one wins. */
		if (*which != 0)
			return;
		*which = f->id;
	} else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
		   f->type != PROTOBUF_C_TYPE_MESSAGE) {
		*(protobuf_c_boolean *)SLOT(m, f->quantifier_offset) = 1;
	}
	fill_value(f, SLOT(m, f->offset), seed, depth);
}

static ProtobufCMessage *
new_filled(const ProtobufCMessageDescriptor *desc, unsigned *seed, int depth)
{
	ProtobufCMessage *m;

	if (depth > MAX_DEPTH)
		return NULL;
	m = xmalloc(desc->sizeof_message);
	protobuf_c_message_init(desc, m);
	for (unsigned i = 0; i < desc->n_fields; i++)
		fill_field(m, &desc->fields[i], seed, depth);
	return m;
}

ProtobufCMessage *
pbw_new_filled(const ProtobufCMessageDescriptor *desc, unsigned *seed)
{
	return new_filled(desc, seed, 0);
}

static void
note(char *where, size_t where_len, const char *path, const char *name, const char *what)
{
	if (where_len > 0 && where[0] == '\0')
		snprintf(where, where_len, "%s.%s: %s", path, name, what);
}

static int compare_message(const ProtobufCMessage *a, const ProtobufCMessage *b, const char *path,
			   char *where, size_t where_len);

static int
compare_value(const ProtobufCFieldDescriptor *f, const void *a, const void *b, const char *path,
	      char *where, size_t where_len)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: {
		const char *sa = *(char *const *)a, *sb = *(char *const *)b;

		if (strcmp(sa ? sa : "", sb ? sb : "") == 0)
			return 0;
		note(where, where_len, path, f->name, "strings differ");
		return 1;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *ba = a, *bb = b;

		if (ba->len == bb->len &&
		    (ba->len == 0 || memcmp(ba->data, bb->data, ba->len) == 0))
			return 0;
		note(where, where_len, path, f->name, "bytes differ");
		return 1;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *ma = *(ProtobufCMessage *const *)a;
		const ProtobufCMessage *mb = *(ProtobufCMessage *const *)b;
		char sub[512];

		if (!ma || !mb) {
			if (ma == mb)
				return 0;
			note(where, where_len, path, f->name, "present on one side only");
			return 1;
		}
		snprintf(sub, sizeof(sub), "%s.%s", path, f->name);
		return compare_message(ma, mb, sub, where, where_len);
	}
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
	case PROTOBUF_C_TYPE_BOOL:
	case PROTOBUF_C_TYPE_ENUM:
		/* Bit equality: a round trip must not change a single bit, floats included. */
		if (memcmp(a, b, elem_size(f->type)) == 0)
			return 0;
		note(where, where_len, path, f->name, "values differ");
		return 1;
	}
	return 1;
}

static int
compare_message(const ProtobufCMessage *a, const ProtobufCMessage *b, const char *path, char *where,
		size_t where_len)
{
	const ProtobufCMessageDescriptor *desc = a->descriptor;
	int diffs = 0;

	if (b->descriptor != desc) {
		note(where, where_len, path, "", "different message types");
		return 1;
	}
	for (unsigned i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];
		size_t sz = elem_size(f->type);

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t na = *(const size_t *)CSLOT(a, f->quantifier_offset);
			size_t nb = *(const size_t *)CSLOT(b, f->quantifier_offset);
			const char *ea = *(char *const *)CSLOT(a, f->offset);
			const char *eb = *(char *const *)CSLOT(b, f->offset);
			char sub[512];

			if (na != nb) {
				note(where, where_len, path, f->name, "repeated counts differ");
				diffs++;
				continue;
			}
			snprintf(sub, sizeof(sub), "%s.%s[]", path, f->name);
			for (size_t k = 0; k < na; k++)
				diffs += compare_value(f, ea + k * sz, eb + k * sz, sub, where,
						       where_len);
			continue;
		}
		if (f->quantifier_offset && f->label != PROTOBUF_C_LABEL_NONE) {
			/* has_ flag or oneof case: compare it as a 32-bit-sized integer. */
			if (memcmp(CSLOT(a, f->quantifier_offset), CSLOT(b, f->quantifier_offset),
				   sizeof(uint32_t)) != 0) {
				note(where, where_len, path, f->name, "presence differs");
				diffs++;
				continue;
			}
		}
		diffs += compare_value(f, CSLOT(a, f->offset), CSLOT(b, f->offset), path, where,
				       where_len);
	}
	return diffs;
}

int
pbw_compare(const ProtobufCMessage *a, const ProtobufCMessage *b, char *where, size_t where_len)
{
	if (where_len > 0)
		where[0] = '\0';
	return compare_message(a, b, a->descriptor->short_name, where, where_len);
}

static int count_default(const ProtobufCMessage *m, const char *path, char *where,
			 size_t where_len);

static int
value_is_default(const ProtobufCFieldDescriptor *f, const void *v, const char *path, char *where,
		 size_t where_len)
{
	static const char zero[sizeof(uint64_t)];

	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)v;

		return !s || !*s;
	}
	case PROTOBUF_C_TYPE_BYTES:
		return ((const ProtobufCBinaryData *)v)->len == 0;
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *sub = *(ProtobufCMessage *const *)v;
		char p[512];

		if (!sub)
			return 1;
		snprintf(p, sizeof(p), "%s.%s", path, f->name);
		/* A present sub-message counts as set; its own defaults are counted below it. */
		return -count_default(sub, p, where, where_len);
	}
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
	case PROTOBUF_C_TYPE_BOOL:
	case PROTOBUF_C_TYPE_ENUM:
		return memcmp(v, zero, elem_size(f->type)) == 0;
	}
	return 1;
}

/* value_is_default returns 1 for a default scalar, 0 for a set one, and minus the count of
 * defaults inside a present sub-message. */
static int
tally(int r, const ProtobufCFieldDescriptor *f, const char *path, char *where, size_t where_len)
{
	if (r > 0) {
		note(where, where_len, path, f->name, "left at its default value");
		return 1;
	}
	return -r;
}

static int
count_default(const ProtobufCMessage *m, const char *path, char *where, size_t where_len)
{
	const ProtobufCMessageDescriptor *desc = m->descriptor;
	int n = 0;

	for (unsigned i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];
		size_t sz = elem_size(f->type);

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t cnt = *(const size_t *)CSLOT(m, f->quantifier_offset);
			const char *arr = *(char *const *)CSLOT(m, f->offset);

			if (cnt == 0) {
				n += tally(1, f, path, where, where_len);
				continue;
			}
			for (size_t k = 0; k < cnt; k++)
				n += tally(
					value_is_default(f, arr + k * sz, path, where, where_len),
					f, path, where, where_len);
			continue;
		}
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(const uint32_t *)CSLOT(m, f->quantifier_offset) != f->id)
			continue;
		n += tally(value_is_default(f, CSLOT(m, f->offset), path, where, where_len), f,
			   path, where, where_len);
	}
	return n;
}

int
pbw_count_default(const ProtobufCMessage *m, char *where, size_t where_len)
{
	if (where_len > 0)
		where[0] = '\0';
	return count_default(m, m->descriptor->short_name, where, where_len);
}

/* Wire types of the protobuf encoding. */
enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

static int
expected_wire_type(const ProtobufCFieldDescriptor *f)
{
	/* proto3 packs repeated scalars by default, as containerd's Go code does. */
	if (f->label == PROTOBUF_C_LABEL_REPEATED && (f->flags & PROTOBUF_C_FIELD_FLAG_PACKED))
		return WT_LEN;
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_BOOL:
	case PROTOBUF_C_TYPE_ENUM:
		return WT_VARINT;
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return WT_I64;
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
		return WT_I32;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_BYTES:
	case PROTOBUF_C_TYPE_MESSAGE:
		return WT_LEN;
	}
	return -1;
}

static int
read_varint(const uint8_t *buf, size_t len, size_t *pos, uint64_t *out)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		uint8_t b;

		if (*pos >= len)
			return -1;
		b = buf[(*pos)++];
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return 0;
		}
	}
	return -1;
}

/* Advances *pos over the value of one field of wire type wt; sets sub and sub_len for WT_LEN. */
static int
skip_value(const uint8_t *buf, size_t len, size_t *pos, int wt, const uint8_t **sub,
	   size_t *sub_len)
{
	uint64_t v;

	switch (wt) {
	case WT_VARINT:
		return read_varint(buf, len, pos, &v);
	case WT_I64:
	case WT_I32: {
		size_t n = wt == WT_I64 ? 8 : 4;

		if (len - *pos < n)
			return -1;
		*pos += n;
		return 0;
	}
	case WT_LEN:
		if (read_varint(buf, len, pos, &v) < 0 || v > len - *pos)
			return -1;
		*sub = buf + *pos;
		*sub_len = (size_t)v;
		*pos += (size_t)v;
		return 0;
	default:
		return -1;
	}
}

static int check_wire(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
		      const char *path, char *where, size_t where_len);

static int
check_one(const ProtobufCMessageDescriptor *desc, const ProtobufCFieldDescriptor **f_out,
	  uint32_t num, int wt, const uint8_t *sub, size_t sub_len, const char *path, char *where,
	  size_t where_len)
{
	const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(desc, num);
	char p[512];

	*f_out = f;
	if (!f) {
		snprintf(p, sizeof(p), "field %u", num);
		note(where, where_len, path, p, "undeclared field number on the wire");
		return 1;
	}
	if (wt != expected_wire_type(f)) {
		note(where, where_len, path, f->name, "unexpected wire type");
		return 1;
	}
	if (f->type != PROTOBUF_C_TYPE_MESSAGE)
		return 0;
	snprintf(p, sizeof(p), "%s.%s", path, f->name);
	return check_wire(f->descriptor, sub, sub_len, p, where, where_len);
}

static int
check_wire(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len, const char *path,
	   char *where, size_t where_len)
{
	_cleanup_free_ bool *seen = xcalloc(desc->n_fields + 1, sizeof(*seen));
	size_t pos = 0;
	int problems = 0;

	while (pos < len) {
		const ProtobufCFieldDescriptor *f = NULL;
		const uint8_t *sub = NULL;
		size_t sub_len = 0;
		uint64_t tag;

		if (read_varint(buf, len, &pos, &tag) < 0 ||
		    skip_value(buf, len, &pos, (int)(tag & 7), &sub, &sub_len) < 0) {
			note(where, where_len, path, "", "encoding does not parse");
			return problems + 1;
		}
		problems += check_one(desc, &f, (uint32_t)(tag >> 3), (int)(tag & 7), sub, sub_len,
				      path, where, where_len);
		if (f)
			seen[f - desc->fields] = true;
	}
	for (unsigned i = 0; i < desc->n_fields; i++) {
		if (!seen[i]) {
			note(where, where_len, path, desc->fields[i].name, "missing on the wire");
			problems++;
		}
	}
	return problems;
}

int
pbw_check_wire(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len, char *where,
	       size_t where_len)
{
	if (where_len > 0)
		where[0] = '\0';
	return check_wire(desc, buf, len, desc->short_name, where, where_len);
}
