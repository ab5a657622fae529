/* principal.c: turning a request's credential into a principal. Bearer
 * tokens are checked like introspection does (signature with the tenant's
 * keys, expiry, revocation) and must be meant for this server (aud has the
 * tenant's audience); API keys are looked up by id and their secret
 * compared in constant time; sessions come from the cookie and need the
 * X-CSRF-Token header on state-changing requests. */
#include "api.h"

#include "oauth/oauth.h"
#include "store/store_people.h"
#include "store/store_state.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

void ts_principal_clear(struct ts_principal *p)
{
	json_decref(p->roles);
	memset(p, 0, sizeof(*p));
}

static int deny(const struct ts_rctx *rc, struct ts_http_resp *resp, const char *error,
		const char *desc)
{
	ts_http_resp_error(resp, 401, error ? error : "unauthorized", desc);
	if (error)
		ts_http_resp_header(resp, "WWW-Authenticate",
				    ts_arena_printf(resp->arena,
						    "Bearer realm=\"%s\", error=\"%s\", error_description=\"%s\"",
						    rc->tenant->name, error, desc));
	else
		ts_http_resp_header(resp, "WWW-Authenticate",
				    ts_arena_printf(resp->arena, "Bearer realm=\"%s\"", rc->tenant->name));
	ts_http_resp_header(resp, "Cache-Control", "no-store");
	return TS_EDENIED;
}

static int unavailable(struct ts_http_resp *resp)
{
	ts_web_store_unavailable(resp);
	return TS_ESTORE;
}

static int via_bearer(const struct ts_rctx *rc, struct ts_http_req *req, struct ts_http_resp *resp,
		      struct ts_principal *p)
{
	const struct ts_tenant *t = rc->tenant;
	struct ts_access_token at;
	struct ts_user_rec *u = NULL;
	const char *sub, *cid;
	int r;

	r = ts_oauth_access_token_check(rc, req->auth.token, &at);
	if (r == TS_ESTORE)
		return unavailable(resp);
	if (r != TS_OK)
		return deny(rc, resp, TS_ERR_INVALID_TOKEN, "the access token is invalid or expired");
	{
		struct ts_oauth_err e = {0};
		r = ts_dpop_resource_check(rc, req, req->auth.token, at.claims, &e);
		if (r != TS_OK) {
			ts_access_token_clear(&at);
			if (r == TS_ESTORE)
				return unavailable(resp);
			ts_dpop_challenge(rc, resp, &e);
			return TS_EDENIED;
		}
	}
	/* A token issued for another resource is refused here. */
	if (!ts_oauth_aud_has(json_object_get(at.claims, "aud"), t->audience ? t->audience : rc->issuer)) {
		ts_access_token_clear(&at);
		return deny(rc, resp, TS_ERR_INVALID_TOKEN, "the access token is not meant for this server");
	}
	sub = json_string_value(json_object_get(at.claims, "sub"));
	cid = json_string_value(json_object_get(at.claims, "client_id"));
	p->via = TS_VIA_BEARER;
	p->client_id = ts_arena_strdup(req->arena, cid);
	p->scope = ts_arena_strdup(req->arena, json_string_value(json_object_get(at.claims, "scope")));
	if (p->scope == NULL)
		p->scope = "";
	p->sub = ts_arena_strdup(req->arena, sub);
	if (sub && cid && strcmp(sub, cid) == 0) {
		p->is_user = false;
		p->roles = json_array();
		ts_access_token_clear(&at);
		return TS_OK;
	}
	r = ts_store_user_get(rc->app->store, t->id, sub, &u);
	ts_access_token_clear(&at);
	if (r == TS_ESTORE)
		return unavailable(resp);
	if (r != TS_OK || u->disabled) {
		ts_user_rec_free(u);
		return deny(rc, resp, TS_ERR_INVALID_TOKEN, "the token's user is not active");
	}
	p->is_user = true;
	p->username = ts_arena_strdup(req->arena, u->username);
	p->roles = ts_user_roles(u);
	ts_user_rec_free(u);
	return TS_OK;
}

static int via_apikey(const struct ts_rctx *rc, struct ts_http_req *req, struct ts_http_resp *resp,
		      struct ts_principal *p)
{
	struct ts_user_rec *u = NULL;
	int r = ts_apikey_user(rc->app->store, rc->tenant->id, req->auth.user, req->auth.secret, &u);

	if (r == TS_ESTORE)
		return unavailable(resp);
	if (r != TS_OK)
		return deny(rc, resp, TS_ERR_INVALID_TOKEN, "the API key is invalid");
	p->via = TS_VIA_API_KEY;
	p->is_user = true;
	p->sub = ts_arena_strdup(req->arena, u->id);
	p->username = ts_arena_strdup(req->arena, u->username);
	p->scope = ts_person_scope(rc->tenant, req->arena);
	p->api_key = ts_arena_strdup(req->arena, req->auth.user);
	p->roles = ts_user_roles(u);
	ts_user_rec_free(u);
	return TS_OK;
}

