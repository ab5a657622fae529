/* attempt.c: the bookkeeping shared by every password check: throttling
 * per user and per source address, the failure metric and audit event, and
 * rehashing with current Argon2id parameters after a success.
 *
 * Throttling is first the process's own lock-free table (identity.h), a
 * cheap check that answers alone when the store is this server's only. A
 * store that several servers share (SPEC §8: they behave as one process)
 * also keeps the counts, so that failures spread over the servers add up:
 * there, each attempt reads both keys' windows and each failure counts
 * in the store as well. The store knows a key only by its hex SHA-256,
 * never the username or address in clear. A store error here is logged
 * and otherwise ignored: the request's own storage calls answer 503. */
#include "oauth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(TS_STORE_THROTTLE_WINDOW_S == TS_THROTTLE_WINDOW_S,
	       "the store purges throttle windows of the length they count");

#define KEY_HASH_CAP (2 * TS_SHA256_LEN + 1)

static void key_hash(const char *key, char out[KEY_HASH_CAP])
{
	ts_sha256_hex(key, strlen(key), out);
}

/* The shared window of key: TS_EDENIED with *retry_after raised to its
 * wait if it refuses an attempt now, else TS_OK (a store error included). */
static int shared_check(struct ts_store *st, const char *key, int64_t now, int *retry_after)
{
	char h[KEY_HASH_CAP];
	int64_t start = 0, last = 0;
	int failures = 0, wait = 0, rc;

	key_hash(key, h);
	rc = ts_store_throttle_get(st, h, &start, &failures, &last);
	if (rc == TS_ENOTFOUND)
		return TS_OK;
	if (rc != TS_OK) {
		ts_log_warn("could not read a shared throttle window (%d)", rc);
		return TS_OK;
	}
	if (failures < 0 ||
	    ts_throttle_decide(start, (unsigned)failures, last, now, &wait) == TS_OK)
		return TS_OK;
	if (*retry_after < wait)
		*retry_after = wait;
	return TS_EDENIED;
}

static void shared_fail(struct ts_store *st, const char *key, int64_t now)
{
	char h[KEY_HASH_CAP];
	int rc;

	key_hash(key, h);
	rc = ts_store_throttle_fail(st, h, now, TS_THROTTLE_WINDOW_S, TS_THROTTLE_MAX);
	if (rc != TS_OK)
		ts_log_warn("could not count a failure in a shared throttle window (%d)", rc);
}

int ts_pw_attempt_begin(const struct ts_rctx *rc, struct ts_http_req *req, const char *username,
			struct ts_pw_attempt *a, int *retry_after)
{
	char *k = ts_arena_printf(req->arena, "%s/user:%s", rc->tenant->id, username), *p;
	int64_t now = ts_now();
	bool denied;
	int wait;

	for (p = k; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	a->ukey = k;
	a->ikey = ts_arena_printf(req->arena, "%s/ip:%s", rc->tenant->id, req->remote_addr);
	if (ts_throttle_check(rc->app->throttle, a->ukey, now, retry_after) != TS_OK ||
	    ts_throttle_check(rc->app->throttle, a->ikey, now, retry_after) != TS_OK)
		return TS_EDENIED;
	if (!rc->app->store->ops->shared)
		return TS_OK;
	/* Both keys are read, so the answer waits for the later of them. */
	wait = 0;
	denied = shared_check(rc->app->store, a->ukey, now, &wait) != TS_OK;
	denied = (shared_check(rc->app->store, a->ikey, now, &wait) != TS_OK) || denied;
	if (retry_after)
		*retry_after = wait;
	return denied ? TS_EDENIED : TS_OK;
}

void ts_pw_attempt_failed(const struct ts_rctx *rc, const struct ts_pw_attempt *a,
			  const char *user_id, const char *actor, const char *method)
{
	int64_t now = ts_now();
	char detail[64];

	ts_throttle_fail(rc->app->throttle, a->ukey, now);
	ts_throttle_fail(rc->app->throttle, a->ikey, now);
	if (rc->app->store->ops->shared) {
		shared_fail(rc->app->store, a->ukey, now);
		shared_fail(rc->app->store, a->ikey, now);
	}
	if (rc->tenant->stats)
		atomic_fetch_add_explicit(&rc->tenant->stats->login_failures, 1, memory_order_relaxed);
	snprintf(detail, sizeof(detail), "{\"method\":\"%s\"}", method);
	ts_audit_emit(rc->app->audit, rc->tenant->name, "login.failed", actor, user_id, detail);
}

void ts_pw_attempt_succeeded(const struct ts_rctx *rc, const struct ts_pw_attempt *a,
			     struct ts_user_rec *u, const char *password, bool needs_rehash)
{
	char *h = NULL;

	ts_throttle_reset(rc->app->throttle, a->ukey);
	if (rc->app->store->ops->shared) {
		char uh[KEY_HASH_CAP];
		int src;

		key_hash(a->ukey, uh);
		src = ts_store_throttle_reset(rc->app->store, uh);
		if (src != TS_OK)
			ts_log_warn("could not clear a shared throttle window (%d)", src);
	}
	if (!needs_rehash || ts_password_hash(password, &h) != TS_OK)
		return;
	free(u->password_hash);
	u->password_hash = h;
	u->updated_at = ts_now();
	if (ts_store_user_put(rc->app->store, u) != TS_OK)
		ts_log_warn("could not store the rehashed password of a user of %s", rc->tenant->name);
}
