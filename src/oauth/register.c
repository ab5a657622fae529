/* register.c: dynamic client registration (RFC 7591) and its management
 * protocol (RFC 7592), for tenants that turn it on. Registration needs an
 * initial access token (`tessera client registration-token`), used up by
 * one registration; the metadata become a client spec that goes through
 * the same validation as the bootstrap file (admin/client.c), within a
 * policy of its own: only the authorization code and refresh grants, only
 * the tenant's scopes and the OpenID Connect ones, consent always asked.
 * The registration access token returned with the client is stored as its
 * SHA-256 in the client's configuration and stays the same for the life of
 * the client. */
#include "oauth.h"
#include "admin/admin.h"
#include "store/store_config.h"
#include "store/store_state.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#define REG_TOKEN_KIND "registration"
#define REG_TOKEN_BYTES 32
#define REG_CLIENT_ID_BYTES 16
#define REG_ERR_MAX 256
#define RAT_HASH_KEY "registration_access_token_sha256"
#define REG_ACTOR "registration"
#define REG_LIST_MAX 32
#define REG_CLIENT_ID_PREFIX "reg-"
#define PAR_REQUIRED "require_pushed_authorization_requests"
#define REG_SCOPE_MAX 8192

static const char *const std_scopes[] = {"openid", "profile", "email", "offline_access"};
static const char *const reg_grants[] = {TS_GRANT_AUTHORIZATION_CODE_S, TS_GRANT_REFRESH_TOKEN_S};
static const char *const reg_methods[] = {"client_secret_basic", "client_secret_post",
					  "private_key_jwt", "none"};

int ts_register_token_new(struct ts_store *st, const char *tenant_id, int64_t expires_at,
			  char *out, size_t cap)
{
	char h[2 * TS_SHA256_LEN + 1];
	int r = ts_rand_token(out, cap, REG_TOKEN_BYTES);

	if (r != TS_OK)
		return r;
	ts_sha256_hex(out, strlen(out), h);
	return ts_store_pending_put(st, tenant_id, h, REG_TOKEN_KIND, "{}", expires_at);
}

static bool in_list(const char *s, const char *const *v, size_t n)
{
	size_t i;

	for (i = 0; s && i < n; i++)
		if (strcmp(s, v[i]) == 0)
			return true;
	return false;
}

static bool has(const json_t *a, const char *s)
{
	size_t i;

	for (i = 0; i < json_array_size(a); i++)
		if (ts_str_eq(ts_str_c(json_string_value(json_array_get(a, i))), s))
			return true;
	return false;
}

static void send_err(struct ts_http_resp *resp, int status, const char *code, const char *desc)
{
	json_t *o = json_pack("{s:s}", TS_P_ERROR, code);

	if (desc)
		json_object_set_new(o, TS_P_ERROR_DESCRIPTION, json_string(desc));
	ts_oauth_no_store(resp);
	ts_http_resp_json(resp, status, o);
	json_decref(o);
}

