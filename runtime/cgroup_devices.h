/* The devices cgroup: which device nodes the container may open or create.
 *
 * The rule list is linux.resources.devices followed by the defaults runc appends for every
 * container (mknod of any device; read/write/mknod of /dev/null, zero, full, random, urandom, tty,
 * ptmx, the pts slaves and tun), less the default rules for paths linux.devices redefines. It is
 * replayed with the kernel's v1 semantics: a rule of type 'a' resets the policy (allow: allow all;
 * deny: deny all), other rules add or remove exceptions to the current default. The list starts
 * from "deny all", so a config without device rules gets only the defaults.
 *
 * v1 writes the rules to devices.deny/devices.allow (the kernel does the replay); v2 has no
 * devices files, so the replayed policy is compiled into a BPF_PROG_TYPE_CGROUP_DEVICE program and
 * attached to the container's cgroup. */
#ifndef MINIRT_CGROUP_DEVICES_H
#define MINIRT_CGROUP_DEVICES_H

#include "err.h"
#include "spec.h"

#include <linux/bpf.h>
#include <stdbool.h>
#include <stddef.h>

/* The container's rule list, as above. Caller owns *out (free()). */
void cgroup_device_rules(const struct minirt_spec *s, struct spec_dev_rule **out, size_t *n);

/* "c 1:3 rwm", "a *:* rwm": the v1 file syntax. Returns buf (at least 48 bytes). */
const char *cgroup_dev_rule_string(const struct spec_dev_rule *r, char *buf, size_t len);

/* The outcome of replaying a rule list: a default and the exceptions to it (all of type 'c' or
 * 'b', each with the access it grants when default_allow is false, or denies when true). */
struct dev_policy {
	bool default_allow;
	struct spec_dev_rule *exc;
	size_t n;
};

void dev_policy_build(const struct spec_dev_rule *rules, size_t n, struct dev_policy *out);
void dev_policy_clear(struct dev_policy *p);

/* Whether the policy lets a process open (or mknod) a device: type 'c' or 'b', access the
 * SPEC_DEV_ACC_* bits requested. The reference the BPF program is tested against. */
bool dev_policy_allows(const struct dev_policy *p, char type, unsigned major, unsigned minor,
		       unsigned access);

/* The cgroup v2 device program for the policy. Caller owns *out (free()). */
void dev_bpf_program(const struct dev_policy *p, struct bpf_insn **out, size_t *n);

/* Loads the program and attaches it to the cgroup directory dir_fd (borrowed), then detaches
 * the device programs that were attached there before, so the new one replaces them. */
int dev_bpf_attach(int dir_fd, const struct bpf_insn *insns, size_t n, struct mini_err **err);

#endif
