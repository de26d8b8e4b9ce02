#include "security.h"
#include "cleanup.h"
#include "xalloc.h"
#include "log.h"
#include "process.h"
#include "seccomp.h"
#include "sync.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static bool
apparmor_enabled(void)
{
	char buf[4] = "";
	int fd = open("/sys/module/apparmor/parameters/enabled", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = '\0';
	close(fd);
	return buf[0] == 'Y' && access("/sys/kernel/security/apparmor", F_OK) == 0;
}

static bool
selinux_enabled(void)
{
	return access("/sys/fs/selinux/enforce", F_OK) == 0;
}

/* The LSM checks of security_prepare (see security.h). */
static int
check_lsm(const struct spec_process *p, struct process_security *out, struct mini_err **err)
{
	if (p->apparmor_profile && p->apparmor_profile[0]) {
		if (!apparmor_enabled())
			return mini_err_set(
				err, EINVAL,
				"process.apparmorProfile: \"%s\" given, but AppArmor is "
				"not enabled on this host",
				p->apparmor_profile);
		out->apparmor_profile = p->apparmor_profile;
	}
	if (p->selinux_label && p->selinux_label[0]) {
		if (!selinux_enabled())
			return mini_err_set(err, EINVAL,
					    "process.selinuxLabel: selinux label is specified in "
					    "config, but selinux is disabled or not supported");
		out->selinux_label = p->selinux_label;
	}
	return 0;
}

static int
write_attr(const char *file, const char *value, struct mini_err **err)
{
	int fd = open(file, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return mini_err_set(err, errno, "open %s", file);
	n = write(fd, value, strlen(value));
	close(fd);
	if (n < 0)
		return mini_err_set(err, errno, "write %s", file);
	return 0;
}

/* Step 0's labels, for the coming execve. */
static int
apply_lsm(const struct process_security *s, struct mini_err **err)
{
	if (s->apparmor_profile) {
		_cleanup_free_ char *v = xasprintf("exec %s", s->apparmor_profile);
		/* The AppArmor-specific file when LSMs are stacked (Linux 5.8+). */
		const char *f = access("/proc/thread-self/attr/apparmor/exec", F_OK) == 0
					? "/proc/thread-self/attr/apparmor/exec"
					: "/proc/thread-self/attr/exec";

		if (write_attr(f, v, err) < 0)
			return mini_err_wrap(err, "process.apparmorProfile");
	}
	if (s->selinux_label &&
	    write_attr("/proc/thread-self/attr/exec", s->selinux_label, err) < 0)
		return mini_err_wrap(err, "process.selinuxLabel");
	return 0;
}

int
security_prepare(const struct spec_process *p, yajl_val seccomp, struct process_security *out,
		 struct mini_err **err)
{
	struct minirt_seccomp_notify info = { 0 };
	int ret;

	*out = (struct process_security){ .seccomp_fd = -1 };
	ret = check_lsm(p, out, err);
	if (ret == 0)
		ret = proc_sched_parse(p->scheduler, p->io_priority, &out->sched, err);
	if (ret < 0)
		return ret;
	/* runc: no capabilities object means empty sets, for root too. */
	ret = minirt_caps_parse(p->capabilities_raw, &out->caps, err);
	if (ret < 0)
		return ret;
	/* The kernel raises an ambient capability only if it is permitted and inheritable.
	 * runc and crun skip the others silently, and `runc spec` (and ours) asks for ambient
	 * without inheritable: follow them rather than fail every default config. */
	if (out->caps.ambient & ~(out->caps.permitted & out->caps.inheritable)) {
		log_debug("ambient capabilities outside permitted and inheritable are not raised");
		out->caps.ambient &= out->caps.permitted & out->caps.inheritable;
	}
	ret = minirt_seccomp_compile(seccomp, &out->seccomp_fd, &out->seccomp_flags, err);
	if (ret < 0)
		return ret;
	ret = minirt_seccomp_notify_info(seccomp, &info, err);
	if (ret < 0) {
		security_clear(out);
		return ret;
	}
	out->seccomp_notify = info.uses_notify;
	out->listener_path = info.listener_path;
	out->listener_metadata = info.listener_metadata;
	if (out->seccomp_notify && out->listener_path == NULL) {
		security_clear(out);
		return mini_err_set(err, EINVAL,
				    "linux.seccomp.listenerPath: required by SCMP_ACT_NOTIFY");
	}
	return 0;
}

void
security_clear(struct process_security *s)
{
	if (s->seccomp_fd >= 0)
		close(s->seccomp_fd);
	s->seccomp_fd = -1;
}

static int
load_filter(const struct process_security *s, int *notify_fd, struct mini_err **err)
{
	if (s->seccomp_fd < 0)
		return 0;
	return minirt_seccomp_load(s->seccomp_fd, s->seccomp_flags, notify_fd, err);
}

int
security_apply(const struct spec_process *p, const struct process_security *s, int *notify_fd,
	       struct mini_err **err)
{
	int ret;

	*notify_fd = -1;
	ret = proc_sched_apply(&s->sched, err);
	if (ret == 0)
		ret = apply_lsm(s, err);
	if (ret == 0)
		ret = minirt_caps_apply_bounding(&s->caps, err);
	if (ret < 0)
		return ret;
	if (!p->no_new_privileges && (ret = load_filter(s, notify_fd, err)) < 0)
		return ret;
	ret = process_set_user(p, err);
	if (ret < 0)
		return ret;
	ret = minirt_caps_apply(&s->caps, err);
	if (ret < 0)
		return ret;
	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return mini_err_set(err, errno, "set no_new_privs");
	if (p->no_new_privileges)
		return load_filter(s, notify_fd, err);
	return 0;
}

int
security_handoff_notify(int sync_fd, int notify_fd, struct mini_err **err)
{
	int ret;

	ret = sync_send(sync_fd, SYNC_SECCOMP, notify_fd, NULL, 0, err);
	if (ret == 0)
		ret = sync_expect(sync_fd, SYNC_SECCOMP_DONE, NULL, err);
	close(notify_fd);
	return ret;
}

int
security_forward_notify(int sync_fd, pid_t pid, int remote_fd, const struct process_security *s,
			const char *state_json, struct mini_err **err)
{
	int fd = -1, ret;

	ret = minirt_seccomp_take_notify_fd(pid, remote_fd, &fd, err);
	if (ret < 0)
		return ret;
	ret = minirt_seccomp_send_notify(s->listener_path, s->listener_metadata, fd, pid,
					 state_json, err);
	close(fd);
	if (ret < 0)
		return ret;
	return sync_send(sync_fd, SYNC_SECCOMP_DONE, 0, NULL, 0, err);
}
