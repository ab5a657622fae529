/* attempt.c: the bookkeeping shared by every password check: throttling
 * per user and per client address, the failure metric and audit event, and
 * rehashing with current Argon2id parameters after a success.
 *
 * An attempt is counted as a failure before its password is hashed, by one
 * atomic step that also decides whether it may run at all, and a success
 * takes it back. So any number of parallel attempts cannot get more
 * passwords checked than the limits allow.
 *
 * Throttling is first the process's own lock-free table (identity.h), a
 * cheap check that answers alone when the store is this server's only. A
 * store that several servers share (they behave as one process) also
 * keeps the counts, so that failures spread over the servers add up:
 * there, each attempt reserves under both keys in the store too, by a
 * compare and swap on the row it read. The store knows a key only by its
 * hex SHA-256, never the username or address in clear. A store error here
 * is logged and otherwise ignored: the request's own storage calls answer
 * 503. */
#include "web.h"

#include "store/store_people.h"
#include "store/store_state.h"
#include "wire/ascii.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(TS_STORE_THROTTLE_WINDOW_S == TS_THROTTLE_WINDOW_S,
	       "the store purges throttle windows of the length they count");

#define KEY_HASH_CAP (2 * TS_SHA256_LEN + 1)
#define DEVICE_PURPOSE "known-device"
#define DEVICE_NONCE_BYTES 16
#define DEVICE_NONCE_MAX 32 /* characters of a nonce in a cookie */
#define DEVICE_COOKIE_AGE_S (180 * 24 * 3600)
#define CAS_TRIES 16 /* rounds lost to other servers before giving up */

static void key_hash(const char *key, char out[KEY_HASH_CAP])
{
	ts_sha256_hex(key, strlen(key), out);
}

/* Reserves one attempt under key in the shared store: TS_OK (counted),
 * TS_EDENIED with *retry_after raised to the wait, or TS_OK on a store
 * error (logged). Contention past CAS_TRIES rounds refuses the attempt. */
static int shared_reserve(struct ts_store *st, const char *key, const struct ts_throttle_policy *p,
			  int64_t now, int *retry_after)
{
	char h[KEY_HASH_CAP];
	int i, rc, wait = 0;

	key_hash(key, h);
	for (i = 0; i < CAS_TRIES; i++) {
		struct ts_throttle_win old = {0, 0, 0}, next = {now, 1, now};
		rc = ts_store_throttle_get(st, h, &old.start, &old.failures, &old.last);
		if (rc != TS_OK && rc != TS_ENOTFOUND)
			goto store_error;
		if (rc == TS_OK && now < old.start + TS_THROTTLE_WINDOW_S) {
			if (old.failures < 0)
				old.failures = 0;
			if (ts_throttle_decide(p, old.start, (unsigned)old.failures, old.last, now,
					       &wait) != TS_OK)
				goto denied;
			next.start = old.start;
			next.failures = old.failures < TS_THROTTLE_COUNT_MAX ? old.failures + 1
									     : old.failures;
			next.last = old.last > now ? old.last : now;
		}
		rc = ts_store_throttle_cas(st, h, rc == TS_OK ? &old : NULL, &next);
		if (rc == TS_OK)
			return TS_OK;
		if (rc != TS_ECONFLICT)
			goto store_error;
	}
	wait = 1;
denied:
	if (*retry_after < wait)
		*retry_after = wait;
	return TS_EDENIED;
store_error:
	ts_log_warn("could not reserve an attempt in a shared throttle window (%d)", rc);
	return TS_OK;
}

/* Takes one reserved attempt back from key's shared window. */
static void shared_release(struct ts_store *st, const char *key, int64_t now)
{
	char h[KEY_HASH_CAP];
	int i, rc = TS_OK;

	key_hash(key, h);
	for (i = 0; i < CAS_TRIES; i++) {
		struct ts_throttle_win old = {0, 0, 0}, next;
		rc = ts_store_throttle_get(st, h, &old.start, &old.failures, &old.last);
		if (rc != TS_OK || old.failures <= 0 || now >= old.start + TS_THROTTLE_WINDOW_S)
			break;
		next = old;
		next.failures--;
		rc = ts_store_throttle_cas(st, h, &old, &next);
		if (rc != TS_ECONFLICT)
			break;
	}
	if (rc != TS_OK && rc != TS_ENOTFOUND && rc != TS_ECONFLICT)
		ts_log_warn("could not release an attempt in a shared throttle window (%d)", rc);
}

static void shared_reset(struct ts_store *st, const char *key)
{
	char h[KEY_HASH_CAP];
	int rc;

	key_hash(key, h);
	rc = ts_store_throttle_reset(st, h);
	if (rc != TS_OK)
		ts_log_warn("could not clear a shared throttle window (%d)", rc);
}

/* The shared half of ts_pw_attempt_begin: both keys, or neither. */
static int shared_begin(struct ts_store *st, const struct ts_pw_attempt *a, int64_t now,
			int *retry_after)
{
	int wait = 0;

	if (shared_reserve(st, a->ukey, &ts_throttle_account, now, &wait) != TS_OK) {
		*retry_after = wait;
		return TS_EDENIED;
	}
	if (shared_reserve(st, a->ikey, &ts_throttle_address, now, &wait) != TS_OK) {
		shared_release(st, a->ukey, now);
		*retry_after = wait;
		return TS_EDENIED;
	}
	return TS_OK;
}

