/* linux.seccomp → libseccomp filter: golden pseudo-filter code, the exported BPF memfd, flags,
 * NOTIFY info, and the error message of every kind of bad profile.
 *
 * argv[1] is tests/data/seccomp. MINI_UPDATE_GOLDEN=1 rewrites the golden .pfc files there
 * (review the diff by hand before committing). */
#include "tap.h"
#include "sec_util.h"

#include "seccomp.h"
#define MINIRT_WANT_LIBSECCOMP /* libseccomp's header, for seccomp_version() */
#include <seccomp.h>
#undef MINIRT_WANT_LIBSECCOMP

#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

static const char *data_dir;

static char *
data_path(const char *name)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%s", data_dir, name) < 0)
		abort();
	return p;
}

static yajl_val
load_profile(const char *name)
{
	_cleanup_free_ char *path = data_path(name);
	_cleanup_free_ char *text = slurp(path);

	if (text == NULL) {
		fprintf(stderr, "cannot read %s\n", path);
		abort();
	}
	return parse_json(text);
}

/* The pfc text for a profile, or NULL with *err set. */
static char *
pfc_of(yajl_val profile, struct mini_err **err)
{
	_cleanup_close_ int fd = memfd_create("pfc", MFD_CLOEXEC);

	if (fd < 0 || minirt_seccomp_export_pfc(profile, fd, err) < 0)
		return NULL;
	lseek(fd, 0, SEEK_SET);
	return slurp_fd(fd);
}

/* Prints the first line where got and want differ, as a TAP comment. */
static void
diag_first_difference(const char *got, const char *want)
{
	int line = 1;

	while (*got && *got == *want) {
		if (*got == '\n')
			line++;
		got++;
		want++;
	}
	printf("#   first difference at line %d\n#   got:  %.80s\n#   want: %.80s\n", line, got,
	       want);
}

static void
check_golden(const char *profile_name, const char *golden_name)
{
	_cleanup_(tree_freep) yajl_val profile = load_profile(profile_name);
	_cleanup_free_ char *golden_path = data_path(golden_name);
	_cleanup_err_ struct mini_err *err = NULL;
	_cleanup_free_ char *got = NULL, *want = NULL;
	const struct scmp_version *v = seccomp_version();

#ifndef __x86_64__
	ok(1, "%s # SKIP golden files are for x86_64", golden_name);
	return;
#endif
	/* The generated code follows libseccomp's syscall tables and optimiser. */
	if (v->major != 2 || v->minor != 5) {
		ok(1, "%s # SKIP golden files are for libseccomp 2.5, this is %u.%u.%u",
		   golden_name, v->major, v->minor, v->micro);
		return;
	}
	got = pfc_of(profile, &err);
	ok(got != NULL, "%s: export pfc", profile_name);
	if (got == NULL) {
		printf("#   %s\n", err->msg);
		return;
	}
	if (getenv("MINI_UPDATE_GOLDEN")) {
		FILE *f = fopen(golden_path, "we");

		ok(f && fputs(got, f) >= 0 && fclose(f) == 0, "%s: golden file rewritten",
		   golden_name);
		return;
	}
	want = slurp(golden_path);
	ok(want && strcmp(got, want) == 0, "%s: pfc matches %s", profile_name, golden_name);
	if (want && strcmp(got, want) != 0)
		diag_first_difference(got, want);
}

