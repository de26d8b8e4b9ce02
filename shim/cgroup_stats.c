/* Stats of a container's cgroup, in the shape containerd's cgroups library produces them:
 * io.containerd.cgroups.v1.Metrics on v1 hosts (memory, cpu/cpuacct, pids, blkio, hugetlb, OOM
 * control), io.containerd.cgroups.v2.Metrics on unified hosts. Controllers or files that are
 * missing are skipped (the library's IgnoreNotExist), but `cpu.usage` and `memory.usage` are
 * always present when their parent is: `ctr task metrics` dereferences them unchecked. */
#include "cgroup.h"
#include "cleanup.h"
#include "fs.h"
#include "xalloc.h"

#include "containerd/cgroups/v1/metrics.pb-c.h"
#include "containerd/cgroups/v2/metrics.pb-c.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Everything a Metrics message points to, freed in one go after packing. */
struct arena {
	void **ptrs;
	size_t n;
};

static void *
arena_alloc(struct arena *a, size_t size)
{
	void *p = xcalloc(1, size);

	a->ptrs = xrealloc(a->ptrs, (a->n + 1) * sizeof(*a->ptrs));
	a->ptrs[a->n++] = p;
	return p;
}

static char *
arena_strdup(struct arena *a, const char *s)
{
	char *p = arena_alloc(a, strlen(s) + 1);

	return strcpy(p, s);
}

static void
arena_free(struct arena *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->ptrs[i]);
	free(a->ptrs);
}

#define NEW(a, type, init)                               \
	({                                               \
		type *_m = arena_alloc(a, sizeof(type)); \
		init(_m);                                \
		_m;                                      \
	})

static char *
read_in(const char *dir, const char *name)
{
	_cleanup_free_ char *path = path_join(dir, name);
	char *text = NULL;

	return read_file(path, &text, NULL, NULL) == 0 ? text : NULL;
}

/* A file holding one number ("max" = UINT64_MAX for v2 limits). false if it cannot be read. */
static bool
read_u64(const char *dir, const char *name, uint64_t *out)
{
	_cleanup_free_ char *text = read_in(dir, name);

	if (text == NULL)
		return false;
	*out = strncmp(text, "max", 3) == 0 ? UINT64_MAX : strtoull(text, NULL, 10);
	return true;
}

struct kv {
	const char *key;
	uint64_t *dst;
};

/* "key value" lines; every key found in the table is stored. false if unreadable. */
static bool
read_kv(const char *dir, const char *name, const struct kv *table, size_t n)
{
	_cleanup_free_ char *text = read_in(dir, name);
	char *line, *save = NULL;

	if (text == NULL)
		return false;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');

		if (sp == NULL)
			continue;
		*sp = '\0';
		for (size_t i = 0; i < n; i++) {
			if (strcmp(table[i].key, line) == 0) {
				*table[i].dst = strtoull(sp + 1, NULL, 10);
				break;
			}
		}
	}
	return true;
}

#define KV(k, f)        \
	{               \
		k, &(f) \
	}
#define N(t) (sizeof(t) / sizeof((t)[0]))

/* ---- cgroup v1 ------------------------------------------------------------------------------ */

static Io__Containerd__Cgroups__V1__MemoryEntry *
v1_mem_entry(struct arena *a, const char *dir, const char *module)
{
	Io__Containerd__Cgroups__V1__MemoryEntry *e =
		NEW(a, Io__Containerd__Cgroups__V1__MemoryEntry,
		    io__containerd__cgroups__v1__memory_entry__init);
	static const char *const names[] = { "usage_in_bytes", "max_usage_in_bytes", "failcnt",
					     "limit_in_bytes" };
	uint64_t *dst[] = { &e->usage, &e->max, &e->failcnt, &e->limit };
	char file[64];

	for (size_t i = 0; i < 4; i++) {
		snprintf(file, sizeof(file), "memory.%s%s%s", module, *module ? "." : "", names[i]);
		read_u64(dir, file, dst[i]);
	}
	return e;
}