/* RFC 6750 §3.1: a missing or wrong bearer token. */
static void send_token_err(struct ts_http_resp *resp, const char *desc)
{
	send_err(resp, 401, "invalid_token", desc);
	ts_http_resp_header(resp, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
}

/* The registration endpoints exist only where registration is turned on. */
static bool enabled(const struct ts_rctx *rc, struct ts_http_resp *resp)
{
	if (rc->tenant->dynamic_registration)
		return true;
	ts_http_resp_error(resp, 404, "not_found", "no such endpoint");
	return false;
}

/* The requested scope, each value the tenant's or an OpenID Connect one,
 * as a JSON array; NULL with *why set. */
static json_t *reg_scopes(const struct ts_tenant *t, const json_t *md, const char **why)
{
	const json_t *v = json_object_get(md, "scope");
	const char *s = v ? json_string_value(v) : "openid";
	json_t *a = json_array();

	*why = s == NULL ? "scope must be a string" : NULL;
	while (s && *s && *why == NULL) {
		const char *sp = strchr(s, ' ');
		size_t len = sp ? (size_t)(sp - s) : strlen(s);
		char *tok = ts_xstrndup(s, len);
		bool ok = in_list(tok, std_scopes, TS_ARRAY_LEN(std_scopes)) || len == 0;
		size_t i;
		for (i = 0; !ok && i < t->nscopes; i++)
			ok = strcmp(t->scopes[i].name, tok) == 0;
		if (!ok)
			*why = "a requested scope is not offered to registered clients";
		else if (len)
			json_array_append_new(a, json_string(tok));
		free(tok);
		s += len + (sp ? 1 : 0);
	}
	if (*why) {
		json_decref(a);
		return NULL;
	}
	return a;
}

/* A list of strings of md, each in allowed (when given), or def when
 * absent; NULL with *why set. */
static json_t *reg_strings(const json_t *md, const char *key, const char *const *allowed,
			   size_t nallowed, const char *def, const char **why)
{
	const json_t *v = json_object_get(md, key);
	json_t *a;
	size_t i;

	if (v == NULL)
		return json_pack("[s]", def);
	if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > REG_LIST_MAX) {
		*why = "grant_types, response_types and redirect_uris must be non-empty arrays of strings";
		return NULL;
	}
	a = json_array();
	for (i = 0; i < json_array_size(v); i++) {
		const char *s = json_string_value(json_array_get(v, i));
		if (s == NULL || (allowed && !in_list(s, allowed, nallowed))) {
			*why = allowed ? "a grant or response type is not allowed for registered clients"
				       : "grant_types, response_types and redirect_uris must be arrays of strings";
			json_decref(a);
			return NULL;
		}
		json_array_append_new(a, json_string(s));
	}
	return a;
}

/* The redirect URIs: the rule of every client. NULL (with *code and *why)
 * when refused; an empty array when none were given. */
static json_t *reg_redirects(const json_t *md, const char **code, const char **why)
{
	const json_t *v = json_object_get(md, "redirect_uris");
	json_t *a;
	size_t i;

	if (v == NULL)
		return json_array();
	a = reg_strings(md, "redirect_uris", NULL, 0, NULL, why);
	for (i = 0; a && i < json_array_size(a); i++)
		if (!ts_admin_redirect_uri_ok(json_string_value(json_array_get(a, i)))) {
			*why = "a redirect URI must be absolute, without a fragment, and of an allowed scheme";
			json_decref(a);
			a = NULL;
		}
	if (a == NULL)
		*code = *why && strstr(*why, "redirect URI") ? "invalid_redirect_uri"
							     : "invalid_client_metadata";
	return a;
}

/* Turns RFC 7591 metadata into a client spec for client_id; NULL with
 * *code and *why set when the metadata are refused. Unknown metadata are
 * ignored (RFC 7591 §2). */
