/* linux.seccomp → libseccomp → BPF in a sealed memfd (parent), and loading that BPF with raw
 * seccomp(2) (child). The NOTIFY hand-off to the agent is in seccomp_notify.c. See seccomp.h. */
#include "seccomp.h"

#include "cleanup.h"
#include "log.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#define MINIRT_WANT_LIBSECCOMP /* see seccomp.h */
#include <seccomp.h>
#undef MINIRT_WANT_LIBSECCOMP
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Older uapi headers lack the newer flags; the values are kernel ABI. */
#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

#define MAX_SYSCALL_ARGS 6
#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* Names as the OCI spec spells them, NULL-terminated so they double as the `minirun features`
 * lists, and their libseccomp values at the same index. */
static const char *const action_names[] = { "SCMP_ACT_KILL",	    "SCMP_ACT_KILL_PROCESS",
					    "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
					    "SCMP_ACT_ERRNO",	    "SCMP_ACT_TRACE",
					    "SCMP_ACT_ALLOW",	    "SCMP_ACT_LOG",
					    "SCMP_ACT_NOTIFY",	    NULL };
/* runc maps SCMP_ACT_KILL to kill-thread, which is the kernel's SECCOMP_RET_KILL. ERRNO and TRACE
 * get their data bits (errnoRet) added. */
static const uint32_t action_values[] = { SCMP_ACT_KILL_THREAD, SCMP_ACT_KILL_PROCESS,
					  SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP,
					  SCMP_ACT_ERRNO(0),	SCMP_ACT_TRACE(0),
					  SCMP_ACT_ALLOW,	SCMP_ACT_LOG,
					  SCMP_ACT_NOTIFY };

static const char *const operator_names[] = { "SCMP_CMP_NE",	    "SCMP_CMP_LT", "SCMP_CMP_LE",
					      "SCMP_CMP_EQ",	    "SCMP_CMP_GE", "SCMP_CMP_GT",
					      "SCMP_CMP_MASKED_EQ", NULL };
static const enum scmp_compare operator_values[] = { SCMP_CMP_NE,	SCMP_CMP_LT, SCMP_CMP_LE,
						     SCMP_CMP_EQ,	SCMP_CMP_GE, SCMP_CMP_GT,
						     SCMP_CMP_MASKED_EQ };

/* The spec's list (libseccomp 2.6). Each name resolves through libseccomp's own table
 * ("SCMP_ARCH_X86_64" → "x86_64"), which also tells what this libseccomp supports. */
static const char *const arch_names[] = {
	"SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",	    "SCMP_ARCH_ARM",
	"SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",	   "SCMP_ARCH_MIPS64",	    "SCMP_ARCH_MIPS64N32",
	"SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
	"SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",	    "SCMP_ARCH_S390X",
	"SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",	    "SCMP_ARCH_LOONGARCH64",
	"SCMP_ARCH_M68K",    "SCMP_ARCH_SH",	   "SCMP_ARCH_SHEB",	    NULL
};

_Static_assert(N_ELEMS(action_values) + 1 == N_ELEMS(action_names), "one value per action");
_Static_assert(N_ELEMS(operator_values) + 1 == N_ELEMS(operator_names), "one value per operator");

static const char *const flag_names[] = { "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
					  "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
					  "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", NULL };