/* What a known-device MAC binds: the tenant, the folded username (from
 * the user key, after "user:") and the nonce. */
static const char *device_binding(struct ts_arena *a, const struct ts_rctx *rc, const char *folded,
				  const char *nonce)
{
	return ts_arena_printf(a, "%s\n%s\n%s", rc->tenant->id, folded, nonce);
}

static char *folded_name(struct ts_arena *a, const char *username)
{
	char *f = ts_arena_strdup(a, username), *p;

	for (p = f; *p; p++)
		*p = (char)ts_to_lower((unsigned char)*p);
	return f;
}

void ts_known_device_set(const struct ts_rctx *rc, struct ts_http_resp *resp, const char *username)
{
	char nonce[DEVICE_NONCE_MAX + 1], mac[44];

	if (ts_rand_token(nonce, sizeof(nonce), DEVICE_NONCE_BYTES) != TS_OK)
		return; /* no mark: the address's count applies, nothing worse */
	ts_csrf_token(rc->app, DEVICE_PURPOSE,
		      device_binding(resp->arena, rc, folded_name(resp->arena, username), nonce), mac);
	ts_cookie_set(rc, resp, TS_DEVICE_COOKIE, ts_arena_printf(resp->arena, "%s.%s", nonce, mac),
		      DEVICE_COOKIE_AGE_S);
}

/* The nonce of the request's known-device cookie when it marks this
 * browser for folded, else NULL. */
static const char *known_device(const struct ts_rctx *rc, struct ts_http_req *req,
				const char *folded)
{
	const char *v = ts_http_cookie(req, TS_DEVICE_COOKIE);
	const char *dot = v ? strchr(v, '.') : NULL;
	const char *nonce;

	if (dot == NULL || dot == v || (size_t)(dot - v) > DEVICE_NONCE_MAX)
		return NULL;
	nonce = ts_arena_strndup(req->arena, v, (size_t)(dot - v));
	return ts_csrf_ok(rc->app, DEVICE_PURPOSE, device_binding(req->arena, rc, folded, nonce),
			  dot + 1)
		       ? nonce
		       : NULL;
}

int ts_pw_attempt_begin(const struct ts_rctx *rc, struct ts_http_req *req, const char *username,
			struct ts_pw_attempt *a, int *retry_after)
{
	char *folded = folded_name(req->arena, username);
	struct ts_throttle *t = rc->app->throttle;
	const char *device = known_device(rc, req, folded);
	int64_t now = ts_now();
	int wait = 0;

	a->ukey = ts_arena_printf(req->arena, "%s/user:%s", rc->tenant->id, folded);
	/* A browser the person signed in on before counts on its own, with
	 * the address's policy, instead of on the address it shares. */
	a->ikey = device ? ts_arena_printf(req->arena, "%s/device:%s", rc->tenant->id, device)
			 : ts_arena_printf(req->arena, "%s/ip:%s", rc->tenant->id, req->remote_addr);
	if (retry_after == NULL)
		retry_after = &wait;
	if (ts_throttle_reserve(t, a->ukey, &ts_throttle_account, now, retry_after) != TS_OK)
		return TS_EDENIED;
	if (ts_throttle_reserve(t, a->ikey, &ts_throttle_address, now, retry_after) != TS_OK) {
		ts_throttle_release(t, a->ukey, now);
		return TS_EDENIED;
	}
	if (rc->app->store->ops->shared &&
	    shared_begin(rc->app->store, a, now, retry_after) != TS_OK) {
		ts_throttle_release(t, a->ukey, now);
		ts_throttle_release(t, a->ikey, now);
		return TS_EDENIED;
	}
	return TS_OK;
}

void ts_pw_attempt_failed(const struct ts_rctx *rc, const struct ts_pw_attempt *a,
			  const char *user_id, const char *actor, const char *method)
{
	char detail[64];

	(void)a; /* counted when it began */
	if (rc->tenant->stats)
		atomic_fetch_add_explicit(&rc->tenant->stats->login_failures, 1, memory_order_relaxed);
	snprintf(detail, sizeof(detail), "{\"method\":\"%s\"}", method);
	ts_audit_emit(rc->app->audit, rc->tenant->name, "login.failed", actor, user_id, detail);
}

void ts_pw_attempt_succeeded(const struct ts_rctx *rc, const struct ts_pw_attempt *a,
			     struct ts_user_rec *u, const char *password, bool needs_rehash)
{
	char *h = NULL;
	int64_t now = ts_now();

	ts_throttle_reset(rc->app->throttle, a->ukey);
	ts_throttle_release(rc->app->throttle, a->ikey, now);
	if (rc->app->store->ops->shared) {
		shared_reset(rc->app->store, a->ukey);
		shared_release(rc->app->store, a->ikey, now);
	}
	if (!needs_rehash || ts_password_hash(password, &h) != TS_OK)
		return;
	/* Only the hash, and only if it is still the one just checked: an
	 * administrator's change made during the login is never undone. */
	switch (ts_store_user_rehash(rc->app->store, u->tenant_id, u->id, u->password_hash, h,
				     now)) {
	case TS_OK:
	case TS_ENOTFOUND: /* changed meanwhile: the newer record stands */
		break;
	default:
		ts_log_warn("could not store the rehashed password of a user of %s", rc->tenant->name);
	}
	ts_free_secret(h);
}
