/* The event publisher: a ttrpc client of containerd ($TTRPC_ADDRESS) calling
 * containerd.services.events.ttrpc.v1.Events/Forward, fed by one FIFO queue.
 *
 * Events leave in the order they were posted, one at a time: the head is retried with a backoff
 * timer while containerd is away (restarting, say) and the connection is re-made by the client,
 * so nothing blocks the loop and ordering is never broken by a retry. The queue is bounded; when
 * it overflows the oldest waiting event is dropped with a warning. An event containerd refuses
 * (not a transport failure) is dropped with an error line. */
#ifndef MINI_SHIM_PUBLISHER_H
#define MINI_SHIM_PUBLISHER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define PUBLISHER_QUEUE_MAX 4096

struct publisher;

/* address: containerd's ttrpc socket ("unix://" accepted); NULL or "" = no containerd: events
 * are logged at debug level and dropped. ns is the namespace of every envelope. Caller owns. */
struct publisher *publisher_new(uv_loop_t *loop, const char *address, const char *ns);

/* Queues an event: topic ("/tasks/exit"), the Any type URL ("containerd.events.TaskExit") and
 * the packed message (taken). The envelope timestamp is taken now. */
void publisher_post(struct publisher *p, const char *topic, const char *type_url, uint8_t *value,
		    size_t len);

/* Events not yet delivered. */
size_t publisher_pending(const struct publisher *p);

/* Calls cb once the queue is empty or timeout_ms passed (shutdown). */
void publisher_drain(struct publisher *p, unsigned timeout_ms, void (*cb)(void *data), void *data);

/* Drops what is queued, closes the connection, frees p once its handles are closed. */
void publisher_free(struct publisher *p);

#endif
