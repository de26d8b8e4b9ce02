/* OCI `linux.seccomp` → a classic BPF program.
 *
 * The parent compiles the profile with libseccomp and exports the BPF into a sealed memfd; the
 * child, after clone, maps that memfd and loads it with the raw seccomp(2) syscall. So the child
 * needs neither libseccomp's allocations nor its kernel probing after clone, and a profile error
 * is reported before any namespace exists.
 *
 * Order in the child (runc's rule): with process.noNewPrivileges the filter is loaded as late as
 * possible, right before execve, after the capabilities and the uid change; without it the
 * kernel requires CAP_SYS_ADMIN, so the filter is loaded before minirt_caps_apply() and the uid
 * change, and the profile must allow those syscalls (capset, prctl, setresuid …), as with runc.
 *
 * SCMP_ACT_NOTIFY (parent side in seccomp_notify.c): minirt_seccomp_load() returns the listener
 * fd in the child. The child passes its *number* to the parent with write(2) on the sync pipe (a
 * profile may deny sendmsg; NOTIFY on `write` is rejected at compile time for this reason, as
 * runc does), the parent takes the fd with minirt_seccomp_take_notify_fd() (pidfd_getfd) and
 * hands it to the agent with minirt_seccomp_send_notify() before letting the child continue. */

/* This header shares its name with libseccomp's <seccomp.h>, and runtime/ is usually on the
 * include path, where it shadows the library's. A file that needs libseccomp defines
 * MINIRT_WANT_LIBSECCOMP and includes <seccomp.h>: if the search lands here, it continues with
 * the next directory and so reaches the library's header. */
#ifdef MINIRT_WANT_LIBSECCOMP
#undef MINIRT_WANT_LIBSECCOMP
#include_next <seccomp.h>
#elif !defined(MINIRT_SECCOMP_H)
#define MINIRT_SECCOMP_H

#include "err.h"

#include <stdbool.h>
#include <sys/types.h>
#include <yajl/yajl_tree.h>

/* Compiles the yajl node of `linux.seccomp` (borrowed for the call). On success *memfd_out is a
 * sealed, O_CLOEXEC memfd holding the BPF program (caller owns it) and *flags_out the
 * SECCOMP_FILTER_FLAG_* bits for minirt_seccomp_load (including NEW_LISTENER when a rule uses
 * SCMP_ACT_NOTIFY). A NULL node, JSON null, or a profile with neither defaultAction nor syscalls
 * means "no filter": 0 with *memfd_out = -1 and *flags_out = 0, as runc does.
 *
 * Follows runc 1.1.5: unknown syscall names are skipped, rules whose action equals the default
 * are skipped, several args on one rule are ANDed unless two of them name the same argument
 * index, in which case each arg becomes a rule of its own (ORed). Flags: TSYNC is accepted and
 * ignored (the child is single-threaded), LOG and SPEC_ALLOW are probed in the running kernel,
 * WAIT_KILLABLE_RECV is used only with a NOTIFY rule (the kernel refuses it without a listener).
 * Errors name the JSON path: `linux.seccomp.syscalls[3].action: unknown action "SCMP_ACT_FOO"`. */
int minirt_seccomp_compile(yajl_val seccomp, int *memfd_out, unsigned *flags_out,
			   struct mini_err **err);

/* What the parent needs for SCMP_ACT_NOTIFY. The strings are borrowed from the tree. */
struct minirt_seccomp_notify {
	bool uses_notify;	       /* some syscalls[].action is SCMP_ACT_NOTIFY */
	const char *listener_path;     /* linux.seccomp.listenerPath, NULL if unset */
	const char *listener_metadata; /* linux.seccomp.listenerMetadata, NULL if unset */
};

/* Fills *out from the `linux.seccomp` node (NULL or JSON null: no notify). Checks only the
 * fields it reads; minirt_seccomp_compile validates the rest. */
int minirt_seccomp_notify_info(yajl_val seccomp, struct minirt_seccomp_notify *out,
			       struct mini_err **err);

/* In the child: maps the BPF from memfd (borrowed) and loads it with seccomp(2)
 * SECCOMP_SET_MODE_FILTER and `flags`. The kernel requires no_new_privs or CAP_SYS_ADMIN; EACCES
 * is reported as such. *notify_fd_out is the listener fd (O_CLOEXEC, caller owns) when flags has
 * SECCOMP_FILTER_FLAG_NEW_LISTENER, else -1. On success the mapping is deliberately left in
 * place: munmap() could be denied by the filter just loaded, and execve() discards it. */
int minirt_seccomp_load(int memfd, unsigned flags, int *notify_fd_out, struct mini_err **err);

/* In the parent: copies fd number `remote_fd` of process `pid` into this process with
 * pidfd_getfd(2) (needs ptrace access to pid: same uid, or CAP_SYS_PTRACE). *fd_out is
 * O_CLOEXEC; caller owns it. */
int minirt_seccomp_take_notify_fd(pid_t pid, int remote_fd, int *fd_out, struct mini_err **err);

/* Connects to the seccomp agent's unix stream socket at listener_path and sends one OCI
 * "container process state" ({"ociVersion", "fds": ["seccompFd"], "pid", "metadata",
 * "state"}) with notify_fd (borrowed) attached by SCM_RIGHTS, then closes the connection, as
 * runc does. state_json is the container's state (`minirun state` output, with "pid" and
 * "ociVersion"); pid is the process the filter belongs to (for exec it is not state.pid), or 0
 * to use state.pid. metadata may be NULL. */
int minirt_seccomp_send_notify(const char *listener_path, const char *metadata, int notify_fd,
			       pid_t pid, const char *state_json, struct mini_err **err);

/* Writes libseccomp's human-readable pseudo filter code (seccomp_export_pfc) for the profile to
 * fd: tests compare it with golden files, and it helps when debugging a profile. An empty
 * profile writes nothing. */
int minirt_seccomp_export_pfc(yajl_val seccomp, int fd, struct mini_err **err);

/* NULL-terminated lists of the names this build accepts (for `minirun features`). Static. */
const char *const *minirt_seccomp_known_actions(void);
const char *const *minirt_seccomp_known_archs(void);
const char *const *minirt_seccomp_known_operators(void);
const char *const *minirt_seccomp_known_flags(void);

#endif /* MINIRT_SECCOMP_H */
