/* Device rules: the container's list (runc's defaults included), the v1 rule syntax, and the
 * replay of a list into a policy (see cgroup_devices.h). */
#include "cgroup_devices.h"
#include "xalloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACC_RWM SPEC_DEV_ACC_ALL

/* runc's AllowedDevices, in its order. A path marks a rule that linux.devices can replace. */
static const struct {
	const char *path;
	struct spec_dev_rule rule;
} default_rules[] = {
	{ NULL, { true, 'c', -1, -1, SPEC_DEV_ACC_MKNOD } },
	{ NULL, { true, 'b', -1, -1, SPEC_DEV_ACC_MKNOD } },
	{ "/dev/null", { true, 'c', 1, 3, ACC_RWM } },
	{ "/dev/random", { true, 'c', 1, 8, ACC_RWM } },
	{ "/dev/full", { true, 'c', 1, 7, ACC_RWM } },
	{ "/dev/tty", { true, 'c', 5, 0, ACC_RWM } },
	{ "/dev/zero", { true, 'c', 1, 5, ACC_RWM } },
	{ "/dev/urandom", { true, 'c', 1, 9, ACC_RWM } },
	{ NULL, { true, 'c', 136, -1, ACC_RWM } }, /* /dev/pts/N */
	{ NULL, { true, 'c', 5, 2, ACC_RWM } },	   /* /dev/ptmx */
	{ NULL, { true, 'c', 10, 200, ACC_RWM } }, /* /dev/net/tun */
};

#define N_DEFAULTS (sizeof(default_rules) / sizeof(default_rules[0]))

static bool
redefined(const struct spec_linux *l, const char *path)
{
	size_t i;

	for (i = 0; path && l && i < l->devices_len; i++)
		if (strcmp(l->devices[i].path, path) == 0)
			return true;
	return false;
}

void
cgroup_device_rules(const struct minirt_spec *s, struct spec_dev_rule **out, size_t *n)
{
	const struct spec_linux *l = s->linux_cfg;
	const struct spec_resources *r = l ? l->resources : NULL;
	size_t user = r ? r->devices_len : 0, i, k = 0;
	struct spec_dev_rule *v = xcalloc(user + N_DEFAULTS + 1, sizeof(*v));

	for (i = 0; i < user; i++)
		v[k++] = r->devices[i];
	for (i = 0; i < N_DEFAULTS; i++)
		if (!redefined(l, default_rules[i].path))
			v[k++] = default_rules[i].rule;
	*out = v;
	*n = k;
}

static void
num_string(int64_t v, char *buf, size_t len)
{
	if (v < 0)
		snprintf(buf, len, "*");
	else
		snprintf(buf, len, "%" PRId64, v);
}

const char *
cgroup_dev_rule_string(const struct spec_dev_rule *r, char *buf, size_t len)
{
	char maj[24], min[24], acc[4];
	size_t k = 0;

	num_string(r->major, maj, sizeof(maj));
	num_string(r->minor, min, sizeof(min));
	if (r->access & SPEC_DEV_ACC_READ)
		acc[k++] = 'r';
	if (r->access & SPEC_DEV_ACC_WRITE)
		acc[k++] = 'w';
	if (r->access & SPEC_DEV_ACC_MKNOD)
		acc[k++] = 'm';
	acc[k] = '\0';
	snprintf(buf, len, "%c %s:%s %s", r->type, maj, min, acc);
	return buf;
}

static struct spec_dev_rule *
find_exc(struct dev_policy *p, const struct spec_dev_rule *r)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->exc[i].type == r->type && p->exc[i].major == r->major &&
		    p->exc[i].minor == r->minor)
			return &p->exc[i];
	return NULL;
}

void
dev_policy_build(const struct spec_dev_rule *rules, size_t n, struct dev_policy *out)
{
	size_t i;

	*out = (struct dev_policy){ .default_allow = false };
	out->exc = xcalloc(n + 1, sizeof(*out->exc));
	for (i = 0; i < n; i++) {
		const struct spec_dev_rule *r = &rules[i];
		struct spec_dev_rule *e;

		if (r->type == 'a') {
			/* "a" means every device whatever the numbers: a reset. */
			out->default_allow = r->allow;
			out->n = 0;
			continue;
		}
		e = find_exc(out, r);
		if (r->allow != out->default_allow) {
			/* An exception to the default: the kernel merges same-key entries. */
			if (e) {
				e->access |= r->access;
			} else {
				out->exc[out->n] = *r;
				out->exc[out->n++].allow = !out->default_allow;
			}
		} else if (e) {
			/* Back towards the default: only an exact entry is narrowed (as v1). */
			e->access &= ~r->access;
			if (e->access == 0)
				*e = out->exc[--out->n];
		}
	}
}

void
dev_policy_clear(struct dev_policy *p)
{
	free(p->exc);
	p->exc = NULL;
	p->n = 0;
}

static bool
matches(const struct spec_dev_rule *e, char type, unsigned major, unsigned minor)
{
	return e->type == type && (e->major < 0 || (uint64_t)e->major == major) &&
	       (e->minor < 0 || (uint64_t)e->minor == minor);
}

bool
dev_policy_allows(const struct dev_policy *p, char type, unsigned major, unsigned minor,
		  unsigned access)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		const struct spec_dev_rule *e = &p->exc[i];

		if (!matches(e, type, major, minor))
			continue;
		/* v1: an allow-list entry must cover every requested bit; a deny-list entry
		 * denies as soon as it covers one. */
		if (!p->default_allow && (access & ~e->access) == 0)
			return true;
		if (p->default_allow && (access & e->access) != 0)
			return false;
	}
	return p->default_allow;
}
