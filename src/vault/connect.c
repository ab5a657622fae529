/* connect.c: connecting a provider. POST /api/connections creates the
 * connection (or re-authorizes an existing one of the same name) and
 * answers the provider's authorization URL: RFC 6749 §4.1.1 with a fresh
 * state (32 random bytes, stored only as its SHA-256 in pending state bound
 * to the tenant and connection, single use, 10 minutes) and PKCE S256
 * where the provider takes it, or Shopee's signed auth_partner link whose
 * redirect keeps the state. A client-credentials provider is connected at
 * once. The provider sends the browser back to GET
 * {issuer}/connect/callback (callback.c). */
#include "vault_int.h"

#include "api/api.h"
#include "http/members.h"
#include "web/web.h"
#include "oauth/oauth.h"
#include "store/store_state.h"
#include "store/store_vault.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LAUNCH_MAX 2048

static void api_error(struct ts_http_resp *resp, int status, const char *code, const char *desc)
{
	ts_http_resp_error(resp, status, code, desc);
	ts_http_resp_header(resp, "Cache-Control", "no-store");
}

/* Finds the caller's connection of this name or creates it (pending).
 * *created tells which. Answers errors itself. */
static int find_or_create(const struct ts_rctx *rc, struct ts_http_resp *resp,
			  const struct ts_principal *p, const char *provider, const char *name,
			  struct ts_connection_rec **out, bool *created)
{
	const char *owner = p->is_user ? p->sub : NULL;
	struct ts_connection_rec rec;
	char id[37];
	int64_t now = ts_now();
	int r;

	*created = false;
	r = ts_store_connection_find(rc->app->store, rc->tenant->id, owner, name, out);
	if (r == TS_OK) {
		if (strcmp((*out)->provider, provider) != 0) {
			api_error(resp, 409, "conflict",
				  "a connection of this name exists for another provider");
			ts_connection_rec_free(*out);
			*out = NULL;
			return TS_EEXIST;
		}
		return TS_OK;
	}
	if (r != TS_ENOTFOUND) {
		ts_web_store_unavailable(resp);
		return r;
	}
	memset(&rec, 0, sizeof(rec));
	if (ts_rand_uuid(id) != TS_OK) {
		api_error(resp, 500, TS_ERR_SERVER_ERROR, NULL);
		return TS_ECRYPTO;
	}
	rec.id = id;
	rec.tenant_id = rc->tenant->id;
	rec.provider = (char *)provider;
	rec.name = (char *)name;
	rec.owner = (char *)owner;
	rec.created_by = (char *)(p->is_user ? p->sub : p->client_id);
	rec.status = "pending";
	rec.metadata = "{}";
	rec.created_at = now;
	rec.updated_at = now;
	r = ts_store_connection_insert(rc->app->store, &rec);
	if (r == TS_EEXIST) {
		api_error(resp, 409, "conflict", "a connection of this name is being created");
		return r;
	}
	if (r != TS_OK) {
		ts_web_store_unavailable(resp);
		return r;
	}
	*created = true;
	ts_vault_audit(rc->app->vault, rc->tenant->name, "vault.connection_created",
		       rec.created_by, id, json_pack("{s:s,s:s}", "connection", name, "provider",
						     provider));
	return ts_store_connection_get(rc->app->store, rc->tenant->id, id, out);
}

/* Client credentials: fetch the token now and store it. */
static void connect_now(struct ts_rctx *rc, struct ts_http_resp *resp,
			const struct ts_vault_provider *prov, struct ts_connection_rec *c,
			bool created, const char *actor)
{
	struct ts_vault *v = rc->app->vault;
	struct ts_vault_tokens t;
	struct ts_connection_rec *cur = NULL;
	char err[TS_VAULT_ERR_MAX] = "", owner[TS_VAULT_LEASE_ID_MAX];
	int r;

	r = ts_vault_oauth2_client_credentials(v, prov, &t, err, sizeof(err));
	if (r != TS_OK) {
		if (created)
			ts_store_connection_delete(v->store, c->tenant_id, c->id);
		ts_log_warn("vault connection %s: client credentials failed: %s", c->id,
			    err[0] ? err : "no answer");
		api_error(resp, 502, "upstream_error", "the provider did not issue a token");
		return;
	}
	r = ts_vault_lease(v, c->tenant_id, c->id, TS_VAULT_LEASE_WAIT_MS, owner);
	if (r == TS_OK)
		r = ts_store_connection_get(v->store, c->tenant_id, c->id, &cur);
	if (r == TS_OK)
		r = ts_vault_store_tokens(v, cur, prov, &t, ts_now());
	if (r == TS_OK)
		r = ts_store_connection_save(v->store, cur, owner);
	if (r != TS_OK) {
		ts_store_connection_release(v->store, c->tenant_id, c->id, owner);
		ts_web_store_unavailable(resp);
		goto out;
	}
	/* The save released the lease. */
	free(cur->lease_owner);
	cur->lease_owner = NULL;
	cur->lease_until = 0;
	ts_vault_audit(v, rc->tenant->name, "vault.connected", actor, cur->id,
		       json_pack("{s:s,s:s,s:I}", "connection", cur->name, "provider", cur->provider,
				 "expires_at", (json_int_t)cur->expires_at));
	{
		json_t *o = ts_vault_connection_view(cur, ts_now(), false);
		ts_http_resp_json(resp, created ? 201 : 200, o);
		ts_http_resp_header(resp, "Cache-Control", "no-store");
		json_decref(o);
	}
out:
	ts_connection_rec_free(cur);
	ts_vault_tokens_clear(&t);
}

