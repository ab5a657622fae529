/* scheduler.c: the background thread of `tessera serve` that refreshes
 * every connection whose next_refresh_at has come (inside its refresh
 * window, or after a backoff delay). Every server sharing a database runs
 * one; the lease taken by ts_vault_refresh makes sure only one of them
 * works on a connection at a time. Refreshes run one after another within
 * a server, each bounded by the upstream timeout. */
#include "vault_int.h"

#include "store/store_vault.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#define SCHEDULER_ACTOR "scheduler"

void ts_vault_tick(struct ts_vault *v)
{
	struct ts_connection_rec **due = NULL, *after = NULL;
	size_t n = 0, i;
	int rc;

	rc = ts_store_connection_due(v->store, ts_now(), TS_VAULT_DUE_BATCH, &due, &n);
	if (rc != TS_OK) {
		if (rc != TS_ENOTFOUND)
			ts_log_warn("vault scheduler: listing due connections failed (%s)",
				    ts_rc_str(rc));
		return;
	}
	for (i = 0; i < n; i++) {
		pthread_mutex_lock(&v->mu);
		if (v->stop) {
			pthread_mutex_unlock(&v->mu);
			break;
		}
		pthread_mutex_unlock(&v->mu);
		rc = ts_vault_refresh(v, due[i]->tenant_id, due[i]->id, TS_VAULT_SCHEDULED,
				      SCHEDULER_ACTOR, &after);
		/* TS_ECONFLICT: another server (or a request) is on it. */
		if (rc != TS_OK && rc != TS_ECONFLICT && rc != TS_ENOTFOUND)
			ts_log_warn("vault scheduler: connection %s: %s", due[i]->id, ts_rc_str(rc));
		ts_connection_rec_free(after);
		after = NULL;
	}
	ts_connection_recs_free(due, n);
}

static void *scheduler_main(void *arg)
{
	struct ts_vault *v = arg;

	pthread_mutex_lock(&v->mu);
	while (!v->stop) {
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_sec += (time_t)(v->set.tick_ms / 1000);
		t.tv_nsec += (long)(v->set.tick_ms % 1000) * 1000000L;
		if (t.tv_nsec >= 1000000000L) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000L;
		}
		while (!v->stop && pthread_cond_timedwait(&v->cv, &v->mu, &t) != ETIMEDOUT)
			;
		if (v->stop)
			break;
		pthread_mutex_unlock(&v->mu);
		ts_vault_tick(v);
		pthread_mutex_lock(&v->mu);
	}
	pthread_mutex_unlock(&v->mu);
	return NULL;
}

int ts_vault_start(struct ts_vault *v)
{
	if (v == NULL || v->started)
		return TS_EINVAL;
	if (pthread_create(&v->thread, NULL, scheduler_main, v) != 0)
		return TS_EIO;
	v->started = true;
	ts_log_info("vault scheduler started (tick %lld ms)", (long long)v->set.tick_ms);
	return TS_OK;
}
