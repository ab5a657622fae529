/* registry.c: owns the current snapshot, publishes new ones with an atomic
 * pointer store, and frees retired ones after a grace period. Readers never
 * lock. A reload rebuilds only the tenants whose version changed
 * (ts_snapshot_update); the others are shared with the previous snapshot. */
#include "tenant.h"

#include "store/store_core.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STATS_INDEX_MIN 64 /* initial slots of the stats index, a power of two */

struct retired {
	struct ts_snapshot *snap;
	int64_t free_after_ms; /* monotonic */
	struct retired *next;
};

struct ts_registry {
	struct ts_store *store;
	char *public_url;
	struct ts_master_key *mks;
	size_t nmk;
	_Atomic(struct ts_snapshot *) current;
	atomic_bool storage_ok;       /* the last look at storage succeeded */
	pthread_mutex_t lock;         /* serializes reloads and the lists below */
	struct retired *retired;
	struct ts_tenant_stats *stats; /* append-only list */
	/* An open-addressing index of stats by tenant name (a power of two of
	 * slots, at most half full), so that a first load of many tenants
	 * does not walk the list once per tenant. */
	struct ts_tenant_stats **stats_index;
	size_t stats_slots, nstats;
	pthread_t thread;
	bool running;
	pthread_cond_t cond;
	bool stop;
	int interval_ms;
};

static size_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return (size_t)h;
}

static void stats_index_put(struct ts_registry *r, struct ts_tenant_stats *s)
{
	size_t i = name_hash(s->tenant_name) & (r->stats_slots - 1);

	while (r->stats_index[i] != NULL)
		i = (i + 1) & (r->stats_slots - 1);
	r->stats_index[i] = s;
}

static void stats_index_grow(struct ts_registry *r)
{
	struct ts_tenant_stats *s;

	free(r->stats_index);
	r->stats_slots = r->stats_slots ? r->stats_slots * 2 : STATS_INDEX_MIN;
	r->stats_index = ts_xcalloc(r->stats_slots, sizeof(*r->stats_index));
	for (s = r->stats; s; s = s->next)
		stats_index_put(r, s);
}

/* Called with r->lock held, from the loader only. */
static struct ts_tenant_stats *stats_for(void *ctx, const char *name)
{
	struct ts_registry *r = ctx;
	struct ts_tenant_stats *s;
	size_t i;

	if (r->stats_slots) {
		for (i = name_hash(name) & (r->stats_slots - 1); (s = r->stats_index[i]) != NULL;
		     i = (i + 1) & (r->stats_slots - 1))
			if (strcmp(s->tenant_name, name) == 0)
				return s;
	}
	s = ts_xcalloc(1, sizeof(*s));
	s->tenant_name = ts_xstrdup(name);
	s->next = r->stats;
	r->stats = s;
	if (2 * (++r->nstats) > r->stats_slots)
		stats_index_grow(r);
	else
		stats_index_put(r, s);
	return s;
}

static void free_retired(struct ts_registry *r, bool all)
{
	struct retired **pp = &r->retired;
	int64_t now = ts_mono_ms();

	while (*pp) {
		struct retired *e = *pp;
		if (all || e->free_after_ms <= now) {
			*pp = e->next;
			ts_snapshot_free(e->snap);
			free(e);
		} else {
			pp = &e->next;
		}
	}
}

int ts_registry_reload(struct ts_registry *r, bool force)
{
	struct ts_snapshot_src src = {
		.store = r->store, .public_url = r->public_url, .mks = r->mks, .nmk = r->nmk,
		.stats_for = stats_for, .stats_ctx = r,
	};
	struct ts_snapshot *cur, *next = NULL;
	size_t rebuilt = 0;
	int64_t gen, t0;
	int rc;

	pthread_mutex_lock(&r->lock);
	free_retired(r, false);
	cur = atomic_load(&r->current);
	rc = ts_store_generation(r->store, &gen);
	atomic_store(&r->storage_ok, rc == TS_OK);
	if (rc != TS_OK || (!force && cur && cur->generation == gen))
		goto out;
	t0 = ts_mono_ms();
	/* A forced reload rebuilds everything; otherwise unchanged tenants
	 * are shared with the current snapshot. */
	rc = ts_snapshot_update(&src, force ? NULL : cur, &next, &rebuilt);
	if (rc != TS_OK)
		goto out;
	atomic_store(&r->current, next);
	if (cur) {
		struct retired *e = ts_xcalloc(1, sizeof(*e));
		e->snap = cur;
		e->free_after_ms = ts_mono_ms() + TS_SNAPSHOT_GRACE_S * 1000;
		e->next = r->retired;
		r->retired = e;
	}
	ts_log_info("loaded configuration generation %lld (%zu tenants, %zu rebuilt, %lld ms)",
		    (long long)next->generation, next->ntenants, rebuilt,
		    (long long)(ts_mono_ms() - t0));
out:
	pthread_mutex_unlock(&r->lock);
	return rc;
}

