/* spec, features. */
#include "args.h"
#include "cleanup.h"
#include "commands.h"
#include "fs.h"
#include "json.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
cmd_spec(const struct minirt_ctx *ctx, int argc, char **argv, int *exit_code, struct mini_err **err)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ char *path = NULL;
	const char *bundle = ".";
	bool rootless = false;
	const struct flag flags[] = {
		{ "bundle", 'b', FLAG_STRING, &bundle, "where to write config.json" },
		{ "rootless", 0, FLAG_BOOL, &rootless, "a spec for a rootless container" },
		{ NULL, 0, FLAG_BOOL, NULL, NULL },
	};
	int i = 1, ret;

	ret = flags_parse_or_usage(flags, argc, argv, &i,
				   "minirun spec [--bundle dir] [--rootless]",
				   "Write a default config.json.", err);
	if (ret != 0)
		return ret < 0 ? ret : 0;
	path = path_join(bundle, "config.json");
	if (access(path, F_OK) == 0)
		return mini_err_set(err, EEXIST, "File %s exists. Remove it first", path);
	text = minirt_default_spec(rootless);
	return write_file_atomic(path, text, strlen(text), 0666 & ~0022, err);
}

int
cmd_features(const struct minirt_ctx *ctx, int argc, char **argv, int *exit_code,
	     struct mini_err **err)
{
	_cleanup_free_ char *text = NULL;
	const struct flag flags[] = { { NULL, 0, FLAG_BOOL, NULL, NULL } };
	int i = 1, ret;

	ret = flags_parse_or_usage(flags, argc, argv, &i, "minirun features",
				   "Show the enabled features (JSON).", err);
	if (ret != 0)
		return ret < 0 ? ret : 0;
	text = minirt_features();
	printf("%s\n", text);
	return 0;
}
