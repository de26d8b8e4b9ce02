/* Descriptor-driven helpers for the proto tests: they walk any protobuf-c message through its
 * descriptor, so every message type can be filled, compared and inspected without naming its
 * fields. */
#ifndef MINI_PB_WALK_H
#define MINI_PB_WALK_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

/* Allocates a message of type desc with every field set, recursively, to a non-default value
 * derived from *seed (which advances, so no two fields get the same value). Repeated fields get
 * two elements. Caller owns the result: protobuf_c_message_free_unpacked(msg, NULL). */
ProtobufCMessage *pbw_new_filled(const ProtobufCMessageDescriptor *desc, unsigned *seed);

/* Compares two messages of the same type field by field, recursively. Returns the number of
 * differences; the path of the first one (e.g. "Metrics.memory.usage.limit") goes to where. */
int pbw_compare(const ProtobufCMessage *a, const ProtobufCMessage *b, char *where,
		size_t where_len);

/* Returns the number of fields, recursively, that still hold their default value (zero, empty,
 * absent); the path of the first one goes to where. */
int pbw_count_default(const ProtobufCMessage *m, char *where, size_t where_len);

/* Parses the encoding buf of a message of type desc on the wire-format level, recursing into
 * sub-messages. Returns the number of problems: a declared field that does not occur, a field
 * number that is not declared, a wire type that does not match the declared type, or bytes that
 * do not parse. The first problem is described in where. */
int pbw_check_wire(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
		   char *where, size_t where_len);

#endif
