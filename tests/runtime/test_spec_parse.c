/* Unit tests of libminirt's pure parts: config.json parsing (types, paths in errors, unknown keys),
 * mount options, in-root path resolution, and the state JSON. No root needed. */
#include "cleanup.h"
#include "json.h"
#include "mount_opts.h"
#include "paths.h"
#include "spec.h"
#include "state.h"
#include "tap.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static const char full[] =
	"{\"ociVersion\":\"1.1.0\",\"hostname\":\"h\",\"unknownTop\":{\"x\":[1,2]},"
	"\"process\":{\"terminal\":true,\"consoleSize\":{\"height\":24,\"width\":80},"
	"\"user\":{\"uid\":1,\"gid\":2,\"umask\":18,\"additionalGids\":[5,6]},"
	"\"args\":[\"sh\",\"-c\",\"x\"],\"env\":[\"A=1\"],\"cwd\":\"/w\","
	"\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":10,\"hard\":18446744073709551615}],"
	"\"noNewPrivileges\":true,\"oomScoreAdj\":-5,\"futureKey\":null},"
	"\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
	"\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
	"{\"destination\":\"/b\",\"source\":\"/x\",\"options\":[\"rbind\",\"ro\"]}],"
	"\"hooks\":{\"prestart\":[{\"path\":\"/bin/h\",\"args\":[\"h\",\"1\"],\"timeout\":5}]},"
	"\"annotations\":{\"k\":\"v\"},"
	"\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\",\"path\":\"/n\"}],"
	"\"cgroupsPath\":\"/default/x\",\"resources\":{\"memory\":{\"limit\":1048576},"
	"\"pids\":{\"limit\":9}},\"devices\":[{\"path\":\"/dev/f\",\"type\":\"c\",\"major\":1,"
	"\"minor\":2,\"fileMode\":384}],\"sysctl\":{\"net.a\":\"1\"},"
	"\"maskedPaths\":[\"/m\"],\"readonlyPaths\":[\"/r\"],\"rootfsPropagation\":\"rslave\"}}";

static void
test_full(void)
{
	_cleanup_(spec_freep) struct minirt_spec *s = NULL;
	_cleanup_err_ struct mini_err *err = NULL;
	const struct spec_process *p;

	is_int(spec_parse(full, "config.json", &s, &err), 0, "full config parses");
	if (s == NULL) {
		printf("# %s\n", err ? err->msg : "?");
		return;
	}
	p = s->process;
	ok(p->terminal && p->console_size_present && p->console_height == 24, "terminal, size");
	is_int(p->user.uid, 1, "uid");
	is_int(p->user.additional_gids_len, 2, "additionalGids");
	ok(p->user.umask_present && p->user.umask == 18, "umask");
	is_int(p->args_len, 3, "args");
	is_str(p->args[2], "x", "args[2]");
	is_str(p->cwd, "/w", "cwd");
	is_int(p->rlimits[0].resource, RLIMIT_NOFILE, "rlimit type");
	ok(p->rlimits[0].hard == UINT64_MAX, "rlimit hard above INT64_MAX");
	ok(p->oom_score_adj_present && p->oom_score_adj == -5, "oomScoreAdj");
	ok(s->root_readonly, "root.readonly");
	is_int(s->mounts_len, 2, "mounts");
	ok(s->mounts[1].type == NULL, "mount without type");
	is_int(s->hooks_len[SPEC_HOOK_PRESTART], 1, "prestart hook");
	is_int(s->hooks[SPEC_HOOK_PRESTART][0].timeout, 5, "hook timeout");
	is_str(spec_annotation(s, "k"), "v", "annotation");
	ok(spec_find_ns(s, SPEC_NS_PID) && spec_find_ns(s, SPEC_NS_PID)->path == NULL,
	   "new pid ns");
	is_str(spec_find_ns(s, SPEC_NS_NET)->path, "/n", "net ns path");
	ok(spec_find_ns(s, SPEC_NS_MNT) == NULL, "no mount ns");
	ok(s->linux_cfg->resources->memory_limit_present &&
		   s->linux_cfg->resources->memory_limit == 1048576,
	   "memory limit");
	is_int(s->linux_cfg->resources->pids_limit, 9, "pids limit");
	is_int(s->linux_cfg->devices[0].file_mode, 0600, "device mode");
	is_str(s->linux_cfg->sysctl[0].key, "net.a", "sysctl");
}

