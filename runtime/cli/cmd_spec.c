/* spec, features, update. */
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
	bool help = false, rootless = false;
	const struct flag flags[] = {
		{ "bundle", 'b', FLAG_STRING, &bundle, "where to write config.json" },
		{ "rootless", 0, FLAG_BOOL, &rootless, "a spec for a rootless container" },
		{ NULL, 0, FLAG_BOOL, NULL, NULL },
	};
	int i = 1, ret;

	ret = flags_parse(flags, argc, argv, &i, &help, err);
	if (ret < 0)
		return ret;
	if (help) {
		flags_usage("minirun spec [--bundle dir] [--rootless]",
			    "Write a default config.json.", flags);
		return 0;
	}
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
	bool help = false;
	const struct flag flags[] = { { NULL, 0, FLAG_BOOL, NULL, NULL } };
	int i = 1, ret;

	ret = flags_parse(flags, argc, argv, &i, &help, err);
	if (ret < 0)
		return ret;
	if (help) {
		flags_usage("minirun features", "Show the enabled features (JSON).", flags);
		return 0;
	}
	text = minirt_features();
	printf("%s\n", text);
	return 0;
}

/* runc's --memory style flags → a resources JSON object. */
static char *
flags_to_resources(const char *memory, const char *pids, const char *shares, const char *quota,
		   const char *period, const char *cpuset, const char *mems)
{
	_cleanup_(yajl_gen_freep) yajl_gen g = json_gen_new(false);

	yajl_gen_map_open(g);
	if (memory) {
		json_gen_str(g, "memory");
		yajl_gen_map_open(g);
		json_gen_str(g, "limit");
		yajl_gen_number(g, memory, strlen(memory));
		yajl_gen_map_close(g);
	}
	if (shares || quota || period || cpuset || mems) {
		json_gen_str(g, "cpu");
		yajl_gen_map_open(g);
		if (shares) {
			json_gen_str(g, "shares");
			yajl_gen_number(g, shares, strlen(shares));
		}
		if (quota) {
			json_gen_str(g, "quota");
			yajl_gen_number(g, quota, strlen(quota));
		}
		if (period) {
			json_gen_str(g, "period");
			yajl_gen_number(g, period, strlen(period));
		}
		if (cpuset)
			json_gen_kv_str(g, "cpus", cpuset);
		if (mems)
			json_gen_kv_str(g, "mems", mems);
		yajl_gen_map_close(g);
	}
	if (pids) {
		json_gen_str(g, "pids");
		yajl_gen_map_open(g);
		json_gen_str(g, "limit");
		yajl_gen_number(g, pids, strlen(pids));
		yajl_gen_map_close(g);
	}
	yajl_gen_map_close(g);
	return json_gen_take(g, NULL);
}

static bool
all_digits(const char *s)
{
	if (s == NULL)
		return true;
	if (*s == '-')
		s++;
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

int
cmd_update(const struct minirt_ctx *ctx, int argc, char **argv, int *exit_code,
	   struct mini_err **err)
{
	_cleanup_free_ char *text = NULL;
	const char *resources = NULL, *memory = NULL, *pids = NULL, *shares = NULL, *quota = NULL;
	const char *period = NULL, *cpuset = NULL, *mems = NULL;
	bool help = false;
	const struct flag flags[] = {
		{ "resources", 'r', FLAG_STRING, &resources, "resources JSON file, - for stdin" },
		{ "memory", 0, FLAG_STRING, &memory, "memory limit in bytes" },
		{ "pids-limit", 0, FLAG_STRING, &pids, "maximum number of pids" },
		{ "cpu-share", 0, FLAG_STRING, &shares, "cpu shares" },
		{ "cpu-quota", 0, FLAG_STRING, &quota, "cpu CFS quota" },
		{ "cpu-period", 0, FLAG_STRING, &period, "cpu CFS period" },
		{ "cpuset-cpus", 0, FLAG_STRING, &cpuset, "cpus to use" },
		{ "cpuset-mems", 0, FLAG_STRING, &mems, "memory nodes to use" },
		{ NULL, 0, FLAG_BOOL, NULL, NULL },
	};
	int i = 1, ret;

	ret = flags_parse(flags, argc, argv, &i, &help, err);
	if (ret < 0)
		return ret;
	if (help) {
		flags_usage("minirun update [options] <container-id>",
			    "Update the resource limits of a container.", flags);
		return 0;
	}
	ret = cli_want_args(argc, i, 1, "update", err);
	if (ret < 0)
		return ret;
	if (resources && strcmp(resources, "-") == 0) {
		ret = read_file("/dev/stdin", &text, NULL, err);
		if (ret < 0)
			return ret;
	} else if (resources) {
		ret = read_file(resources, &text, NULL, err);
		if (ret < 0)
			return ret;
	} else {
		if (!all_digits(memory) || !all_digits(pids) || !all_digits(shares) ||
		    !all_digits(quota) || !all_digits(period))
			return mini_err_set(err, EINVAL, "update: numeric value expected");
		text = flags_to_resources(memory, pids, shares, quota, period, cpuset, mems);
	}
	return minirt_container_update(ctx, argv[i], text, err);
}
