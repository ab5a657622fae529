/* token.c: the token endpoint (RFC 6749 §3.2): the request checks every
 * grant shares, client authentication, and the dispatch on grant_type
 * through the grant table; each grant is a file of its own (grant_*.c). */
#include "oauth.h"
#include "internal.h"

#include "store/store_people.h"
#include "store/store_tokens.h"
#include "wire/ascii.h"

#include <stdlib.h>
#include <string.h>


static const char *const multi_params[] = {TS_P_RESOURCE, TS_P_AUDIENCE, NULL};

bool ts_oauth_resource_ok(const char *r)
{
	const char *colon = r ? strchr(r, ':') : NULL;
	size_t i;

	/* RFC 8707 §2: an absolute URI (RFC 3986 §4.3: scheme ":" ...)
	 * without a fragment. */
	if (colon == NULL || colon == r || strchr(r, '#') || strlen(r) > TS_RESOURCE_MAX)
		return false;
	for (i = 0; r + i < colon; i++)
		if (!(i ? ts_is_scheme_char((unsigned char)r[i]) : ts_is_alpha((unsigned char)r[i])))
			return false;
	/* Printable ASCII only (a URI has no other characters, RFC 3986 §2):
	 * no control byte, space or non-UTF-8 byte ever reaches a signed aud. */
	for (i = 0; r[i]; i++)
		if (!ts_is_vchar((unsigned char)r[i]))
			return false;
	return true;
}

bool ts_oauth_resources(struct ts_http_req *req, struct ts_issue *is, bool want_json,
			struct ts_oauth_err *e)
{
	const char **aud = ts_arena_alloc(req->arena, (req->nform + 1) * sizeof(char *));
	json_t *res = want_json ? json_array() : NULL;
	size_t i, n = 0;

	for (i = 0; i < req->nform; i++) {
		if (strcmp(req->form[i].name, TS_P_RESOURCE) != 0)
			continue;
		if (!ts_oauth_resource_ok(req->form[i].value)) {
			json_decref(res);
			ts_oauth_err_set(e, 400, TS_ERR_INVALID_TARGET, "resource must be an absolute URI without a fragment");
			return false;
		}
		aud[n++] = req->form[i].value;
		if (res)
			json_array_append_new(res, json_string(req->form[i].value));
	}
	is->aud = aud;
	is->naud = n;
	if (res && n) {
		char *text = json_dumps(res, JSON_COMPACT);
		is->resource_json = ts_arena_strdup(req->arena, text);
		free(text);
	}
	json_decref(res);
	return true;
}

bool ts_oauth_resources_within(struct ts_http_req *req, const char *granted, struct ts_issue *is,
			       struct ts_oauth_err *e)
{
	const char **have = NULL;
	size_t nhave, i, k;

	if (!ts_oauth_resources(req, is, false, e))
		return false;
	is->resource_json = granted;
	nhave = ts_oauth_aud_from_json(req->arena, granted, (const char ***)&have);
	if (is->naud == 0) {
		is->aud = have;
		is->naud = nhave;
		return true;
	}
	/* A grant authorized without a resource takes one as the password
	 * and client credentials grants do; otherwise a resource may only
	 * narrow the grant's, never add to them. */
	for (i = 0; nhave && i < is->naud; i++) {
		for (k = 0; k < nhave && strcmp(is->aud[i], have[k]) != 0; k++)
			;
		if (k == nhave) {
			ts_oauth_err_set(e, 400, TS_ERR_INVALID_TARGET,
					 "resource was not authorized for this grant");
			return false;
		}
	}
	return true;
}

/* The grants of the token endpoint (RFC 6749 §4), by grant_type. */
static const struct ts_grant grants[] = {
	{TS_GRANT_AUTHORIZATION_CODE_S, TS_GRANT_AUTHORIZATION_CODE, ts_grant_authorization_code, false,
	 false},
	{TS_GRANT_CLIENT_CREDENTIALS_S, TS_GRANT_CLIENT_CREDENTIALS, ts_grant_client_credentials, true,
	 true},
	{TS_GRANT_DEVICE_CODE_S, TS_GRANT_DEVICE_CODE, ts_grant_device_code, false, false},
	{TS_GRANT_PASSWORD_S, TS_GRANT_PASSWORD, ts_grant_password, false, false},
	{TS_GRANT_REFRESH_TOKEN_S, TS_GRANT_REFRESH_TOKEN, ts_grant_refresh_token, false, false},
	{TS_GRANT_TOKEN_EXCHANGE_S, TS_GRANT_TOKEN_EXCHANGE, ts_grant_token_exchange, true, false},
};

