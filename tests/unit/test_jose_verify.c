/* test_jose_verify.c: parsing and verification of compact JWS: the
 * published tokens of RFC 7515 App. A.2/A.3, RFC 7520 §4.1/§4.2 and RFC
 * 8037 A.5 (and their one-bit tampering), the parser's refusals of headers,
 * structure and sizes, the one key a proof may embed, the high-S twin of
 * an ES256 signature, verification failures, algorithm pinning, and the
 * per-thread memory of verified signatures. Tokens with any header are
 * forged with the raw signing primitive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jose/internal.h"
#include "jose/jose.h"
#include "test_jose_fixture.h"

static void b64(struct ts_buf *b, const void *p, size_t n)
{
	char tmp[4096];
	assert_true(ts_b64url_encoded_len(n) < sizeof(tmp));
	ts_b64url_encode(p, n, tmp, sizeof(tmp));
	assert_int_equal(ts_buf_appends(b, tmp), TS_OK);
}

/* Builds "b64(hdr).b64(payload)" and, with a private key k, signs it with
 * the raw primitive, so tokens with any header can carry a valid signature. */
static char *forge(const char *hdr, const char *payload, const struct ts_jwk *k)
{
	struct ts_buf b;
	unsigned char sig[TS_JWS_SIG_MAX];
	size_t siglen = 0;

	ts_buf_init(&b, BUF_MAX);
	b64(&b, hdr, strlen(hdr));
	assert_int_equal(ts_buf_append(&b, ".", 1), TS_OK);
	b64(&b, payload, strlen(payload));
	if (k != NULL) {
		assert_int_equal(ts_jws_sign_input(k, b.p, b.len, sig, &siglen), TS_OK);
	}
	assert_int_equal(ts_buf_append(&b, ".", 1), TS_OK);
	if (k != NULL)
		b64(&b, sig, siglen);
	return ts_buf_take(&b);
}

/* Replaces the signature part of jws with b64(sig). */
static char *with_sig(const char *jws, const unsigned char *sig, size_t n)
{
	struct ts_buf b;
	ts_buf_init(&b, BUF_MAX);
	assert_int_equal(ts_buf_append(&b, jws, (size_t)(strrchr(jws, '.') - jws) + 1), TS_OK);
	b64(&b, sig, n);
	return ts_buf_take(&b);
}

/* The P-256 group order (SEC 2 §2.4.2), for the tests' own n - S. */
#define P256_ORDER_HEX "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551"

/* raw (R || S, 64 bytes) with S replaced by n - S, computed with BIGNUM. */
static void flip_s(const unsigned char raw[64], unsigned char out[64])
{
	BIGNUM *n = NULL, *s = BN_bin2bn(raw + 32, 32, NULL);

	assert_true(BN_hex2bn(&n, P256_ORDER_HEX) > 0);
	assert_non_null(s);
	assert_int_equal(BN_sub(s, n, s), 1);
	memcpy(out, raw, 32);
	assert_int_equal(BN_bn2binpad(s, out + 32, 32), 32);
	BN_free(s);
	BN_free(n);
}

static bool s_is_high(const unsigned char raw[64])
{
	BIGNUM *n = NULL, *s = BN_bin2bn(raw + 32, 32, NULL);
	bool high;

	assert_true(BN_hex2bn(&n, P256_ORDER_HEX) > 0);
	assert_int_equal(BN_rshift1(n, n), 1);
	high = BN_cmp(s, n) > 0;
	BN_free(s);
	BN_free(n);
	return high;
}

/* A published ES256 JWS whose S is high (RFC 7515 A.3's is) is refused as
 * it stands; its low-S twin is returned for the usual checks. */
static char *es256_low_s(const char *jws, const struct ts_jwk *k)
{
	const char *sig = strrchr(jws, '.') + 1;
	unsigned char raw[64], twin[64];
	size_t n = 0;

	assert_int_equal(ts_b64url_decode(sig, strlen(sig), raw, sizeof(raw), &n), TS_OK);
	assert_int_equal(n, 64);
	if (!s_is_high(raw))
		return strdup(jws);
	assert_int_equal(parse_verify(jws, k), TS_EDENIED);
	flip_s(raw, twin);
	return with_sig(jws, twin, 64);
}

