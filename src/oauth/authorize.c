/* authorize.c: the authorization endpoint (RFC 6749 §3.1, §4.1.1; OpenID
 * Connect Core §3.1.2). The client and redirect URI are checked first and a
 * failure there is shown as a page, never redirected (RFC 6749 §4.1.2.1);
 * every later error goes back to the client with state and iss (RFC 9207).
 * A request that needs the user (login, consent) is saved as pending state
 * and resumed by the login and consent pages. */
#include "oauth.h"

#include "store/store_people.h"
#include "store/store_state.h"
#include "store/store_tokens.h"
#include "wire/ascii.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#define PENDING_TTL_S 600
#define PENDING_KIND "authz"
#define STATE_MAX 2048
#define NONCE_MAX 512
#define URL_MAX 8192
#define CODE_BYTES 32

static const char *const multi_params[] = {TS_P_RESOURCE, NULL};

/* Appends name=value to a redirect URI (which may already have a query). */
static void add_param(struct ts_buf *b, const char *name, const char *value)
{
	ts_buf_appends(b, strchr(b->p ? b->p : "", '?') ? "&" : "?");
	ts_buf_appends(b, name);
	ts_buf_append(b, "=", 1);
	ts_buf_append_urlencoded(b, value);
}

/* RFC 9700 §4.12: the answer to a POST (which may carry the password) is
 * 303, so that no user agent repeats the POST at the next address. */
static void redirect(struct ts_http_resp *resp, struct ts_buf *b, bool posted)
{
	if (b->p == NULL) {
		ts_http_resp_error(resp, 500, TS_ERR_SERVER_ERROR, "redirect too long");
		return;
	}
	ts_http_resp_header(resp, "Location", b->p);
	ts_http_resp_header(resp, "Cache-Control", "no-store");
	ts_http_resp_text(resp, posted ? 303 : 302, "text/plain; charset=utf-8", "", 0);
	ts_buf_clear(b);
}

void ts_authz_error(struct ts_rctx *rc, struct ts_http_resp *resp, const struct ts_authz_req *ar,
		    const char *code, const char *desc)
{
	struct ts_buf b;

	if (ar->device_hash) {
		/* The device learns the outcome by polling; the user gets a page:
		 * their own refusal is an answer like an approval, not an error. */
		if (strcmp(code, TS_ERR_ACCESS_DENIED) == 0) {
			ts_device_decide(rc, ar->device_hash, NULL, 0, false);
			ts_page_error(rc, resp, 200, "Device not connected",
				      "You denied the request. The device was not connected.");
			return;
		}
		ts_page_error(rc, resp, 400, "Device not connected",
			      desc ? desc : "The device request could not be completed.");
		return;
	}

	ts_buf_init(&b, URL_MAX);
	ts_buf_appends(&b, ar->redirect_uri);
	add_param(&b, TS_P_ERROR, code);
	if (desc)
		add_param(&b, TS_P_ERROR_DESCRIPTION, desc);
	if (ar->state)
		add_param(&b, TS_P_STATE, ar->state);
	add_param(&b, TS_P_ISS, rc->issuer); /* RFC 9207 §2 */
	redirect(resp, &b, ar->posted);
}

void ts_authz_used_page(struct ts_rctx *rc, struct ts_http_resp *resp)
{
	ts_page_error(rc, resp, 400, "Request expired",
		      "This request was already answered or has expired. Please return to the "
		      "application and start again.");
}

