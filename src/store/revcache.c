/* revcache.c: the in-memory answers to "is this token id revoked?" (see
 * revcache.h). A set-associative table: a key's hash picks one bucket of
 * TS_REVCACHE_WAYS entries, each bucket guarded by one of a few striped
 * locks, so lookups on different tokens rarely meet. */
#include "revcache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 2048 /* a power of two */
#define WAYS 8       /* entries per bucket: 16,384 in all (about 2 MiB) */
#define LOCKS 64     /* a power of two, at most BUCKETS */
#define KEY_MAX 96   /* tenant id, a NUL, the jti; longer keys are not kept */

struct entry {
	uint64_t hash;    /* 0: empty */
	int64_t until_ms; /* the entry is forgotten from then on */
	uint64_t epoch;   /* for "not revoked": the epoch it was read in */
	uint64_t clears;  /* ts_revcache_clear calls before it was stored */
	bool revoked;
	unsigned char klen;
	char key[KEY_MAX];
};

struct ts_revcache {
	pthread_mutex_t locks[LOCKS];
	atomic_uint_fast64_t epoch;
	atomic_uint_fast64_t clears;
	struct entry *e; /* BUCKETS * WAYS */
};

struct ts_revcache *ts_revcache_new(void)
{
	struct ts_revcache *c = ts_xcalloc(1, sizeof(*c));
	size_t i;

	for (i = 0; i < LOCKS; i++)
		pthread_mutex_init(&c->locks[i], NULL);
	atomic_init(&c->epoch, 1);
	atomic_init(&c->clears, 0);
	c->e = ts_xcalloc((size_t)BUCKETS * WAYS, sizeof(*c->e));
	return c;
}

void ts_revcache_free(struct ts_revcache *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < LOCKS; i++)
		pthread_mutex_destroy(&c->locks[i]);
	free(c->e);
	free(c);
}

/* The key "tenant_id\0jti" into buf; false if it does not fit. */
static bool make_key(const char *tenant_id, const char *jti, char *buf, size_t *len)
{
	size_t t = strlen(tenant_id), j = strlen(jti);

	if (t + 1 + j > KEY_MAX)
		return false;
	memcpy(buf, tenant_id, t);
	buf[t] = '\0';
	memcpy(buf + t + 1, jti, j);
	*len = t + 1 + j;
	return true;
}

/* FNV-1a, never 0 (0 marks an empty entry). */
static uint64_t key_hash(const char *k, size_t n)
{
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)k[i];
		h *= 1099511628211ULL;
	}
	return h ? h : 1;
}

static struct entry *bucket_of(struct ts_revcache *c, uint64_t h, pthread_mutex_t **lock)
{
	size_t b = (size_t)(h >> 20) & (BUCKETS - 1);

	*lock = &c->locks[b & (LOCKS - 1)];
	return &c->e[b * WAYS];
}

static bool live(const struct ts_revcache *c, const struct entry *e, int64_t now_ms)
{
	if (e->hash == 0 || e->until_ms <= now_ms || e->clears != atomic_load(&c->clears))
		return false;
	return e->revoked || e->epoch == atomic_load(&c->epoch);
}

static struct entry *find(struct entry *b, uint64_t h, const char *k, size_t n)
{
	size_t i;

	for (i = 0; i < WAYS; i++)
		if (b[i].hash == h && b[i].klen == n && memcmp(b[i].key, k, n) == 0)
			return &b[i];
	return NULL;
}

/* The entry for the key, else a free slot, else the "not revoked" answer
 * that ends first; NULL when every slot holds a live revocation. */
static struct entry *slot_for(struct ts_revcache *c, struct entry *b, uint64_t h, const char *k,
			      size_t n, int64_t now_ms)
{
	struct entry *e = find(b, h, k, n), *victim = NULL;
	size_t i;

	if (e)
		return e;
	for (i = 0; i < WAYS; i++) {
		if (!live(c, &b[i], now_ms))
			return &b[i];
		if (!b[i].revoked && (victim == NULL || b[i].until_ms < victim->until_ms))
			victim = &b[i];
	}
	return victim;
}

