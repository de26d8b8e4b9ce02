/* Thin yajl helpers: parsing with a readable error, typed getters on a yajl_tree that name the
 * field path in their errors ("process.args: expected array of strings"), and a few generator
 * shortcuts. All getters return 0/-errno and set *err on failure (STYLE.md §4). */
#ifndef MINI_JSON_H
#define MINI_JSON_H

#include "err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

/* Parses text into a tree. `what` names the document in the error ("config.json"). Caller owns
 * *out (yajl_tree_free). */
int json_parse(const char *text, const char *what, yajl_val *out, struct mini_err **err);

void yajl_tree_freep(yajl_val *v);
void yajl_gen_freep(yajl_gen *g);

/* The member `key` of object `obj`, or NULL when obj is not an object or has no such key. A JSON
 * null counts as absent. Borrowed from the tree. */
yajl_val json_get(yajl_val obj, const char *key);

/* Typed conversions of one value. `path` names the value in the error message. The string and
 * vector results are copies owned by the caller. */
int json_want_object(yajl_val v, const char *path, struct mini_err **err);
int json_want_array(yajl_val v, const char *path, struct mini_err **err);
int json_want_string(yajl_val v, const char *path, char **out, struct mini_err **err);
int json_want_bool(yajl_val v, const char *path, bool *out, struct mini_err **err);
int json_want_int64(yajl_val v, const char *path, int64_t *out, struct mini_err **err);
/* Accepts integers up to UINT64_MAX (yajl stores those above INT64_MAX as doubles). */
int json_want_uint64(yajl_val v, const char *path, uint64_t *out, struct mini_err **err);
/* An integer in [min, max]. */
int json_want_range(yajl_val v, const char *path, int64_t min, int64_t max, int64_t *out,
		    struct mini_err **err);
/* A NULL-terminated vector of copies; *len optional. */
int json_want_strv(yajl_val v, const char *path, char ***out, size_t *len, struct mini_err **err);

/* Frees a NULL-terminated vector of strings (accepts NULL). */
void json_strv_free(char **v);

/* Number of members of an object or elements of an array (0 for anything else). */
size_t json_len(yajl_val v);

/* A new generator; `pretty` indents with a tab. Caller owns it. */
yajl_gen json_gen_new(bool pretty);
void json_gen_str(yajl_gen g, const char *s);
/* key and string value; a NULL value is emitted as "". */
void json_gen_kv_str(yajl_gen g, const char *key, const char *value);
void json_gen_kv_int(yajl_gen g, const char *key, long long value);
void json_gen_kv_bool(yajl_gen g, const char *key, bool value);
/* Copies the generated text into a new NUL-terminated string. Caller owns the result. */
char *json_gen_take(yajl_gen g, size_t *len);
/* Re-emits a parsed value (object, array, scalar) into g. */
void json_gen_value(yajl_gen g, yajl_val v);

#endif
