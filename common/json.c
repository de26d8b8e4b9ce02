#include "json.h"
#include "xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

int
json_parse(const char *text, const char *what, yajl_val *out, struct mini_err **err)
{
	char ebuf[512];
	yajl_val v;
	size_t n;

	ebuf[0] = '\0';
	v = yajl_tree_parse(text, ebuf, sizeof(ebuf));
	if (v == NULL) {
		/* yajl's message spans lines and pads with spaces (it quotes the input): keep it
		 * on one line with single spaces. */
		size_t w = 0;

		for (n = 0; ebuf[n]; n++) {
			char ch = ebuf[n] == '\n' || ebuf[n] == '\r' ? ' ' : ebuf[n];

			if (ch == ' ' && (w == 0 || ebuf[w - 1] == ' '))
				continue;
			ebuf[w++] = ch;
		}
		while (w > 0 && ebuf[w - 1] == ' ')
			w--;
		ebuf[w] = '\0';
		return mini_err_set(err, EINVAL, "%s: invalid JSON: %s", what,
				    ebuf[0] ? ebuf : "parse error");
	}
	*out = v;
	return 0;
}

void
yajl_tree_freep(yajl_val *v)
{
	if (*v)
		yajl_tree_free(*v);
	*v = NULL;
}

void
yajl_gen_freep(yajl_gen *g)
{
	if (*g)
		yajl_gen_free(*g);
	*g = NULL;
}

yajl_val
json_get(yajl_val obj, const char *key)
{
	size_t i;

	if (!YAJL_IS_OBJECT(obj))
		return NULL;
	for (i = 0; i < obj->u.object.len; i++) {
		if (strcmp(obj->u.object.keys[i], key) != 0)
			continue;
		if (YAJL_IS_NULL(obj->u.object.values[i]))
			return NULL;
		return obj->u.object.values[i];
	}
	return NULL;
}

size_t
json_len(yajl_val v)
{
	if (YAJL_IS_OBJECT(v))
		return v->u.object.len;
	if (YAJL_IS_ARRAY(v))
		return v->u.array.len;
	return 0;
}

int
json_want_object(yajl_val v, const char *path, struct mini_err **err)
{
	if (!YAJL_IS_OBJECT(v))
		return mini_err_set(err, EINVAL, "%s: expected object", path);
	return 0;
}

int
json_want_array(yajl_val v, const char *path, struct mini_err **err)
{
	if (!YAJL_IS_ARRAY(v))
		return mini_err_set(err, EINVAL, "%s: expected array", path);
	return 0;
}

int
json_want_string(yajl_val v, const char *path, char **out, struct mini_err **err)
{
	if (!YAJL_IS_STRING(v))
		return mini_err_set(err, EINVAL, "%s: expected string", path);
	*out = xstrdup(v->u.string);
	return 0;
}

int
json_want_bool(yajl_val v, const char *path, bool *out, struct mini_err **err)
{
	if (YAJL_IS_TRUE(v))
		*out = true;
	else if (YAJL_IS_FALSE(v))
		*out = false;
	else
		return mini_err_set(err, EINVAL, "%s: expected boolean", path);
	return 0;
}

int
json_want_int64(yajl_val v, const char *path, int64_t *out, struct mini_err **err)
{
	if (!YAJL_IS_INTEGER(v))
		return mini_err_set(err, EINVAL, "%s: expected integer", path);
	*out = v->u.number.i;
	return 0;
}

int
json_want_uint64(yajl_val v, const char *path, uint64_t *out, struct mini_err **err)
{
	char *end = NULL;
	unsigned long long u;

	if (YAJL_IS_INTEGER(v)) {
		if (v->u.number.i < 0)
			return mini_err_set(err, EINVAL, "%s: expected unsigned integer", path);
		*out = (uint64_t)v->u.number.i;
		return 0;
	}
	/* yajl flags integers above INT64_MAX as doubles only; reparse the digits. */
	if (!YAJL_IS_NUMBER(v) || v->u.number.r == NULL || v->u.number.r[0] == '-')
		return mini_err_set(err, EINVAL, "%s: expected unsigned integer", path);
	errno = 0;
	u = strtoull(v->u.number.r, &end, 10);
	if (errno != 0 || *end != '\0')
		return mini_err_set(err, EINVAL, "%s: expected unsigned integer", path);
	*out = u;
	return 0;
}