static void
check_exported(const char *profile_name, unsigned want_flags)
{
	_cleanup_(tree_freep) yajl_val profile = load_profile(profile_name);
	_cleanup_err_ struct mini_err *err = NULL;
	_cleanup_close_ int fd = -1;
	unsigned flags = 12345;
	struct stat st = { 0 };
	int ret;

	ret = minirt_seccomp_compile(profile, &fd, &flags, &err);
	is_int(ret, 0, "%s: compiles", profile_name);
	if (ret < 0) {
		printf("#   %s\n", err->msg);
		return;
	}
	ok(fd >= 0 && fstat(fd, &st) == 0, "%s: memfd returned", profile_name);
	ok(st.st_size > 0 && st.st_size % sizeof(struct sock_filter) == 0,
	   "%s: %lld bytes = %lld instructions", profile_name, (long long)st.st_size,
	   (long long)(st.st_size / 8));
	ok(st.st_size / sizeof(struct sock_filter) <= BPF_MAXINSNS, "%s: within BPF_MAXINSNS",
	   profile_name);
	is_int(fcntl(fd, F_GET_SEALS), F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE,
	       "%s: memfd sealed", profile_name);
	ok(write(fd, "x", 1) < 0 && errno == EPERM, "%s: memfd cannot be written", profile_name);
	ok(fcntl(fd, F_GETFD) & FD_CLOEXEC, "%s: memfd is close-on-exec", profile_name);
	is_int(flags, want_flags, "%s: seccomp(2) flags", profile_name);
}

static void
check_no_filter(const char *json, const char *what)
{
	_cleanup_(tree_freep) yajl_val v = json ? parse_json(json) : NULL;
	_cleanup_err_ struct mini_err *err = NULL;
	unsigned flags = 7;
	int fd = 99, ret;

	ret = minirt_seccomp_compile(v, &fd, &flags, &err);
	ok(ret == 0 && fd == -1 && flags == 0 && err == NULL, "no filter for %s", what);
}

struct bad_case {
	const char *json;
	int errnum;
	const char *msg;
};

#define DEF "\"defaultAction\": \"SCMP_ACT_ERRNO\", "
#define RULE(extra) \
	"\"syscalls\": [{\"names\": [\"getcwd\"], \"action\": \"SCMP_ACT_ALLOW\"" extra "}]"
#define ARG(a) RULE(", \"args\": [" a "]")

