/* Capabilities: the name table, parsing of process.capabilities with its error messages and the
 * kernel-limit warning, and (as root) applying a set in a child around a uid change. */
#include "tap.h"
#include "sec_util.h"

#include "caps.h"
#include "log.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define BIT(c) (UINT64_C(1) << (c))

static void
check_names(void)
{
	int i, round_trip = 1, prefixed = 1, unique = 1, j;

	for (i = 0; i <= MINIRT_CAP_MAX; i++) {
		const char *n = minirt_cap_name(i);

		if (n == NULL || minirt_cap_from_name(n) != i)
			round_trip = 0;
		if (n == NULL || strncmp(n, "CAP_", 4) != 0)
			prefixed = 0;
		for (j = 0; n && j < i; j++)
			if (strcmp(n, minirt_cap_name(j)) == 0)
				unique = 0;
	}
	ok(round_trip, "name → number → name for all %d capabilities", MINIRT_CAP_MAX + 1);
	ok(prefixed && unique, "names are unique and start with CAP_");
	is_int(MINIRT_CAP_MAX, CAP_LAST_CAP, "the table ends at the header's CAP_LAST_CAP");
	is_str(minirt_cap_name(0), "CAP_CHOWN", "cap 0");
	is_str(minirt_cap_name(21), "CAP_SYS_ADMIN", "cap 21");
	is_str(minirt_cap_name(40), "CAP_CHECKPOINT_RESTORE", "cap 40");
	ok(minirt_cap_name(41) == NULL && minirt_cap_name(-1) == NULL, "out of range: NULL");
	is_int(minirt_cap_from_name("CAP_BPF"), 39, "CAP_BPF is 39");
	is_int(minirt_cap_from_name("CAP_FOO"), -1, "unknown name");
	is_int(minirt_cap_from_name("cap_chown"), -1, "names are case-sensitive, as in runc");
	is_int(minirt_cap_from_name("CHOWN"), -1, "the CAP_ prefix is required");
}

static void
check_last_cap(void)
{
	_cleanup_free_ char *text = slurp("/proc/sys/kernel/cap_last_cap");

	if (text == NULL) {
		ok(1, "cap_last_cap # SKIP no /proc/sys/kernel/cap_last_cap");
		return;
	}
	is_int(minirt_caps_last_cap(), atoi(text), "last cap as /proc says");
}

static void
check_parse(void)
{
	_cleanup_(tree_freep) yajl_val v =
		parse_json("{\"bounding\": [\"CAP_CHOWN\", \"CAP_KILL\", \"CAP_SYS_ADMIN\", "
			   "\"CAP_CHECKPOINT_RESTORE\"],"
			   " \"effective\": [\"CAP_KILL\", \"CAP_KILL\"], \"inheritable\": [],"
			   " \"permitted\": [\"CAP_KILL\", \"CAP_BPF\"], \"ambient\": null,"
			   " \"unknownKey\": 1}");
	_cleanup_err_ struct mini_err *err = NULL;
	struct minirt_caps c;

	is_int(minirt_caps_parse_last(v, 40, &c, &err), 0, "parse all five sets");
	ok(c.bounding == (BIT(CAP_CHOWN) | BIT(CAP_KILL) | BIT(CAP_SYS_ADMIN) |
			  BIT(CAP_CHECKPOINT_RESTORE)),
	   "bounding mask");
	ok(c.effective == BIT(CAP_KILL), "effective mask (duplicates are harmless)");
	ok(c.inheritable == 0 && c.ambient == 0, "empty and null sets are empty");
	ok(c.permitted == (BIT(CAP_KILL) | BIT(CAP_BPF)), "permitted mask");
	is_int(c.last_cap, 40, "last_cap recorded");

	is_int(minirt_caps_parse(NULL, &c, &err), 0, "no capabilities object");
	ok(c.bounding == 0 && c.effective == 0 && c.permitted == 0 && c.inheritable == 0 &&
		   c.ambient == 0,
	   "no capabilities object: all sets empty");
	ok(c.last_cap > 0, "no capabilities object: last_cap of the running kernel");
}

/* Parsing for a kernel that stops before CAP_BPF: the newer names are dropped with one warning
 * (runc's behaviour), captured here from the logger. */
