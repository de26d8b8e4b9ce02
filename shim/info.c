/* `-info` (containerd 2.x introspection): prints a protobuf containerd.types.RuntimeInfo with the
 * runtime options read on stdin and the `features` JSON of the runtime they select, as the runc
 * shim does. */
#include "cleanup.h"
#include "fd.h"
#include "options.h"
#include "run_capture.h"
#include "runtime_client.h"
#include "shim.h"
#include "xalloc.h"

#include "containerd/types/introspection.pb-c.h"
#include "google/protobuf/any.pb-c.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define OPTIONS_MAX (1u << 20)
#define FEATURES_MAX (1u << 20)
#define FEATURES_TIMEOUT_MS (30 * 1000)
#define FEATURES_URL "types.containerd.io/opencontainers/runtime-spec/1/features/Features"

/* The runtime's `features` output, or NULL when it gives none (a runtime without the command is
 * not an error, as for the runc shim). */
static char *
runtime_features(const char *binary, size_t *len)
{
	const char *path = rt_exec_path(binary);
	const struct spawn_opts o = { .path = strcmp(path, binary) ? path : NULL,
				      .max_output = FEATURES_MAX,
				      .timeout_ms = FEATURES_TIMEOUT_MS };
	char *argv[] = { (char *)binary, "features", NULL };
	_cleanup_err_ struct mini_err *err = NULL;
	char *out = NULL;
	int status = 0;

	if (spawn_capture(&o, argv, &out, len, &status, &err) < 0)
		return NULL;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || *len == 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* The packed RuntimeInfo for the options Any in in[0..n). */
static uint8_t *
pack_info(const uint8_t *in, size_t n, size_t *len, struct mini_err **err)
{
	Containerd__Types__RuntimeVersion version = CONTAINERD__TYPES__RUNTIME_VERSION__INIT;
	Containerd__Types__RuntimeInfo info = CONTAINERD__TYPES__RUNTIME_INFO__INIT;
	Google__Protobuf__Any features = GOOGLE__PROTOBUF__ANY__INIT, *options = NULL;
	_cleanup_free_ char *json = NULL;
	struct shim_opts o = { 0 };
	uint8_t *out = NULL;
	size_t jlen = 0;

	if (n > 0) {
		options = google__protobuf__any__unpack(NULL, n, in);
		if (options == NULL) {
			mini_err_set(err, EINVAL, "read runtime options: not a protobuf Any");
			return NULL;
		}
		if (shim_opts_decode(options->type_url, options->value.data, options->value.len, &o,
				     err) < 0)
			goto out;
	}
	info.name = MINI_RUNTIME_NAME;
	version.version = SHIM_VERSION;
	version.revision = "";
	info.version = &version;
	info.options = options;
	json = runtime_features(o.binary_name ? o.binary_name : rt_default_binary(), &jlen);
	if (json) {
		features.type_url = FEATURES_URL;
		features.value.data = (uint8_t *)json;
		features.value.len = jlen;
		info.features = &features;
	}
	*len = containerd__types__runtime_info__get_packed_size(&info);
	out = xmalloc(*len ? *len : 1);
	containerd__types__runtime_info__pack(&info, out);
out:
	shim_opts_clear(&o);
	if (options)
		google__protobuf__any__free_unpacked(options, NULL);
	return out;
}

int
shim_info(void)
{
	_cleanup_free_ uint8_t *in = xmalloc(OPTIONS_MAX), *out = NULL;
	_cleanup_err_ struct mini_err *err = NULL;
	size_t n = 0, len = 0;

	if (read_all(0, in, OPTIONS_MAX, &n, &err) == 0 &&
	    (out = pack_info(in, n, &len, &err)) != NULL && write_all(1, out, len, &err) == 0)
		return 0;
	{
		_cleanup_free_ char *msg = mini_err_render(err);

		fprintf(stderr, "containerd-shim-mini-v2 -info: %s\n", msg);
	}
	return 1;
}