static const struct bad_case bad_cases[] = {
	{ "[]", EINVAL, "linux.seccomp: expected an object" },
	{ "{\"defaultAction\": \"SCMP_ACT_FOO\"}", EINVAL,
	  "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_FOO\"" },
	{ "{\"defaultAction\": 7}", EINVAL, "linux.seccomp.defaultAction: expected a string" },
	{ "{" RULE("") "}", EINVAL, "linux.seccomp.defaultAction: required" },
	{ "{\"defaultAction\": \"SCMP_ACT_KILL\", \"defaultErrnoRet\": 1}", EINVAL,
	  "linux.seccomp.defaultErrnoRet: not allowed with action \"SCMP_ACT_KILL\"" },
	{ "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": -1}", EINVAL,
	  "linux.seccomp.defaultErrnoRet: expected an unsigned integer" },
	{ "{\"defaultAction\": \"SCMP_ACT_NOTIFY\"}", EINVAL,
	  "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action" },
	{ "{" DEF "\"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_FOO\"]}", EINVAL,
	  "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_FOO\"" },
	{ "{" DEF "\"architectures\": [1]}", EINVAL,
	  "linux.seccomp.architectures[0]: expected a string" },
	{ "{" DEF "\"architectures\": \"SCMP_ARCH_X86\"}", EINVAL,
	  "linux.seccomp.architectures: expected an array of strings" },
	{ "{" DEF "\"flags\": [\"SECCOMP_FILTER_FLAG_FOO\"]}", EINVAL,
	  "linux.seccomp.flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_FOO\"" },
	{ "{" DEF "\"flags\": {}}", EINVAL, "linux.seccomp.flags: expected an array of strings" },
	{ "{" DEF "\"syscalls\": {}}", EINVAL,
	  "linux.seccomp.syscalls: expected an array of objects" },
	{ "{" DEF "\"syscalls\": [1]}", EINVAL, "linux.seccomp.syscalls[0]: expected an object" },
	{ "{" DEF "\"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\"}, "
	  "{\"names\": [\"getcwd\"], \"action\": \"SCMP_ACT_FOO\"}]}",
	  EINVAL, "linux.seccomp.syscalls[1].action: unknown action \"SCMP_ACT_FOO\"" },
	{ "{" DEF "\"syscalls\": [{\"names\": [\"getcwd\"]}]}", EINVAL,
	  "linux.seccomp.syscalls[0].action: required" },
	{ "{" DEF "\"syscalls\": [{\"names\": [\"getcwd\"], \"action\": [\"SCMP_ACT_ALLOW\"]}]}",
	  EINVAL, "linux.seccomp.syscalls[0].action: expected a string" },
	{ "{" DEF "\"syscalls\": [{\"action\": \"SCMP_ACT_ALLOW\"}]}", EINVAL,
	  "linux.seccomp.syscalls[0].names: required" },
	{ "{" DEF "\"syscalls\": [{\"names\": \"getcwd\", \"action\": \"SCMP_ACT_ALLOW\"}]}",
	  EINVAL, "linux.seccomp.syscalls[0].names: expected an array of strings" },
	{ "{" DEF "\"syscalls\": [{\"names\": [\"read\", 3], \"action\": \"SCMP_ACT_ALLOW\"}]}",
	  EINVAL, "linux.seccomp.syscalls[0].names[1]: expected a syscall name" },
	{ "{" DEF "\"syscalls\": [{\"names\": [\"\"], \"action\": \"SCMP_ACT_ALLOW\"}]}", EINVAL,
	  "linux.seccomp.syscalls[0].names[0]: expected a syscall name" },
	{ "{" DEF RULE(", \"errnoRet\": 1") "}", EINVAL,
	  "linux.seccomp.syscalls[0].errnoRet: not allowed with action \"SCMP_ACT_ALLOW\"" },
	{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getcwd\"], "
	  "\"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 70000}]}",
	  ERANGE, "linux.seccomp.syscalls[0].errnoRet: 70000 out of range (0-65535)" },
	{ "{" DEF ARG("{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_FOO\"}") "}", EINVAL,
	  "linux.seccomp.syscalls[0].args[0].op: unknown operator \"SCMP_CMP_FOO\"" },
	{ "{" DEF ARG("{\"index\": 0, \"value\": 1}") "}", EINVAL,
	  "linux.seccomp.syscalls[0].args[0].op: required" },
	{ "{" DEF ARG("{\"index\": 0, \"value\": 1, \"op\": 5}") "}", EINVAL,
	  "linux.seccomp.syscalls[0].args[0].op: expected a string" },
	{ "{" DEF ARG("{\"index\": 0, \"value\": 0, \"op\": \"SCMP_CMP_EQ\"}, {\"index\": 6, "
		      "\"value\": 1, \"op\": \"SCMP_CMP_EQ\"}") "}",
	  ERANGE, "linux.seccomp.syscalls[0].args[1].index: 6 out of range (0-5)" },
	{ "{" DEF ARG("{\"index\": \"0\", \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}") "}", EINVAL,
	  "linux.seccomp.syscalls[0].args[0].index: expected an unsigned integer" },
	{ "{" DEF ARG("{\"value\": 1, \"op\": \"SCMP_CMP_EQ\"}") "}", EINVAL,
	  "linux.seccomp.syscalls[0].args[0].index: required" },
	{ "{" DEF ARG("{\"index\": 0, \"op\": \"SCMP_CMP_EQ\"}") "}", EINVAL,
	  "linux.seccomp.syscalls[0].args[0].value: required" },
	{ "{" DEF ARG("{\"index\": 0, \"value\": -1, \"op\": \"SCMP_CMP_EQ\"}") "}", EINVAL,
	  "linux.seccomp.syscalls[0].args[0].value: expected an unsigned integer" },
	{ "{" DEF ARG("{\"index\": 0, \"value\": 1.5, \"op\": \"SCMP_CMP_EQ\"}") "}", EINVAL,
	  "linux.seccomp.syscalls[0].args[0].value: expected an unsigned integer, got 1.5" },
	{ "{" DEF ARG(
		  "{\"index\": 0, \"value\": 18446744073709551616, \"op\": \"SCMP_CMP_EQ\"}") "}",
	  ERANGE,
	  "linux.seccomp.syscalls[0].args[0].value: 18446744073709551616 out of range "
	  "(0-18446744073709551615)" },
	{ "{" DEF ARG(
		  "{\"index\": 0, \"value\": 1, \"valueTwo\": true, \"op\": \"SCMP_CMP_EQ\"}") "}",
	  EINVAL, "linux.seccomp.syscalls[0].args[0].valueTwo: expected an unsigned integer" },
	{ "{" DEF RULE(", \"args\": {}") "}", EINVAL,
	  "linux.seccomp.syscalls[0].args: expected an array of objects" },
	{ "{" DEF ARG("[]") "}", EINVAL, "linux.seccomp.syscalls[0].args[0]: expected an object" },
	/* A rule equal to the default action is skipped, but still validated. */
	{ "{" DEF "\"syscalls\": [{\"names\": [\"getcwd\"], \"action\": \"SCMP_ACT_ERRNO\", "
	  "\"args\": [{\"index\": 9, \"value\": 0, \"op\": \"SCMP_CMP_EQ\"}]}]}",
	  ERANGE, "linux.seccomp.syscalls[0].args[0].index: 9 out of range (0-5)" },
	{ "{" DEF "\"listenerPath\": \"/x\", \"syscalls\": [{\"names\": [\"read\", \"write\"], "
	  "\"action\": \"SCMP_ACT_NOTIFY\"}]}",
	  EINVAL,
	  "linux.seccomp.syscalls[0].names[1]: SCMP_ACT_NOTIFY cannot be used for \"write\"" },
	{ "{" DEF "\"syscalls\": [{\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}",
	  EINVAL, "linux.seccomp.listenerPath: required when a rule uses SCMP_ACT_NOTIFY" },
};

