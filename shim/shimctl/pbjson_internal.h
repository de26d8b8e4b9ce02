/* Helpers shared by pbjson_parse.c and pbjson_format.c; not part of the pbjson API. */
#ifndef MINI_SHIMCTL_PBJSON_INTERNAL_H
#define MINI_SHIMCTL_PBJSON_INTERNAL_H

#include "pbjson.h"

#include <stdbool.h>
#include <string.h>

/* Any values under this prefix hold a JSON document (OCI runtime-spec types), not protobuf. */
#define PBJSON_RUNTIME_SPEC_PREFIX "types.containerd.io/opencontainers/runtime-spec/"

#define PBJSON_MEMBER(msg, off) ((void *)((char *)(msg) + (off)))
#define PBJSON_CMEMBER(msg, off) ((const void *)((const char *)(msg) + (off)))

static inline bool
pbjson_is_type(const ProtobufCMessageDescriptor *d, const char *full_name)
{
	return strcmp(d->name, full_name) == 0;
}

/* protobuf-c has no flag for map fields: a map is a repeated message whose nested type is
 * <Field>Entry with exactly key = 1 and value = 2, which is what protoc generates for map<,>. */
static inline bool
pbjson_is_map(const ProtobufCFieldDescriptor *f)
{
	const ProtobufCMessageDescriptor *d = f->descriptor;
	size_t n;

	if (f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE)
		return false;
	n = strlen(d->short_name);
	return d->n_fields == 2 && n > 5 && strcmp(d->short_name + n - 5, "Entry") == 0 &&
	       d->fields[0].id == 1 && strcmp(d->fields[0].name, "key") == 0 &&
	       d->fields[1].id == 2 && strcmp(d->fields[1].name, "value") == 0;
}

/* Sets *err to an InvalidArgument error without an errno (so no strerror is appended when it
 * is rendered) and returns -EINVAL. */
int pbjson_err(struct mini_err **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The C size of one value of a field type (one array element for repeated fields). */
size_t pbjson_type_size(ProtobufCType type);

/* Resolves an Any type URL to a descriptor: the whole URL, else the part after the last '/'. */
const ProtobufCMessageDescriptor *pbjson_resolve_any(const struct pbjson_opts *opts,
						     const char *type_url);

#endif
