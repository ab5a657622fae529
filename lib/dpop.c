/* dpop.c: DPoP proofs (RFC 9449 §4.3, §7) at a resource server: the proof
 * of a request that presents a DPoP-bound access token, checked against
 * the request's method and URI, the token (ath) and the key the token is
 * bound to (cnf.jkt); each proof's jti is remembered in memory, per
 * verifier, in a bounded table, so a replayed proof is refused. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define DPOP_TYP "dpop+jwt"
#define ATH_LEN 43 /* base64url of a SHA-256 digest */
#define JTI_MAX 256

/* RFC 9449 §4.3 item 5: private members of RSA, EC, OKP and oct keys. */
static const char *const private_members[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};

struct ts_lib_replay_slot {
	unsigned char id[TS_SHA256_LEN]; /* SHA-256 of "jkt:jti" */
	int64_t exp;                     /* Unix seconds; 0: free */
};

struct ts_lib_replay {
	pthread_mutex_t lock;
	struct ts_lib_replay_slot slots[TS_LIB_DPOP_BUCKETS][TS_LIB_DPOP_WAYS];
};

struct ts_lib_replay *ts_lib_replay_new(void)
{
	struct ts_lib_replay *r = ts_calloc(1, sizeof(*r));

	if (r != NULL)
		pthread_mutex_init(&r->lock, NULL);
	return r;
}