static json_t *authz_to_json(const struct ts_authz_req *ar)
{
	json_t *o = json_pack("{s:s,s:s,s:s,s:b,s:b,s:b,s:I,s:I,s:I,s:b}", "client_id", ar->client_id,
			      "redirect_uri", ar->redirect_uri, "scope", ar->scope, "prompt_none",
			      ar->prompt_none, "prompt_login", ar->prompt_login, "prompt_consent",
			      ar->prompt_consent, "max_age", (json_int_t)ar->max_age, "created",
			      (json_int_t)ar->created, "login_at", (json_int_t)ar->login_at,
			      "consented", ar->consented);
	if (ar->redirect_uri_sent)
		json_object_set_new(o, "redirect_uri_sent", json_true());
	if (ar->state)
		json_object_set_new(o, "state", json_string(ar->state));
	if (ar->nonce)
		json_object_set_new(o, "nonce", json_string(ar->nonce));
	if (ar->code_challenge)
		json_object_set_new(o, "code_challenge", json_string(ar->code_challenge));
	if (ar->dpop_jkt)
		json_object_set_new(o, "dpop_jkt", json_string(ar->dpop_jkt));
	if (ar->resource_json)
		json_object_set_new(o, "resource", json_string(ar->resource_json));
	if (ar->device_hash)
		json_object_set_new(o, "device", json_string(ar->device_hash));
	return o;
}

static const char *jstr(struct ts_arena *a, const json_t *o, const char *k)
{
	return ts_arena_strdup(a, json_string_value(json_object_get(o, k)));
}

int ts_authz_pending_load(const struct ts_rctx *rc, struct ts_http_req *req, const char *raw_id,
			  struct ts_authz_req *ar)
{
	char h[2 * TS_SHA256_LEN + 1];
	char *tenant = NULL, *kind = NULL, *data = NULL;
	int64_t exp = 0;
	json_t *o = NULL;
	int r;

	memset(ar, 0, sizeof(*ar));
	if (raw_id == NULL || strlen(raw_id) > 128)
		return TS_ENOTFOUND;
	ts_sha256_hex(raw_id, strlen(raw_id), h);
	r = ts_store_pending_get(rc->app->store, h, &tenant, &kind, &data, &exp);
	if (r != TS_OK)
		return r;
	r = TS_ENOTFOUND;
	if (strcmp(tenant, rc->tenant->id) != 0 || strcmp(kind, PENDING_KIND) != 0 ||
	    exp <= ts_now())
		goto out;
	o = json_loads(data, 0, NULL);
	if (!json_is_object(o))
		goto out;
	ar->client_id = jstr(req->arena, o, "client_id");
	ar->redirect_uri = jstr(req->arena, o, "redirect_uri");
	ar->redirect_uri_sent = json_is_true(json_object_get(o, "redirect_uri_sent"));
	ar->scope = jstr(req->arena, o, "scope");
	ar->state = jstr(req->arena, o, "state");
	ar->nonce = jstr(req->arena, o, "nonce");
	ar->code_challenge = jstr(req->arena, o, "code_challenge");
	ar->dpop_jkt = jstr(req->arena, o, "dpop_jkt");
	ar->resource_json = jstr(req->arena, o, "resource");
	ar->prompt_none = json_is_true(json_object_get(o, "prompt_none"));
	ar->prompt_login = json_is_true(json_object_get(o, "prompt_login"));
	ar->prompt_consent = json_is_true(json_object_get(o, "prompt_consent"));
	ar->max_age = json_integer_value(json_object_get(o, "max_age"));
	ar->created = json_integer_value(json_object_get(o, "created"));
	ar->login_at = json_integer_value(json_object_get(o, "login_at"));
	ar->consented = json_is_true(json_object_get(o, "consented"));
	ar->device_hash = jstr(req->arena, o, "device");
	ar->pending_id = ts_arena_strdup(req->arena, raw_id);
	ar->posted = strcmp(req->method, "POST") == 0;
	r = ar->client_id && ar->redirect_uri && ar->scope ? TS_OK : TS_ENOTFOUND;
out:
	json_decref(o);
	free(tenant);
	free(kind);
	free(data);
	return r;
}

int ts_authz_pending_save(const struct ts_rctx *rc, struct ts_http_req *req,
			  struct ts_authz_req *ar)
{
	char raw[64], h[2 * TS_SHA256_LEN + 1];
	const char *known = ar->pending_id;
	json_t *o;
	char *data;
	int r;

