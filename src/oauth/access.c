/* access.c: checking this tenant's access tokens, and the endpoints built on
 * it: introspection (RFC 7662) and revocation (RFC 7009). A revoked token's
 * jti is denied in storage until the token would have expired anyway. */
#include "oauth.h"

#include "api/api.h"

#include <string.h>
#include <strings.h>

#define CLOCK_LEEWAY 60

bool ts_oauth_aud_has(const json_t *aud, const char *want)
{
	size_t i;

	if (json_is_string(aud))
		return strcmp(json_string_value(aud), want) == 0;
	for (i = 0; i < json_array_size(aud); i++)
		if (ts_str_eq(ts_str_c(json_string_value(json_array_get(aud, i))), want))
			return true;
	return false;
}

void ts_access_token_clear(struct ts_access_token *t)
{
	json_decref(t->claims);
	memset(t, 0, sizeof(*t));
}

/* Whether the token can be checked without storage: a client's own token
 * (its subject is its client_id) whose revocation state is in memory. */
static bool memory_answers(const struct ts_rctx *rc, const json_t *claims)
{
	const char *sub = json_string_value(json_object_get(claims, "sub"));
	const char *cid = json_string_value(json_object_get(claims, "client_id"));
	const char *jti = json_string_value(json_object_get(claims, "jti"));
	bool revoked;

	return sub && cid && jti && strcmp(sub, cid) == 0 &&
	       ts_store_revoke_cached(rc->app->store, rc->tenant->id, jti, &revoked) == TS_OK;
}

/* Signature, header and claims; no storage. With memory_only, a token that
 * memory_answers refuses is TS_ENOTFOUND before its signature is checked. */
static int token_verify(const struct ts_rctx *rc, const char *token, bool memory_only,
			struct ts_access_token *out)
{
	struct ts_jws *jws = NULL;
	const struct ts_signing_key *key;
	const unsigned char *payload;
	const char *typ;
	json_t *claims = NULL;
	size_t plen;
	int64_t now = ts_now(), exp;
	int r = TS_EDENIED;

	memset(out, 0, sizeof(*out));
	if (token == NULL || strlen(token) > TS_JWS_MAX)
		return TS_EDENIED;
	if (ts_jws_parse(token, strlen(token), &jws) != TS_OK)
		goto out;
	payload = ts_jws_payload(jws, &plen);
	claims = json_loadb((const char *)payload, plen, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(claims))
		goto out;
	if (memory_only && !memory_answers(rc, claims)) {
		r = TS_ENOTFOUND;
		goto out;
	}
	key = ts_tenant_key(rc->tenant, ts_jws_kid(jws));
	if (key == NULL || ts_jws_verify(jws, key->jwk) != TS_OK)
		goto out;
	/* RFC 9068 §4: typ must be at+jwt (optionally with the application/ prefix). */
	typ = ts_jws_typ(jws);
	if (typ == NULL || (strcasecmp(typ, "at+jwt") != 0 && strcasecmp(typ, "application/at+jwt") != 0))
		goto out;
	if (!ts_app_issuer_ok(rc->app, rc->tenant, json_string_value(json_object_get(claims, "iss"))))
		goto out;
	if (!json_is_integer(json_object_get(claims, "exp")))
		goto out;
	exp = (int64_t)json_integer_value(json_object_get(claims, "exp"));
	if (exp <= now)
		goto out;
	if (json_is_integer(json_object_get(claims, "nbf")) &&
	    (int64_t)json_integer_value(json_object_get(claims, "nbf")) > now + CLOCK_LEEWAY)
		goto out;
	if (!json_is_string(json_object_get(claims, "jti")))
		goto out;
	out->claims = claims;
	out->jti = json_string_value(json_object_get(claims, "jti"));
	out->client_id = json_string_value(json_object_get(claims, "client_id"));
	out->exp = exp;
	claims = NULL;
	r = TS_OK;
out:
	json_decref(claims);
	ts_jws_free(jws);
	return r;
}

/* A token of a client that is disabled or gone is inactive: the snapshot
 * (reloaded within a second of the change) says so without storage. */
