#include "console.h"
#include "cleanup.h"
#include "fd.h"
#include "paths.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

int
console_connect(const char *path, struct mini_err **err)
{
	_cleanup_close_ int fd = -1;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(addr.sun_path))
		return mini_err_set(err, ENAMETOOLONG, "console socket path %s", path);
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return mini_err_set(err, errno, "create console socket");
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return mini_err_set(err, errno, "connect to console socket %s", path);
	return steal_fd(&fd);
}

static int
bind_dev_console(const char *slave, struct mini_err **err)
{
	_cleanup_close_ int fd = -1;
	char buf[64];

	fd = open("/dev/console", O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0000);
	if (fd < 0 && errno == ELOOP) {
		/* a symlink from the image: replace it */
		unlink("/dev/console");
		fd = open("/dev/console", O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0000);
	}
	if (fd < 0)
		return mini_err_set(err, errno, "create /dev/console");
	if (mount(slave, fd_path(fd, buf, sizeof(buf)), NULL, MS_BIND, NULL) < 0)
		return mini_err_set(err, errno, "bind %s on /dev/console", slave);
	return 0;
}

int
console_setup(int sock, const struct spec_process *p, bool bind_console, struct mini_err **err)
{
	_cleanup_close_ int master = -1, slave = -1;
	char name[128];
	int ret, i;

	master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return mini_err_set(err, errno, "open /dev/ptmx");
	if (unlockpt(master) < 0)
		return mini_err_set(err, errno, "unlockpt");
	if (ptsname_r(master, name, sizeof(name)) != 0)
		return mini_err_set(err, errno, "ptsname");
	slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return mini_err_set(err, errno, "open %s", name);
	if (p->console_size_present && (p->console_height || p->console_width)) {
		struct winsize ws = { .ws_row = (unsigned short)p->console_height,
				      .ws_col = (unsigned short)p->console_width };

		if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
			return mini_err_set(err, errno, "set console size");
	}
	if (bind_console) {
		ret = bind_dev_console(name, err);
		if (ret < 0)
			return ret;
	}
	ret = send_fd(sock, master, err);
	if (ret < 0)
		return mini_err_wrap(err, "send the pty master to the console socket");
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return mini_err_set(err, errno, "make %s the controlling terminal", name);
	for (i = 0; i < 3; i++)
		if (dup2(slave, i) < 0)
			return mini_err_set(err, errno, "dup %s onto fd %d", name, i);
	return 0;
}
