/* client_auth.c: client authentication at the token, introspection and
 * revocation endpoints (RFC 6749 §2.3.1): client_secret_basic,
 * client_secret_post, and "none" for public clients where allowed. */
#include "oauth.h"

#include <string.h>
#include <strings.h>

static int deny(const struct ts_rctx *rc, struct ts_oauth_err *err, const char *desc)
{
	if (rc->tenant->stats)
		atomic_fetch_add_explicit(&rc->tenant->stats->client_auth_failures, 1,
					  memory_order_relaxed);
	err->status = 401;
	err->code = "invalid_client";
	err->desc = desc;
	err->basic_challenge = true;
	return TS_EDENIED;
}

static int bad_request(struct ts_oauth_err *err, const char *desc)
{
	err->status = 400;
	err->code = "invalid_request";
	err->desc = desc;
	return TS_EINVAL;
}

int ts_oauth_client_auth(const struct ts_rctx *rc, const struct ts_http_req *req,
			 bool allow_public, const struct ts_client **out, struct ts_oauth_err *err)
{
	const char *form_id = ts_params_get(req->form, req->nform, TS_P_CLIENT_ID, NULL);
	const char *form_secret = ts_params_get(req->form, req->nform, TS_P_CLIENT_SECRET, NULL);
	const char *id, *secret;
	const struct ts_client *c;

	*out = NULL;
	if (ts_params_get(req->form, req->nform, "client_assertion", NULL))
		return deny(rc, err, "client assertions are not accepted by this server");
	if (req->auth.scheme == TS_AUTH_INVALID && ts_http_header(req, "Authorization") &&
	    strncasecmp(ts_http_header(req, "Authorization"), "basic", 5) == 0)
		return deny(rc, err, "malformed Basic credentials");
	if (req->auth.scheme == TS_AUTH_BASIC) {
		/* RFC 6749 §2.3: a client MUST NOT use more than one method. */
		if (form_secret)
			return bad_request(err, "client authenticated by more than one method");
		if (form_id && strcmp(form_id, req->auth.user) != 0)
			return bad_request(err, "client_id does not match the authenticated client");
		id = req->auth.user;
		secret = req->auth.secret;
	} else {
		id = form_id;
		secret = form_secret;
	}
	if (id == NULL)
		return deny(rc, err, "client authentication is required");
	c = ts_tenant_client(rc->tenant, id);
	if (c == NULL || c->disabled) {
		/* Same work as a known client, so timing does not tell. */
		unsigned char d[TS_SHA256_LEN];
		ts_sha256(secret ? secret : "", secret ? strlen(secret) : 0, d);
		return deny(rc, err, "client authentication failed");
	}
	if (!c->confidential) {
		if (secret != NULL || !allow_public)
			return deny(rc, err, "client authentication failed");
		*out = c;
		return TS_OK;
	}
	if (secret == NULL || !ts_client_secret_ok(c, secret, strlen(secret)))
		return deny(rc, err, "client authentication failed");
	*out = c;
	return TS_OK;
}