void ts_lib_replay_free(struct ts_lib_replay *r)
{
	if (r == NULL)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* Records id until exp: TS_OK the first time, TS_EEXIST for a replay,
 * TS_ETOOBIG when its bucket is full of live proofs (nothing is evicted
 * early, since that would let an evicted proof be replayed). */
static int replay_use(struct ts_lib_replay *r, const unsigned char id[TS_SHA256_LEN], int64_t now,
		      int64_t exp)
{
	size_t b = ((size_t)id[0] << 8 | id[1]) % TS_LIB_DPOP_BUCKETS, i;
	struct ts_lib_replay_slot *free_slot = NULL;
	int rc = TS_ETOOBIG;

	pthread_mutex_lock(&r->lock);
	for (i = 0; i < TS_LIB_DPOP_WAYS; i++) {
		struct ts_lib_replay_slot *s = &r->slots[b][i];
		if (s->exp > now && memcmp(s->id, id, TS_SHA256_LEN) == 0) {
			rc = TS_EEXIST;
			goto out;
		}
		if (s->exp <= now && free_slot == NULL)
			free_slot = s;
	}
	if (free_slot != NULL) {
		memcpy(free_slot->id, id, TS_SHA256_LEN);
		free_slot->exp = exp;
		rc = TS_OK;
	}
out:
	pthread_mutex_unlock(&r->lock);
	return rc;
}

/* The URI without query and fragment has length n. */
static size_t uri_base_len(const char *u)
{
	return strcspn(u, "?#");
}

/* Items 2 to 7 of §4.3 and the binding: a dpop+jwt JWS whose public jwk
 * verifies it and has the thumbprint jkt. NULL, or why not. */
static const char *signature(const char *proof, const char *jkt, struct ts_jws **jws)
{
	struct ts_jwk *key = NULL;
	const json_t *jwk;
	char thumb[44];
	const char *why = NULL;
	size_t i;

	if (ts_jws_parse_embedded(proof, strlen(proof), jws) != TS_OK)
		return "the DPoP proof is not a well-formed JWT with an asymmetric algorithm";
	if (!ts_str_eq(ts_str_c(ts_jws_typ(*jws)), DPOP_TYP))
		return "the DPoP proof's typ must be dpop+jwt";
	jwk = json_object_get(ts_jws_header(*jws), "jwk");
	if (!json_is_object(jwk))
		return "the DPoP proof's header must carry its public key as jwk";
	for (i = 0; i < TS_ARRAY_LEN(private_members); i++)
		if (json_object_get(jwk, private_members[i]) != NULL)
			return "the DPoP proof's jwk must not hold a private key";
	if (ts_jwk_from_json(jwk, ts_jws_header_alg(*jws), &key) != TS_OK)
		return "the DPoP proof's jwk is not a public key for its alg";
	if (ts_jws_verify_foreign(*jws, key) != TS_OK)
		why = "the DPoP proof's signature does not verify";
	else if (ts_jwk_thumbprint(key, thumb) != TS_OK || strcmp(thumb, jkt) != 0)
		why = "the DPoP proof is signed by another key than the token is bound to";
	ts_jwk_free(key);
	return why;
}

/* Items 8 to 12 of §4.3 without the replay check. NULL, or why not. */
static const char *claims_ok(const struct tessera_verifier *v, const json_t *cl,
			     const struct tessera_request *req, const char *token, int64_t now)
{
	const char *jti = json_string_value(json_object_get(cl, "jti"));
	const char *htm = json_string_value(json_object_get(cl, "htm"));
	const char *htu = json_string_value(json_object_get(cl, "htu"));
	const char *ath = json_string_value(json_object_get(cl, "ath"));
	const json_t *iat = json_object_get(cl, "iat");
	unsigned char d[TS_SHA256_LEN];
	char want[ATH_LEN + 1];
	size_t n;

	if (jti == NULL || jti[0] == '\0' || strlen(jti) > JTI_MAX)
		return "the DPoP proof needs a jti of at most 256 characters";
	if (htm == NULL || req->method == NULL || strcmp(htm, req->method) != 0)
		return "the DPoP proof's htm is not this request's method";
	n = htu ? uri_base_len(htu) : 0;
	if (htu == NULL || n != uri_base_len(req->uri) || memcmp(htu, req->uri, n) != 0)
		return "the DPoP proof's htu is not this request's URI";
	if (!json_is_number(iat) || json_number_value(iat) < (double)(now - v->dpop_past_s) ||
	    json_number_value(iat) > (double)(now + TS_LIB_DPOP_FUTURE_S))
		return "the DPoP proof's iat is outside the accepted window";
	ts_sha256(token, strlen(token), d);
	ts_b64url_encode(d, sizeof(d), want, sizeof(want));
	if (ath == NULL || strlen(ath) != ATH_LEN || memcmp(ath, want, ATH_LEN) != 0)
		return "the DPoP proof's ath does not match the access token";
	return NULL;
}

int ts_lib_dpop_check(struct tessera_verifier *v, const struct tessera_request *req,
		      const char *token, const char *jkt, struct tessera_error *err)
{
	struct ts_jws *jws = NULL;
	json_t *cl = NULL;
	const unsigned char *payload;
	unsigned char id[TS_SHA256_LEN];
	struct ts_buf key;
	int64_t now = v->now();
	const char *why;
	size_t plen;
	int rc;

	if (req->dpop == NULL || req->uri == NULL)
		return ts_lib_err_dpop(v, err, "invalid_dpop_proof", "a DPoP proof is required");
	why = signature(req->dpop, jkt, &jws);
	if (why == NULL) {
		payload = ts_jws_payload(jws, &plen);
		cl = json_loadb((const char *)payload, plen, JSON_REJECT_DUPLICATES, NULL);
		why = json_is_object(cl) ? claims_ok(v, cl, req, token, now)
					 : "the DPoP proof's claims are not a JSON object";
	}
	if (why != NULL) {
		rc = ts_lib_err_dpop(v, err, "invalid_dpop_proof", why);
		goto out;
	}
	ts_buf_init(&key, JTI_MAX + 64);
	rc = ts_buf_appendf(&key, "%s:%s", jkt, json_string_value(json_object_get(cl, "jti")));
	if (rc == TS_OK)
		ts_sha256(key.p, key.len, id);
	ts_buf_clear(&key);
	if (rc != TS_OK) {
		rc = ts_lib_err_nomem(err);
		goto out;
	}
	rc = replay_use(v->replay, id, now,
			(int64_t)json_number_value(json_object_get(cl, "iat")) + v->dpop_past_s + 1);
	if (rc == TS_EEXIST)
		rc = ts_lib_err_dpop(v, err, "invalid_dpop_proof", "the DPoP proof was already used");
	else if (rc != TS_OK)
		rc = ts_lib_err_unavailable(err, "too many DPoP proofs at once; retry shortly");
	else
		rc = TESSERA_OK;
out:
	json_decref(cl);
	ts_jws_free(jws);
	return rc;
}
