/* backoff.c: the failure backoff per name of a background task (see
 * backoff.h): a small array, searched linearly, since it holds at most one
 * pass's failing names. */
#include "backoff.h"

#include "core/core.h"

#include <stdlib.h>
#include <string.h>

struct entry {
	char *name;
	int failures;      /* in a row */
	int64_t until_ms;  /* waiting until then */
	bool seen;         /* asked about since the last sweep */
};

struct ts_backoff {
	int64_t first_ms;
	int64_t max_ms;
	size_t cap;
	size_t n;
	struct entry *v;
};

struct ts_backoff *ts_backoff_new(int64_t first_ms, int64_t max_ms, size_t names_max)
{
	struct ts_backoff *b;

	if (first_ms < 1 || max_ms < first_ms || names_max == 0)
		return NULL;
	b = ts_xcalloc(1, sizeof(*b));
	b->first_ms = first_ms;
	b->max_ms = max_ms;
	b->cap = names_max;
	b->v = ts_xcalloc(names_max, sizeof(*b->v));
	return b;
}

void ts_backoff_free(struct ts_backoff *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n; i++)
		free(b->v[i].name);
	free(b->v);
	free(b);
}

static struct entry *find(struct ts_backoff *b, const char *name)
{
	size_t i;

	for (i = 0; name && i < b->n; i++)
		if (strcmp(b->v[i].name, name) == 0)
			return &b->v[i];
	return NULL;
}

/* Removes entry e, moving the last one into its place. */
static void drop(struct ts_backoff *b, struct entry *e)
{
	free(e->name);
	*e = b->v[--b->n];
	memset(&b->v[b->n], 0, sizeof(b->v[b->n]));
}

bool ts_backoff_waiting(struct ts_backoff *b, const char *name, int64_t now_ms)
{
	struct entry *e = b ? find(b, name) : NULL;

	if (e == NULL)
		return false;
	e->seen = true;
	return now_ms < e->until_ms;
}

int64_t ts_backoff_failed(struct ts_backoff *b, const char *name, int64_t now_ms)
{
	struct entry *e;
	int64_t wait;
	int i;

	if (b == NULL || name == NULL)
		return 0;
	e = find(b, name);
	if (e == NULL) {
		if (b->n == b->cap)
			return 0;
		e = &b->v[b->n++];
		e->name = ts_xstrdup(name);
	}
	if (e->failures < INT32_MAX)
		e->failures++;
	wait = b->first_ms;
	for (i = 1; i < e->failures && wait < b->max_ms; i++)
		wait = wait > b->max_ms / 2 ? b->max_ms : wait * 2;
	e->until_ms = now_ms + wait;
	e->seen = true;
	return wait;
}

void ts_backoff_succeeded(struct ts_backoff *b, const char *name)
{
	struct entry *e = b ? find(b, name) : NULL;

	if (e)
		drop(b, e);
}

void ts_backoff_sweep(struct ts_backoff *b)
{
	size_t i = 0;

	while (b && i < b->n) {
		if (!b->v[i].seen) {
			drop(b, &b->v[i]);
			continue;
		}
		b->v[i++].seen = false;
	}
}

size_t ts_backoff_count(const struct ts_backoff *b)
{
	return b ? b->n : 0;
}
