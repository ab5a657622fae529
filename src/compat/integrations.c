/* integrations.c: the "integrations" profile: the routes an integrations
 * token manager's connectors call, on the token vault. integrationId is
 * the connection's name. /api/oauth/authorize starts an authorization-code
 * connection (the native POST /api/connections) and answers its
 * authorizationUrl; /api/oauth/client-credentials connects a
 * client-credentials provider (the same handler, which fetches the token
 * at once) and answers the token; /api/oauth/token answers the token of a
 * named connection (the native POST /api/connections/{id}/token). The
 * native handlers make every check: vault scopes, a person only their own
 * authorization-code connections, a client-credentials provider's token
 * only for services (docs/COMPATIBILITY.md). */
#include "compat.h"

#include "api/api.h"
#include "web/web.h"
#include "http/params.h"
#include "vault/vault.h"
#include "store/store_vault.h"

#include <string.h>
#include <time.h>

#define F_PROVIDER "provider"
#define F_INTEGRATION "integrationId"
#define ISO_TIME_MAX 32

static void refuse(struct ts_http_resp *resp, int status, const char *code, const char *desc)
{
	ts_http_resp_error(resp, status, code, desc);
	ts_http_resp_header(resp, "Cache-Control", "no-store");
}

/* The body {provider, integrationId} as the vault's {provider, name}.
 * Answers 400 itself (false) when either is missing. */
static bool as_connection_body(struct ts_http_req *req, struct ts_http_resp *resp)
{
	const json_t *prov = json_object_get(req->json, F_PROVIDER);
	const json_t *name = json_object_get(req->json, F_INTEGRATION);

	if (!json_is_object(req->json) || !json_is_string(prov) || !json_is_string(name)) {
		refuse(resp, 400, TS_ERR_INVALID_REQUEST,
		       "a JSON body with string \"provider\" and \"integrationId\" is required");
		return false;
	}
	json_object_set(req->json, "name", (json_t *)name);
	json_object_del(req->json, F_INTEGRATION);
	return true;
}

/* Whether the body's provider uses the grant the route is for; answers
 * 400 (or 503) itself when not. An unknown provider is left to the native
 * handler to refuse. */
static bool provider_fits(const struct ts_compat_call *call, struct ts_http_req *req,
			  struct ts_http_resp *resp, bool want_cc)
{
	const char *name = json_string_value(json_object_get(req->json, F_PROVIDER));
	bool cc = false;
	int r;

	r = ts_vault_provider_client_credentials(call->rc->app->vault, call->rc->tenant->id, name,
						 &cc);
	if (r == TS_ESTORE) {
		ts_web_store_unavailable(resp);
		return false;
	}
	if (r != TS_OK || cc == want_cc)
		return true;
	refuse(resp, 400, TS_ERR_INVALID_REQUEST,
	       want_cc ? "the provider uses the authorization code grant: use /api/oauth/authorize"
		       : "the provider uses client credentials: use /api/oauth/client-credentials");
	return false;
}

static bool authorize_before(struct ts_compat_call *call, struct ts_http_req *req,
			     struct ts_http_resp *resp)
{
	return as_connection_body(req, resp) && provider_fits(call, req, resp, false);
}

/* {authorizationUrl, connectionId, status} from the native answer. */
static void authorize_after(struct ts_compat_call *call, struct ts_http_req *req,
			    struct ts_http_resp *resp)
{
	json_t *native, *body;

	(void)call;
	(void)req;
	if ((resp->status != 200 && resp->status != 201) || (native = ts_compat_body(resp)) == NULL)
		return;
	body = json_pack("{s:O,s:O,s:O}", "authorizationUrl",
			 json_object_get(native, "authorization_url"), "connectionId",
			 json_object_get(native, "id"), "status", json_object_get(native, "status"));
	if (body) {
		ts_compat_body_set(resp, body);
		json_decref(body);
	}
	json_decref(native);
}

/* Empties resp down to the headers it had before a handler ran. */
static void resp_reset(struct ts_http_resp *resp, size_t nheaders)
{
	ts_buf_clear_secret(&resp->body);
	ts_buf_init(&resp->body, 0);
	resp->status = 0;
	resp->content_type = NULL;
	resp->nheaders = nheaders;
}

