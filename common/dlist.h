/* An intrusive doubly linked list: the shim's tables (containers, execs, waiters, jobs) and the
 * ttrpc library's connections and calls. */
#ifndef MINI_DLIST_H
#define MINI_DLIST_H

#include <stdbool.h>
#include <stddef.h>

struct dlist {
	struct dlist *prev, *next;
};

#define dlist_entry(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* Iterates safely against removal of the current node. */
#define dlist_for_each(pos, tmp, head)                                   \
	for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head); \
	     (pos) = (tmp), (tmp) = (pos)->next)

static inline void
dlist_init(struct dlist *l)
{
	l->prev = l;
	l->next = l;
}

static inline bool
dlist_empty(const struct dlist *l)
{
	return l->next == l;
}

static inline void
dlist_add_tail(struct dlist *head, struct dlist *item)
{
	item->prev = head->prev;
	item->next = head;
	head->prev->next = item;
	head->prev = item;
}

/* Unlinks item and leaves it self-linked, so a second dlist_del is harmless. */
static inline void
dlist_del(struct dlist *item)
{
	item->prev->next = item->next;
	item->next->prev = item->prev;
	dlist_init(item);
}

static inline struct dlist *
dlist_pop(struct dlist *head)
{
	struct dlist *n;

	if (dlist_empty(head))
		return NULL;
	n = head->next;
	dlist_del(n);
	return n;
}

/* Moves every item of from to the list to (whatever to held is dropped), leaving from empty. */
static inline void
dlist_move_all(struct dlist *from, struct dlist *to)
{
	dlist_init(to);
	if (dlist_empty(from))
		return;
	to->next = from->next;
	to->prev = from->prev;
	to->next->prev = to;
	to->prev->next = to;
	dlist_init(from);
}

static inline size_t
dlist_len(const struct dlist *head)
{
	size_t n = 0;

	for (const struct dlist *p = head->next; p != head; p = p->next)
		n++;
	return n;
}

#endif
