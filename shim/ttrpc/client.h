/* ttrpc clients: an asynchronous one on a libuv loop (the shim's event publisher), and a blocking
 * one-shot call for command-line tools (shimctl). Only unary calls. */
#ifndef MINI_TTRPC_CLIENT_H
#define MINI_TTRPC_CLIENT_H

#include "err.h"

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct ttrpc_kv {
	const char *key;
	const char *value;
};

/* The outcome of one call. code is the gRPC status (0 = OK); transport failures (connect refused,
 * connection closed before the reply, timeout) are reported as Unavailable (14) or
 * DeadlineExceeded (4) with a message saying what happened. message is never NULL (may be "").
 * payload/len are valid only during the callback (async) or until ttrpc_result_clear (sync). */
struct ttrpc_result {
	int code;
	char *message;
	uint8_t *payload;
	size_t len;
};
void ttrpc_result_clear(struct ttrpc_result *res);

typedef void (*ttrpc_call_cb)(const struct ttrpc_result *res, void *data);

struct ttrpc_client;

/* A client for the unix socket at path ("unix://" prefix accepted). It connects lazily on the
 * first call and again after the connection breaks (calls in flight on a broken connection fail
 * with Unavailable; it does not retry them). Stream ids are odd, from 1 on each connection. It
 * never blocks the loop. Caller owns it; free with ttrpc_client_close. */
struct ttrpc_client *ttrpc_client_new(uv_loop_t *loop, const char *path);

/* Sends one request. cb is called exactly once (also when the client is closed first, with
 * Canceled). timeout_ns > 0 sets Request.timeout_nano and fails the call with DeadlineExceeded
 * when no reply arrived in time. md (n_md entries) is copied. cb may start new calls or close the
 * client. Returns 0, or -errno with *err set when the request cannot even be sent: over
 * TTRPC_MAX_MESSAGE (-EMSGSIZE), socket path too long (-ENAMETOOLONG), client closing
 * (-ESHUTDOWN); cb is not called then. A connect failure is reported through cb (Unavailable). */
int ttrpc_client_call(struct ttrpc_client *c, const char *service, const char *method,
		      const ProtobufCMessage *req, int64_t timeout_ns, const struct ttrpc_kv *md,
		      size_t n_md, ttrpc_call_cb cb, void *data, struct mini_err **err);

/* Fails outstanding calls with Canceled (their callbacks run before this returns), closes the
 * connection, frees c once its handles have closed. */
void ttrpc_client_close(struct ttrpc_client *c);

/* Blocking one-shot call, no loop: connect, send, wait for the reply (timeout_ns > 0 bounds the
 * whole call). On a transport failure returns -errno and sets *err (class Unavailable, or
 * DeadlineExceeded with -ETIMEDOUT); otherwise returns 0 and fills *res (whose code may be an
 * error status from the server); the caller clears it with ttrpc_result_clear. */
int ttrpc_call_sync(const char *path, const char *service, const char *method,
		    const ProtobufCMessage *req, int64_t timeout_ns, const struct ttrpc_kv *md,
		    size_t n_md, struct ttrpc_result *res, struct mini_err **err);

#endif