	if (known == NULL) {
		r = ts_rand_token(raw, sizeof(raw), 24);
		if (r != TS_OK)
			return r;
		ar->pending_id = ts_arena_strdup(req->arena, raw);
	}
	ts_sha256_hex(ar->pending_id, strlen(ar->pending_id), h);
	o = authz_to_json(ar);
	data = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	/* A saved request is only ever updated, never put back: once used up
	 * (deleted) it stays gone, whatever a concurrent request writes. */
	if (known)
		r = ts_store_pending_update(rc->app->store, h, NULL, data);
	else
		r = ts_store_pending_put(rc->app->store, rc->tenant->id, h, PENDING_KIND, data,
					 ar->created + PENDING_TTL_S);
	free(data);
	return r;
}

static void to_page(struct ts_rctx *rc, struct ts_http_req *req, struct ts_http_resp *resp,
		    struct ts_authz_req *ar, const char *page)
{
	struct ts_buf b;
	int r = ts_authz_pending_save(rc, req, ar);

	if (r == TS_ENOTFOUND) {
		ts_authz_used_page(rc, resp);
		return;
	}
	if (r != TS_OK) {
		ts_page_unavailable(rc, resp);
		ts_http_resp_header(resp, "Retry-After", "2");
		return;
	}
	ts_buf_init(&b, URL_MAX);
	ts_buf_appendf(&b, "%s/%s?" TS_P_REQ "=", rc->issuer, page);
	ts_buf_append_urlencoded(&b, ar->pending_id);
	redirect(resp, &b, ar->posted);
}

static int issue_code(struct ts_rctx *rc, struct ts_http_req *req, struct ts_authz_req *ar,
		      const struct ts_user_rec *user, const struct ts_session_rec *sess,
		      char code[64])
{
	struct ts_code_rec c;
	char h[2 * TS_SHA256_LEN + 1], gid[37];
	int r;

	r = ts_rand_token(code, 64, CODE_BYTES);
	if (r == TS_OK)
		r = ts_rand_uuid(gid);
	if (r != TS_OK)
		return r;
	{
		/* The digest names the tenant: another tenant does not find the
		 * code at all, so it cannot use it up. grant_authorization_code.c agrees. */
		const char *k = ts_arena_printf(req->arena, "%s:%s", rc->tenant->id, code);
		ts_sha256_hex(k, strlen(k), h);
	}
	memset(&c, 0, sizeof(c));
	c.code_hash = h;
	c.tenant_id = rc->tenant->id;
	c.client_id = (char *)ar->client_id;
	c.user_id = user->id;
	c.grant_id = gid;
	/* Only a redirect_uri the request named binds the token request. */
	c.redirect_uri = ar->redirect_uri_sent ? (char *)ar->redirect_uri : NULL;
	c.scope = (char *)ar->scope;
	c.nonce = (char *)ar->nonce;
	c.code_challenge = (char *)ar->code_challenge;
	c.dpop_jkt = (char *)ar->dpop_jkt;
	c.resource = (char *)ar->resource_json;
	c.session_id_hash = sess->id_hash;
	c.auth_time = sess->auth_time;
	c.expires_at = ts_now() + rc->tenant->code_ttl;
	return ts_store_code_put(rc->app->store, &c);
}

/* RFC 6749 §4.1.2 with RFC 9207 iss: the code back to the client. */
static void code_redirect(struct ts_rctx *rc, struct ts_http_resp *resp,
			  const struct ts_authz_req *ar, const char *code)
{
	struct ts_buf b;

	ts_buf_init(&b, URL_MAX);
	ts_buf_appends(&b, ar->redirect_uri);
	add_param(&b, TS_P_CODE, code);
	if (ar->state)
		add_param(&b, TS_P_STATE, ar->state);
	add_param(&b, TS_P_ISS, rc->issuer);
	redirect(resp, &b, ar->posted);
}

/* Uses the pending request up, once: of any number of concurrent answers
 * to it, only the one whose delete succeeds goes on (TS_OK). TS_ENOTFOUND
 * after answering with a page; TS_ESTORE. */