bool ts_registry_storage_ok(struct ts_registry *r)
{
	return atomic_load(&r->storage_ok);
}

void ts_registry_storage_seen(struct ts_registry *r, bool ok)
{
	atomic_store(&r->storage_ok, ok);
}

int ts_registry_new(struct ts_store *st, const char *public_url,
		    const struct ts_master_key *mks, size_t nmk, struct ts_registry **out)
{
	struct ts_registry *r = ts_xcalloc(1, sizeof(*r));
	int rc;

	r->store = st;
	r->public_url = ts_xstrdup(public_url);
	if (nmk) {
		r->mks = ts_xcalloc(nmk, sizeof(*mks));
		memcpy(r->mks, mks, nmk * sizeof(*mks));
		r->nmk = nmk;
	}
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	atomic_init(&r->current, NULL);
	atomic_init(&r->storage_ok, true);
	rc = ts_registry_reload(r, true);
	if (rc != TS_OK) {
		ts_registry_free(r);
		*out = NULL;
		return rc;
	}
	*out = r;
	return TS_OK;
}

static void *poller(void *arg)
{
	struct ts_registry *r = arg;

	pthread_mutex_lock(&r->lock);
	while (!r->stop) {
		struct timespec ts;
		int64_t ms;

		clock_gettime(CLOCK_REALTIME, &ts);
		ms = (int64_t)ts.tv_nsec / 1000000 + r->interval_ms;
		ts.tv_sec += ms / 1000;
		ts.tv_nsec = (long)(ms % 1000) * 1000000;
		pthread_cond_timedwait(&r->cond, &r->lock, &ts);
		if (r->stop)
			break;
		pthread_mutex_unlock(&r->lock);
		/* A failing store is logged by the store; the old snapshot stays. */
		ts_registry_reload(r, false);
		pthread_mutex_lock(&r->lock);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

int ts_registry_start(struct ts_registry *r, int interval_ms)
{
	r->interval_ms = interval_ms > 0 ? interval_ms : TS_RELOAD_INTERVAL_MS;
	if (pthread_create(&r->thread, NULL, poller, r) != 0)
		return TS_EIO;
	r->running = true;
	return TS_OK;
}

const struct ts_snapshot *ts_registry_get(struct ts_registry *r)
{
	return atomic_load_explicit(&r->current, memory_order_acquire);
}

struct ts_tenant_stats *ts_registry_stats(struct ts_registry *r)
{
	struct ts_tenant_stats *s;

	pthread_mutex_lock(&r->lock);
	s = r->stats;
	pthread_mutex_unlock(&r->lock);
	return s;
}

void ts_registry_free(struct ts_registry *r)
{
	struct ts_tenant_stats *s, *next;

	if (r == NULL)
		return;
	if (r->running) {
		pthread_mutex_lock(&r->lock);
		r->stop = true;
		pthread_cond_signal(&r->cond);
		pthread_mutex_unlock(&r->lock);
		pthread_join(r->thread, NULL);
	}
	free_retired(r, true);
	ts_snapshot_free(atomic_load(&r->current));
	for (s = r->stats; s; s = next) {
		next = s->next;
		free(s->tenant_name);
		free(s);
	}
	if (r->mks) {
		OPENSSL_cleanse(r->mks, r->nmk * sizeof(*r->mks));
		free(r->mks);
	}
	free(r->stats_index);
	free(r->public_url);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	free(r);
}
