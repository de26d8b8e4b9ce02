/* What the cgroup v1 and v2 implementations write for each linux.resources field, on fake
 * hierarchies in a temporary directory (no root needed). cgroup_write and cgroup_writef are
 * wrapped at link time (-Wl,--wrap): every write is logged as "file=value" and stored in the
 * fake file, which must exist (as in cgroupfs, where nothing can be created by writing). */
#include "cgroup.h"
#include "cgroup_devices.h"
#include "cleanup.h"
#include "commands.h"
#include "fs.h"
#include "json.h"
#include "spec.h"
#include "tap.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char wlog[16384];

int __wrap_cgroup_write(const char *dir, const char *file, const char *value,
			struct mini_err **err);
int __wrap_cgroup_writef(const char *dir, const char *file, struct mini_err **err, const char *fmt,
			 ...) __attribute__((format(printf, 4, 5)));

int
__wrap_cgroup_write(const char *dir, const char *file, const char *value, struct mini_err **err)
{
	_cleanup_free_ char *path = path_join(dir, file);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	size_t len = strlen(wlog);

	snprintf(wlog + len, sizeof(wlog) - len, "%s=%s\n", file, value);
	if (fd < 0)
		return mini_err_set(err, errno, "open %s", path);
	if (write(fd, value, strlen(value)) < 0)
		return mini_err_set(err, errno, "write %s", path);
	return 0;
}

int
__wrap_cgroup_writef(const char *dir, const char *file, struct mini_err **err, const char *fmt, ...)
{
	_cleanup_free_ char *v = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&v, fmt, ap) < 0)
		abort();
	va_end(ap);
	return __wrap_cgroup_write(dir, file, v, err);
}

static char tmp[] = "/tmp/minirt-cgtest-XXXXXX";

static void
put(const char *dir, const char *file, const char *content)
{
	_cleanup_free_ char *p = path_join(dir, file);

	write_file_atomic(p, content, strlen(content), 0644, NULL);
}

/* A cgroup whose hierarchies are directories under tmp, each with `files` (NULL-separated
 * groups: "name", files…, NULL). */
static struct cgroup *
fake(const struct cgroup_ops *ops, const char *const *spec)
{
	struct cgroup *cg = xcalloc(1, sizeof(*cg));

	cg->ops = ops;
	cg->path = xstrdup("/c");
	while (*spec) {
		const char *name = *spec++;
		char *mnt = xasprintf("%s/%s", tmp, name[0] ? name : "unified");
		char *dir = xasprintf("%s/c", mnt);

		mkdir_p(dir, 0755, NULL);
		for (; *spec; spec++)
			put(dir, *spec, "0\n");
		spec++;
		cg->hiers = xrealloc(cg->hiers, (cg->n_hiers + 1) * sizeof(*cg->hiers));
		cg->hiers[cg->n_hiers++] = (struct cgroup_hier){ .name = xstrdup(name),
								 .mountpoint = mnt,
								 .dir = dir };
	}
	return cg;
}

static struct spec_resources *
resources(const char *json, yajl_val *tree)
{
	struct spec_resources *r = NULL;
	struct mini_err *err = NULL;

	if (json_parse(json, "t", tree, &err) < 0 ||
	    spec_parse_resources(*tree, "linux.resources", &r, &err) < 0) {
		printf("# %s\n", err->msg);
		mini_err_free(err);
		spec_resources_free(r);
		return NULL;
	}
	return r;
}

/* Applies json and returns the error message ("" on success); the writes are in wlog. */
static char *
apply(struct cgroup *cg, const char *json)
{
	yajl_val tree = NULL;
	struct spec_resources *r = resources(json, &tree);
	struct mini_err *err = NULL;
	char *msg;

	wlog[0] = '\0';
	if (r == NULL) {
		yajl_tree_free(tree);
		return xstrdup("parse error");
	}
	if (cg->ops->apply(cg, r, false, &err) < 0) {
		msg = xstrdup(err->msg);
		mini_err_free(err);
	} else {
		msg = xstrdup("");
	}
	spec_resources_free(r);
	yajl_tree_free(tree);
	return msg;
}

