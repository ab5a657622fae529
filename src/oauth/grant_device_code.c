/* grant_device_code.c: the device code grant at the token endpoint (RFC
 * 8628 §3.4, §3.5): a device polls until the user has decided; a device
 * code gives tokens once. */
#include "oauth.h"
#include "internal.h"

#include "store/store_people.h"
#include "store/store_state.h"
#include "store/store_tokens.h"

#include <stdlib.h>
#include <string.h>

/* RFC 8628 §3.5: a poll sooner than the interval after the last one is
 * answered slow_down and adds to the interval. Fills e; TS_ESTORE or
 * TS_EDENIED (the answer is in e). */
static int pace(struct ts_rctx *rc, struct ts_arena *a, const char *h, int64_t now, int64_t exp,
		struct ts_oauth_err *e)
{
	const char *key = ts_device_pace_key(a, h);
	char *old = NULL;
	json_t *p;
	int64_t interval, last;
	int tries, r;

	for (tries = 0; tries < TS_DEVICE_CAS_TRIES; tries++) {
		r = ts_store_pending_get(rc->app->store, key, NULL, NULL, &old, NULL);
		if (r != TS_OK && r != TS_ENOTFOUND)
			return r;
		p = old ? json_loads(old, 0, NULL) : NULL;
		interval = json_is_integer(json_object_get(p, "interval"))
				   ? json_integer_value(json_object_get(p, "interval"))
				   : TS_DEVICE_INTERVAL_S;
		last = json_integer_value(json_object_get(p, "last_poll"));
		json_decref(p);
		if (last && now - last < interval) {
			interval += TS_DEVICE_SLOW_DOWN_S;
			ts_oauth_err_set(e, 400, TS_ERR_SLOW_DOWN, "poll less often");
		} else {
			ts_oauth_err_set(e, 400, TS_ERR_AUTHORIZATION_PENDING, "the user has not decided yet");
		}
		r = ts_device_pace_put(rc, key, interval, now, old, exp);
		free(old);
		old = NULL;
		if (r != TS_ENOTFOUND)
			return r == TS_OK ? TS_EDENIED : r;
	}
	/* Every try lost to another poll of the same code at this moment:
	 * that is polling too fast. */
	ts_oauth_err_set(e, 400, TS_ERR_SLOW_DOWN, "poll less often");
	return TS_EDENIED;
}

/* One poll of the device record h by client c. TS_OK with *out (owned)
 * once the user has decided; otherwise e is filled and TS_EDENIED (still
 * pending, slowed down, unknown) or TS_ESTORE is returned. */
static int poll_once(struct ts_rctx *rc, struct ts_arena *a, const char *h,
		     const struct ts_client *c, int64_t now, json_t **out, struct ts_oauth_err *e)
{
	json_t *d = NULL;
	int64_t exp = 0;
	int r;

	*out = NULL;
	r = ts_device_load(rc, h, &d, NULL, &exp);
	if (r == TS_ESTORE)
		return r;
	if (r != TS_OK) {
		ts_oauth_err_set(e, 400, TS_ERR_EXPIRED_TOKEN, "the device code is unknown or expired");
		return TS_EDENIED;
	}
	if (!ts_str_eq(ts_str_c(json_string_value(json_object_get(d, "client_id"))), c->client_id)) {
		ts_oauth_err_set(e, 400, TS_ERR_INVALID_GRANT, "the device code belongs to another client");
		json_decref(d);
		return TS_EDENIED;
	}
	if (!ts_device_pending(d)) {
		*out = d;
		return TS_OK;
	}
	json_decref(d);
	return pace(rc, a, h, now, exp, e);
}

/* The approval's grant (made when the user approved) is not revoked and
 * its user is still there and enabled: TS_OK with *u (owned by the
 * caller), TS_EDENIED, or TS_ESTORE. */
static int approval_active(struct ts_rctx *rc, const char *gid, const char *user_id,
			   struct ts_user_rec **u)
{
	struct ts_grant_rec *g = NULL;
	int r = gid ? ts_store_grant_get(rc->app->store, rc->tenant->id, gid, &g) : TS_ENOTFOUND;