static json_t *reg_spec(const struct ts_tenant *t, const json_t *md, const char *client_id,
			const char **code, const char **why)
{
	const json_t *m = json_object_get(md, "token_endpoint_auth_method");
	const char *method = m ? json_string_value(m) : "client_secret_basic";
	const json_t *name = json_object_get(md, "client_name");
	json_t *spec = NULL, *redirects, *grants = NULL, *rtypes = NULL, *scopes = NULL;
	static const char *const rt[] = {"code"};

	*code = "invalid_client_metadata";
	*why = NULL;
	redirects = reg_redirects(md, code, why);
	if (redirects == NULL)
		return NULL;
	if (!in_list(method, reg_methods, TS_ARRAY_LEN(reg_methods)))
		*why = "token_endpoint_auth_method is not supported";
	else if (json_object_get(md, "jwks_uri"))
		*why = "jwks_uri is not supported: register the keys as jwks";
	else if (name && !json_is_string(name))
		*why = "client_name must be a string";
	if (*why == NULL)
		grants = reg_strings(md, "grant_types", reg_grants, TS_ARRAY_LEN(reg_grants),
				     TS_GRANT_AUTHORIZATION_CODE_S, why);
	if (*why == NULL)
		rtypes = reg_strings(md, "response_types", rt, TS_ARRAY_LEN(rt), "code", why);
	if (*why == NULL)
		scopes = reg_scopes(t, md, why);
	/* RFC 7591 §2.1: response type code goes with the code grant, which
	 * every registered client has (the refresh grant alone is useless). */
	if (*why == NULL && (!has(grants, TS_GRANT_AUTHORIZATION_CODE_S) || !has(rtypes, "code")))
		*why = "a registered client uses response type code with the authorization_code grant";
	if (*why == NULL) {
		spec = json_pack("{s:s,s:s,s:o,s:O,s:O,s:s}", "client_id", client_id, "type",
				 strcmp(method, "none") == 0 ? "public" : "confidential",
				 "redirect_uris", redirects, "grant_types", grants, "scopes", scopes,
				 "token_endpoint_auth_method", method);
		redirects = NULL;
		if (name)
			json_object_set_new(spec, "name", json_string(json_string_value(name)));
		if (json_object_get(md, "jwks"))
			json_object_set(spec, "jwks", json_object_get(md, "jwks"));
		/* RFC 9126 §6; a value that is no boolean fails validation. */
		if (json_object_get(md, PAR_REQUIRED))
			json_object_set(spec, PAR_REQUIRED, json_object_get(md, PAR_REQUIRED));
	}
	json_decref(redirects);
	json_decref(grants);
	json_decref(rtypes);
	json_decref(scopes);
	return spec;
}

/* What the server registered (RFC 7591 §3.2.1), from a client record;
 * uri is its registration_client_uri. */
static json_t *reg_view(const struct ts_client_rec *r, const char *uri)
{
	json_t *cfg = json_loads(r->config, 0, NULL);
	const json_t *grants = json_object_get(cfg, "grant_types");
	const json_t *scopes = json_object_get(cfg, "scopes");
	const char *method = json_string_value(json_object_get(cfg, "token_endpoint_auth_method"));
	json_t *v, *rtypes = json_array();
	struct ts_buf b;
	size_t i;

	ts_buf_init(&b, REG_SCOPE_MAX);
	for (i = 0; i < json_array_size(scopes); i++) {
		if (i)
			ts_buf_append(&b, " ", 1);
		ts_buf_appends(&b, json_string_value(json_array_get(scopes, i)));
	}
	if (has(grants, TS_GRANT_AUTHORIZATION_CODE_S))
		json_array_append_new(rtypes, json_string("code"));
	v = json_pack("{s:s,s:I,s:O?,s:O?,s:o,s:s,s:s,s:s}", "client_id", r->client_id,
		      "client_id_issued_at", (json_int_t)r->created_at, "redirect_uris",
		      json_object_get(cfg, "redirect_uris"), "grant_types", grants,
		      "response_types", rtypes, "token_endpoint_auth_method",
		      method ? method : r->secret_hash ? "client_secret_basic" : "none", "scope",
		      b.p ? b.p : "", "registration_client_uri", uri);
	ts_buf_clear(&b);
	if (v && json_object_get(cfg, "name"))
		json_object_set(v, "client_name", json_object_get(cfg, "name"));
	if (v && json_object_get(cfg, "jwks"))
		json_object_set(v, "jwks", json_object_get(cfg, "jwks"));
	if (v && json_is_true(json_object_get(cfg, PAR_REQUIRED)))
		json_object_set_new(v, PAR_REQUIRED, json_true());
	if (v && r->secret_hash)
		json_object_set_new(v, "client_secret_expires_at", json_integer(0));
	json_decref(cfg);
	return v;
}

static void unavailable(const struct ts_rctx *rc, struct ts_http_resp *resp)
{
	struct ts_oauth_err e = {0};

	ts_oauth_err_unavailable(&e);
	ts_oauth_err_send(rc, resp, &e);
}

