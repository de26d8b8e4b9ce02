/* `events --stats`: the container's cgroup statistics as the "data" object of runc's stats event
 * (runc/types/events.go), read from the same files runc 1.1 reads, with its JSON rules: members
 * tagged omitempty there are left out when zero, maps print sorted, `network_interfaces` is null.
 * A file that is missing leaves its values at zero, as runc does for optional controllers. */
#include "cgroup.h"
#include "cleanup.h"
#include "fs.h"
#include "json.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* runc's GetCgroupParamUint: "max" reads as UINT64_MAX. */
static uint64_t
read_u64(const char *dir, const char *file)
{
	_cleanup_free_ char *text = NULL;

	if (dir == NULL || cgroup_read(dir, file, &text, NULL) < 0)
		return 0;
	if (strncmp(text, "max", 3) == 0)
		return UINT64_MAX;
	return strtoull(text, NULL, 10);
}

static char *
read_text(const char *dir, const char *file)
{
	char *text = NULL;

	if (dir == NULL || cgroup_read(dir, file, &text, NULL) < 0)
		return NULL;
	return text;
}

static void
gen_u64(yajl_gen g, const char *key, uint64_t v, bool omitempty)
{
	char buf[32];

	if (omitempty && v == 0)
		return;
	json_gen_str(g, key);
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	yajl_gen_number(g, buf, strlen(buf));
}

static void
gen_u64_list(yajl_gen g, const char *key, const uint64_t *v, size_t n)
{
	size_t i;

	if (n == 0)
		return;
	json_gen_str(g, key);
	yajl_gen_array_open(g);
	for (i = 0; i < n; i++) {
		char buf[32];

		snprintf(buf, sizeof(buf), "%" PRIu64, v[i]);
		yajl_gen_number(g, buf, strlen(buf));
	}
	yajl_gen_array_close(g);
}

/* The value after `key ` on its own line of a flat keyed file (cpu.stat, memory.events). */
static uint64_t
keyed(const char *text, const char *key)
{
	size_t n = strlen(key);
	const char *p = text;

	while (p && *p) {
		if (strncmp(p, key, n) == 0 && p[n] == ' ')
			return strtoull(p + n + 1, NULL, 10);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return 0;
}

/* --- cpu --- */

struct cpu_stats {
	uint64_t total, kernel, user;
	uint64_t *percpu, *percpu_kernel, *percpu_user;
	size_t n_percpu, n_percpu_modes;
	uint64_t periods, throttled_periods, throttled_time;
};

static size_t
parse_u64s(const char *text, uint64_t **out)
{
	size_t n = 0, cap = 0;
	const char *p = text;
	char *end;

	*out = NULL;
	while (p && *p) {
		uint64_t v = strtoull(p, &end, 10);

		if (end == p)
			break;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			*out = xrealloc(*out, cap * sizeof(uint64_t));
		}
		(*out)[n++] = v;
		p = end;
	}
	return n;
}