static void
v1_memory(struct arena *a, const char *dir, Io__Containerd__Cgroups__V1__Metrics *m)
{
	Io__Containerd__Cgroups__V1__MemoryStat *s =
		NEW(a, Io__Containerd__Cgroups__V1__MemoryStat,
		    io__containerd__cgroups__v1__memory_stat__init);
	Io__Containerd__Cgroups__V1__MemoryOomControl *oc =
		NEW(a, Io__Containerd__Cgroups__V1__MemoryOomControl,
		    io__containerd__cgroups__v1__memory_oom_control__init);
	const struct kv stat[] = {
		KV("cache", s->cache),
		KV("rss", s->rss),
		KV("rss_huge", s->rss_huge),
		KV("mapped_file", s->mapped_file),
		KV("dirty", s->dirty),
		KV("writeback", s->writeback),
		KV("pgpgin", s->pg_pg_in),
		KV("pgpgout", s->pg_pg_out),
		KV("pgfault", s->pg_fault),
		KV("pgmajfault", s->pg_maj_fault),
		KV("inactive_anon", s->inactive_anon),
		KV("active_anon", s->active_anon),
		KV("inactive_file", s->inactive_file),
		KV("active_file", s->active_file),
		KV("unevictable", s->unevictable),
		KV("hierarchical_memory_limit", s->hierarchical_memory_limit),
		KV("hierarchical_memsw_limit", s->hierarchical_swap_limit),
		KV("total_cache", s->total_cache),
		KV("total_rss", s->total_rss),
		KV("total_rss_huge", s->total_rss_huge),
		KV("total_mapped_file", s->total_mapped_file),
		KV("total_dirty", s->total_dirty),
		KV("total_writeback", s->total_writeback),
		KV("total_pgpgin", s->total_pg_pg_in),
		KV("total_pgpgout", s->total_pg_pg_out),
		KV("total_pgfault", s->total_pg_fault),
		KV("total_pgmajfault", s->total_pg_maj_fault),
		KV("total_inactive_anon", s->total_inactive_anon),
		KV("total_active_anon", s->total_active_anon),
		KV("total_inactive_file", s->total_inactive_file),
		KV("total_active_file", s->total_active_file),
		KV("total_unevictable", s->total_unevictable),
	};
	const struct kv oom[] = {
		KV("oom_kill_disable", oc->oom_kill_disable),
		KV("under_oom", oc->under_oom),
		KV("oom_kill", oc->oom_kill),
	};

	if (!read_kv(dir, "memory.stat", stat, N(stat)))
		return;
	s->usage = v1_mem_entry(a, dir, "");
	s->swap = v1_mem_entry(a, dir, "memsw");
	s->kernel = v1_mem_entry(a, dir, "kmem");
	s->kernel_tcp = v1_mem_entry(a, dir, "kmem.tcp");
	m->memory = s;
	if (read_kv(dir, "memory.oom_control", oom, N(oom)))
		m->memory_oom_control = oc;
}

static void
v1_cpu(struct arena *a, const struct cgroup *cg, Io__Containerd__Cgroups__V1__Metrics *m)
{
	Io__Containerd__Cgroups__V1__CPUUsage *u = m->cpu->usage;
	Io__Containerd__Cgroups__V1__Throttle *t = m->cpu->throttling;
	const char *acct = shim_cgroup_dir(cg, "cpuacct"), *cpu = shim_cgroup_dir(cg, "cpu");
	const struct kv thr[] = {
		KV("nr_periods", t->periods),
		KV("nr_throttled", t->throttled_periods),
		KV("throttled_time", t->throttled_time),
	};

	if (acct) {
		_cleanup_free_ char *percpu = read_in(acct, "cpuacct.usage_percpu");
		long ticks = sysconf(_SC_CLK_TCK);
		uint64_t user = 0, sys = 0;
		const struct kv st[] = { KV("user", user), KV("system", sys) };

		read_u64(acct, "cpuacct.usage", &u->total);
		/* cpuacct.stat counts USER_HZ ticks; containerd reports nanoseconds. */
		if (read_kv(acct, "cpuacct.stat", st, N(st)) && ticks > 0) {
			u->user = user * 1000000000ULL / (uint64_t)ticks;
			u->kernel = sys * 1000000000ULL / (uint64_t)ticks;
		}
		for (char *p = percpu, *end; p && *p; p = end) {
			uint64_t v = strtoull(p, &end, 10);

			if (end == p)
				break;
			if (u->n_per_cpu % 16 == 0) {
				uint64_t *grown =
					arena_alloc(a, (u->n_per_cpu + 16) * sizeof(*grown));

				if (u->n_per_cpu)
					memcpy(grown, u->per_cpu, u->n_per_cpu * sizeof(*grown));
				u->per_cpu = grown;
			}
			u->per_cpu[u->n_per_cpu++] = v;
		}
	}
	if (cpu)
		read_kv(cpu, "cpu.stat", thr, N(thr));
}