static bool state_changing(const char *method)
{
	return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
	       strcmp(method, "OPTIONS") != 0;
}

static int via_session(const struct ts_rctx *rc, struct ts_http_req *req, struct ts_http_resp *resp,
		       struct ts_principal *p)
{
	struct ts_session_rec *s = NULL;
	struct ts_user_rec *u = NULL;
	const char *sid;
	int r = ts_session_load(rc, req, NULL, &s, &u, &sid);

	if (r == TS_ESTORE)
		return unavailable(resp);
	if (r != TS_OK)
		return deny(rc, resp, NULL, "authentication is required");
	if (!ts_web_same_site(rc, req)) {
		ts_session_rec_free(s);
		ts_user_rec_free(u);
		ts_api_cross_site(resp);
		return TS_EDENIED;
	}
	if (state_changing(req->method) &&
	    !ts_csrf_ok(rc->app, TS_CSRF_API, sid, ts_http_header(req, TS_CSRF_HEADER))) {
		ts_session_rec_free(s);
		ts_user_rec_free(u);
		ts_http_resp_error(resp, 403, "csrf_failed",
				   "a state-changing request with the session cookie needs the X-CSRF-Token header");
		return TS_EDENIED;
	}
	p->via = TS_VIA_SESSION;
	p->is_user = true;
	p->sub = ts_arena_strdup(req->arena, u->id);
	p->username = ts_arena_strdup(req->arena, u->username);
	p->scope = ts_person_scope(rc->tenant, req->arena);
	p->session_id = sid;
	p->roles = ts_user_roles(u);
	ts_session_rec_free(s);
	ts_user_rec_free(u);
	return TS_OK;
}

int ts_api_authenticate(const struct ts_rctx *rc, struct ts_http_req *req,
			struct ts_http_resp *resp, struct ts_principal *p)
{
	memset(p, 0, sizeof(*p));
	switch (req->auth.scheme) {
	case TS_AUTH_BEARER:
	case TS_AUTH_DPOP:
		return via_bearer(rc, req, resp, p);
	case TS_AUTH_TOKEN:
	case TS_AUTH_BASIC:
		return via_apikey(rc, req, resp, p);
	case TS_AUTH_NONE:
		return via_session(rc, req, resp, p);
	default:
		ts_http_resp_error(resp, 400, TS_ERR_INVALID_REQUEST, "unsupported Authorization header");
		ts_http_resp_header(resp, "WWW-Authenticate",
				    ts_arena_printf(resp->arena, "Bearer realm=\"%s\", error=\"invalid_request\"",
						    rc->tenant->name));
		return TS_EDENIED;
	}
}

bool ts_principal_has_scope(const struct ts_rctx *rc, const struct ts_principal *p,
			    const char *scope)
{
	const char *s = p->scope;
	char tok[TS_SCOPE_MAX + 1];

	if (s == NULL)
		return false;
	while (*s) {
		const char *e = strchr(s, ' ');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		if (len < sizeof(tok)) {
			memcpy(tok, s, len);
			tok[len] = '\0';
			if (ts_scope_satisfies(rc->tenant, tok, scope))
				return true;
		}
		s += len + (e ? 1 : 0);
	}
	return false;
}

bool ts_principal_has_role(const struct ts_principal *p, const char *role)
{
	size_t i;

	for (i = 0; i < json_array_size(p->roles); i++)
		if (ts_str_eq(ts_str_c(json_string_value(json_array_get(p->roles, i))), role))
			return true;
	return false;
}

json_t *ts_principal_json(const struct ts_rctx *rc, const struct ts_principal *p)
{
	static const char *const via[] = {"bearer", "api_key", "session"};
	json_t *scopes = json_array(), *o;
	const char *s = p->scope ? p->scope : "";

	while (*s) {
		const char *e = strchr(s, ' ');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		if (len)
			json_array_append_new(scopes, json_stringn(s, len));
		s += len + (e ? 1 : 0);
	}
	o = json_pack("{s:s,s:s,s:s,s:o,s:O,s:s}", "tenant", rc->tenant->name, "sub", p->sub,
		      "principal_type", p->is_user ? "user" : "service", "scopes", scopes, "roles",
		      p->roles ? p->roles : json_array(), "auth", via[p->via]);
	json_object_set_new(o, "username", p->username ? json_string(p->username) : json_null());
	json_object_set_new(o, "client_id", p->client_id ? json_string(p->client_id) : json_null());
	return o;
}
