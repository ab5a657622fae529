/* session_api.c: POST /api/login (form or JSON username, password → a
 * session cookie and {user, csrf_token}), POST /api/logout, and POST
 * /api/mobile/login (username, app_password, device_id → a fresh secret for
 * the user's device key). Every password check goes through the same
 * throttle counters as the login page and the password grant. */
#include "api.h"

#include "oauth/oauth.h"
#include "store/store_people.h"
#include "wire/ascii.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USERNAME_MAX 254
#define DEVICE_ID_MAX 128

/* A body field from a JSON object or a form. Arena or borrowed string. */
static const char *field(struct ts_http_req *req, const char *name)
{
	if (json_is_object(req->json))
		return json_string_value(json_object_get(req->json, name));
	return ts_params_get(req->form, req->nform, name, NULL);
}

static void invalid(struct ts_http_resp *resp)
{
	ts_http_resp_error(resp, 401, "invalid_credentials", "invalid credentials");
	ts_http_resp_header(resp, "Cache-Control", "no-store");
}

/* Starts a password attempt; on refusal answers 429 and returns false. */
static bool attempt_ok(const struct ts_rctx *rc, struct ts_http_req *req,
		       struct ts_http_resp *resp, const char *username, struct ts_pw_attempt *pa)
{
	int retry = 0;

	if (ts_pw_attempt_begin(rc, req, username, pa, &retry) == TS_OK)
		return true;
	ts_http_resp_error(resp, 429, "too_many_attempts", "too many failed attempts; retry later");
	ts_http_resp_header(resp, "Retry-After", ts_arena_printf(req->arena, "%d", retry));
	return false;
}

void ts_api_login(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = ctx;
	const char *username = field(req, "username"), *password = field(req, "password");
	struct ts_user_rec *u = NULL;
	struct ts_pw_attempt pa;
	const char *sid;
	char csrf[44];
	bool rehash = false;
	json_t *out;
	int r;

	/* Login CSRF: another site's form must not sign this browser in. */
	if (!ts_web_same_site(rc, req)) {
		ts_api_cross_site(resp);
		return;
	}
	if (username == NULL || password == NULL || username[0] == '\0' ||
	    strlen(username) > USERNAME_MAX || strlen(password) > TS_PASSWORD_MAX) {
		ts_http_resp_error(resp, 400, TS_ERR_INVALID_REQUEST, "username and password are required");
		return;
	}
	if (!attempt_ok(rc, req, resp, username, &pa))
		return;
	r = ts_store_user_find(rc->app->store, rc->tenant->id, username, &u);
	if (r != TS_OK && r != TS_ENOTFOUND) {
		ts_web_store_unavailable(resp);
		return;
	}
	r = ts_password_verify(u ? u->password_hash : NULL, password, &rehash);
	if (r != TS_OK || u == NULL || u->disabled) {
		ts_pw_attempt_failed(rc, &pa, u ? u->id : NULL, NULL, "api_login");
		invalid(resp);
		goto out;
	}
	ts_pw_attempt_succeeded(rc, &pa, u, password, rehash);
	if (ts_session_start(rc, req, resp, u, ts_now(), &sid) != TS_OK) {
		ts_web_store_unavailable(resp);
		goto out;
	}
	ts_session_csrf_token(rc->app, sid, csrf);
	out = json_pack("{s:o,s:s}", "user", ts_user_view(u), "csrf_token", csrf);
	ts_http_resp_json(resp, 200, out);
	ts_http_resp_header(resp, "Cache-Control", "no-store");
	json_decref(out);
	ts_audit_emit(rc->app->audit, rc->tenant->name, "login.succeeded", u->id, u->id,
		      "{\"method\":\"api_login\"}");
out:
	ts_user_rec_free(u);
}

void ts_api_logout(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = ctx;
	struct ts_principal p;
	int r = ts_api_authenticate(rc, req, resp, &p);

	if (r != TS_OK)
		return;
	if (p.via == TS_VIA_SESSION && ts_session_end(rc, req, resp) != TS_OK) {
		ts_principal_clear(&p);
		ts_web_store_unavailable(resp);
		return;
	}
	ts_audit_emit(rc->app->audit, rc->tenant->name, "logout", p.sub, p.sub, NULL);
	ts_principal_clear(&p);
	ts_http_resp_text(resp, 200, "application/json", "{\"ok\":true}", 11);
}

/* Gives the user's device key a fresh secret (creating the key on first
 * login); the previous secret stops working with this write. TS_EEXIST when
 * a concurrent first login created the key meanwhile. */
static int device_key_once(const struct ts_rctx *rc, const struct ts_user_rec *u,
			   const char *device, char **key_out, char secret[64])
{
	struct ts_apikey_rec *k = NULL, rec;
	char id[32], h[2 * TS_SHA256_LEN + 1], keyname[40];
	int r;

	r = ts_rand_token(secret, 64, TS_APIKEY_SECRET_BYTES);
	if (r != TS_OK)
		return r;
	ts_sha256_hex(secret, strlen(secret), h);
	r = ts_store_apikey_find_device(rc->app->store, rc->tenant->id, u->id, &k);
	if (r != TS_OK && r != TS_ENOTFOUND)
		return r;
	memset(&rec, 0, sizeof(rec));
	if (k) {
		rec = *k;
	} else {
		r = ts_rand_token(id, sizeof(id), TS_APIKEY_ID_BYTES);
		if (r != TS_OK)
			return r;
		snprintf(keyname, sizeof(keyname), "%s%s", TS_APIKEY_PREFIX, id);
		rec.key = keyname;
		rec.tenant_id = rc->tenant->id;
		rec.user_id = u->id;
		rec.kind = "device";
		rec.created_at = ts_now();
	}
	rec.secret_hash = h;
	rec.device_id = (char *)device;
	r = ts_store_apikey_put(rc->app->store, &rec);
	if (r == TS_OK)
		*key_out = ts_xstrdup(rec.key);
	ts_apikey_rec_free(k);
	return r;
}