static void
v1_pids(struct arena *a, const char *dir, Io__Containerd__Cgroups__V1__Metrics *m)
{
	Io__Containerd__Cgroups__V1__PidsStat *p =
		NEW(a, Io__Containerd__Cgroups__V1__PidsStat,
		    io__containerd__cgroups__v1__pids_stat__init);

	if (!read_u64(dir, "pids.current", &p->current))
		return;
	read_u64(dir, "pids.max", &p->limit);
	if (p->limit == UINT64_MAX)
		p->limit = 0; /* "max": v1 reports no limit as 0 */
	m->pids = p;
}

/* /proc/partitions: "major minor #blocks name" after two header lines. */
static const char *
device_name(struct arena *a, const char *partitions, uint64_t major, uint64_t minor)
{
	char name[64];
	const char *line = partitions;

	for (int i = 0; line && *line; i++) {
		unsigned long long ma, mi, blocks;

		if (i >= 2 && sscanf(line, "%llu %llu %llu %63s", &ma, &mi, &blocks, name) == 4 &&
		    ma == major && mi == minor) {
			char *dev = arena_alloc(a, strlen(name) + 6);

			sprintf(dev, "/dev/%s", name);
			return dev;
		}
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
	return "";
}

static size_t
v1_blkio_entries(struct arena *a, const char *dir, const char *name, const char *partitions,
		 Io__Containerd__Cgroups__V1__BlkIOEntry ***out)
{
	_cleanup_free_ char *file = xasprintf("blkio.%s", name);
	_cleanup_free_ char *text = read_in(dir, file);
	char *line, *save = NULL;
	size_t n = 0;

	*out = NULL;
	for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		Io__Containerd__Cgroups__V1__BlkIOEntry *e;
		unsigned long long ma, mi, v;
		char op[32] = "";

		if (sscanf(line, "%llu:%llu %31s %llu", &ma, &mi, op, &v) != 4) {
			op[0] = '\0';
			if (sscanf(line, "%llu:%llu %llu", &ma, &mi, &v) != 3)
				continue; /* "Total N" */
		}
		e = NEW(a, Io__Containerd__Cgroups__V1__BlkIOEntry,
			io__containerd__cgroups__v1__blk_ioentry__init);
		e->major = ma;
		e->minor = mi;
		e->value = v;
		e->op = arena_strdup(a, op);
		e->device = (char *)device_name(a, partitions, ma, mi);
		if (n % 16 == 0) {
			void **grown = arena_alloc(a, (n + 16) * sizeof(*grown));

			if (n)
				memcpy(grown, *out, n * sizeof(*grown));
			*out = (Io__Containerd__Cgroups__V1__BlkIOEntry **)grown;
		}
		(*out)[n++] = e;
	}
	return n;
}

