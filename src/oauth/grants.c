/* grants.c: the grants that act for a person: authorization_code (RFC 6749
 * §4.1.3 with PKCE, RFC 7636 §4.5), refresh_token (§6, rotated on every use;
 * a rotated token presented again revokes the whole grant, RFC 9700
 * §4.14.2) and password (§4.3, only for clients that list it). Every
 * single-use check is an atomic state change in storage, made before the
 * response is sent. */
#include "oauth.h"

#include <stdlib.h>
#include <string.h>

static const char *hash_of(struct ts_arena *a, const char *raw)
{
	char h[2 * TS_SHA256_LEN + 1];

	ts_sha256_hex(raw, strlen(raw), h);
	return ts_arena_strdup(a, h);
}

static int grant_create(struct ts_rctx *rc, const char *id, const struct ts_client *c,
			const struct ts_user_rec *u, const char *scope, int64_t auth_time)
{
	struct ts_grant_rec g;

	memset(&g, 0, sizeof(g));
	g.tenant_id = rc->tenant->id;
	g.id = (char *)id;
	g.client_id = c->client_id;
	g.user_id = u->id;
	g.scope = (char *)scope;
	g.auth_time = auth_time;
	g.created_at = ts_now();
	return ts_store_grant_put(rc->app->store, &g);
}

void ts_grant_authorization_code(struct ts_rctx *rc, struct ts_http_req *req,
				 struct ts_http_resp *resp, const struct ts_client *c)
{
	const char *code = ts_params_get(req->form, req->nform, "code", NULL);
	const char *uri = ts_params_get(req->form, req->nform, "redirect_uri", NULL);
	const char *verifier = ts_params_get(req->form, req->nform, "code_verifier", NULL);
	struct ts_oauth_err e = {0};
	struct ts_code_rec *cr = NULL;
	struct ts_user_rec *u = NULL;
	struct ts_issue is;
	int r;

	if (!ts_client_has_grant(c, "authorization_code")) {
		ts_oauth_err_set(&e, 400, "unauthorized_client", "the client may not use this grant type");
		goto fail;
	}
	if (code == NULL || code[0] == '\0' || strlen(code) > 128) {
		ts_oauth_err_set(&e, 400, "invalid_request", "code is required");
		goto fail;
	}
	/* Taking the code uses it up whatever follows, so a failed redemption
	 * (wrong verifier, client or redirect URI) cannot be retried. */
	r = ts_store_code_take(rc->app->store,
			       hash_of(req->arena, ts_arena_printf(req->arena, "%s:%s", rc->tenant->id, code)),
			       &cr);
	if (r == TS_ECONFLICT) {
		/* RFC 6749 §4.1.2: a code used twice revokes what it issued. */
		if (strcmp(cr->tenant_id, rc->tenant->id) == 0) {
			ts_store_grant_revoke(rc->app->store, cr->tenant_id, cr->grant_id);
			ts_audit_emit(rc->app->audit, rc->tenant->name, "grant.revoked", c->client_id,
				      cr->grant_id, "{\"reason\":\"code_replay\"}");
		}
		ts_oauth_err_set(&e, 400, "invalid_grant", "the authorization code was already used");
		goto fail;
	}
	if (r == TS_ENOTFOUND) {
		ts_oauth_err_set(&e, 400, "invalid_grant", "the authorization code is invalid");
		goto fail;
	}
	if (r != TS_OK)
		goto unavailable;
	if (strcmp(cr->tenant_id, rc->tenant->id) != 0 || strcmp(cr->client_id, c->client_id) != 0 ||
	    cr->expires_at <= ts_now()) {
		ts_oauth_err_set(&e, 400, "invalid_grant", "the authorization code is invalid or expired");
		goto fail;
	}
	/* RFC 6749 §4.1.3: the same redirect_uri as in the authorization
	 * request, required when that request named one. Without one there,
	 * the code went to the client's only registered URI, which is the
	 * only value accepted here. */
	if (cr->redirect_uri && uri == NULL) {
		ts_oauth_err_set(&e, 400, "invalid_grant",
				 "redirect_uri is required: the authorization request named one");
		goto fail;
	}
	if (uri && (cr->redirect_uri ? strcmp(uri, cr->redirect_uri) != 0
				     : c->nredirect_uris != 1 || strcmp(uri, c->redirect_uris[0]) != 0)) {
		ts_oauth_err_set(&e, 400, "invalid_grant", "redirect_uri does not match the authorization request");
		goto fail;
	}
	if (cr->code_challenge) {
		if (!ts_pkce_verify(verifier, cr->code_challenge)) {
			ts_oauth_err_set(&e, 400, "invalid_grant", "code_verifier does not match the code_challenge");
			goto fail;
		}
	} else if (verifier) {
		/* RFC 9700 §4.8.2: a verifier without a challenge is refused. */
		ts_oauth_err_set(&e, 400, "invalid_grant", "code_verifier given but no code_challenge was sent");
		goto fail;
	}
	r = ts_store_user_get(rc->app->store, rc->tenant->id, cr->user_id, &u);
	if (r == TS_ENOTFOUND || (r == TS_OK && u->disabled)) {
		ts_oauth_err_set(&e, 400, "invalid_grant", "the user is no longer active");
		goto fail;
	}
	if (r != TS_OK)
		goto unavailable;
	r = grant_create(rc, cr->grant_id, c, u, cr->scope, cr->auth_time);
	if (r != TS_OK)
		goto unavailable;
	memset(&is, 0, sizeof(is));
	is.client = c;
	is.user = u;
	is.scope = ts_scope_client_narrow(rc->tenant, c, cr->scope, req->arena);
	is.resource_json = cr->resource;
	is.naud = ts_oauth_aud_from_json(req->arena, cr->resource, (const char ***)&is.aud);
	is.grant_id = cr->grant_id;
	is.kind = TS_GRANT_AUTHORIZATION_CODE;
	is.auth_time = cr->auth_time;
	is.nonce = cr->nonce;
	is.refresh = ts_oauth_wants_refresh(rc->tenant, c, is.scope);
	if (ts_oauth_issue(rc, req, resp, &is, &e) == TS_OK)
		goto out;
	goto fail;
unavailable:
	ts_oauth_err_set(&e, 503, "temporarily_unavailable", "storage is unavailable; retry shortly");
fail:
	ts_oauth_err_send(rc, resp, &e);
out:
	ts_code_rec_free(cr);
	ts_user_rec_free(u);
}