static bool client_active(const struct ts_rctx *rc, const char *client_id)
{
	const struct ts_client *c = ts_tenant_client(rc->tenant, client_id);

	return c != NULL && !c->disabled;
}

/* TS_OK, TS_EDENIED, TS_ESTORE; with memory_only, TS_ENOTFOUND when the
 * answer would need storage. */
static int access_token_check(const struct ts_rctx *rc, const char *token, bool memory_only,
			      struct ts_access_token *out)
{
	bool revoked = false;
	int r = token_verify(rc, token, memory_only, out);

	if (r != TS_OK)
		return r;
	if (!client_active(rc, out->client_id)) {
		ts_access_token_clear(out);
		return TS_EDENIED;
	}
	if (memory_only)
		r = ts_store_revoke_cached(rc->app->store, rc->tenant->id, out->jti, &revoked);
	else
		r = ts_store_revoke_check(rc->app->store, rc->tenant->id, out->jti, &revoked);
	if (r != TS_OK || revoked) {
		ts_access_token_clear(out);
		if (r == TS_ENOTFOUND)
			return TS_ENOTFOUND;
		return r != TS_OK ? TS_ESTORE : TS_EDENIED;
	}
	return TS_OK;
}

int ts_oauth_access_token_check(const struct ts_rctx *rc, const char *token,
				struct ts_access_token *out)
{
	return access_token_check(rc, token, false, out);
}

/* A refresh token of this tenant (any state); NULL if unknown. */
static int refresh_find(const struct ts_rctx *rc, const char *token, struct ts_refresh_rec **out)
{
	char h[2 * TS_SHA256_LEN + 1];
	int r;

	*out = NULL;
	if (token == NULL || strlen(token) > 128 || strchr(token, '.'))
		return TS_ENOTFOUND;
	ts_sha256_hex(token, strlen(token), h);
	r = ts_store_refresh_get(rc->app->store, h, out);
	if (r == TS_OK && strcmp((*out)->tenant_id, rc->tenant->id) != 0) {
		ts_refresh_rec_free(*out);
		*out = NULL;
		r = TS_ENOTFOUND;
	}
	return r;
}

/* TS_OK if user_id (NULL: none, a client's own grant) is an active user
 * of the tenant; TS_EDENIED if disabled or gone; TS_ESTORE. */
static int user_active(const struct ts_rctx *rc, const char *user_id)
{
	struct ts_user_rec *u = NULL;
	int r;

	if (user_id == NULL)
		return TS_OK;
	r = ts_store_user_get(rc->app->store, rc->tenant->id, user_id, &u);
	if (r == TS_OK && u->disabled)
		r = TS_EDENIED;
	else if (r == TS_ENOTFOUND)
		r = TS_EDENIED;
	ts_user_rec_free(u);
	return r;
}

static bool form_ok(const struct ts_rctx *rc, struct ts_http_req *req, struct ts_oauth_err *e)
{
	if (req->content_type == NULL ||
	    strcmp(req->content_type, "application/x-www-form-urlencoded") != 0) {
		e->status = 400;
		e->code = "invalid_request";
		e->desc = "the body must be application/x-www-form-urlencoded";
		return false;
	}
	(void)rc;
	return ts_oauth_params_unique(req->form, req->nform, NULL, e);
}

/* Introspection of a token that is not a JWT of this tenant: a refresh
 * token (active while unused, unrevoked, unexpired, and its client and
 * user still active), else an API key or a session id. *out is the
 * answer (owned); TS_ESTORE when storage failed. */
