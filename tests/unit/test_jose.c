/* test_jose.c: JWK and compact JWS against RFC 7515 App. A.2/A.3, RFC 7520
 * §4.1/§4.2, RFC 8037 App. A and RFC 7638 §3.1, plus round trips for every
 * algorithm, the parser's refusals, verification failures, PKCS#8, and the
 * per-thread signing cache (eviction, key reuse, threads). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jose/internal.h"
#include "jose/jose.h"

#define BUF_MAX 65536
#define N_THREADS 4
#define SIGNS_PER_THREAD 50

static const enum ts_jws_alg all_algs[] = {TS_ALG_ES256, TS_ALG_RS256, TS_ALG_PS256,
					    TS_ALG_EDDSA};

/* One generated key per algorithm, shared by the tests (RSA keygen is slow). */
static struct ts_jwk *keys[TS_ALG_EDDSA + 1];

static int setup_keys(void **state)
{
	size_t i;
	(void)state;
	for (i = 0; i < TS_ARRAY_LEN(all_algs); i++) {
		if (ts_jwk_generate(all_algs[i], &keys[all_algs[i]]) != TS_OK)
			return -1;
	}
	return 0;
}

static int teardown_keys(void **state)
{
	size_t i;
	(void)state;
	for (i = 0; i < TS_ARRAY_LEN(keys); i++) {
		ts_jwk_free(keys[i]);
		keys[i] = NULL;
	}
	return 0;
}

/* Loads tests/vectors/<rel>: from $TS_VECTORS (set by ctest), else relative
 * to this source file. */