void ts_grant_refresh_token(struct ts_rctx *rc, struct ts_http_req *req,
			    struct ts_http_resp *resp, const struct ts_client *c)
{
	const char *token = ts_params_get(req->form, req->nform, "refresh_token", NULL);
	const char *scope = ts_params_get(req->form, req->nform, TS_P_SCOPE, NULL);
	struct ts_oauth_err e = {0};
	struct ts_refresh_rec *rr = NULL;
	struct ts_user_rec *u = NULL;
	struct ts_issue is;
	const char *h;
	int r;

	if (!ts_client_has_grant(c, "refresh_token")) {
		ts_oauth_err_set(&e, 400, "unauthorized_client", "the client may not use this grant type");
		goto fail;
	}
	if (token == NULL || token[0] == '\0' || strlen(token) > 128) {
		ts_oauth_err_set(&e, 400, "invalid_request", "refresh_token is required");
		goto fail;
	}
	h = hash_of(req->arena, token);
	r = ts_store_refresh_get(rc->app->store, h, &rr);
	if (r == TS_ENOTFOUND) {
		ts_oauth_err_set(&e, 400, "invalid_grant", "the refresh token is invalid");
		goto fail;
	}
	if (r != TS_OK)
		goto unavailable;
	/* A token of another tenant or client is answered as unknown and
	 * changes nothing: it may have been stolen from its owner. */
	if (strcmp(rr->tenant_id, rc->tenant->id) != 0 || strcmp(rr->client_id, c->client_id) != 0) {
		ts_oauth_err_set(&e, 400, "invalid_grant", "the refresh token is invalid");
		goto fail;
	}
	if (rr->used) {
		/* RFC 9700 §4.14.2: reuse of a rotated token revokes the grant. */
		ts_store_grant_revoke(rc->app->store, rr->tenant_id, rr->grant_id);
		ts_audit_emit(rc->app->audit, rc->tenant->name, "grant.revoked", c->client_id,
			      rr->grant_id, "{\"reason\":\"refresh_token_reuse\"}");
		ts_oauth_err_set(&e, 400, "invalid_grant", "the refresh token was already used");
		goto fail;
	}
	if (rr->revoked || rr->expires_at <= ts_now()) {
		ts_oauth_err_set(&e, 400, "invalid_grant", "the refresh token is revoked or expired");
		goto fail;
	}
	memset(&is, 0, sizeof(is));
	/* The grant's scope, less what the client may no longer have. */
	is.refresh_scope = ts_scope_client_narrow(rc->tenant, c, rr->scope, req->arena);
	if (!ts_scope_narrow(is.refresh_scope, scope, req->arena, &is.scope)) {
		ts_oauth_err_set(&e, 400, "invalid_scope", "the requested scope exceeds the original grant");
		goto fail;
	}
	if (rr->user_id) {
		r = ts_store_user_get(rc->app->store, rc->tenant->id, rr->user_id, &u);
		if (r == TS_ENOTFOUND || (r == TS_OK && u->disabled)) {
			ts_oauth_err_set(&e, 400, "invalid_grant", "the user is no longer active");
			goto fail;
		}
		if (r != TS_OK)
			goto unavailable;
	}
	is.client = c;
	is.user = u;
	is.resource_json = rr->resource;
	is.naud = ts_oauth_aud_from_json(req->arena, rr->resource, (const char ***)&is.aud);
	is.grant_id = rr->grant_id;
	is.kind = TS_GRANT_REFRESH_TOKEN;
	is.auth_time = rr->auth_time;
	is.refresh = true;
	is.rotate_from = h;
	if (ts_oauth_issue(rc, req, resp, &is, &e) == TS_OK)
		goto out;
	goto fail;
unavailable:
	ts_oauth_err_set(&e, 503, "temporarily_unavailable", "storage is unavailable; retry shortly");
fail:
	ts_oauth_err_send(rc, resp, &e);
out:
	ts_refresh_rec_free(rr);
	ts_user_rec_free(u);
}

