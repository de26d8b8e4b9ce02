/* The documents minirun prints without a container: the default config.json of `spec` (the same
 * container `runc spec` describes) and the `features` JSON. */
#include "caps.h"
#include "cleanup.h"
#include "json.h"
#include "minirt.h"
#include "mount_opts.h"
#include "seccomp.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
gen_strs(yajl_gen g, const char *key, const char *const *v)
{
	json_gen_str(g, key);
	yajl_gen_array_open(g);
	for (; *v; v++)
		json_gen_str(g, *v);
	yajl_gen_array_close(g);
}

static void
gen_mount(yajl_gen g, const char *dest, const char *type, const char *src, const char *const *opts)
{
	yajl_gen_map_open(g);
	json_gen_kv_str(g, "destination", dest);
	json_gen_kv_str(g, "type", type);
	json_gen_kv_str(g, "source", src);
	if (opts)
		gen_strs(g, "options", opts);
	yajl_gen_map_close(g);
}

static void
gen_process(yajl_gen g)
{
	static const char *const args[] = { "sh", NULL };
	static const char *const env[] = {
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm",
		NULL
	};
	static const char *const caps[] = { "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE",
					    NULL };
	static const char *const sets[] = { "bounding", "effective", "permitted", "ambient", NULL };
	size_t i;

	json_gen_str(g, "process");
	yajl_gen_map_open(g);
	json_gen_kv_bool(g, "terminal", true);
	json_gen_str(g, "user");
	yajl_gen_map_open(g);
	json_gen_kv_int(g, "uid", 0);
	json_gen_kv_int(g, "gid", 0);
	yajl_gen_map_close(g);
	gen_strs(g, "args", args);
	gen_strs(g, "env", env);
	json_gen_kv_str(g, "cwd", "/");
	json_gen_str(g, "capabilities");
	yajl_gen_map_open(g);
	for (i = 0; sets[i]; i++)
		gen_strs(g, sets[i], caps);
	yajl_gen_map_close(g);
	json_gen_str(g, "rlimits");
	yajl_gen_array_open(g);
	yajl_gen_map_open(g);
	json_gen_kv_str(g, "type", "RLIMIT_NOFILE");
	json_gen_kv_int(g, "hard", 1024);
	json_gen_kv_int(g, "soft", 1024);
	yajl_gen_map_close(g);
	yajl_gen_array_close(g);
	json_gen_kv_bool(g, "noNewPrivileges", true);
	yajl_gen_map_close(g);
}

static void
gen_mounts(yajl_gen g, bool rootless)
{
	static const char *const dev[] = { "nosuid", "strictatime", "mode=755", "size=65536k",
					   NULL };
	static const char *const pts[] = { "nosuid",	"noexec", "newinstance", "ptmxmode=0666",
					   "mode=0620", "gid=5",  NULL };
	static const char *const pts_rootless[] = { "nosuid",	     "noexec",	  "newinstance",
						    "ptmxmode=0666", "mode=0620", NULL };
	static const char *const shm[] = { "nosuid",	"noexec",      "nodev",
					   "mode=1777", "size=65536k", NULL };
	static const char *const mq[] = { "nosuid", "noexec", "nodev", NULL };
	static const char *const sys[] = { "nosuid", "noexec", "nodev", "ro", NULL };
	static const char *const sys_rootless[] = {
		"rbind", "nosuid", "noexec", "nodev", "ro", NULL
	};
	static const char *const cg[] = { "nosuid", "noexec", "nodev", "relatime", "ro", NULL };

	json_gen_str(g, "mounts");
	yajl_gen_array_open(g);
	gen_mount(g, "/proc", "proc", "proc", NULL);
	gen_mount(g, "/dev", "tmpfs", "tmpfs", dev);
	gen_mount(g, "/dev/pts", "devpts", "devpts", rootless ? pts_rootless : pts);
	gen_mount(g, "/dev/shm", "tmpfs", "shm", shm);
	gen_mount(g, "/dev/mqueue", "mqueue", "mqueue", mq);
	if (rootless) {
		gen_mount(g, "/sys", "none", "/sys", sys_rootless);
	} else {
		gen_mount(g, "/sys", "sysfs", "sysfs", sys);
		gen_mount(g, "/sys/fs/cgroup", "cgroup", "cgroup", cg);
	}
	yajl_gen_array_close(g);
}

static void
gen_idmap(yajl_gen g, const char *key, unsigned id)
{
	json_gen_str(g, key);
	yajl_gen_array_open(g);
	yajl_gen_map_open(g);
	json_gen_kv_int(g, "containerID", 0);
	json_gen_kv_int(g, "hostID", id);
	json_gen_kv_int(g, "size", 1);
	yajl_gen_map_close(g);
	yajl_gen_array_close(g);
}

