/* The parent's side of SCMP_ACT_NOTIFY (see seccomp.h): take the listener fd out of the child
 * and hand it to the seccomp agent named by linux.seccomp.listenerPath, as runc does. No
 * libseccomp here. */
#include "seccomp.h"

#include "cleanup.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

/* A version for the container process state when the state JSON carries none. */
#define NOTIFY_OCI_VERSION "1.0.2"

static void
tree_freep(yajl_val *v)
{
	if (*v)
		yajl_tree_free(*v);
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

int
minirt_seccomp_take_notify_fd(pid_t pid, int remote_fd, int *fd_out, struct mini_err **err)
{
	_cleanup_close_ int pidfd = -1;
	int fd;

	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return mini_err_set(err, errno, "open pidfd of process %d", (int)pid);
	fd = (int)syscall(SYS_pidfd_getfd, pidfd, remote_fd, 0);
	if (fd < 0)
		return mini_err_set(err, errno, "get seccomp listener fd %d of process %d",
				    remote_fd, (int)pid);
	*fd_out = fd;
	return 0;
}

/* Appends s as a JSON string literal to buf at *len (buf has room: 6 bytes per input byte). */
static void
json_quote(char *buf, size_t *len, const char *s)
{
	size_t n = *len;

	buf[n++] = '"';
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			buf[n++] = '\\';
			buf[n++] = (char)c;
		} else if (c < 0x20) {
			n += (size_t)sprintf(buf + n, "\\u%04x", c);
		} else {
			buf[n++] = (char)c;
		}
	}
	buf[n++] = '"';
	buf[n] = '\0';
	*len = n;
}

/* The OCI "container process state" around state_json. Caller owns the result. */
static char *
process_state_json(const char *metadata, pid_t pid, const char *state_json, struct mini_err **err)
{
	_cleanup_(tree_freep) yajl_val state = NULL;
	const char *version = NOTIFY_OCI_VERSION;
	char errbuf[128];
	size_t cap, len = 0;
	yajl_val v;
	char *buf;

	errbuf[0] = '\0';
	state = yajl_tree_parse(state_json, errbuf, sizeof(errbuf));
	if (state == NULL || !YAJL_IS_OBJECT(state)) {
		mini_err_set(err, EINVAL, "container state for the seccomp agent: %s",
			     state ? "expected an object" : errbuf);
		return NULL;
	}
	if ((v = obj_get(state, "ociVersion")) != NULL && YAJL_IS_STRING(v))
		version = v->u.string;
	if (pid <= 0) {
		v = obj_get(state, "pid");
		if (v == NULL || !YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) <= 0) {
			mini_err_set(err, EINVAL, "container state for the seccomp agent: no pid");
			return NULL;
		}
		pid = (pid_t)YAJL_GET_INTEGER(v);
	}

	cap = 128 + 6 * strlen(version) + 6 * (metadata ? strlen(metadata) : 0) +
	      strlen(state_json);
	buf = xmalloc(cap);
	len = (size_t)sprintf(buf, "{\"ociVersion\":");
	json_quote(buf, &len, version);
	len += (size_t)sprintf(buf + len, ",\"fds\":[\"seccompFd\"],\"pid\":%d", (int)pid);
	/* Go's omitempty, as runc sends it. */
	if (metadata && *metadata) {
		len += (size_t)sprintf(buf + len, ",\"metadata\":");
		json_quote(buf, &len, metadata);
	}
	sprintf(buf + len, ",\"state\":%s}", state_json);
	return buf;
}

int
minirt_seccomp_send_notify(const char *listener_path, const char *metadata, int notify_fd,
			   pid_t pid, const char *state_json, struct mini_err **err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	_cleanup_free_ char *msg = NULL;
	_cleanup_close_ int sock = -1;
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cmsg;
	size_t len, off = 0;
	ssize_t n;

	if (strlen(listener_path) >= sizeof(addr.sun_path))
		return mini_err_set(err, ENAMETOOLONG, "seccomp agent socket path %s",
				    listener_path);
	strcpy(addr.sun_path, listener_path);
	msg = process_state_json(metadata, pid, state_json, err);
	if (msg == NULL)
		return mini_err_ret(*err);
	len = strlen(msg);

	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return mini_err_set(err, errno, "create socket for the seccomp agent");
	if (connect(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return mini_err_set(err, errno, "connect to seccomp agent at %s", listener_path);

	/* The fd goes with the first sendmsg only, as the spec requires; the rest of a long state
	 * follows in plain sends. */
	memset(&u, 0, sizeof(u));
	iov = (struct iovec){ .iov_base = msg, .iov_len = len };
	mh.msg_control = u.buf;
	mh.msg_controllen = sizeof(u.buf);
	cmsg = CMSG_FIRSTHDR(&mh);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &notify_fd, sizeof(int));
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	while (n >= 0 && (off += (size_t)n) < len) {
		do
			n = send(sock, msg + off, len - off, MSG_NOSIGNAL);
		while (n < 0 && errno == EINTR);
	}
	if (n < 0)
		return mini_err_set(err, errno, "send seccomp fd to the agent at %s",
				    listener_path);
	return 0;
}
