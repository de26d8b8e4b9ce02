/* A minimal intrusive doubly linked list (internal to the ttrpc library). */
#ifndef MINI_TTRPC_TTRPC_LIST_H
#define MINI_TTRPC_TTRPC_LIST_H

#include <stddef.h>

struct list {
	struct list *prev, *next;
};

#define list_entry(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

static inline void
list_init(struct list *l)
{
	l->prev = l;
	l->next = l;
}

static inline int
list_empty(const struct list *l)
{
	return l->next == l;
}

static inline void
list_add_tail(struct list *head, struct list *item)
{
	item->prev = head->prev;
	item->next = head;
	head->prev->next = item;
	head->prev = item;
}

/* Unlinks item and leaves it self-linked, so a second list_del is harmless. */
static inline void
list_del(struct list *item)
{
	item->prev->next = item->next;
	item->next->prev = item->prev;
	list_init(item);
}

/* Moves every item of from to the (empty) list to. */
static inline void
list_move_all(struct list *from, struct list *to)
{
	list_init(to);
	if (list_empty(from))
		return;
	to->next = from->next;
	to->prev = from->prev;
	to->next->prev = to;
	to->prev->next = to;
	list_init(from);
}

#endif