static void
check_kernel_limit(void)
{
	_cleanup_(tree_freep) yajl_val v = parse_json(
		"{\"bounding\": [\"CAP_CHOWN\", \"CAP_CHECKPOINT_RESTORE\", \"CAP_BPF\"],"
		" \"permitted\": [\"CAP_BPF\", \"CAP_PERFMON\"]}");
	_cleanup_err_ struct mini_err *err = NULL;
	_cleanup_free_ char *logged = NULL;
	_cleanup_close_ int rfd = -1;
	struct minirt_caps c;
	int p[2], ret;

	if (pipe2(p, O_CLOEXEC) < 0)
		abort();
	rfd = p[0];
	mini_log_init(p[1], MINI_LOG_TEXT, MINI_LOG_INFO);
	ret = minirt_caps_parse_last(v, 38, &c, &err);
	mini_log_init(2, MINI_LOG_TEXT, MINI_LOG_INFO);
	close(p[1]);
	logged = slurp_fd(rfd);

	is_int(ret, 0, "names above the kernel's last cap are not an error");
	ok(c.bounding == BIT(CAP_CHOWN), "bounding keeps only what the kernel knows");
	ok(c.permitted == BIT(CAP_PERFMON), "permitted keeps CAP_PERFMON (38)");
	ok(strstr(logged, "level=warning") != NULL &&
		   strstr(logged, "ignoring capabilities unknown to the running kernel "
				  "(cap_last_cap 38): CAP_BPF, CAP_CHECKPOINT_RESTORE") != NULL,
	   "one warning naming each dropped capability once");
	if (strstr(logged, "CAP_BPF, CAP_CHECKPOINT_RESTORE") == NULL)
		printf("#   logged: %s", logged);
}

struct bad_case {
	const char *json;
	const char *msg;
};

static const struct bad_case bad_cases[] = {
	{ "[]", "process.capabilities: expected an object" },
	{ "{\"bounding\": [\"CAP_CHOWN\", \"CAP_FOO\"]}",
	  "process.capabilities.bounding: unknown capability \"CAP_FOO\"" },
	{ "{\"ambient\": [\"cap_kill\"]}",
	  "process.capabilities.ambient: unknown capability \"cap_kill\"" },
	{ "{\"effective\": [\"CAP_KILL\", 3]}",
	  "process.capabilities.effective[1]: expected a string" },
	{ "{\"inheritable\": \"CAP_KILL\"}",
	  "process.capabilities.inheritable: expected an array of strings" },
	{ "{\"permitted\": {}}", "process.capabilities.permitted: expected an array of strings" },
};

static void
check_bad(void)
{
	size_t i;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		_cleanup_(tree_freep) yajl_val v = parse_json(bad_cases[i].json);
		_cleanup_err_ struct mini_err *err = NULL;
		struct minirt_caps c;
		int ret;

		ret = minirt_caps_parse_last(v, 40, &c, &err);
		ok(ret == -EINVAL && err && err->errnum == EINVAL, "bad caps %zu fails with EINVAL",
		   i);
		is_str(err ? err->msg : NULL, bad_cases[i].msg, "bad caps %zu: message", i);
	}
}

/* The Cap* lines of /proc/self/status, or of what a child wrote. */
static uint64_t
status_mask(const char *status, const char *key)
{
	const char *p = strstr(status, key);

	return p ? strtoull(p + strlen(key) + 1, NULL, 16) : UINT64_MAX;
}

/* In a child: bounding, uid/gid 65534, apply; then report /proc/self/status or the error. */
static char *
apply_in_child(const struct minirt_caps *c, int *status)
{
	int p[2];
	pid_t pid;
	char *out;

	if (pipe2(p, O_CLOEXEC) < 0)
		abort();
	pid = fork();
	if (pid == 0) {
		struct mini_err *err = NULL;
		char *st;

		close(p[0]);
		if (minirt_caps_apply_bounding(c, &err) < 0) {
			dprintf(p[1], "error: %s (%d)", err->msg, err->errnum);
			_exit(1);
		}
		if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
		    setresuid(65534, 65534, 65534) < 0) {
			dprintf(p[1], "error: setuid: %s", strerror(errno));
			_exit(1);
		}
		if (minirt_caps_apply(c, &err) < 0) {
			dprintf(p[1], "error: %s (%d)", err->msg, err->errnum);
			_exit(1);
		}
		st = slurp("/proc/self/status");
		dprintf(p[1], "%s", st ? st : "no status");
		_exit(0);
	}
	close(p[1]);
	out = slurp_fd(p[0]);
	close(p[0]);
	waitpid(pid, status, 0);
	return out;
}