static const char *client_uri(const struct ts_rctx *rc, struct ts_http_req *req, const char *id)
{
	struct ts_buf b;
	const char *s;

	ts_buf_init(&b, TS_HTTP_MAX_URL);
	ts_buf_appendf(&b, "%s/oauth2/register/", rc->issuer);
	ts_buf_append_urlencoded(&b, id);
	s = ts_arena_strdup(req->arena, b.p ? b.p : "");
	ts_buf_clear(&b);
	return s;
}

/* RFC 7592 §2.1, §2.2: a client that does not exist (or no longer does)
 * is answered as for a registration access token that is not valid. */
static void send_gone(struct ts_http_resp *resp)
{
	send_token_err(resp, "the registration access token is not valid for this client");
}

/* Validates spec and saves it as client spec's client_id (with update, only
 * while that client exists); TS_OK with *secret a generated secret (or
 * NULL), TS_EINVAL after answering invalid_client_metadata, TS_ENOTFOUND
 * of an update after answering 401 (the client was deleted), another code
 * after answering 503. */
/* The registering client uses what it was answered at once: this server
 * loads the change before it answers (other servers within the reload
 * interval, as for every configuration change). A failure here leaves it
 * to the next poll. */
static void visible_now(const struct ts_rctx *rc)
{
	if (ts_registry_reload(rc->app->reg, false) != TS_OK)
		ts_log_warn("could not load a registration at once; the next poll will");
}

static int reg_apply(const struct ts_rctx *rc, struct ts_http_resp *resp, const json_t *spec,
		     bool update, char **secret)
{
	struct ts_admin a = {.store = rc->app->store, .public_url = rc->app->public_url,
				.actor = REG_ACTOR};
	char err[REG_ERR_MAX] = "";
	const char *result;
	int r;

	*secret = NULL;
	if (update) {
		r = ts_admin_client_validate(spec, err, sizeof(err));
		if (r != TS_OK) {
			send_err(resp, 400, "invalid_client_metadata", err);
			return TS_EINVAL;
		}
		r = ts_admin_client_update(&a, rc->tenant->name, spec, &result, secret, err,
					   sizeof(err));
	} else {
		r = ts_admin_client_apply(&a, rc->tenant->name, spec, &result, secret, err,
					  sizeof(err));
	}
	if (r == TS_OK)
		visible_now(rc);
	if (r == TS_EINVAL)
		send_err(resp, 400, "invalid_client_metadata", err);
	else if (r == TS_ENOTFOUND && update)
		send_gone(resp);
	else if (r != TS_OK)
		unavailable(rc, resp);
	return r;
}

/* Answers with the client as registered (status 201 or 200), with the
 * secrets just made (either may be NULL). */
static void reg_answer(const struct ts_rctx *rc, struct ts_http_req *req,
		       struct ts_http_resp *resp, const char *id, int status, const char *secret,
		       const char *rat)
{
	struct ts_client_rec *r = NULL;
	json_t *v;
	int got = ts_store_client_get(rc->app->store, rc->tenant->id, id, &r);

	if (got != TS_OK) {
		if (got == TS_ENOTFOUND) /* a delete came first */
			send_gone(resp);
		else
			unavailable(rc, resp);
		return;
	}
	v = reg_view(r, client_uri(rc, req, id));
	if (secret)
		json_object_set_new(v, "client_secret", json_string(secret));
	if (rat)
		json_object_set_new(v, "registration_access_token", json_string(rat));
	ts_oauth_no_store(resp);
	ts_http_resp_json(resp, status, v);
	json_decref(v);
	ts_client_rec_free(r);
}

/* The initial access token of the request, if it is one of this tenant
 * and unspent: TS_OK (h its digest, *exp its expiry), TS_ENOTFOUND,
 * TS_ESTORE. */
