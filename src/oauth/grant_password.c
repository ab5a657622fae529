/* grant_password.c: the resource owner password credentials grant (RFC
 * 6749 §4.3), only for clients that list it, throttled as every password
 * check is. */
#include "oauth.h"
#include "internal.h"

#include "store/store_people.h"

#include <string.h>

void ts_grant_password(struct ts_rctx *rc, struct ts_http_req *req, struct ts_http_resp *resp,
		       const struct ts_client *c)
{
	const char *username = ts_params_get(req->form, req->nform, TS_P_USERNAME, NULL);
	const char *password = ts_params_get(req->form, req->nform, TS_P_PASSWORD, NULL);
	const char *scope_param = ts_params_get(req->form, req->nform, TS_P_SCOPE, NULL);
	struct ts_oauth_err e = {0};
	struct ts_user_rec *u = NULL;
	struct ts_issue is;
	struct ts_pw_attempt pa;
	char gid[37];
	bool rehash = false;
	int retry = 0, r;
	int64_t now = ts_now();

	if (username == NULL || password == NULL || username[0] == '\0' || strlen(username) > 254 ||
	    strlen(password) > TS_PASSWORD_MAX) {
		ts_oauth_err_set(&e, 400, TS_ERR_INVALID_REQUEST, "username and password are required");
		goto fail;
	}
	memset(&is, 0, sizeof(is));
	if (!ts_oauth_scope_grant(rc->tenant, c, scope_param, req->arena, &is.scope)) {
		ts_oauth_err_set(&e, 400, TS_ERR_INVALID_SCOPE, "a requested scope is not allowed for this client");
		goto fail;
	}
	/* RFC 8707: resource sets aud (and stays with the grant's refresh tokens). */
	if (!ts_oauth_resources(req, &is, true, &e))
		goto fail;
	if (ts_pw_attempt_begin(rc, req, username, &pa, &retry) != TS_OK) {
		ts_oauth_err_set(&e, 429, TS_ERR_INVALID_GRANT, "too many failed attempts; retry later");
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
		ts_oauth_err_set(&e, 400, TS_ERR_INVALID_GRANT, "invalid username or password");
		goto fail;
	}
	ts_pw_attempt_succeeded(rc, &pa, u, password, rehash);
	if (ts_rand_uuid(gid) != TS_OK) {
		ts_oauth_err_set(&e, 500, TS_ERR_SERVER_ERROR, NULL);
		goto fail;
	}
	r = ts_grant_record(rc, gid, c, u, is.scope, now);
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
	ts_oauth_err_unavailable(&e);
fail:
	ts_oauth_err_send(rc, resp, &e);
out:
	ts_user_rec_free(u);
}

