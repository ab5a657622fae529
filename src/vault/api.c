/* api.c: the token vault's API under {issuer}/api/connections:
 * list, show, delete, a valid access token, and Shopee's signed common
 * parameters. Who may do what: every credential needs vault:read (read,
 * token, sign) or vault:write (create, delete), a Bearer token in its own
 * scope, an API key or a session among the person scopes of the tenant; a
 * service (client credentials) acts on every connection of the tenant, a
 * person only on the connections it owns. A connection someone may not
 * see is answered as if it did not exist. */
#include "vault_int.h"

#include "api/api.h"
#include "web/web.h"
#include "oauth/oauth.h"
#include "store/store_vault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void api_error(struct ts_http_resp *resp, int status, const char *code, const char *desc)
{
	ts_http_resp_error(resp, status, code, desc);
	ts_http_resp_header(resp, "Cache-Control", "no-store");
}

int ts_vault_principal(const struct ts_rctx *rc, struct ts_http_req *req,
		       struct ts_http_resp *resp, const char *scope, struct ts_principal *p)
{
	int r = ts_api_authenticate(rc, req, resp, p);

	if (r != TS_OK)
		return r;
	if (!ts_principal_has_scope(rc, p, scope)) {
		api_error(resp, 403, TS_ERR_INSUFFICIENT_SCOPE, "the credential does not allow this request");
		ts_http_resp_header(resp, "WWW-Authenticate",
				    ts_arena_printf(resp->arena,
						    "Bearer realm=\"%s\", error=\"insufficient_scope\", scope=\"%s\"",
						    rc->tenant->name, scope));
		ts_principal_clear(p);
		return TS_EDENIED;
	}
	return TS_OK;
}

bool ts_vault_may_access(const struct ts_principal *p, const struct ts_connection_rec *c)
{
	if (!p->is_user)
		return true;
	return c->owner != NULL && p->sub != NULL && strcmp(c->owner, p->sub) == 0;
}

/* Loads the route's connection if the principal may see it; otherwise
 * answers 404 (or 503) itself. */
static int load_visible(const struct ts_rctx *rc, struct ts_http_req *req,
			struct ts_http_resp *resp, const struct ts_principal *p,
			struct ts_connection_rec **out)
{
	int r = ts_store_connection_get(rc->app->store, rc->tenant->id, req->route_params[0], out);

	if (r == TS_OK && !ts_vault_may_access(p, *out)) {
		ts_connection_rec_free(*out);
		*out = NULL;
		r = TS_ENOTFOUND;
	}
	if (r == TS_ENOTFOUND || r == TS_EINVAL)
		api_error(resp, 404, "not_found", "no such connection");
	else if (r != TS_OK)
		ts_web_store_unavailable(resp);
	return r;
}

static void json_answer(struct ts_http_resp *resp, int status, json_t *o)
{
	ts_http_resp_json(resp, status, o);
	ts_http_resp_header(resp, "Cache-Control", "no-store");
	json_decref(o);
}

void ts_vault_api_list(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = ctx;
	struct ts_connection_rec **v = NULL;
	struct ts_principal p;
	size_t n = 0, i;
	int64_t now = ts_now();
	json_t *a;

	if (ts_vault_principal(rc, req, resp, TS_VAULT_SCOPE_READ, &p) != TS_OK)
		return;
	if (ts_store_connection_list(rc->app->store, rc->tenant->id, &v, &n) != TS_OK) {
		ts_web_store_unavailable(resp);
		goto out;
	}
	a = json_array();
	for (i = 0; i < n; i++)
		if (ts_vault_may_access(&p, v[i]))
			json_array_append_new(a, ts_vault_connection_view(v[i], now, false));
	json_answer(resp, 200, json_pack("{s:o}", "connections", a));
out:
	ts_connection_recs_free(v, n);
	ts_principal_clear(&p);
}

void ts_vault_api_get(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = ctx;
	struct ts_connection_rec *c = NULL;
	struct ts_principal p;

	if (ts_vault_principal(rc, req, resp, TS_VAULT_SCOPE_READ, &p) != TS_OK)
		return;
	if (load_visible(rc, req, resp, &p, &c) == TS_OK)
		json_answer(resp, 200, ts_vault_connection_view(c, ts_now(), false));
	ts_connection_rec_free(c);
	ts_principal_clear(&p);
}

