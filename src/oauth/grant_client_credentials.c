/* grant_client_credentials.c: the client credentials grant (RFC 6749 §4.4),
 * for confidential clients only. This is the hot path: everything it reads
 * comes from the in-memory snapshot, the only real work is one signature,
 * and the audit record is queued for the background writer. */
#include "oauth.h"
#include "internal.h"

#include <string.h>

void ts_grant_client_credentials(struct ts_rctx *rc, struct ts_http_req *req,
				 struct ts_http_resp *resp, const struct ts_client *c)
{
	const struct ts_tenant *t = rc->tenant;
	struct ts_oauth_err e = {0};
	const char *scope_param = ts_params_get(req->form, req->nform, TS_P_SCOPE, NULL);
	struct ts_issue is;

	memset(&is, 0, sizeof(is));
	/* Issuing reads only memory, but a storage outage is an outage for
	 * every request: nothing is issued that storage could not record. */
	if (rc->app->reg && !ts_registry_storage_ok(rc->app->reg)) {
		ts_oauth_err_unavailable(&e);
		goto fail;
	}
	if (!ts_oauth_scope_grant(t, c, scope_param, req->arena, &is.scope)) {
		ts_oauth_err_set(&e, 400, TS_ERR_INVALID_SCOPE, "a requested scope is not allowed for this client");
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
