/* A ttrpc server on a libuv loop over unix sockets.
 *
 * Requests are dispatched by (service, method) to registered handlers. A handler answers at once or
 * later: it keeps the struct ttrpc_request and calls exactly one ttrpc_reply*() function whenever
 * it is ready (a parked request, as Task.Wait needs). Other requests on the same or other
 * connections keep flowing meanwhile, and replies go out in any order, each tagged with its stream
 * id.
 *
 * A reply to a request whose connection has closed is dropped quietly (the request object is freed
 * all the same), so owners of parked requests never need to track connections.
 *
 * Errors the server answers by itself, with the Go server's messages: unknown service or method →
 * Unimplemented (12) "service <name>" / "method <name>"; a frame over TTRPC_MAX_MESSAGE →
 * ResourceExhausted (8), the data skipped; a payload that does not decode as ttrpc.Request →
 * InvalidArgument (3) "unmarshal request error: ..."; an even stream id → InvalidArgument (3).
 * Response and data frames sent to the server are ignored. A frame of a type ttrpc never defined
 * means the peer does not speak ttrpc (the lengths are garbage too): its connection is closed.
 * Peers whose SO_PEERCRED uid/gid differ from our euid/egid are refused at accept.
 *
 * Replies are written in the order they are given, each frame whole. While more than 1 MiB of
 * replies waits on a connection the server stops reading from it (backpressure); a connection
 * with more than 64 MiB waiting is closed. */
#ifndef MINI_TTRPC_SERVER_H
#define MINI_TTRPC_SERVER_H

#include "err.h"

#include <protobuf-c/protobuf-c.h>
#include <stdint.h>
#include <uv.h>

struct ttrpc_server;
struct ttrpc_request;

typedef void (*ttrpc_handler_fn)(struct ttrpc_request *req, void *data);

/* Creates a server on loop. Caller owns it; free with ttrpc_server_close. */
struct ttrpc_server *ttrpc_server_new(uv_loop_t *loop);

/* Registers fn for service/method (strings borrowed; static storage expected). */
void ttrpc_server_register(struct ttrpc_server *srv, const char *service, const char *method,
			   ttrpc_handler_fn fn, void *data);

/* Serves on an already bound and listening unix socket fd (takes fd). */
int ttrpc_server_listen_fd(struct ttrpc_server *srv, int fd, struct mini_err **err);
/* Binds path ("unix://" prefix accepted; mode 0600; an existing file is an error, of class
 * AlreadyExists), listens and serves. The socket file is not removed by ttrpc_server_close. */
int ttrpc_server_listen_path(struct ttrpc_server *srv, const char *path, struct mini_err **err);

/* Stops accepting and reading, lets queued replies flush (at most timeout_ms), closes every
 * connection, and calls done(data) once all handles are closed; then frees srv. May be called from
 * a handler (reply first, then close: the reply is flushed). Parked requests stay valid: their
 * replies are sent while their connection is still flushing, dropped after. */
void ttrpc_server_close(struct ttrpc_server *srv, unsigned timeout_ms, void (*done)(void *),
			void *data);

/* Number of open connections (for idle-shutdown decisions and tests). */
unsigned ttrpc_server_connections(const struct ttrpc_server *srv);

/* Request accessors; pointers are valid until the reply. */
const char *ttrpc_request_service(const struct ttrpc_request *req);
const char *ttrpc_request_method(const struct ttrpc_request *req);
const uint8_t *ttrpc_request_payload(const struct ttrpc_request *req, size_t *len);
int64_t ttrpc_request_timeout_nano(const struct ttrpc_request *req);
/* First metadata value for key, or NULL. */
const char *ttrpc_request_metadata(const struct ttrpc_request *req, const char *key);

/* Replies with msg encoded as the payload (NULL = google.protobuf.Empty). Frees req. */
void ttrpc_reply(struct ttrpc_request *req, const ProtobufCMessage *msg);
/* Replies with a status code and message, empty payload. Frees req. */
void ttrpc_reply_status(struct ttrpc_request *req, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Replies with the error's gRPC class (mini_err_grpc_code; never OK) and rendered message. Frees
 * req; takes and frees err. */
void ttrpc_reply_err(struct ttrpc_request *req, struct mini_err *err);

#endif