/* Published JWS + JWK that must verify, and must stop verifying when one
 * payload bit flips. An ES256 one is taken in its low-S form. */
static void test_rfc_vectors_verify(void **state)
{
	static const char *const files[] = {
		"jose/rfc7515_a2_rs256.json", /* RFC 7515 A.2 */
		"jose/rfc7515_a3_es256.json", /* RFC 7515 A.3 */
		"jose/rfc7520_4_1_rs256.json", /* RFC 7520 §4.1 */
		"jose/rfc8037_ed25519.json",  /* RFC 8037 A.5 */
	};
	size_t i;
	(void)state;
	for (i = 0; i < TS_ARRAY_LEN(files); i++) {
		json_t *v = load_vector(files[i]);
		const json_t *jwk = json_object_get(v, "jwk");
		const char *payload = vstr(v, "payload");
		char *jws = NULL;
		enum ts_jws_alg alg = ts_jws_alg_parse(vstr(v, "alg"));
		struct ts_jwk *k = NULL;
		struct ts_jws *j = NULL;
		const unsigned char *p;
		size_t plen;
		char *bad;

		if (jwk == NULL)
			jwk = json_object_get(v, "jwk_public");
		assert_int_not_equal(alg, TS_ALG_NONE);
		assert_int_equal(ts_jwk_from_json(jwk, alg, &k), TS_OK);
		assert_false(ts_jwk_is_private(k)); /* private members are ignored */
		jws = alg == TS_ALG_ES256 ? es256_low_s(vstr(v, "jws"), k) : strdup(vstr(v, "jws"));
		assert_non_null(jws);
		assert_int_equal(ts_jws_parse(jws, strlen(jws), &j), TS_OK);
		assert_int_equal(ts_jws_header_alg(j), alg);
		p = ts_jws_payload(j, &plen);
		assert_int_equal(plen, strlen(payload));
		assert_memory_equal(p, payload, plen);
		assert_int_equal(ts_jws_verify(j, k), TS_OK);
		ts_jws_free(j);
		/* Flip one bit of the first payload character ('e' <-> 'f' etc.). */
		bad = strdup(jws);
		assert_non_null(bad);
		bad[strchr(bad, '.') - bad + 1] ^= 0x01;
		assert_int_equal(parse_verify(bad, k), TS_EDENIED);
		free(bad);
		free(jws);
		ts_jwk_free(k);
		json_decref(v);
	}
}

static void test_rfc7520_kid_and_use(void **state)
{
	json_t *v = load_vector("jose/rfc7520_4_1_rs256.json");
	const char *jws = vstr(v, "jws");
	struct ts_jwk *k = NULL;
	struct ts_jws *j = NULL;
	(void)state;
	assert_int_equal(ts_jwk_from_json(json_object_get(v, "jwk"), TS_ALG_RS256, &k), TS_OK);
	assert_string_equal(ts_jwk_kid(k), "bilbo.baggins@hobbiton.example");
	assert_int_equal(ts_jws_parse(jws, strlen(jws), &j), TS_OK);
	assert_string_equal(ts_jws_kid(j), "bilbo.baggins@hobbiton.example");
	assert_null(ts_jws_typ(j));
	/* The same key pinned to PS256 refuses the RS256 token. */
	ts_jwk_free(k);
	assert_int_equal(ts_jwk_from_json(json_object_get(v, "jwk"), TS_ALG_PS256, &k), TS_OK);
	assert_int_equal(ts_jws_verify(j, k), TS_EDENIED);
	ts_jws_free(j);
	ts_jwk_free(k);
	json_decref(v);
}

static void test_rfc7520_ps384_refused(void **state)
{
	json_t *v = load_vector("jose/rfc7520_4_2_ps384.json");
	const char *jws = vstr(v, "jws");
	struct ts_jws *j = NULL;
	struct ts_jwk *k = NULL;
	(void)state;
	assert_int_equal(ts_jws_parse(jws, strlen(jws), &j), TS_EINVAL);
	assert_null(j);
	/* Nor can the JWK be pinned to an algorithm we do not implement. */
	json_object_set_new(json_object_get(v, "jwk"), "alg", json_string("PS384"));
	assert_int_equal(ts_jwk_from_json(json_object_get(v, "jwk"), TS_ALG_NONE, &k), TS_EINVAL);
	assert_null(k);
	json_decref(v);
}

