/* attempt.c: the bookkeeping shared by every password check: throttling
 * per user and per source address, the failure metric and audit event, and
 * rehashing with current Argon2id parameters after a success. */
#include "oauth.h"

#include <stdio.h>
#include <stdlib.h>

int ts_pw_attempt_begin(const struct ts_rctx *rc, struct ts_http_req *req, const char *username,
			struct ts_pw_attempt *a, int *retry_after)
{
	char *k = ts_arena_printf(req->arena, "%s/user:%s", rc->tenant->id, username), *p;
	int64_t now = ts_now();

	for (p = k; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	a->ukey = k;
	a->ikey = ts_arena_printf(req->arena, "%s/ip:%s", rc->tenant->id, req->remote_addr);
	if (ts_throttle_check(rc->app->throttle, a->ukey, now, retry_after) != TS_OK ||
	    ts_throttle_check(rc->app->throttle, a->ikey, now, retry_after) != TS_OK)
		return TS_EDENIED;
	return TS_OK;
}

void ts_pw_attempt_failed(const struct ts_rctx *rc, const struct ts_pw_attempt *a,
			  const char *user_id, const char *actor, const char *method)
{
	int64_t now = ts_now();
	char detail[64];

	ts_throttle_fail(rc->app->throttle, a->ukey, now);
	ts_throttle_fail(rc->app->throttle, a->ikey, now);
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
	if (!needs_rehash || ts_password_hash(password, &h) != TS_OK)
		return;
	free(u->password_hash);
	u->password_hash = h;
	u->updated_at = ts_now();
	if (ts_store_user_put(rc->app->store, u) != TS_OK)
		ts_log_warn("could not store the rehashed password of a user of %s", rc->tenant->name);
}