void ts_vault_api_delete(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = ctx;
	struct ts_connection_rec *c = NULL;
	struct ts_principal p;
	bool revoked = false;
	int r;

	if (ts_vault_principal(rc, req, resp, TS_VAULT_SCOPE_WRITE, &p) != TS_OK)
		return;
	if (load_visible(rc, req, resp, &p, &c) != TS_OK)
		goto out;
	r = ts_vault_connection_delete(rc->app->vault, c, p.sub, &revoked);
	if (r == TS_OK)
		json_answer(resp, 200, json_pack("{s:s,s:b,s:b}", "id", c->id, "deleted", 1,
						 "revoked", revoked));
	else if (r == TS_ENOTFOUND)
		api_error(resp, 404, "not_found", "no such connection");
	else
		ts_web_store_unavailable(resp);
out:
	ts_connection_rec_free(c);
	ts_principal_clear(&p);
}

/* Makes *c (replaced in place) hold a valid access token, refreshing it
 * first when it is inside its refresh window; waits briefly for another
 * refresher. TS_OK with *token (caller frees with ts_free_secret), or the
 * answer is in resp. */
static int valid_token(const struct ts_rctx *rc, struct ts_http_resp *resp,
		       struct ts_connection_rec **c, char **token)
{
	int r = ts_vault_fresh_token(rc->app->vault, "api", c, token);

	if (r == TS_ENOTFOUND) {
		api_error(resp, 404, "not_found", "no such connection");
	} else if (r == TS_ESTORE) {
		api_error(resp, 503, TS_ERR_TEMPORARILY_UNAVAILABLE, "storage is unavailable");
	} else if (r == TS_EINVAL && strcmp((*c)->status, "pending") == 0) {
		api_error(resp, 409, "connection_pending", "the connection has not been authorized yet");
	} else if (r == TS_EINVAL) {
		api_error(resp, 409, "needs_reauth",
			  "the provider refused the connection's grant; authorize it again");
	} else if (r == TS_EIO) {
		api_error(resp, 502, "upstream_unavailable",
			  "the token could not be refreshed; retry shortly");
		ts_http_resp_header(resp, "Retry-After", "5");
	} else if (r != TS_OK) {
		api_error(resp, 500, TS_ERR_SERVER_ERROR, "the stored token cannot be opened");
	}
	return r;
}

/* A person never gets a client-credentials provider's token, even from a
 * connection of their own made before that rule held: it is the tenant's
 * machine token. Answers 403 (or 503) itself. */
static int person_may_use(const struct ts_rctx *rc, struct ts_http_resp *resp,
			  const struct ts_principal *p, const struct ts_connection_rec *c)
{
	struct ts_vault_provider *prov = NULL;
	int r;

	if (!p->is_user)
		return TS_OK;
	r = ts_vault_provider_load(rc->app->vault, rc->tenant->id, c->provider, &prov);
	if (r == TS_ESTORE) {
		ts_web_store_unavailable(resp);
		return r;
	}
	if (r == TS_OK && prov->kind == TS_VAULT_OAUTH2 && prov->client_credentials) {
		api_error(resp, 403, "forbidden",
			  "a client-credentials provider's token is for services of the tenant");
		r = TS_EDENIED;
	} else {
		r = TS_OK;
	}
	ts_vault_provider_free(prov);
	return r;
}

void ts_vault_api_token(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = ctx;
	struct ts_connection_rec *c = NULL;
	struct ts_principal p;
	char *token = NULL;

	if (ts_vault_principal(rc, req, resp, TS_VAULT_SCOPE_READ, &p) != TS_OK)
		return;
	if (load_visible(rc, req, resp, &p, &c) != TS_OK)
		goto out;
	if (person_may_use(rc, resp, &p, c) != TS_OK)
		goto out;
	if (valid_token(rc, resp, &c, &token) != TS_OK)
		goto out;
	json_answer(resp, 200, json_pack("{s:s,s:I}", TS_P_ACCESS_TOKEN, token, "expires_at",
					 (json_int_t)c->expires_at));
	ts_oauth_no_store(resp);
out:
	ts_free_secret(token);
	ts_connection_rec_free(c);
	ts_principal_clear(&p);
}