/* Each row is a header the parser must refuse even though the token carries
 * a valid signature over it; the control row shows the forging works. */
static void test_parse_refuses_headers(void **state)
{
	static const struct {
		const char *hdr;
		int rc;
	} v[] = {
		{"{\"alg\":\"ES256\"}", TS_OK}, /* control */
		{"{\"alg\":\"none\"}", TS_EINVAL},
		{"{\"alg\":\"None\"}", TS_EINVAL},
		{"{\"alg\":\"HS256\"}", TS_EINVAL},
		{"{\"alg\":\"es256\"}", TS_EINVAL},
		{"{\"alg\":\"ES256\",\"crit\":[\"exp\"]}", TS_EINVAL},
		{"{\"alg\":\"ES256\",\"crit\":[]}", TS_EINVAL},
		{"{\"alg\":\"ES256\",\"jwk\":{\"kty\":\"EC\"}}", TS_EINVAL},
		{"{\"alg\":\"ES256\",\"jku\":\"https://attacker.example/jwks\"}", TS_EINVAL},
		{"{\"alg\":\"ES256\",\"x5u\":\"https://attacker.example/cert\"}", TS_EINVAL},
		{"{\"alg\":\"ES256\",\"x5c\":[\"MIIB\"]}", TS_EINVAL},
		{"{\"alg\":\"ES256\",\"b64\":false}", TS_EINVAL},
		{"{\"alg\":\"ES256\",\"b64\":true}", TS_EINVAL},
		{"{\"typ\":\"JWT\"}", TS_EINVAL},
		{"{\"alg\":null}", TS_EINVAL},
		{"{\"alg\":256}", TS_EINVAL},
		{"{\"alg\":[\"ES256\"]}", TS_EINVAL},
		{"{\"alg\":\"ES256\",\"alg\":\"ES256\"}", TS_EINVAL}, /* duplicate member */
		{"{\"alg\":\"ES256\",\"kid\":7}", TS_EINVAL},
		{"{\"alg\":\"ES256\",\"kid\":"
		 "\"0123456789012345678901234567890123456789012345678901234567890123456789\"}",
		 TS_EINVAL},
		{"{\"alg\":\"ES256\",\"typ\":false}", TS_EINVAL},
		{"[\"ES256\"]", TS_EINVAL},
		{"\"ES256\"", TS_EINVAL},
		{"{\"alg\":\"ES256\"} ", TS_OK},   /* trailing whitespace is JSON */
		{"{\"alg\":\"ES256\"}x", TS_EINVAL}, /* trailing garbage is not */
		{"{\"alg\":\"ES256\"", TS_EINVAL},
		{"{}", TS_EINVAL},
		{"", TS_EINVAL},
	};
	size_t i;
	(void)state;
	for (i = 0; i < TS_ARRAY_LEN(v); i++) {
		char *jws = forge(v[i].hdr, "{\"sub\":\"alice\"}", keys[TS_ALG_ES256]);
		struct ts_jws *j = NULL;
		int rc = ts_jws_parse(jws, strlen(jws), &j);

		if (rc != v[i].rc)
			fail_msg("header %s: got %s, want %s", v[i].hdr, ts_rc_str(rc),
				 ts_rc_str(v[i].rc));
		if (rc == TS_OK)
			assert_int_equal(ts_jws_verify(j, keys[TS_ALG_ES256]), TS_OK);
		else
			assert_null(j);
		ts_jws_free(j);
		free(jws);
	}
}

/* A proof that carries its own key (RFC 9449 §4.2): only "jwk" is let
 * through, and every other refusal of ts_jws_parse stays. */
