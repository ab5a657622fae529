/* introspect.c: token introspection (RFC 7662) for authenticated clients:
 * this tenant's access tokens (answered on the event loop when memory
 * suffices), refresh tokens, API keys and session ids. */
#include "oauth.h"
#include "internal.h"

#include "http/members.h"
#include "store/store_people.h"
#include "store/store_state.h"
#include "store/store_tokens.h"

#include <string.h>

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

/* Introspection of a credential that is not a token of ours: an API key
 * "key:secret" or a session id (RFC 7662 answers). TS_OK: *out is the
 * active answer (new reference). TS_EDENIED: not active. TS_ESTORE. */
static int introspect_other(const struct ts_rctx *rc, struct ts_http_req *req, const char *token,
			    const char *hint, json_t **out)
{
	struct ts_user_rec *u = NULL;
	const char *colon = strchr(token, ':');
	int r;

	*out = NULL;
	(void)hint;
	if (colon && colon != token) {
		char *key = ts_arena_strndup(req->arena, token, (size_t)(colon - token));
		r = ts_apikey_user(rc->app->store, rc->tenant->id, key, colon + 1, &u);
		if (r == TS_OK) {
			*out = json_pack("{s:b,s:s,s:s,s:s,s:s,s:s,s:o}", TS_J_ACTIVE, 1, TS_J_TOKEN_TYPE,
					 "api_key", "sub", u->id, TS_P_USERNAME, u->username, "principal_type", "user",
					 "tenant", rc->tenant->name, "roles", ts_user_roles(u));
			json_object_set_new(*out, "iss", json_string(rc->issuer));
			json_object_set_new(*out, TS_P_SCOPE,
					    json_string(ts_person_scope(rc->tenant, req->arena)));
		}
		ts_user_rec_free(u);
		return r;
	}
	{
		struct ts_session_rec *s = NULL;
		const char *sid;
		r = ts_session_load(rc, req, token, &s, &u, &sid);
		if (r == TS_ENOTFOUND)
			return TS_EDENIED;
		if (r != TS_OK)
			return r;
		*out = json_pack("{s:b,s:s,s:s,s:s,s:s,s:s,s:o,s:I,s:I}", TS_J_ACTIVE, 1, TS_J_TOKEN_TYPE,
				 "session", "sub", u->id, TS_P_USERNAME, u->username, "principal_type",
				 "user", "tenant", rc->tenant->name, "roles", ts_user_roles(u), "exp",
				 (json_int_t)s->expires_at, "auth_time", (json_int_t)s->auth_time);
		json_object_set_new(*out, "iss", json_string(rc->issuer));
		json_object_set_new(*out, TS_P_SCOPE,
				    json_string(ts_person_scope(rc->tenant, req->arena)));
		/* A resource server that accepts the session checks the
		 * X-CSRF-Token header of state-changing requests against it. */
		{
			char csrf[44];
			ts_session_csrf_token(rc->app, sid, csrf);
			json_object_set_new(*out, "csrf_token", json_string(csrf));
		}
		ts_session_rec_free(s);
		ts_user_rec_free(u);
		return TS_OK;
	}
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
	int r = ts_oauth_refresh_find(rc, token, &rr);

	*out = NULL;
	if (r == TS_ENOTFOUND) {
		/* An API key ("key:secret") or a session id. */
		r = introspect_other(rc, req, token,
					    ts_params_get(req->form, req->nform, TS_P_TOKEN_TYPE_HINT, NULL),
					    &other);
		if (r == TS_ESTORE)
			return r;
		*out = other ? other : json_pack("{s:b}", TS_J_ACTIVE, 0);
		return TS_OK;
	}
	if (r == TS_OK && !rr->used && !rr->revoked && rr->expires_at > ts_now() &&
	    ts_oauth_client_active(rc, rr->client_id, rr->issued_at) &&
	    (r = user_active(rc, rr->user_id)) == TS_OK) {
		*out = json_pack("{s:b,s:s,s:s,s:s,s:I,s:I,s:s}", TS_J_ACTIVE, 1, TS_J_TOKEN_TYPE,
				 "refresh_token", TS_P_CLIENT_ID, rr->client_id, TS_P_SCOPE, rr->scope, "exp",
				 (json_int_t)rr->expires_at, "iat", (json_int_t)rr->issued_at, "iss",
				 rc->issuer);
		if (rr->user_id)
			json_object_set_new(*out, "sub", json_string(rr->user_id));
	} else if (r != TS_ESTORE) {
		*out = json_pack("{s:b}", TS_J_ACTIVE, 0);
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

	*out = json_pack("{s:b,s:s}", TS_J_ACTIVE, 1, TS_J_TOKEN_TYPE, "Bearer");
	json_object_foreach(at->claims, k, v) {
		if (strcmp(k, TS_J_ACTIVE) != 0 && strcmp(k, TS_J_TOKEN_TYPE) != 0)
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
		*out = json_pack("{s:b}", TS_J_ACTIVE, 0);
	} else {
		uv = ts_user_view(u);
		json_object_set_new(*out, "principal_type", json_string("user"));
		json_object_set_new(*out, TS_P_USERNAME, json_string(u->username));
		json_object_set(*out, "roles", json_object_get(uv, "roles"));
		json_decref(uv);
	}
	ts_user_rec_free(u);
	return TS_OK;
}

/* On an event loop, only a client's own token whose revocation state is in
 * memory is answered there (one signature check, no storage); anything else
 * goes on to a blocking thread. */
bool ts_oauth_introspect_inline(const struct ts_http_req *req)
{
	return ts_params_get(req->form, req->nform, TS_P_CLIENT_ASSERTION, NULL) == NULL;
}

void ts_oauth_introspect(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = ctx;
	struct ts_oauth_err e = {0};
	const struct ts_client *c;
	struct ts_access_token at;
	const char *token;
	json_t *out = NULL;
	int r;

	if (!ts_oauth_form_ok(rc, req, &e) || ts_oauth_client_auth(rc, req, false, &c, &e) != TS_OK) {
		ts_oauth_err_send(rc, resp, &e);
		return;
	}
	token = ts_params_get(req->form, req->nform, TS_P_TOKEN, NULL);
	if (token == NULL) {
		e = (struct ts_oauth_err){.status = 400, .code = TS_ERR_INVALID_REQUEST, .desc = "token is required"};
		ts_oauth_err_send(rc, resp, &e);
		return;
	}
	r = ts_oauth_token_check(rc, token, req->on_event_loop, &at);
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
		ts_web_store_unavailable(resp);
		return;
	}
	ts_http_resp_json(resp, 200, out);
	ts_oauth_no_store(resp);
	json_decref(out);
}
