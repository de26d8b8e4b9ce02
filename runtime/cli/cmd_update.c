/* update: new resource limits for a running container, from a linux.resources JSON document
 * (--resources FILE, or - for stdin; the shim's way) or from runc's flags, which are turned
 * into the same document. As with runc, --resources makes the other flags ignored, and the
 * device rules are never changed. */
#include "args.h"
#include "cleanup.h"
#include "commands.h"
#include "fs.h"
#include "json.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* docker/go-units RAMInBytes: "512", "512k", "1.5g", "2GiB", "64 MB"; binary multiples. "-1"
 * means unlimited. */
int
cli_parse_ram(const char *s, int64_t *out, struct mini_err **err)
{
	static const char units[] = "kmgtp";
	const char *p = s, *u;
	double v, mult = 1;
	char *end = NULL;

	if (strcmp(s, "-1") == 0) {
		*out = -1;
		return 0;
	}
	if (!isdigit((unsigned char)*p))
		goto bad;
	v = strtod(p, &end);
	p = end;
	if (*p == ' ')
		p++;
	if (*p && (u = strchr(units, tolower((unsigned char)*p))) != NULL) {
		for (mult = 1024; u > units; u--)
			mult *= 1024;
		p++;
		if (*p == 'i' || *p == 'I')
			p++;
	}
	if (*p == 'b' || *p == 'B')
		p++;
	if (*p != '\0' || v * mult >= 9.2e18)
		goto bad;
	*out = (int64_t)(v * mult);
	return 0;
bad:
	return mini_err_set(err, EINVAL, "invalid size: '%s'", s);
}

static int
parse_int(const char *flag, const char *s, bool is_signed, int64_t *out, struct mini_err **err)
{
	char *end = NULL;

	errno = 0;
	if (is_signed)
		*out = strtoll(s, &end, 10);
	else if (s[0] == '-')
		end = (char *)s;
	else
		*out = (int64_t)strtoull(s, &end, 10);
	if (errno || end == s || *end != '\0')
		return mini_err_set(err, EINVAL, "invalid value for %s: \"%s\"", flag, s);
	return 0;
}

struct num_flag {
	const char *flag; /* without "--" */
	const char *key;  /* in the JSON object */
	enum { NUM_UINT, NUM_INT, NUM_RAM } kind;
	const char *value; /* from the command line, or NULL */
};

/* Emits the given members of one object ("memory", "cpu" …); nothing when none is set. */
static int
gen_group(yajl_gen g, const char *group, struct num_flag *f, size_t n, const char *cpus,
	  const char *mems, struct mini_err **err)
{
	bool open = false;
	size_t i;
	int ret;

	for (i = 0; i < n; i++) {
		int64_t v = 0;
		char buf[32];

		if (f[i].value == NULL)
			continue;
		if (f[i].kind == NUM_RAM)
			ret = cli_parse_ram(f[i].value, &v, err);
		else
			ret = parse_int(f[i].flag, f[i].value, f[i].kind == NUM_INT, &v, err);
		if (ret < 0)
			return mini_err_wrap(err, "--%s", f[i].flag);
		if (!open) {
			json_gen_str(g, group);
			yajl_gen_map_open(g);
			open = true;
		}
		json_gen_str(g, f[i].key);
		if (f[i].kind == NUM_UINT)
			snprintf(buf, sizeof(buf), "%" PRIu64, (uint64_t)v);
		else
			snprintf(buf, sizeof(buf), "%" PRId64, v);
		yajl_gen_number(g, buf, strlen(buf));
	}
	if ((cpus || mems) && !open) {
		json_gen_str(g, group);
		yajl_gen_map_open(g);
		open = true;
	}
	if (cpus)
		json_gen_kv_str(g, "cpus", cpus);
	if (mems)
		json_gen_kv_str(g, "mems", mems);
	if (open)
		yajl_gen_map_close(g);
	return 0;
}

struct update_flags {
	const char *resources, *cpus, *mems, *l3, *mbw;
	struct num_flag memory[5], cpu[5], blkio[1], pids[1];
};

static char *
flags_to_resources(struct update_flags *u, struct mini_err **err)
{
	_cleanup_(yajl_gen_freep) yajl_gen g = json_gen_new(false);

	yajl_gen_map_open(g);
	if (gen_group(g, "memory", u->memory, 5, NULL, NULL, err) < 0 ||
	    gen_group(g, "cpu", u->cpu, 5, u->cpus, u->mems, err) < 0 ||
	    gen_group(g, "blockIO", u->blkio, 1, NULL, NULL, err) < 0 ||
	    gen_group(g, "pids", u->pids, 1, NULL, NULL, err) < 0)
		return NULL;
	yajl_gen_map_close(g);
	return json_gen_take(g, NULL);
}