static void test_parse_embedded_allows_only_jwk(void **state)
{
	static const struct {
		const char *hdr;
		int rc;
	} v[] = {
		{"{\"alg\":\"ES256\",\"typ\":\"dpop+jwt\",\"jwk\":{\"kty\":\"EC\"}}", TS_OK},
		{"{\"alg\":\"ES256\"}", TS_OK},
		{"{\"alg\":\"none\",\"jwk\":{\"kty\":\"EC\"}}", TS_EINVAL},
		{"{\"alg\":\"HS256\",\"jwk\":{\"kty\":\"oct\"}}", TS_EINVAL},
		{"{\"alg\":\"ES256\",\"jwk\":{},\"jku\":\"https://attacker.example/jwks\"}", TS_EINVAL},
		{"{\"alg\":\"ES256\",\"jwk\":{},\"x5c\":[\"MIIB\"]}", TS_EINVAL},
		{"{\"alg\":\"ES256\",\"jwk\":{},\"crit\":[\"x\"]}", TS_EINVAL},
		{"{\"alg\":\"ES256\",\"jwk\":{},\"jwk\":{}}", TS_EINVAL},
	};
	size_t i;

	(void)state;
	for (i = 0; i < TS_ARRAY_LEN(v); i++) {
		char *jws = forge(v[i].hdr, "{\"jti\":\"x\"}", keys[TS_ALG_ES256]);
		struct ts_jws *j = NULL;
		int rc = ts_jws_parse_embedded(jws, strlen(jws), &j);

		if (rc != v[i].rc)
			fail_msg("header %s: got %s, want %s", v[i].hdr, ts_rc_str(rc),
				 ts_rc_str(v[i].rc));
		if (rc == TS_OK)
			assert_non_null(ts_jws_header(j));
		ts_jws_free(j);
		free(jws);
	}
}

static void test_parse_refuses_structure(void **state)
{
	/* eyJhbGciOiJFUzI1NiJ9 = {"alg":"ES256"}, e30 = {} */
	static const struct {
		const char *jws;
		int rc;
	} v[] = {
		{"", TS_EINVAL},
		{"eyJhbGciOiJFUzI1NiJ9", TS_EINVAL},
		{"eyJhbGciOiJFUzI1NiJ9.e30", TS_EINVAL},
		{"eyJhbGciOiJFUzI1NiJ9.e30.AAAA.AAAA", TS_EINVAL},
		{"eyJhbGciOiJFUzI1NiJ9.e30.AAAA.", TS_EINVAL},
		{"eyJhbGciOiJFUzI1NiJ9..", TS_OK}, /* empty payload, empty signature */
		{"eyJhbGciOiJFUzI1NiJ9.e30.AA+A", TS_EINVAL},
		{"eyJhbGciOiJFUzI1NiJ9.e3+.AAAA", TS_EINVAL},
		{"eyJhbGciOiJFUzI1NiJ9=.e30.AAAA", TS_EINVAL},
		{"eyJhbGciOiJFUzI1NiJ9.e30=.AAAA", TS_EINVAL},
		{"eyJhbGciOiJFUzI1NiJ9.e30.AAAA=", TS_EINVAL},
		{"eyJhbGciOiJFUzI1NiJ9 .e30.AAAA", TS_EINVAL},
		{"eyJhbGciOiJFUzI1NiJ9.e31.AAAA", TS_EINVAL}, /* non-canonical base64url */
		{".e30.AAAA", TS_EINVAL},
		{"e30.e30.AAAA", TS_EINVAL},
	};
	size_t i;
	(void)state;
	for (i = 0; i < TS_ARRAY_LEN(v); i++) {
		struct ts_jws *j = NULL;
		int rc = ts_jws_parse(v[i].jws, strlen(v[i].jws), &j);
		if (rc != v[i].rc)
			fail_msg("%s: got %s, want %s", v[i].jws, ts_rc_str(rc), ts_rc_str(v[i].rc));
		ts_jws_free(j);
	}
	assert_int_equal(ts_jws_parse(NULL, 0, &(struct ts_jws *){NULL}), TS_EINVAL);
}