static int initial_token(const struct ts_rctx *rc, const struct ts_http_req *req,
			 char h[2 * TS_SHA256_LEN + 1], int64_t *exp_out)
{
	char *tenant = NULL, *kind = NULL, *data = NULL;
	int64_t exp = 0;
	int r;

	if (req->auth.scheme != TS_AUTH_BEARER || req->auth.token == NULL)
		return TS_ENOTFOUND;
	ts_sha256_hex(req->auth.token, strlen(req->auth.token), h);
	r = ts_store_pending_get(rc->app->store, h, &tenant, &kind, &data, &exp);
	if (r == TS_OK && (strcmp(tenant, rc->tenant->id) != 0 ||
			   strcmp(kind, REG_TOKEN_KIND) != 0 || exp <= ts_now()))
		r = TS_ENOTFOUND;
	free(tenant);
	free(kind);
	free(data);
	*exp_out = exp;
	return r == TS_OK || r == TS_ENOTFOUND ? r : TS_ESTORE;
}

void ts_oauth_register(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = ctx;
	char h[2 * TS_SHA256_LEN + 1], id[64], rat[64], rat_h[2 * TS_SHA256_LEN + 1];
	const char *code, *why;
	char err[REG_ERR_MAX] = "";
	char *secret = NULL;
	json_t *spec = NULL;
	int64_t exp = 0;
	int r;

	if (!enabled(rc, resp))
		return;
	r = initial_token(rc, req, h, &exp);
	if (r != TS_OK) {
		if (r == TS_ENOTFOUND)
			send_token_err(resp, "a valid initial access token is required");
		else
			unavailable(rc, resp);
		return;
	}
	if (!json_is_object(req->json)) {
		send_err(resp, 400, "invalid_client_metadata", "the body must be a JSON object");
		return;
	}
	memcpy(id, REG_CLIENT_ID_PREFIX, strlen(REG_CLIENT_ID_PREFIX));
	if (ts_rand_token(id + strlen(REG_CLIENT_ID_PREFIX), sizeof(id) - strlen(REG_CLIENT_ID_PREFIX),
			  REG_CLIENT_ID_BYTES) != TS_OK ||
	    ts_rand_token(rat, sizeof(rat), REG_TOKEN_BYTES) != TS_OK) {
		unavailable(rc, resp);
		return;
	}
	spec = reg_spec(rc->tenant, req->json, id, &code, &why);
	if (spec == NULL) {
		send_err(resp, 400, code, why);
		goto out;
	}
	if (ts_admin_client_validate(spec, err, sizeof(err)) != TS_OK) {
		send_err(resp, 400, "invalid_client_metadata", err);
		goto out;
	}
	/* The token is spent by the one registration whose delete succeeds. */
	r = ts_store_pending_delete(rc->app->store, h);
	if (r != TS_OK) {
		if (r == TS_ENOTFOUND)
			send_token_err(resp, "a valid initial access token is required");
		else
			unavailable(rc, resp);
		goto out;
	}
	ts_sha256_hex(rat, strlen(rat), rat_h);
	json_object_set_new(spec, RAT_HASH_KEY, json_string(rat_h));
	/* A refused registration leaves the token unspent: it goes back
	 * (best effort: storage is failing if that fails too). */
	if (reg_apply(rc, resp, spec, false, &secret) == TS_OK) {
		reg_answer(rc, req, resp, id, 201, secret, rat);
	} else if (ts_store_pending_put(rc->app->store, rc->tenant->id, h, REG_TOKEN_KIND, "{}",
					exp) != TS_OK) {
		ts_log_warn("the initial access token of a refused registration could not be put back");
	}
out:
	OPENSSL_cleanse(rat, sizeof(rat));
	ts_free_secret(secret);
	json_decref(spec);
}

/* The client of {client_id} when the request's bearer token is its
 * registration access token (RFC 7592 §2): *out owned by the caller. false
 * after answering 401 (also for an unknown client, §2.1) or 503. */
static bool managed_client(const struct ts_rctx *rc, const struct ts_http_req *req,
			   struct ts_http_resp *resp, struct ts_client_rec **out, json_t **cfg)
{
	const char *id = req->route_params[0];
	char h[2 * TS_SHA256_LEN + 1];
	const char *want;
	int r;

