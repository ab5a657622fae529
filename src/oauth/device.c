/* device.c: the device authorization grant (RFC 8628). A device asks for a
 * device code and a short user code; the user enters the code at
 * {issuer}/device, signs in and approves through the same login and consent
 * pages as the authorization endpoint; the device polls the token endpoint.
 * Device and user codes are stored only as digests, in pending state. */
#include "oauth.h"

#include "oidc/oidc.h"

#include <stdlib.h>
#include <string.h>

#define DEVICE_TTL_S 600
#define DEVICE_INTERVAL_S 5
#define SLOW_DOWN_STEP_S 5
#define DEVICE_CODE_BYTES 32
#define USER_CODE_LEN 8
#define KIND_DEVICE "device"
#define KIND_USER_CODE "device_user"
#define KIND_PACE "device_pace"
#define CSRF_DEVICE "device"
/* A compare and swap that lost to a concurrent writer is redone on a fresh
 * read, a few times. */
#define CAS_TRIES 8

/* RFC 8628 §6.1: consonants only (no vowels: no words), no look-alikes. */
static const char user_code_alphabet[] = "BCDFGHJKLMNPQRSTVWXZ";

/* Upper-cases and drops separators, so "bcdf-ghjk" and "BCDFGHJK" match. */
static const char *normalize_user_code(struct ts_arena *a, const char *in)
{
	char *out = ts_arena_alloc(a, USER_CODE_LEN + 1);
	size_t n = 0;

	for (; in && *in; in++) {
		char c = *in;
		if (c == '-' || c == ' ')
			continue;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (n == USER_CODE_LEN || strchr(user_code_alphabet, c) == NULL || c == '\0')
			return NULL;
		out[n++] = c;
	}
	return n == USER_CODE_LEN ? out : NULL;
}

static const char *user_code_key(struct ts_arena *a, const char *tenant_id, const char *code)
{
	char h[2 * TS_SHA256_LEN + 1];
	const char *s = ts_arena_printf(a, "user-code:%s:%s", tenant_id, code);

	ts_sha256_hex(s, strlen(s), h);
	return ts_arena_strdup(a, h);
}

/* The device record and, in *text (owned by the caller, may be NULL),
 * the stored text it was read from, for a compare and swap. */
static int load(struct ts_rctx *rc, const char *hash, json_t **data, char **text, int64_t *exp)
{
	char *tenant = NULL, *kind = NULL, *t = NULL;
	int r = ts_store_pending_get(rc->app->store, hash, &tenant, &kind, &t, exp);

	*data = NULL;
	if (r == TS_OK) {
		if (strcmp(tenant, rc->tenant->id) != 0 || strcmp(kind, KIND_DEVICE) != 0 ||
		    *exp <= ts_now() || (*data = json_loads(t, 0, NULL)) == NULL)
			r = TS_ENOTFOUND;
	}
	free(tenant);
	free(kind);
	if (r == TS_OK && text) {
		*text = t;
		t = NULL;
	}
	free(t);
	return r;
}

/* Writes data over the record only if it still holds old (the text load
 * returned): TS_ENOTFOUND if someone changed it meanwhile. */
static int swap(struct ts_rctx *rc, const char *hash, const char *old, json_t *data)
{
	char *text = json_dumps(data, JSON_COMPACT);
	int r = text ? ts_store_pending_update(rc->app->store, hash, old, text) : TS_ENOMEM;

	free(text);
	return r;
}

static bool is_pending(const json_t *d)
{
	return ts_str_eq(ts_str_c(json_string_value(json_object_get(d, "status"))), "pending");
}

/* The polling pace of a device code (interval, last poll) is a record of
 * its own, under a key derived from the device code's: polls write only
 * it, so they never touch the record a decision is written to. */
static const char *pace_key(struct ts_arena *a, const char *h)
{
	char k[2 * TS_SHA256_LEN + 1];
	const char *s = ts_arena_printf(a, "device-pace:%s", h);

	ts_sha256_hex(s, strlen(s), k);
	return ts_arena_strdup(a, k);
}

