/* Pure helpers of the shim: mount options (containerd's table), overlay lowerdir compaction,
 * the socket name, cgroup paths, runtime options decoding, runtime log errors, SHA-256. */
#include "cgroup.h"
#include "mount.h"
#include "options.h"
#include "runtime_client.h"
#include "sha256.h"
#include "shim.h"
#include "tap.h"

#include "containerd/linux/runctypes.pb-c.h"
#include "containerd/runc/options.pb-c.h"
#include "containerd/runtimeoptions/v1/api.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

static void
test_mount_options(void)
{
	char *opts[] = { "ro",	     "nosuid",	  "nodev",	    "rbind",
			 "rprivate", "index=off", "lowerdir=/a:/b", "loop" };
	char *opts2[] = { "rw", "suid", "bind", "defaults" };
	unsigned long flags, prop;
	char *data;
	bool loop;

	mount_parse_options(opts, 8, &flags, &prop, &data, &loop);
	ok(flags == (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_BIND | MS_REC), "flags set");
	ok(prop == (MS_PRIVATE | MS_REC), "propagation apart");
	is_str(data, "index=off,lowerdir=/a:/b", "the rest is data");
	ok(loop, "loop noticed");
	free(data);
	mount_parse_options(opts2, 4, &flags, &prop, &data, &loop);
	ok(flags == MS_BIND, "rw and suid clear, bind sets");
	is_str(data, "", "no data");
	ok(!loop && prop == 0, "no loop, no propagation");
	free(data);
}

static void
test_compact(void)
{
	char *opts[] = { "workdir=/s/snapshots/9/work", "upperdir=/s/snapshots/9/fs",
			 "lowerdir=/s/snapshots/12/fs:/s/snapshots/1/fs" };
	char *single[] = { "lowerdir=/s/snapshots/1/fs" };
	char **out = NULL;
	size_t n = 0;
	char *dir = mount_compact_lowerdir(opts, 3, &out, &n);

	is_str(dir, "/s/snapshots/", "common parent of the lowerdirs");
	is_int(n, 3, "as many options");
	is_str(out ? out[2] : NULL, "lowerdir=12/fs:1/fs", "lowerdirs relative, moved last");
	is_str(out ? out[0] : NULL, "workdir=/s/snapshots/9/work", "others kept");
	free(dir);
	mount_strv_free(out);
	ok(mount_compact_lowerdir(single, 1, &out, &n) == NULL, "one lowerdir: nothing to do");
}

static void
test_socket_path(void)
{
	char *p = shim_socket_path("/run/containerd/containerd.sock", "default", "t3");
	char *q = shim_socket_path("/run/containerd//containerd.sock/", "default", "t3");
	char hex[65];

	/* Observed on a machine running the runc shim for task t3. */
	is_str(p,
	       "/run/containerd/s/"
	       "45b4648487ff0887c38beb6a888a15cab39fe0ce8bd013e42b85fe557f9242ca",
	       "socket name of containerd's convention");
	is_str(q, p, "the joined path is cleaned first");
	free(p);
	free(q);
	sha256_hex("abc", 3, hex);
	is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256");
	sha256_hex("", 0, hex);
	is_str(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	       "sha256 of nothing");
}

static void
test_cgroup_parse(void)
{
	struct cgroup *v1 = shim_cgroup_parse("12:pids:/default/c1\n"
					      "4:cpu,cpuacct:/default/c1\n"
					      "1:name=systemd:/default/c1\n"
					      "0::/\n",
					      "/sys/fs/cgroup", false);
	struct cgroup *v2 = shim_cgroup_parse("0::/default/c1\n", "/sys/fs/cgroup", true);

	ok(!shim_cgroup_is_v2(v1), "v1 host");
	is_str(shim_cgroup_dir(v1, "pids"), "/sys/fs/cgroup/pids/default/c1", "pids dir");
	is_str(shim_cgroup_dir(v1, "cpuacct"), "/sys/fs/cgroup/cpuacct/default/c1",
	       "joined controllers");
	is_str(shim_cgroup_dir(v1, "systemd"), "/sys/fs/cgroup/systemd/default/c1",
	       "named hierarchy");
	ok(shim_cgroup_dir(v1, "memory") == NULL, "missing controller");
	ok(shim_cgroup_is_v2(v2), "v2 host");
	is_str(shim_cgroup_dir(v2, "memory"), "/sys/fs/cgroup/default/c1", "v2: one directory");
	shim_cgroup_free(v1);
	shim_cgroup_free(v2);
}

static void
test_options(void)
{
	Containerd__Runc__V1__Options ro = CONTAINERD__RUNC__V1__OPTIONS__INIT;
	Containerd__Linux__Runc__CreateOptions co = CONTAINERD__LINUX__RUNC__CREATE_OPTIONS__INIT;
	struct shim_opts o;
	uint8_t buf[256];
	size_t n;

	ro.binary_name = "crun";
	ro.root = "/run/x";
	ro.no_pivot_root = 1;
	ro.io_uid = 1000;
	n = protobuf_c_message_pack(&ro.base, buf);
	ok(shim_opts_decode("containerd.runc.v1.Options", buf, n, &o, NULL) == 0, "runc options");
	is_str(o.binary_name, "crun", "binary name");
	is_str(o.root, "/run/x", "root");
	ok(o.no_pivot_root && o.io_uid == 1000, "flags and uid");
	shim_opts_clear(&o);
	ok(shim_opts_decode("type.googleapis.com/containerd.runc.v1.Options", buf, n, &o, NULL) ==
			   0 &&
		   o.binary_name,
	   "prefixed type URL");
	shim_opts_clear(&o);

	co.no_new_keyring = 1;
	co.shim_cgroup = "/shim";
	co.io_gid = 7;
	n = protobuf_c_message_pack(&co.base, buf);
	ok(shim_opts_decode("containerd.linux.runc.CreateOptions", buf, n, &o, NULL) == 0,
	   "linux create options (what ctr sends for other runtimes)");
	ok(o.no_new_keyring && o.io_gid == 7 && o.binary_name == NULL, "decoded");
	is_str(o.shim_cgroup, "/shim", "shim cgroup");
	shim_opts_clear(&o);
	ok(shim_opts_decode("", NULL, 0, &o, NULL) == 0 && o.binary_name == NULL, "no options");
	ok(shim_opts_decode("some.Other", buf, n, &o, NULL) == 0, "unknown type ignored");
	ok(shim_opts_decode("containerd.runc.v1.Options", (const uint8_t *)"\xff\xff", 2, &o,
			    NULL) < 0,
	   "garbage refused");
}