static int use_up(struct ts_rctx *rc, struct ts_http_resp *resp, const struct ts_authz_req *ar)
{
	char h[2 * TS_SHA256_LEN + 1];
	int r;

	if (ar->pending_id == NULL)
		return TS_OK;
	ts_sha256_hex(ar->pending_id, strlen(ar->pending_id), h);
	r = ts_store_pending_delete(rc->app->store, h);
	if (r == TS_ENOTFOUND)
		ts_authz_used_page(rc, resp);
	return r == TS_OK || r == TS_ENOTFOUND ? r : TS_ESTORE;
}

/* Records the approval of a device request and answers with a page;
 * TS_ESTORE (nothing answered) if storage failed. */
static int device_approve(struct ts_rctx *rc, struct ts_http_resp *resp,
			  const struct ts_authz_req *ar, const char *user_id, int64_t auth_time)
{
	int r = ts_device_decide(rc, ar->device_hash, user_id, auth_time, true);

	if (r == TS_ENOTFOUND)
		ts_page_error(rc, resp, 400, "Device request expired",
			      "The code expired. Start again on your device.");
	else if (r == TS_ECONFLICT)
		ts_page_error(rc, resp, 400, "Device request already answered",
			      "This device request was answered already.");
	else if (r == TS_OK)
		ts_page_error(rc, resp, 200, "Device connected", "You can return to your device.");
	return r == TS_OK || r == TS_ENOTFOUND || r == TS_ECONFLICT ? TS_OK : TS_ESTORE;
}

void ts_authz_proceed(struct ts_rctx *rc, struct ts_http_req *req, struct ts_http_resp *resp,
		      struct ts_authz_req *ar, const char *session_id)
{
	const struct ts_client *c = ts_tenant_client(rc->tenant, ar->client_id);
	struct ts_session_rec *sess = NULL;
	struct ts_user_rec *user = NULL;
	const char *raw_sid;
	char *consented = NULL;
	char code[64];
	bool need_login, need_consent;
	int64_t now = ts_now();
	int r;

	if (c == NULL || c->disabled) {
		ts_page_error(rc, resp, 400, "Unknown application", "The application is not registered.");
		return;
	}
	r = ts_session_load(rc, req, session_id, &sess, &user, &raw_sid);
	if (r == TS_ESTORE)
		goto unavailable;
	/* A login done for this very request satisfies prompt=login and max_age. */
	if (r != TS_OK)
		need_login = true;
	else if (ar->login_at >= ar->created && sess->auth_time >= ar->created)
		need_login = false;
	else
		/* OpenID Connect Core §3.1.2.1: max_age=0 is prompt=login (times
		 * are whole seconds, so "elapsed > 0" misses a login this second). */
		need_login = ar->prompt_login || ar->max_age == 0 ||
			     (ar->max_age > 0 && now - sess->auth_time > ar->max_age);
	if (need_login) {
		if (ar->prompt_none)
			ts_authz_error(rc, resp, ar, TS_ERR_LOGIN_REQUIRED, "the user is not signed in");
		else
			to_page(rc, req, resp, ar, "login");
		goto out;
	}
	/* RFC 8628 §5.4: a device is never approved without the user seeing
	 * who asks for what, whatever the client or earlier consents say. */
	need_consent = !ar->consented && (ar->device_hash || ar->prompt_consent || !c->skip_consent);
	if (need_consent && !ar->prompt_consent && !ar->device_hash) {
		r = ts_store_consent_get(rc->app->store, rc->tenant->id, user->id, c->client_id,
					 &consented);
		if (r == TS_ESTORE)
			goto unavailable;
		if (r == TS_OK && ts_scope_covers(rc->tenant, consented, ar->scope))
			need_consent = false;
	}
	if (need_consent) {
		if (ar->prompt_none)
			ts_authz_error(rc, resp, ar, TS_ERR_CONSENT_REQUIRED, "the user has not approved this application");
		else
			to_page(rc, req, resp, ar, "consent");
		goto out;
	}
	r = use_up(rc, resp, ar);
	if (r == TS_ESTORE)
		goto unavailable;
	if (r != TS_OK)
		goto out;
	if (ar->device_hash) {
		if (device_approve(rc, resp, ar, user->id, sess->auth_time) != TS_OK)
			goto unavailable;
		goto out;
	}
	r = issue_code(rc, req, ar, user, sess, code);
	if (r != TS_OK)
		goto unavailable;
	code_redirect(rc, resp, ar, code);
	OPENSSL_cleanse(code, sizeof(code));
	ts_audit_emit(rc->app->audit, rc->tenant->name, "authorization.code_issued", user->id,
		      c->client_id, NULL);
	goto out;
unavailable:
	ts_page_unavailable(rc, resp);
	ts_http_resp_header(resp, "Retry-After", "2");
out:
	free(consented);
	ts_session_rec_free(sess);
	ts_user_rec_free(user);
}

