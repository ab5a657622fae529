/* dpop.c: DPoP proofs (RFC 9449): the checks of §4.3 for the token
 * endpoint and the protected resources, the replay cache (each proof's jti
 * is recorded once in storage, so every server sharing the database refuses
 * its second use) and server nonces (§8, §9) that need no storage: an HMAC
 * over the tenant and a time slot, under a key derived from the master key. */
#include "oauth.h"

#include "store/store_config.h"
#include "store/store_state.h"
#include "store/store_tokens.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#define DPOP_TYP "dpop+jwt"
#define NONCE_LABEL "tessera-dpop-nonce-key-v1"
#define NONCE_BYTES 18
#define NONCE_LEN 24 /* base64url of NONCE_BYTES */
#define ATH_LEN 43   /* base64url of a SHA-256 digest */
#define JKT_LEN 43   /* the same, of a key's RFC 7638 thumbprint */

/* RFC 9449 §4.3 item 5: the jwk must not hold a private key. These are the
 * private members of RSA, EC and OKP keys (RFC 7518 §6.2.2, §6.3.2, RFC
 * 8037 §2) and the symmetric key of "oct" (§6.4.1). */
static const char *const private_members[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};

bool ts_dpop_jkt_ok(const char *s)
{
	unsigned char raw[TS_SHA256_LEN];
	size_t n;

	return s != NULL && strlen(s) == JKT_LEN &&
	       ts_b64url_decode(s, JKT_LEN, raw, sizeof(raw), &n) == TS_OK && n == TS_SHA256_LEN;
}

/* The nonce of tenant_id for time slot slot into out (NONCE_LEN + 1). */
static void nonce_for(const struct ts_rctx *rc, int64_t slot, char out[NONCE_LEN + 1])
{
	unsigned char key[EVP_MAX_MD_SIZE], mac[EVP_MAX_MD_SIZE];
	unsigned int klen = 0, mlen = 0;
	char msg[256];
	int n;

	/* A key of its own, derived from the CSRF key (itself derived from the
	 * master key), so no nonce is ever a valid CSRF token or the reverse. */
	HMAC(EVP_sha256(), rc->app->csrf_key, sizeof(rc->app->csrf_key),
	     (const unsigned char *)NONCE_LABEL, strlen(NONCE_LABEL), key, &klen);
	n = snprintf(msg, sizeof(msg), "%s:%lld", rc->tenant->id, (long long)slot);
	HMAC(EVP_sha256(), key, klen, (const unsigned char *)msg,
	     n > 0 && (size_t)n < sizeof(msg) ? (size_t)n : 0, mac, &mlen);
	ts_b64url_encode(mac, NONCE_BYTES, out, NONCE_LEN + 1);
	OPENSSL_cleanse(key, sizeof(key));
}

const char *ts_dpop_nonce(const struct ts_rctx *rc, struct ts_arena *a)
{
	char n[NONCE_LEN + 1];

	nonce_for(rc, ts_now() / TS_DPOP_NONCE_SLOT_S, n);
	return ts_arena_strdup(a, n);
}

/* A nonce of this slot or the one before: each lives one to two slots. */
static bool nonce_ok(const struct ts_rctx *rc, const char *nonce)
{
	int64_t slot = ts_now() / TS_DPOP_NONCE_SLOT_S;
	char n[NONCE_LEN + 1];
	int i;

	if (nonce == NULL)
		return false;
	for (i = 0; i < 2; i++) {
		nonce_for(rc, slot - i, n);
		if (ts_ct_equal(n, NONCE_LEN, nonce, strlen(nonce)))
			return true;
	}
	return false;
}

/* The URI the proof must name: the origin of the issuer this request
 * addresses (the public URL, never the Host a proxy passed on) and the
 * request's path. Arena string. */
static const char *expected_htu(const struct ts_rctx *rc, struct ts_http_req *req)
{
	const char *s = strstr(rc->issuer, "://");
	const char *slash = s ? strchr(s + 3, '/') : NULL;
	size_t olen = slash ? (size_t)(slash - rc->issuer) : strlen(rc->issuer);

	return ts_arena_printf(req->arena, "%.*s%s", (int)olen, rc->issuer, req->path);
}

/* RFC 9449 §4.3 item 9: htu without its query and fragment. */
static bool htu_ok(const char *htu, const char *want)
{
	size_t n = strcspn(htu, "?#");

	return strlen(want) == n && memcmp(htu, want, n) == 0;
}

/* Items 2 to 7 of RFC 9449 §4.3: one well-formed JWS of type dpop+jwt
 * whose public jwk verifies it. *jws and *key are owned by the caller. */