static void
check_bad_profiles(void)
{
	size_t i;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		_cleanup_(tree_freep) yajl_val v = parse_json(c->json);
		_cleanup_err_ struct mini_err *err = NULL;
		unsigned flags = 0;
		int fd = 99, ret;

		ret = minirt_seccomp_compile(v, &fd, &flags, &err);
		ok(ret == -c->errnum && err && err->errnum == c->errnum && fd == -1,
		   "bad profile %zu fails with errno %d", i, c->errnum);
		is_str(err ? err->msg : NULL, c->msg, "bad profile %zu: message", i);
	}
}

static void
check_flags(void)
{
	static const struct {
		const char *json;
		unsigned want;
		const char *what;
	} cases[] = {
		{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"flags\": "
		  "[\"SECCOMP_FILTER_FLAG_LOG\", "
		  "\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\", \"SECCOMP_FILTER_FLAG_TSYNC\"]}",
		  SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW,
		  "LOG and SPEC_ALLOW are passed on, TSYNC is dropped" },
		{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"flags\": "
		  "[\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"]}",
		  0, "WAIT_KILLABLE_RECV without a NOTIFY rule is dropped" },
		{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"/a\", \"flags\": "
		  "[\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"], \"syscalls\": [{\"names\": "
		  "[\"getppid\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}",
		  SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
		  "WAIT_KILLABLE_RECV with a NOTIFY rule is passed on" },
		{ "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"/a\", \"syscalls\": "
		  "[{\"names\": [\"no_such_syscall\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}",
		  0, "a NOTIFY rule on unknown syscalls only needs no listener" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		_cleanup_(tree_freep) yajl_val v = parse_json(cases[i].json);
		_cleanup_err_ struct mini_err *err = NULL;
		_cleanup_close_ int fd = -1;
		unsigned flags = 0;
		int ret;

		ret = minirt_seccomp_compile(v, &fd, &flags, &err);
		/* An older kernel may lack a flag: then the error must say so. */
		if (ret < 0 && err->errnum == ENOTSUP) {
			ok(strstr(err->msg, "not supported by the running kernel") != NULL,
			   "%s # SKIP kernel: %s", cases[i].what, err->msg);
			continue;
		}
		ok(ret == 0 && flags == cases[i].want, "%s", cases[i].what);
		if (ret < 0)
			printf("#   %s\n", err->msg);
		else if (flags != cases[i].want)
			printf("#   flags 0x%x, want 0x%x\n", flags, cases[i].want);
	}
}