static const char *const v1_layout[] = {
	"memory",
	"memory.limit_in_bytes",
	"memory.memsw.limit_in_bytes",
	"memory.soft_limit_in_bytes",
	"memory.swappiness",
	"memory.oom_control",
	"memory.usage_in_bytes",
	"memory.max_usage_in_bytes",
	NULL,
	"cpu,cpuacct",
	"cpu.shares",
	"cpu.cfs_period_us",
	"cpu.cfs_quota_us",
	"cpu.rt_period_us",
	"cpu.rt_runtime_us",
	"cpu.idle",
	NULL,
	"cpuset",
	"cpuset.cpus",
	"cpuset.mems",
	NULL,
	"pids",
	"pids.max",
	NULL,
	"blkio",
	"blkio.bfq.weight",
	"blkio.bfq.weight_device",
	"blkio.leaf_weight",
	"blkio.leaf_weight_device",
	"blkio.throttle.read_bps_device",
	"blkio.throttle.write_bps_device",
	"blkio.throttle.read_iops_device",
	"blkio.throttle.write_iops_device",
	NULL,
	"hugetlb",
	"hugetlb.2MB.limit_in_bytes",
	"hugetlb.1GB.limit_in_bytes",
	NULL,
	"net_cls,net_prio",
	"net_cls.classid",
	"net_prio.ifpriomap",
	NULL,
	"rdma",
	"rdma.max",
	NULL,
	"devices",
	"devices.allow",
	"devices.deny",
	NULL,
	NULL,
};

