#include "fd.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int
read_all(int fd, void *buf, size_t len, size_t *got, struct mini_err **err)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = read(fd, (char *)buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return mini_err_set(err, errno, "read fd %d", fd);
		if (n == 0)
			break;
		off += (size_t)n;
	}
	if (got)
		*got = off;
	return 0;
}

int
write_all(int fd, const void *buf, size_t len, struct mini_err **err)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = write(fd, (const char *)buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return mini_err_set(err, errno, "write fd %d", fd);
		off += (size_t)n;
	}
	return 0;
}

static int
set_flag(int fd, int getcmd, int setcmd, int flag, int on, struct mini_err **err)
{
	int flags = fcntl(fd, getcmd);

	if (flags < 0)
		return mini_err_set(err, errno, "fcntl get flags on fd %d", fd);
	flags = on ? (flags | flag) : (flags & ~flag);
	if (fcntl(fd, setcmd, flags) < 0)
		return mini_err_set(err, errno, "fcntl set flags on fd %d", fd);
	return 0;
}

int
set_nonblock(int fd, int on, struct mini_err **err)
{
	return set_flag(fd, F_GETFL, F_SETFL, O_NONBLOCK, on, err);
}

int
set_cloexec(int fd, int on, struct mini_err **err)
{
	return set_flag(fd, F_GETFD, F_SETFD, FD_CLOEXEC, on, err);
}

int
send_fd(int sock, int fd, struct mini_err **err)
{
	char byte = 0;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cmsg;

	memset(&u, 0, sizeof(u));
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof(u.buf);
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	while (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0) {
		if (errno != EINTR)
			return mini_err_set(err, errno, "send fd over socket %d", sock);
	}
	return 0;
}

int
recv_fd(int sock, int *out, struct mini_err **err)
{
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cmsg;
	ssize_t n;

	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof(u.buf);
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return mini_err_set(err, errno, "receive fd from socket %d", sock);
	cmsg = CMSG_FIRSTHDR(&msg);
	if (n == 0 || cmsg == NULL || cmsg->cmsg_type != SCM_RIGHTS ||
	    cmsg->cmsg_len != CMSG_LEN(sizeof(int)))
		return mini_err_set(err, EBADMSG, "receive fd from socket %d: no fd in message",
				    sock);
	memcpy(out, CMSG_DATA(cmsg), sizeof(int));
	return 0;
}
