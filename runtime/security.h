/* The privilege steps between a process's setup and its execve(), in the one order that works
 * (see caps.h and seccomp.h):
 *
 *   0. scheduler and I/O priority (proc_sched.h), the LSM exec label (AppArmor/SELinux)
 *   1. bounding set dropped, PR_SET_KEEPCAPS           still uid 0
 *   2. seccomp filter, when no_new_privs is off         needs CAP_SYS_ADMIN
 *   3. setgroups, setgid, setuid, umask                 process_set_user()
 *   4. effective/permitted/inheritable, then ambient    capset(2)
 *   5. no_new_privs
 *   6. seccomp filter, when no_new_privs is on          as late as the sync protocol allows
 *
 * The parent prepares both (capability names checked, profile compiled into a sealed memfd)
 * before any namespace exists, so a bad profile fails `create` early and the child only makes
 * syscalls.
 *
 * process.apparmorProfile and process.selinuxLabel are applied (written to the exec attribute of
 * /proc/thread-self/attr, taking effect at execve) only when the host runs that LSM. Otherwise
 * `create` fails before anything is made, as runc 1.1 fails (runc: "selinux label is specified
 * in config, but selinux is disabled or not supported"; for AppArmor runc writes the attribute
 * regardless and fails with EINVAL): a container must not silently run without the confinement
 * its config asks for. */
#ifndef MINIRT_SECURITY_H
#define MINIRT_SECURITY_H

#include "caps.h"
#include "err.h"
#include "proc_sched.h"
#include "spec.h"

#include <stdbool.h>
#include <sys/types.h>

struct process_security {
	struct minirt_caps caps;
	int seccomp_fd; /* sealed BPF memfd, or -1 for no filter */
	unsigned seccomp_flags;
	bool seccomp_notify;	       /* the profile has SCMP_ACT_NOTIFY rules */
	const char *listener_path;     /* borrowed from the spec tree */
	const char *listener_metadata; /* borrowed from the spec tree */
	struct proc_sched sched;
	const char *apparmor_profile; /* borrowed; NULL or "" for none */
	const char *selinux_label;    /* borrowed; NULL or "" for none */
};

/* Parent side: p->capabilities_raw and the linux.seccomp node (both borrowed; NULL is fine).
 * Initialises *out (seccomp_fd -1 on failure too). */
int security_prepare(const struct spec_process *p, yajl_val seccomp, struct process_security *out,
		     struct mini_err **err);
void security_clear(struct process_security *s);

/* Child side, steps 1–6. *notify_fd is the seccomp listener (caller owns) or -1. */
int security_apply(const struct spec_process *p, const struct process_security *s, int *notify_fd,
		   struct mini_err **err);

/* Child side, after security_apply returned a listener: tells the parent its fd number and
 * waits until the parent has handed it to the agent; then closes it. */
int security_handoff_notify(int sync_fd, int notify_fd, struct mini_err **err);

/* Parent side, on SYNC_SECCOMP: copies fd `remote_fd` out of pid, sends it to the agent at
 * listenerPath with state_json, and acknowledges with SYNC_SECCOMP_DONE. */
int security_forward_notify(int sync_fd, pid_t pid, int remote_fd, const struct process_security *s,
			    const char *state_json, struct mini_err **err);

#endif