static void fill(struct ts_revcache *c, struct entry *e, uint64_t h, const char *k, size_t n)
{
	e->clears = atomic_load(&c->clears);
	e->hash = h;
	e->klen = (unsigned char)n;
	memcpy(e->key, k, n);
}

int ts_revcache_get(struct ts_revcache *c, const char *tenant_id, const char *jti, int64_t now_ms,
		    bool *revoked)
{
	char k[KEY_MAX];
	size_t n;
	uint64_t h;
	pthread_mutex_t *lock;
	struct entry *b, *e;
	int r = TS_ENOTFOUND;

	if (c == NULL || !make_key(tenant_id, jti, k, &n))
		return TS_ENOTFOUND;
	h = key_hash(k, n);
	b = bucket_of(c, h, &lock);
	pthread_mutex_lock(lock);
	e = find(b, h, k, n);
	if (e && live(c, e, now_ms)) {
		*revoked = e->revoked;
		r = TS_OK;
	}
	pthread_mutex_unlock(lock);
	return r;
}

uint64_t ts_revcache_epoch(struct ts_revcache *c)
{
	return c ? atomic_load(&c->epoch) : 0;
}

void ts_revcache_put_checked(struct ts_revcache *c, const char *tenant_id, const char *jti,
			     uint64_t epoch, int64_t now_ms, bool revoked)
{
	char k[KEY_MAX];
	size_t n;
	uint64_t h;
	pthread_mutex_t *lock;
	struct entry *b, *e;

	if (c == NULL || !make_key(tenant_id, jti, k, &n))
		return;
	h = key_hash(k, n);
	b = bucket_of(c, h, &lock);
	pthread_mutex_lock(lock);
	/* Compared under the lock: a bump after this point also finds the
	 * entry stored with the old epoch, so it is dead either way. */
	if (!revoked && epoch != atomic_load(&c->epoch))
		goto out;
	e = slot_for(c, b, h, k, n, now_ms);
	if (e == NULL || (e->hash == h && live(c, e, now_ms) && e->revoked && !revoked))
		goto out;
	fill(c, e, h, k, n);
	e->revoked = revoked;
	e->epoch = epoch;
	e->until_ms = now_ms + TS_REVCACHE_FRESH_MS;
out:
	pthread_mutex_unlock(lock);
}

void ts_revcache_put_revoked(struct ts_revcache *c, const char *tenant_id, const char *jti,
			     int64_t now_ms, int64_t expires_ms)
{
	char k[KEY_MAX];
	size_t n;
	uint64_t h;
	pthread_mutex_t *lock;
	struct entry *b, *e;

	if (c == NULL)
		return;
	if (!make_key(tenant_id, jti, k, &n)) {
		ts_revcache_bump(c);
		return;
	}
	h = key_hash(k, n);
	b = bucket_of(c, h, &lock);
	pthread_mutex_lock(lock);
	e = slot_for(c, b, h, k, n, now_ms);
	if (e) {
		if (!(e->hash == h && live(c, e, now_ms) && e->revoked && e->until_ms > expires_ms))
			e->until_ms = expires_ms > now_ms ? expires_ms : now_ms + TS_REVCACHE_FRESH_MS;
		fill(c, e, h, k, n);
		e->revoked = true;
	}
	pthread_mutex_unlock(lock);
	/* No room: no stale "not revoked" answer for this id may remain. */
	if (e == NULL)
		ts_revcache_bump(c);
}

void ts_revcache_bump(struct ts_revcache *c)
{
	if (c)
		atomic_fetch_add(&c->epoch, 1);
}

void ts_revcache_clear(struct ts_revcache *c)
{
	if (c == NULL)
		return;
	atomic_fetch_add(&c->clears, 1);
	atomic_fetch_add(&c->epoch, 1);
}