static const char *proof_signature(const char *proof, struct ts_jws **jws, struct ts_jwk **key,
				   char jkt[44])
{
	const json_t *jwk;
	size_t i;

	if (ts_jws_parse_embedded(proof, strlen(proof), jws) != TS_OK)
		return "the DPoP proof is not a well-formed JWT with an asymmetric algorithm";
	if (ts_jws_typ(*jws) == NULL || strcmp(ts_jws_typ(*jws), DPOP_TYP) != 0)
		return "the DPoP proof's typ must be dpop+jwt";
	jwk = json_object_get(ts_jws_header(*jws), "jwk");
	if (!json_is_object(jwk))
		return "the DPoP proof's header must carry its public key as jwk";
	for (i = 0; i < TS_ARRAY_LEN(private_members); i++)
		if (json_object_get(jwk, private_members[i]))
			return "the DPoP proof's jwk must not hold a private key";
	if (ts_jwk_from_json(jwk, ts_jws_header_alg(*jws), key) != TS_OK)
		return "the DPoP proof's jwk is not a public key for its alg";
	if (ts_jws_verify_foreign(*jws, *key) != TS_OK)
		return "the DPoP proof's signature does not verify";
	if (ts_jwk_thumbprint(*key, jkt) != TS_OK)
		return "the DPoP proof's jwk is not a public key for its alg";
	return NULL;
}

/* Items 8 to 12 of RFC 9449 §4.3, without the nonce and the replay
 * cache: NULL, or why the claims do not fit this request. */
static const char *proof_claims(const struct ts_rctx *rc, struct ts_http_req *req,
				const json_t *cl, const char *token, int64_t now)
{
	const char *jti = json_string_value(json_object_get(cl, "jti"));
	const char *htm = json_string_value(json_object_get(cl, "htm"));
	const char *htu = json_string_value(json_object_get(cl, "htu"));
	const char *ath = json_string_value(json_object_get(cl, "ath"));
	const json_t *iat = json_object_get(cl, "iat");

	if (jti == NULL || jti[0] == '\0' || strlen(jti) > TS_DPOP_JTI_MAX)
		return "the DPoP proof needs a jti of at most 256 characters";
	if (htm == NULL || strcmp(htm, req->method) != 0)
		return "the DPoP proof's htm is not this request's method";
	if (htu == NULL || !htu_ok(htu, expected_htu(rc, req)))
		return "the DPoP proof's htu is not this request's URI";
	if (!json_is_integer(iat) && !json_is_real(iat))
		return "the DPoP proof needs an iat";
	if (json_number_value(iat) < (double)(now - TS_DPOP_IAT_PAST_S) ||
	    json_number_value(iat) > (double)(now + TS_DPOP_IAT_FUTURE_S))
		return "the DPoP proof's iat is outside the accepted window";
	if (token) {
		unsigned char d[TS_SHA256_LEN];
		char want[ATH_LEN + 1];

		/* RFC 9449 §4.3 item 11, §7: the proof covers this very token. */
		ts_sha256(token, strlen(token), d);
		ts_b64url_encode(d, sizeof(d), want, sizeof(want));
		if (ath == NULL || strlen(ath) != ATH_LEN || memcmp(ath, want, ATH_LEN) != 0)
			return "the DPoP proof's ath does not match the access token";
	}
	return NULL;
}

/* Records the proof's jti once; TS_EEXIST for a replay. Kept until the
 * proof's iat has left the window, after which it is refused anyway. */
static int remember(const struct ts_rctx *rc, struct ts_http_req *req, const char *jkt,
		    const char *jti, int64_t iat)
{
	const char *key = ts_arena_printf(req->arena, "dpop:%s:%s", jkt, jti);

	return ts_store_jti_use(rc->app->store, rc->tenant->id, key, iat + TS_DPOP_IAT_PAST_S + 1);
}

