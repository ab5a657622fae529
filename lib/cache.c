/* cache.c: introspection results (RFC 7662 §2.2, with Tessera's own
 * members) and the bounded cache that keeps them for a few seconds. The
 * cache is keyed by the SHA-256 of the credential, never the credential
 * itself; entries sit in a ring in insertion order (the oldest is evicted
 * when full) and in hash chains for lookup. One mutex guards it all. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- results ---- */

static void strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void ts_lib_intro_free(struct ts_lib_intro *r)
{
	if (r == NULL)
		return;
	free(r->token_type);
	free(r->sub);
	free(r->username);
	free(r->principal_type);
	free(r->tenant);
	ts_free_secret(r->csrf_token);
	free(r->scope);
	strv_free(r->roles, r->nroles);
	free(r);
}

struct ts_lib_intro *ts_lib_intro_dup(const struct ts_lib_intro *r)
{
	struct ts_lib_intro *d = ts_xcalloc(1, sizeof(*d));
	size_t i;

	d->active = r->active;
	d->token_type = ts_xstrdup(r->token_type);
	d->sub = ts_xstrdup(r->sub);
	d->username = ts_xstrdup(r->username);
	d->principal_type = ts_xstrdup(r->principal_type);
	d->tenant = ts_xstrdup(r->tenant);
	d->csrf_token = ts_xstrdup(r->csrf_token);
	d->scope = ts_xstrdup(r->scope);
	if (r->nroles) {
		d->roles = ts_xcalloc(r->nroles, sizeof(*d->roles));
		for (i = 0; i < r->nroles; i++)
			d->roles[i] = ts_xstrdup(r->roles[i]);
	}
	d->nroles = r->nroles;
	return d;
}

static char *member(const json_t *o, const char *name)
{
	return ts_xstrdup(json_string_value(json_object_get(o, name)));
}

int ts_lib_intro_parse(const char *text, size_t len, struct ts_lib_intro **out)
{
	json_t *o = ts_lib_json_object(text, len);
	const json_t *active = json_object_get(o, "active"), *roles;
	struct ts_lib_intro *r;
	size_t i;

	*out = NULL;
	/* RFC 7662 §2.2: "active" is a required boolean. */
	if (!json_is_boolean(active)) {
		json_decref(o);
		return TS_EINVAL;
	}
	r = ts_xcalloc(1, sizeof(*r));
	r->active = json_is_true(active);
	if (r->active) {
		r->token_type = member(o, "token_type");
		r->sub = member(o, "sub");
		r->username = member(o, "username");
		r->principal_type = member(o, "principal_type");
		r->tenant = member(o, "tenant");
		r->csrf_token = member(o, "csrf_token");
		r->scope = member(o, "scope");
		roles = json_object_get(o, "roles");
		if (json_array_size(roles) > 0)
			r->roles = ts_xcalloc(json_array_size(roles) < TS_LIB_ROLES_MAX
						      ? json_array_size(roles)
						      : TS_LIB_ROLES_MAX,
					      sizeof(*r->roles));
		for (i = 0; i < json_array_size(roles) && r->nroles < TS_LIB_ROLES_MAX; i++) {
			const char *s = json_string_value(json_array_get(roles, i));
			if (s != NULL)
				r->roles[r->nroles++] = ts_xstrdup(s);
		}
	}
	json_decref(o);
	*out = r;
	return TS_OK;
}

/* ---- the cache ---- */

#define NO_SLOT SIZE_MAX

struct entry {
	unsigned char key[TS_SHA256_LEN];
	struct ts_lib_intro *r; /* owned; NULL for a free slot */
	int64_t expires_at;     /* ms */
	size_t next;            /* next slot in the same hash chain, or NO_SLOT */
};

struct ts_lib_cache {
	pthread_mutex_t lock;
	struct entry *e;  /* ring of max entries, in insertion order */
	size_t max, count;
	size_t head;      /* the oldest entry (the next to evict when full) */
	size_t *buckets;  /* chain heads, nbuckets of them */
	size_t nbuckets;  /* a power of two */
	int64_t ttl_ms;
};

