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
 * Errors the server answers by itself: unknown service or method → Unimplemented (12); a frame over
 * TTRPC_MAX_MESSAGE → ResourceExhausted (8), the data skipped; an even stream id → InvalidArgument
 * (3); a payload that does not decode as ttrpc.Request → Internal (13) ... or a closed connection
 * when the byte stream cannot be resynchronised. Peers whose SO_PEERCRED uid/gid differ from our
 * euid/egid are refused at accept. */
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
/* Binds path (mode 0600; an existing file is an error), listens and serves. */
int ttrpc_server_listen_path(struct ttrpc_server *srv, const char *path, struct mini_err **err);

/* Stops accepting, lets queued replies flush (at most timeout_ms), closes every connection, and
 * calls done(data) once all handles are closed; then frees srv. Parked requests stay valid: their
 * replies are dropped. */
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
/* Replies with the error's gRPC class and rendered message. Frees req; takes and frees err. */
void ttrpc_reply_err(struct ttrpc_request *req, struct mini_err *err);

#endif
