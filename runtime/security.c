#include "security.h"
#include "log.h"
#include "process.h"
#include "seccomp.h"
#include "sync.h"

#include <errno.h>
#include <sys/prctl.h>
#include <unistd.h>

int
security_prepare(const struct spec_process *p, yajl_val seccomp, struct process_security *out,
		 struct mini_err **err)
{
	struct minirt_seccomp_notify info = { 0 };
	int ret;

	*out = (struct process_security){ .seccomp_fd = -1 };
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