static void test_parse_caps(void **state)
{
	struct ts_jws *j = NULL;
	char *hdr = malloc(TS_JWS_HEADER_MAX + 64), *jws;
	size_t n;
	(void)state;
	/* A decoded header one byte over TS_JWS_HEADER_MAX. */
	assert_non_null(hdr);
	n = (size_t)snprintf(hdr, 64, "{\"alg\":\"ES256\",\"x\":\"");
	memset(hdr + n, 'a', TS_JWS_HEADER_MAX + 1 - n - 2);
	memcpy(hdr + TS_JWS_HEADER_MAX + 1 - 2, "\"}", 3);
	assert_int_equal(strlen(hdr), TS_JWS_HEADER_MAX + 1);
	jws = forge(hdr, "{}", NULL);
	assert_int_equal(ts_jws_parse(jws, strlen(jws), &j), TS_ETOOBIG);
	free(jws);
	/* Exactly TS_JWS_HEADER_MAX is fine. */
	memcpy(hdr + TS_JWS_HEADER_MAX - 2, "\"}", 3);
	jws = forge(hdr, "{}", keys[TS_ALG_ES256]);
	assert_int_equal(parse_verify(jws, keys[TS_ALG_ES256]), TS_OK);
	free(jws);
	free(hdr);
	/* A whole token over TS_JWS_MAX is refused before anything else. */
	jws = malloc(TS_JWS_MAX + 2);
	assert_non_null(jws);
	memset(jws, 'A', TS_JWS_MAX + 1);
	jws[TS_JWS_MAX + 1] = '\0';
	assert_int_equal(ts_jws_parse(jws, TS_JWS_MAX + 1, &j), TS_ETOOBIG);
	assert_null(j);
	free(jws);
}

/* ECDSA malleability: a valid ES256 signature (R, S) has a twin
 * (R, n - S) that OpenSSL verifies too. Tessera signs only the low-S one
 * and refuses the high-S one. */
static void test_es256_high_s_refused(void **state)
{
	struct ts_jwk *es = keys[TS_ALG_ES256];
	unsigned char raw[64], high[64], der[80];
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	struct ts_buf good;
	size_t rawlen = 0, derlen = 0, inlen;
	char *t;
	int i;
	(void)state;
	for (i = 0; i < 16; i++) {
		ts_buf_init(&good, BUF_MAX);
		assert_int_equal(ts_jws_sign(es, "JWT", "{\"sub\":\"x\"}", 11, &good), TS_OK);
		assert_int_equal(ts_b64url_decode(strrchr(good.p, '.') + 1,
						  strlen(strrchr(good.p, '.') + 1), raw, sizeof(raw),
						  &rawlen), TS_OK);
		assert_int_equal(rawlen, 64);
		assert_false(s_is_high(raw)); /* 16 in a row: chance 2^-16 without normalizing */
		flip_s(raw, high);
		assert_true(s_is_high(high));
		/* The twin is a valid signature for OpenSSL... */
		inlen = (size_t)(strrchr(good.p, '.') - good.p);
		assert_int_equal(ts_jws_ecdsa_raw_to_der(high, der, sizeof(der), &derlen), TS_OK);
		assert_int_equal(EVP_DigestVerifyInit(m, NULL, EVP_sha256(), NULL, es->pkey), 1);
		assert_int_equal(EVP_DigestVerify(m, der, derlen, (const unsigned char *)good.p, inlen), 1);
		/* ...and refused here, while the original verifies. */
		t = with_sig(good.p, high, 64);
		assert_int_equal(parse_verify(t, es), TS_EDENIED);
		free(t);
		assert_int_equal(parse_verify(good.p, es), TS_OK);
		assert_false(ts_jws_ecdsa_low_s(high));
		ts_jws_ecdsa_normalize(high);
		assert_memory_equal(high, raw, 64);
		ts_buf_clear(&good);
	}
	EVP_MD_CTX_free(m);
}

