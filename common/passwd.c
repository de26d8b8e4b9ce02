#include "passwd.h"
#include "cleanup.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>

int
passwd_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t len, struct passwd **res)
{
	_cleanup_fclose_ FILE *f = fopen("/etc/passwd", "re");
	int r;

	*res = NULL;
	if (f == NULL)
		return errno == ENOENT ? 0 : errno;
	while ((r = fgetpwent_r(f, pw, buf, len, res)) == 0) {
		if (pw->pw_uid == uid)
			return 0;
	}
	*res = NULL;
	return r == ENOENT ? 0 : r;
}

char *
passwd_user_name(uid_t uid)
{
	struct passwd pw, *res = NULL;
	char buf[1024];

	if (passwd_getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
		return xstrdup("");
	return xstrdup(pw.pw_name);
}