static int introspect_opaque(const struct ts_rctx *rc, struct ts_http_req *req, const char *token,
			     json_t **out)
{
	struct ts_refresh_rec *rr = NULL;
	json_t *other = NULL;
	int r = refresh_find(rc, token, &rr);

	*out = NULL;
	if (r == TS_ENOTFOUND) {
		/* An API key ("key:secret") or a session id. */
		r = ts_api_introspect_other(rc, req, token,
					    ts_params_get(req->form, req->nform, TS_P_TOKEN_TYPE_HINT, NULL),
					    &other);
		if (r == TS_ESTORE)
			return r;
		*out = other ? other : json_pack("{s:b}", "active", 0);
		return TS_OK;
	}
	if (r == TS_OK && !rr->used && !rr->revoked && rr->expires_at > ts_now() &&
	    client_active(rc, rr->client_id) && (r = user_active(rc, rr->user_id)) == TS_OK) {
		*out = json_pack("{s:b,s:s,s:s,s:s,s:I,s:I,s:s}", "active", 1, "token_type",
				 "refresh_token", "client_id", rr->client_id, "scope", rr->scope, "exp",
				 (json_int_t)rr->expires_at, "iat", (json_int_t)rr->issued_at, "iss",
				 rc->issuer);
		if (rr->user_id)
			json_object_set_new(*out, "sub", json_string(rr->user_id));
	} else if (r != TS_ESTORE) {
		*out = json_pack("{s:b}", "active", 0);
	}
	ts_refresh_rec_free(rr);
	return r == TS_ESTORE ? r : TS_OK;
}

/* The answer for an active access token: its claims, the tenant, and for
 * a person's token who they are now, with their roles (inactive if they
 * are disabled or gone). TS_ESTORE when storage failed. */
static int introspect_jwt(const struct ts_rctx *rc, const struct ts_access_token *at, json_t **out)
{
	const char *k;
	json_t *v, *uv;
	struct ts_user_rec *u = NULL;
	const char *sub = json_string_value(json_object_get(at->claims, "sub"));
	const char *cid = json_string_value(json_object_get(at->claims, "client_id"));
	int r;

	*out = json_pack("{s:b,s:s}", "active", 1, "token_type", "Bearer");
	json_object_foreach(at->claims, k, v) {
		if (strcmp(k, "active") != 0 && strcmp(k, "token_type") != 0)
			json_object_set(*out, k, v);
	}
	json_object_set_new(*out, "tenant", json_string(rc->tenant->name));
	if (sub && cid && strcmp(sub, cid) == 0) {
		json_object_set_new(*out, "principal_type", json_string("service"));
		return TS_OK;
	}
	r = ts_store_user_get(rc->app->store, rc->tenant->id, sub, &u);
	if (r == TS_ESTORE) {
		json_decref(*out);
		*out = NULL;
		return r;
	}
	if (r != TS_OK || u->disabled) {
		json_decref(*out);
		*out = json_pack("{s:b}", "active", 0);
	} else {
		uv = ts_user_view(u);
		json_object_set_new(*out, "principal_type", json_string("user"));
		json_object_set_new(*out, "username", json_string(u->username));
		json_object_set(*out, "roles", json_object_get(uv, "roles"));
		json_decref(uv);
	}
	ts_user_rec_free(u);
	return TS_OK;
}

/* On an event loop, only a client's own token whose revocation state is in
 * memory is answered there (one signature check, no storage); anything else
 * goes on to a blocking thread. */
void ts_oauth_introspect(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = ctx;
	struct ts_oauth_err e = {0};
	const struct ts_client *c;
	struct ts_access_token at;
	const char *token;
	json_t *out = NULL;
	int r;

	if (!form_ok(rc, req, &e) || ts_oauth_client_auth(rc, req, false, &c, &e) != TS_OK) {
		ts_oauth_err_send(rc, resp, &e);
		return;
	}
	token = ts_params_get(req->form, req->nform, TS_P_TOKEN, NULL);
	if (token == NULL) {
		e = (struct ts_oauth_err){.status = 400, .code = "invalid_request", .desc = "token is required"};
		ts_oauth_err_send(rc, resp, &e);
		return;
	}
	r = access_token_check(rc, token, req->on_event_loop, &at);
	if (req->on_event_loop && r != TS_OK) {
		resp->retry_blocking = true;
		return;
	}
	if (r == TS_OK) {
		r = introspect_jwt(rc, &at, &out);
		ts_access_token_clear(&at);
	} else if (r != TS_ESTORE) {
		r = introspect_opaque(rc, req, token, &out);
	}
	if (r != TS_OK) {
		ts_app_store_unavailable(resp);
		return;
	}
	ts_http_resp_json(resp, 200, out);
	ts_oauth_no_store(resp);
	json_decref(out);
}

