/* issue.c: issuing tokens: RFC 9068 access tokens, OpenID Connect ID tokens
 * (Core §2, §3.1.3.6 at_hash) and rotating refresh tokens, and the token
 * response (RFC 6749 §5.1). Used by every grant; for client credentials it
 * is the hot path: one signature, no storage. */
#include "oauth.h"

#include "http/members.h"
#include "store/store_people.h"
#include "store/store_state.h"
#include "store/store_tokens.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#define CLAIMS_MAX 8192
#define JWT_MAX 16384
#define RESP_MAX 40960
#define JTI_BYTES 16
/* The activity profile's token type claim (its resource servers tell
 * access tokens from others by it). */
#define ACTIVITY_TYPE_CLAIM ",\"type\":\"access\""

static int append_str(struct ts_buf *b, const char *key, const char *val)
{
	int rc = ts_buf_appendf(b, ",\"%s\":\"", key);
	if (rc == TS_OK)
		rc = ts_buf_append_json_escaped(b, val, strlen(val));
	if (rc == TS_OK)
		rc = ts_buf_append(b, "\"", 1);
	return rc;
}

size_t ts_oauth_aud_from_json(struct ts_arena *a, const char *json, const char ***out)
{
	json_t *arr = json ? json_loads(json, 0, NULL) : NULL;
	size_t n = json_is_array(arr) ? json_array_size(arr) : 0, i, k = 0;
	const char **v = ts_arena_alloc(a, (n + 1) * sizeof(char *));

	for (i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(arr, i));
		if (s)
			v[k++] = ts_arena_strdup(a, s);
	}
	json_decref(arr);
	*out = v;
	return k;
}

/* The access token's lifetime in seconds: the tenant's, cut to end at
 * is->exp_max when that is set (an exchanged token never outlives the
 * token it was exchanged for, RFC 8693 §2.1). */
static int64_t access_ttl(const struct ts_tenant *t, const struct ts_issue *is, int64_t now)
{
	if (is->exp_max > 0 && is->exp_max - now < t->access_token_ttl)
		return is->exp_max > now ? is->exp_max - now : 0;
	return t->access_token_ttl;
}

/* Builds and signs an RFC 9068 access token into out. */
static int access_token(const struct ts_rctx *rc, const struct ts_issue *is, int64_t now,
			const char *jti, struct ts_buf *out)
{
	const struct ts_tenant *t = rc->tenant;
	const struct ts_jwk *key = t->signer[t->access_token_alg];
	const char *def_aud = t->audience ? t->audience : rc->issuer;
	const char *const *aud = is->naud ? is->aud : &def_aud;
	size_t naud = is->naud ? is->naud : 1, i;
	bool activity = (t->compat & TS_COMPAT_ACTIVITY) != 0;
	struct ts_buf c;
	int r;

	if (key == NULL) {
		ts_log_err("tenant %s has no usable %s signing key", t->name,
			   ts_jws_alg_name(t->access_token_alg));
		return TS_ECRYPTO;
	}
	ts_buf_init(&c, CLAIMS_MAX);
	r = ts_buf_append(&c, "{\"iss\":\"", 8);
	if (r == TS_OK)
		r = ts_buf_append_json_escaped(&c, rc->issuer, strlen(rc->issuer));
	if (r == TS_OK)
		r = ts_buf_append(&c, "\"", 1);
	if (r == TS_OK)
		r = append_str(&c, "sub", is->user ? is->user->id : is->client->client_id);
	/* The activity profile's services read aud as an array, always. */
	if (r == TS_OK && naud == 1 && !activity) {
		r = append_str(&c, "aud", aud[0]);
	} else if (r == TS_OK) {
		r = ts_buf_appends(&c, ",\"aud\":[");
		for (i = 0; r == TS_OK && i < naud; i++) {
			r = ts_buf_appends(&c, i ? ",\"" : "\"");
			if (r == TS_OK)
				r = ts_buf_append_json_escaped(&c, aud[i], strlen(aud[i]));
			if (r == TS_OK)
				r = ts_buf_append(&c, "\"", 1);
		}
		if (r == TS_OK)
			r = ts_buf_append(&c, "]", 1);
	}
	if (r == TS_OK)
		r = ts_buf_appendf(&c, ",\"exp\":%lld,\"iat\":%lld,\"nbf\":%lld",
				   (long long)(now + access_ttl(t, is, now)), (long long)now, (long long)now);
	if (r == TS_OK)
		r = append_str(&c, "jti", jti);
	if (r == TS_OK)
		r = append_str(&c, "client_id", is->client->client_id);
	if (r == TS_OK && is->scope[0])
		r = append_str(&c, "scope", is->scope);
	if (r == TS_OK && is->user && is->auth_time)
		r = ts_buf_appendf(&c, ",\"auth_time\":%lld", (long long)is->auth_time);
	if (r == TS_OK && is->act_json)
		r = ts_buf_appendf(&c, ",\"act\":%s", is->act_json);
	if (r == TS_OK && activity)
		r = ts_buf_appends(&c, ACTIVITY_TYPE_CLAIM);
	/* RFC 9449 §6.1: the token is bound to the proof's key. */
	if (r == TS_OK && rc->dpop_jkt)
		r = ts_buf_appendf(&c, ",\"cnf\":{\"jkt\":\"%s\"}", rc->dpop_jkt);
	if (r == TS_OK)
		r = ts_buf_append(&c, "}", 1);
	if (r == TS_OK)
		r = ts_jws_sign(key, "at+jwt", c.p, c.len, out);
	ts_buf_clear(&c);
	return r;
}