static void test_verify_failures(void **state)
{
	struct ts_jwk *es = keys[TS_ALG_ES256], *other = NULL;
	unsigned char raw[TS_JWS_SIG_MAX], der[80];
	struct ts_buf good;
	size_t rawlen = 0, derlen = 0;
	char *t;
	(void)state;
	ts_buf_init(&good, BUF_MAX);
	assert_int_equal(ts_jws_sign(es, "at+jwt", "{\"sub\":\"alice\"}", 15, &good), TS_OK);
	assert_int_equal(parse_verify(good.p, es), TS_OK);
	assert_int_equal(ts_b64url_decode(strrchr(good.p, '.') + 1, strlen(strrchr(good.p, '.') + 1),
					  raw, sizeof(raw), &rawlen), TS_OK);
	assert_int_equal(rawlen, 64);
	/* truncated signature */
	t = with_sig(good.p, raw, 63);
	assert_int_equal(parse_verify(t, es), TS_EDENIED);
	free(t);
	/* empty signature */
	t = with_sig(good.p, raw, 0);
	assert_int_equal(parse_verify(t, es), TS_EDENIED);
	free(t);
	/* DER instead of R || S */
	assert_int_equal(ts_jws_ecdsa_raw_to_der(raw, der, sizeof(der), &derlen), TS_OK);
	t = with_sig(good.p, der, derlen);
	assert_int_equal(parse_verify(t, es), TS_EDENIED);
	free(t);
	/* all-zero signature, and zero r or zero s alone */
	{
		unsigned char z[64];
		memset(z, 0, sizeof(z));
		t = with_sig(good.p, z, 64);
		assert_int_equal(parse_verify(t, es), TS_EDENIED);
		free(t);
		memcpy(z + 32, raw + 32, 32);
		t = with_sig(good.p, z, 64);
		assert_int_equal(parse_verify(t, es), TS_EDENIED);
		free(t);
		memcpy(z, raw, 32);
		memset(z + 32, 0, 32);
		t = with_sig(good.p, z, 64);
		assert_int_equal(parse_verify(t, es), TS_EDENIED);
		free(t);
	}
	/* flipped signature bit */
	raw[10] ^= 0x80;
	t = with_sig(good.p, raw, 64);
	assert_int_equal(parse_verify(t, es), TS_EDENIED);
	free(t);
	/* another key of the same type */
	assert_int_equal(ts_jwk_generate(TS_ALG_ES256, &other), TS_OK);
	assert_int_equal(parse_verify(good.p, other), TS_EDENIED);
	ts_jwk_free(other);
	ts_buf_clear(&good);
}

/* The header's alg must be the key's alg, whatever the signature. */
static void test_verify_alg_pinning(void **state)
{
	static const struct {
		const char *hdr;
		enum ts_jws_alg signer, verifier;
	} v[] = {
		{"{\"alg\":\"RS256\"}", TS_ALG_RS256, TS_ALG_ES256},
		{"{\"alg\":\"RS256\"}", TS_ALG_ES256, TS_ALG_ES256},
		{"{\"alg\":\"ES256\"}", TS_ALG_ES256, TS_ALG_EDDSA},
		{"{\"alg\":\"EdDSA\"}", TS_ALG_EDDSA, TS_ALG_ES256},
		{"{\"alg\":\"PS256\"}", TS_ALG_RS256, TS_ALG_RS256},
		{"{\"alg\":\"RS256\"}", TS_ALG_PS256, TS_ALG_PS256},
		{"{\"alg\":\"PS256\"}", TS_ALG_PS256, TS_ALG_RS256},
	};
	size_t i;
	(void)state;
	for (i = 0; i < TS_ARRAY_LEN(v); i++) {
		char *t = forge(v[i].hdr, "{}", keys[v[i].signer]);
		assert_int_equal(parse_verify(t, keys[v[i].verifier]), TS_EDENIED);
		free(t);
	}
	/* The same RSA public key, imported pinned to RS256, refuses a PS256
	 * token that verifies under the PS256 key. */
	{
		json_t *pub = ts_jwk_public_json(keys[TS_ALG_PS256]);
		struct ts_jwk *rs = NULL;
		struct ts_buf b;
		json_object_del(pub, "alg");
		assert_int_equal(ts_jwk_from_json(pub, TS_ALG_RS256, &rs), TS_OK);
		ts_buf_init(&b, BUF_MAX);
		assert_int_equal(ts_jws_sign(keys[TS_ALG_PS256], NULL, "{}", 2, &b), TS_OK);
		assert_int_equal(parse_verify(b.p, keys[TS_ALG_PS256]), TS_OK);
		assert_int_equal(parse_verify(b.p, rs), TS_EDENIED);
		ts_buf_clear(&b);
		ts_jwk_free(rs);
		json_decref(pub);
	}
}

