/* Helpers shared by spec.c and spec_linux.c: field paths and optional typed members. */
#ifndef MINIRT_SPEC_INTERNAL_H
#define MINIRT_SPEC_INTERNAL_H

#include "json.h"
#include "spec.h"

/* "a.b" (or "b" when path is empty). Caller owns the result. */
char *spec_path_key(const char *path, const char *key);
/* "a[3]". Caller owns the result. */
char *spec_path_idx(const char *path, size_t i);

/* Optional members: absent (or null) leaves *out and *present alone and returns 0. */
int spec_opt_str(yajl_val obj, const char *key, const char *path, char **out,
		 struct mini_err **err);
int spec_opt_bool(yajl_val obj, const char *key, const char *path, bool *out, bool *present,
		  struct mini_err **err);
int spec_opt_int64(yajl_val obj, const char *key, const char *path, int64_t *out, bool *present,
		   struct mini_err **err);
int spec_opt_uint64(yajl_val obj, const char *key, const char *path, uint64_t *out, bool *present,
		    struct mini_err **err);
int spec_opt_u32(yajl_val obj, const char *key, const char *path, uint32_t *out, bool *present,
		 struct mini_err **err);
int spec_opt_strv(yajl_val obj, const char *key, const char *path, char ***out, size_t *len,
		  struct mini_err **err);
/* An optional object of string values. */
int spec_opt_kv(yajl_val obj, const char *key, const char *path, struct spec_kv **out, size_t *len,
		struct mini_err **err);
void spec_kv_free(struct spec_kv *kv, size_t n);

/* The linux section (spec_linux.c). */
int spec_parse_linux(yajl_val v, const char *path, struct spec_linux **out, struct mini_err **err);
void spec_linux_free(struct spec_linux *l);

#endif
