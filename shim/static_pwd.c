/* Linked into the static shim only (meson option static_shim). libuv's core.c refers to
 * getpwuid_r (for uv_os_get_passwd, which the shim never calls); glibc's static getpwuid_r would
 * pull in NSS and dlopen, and the binary would then want the shared NSS modules of the glibc it
 * was built with. This definition wins over libc.a's and answers from /etc/passwd alone. */
#include "passwd.h"

int
getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t len, struct passwd **res)
{
	return passwd_getpwuid_r(uid, pw, buf, len, res);
}