void ts_grant_password(struct ts_rctx *rc, struct ts_http_req *req, struct ts_http_resp *resp,
		       const struct ts_client *c)
{
	const char *username = ts_params_get(req->form, req->nform, "username", NULL);
	const char *password = ts_params_get(req->form, req->nform, "password", NULL);
	const char *scope_param = ts_params_get(req->form, req->nform, TS_P_SCOPE, NULL);
	struct ts_oauth_err e = {0};
	struct ts_user_rec *u = NULL;
	struct ts_issue is;
	struct ts_pw_attempt pa;
	char gid[37];
	bool rehash = false;
	int retry = 0, r;
	int64_t now = ts_now();

	if (!ts_client_has_grant(c, "password")) {
		ts_oauth_err_set(&e, 400, "unauthorized_client", "the client may not use this grant type");
		goto fail;
	}
	if (username == NULL || password == NULL || username[0] == '\0' || strlen(username) > 254 ||
	    strlen(password) > TS_PASSWORD_MAX) {
		ts_oauth_err_set(&e, 400, "invalid_request", "username and password are required");
		goto fail;
	}
	memset(&is, 0, sizeof(is));
	if (!ts_oauth_scope_grant(rc->tenant, c, scope_param, req->arena, &is.scope)) {
		ts_oauth_err_set(&e, 400, "invalid_scope", "a requested scope is not allowed for this client");
		goto fail;
	}
	/* RFC 8707: resource sets aud (and stays with the grant's refresh tokens). */
	if (!ts_oauth_resources(req, &is, true, &e))
		goto fail;
	if (ts_pw_attempt_begin(rc, req, username, &pa, &retry) != TS_OK) {
		ts_oauth_err_set(&e, 429, "slow_down", "too many failed attempts; retry later");
		ts_oauth_err_send(rc, resp, &e);
		ts_http_resp_header(resp, "Retry-After", ts_arena_printf(req->arena, "%d", retry));
		return;
	}
	r = ts_store_user_find(rc->app->store, rc->tenant->id, username, &u);
	if (r != TS_OK && r != TS_ENOTFOUND)
		goto unavailable;
	/* The same answer, and the same hash, whether or not the user exists. */
	r = ts_password_verify(u ? u->password_hash : NULL, password, &rehash);
	if (r != TS_OK || u == NULL || u->disabled) {
		ts_pw_attempt_failed(rc, &pa, u ? u->id : NULL, c->client_id, "password_grant");
		ts_oauth_err_set(&e, 400, "invalid_grant", "invalid username or password");
		goto fail;
	}
	ts_pw_attempt_succeeded(rc, &pa, u, password, rehash);
	if (ts_rand_uuid(gid) != TS_OK) {
		ts_oauth_err_set(&e, 500, "server_error", NULL);
		goto fail;
	}
	r = grant_create(rc, gid, c, u, is.scope, now);
	if (r != TS_OK)
		goto unavailable;
	is.client = c;
	is.user = u;
	is.grant_id = gid;
	is.kind = TS_GRANT_PASSWORD;
	is.auth_time = now;
	is.refresh = ts_oauth_wants_refresh(rc->tenant, c, is.scope);
	if (ts_oauth_issue(rc, req, resp, &is, &e) == TS_OK)
		goto out;
	goto fail;
unavailable:
	ts_oauth_err_set(&e, 503, "temporarily_unavailable", "storage is unavailable; retry shortly");
fail:
	ts_oauth_err_send(rc, resp, &e);
out:
	ts_user_rec_free(u);
}