static void
test_log_error(void)
{
	char path[] = "/tmp/test-shim-log-XXXXXX";
	int fd = mkstemp(path), errnum = -1;
	const char *old = "{\"level\":\"error\",\"msg\":\"old failure\",\"time\":\"t\"}\n";
	const char *new = "{\"level\":\"info\",\"msg\":\"x\"}\n"
			  "{\"level\":\"error\",\"msg\":\"mount proc: denied\",\"errno\":13}\n"
			  "not json\n";
	char *msg;

	if (write(fd, old, strlen(old)) < 0 || write(fd, new, strlen(new)) < 0)
		return;
	close(fd);
	msg = rt_last_log_error(path, (long)strlen(old), &errnum);
	is_str(msg, "mount proc: denied", "the call's own error line");
	is_int(errnum, 13, "errno member");
	free(msg);
	msg = rt_last_log_error(path, (long)(strlen(old) + strlen(new)), &errnum);
	ok(msg == NULL, "nothing after the offset");
	unlink(path);
}

/* Writes text to a temporary file; returns its path (static buffer). */
static const char *
temp_file(const char *text)
{
	static char path[] = "/tmp/mini-opts-XXXXXX";
	int fd;

	strcpy(path, "/tmp/mini-opts-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return "/nonexistent";
	close(fd);
	return path;
}

/* The file of runtimeoptions.v1.Options: the TOML a CRI runtime's options table holds. */
static void
test_options_file(void)
{
	struct shim_opts o = { 0 };
	struct mini_err *err = NULL;
	const char *p;
	uint8_t buf[256];
	Runtimeoptions__V1__Options ro = RUNTIMEOPTIONS__V1__OPTIONS__INIT;

	p = temp_file("# mini\r\n[plugins.\"io.containerd.grpc.v1.cri\".options]\r\n"
		      "BinaryName = \"/usr/bin/runc\"   # a comment\r\n"
		      "'Root' = '/run/x'\r\nSystemdCgroup = false\r\nNoPivotRoot = true\r\n"
		      "IoUid = 1000\r\nIoGid=1001\r\nShimCgroup = \"\"\r\nSomethingNew = 3\r\n");
	ok(shim_opts_read_file(p, &o, &err) == 0, "a TOML options file is read");
	ok(o.binary_name && strcmp(o.binary_name, "/usr/bin/runc") == 0,
	   "BinaryName (basic string)");
	ok(o.root && strcmp(o.root, "/run/x") == 0, "Root (quoted key, literal string)");
	ok(o.no_pivot_root && !o.systemd_cgroup, "booleans");
	ok(o.io_uid == 1000 && o.io_gid == 1001, "integers, with and without spaces");
	ok(o.shim_cgroup == NULL, "an empty string is no value");
	unlink(p);
	shim_opts_clear(&o);

	ro.config_path = (char *)temp_file("BinaryName = \"crun\"\n");
	ro.type_url = "runtimeoptions.v1.Options";
	runtimeoptions__v1__options__pack(&ro, buf);
	ok(shim_opts_decode("runtimeoptions.v1.Options", buf,
			    runtimeoptions__v1__options__get_packed_size(&ro), &o, &err) == 0 &&
		   o.binary_name && strcmp(o.binary_name, "crun") == 0,
	   "runtimeoptions.v1.Options: the options come from config_path");
	unlink(ro.config_path);
	shim_opts_clear(&o);

	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "NoPivotRoot = yes\n", ":1: NoPivotRoot must be true or false" },
		{ "\nBinaryName = \"runc\n", ":2: unterminated string" },
		{ "IoUid = 4294967296\n", ":1: IoUid must be an integer" },
		{ "IoUid = -1\n", ":1: IoUid must be an integer" },
		{ "Root = /run/x\n", ":1: Root must be a string" },
		{ "Root = \"a\" \"b\"\n", ":1: unexpected text after the value of Root" },
		{ "just words\n", ":1: expected key = value" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		bool good;

		p = temp_file(bad[i].text);
		err = NULL;
		good = shim_opts_read_file(p, &o, &err) < 0 && err &&
		       strstr(err->msg, bad[i].want) && strstr(err->msg, p);
		ok(good, "bad options file names file:line and the problem: %s", bad[i].want);
		if (!good && err)
			printf("#   got: %s\n", err->msg);
		mini_err_free(err);
		shim_opts_clear(&o);
		unlink(p);
	}
	err = NULL;
	ok(shim_opts_read_file("/nonexistent/opts.toml", &o, &err) < 0 && err &&
		   strstr(err->msg, "/nonexistent/opts.toml"),
	   "a missing file is an error naming it");
	mini_err_free(err);
}

int
main(void)
{
	test_mount_options();
	test_compact();
	test_socket_path();
	test_cgroup_parse();
	test_options();
	test_options_file();
	test_log_error();
	return tap_done();
}
