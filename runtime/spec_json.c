/* config.json parsing helpers: field paths for error messages, optional typed members, and the
 * walkers over optional sub-objects and arrays of objects that spec*.c build on. */
#include "cleanup.h"
#include "spec_internal.h"
#include "xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

char *
spec_path_key(const char *path, const char *key)
{
	if (path == NULL || path[0] == '\0')
		return xstrdup(key);
	return xasprintf("%s.%s", path, key);
}

char *
spec_path_idx(const char *path, size_t i)
{
	return xasprintf("%s[%zu]", path, i);
}

/* The member `key` of obj, or NULL when it is absent or null; when present, *p gets its path. */
static yajl_val
opt_member(yajl_val obj, const char *key, const char *path, char **p)
{
	yajl_val v = json_get(obj, key);

	if (v)
		*p = spec_path_key(path, key);
	return v;
}

/* Passes ret through, noting success in the optional *present. */
static int
mark_present(int ret, bool *present)
{
	if (ret == 0 && present)
		*present = true;
	return ret;
}

/* 1 with *x when the member is present and an integer in [0, max], 0 when it is absent. */
static int
opt_range(yajl_val obj, const char *key, const char *path, int64_t max, int64_t *x,
	  struct mini_err **err)
{
	_cleanup_free_ char *p = NULL;
	yajl_val v = opt_member(obj, key, path, &p);
	int ret;

	if (v == NULL)
		return 0;
	ret = json_want_range(v, p, 0, max, x, err);
	return ret < 0 ? ret : 1;
}

int
spec_opt_str(yajl_val obj, const char *key, const char *path, char **out, struct mini_err **err)
{
	_cleanup_free_ char *p = NULL;
	yajl_val v = opt_member(obj, key, path, &p);

	if (v == NULL)
		return 0;
	free(*out);
	*out = NULL;
	return json_want_string(v, p, out, err);
}

int
spec_opt_bool(yajl_val obj, const char *key, const char *path, bool *out, bool *present,
	      struct mini_err **err)
{
	_cleanup_free_ char *p = NULL;
	yajl_val v = opt_member(obj, key, path, &p);

	return v ? mark_present(json_want_bool(v, p, out, err), present) : 0;
}

int
spec_opt_int64(yajl_val obj, const char *key, const char *path, int64_t *out, bool *present,
	       struct mini_err **err)
{
	_cleanup_free_ char *p = NULL;
	yajl_val v = opt_member(obj, key, path, &p);

	return v ? mark_present(json_want_int64(v, p, out, err), present) : 0;
}

int
spec_opt_uint64(yajl_val obj, const char *key, const char *path, uint64_t *out, bool *present,
		struct mini_err **err)
{
	_cleanup_free_ char *p = NULL;
	yajl_val v = opt_member(obj, key, path, &p);

	return v ? mark_present(json_want_uint64(v, p, out, err), present) : 0;
}

int
spec_opt_u32(yajl_val obj, const char *key, const char *path, uint32_t *out, bool *present,
	     struct mini_err **err)
{
	int64_t x;
	int ret = opt_range(obj, key, path, UINT32_MAX, &x, err);

	if (ret <= 0)
		return ret;
	*out = (uint32_t)x;
	return mark_present(0, present);
}

int
spec_opt_u16(yajl_val obj, const char *key, const char *path, uint16_t *out, bool *present,
	     struct mini_err **err)
{
	int64_t x;
	int ret = opt_range(obj, key, path, UINT16_MAX, &x, err);

	if (ret <= 0)
		return ret;
	*out = (uint16_t)x;
	return mark_present(0, present);
}

int
spec_opt_strv(yajl_val obj, const char *key, const char *path, char ***out, size_t *len,
	      struct mini_err **err)
{
	_cleanup_free_ char *p = NULL;
	yajl_val v = opt_member(obj, key, path, &p);

	if (v == NULL)
		return 0;
	json_strv_free(*out);
	*out = NULL;
	return json_want_strv(v, p, out, len, err);
}

void
spec_kv_free(struct spec_kv *kv, size_t n)
{
	size_t i;

	for (i = 0; kv && i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

int
spec_opt_kv(yajl_val obj, const char *key, const char *path, struct spec_kv **out, size_t *len,
	    struct mini_err **err)
{
	_cleanup_free_ char *p = NULL;
	yajl_val v = opt_member(obj, key, path, &p);
	struct spec_kv *kv;
	size_t i, n;

	if (v == NULL)
		return 0;
	if (!YAJL_IS_OBJECT(v))
		return mini_err_set(err, EINVAL, "%s: expected object of strings", p);
	n = v->u.object.len;
	for (i = 0; i < n; i++)
		if (!YAJL_IS_STRING(v->u.object.values[i]))
			return mini_err_set(err, EINVAL, "%s.%s: expected string", p,
					    v->u.object.keys[i]);
	kv = xcalloc(n + 1, sizeof(*kv));
	for (i = 0; i < n; i++) {
		kv[i].key = xstrdup(v->u.object.keys[i]);
		kv[i].value = xstrdup(v->u.object.values[i]->u.string);
	}
	*out = kv;
	*len = n;
	return 0;
}

int
spec_opt_object(yajl_val obj, const char *key, const char *path, spec_object_fn fn, void *out,
		struct mini_err **err)
{
	_cleanup_free_ char *p = NULL;
	yajl_val v = opt_member(obj, key, path, &p);
	int ret;

	if (v == NULL)
		return 0;
	ret = json_want_object(v, p, err);
	if (ret < 0)
		return ret;
	return fn(v, p, out, err);
}

int
spec_opt_objects_(yajl_val obj, const char *key, const char *path, size_t size, void *items,
		  size_t *len, spec_elem_fn fn, void *ctx, struct mini_err **err)
{
	_cleanup_free_ char *p = NULL;
	yajl_val v = opt_member(obj, key, path, &p);
	char *arr;
	size_t i;
	int ret;

	if (v == NULL)
		return 0;
	ret = json_want_array(v, p, err);
	if (ret < 0)
		return ret;
	arr = xcalloc(v->u.array.len + 1, size);
	/* items points at the caller's typed array pointer (struct spec_mount ** …). */
	memcpy(items, &arr, sizeof(arr));
	for (i = 0; i < v->u.array.len; i++) {
		_cleanup_free_ char *ep = spec_path_idx(p, i);
		yajl_val e = v->u.array.values[i];

		*len = i + 1;
		if ((ret = json_want_object(e, ep, err)) < 0 ||
		    (ret = fn(e, ep, arr + i * size, ctx, err)) < 0)
			return ret;
	}
	return 0;
}