static void
cpu_v1(const struct cgroup *cg, struct cpu_stats *c)
{
	const char *acct = cgroup_dir_for(cg, "cpuacct");
	const char *cpu = cgroup_dir_for(cg, "cpu");
	_cleanup_free_ char *st = read_text(acct, "cpuacct.stat");
	_cleanup_free_ char *percpu = read_text(acct, "cpuacct.usage_percpu");
	_cleanup_free_ char *all = read_text(acct, "cpuacct.usage_all");
	_cleanup_free_ char *throttle = read_text(cpu, "cpu.stat");
	size_t cap = 0;
	char *line, *save = NULL;

	c->total = read_u64(acct, "cpuacct.usage");
	/* cpuacct.stat counts USER_HZ ticks; runc assumes 100 per second. */
	if (st) {
		c->user = keyed(st, "user") * (1000000000 / 100);
		c->kernel = keyed(st, "system") * (1000000000 / 100);
	}
	if (percpu)
		c->n_percpu = parse_u64s(percpu, &c->percpu);
	/* "cpu user system" header, then one line per cpu. */
	for (line = all ? strtok_r(all, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long long id, u, k;

		if (sscanf(line, "%llu %llu %llu", &id, &u, &k) != 3)
			continue;
		if (c->n_percpu_modes == cap) {
			cap = cap ? cap * 2 : 8;
			c->percpu_user = xrealloc(c->percpu_user, cap * sizeof(uint64_t));
			c->percpu_kernel = xrealloc(c->percpu_kernel, cap * sizeof(uint64_t));
		}
		c->percpu_user[c->n_percpu_modes] = u;
		c->percpu_kernel[c->n_percpu_modes++] = k;
	}
	if (throttle) {
		c->periods = keyed(throttle, "nr_periods");
		c->throttled_periods = keyed(throttle, "nr_throttled");
		c->throttled_time = keyed(throttle, "throttled_time");
	}
}

static void
cpu_v2(const char *dir, struct cpu_stats *c)
{
	_cleanup_free_ char *st = read_text(dir, "cpu.stat");

	if (st == NULL)
		return;
	c->total = keyed(st, "usage_usec") * 1000;
	c->user = keyed(st, "user_usec") * 1000;
	c->kernel = keyed(st, "system_usec") * 1000;
	c->periods = keyed(st, "nr_periods");
	c->throttled_periods = keyed(st, "nr_throttled");
	c->throttled_time = keyed(st, "throttled_usec") * 1000;
}

static void
gen_cpu(yajl_gen g, struct cpu_stats *c)
{
	json_gen_str(g, "cpu");
	yajl_gen_map_open(g);
	json_gen_str(g, "usage");
	yajl_gen_map_open(g);
	gen_u64(g, "total", c->total, true);
	gen_u64_list(g, "percpu", c->percpu, c->n_percpu);
	gen_u64_list(g, "percpu_kernel", c->percpu_kernel, c->n_percpu_modes);
	gen_u64_list(g, "percpu_user", c->percpu_user, c->n_percpu_modes);
	gen_u64(g, "kernel", c->kernel, false);
	gen_u64(g, "user", c->user, false);
	yajl_gen_map_close(g);
	json_gen_str(g, "throttling");
	yajl_gen_map_open(g);
	gen_u64(g, "periods", c->periods, true);
	gen_u64(g, "throttledPeriods", c->throttled_periods, true);
	gen_u64(g, "throttledTime", c->throttled_time, true);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	free(c->percpu);
	free(c->percpu_kernel);
	free(c->percpu_user);
}

/* --- cpuset (v1 only, as in runc 1.1) --- */

/* "0-3,6" → [0,1,2,3,6] */
static size_t
parse_list(const char *text, uint64_t **out)
{
	size_t n = 0, cap = 0;
	const char *p = text;
	char *end;

	*out = NULL;
	while (p && *p && *p != '\n') {
		unsigned long a = strtoul(p, &end, 10), b = a, i;

		if (end == p)
			break;
		p = end;
		if (*p == '-') {
			b = strtoul(p + 1, &end, 10);
			p = end;
		}
		for (i = a; i <= b && b - a < 65536; i++) {
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				*out = xrealloc(*out, cap * sizeof(uint64_t));
			}
			(*out)[n++] = i;
		}
		if (*p == ',')
			p++;
	}
	return n;
}

static void
gen_cpuset(yajl_gen g, const char *dir)
{
	static const char *const flags[] = {
		"cpu_exclusive",      "mem_hardwall",	    "mem_exclusive",   "memory_migrate",
		"memory_spread_page", "memory_spread_slab", "memory_pressure", "sched_load_balance",
	};
	_cleanup_free_ char *cpus = read_text(dir, "cpuset.cpus");
	_cleanup_free_ char *mems = read_text(dir, "cpuset.mems");
	_cleanup_free_ char *relax = read_text(dir, "cpuset.sched_relax_domain_level");
	_cleanup_free_ uint64_t *vc = NULL;
	_cleanup_free_ uint64_t *vm = NULL;
	size_t nc = parse_list(cpus, &vc), nm = parse_list(mems, &vm), i;

	json_gen_str(g, "cpuset");
	yajl_gen_map_open(g);
	gen_u64_list(g, "cpus", vc, nc);
	gen_u64(g, "cpu_exclusive", read_u64(dir, "cpuset.cpu_exclusive"), false);
	gen_u64_list(g, "mems", vm, nm);
	for (i = 1; i < sizeof(flags) / sizeof(flags[0]); i++) {
		_cleanup_free_ char *file = xasprintf("cpuset.%s", flags[i]);

		gen_u64(g, flags[i], read_u64(dir, file), false);
	}
	json_gen_kv_int(g, "sched_relax_domain_level", relax ? strtoll(relax, NULL, 10) : 0);
	yajl_gen_map_close(g);
}