static void test_verify_rsa_and_eddsa_tamper(void **state)
{
	static const enum ts_jws_alg algs[] = {TS_ALG_RS256, TS_ALG_PS256, TS_ALG_EDDSA};
	size_t i;
	(void)state;
	for (i = 0; i < TS_ARRAY_LEN(algs); i++) {
		struct ts_jwk *k = keys[algs[i]];
		unsigned char raw[TS_JWS_SIG_MAX];
		size_t n = 0;
		struct ts_buf b;
		char *t;

		ts_buf_init(&b, BUF_MAX);
		assert_int_equal(ts_jws_sign(k, "JWT", "{\"n\":1}", 7, &b), TS_OK);
		assert_int_equal(ts_b64url_decode(strrchr(b.p, '.') + 1, strlen(strrchr(b.p, '.') + 1),
						  raw, sizeof(raw), &n), TS_OK);
		t = with_sig(b.p, raw, n - 1); /* truncated */
		assert_int_equal(parse_verify(t, k), TS_EDENIED);
		free(t);
		raw[n / 2] ^= 0x01; /* flipped */
		t = with_sig(b.p, raw, n);
		assert_int_equal(parse_verify(t, k), TS_EDENIED);
		free(t);
		raw[n / 2] ^= 0x01;
		memset(raw, 0, n); /* all zero */
		t = with_sig(b.p, raw, n);
		assert_int_equal(parse_verify(t, k), TS_EDENIED);
		free(t);
		ts_buf_clear(&b);
	}
}

/* A verified signature of one of Tessera's keys is remembered per thread,
 * by key: the same bytes verify again without the signature math, any
 * other bytes (a flipped signature bit, the high-S twin) or any other key
 * still go through the full check. */
static void test_verified_signatures_remembered(void **state)
{
	struct ts_jwk *es = keys[TS_ALG_ES256], *other = NULL;
	unsigned char raw[64], twin[64], id[TS_SHA256_LEN] = {1, 2, 3};
	struct ts_buf good;
	size_t n = 0;
	char *t;
	int round;
	(void)state;
	assert_int_equal(ts_jwk_generate(TS_ALG_ES256, &other), TS_OK);
	ts_buf_init(&good, BUF_MAX);
	assert_int_equal(ts_jws_sign(es, "at+jwt", "{\"sub\":\"x\"}", 11, &good), TS_OK);
	assert_int_equal(ts_b64url_decode(strrchr(good.p, '.') + 1, strlen(strrchr(good.p, '.') + 1),
					  raw, sizeof(raw), &n), TS_OK);
	for (round = 0; round < 3; round++) {
		assert_int_equal(parse_verify(good.p, es), TS_OK);
		assert_int_equal(parse_verify(good.p, other), TS_EDENIED);
		memcpy(twin, raw, sizeof(twin));
		twin[63] ^= 1;
		t = with_sig(good.p, twin, sizeof(twin));
		assert_int_equal(parse_verify(t, es), TS_EDENIED);
		free(t);
		flip_s(raw, twin);
		t = with_sig(good.p, twin, sizeof(twin));
		assert_int_equal(parse_verify(t, es), TS_EDENIED);
		free(t);
	}
	/* The memory itself: by id and by key, and forgotten with the key. */
	assert_false(ts_jws_seen(es, id));
	ts_jws_seen_add(es, id);
	assert_true(ts_jws_seen(es, id));
	assert_false(ts_jws_seen(other, id));
	id[5] ^= 1;
	assert_false(ts_jws_seen(es, id));
	id[5] ^= 1;
	ts_jws_cache_forget(es->serial);
	assert_false(ts_jws_seen(es, id));
	assert_int_equal(parse_verify(good.p, es), TS_OK);
	ts_buf_clear(&good);
	ts_jwk_free(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_vectors_verify),
		cmocka_unit_test(test_rfc7520_kid_and_use),
		cmocka_unit_test(test_rfc7520_ps384_refused),
		cmocka_unit_test(test_parse_refuses_headers),
		cmocka_unit_test(test_parse_embedded_allows_only_jwk),
		cmocka_unit_test(test_parse_refuses_structure),
		cmocka_unit_test(test_parse_caps),
		cmocka_unit_test(test_verify_failures),
		cmocka_unit_test(test_es256_high_s_refused),
		cmocka_unit_test(test_verify_alg_pinning),
		cmocka_unit_test(test_verify_rsa_and_eddsa_tamper),
		cmocka_unit_test(test_verified_signatures_remembered),
	};
	return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
