/* device.c: the device authorization grant (RFC 8628). A device asks for a
 * device code and a short user code; the user enters the code at
 * {issuer}/device, signs in and approves through the same login and consent
 * pages as the authorization endpoint; the device polls the token endpoint.
 * Device and user codes are stored only as digests, in pending state. */
#include "oauth.h"
#include "internal.h"

#include "http/members.h"
#include "store/store_state.h"
#include "wire/ascii.h"

#include <stdlib.h>
#include <string.h>

#define DEVICE_TTL_S 600
#define DEVICE_CODE_BYTES 32
#define USER_CODE_LEN 8
#define KIND_USER_CODE "device_user"
#define CSRF_DEVICE "device"

/* RFC 8707 §2: resource is the one parameter that may repeat. */
static const char *const multi_params[] = {TS_P_RESOURCE, NULL};

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
		c = (char)ts_to_upper((unsigned char)c);
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

/* Each device code is stored until it expires, so one client address may
 * ask for at most the address window's count (100 in 15 minutes) per
 * tenant: far above what the devices behind one NAT start, and a flood
 * stops there. Every request counts, answered or not. */
static bool device_rate_ok(const struct ts_rctx *rc, struct ts_http_req *req,
			   struct ts_oauth_err *e)
{
	const char *key = ts_arena_printf(req->arena, "%s/device:%s", rc->tenant->id,
					  req->remote_addr);
	int wait = 0;

	if (ts_throttle_reserve(rc->app->throttle, key, &ts_throttle_address, ts_now(), &wait) ==
	    TS_OK)
		return true;
	ts_oauth_err_set(e, 429, TS_ERR_SLOW_DOWN, "too many device codes from this address; retry later");
	e->retry_after = wait;
	return false;
}

void ts_oauth_device_authorization(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = ctx;
	struct ts_oauth_err e = {0};
	const struct ts_client *c = NULL;
	const char *scope, *ukey;
	struct ts_issue res;
	char dc[64], h[2 * TS_SHA256_LEN + 1];
	unsigned char rnd[USER_CODE_LEN];
	char uc[USER_CODE_LEN + 2];
	int64_t exp = ts_now() + DEVICE_TTL_S;
	json_t *d, *out;
	size_t i;
	int r;

	if (req->content_type == NULL ||
	    strcmp(req->content_type, "application/x-www-form-urlencoded") != 0) {
		ts_oauth_err_set(&e, 400, TS_ERR_INVALID_REQUEST, "the body must be application/x-www-form-urlencoded");
		goto fail;
	}
	if (!ts_oauth_params_unique(req->form, req->nform, multi_params, &e) ||
	    ts_oauth_client_auth(rc, req, true, &c, &e) != TS_OK)
		goto fail;
	if (!ts_client_has_grant(c, TS_GRANT_DEVICE_CODE_S)) {
		ts_oauth_err_set(&e, 400, TS_ERR_UNAUTHORIZED_CLIENT, "the client may not use the device grant");
		goto fail;
	}
	if (!device_rate_ok(rc, req, &e))
		goto fail;
	if (!ts_oauth_scope_grant(rc->tenant, c, ts_params_get(req->form, req->nform, TS_P_SCOPE, NULL),
				  req->arena, &scope)) {
		ts_oauth_err_set(&e, 400, TS_ERR_INVALID_SCOPE, "a requested scope is not allowed for this client");
		goto fail;
	}
	/* RFC 8707: the resources go with the device code to its grant. */
	memset(&res, 0, sizeof(res));
	if (!ts_oauth_resources(req, &res, true, &e))
		goto fail;
	if (ts_rand_token(dc, sizeof(dc), DEVICE_CODE_BYTES) != TS_OK ||
	    ts_rand_bytes(rnd, sizeof(rnd)) != TS_OK) {
		ts_oauth_err_set(&e, 500, TS_ERR_SERVER_ERROR, NULL);
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
	if (res.resource_json)
		json_object_set_new(d, "resource", json_string(res.resource_json));
	{
		char *text = json_dumps(d, JSON_COMPACT);
		r = ts_store_pending_put(rc->app->store, rc->tenant->id, h, TS_DEVICE_KIND, text, exp);
		free(text);
	}
	json_decref(d);
	if (r == TS_OK)
		r = ts_device_pace_put(rc, ts_device_pace_key(req->arena, h), TS_DEVICE_INTERVAL_S, 0,
				       NULL, exp);
	ukey = user_code_key(req->arena, rc->tenant->id, uc);
	if (r == TS_OK) {
		json_t *lk = json_pack("{s:s}", "device", h);
		char *text = json_dumps(lk, JSON_COMPACT);
		json_decref(lk);
		r = ts_store_pending_put(rc->app->store, rc->tenant->id, ukey, KIND_USER_CODE, text, exp);
		free(text);
	}
	if (r != TS_OK) {
		ts_oauth_err_unavailable(&e);
		goto fail;
	}
	{
		char shown[USER_CODE_LEN + 2];
		memcpy(shown, uc, 4);
		shown[4] = '-';
		memcpy(shown + 5, uc + 4, 4);
		shown[9] = '\0';
		out = json_pack("{s:s,s:s,s:s,s:s,s:i,s:i}", TS_P_DEVICE_CODE, dc, TS_P_USER_CODE, shown,
				TS_J_VERIFICATION_URI,
				ts_arena_printf(req->arena, "%s/device", rc->issuer),
				TS_J_VERIFICATION_URI_COMPLETE,
				ts_arena_printf(req->arena, "%s/device?" TS_P_USER_CODE "=%s", rc->issuer,
						shown),
				TS_J_EXPIRES_IN, DEVICE_TTL_S, TS_J_INTERVAL, TS_DEVICE_INTERVAL_S);
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
	ts_buf_appends(&b, "/device\"><input type=\"hidden\" name=\"" TS_P_CSRF_TOKEN "\" value=\"");
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
		device_form(rc, req, resp, ts_params_get(req->query, req->nquery, TS_P_USER_CODE, NULL),
			    NULL, 200);
		return;
	}
	if (!ts_web_same_site(rc, req)) {
		ts_page_cross_site(rc, resp);
		return;
	}
	if (!ts_csrf_ok(rc->app, CSRF_DEVICE, ts_http_cookie(req, TS_BROWSER_COOKIE),
			ts_params_get(req->form, req->nform, TS_P_CSRF_TOKEN, NULL))) {
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
	code = normalize_user_code(req->arena, ts_params_get(req->form, req->nform, TS_P_USER_CODE, NULL));
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
		r = ts_device_load(rc, dh, &d, NULL, &exp);
	if (r == TS_OK && !ts_str_eq(ts_str_c(json_string_value(json_object_get(d, "status"))), "pending"))
		r = TS_ENOTFOUND;
	if (r == TS_ESTORE) {
		ts_page_unavailable(rc, resp);
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
	ar.posted = true; /* the way on to sign-in or consent is a 303 */
	/* The user sees who asks (consent), unless the client skips it. */
	ts_authz_proceed(rc, req, resp, &ar, NULL);
out:
	json_decref(link);
	json_decref(d);
	free(tenant);
	free(kind);
	free(text);
}