/* RFC 8707: every resource parameter passes the one check shared with the
 * token endpoint; they are kept as a JSON array. false with e filled
 * (invalid_target). */
static bool parse_resources(struct ts_http_req *req, const struct ts_param *v, size_t n,
			    struct ts_authz_req *ar, struct ts_oauth_err *e)
{
	json_t *res = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(v[i].name, TS_P_RESOURCE) != 0)
			continue;
		if (!ts_oauth_resource_ok(v[i].value)) {
			json_decref(res);
			ts_oauth_err_set(e, 400, TS_ERR_INVALID_TARGET,
					 "resource must be an absolute URI of printable ASCII");
			return false;
		}
		if (res == NULL)
			res = json_array();
		json_array_append_new(res, json_string(v[i].value));
	}
	if (res) {
		char *s = json_dumps(res, JSON_COMPACT);
		ar->resource_json = ts_arena_strdup(req->arena, s);
		free(s);
		json_decref(res);
	}
	return true;
}

/* OpenID Connect Core §3.1.2.1 prompt values into ar; NULL, or what is
 * wrong with them. */
static const char *parse_prompt(const char *p, struct ts_authz_req *ar)
{
	while (*p) {
		const char *sp = strchr(p, ' ');
		size_t len = sp ? (size_t)(sp - p) : strlen(p);
		if (len == 4 && strncmp(p, "none", 4) == 0)
			ar->prompt_none = true;
		else if (len == 5 && strncmp(p, "login", 5) == 0)
			ar->prompt_login = true;
		else if (len == 7 && strncmp(p, "consent", 7) == 0)
			ar->prompt_consent = true;
		else if (!(len == 14 && strncmp(p, "select_account", 14) == 0) && len)
			return "unsupported prompt value";
		p += len + (sp ? 1 : 0);
	}
	if (ar->prompt_none && (ar->prompt_login || ar->prompt_consent))
		return "prompt=none cannot be combined with other values";
	return NULL;
}

/* RFC 6749 Appendix A.5: state is VSCHAR (printable ASCII and space); the
 * same for nonce, which is copied into a signed ID token. */
static bool vschar_ok(const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!ts_is_print((unsigned char)s[i]) || i >= max)
			return false;
	return true;
}

/* Checks the parameters after client and redirect URI have been accepted.
 * Returns false with *e filled (the error for the client). */
static bool parse_rest(struct ts_rctx *rc, struct ts_http_req *req, const struct ts_param *v,
		       size_t n, const struct ts_client *c, struct ts_authz_req *ar,
		       struct ts_oauth_err *e)
{
	const char *rt = ts_params_get(v, n, TS_P_RESPONSE_TYPE, NULL);
	const char *method = ts_params_get(v, n, TS_P_CODE_CHALLENGE_METHOD, NULL);
	const char *scope = ts_params_get(v, n, TS_P_SCOPE, NULL);
	const char *prompt = ts_params_get(v, n, TS_P_PROMPT, NULL);
	const char *max_age = ts_params_get(v, n, TS_P_MAX_AGE, NULL);
	const char *rmode = ts_params_get(v, n, TS_P_RESPONSE_MODE, NULL);