/* Saves the pending state and builds the authorization URL into url. */
static int start_authorization(struct ts_rctx *rc, struct ts_http_req *req,
			       struct ts_http_resp *resp, const struct ts_vault_provider *prov,
			       const struct ts_connection_rec *c, const char *launch,
			       struct ts_buf *url)
{
	struct ts_vault *v = rc->app->vault;
	char state[TS_VAULT_STATE_MAX], verifier[TS_VAULT_STATE_MAX], challenge[TS_VAULT_STATE_MAX];
	char hash[2 * TS_SHA256_LEN + 1], err[TS_VAULT_ERR_MAX] = "";
	unsigned char dig[TS_SHA256_LEN];
	const char *redirect = ts_arena_printf(req->arena, "%s%s", rc->issuer, TS_VAULT_CALLBACK_PATH);
	const char *authz = prov->authorize_url;
	char *sealed_verifier = NULL, *data = NULL;
	json_t *smart = NULL, *pending = NULL;
	bool pkce = prov->kind == TS_VAULT_OAUTH2 && prov->pkce;
	int r;

	if (ts_rand_token(state, sizeof(state), TS_VAULT_STATE_BYTES) != TS_OK ||
	    ts_rand_token(verifier, sizeof(verifier), TS_VAULT_STATE_BYTES) != TS_OK) {
		api_error(resp, 500, TS_ERR_SERVER_ERROR, NULL);
		return TS_ECRYPTO;
	}
	/* RFC 7636 §4.2: challenge = BASE64URL(SHA256(verifier)). */
	ts_sha256(verifier, strlen(verifier), dig);
	ts_b64url_encode(dig, sizeof(dig), challenge, sizeof(challenge));
	if (prov->kind == TS_VAULT_OAUTH2 && prov->fhir_base_url && prov->authorize_url == NULL) {
		r = ts_vault_smart_discover(v, prov, &smart, err, sizeof(err));
		if (r != TS_OK) {
			ts_log_warn("vault provider %s: SMART discovery failed: %s", prov->name, err);
			api_error(resp, 502, "upstream_error",
				  "the FHIR server's SMART configuration could not be used");
			return r;
		}
		authz = json_string_value(json_object_get(smart, "authorization_endpoint"));
	}
	pending = json_pack("{s:s,s:s,s:s}", "connection", c->id, "provider", prov->name,
			    "redirect_uri", redirect);
	if (pkce) {
		r = ts_vault_seal(v, c->tenant_id, c->id, "code_verifier", verifier, &sealed_verifier);
		if (r != TS_OK) {
			api_error(resp, 500, TS_ERR_SERVER_ERROR, NULL);
			goto out;
		}
		json_object_set_new(pending, "code_verifier", json_string(sealed_verifier));
	}
	if (smart)
		json_object_set(pending, "smart", smart);
	data = json_dumps(pending, JSON_COMPACT);
	ts_vault_state_hash(state, hash);
	r = ts_store_pending_put(v->store, c->tenant_id, hash, TS_VAULT_PENDING_KIND, data,
				 ts_now() + TS_VAULT_STATE_TTL);
	if (r != TS_OK) {
		ts_web_store_unavailable(resp);
		goto out;
	}
	if (prov->kind == TS_VAULT_SHOPEE) {
		/* Shopee keeps the redirect as given and appends code and
		 * shop_id (or main_account_id) to it. */
		const char *rd = ts_arena_printf(req->arena, "%s?state=%s", redirect, state);
		r = ts_vault_shopee_auth_url(prov, rd, url);
	} else {
		r = ts_vault_oauth2_authorize_url(prov, authz, redirect, state, pkce ? challenge : NULL,
						  launch, url);
	}
	if (r != TS_OK)
		api_error(resp, 500, TS_ERR_SERVER_ERROR, "the authorization URL could not be built");
out:
	OPENSSL_cleanse(verifier, sizeof(verifier));
	OPENSSL_cleanse(state, sizeof(state));
	free(sealed_verifier);
	free(data);
	json_decref(pending);
	json_decref(smart);
	return r;
}