static int pace_put(struct ts_rctx *rc, const char *key, int64_t interval, int64_t last,
		    const char *old, int64_t exp)
{
	json_t *p = json_pack("{s:I,s:I}", "interval", (json_int_t)interval, "last_poll",
			      (json_int_t)last);
	char *text = json_dumps(p, JSON_COMPACT);
	int r;

	json_decref(p);
	if (text == NULL)
		return TS_ENOMEM;
	r = old ? ts_store_pending_update(rc->app->store, key, old, text)
		: ts_store_pending_put(rc->app->store, rc->tenant->id, key, KIND_PACE, text, exp);
	free(text);
	return r;
}

int ts_device_decide(struct ts_rctx *rc, const char *device_hash, const char *user_id,
		     int64_t auth_time, bool approve)
{
	json_t *d = NULL;
	char *old = NULL;
	int64_t exp;
	int tries, r = TS_ENOTFOUND;

	/* Only decisions write this record (polls write their pace record),
	 * and only while it is pending: of two decisions one wins. */
	for (tries = 0; tries < CAS_TRIES; tries++) {
		r = load(rc, device_hash, &d, &old, &exp);
		if (r != TS_OK)
			break;
		if (!is_pending(d)) {
			r = TS_ECONFLICT;
			break;
		}
		json_object_set_new(d, "status", json_string(approve ? "approved" : "denied"));
		if (approve) {
			json_object_set_new(d, "user_id", json_string(user_id));
			json_object_set_new(d, "auth_time", json_integer(auth_time));
		}
		r = swap(rc, device_hash, old, d);
		json_decref(d);
		d = NULL;
		free(old);
		old = NULL;
		if (r != TS_ENOTFOUND)
			break;
		r = TS_ESTORE; /* only if every try lost */
	}
	json_decref(d);
	free(old);
	return r;
}

void ts_oauth_device_authorization(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = ctx;
	struct ts_oauth_err e = {0};
	const struct ts_client *c = NULL;
	const char *scope, *ukey;
	char dc[64], h[2 * TS_SHA256_LEN + 1];
	unsigned char rnd[USER_CODE_LEN];
	char uc[USER_CODE_LEN + 2];
	int64_t exp = ts_now() + DEVICE_TTL_S;
	json_t *d, *out;
	size_t i;
	int r;

	if (req->content_type == NULL ||
	    strcmp(req->content_type, "application/x-www-form-urlencoded") != 0) {
		ts_oauth_err_set(&e, 400, "invalid_request", "the body must be application/x-www-form-urlencoded");
		goto fail;
	}
	if (!ts_oauth_params_unique(req->form, req->nform, NULL, &e) ||
	    ts_oauth_client_auth(rc, req, true, &c, &e) != TS_OK)
		goto fail;
	if (!ts_client_has_grant(c, TS_GRANT_DEVICE_CODE_S)) {
		ts_oauth_err_set(&e, 400, "unauthorized_client", "the client may not use the device grant");
		goto fail;
	}
	if (!ts_oauth_scope_grant(rc->tenant, c, ts_params_get(req->form, req->nform, TS_P_SCOPE, NULL),
				  req->arena, &scope)) {
		ts_oauth_err_set(&e, 400, "invalid_scope", "a requested scope is not allowed for this client");
		goto fail;
	}
	if (ts_rand_token(dc, sizeof(dc), DEVICE_CODE_BYTES) != TS_OK ||
	    ts_rand_bytes(rnd, sizeof(rnd)) != TS_OK) {
		ts_oauth_err_set(&e, 500, "server_error", NULL);
		goto fail;
	}
	/* 20 letters, 8 places: about 2^34.6 codes, tried within 10 minutes
	 * only through the throttled verification page. The modulo bias of
	 * 256 % 20 is immaterial at this size. */
	for (i = 0; i < USER_CODE_LEN; i++)
		uc[i] = user_code_alphabet[rnd[i] % (sizeof(user_code_alphabet) - 1)];
	uc[USER_CODE_LEN] = '\0';
	ts_sha256_hex(dc, strlen(dc), h);
	d = json_pack("{s:s,s:s,s:s}", "client_id", c->client_id, "scope", scope, "status",
		      "pending");
	{
		char *text = json_dumps(d, JSON_COMPACT);
		r = ts_store_pending_put(rc->app->store, rc->tenant->id, h, KIND_DEVICE, text, exp);
		free(text);
	}
	json_decref(d);
	if (r == TS_OK)
		r = pace_put(rc, pace_key(req->arena, h), DEVICE_INTERVAL_S, 0, NULL, exp);
	ukey = user_code_key(req->arena, rc->tenant->id, uc);
	if (r == TS_OK) {
		json_t *lk = json_pack("{s:s}", "device", h);
		char *text = json_dumps(lk, JSON_COMPACT);
		json_decref(lk);
		r = ts_store_pending_put(rc->app->store, rc->tenant->id, ukey, KIND_USER_CODE, text, exp);
		free(text);
	}
	if (r != TS_OK) {
		ts_oauth_err_set(&e, 503, "temporarily_unavailable", "storage is unavailable; retry shortly");
		goto fail;
	}
	{
		char shown[USER_CODE_LEN + 2];
		memcpy(shown, uc, 4);
		shown[4] = '-';
		memcpy(shown + 5, uc + 4, 4);
		shown[9] = '\0';
		out = json_pack("{s:s,s:s,s:s,s:s,s:i,s:i}", "device_code", dc, "user_code", shown,
				"verification_uri", ts_arena_printf(req->arena, "%s/device", rc->issuer),
				"verification_uri_complete",
				ts_arena_printf(req->arena, "%s/device?user_code=%s", rc->issuer, shown),
				"expires_in", DEVICE_TTL_S, "interval", DEVICE_INTERVAL_S);
	}
	ts_http_resp_json(resp, 200, out);
	ts_oauth_no_store(resp);
	json_decref(out);
	return;
fail:
	ts_oauth_err_send(rc, resp, &e);
}

