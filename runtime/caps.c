#include "caps.h"

#include "cleanup.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The names the OCI spec uses, by number. A designated initializer per entry so a wrong number
 * in <linux/capability.h> cannot shift the table silently. */
static const char *const cap_names[MINIRT_CAP_MAX + 1] = {
	[CAP_CHOWN] = "CAP_CHOWN",
	[CAP_DAC_OVERRIDE] = "CAP_DAC_OVERRIDE",
	[CAP_DAC_READ_SEARCH] = "CAP_DAC_READ_SEARCH",
	[CAP_FOWNER] = "CAP_FOWNER",
	[CAP_FSETID] = "CAP_FSETID",
	[CAP_KILL] = "CAP_KILL",
	[CAP_SETGID] = "CAP_SETGID",
	[CAP_SETUID] = "CAP_SETUID",
	[CAP_SETPCAP] = "CAP_SETPCAP",
	[CAP_LINUX_IMMUTABLE] = "CAP_LINUX_IMMUTABLE",
	[CAP_NET_BIND_SERVICE] = "CAP_NET_BIND_SERVICE",
	[CAP_NET_BROADCAST] = "CAP_NET_BROADCAST",
	[CAP_NET_ADMIN] = "CAP_NET_ADMIN",
	[CAP_NET_RAW] = "CAP_NET_RAW",
	[CAP_IPC_LOCK] = "CAP_IPC_LOCK",
	[CAP_IPC_OWNER] = "CAP_IPC_OWNER",
	[CAP_SYS_MODULE] = "CAP_SYS_MODULE",
	[CAP_SYS_RAWIO] = "CAP_SYS_RAWIO",
	[CAP_SYS_CHROOT] = "CAP_SYS_CHROOT",
	[CAP_SYS_PTRACE] = "CAP_SYS_PTRACE",
	[CAP_SYS_PACCT] = "CAP_SYS_PACCT",
	[CAP_SYS_ADMIN] = "CAP_SYS_ADMIN",
	[CAP_SYS_BOOT] = "CAP_SYS_BOOT",
	[CAP_SYS_NICE] = "CAP_SYS_NICE",
	[CAP_SYS_RESOURCE] = "CAP_SYS_RESOURCE",
	[CAP_SYS_TIME] = "CAP_SYS_TIME",
	[CAP_SYS_TTY_CONFIG] = "CAP_SYS_TTY_CONFIG",
	[CAP_MKNOD] = "CAP_MKNOD",
	[CAP_LEASE] = "CAP_LEASE",
	[CAP_AUDIT_WRITE] = "CAP_AUDIT_WRITE",
	[CAP_AUDIT_CONTROL] = "CAP_AUDIT_CONTROL",
	[CAP_SETFCAP] = "CAP_SETFCAP",
	[CAP_MAC_OVERRIDE] = "CAP_MAC_OVERRIDE",
	[CAP_MAC_ADMIN] = "CAP_MAC_ADMIN",
	[CAP_SYSLOG] = "CAP_SYSLOG",
	[CAP_WAKE_ALARM] = "CAP_WAKE_ALARM",
	[CAP_BLOCK_SUSPEND] = "CAP_BLOCK_SUSPEND",
	[CAP_AUDIT_READ] = "CAP_AUDIT_READ",
	[CAP_PERFMON] = "CAP_PERFMON",
	[CAP_BPF] = "CAP_BPF",
	[CAP_CHECKPOINT_RESTORE] = "CAP_CHECKPOINT_RESTORE",
};

_Static_assert(CAP_LAST_CAP == MINIRT_CAP_MAX,
	       "<linux/capability.h> knows capabilities this table does not name");

const char *
minirt_cap_name(int cap)
{
	if (cap < 0 || cap > MINIRT_CAP_MAX)
		return NULL;
	return cap_names[cap];
}

int
minirt_cap_from_name(const char *name)
{
	int i;

	for (i = 0; i <= MINIRT_CAP_MAX; i++)
		if (strcmp(cap_names[i], name) == 0)
			return i;
	return -1;
}

int
minirt_caps_last_cap(void)
{
	_cleanup_close_ int fd = -1;
	char buf[16];
	ssize_t n;
	int cap;

	fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		if (n > 0) {
			char *end;
			long v;

			buf[n] = '\0';
			v = strtol(buf, &end, 10);
			if (end != buf && v >= 0 && v < 64)
				return (int)v;
		}
	}
	/* No /proc (or a broken one): PR_CAPBSET_READ fails with EINVAL past the last valid cap. */
	for (cap = 0; cap < 63; cap++)
		if (prctl(PR_CAPBSET_READ, cap + 1, 0, 0, 0) < 0 && errno == EINVAL)
			return cap;
	return MINIRT_CAP_MAX;
}

static const char *const set_keys[] = { "bounding", "effective", "inheritable", "permitted",
					"ambient" };

static uint64_t *
set_field(struct minirt_caps *c, size_t i)
{
	uint64_t *fields[] = { &c->bounding, &c->effective, &c->inheritable, &c->permitted,
			       &c->ambient };
	return fields[i];
}

static yajl_val
obj_get(yajl_val obj, const char *key)
{
	size_t i;

	for (i = 0; i < obj->u.object.len; i++)
		if (strcmp(obj->u.object.keys[i], key) == 0)
			return obj->u.object.values[i];
	return NULL;
}

/* "CAP_A, CAP_B" for the bits of mask. Caller owns the result. */
static char *
mask_names(uint64_t mask)
{
	char *s = xstrdup(""), *t;
	int cap;

	for (cap = 0; cap <= MINIRT_CAP_MAX; cap++) {
		if (!(mask & (UINT64_C(1) << cap)))
			continue;
		t = xasprintf("%s%s%s", s, *s ? ", " : "", cap_names[cap]);
		free(s);
		s = t;
	}
	return s;
}

