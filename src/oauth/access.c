/* access.c: checking this tenant's access tokens (RFC 9068) and finding its
 * refresh tokens, for the endpoints built on them: introspection
 * (introspect.c), revocation (revoke.c), UserInfo and the identity API. */
#include "oauth.h"
#include "internal.h"

#include "store/store_config.h"
#include "store/store_tokens.h"

#include <string.h>
#include <strings.h>

#define CLOCK_LEEWAY 60

bool ts_oauth_aud_has(const json_t *aud, const char *want)
{
	size_t i;

	if (json_is_string(aud))
		return strcmp(json_string_value(aud), want) == 0;
	for (i = 0; i < json_array_size(aud); i++)
		if (ts_str_eq(ts_str_c(json_string_value(json_array_get(aud, i))), want))
			return true;
	return false;
}

void ts_access_token_clear(struct ts_access_token *t)
{
	json_decref(t->claims);
	memset(t, 0, sizeof(*t));
}

/* Whether the token can be checked without storage: a client's own token
 * (its subject is its client_id) whose revocation state is in memory. */
static bool memory_answers(const struct ts_rctx *rc, const json_t *claims)
{
	const char *sub = json_string_value(json_object_get(claims, "sub"));
	const char *cid = json_string_value(json_object_get(claims, "client_id"));
	const char *jti = json_string_value(json_object_get(claims, "jti"));
	bool revoked;

	return sub && cid && jti && strcmp(sub, cid) == 0 &&
	       ts_store_revoke_cached(rc->app->store, rc->tenant->id, jti, &revoked) == TS_OK;
}

/* Signature, header and claims; no storage. With memory_only, a token that
 * memory_answers refuses is TS_ENOTFOUND before its signature is checked. */
int ts_oauth_token_verify(const struct ts_rctx *rc, const char *token, bool memory_only,
			  struct ts_access_token *out)
{
	struct ts_jws *jws = NULL;
	const struct ts_signing_key *key;
	const unsigned char *payload;
	const char *typ;
	json_t *claims = NULL;
	size_t plen;
	int64_t now = ts_now(), exp;
	int r = TS_EDENIED;

	memset(out, 0, sizeof(*out));
	if (token == NULL || strlen(token) > TS_JWS_MAX)
		return TS_EDENIED;
	if (ts_jws_parse(token, strlen(token), &jws) != TS_OK)
		goto out;
	payload = ts_jws_payload(jws, &plen);
	claims = json_loadb((const char *)payload, plen, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(claims))
		goto out;
	if (memory_only && !memory_answers(rc, claims)) {
		r = TS_ENOTFOUND;
		goto out;
	}
	key = ts_tenant_key(rc->tenant, ts_jws_kid(jws));
	if (key == NULL || ts_jws_verify(jws, key->jwk) != TS_OK)
		goto out;
	/* RFC 9068 §4: typ must be at+jwt (optionally with the application/ prefix). */
	typ = ts_jws_typ(jws);
	if (typ == NULL || (strcasecmp(typ, "at+jwt") != 0 && strcasecmp(typ, "application/at+jwt") != 0))
		goto out;
	if (!ts_web_issuer_ok(rc->app, rc->tenant, json_string_value(json_object_get(claims, "iss"))))
		goto out;
	if (!json_is_integer(json_object_get(claims, "exp")))
		goto out;
	exp = (int64_t)json_integer_value(json_object_get(claims, "exp"));
	if (exp <= now)
		goto out;
	if (json_is_integer(json_object_get(claims, "nbf")) &&
	    (int64_t)json_integer_value(json_object_get(claims, "nbf")) > now + CLOCK_LEEWAY)
		goto out;
	if (!json_is_string(json_object_get(claims, "jti")))
		goto out;
	out->claims = claims;
	out->jti = json_string_value(json_object_get(claims, "jti"));
	out->client_id = json_string_value(json_object_get(claims, "client_id"));
	out->exp = exp;
	claims = NULL;
	r = TS_OK;
out:
	json_decref(claims);
	ts_jws_free(jws);
	return r;
}

/* A token of a client that is disabled or gone, or issued before the
 * client was created or last disabled, is inactive: the snapshot (reloaded
 * within a second of the change) says so without storage. */
bool ts_oauth_client_active(const struct ts_rctx *rc, const char *client_id, int64_t iat)
{
	const struct ts_client *c = ts_tenant_client(rc->tenant, client_id);

	return c != NULL && !c->disabled && iat >= c->tokens_after;
}

/* TS_OK, TS_EDENIED, TS_ESTORE; with memory_only, TS_ENOTFOUND when the
 * answer would need storage. */
int ts_oauth_token_check(const struct ts_rctx *rc, const char *token, bool memory_only,
			      struct ts_access_token *out)
{
	bool revoked = false;
	int r = ts_oauth_token_verify(rc, token, memory_only, out);

	if (r != TS_OK)
		return r;
	if (!ts_oauth_client_active(rc, out->client_id,
				    json_integer_value(json_object_get(out->claims, "iat")))) {
		ts_access_token_clear(out);
		return TS_EDENIED;
	}
	if (memory_only)
		r = ts_store_revoke_cached(rc->app->store, rc->tenant->id, out->jti, &revoked);
	else
		r = ts_store_revoke_check(rc->app->store, rc->tenant->id, out->jti, &revoked);
	if (r != TS_OK || revoked) {
		ts_access_token_clear(out);
		if (r == TS_ENOTFOUND)
			return TS_ENOTFOUND;
		return r != TS_OK ? TS_ESTORE : TS_EDENIED;
	}
	return TS_OK;
}

int ts_oauth_access_token_check(const struct ts_rctx *rc, const char *token,
				struct ts_access_token *out)
{
	return ts_oauth_token_check(rc, token, false, out);
}

/* A refresh token of this tenant (any state); NULL if unknown. */
int ts_oauth_refresh_find(const struct ts_rctx *rc, const char *token, struct ts_refresh_rec **out)
{
	char h[2 * TS_SHA256_LEN + 1];
	int r;

	*out = NULL;
	if (token == NULL || strlen(token) > 128 || strchr(token, '.'))
		return TS_ENOTFOUND;
	ts_sha256_hex(token, strlen(token), h);
	r = ts_store_refresh_get(rc->app->store, h, out);
	if (r == TS_OK && strcmp((*out)->tenant_id, rc->tenant->id) != 0) {
		ts_refresh_rec_free(*out);
		*out = NULL;
		r = TS_ENOTFOUND;
	}
	return r;
}