	*out = NULL;
	*cfg = NULL;
	if (req->auth.scheme != TS_AUTH_BEARER || req->auth.token == NULL || id == NULL) {
		send_token_err(resp, "the registration access token is required");
		return false;
	}
	r = ts_store_client_get(rc->app->store, rc->tenant->id, id, out);
	if (r != TS_OK && r != TS_ENOTFOUND) {
		unavailable(rc, resp);
		return false;
	}
	ts_sha256_hex(req->auth.token, strlen(req->auth.token), h);
	*cfg = r == TS_OK ? json_loads((*out)->config, 0, NULL) : NULL;
	want = json_string_value(json_object_get(*cfg, RAT_HASH_KEY));
	if (want == NULL || strlen(want) != strlen(h) || CRYPTO_memcmp(want, h, strlen(h)) != 0) {
		send_gone(resp);
		ts_client_rec_free(*out);
		json_decref(*cfg);
		*out = NULL;
		*cfg = NULL;
		return false;
	}
	return true;
}

static bool secret_matches(const char *hash, const char *secret)
{
	struct ts_client c;

	memset(&c, 0, sizeof(c));
	c.secret_hash = (char *)hash;
	return hash && ts_client_secret_ok(&c, secret, strlen(secret));
}

/* RFC 7592 §2.2: the metadata replace the client's; its id, its secret
 * (unless it becomes public) and its registration access token stay. */
static void reg_update(struct ts_rctx *rc, struct ts_http_req *req, struct ts_http_resp *resp,
		       const struct ts_client_rec *old, const json_t *oldcfg)
{
	const json_t *md = req->json;
	const char *cid = json_string_value(json_object_get(md, "client_id"));
	const char *csec = json_string_value(json_object_get(md, "client_secret"));
	const char *code, *why;
	char *secret = NULL;
	json_t *spec;

	if (!json_is_object(md) || cid == NULL || strcmp(cid, old->client_id) != 0) {
		send_err(resp, 400, "invalid_client_metadata",
			 "the body must be a JSON object naming this client_id");
		return;
	}
	if (json_object_get(md, "client_secret") && (csec == NULL || !secret_matches(old->secret_hash, csec))) {
		send_err(resp, 400, "invalid_client_metadata", "client_secret is not this client's");
		return;
	}
	spec = reg_spec(rc->tenant, md, old->client_id, &code, &why);
	if (spec == NULL) {
		send_err(resp, 400, code, why);
		return;
	}
	json_object_set(spec, RAT_HASH_KEY, json_object_get(oldcfg, RAT_HASH_KEY));
	if (reg_apply(rc, resp, spec, true, &secret) == TS_OK)
		reg_answer(rc, req, resp, old->client_id, 200, secret, NULL);
	ts_free_secret(secret);
	json_decref(spec);
}

void ts_oauth_register_manage(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = ctx;
	struct ts_client_rec *c = NULL;
	json_t *cfg = NULL;
	int r;

	if (!enabled(rc, resp) || !managed_client(rc, req, resp, &c, &cfg))
		return;
	if (strcmp(req->method, "GET") == 0) {
		reg_answer(rc, req, resp, c->client_id, 200, NULL, NULL);
	} else if (strcmp(req->method, "PUT") == 0) {
		reg_update(rc, req, resp, c, cfg);
	} else {
		r = ts_store_client_delete(rc->app->store, rc->tenant->id, c->client_id);
		if (r == TS_OK || r == TS_ENOTFOUND) {
			struct ts_admin a = {.store = rc->app->store, .public_url = rc->app->public_url,
				.actor = REG_ACTOR};
			if (r == TS_OK) {
				ts_admin_audit(&a, rc->tenant->name, "client.deleted", c->client_id, NULL);
				visible_now(rc);
			}
			ts_oauth_no_store(resp);
			ts_http_resp_text(resp, 204, "text/plain; charset=utf-8", "", 0);
		} else {
			unavailable(rc, resp);
		}
	}
	json_decref(cfg);
	ts_client_rec_free(c);
}
