#include "options.h"
#include "cleanup.h"
#include "fs.h"
#include "json.h"
#include "log.h"
#include "xalloc.h"

#include "containerd/linux/runctypes.pb-c.h"
#include "containerd/runc/options.pb-c.h"
#include "containerd/runtimeoptions/v1/api.pb-c.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static char *
dup_nonempty(const char *s)
{
	return s && *s ? xstrdup(s) : NULL;
}

/* The message name of a type URL: 2.x may send "type.googleapis.com/<name>". */
static const char *
type_name(const char *url)
{
	const char *slash = strrchr(url, '/');

	return slash ? slash + 1 : url;
}

static int
decode_runc(const uint8_t *value, size_t len, struct shim_opts *o, struct mini_err **err)
{
	Containerd__Runc__V1__Options *m = containerd__runc__v1__options__unpack(NULL, len, value);

	if (m == NULL)
		return mini_err_set(err, EINVAL, "decode containerd.runc.v1.Options");
	o->binary_name = dup_nonempty(m->binary_name);
	o->root = dup_nonempty(m->root);
	o->shim_cgroup = dup_nonempty(m->shim_cgroup);
	o->no_pivot_root = m->no_pivot_root;
	o->no_new_keyring = m->no_new_keyring;
	o->systemd_cgroup = m->systemd_cgroup;
	o->io_uid = m->io_uid;
	o->io_gid = m->io_gid;
	containerd__runc__v1__options__free_unpacked(m, NULL);
	return 0;
}

static int
decode_linux(const uint8_t *value, size_t len, struct shim_opts *o, struct mini_err **err)
{
	Containerd__Linux__Runc__CreateOptions *m =
		containerd__linux__runc__create_options__unpack(NULL, len, value);

	if (m == NULL)
		return mini_err_set(err, EINVAL, "decode containerd.linux.runc.CreateOptions");
	o->shim_cgroup = dup_nonempty(m->shim_cgroup);
	o->no_pivot_root = m->no_pivot_root;
	o->no_new_keyring = m->no_new_keyring;
	o->io_uid = m->io_uid;
	o->io_gid = m->io_gid;
	containerd__linux__runc__create_options__free_unpacked(m, NULL);
	return 0;
}

/* runtimeoptions.v1.Options: the options are in the file it names. */
static int
decode_file_ref(const uint8_t *value, size_t len, struct shim_opts *o, struct mini_err **err)
{
	Runtimeoptions__V1__Options *m = runtimeoptions__v1__options__unpack(NULL, len, value);
	int rc = 0;

	if (m == NULL)
		return mini_err_set(err, EINVAL, "decode runtimeoptions.v1.Options");
	if (m->config_path && *m->config_path)
		rc = shim_opts_read_file(m->config_path, o, err);
	runtimeoptions__v1__options__free_unpacked(m, NULL);
	return rc;
}

int
shim_opts_decode(const char *type_url, const uint8_t *value, size_t len, struct shim_opts *o,
		 struct mini_err **err)
{
	const char *name;

	memset(o, 0, sizeof(*o));
	if (type_url == NULL || *type_url == '\0')
		return 0;
	name = type_name(type_url);
	if (strcmp(name, "containerd.runc.v1.Options") == 0)
		return decode_runc(value, len, o, err);
	if (strcmp(name, "containerd.linux.runc.CreateOptions") == 0)
		return decode_linux(value, len, o, err);
	if (strcmp(name, "runtimeoptions.v1.Options") == 0)
		return decode_file_ref(value, len, o, err);
	log_warn("ignoring runtime options of type %s", type_url);
	return 0;
}

void
shim_opts_clear(struct shim_opts *o)
{
	free(o->binary_name);
	free(o->root);
	free(o->shim_cgroup);
	memset(o, 0, sizeof(*o));
}

int
shim_state_write(const char *bundle, const char *binary, const char *root, struct mini_err **err)
{
	_cleanup_(yajl_gen_freep) yajl_gen g = json_gen_new(false);
	_cleanup_free_ char *path = path_join(bundle, "options.json"), *text = NULL;
	size_t len = 0;

	yajl_gen_map_open(g);
	json_gen_kv_str(g, "binary_name", binary);
	json_gen_kv_str(g, "root", root);
	yajl_gen_map_close(g);
	text = json_gen_take(g, &len);
	return write_file_atomic(path, text, len, 0600, err);
}

int
shim_state_read(const char *bundle, char **binary, char **root)
{
	_cleanup_free_ char *path = path_join(bundle, "options.json"), *text = NULL;
	_cleanup_(yajl_tree_freep) yajl_val v = NULL;
	yajl_val b, r;

	*binary = *root = NULL;
	if (read_file(path, &text, NULL, NULL) < 0 || json_parse(text, path, &v, NULL) < 0)
		return -1;
	b = json_get(v, "binary_name");
	r = json_get(v, "root");
	if (YAJL_IS_STRING(b) && *b->u.string)
		*binary = xstrdup(b->u.string);
	if (YAJL_IS_STRING(r) && *r->u.string)
		*root = xstrdup(r->u.string);
	return 0;
}
