/* Helpers shared by the config.json parsers (spec.c, spec_linux.c, spec_resources.c): field paths,
 * optional typed members, and walkers over optional sub-objects and arrays of objects. They are
 * defined in spec_json.c. */
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
int spec_opt_u16(yajl_val obj, const char *key, const char *path, uint16_t *out, bool *present,
		 struct mini_err **err);
int spec_opt_strv(yajl_val obj, const char *key, const char *path, char ***out, size_t *len,
		  struct mini_err **err);
/* An optional object of string values. */
int spec_opt_kv(yajl_val obj, const char *key, const char *path, struct spec_kv **out, size_t *len,
		struct mini_err **err);
void spec_kv_free(struct spec_kv *kv, size_t n);

/* Parses the object v, found at `path`, into out. */
typedef int (*spec_object_fn)(yajl_val v, const char *path, void *out, struct mini_err **err);
/* Parses the array element v, found at `path`, into elem; ctx is the walker's caller's. */
typedef int (*spec_elem_fn)(yajl_val v, const char *path, void *elem, void *ctx,
			    struct mini_err **err);

/* An optional object member: when present it must be an object, and fn(value, "path.key", out)
 * parses it. */
int spec_opt_object(yajl_val obj, const char *key, const char *path, spec_object_fn fn, void *out,
		    struct mini_err **err);

/* An optional array of objects: when present it must be an array, *items becomes a zeroed array
 * of its length plus one, and each element must be an object that fn(element, "path.key[i]",
 * &(*items)[i], ctx) parses. *len counts the elements handed to fn, so that a free function sees
 * every one that may own memory after a failure. */
#define spec_opt_objects(obj, key, path, items, len, fn, ctx, err)                              \
	spec_opt_objects_((obj), (key), (path), sizeof(**(items)), (items), (len), (fn), (ctx), \
			  (err))
int spec_opt_objects_(yajl_val obj, const char *key, const char *path, size_t size, void *items,
		      size_t *len, spec_elem_fn fn, void *ctx, struct mini_err **err);

/* One {containerID, hostID, size} element, a spec_elem_fn for struct spec_idmap (spec_linux.c). */
int spec_parse_idmap(yajl_val v, const char *path, void *elem, void *ctx, struct mini_err **err);

/* The linux section (spec_linux.c). */
int spec_parse_linux(yajl_val v, const char *path, struct spec_linux **out, struct mini_err **err);
void spec_linux_free(struct spec_linux *l);

#endif
