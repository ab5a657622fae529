/* token.c: the token endpoint (RFC 6749 §3.2, §4.4) and access tokens as
 * JWTs (RFC 9068). This is the hot path: everything it reads comes from the
 * in-memory snapshot, the only real work is one signature, and the audit
 * record is queued for the background writer. */
#include "oauth.h"

#include <stdlib.h>
#include <string.h>


static const char *const multi_params[] = {TS_P_RESOURCE, NULL};

bool ts_oauth_resource_ok(const char *r)
{
	const char *colon = r ? strchr(r, ':') : NULL;
	size_t i;

	/* RFC 8707 §2: an absolute URI (RFC 3986 §4.3: scheme ":" ...)
	 * without a fragment. */
	if (colon == NULL || colon == r || strchr(r, '#') || strlen(r) > TS_RESOURCE_MAX)
		return false;
	for (i = 0; r + i < colon; i++)
		if (!((r[i] >= 'a' && r[i] <= 'z') || (r[i] >= 'A' && r[i] <= 'Z') ||
		      (i && ((r[i] >= '0' && r[i] <= '9') || r[i] == '+' || r[i] == '-' || r[i] == '.'))))
			return false;
	/* Printable ASCII only (a URI has no other characters, RFC 3986 §2):
	 * no control byte, space or non-UTF-8 byte ever reaches a signed aud. */
	for (i = 0; r[i]; i++)
		if ((unsigned char)r[i] < 0x21 || (unsigned char)r[i] > 0x7e)
			return false;
	return true;
}

static void client_credentials(struct ts_rctx *rc, struct ts_http_req *req,
			       struct ts_http_resp *resp, const struct ts_client *c)
{
	const struct ts_tenant *t = rc->tenant;
	struct ts_oauth_err e = {0};
	const char *scope_param = ts_params_get(req->form, req->nform, TS_P_SCOPE, NULL);
	struct ts_issue is;

	if (!c->confidential || !ts_client_has_grant(c, TS_GRANT_CLIENT_CREDENTIALS_S)) {
		ts_oauth_err_set(&e, 400, "unauthorized_client", "the client may not use this grant type");
		goto fail;
	}
	memset(&is, 0, sizeof(is));
	if (!ts_oauth_scope_grant(t, c, scope_param, req->arena, &is.scope)) {
		ts_oauth_err_set(&e, 400, "invalid_scope", "a requested scope is not allowed for this client");
		goto fail;
	}
	if (!ts_oauth_resources(req, &is, false, &e))
		goto fail;
	is.client = c;
	is.kind = TS_GRANT_CLIENT_CREDENTIALS;
	if (ts_oauth_issue(rc, req, resp, &is, &e) == TS_OK)
		return;
fail:
	ts_oauth_err_send(rc, resp, &e);
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
			ts_oauth_err_set(e, 400, "invalid_target", "resource must be an absolute URI without a fragment");
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

void ts_oauth_token(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = ctx;
	struct ts_oauth_err e = {0};
	const struct ts_client *c = NULL;
	const char *grant;

	if (req->content_type == NULL ||
	    strcmp(req->content_type, "application/x-www-form-urlencoded") != 0) {
		ts_oauth_err_set(&e, 400, "invalid_request",
		     "the body must be application/x-www-form-urlencoded");
		goto fail;
	}
	if (!ts_oauth_params_unique(req->form, req->nform, multi_params, &e))
		goto fail;
	grant = ts_params_get(req->form, req->nform, TS_P_GRANT_TYPE, NULL);
	if (ts_oauth_client_auth(rc, req, true, &c, &e) != TS_OK)
		goto fail;
	if (grant == NULL || grant[0] == '\0') {
		ts_oauth_err_set(&e, 400, "invalid_request", "grant_type is required");
		goto fail;
	}
	if (strcmp(grant, TS_GRANT_CLIENT_CREDENTIALS_S) == 0) {
		client_credentials(rc, req, resp, c);
		return;
	}
	if (strcmp(grant, "authorization_code") == 0) {
		ts_grant_authorization_code(rc, req, resp, c);
		return;
	}
	if (strcmp(grant, "refresh_token") == 0) {
		ts_grant_refresh_token(rc, req, resp, c);
		return;
	}
	if (strcmp(grant, "password") == 0) {
		ts_grant_password(rc, req, resp, c);
		return;
	}
	if (strcmp(grant, TS_GRANT_DEVICE_CODE_S) == 0) {
		ts_grant_device_code(rc, req, resp, c);
		return;
	}
	ts_oauth_err_set(&e, 400, "unsupported_grant_type", "this grant type is not supported");
fail:
	ts_oauth_err_send(rc, resp, &e);
}
