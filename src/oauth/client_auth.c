/* client_auth.c: client authentication at the token, introspection and
 * revocation endpoints (RFC 6749 §2.3.1): client_secret_basic,
 * client_secret_post, and "none" for public clients where allowed. */
#include "oauth.h"

#include "store/store_config.h"

#include <string.h>
#include <strings.h>

static int deny(const struct ts_rctx *rc, struct ts_oauth_err *err, const char *desc)
{
	if (rc->tenant->stats)
		atomic_fetch_add_explicit(&rc->tenant->stats->client_auth_failures, 1,
					  memory_order_relaxed);
	err->status = 401;
	err->code = TS_ERR_INVALID_CLIENT;
	err->desc = desc;
	err->basic_challenge = true;
	return TS_EDENIED;
}

static int bad_request(struct ts_oauth_err *err, const char *desc)
{
	err->status = 400;
	err->code = TS_ERR_INVALID_REQUEST;
	err->desc = desc;
	return TS_EINVAL;
}

#define ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#define ASSERTION_MAX_LIFETIME_S 600
#define ASSERTION_LEEWAY_S 60

/* Whether an assertion's audience a names this server: the issuer, the
 * token endpoint, or the endpoint the assertion was sent to (RFC 9126 §2
 * for the pushed authorization endpoint; introspection, revocation and
 * device authorization alike, as client libraries address them). */
static bool aud_names_us(const struct ts_rctx *rc, const struct ts_http_req *req,
			 const char *token_ep, const char *a)
{
	static const char *const endpoints[] = {"introspect", "revoke", "par",
						"device_authorization", NULL};
	size_t i, n = strlen(rc->issuer);

	if (a == NULL)
		return false;
	if (strcmp(a, rc->issuer) == 0 || strcmp(a, token_ep) == 0)
		return true;
	if (req->route_name == NULL || strncmp(a, rc->issuer, n) != 0 ||
	    strncmp(a + n, "/oauth2/", 8) != 0)
		return false;
	for (i = 0; endpoints[i]; i++)
		if (strcmp(req->route_name, endpoints[i]) == 0)
			return strcmp(a + n + 8, endpoints[i]) == 0;
	return false;
}

/* private_key_jwt (RFC 7523 §2.2, §3; OpenID Connect Core §9): a JWT signed
 * with one of the client's registered keys, iss = sub = client_id, aud
 * naming this server (aud_names_us), short-lived, and used once (its jti
 * is remembered until it expires). */
static int assertion(const struct ts_rctx *rc, const struct ts_http_req *req, const char *form_id,
		     const struct ts_client **out, struct ts_oauth_err *err)
{
	const char *type = ts_params_get(req->form, req->nform, TS_P_CLIENT_ASSERTION_TYPE, NULL);
	const char *jwt = ts_params_get(req->form, req->nform, TS_P_CLIENT_ASSERTION, NULL);
	const char *token_ep = ts_arena_printf(req->arena, "%s/oauth2/token", rc->issuer);
	const struct ts_client *c;
	struct ts_jws *jws = NULL;
	json_t *claims = NULL;
	const unsigned char *p;
	const char *iss, *sub, *jti;
	const json_t *aud;
	size_t n, i;
	int64_t now = ts_now(), exp;
	bool verified = false, aud_match = false;
	int r = TS_EDENIED;

	if (type == NULL || strcmp(type, ASSERTION_TYPE) != 0 || jwt == NULL)
		return bad_request(err, "client_assertion_type must be " ASSERTION_TYPE);
	if (ts_jws_parse(jwt, strlen(jwt), &jws) != TS_OK)
		return deny(rc, err, "the client assertion is malformed");
	p = ts_jws_payload(jws, &n);
	claims = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, NULL);
	iss = json_string_value(json_object_get(claims, "iss"));
	sub = json_string_value(json_object_get(claims, "sub"));
	jti = json_string_value(json_object_get(claims, "jti"));
	c = ts_tenant_client(rc->tenant, iss);
	if (c == NULL || c->disabled || !c->private_key_jwt || sub == NULL || strcmp(iss, sub) != 0 ||
	    (form_id && strcmp(form_id, iss) != 0)) {
		r = deny(rc, err, "client authentication failed");
		goto out;
	}
	for (i = 0; !verified && i < c->njwks; i++) {
		const char *kid = ts_jws_kid(jws);
		if (kid && strcmp(kid, ts_jwk_kid(c->jwks[i])) != 0)
			continue;
		verified = ts_jws_verify_foreign(jws, c->jwks[i]) == TS_OK;
	}
	aud = json_object_get(claims, "aud");
	if (json_is_string(aud)) {
		aud_match = aud_names_us(rc, req, token_ep, json_string_value(aud));
	} else {
		for (i = 0; i < json_array_size(aud); i++)
			aud_match = aud_match ||
				    aud_names_us(rc, req, token_ep, json_string_value(json_array_get(aud, i)));
	}
	exp = json_is_integer(json_object_get(claims, "exp")) ? json_integer_value(json_object_get(claims, "exp")) : 0;
	if (!verified || !aud_match || jti == NULL || strlen(jti) > 256 || exp <= now ||
	    exp > now + ASSERTION_MAX_LIFETIME_S + ASSERTION_LEEWAY_S ||
	    (json_is_integer(json_object_get(claims, "nbf")) &&
	     json_integer_value(json_object_get(claims, "nbf")) > now + ASSERTION_LEEWAY_S) ||
	    /* Not issued in the future (RFC 7519 §4.1.6). */
	    (json_is_integer(json_object_get(claims, "iat")) &&
	     json_integer_value(json_object_get(claims, "iat")) > now + ASSERTION_LEEWAY_S)) {
		r = deny(rc, err, "client authentication failed");
		goto out;
	}
	{
		/* Single use (RFC 7523 §3 item 7): the jti is remembered with the
		 * revocations, by one insert that only its first use wins, so the
		 * same assertion sent many times at once authenticates once. */
		const char *key = ts_arena_printf(req->arena, "assertion:%s:%s", c->client_id, jti);
		r = ts_store_jti_use(rc->app->store, rc->tenant->id, key, exp);
		if (r == TS_EEXIST) {
			r = deny(rc, err, "the client assertion was already used");
			goto out;
		}
		if (r != TS_OK) {
			ts_oauth_err_unavailable(err);
			r = TS_ESTORE;
			goto out;
		}
	}
	*out = c;
	r = TS_OK;