static const char full_json[] =
	"{\"memory\":{\"limit\":1000000,\"reservation\":500000,\"swap\":2000000,"
	"\"kernel\":5,\"kernelTCP\":6,\"swappiness\":10,\"disableOOMKiller\":true},"
	"\"cpu\":{\"shares\":512,\"quota\":20000,\"period\":50000,\"realtimeRuntime\":900,"
	"\"realtimePeriod\":1000,\"cpus\":\"0\",\"mems\":\"0\",\"idle\":1},"
	"\"pids\":{\"limit\":33},"
	"\"blockIO\":{\"weight\":300,\"leafWeight\":200,\"weightDevice\":[{\"major\":8,"
	"\"minor\":0,\"weight\":400,\"leafWeight\":100}],\"throttleReadBpsDevice\":[{\"major\":8,"
	"\"minor\":0,\"rate\":1048576}],\"throttleWriteBpsDevice\":[{\"major\":8,\"minor\":0,"
	"\"rate\":2097152}],\"throttleReadIOPSDevice\":[{\"major\":8,\"minor\":16,\"rate\":100}],"
	"\"throttleWriteIOPSDevice\":[{\"major\":8,\"minor\":16,\"rate\":200}]},"
	"\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":4194304},{\"pageSize\":\"1GB\","
	"\"limit\":0}],"
	"\"network\":{\"classID\":1048577,\"priorities\":[{\"name\":\"eth0\",\"priority\":5},"
	"{\"name\":\"lo\",\"priority\":2}]},"
	"\"rdma\":{\"mlx5_1\":{\"hcaHandles\":3,\"hcaObjects\":10000},\"mlx4_0\":{\"hcaObjects\":"
	"7}}}";

static void
test_v1_full(void)
{
	struct cgroup *cg = fake(&cgroup_v1_ops, v1_layout);
	char *msg;

	/* the kernel's "unlimited", so memsw goes first when it grows */
	put(cg->hiers[0].dir, "memory.limit_in_bytes", "9223372036854771712\n");
	msg = apply(cg, full_json);
	is_str(msg, "", "v1: every resource applied");
	is_str(wlog,
	       "cpuset.cpus=0\ncpuset.mems=0\n"
	       "memory.limit_in_bytes=1000000\nmemory.memsw.limit_in_bytes=2000000\n"
	       "memory.soft_limit_in_bytes=500000\nmemory.oom_control=1\n"
	       "memory.swappiness=10\n"
	       "cpu.shares=512\ncpu.cfs_period_us=50000\ncpu.cfs_quota_us=20000\n"
	       "cpu.rt_period_us=1000\ncpu.rt_runtime_us=900\ncpu.idle=1\n"
	       "pids.max=33\n"
	       "blkio.bfq.weight=300\nblkio.leaf_weight=200\nblkio.bfq.weight_device=8:0 400\n"
	       "blkio.leaf_weight_device=8:0 100\nblkio.throttle.read_bps_device=8:0 1048576\n"
	       "blkio.throttle.write_bps_device=8:0 2097152\n"
	       "blkio.throttle.read_iops_device=8:16 100\n"
	       "blkio.throttle.write_iops_device=8:16 200\n"
	       "hugetlb.2MB.limit_in_bytes=4194304\nhugetlb.1GB.limit_in_bytes=0\n"
	       "net_cls.classid=1048577\nnet_prio.ifpriomap=eth0 5\nnet_prio.ifpriomap=lo 2\n"
	       "rdma.max=mlx5_1 hca_handle=3 hca_object=10000\nrdma.max=mlx4_0 hca_object=7\n",
	       "v1: files, values and order (memsw raised before the limit)");
	free(msg);
	/* Shrinking below the current limit: the limit goes first. */
	msg = apply(cg, "{\"memory\":{\"limit\":100,\"swap\":200}}");
	is_str(wlog, "memory.limit_in_bytes=100\nmemory.memsw.limit_in_bytes=200\n",
	       "v1: lowering memory writes the limit before memsw");
	free(msg);
	msg = apply(cg, "{\"memory\":{\"limit\":-1}}");
	is_str(wlog, "memory.memsw.limit_in_bytes=-1\nmemory.limit_in_bytes=-1\n",
	       "v1: unlimited memory makes swap unlimited too");
	free(msg);
	msg = apply(cg, "{\"memory\":{\"limit\":0,\"swap\":0},\"cpu\":{\"shares\":0},"
			"\"pids\":{\"limit\":0},\"blockIO\":{\"weight\":0}}");
	is_str(wlog, "", "v1: zero values are not written");
	free(msg);
	msg = apply(cg, "{\"pids\":{\"limit\":-1}}");
	is_str(wlog, "pids.max=max\n", "v1: a negative pids limit is max");
	free(msg);
	msg = apply(cg, "{\"unified\":{\"memory.high\":\"1\"}}");
	is_str(msg, "unified: cannot use unified on cgroup v1", "v1: unified refused");
	free(msg);
	cgroup_free(cg);
}

static void
test_v1_missing(void)
{
	static const char *const layout[] = { "memory", "memory.limit_in_bytes", NULL, NULL };
	struct cgroup *cg = fake(&cgroup_v1_ops, layout);
	_cleanup_free_ char *m1 = apply(cg, "{\"hugepageLimits\":[{\"pageSize\":\"2MB\","
					    "\"limit\":1}]}");
	_cleanup_free_ char *m2 = apply(cg, "{\"network\":{\"classID\":0}}");
	_cleanup_free_ char *m3 = apply(cg, "{\"memory\":{\"swappiness\":101}}");

	is_str(m1, "cannot set hugetlb limit: no hugetlb cgroup hierarchy is mounted",
	       "v1: a limit for an unmounted controller is an error (runc)");
	is_str(m2, "", "v1: ... but not a zero one");
	is_str(m3, "parse error", "swappiness above 100 rejected");
	cgroup_free(cg);
}

static const char *const v2_layout[] = {
	"",
	"pids.max",
	"memory.swap.max",
	"memory.max",
	"memory.low",
	"memory.high",
	"io.weight",
	"io.max",
	"cpu.weight",
	"cpu.max",
	"cpu.idle",
	"cpuset.cpus",
	"cpuset.mems",
	"hugetlb.2MB.max",
	"hugetlb.1GB.max",
	"rdma.max",
	NULL,
	NULL,
};

static void
test_v2_full(void)
{
	struct cgroup *cg = fake(&cgroup_v2_ops, v2_layout);
	_cleanup_free_ char *json = NULL;
	char *msg;

	put(cg->hiers[0].dir, "cgroup.controllers", "cpu io memory pids hugetlb rdma\n");
	json = xasprintf("%.*s,\"unified\":{\"memory.high\":\"900000\"}}",
			 (int)strlen(full_json) - 1, full_json);
	msg = apply(cg, json);
	is_str(msg, "", "v2: every resource applied");
	is_str(wlog,
	       "pids.max=33\nmemory.swap.max=1000000\nmemory.max=1000000\nmemory.low=500000\n"
	       "io.weight=2930\nio.max=8:0 rbps=1048576\nio.max=8:0 wbps=2097152\n"
	       "io.max=8:16 riops=100\nio.max=8:16 wiops=200\n"
	       "cpu.weight=20\ncpu.max=20000 50000\ncpu.idle=1\ncpuset.cpus=0\ncpuset.mems=0\n"
	       "hugetlb.2MB.max=4194304\nhugetlb.1GB.max=0\n"
	       "rdma.max=mlx5_1 hca_handle=3 hca_object=10000\nrdma.max=mlx4_0 hca_object=7\n"
	       "memory.high=900000\n",
	       "v2: files, converted values and order (unified last)");
	free(msg);
	msg = apply(cg, "{\"memory\":{\"limit\":-1}}");
	is_str(wlog, "memory.swap.max=max\nmemory.max=max\n", "v2: -1 is max, swap follows");
	free(msg);
	msg = apply(cg, "{\"memory\":{\"limit\":1000,\"swap\":1000}}");
	is_str(wlog, "memory.swap.max=0\nmemory.max=1000\n", "v2: swap equal to limit is no swap");
	free(msg);
	msg = apply(cg, "{\"memory\":{\"swap\":1000}}");
	is_str(msg, "unable to set swap limit without memory limit", "v2: swap needs a limit");
	free(msg);
	msg = apply(cg, "{\"memory\":{\"limit\":2000,\"swap\":1000}}");
	is_str(msg, "memory+swap limit should be >= memory limit", "v2: swap below limit");
	free(msg);
	msg = apply(cg, "{\"cpu\":{\"quota\":-1}}");
	is_str(wlog, "cpu.max=max\n", "v2: a quota alone keeps the period (no quota: max)");
	free(msg);
	put(cg->hiers[0].dir, "cpu.max", "30000 100000\n");
	msg = apply(cg, "{\"cpu\":{\"period\":200000}}");
	is_str(wlog, "cpu.max=30000 200000\n", "v2: a period alone keeps the quota");
	free(msg);
	msg = apply(cg, "{\"cpu\":{\"shares\":2}}");
	is_str(wlog, "cpu.weight=1\n", "v2: shares 2 -> weight 1");
	free(msg);
	msg = apply(cg, "{\"cpu\":{\"shares\":262144}}");
	is_str(wlog, "cpu.weight=10000\n", "v2: shares 262144 -> weight 10000");
	free(msg);
	msg = apply(cg, "{\"unified\":{\"../x\":\"1\"}}");
	is_str(msg, "unified resource \"../x\" must be a file name (no slashes)",
	       "v2: unified keys are file names");
	free(msg);
	msg = apply(cg, "{\"unified\":{\"misc.max\":\"1\"}}");
	is_str(msg, "unified resource \"misc.max\" can't be set: controller \"misc\" not available",
	       "v2: unified key of a controller not available");
	free(msg);
	msg = apply(cg, "{\"unified\":{\"memory.nope\":\"1\"}}");
	ok(strncmp(msg, "unable to set unified resource \"memory.nope\": open ", 51) == 0,
	   "v2: unified key of an available controller: the write's error (%s)", msg);
	free(msg);
	cgroup_free(cg);
}

static void
test_v2_bfq(void)
{
	static const char *const layout[] = { "", "io.bfq.weight", "io.weight", NULL, NULL };
	struct cgroup *cg = fake(&cgroup_v2_ops, layout);
	char *msg;

	put(cg->hiers[0].dir, "io.bfq.weight", "default 100\n");
	msg = apply(cg, "{\"blockIO\":{\"weight\":300,\"weightDevice\":[{\"major\":8,"
			"\"minor\":0,\"weight\":50}]}}");
	is_str(wlog, "io.bfq.weight=300\nio.bfq.weight=8:0 50\n",
	       "v2: BFQ takes the v1 weight and per-device weights as is");
	free(msg);
	cgroup_free(cg);
}

static void
test_device_rules(void)
{
	static const char cfg[] =
		"{\"linux\":{\"devices\":[{\"path\":\"/dev/null\",\"type\":\"c\",\"major\":1,"
		"\"minor\":3}],\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"},"
		"{\"allow\":true,\"type\":\"b\",\"major\":8,\"access\":\"rw\"}]}}}";
	static const char *const layout[] = { "devices", "devices.allow", "devices.deny", NULL,
					      NULL };
	struct minirt_spec *s = NULL;
	struct spec_dev_rule *rules = NULL;
	struct mini_err *err = NULL;
	struct cgroup *cg = fake(&cgroup_v1_ops, layout);
	size_t n = 0;

	if (spec_parse(cfg, "config.json", &s, &err) < 0) {
		ok(0, "parse: %s", err->msg);
		return;
	}
	cgroup_device_rules(s, &rules, &n);
	is_int(n, 12,
	       "2 rules of the config + 10 defaults (/dev/null's replaced by linux.devices)");
	wlog[0] = '\0';
	ok(cg->ops->set_devices(cg, rules, n, &err) == 0, "v1 set_devices");
	is_str(wlog,
	       "devices.deny=a\ndevices.deny=a *:* rwm\ndevices.allow=b 8:* rw\n"
	       "devices.allow=c *:* m\ndevices.allow=b *:* m\ndevices.allow=c 1:8 rwm\n"
	       "devices.allow=c 1:7 rwm\ndevices.allow=c 5:0 rwm\ndevices.allow=c 1:5 rwm\n"
	       "devices.allow=c 1:9 rwm\ndevices.allow=c 136:* rwm\ndevices.allow=c 5:2 rwm\n"
	       "devices.allow=c 10:200 rwm\n",
	       "v1: deny all, then the rules in order");
	free(rules);
	spec_free(s);
	cgroup_free(cg);
}

