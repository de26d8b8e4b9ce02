#include "tap.h"
#include "cleanup.h"
#include "err.h"
#include "ids.h"

#include <errno.h>
#include <stdlib.h>

static int
inner(struct mini_err **err)
{
	return mini_err_set(err, EACCES, "mount proc on /proc");
}

static int
outer(struct mini_err **err)
{
	int ret = inner(err);
	if (ret < 0)
		return mini_err_wrap(err, "create container %s", "abc");
	return 0;
}

int
main(void)
{
	struct mini_err *err = NULL;
	_cleanup_free_ char *s = NULL;
	int ret;

	ret = outer(&err);
	is_int(ret, -EACCES, "wrap keeps the errno as the return value");
	s = mini_err_render(err);
	is_str(s, "create container abc: mount proc on /proc: Permission denied", "chain renders");
	is_int(mini_err_grpc_code(err), MINI_E_UNKNOWN, "EACCES maps to Unknown");
	mini_err_freep(&err);
	ok(err == NULL, "freep clears");

	mini_err_set(&err, ENOENT, "x");
	is_int(mini_err_grpc_code(err), MINI_E_NOTFOUND, "ENOENT → NotFound");
	mini_err_freep(&err);
	mini_err_set(&err, ESRCH, "x");
	is_int(mini_err_grpc_code(err), MINI_E_NOTFOUND, "ESRCH → NotFound");
	mini_err_freep(&err);
	mini_err_set(&err, EEXIST, "x");
	is_int(mini_err_grpc_code(err), MINI_E_EXISTS, "EEXIST → AlreadyExists");
	mini_err_freep(&err);
	mini_err_set(&err, EBUSY, "x");
	is_int(mini_err_grpc_code(err), MINI_E_PRECONDITION, "EBUSY → FailedPrecondition");
	mini_err_freep(&err);
	mini_err_set(&err, ENOSYS, "x");
	is_int(mini_err_grpc_code(err), MINI_E_UNIMPLEMENTED, "ENOSYS → Unimplemented");
	mini_err_freep(&err);
	ret = mini_err_setc(&err, MINI_E_PRECONDITION, 0, "cannot start a running process");
	is_int(ret, -EIO, "no errno → -EIO");
	is_int(mini_err_grpc_code(err), MINI_E_PRECONDITION, "explicit code wins");
	free(s);
	s = mini_err_render(err);
	is_str(s, "cannot start a running process", "no strerror without errno");
	mini_err_freep(&err);
	is_str(mini_code_name(5), "NotFound", "code name");
	is_str(mini_code_name(99), "Code(99)", "unknown code name");
	is_int(mini_err_set(NULL, EPERM, "ignored"), -EPERM, "NULL err still returns class");

	ok(id_validate("abc-1.x_y", "id", NULL) == 0, "valid id");
	ok(id_validate("", "id", NULL) < 0, "empty id rejected");
	ok(id_validate("../x", "id", NULL) < 0, "dots-slash rejected");
	ok(id_validate("a/b", "id", NULL) < 0, "slash rejected");
	ok(id_validate("a--b", "id", NULL) < 0, "double separator rejected");
	ok(id_validate("-a", "id", NULL) < 0, "leading separator rejected");
	ok(id_validate("a.", "id", NULL) < 0, "trailing separator rejected");
	ret = id_validate("a b", "exec id", &err);
	ok(ret == -EINVAL && err && strstr(err->msg, "exec id \"a b\""), "message names the id");
	mini_err_freep(&err);
	return tap_done();
}