static void device_form(struct ts_rctx *rc, struct ts_http_req *req, struct ts_http_resp *resp,
			const char *prefill, const char *error, int status)
{
	const char *browser = ts_browser_id(rc, req, resp);
	char csrf[44];
	struct ts_buf b;

	ts_csrf_token(rc->app, CSRF_DEVICE, browser, csrf);
	ts_page_begin(rc, resp, &b, "Connect a device");
	if (error) {
		ts_buf_appends(&b, "<p class=\"error\" role=\"alert\">");
		ts_html_escape(&b, error);
		ts_buf_appends(&b, "</p>");
	}
	ts_buf_appends(&b, "<form method=\"post\" action=\"");
	ts_html_escape(&b, rc->issuer);
	ts_buf_appends(&b, "/device\"><input type=\"hidden\" name=\"csrf_token\" value=\"");
	ts_html_escape(&b, csrf);
	ts_buf_appends(&b, "\"><label for=\"user_code\">Code shown on your device</label>"
			   "<input type=\"text\" id=\"user_code\" name=\"user_code\" autocomplete=\"off\" "
			   "autocapitalize=\"characters\" required value=\"");
	ts_html_escape(&b, prefill ? prefill : "");
	ts_buf_appends(&b, "\"><button type=\"submit\">Continue</button></form>");
	ts_page_end(resp, &b, status);
}