/* A user has one device key (a unique index says so): of two concurrent
 * first logins one creates it, and the other rotates the one it finds. */
static int device_key(const struct ts_rctx *rc, const struct ts_user_rec *u, const char *device,
		      char **key_out, char secret[64])
{
	int r = device_key_once(rc, u, device, key_out, secret);

	if (r == TS_EEXIST)
		r = device_key_once(rc, u, device, key_out, secret);
	return r;
}

/* Binds u, read without a device, to device with one conditional write: of
 * concurrent first logins from different devices exactly one binds, and
 * the others find the device bound and are refused (TS_EDENIED). */
static int bind_device(const struct ts_rctx *rc, struct ts_user_rec *u, const char *device)
{
	struct ts_user_rec *now_u = NULL;
	int r = ts_store_user_bind_device(rc->app->store, rc->tenant->id, u->id, device, ts_now());

	if (r == TS_OK)
		u->device_id = ts_xstrdup(device);
	if (r != TS_ENOTFOUND)
		return r;
	r = ts_store_user_get(rc->app->store, rc->tenant->id, u->id, &now_u);
	if (r == TS_OK && (now_u->device_id == NULL || strcmp(now_u->device_id, device) != 0))
		r = TS_EDENIED;
	if (r == TS_ENOTFOUND)
		r = TS_EDENIED;
	ts_user_rec_free(now_u);
	return r;
}

void ts_api_mobile_login(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = ctx;
	const char *username = field(req, "username");
	const char *app_password = field(req, "app_password");
	const char *device = field(req, "device_id");
	struct ts_user_rec *u = NULL;
	json_t *profile = NULL, *out;
	struct ts_pw_attempt pa;
	char secret[64] = "";
	char *key = NULL;
	bool ok;
	int r;

	if (username == NULL || app_password == NULL || device == NULL || username[0] == '\0' ||
	    strlen(username) > USERNAME_MAX || strlen(app_password) > TS_PASSWORD_MAX) {
		ts_http_resp_error(resp, 400, TS_ERR_INVALID_REQUEST,
				   "username, app_password and device_id are required");
		return;
	}
	/* A device id is bound for good by a first login: printable, without
	 * spaces at either end. */
	if (!ts_admin_printable(device, DEVICE_ID_MAX) || ts_is_ows((unsigned char)device[0]) ||
	    ts_is_ows((unsigned char)device[strlen(device) - 1])) {
		ts_http_resp_error(resp, 400, TS_ERR_INVALID_REQUEST,
				   "device_id must be 1 to 128 printable characters without spaces "
				   "at either end");
		return;
	}
	if (!attempt_ok(rc, req, resp, username, &pa))
		return;
	r = ts_store_user_find(rc->app->store, rc->tenant->id, username, &u);
	if (r != TS_OK && r != TS_ENOTFOUND) {
		ts_web_store_unavailable(resp);
		return;
	}
	if (u && u->profile)
		profile = json_loads(u->profile, 0, NULL);
	/* The hash always runs, so every failure costs the same; the checks
	 * then go in the documented order, all with one answer. */
	r = ts_password_verify(u ? u->app_password_hash : NULL, app_password, NULL);
	ok = u != NULL && !u->disabled && json_is_true(json_object_get(profile, "mobile_access")) &&
	     r == TS_OK && (u->device_id == NULL || strcmp(u->device_id, device) == 0);
	if (!ok) {
		ts_pw_attempt_failed(rc, &pa, u ? u->id : NULL, NULL, "mobile_login");
		invalid(resp);
		goto out;
	}
	if (u->device_id == NULL) {
		/* The first device to log in is bound, by a write of that field
		 * alone (the record read before the hash may be stale by now). */
		r = bind_device(rc, u, device);
		if (r == TS_EDENIED) {
			ts_pw_attempt_failed(rc, &pa, u->id, NULL, "mobile_login");
			invalid(resp);
			goto out;
		}
		if (r != TS_OK) {
			ts_web_store_unavailable(resp);
			goto out;
		}
	}
	ts_pw_attempt_succeeded(rc, &pa, u, NULL, false);
	r = device_key(rc, u, device, &key, secret);
	if (r != TS_OK) {
		ts_web_store_unavailable(resp);
		goto out;
	}
	out = json_pack("{s:s,s:s,s:o}", "api_key", key, "api_secret", secret, "user", ts_user_view(u));
	ts_http_resp_json(resp, 200, out);
	ts_http_resp_header(resp, "Cache-Control", "no-store");
	json_decref(out);
	ts_audit_emit(rc->app->audit, rc->tenant->name, "login.succeeded", u->id, key,
		      "{\"method\":\"mobile_login\"}");
out:
	OPENSSL_cleanse(secret, sizeof(secret));
	free(key);
	json_decref(profile);
	ts_user_rec_free(u);
}
