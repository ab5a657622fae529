/* connect.c: connecting a provider. POST /api/connections creates the
 * connection (or re-authorizes an existing one of the same name) and
 * answers the provider's authorization URL: RFC 6749 §4.1.1 with a fresh
 * state (32 random bytes, stored only as its SHA-256 in pending state bound
 * to the tenant and connection, single use, 10 minutes) and PKCE S256
 * where the provider takes it, or Shopee's signed auth_partner link whose
 * redirect keeps the state. A client-credentials provider is connected at
 * once. GET {issuer}/connect/callback consumes the state, exchanges the
 * code and stores the tokens sealed; every failure is an error page and
 * changes nothing. A person's connection completes only in a browser
 * signed in as that person. */
#include "vault_int.h"

#include "api/api.h"
#include "app/app.h"
#include "oauth/oauth.h"
#include "oidc/oidc.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CALLBACK_PATH "/connect/callback"
#define STATE_MAX 64
#define LAUNCH_MAX 2048
#define URL_MAX 16384

static void api_error(struct ts_http_resp *resp, int status, const char *code, const char *desc)
{
	ts_http_resp_error(resp, status, code, desc);
	ts_http_resp_header(resp, "Cache-Control", "no-store");
}

static void state_hash(const char *state, char out[2 * TS_SHA256_LEN + 1])
{
	ts_sha256_hex(state, strlen(state), out);
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
		ts_app_store_unavailable(resp);
		return r;
	}
	memset(&rec, 0, sizeof(rec));
	if (ts_rand_uuid(id) != TS_OK) {
		api_error(resp, 500, "server_error", NULL);
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
		ts_app_store_unavailable(resp);
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
		ts_app_store_unavailable(resp);
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
	char state[STATE_MAX], verifier[STATE_MAX], challenge[STATE_MAX];
	char hash[2 * TS_SHA256_LEN + 1], err[TS_VAULT_ERR_MAX] = "";
	unsigned char dig[TS_SHA256_LEN];
	const char *redirect = ts_arena_printf(req->arena, "%s%s", rc->issuer, CALLBACK_PATH);
	const char *authz = prov->authorize_url;
	char *sealed_verifier = NULL, *data = NULL;
	json_t *smart = NULL, *pending = NULL;
	bool pkce = prov->kind == TS_VAULT_OAUTH2 && prov->pkce;
	int r;

	if (ts_rand_token(state, sizeof(state), TS_VAULT_STATE_BYTES) != TS_OK ||
	    ts_rand_token(verifier, sizeof(verifier), TS_VAULT_STATE_BYTES) != TS_OK) {
		api_error(resp, 500, "server_error", NULL);
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
			api_error(resp, 500, "server_error", NULL);
			goto out;
		}
		json_object_set_new(pending, "code_verifier", json_string(sealed_verifier));
	}
	if (smart)
		json_object_set(pending, "smart", smart);
	data = json_dumps(pending, JSON_COMPACT);
	state_hash(state, hash);
	r = ts_store_pending_put(v->store, c->tenant_id, hash, TS_VAULT_PENDING_KIND, data,
				 ts_now() + TS_VAULT_STATE_TTL);
	if (r != TS_OK) {
		ts_app_store_unavailable(resp);
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
		api_error(resp, 500, "server_error", "the authorization URL could not be built");
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

	ts_buf_init(&url, URL_MAX);
	if (ts_vault_principal(rc, req, resp, TS_VAULT_SCOPE_WRITE, &p) != TS_OK)
		return;
	if (!json_is_object(req->json)) {
		api_error(resp, 400, "invalid_request",
			  "the body must be a JSON object with \"provider\" and \"name\"");
		goto out;
	}
	if (ts_admin_check_known(req->json, known, "the request", err, sizeof(err)) != TS_OK) {
		api_error(resp, 400, "invalid_request", err);
		goto out;
	}
	pname = json_string_value(json_object_get(req->json, "provider"));
	name = json_string_value(json_object_get(req->json, "name"));
	launch = json_string_value(json_object_get(req->json, "launch"));
	if (!ts_vault_printable(pname, 64) || !ts_vault_printable(name, TS_VAULT_NAME_MAX) ||
	    (json_object_get(req->json, "launch") && !ts_vault_printable(launch, LAUNCH_MAX))) {
		api_error(resp, 400, "invalid_request",
			  "\"provider\" and \"name\" must be non-empty strings (name: at most 128 bytes)");
		goto out;
	}
	r = ts_vault_provider_load(v, rc->tenant->id, pname, &prov);
	if (r == TS_ENOTFOUND) {
		api_error(resp, 400, "invalid_request", "no provider of that name");
		goto out;
	}
	if (r == TS_ESTORE) {
		ts_app_store_unavailable(resp);
		goto out;
	}
	if (r != TS_OK) {
		api_error(resp, 500, "server_error", "the provider's secret cannot be opened");
		goto out;
	}
	if (launch && prov->fhir_base_url == NULL) {
		api_error(resp, 400, "invalid_request", "\"launch\" is for SMART on FHIR providers");
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
				      "authorization_url", url.p, "expires_in", TS_VAULT_STATE_TTL);
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

/* ---- the callback ---- */

static const char *query(struct ts_http_req *req, const char *name, bool *dup)
{
	bool d = false;
	const char *v = ts_params_get(req->query, req->nquery, name, &d);

	*dup = *dup || d;
	return v;
}

/* Reads the state without using it up: it must be this tenant's, unexpired
 * and not used yet. *data (new reference) is what start_authorization
 * saved. Answers an error page itself. */
static int peek_state(struct ts_rctx *rc, struct ts_http_resp *resp, const char *state,
		      json_t **data)
{
	char hash[2 * TS_SHA256_LEN + 1];
	char *tenant_id = NULL, *kind = NULL, *text = NULL;
	int64_t expires_at = 0;
	int r;

	*data = NULL;
	if (state == NULL || strlen(state) > STATE_MAX) {
		ts_page_error(rc, resp, 400, "Connection failed", "The request has no valid state.");
		return TS_EINVAL;
	}
	state_hash(state, hash);
	r = ts_store_pending_get(rc->app->store, hash, &tenant_id, &kind, &text, &expires_at);
	if (r == TS_ESTORE) {
		ts_page_error(rc, resp, 503, "Connection failed",
			      "The service is temporarily unavailable. Please try again.");
		goto out;
	}
	if (r != TS_OK || strcmp(tenant_id, rc->tenant->id) != 0 ||
	    strcmp(kind, TS_VAULT_PENDING_KIND) != 0) {
		ts_page_error(rc, resp, 400, "Connection failed",
			      "This authorization link is unknown or was already used. Start the "
			      "connection again.");
		r = TS_EINVAL;
		goto out;
	}
	if (expires_at < ts_now()) {
		ts_store_pending_delete(rc->app->store, hash);
		ts_page_error(rc, resp, 400, "Connection failed",
			      "This authorization link has expired. Start the connection again.");
		r = TS_EINVAL;
		goto out;
	}
	*data = json_loads(text, 0, NULL);
	if (!json_is_object(*data)) {
		json_decref(*data);
		*data = NULL;
		ts_page_error(rc, resp, 400, "Connection failed", "The authorization state is damaged.");
		r = TS_EINVAL;
	}
out:
	free(tenant_id);
	free(kind);
	free(text);
	return r;
}

/* Uses the state up. Single use: of two callbacks with the same state, one
 * deletes it and the other is refused here. */
static int take_state(struct ts_rctx *rc, struct ts_http_resp *resp, const char *state)
{
	char hash[2 * TS_SHA256_LEN + 1];
	int r;

	state_hash(state, hash);
	r = ts_store_pending_delete(rc->app->store, hash);
	if (r == TS_ESTORE)
		ts_page_error(rc, resp, 503, "Connection failed",
			      "The service is temporarily unavailable. Please try again.");
	else if (r != TS_OK)
		ts_page_error(rc, resp, 400, "Connection failed",
			      "This authorization link was already used. Start the connection again.");
	return r;
}

/* The callback of a person's connection completes only in a browser signed
 * in as that person: without a session the browser goes through the login
 * page and comes back here (the state stays unused); another person's
 * session is refused and the state used up, so the code that came with it
 * can never complete the connection. TS_OK to go on; otherwise resp holds
 * the answer. */
static int owner_present(struct ts_rctx *rc, struct ts_http_req *req, struct ts_http_resp *resp,
			 const struct ts_connection_rec *c, const char *state)
{
	struct ts_session_rec *s = NULL;
	struct ts_user_rec *u = NULL;
	const char *sid, *q;
	struct ts_buf back;
	int r;

	if (c->owner == NULL)
		return TS_OK;
	r = ts_session_load(rc, req, NULL, &s, &u, &sid);
	if (r == TS_ESTORE) {
		ts_page_error(rc, resp, 503, "Connection failed",
			      "The service is temporarily unavailable. Please try again.");
		return r;
	}
	if (r == TS_OK) {
		r = strcmp(u->id, c->owner) == 0 ? TS_OK : TS_EDENIED;
		ts_session_rec_free(s);
		ts_user_rec_free(u);
		if (r == TS_OK)
			return r;
		take_state(rc, resp, state);
		ts_vault_audit(rc->app->vault, rc->tenant->name, "vault.callback_refused", "callback",
			       c->id, json_pack("{s:s,s:s}", "connection", c->name, "provider",
						c->provider));
		ts_page_error(rc, resp, 403, "Connection refused",
			      "This connection was started by someone else. Nothing was changed.");
		return r;
	}
	q = strchr(req->raw_target ? req->raw_target : "", '?');
	ts_buf_init(&back, URL_MAX);
	ts_buf_appendf(&back, "%s/login?return=", rc->issuer);
	ts_buf_append_urlencoded(&back, ts_arena_printf(req->arena, "%s%s", CALLBACK_PATH,
							 q ? q : "?"));
	if (back.p == NULL) {
		ts_page_error(rc, resp, 400, "Connection failed", "The request is too long.");
		return TS_ETOOBIG;
	}
	ts_http_resp_header(resp, "Location", back.p);
	ts_http_resp_header(resp, "Cache-Control", "no-store");
	ts_http_resp_text(resp, 303, "text/plain; charset=utf-8", "", 0);
	ts_buf_clear(&back);
	return TS_EDENIED;
}

/* Exchanges the callback's code for tokens. */
static int exchange(struct ts_rctx *rc, struct ts_http_req *req, struct ts_http_resp *resp,
		    const struct ts_vault_provider *prov, const struct ts_connection_rec *c,
		    const json_t *data, struct ts_vault_tokens *t)
{
	struct ts_vault *v = rc->app->vault;
	const char *code, *shop, *main_acct, *sealed, *token_url = prov->token_url;
	char err[TS_VAULT_ERR_MAX] = "", *verifier = NULL;
	bool dup = false;
	int r;

	code = query(req, "code", &dup);
	shop = query(req, "shop_id", &dup);
	main_acct = query(req, "main_account_id", &dup);
	if (code == NULL || dup) {
		ts_page_error(rc, resp, 400, "Connection failed", "The provider sent no code.");
		return TS_EINVAL;
	}
	if (prov->kind == TS_VAULT_SHOPEE) {
		if ((shop == NULL) == (main_acct == NULL)) {
			ts_page_error(rc, resp, 400, "Connection failed",
				      "Shopee sent neither shop_id nor main_account_id.");
			return TS_EINVAL;
		}
		r = ts_vault_shopee_exchange(v, prov, code, shop, main_acct, t, err, sizeof(err));
	} else {
		sealed = json_string_value(json_object_get(data, "code_verifier"));
		if (sealed && ts_vault_unseal(v, c->tenant_id, c->id, "code_verifier", sealed,
					      &verifier) != TS_OK) {
			ts_page_error(rc, resp, 400, "Connection failed",
				      "The authorization state cannot be opened.");
			return TS_ECRYPTO;
		}
		if (token_url == NULL)
			token_url = json_string_value(json_object_get(json_object_get(data, "smart"),
								      "token_endpoint"));
		r = ts_vault_oauth2_exchange(v, prov, token_url,
					     code, json_string_value(json_object_get(data, "redirect_uri")),
					     verifier, t, err, sizeof(err));
		ts_free_secret(verifier);
	}
	if (r != TS_OK) {
		ts_log_warn("vault connection %s: code exchange failed: %s", c->id, err);
		ts_page_error(rc, resp, r == TS_EIO ? 502 : 400, "Connection failed",
			      r == TS_EDENIED || r == TS_EINVAL
				      ? "The provider refused the authorization. Start the connection again."
				      : "The provider could not be reached. Start the connection again.");
	}
	return r;
}

/* Clears what a new authorization replaces: the old refresh token and
 * Shopee's ids; keeps SMART's discovered endpoints. */
static void reset_for(struct ts_connection_rec *c, const json_t *data)
{
	json_t *meta = json_loads(c->metadata, 0, NULL);
	static const char *const shopee_ids[] = {"shop_id", "main_account_id", "shop_id_list",
						 "merchant_id_list"};
	size_t i;

	if (!json_is_object(meta)) {
		json_decref(meta);
		meta = json_object();
	}
	for (i = 0; i < TS_ARRAY_LEN(shopee_ids); i++)
		json_object_del(meta, shopee_ids[i]);
	json_object_del(meta, "provider_data");
	if (json_object_get(data, "smart"))
		json_object_set(meta, "smart", json_object_get(data, "smart"));
	free(c->metadata);
	c->metadata = json_dumps(meta, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(meta);
	free(c->refresh_token);
	c->refresh_token = NULL;
	c->refresh_expires_at = 0;
	c->expiry_warned = false;
}

static void success_page(struct ts_rctx *rc, struct ts_http_resp *resp,
			 const struct ts_connection_rec *c)
{
	struct ts_buf b;

	ts_page_begin(rc, resp, &b, "Connected");
	ts_buf_appends(&b, "<p>The connection <strong>");
	ts_html_escape(&b, c->name);
	ts_buf_appends(&b, "</strong> to <strong>");
	ts_html_escape(&b, c->provider);
	ts_buf_appends(&b, "</strong> is ready. You can close this window.</p>");
	ts_page_end(resp, &b, 200);
}

void ts_vault_callback(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = ctx;
	struct ts_vault *v = rc->app->vault;
	struct ts_vault_provider *prov = NULL;
	struct ts_connection_rec *c = NULL;
	struct ts_vault_tokens t;
	json_t *data = NULL;
	char owner[TS_VAULT_LEASE_ID_MAX];
	const char *state, *error, *cid, *pname;
	bool dup = false, leased = false, reauth;
	int r;

	memset(&t, 0, sizeof(t));
	state = query(req, "state", &dup);
	error = query(req, "error", &dup);
	if (dup) {
		ts_page_error(rc, resp, 400, "Connection failed", "The request repeats a parameter.");
		return;
	}
	if (peek_state(rc, resp, state, &data) != TS_OK)
		return;
	cid = json_string_value(json_object_get(data, "connection"));
	pname = json_string_value(json_object_get(data, "provider"));
	r = cid && pname ? ts_store_connection_get(v->store, rc->tenant->id, cid, &c) : TS_ENOTFOUND;
	if (r == TS_OK && strcmp(c->provider, pname) != 0)
		r = TS_ENOTFOUND;
	if (r == TS_OK && owner_present(rc, req, resp, c, state) != TS_OK)
		goto out;
	if (r != TS_ESTORE && take_state(rc, resp, state) != TS_OK)
		goto out;
	if (r == TS_OK && error) {
		/* RFC 6749 §4.1.2.1: the user or the provider said no. */
		ts_page_error(rc, resp, 400, "Connection not authorized",
			      "The provider did not authorize the connection. Nothing was changed.");
		goto out;
	}
	if (r == TS_OK)
		r = ts_vault_provider_load(v, rc->tenant->id, pname, &prov);
	if (r != TS_OK) {
		ts_page_error(rc, resp, r == TS_ESTORE ? 503 : 400, "Connection failed",
			      r == TS_ESTORE ? "The service is temporarily unavailable."
					     : "The connection no longer exists.");
		goto out;
	}
	if (exchange(rc, req, resp, prov, c, data, &t) != TS_OK)
		goto out;
	/* The tokens are written under the refresh lease, like a refresh. */
	r = ts_vault_lease(v, rc->tenant->id, cid, TS_VAULT_LEASE_WAIT_MS, owner);
	leased = r == TS_OK;
	ts_connection_rec_free(c);
	c = NULL;
	if (r == TS_OK)
		r = ts_store_connection_get(v->store, rc->tenant->id, cid, &c);
	if (r == TS_OK) {
		reauth = strcmp(c->status, "pending") != 0;
		reset_for(c, data);
		r = ts_vault_store_tokens(v, c, prov, &t, ts_now());
		if (r == TS_OK)
			r = ts_store_connection_save(v->store, c, owner);
		if (r == TS_OK)
			leased = false;
		if (r == TS_OK)
			ts_vault_audit(v, rc->tenant->name, "vault.connected", "callback", cid,
				       json_pack("{s:s,s:s,s:b,s:I}", "connection", c->name, "provider",
						 c->provider, "reauthorized", reauth, "expires_at",
						 (json_int_t)c->expires_at));
	}
	if (r != TS_OK) {
		ts_page_error(rc, resp, r == TS_ENOTFOUND ? 400 : 503, "Connection failed",
			      r == TS_ENOTFOUND ? "The connection no longer exists."
						: "The tokens could not be stored. Start the connection again.");
		goto out;
	}
	success_page(rc, resp, c);
out:
	if (leased)
		ts_store_connection_release(v->store, rc->tenant->id, cid, owner);
	ts_vault_tokens_clear(&t);
	ts_vault_provider_free(prov);
	ts_connection_rec_free(c);
	json_decref(data);
}