/* An id given as a JSON string or integer, as a decimal arena string. */
static const char *id_member(struct ts_http_req *req, const char *name, bool *bad)
{
	const json_t *v = json_object_get(req->json, name);

	if (v == NULL || json_is_null(v))
		return NULL;
	if (json_is_integer(v) && json_integer_value(v) > 0)
		return ts_arena_printf(req->arena, "%lld", (long long)json_integer_value(v));
	if (json_is_string(v) && ts_vault_printable(json_string_value(v), 32))
		return ts_arena_strdup(req->arena, json_string_value(v));
	*bad = true;
	return NULL;
}

void ts_vault_api_sign(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	static const char *const known[] = {"path", "shop_id", "merchant_id", NULL};
	struct ts_rctx *rc = ctx;
	struct ts_connection_rec *c = NULL;
	struct ts_vault_provider *prov = NULL;
	struct ts_principal p;
	char *token = NULL, err[TS_VAULT_ERR_MAX] = "";
	const char *path, *shop, *merchant;
	json_t *meta = NULL, *o;
	bool bad = false;
	int r;

	if (ts_vault_principal(rc, req, resp, TS_VAULT_SCOPE_READ, &p) != TS_OK)
		return;
	if (load_visible(rc, req, resp, &p, &c) != TS_OK)
		goto out;
	if (!json_is_object(req->json)) {
		api_error(resp, 400, TS_ERR_INVALID_REQUEST, "the body must be a JSON object with \"path\"");
		goto out;
	}
	if (ts_admin_check_known(req->json, known, "the request", err, sizeof(err)) != TS_OK) {
		api_error(resp, 400, TS_ERR_INVALID_REQUEST, err);
		goto out;
	}
	path = json_string_value(json_object_get(req->json, "path"));
	shop = id_member(req, "shop_id", &bad);
	merchant = id_member(req, "merchant_id", &bad);
	if (path == NULL || path[0] != '/' || bad) {
		api_error(resp, 400, TS_ERR_INVALID_REQUEST,
			  "\"path\" must be a Shopee API path; shop_id and merchant_id are ids");
		goto out;
	}
	r = ts_vault_provider_load(rc->app->vault, rc->tenant->id, c->provider, &prov);
	if (r == TS_ESTORE) {
		ts_web_store_unavailable(resp);
		goto out;
	}
	if (r != TS_OK) {
		api_error(resp, 500, TS_ERR_SERVER_ERROR, "the provider cannot be used");
		goto out;
	}
	if (prov->kind != TS_VAULT_SHOPEE) {
		api_error(resp, 400, TS_ERR_INVALID_REQUEST, "only Shopee connections sign requests");
		goto out;
	}
	if (valid_token(rc, resp, &c, &token) != TS_OK)
		goto out;
	meta = json_loads(c->metadata, 0, NULL);
	o = ts_vault_shopee_sign(prov, meta, token, path, shop, merchant, err, sizeof(err));
	if (o == NULL) {
		api_error(resp, 400, TS_ERR_INVALID_REQUEST, err);
		goto out;
	}
	json_answer(resp, 200, o);
	ts_oauth_no_store(resp);
out:
	json_decref(meta);
	ts_free_secret(token);
	ts_vault_provider_free(prov);
	ts_connection_rec_free(c);
	ts_principal_clear(&p);
}

int ts_vault_load_visible(const struct ts_rctx *rc, struct ts_http_req *req,
			  struct ts_http_resp *resp, const struct ts_principal *p,
			  struct ts_connection_rec **out)
{
	return load_visible(rc, req, resp, p, out);
}

int ts_vault_person_may_use(const struct ts_rctx *rc, struct ts_http_resp *resp,
			    const struct ts_principal *p, const struct ts_connection_rec *c)
{
	return person_may_use(rc, resp, p, c);
}
