/* callback.c: GET {issuer}/connect/callback, where a provider sends the
 * browser back (RFC 6749 §4.1.2). It consumes the state made by
 * POST /api/connections (connect.c), exchanges the code and stores the
 * tokens sealed; every failure is an error page and changes nothing. A
 * person's connection completes only in a browser signed in as that
 * person. */
#include "vault_int.h"

#include "web/web.h"
#include "http/params.h"
#include "store/store_people.h"
#include "store/store_state.h"
#include "store/store_vault.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	if (state == NULL || strlen(state) > TS_VAULT_STATE_MAX) {
		ts_page_error(rc, resp, 400, "Connection failed", "The request has no valid state.");
		return TS_EINVAL;
	}
	ts_vault_state_hash(state, hash);
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

	ts_vault_state_hash(state, hash);
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
	ts_buf_init(&back, TS_VAULT_URL_MAX);
	ts_buf_appendf(&back, "%s/login?" TS_P_RETURN "=", rc->issuer);
	ts_buf_append_urlencoded(&back, ts_arena_printf(req->arena, "%s%s", TS_VAULT_CALLBACK_PATH,
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

	code = query(req, TS_P_CODE, &dup);
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
	state = query(req, TS_P_STATE, &dup);
	error = query(req, TS_P_ERROR, &dup);
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