void ts_vault_api_create(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	static const char *const known[] = {"provider", "name", "launch", NULL};
	struct ts_rctx *rc = ctx;
	struct ts_vault *v = rc->app->vault;
	struct ts_principal p;
	struct ts_vault_provider *prov = NULL;
	struct ts_connection_rec *c = NULL;
	struct ts_buf url;
	const char *pname, *name, *launch;
	char err[TS_VAULT_ERR_MAX] = "";
	bool created = false;
	int r;

	ts_buf_init(&url, TS_VAULT_URL_MAX);
	if (ts_vault_principal(rc, req, resp, TS_VAULT_SCOPE_WRITE, &p) != TS_OK)
		return;
	if (!json_is_object(req->json)) {
		api_error(resp, 400, TS_ERR_INVALID_REQUEST,
			  "the body must be a JSON object with \"provider\" and \"name\"");
		goto out;
	}
	if (ts_admin_check_known(req->json, known, "the request", err, sizeof(err)) != TS_OK) {
		api_error(resp, 400, TS_ERR_INVALID_REQUEST, err);
		goto out;
	}
	pname = json_string_value(json_object_get(req->json, "provider"));
	name = json_string_value(json_object_get(req->json, "name"));
	launch = json_string_value(json_object_get(req->json, "launch"));
	if (!ts_vault_printable(pname, 64) || !ts_vault_printable(name, TS_VAULT_NAME_MAX) ||
	    (json_object_get(req->json, "launch") && !ts_vault_printable(launch, LAUNCH_MAX))) {
		api_error(resp, 400, TS_ERR_INVALID_REQUEST,
			  "\"provider\" and \"name\" must be non-empty strings (name: at most 128 bytes)");
		goto out;
	}
	r = ts_vault_provider_load(v, rc->tenant->id, pname, &prov);
	if (r == TS_ENOTFOUND) {
		api_error(resp, 400, TS_ERR_INVALID_REQUEST, "no provider of that name");
		goto out;
	}
	if (r == TS_ESTORE) {
		ts_web_store_unavailable(resp);
		goto out;
	}
	if (r != TS_OK) {
		api_error(resp, 500, TS_ERR_SERVER_ERROR, "the provider's secret cannot be opened");
		goto out;
	}
	if (launch && prov->fhir_base_url == NULL) {
		api_error(resp, 400, TS_ERR_INVALID_REQUEST, "\"launch\" is for SMART on FHIR providers");
		goto out;
	}
	/* A person's connections are their own authorizations; a
	 * client-credentials provider gives the tenant's machine token. */
	if (p.is_user && prov->kind == TS_VAULT_OAUTH2 && prov->client_credentials) {
		api_error(resp, 403, "forbidden",
			  "a client-credentials provider is connected by a service of the tenant");
		goto out;
	}
	if (find_or_create(rc, resp, &p, pname, name, &c, &created) != TS_OK)
		goto out;
	if (prov->kind == TS_VAULT_OAUTH2 && prov->client_credentials) {
		connect_now(rc, resp, prov, c, created, p.is_user ? p.sub : p.client_id);
		goto out;
	}
	if (start_authorization(rc, req, resp, prov, c, launch, &url) != TS_OK) {
		if (created)
			ts_store_connection_delete(v->store, c->tenant_id, c->id);
		goto out;
	}
	{
		json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:i}", "id", c->id, "name", c->name,
				      "provider", c->provider, "status", c->status,
				      "authorization_url", url.p, TS_J_EXPIRES_IN, TS_VAULT_STATE_TTL);
		ts_http_resp_json(resp, created ? 201 : 200, o);
		ts_http_resp_header(resp, "Cache-Control", "no-store");
		json_decref(o);
	}
out:
	ts_buf_clear(&url);
	ts_connection_rec_free(c);
	ts_vault_provider_free(prov);
	ts_principal_clear(&p);
}

void ts_vault_state_hash(const char *state, char out[2 * TS_SHA256_LEN + 1])
{
	ts_sha256_hex(state, strlen(state), out);
}