	ar->state = ts_params_get(v, n, TS_P_STATE, NULL);
	ar->nonce = ts_params_get(v, n, TS_P_NONCE, NULL);
	ar->code_challenge = ts_params_get(v, n, TS_P_CODE_CHALLENGE, NULL);
	ar->dpop_jkt = ts_params_get(v, n, TS_P_DPOP_JKT, NULL);
	ar->max_age = -1;
	ar->created = ts_now();
	if (ar->state && !vschar_ok(ar->state, STATE_MAX)) {
		/* Never echoed, and never dropped silently either: a client
		 * that checks state must not get a code without it. */
		ar->state = NULL;
		e->desc = "state must be at most 2048 printable ASCII characters";
		goto bad;
	}
	if (!ts_oauth_params_unique(v, n, multi_params, e))
		goto bad;
	if (ts_params_get(v, n, TS_P_REQUEST, NULL)) {
		ts_oauth_err_set(e, 400, "request_not_supported", NULL);
		return false;
	}
	/* A request_uri names a pushed request, which never names another
	 * (RFC 9126 §2.1); the authorization endpoint resolves it before. */
	if (ts_params_get(v, n, TS_P_REQUEST_URI, NULL)) {
		e->desc = "request_uri is not accepted here";
		goto bad;
	}
	if (rt == NULL) {
		e->desc = "response_type is required";
		goto bad;
	}
	if (strcmp(rt, "code") != 0) {
		ts_oauth_err_set(e, 400, TS_ERR_UNSUPPORTED_RESPONSE_TYPE, "only response_type=code is supported");
		return false;
	}
	if (rmode && strcmp(rmode, "query") != 0) {
		e->desc = "only response_mode=query is supported";
		goto bad;
	}
	if (!ts_client_has_grant(c, TS_GRANT_AUTHORIZATION_CODE_S)) {
		ts_oauth_err_set(e, 400, TS_ERR_UNAUTHORIZED_CLIENT, "the client may not use the authorization code grant");
		return false;
	}
	/* RFC 7636 §4.3 and RFC 9700 §2.1.1: S256 only; required for public clients. */
	if (method && strcmp(method, "S256") != 0) {
		e->desc = "code_challenge_method must be S256";
		goto bad;
	}
	if (ar->code_challenge && method == NULL) {
		e->desc = "code_challenge_method must be S256 (plain is not accepted)";
		goto bad;
	}
	if (ar->code_challenge && !ts_pkce_challenge_ok(ar->code_challenge)) {
		e->desc = "code_challenge is not a valid S256 challenge";
		goto bad;
	}
	if (ar->code_challenge == NULL && (!c->confidential || method)) {
		e->desc = "PKCE (code_challenge with S256) is required";
		goto bad;
	}
	if (ar->dpop_jkt && !ts_dpop_jkt_ok(ar->dpop_jkt)) {
		e->desc = "dpop_jkt must be a JWK SHA-256 thumbprint (43 base64url characters)";
		goto bad;
	}
	if (ar->nonce && !vschar_ok(ar->nonce, NONCE_MAX)) {
		e->desc = "nonce must be at most 512 printable ASCII characters";
		goto bad;
	}
	if (prompt && (e->desc = parse_prompt(prompt, ar)) != NULL)
		goto bad;
	if (max_age) {
		char *end;
		long long m = strtoll(max_age, &end, 10);
		if (*max_age == '\0' || *end || m < 0) {
			e->desc = "max_age must be a non-negative integer";
			goto bad;
		}
		ar->max_age = m;
	}
	if (!parse_resources(req, v, n, ar, e))
		return false;
	if (!ts_oauth_scope_grant(rc->tenant, c, scope, req->arena, &ar->scope)) {
		ts_oauth_err_set(e, 400, TS_ERR_INVALID_SCOPE, "a requested scope is not allowed for this client");
		return false;
	}
	return true;
bad:
	ts_oauth_err_set(e, 400, TS_ERR_INVALID_REQUEST, e->desc);
	return false;
}

/* Whether the request asks for openid: named in scope, or, with scope
 * omitted or empty, among the client's scopes (which it then gets). */