/* --- memory --- */

struct mem_entry {
	uint64_t limit, usage, max, failcnt;
};

static void
gen_mem_entry(yajl_gen g, const char *key, const struct mem_entry *e)
{
	json_gen_str(g, key);
	yajl_gen_map_open(g);
	gen_u64(g, "limit", e->limit, false);
	gen_u64(g, "usage", e->usage, true);
	gen_u64(g, "max", e->max, true);
	gen_u64(g, "failcnt", e->failcnt, false);
	yajl_gen_map_close(g);
}

static int
cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* memory.stat as the "raw" map, keys sorted (Go prints maps sorted). */
static void
gen_raw(yajl_gen g, const char *text)
{
	_cleanup_free_ char *copy = xstrdup(text ? text : "");
	_cleanup_free_ char **lines = NULL;
	size_t n = 0, cap = 0, i;
	char *line, *save = NULL;

	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			lines = xrealloc(lines, cap * sizeof(char *));
		}
		lines[n++] = line;
	}
	if (n == 0)
		return;
	qsort(lines, n, sizeof(char *), cmp_line);
	json_gen_str(g, "raw");
	yajl_gen_map_open(g);
	for (i = 0; i < n; i++) {
		char *sp = strchr(lines[i], ' ');

		if (sp == NULL)
			continue;
		*sp = '\0';
		gen_u64(g, lines[i], strtoull(sp + 1, NULL, 10), false);
	}
	yajl_gen_map_close(g);
}

static void
mem_v1_entry(const char *dir, const char *prefix, struct mem_entry *e)
{
	_cleanup_free_ char *usage = xasprintf("%s.usage_in_bytes", prefix);
	_cleanup_free_ char *max = xasprintf("%s.max_usage_in_bytes", prefix);
	_cleanup_free_ char *failcnt = xasprintf("%s.failcnt", prefix);
	_cleanup_free_ char *limit = xasprintf("%s.limit_in_bytes", prefix);

	e->usage = read_u64(dir, usage);
	e->max = read_u64(dir, max);
	e->failcnt = read_u64(dir, failcnt);
	e->limit = read_u64(dir, limit);
}

static void
gen_memory(yajl_gen g, const struct cgroup *cg)
{
	bool v2 = cg->ops->mode == CGROUP_MODE_V2;
	const char *dir = cgroup_dir_for(cg, "memory");
	_cleanup_free_ char *stat = read_text(dir, "memory.stat");
	struct mem_entry usage = { 0 }, swap = { 0 }, kernel = { 0 }, tcp = { 0 };

	if (v2) {
		usage.usage = read_u64(dir, "memory.current");
		usage.limit = read_u64(dir, "memory.max");
		swap.usage = read_u64(dir, "memory.swap.current") + usage.usage;
		swap.limit = read_u64(dir, "memory.swap.max");
		if (swap.limit != UINT64_MAX)
			swap.limit += usage.limit;
	} else if (dir) {
		mem_v1_entry(dir, "memory", &usage);
		mem_v1_entry(dir, "memory.memsw", &swap);
		mem_v1_entry(dir, "memory.kmem", &kernel);
		mem_v1_entry(dir, "memory.kmem.tcp", &tcp);
	}
	json_gen_str(g, "memory");
	yajl_gen_map_open(g);
	gen_u64(g, "cache", stat ? keyed(stat, v2 ? "file" : "cache") : 0, true);
	gen_mem_entry(g, "usage", &usage);
	gen_mem_entry(g, "swap", &swap);
	gen_mem_entry(g, "kernel", &kernel);
	gen_mem_entry(g, "kernelTCP", &tcp);
	gen_raw(g, stat);
	yajl_gen_map_close(g);
}

