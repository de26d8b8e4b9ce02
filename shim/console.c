#include "console.h"
#include "cleanup.h"
#include "fd.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* How long a runtime that has exited may still take to get its message queued: none in practice
 * (the send happens before it exits); the bound only guards against a runtime that never
 * connected. */
#define RECEIVE_WAIT_MS 200

int
console_socket_open(struct console_socket *cs, struct mini_err **err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char tmpl[] = "/tmp/pty-XXXXXX";
	int fd;

	memset(cs, 0, sizeof(*cs));
	cs->fd = -1;
	if (mkdtemp(tmpl) == NULL)
		return mini_err_set(err, errno, "create console socket directory");
	cs->dir = xstrdup(tmpl);
	cs->path = xasprintf("%s/pty.sock", tmpl);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		int e = errno;

		console_socket_close(cs);
		return mini_err_set(err, e, "create console socket");
	}
	cs->fd = fd;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", cs->path);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 1) < 0) {
		int e = errno;

		console_socket_close(cs);
		return mini_err_set(err, e, "listen on console socket");
	}
	return 0;
}

int
console_socket_receive(struct console_socket *cs, int *master, struct mini_err **err)
{
	_cleanup_close_ int conn = -1;
	struct pollfd pfd = { .fd = cs->fd, .events = POLLIN };

	if (poll(&pfd, 1, RECEIVE_WAIT_MS) <= 0)
		return mini_err_set(err, ETIMEDOUT,
				    "receive console master: the runtime did not connect");
	conn = accept4(cs->fd, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0)
		return mini_err_set(err, errno, "accept on console socket");
	pfd.fd = conn;
	if (poll(&pfd, 1, RECEIVE_WAIT_MS) <= 0)
		return mini_err_set(err, ETIMEDOUT, "receive console master: nothing sent");
	if (recv_fd(conn, master, err) < 0)
		return mini_err_wrap(err, "receive console master");
	return 0;
}

void
console_socket_close(struct console_socket *cs)
{
	if (cs->fd >= 0)
		close(cs->fd);
	cs->fd = -1;
	if (cs->path)
		unlink(cs->path);
	if (cs->dir)
		rmdir(cs->dir);
	free(cs->path);
	free(cs->dir);
	cs->path = cs->dir = NULL;
}