/* Revokes token for client c (NULL: whoever the token was issued to, for a
 * holder revoking its own token without client authentication) and answers
 * (RFC 7009 §2.2). */
static void revoke(struct ts_rctx *rc, struct ts_http_resp *resp, const struct ts_client *c,
		   const char *token)
{
	struct ts_oauth_err e = {.status = 400, .code = "unauthorized_client",
				 .desc = "the token was not issued to this client"};
	struct ts_access_token at;
	int r;

	/* RFC 7009 §2.2: an invalid, expired or unknown token is answered 200. */
	if (token_verify(rc, token, false, &at) == TS_OK) {
		if (at.client_id == NULL || (c && strcmp(at.client_id, c->client_id) != 0)) {
			/* RFC 7009 §2.1: the token must have been issued to the caller. */
			ts_access_token_clear(&at);
			ts_oauth_err_send(rc, resp, &e);
			return;
		}
		r = ts_store_revoke_put(rc->app->store, rc->tenant->id, at.jti, at.exp);
		if (r != TS_OK) {
			ts_access_token_clear(&at);
			ts_app_store_unavailable(resp);
			return;
		}
		if (rc->tenant->stats)
			atomic_fetch_add_explicit(&rc->tenant->stats->tokens_revoked, 1,
						  memory_order_relaxed);
		ts_audit_emit(rc->app->audit, rc->tenant->name, "token.revoked", at.client_id, at.jti,
			      NULL);
		ts_access_token_clear(&at);
	} else {
		struct ts_refresh_rec *rr = NULL;
		r = refresh_find(rc, token, &rr);
		if (r == TS_ESTORE) {
			ts_app_store_unavailable(resp);
			return;
		}
		if (r == TS_OK && c && strcmp(rr->client_id, c->client_id) != 0) {
			ts_refresh_rec_free(rr);
			ts_oauth_err_send(rc, resp, &e);
			return;
		}
		/* RFC 7009 §2.1: revoking a refresh token also revokes the access
		 * tokens of its grant. */
		if (r == TS_OK && ts_store_grant_revoke(rc->app->store, rr->tenant_id, rr->grant_id) != TS_OK) {
			ts_refresh_rec_free(rr);
			ts_app_store_unavailable(resp);
			return;
		}
		if (r == TS_OK && rc->tenant->stats)
			atomic_fetch_add_explicit(&rc->tenant->stats->tokens_revoked, 1,
						  memory_order_relaxed);
		if (r == TS_OK)
			ts_audit_emit(rc->app->audit, rc->tenant->name, "token.revoked", rr->client_id,
				      rr->grant_id, "{\"token_type\":\"refresh_token\"}");
		ts_refresh_rec_free(rr);
	}
	ts_http_resp_text(resp, 200, "application/json", "{}", 2);
	ts_oauth_no_store(resp);
}

/* The token parameter of a revocation request, or NULL with e set. */
static const char *revoke_params(struct ts_rctx *rc, struct ts_http_req *req,
				 struct ts_oauth_err *e)
{
	const char *token;

	if (!form_ok(rc, req, e))
		return NULL;
	token = ts_params_get(req->form, req->nform, TS_P_TOKEN, NULL);
	if (token == NULL)
		*e = (struct ts_oauth_err){.status = 400, .code = "invalid_request", .desc = "token is required"};
	return token;
}

void ts_oauth_revoke(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = ctx;
	struct ts_oauth_err e = {0};
	const struct ts_client *c;
	const char *token;

	if (!form_ok(rc, req, &e) || ts_oauth_client_auth(rc, req, true, &c, &e) != TS_OK ||
	    (token = revoke_params(rc, req, &e)) == NULL) {
		ts_oauth_err_send(rc, resp, &e);
		return;
	}
	revoke(rc, resp, c, token);
}

void ts_oauth_revoke_by_holder(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = ctx;
	struct ts_oauth_err e = {0};
	const char *token = revoke_params(rc, req, &e);

	if (token == NULL) {
		ts_oauth_err_send(rc, resp, &e);
		return;
	}
	revoke(rc, resp, NULL, token);
}
