/* registry.c: owns the current snapshot, publishes new ones with an atomic
 * pointer store, and frees retired ones after a grace period. Readers never
 * lock. */
#include "tenant.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	pthread_mutex_t lock;         /* serializes reloads and the lists below */
	struct retired *retired;
	struct ts_tenant_stats *stats; /* append-only list */
	pthread_t thread;
	bool running;
	pthread_cond_t cond;
	bool stop;
	int interval_ms;
};

/* Called with r->lock held, from the loader only. */
static struct ts_tenant_stats *stats_for(void *ctx, const char *name)
{
	struct ts_registry *r = ctx;
	struct ts_tenant_stats *s;

	for (s = r->stats; s; s = s->next)
		if (strcmp(s->tenant_name, name) == 0)
			return s;
	s = ts_xcalloc(1, sizeof(*s));
	s->tenant_name = ts_xstrdup(name);
	s->next = r->stats;
	r->stats = s;
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
	struct ts_snapshot *cur, *next = NULL;
	int64_t gen;
	int rc;

	pthread_mutex_lock(&r->lock);
	free_retired(r, false);
	cur = atomic_load(&r->current);
	rc = ts_store_generation(r->store, &gen);
	if (rc != TS_OK || (!force && cur && cur->generation == gen))
		goto out;
	rc = ts_snapshot_load(r->store, r->public_url, r->mks, r->nmk, stats_for, r, &next);
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
	ts_log_info("loaded configuration generation %lld (%zu tenants)", (long long)next->generation,
		    next->ntenants);
out:
	pthread_mutex_unlock(&r->lock);
	return rc;
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
	free(r->public_url);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	free(r);
}