static json_t *load_vector(const char *rel)
{
	const char *dir = getenv("TS_VECTORS");
	char base[1024], path[1200];
	json_error_t err;
	json_t *j;

	if (dir == NULL || dir[0] == '\0') {
		const char *slash = strrchr(__FILE__, '/');
		int n = slash ? (int)(slash - __FILE__) : 1;
		snprintf(base, sizeof(base), "%.*s/../vectors", n, slash ? __FILE__ : ".");
		dir = base;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	j = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
	if (j == NULL)
		fail_msg("cannot load vector %s: %s", path, err.text);
	return j;
}

static const char *vstr(const json_t *v, const char *name)
{
	const char *s = json_string_value(json_object_get(v, name));
	assert_non_null(s);
	return s;
}

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

static int parse_verify(const char *jws, const struct ts_jwk *k)
{
	struct ts_jws *j = NULL;
	int rc = ts_jws_parse(jws, strlen(jws), &j);

	if (rc == TS_OK)
		rc = ts_jws_verify(j, k);
	ts_jws_free(j);
	return rc;
}

static void test_alg_names(void **state)
{
	static const struct {
		const char *name;
		enum ts_jws_alg alg;
	} v[] = {
		{"ES256", TS_ALG_ES256}, {"RS256", TS_ALG_RS256}, {"PS256", TS_ALG_PS256},
		{"EdDSA", TS_ALG_EDDSA}, {"none", TS_ALG_NONE},   {"HS256", TS_ALG_NONE},
		{"es256", TS_ALG_NONE},  {"ES256 ", TS_ALG_NONE}, {"", TS_ALG_NONE},
		{"PS384", TS_ALG_NONE},  {"ES512", TS_ALG_NONE},  {"Ed25519", TS_ALG_NONE},
	};
	size_t i;
	(void)state;
	for (i = 0; i < TS_ARRAY_LEN(v); i++) {
		assert_int_equal(ts_jws_alg_parse(v[i].name), v[i].alg);
		if (v[i].alg != TS_ALG_NONE)
			assert_string_equal(ts_jws_alg_name(v[i].alg), v[i].name);
	}
	assert_int_equal(ts_jws_alg_parse(NULL), TS_ALG_NONE);
	assert_string_equal(ts_jws_alg_name(TS_ALG_NONE), "none");
	assert_string_equal(ts_jws_alg_name((enum ts_jws_alg)99), "none");
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

static char *with_sig(const char *jws, const unsigned char *sig, size_t n);

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

static void test_rfc7638_thumbprint(void **state)
{
	json_t *v = load_vector("jose/rfc7638_3_1_thumbprint.json");
	struct ts_jwk *k = NULL;
	char tp[44];
	(void)state;
	/* The JWK carries "alg":"RS256", so no pin is needed. */
	assert_int_equal(ts_jwk_from_json(json_object_get(v, "jwk"), TS_ALG_NONE, &k), TS_OK);
	assert_int_equal(ts_jwk_alg(k), TS_ALG_RS256);
	assert_int_equal(ts_jwk_thumbprint(k, tp), TS_OK);
	assert_string_equal(tp, vstr(v, "thumbprint"));
	assert_string_equal(ts_jwk_kid(k), "2011-04-29"); /* its own kid wins */
	ts_jwk_free(k);
	json_decref(v);
}

/* RFC 8037 A.1 as PKCS#8 (RFC 8410 §7): a fixed prefix, then the seed. */
static struct ts_jwk *rfc8037_private(const json_t *v)
{
	static const unsigned char prefix[] = {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
					       0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20};
	const char *d = vstr(json_object_get(v, "jwk_private"), "d");
	unsigned char der[sizeof(prefix) + 32];
	struct ts_jwk *k = NULL;
	size_t n = 0;

	memcpy(der, prefix, sizeof(prefix));
	assert_int_equal(ts_b64url_decode(d, strlen(d), der + sizeof(prefix), 32, &n), TS_OK);
	assert_int_equal(n, 32);
	assert_int_equal(ts_jwk_from_pkcs8(TS_ALG_EDDSA, der, sizeof(der), &k), TS_OK);
	OPENSSL_cleanse(der, sizeof(der));
	return k;
}

static void test_rfc8037_ed25519(void **state)
{
	json_t *v = load_vector("jose/rfc8037_ed25519.json"), *pub;
	struct ts_jwk *priv, *k = NULL;
	const char *jws = vstr(v, "jws"), *x;
	unsigned char sig[TS_JWS_SIG_MAX], want[64];
	size_t siglen = 0, wlen = 0;
	char tp[44];
	(void)state;
	/* A.2/A.3: public key and its thumbprint (the kid when none is given). */
	assert_int_equal(ts_jwk_from_json(json_object_get(v, "jwk_public"), TS_ALG_EDDSA, &k),
			 TS_OK);
	assert_int_equal(ts_jwk_thumbprint(k, tp), TS_OK);
	assert_string_equal(tp, vstr(v, "thumbprint"));
	assert_string_equal(ts_jwk_kid(k), vstr(v, "thumbprint"));
	/* A.1: the private key has the same public half and thumbprint. */
	priv = rfc8037_private(v);
	assert_true(ts_jwk_is_private(priv));
	assert_string_equal(ts_jwk_kid(priv), vstr(v, "thumbprint"));
	pub = ts_jwk_public_json(priv);
	x = vstr(json_object_get(v, "jwk_public"), "x");
	assert_string_equal(json_string_value(json_object_get(pub, "x")), x);
	assert_string_equal(json_string_value(json_object_get(pub, "crv")), "Ed25519");
	assert_string_equal(json_string_value(json_object_get(pub, "kty")), "OKP");
	json_decref(pub);
	/* A.4: Ed25519 is deterministic, so the signature bytes are exact. */
	assert_int_equal(ts_jws_sign_input(priv, jws, (size_t)(strrchr(jws, '.') - jws), sig,
					   &siglen), TS_OK);
	assert_int_equal(ts_b64url_decode(strrchr(jws, '.') + 1, strlen(strrchr(jws, '.') + 1),
					  want, sizeof(want), &wlen), TS_OK);
	assert_int_equal(siglen, 64);
	assert_int_equal(wlen, 64);
	assert_memory_equal(sig, want, 64);
	/* A.5: verification with the public key (and with the private one). */
	assert_int_equal(parse_verify(jws, k), TS_OK);
	assert_int_equal(parse_verify(jws, priv), TS_OK);
	ts_jwk_free(priv);
	ts_jwk_free(k);
	json_decref(v);
}

/* Sign, parse, check header, verify with the private key and with a public
 * key rebuilt from the published JWK; for every algorithm and typ. */
static void test_sign_verify_roundtrip(void **state)
{
	static const char *const typs[] = {NULL, "JWT", "at+jwt", "dpop+jwt", "we\"ird\\typ"};
	static const char payload[] = "{\"iss\":\"https://as.example\",\"sub\":\"alice\"}";
	size_t a, t;
	(void)state;
	for (a = 0; a < TS_ARRAY_LEN(all_algs); a++) {
		struct ts_jwk *k = keys[all_algs[a]], *pubk = NULL;
		json_t *pub = ts_jwk_public_json(k);
		char tp[44];

		assert_non_null(pub);
		assert_int_equal(ts_jwk_from_json(pub, TS_ALG_NONE, &pubk), TS_OK);
		assert_false(ts_jwk_is_private(pubk));
		assert_string_equal(ts_jwk_kid(pubk), ts_jwk_kid(k));
		/* kid of a generated key is its RFC 7638 thumbprint */
		assert_int_equal(ts_jwk_thumbprint(k, tp), TS_OK);
		assert_string_equal(tp, ts_jwk_kid(k));
		assert_int_equal(strlen(tp), 43);
		for (t = 0; t < TS_ARRAY_LEN(typs); t++) {
			struct ts_buf out;
			struct ts_jws *j = NULL;
			const unsigned char *p;
			size_t plen;

			ts_buf_init(&out, BUF_MAX);
			assert_int_equal(ts_jws_sign(k, typs[t], payload, strlen(payload), &out),
					 TS_OK);
			assert_int_equal(ts_jws_parse(out.p, out.len, &j), TS_OK);
			assert_int_equal(ts_jws_header_alg(j), all_algs[a]);
			assert_string_equal(ts_jws_kid(j), ts_jwk_kid(k));
			if (typs[t] == NULL)
				assert_null(ts_jws_typ(j));
			else
				assert_string_equal(ts_jws_typ(j), typs[t]);
			assert_string_equal(json_string_value(json_object_get(ts_jws_header(j), "alg")),
					    ts_jws_alg_name(all_algs[a]));
			p = ts_jws_payload(j, &plen);
			assert_int_equal(plen, strlen(payload));
			assert_memory_equal(p, payload, plen);
			assert_int_equal(ts_jws_verify(j, k), TS_OK);
			assert_int_equal(ts_jws_verify(j, pubk), TS_OK);
			ts_jws_free(j);
			ts_buf_clear(&out);
		}
		ts_jwk_free(pubk);
		json_decref(pub);
	}
}

/* Appending to a buffer that already holds data, and an empty payload. */
static void test_sign_appends(void **state)
{
	struct ts_buf out;
	struct ts_jws *j = NULL;
	size_t plen = 1;
	(void)state;
	ts_buf_init(&out, BUF_MAX);
	assert_int_equal(ts_buf_appends(&out, "Bearer "), TS_OK);
	assert_int_equal(ts_jws_sign(keys[TS_ALG_ES256], "JWT", "", 0, &out), TS_OK);
	assert_int_equal(strncmp(out.p, "Bearer ", 7), 0);
	assert_int_equal(ts_jws_parse(out.p + 7, out.len - 7, &j), TS_OK);
	ts_jws_payload(j, &plen);
	assert_int_equal(plen, 0);
	assert_int_equal(ts_jws_verify(j, keys[TS_ALG_ES256]), TS_OK);
	ts_jws_free(j);
	ts_buf_clear(&out);
}

static void test_sign_refusals(void **state)
{
	struct ts_jwk *pubk = NULL;
	json_t *pub = ts_jwk_public_json(keys[TS_ALG_ES256]);
	struct ts_buf out;
	(void)state;
	assert_int_equal(ts_jwk_from_json(pub, TS_ALG_ES256, &pubk), TS_OK);
	ts_buf_init(&out, BUF_MAX);
	assert_int_equal(ts_jws_sign(pubk, NULL, "{}", 2, &out), TS_EINVAL);
	assert_int_equal(ts_jws_sign(NULL, NULL, "{}", 2, &out), TS_EINVAL);
	assert_int_equal(ts_jws_sign(keys[TS_ALG_ES256], NULL, NULL, 2, &out), TS_EINVAL);
	/* Too small an output buffer: TS_ETOOBIG and an empty buffer. */
	ts_buf_init(&out, 100);
	assert_int_equal(ts_buf_appends(&out, "x"), TS_OK);
	assert_int_equal(ts_jws_sign(keys[TS_ALG_ES256], NULL, "{}", 2, &out), TS_ETOOBIG);
	assert_null(out.p);
	assert_int_equal(out.len, 0);
	/* A payload larger than the on-stack scratch still signs. */
	{
		size_t n = 20000;
		char *big = malloc(n);
		assert_non_null(big);
		memset(big, 'a', n);
		ts_buf_init(&out, BUF_MAX);
		assert_int_equal(ts_jws_sign(keys[TS_ALG_EDDSA], NULL, big, n, &out), TS_OK);
		ts_buf_clear(&out);
		free(big);
	}
	ts_jwk_free(pubk);
	json_decref(pub);
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

/* Replaces the signature part of jws with b64(sig). */
static char *with_sig(const char *jws, const unsigned char *sig, size_t n)
{
	struct ts_buf b;
	ts_buf_init(&b, BUF_MAX);
	assert_int_equal(ts_buf_append(&b, jws, (size_t)(strrchr(jws, '.') - jws) + 1), TS_OK);
	b64(&b, sig, n);
	return ts_buf_take(&b);
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

static void test_ecdsa_der_conversion(void **state)
{
	unsigned char raw[64], back[64], der[80];
	size_t n = 0;
	int i;
	(void)state;
	/* Edge widths: r tiny, s with the top bit set (needs a 0x00 pad). */
	memset(raw, 0, 32);
	raw[31] = 1;
	memset(raw + 32, 0xff, 32);
	assert_int_equal(ts_jws_ecdsa_raw_to_der(raw, der, sizeof(der), &n), TS_OK);
	assert_int_equal(n, 2 + 3 + 35);
	assert_int_equal(der[3], 1);    /* len(r) */
	assert_int_equal(der[6], 0x21); /* len(s) = 33 */
	assert_int_equal(ts_jws_ecdsa_der_to_raw(der, n, back), TS_OK);
	assert_memory_equal(raw, back, 64);
	/* Malformed DER is refused: wrong outer length, negative, non-minimal. */
	der[1] ^= 1;
	assert_int_equal(ts_jws_ecdsa_der_to_raw(der, n, back), TS_EINVAL);
	der[1] ^= 1;
	{
		static const unsigned char neg[] = {0x30, 0x06, 0x02, 0x01, 0x80, 0x02, 0x01, 0x01};
		static const unsigned char pad[] = {0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01};
		static const unsigned char zero[] = {0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x01};
		assert_int_equal(ts_jws_ecdsa_der_to_raw(neg, sizeof(neg), back), TS_EINVAL);
		assert_int_equal(ts_jws_ecdsa_der_to_raw(pad, sizeof(pad), back), TS_EINVAL);
		assert_int_equal(ts_jws_ecdsa_der_to_raw(zero, sizeof(zero), back), TS_EINVAL);
	}
	/* Many real signatures, so leading-zero r and s occur (about 1 in 128). */
	for (i = 0; i < 300; i++) {
		struct ts_buf b;
		ts_buf_init(&b, BUF_MAX);
		assert_int_equal(ts_jws_sign(keys[TS_ALG_ES256], NULL, &i, sizeof(i), &b), TS_OK);
		assert_int_equal(parse_verify(b.p, keys[TS_ALG_ES256]), TS_OK);
		ts_buf_clear(&b);
	}
}

static void test_pkcs8_roundtrip(void **state)
{
	size_t a;
	(void)state;
	for (a = 0; a < TS_ARRAY_LEN(all_algs); a++) {
		struct ts_jwk *k = keys[all_algs[a]], *k2 = NULL, *pubk = NULL;
		unsigned char *der = NULL, *longer;
		size_t len = 0;
		json_t *pub;
		struct ts_buf b;

		assert_int_equal(ts_jwk_to_pkcs8(k, &der, &len), TS_OK);
		assert_int_equal(ts_jwk_from_pkcs8(all_algs[a], der, len, &k2), TS_OK);
		assert_true(ts_jwk_is_private(k2));
		assert_string_equal(ts_jwk_kid(k2), ts_jwk_kid(k));
		assert_int_equal(ts_jwk_alg(k2), all_algs[a]);
		/* Signed by the imported key, verified by the original's public JWK. */
		pub = ts_jwk_public_json(k);
		assert_int_equal(ts_jwk_from_json(pub, TS_ALG_NONE, &pubk), TS_OK);
		ts_buf_init(&b, BUF_MAX);
		assert_int_equal(ts_jws_sign(k2, "JWT", "{}", 2, &b), TS_OK);
		assert_int_equal(parse_verify(b.p, pubk), TS_OK);
		ts_buf_clear(&b);
		/* The public key cannot be exported. */
		{
			unsigned char *pder = NULL;
			size_t plen = 0;
			assert_int_equal(ts_jwk_to_pkcs8(pubk, &pder, &plen), TS_EINVAL);
			assert_null(pder);
		}
		/* Trailing bytes, truncation and a mismatched algorithm are refused. */
		longer = malloc(len + 1);
		assert_non_null(longer);
		memcpy(longer, der, len);
		longer[len] = 0;
		ts_jwk_free(k2);
		k2 = NULL;
		assert_int_equal(ts_jwk_from_pkcs8(all_algs[a], longer, len + 1, &k2), TS_EINVAL);
		assert_int_equal(ts_jwk_from_pkcs8(all_algs[a], der, len - 1, &k2), TS_EINVAL);
		assert_int_equal(ts_jwk_from_pkcs8(all_algs[a] == TS_ALG_ES256 ? TS_ALG_EDDSA
									     : TS_ALG_ES256,
						   der, len, &k2), TS_EINVAL);
		assert_null(k2);
		OPENSSL_cleanse(der, len);
		free(der);
		free(longer);
		ts_jwk_free(pubk);
		json_decref(pub);
	}
}

/* A reused decoder reads keys of every type, one after another and after
 * a refused input, as ts_jwk_from_pkcs8 does, and a stored public JWK is
 * read back by the trusted import. */
static void test_pkcs8_decoder(void **state)
{
	struct ts_jwk_decoder *d = ts_jwk_decoder_new();
	size_t a, round;
	(void)state;

	for (round = 0; round < 2; round++) {
		for (a = 0; a < TS_ARRAY_LEN(all_algs); a++) {
			struct ts_jwk *k = keys[all_algs[a]], *k2 = NULL, *pubk = NULL;
			unsigned char *der = NULL;
			size_t len = 0;
			json_t *pj = ts_jwk_public_json(k);
			char *pub = json_dumps(pj, JSON_COMPACT | JSON_SORT_KEYS);
			struct ts_buf b;

			assert_int_equal(ts_jwk_to_pkcs8(k, &der, &len), TS_OK);
			assert_int_equal(ts_jwk_decoder_pkcs8(d, all_algs[a], der, len - 1, &k2), TS_EINVAL);
			assert_int_equal(ts_jwk_decoder_pkcs8(d, all_algs[a] == TS_ALG_ES256 ? TS_ALG_EDDSA
											     : TS_ALG_ES256,
							      der, len, &k2), TS_EINVAL);
			assert_null(k2);
			assert_int_equal(ts_jwk_decoder_pkcs8(d, all_algs[a], der, len, &k2), TS_OK);
			assert_true(ts_jwk_is_private(k2));
			assert_string_equal(ts_jwk_kid(k2), ts_jwk_kid(k));
			assert_int_equal(ts_jwk_from_json_text_trusted(pub, strlen(pub), all_algs[a], &pubk),
					 TS_OK);
			assert_false(ts_jwk_is_private(pubk));
			assert_string_equal(ts_jwk_kid(pubk), ts_jwk_kid(k));
			ts_buf_init(&b, BUF_MAX);
			assert_int_equal(ts_jws_sign(k2, "JWT", "{}", 2, &b), TS_OK);
			assert_int_equal(parse_verify(b.p, pubk), TS_OK);
			ts_buf_clear(&b);
			OPENSSL_cleanse(der, len);
			free(der);
			free(pub);
			json_decref(pj);
			ts_jwk_free(k2);
			ts_jwk_free(pubk);
		}
	}
	ts_jwk_decoder_free(d);
	ts_jwk_decoder_free(NULL);
}

static void test_public_json(void **state)
{
	static const struct {
		enum ts_jws_alg alg;
		const char *kty, *members[3];
		size_t nmembers;
	} v[] = {
		{TS_ALG_ES256, "EC", {"crv", "x", "y"}, 7},
		{TS_ALG_RS256, "RSA", {"n", "e", NULL}, 6},
		{TS_ALG_PS256, "RSA", {"n", "e", NULL}, 6},
		{TS_ALG_EDDSA, "OKP", {"crv", "x", NULL}, 6},
	};
	size_t i, m;
	(void)state;
	for (i = 0; i < TS_ARRAY_LEN(v); i++) {
		json_t *pub = ts_jwk_public_json(keys[v[i].alg]);
		assert_non_null(pub);
		assert_int_equal(json_object_size(pub), v[i].nmembers);
		assert_string_equal(json_string_value(json_object_get(pub, "kty")), v[i].kty);
		assert_string_equal(json_string_value(json_object_get(pub, "kid")),
				    ts_jwk_kid(keys[v[i].alg]));
		assert_string_equal(json_string_value(json_object_get(pub, "alg")),
				    ts_jws_alg_name(v[i].alg));
		assert_string_equal(json_string_value(json_object_get(pub, "use")), "sig");
		for (m = 0; m < 3 && v[i].members[m]; m++)
			assert_true(json_is_string(json_object_get(pub, v[i].members[m])));
		assert_null(json_object_get(pub, "d")); /* nothing private */
		if (v[i].alg == TS_ALG_ES256) {
			assert_int_equal(json_string_length(json_object_get(pub, "x")), 43);
			assert_int_equal(json_string_length(json_object_get(pub, "y")), 43);
		}
		if (v[i].alg == TS_ALG_RS256)
			assert_string_equal(json_string_value(json_object_get(pub, "e")), "AQAB");
		json_decref(pub);
	}
}

/* Replaces member name of a copy of the A.3 or A.2 key and imports it. */
static int import_variant(const char *file, const char *name, json_t *value,
			  enum ts_jws_alg alg)
{
	json_t *v = load_vector(file), *jwk = json_deep_copy(json_object_get(v, "jwk"));
	struct ts_jwk *k = NULL;
	int rc;

	if (value != NULL)
		json_object_set_new(jwk, name, value);
	else
		json_object_del(jwk, name);
	rc = ts_jwk_from_json(jwk, alg, &k);
	if (rc != TS_OK)
		assert_null(k);
	ts_jwk_free(k);
	json_decref(jwk);
	json_decref(v);
	return rc;
}

static json_t *b64_of_bytes(const unsigned char *p, size_t n)
{
	char tmp[2048];
	ts_b64url_encode(p, n, tmp, sizeof(tmp));
	return json_string(tmp);
}

static void test_jwk_import_rejects(void **state)
{
	static const char ec[] = "jose/rfc7515_a3_es256.json", rsa[] = "jose/rfc7515_a2_rs256.json";
	unsigned char n[512], x[64];
	size_t nlen = 0, xlen = 0;
	json_t *v = load_vector(rsa);
	const char *ns = vstr(json_object_get(v, "jwk"), "n");
	const char *xs = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
	(void)state;
	assert_int_equal(ts_b64url_decode(ns, strlen(ns), n + 1, sizeof(n) - 1, &nlen), TS_OK);
	assert_int_equal(ts_b64url_decode(xs, strlen(xs), x, sizeof(x), &xlen), TS_OK);
	/* controls */
	assert_int_equal(import_variant(ec, "use", json_string("sig"), TS_ALG_ES256), TS_OK);
	assert_int_equal(import_variant(rsa, "alg", json_string("RS256"), TS_ALG_RS256), TS_OK);
	assert_int_equal(import_variant(rsa, "alg", json_string("PS256"), TS_ALG_NONE), TS_OK);
	/* EC: point off the curve (y := x), short and long coordinates, curve */
	assert_int_equal(import_variant(ec, "y", json_string(xs), TS_ALG_ES256), TS_EINVAL);
	assert_int_equal(import_variant(ec, "x", b64_of_bytes(x, 31), TS_ALG_ES256), TS_EINVAL);
	x[32] = 0;
	assert_int_equal(import_variant(ec, "x", b64_of_bytes(x, 33), TS_ALG_ES256), TS_EINVAL);
	assert_int_equal(import_variant(ec, "crv", json_string("P-384"), TS_ALG_ES256), TS_EINVAL);
	assert_int_equal(import_variant(ec, "crv", NULL, TS_ALG_ES256), TS_EINVAL);
	assert_int_equal(import_variant(ec, "y", NULL, TS_ALG_ES256), TS_EINVAL);
	assert_int_equal(import_variant(ec, "x", json_integer(1), TS_ALG_ES256), TS_EINVAL);
	assert_int_equal(import_variant(ec, "x", json_string("f83OJ3D2+F1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"),
					TS_ALG_ES256), TS_EINVAL);
	/* RSA: 1024-bit modulus, leading zero octet, missing e */
	assert_int_equal(import_variant(rsa, "n", b64_of_bytes(n + 1, 128), TS_ALG_RS256),
			 TS_EINVAL);
	n[0] = 0;
	assert_int_equal(import_variant(rsa, "n", b64_of_bytes(n, nlen + 1), TS_ALG_RS256),
			 TS_EINVAL);
	assert_int_equal(import_variant(rsa, "e", NULL, TS_ALG_RS256), TS_EINVAL);
	assert_int_equal(import_variant(rsa, "e", json_string("AAEAAQ"), TS_ALG_RS256), TS_EINVAL);
	/* key type must fit the algorithm pin */
	assert_int_equal(import_variant(rsa, "kty", json_string("RSA"), TS_ALG_ES256), TS_EINVAL);
	assert_int_equal(import_variant(rsa, "kty", json_string("RSA"), TS_ALG_EDDSA), TS_EINVAL);
	assert_int_equal(import_variant(ec, "kty", json_string("EC"), TS_ALG_RS256), TS_EINVAL);
	assert_int_equal(import_variant(ec, "kty", json_string("RSA"), TS_ALG_ES256), TS_EINVAL);
	assert_int_equal(import_variant(ec, "kty", NULL, TS_ALG_ES256), TS_EINVAL);
	/* JWK "alg": contradicting the pin, unknown, absent with no pin */
	assert_int_equal(import_variant(rsa, "alg", json_string("RS256"), TS_ALG_PS256), TS_EINVAL);
	assert_int_equal(import_variant(rsa, "alg", json_string("RS384"), TS_ALG_RS256), TS_EINVAL);
	assert_int_equal(import_variant(rsa, "alg", json_string("none"), TS_ALG_NONE), TS_EINVAL);
	assert_int_equal(import_variant(rsa, "alg", json_integer(1), TS_ALG_RS256), TS_EINVAL);
	assert_int_equal(import_variant(rsa, "alg", NULL, TS_ALG_NONE), TS_EINVAL);
	assert_int_equal(import_variant(ec, "alg", json_string("ES256"), TS_ALG_NONE), TS_OK);
	/* "use" other than "sig", bad kid */
	assert_int_equal(import_variant(ec, "use", json_string("enc"), TS_ALG_ES256), TS_EINVAL);
	assert_int_equal(import_variant(ec, "kid", json_string(""), TS_ALG_ES256), TS_EINVAL);
	assert_int_equal(import_variant(ec, "kid", json_integer(3), TS_ALG_ES256), TS_EINVAL);
	assert_int_equal(
		import_variant(ec, "kid",
			       json_string("0123456789012345678901234567890123456789012345678901234567890123X"),
			       TS_ALG_ES256),
		TS_EINVAL);
	json_decref(v);
}

static void test_jwk_import_okp_and_text(void **state)
{
	static const struct {
		const char *text;
		enum ts_jws_alg alg;
		int rc;
	} v[] = {
		{"{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
		 TS_ALG_EDDSA, TS_OK},
		{"{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
		 TS_ALG_EDDSA, TS_EINVAL},
		{"{\"kty\":\"OKP\",\"crv\":\"Ed448\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
		 TS_ALG_EDDSA, TS_EINVAL},
		{"{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUR\"}",
		 TS_ALG_EDDSA, TS_EINVAL},
		{"{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
		 TS_ALG_ES256, TS_EINVAL},
		{"{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\","
		 "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
		 TS_ALG_EDDSA, TS_EINVAL}, /* duplicate member */
		{"{\"kty\":\"OKP\"", TS_ALG_EDDSA, TS_EINVAL},
		{"[]", TS_ALG_EDDSA, TS_EINVAL},
		{"", TS_ALG_EDDSA, TS_EINVAL},
	};
	size_t i;
	struct ts_jwk *k = NULL;
	(void)state;
	for (i = 0; i < TS_ARRAY_LEN(v); i++) {
		int rc = ts_jwk_from_json_text(v[i].text, strlen(v[i].text), v[i].alg, &k);
		if (rc != v[i].rc)
			fail_msg("row %zu: got %s, want %s", i, ts_rc_str(rc), ts_rc_str(v[i].rc));
		if (rc == TS_OK)
			assert_string_equal(ts_jwk_kid(k), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
		ts_jwk_free(k);
		k = NULL;
	}
	assert_int_equal(ts_jwk_from_json(NULL, TS_ALG_ES256, &k), TS_EINVAL);
	assert_int_equal(ts_jwk_generate(TS_ALG_NONE, &k), TS_EINVAL);
	assert_null(k);
	ts_jwk_free(NULL);
	ts_jws_free(NULL);
}

/* More live keys than cache slots, signed round-robin: every signature must
 * come from its own key. */
static void test_sign_cache_eviction(void **state)
{
	enum { NKEYS = 11 };
	struct ts_jwk *k[NKEYS];
	size_t i, round;
	(void)state;
	for (i = 0; i < NKEYS; i++)
		assert_int_equal(ts_jwk_generate(i % 2 ? TS_ALG_EDDSA : TS_ALG_ES256, &k[i]), TS_OK);
	for (round = 0; round < 3; round++) {
		for (i = 0; i < NKEYS; i++) {
			struct ts_buf b;
			ts_buf_init(&b, BUF_MAX);
			assert_int_equal(ts_jws_sign(k[i], "JWT", "{}", 2, &b), TS_OK);
			assert_int_equal(parse_verify(b.p, k[i]), TS_OK);
			assert_int_equal(parse_verify(b.p, k[(i + 2) % NKEYS]), TS_EDENIED);
			ts_buf_clear(&b);
		}
	}
	for (i = 0; i < NKEYS; i++)
		ts_jwk_free(k[i]);
}

/* A long-lived worker thread signs with whatever key it is handed. The main
 * thread frees each key and makes a new one, whose memory often lands where
 * the old one was: the worker's cache must not hand back the old context. */
struct worker {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct ts_jwk *job; /* key to sign with; NULL to quit */
	bool pending, quit;
	int rc;             /* ts_jws_verify of the worker's token */
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct ts_buf b;
		while (!w->pending && !w->quit)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->quit)
			break;
		ts_buf_init(&b, BUF_MAX);
		w->rc = ts_jws_sign(w->job, NULL, "{}", 2, &b);
		if (w->rc == TS_OK)
			w->rc = parse_verify(b.p, w->job);
		ts_buf_clear(&b);
		w->pending = false;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static void test_sign_cache_key_reuse(void **state)
{
	struct worker w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, false, false,
			   -1};
	pthread_t th;
	uintptr_t prev = 0;
	int i, reused = 0;
	(void)state;
	assert_int_equal(pthread_create(&th, NULL, worker_main, &w), 0);
	for (i = 0; i < 24; i++) {
		struct ts_jwk *k = NULL;
		assert_int_equal(ts_jwk_generate(i % 3 ? TS_ALG_ES256 : TS_ALG_EDDSA, &k), TS_OK);
		reused += (uintptr_t)k == prev;
		prev = (uintptr_t)k;
		pthread_mutex_lock(&w.mu);
		w.job = k;
		w.pending = true;
		pthread_cond_broadcast(&w.cv);
		while (w.pending)
			pthread_cond_wait(&w.cv, &w.mu);
		assert_int_equal(w.rc, TS_OK);
		pthread_mutex_unlock(&w.mu);
		ts_jwk_free(k);
	}
	pthread_mutex_lock(&w.mu);
	w.quit = true;
	pthread_cond_broadcast(&w.cv);
	pthread_mutex_unlock(&w.mu);
	assert_int_equal(pthread_join(th, NULL), 0);
	/* AddressSanitizer quarantines freed memory, so addresses are not
	 * reused and this test only has teeth in a build without it. */
	if (reused == 0)
		print_message("note: no key address was reused (allocator quarantine?)\n");
}

struct signer_arg {
	struct ts_jwk *k;
	int failures;
};

static void *signer_main(void *arg)
{
	struct signer_arg *a = arg;
	int i;

	for (i = 0; i < SIGNS_PER_THREAD; i++) {
		struct ts_buf b;
		char payload[64];
		int n = snprintf(payload, sizeof(payload), "{\"i\":%d}", i);
		ts_buf_init(&b, BUF_MAX);
		if (ts_jws_sign(a->k, "at+jwt", payload, (size_t)n, &b) != TS_OK ||
		    parse_verify(b.p, a->k) != TS_OK)
			a->failures++;
		ts_buf_clear(&b);
	}
	/* Thread exit frees this thread's signing cache (LeakSanitizer). */
	return NULL;
}

static void test_sign_threads(void **state)
{
	pthread_t th[N_THREADS];
	struct signer_arg args[N_THREADS];
	size_t i;
	(void)state;
	for (i = 0; i < N_THREADS; i++) {
		args[i].k = keys[all_algs[i % TS_ARRAY_LEN(all_algs)]];
		args[i].failures = 0;
		assert_int_equal(pthread_create(&th[i], NULL, signer_main, &args[i]), 0);
	}
	for (i = 0; i < N_THREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(args[i].failures, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alg_names),
		cmocka_unit_test(test_rfc_vectors_verify),
		cmocka_unit_test(test_rfc7520_kid_and_use),
		cmocka_unit_test(test_rfc7520_ps384_refused),
		cmocka_unit_test(test_rfc7638_thumbprint),
		cmocka_unit_test(test_rfc8037_ed25519),
		cmocka_unit_test(test_sign_verify_roundtrip),
		cmocka_unit_test(test_sign_appends),
		cmocka_unit_test(test_sign_refusals),
		cmocka_unit_test(test_parse_refuses_headers),
		cmocka_unit_test(test_parse_embedded_allows_only_jwk),
		cmocka_unit_test(test_parse_refuses_structure),
		cmocka_unit_test(test_parse_caps),
		cmocka_unit_test(test_verify_failures),
		cmocka_unit_test(test_es256_high_s_refused),
		cmocka_unit_test(test_verify_alg_pinning),
		cmocka_unit_test(test_verify_rsa_and_eddsa_tamper),
		cmocka_unit_test(test_verified_signatures_remembered),
		cmocka_unit_test(test_ecdsa_der_conversion),
		cmocka_unit_test(test_pkcs8_roundtrip),
		cmocka_unit_test(test_pkcs8_decoder),
		cmocka_unit_test(test_public_json),
		cmocka_unit_test(test_jwk_import_rejects),
		cmocka_unit_test(test_jwk_import_okp_and_text),
		cmocka_unit_test(test_sign_cache_eviction),
		cmocka_unit_test(test_sign_cache_key_reuse),
		cmocka_unit_test(test_sign_threads),
	};
	return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