struct bad_case {
	const char *json;
	const char *msg;
};

static void
test_bad(void)
{
	static const struct bad_case cases[] = {
		{ "{\"process\":{\"args\":\"sh\"}}",
		  "config.json: process.args: expected array of strings" },
		{ "{\"process\":{\"user\":{\"uid\":-1}}}",
		  "config.json: process.user.uid: -1 out of range [0, 4294967295]" },
		{ "{\"process\":{\"rlimits\":[{\"type\":\"RLIMIT_X\"}]}}",
		  "config.json: process.rlimits[0].type: unknown rlimit \"RLIMIT_X\"" },
		{ "{\"mounts\":[{\"type\":\"proc\"}]}",
		  "config.json: mounts[0].destination: missing" },
		{ "{\"linux\":{\"namespaces\":[{\"type\":\"bogus\"}]}}",
		  "config.json: linux.namespaces[0].type: unknown namespace type \"bogus\"" },
		{ "{\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"pid\"}]}}",
		  "config.json: linux.namespaces[1].type: duplicate namespace \"pid\"" },
		{ "{\"hooks\":{\"poststop\":[{\"path\":\"rel\"}]}}",
		  "config.json: hooks.poststop[0].path: must be an absolute path" },
		{ "{\"linux\":{\"devices\":[{\"path\":\"/d\",\"type\":\"x\"}]}}",
		  "config.json: linux.devices[0].type: must be one of c, b, u, p" },
		{ "{\"linux\":{\"resources\":{\"memory\":{\"limit\":\"1g\"}}}}",
		  "config.json: linux.resources.memory.limit: expected integer" },
		{ "{\"annotations\":{\"a\":1}}", "config.json: annotations.a: expected string" },
		{ "{\"linux\":{\"rootfsPropagation\":\"weird\"}}",
		  "config.json: linux.rootfsPropagation: unsupported value \"weird\"" },
		{ "{\"linux\":{\"timeOffsets\":{\"realtime\":{\"secs\":1}}}}",
		  "config.json: linux.timeOffsets.realtime: unknown clock (want monotonic or "
		  "boottime)" },
		{ "{\"linux\":{\"timeOffsets\":{\"boottime\":{\"nanosecs\":1000000000}}}}",
		  "config.json: linux.timeOffsets.boottime.nanosecs: 1000000000 is not below 1e9" },
		{ "[1]", "config.json: (top level): expected object" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		_cleanup_(spec_freep) struct minirt_spec *s = NULL;
		_cleanup_err_ struct mini_err *err = NULL;
		int ret = spec_parse(cases[i].json, "config.json", &s, &err);

		ok(ret == -EINVAL && err && err->errnum == EINVAL, "case %zu rejected with EINVAL",
		   i);
		is_str(err ? err->msg : NULL, cases[i].msg, "case %zu message", i);
	}
}

static void
test_validate(void)
{
	_cleanup_(spec_freep) struct minirt_spec *s = NULL;
	_cleanup_err_ struct mini_err *err = NULL;

	spec_parse("{\"process\":{\"args\":[\"x\"],\"cwd\":\"rel\"},\"root\":{\"path\":\"r\"}}",
		   "config.json", &s, &err);
	ok(s && spec_validate_for_create(s, &err) == -EINVAL, "relative cwd refused for create");
	is_str(err ? err->msg : NULL, "config.json: process.cwd: must be an absolute path",
	       "message");
}

static void
test_mount_opts(void)
{
	char *opts[] = { "rbind", "ro",	     "nosuid", "rprivate", "mode=755",
			 "rro",	  "size=1m", "rw",     "noexec" };
	struct mount_opts o;

	mount_opts_parse(opts, sizeof(opts) / sizeof(opts[0]), &o);
	ok(o.flags == (MS_BIND | MS_REC | MS_NOSUID | MS_NOEXEC), "flags (rw clears ro)");
	ok(o.cleared & MS_RDONLY, "rw recorded as cleared");
	ok(o.n_prop == 1 && o.prop[0] == (MS_PRIVATE | MS_REC), "propagation");
	ok(o.attr_set == MOUNT_ATTR_RDONLY, "rro is a recursive attribute");
	is_str(o.data, "mode=755,size=1m", "data");
	mount_opts_clear(&o);
}

static void
test_paths(void)
{
	char tmpl[] = "/tmp/minirt-paths-XXXXXX";
	char *dir = mkdtemp(tmpl);
	_cleanup_free_ char *root = NULL;
	_cleanup_free_ char *outside = NULL;
	_cleanup_free_ char *inside = NULL;
	_cleanup_close_ int rootfd = -1;
	struct stat a, b;
	int fd;

	if (dir == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	root = xasprintf("%s/root", dir);
	outside = xasprintf("%s/outside", dir);
	mkdir(root, 0755);
	mkdir(outside, 0755);
	/* An absolute symlink and a ".." one, both aimed outside the root. */
	{
		_cleanup_free_ char *l1 = xasprintf("%s/abs", root);
		_cleanup_free_ char *l2 = xasprintf("%s/up", root);
		_cleanup_free_ char *t = xasprintf("%s", outside);

		symlink(t, l1);
		symlink("../../../../outside", l2);
	}
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	fd = mkdir_in_root(rootfd, "/abs/made", 0755, false, NULL);
	ok(fd >= 0, "mkdir through an absolute symlink");
	if (fd >= 0)
		close(fd);
	inside = xasprintf("%s%s/made", root, outside);
	ok(stat(inside, &a) == 0 && S_ISDIR(a.st_mode), "created inside the root");
	{
		_cleanup_free_ char *bad = xasprintf("%s/made", outside);
		ok(stat(bad, &b) < 0, "nothing created outside");
	}
	fd = mkdir_in_root(rootfd, "up/f", 0755, true, NULL);
	ok(fd >= 0, "file through a .. symlink");
	if (fd >= 0)
		close(fd);
	{
		_cleanup_free_ char *bad = xasprintf("%s/f", outside);
		_cleanup_free_ char *good = xasprintf("%s/outside/f", root);
		ok(stat(bad, &b) < 0 && stat(good, &a) == 0 && S_ISREG(a.st_mode),
		   ".. clamps at the root");
	}
	{
		_cleanup_free_ char *cmd = xasprintf("rm -rf %s", dir);
		if (system(cmd) != 0)
			printf("# cleanup of %s failed\n", dir);
	}
}

static void
test_state_json(void)
{
	struct spec_kv ann[] = { { (char *)"a", (char *)"b" } };
	struct container_state st = { .id = (char *)"c1",
				      .pid = 42,
				      .bundle = (char *)"/b",
				      .rootfs = (char *)"/b/r",
				      .created = (char *)"T",
				      .owner = (char *)"",
				      .annotations = ann,
				      .annotations_len = 1 };
	_cleanup_free_ char *hook = state_oci_json(&st, STATUS_CREATING, false, false);
	_cleanup_free_ char *stopped = state_oci_json(&st, STATUS_STOPPED, true, false);

	is_str(hook,
	       "{\"ociVersion\":\"1.1.0\",\"id\":\"c1\",\"pid\":42,\"status\":\"creating\","
	       "\"bundle\":\"/b\",\"annotations\":{\"a\":\"b\"}}",
	       "hook state");
	ok(strstr(stopped, "\"pid\":0") && strstr(stopped, "\"status\":\"stopped\"") &&
		   strstr(stopped, "\"rootfs\":\"/b/r\""),
	   "stopped state has pid 0 and the runc fields");
}

int
main(void)
{
	test_full();
	test_bad();
	test_validate();
	test_mount_opts();
	test_paths();
	test_state_json();
	return tap_done();
}