static void
gen_linux(yajl_gen g, bool rootless)
{
	static const char *const masked[] = { "/proc/acpi",
					      "/proc/asound",
					      "/proc/kcore",
					      "/proc/keys",
					      "/proc/latency_stats",
					      "/proc/timer_list",
					      "/proc/timer_stats",
					      "/proc/sched_debug",
					      "/sys/firmware",
					      "/proc/scsi",
					      NULL };
	static const char *const ro[] = { "/proc/bus",		 "/proc/fs",
					  "/proc/irq",		 "/proc/sys",
					  "/proc/sysrq-trigger", NULL };
	static const char *const ns[] = { "pid", "network", "ipc", "uts", "mount", NULL };
	static const char *const ns_rootless[] = { "pid", "ipc", "uts", "mount", "user", NULL };
	const char *const *n;

	json_gen_str(g, "linux");
	yajl_gen_map_open(g);
	if (rootless) {
		gen_idmap(g, "uidMappings", (unsigned)getuid());
		gen_idmap(g, "gidMappings", (unsigned)getgid());
	} else {
		json_gen_str(g, "resources");
		yajl_gen_map_open(g);
		json_gen_str(g, "devices");
		yajl_gen_array_open(g);
		yajl_gen_map_open(g);
		json_gen_kv_bool(g, "allow", false);
		json_gen_kv_str(g, "access", "rwm");
		yajl_gen_map_close(g);
		yajl_gen_array_close(g);
		yajl_gen_map_close(g);
	}
	json_gen_str(g, "namespaces");
	yajl_gen_array_open(g);
	for (n = rootless ? ns_rootless : ns; *n; n++) {
		yajl_gen_map_open(g);
		json_gen_kv_str(g, "type", *n);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	gen_strs(g, "maskedPaths", masked);
	gen_strs(g, "readonlyPaths", ro);
	yajl_gen_map_close(g);
}

char *
minirt_default_spec(bool rootless)
{
	_cleanup_(yajl_gen_freep) yajl_gen g = json_gen_new(true);

	yajl_gen_map_open(g);
	json_gen_kv_str(g, "ociVersion", MINIRT_OCI_VERSION);
	gen_process(g);
	json_gen_str(g, "root");
	yajl_gen_map_open(g);
	json_gen_kv_str(g, "path", "rootfs");
	json_gen_kv_bool(g, "readonly", true);
	yajl_gen_map_close(g);
	json_gen_kv_str(g, "hostname", "minirun");
	gen_mounts(g, rootless);
	gen_linux(g, rootless);
	yajl_gen_map_close(g);
	return json_gen_take(g, NULL);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *
minirt_features(void)
{
	_cleanup_(yajl_gen_freep) yajl_gen g = json_gen_new(true);
	static const char *const hooks[] = { "prestart",
					     "createRuntime",
					     "createContainer",
					     "startContainer",
					     "poststart",
					     "poststop",
					     NULL };
	static const char *const ns[] = { "cgroup", "ipc",  "mount", "network", "pid",
					  "time",   "user", "uts",   NULL };
	const char *const *known = mount_opts_known();
	_cleanup_free_ const char **opts = NULL;
	size_t n = 0;
	int i;

	while (known[n])
		n++;
	opts = xcalloc(n + 1, sizeof(char *));
	memcpy(opts, known, n * sizeof(char *));
	qsort(opts, n, sizeof(char *), cmp_str);
	yajl_gen_config(g, yajl_gen_indent_string, "    ");
	yajl_gen_map_open(g);
	json_gen_kv_str(g, "ociVersionMin", "1.0.0");
	json_gen_kv_str(g, "ociVersionMax", MINIRT_OCI_VERSION);
	gen_strs(g, "hooks", hooks);
	gen_strs(g, "mountOptions", opts);
	json_gen_str(g, "linux");
	yajl_gen_map_open(g);
	gen_strs(g, "namespaces", ns);
	json_gen_str(g, "cgroup");
	yajl_gen_map_open(g);
	json_gen_kv_bool(g, "v1", true);
	json_gen_kv_bool(g, "v2", true);
	json_gen_kv_bool(g, "systemd", false);
	json_gen_kv_bool(g, "systemdUser", false);
	json_gen_kv_bool(g, "rdma", true);
	yajl_gen_map_close(g);
	json_gen_str(g, "capabilities");
	yajl_gen_array_open(g);
	for (i = 0; i <= MINIRT_CAP_MAX; i++)
		json_gen_str(g, minirt_cap_name(i));
	yajl_gen_array_close(g);
	json_gen_str(g, "seccomp");
	yajl_gen_map_open(g);
	json_gen_kv_bool(g, "enabled", true);
	gen_strs(g, "actions", minirt_seccomp_known_actions());
	gen_strs(g, "operators", minirt_seccomp_known_operators());
	gen_strs(g, "archs", minirt_seccomp_known_archs());
	gen_strs(g, "knownFlags", minirt_seccomp_known_flags());
	yajl_gen_map_close(g);
	/* Id-mapped bind mounts (mounts[].uidMappings, idmap/ridmap), as runc 1.2 reports. */
	json_gen_str(g, "mountExtensions");
	yajl_gen_map_open(g);
	json_gen_str(g, "idmap");
	yajl_gen_map_open(g);
	json_gen_kv_bool(g, "enabled", true);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	json_gen_str(g, "apparmor");
	yajl_gen_map_open(g);
	json_gen_kv_bool(g, "enabled", false);
	yajl_gen_map_close(g);
	json_gen_str(g, "selinux");
	yajl_gen_map_open(g);
	json_gen_kv_bool(g, "enabled", false);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	json_gen_str(g, "annotations");
	yajl_gen_map_open(g);
	json_gen_kv_str(g, "io.github.mini.minirun.version", "0.1.0");
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	return json_gen_take(g, NULL);
}