static bool openid_request(const struct ts_rctx *rc, struct ts_http_req *req,
			   const struct ts_client *c, const struct ts_param *v, size_t n)
{
	const char *scope = ts_params_get(v, n, TS_P_SCOPE, NULL);
	const char *granted = NULL;

	if (scope && scope[0])
		return ts_scope_has(scope, "openid");
	return ts_oauth_scope_grant(rc->tenant, c, scope, req->arena, &granted) &&
	       ts_scope_has(granted, "openid");
}

int ts_authz_validate(struct ts_rctx *rc, struct ts_http_req *req, const struct ts_client *c,
		      const struct ts_param *v, size_t n, bool pushed, struct ts_authz_req *ar,
		      struct ts_oauth_err *e)
{
	bool dup_uri = false;
	const char *uri = ts_params_get(v, n, TS_P_REDIRECT_URI, &dup_uri);

	memset(ar, 0, sizeof(*ar));
	ar->redirect_uri_sent = uri != NULL;
	if (uri == NULL && c->nredirect_uris == 1)
		uri = c->redirect_uris[0]; /* RFC 6749 §3.1.2.3: the only one registered */
	if (dup_uri || ts_redirect_uri_match(c, uri) == NULL) {
		ts_oauth_err_set(e, 400, TS_ERR_INVALID_REQUEST,
				 "The redirect_uri is not registered for this application.");
		return TS_EINVAL;
	}
	/* OpenID Connect Core §3.1.2.1: an OpenID request names its
	 * redirect_uri; without one it is refused, never redirected. */
	if (!ar->redirect_uri_sent && openid_request(rc, req, c, v, n)) {
		ts_oauth_err_set(e, 400, TS_ERR_INVALID_REQUEST,
				 "An OpenID Connect request must name its redirect_uri.");
		return TS_EINVAL;
	}
	ar->client_id = c->client_id;
	ar->redirect_uri = uri;
	ar->posted = strcmp(req->method, "POST") == 0;
	if (!parse_rest(rc, req, v, n, c, ar, e))
		return TS_EDENIED;
	/* RFC 9126 §5: such a client's requests come only through the push. */
	if (!pushed && c->require_par) {
		ts_oauth_err_set(e, 400, TS_ERR_INVALID_REQUEST,
				 "this client must push its authorization requests");
		return TS_EDENIED;
	}
	return TS_OK;
}

void ts_oauth_authorize(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = ctx;
	const struct ts_param *v = req->query;
	size_t n = req->nquery;
	const struct ts_client *c;
	struct ts_authz_req ar;
	struct ts_oauth_err e = {0};
	bool dup_id = false, pushed = false;
	const char *client_id, *request_uri;
	int r;

	/* OpenID Connect Core §3.1.2.1: POST with a form body is allowed too. */
	if (strcmp(req->method, "POST") == 0) {
		v = req->form;
		n = req->nform;
	}
	client_id = ts_params_get(v, n, TS_P_CLIENT_ID, &dup_id);
	c = ts_tenant_client(rc->tenant, client_id);
	if (client_id == NULL || dup_id || c == NULL || c->disabled) {
		ts_page_error(rc, resp, 400, "Unknown application",
			      "The request names no registered application (client_id).");
		return;
	}
	/* RFC 9126 §4: a pushed request replaces every other parameter. */
	request_uri = ts_params_get(v, n, TS_P_REQUEST_URI, NULL);
	if (request_uri) {
		if (!ts_par_take(rc, req, resp, c, request_uri, &v, &n))
			return;
		pushed = true;
	}
	r = ts_authz_validate(rc, req, c, v, n, pushed, &ar, &e);
	if (r == TS_EINVAL) {
		ts_page_error(rc, resp, 400, "Invalid redirect URI", e.desc);
		return;
	}
	if (r != TS_OK) {
		ts_authz_error(rc, resp, &ar, e.code, e.desc);
		return;
	}
	ts_authz_proceed(rc, req, resp, &ar, NULL);
}