void ts_oauth_device_page(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = ctx;
	const char *code, *ukey, *ikey, *dh;
	char *tenant = NULL, *kind = NULL, *text = NULL;
	json_t *link = NULL, *d = NULL;
	struct ts_authz_req ar;
	int64_t exp = 0, now = ts_now();
	int retry = 0, r;

	if (strcmp(req->method, "POST") != 0) {
		device_form(rc, req, resp, ts_params_get(req->query, req->nquery, "user_code", NULL),
			    NULL, 200);
		return;
	}
	if (!ts_csrf_ok(rc->app, CSRF_DEVICE, ts_http_cookie(req, TS_BROWSER_COOKIE),
			ts_params_get(req->form, req->nform, "csrf_token", NULL))) {
		ts_page_error(rc, resp, 403, "Request expired",
			      "The form expired or was not sent from this browser. Please start again.");
		return;
	}
	/* Guessing user codes is throttled per source address. */
	ikey = ts_arena_printf(req->arena, "%s/device-ip:%s", rc->tenant->id, req->remote_addr);
	if (ts_throttle_check(rc->app->throttle, ikey, now, &retry) != TS_OK) {
		ts_page_error(rc, resp, 429, "Too many attempts", "Please wait and try again.");
		ts_http_resp_header(resp, "Retry-After", ts_arena_printf(req->arena, "%d", retry));
		return;
	}
	code = normalize_user_code(req->arena, ts_params_get(req->form, req->nform, "user_code", NULL));
	r = TS_ENOTFOUND;
	if (code) {
		ukey = user_code_key(req->arena, rc->tenant->id, code);
		r = ts_store_pending_get(rc->app->store, ukey, &tenant, &kind, &text, &exp);
	}
	if (r == TS_OK && (strcmp(tenant, rc->tenant->id) != 0 || strcmp(kind, KIND_USER_CODE) != 0 ||
			   exp <= now || (link = json_loads(text, 0, NULL)) == NULL))
		r = TS_ENOTFOUND;
	dh = json_string_value(json_object_get(link, "device"));
	if (r == TS_OK && dh)
		r = load(rc, dh, &d, NULL, &exp);
	if (r == TS_OK && !ts_str_eq(ts_str_c(json_string_value(json_object_get(d, "status"))), "pending"))
		r = TS_ENOTFOUND;
	if (r == TS_ESTORE) {
		ts_page_error(rc, resp, 503, "Temporarily unavailable", "Please try again shortly.");
		ts_http_resp_header(resp, "Retry-After", "2");
		goto out;
	}
	if (r != TS_OK || dh == NULL) {
		ts_throttle_fail(rc->app->throttle, ikey, now);
		device_form(rc, req, resp, NULL, "That code is not valid or has expired.", 400);
		goto out;
	}
	memset(&ar, 0, sizeof(ar));
	ar.client_id = ts_arena_strdup(req->arena, json_string_value(json_object_get(d, "client_id")));
	ar.scope = ts_arena_strdup(req->arena, json_string_value(json_object_get(d, "scope")));
	ar.redirect_uri = "";
	ar.max_age = -1;
	ar.created = now;
	ar.device_hash = ts_arena_strdup(req->arena, dh);
	/* The user sees who asks (consent), unless the client skips it. */
	ts_authz_proceed(rc, req, resp, &ar, NULL);
out:
	json_decref(link);
	json_decref(d);
	free(tenant);
	free(kind);
	free(text);
}

/* RFC 8628 §3.5: a poll sooner than the interval after the last one is
 * answered slow_down and adds to the interval. Fills e; TS_ESTORE or
 * TS_EDENIED (the answer is in e). */
static int pace(struct ts_rctx *rc, struct ts_arena *a, const char *h, int64_t now, int64_t exp,
		struct ts_oauth_err *e)
{
	const char *key = pace_key(a, h);
	char *old = NULL;
	json_t *p;
	int64_t interval, last;
	int tries, r;