int ts_dpop_verify(const struct ts_rctx *rc, struct ts_http_req *req, const char *token,
		   bool nonce_required, char jkt[44], struct ts_oauth_err *e)
{
	const char *proof = ts_http_header(req, TS_DPOP_HEADER);
	struct ts_jws *jws = NULL;
	struct ts_jwk *key = NULL;
	json_t *cl = NULL;
	const char *why;
	const unsigned char *payload;
	size_t plen;
	int64_t now = ts_now();
	int r = TS_EDENIED;

	if (proof == NULL) {
		ts_oauth_err_set(e, 400, TS_ERR_INVALID_DPOP_PROOF, "a DPoP proof is required");
		goto out;
	}
	/* RFC 9449 §4.3 item 1: exactly one proof. */
	if (ts_http_header_count(req, TS_DPOP_HEADER) != 1) {
		ts_oauth_err_set(e, 400, TS_ERR_INVALID_DPOP_PROOF, "a request carries one DPoP header");
		goto out;
	}
	why = proof_signature(proof, &jws, &key, jkt);
	if (why == NULL) {
		payload = ts_jws_payload(jws, &plen);
		cl = json_loadb((const char *)payload, plen, JSON_REJECT_DUPLICATES, NULL);
		why = json_is_object(cl) ? proof_claims(rc, req, cl, token, now)
					 : "the DPoP proof's claims are not a JSON object";
	}
	if (why) {
		ts_oauth_err_set(e, 400, TS_ERR_INVALID_DPOP_PROOF, why);
		goto out;
	}
	if (nonce_required && !nonce_ok(rc, json_string_value(json_object_get(cl, "nonce")))) {
		ts_oauth_err_set(e, 400, TS_ERR_USE_DPOP_NONCE,
				 "the DPoP proof must carry the server's nonce (DPoP-Nonce)");
		goto out;
	}
	r = remember(rc, req, jkt, json_string_value(json_object_get(cl, "jti")),
		     (int64_t)json_number_value(json_object_get(cl, "iat")));
	if (r == TS_EEXIST) {
		ts_oauth_err_set(e, 400, TS_ERR_INVALID_DPOP_PROOF, "the DPoP proof was already used");
		r = TS_EDENIED;
	} else if (r != TS_OK) {
		ts_oauth_err_unavailable(e);
		r = TS_ESTORE;
	}
out:
	json_decref(cl);
	ts_jwk_free(key);
	ts_jws_free(jws);
	return r;
}

int ts_dpop_resource_check(const struct ts_rctx *rc, struct ts_http_req *req, const char *token,
			   const json_t *claims, struct ts_oauth_err *e)
{
	const char *bound = json_string_value(json_object_get(json_object_get(claims, "cnf"), "jkt"));
	char jkt[44];
	int r;

	if (req->auth.scheme != TS_AUTH_DPOP) {
		if (bound == NULL)
			return TS_OK;
		/* RFC 9449 §7.1: a bound token is never accepted as a bearer token. */
		ts_oauth_err_set(e, 401, TS_ERR_INVALID_TOKEN,
				 "the access token is DPoP-bound: present it with the DPoP scheme and a proof");
		return TS_EDENIED;
	}
	if (bound == NULL) {
		ts_oauth_err_set(e, 401, TS_ERR_INVALID_TOKEN, "the access token is not DPoP-bound");
		return TS_EDENIED;
	}
	r = ts_dpop_verify(rc, req, token, false, jkt, e);
	if (r != TS_OK) {
		if (r == TS_EDENIED)
			e->status = 401;
		return r;
	}
	if (strcmp(jkt, bound) != 0) {
		ts_oauth_err_set(e, 401, TS_ERR_INVALID_DPOP_PROOF,
				 "the DPoP proof is signed by another key than the token is bound to");
		return TS_EDENIED;
	}
	return TS_OK;
}

void ts_dpop_challenge(const struct ts_rctx *rc, struct ts_http_resp *resp,
		       const struct ts_oauth_err *e)
{
	ts_http_resp_error(resp, e->status, e->code, e->desc);
	ts_http_resp_header(resp, "WWW-Authenticate",
			    ts_arena_printf(resp->arena,
					    "DPoP realm=\"%s\", algs=\"%s\", error=\"%s\", error_description=\"%s\"",
					    rc->tenant->name, TS_DPOP_ALGS, e->code, e->desc));
	ts_http_resp_header(resp, "Cache-Control", "no-store");
}

const char *ts_dpop_grant_key(struct ts_arena *a, const char *grant_id)
{
	return ts_arena_printf(a, "%s%s", TS_DPOP_GRANT_PREFIX, grant_id);
}

bool ts_dpop_refresh_ok(const struct ts_rctx *rc, const struct ts_refresh_load *l,
			struct ts_oauth_err *e)
{
	/* Not bound: no record, an expired one, or one of another tenant. */
	if (l->pending_tenant == NULL || l->pending_expires_at <= ts_now() ||
	    strcmp(l->pending_tenant, rc->tenant->id) != 0)
		return true;
	if (rc->dpop_jkt == NULL) {
		ts_oauth_err_set(e, 400, TS_ERR_INVALID_DPOP_PROOF,
				 "the refresh token is DPoP-bound: a proof by its key is required");
		return false;
	}
	if (l->pending_data == NULL || strcmp(rc->dpop_jkt, l->pending_data) != 0) {
		ts_oauth_err_set(e, 400, TS_ERR_INVALID_GRANT,
				 "the refresh token is bound to another DPoP key");
		return false;
	}
	return true;
}
