/* The shim daemon's one context: the loop, the reaper, the ttrpc server, the event publisher and
 * the containers it serves (one, or several when containers are grouped on one shim). */
#ifndef MINI_SHIM_SHIM_H
#define MINI_SHIM_SHIM_H

#include "dlist.h"
#include "reaper.h"

#include <stdbool.h>
#include <uv.h>

struct ttrpc_server;
struct publisher;

struct shim {
	uv_loop_t *loop;
	struct reaper reaper;
	struct ttrpc_server *srv;
	struct publisher *pub;
	char *ns;	   /* -namespace */
	char *id;	   /* -id (the first container, or the group) */
	char *address;	   /* -address: containerd's gRPC socket */
	char *socket_path; /* our listening socket, removed at exit */
	bool debug;
	struct dlist containers; /* struct container, by link */
	unsigned creating;	 /* Create requests in flight */
	bool shutting_down;
	uv_signal_t sigterm, sigint;
	uv_timer_t idle; /* exits a shim left without containers (see shim_update_idle) */
	unsigned idle_ms;
};

/* Command-line flags, shared by the actions (containerd passes Go-style single-dash flags). */
struct shim_args {
	const char *ns, *id, *address, *publish_binary, *bundle, *socket;
	bool debug, version, info;
	const char *action; /* "start", "delete", or NULL for the daemon */
	const char *argv0;
};

#define SHIM_VERSION "0.1.0"
#define MINI_RUNTIME_NAME "io.containerd.mini.v2"

/* The actions; each returns the process exit code. */
int shim_start(const struct shim_args *a);
int shim_delete(const struct shim_args *a);
int shim_serve(const struct shim_args *a);
/* -info: options (a protobuf Any) on stdin, a protobuf RuntimeInfo on stdout (info.c). */
int shim_info(void);

/* The socket address for (containerd address, namespace, group id): "/run/containerd/s/<hex of
 * sha256(cleaned "<address>/<ns>/<group>")>", as the runc shim and `ctr shim` compute it. Caller
 * owns the result. */
char *shim_socket_path(const char *address, const char *ns, const char *group);

/* Call whenever the set of containers or creates in flight changes: a shim that serves no
 * container for a while exits by itself, as if it had received Shutdown. containerd normally
 * sends Shutdown after the last Delete; this catches the cases where that never comes (a
 * containerd that crashed between start and Create, or between Delete and Shutdown, reconnects
 * to the shim but never shuts it down). The delay is $MINI_SHIM_IDLE_EXIT seconds, default 60. */
void shim_update_idle(struct shim *s);

/* Starts the orderly exit: stop listening, drain events (≤ 5 s), remove the socket, leave the
 * loop. Idempotent. */
void shim_shutdown(struct shim *s);

#endif