/* --- pids --- */

static void
gen_pids(yajl_gen g, const struct cgroup *cg)
{
	const char *dir = cgroup_dir_for(cg, "pids");
	uint64_t current = read_u64(dir, "pids.current"), limit = read_u64(dir, "pids.max");

	if (limit == UINT64_MAX)
		limit = 0;
	json_gen_str(g, "pids");
	yajl_gen_map_open(g);
	gen_u64(g, "current", current, true);
	gen_u64(g, "limit", limit, true);
	yajl_gen_map_close(g);
}

/* --- blkio --- */

struct blk_entry {
	uint64_t major, minor, value;
	char op[16];
};

struct blk_list {
	struct blk_entry *v;
	size_t n;
};

/* "MAJ:MIN Op value" or "MAJ:MIN value" lines; "Total N" skipped. n = 0 for a missing or empty
 * file, which for the first file of a group sends runc on to the next group. */
static void
blk_parse(const char *dir, const char *file, struct blk_list *out)
{
	_cleanup_free_ char *text = read_text(dir, file);
	char *line, *save = NULL;

	out->v = NULL;
	out->n = 0;
	for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct blk_entry e = { 0 };
		unsigned long long a, b, v;
		char op[16];

		if (sscanf(line, "%llu:%llu %15s %llu", &a, &b, op, &v) == 4)
			snprintf(e.op, sizeof(e.op), "%s", op);
		else if (sscanf(line, "%llu:%llu %llu", &a, &b, &v) != 3)
			continue;
		e.major = a;
		e.minor = b;
		e.value = v;
		out->v = xrealloc(out->v, (out->n + 1) * sizeof(e));
		out->v[out->n++] = e;
	}
}

enum blk_kind {
	BLK_BYTES,
	BLK_SERVICED,
	BLK_QUEUED,
	BLK_SERVICE_TIME,
	BLK_WAIT_TIME,
	BLK_MERGED,
	BLK_TIME,
	BLK_SECTORS,
	BLK_KINDS,
};

static const char *const blk_keys[BLK_KINDS] = {
	"ioServiceBytesRecursive", "ioServicedRecursive", "ioQueueRecursive",
	"ioServiceTimeRecursive",  "ioWaitTimeRecursive", "ioMergedRecursive",
	"ioTimeRecursive",	   "sectorsRecursive",
};

struct blk_file {
	const char *file;
	enum blk_kind kind;
};