int
cmd_update(const struct minirt_ctx *ctx, int argc, char **argv, int *exit_code,
	   struct mini_err **err)
{
	_cleanup_free_ char *text = NULL;
	struct update_flags u = {
		.memory = { { "memory", "limit", NUM_RAM, NULL },
			    { "memory-reservation", "reservation", NUM_RAM, NULL },
			    { "memory-swap", "swap", NUM_RAM, NULL },
			    { "kernel-memory", "kernel", NUM_RAM, NULL },
			    { "kernel-memory-tcp", "kernelTCP", NUM_RAM, NULL } },
		.cpu = { { "cpu-share", "shares", NUM_UINT, NULL },
			 { "cpu-quota", "quota", NUM_INT, NULL },
			 { "cpu-period", "period", NUM_UINT, NULL },
			 { "cpu-rt-runtime", "realtimeRuntime", NUM_INT, NULL },
			 { "cpu-rt-period", "realtimePeriod", NUM_UINT, NULL } },
		.blkio = { { "blkio-weight", "weight", NUM_UINT, NULL } },
		.pids = { { "pids-limit", "limit", NUM_INT, NULL } },
	};
	const struct flag flags[] = {
		{ "resources", 'r', FLAG_STRING, &u.resources,
		  "resources JSON file, - for stdin (the other flags are then ignored)" },
		{ "blkio-weight", 0, FLAG_STRING, &u.blkio[0].value, "block IO weight (10-1000)" },
		{ "cpu-period", 0, FLAG_STRING, &u.cpu[2].value, "CPU CFS period (usecs)" },
		{ "cpu-quota", 0, FLAG_STRING, &u.cpu[1].value, "CPU CFS quota (usecs)" },
		{ "cpu-share", 0, FLAG_STRING, &u.cpu[0].value, "CPU shares" },
		{ "cpu-rt-period", 0, FLAG_STRING, &u.cpu[4].value, "CPU realtime period (usecs)" },
		{ "cpu-rt-runtime", 0, FLAG_STRING, &u.cpu[3].value,
		  "CPU realtime runtime (usecs)" },
		{ "cpuset-cpus", 0, FLAG_STRING, &u.cpus, "CPUs to use" },
		{ "cpuset-mems", 0, FLAG_STRING, &u.mems, "memory nodes to use" },
		{ "kernel-memory", 0, FLAG_STRING, &u.memory[3].value, "(obsolete; ignored)" },
		{ "kernel-memory-tcp", 0, FLAG_STRING, &u.memory[4].value, "(obsolete; ignored)" },
		{ "memory", 0, FLAG_STRING, &u.memory[0].value, "memory limit (bytes, or 512m)" },
		{ "memory-reservation", 0, FLAG_STRING, &u.memory[1].value, "memory soft limit" },
		{ "memory-swap", 0, FLAG_STRING, &u.memory[2].value,
		  "memory+swap limit; -1 for unlimited swap" },
		{ "pids-limit", 0, FLAG_STRING, &u.pids[0].value, "maximum number of pids" },
		{ "l3-cache-schema", 0, FLAG_STRING, &u.l3, "Intel RDT L3 schema (unsupported)" },
		{ "mem-bw-schema", 0, FLAG_STRING, &u.mbw, "Intel RDT MBA schema (unsupported)" },
		{ NULL, 0, FLAG_BOOL, NULL, NULL },
	};
	int i = 1, ret;

	ret = flags_parse_or_usage(flags, argc, argv, &i, "minirun update [options] <container-id>",
				   "Update the resource limits of a running container.", err);
	if (ret != 0)
		return ret < 0 ? ret : 0;
	ret = cli_want_args(argc, i, 1, "update", err);
	if (ret < 0)
		return ret;
	if (u.l3)
		return mini_err_set(err, ENOTSUP, "Intel RDT/CAT: l3 cache schema is not enabled");
	if (u.mbw)
		return mini_err_set(err, ENOTSUP,
				    "Intel RDT/MBA: memory bandwidth schema is not enabled");
	if (u.resources) {
		ret = read_file(strcmp(u.resources, "-") == 0 ? "/dev/stdin" : u.resources, &text,
				NULL, err);
		if (ret < 0)
			return ret;
	} else {
		text = flags_to_resources(&u, err);
		if (text == NULL)
			return mini_err_ret(*err);
	}
	return minirt_container_update(ctx, argv[i], text, err);
}
