/* test_jose_jwk.c: JWKs: the thumbprints of RFC 7638 §3.1 and the
 * Ed25519 keys of RFC 8037 App. A (private key from PKCS#8, public half,
 * thumbprint as kid, the exact signature), export and import as PKCS#8 and
 * the reusable decoder, the public JWK published for a key of every
 * algorithm, and the import's refusals: points off the curve, members of the wrong size
 * or type, small RSA moduli, and key types, "alg" or "use" that do not fit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jose/internal.h"
#include "jose/jose.h"
#include "test_jose_fixture.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7638_thumbprint),
		cmocka_unit_test(test_rfc8037_ed25519),
		cmocka_unit_test(test_pkcs8_roundtrip),
		cmocka_unit_test(test_pkcs8_decoder),
		cmocka_unit_test(test_public_json),
		cmocka_unit_test(test_jwk_import_rejects),
		cmocka_unit_test(test_jwk_import_okp_and_text),
	};
	return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