static void
v1_blkio(struct arena *a, const char *dir, Io__Containerd__Cgroups__V1__Metrics *m)
{
	Io__Containerd__Cgroups__V1__BlkIOStat *b =
		NEW(a, Io__Containerd__Cgroups__V1__BlkIOStat,
		    io__containerd__cgroups__v1__blk_iostat__init);
	_cleanup_free_ char *parts = NULL;
	_cleanup_free_ char *probe = path_join(dir, "blkio.io_serviced_recursive");
	size_t total = 0;

	read_file("/proc/partitions", &parts, NULL, NULL);
	if (access(probe, F_OK) == 0) {
		/* CFQ-style statistics first. */
		total += b->n_sectors_recursive =
			v1_blkio_entries(a, dir, "sectors_recursive", parts, &b->sectors_recursive);
		total += b->n_io_service_bytes_recursive =
			v1_blkio_entries(a, dir, "io_service_bytes_recursive", parts,
					 &b->io_service_bytes_recursive);
		total += b->n_io_serviced_recursive = v1_blkio_entries(
			a, dir, "io_serviced_recursive", parts, &b->io_serviced_recursive);
		total += b->n_io_queued_recursive = v1_blkio_entries(
			a, dir, "io_queued_recursive", parts, &b->io_queued_recursive);
		total += b->n_io_service_time_recursive = v1_blkio_entries(
			a, dir, "io_service_time_recursive", parts, &b->io_service_time_recursive);
		total += b->n_io_wait_time_recursive = v1_blkio_entries(
			a, dir, "io_wait_time_recursive", parts, &b->io_wait_time_recursive);
		total += b->n_io_merged_recursive = v1_blkio_entries(
			a, dir, "io_merged_recursive", parts, &b->io_merged_recursive);
		total += b->n_io_time_recursive =
			v1_blkio_entries(a, dir, "time_recursive", parts, &b->io_time_recursive);
	}
	if (total == 0) {
		/* Devices without CFQ: the throttle counters. */
		b->n_io_serviced_recursive = v1_blkio_entries(a, dir, "throttle.io_serviced", parts,
							      &b->io_serviced_recursive);
		b->n_io_service_bytes_recursive = v1_blkio_entries(
			a, dir, "throttle.io_service_bytes", parts, &b->io_service_bytes_recursive);
	}
	m->blkio = b;
}

static void
v1_hugetlb(struct arena *a, const char *dir, Io__Containerd__Cgroups__V1__Metrics *m)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		Io__Containerd__Cgroups__V1__HugetlbStat *h;
		char size[32], file[96];
		const char *n = de->d_name;

		/* hugetlb.<size>.usage_in_bytes, one per page size */
		if (sscanf(n, "hugetlb.%31[^.].usage_in_bytes", size) != 1 ||
		    strcmp(n + strlen("hugetlb.") + strlen(size), ".usage_in_bytes") != 0)
			continue;
		h = NEW(a, Io__Containerd__Cgroups__V1__HugetlbStat,
			io__containerd__cgroups__v1__hugetlb_stat__init);
		h->pagesize = arena_strdup(a, size);
		read_u64(dir, n, &h->usage);
		snprintf(file, sizeof(file), "hugetlb.%s.max_usage_in_bytes", size);
		read_u64(dir, file, &h->max);
		snprintf(file, sizeof(file), "hugetlb.%s.failcnt", size);
		read_u64(dir, file, &h->failcnt);
		if (m->n_hugetlb % 8 == 0) {
			void **grown = arena_alloc(a, (m->n_hugetlb + 8) * sizeof(*grown));

			if (m->n_hugetlb)
				memcpy(grown, m->hugetlb, m->n_hugetlb * sizeof(*grown));
			m->hugetlb = (Io__Containerd__Cgroups__V1__HugetlbStat **)grown;
		}
		m->hugetlb[m->n_hugetlb++] = h;
	}
}

