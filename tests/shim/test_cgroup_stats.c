/* Stats and OOM watching on fake cgroup trees (v1 controllers and a v2 directory) in a
 * temporary directory: the files containerd's cgroups library reads, the fields it fills, and
 * "max" handling. */
#include "cgroup.h"
#include "oom.h"
#include "tap.h"

#include "containerd/cgroups/v1/metrics.pb-c.h"
#include "containerd/cgroups/v2/metrics.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

static char root[64];

static void
put(const char *rel, const char *text)
{
	char path[256], dir[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + strlen(root) + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(dir, 0755);
			*p = '/';
		}
	}
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void
test_v1(void)
{
	struct cgroup *cg;
	const char *url = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	Io__Containerd__Cgroups__V1__Metrics *m;

	put("memory/ns/c/memory.stat", "cache 4096\nrss 8192\ntotal_rss 8192\n"
				       "hierarchical_memsw_limit 100\n");
	put("memory/ns/c/memory.usage_in_bytes", "12345\n");
	put("memory/ns/c/memory.limit_in_bytes", "9223372036854771712\n");
	put("memory/ns/c/memory.max_usage_in_bytes", "20000\n");
	put("memory/ns/c/memory.failcnt", "0\n");
	put("memory/ns/c/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
	put("cpuacct/ns/c/cpuacct.usage", "5000\n");
	put("cpuacct/ns/c/cpuacct.usage_percpu", "1000 4000 \n");
	put("cpuacct/ns/c/cpuacct.stat", "user 3\nsystem 1\n");
	put("cpu/ns/c/cpu.stat", "nr_periods 7\nnr_throttled 2\nthrottled_time 99\n");
	put("pids/ns/c/pids.current", "3\n");
	put("pids/ns/c/pids.max", "max\n");
	put("blkio/ns/c/blkio.throttle.io_serviced", "8:0 Read 5\n8:0 Write 6\nTotal 11\n");
	put("blkio/ns/c/blkio.throttle.io_service_bytes", "8:0 Read 512\nTotal 512\n");
	put("hugetlb/ns/c/hugetlb.2MB.usage_in_bytes", "0\n");
	put("hugetlb/ns/c/hugetlb.2MB.max_usage_in_bytes", "2097152\n");
	put("hugetlb/ns/c/hugetlb.2MB.failcnt", "1\n");
	cg = shim_cgroup_parse("9:memory:/ns/c\n8:cpu:/ns/c\n7:cpuacct:/ns/c\n6:pids:/ns/c\n"
			       "5:blkio:/ns/c\n4:hugetlb:/ns/c\n",
			       root, false);
	ok(shim_cgroup_stats(cg, &url, &buf, &len, NULL) == 0, "v1 stats read");
	is_str(url, "io.containerd.cgroups.v1.Metrics", "v1 type URL");
	m = io__containerd__cgroups__v1__metrics__unpack(NULL, len, buf);
	ok(m && m->memory && m->memory->usage && m->cpu && m->cpu->usage,
	   "memory.usage and cpu.usage present (ctr dereferences them)");
	if (m && m->memory && m->memory->usage && m->cpu && m->cpu->usage) {
		is_int(m->memory->cache, 4096, "memory.stat cache");
		is_int(m->memory->hierarchical_swap_limit, 100, "memsw limit key mapped");
		is_int(m->memory->usage->usage, 12345, "usage_in_bytes");
		is_int(m->memory->usage->max, 20000, "max_usage_in_bytes");
		ok(m->memory_oom_control && m->memory_oom_control->oom_kill == 2, "oom_kill");
		is_int(m->cpu->usage->total, 5000, "cpuacct.usage");
		is_int(m->cpu->usage->n_per_cpu, 2, "per-cpu entries");
		is_int(m->cpu->usage->user, 3 * 1000000000ULL / sysconf(_SC_CLK_TCK),
		       "user ticks in ns");
		is_int(m->cpu->throttling->throttled_periods, 2, "cpu.stat");
		ok(m->pids && m->pids->current == 3, "pids.current");
		ok(m->pids && m->pids->limit == 0, "pids.max max is 0");
		ok(m->blkio && m->blkio->n_io_serviced_recursive == 2 &&
			   strcmp(m->blkio->io_serviced_recursive[1]->op, "Write") == 0 &&
			   m->blkio->io_serviced_recursive[1]->value == 6,
		   "throttle counters without CFQ, Total skipped");
		ok(m->n_hugetlb == 1 && strcmp(m->hugetlb[0]->pagesize, "2MB") == 0 &&
			   m->hugetlb[0]->max == 2097152 && m->hugetlb[0]->failcnt == 1,
		   "hugetlb per page size");
	}
	io__containerd__cgroups__v1__metrics__free_unpacked(m, NULL);
	free(buf);
	shim_cgroup_free(cg);
}

static void
test_v2(void)
{
	struct cgroup *cg;
	const char *url = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	Io__Containerd__Cgroups__V2__Metrics *m;

	put("u/ns/c/cpu.stat", "usage_usec 10\nuser_usec 6\nsystem_usec 4\n");
	put("u/ns/c/memory.stat", "anon 4096\nfile 8192\npgfault 5\n");
	put("u/ns/c/memory.current", "65536\n");
	put("u/ns/c/memory.max", "max\n");
	put("u/ns/c/memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
	put("u/ns/c/pids.current", "2\n");
	put("u/ns/c/pids.max", "100\n");
	put("u/ns/c/io.stat", "8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n");
	{
		char r2[96];

		snprintf(r2, sizeof(r2), "%s/u", root);
		cg = shim_cgroup_parse("0::/ns/c\n", r2, true);
	}
	ok(shim_cgroup_stats(cg, &url, &buf, &len, NULL) == 0, "v2 stats read");
	is_str(url, "io.containerd.cgroups.v2.Metrics", "v2 type URL");
	m = io__containerd__cgroups__v2__metrics__unpack(NULL, len, buf);
	ok(m && m->memory && m->cpu && m->pids && m->io, "v2 sections present");
	if (m && m->memory && m->cpu && m->pids && m->io) {
		is_int(m->cpu->usage_usec, 10, "usage_usec");
		is_int(m->memory->anon, 4096, "anon");
		is_int(m->memory->usage, 65536, "memory.current");
		ok(m->memory->usage_limit == UINT64_MAX, "memory.max max is UINT64_MAX");
		is_int(m->pids->limit, 100, "pids.max");
		ok(m->memory_events && m->memory_events->oom_kill == 1, "memory.events");
		ok(m->io->n_usage == 1 && m->io->usage[0]->wbytes == 20 &&
			   m->io->usage[0]->wios == 2,
		   "io.stat");
	}
	io__containerd__cgroups__v2__metrics__free_unpacked(m, NULL);
	free(buf);
	shim_cgroup_free(cg);
}

static int ooms;

static void
on_oom(void *data)
{
	ooms++;
}

static void
test_oom_v2(void)
{
	char r2[96];
	struct cgroup *cg;
	struct oom_watch *w;
	uv_loop_t loop;

	snprintf(r2, sizeof(r2), "%s/u", root);
	cg = shim_cgroup_parse("0::/ns/c\n", r2, true);
	uv_loop_init(&loop);
	w = oom_watch_new(&loop, cg, on_oom, NULL, NULL);
	ok(w != NULL, "v2 OOM watch on memory.events");
	put("u/ns/c/memory.events", "low 0\nhigh 0\nmax 4\noom 2\noom_kill 2\n");
	for (int i = 0; i < 50 && ooms == 0; i++)
		uv_run(&loop, UV_RUN_NOWAIT), usleep(2000);
	is_int(ooms, 1, "an increased oom_kill is one OOM event");
	put("u/ns/c/memory.events", "low 0\nhigh 0\nmax 5\noom 2\noom_kill 2\n");
	for (int i = 0; i < 20; i++)
		uv_run(&loop, UV_RUN_NOWAIT), usleep(1000);
	is_int(ooms, 1, "other counters do not count");
	oom_watch_free(w);
	uv_run(&loop, UV_RUN_NOWAIT);
	ok(uv_loop_close(&loop) == 0, "watch closed");
	shim_cgroup_free(cg);
}

int
main(void)
{
	snprintf(root, sizeof(root), "/tmp/test-cgroup-XXXXXX");
	if (mkdtemp(root) == NULL)
		return 1;
	test_v1();
	test_v2();
	test_oom_v2();
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", root);
	}
	return tap_done();
}