static int
name_index(const char *const *names, const char *name)
{
	int i;

	for (i = 0; names[i]; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

/* libseccomp's token for an OCI arch name, 0 when this libseccomp does not know it. */
static uint32_t
arch_token(const char *oci_name)
{
	const char *p = oci_name + strlen("SCMP_ARCH_");
	char lower[32];
	size_t i;

	for (i = 0; p[i] && i < sizeof(lower) - 1; i++)
		lower[i] = (char)tolower((unsigned char)p[i]);
	lower[i] = '\0';
	return seccomp_arch_resolve_name(lower);
}

/* One filter under construction. */
struct build {
	scmp_filter_ctx ctx;
	uint32_t def_action;
	bool notify; /* some rule that made it into the filter uses SCMP_ACT_NOTIFY */
	unsigned flags;
};

static void
build_release(struct build *b)
{
	if (b->ctx)
		seccomp_release(b->ctx);
}

/* --- JSON helpers: each names the path in its error --- */

static yajl_val
obj_get(yajl_val obj, const char *key)
{
	size_t i;

	for (i = 0; i < obj->u.object.len; i++)
		if (strcmp(obj->u.object.keys[i], key) == 0)
			return YAJL_IS_NULL(obj->u.object.values[i]) ? NULL
								     : obj->u.object.values[i];
	return NULL;
}

static int
want_string(yajl_val v, const char *path, const char **out, struct mini_err **err)
{
	if (!YAJL_IS_STRING(v))
		return mini_err_set(err, EINVAL, "%s: expected a string", path);
	*out = v->u.string;
	return 0;
}

static int
want_array(yajl_val v, const char *path, const char *what, struct mini_err **err)
{
	if (!YAJL_IS_ARRAY(v))
		return mini_err_set(err, EINVAL, "%s: expected an array of %s", path, what);
	return 0;
}

/* An unsigned integer up to max. yajl keeps the text of every number, so values above INT64_MAX
 * (valid uint64 masks) are parsed from it rather than from the lossy double. */
static int
want_uint(yajl_val v, const char *path, uint64_t max, uint64_t *out, struct mini_err **err)
{
	const char *s = YAJL_IS_NUMBER(v) ? YAJL_GET_NUMBER(v) : NULL;
	unsigned long long n;
	char *end;

	if (s == NULL || !isdigit((unsigned char)s[0]))
		return mini_err_set(err, EINVAL, "%s: expected an unsigned integer", path);
	errno = 0;
	n = strtoull(s, &end, 10);
	if (*end != '\0')
		return mini_err_set(err, EINVAL, "%s: expected an unsigned integer, got %s", path,
				    s);
	if (errno == ERANGE || n > max)
		return mini_err_set(err, ERANGE, "%s: %s out of range (0-%llu)", path, s,
				    (unsigned long long)max);
	*out = n;
	return 0;
}

/* --- profile → libseccomp --- */

/* Resolves an action name plus its optional errno value (errno_v, may be NULL). */
static int
parse_action(yajl_val action_v, const char *action_path, yajl_val errno_v, const char *errno_path,
	     uint32_t *out, struct mini_err **err)
{
	uint64_t errno_ret = EPERM;
	const char *name = NULL;
	bool takes_errno;
	int ret, i;

	if (action_v == NULL)
		return mini_err_set(err, EINVAL, "%s: required", action_path);
	ret = want_string(action_v, action_path, &name, err);
	if (ret < 0)
		return ret;
	i = name_index(action_names, name);
	if (i < 0)
		return mini_err_set(err, EINVAL, "%s: unknown action \"%s\"", action_path, name);
	takes_errno =
		action_values[i] == SCMP_ACT_ERRNO(0) || action_values[i] == SCMP_ACT_TRACE(0);
	if (errno_v != NULL) {
		/* The spec: "When the action doesn't support an errno, the runtime MUST print an
		 * error and fail." */
		if (!takes_errno)
			return mini_err_set(err, EINVAL, "%s: not allowed with action \"%s\"",
					    errno_path, name);
		/* 16 bits of SECCOMP_RET_DATA; the kernel caps an errno at 4095 itself. */
		ret = want_uint(errno_v, errno_path, 0xffff, &errno_ret, err);
		if (ret < 0)
			return ret;
	}
	*out = action_values[i] | (takes_errno ? (uint32_t)errno_ret : 0);
	return 0;
}

static int
add_archs(struct build *b, yajl_val list, struct mini_err **err)
{
	const char *path = "linux.seccomp.architectures";
	char elem[64];
	uint32_t token;
	size_t i;
	int ret;

	if (list == NULL)
		return 0;
	ret = want_array(list, path, "strings", err);
	if (ret < 0)
		return ret;
	for (i = 0; i < list->u.array.len; i++) {
		const char *name = NULL;

		snprintf(elem, sizeof(elem), "%s[%zu]", path, i);
		ret = want_string(list->u.array.values[i], elem, &name, err);
		if (ret < 0)
			return ret;
		if (name_index(arch_names, name) < 0)
			return mini_err_set(err, EINVAL, "%s: unknown architecture \"%s\"", elem,
					    name);
		token = arch_token(name);
		if (token == 0)
			return mini_err_setc(err, MINI_E_UNIMPLEMENTED, ENOTSUP,
					     "%s: architecture \"%s\" not supported by libseccomp "
					     "%u.%u.%u",
					     elem, name, seccomp_version()->major,
					     seccomp_version()->minor, seccomp_version()->micro);
		/* The native arch is in every new filter already: EEXIST is fine. */
		ret = seccomp_arch_add(b->ctx, token);
		if (ret < 0 && ret != -EEXIST)
			return mini_err_set(err, -ret, "%s: add architecture \"%s\"", elem, name);
	}
	return 0;
}

/* The kernel checks the flags before it reads the program, so a NULL program tells a known flag
 * (EFAULT) from an unknown one (EINVAL) without installing anything. libseccomp probes the same
 * way. */
static bool
kernel_has_flags(unsigned flags)
{
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, NULL) < 0 && errno == EFAULT;
}

/* Runs after the syscalls, because WAIT_KILLABLE_RECV depends on whether NOTIFY is used. */
static int
parse_flags(struct build *b, yajl_val list, struct mini_err **err)
{
	const char *path = "linux.seccomp.flags";
	char elem[48];
	size_t i;
	int ret;

	if (b->notify)
		b->flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
	if (list == NULL)
		return 0;
	ret = want_array(list, path, "strings", err);
	if (ret < 0)
		return ret;
	for (i = 0; i < list->u.array.len; i++) {
		unsigned bit = 0, probe;
		const char *name = NULL;

		snprintf(elem, sizeof(elem), "%s[%zu]", path, i);
		ret = want_string(list->u.array.values[i], elem, &name, err);
		if (ret < 0)
			return ret;
		if (strcmp(name, "SECCOMP_FILTER_FLAG_TSYNC") == 0) {
			/* Synchronising threads is moot: the child is single-threaded and execs.
			 * (The kernel would also refuse TSYNC together with NEW_LISTENER.) */
			continue;
		} else if (strcmp(name, "SECCOMP_FILTER_FLAG_LOG") == 0) {
			bit = SECCOMP_FILTER_FLAG_LOG;
		} else if (strcmp(name, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0) {
			bit = SECCOMP_FILTER_FLAG_SPEC_ALLOW;
		} else if (strcmp(name, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") == 0) {
			/* Only meaningful with a listener, and seccomp(2) fails without one. */
			if (!b->notify) {
				log_debug("%s: %s ignored: no rule uses SCMP_ACT_NOTIFY", elem,
					  name);
				continue;
			}
			bit = SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
		} else {
			return mini_err_set(err, EINVAL, "%s: unknown flag \"%s\"", elem, name);
		}
		probe = bit == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
				? bit | SECCOMP_FILTER_FLAG_NEW_LISTENER
				: bit;
		if (!kernel_has_flags(probe))
			return mini_err_setc(err, MINI_E_UNIMPLEMENTED, ENOTSUP,
					     "%s: %s not supported by the running kernel", elem,
					     name);
		b->flags |= bit;
	}
	return 0;
}

/* Parses syscalls[i].args into cmps (n entries); *same_index is set when two args test the same
 * argument, which runc turns into one rule per arg. */
static int
parse_args(yajl_val list, const char *path, struct scmp_arg_cmp **cmps_out, size_t *n_out,
	   bool *same_index, struct mini_err **err)
{
	_cleanup_free_ struct scmp_arg_cmp *cmps = NULL;
	unsigned count[MAX_SYSCALL_ARGS] = { 0 };
	char elem[128], field[160];
	size_t i, n;
	int ret, op;

	*n_out = 0;
	*same_index = false;
	if (list == NULL)
		return 0;
	ret = want_array(list, path, "objects", err);
	if (ret < 0)
		return ret;
	n = list->u.array.len;
	cmps = xcalloc(n ? n : 1, sizeof(*cmps));
	for (i = 0; i < n; i++) {
		yajl_val a = list->u.array.values[i], v;
		uint64_t index = 0, value = 0, value_two = 0;
		const char *op_name = NULL;

		snprintf(elem, sizeof(elem), "%s[%zu]", path, i);
		if (!YAJL_IS_OBJECT(a))
			return mini_err_set(err, EINVAL, "%s: expected an object", elem);

		snprintf(field, sizeof(field), "%s.index", elem);
		if ((v = obj_get(a, "index")) == NULL)
			return mini_err_set(err, EINVAL, "%s: required", field);
		ret = want_uint(v, field, MAX_SYSCALL_ARGS - 1, &index, err);
		if (ret < 0)
			return ret;

		snprintf(field, sizeof(field), "%s.value", elem);
		if ((v = obj_get(a, "value")) == NULL)
			return mini_err_set(err, EINVAL, "%s: required", field);
		ret = want_uint(v, field, UINT64_MAX, &value, err);
		if (ret < 0)
			return ret;

		snprintf(field, sizeof(field), "%s.valueTwo", elem);
		if ((v = obj_get(a, "valueTwo")) != NULL) {
			ret = want_uint(v, field, UINT64_MAX, &value_two, err);
			if (ret < 0)
				return ret;
		}

		snprintf(field, sizeof(field), "%s.op", elem);
		if ((v = obj_get(a, "op")) == NULL)
			return mini_err_set(err, EINVAL, "%s: required", field);
		ret = want_string(v, field, &op_name, err);
		if (ret < 0)
			return ret;
		op = name_index(operator_names, op_name);
		if (op < 0)
			return mini_err_set(err, EINVAL, "%s: unknown operator \"%s\"", field,
					    op_name);

		/* For MASKED_EQ, value is the mask and valueTwo the expected result, which is
		 * libseccomp's datum_a/datum_b order too. */
		cmps[i] = (struct scmp_arg_cmp){ .arg = (unsigned)index,
						 .op = operator_values[op],
						 .datum_a = value,
						 .datum_b = value_two };
		if (++count[index] > 1)
			*same_index = true;
	}
	*n_out = n;
	*cmps_out = steal_ptr(&cmps);
	return 0;
}

static int
add_syscall_rule(struct build *b, yajl_val entry, size_t i, struct mini_err **err)
{
	_cleanup_free_ struct scmp_arg_cmp *cmps = NULL;
	char path[64], field[80];
	yajl_val names;
	bool same_index;
	uint32_t action;
	size_t j, k, n_cmps;
	int ret;

	snprintf(path, sizeof(path), "linux.seccomp.syscalls[%zu]", i);
	if (!YAJL_IS_OBJECT(entry))
		return mini_err_set(err, EINVAL, "%s: expected an object", path);

	/* Validate the whole entry first, so a bad entry fails even when it would be skipped. */
	snprintf(field, sizeof(field), "%s.action", path);
	{
		char errno_path[80];

		snprintf(errno_path, sizeof(errno_path), "%s.errnoRet", path);
		ret = parse_action(obj_get(entry, "action"), field, obj_get(entry, "errnoRet"),
				   errno_path, &action, err);
		if (ret < 0)
			return ret;
	}
	snprintf(field, sizeof(field), "%s.names", path);
	names = obj_get(entry, "names");
	if (names == NULL)
		return mini_err_set(err, EINVAL, "%s: required", field);
	ret = want_array(names, field, "strings", err);
	if (ret < 0)
		return ret;
	for (j = 0; j < names->u.array.len; j++) {
		yajl_val v = names->u.array.values[j];

		if (!YAJL_IS_STRING(v) || v->u.string[0] == '\0')
			return mini_err_set(err, EINVAL, "%s.names[%zu]: expected a syscall name",
					    path, j);
		/* runc: the child reports the listener fd with write(2); notifying on write
		 * would hang the container start. */
		if (action == SCMP_ACT_NOTIFY && strcmp(v->u.string, "write") == 0)
			return mini_err_set(err, EINVAL,
					    "%s.names[%zu]: SCMP_ACT_NOTIFY cannot be used for "
					    "\"write\"",
					    path, j);
	}
	snprintf(field, sizeof(field), "%s.args", path);
	ret = parse_args(obj_get(entry, "args"), field, &cmps, &n_cmps, &same_index, err);
	if (ret < 0)
		return ret;

	/* libseccomp refuses a rule whose action is the default one; it would change nothing. */
	if (action == b->def_action)
		return 0;

	for (j = 0; j < names->u.array.len; j++) {
		const char *name = names->u.array.values[j]->u.string;
		int nr = seccomp_syscall_resolve_name(name);

		if (nr == __NR_SCMP_ERROR) {
			/* A syscall newer than libseccomp or from another arch: runc skips it. */
			log_debug("%s: unknown syscall \"%s\" ignored", path, name);
			continue;
		}
		if (!same_index) {
			ret = seccomp_rule_add_array(b->ctx, action, nr, (unsigned)n_cmps,
						     n_cmps ? cmps : NULL);
		} else {
			/* runc's fallback: conditions on the same argument cannot be ANDed in one
			 * libseccomp rule, so each becomes its own rule, i.e. they are ORed. */
			for (k = 0, ret = 0; k < n_cmps && ret == 0; k++)
				ret = seccomp_rule_add_array(b->ctx, action, nr, 1, &cmps[k]);
		}
		if (ret < 0)
			return mini_err_set(err, -ret, "%s: add rule for syscall \"%s\"", path,
					    name);
		if (action == SCMP_ACT_NOTIFY)
			b->notify = true;
	}
	return 0;
}

/* Builds the libseccomp filter for a profile. b->ctx stays NULL for "no filter". */
static int
build_filter(yajl_val seccomp, struct build *b, struct mini_err **err)
{
	yajl_val def, syscalls, listener;
	size_t i;
	int ret;

	if (seccomp == NULL || YAJL_IS_NULL(seccomp))
		return 0;
	if (!YAJL_IS_OBJECT(seccomp))
		return mini_err_set(err, EINVAL, "linux.seccomp: expected an object");
	def = obj_get(seccomp, "defaultAction");
	syscalls = obj_get(seccomp, "syscalls");
	if (syscalls != NULL) {
		ret = want_array(syscalls, "linux.seccomp.syscalls", "objects", err);
		if (ret < 0)
			return ret;
	}
	/* runc: no default action and no syscalls means seccomp is disabled. */
	if (def == NULL && (syscalls == NULL || syscalls->u.array.len == 0))
		return 0;

	ret = parse_action(def, "linux.seccomp.defaultAction", obj_get(seccomp, "defaultErrnoRet"),
			   "linux.seccomp.defaultErrnoRet", &b->def_action, err);
	if (ret < 0)
		return ret;
	/* The child could not even report the listener fd (runc refuses it too). */
	if (b->def_action == SCMP_ACT_NOTIFY)
		return mini_err_set(err, EINVAL,
				    "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the "
				    "default action");
	b->ctx = seccomp_init(b->def_action);
	if (b->ctx == NULL)
		return mini_err_setc(err, MINI_E_UNIMPLEMENTED, ENOTSUP,
				     "linux.seccomp.defaultAction: not supported by libseccomp or "
				     "the running kernel");

	ret = add_archs(b, obj_get(seccomp, "architectures"), err);
	if (ret < 0)
		return ret;
	for (i = 0; syscalls != NULL && i < syscalls->u.array.len; i++) {
		ret = add_syscall_rule(b, syscalls->u.array.values[i], i, err);
		if (ret < 0)
			return ret;
	}
	ret = parse_flags(b, obj_get(seccomp, "flags"), err);
	if (ret < 0)
		return ret;

	listener = obj_get(seccomp, "listenerPath");
	if (b->notify &&
	    (listener == NULL || !YAJL_IS_STRING(listener) || listener->u.string[0] == '\0'))
		return mini_err_set(err, EINVAL,
				    "linux.seccomp.listenerPath: required when a rule uses "
				    "SCMP_ACT_NOTIFY");
	return 0;
}

int
minirt_seccomp_compile(yajl_val seccomp, int *memfd_out, unsigned *flags_out, struct mini_err **err)
{
	_cleanup_(build_release) struct build b = { 0 };
	_cleanup_close_ int fd = -1;
	struct stat st;
	int ret;

	*memfd_out = -1;
	*flags_out = 0;
	ret = build_filter(seccomp, &b, err);
	if (ret < 0)
		return ret;
	if (b.ctx == NULL)
		return 0;

	fd = memfd_create("minirt-seccomp-bpf", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return mini_err_set(err, errno, "create memfd for the seccomp filter");
	ret = seccomp_export_bpf(b.ctx, fd);
	if (ret < 0)
		return mini_err_set(err, -ret, "export seccomp filter as BPF");
	if (fstat(fd, &st) < 0)
		return mini_err_set(err, errno, "stat seccomp filter memfd");
	if (st.st_size == 0 || st.st_size % sizeof(struct sock_filter) != 0)
		return mini_err_set(err, EIO, "export seccomp filter: %lld bytes is not a program",
				    (long long)st.st_size);
	if (st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS)
		return mini_err_set(err, E2BIG,
				    "linux.seccomp: the filter has %lld instructions, the kernel "
				    "takes at most %d",
				    (long long)(st.st_size / sizeof(struct sock_filter)),
				    BPF_MAXINSNS);
	/* Sealed: nothing between here and the child's load can alter the program. */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
		return mini_err_set(err, errno, "seal seccomp filter memfd");

	*memfd_out = steal_fd(&fd);
	*flags_out = b.flags;
	return 0;
}

int
minirt_seccomp_export_pfc(yajl_val seccomp, int fd, struct mini_err **err)
{
	_cleanup_(build_release) struct build b = { 0 };
	int ret;

	ret = build_filter(seccomp, &b, err);
	if (ret < 0)
		return ret;
	if (b.ctx == NULL)
		return 0;
	ret = seccomp_export_pfc(b.ctx, fd);
	if (ret < 0)
		return mini_err_set(err, -ret, "export seccomp filter as pseudo code");
	return 0;
}

int
minirt_seccomp_notify_info(yajl_val seccomp, struct minirt_seccomp_notify *out,
			   struct mini_err **err)
{
	struct minirt_seccomp_notify r = { 0 };
	yajl_val syscalls, v;
	size_t i;
	int ret;

	*out = r;
	if (seccomp == NULL || YAJL_IS_NULL(seccomp))
		return 0;
	if (!YAJL_IS_OBJECT(seccomp))
		return mini_err_set(err, EINVAL, "linux.seccomp: expected an object");
	if ((v = obj_get(seccomp, "listenerPath")) != NULL) {
		ret = want_string(v, "linux.seccomp.listenerPath", &r.listener_path, err);
		if (ret < 0)
			return ret;
	}
	if ((v = obj_get(seccomp, "listenerMetadata")) != NULL) {
		ret = want_string(v, "linux.seccomp.listenerMetadata", &r.listener_metadata, err);
		if (ret < 0)
			return ret;
		if (r.listener_path == NULL)
			return mini_err_set(err, EINVAL,
					    "linux.seccomp.listenerMetadata: set without "
					    "listenerPath");
	}
	syscalls = obj_get(seccomp, "syscalls");
	for (i = 0; syscalls && YAJL_IS_ARRAY(syscalls) && i < syscalls->u.array.len; i++) {
		yajl_val e = syscalls->u.array.values[i];
		yajl_val a = YAJL_IS_OBJECT(e) ? obj_get(e, "action") : NULL;

		if (a && YAJL_IS_STRING(a) && strcmp(a->u.string, "SCMP_ACT_NOTIFY") == 0)
			r.uses_notify = true;
	}
	*out = r;
	return 0;
}

/* --- child side --- */

int
minirt_seccomp_load(int memfd, unsigned flags, int *notify_fd_out, struct mini_err **err)
{
	struct sock_fprog prog;
	struct stat st;
	void *map;
	long r;

	*notify_fd_out = -1;
	if (fstat(memfd, &st) < 0)
		return mini_err_set(err, errno, "stat seccomp filter fd %d", memfd);
	if (st.st_size == 0 || st.st_size % sizeof(struct sock_filter) != 0 ||
	    st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS)
		return mini_err_set(err, EINVAL,
				    "seccomp filter fd %d: %lld bytes is not a program", memfd,
				    (long long)st.st_size);
	/* Mapping, not reading into the heap: no allocation to free after the filter is on. */
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, memfd, 0);
	if (map == MAP_FAILED)
		return mini_err_set(err, errno, "map seccomp filter fd %d", memfd);
	prog.len = (unsigned short)(st.st_size / sizeof(struct sock_filter));
	prog.filter = map;

	r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	if (r < 0 && errno == ENOSYS && flags == 0) /* before seccomp(2), Linux 3.17 */
		r = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
	if (r < 0) {
		int saved = errno;

		munmap(map, (size_t)st.st_size);
		if (saved == EACCES)
			return mini_err_set(err, saved,
					    "load seccomp filter: needs no_new_privs or "
					    "CAP_SYS_ADMIN");
		return mini_err_set(err, saved, "load seccomp filter (flags 0x%x)", flags);
	}
	if (flags & SECCOMP_FILTER_FLAG_NEW_LISTENER)
		*notify_fd_out = (int)r;
	return 0;
}

/* --- names for `minirun features` --- */

const char *const *
minirt_seccomp_known_actions(void)
{
	return action_names;
}

const char *const *
minirt_seccomp_known_archs(void)
{
	static const char *supported[N_ELEMS(arch_names)];
	size_t i, n = 0;

	for (i = 0; arch_names[i]; i++)
		if (arch_token(arch_names[i]) != 0)
			supported[n++] = arch_names[i];
	supported[n] = NULL;
	return supported;
}

const char *const *
minirt_seccomp_known_operators(void)
{
	return operator_names;
}

const char *const *
minirt_seccomp_known_flags(void)
{
	return flag_names;
}