static void
check_apply(void)
{
	_cleanup_free_ char *self = slurp("/proc/self/status");
	uint64_t bnd = self ? status_mask(self, "CapBnd:") : 0;
	struct minirt_caps c = {
		.bounding = BIT(CAP_CHOWN) | BIT(CAP_KILL) | BIT(CAP_NET_BIND_SERVICE) |
			    BIT(CAP_SETUID) | BIT(CAP_SETGID) | BIT(CAP_SETPCAP),
		.permitted = BIT(CAP_CHOWN) | BIT(CAP_KILL) | BIT(CAP_NET_BIND_SERVICE),
		.effective = BIT(CAP_KILL) | BIT(CAP_NET_BIND_SERVICE),
		.inheritable = BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_KILL),
		.ambient = BIT(CAP_NET_BIND_SERVICE),
		.last_cap = minirt_caps_last_cap(),
	};
	char *out;
	int status = -1;

	if (geteuid() != 0) {
		ok(!require_root(), "apply capabilities%s",
		   require_root() ? ": not root but MINI_TESTS_REQUIRE_ROOT=1"
				  : " # SKIP not root");
		return;
	}

	out = apply_in_child(&c, &status);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "apply in a child as uid 65534");
	if (strncmp(out, "error", 5) == 0)
		printf("#   %s\n", out);
	is_int(status_mask(out, "CapBnd:"), c.bounding & bnd, "CapBnd");
	is_int(status_mask(out, "CapPrm:"), c.permitted, "CapPrm");
	is_int(status_mask(out, "CapEff:"), c.effective, "CapEff");
	is_int(status_mask(out, "CapInh:"), c.inheritable, "CapInh");
	is_int(status_mask(out, "CapAmb:"), c.ambient, "CapAmb");
	ok(strstr(out, "\nUid:\t65534\t65534\t65534\t65534") != NULL, "uid changed");
	free(out);

	/* Ambient needs permitted and inheritable: CAP_CHOWN is not inheritable here. */
	c.ambient = BIT(CAP_CHOWN);
	out = apply_in_child(&c, &status);
	is_str(out, "error: raise ambient CAP_CHOWN (it must be permitted and inheritable) (1)",
	       "ambient outside inheritable: EPERM with a hint");
	free(out);

	/* Effective beyond permitted. */
	c.ambient = 0;
	c.effective |= BIT(CAP_SETUID);
	out = apply_in_child(&c, &status);
	is_str(out,
	       "error: set capabilities (effective must be within permitted, and inheritable "
	       "within the bounding set) (1)",
	       "effective outside permitted: EPERM with a hint");
	free(out);
}

/* Child: optionally drop CAP_SYS_ADMIN from the bounding set first, then clear the effective
 * set (no CAP_SETPCAP), then apply_bounding with `bounding`. Reports "ok" or the error. */
static char *
bounding_in_child(uint64_t bounding, int predrop)
{
	struct minirt_caps c = { .bounding = bounding, .last_cap = minirt_caps_last_cap() };
	int p[2], status;
	pid_t pid;
	char *out;

	if (pipe2(p, O_CLOEXEC) < 0)
		abort();
	pid = fork();
	if (pid == 0) {
		struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
		struct __user_cap_data_struct data[2];
		struct mini_err *err = NULL;

		close(p[0]);
		if (predrop && prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0) < 0)
			_exit(100);
		if (syscall(SYS_capget, &hdr, data) < 0)
			_exit(101);
		data[0].effective = data[1].effective = 0;
		if (syscall(SYS_capset, &hdr, data) < 0)
			_exit(102);
		if (minirt_caps_apply_bounding(&c, &err) < 0)
			dprintf(p[1], "error: %s (%d)", err->msg, err->errnum);
		else
			dprintf(p[1], "ok");
		_exit(0);
	}
	close(p[1]);
	out = slurp_fd(p[0]);
	close(p[0]);
	waitpid(pid, &status, 0);
	return out;
}

static void
check_bounding_without_setpcap(void)
{
	_cleanup_free_ char *self = slurp("/proc/self/status");
	uint64_t bnd = self ? status_mask(self, "CapBnd:") : 0;
	_cleanup_free_ char *out = NULL;

	/* Works for any user: without CAP_SETPCAP a needed drop fails, and says which cap. */
	if (bnd & BIT(CAP_CHOWN)) {
		out = bounding_in_child(bnd & ~BIT(CAP_CHOWN), 0);
		is_str(out, "error: drop CAP_CHOWN from the bounding set (1)",
		       "a needed drop without CAP_SETPCAP fails, naming the capability");
	} else {
		ok(1, "failed drop # SKIP CAP_CHOWN is not in this process's bounding set");
	}
	if (!(bnd & BIT(CAP_SYS_ADMIN)) || geteuid() != 0) {
		ok(!require_root(), "bounding already small enough%s",
		   require_root() ? ": not root" : " # SKIP not root");
		return;
	}
	free(out);
	out = bounding_in_child(bnd & ~BIT(CAP_SYS_ADMIN), 1);
	is_str(out, "ok", "nothing left to drop: no CAP_SETPCAP needed");
}

int
main(void)
{
	check_names();
	check_last_cap();
	check_parse();
	check_kernel_limit();
	check_bad();
	check_apply();
	check_bounding_without_setpcap();
	return tap_done();
}