	*u = NULL;
	if (r == TS_OK && (g->revoked || user_id == NULL || g->user_id == NULL ||
			    strcmp(g->user_id, user_id) != 0))
		r = TS_EDENIED;
	ts_grant_rec_free(g);
	if (r == TS_OK)
		r = ts_store_user_get(rc->app->store, rc->tenant->id, user_id, u);
	if (r == TS_OK && (*u)->disabled)
		r = TS_EDENIED;
	return r == TS_OK || r == TS_ESTORE ? r : TS_EDENIED;
}

void ts_grant_device_code(struct ts_rctx *rc, struct ts_http_req *req, struct ts_http_resp *resp,
			  const struct ts_client *c)
{
	const char *dc = ts_params_get(req->form, req->nform, TS_P_DEVICE_CODE, NULL);
	struct ts_oauth_err e = {0};
	struct ts_user_rec *u = NULL;
	struct ts_grant_rec g;
	struct ts_issue is;
	const char *status, *gid;
	char h[2 * TS_SHA256_LEN + 1];
	json_t *d = NULL;
	int64_t now = ts_now();
	int r;

	if (dc == NULL || strlen(dc) > 128) {
		ts_oauth_err_set(&e, 400, TS_ERR_INVALID_REQUEST, "device_code is required");
		goto fail;
	}
	/* A malformed resource is refused before any poll is counted. */
	memset(&is, 0, sizeof(is));
	if (!ts_oauth_resources(req, &is, false, &e))
		goto fail;
	ts_sha256_hex(dc, strlen(dc), h);
	r = poll_once(rc, req->arena, h, c, now, &d, &e);
	if (r == TS_ESTORE)
		goto unavailable;
	if (r != TS_OK)
		goto fail;
	status = json_string_value(json_object_get(d, "status"));
	/* RFC 8707 §2.2: a resource named here narrows the device code's; a
	 * refused one spends nothing. */
	memset(&is, 0, sizeof(is));
	if (!ts_oauth_resources_within(req, json_string_value(json_object_get(d, "resource")), &is,
				       &e))
		goto fail;
	/* Whatever happens next, the device code is used up, once. */
	r = ts_store_pending_delete(rc->app->store, h);
	if (r == TS_ENOTFOUND) {
		ts_oauth_err_set(&e, 400, TS_ERR_INVALID_GRANT, "the device code was already used");
		goto fail;
	}
	if (r != TS_OK)
		goto unavailable;
	ts_store_pending_delete(rc->app->store, ts_device_pace_key(req->arena, h)); /* best effort */
	if (!ts_str_eq(ts_str_c(status), "approved")) {
		ts_oauth_err_set(&e, 400, TS_ERR_ACCESS_DENIED, "the user denied the request");
		goto fail;
	}
	gid = json_string_value(json_object_get(d, "grant_id"));
	r = approval_active(rc, gid, json_string_value(json_object_get(d, "user_id")), &u);
	if (r == TS_ESTORE)
		goto unavailable;
	if (r != TS_OK) {
		ts_oauth_err_set(&e, 400, TS_ERR_INVALID_GRANT, "the user is no longer active");
		goto fail;
	}
	is.scope = ts_scope_client_narrow(rc->tenant, c, json_string_value(json_object_get(d, "scope")),
					  req->arena);
	memset(&g, 0, sizeof(g));
	g.tenant_id = rc->tenant->id;
	g.id = (char *)gid;
	g.client_id = c->client_id;
	g.user_id = u->id;
	g.scope = (char *)is.scope;
	g.auth_time = json_integer_value(json_object_get(d, "auth_time"));
	g.created_at = now;
	if (ts_store_grant_put(rc->app->store, &g) != TS_OK)
		goto unavailable;
	is.client = c;
	is.user = u;
	is.grant_id = gid;
	is.kind = TS_GRANT_DEVICE_CODE;
	is.auth_time = g.auth_time;
	is.refresh = ts_oauth_wants_refresh(rc->tenant, c, is.scope);
	if (ts_oauth_issue(rc, req, resp, &is, &e) == TS_OK)
		goto out;
	goto fail;
unavailable:
	ts_oauth_err_unavailable(&e);
fail:
	ts_oauth_err_send(rc, resp, &e);
out:
	json_decref(d);
	ts_user_rec_free(u);
}