/* OpenID Connect Core §3.1.3.6: at_hash is the left half of the hash of the
 * access token, with the hash of the ID token's algorithm (SHA-512 for
 * Ed25519, SHA-256 for the others), base64url. */
static void at_hash(enum ts_jws_alg alg, const char *at, char out[64])
{
	unsigned char d[SHA512_DIGEST_LENGTH];
	size_t half;

	if (alg == TS_ALG_EDDSA) {
		SHA512((const unsigned char *)at, strlen(at), d);
		half = SHA512_DIGEST_LENGTH / 2;
	} else {
		SHA256((const unsigned char *)at, strlen(at), d);
		half = SHA256_DIGEST_LENGTH / 2;
	}
	ts_b64url_encode(d, half, out, 64);
}

static int id_token(const struct ts_rctx *rc, const struct ts_issue *is, int64_t now,
		    const char *at, struct ts_buf *out)
{
	enum ts_jws_alg alg = is->client->id_token_alg;
	const struct ts_jwk *key = rc->tenant->signer[alg];
	json_t *claims;
	char ah[64];
	char *text;
	int r;

	if (key == NULL) {
		/* A client's algorithm gets keys when the client is stored; until
		 * this server has loaded them, RS256 serves. */
		ts_log_warn("tenant %s has no %s key for ID tokens; using RS256", rc->tenant->name,
			    ts_jws_alg_name(alg));
		alg = TS_ALG_RS256;
		key = rc->tenant->signer[alg];
		if (key == NULL)
			return TS_ECRYPTO;
	}
	at_hash(alg, at, ah);
	claims = ts_oauth_user_claims(is->user, is->scope);
	json_object_set_new(claims, "iss", json_string(rc->issuer));
	json_object_set_new(claims, "aud", json_string(is->client->client_id));
	json_object_set_new(claims, "azp", json_string(is->client->client_id));
	json_object_set_new(claims, "exp", json_integer(now + TS_ID_TOKEN_TTL));
	json_object_set_new(claims, "iat", json_integer(now));
	json_object_set_new(claims, "auth_time", json_integer(is->auth_time));
	json_object_set_new(claims, "at_hash", json_string(ah));
	if (is->nonce)
		json_object_set_new(claims, "nonce", json_string(is->nonce));
	text = json_dumps(claims, JSON_COMPACT);
	json_decref(claims);
	if (text == NULL)
		return TS_ENOMEM;
	r = ts_jws_sign(key, "JWT", text, strlen(text), out);
	free(text);
	return r;
}