const struct ts_grant *ts_grant_find(const char *grant_type)
{
	size_t i;

	for (i = 0; grant_type && i < TS_ARRAY_LEN(grants); i++)
		if (strcmp(grants[i].grant_type, grant_type) == 0)
			return &grants[i];
	return NULL;
}

bool ts_oauth_token_inline(const struct ts_http_req *req)
{
	const struct ts_grant *g = ts_grant_find(ts_params_get(req->form, req->nform,
							       TS_P_GRANT_TYPE, NULL));

	/* A DPoP proof's jti is recorded in storage: not on the event loop. */
	return g && g->runs_inline &&
	       ts_params_get(req->form, req->nform, TS_P_CLIENT_ASSERTION, NULL) == NULL &&
	       ts_http_header(req, TS_DPOP_HEADER) == NULL;
}

const char *ts_grant_hash(struct ts_arena *a, const char *raw)
{
	char h[2 * TS_SHA256_LEN + 1];

	ts_sha256_hex(raw, strlen(raw), h);
	return ts_arena_strdup(a, h);
}

int ts_grant_record(struct ts_rctx *rc, const char *id, const struct ts_client *c,
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

/* RFC 9449 §5: a proof, when sent (or required by the client), is checked
 * before the grant runs, so a refused proof spends no code or refresh
 * token; its key's thumbprint goes to the issued tokens through rc. */
static bool dpop_ok(struct ts_rctx *rc, struct ts_http_req *req, const struct ts_client *c,
		    struct ts_oauth_err *e)
{
	char jkt[44];

	if (ts_http_header(req, TS_DPOP_HEADER) == NULL && !c->dpop_bound_access_tokens)
		return true;
	if (ts_dpop_verify(rc, req, NULL, c->dpop_bound_access_tokens, jkt, e) != TS_OK)
		return false;
	rc->dpop_jkt = ts_arena_strdup(req->arena, jkt);
	return true;
}

void ts_oauth_token(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = ctx;
	struct ts_oauth_err e = {0};
	const struct ts_client *c = NULL;
	const struct ts_grant *g;
	const char *grant;

	if (req->content_type == NULL ||
	    strcmp(req->content_type, "application/x-www-form-urlencoded") != 0) {
		ts_oauth_err_set(&e, 400, TS_ERR_INVALID_REQUEST,
		     "the body must be application/x-www-form-urlencoded");
		goto fail;
	}
	if (!ts_oauth_params_unique(req->form, req->nform, multi_params, &e))
		goto fail;
	grant = ts_params_get(req->form, req->nform, TS_P_GRANT_TYPE, NULL);
	if (ts_oauth_client_auth(rc, req, true, &c, &e) != TS_OK)
		goto fail;
	if (grant == NULL || grant[0] == '\0') {
		ts_oauth_err_set(&e, 400, TS_ERR_INVALID_REQUEST, "grant_type is required");
		goto fail;
	}
	g = ts_grant_find(grant);
	if (g == NULL) {
		ts_oauth_err_set(&e, 400, TS_ERR_UNSUPPORTED_GRANT_TYPE, "this grant type is not supported");
		goto fail;
	}
	if ((g->confidential_only && !c->confidential) || !ts_client_has_grant(c, g->grant_type)) {
		ts_oauth_err_set(&e, 400, TS_ERR_UNAUTHORIZED_CLIENT,
				 "the client may not use this grant type");
		goto fail;
	}
	if (!dpop_ok(rc, req, c, &e))
		goto fail;
	g->fn(rc, req, resp, c);
	goto nonce;
fail:
	ts_oauth_err_send(rc, resp, &e);
nonce:
	/* RFC 9449 §8: a client that must use nonces gets the current one with
	 * every answer, so it rarely meets use_dpop_nonce. */
	if (c && c->dpop_bound_access_tokens)
		ts_http_resp_header(resp, TS_DPOP_NONCE_HEADER, ts_dpop_nonce(rc, req->arena));
}
