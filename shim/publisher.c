#include "publisher.h"
#include "client.h"
#include "dlist.h"
#include "log.h"
#include "xalloc.h"

#include "containerd/services/ttrpc/events/v1/events.pb-c.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FORWARD_TIMEOUT_NS (5LL * 1000 * 1000 * 1000)
#define RETRY_MIN_MS 100
#define RETRY_MAX_MS 2000

static const char events_service[] = "containerd.services.events.ttrpc.v1.Events";

struct event {
	struct dlist link;
	char *topic, *type_url;
	uint8_t *value;
	size_t len;
	struct timespec at;
	unsigned attempts;
};

struct publisher {
	uv_loop_t *loop;
	struct ttrpc_client *client; /* NULL without containerd */
	char *ns;
	struct dlist queue;
	size_t n;
	bool inflight;
	uv_timer_t retry, drain_timer;
	unsigned backoff_ms;
	int open_handles;
	bool freeing;
	void (*drain_cb)(void *data);
	void *drain_data;
};

static void send_head(struct publisher *p);
static void unref(struct publisher *p);

static void
event_free(struct event *e)
{
	free(e->topic);
	free(e->type_url);
	free(e->value);
	free(e);
}

static void
check_drained(struct publisher *p)
{
	void (*cb)(void *) = p->drain_cb;

	if (cb == NULL || p->n > 0)
		return;
	p->drain_cb = NULL;
	uv_timer_stop(&p->drain_timer);
	cb(p->drain_data);
}

static void
pop_head(struct publisher *p)
{
	struct dlist *n = dlist_pop(&p->queue);

	if (n) {
		event_free(dlist_entry(n, struct event, link));
		p->n--;
	}
}

static bool
transport_failure(int code)
{
	return code == 1 || code == 4 || code == 14; /* Canceled, DeadlineExceeded, Unavailable */
}

static void
on_retry(uv_timer_t *t)
{
	send_head(t->data);
}

static void
on_forwarded(const struct ttrpc_result *res, void *data)
{
	struct publisher *p = data;
	struct event *e;

	p->inflight = false;
	if (p->freeing) {
		unref(p); /* the reference the call held */
		return;
	}
	if (dlist_empty(&p->queue))
		return;
	e = dlist_entry(p->queue.next, struct event, link);
	if (res->code == 0) {
		if (e->attempts > 1)
			log_info("published %s after %u attempts", e->topic, e->attempts);
		p->backoff_ms = 0;
		pop_head(p);
	} else if (transport_failure(res->code)) {
		/* containerd is away: keep the head, try again later, in order. */
		p->backoff_ms = p->backoff_ms ? p->backoff_ms * 2 : RETRY_MIN_MS;
		if (p->backoff_ms > RETRY_MAX_MS)
			p->backoff_ms = RETRY_MAX_MS;
		if (e->attempts == 1 || e->attempts % 32 == 0)
			log_warn("publish %s: %s (retrying)", e->topic,
				 res->message ? res->message : "unavailable");
		uv_timer_start(&p->retry, on_retry, p->backoff_ms, 0);
		check_drained(p);
		return;
	} else {
		log_error("publish %s: containerd refused the event: %s", e->topic,
			  res->message ? res->message : "");
		pop_head(p);
	}
	check_drained(p);
	send_head(p);
}

static void
send_head(struct publisher *p)
{
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	Containerd__Services__Events__Ttrpc__V1__Envelope env =
		CONTAINERD__SERVICES__EVENTS__TTRPC__V1__ENVELOPE__INIT;
	Containerd__Services__Events__Ttrpc__V1__ForwardRequest req =
		CONTAINERD__SERVICES__EVENTS__TTRPC__V1__FORWARD_REQUEST__INIT;
	struct ttrpc_kv md = { "containerd-namespace-ttrpc", p->ns };
	struct mini_err *err = NULL;
	struct event *e;

	if (p->inflight || p->freeing || dlist_empty(&p->queue) ||
	    uv_is_active((uv_handle_t *)&p->retry))
		return;
	e = dlist_entry(p->queue.next, struct event, link);
	ts.seconds = e->at.tv_sec;
	ts.nanos = (int32_t)e->at.tv_nsec;
	any.type_url = e->type_url;
	any.value.data = e->value;
	any.value.len = e->len;
	env.timestamp = &ts;
	env.namespace_ = p->ns;
	env.topic = e->topic;
	env.event = &any;
	req.envelope = &env;
	e->attempts++;
	if (ttrpc_client_call(p->client, events_service, "Forward", &req.base, FORWARD_TIMEOUT_NS,
			      &md, 1, on_forwarded, p, &err) < 0) {
		log_error("publish %s: %s", e->topic, err->msg);
		mini_err_free(err);
		pop_head(p);
		check_drained(p);
		send_head(p);
		return;
	}
	p->inflight = true;
}