	for (tries = 0; tries < CAS_TRIES; tries++) {
		r = ts_store_pending_get(rc->app->store, key, NULL, NULL, &old, NULL);
		if (r != TS_OK && r != TS_ENOTFOUND)
			return r;
		p = old ? json_loads(old, 0, NULL) : NULL;
		interval = json_is_integer(json_object_get(p, "interval"))
				   ? json_integer_value(json_object_get(p, "interval"))
				   : DEVICE_INTERVAL_S;
		last = json_integer_value(json_object_get(p, "last_poll"));
		json_decref(p);
		if (last && now - last < interval) {
			interval += SLOW_DOWN_STEP_S;
			ts_oauth_err_set(e, 400, "slow_down", "poll less often");
		} else {
			ts_oauth_err_set(e, 400, "authorization_pending", "the user has not decided yet");
		}
		r = pace_put(rc, key, interval, now, old, exp);
		free(old);
		old = NULL;
		if (r != TS_ENOTFOUND)
			return r == TS_OK ? TS_EDENIED : r;
	}
	/* Every try lost to another poll of the same code at this moment:
	 * that is polling too fast. */
	ts_oauth_err_set(e, 400, "slow_down", "poll less often");
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
	r = load(rc, h, &d, NULL, &exp);
	if (r == TS_ESTORE)
		return r;
	if (r != TS_OK) {
		ts_oauth_err_set(e, 400, "expired_token", "the device code is unknown or expired");
		return TS_EDENIED;
	}
	if (!ts_str_eq(ts_str_c(json_string_value(json_object_get(d, "client_id"))), c->client_id)) {
		ts_oauth_err_set(e, 400, "invalid_grant", "the device code belongs to another client");
		json_decref(d);
		return TS_EDENIED;
	}
	if (!is_pending(d)) {
		*out = d;
		return TS_OK;
	}
	json_decref(d);
	return pace(rc, a, h, now, exp, e);
}

void ts_grant_device_code(struct ts_rctx *rc, struct ts_http_req *req, struct ts_http_resp *resp,
			  const struct ts_client *c)
{
	const char *dc = ts_params_get(req->form, req->nform, "device_code", NULL);
	struct ts_oauth_err e = {0};
	struct ts_user_rec *u = NULL;
	struct ts_grant_rec g;
	struct ts_issue is;
	const char *status;
	char h[2 * TS_SHA256_LEN + 1], gid[37];
	json_t *d = NULL;
	int64_t now = ts_now();
	int r;

	if (!ts_client_has_grant(c, TS_GRANT_DEVICE_CODE_S)) {
		ts_oauth_err_set(&e, 400, "unauthorized_client", "the client may not use this grant type");
		goto fail;
	}
	if (dc == NULL || strlen(dc) > 128) {
		ts_oauth_err_set(&e, 400, "invalid_request", "device_code is required");
		goto fail;
	}
	ts_sha256_hex(dc, strlen(dc), h);
	r = poll_once(rc, req->arena, h, c, now, &d, &e);
	if (r == TS_ESTORE)
		goto unavailable;
	if (r != TS_OK)
		goto fail;
	status = json_string_value(json_object_get(d, "status"));
	/* Whatever happens next, the device code is used up, once. */
	r = ts_store_pending_delete(rc->app->store, h);
	if (r == TS_ENOTFOUND) {
		ts_oauth_err_set(&e, 400, "invalid_grant", "the device code was already used");
		goto fail;
	}
	if (r != TS_OK)
		goto unavailable;
	ts_store_pending_delete(rc->app->store, pace_key(req->arena, h)); /* best effort */
	if (!ts_str_eq(ts_str_c(status), "approved")) {
		ts_oauth_err_set(&e, 400, "access_denied", "the user denied the request");
		goto fail;
	}
	r = ts_store_user_get(rc->app->store, rc->tenant->id,
			      json_string_value(json_object_get(d, "user_id")), &u);
	if (r == TS_ESTORE)
		goto unavailable;
	if (r != TS_OK || u->disabled) {
		ts_oauth_err_set(&e, 400, "invalid_grant", "the user is no longer active");
		goto fail;
	}
	memset(&is, 0, sizeof(is));
	is.scope = ts_scope_client_narrow(rc->tenant, c, json_string_value(json_object_get(d, "scope")),
					  req->arena);
	if (ts_rand_uuid(gid) != TS_OK) {
		ts_oauth_err_set(&e, 500, "server_error", NULL);
		goto fail;
	}
	memset(&g, 0, sizeof(g));
	g.tenant_id = rc->tenant->id;
	g.id = gid;
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
	ts_oauth_err_set(&e, 503, "temporarily_unavailable", "storage is unavailable; retry shortly");
fail:
	ts_oauth_err_send(rc, resp, &e);
out:
	json_decref(d);
	ts_user_rec_free(u);
}