static const ProtobufCMessage *
stats_v1(struct arena *a, const struct cgroup *cg)
{
	Io__Containerd__Cgroups__V1__Metrics *m = NEW(a, Io__Containerd__Cgroups__V1__Metrics,
						      io__containerd__cgroups__v1__metrics__init);
	const char *d;

	/* As the cgroups library: cpu with usage and throttling always exists. */
	m->cpu = NEW(a, Io__Containerd__Cgroups__V1__CPUStat,
		     io__containerd__cgroups__v1__cpustat__init);
	m->cpu->usage = NEW(a, Io__Containerd__Cgroups__V1__CPUUsage,
			    io__containerd__cgroups__v1__cpuusage__init);
	m->cpu->throttling = NEW(a, Io__Containerd__Cgroups__V1__Throttle,
				 io__containerd__cgroups__v1__throttle__init);
	v1_cpu(a, cg, m);
	if ((d = shim_cgroup_dir(cg, "memory")))
		v1_memory(a, d, m);
	if ((d = shim_cgroup_dir(cg, "pids")))
		v1_pids(a, d, m);
	if ((d = shim_cgroup_dir(cg, "blkio")))
		v1_blkio(a, d, m);
	if ((d = shim_cgroup_dir(cg, "hugetlb")))
		v1_hugetlb(a, d, m);
	return &m->base;
}

/* ---- cgroup v2 ------------------------------------------------------------------------------ */

static void
v2_memory(struct arena *a, const char *dir, Io__Containerd__Cgroups__V2__Metrics *m)
{
	Io__Containerd__Cgroups__V2__MemoryStat *s =
		NEW(a, Io__Containerd__Cgroups__V2__MemoryStat,
		    io__containerd__cgroups__v2__memory_stat__init);
	Io__Containerd__Cgroups__V2__MemoryEvents *ev =
		NEW(a, Io__Containerd__Cgroups__V2__MemoryEvents,
		    io__containerd__cgroups__v2__memory_events__init);
	const struct kv stat[] = {
		KV("anon", s->anon),
		KV("file", s->file),
		KV("kernel_stack", s->kernel_stack),
		KV("slab", s->slab),
		KV("sock", s->sock),
		KV("shmem", s->shmem),
		KV("file_mapped", s->file_mapped),
		KV("file_dirty", s->file_dirty),
		KV("file_writeback", s->file_writeback),
		KV("anon_thp", s->anon_thp),
		KV("inactive_anon", s->inactive_anon),
		KV("active_anon", s->active_anon),
		KV("inactive_file", s->inactive_file),
		KV("active_file", s->active_file),
		KV("unevictable", s->unevictable),
		KV("slab_reclaimable", s->slab_reclaimable),
		KV("slab_unreclaimable", s->slab_unreclaimable),
		KV("pgfault", s->pgfault),
		KV("pgmajfault", s->pgmajfault),
		KV("workingset_refault", s->workingset_refault),
		KV("workingset_activate", s->workingset_activate),
		KV("workingset_nodereclaim", s->workingset_nodereclaim),
		KV("pgrefill", s->pgrefill),
		KV("pgscan", s->pgscan),
		KV("pgsteal", s->pgsteal),
		KV("pgactivate", s->pgactivate),
		KV("pgdeactivate", s->pgdeactivate),
		KV("pglazyfree", s->pglazyfree),
		KV("pglazyfreed", s->pglazyfreed),
		KV("thp_fault_alloc", s->thp_fault_alloc),
		KV("thp_collapse_alloc", s->thp_collapse_alloc),
	};
	const struct kv events[] = {
		KV("low", ev->low), KV("high", ev->high),	  KV("max", ev->max),
		KV("oom", ev->oom), KV("oom_kill", ev->oom_kill),
	};

	read_kv(dir, "memory.stat", stat, N(stat));
	read_u64(dir, "memory.current", &s->usage);
	read_u64(dir, "memory.max", &s->usage_limit);
	read_u64(dir, "memory.swap.current", &s->swap_usage);
	read_u64(dir, "memory.swap.max", &s->swap_limit);
	m->memory = s;
	if (read_kv(dir, "memory.events", events, N(events)))
		m->memory_events = ev;
}