static void
check_notify_info(void)
{
	_cleanup_(tree_freep) yajl_val small = load_profile("small.json");
	_cleanup_(tree_freep) yajl_val plain =
		parse_json("{\"defaultAction\": \"SCMP_ACT_ALLOW\"}");
	_cleanup_(tree_freep) yajl_val bad =
		parse_json("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerMetadata\": \"m\"}");
	_cleanup_err_ struct mini_err *err = NULL;
	struct minirt_seccomp_notify n;

	is_int(minirt_seccomp_notify_info(small, &n, &err), 0, "notify info of small.json");
	ok(n.uses_notify, "small.json uses NOTIFY");
	is_str(n.listener_path, "/run/seccomp-agent.sock", "listenerPath");
	is_str(n.listener_metadata, "small profile", "listenerMetadata");

	is_int(minirt_seccomp_notify_info(plain, &n, &err), 0, "notify info without NOTIFY");
	ok(!n.uses_notify && n.listener_path == NULL && n.listener_metadata == NULL,
	   "no NOTIFY, no listener");
	is_int(minirt_seccomp_notify_info(NULL, &n, &err), 0, "notify info of no profile");
	ok(!n.uses_notify, "no profile, no NOTIFY");

	is_int(minirt_seccomp_notify_info(bad, &n, &err), -EINVAL, "metadata without path fails");
	is_str(err ? err->msg : NULL, "linux.seccomp.listenerMetadata: set without listenerPath",
	       "metadata without path: message");
}

/* An arch the spec names but an older libseccomp lacks (2.5 has no LoongArch) fails clearly. */
static void
check_arch_support(void)
{
	_cleanup_(tree_freep) yajl_val v =
		parse_json("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": "
			   "[\"SCMP_ARCH_LOONGARCH64\"]}");
	_cleanup_err_ struct mini_err *err = NULL;
	_cleanup_close_ int fd = -1;
	unsigned flags;
	int ret;

	ret = minirt_seccomp_compile(v, &fd, &flags, &err);
	if (ret == 0) {
		ok(1, "LoongArch # SKIP this libseccomp knows it");
		return;
	}
	ok(ret == -ENOTSUP && strstr(err->msg, "linux.seccomp.architectures[0]: architecture "
					       "\"SCMP_ARCH_LOONGARCH64\" not supported by "
					       "libseccomp ") == err->msg,
	   "arch unknown to libseccomp: %s", err->msg);
}

static int
list_has(const char *const *list, const char *name)
{
	for (; *list; list++)
		if (strcmp(*list, name) == 0)
			return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	data_dir = argc > 1 ? argv[1] : "tests/data/seccomp";

	check_golden("small.json", "small.pfc");
	check_golden("containerd_default.json", "containerd_default.pfc");
	check_golden("containerd_default_root.json", "containerd_default_root.pfc");

	check_exported("small.json", SECCOMP_FILTER_FLAG_NEW_LISTENER);
	check_exported("containerd_default.json", 0);
	check_exported("containerd_default_root.json", 0);

	check_no_filter(NULL, "a NULL node");
	check_no_filter("null", "JSON null");
	check_no_filter("{}", "an empty object");
	check_no_filter("{\"syscalls\": [], \"architectures\": [\"SCMP_ARCH_X86\"]}",
			"no default action and no syscalls (runc)");

	check_bad_profiles();
	check_flags();
	check_notify_info();
	check_arch_support();

	ok(list_has(minirt_seccomp_known_actions(), "SCMP_ACT_KILL_PROCESS") &&
		   list_has(minirt_seccomp_known_archs(), "SCMP_ARCH_X86_64") &&
		   list_has(minirt_seccomp_known_operators(), "SCMP_CMP_MASKED_EQ") &&
		   list_has(minirt_seccomp_known_flags(), "SECCOMP_FILTER_FLAG_LOG"),
	   "feature lists name what the compiler accepts");
	return tap_done();
}
