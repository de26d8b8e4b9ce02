/* Linux capabilities for the container process: OCI names ↔ numbers, parsing of
 * `process.capabilities` into bit masks, and applying them in the child.
 *
 * Order in the child (as runc's finalizeNamespace and crun's set_required_caps do):
 *
 *   1. minirt_caps_apply_bounding()  still uid 0: drops the bounding set (needs CAP_SETPCAP in
 *                                    the effective set) and sets PR_SET_KEEPCAPS, so that the
 *                                    permitted set survives the uid change
 *   2. setgroups(), setresgid(), setresuid()        (the runtime's own code)
 *   3. minirt_caps_apply()           clears PR_SET_KEEPCAPS, capset(2) v3 for effective,
 *                                    permitted and inheritable, then the ambient set
 *   4. no_new_privs, seccomp (if it did not need CAP_SYS_ADMIN), execve
 *
 * Dropping the bounding set after step 2 would fail for a non-root user: setuid clears the
 * effective set, and PR_CAPBSET_DROP needs CAP_SETPCAP there. */
#ifndef MINIRT_CAPS_H
#define MINIRT_CAPS_H

#include "err.h"

#include <stdint.h>
#include <yajl/yajl_tree.h>

/* The highest capability number this build knows by name (CAP_CHECKPOINT_RESTORE). */
#define MINIRT_CAP_MAX 40

struct minirt_caps {
	uint64_t bounding;
	uint64_t effective;
	uint64_t inheritable;
	uint64_t permitted;
	uint64_t ambient;
	int last_cap; /* the running kernel's cap_last_cap, measured at parse time */
};

/* "CAP_CHOWN" for 0 …; NULL when cap is outside 0..MINIRT_CAP_MAX. Static storage. */
const char *minirt_cap_name(int cap);

/* The number of an OCI capability name ("CAP_SYS_ADMIN"; exact, upper case), or -1. */
int minirt_cap_from_name(const char *name);

/* The kernel's highest capability: /proc/sys/kernel/cap_last_cap, or probed with
 * PR_CAPBSET_READ when /proc is not there. Never fails (falls back to MINIRT_CAP_MAX). */
int minirt_caps_last_cap(void);

/* Parses the yajl node of `process.capabilities` (borrowed; NULL or JSON null gives empty sets)
 * into *out. Unknown names fail with the set and the name
 * (`process.capabilities.bounding: unknown capability "CAP_FOO"`); names this build knows but
 * the running kernel does not (above cap_last_cap) are dropped with one warning, as runc does. */
int minirt_caps_parse(yajl_val caps, struct minirt_caps *out, struct mini_err **err);

/* minirt_caps_parse with an explicit kernel limit instead of the running kernel's (tests). */
int minirt_caps_parse_last(yajl_val caps, int last_cap, struct minirt_caps *out,
			   struct mini_err **err);

/* Step 1 above, in the child before the uid/gid change: drops every capability not in
 * c->bounding from the bounding set and sets PR_SET_KEEPCAPS. */
int minirt_caps_apply_bounding(const struct minirt_caps *c, struct mini_err **err);

/* Step 3 above, in the child after the uid/gid change: clears PR_SET_KEEPCAPS, sets effective,
 * permitted and inheritable with capset(2) (v3), then clears the ambient set and raises each
 * ambient capability (which must also be permitted and inheritable). */
int minirt_caps_apply(const struct minirt_caps *c, struct mini_err **err);

#endif
