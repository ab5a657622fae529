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

/* Copies the n strings of v into a new vector; NULL when memory runs out
 * (nothing is left allocated). */
static char **strv_dup(char *const *v, size_t n)
{
	char **d = ts_calloc(n, sizeof(*d));
	size_t i;

	if (d == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (ts_strdup_to(v[i], &d[i]) != TS_OK) {
			strv_free(d, i);
			return NULL;
		}
	}
	return d;
}

struct ts_lib_intro *ts_lib_intro_dup(const struct ts_lib_intro *r)
{
	struct ts_lib_intro *d = ts_calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->active = r->active;
	if (ts_strdup_to(r->token_type, &d->token_type) != TS_OK ||
	    ts_strdup_to(r->sub, &d->sub) != TS_OK ||
	    ts_strdup_to(r->username, &d->username) != TS_OK ||
	    ts_strdup_to(r->principal_type, &d->principal_type) != TS_OK ||
	    ts_strdup_to(r->tenant, &d->tenant) != TS_OK ||
	    ts_strdup_to(r->csrf_token, &d->csrf_token) != TS_OK ||
	    ts_strdup_to(r->scope, &d->scope) != TS_OK)
		goto fail;
	if (r->nroles) {
		d->roles = strv_dup(r->roles, r->nroles);
		if (d->roles == NULL)
			goto fail;
		d->nroles = r->nroles;
	}
	return d;
fail:
	ts_lib_intro_free(d);
	return NULL;
}

/* The string member name of o, copied into *out (NULL when absent). */
static int member(const json_t *o, const char *name, char **out)
{
	return ts_strdup_to(json_string_value(json_object_get(o, name)), out);
}

/* The members of an active answer; TS_ENOMEM. */
static int read_active(const json_t *o, struct ts_lib_intro *r)
{
	const json_t *roles = json_object_get(o, "roles");
	size_t i, n = json_array_size(roles);

	if (member(o, "token_type", &r->token_type) != TS_OK || member(o, "sub", &r->sub) != TS_OK ||
	    member(o, "username", &r->username) != TS_OK ||
	    member(o, "principal_type", &r->principal_type) != TS_OK ||
	    member(o, "tenant", &r->tenant) != TS_OK ||
	    member(o, "csrf_token", &r->csrf_token) != TS_OK || member(o, "scope", &r->scope) != TS_OK)
		return TS_ENOMEM;
	if (n == 0)
		return TS_OK;
	r->roles = ts_calloc(n < TS_LIB_ROLES_MAX ? n : TS_LIB_ROLES_MAX, sizeof(*r->roles));
	if (r->roles == NULL)
		return TS_ENOMEM;
	for (i = 0; i < n && r->nroles < TS_LIB_ROLES_MAX; i++) {
		const char *s = json_string_value(json_array_get(roles, i));
		if (s == NULL)
			continue;
		if (ts_strdup_to(s, &r->roles[r->nroles]) != TS_OK)
			return TS_ENOMEM;
		r->nroles++;
	}
	return TS_OK;
}

int ts_lib_intro_parse(const char *text, size_t len, struct ts_lib_intro **out)
{
	json_t *o = ts_lib_json_object(text, len);
	const json_t *active = json_object_get(o, "active");
	struct ts_lib_intro *r = NULL;
	int rc = TS_EINVAL;

	*out = NULL;
	/* RFC 7662 §2.2: "active" is a required boolean. */
	if (!json_is_boolean(active))
		goto out;
	rc = TS_ENOMEM;
	r = ts_calloc(1, sizeof(*r));
	if (r == NULL)
		goto out;
	r->active = json_is_true(active);
	rc = r->active ? read_active(o, r) : TS_OK;
	if (rc != TS_OK)
		goto out;
	*out = r;
	r = NULL;
out:
	ts_lib_intro_free(r);
	json_decref(o);
	return rc;
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
	struct ts_lib_cache *c = ts_calloc(1, sizeof(*c));
	size_t i;

	if (c == NULL)
		return NULL;
	if (max_entries == 0)
		max_entries = 1;
	c->max = max_entries;
	c->nbuckets = 1;
	while (c->nbuckets < max_entries)
		c->nbuckets <<= 1;
	c->e = ts_calloc(max_entries, sizeof(*c->e));
	c->buckets = ts_calloc(c->nbuckets, sizeof(*c->buckets));
	pthread_mutex_init(&c->lock, NULL);
	if (c->e == NULL || c->buckets == NULL) {
		ts_lib_cache_free(c);
		return NULL;
	}
	for (i = 0; i < c->nbuckets; i++)
		c->buckets[i] = NO_SLOT;
	c->ttl_ms = ttl_ms;
	return c;
}

void ts_lib_cache_free(struct ts_lib_cache *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; c->e != NULL && i < c->max; i++)
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
		rc = *out ? TS_OK : TS_ENOMEM;
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

void ts_lib_cache_put(struct ts_lib_cache *c, const unsigned char key[TS_SHA256_LEN],
		      int64_t now_ms, const struct ts_lib_intro *r)
{
	struct ts_lib_intro *d = ts_lib_intro_dup(r);
	size_t i, slot, b;

	pthread_mutex_lock(&c->lock);
	i = find(c, key);
	if (d == NULL) {
		/* Out of memory: nothing is kept, and an older answer for the
		 * same credential must not outlive this fresher one. */
		if (i != NO_SLOT)
			c->e[i].expires_at = INT64_MIN;
		goto out;
	}
	if (i != NO_SLOT) {
		/* A fresh answer for a known credential replaces the old one in
		 * place; it keeps its position in the eviction order. */
		ts_lib_intro_free(c->e[i].r);
		c->e[i].r = d;
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
	c->e[slot].r = d;
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