/* Stores the new refresh token (rotating the old one atomically). */
static int refresh_token(struct ts_rctx *rc, const struct ts_issue *is, int64_t now,
			 const char *jti, char raw[64])
{
	struct ts_refresh_rec rec;
	char h[2 * TS_SHA256_LEN + 1];
	int r;

	r = ts_rand_token(raw, 64, TS_REFRESH_BYTES);
	if (r != TS_OK)
		return r;
	ts_sha256_hex(raw, strlen(raw), h);
	memset(&rec, 0, sizeof(rec));
	rec.token_hash = h;
	rec.tenant_id = rc->tenant->id;
	rec.grant_id = (char *)is->grant_id;
	rec.client_id = is->client->client_id;
	rec.user_id = is->user ? is->user->id : NULL;
	rec.scope = (char *)(is->refresh_scope ? is->refresh_scope : is->scope);
	rec.resource = (char *)is->resource_json;
	rec.auth_time = is->auth_time;
	rec.issued_at = now;
	rec.expires_at = now + rc->tenant->refresh_token_ttl;
	if (is->rotate_from == NULL)
		return ts_store_refresh_put(rc->app->store, &rec);
	r = ts_store_refresh_rotate_token(rc->app->store, is->rotate_from, &rec, jti,
					  now + rc->tenant->access_token_ttl);
	/* Already rotated: inside the grace window, a retry replaces the
	 * successor if that was never used. */
	if (r == TS_ECONFLICT && is->reuse_grace > 0)
		r = ts_store_refresh_regrace(rc->app->store, is->rotate_from, now - is->reuse_grace,
					     &rec, jti, now + rc->tenant->access_token_ttl);
	return r;
}