out:
	json_decref(claims);
	ts_jws_free(jws);
	return r;
}

static int authenticate(const struct ts_rctx *rc, const struct ts_http_req *req,
			bool allow_public, const struct ts_client **out, struct ts_oauth_err *err)
{
	const char *form_id = ts_params_get(req->form, req->nform, TS_P_CLIENT_ID, NULL);
	const char *form_secret = ts_params_get(req->form, req->nform, TS_P_CLIENT_SECRET, NULL);
	const char *id, *secret;
	const struct ts_client *c;

	*out = NULL;
	if (ts_params_get(req->form, req->nform, TS_P_CLIENT_ASSERTION, NULL) ||
	    ts_params_get(req->form, req->nform, TS_P_CLIENT_ASSERTION_TYPE, NULL)) {
		if (req->auth.scheme == TS_AUTH_BASIC || form_secret)
			return bad_request(err, "client authenticated by more than one method");
		return assertion(rc, req, form_id, out, err);
	}
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
		/* A public client has no secret: an empty one (Basic "id:", as
		 * some libraries send) is none, any other is refused. */
		if ((secret != NULL && secret[0] != '\0') || !allow_public)
			return deny(rc, err, "client authentication failed");
		*out = c;
		return TS_OK;
	}
	if (c->private_key_jwt || secret == NULL || !ts_client_secret_ok(c, secret, strlen(secret)))
		return deny(rc, err, "client authentication failed");
	*out = c;
	return TS_OK;
}

int ts_oauth_client_auth(const struct ts_rctx *rc, const struct ts_http_req *req,
			 bool allow_public, const struct ts_client **out, struct ts_oauth_err *err)
{
	const char *id = req->auth.scheme == TS_AUTH_BASIC
				 ? req->auth.user
				 : ts_params_get(req->form, req->nform, TS_P_CLIENT_ID, NULL);
	const char *key = NULL;
	int64_t now = ts_now();
	int retry = 0, r;

	/* Failed authentications are throttled per presented client id, known
	 * or not, so the answers do not tell which clients exist, and per
	 * client address, so that a stranger's wrong secrets never make the
	 * client's right one fail. */
	if (id && strlen(id) <= TS_CLIENT_ID_MAX) {
		key = ts_arena_printf(req->arena, "%s/client:%s/ip:%s", rc->tenant->id, id,
				      req->remote_addr);
		if (ts_throttle_check(rc->app->throttle, key, now, &retry) != TS_OK) {
			*out = NULL;
			err->status = 429;
			err->code = TS_ERR_INVALID_CLIENT;
			err->desc = "too many failed client authentications; retry later";
			err->retry_after = retry;
			return TS_EDENIED;
		}
	}
	r = authenticate(rc, req, allow_public, out, err);
	if (key && r == TS_EDENIED)
		ts_throttle_fail(rc->app->throttle, key, now);
	else if (key && r == TS_OK)
		ts_throttle_reset(rc->app->throttle, key);
	return r;
}
