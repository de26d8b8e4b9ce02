/* User names from /etc/passwd alone, as runc's libcontainer/user reads them: no NSS, so that a
 * statically linked binary (the shim) neither drags in glibc's dlopen machinery nor depends at run
 * time on the shared NSS modules of the glibc it was built with. */
#ifndef MINI_PASSWD_H
#define MINI_PASSWD_H

#include <pwd.h>
#include <stddef.h>
#include <sys/types.h>

/* getpwuid_r(3) over /etc/passwd only: 0 with *res = pw (strings in buf) when found, 0 with
 * *res = NULL when not, else an errno value (ERANGE: buf too small). */
int passwd_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t len, struct passwd **res);
/* The name of uid, or "" when /etc/passwd has none. Caller owns the result. */
char *passwd_user_name(uid_t uid);

#endif