int ts_oauth_issue(struct ts_rctx *rc, struct ts_http_req *req, struct ts_http_resp *resp,
		   const struct ts_issue *is, struct ts_oauth_err *e)
{
	const struct ts_tenant *t = rc->tenant;
	struct ts_buf at, idt, body;
	char jti[32], rt[64] = "";
	int64_t now = ts_now();
	int r;

	(void)req;
	ts_buf_init(&at, JWT_MAX);
	ts_buf_init(&idt, JWT_MAX);
	ts_buf_init(&body, RESP_MAX);
	r = ts_rand_token(jti, sizeof(jti), JTI_BYTES);
	if (r == TS_OK)
		r = access_token(rc, is, now, jti, &at);
	if (r != TS_OK && t->signer[t->access_token_alg] == NULL) {
		/* The master key cannot open the tenant's keys: an operator's
		 * fix, reported by /readyz; clients retry, as for storage. */
		ts_oauth_err_set(e, 503, TS_ERR_TEMPORARILY_UNAVAILABLE,
				 "the signing keys are unavailable");
		goto out;
	}
	if (r != TS_OK) {
		ts_oauth_err_set(e, 500, TS_ERR_SERVER_ERROR, NULL);
		goto out;
	}
	/* The jti is recorded under its grant before anything is answered, so
	 * that revoking the grant reaches this token too (for a refresh, in
	 * the rotation's own transaction: one durable write). */
	if (is->grant_id && !is->rotate_from) {
		r = ts_store_grant_token_add(rc->app->store, t->id, is->grant_id, jti,
					     now + t->access_token_ttl);
		if (r != TS_OK)
			goto store_failed;
	}
	if (is->refresh && is->grant_id && rc->dpop_jkt && !is->client->confidential) {
		/* RFC 9449 §5: a public client's refresh tokens are bound to the
		 * key too; the binding outlives the newest refresh token. */
		r = ts_store_pending_put(rc->app->store, t->id,
					 ts_dpop_grant_key(req->arena, is->grant_id), TS_DPOP_GRANT_KIND,
					 rc->dpop_jkt, now + t->refresh_token_ttl);
		if (r != TS_OK)
			goto store_failed;
	}
	if (is->refresh) {
		r = refresh_token(rc, is, now, jti, rt);
		if (r == TS_ECONFLICT) {
			/* Reuse, or lost a race with another use of the same
			 * refresh token outside the grace window. */
			ts_store_grant_revoke(rc->app->store, t->id, is->grant_id);
			ts_audit_emit(rc->app->audit, t->name, "grant.revoked", is->client->client_id,
				      is->grant_id, "{\"reason\":\"refresh_token_reuse\"}");
			ts_oauth_err_set(e, 400, TS_ERR_INVALID_GRANT, "the refresh token was already used");
			goto out;
		}
		if (r == TS_EDENIED) {
			/* A concurrent retry replaced the successor first. */
			ts_oauth_err_set(e, 400, TS_ERR_INVALID_GRANT, "the refresh token was already used");
			goto out;
		}
		if (r != TS_OK)
			goto store_failed;
	}
	if (is->user && ts_scope_has(is->scope, "openid") && is->issued_token_type == NULL) {
		r = id_token(rc, is, now, at.p, &idt);
		if (r != TS_OK) {
			ts_oauth_err_set(e, 500, TS_ERR_SERVER_ERROR, NULL);
			goto out;
		}
	}
	r = ts_buf_appendf(&body,
			   "{\"" TS_P_ACCESS_TOKEN "\":\"%s\",\"" TS_J_TOKEN_TYPE "\":\"%s\",\"" TS_J_EXPIRES_IN
			   "\":%lld",
			   at.p, rc->dpop_jkt ? "DPoP" : "Bearer", (long long)access_ttl(t, is, now));
	if (r == TS_OK && is->issued_token_type)
		r = append_str(&body, TS_J_ISSUED_TOKEN_TYPE, is->issued_token_type);
	if (r == TS_OK && is->scope[0])
		r = append_str(&body, TS_P_SCOPE, is->scope);
	if (r == TS_OK && rt[0])
		r = append_str(&body, TS_P_REFRESH_TOKEN, rt);
	if (r == TS_OK && idt.p)
		r = append_str(&body, TS_J_ID_TOKEN, idt.p);
	if (r == TS_OK)
		r = ts_buf_append(&body, "}", 1);
	if (r != TS_OK) {
		ts_oauth_err_set(e, 500, TS_ERR_SERVER_ERROR, NULL);
		goto out;
	}
	ts_buf_clear(&resp->body);
	resp->body = body;
	ts_buf_init(&body, 0);
	resp->status = 200;
	resp->content_type = "application/json";
	ts_oauth_no_store(resp);
	if (t->stats)
		atomic_fetch_add_explicit(&t->stats->tokens_issued[is->kind], 1, memory_order_relaxed);
	ts_audit_emit(rc->app->audit, t->name, "token.issued", is->client->client_id, jti,
		      ts_arena_printf(req->arena, "{\"grant_type\":\"%s\"}", ts_grant_kind_name(is->kind)));
	r = TS_OK;
	goto out;
store_failed:
	ts_oauth_err_unavailable(e);
out:
	OPENSSL_cleanse(rt, sizeof(rt));
	ts_buf_clear_secret(&at);
	ts_buf_clear_secret(&idt);
	ts_buf_clear_secret(&body);
	return r;
}

bool ts_oauth_wants_refresh(const struct ts_tenant *t, const struct ts_client *c,
			    const char *scope)
{
	if (!ts_client_has_grant(c, TS_GRANT_REFRESH_TOKEN_S))
		return false;
	/* A tenant with the frappe profile answers as Frappe does: "all openid"
	 * (every scope the client may have) gets a refresh token without naming
	 * offline_access. Any narrower OpenID request keeps the rule below. */
	if (t->refresh_without_offline_access && ts_scope_has(scope, "openid")) {
		size_t i;
		for (i = 0; i < c->nscopes; i++)
			if (!ts_scope_has(scope, c->scopes[i]))
				break;
		if (i == c->nscopes)
			return true;
	}
	/* OpenID Connect Core §11: for an OpenID request only with offline_access. */
	return !ts_scope_has(scope, "openid") || ts_scope_has(scope, "offline_access");
}