struct publisher *
publisher_new(uv_loop_t *loop, const char *address, const char *ns)
{
	struct publisher *p = xcalloc(1, sizeof(*p));

	p->loop = loop;
	p->ns = xstrdup(ns);
	dlist_init(&p->queue);
	if (address && *address)
		p->client = ttrpc_client_new(loop, address);
	uv_timer_init(loop, &p->retry);
	uv_timer_init(loop, &p->drain_timer);
	p->retry.data = p;
	p->drain_timer.data = p;
	p->open_handles = 2;
	return p;
}

size_t
publisher_pending(const struct publisher *p)
{
	return p->n;
}

void
publisher_post(struct publisher *p, const char *topic, const char *type_url, uint8_t *value,
	       size_t len)
{
	struct event *e;

	log_debug("event %s", topic);
	if (p->client == NULL) {
		free(value);
		return;
	}
	if (p->n >= PUBLISHER_QUEUE_MAX) {
		/* Drop the oldest event that is not on the wire. */
		struct dlist *victim = p->inflight ? p->queue.next->next : p->queue.next;
		struct event *v = dlist_entry(victim, struct event, link);

		log_warn("event queue full: dropping %s", v->topic);
		dlist_del(victim);
		event_free(v);
		p->n--;
	}
	e = xcalloc(1, sizeof(*e));
	e->topic = xstrdup(topic);
	e->type_url = xstrdup(type_url);
	e->value = value;
	e->len = len;
	clock_gettime(CLOCK_REALTIME, &e->at);
	dlist_add_tail(&p->queue, &e->link);
	p->n++;
	send_head(p);
}

static void
on_drain_timeout(uv_timer_t *t)
{
	struct publisher *p = t->data;
	void (*cb)(void *) = p->drain_cb;

	p->drain_cb = NULL;
	if (p->n)
		log_warn("shutdown: %zu event(s) could not be delivered", p->n);
	if (cb)
		cb(p->drain_data);
}

void
publisher_drain(struct publisher *p, unsigned timeout_ms, void (*cb)(void *data), void *data)
{
	p->drain_cb = cb;
	p->drain_data = data;
	if (p->n == 0) {
		check_drained(p);
		return;
	}
	uv_timer_start(&p->drain_timer, on_drain_timeout, timeout_ms, 0);
	/* Do not sit out a long backoff while draining. */
	if (uv_is_active((uv_handle_t *)&p->retry)) {
		uv_timer_stop(&p->retry);
		send_head(p);
	}
}

/* open_handles counts the two timers and, while freeing, the call in flight. */
static void
unref(struct publisher *p)
{
	if (--p->open_handles > 0)
		return;
	free(p->ns);
	free(p);
}

static void
on_closed(uv_handle_t *h)
{
	unref(h->data);
}

void
publisher_free(struct publisher *p)
{
	struct dlist *n;

	if (p == NULL)
		return;
	p->freeing = true;
	p->drain_cb = NULL;
	while ((n = dlist_pop(&p->queue)))
		event_free(dlist_entry(n, struct event, link));
	p->n = 0;
	if (p->inflight)
		p->open_handles++; /* on_forwarded (Canceled) still comes */
	if (p->client)
		ttrpc_client_close(p->client); /* fails the call in flight with Canceled */
	uv_close((uv_handle_t *)&p->retry, on_closed);
	uv_close((uv_handle_t *)&p->drain_timer, on_closed);
}