static void
v2_io(struct arena *a, const char *dir, Io__Containerd__Cgroups__V2__Metrics *m)
{
	_cleanup_free_ char *text = read_in(dir, "io.stat");
	char *line, *save = NULL;

	m->io = NEW(a, Io__Containerd__Cgroups__V2__IOStat,
		    io__containerd__cgroups__v2__iostat__init);
	for (line = text ? strtok_r(text, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		Io__Containerd__Cgroups__V2__IOEntry *e;
		unsigned long long ma, mi;
		char *tok, *s2 = NULL;

		if (sscanf(line, "%llu:%llu", &ma, &mi) != 2)
			continue;
		e = NEW(a, Io__Containerd__Cgroups__V2__IOEntry,
			io__containerd__cgroups__v2__ioentry__init);
		e->major = ma;
		e->minor = mi;
		for (tok = strtok_r(strchr(line, ' '), " ", &s2); tok;
		     tok = strtok_r(NULL, " ", &s2)) {
			uint64_t v =
				strtoull(strchr(tok, '=') ? strchr(tok, '=') + 1 : "0", NULL, 10);

			if (strncmp(tok, "rbytes=", 7) == 0)
				e->rbytes = v;
			else if (strncmp(tok, "wbytes=", 7) == 0)
				e->wbytes = v;
			else if (strncmp(tok, "rios=", 5) == 0)
				e->rios = v;
			else if (strncmp(tok, "wios=", 5) == 0)
				e->wios = v;
		}
		if (m->io->n_usage % 8 == 0) {
			void **grown = arena_alloc(a, (m->io->n_usage + 8) * sizeof(*grown));

			if (m->io->n_usage)
				memcpy(grown, m->io->usage, m->io->n_usage * sizeof(*grown));
			m->io->usage = (Io__Containerd__Cgroups__V2__IOEntry **)grown;
		}
		m->io->usage[m->io->n_usage++] = e;
	}
}

static const ProtobufCMessage *
stats_v2(struct arena *a, const struct cgroup *cg)
{
	Io__Containerd__Cgroups__V2__Metrics *m = NEW(a, Io__Containerd__Cgroups__V2__Metrics,
						      io__containerd__cgroups__v2__metrics__init);
	const char *dir = shim_cgroup_dir(cg, "");
	Io__Containerd__Cgroups__V2__CPUStat *c = NEW(a, Io__Containerd__Cgroups__V2__CPUStat,
						      io__containerd__cgroups__v2__cpustat__init);
	const struct kv cpu[] = {
		KV("usage_usec", c->usage_usec),     KV("user_usec", c->user_usec),
		KV("system_usec", c->system_usec),   KV("nr_periods", c->nr_periods),
		KV("nr_throttled", c->nr_throttled), KV("throttled_usec", c->throttled_usec),
	};

	m->cpu = c;
	m->pids = NEW(a, Io__Containerd__Cgroups__V2__PidsStat,
		      io__containerd__cgroups__v2__pids_stat__init);
	read_u64(dir, "pids.current", &m->pids->current);
	read_u64(dir, "pids.max", &m->pids->limit);
	read_kv(dir, "cpu.stat", cpu, N(cpu));
	v2_memory(a, dir, m);
	v2_io(a, dir, m);
	m->rdma = NEW(a, Io__Containerd__Cgroups__V2__RdmaStat,
		      io__containerd__cgroups__v2__rdma_stat__init);
	return &m->base;
}

int
shim_cgroup_stats(const struct cgroup *cg, const char **type_url, uint8_t **value, size_t *len,
		  struct mini_err **err)
{
	struct arena a = { 0 };
	const ProtobufCMessage *m;

	if (!shim_cgroup_exists(cg))
		return mini_err_setc(err, MINI_E_NOTFOUND, 0, "cgroup does not exist");
	if (shim_cgroup_is_v2(cg)) {
		m = stats_v2(&a, cg);
		*type_url = "io.containerd.cgroups.v2.Metrics";
	} else {
		m = stats_v1(&a, cg);
		*type_url = "io.containerd.cgroups.v1.Metrics";
	}
	*len = protobuf_c_message_get_packed_size(m);
	*value = xmalloc(*len + 1);
	protobuf_c_message_pack(m, *value);
	arena_free(&a);
	return 0;
}