/* runc's --memory style sizes (docker/go-units RAMInBytes), which `update` turns into bytes. */
static void
test_ram_sizes(void)
{
	static const struct {
		const char *in;
		int64_t want;
	} ok_cases[] = {
		{ "512", 512 },	       { "64m", 64 << 20 },   { "64M", 64 << 20 },
		{ "1.5g", 3LL << 29 }, { "2GiB", 2LL << 30 }, { "10 kb", 10240 },
		{ "-1", -1 },	       { "1t", 1LL << 40 },
	};
	static const char *const bad[] = { "", "m", "-2", "1x", "1mm", "abc" };
	size_t i;

	for (i = 0; i < sizeof(ok_cases) / sizeof(ok_cases[0]); i++) {
		int64_t v = 0;
		struct mini_err *err = NULL;

		ok(cli_parse_ram(ok_cases[i].in, &v, &err) == 0 && v == ok_cases[i].want,
		   "size \"%s\" = %lld (got %lld)", ok_cases[i].in, (long long)ok_cases[i].want,
		   (long long)v);
		mini_err_free(err);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t v = 0;
		struct mini_err *err = NULL;

		ok(cli_parse_ram(bad[i], &v, &err) < 0, "size \"%s\" refused", bad[i]);
		mini_err_free(err);
	}
}

int
main(void)
{
	if (mkdtemp(tmp) == NULL) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	test_v1_full();
	test_v1_missing();
	test_v2_full();
	test_v2_bfq();
	test_device_rules();
	test_ram_sizes();
	{
		_cleanup_free_ char *cmd = xasprintf("rm -rf %s", tmp);

		if (system(cmd) != 0)
			printf("# could not remove %s\n", tmp);
	}
	return tap_done();
}
