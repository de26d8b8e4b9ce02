/* Finding the shim's socket and making one ttrpc call with shimctl's error conventions. */
#include "shimctl.h"

#include "cleanup.h"
#include "client.h"
#include "fs.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

const char *
shimctl_require_id(struct shimctl *ctx, const char *cmd)
{
	if (ctx->id == NULL || *ctx->id == '\0') {
		shimctl_usage_error(cmd, "--id ID (the container id) is required");
		return NULL;
	}
	return ctx->id;
}

int
shimctl_resolve_address(struct shimctl *ctx, const char **address, struct mini_err **err)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	size_t len;

	if (ctx->address != NULL) {
		*address = ctx->address;
		return 0;
	}
	if (ctx->address_owned != NULL) {
		*address = ctx->address_owned;
		return 0;
	}
	if (ctx->id == NULL)
		return mini_err_setc(
			err, MINI_E_INVALID, 0,
			"no shim given: use --address ADDR, or --id ID [--namespace NS]");
	/* containerd writes the shim's "unix:///run/containerd/s/<hash>" into the bundle, which
	 * is <state-dir>/<namespace>/<id>. */
	path = xasprintf("%s/%s/%s/address", ctx->state_dir, ctx->ns, ctx->id);
	if (read_file(path, &text, &len, err) < 0)
		return mini_err_wrap(err, "find the shim of %s/%s", ctx->ns, ctx->id);
	while (len > 0 && isspace((unsigned char)text[len - 1]))
		text[--len] = '\0';
	if (len == 0)
		return mini_err_setc(err, MINI_E_NOTFOUND, 0, "%s is empty", path);
	ctx->address_owned = steal_ptr(&text);
	*address = ctx->address_owned;
	return 0;
}

int
shimctl_rpc_at(const char *address, const char *service, const char *method,
	       const ProtobufCMessage *req, const ProtobufCMessageDescriptor *res_desc,
	       int64_t timeout_ns, const char *ns, ProtobufCMessage **res, struct mini_err **err)
{
	struct ttrpc_kv md = { .key = SHIMCTL_NS_METADATA, .value = ns };
	struct ttrpc_result r;
	ProtobufCMessage *m;
	const char *path = strncmp(address, "unix://", 7) == 0 ? address + 7 : address;

	if (ttrpc_call_sync(address, service, method, req, timeout_ns, ns ? &md : NULL, ns ? 1 : 0,
			    &r, err) < 0) {
		/* Connect errors name the socket already; the others do not. */
		if (strstr((*err)->msg, path) == NULL)
			mini_err_wrap(err, "%s", address);
		return mini_err_ret(*err);
	}
	if (r.code != 0) {
		int ret = mini_err_setc(err, (enum mini_code)r.code, 0, "%s",
					r.message && *r.message ? r.message : "(no message)");
		ttrpc_result_clear(&r);
		return ret;
	}
	m = protobuf_c_message_unpack(res_desc, NULL, r.len, r.payload);
	ttrpc_result_clear(&r);
	if (m == NULL)
		return mini_err_setc(err, MINI_E_INTERNAL, EBADMSG, "decode the %s reply of %s/%s",
				     res_desc->name, service, method);
	*res = m;
	return 0;
}

int
shimctl_rpc(struct shimctl *ctx, const char *service, const char *method,
	    const ProtobufCMessage *req, const ProtobufCMessageDescriptor *res_desc,
	    int64_t default_timeout_ns, ProtobufCMessage **res, struct mini_err **err)
{
	const char *address;
	int64_t timeout = ctx->timeout_ns >= 0 ? ctx->timeout_ns : default_timeout_ns;

	if (shimctl_resolve_address(ctx, &address, err) < 0)
		return mini_err_ret(*err);
	return shimctl_rpc_at(address, service, method, req, res_desc, timeout, ctx->ns, res, err);
}