/* runc's groups in its order: the first group whose first file has entries wins. */
static void
blkio_v1(const char *dir, struct blk_list lists[BLK_KINDS])
{
	static const struct blk_file bfq_debug[] = {
		{ "blkio.bfq.sectors_recursive", BLK_SECTORS },
		{ "blkio.bfq.io_service_time_recursive", BLK_SERVICE_TIME },
		{ "blkio.bfq.io_wait_time_recursive", BLK_WAIT_TIME },
		{ "blkio.bfq.io_merged_recursive", BLK_MERGED },
		{ "blkio.bfq.io_queued_recursive", BLK_QUEUED },
		{ "blkio.bfq.time_recursive", BLK_TIME },
		{ "blkio.bfq.io_serviced_recursive", BLK_SERVICED },
		{ "blkio.bfq.io_service_bytes_recursive", BLK_BYTES },
		{ NULL, 0 },
	};
	static const struct blk_file bfq[] = {
		{ "blkio.bfq.io_serviced_recursive", BLK_SERVICED },
		{ "blkio.bfq.io_service_bytes_recursive", BLK_BYTES },
		{ NULL, 0 },
	};
	static const struct blk_file cfq[] = {
		{ "blkio.sectors_recursive", BLK_SECTORS },
		{ "blkio.io_service_time_recursive", BLK_SERVICE_TIME },
		{ "blkio.io_wait_time_recursive", BLK_WAIT_TIME },
		{ "blkio.io_merged_recursive", BLK_MERGED },
		{ "blkio.io_queued_recursive", BLK_QUEUED },
		{ "blkio.time_recursive", BLK_TIME },
		{ "blkio.io_serviced_recursive", BLK_SERVICED },
		{ "blkio.io_service_bytes_recursive", BLK_BYTES },
		{ NULL, 0 },
	};
	static const struct blk_file throttle_rec[] = {
		{ "blkio.throttle.io_serviced_recursive", BLK_SERVICED },
		{ "blkio.throttle.io_service_bytes_recursive", BLK_BYTES },
		{ NULL, 0 },
	};
	static const struct blk_file throttle[] = {
		{ "blkio.throttle.io_serviced", BLK_SERVICED },
		{ "blkio.throttle.io_service_bytes", BLK_BYTES },
		{ NULL, 0 },
	};
	static const struct blk_file *const groups[] = { bfq_debug, bfq, cfq, throttle_rec,
							 throttle };
	size_t gi, i;

	for (gi = 0; dir && gi < sizeof(groups) / sizeof(groups[0]); gi++) {
		for (i = 0; groups[gi][i].file; i++) {
			struct blk_list l;

			blk_parse(dir, groups[gi][i].file, &l);
			if (l.n == 0 && i == 0)
				break;
			if (l.n == 0)
				return;
			lists[groups[gi][i].kind] = l;
		}
		if (groups[gi][i].file == NULL)
			return;
	}
}

/* io.stat: "MAJ:MIN rbytes=… wbytes=… rios=… wios=… …" */
static void
blkio_v2(const char *dir, struct blk_list lists[BLK_KINDS])
{
	_cleanup_free_ char *text = read_text(dir, "io.stat");
	char *line, *save = NULL;

	for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long long a, b;
		char *tok, *tsave = NULL;

		if (sscanf(line, "%llu:%llu", &a, &b) != 2)
			continue;
		strtok_r(line, " ", &tsave);
		for (tok = strtok_r(NULL, " ", &tsave); tok; tok = strtok_r(NULL, " ", &tsave)) {
			struct blk_entry e = { .major = a, .minor = b };
			enum blk_kind k;
			char *eq = strchr(tok, '=');

			if (eq == NULL)
				continue;
			*eq = '\0';
			if (strcmp(tok, "rbytes") == 0 || strcmp(tok, "wbytes") == 0)
				k = BLK_BYTES;
			else if (strcmp(tok, "rios") == 0 || strcmp(tok, "wios") == 0)
				k = BLK_SERVICED;
			else
				continue;
			snprintf(e.op, sizeof(e.op), "%s", tok[0] == 'r' ? "Read" : "Write");
			e.value = strtoull(eq + 1, NULL, 10);
			lists[k].v = xrealloc(lists[k].v, (lists[k].n + 1) * sizeof(e));
			lists[k].v[lists[k].n++] = e;
		}
	}
}

static void
gen_blkio(yajl_gen g, const struct cgroup *cg)
{
	struct blk_list lists[BLK_KINDS] = { { NULL, 0 } };
	size_t i;
	int k;

	if (cg->ops->mode == CGROUP_MODE_V2)
		blkio_v2(cgroup_dir_for(cg, NULL), lists);
	else
		blkio_v1(cgroup_dir_for(cg, "blkio"), lists);
	json_gen_str(g, "blkio");
	yajl_gen_map_open(g);
	for (k = 0; k < BLK_KINDS; k++) {
		if (lists[k].n == 0)
			continue;
		json_gen_str(g, blk_keys[k]);
		yajl_gen_array_open(g);
		for (i = 0; i < lists[k].n; i++) {
			const struct blk_entry *e = &lists[k].v[i];

			yajl_gen_map_open(g);
			gen_u64(g, "major", e->major, true);
			gen_u64(g, "minor", e->minor, true);
			if (e->op[0])
				json_gen_kv_str(g, "op", e->op);
			gen_u64(g, "value", e->value, true);
			yajl_gen_map_close(g);
		}
		yajl_gen_array_close(g);
		free(lists[k].v);
	}
	yajl_gen_map_close(g);
}