static int
parse_set(yajl_val arr, const char *key, int last_cap, uint64_t *mask, uint64_t *dropped,
	  struct mini_err **err)
{
	size_t i;

	*mask = 0;
	if (arr == NULL || YAJL_IS_NULL(arr))
		return 0;
	if (!YAJL_IS_ARRAY(arr))
		return mini_err_set(err, EINVAL,
				    "process.capabilities.%s: expected an array of strings", key);
	for (i = 0; i < arr->u.array.len; i++) {
		yajl_val v = arr->u.array.values[i];
		int cap;

		if (!YAJL_IS_STRING(v))
			return mini_err_set(err, EINVAL,
					    "process.capabilities.%s[%zu]: expected a string", key,
					    i);
		cap = minirt_cap_from_name(v->u.string);
		if (cap < 0)
			return mini_err_set(err, EINVAL,
					    "process.capabilities.%s: unknown capability \"%s\"",
					    key, v->u.string);
		if (cap > last_cap) {
			*dropped |= UINT64_C(1) << cap;
			continue;
		}
		*mask |= UINT64_C(1) << cap;
	}
	return 0;
}

int
minirt_caps_parse_last(yajl_val caps, int last_cap, struct minirt_caps *out, struct mini_err **err)
{
	struct minirt_caps c = { .last_cap = last_cap };
	uint64_t dropped = 0;
	size_t i;
	int ret;

	if (caps != NULL && !YAJL_IS_NULL(caps)) {
		if (!YAJL_IS_OBJECT(caps))
			return mini_err_set(err, EINVAL,
					    "process.capabilities: expected an object");
		for (i = 0; i < sizeof(set_keys) / sizeof(set_keys[0]); i++) {
			ret = parse_set(obj_get(caps, set_keys[i]), set_keys[i], last_cap,
					set_field(&c, i), &dropped, err);
			if (ret < 0)
				return ret;
		}
	}
	/* The spec asks for a warning, not a failure, for capabilities that cannot be granted:
	 * a container built for a newer kernel still starts here. */
	if (dropped) {
		_cleanup_free_ char *names = mask_names(dropped);

		log_warn("ignoring capabilities unknown to the running kernel "
			 "(cap_last_cap %d): %s",
			 last_cap, names);
	}
	*out = c;
	return 0;
}

int
minirt_caps_parse(yajl_val caps, struct minirt_caps *out, struct mini_err **err)
{
	return minirt_caps_parse_last(caps, minirt_caps_last_cap(), out, err);
}

static int
last_cap_of(const struct minirt_caps *c)
{
	if (c->last_cap <= 0 || c->last_cap > 63)
		return MINIRT_CAP_MAX;
	return c->last_cap;
}

static const char *
cap_label(int cap, char *buf, size_t len)
{
	const char *name = minirt_cap_name(cap);

	if (name)
		return name;
	snprintf(buf, len, "capability %d", cap);
	return buf;
}

int
minirt_caps_apply_bounding(const struct minirt_caps *c, struct mini_err **err)
{
	int last = last_cap_of(c);
	char buf[32];
	int cap, r;

	for (cap = 0; cap <= last; cap++) {
		if (c->bounding & (UINT64_C(1) << cap))
			continue;
		/* Only drop what is still there: then a set that is already small enough needs no
		 * CAP_SETPCAP (nested runtimes, exec into a restricted container). */
		r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
		if (r < 0 && errno == EINVAL)
			break; /* the kernel ends here */
		if (r == 1)
			r = prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
		if (r < 0) {
			int saved = errno;

			return mini_err_set(err, saved, "drop %s from the bounding set",
					    cap_label(cap, buf, sizeof(buf)));
		}
	}
	/* Keep the permitted set across the coming setresuid() to a non-zero uid; it is trimmed to
	 * the requested sets by capset() afterwards. */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return mini_err_set(err, errno, "set keep-capabilities flag");
	return 0;
}

int
minirt_caps_apply(const struct minirt_caps *c, struct mini_err **err)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	int last = last_cap_of(c);
	const char *label;
	char buf[32];
	int cap, saved;

	/* runc clears keepcaps once the uid is final, so a later setuid() by the container
	 * process drops capabilities as usual. */
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return mini_err_set(err, errno, "clear keep-capabilities flag");

	memset(data, 0, sizeof(data));
	data[0].effective = (uint32_t)c->effective;
	data[1].effective = (uint32_t)(c->effective >> 32);
	data[0].permitted = (uint32_t)c->permitted;
	data[1].permitted = (uint32_t)(c->permitted >> 32);
	data[0].inheritable = (uint32_t)c->inheritable;
	data[1].inheritable = (uint32_t)(c->inheritable >> 32);
	if (syscall(SYS_capset, &hdr, data) < 0) {
		if (errno == EPERM)
			return mini_err_set(err, errno,
					    "set capabilities (effective must be within permitted, "
					    "and inheritable within the bounding set)");
		return mini_err_set(err, errno, "set capabilities");
	}

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) {
		/* EINVAL: a kernel before 4.3 without ambient capabilities. Nothing to clear
		 * then, and runc ignores it too; asking for ambient caps there still fails. */
		if (errno != EINVAL || c->ambient != 0)
			return mini_err_set(err, errno, "clear ambient capabilities");
		return 0;
	}
	for (cap = 0; cap <= last; cap++) {
		if (!(c->ambient & (UINT64_C(1) << cap)))
			continue;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) == 0)
			continue;
		saved = errno;
		label = cap_label(cap, buf, sizeof(buf));
		return mini_err_set(err, saved,
				    "raise ambient %s (it must be permitted and inheritable)",
				    label);
	}
	return 0;
}
