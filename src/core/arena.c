/* arena.c: per-request bump allocator; everything is freed at once when the
 * request completes. Large allocations get a block of their own. */
#include "core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK 8192
#define ARENA_ALIGN 16

struct block {
	struct block *next;
	size_t used;
	size_t size;
	_Alignas(16) unsigned char data[];
};

struct ts_arena {
	struct block *head;
};

struct ts_arena *ts_arena_new(void)
{
	return ts_xcalloc(1, sizeof(struct ts_arena));
}

void ts_arena_free(struct ts_arena *a)
{
	struct block *b, *next;

	if (a == NULL)
		return;
	for (b = a->head; b; b = next) {
		next = b->next;
		free(b);
	}
	free(a);
}

void *ts_arena_alloc(struct ts_arena *a, size_t n)
{
	struct block *b = a->head;
	size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	void *p;

	if (need < n)
		abort();
	if (b == NULL || b->size - b->used < need) {
		size_t size = need > ARENA_BLOCK ? need : ARENA_BLOCK;
		b = ts_xmalloc(sizeof(*b) + size);
		b->used = 0;
		b->size = size;
		/* A big one-off block goes behind the current head so the head's
		 * free space stays usable. */
		if (need > ARENA_BLOCK && a->head) {
			b->next = a->head->next;
			a->head->next = b;
		} else {
			b->next = a->head;
			a->head = b;
		}
	}
	p = b->data + b->used;
	b->used += need;
	memset(p, 0, n);
	return p;
}

char *ts_arena_strndup(struct ts_arena *a, const char *s, size_t n)
{
	char *p = ts_arena_alloc(a, n + 1);
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *ts_arena_strdup(struct ts_arena *a, const char *s)
{
	if (s == NULL)
		return NULL;
	return ts_arena_strndup(a, s, strlen(s));
}

char *ts_arena_printf(struct ts_arena *a, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return ts_arena_strdup(a, "");
	p = ts_arena_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}