/* --- hugetlb --- */

/* The page sizes from /sys/kernel/mm/hugepages/hugepages-<N>kB, named like the cgroup files
 * ("2MB", "1GB"), sorted. Caller owns *out. */
static size_t
huge_sizes(char ***out)
{
	_cleanup_closedir_ DIR *d = opendir("/sys/kernel/mm/hugepages");
	struct dirent *de;
	size_t n = 0;

	*out = NULL;
	while (d && (de = readdir(d)) != NULL) {
		unsigned long long kb;
		const char *unit = "KB";

		if (sscanf(de->d_name, "hugepages-%llukB", &kb) != 1)
			continue;
		if (kb % (1024 * 1024) == 0) {
			kb /= 1024 * 1024;
			unit = "GB";
		} else if (kb % 1024 == 0) {
			kb /= 1024;
			unit = "MB";
		}
		*out = xrealloc(*out, (n + 2) * sizeof(char *));
		(*out)[n++] = xasprintf("%llu%s", kb, unit);
		(*out)[n] = NULL;
	}
	if (n)
		qsort(*out, n, sizeof(char *), cmp_line);
	return n;
}

static void
gen_hugetlb(yajl_gen g, const struct cgroup *cg)
{
	bool v2 = cg->ops->mode == CGROUP_MODE_V2;
	const char *dir = cgroup_dir_for(cg, "hugetlb");
	char **sizes = NULL;
	size_t n = huge_sizes(&sizes), i;

	json_gen_str(g, "hugetlb");
	yajl_gen_map_open(g);
	for (i = 0; dir && i < n; i++) {
		_cleanup_free_ char *usage =
			xasprintf("hugetlb.%s.%s", sizes[i], v2 ? "current" : "usage_in_bytes");
		_cleanup_free_ char *max = xasprintf("hugetlb.%s.max_usage_in_bytes", sizes[i]);
		_cleanup_free_ char *fail =
			xasprintf("hugetlb.%s.%s", sizes[i], v2 ? "events" : "failcnt");
		_cleanup_free_ char *events = v2 ? read_text(dir, fail) : NULL;
		_cleanup_free_ char *probe = read_text(dir, usage);

		/* A size the controller does not offer here (v2 without hugetlb): runc skips. */
		if (probe == NULL)
			continue;
		json_gen_str(g, sizes[i]);
		yajl_gen_map_open(g);
		gen_u64(g, "usage", read_u64(dir, usage), true);
		gen_u64(g, "max", v2 ? 0 : read_u64(dir, max), true);
		gen_u64(g, "failcnt", v2 ? keyed(events, "max") : read_u64(dir, fail), false);
		yajl_gen_map_close(g);
	}
	yajl_gen_map_close(g);
	json_strv_free(sizes);
}

int
cgroup_stats_json(const struct cgroup *cg, const char *id, char **out, struct mini_err **err)
{
	_cleanup_(yajl_gen_freep) yajl_gen g = json_gen_new(false);
	struct cpu_stats cpu = { 0 };

	if (cg->ops->mode == CGROUP_MODE_V2)
		cpu_v2(cgroup_dir_for(cg, NULL), &cpu);
	else
		cpu_v1(cg, &cpu);
	yajl_gen_map_open(g);
	json_gen_kv_str(g, "type", "stats");
	json_gen_kv_str(g, "id", id);
	json_gen_str(g, "data");
	yajl_gen_map_open(g);
	gen_cpu(g, &cpu);
	gen_cpuset(g, cg->ops->mode == CGROUP_MODE_V1 ? cgroup_dir_for(cg, "cpuset") : NULL);
	gen_memory(g, cg);
	gen_pids(g, cg);
	gen_blkio(g, cg);
	gen_hugetlb(g, cg);
	json_gen_str(g, "intel_rdt");
	yajl_gen_map_open(g);
	yajl_gen_map_close(g);
	json_gen_str(g, "network_interfaces");
	yajl_gen_null(g);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	*out = json_gen_take(g, NULL);
	(void)err;
	return 0;
}
