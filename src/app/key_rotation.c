/* key_rotation.c: the background thread of `tessera serve` that rotates
 * the signing keys of tenants whose key_rotation has come
 * (admin/key_rotation.c). Every server sharing a database runs one; the
 * per-tenant storage lease lets one of them rotate a tenant. It wakes once
 * a minute and runs one query; requests never wait on it. A tenant whose
 * rotation fails backs off (backoff.h), so one that fails every time is
 * not retried every minute forever. */
#include "app.h"
#include "backoff.h"

#include "admin/admin.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECK_INTERVAL_MS (60 * 1000)
#define ACTOR "scheduler"
#define OWNER_RANDOM_BYTES 16
#define OWNER_CAP (sizeof("server-") + 2 * OWNER_RANDOM_BYTES)
#define MS_PER_S 1000
#define NS_PER_MS 1000000L
#define NS_PER_S 1000000000L
#define BACKOFF_FIRST_MS CHECK_INTERVAL_MS
#define BACKOFF_MAX_MS (60 * 60 * 1000)
#define BACKOFF_TENANTS_MAX 4096 /* far more than fail at once */

struct ts_key_rotation {
	struct ts_admin admin;
	struct ts_metrics *metrics;
	char owner[OWNER_CAP]; /* this server's lease owner id */
	int64_t interval_ms;
	int64_t skew_s; /* added to the clock the schedule is read with (test builds) */
	struct ts_backoff *failing; /* tenants whose rotation failed, owned by the thread */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
};

#ifdef TS_TEST_HOOKS
/* Debug test builds only (TS_TEST_HOOKS, which CMake refuses in any
 * other build type): an integer from the environment, or def. */
static int64_t test_env(const char *name, int64_t def, int64_t min, int64_t max)
{
	int64_t v = def;

	if (ts_env_int(name, min, max, &v) == TS_OK)
		ts_log_warn("test build: %s=%lld changes the key-rotation schedule", name,
			    (long long)v);
	return v;
}
#endif

static void counted(void *arg, const char *tenant, enum ts_jws_alg alg, int rc)
{
	struct ts_key_rotation *r = arg;
	int64_t wait_ms;

	if (rc == TS_OK) {
		ts_metrics_key_rotation(r->metrics, tenant, ts_jws_alg_name(alg));
		ts_backoff_succeeded(r->failing, tenant);
		return;
	}
	ts_metrics_key_rotation_failed(r->metrics, tenant);
	wait_ms = ts_backoff_failed(r->failing, tenant, ts_mono_ms());
	if (wait_ms > 0)
		ts_log_warn("tenant %s: automatic key rotation is tried again in %lld s", tenant,
			    (long long)(wait_ms / MS_PER_S));
}

static bool backing_off(void *arg, const char *tenant)
{
	struct ts_key_rotation *r = arg;

	return ts_backoff_waiting(r->failing, tenant, ts_mono_ms());
}

static bool stopping(void *arg)
{
	struct ts_key_rotation *r = arg;
	bool stop;

	pthread_mutex_lock(&r->mu);
	stop = r->stop;
	pthread_mutex_unlock(&r->mu);
	return stop;
}

static void *rotation_main(void *arg)
{
	struct ts_key_rotation *r = arg;

	pthread_mutex_lock(&r->mu);
	while (!r->stop) {
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_sec += (time_t)(r->interval_ms / MS_PER_S);
		t.tv_nsec += (long)(r->interval_ms % MS_PER_S) * NS_PER_MS;
		if (t.tv_nsec >= NS_PER_S) {
			t.tv_sec++;
			t.tv_nsec -= NS_PER_S;
		}
		while (!r->stop && pthread_cond_timedwait(&r->cv, &r->mu, &t) != ETIMEDOUT)
			;
		if (r->stop)
			break;
		pthread_mutex_unlock(&r->mu);
		if (ts_admin_keys_rotate_due(&r->admin, ts_now() + r->skew_s, r->owner, counted,
					     stopping, backing_off, r) != TS_OK)
			ts_log_warn("key rotation: could not list the tenants that are due");
		else /* tenants no longer due are forgotten */
			ts_backoff_sweep(r->failing);
		pthread_mutex_lock(&r->mu);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

int ts_key_rotation_start(struct ts_store *st, const struct ts_master_key *mk,
			  const char *public_url, struct ts_metrics *metrics,
			  struct ts_key_rotation **out)
{
	struct ts_key_rotation *r;
	unsigned char rnd[OWNER_RANDOM_BYTES];
	char hex[2 * OWNER_RANDOM_BYTES + 1];

	*out = NULL;
	if (ts_rand_bytes(rnd, sizeof(rnd)) != TS_OK)
		return TS_ECRYPTO;
	r = ts_xcalloc(1, sizeof(*r));
	ts_hex_encode(rnd, sizeof(rnd), hex);
	snprintf(r->owner, sizeof(r->owner), "server-%s", hex);
	r->admin.store = st;
	r->admin.mk = mk;
	r->admin.public_url = public_url;
	r->admin.actor = ACTOR;
	r->metrics = metrics;
	r->interval_ms = CHECK_INTERVAL_MS;
#ifdef TS_TEST_HOOKS
	r->interval_ms = test_env("TESSERA_TEST_KEY_ROTATION_CHECK_MS", r->interval_ms, 10,
				  CHECK_INTERVAL_MS);
	r->skew_s = test_env("TESSERA_TEST_KEY_ROTATION_SKEW_S", 0, 0, TS_KEY_ROTATION_MAX_S * 2LL);
#endif
	r->failing = ts_backoff_new(BACKOFF_FIRST_MS, BACKOFF_MAX_MS, BACKOFF_TENANTS_MAX);
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	if (pthread_create(&r->thread, NULL, rotation_main, r) != 0) {
		pthread_mutex_destroy(&r->mu);
		pthread_cond_destroy(&r->cv);
		ts_backoff_free(r->failing);
		free(r);
		return TS_EIO;
	}
	*out = r;
	return TS_OK;
}

void ts_key_rotation_stop(struct ts_key_rotation *r)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = true;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->thread, NULL);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	ts_backoff_free(r->failing);
	free(r);
}