/* Connects the client-credentials provider (the native create, which
 * fetches the token at once) and routes the request on to the native
 * token endpoint of that connection. */
static bool client_credentials_before(struct ts_compat_call *call, struct ts_http_req *req,
				      struct ts_http_resp *resp)
{
	size_t nheaders = resp->nheaders;
	json_t *made;
	const char *id;

	if (!as_connection_body(req, resp) || !provider_fits(call, req, resp, true))
		return false;
	ts_vault_api_create(call->rc, req, resp);
	if (resp->status != 200 && resp->status != 201)
		return false;
	made = ts_compat_body(resp);
	id = json_string_value(json_object_get(made, "id"));
	if (id == NULL) {
		json_decref(made);
		return false;
	}
	req->route_params[0] = ts_arena_strdup(req->arena, id);
	json_decref(made);
	resp_reset(resp, nheaders);
	return true;
}

/* Finds the named connection of the caller (a person's own, or the
 * tenant's for a service) and routes the request to its token. */
static bool token_before(struct ts_compat_call *call, struct ts_http_req *req,
			 struct ts_http_resp *resp)
{
	struct ts_connection_rec *c = NULL;
	struct ts_principal p;
	const char *prov, *name;
	int r;

	if (!as_connection_body(req, resp))
		return false;
	if (ts_api_authenticate(call->rc, req, resp, &p) != TS_OK)
		return false;
	prov = json_string_value(json_object_get(req->json, F_PROVIDER));
	name = json_string_value(json_object_get(req->json, "name"));
	r = ts_store_connection_find(call->rc->app->store, call->rc->tenant->id,
				     p.is_user ? p.sub : NULL, name, &c);
	if (r == TS_OK && strcmp(c->provider, prov) != 0)
		r = TS_ENOTFOUND;
	if (r == TS_OK)
		req->route_params[0] = ts_arena_strdup(req->arena, c->id);
	else if (r == TS_ENOTFOUND || r == TS_EINVAL)
		refuse(resp, 404, "not_found", "no such integration");
	else
		ts_web_store_unavailable(resp);
	ts_connection_rec_free(c);
	ts_principal_clear(&p);
	return r == TS_OK;
}

/* Unix seconds as ISO 8601 UTC. */
static json_t *iso_time(json_int_t t)
{
	char buf[ISO_TIME_MAX];
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL)
		return json_null();
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

/* {accessToken, tokenType, expiresAt, expiresIn, provider, integrationId}
 * from the native {access_token, expires_at}. */
static void token_after(struct ts_compat_call *call, struct ts_http_req *req,
			struct ts_http_resp *resp)
{
	json_t *native, *body;
	json_int_t exp;

	(void)call;
	if (resp->status != 200 || (native = ts_compat_body(resp)) == NULL)
		return;
	exp = json_integer_value(json_object_get(native, "expires_at"));
	body = json_pack("{s:O,s:s,s:o,s:I,s:O,s:O}", "accessToken",
			 json_object_get(native, TS_P_ACCESS_TOKEN), "tokenType", "Bearer", "expiresAt",
			 iso_time(exp), "expiresIn", (json_int_t)(exp > ts_now() ? exp - ts_now() : 0),
			 "provider", json_object_get(req->json, F_PROVIDER), "integrationId",
			 json_object_get(req->json, "name"));
	if (body) {
		ts_compat_body_set(resp, body);
		json_decref(body);
	}
	json_decref(native);
}

static const struct ts_compat_route routes[] = {
	{"POST", "/api/oauth/authorize", ts_vault_api_create, "api_connections", authorize_before,
	 authorize_after},
	{"POST", "/api/oauth/client-credentials", ts_vault_api_token, "api_connections_token",
	 client_credentials_before, token_after},
	{"POST", "/api/oauth/token", ts_vault_api_token, "api_connections_token", token_before,
	 token_after},
};

const struct ts_compat_table ts_compat_integrations = {routes, TS_ARRAY_LEN(routes)};