struct ts_lib_cache *ts_lib_cache_new(size_t max_entries, int64_t ttl_ms)
{
	struct ts_lib_cache *c = ts_xcalloc(1, sizeof(*c));
	size_t i;

	if (max_entries == 0)
		max_entries = 1;
	c->max = max_entries;
	c->e = ts_xcalloc(max_entries, sizeof(*c->e));
	c->nbuckets = 1;
	while (c->nbuckets < max_entries)
		c->nbuckets <<= 1;
	c->buckets = ts_xcalloc(c->nbuckets, sizeof(*c->buckets));
	for (i = 0; i < c->nbuckets; i++)
		c->buckets[i] = NO_SLOT;
	c->ttl_ms = ttl_ms;
	pthread_mutex_init(&c->lock, NULL);
	return c;
}

void ts_lib_cache_free(struct ts_lib_cache *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->max; i++)
		ts_lib_intro_free(c->e[i].r);
	free(c->e);
	free(c->buckets);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* The key is a SHA-256 digest, so its first bytes are already uniform. */
static size_t bucket_of(const struct ts_lib_cache *c, const unsigned char *key)
{
	size_t h;

	memcpy(&h, key, sizeof(h));
	return h & (c->nbuckets - 1);
}

static size_t find(const struct ts_lib_cache *c, const unsigned char *key)
{
	size_t i = c->buckets[bucket_of(c, key)];

	while (i != NO_SLOT && memcmp(c->e[i].key, key, TS_SHA256_LEN) != 0)
		i = c->e[i].next;
	return i;
}

/* Takes slot i out of its hash chain and frees its result. */
static void evict(struct ts_lib_cache *c, size_t i)
{
	size_t *p = &c->buckets[bucket_of(c, c->e[i].key)];

	while (*p != i)
		p = &c->e[*p].next;
	*p = c->e[i].next;
	ts_lib_intro_free(c->e[i].r);
	memset(&c->e[i], 0, sizeof(c->e[i]));
	c->count--;
}

int ts_lib_cache_get(struct ts_lib_cache *c, const unsigned char key[TS_SHA256_LEN],
		     int64_t now_ms, struct ts_lib_intro **out)
{
	size_t i;
	int rc = TS_ENOTFOUND;

	*out = NULL;
	pthread_mutex_lock(&c->lock);
	i = find(c, key);
	if (i != NO_SLOT && now_ms < c->e[i].expires_at) {
		*out = ts_lib_intro_dup(c->e[i].r);
		rc = TS_OK;
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

void ts_lib_cache_put(struct ts_lib_cache *c, const unsigned char key[TS_SHA256_LEN],
		      int64_t now_ms, const struct ts_lib_intro *r)
{
	size_t i, slot, b;

	pthread_mutex_lock(&c->lock);
	i = find(c, key);
	if (i != NO_SLOT) {
		/* A fresh answer for a known credential replaces the old one in
		 * place; it keeps its position in the eviction order. */
		ts_lib_intro_free(c->e[i].r);
		c->e[i].r = ts_lib_intro_dup(r);
		c->e[i].expires_at = now_ms + c->ttl_ms;
		goto out;
	}
	slot = (c->head + c->count) % c->max;
	if (c->count == c->max) {
		slot = c->head;
		evict(c, slot);
		c->head = (c->head + 1) % c->max;
	}
	memcpy(c->e[slot].key, key, TS_SHA256_LEN);
	c->e[slot].r = ts_lib_intro_dup(r);
	c->e[slot].expires_at = now_ms + c->ttl_ms;
	b = bucket_of(c, key);
	c->e[slot].next = c->buckets[b];
	c->buckets[b] = slot;
	c->count++;
out:
	pthread_mutex_unlock(&c->lock);
}

size_t ts_lib_cache_count(struct ts_lib_cache *c)
{
	size_t n;

	pthread_mutex_lock(&c->lock);
	n = c->count;
	pthread_mutex_unlock(&c->lock);
	return n;
}