int
json_want_range(yajl_val v, const char *path, int64_t min, int64_t max, int64_t *out,
		struct mini_err **err)
{
	int64_t x;
	int ret;

	ret = json_want_int64(v, path, &x, err);
	if (ret < 0)
		return ret;
	if (x < min || x > max)
		return mini_err_set(err, EINVAL,
				    "%s: %" PRId64 " out of range [%" PRId64 ", %" PRId64 "]", path,
				    x, min, max);
	*out = x;
	return 0;
}

void
json_strv_free(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

int
json_want_strv(yajl_val v, const char *path, char ***out, size_t *len, struct mini_err **err)
{
	char **res;
	size_t i, n;

	if (!YAJL_IS_ARRAY(v))
		return mini_err_set(err, EINVAL, "%s: expected array of strings", path);
	n = v->u.array.len;
	for (i = 0; i < n; i++)
		if (!YAJL_IS_STRING(v->u.array.values[i]))
			return mini_err_set(err, EINVAL, "%s: expected array of strings", path);
	res = xcalloc(n + 1, sizeof(char *));
	for (i = 0; i < n; i++)
		res[i] = xstrdup(v->u.array.values[i]->u.string);
	*out = res;
	if (len)
		*len = n;
	return 0;
}

yajl_gen
json_gen_new(bool pretty)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	if (g == NULL)
		abort();
	if (pretty) {
		yajl_gen_config(g, yajl_gen_beautify, 1);
		yajl_gen_config(g, yajl_gen_indent_string, "\t");
	}
	return g;
}

void
json_gen_str(yajl_gen g, const char *s)
{
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

void
json_gen_kv_str(yajl_gen g, const char *key, const char *value)
{
	json_gen_str(g, key);
	json_gen_str(g, value ? value : "");
}

void
json_gen_kv_int(yajl_gen g, const char *key, long long value)
{
	json_gen_str(g, key);
	yajl_gen_integer(g, value);
}

void
json_gen_kv_bool(yajl_gen g, const char *key, bool value)
{
	json_gen_str(g, key);
	yajl_gen_bool(g, value);
}

char *
json_gen_take(yajl_gen g, size_t *len)
{
	const unsigned char *buf = NULL;
	size_t n = 0;

	yajl_gen_get_buf(g, &buf, &n);
	if (len)
		*len = n;
	return xstrndup((const char *)buf, n);
}

void
json_gen_value(yajl_gen g, yajl_val v)
{
	size_t i;

	if (v == NULL) {
		yajl_gen_null(g);
		return;
	}
	switch (v->type) {
	case yajl_t_string:
		json_gen_str(g, v->u.string);
		break;
	case yajl_t_number:
		yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
		break;
	case yajl_t_object:
		yajl_gen_map_open(g);
		for (i = 0; i < v->u.object.len; i++) {
			json_gen_str(g, v->u.object.keys[i]);
			json_gen_value(g, v->u.object.values[i]);
		}
		yajl_gen_map_close(g);
		break;
	case yajl_t_array:
		yajl_gen_array_open(g);
		for (i = 0; i < v->u.array.len; i++)
			json_gen_value(g, v->u.array.values[i]);
		yajl_gen_array_close(g);
		break;
	case yajl_t_true:
		yajl_gen_bool(g, 1);
		break;
	case yajl_t_false:
		yajl_gen_bool(g, 0);
		break;
	case yajl_t_null:
	case yajl_t_any:
		yajl_gen_null(g);
		break;
	}
}
