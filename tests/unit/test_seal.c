/* test_seal.c: AES-256-GCM against the GCM specification's 256-bit test
 * cases 13-16 (McGrew & Viega, Appendix B), and the sealed-value format:
 * round trips, AAD binding, key ids, tampering and malformed input. */
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

#include "core/core.h"

#define KEY_A "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define KEY_B "f0e0d0c0b0a090807060504030201000ffeeddccbbaa99887766554433221100"
#define SEAL_HDR_LEN 20 /* "v1." + 16-char kid + "." */
#define GCM_NONCE_LEN 12
#define GCM_TAG_LEN 16

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

/* Hex member of a vector object into a fresh buffer (at least 1 byte). */
static unsigned char *hex_member(const json_t *o, const char *name, size_t *n)
{
	const char *s = json_string_value(json_object_get(o, name));
	unsigned char *out;

	assert_non_null(s);
	out = malloc(strlen(s) / 2 + 1);
	assert_non_null(out);
	assert_int_equal(ts_hex_decode(s, strlen(s), out, strlen(s) / 2 + 1, n), TS_OK);
	return out;
}

static void test_gcm_spec_vectors(void **state)
{
	json_t *v = load_vector("seal/gcm_aes256_mcgrew_viega.json");
	json_t *cases = json_object_get(v, "cases"), *c;
	size_t i, nc = 0;
	(void)state;
	json_array_foreach(cases, i, c) {
		size_t klen, ivlen, ptlen, aadlen, ctlen, taglen;
		unsigned char *key = hex_member(c, "key", &klen), *iv = hex_member(c, "iv", &ivlen);
		unsigned char *pt = hex_member(c, "pt", &ptlen), *aad = hex_member(c, "aad", &aadlen);
		unsigned char *ct = hex_member(c, "ct", &ctlen), *tag = hex_member(c, "tag", &taglen);
		unsigned char out[128], back[128], gotag[GCM_TAG_LEN];

		assert_int_equal(klen, 32);
		assert_int_equal(taglen, GCM_TAG_LEN);
		assert_int_equal(ptlen, ctlen);
		assert_int_equal(ts_aes256gcm_encrypt(key, iv, ivlen, aad, aadlen, pt, ptlen, out,
						      gotag), TS_OK);
		if (ctlen > 0)
			assert_memory_equal(out, ct, ctlen);
		assert_memory_equal(gotag, tag, GCM_TAG_LEN);
		assert_int_equal(ts_aes256gcm_decrypt(key, iv, ivlen, aad, aadlen, ct, ctlen, tag,
						      back), TS_OK);
		if (ptlen > 0)
			assert_memory_equal(back, pt, ptlen);
		/* Any flipped tag bit is refused, and no plaintext is left behind. */
		tag[GCM_TAG_LEN - 1] ^= 0x01;
		memset(back, 0xa5, sizeof(back));
		assert_int_equal(ts_aes256gcm_decrypt(key, iv, ivlen, aad, aadlen, ct, ctlen, tag,
						      back), TS_ECRYPTO);
		if (ptlen > 0) {
			static const unsigned char zeros[128];
			assert_memory_equal(back, zeros, ptlen);
		}
		tag[GCM_TAG_LEN - 1] ^= 0x01;
		/* AAD is authenticated: dropping or altering it fails. */
		if (aadlen > 0) {
			assert_int_equal(ts_aes256gcm_decrypt(key, iv, ivlen, NULL, 0, ct, ctlen, tag,
							      back), TS_ECRYPTO);
		}
		free(key);
		free(iv);
		free(pt);
		free(aad);
		free(ct);
		free(tag);
		nc++;
	}
	assert_int_equal(nc, 4); /* test cases 13, 14, 15, 16 */
	json_decref(v);
}

static void test_gcm_rejects_bad_iv(void **state)
{
	unsigned char key[32] = {0}, iv[12] = {0}, tag[16], ct[4];
	(void)state;
	assert_int_equal(ts_aes256gcm_encrypt(key, iv, 0, NULL, 0, (const unsigned char *)"abcd",
					      4, ct, tag), TS_EINVAL);
	assert_int_equal(ts_aes256gcm_decrypt(key, iv, 0, NULL, 0, ct, 4, tag, ct), TS_EINVAL);
}

/* Empty plaintext with NULL buffers: test case 13's tag, and a seal of
 * nothing that opens to nothing. */
static void test_gcm_empty_null_buffers(void **state)
{
	static const unsigned char tc13_tag[16] = {0x53, 0x0f, 0x8a, 0xfb, 0xc7, 0x45, 0x36, 0xb9,
						   0xa9, 0x63, 0xb4, 0xf1, 0xc4, 0xcb, 0x73, 0x8b};
	unsigned char key[32] = {0}, iv[12] = {0}, tag[16];
	struct ts_master_key mk;
	unsigned char *pt = NULL;
	size_t ptlen = 1;
	char *sealed = NULL;
	(void)state;
	assert_int_equal(ts_aes256gcm_encrypt(key, iv, sizeof(iv), NULL, 0, NULL, 0, NULL, tag),
			 TS_OK);
	assert_memory_equal(tag, tc13_tag, 16);
	assert_int_equal(ts_aes256gcm_decrypt(key, iv, sizeof(iv), NULL, 0, NULL, 0, tag, NULL),
			 TS_OK);
	assert_int_equal(ts_master_key_parse(KEY_A, &mk), TS_OK);
	assert_int_equal(ts_seal(&mk, NULL, NULL, 0, &sealed), TS_OK);
	assert_int_equal(ts_unseal(&mk, 1, "", sealed, &pt, &ptlen), TS_OK);
	assert_int_equal(ptlen, 0);
	assert_int_equal(pt[0], '\0');
	free(pt);
	free(sealed);
	assert_int_equal(ts_seal(&mk, "aad", NULL, 1, &sealed), TS_EINVAL);
	assert_null(sealed);
}

static void test_master_key_parse(void **state)
{
	static const struct {
		const char *hex;
		int rc;
	} v[] = {
		{KEY_A, TS_OK},
		{"000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", TS_OK},
		{"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1", TS_EINVAL},
		{"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f0", TS_EINVAL},
		{"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g", TS_EINVAL},
		{"", TS_EINVAL},
		{NULL, TS_EINVAL},
	};
	struct ts_master_key mk;
	size_t i;
	(void)state;
	for (i = 0; i < TS_ARRAY_LEN(v); i++)
		assert_int_equal(ts_master_key_parse(v[i].hex, &mk), v[i].rc);
}

static void test_master_key_kid(void **state)
{
	static const char label[] = "tessera-master-key-id";
	unsigned char buf[sizeof(label) - 1 + TS_MASTER_KEY_LEN];
	char hex[2 * TS_SHA256_LEN + 1];
	struct ts_master_key a, b;
	size_t n;
	(void)state;
	assert_int_equal(ts_master_key_parse(KEY_A, &a), TS_OK);
	assert_int_equal(ts_master_key_parse(KEY_B, &b), TS_OK);
	/* kid = first 16 hex chars of SHA-256("tessera-master-key-id" || key) */
	memcpy(buf, label, sizeof(label) - 1);
	assert_int_equal(ts_hex_decode(KEY_A, 64, buf + sizeof(label) - 1, TS_MASTER_KEY_LEN, &n),
			 TS_OK);
	assert_memory_equal(a.key, buf + sizeof(label) - 1, TS_MASTER_KEY_LEN);
	ts_sha256_hex(buf, sizeof(buf), hex);
	hex[16] = '\0';
	assert_string_equal(a.kid, hex);
	assert_int_equal(strlen(a.kid), 16);
	assert_string_not_equal(a.kid, b.kid);
}

static void test_seal_roundtrip(void **state)
{
	static const struct {
		const char *pt;
		size_t len;
		const char *aad;
	} v[] = {
		{"", 0, "tenant:t1/connection:c1/refresh_token"},
		{"x", 1, ""},
		{"refresh-token-value", 19, "tenant:t1/connection:c1/refresh_token"},
		{"nul\0inside\0bytes", 16, "aad"},
		{"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789", 74,
		 "a"},
	};
	struct ts_master_key mk;
	size_t i;
	(void)state;
	assert_int_equal(ts_master_key_parse(KEY_A, &mk), TS_OK);
	for (i = 0; i < TS_ARRAY_LEN(v); i++) {
		char *sealed = NULL, kid[17];
		unsigned char *pt = NULL;
		size_t ptlen = 0;

		assert_int_equal(ts_seal(&mk, v[i].aad, v[i].pt, v[i].len, &sealed), TS_OK);
		assert_non_null(sealed);
		assert_int_equal(strncmp(sealed, "v1.", 3), 0);
		assert_int_equal(strncmp(sealed + 3, mk.kid, 16), 0);
		assert_int_equal(sealed[19], '.');
		/* nonce, ciphertext and tag, base64url without padding */
		assert_int_equal(strlen(sealed) - SEAL_HDR_LEN,
				 ts_b64url_encoded_len(GCM_NONCE_LEN + v[i].len + GCM_TAG_LEN));
		assert_int_equal(ts_sealed_kid(sealed, kid), TS_OK);
		assert_string_equal(kid, mk.kid);
		assert_int_equal(ts_unseal(&mk, 1, v[i].aad, sealed, &pt, &ptlen), TS_OK);
		assert_int_equal(ptlen, v[i].len);
		if (ptlen > 0)
			assert_memory_equal(pt, v[i].pt, ptlen);
		assert_int_equal(pt[ptlen], '\0');
		OPENSSL_cleanse(pt, ptlen);
		free(pt);
		free(sealed);
	}
}

static void test_seal_nonce_is_random(void **state)
{
	struct ts_master_key mk;
	char *a = NULL, *b = NULL;
	(void)state;
	assert_int_equal(ts_master_key_parse(KEY_A, &mk), TS_OK);
	assert_int_equal(ts_seal(&mk, "aad", "same", 4, &a), TS_OK);
	assert_int_equal(ts_seal(&mk, "aad", "same", 4, &b), TS_OK);
	assert_string_not_equal(a, b);
	free(a);
	free(b);
}

static void test_unseal_wrong_aad(void **state)
{
	static const char *const wrong[] = {"tenant:t2/connection:c1/refresh_token",
					    "tenant:t1/connection:c1/refresh_toke", "", NULL};
	struct ts_master_key mk;
	unsigned char *pt = NULL;
	size_t ptlen = 0, i;
	char *sealed = NULL;
	(void)state;
	assert_int_equal(ts_master_key_parse(KEY_A, &mk), TS_OK);
	assert_int_equal(ts_seal(&mk, "tenant:t1/connection:c1/refresh_token", "secret", 6, &sealed),
			 TS_OK);
	for (i = 0; i < TS_ARRAY_LEN(wrong); i++) {
		assert_int_equal(ts_unseal(&mk, 1, wrong[i], sealed, &pt, &ptlen), TS_ECRYPTO);
		assert_null(pt);
		assert_int_equal(ptlen, 0);
	}
	free(sealed);
}

static void test_unseal_wrong_key(void **state)
{
	struct ts_master_key a, b, forged;
	unsigned char *pt = NULL;
	size_t ptlen = 0;
	char *sealed = NULL;
	(void)state;
	assert_int_equal(ts_master_key_parse(KEY_A, &a), TS_OK);
	assert_int_equal(ts_master_key_parse(KEY_B, &b), TS_OK);
	assert_int_equal(ts_seal(&a, "aad", "secret", 6, &sealed), TS_OK);
	/* Unknown key id: nothing to try. */
	assert_int_equal(ts_unseal(&b, 1, "aad", sealed, &pt, &ptlen), TS_ENOTFOUND);
	assert_int_equal(ts_unseal(&b, 0, "aad", sealed, &pt, &ptlen), TS_ENOTFOUND);
	assert_null(pt);
	/* A key claiming A's id but holding B's bytes fails authentication. */
	forged = b;
	memcpy(forged.kid, a.kid, sizeof(forged.kid));
	assert_int_equal(ts_unseal(&forged, 1, "aad", sealed, &pt, &ptlen), TS_ECRYPTO);
	assert_null(pt);
	free(sealed);
}

static void test_unseal_key_rotation(void **state)
{
	struct ts_master_key keys[2];
	unsigned char *pt = NULL;
	size_t ptlen = 0;
	char *old = NULL, *cur = NULL;
	(void)state;
	assert_int_equal(ts_master_key_parse(KEY_B, &keys[0]), TS_OK); /* current */
	assert_int_equal(ts_master_key_parse(KEY_A, &keys[1]), TS_OK); /* previous */
	assert_int_equal(ts_seal(&keys[1], "aad", "old", 3, &old), TS_OK);
	assert_int_equal(ts_seal(&keys[0], "aad", "new", 3, &cur), TS_OK);
	assert_int_equal(ts_unseal(keys, 2, "aad", old, &pt, &ptlen), TS_OK);
	assert_memory_equal(pt, "old", 3);
	free(pt);
	assert_int_equal(ts_unseal(keys, 2, "aad", cur, &pt, &ptlen), TS_OK);
	assert_memory_equal(pt, "new", 3);
	free(pt);
	free(old);
	free(cur);
}

/* Decodes the body of sealed, flips one bit at raw offset off (negative
 * counts from the end) and re-encodes it canonically. */
static char *tamper(const char *sealed, long off)
{
	const char *body = sealed + SEAL_HDR_LEN;
	unsigned char raw[256];
	size_t n = 0, cap;
	char *out;

	assert_int_equal(ts_b64url_decode(body, strlen(body), raw, sizeof(raw), &n), TS_OK);
	raw[off >= 0 ? (size_t)off : n - (size_t)(-off)] ^= 0x04;
	cap = SEAL_HDR_LEN + ts_b64url_encoded_len(n) + 1;
	out = malloc(cap);
	assert_non_null(out);
	memcpy(out, sealed, SEAL_HDR_LEN);
	ts_b64url_encode(raw, n, out + SEAL_HDR_LEN, cap - SEAL_HDR_LEN);
	return out;
}

static void test_unseal_tampered(void **state)
{
	static const long offsets[] = {
		0,                 /* nonce */
		GCM_NONCE_LEN + 2, /* ciphertext */
		-1,                /* last tag byte */
		-GCM_TAG_LEN,      /* first tag byte */
	};
	struct ts_master_key mk;
	unsigned char *pt = NULL;
	size_t ptlen = 0, i;
	char *sealed = NULL;
	(void)state;
	assert_int_equal(ts_master_key_parse(KEY_A, &mk), TS_OK);
	assert_int_equal(ts_seal(&mk, "aad", "some secret value", 17, &sealed), TS_OK);
	for (i = 0; i < TS_ARRAY_LEN(offsets); i++) {
		char *bad = tamper(sealed, offsets[i]);
		assert_int_equal(ts_unseal(&mk, 1, "aad", bad, &pt, &ptlen), TS_ECRYPTO);
		assert_null(pt);
		free(bad);
	}
	free(sealed);
}

static void test_unseal_malformed(void **state)
{
	struct ts_master_key mk;
	unsigned char *pt = NULL;
	size_t ptlen = 0, i;
	char *sealed = NULL, buf[512], kid[17];
	(void)state;
	assert_int_equal(ts_master_key_parse(KEY_A, &mk), TS_OK);
	assert_int_equal(ts_seal(&mk, "aad", "value", 5, &sealed), TS_OK);
	{
		/* Each row is a mutation of a valid sealed value. */
		const char *const rows[] = {
			"",
			"v1.",
			"v2.0123456789abcdef.AAAA",
			"v1.0123456789ABCDEF.AAAA",  /* kid is lowercase hex */
			"v1.0123456789abcde.AAAA",   /* short kid */
			"v1.0123456789abcdefAAAAA",  /* no separator */
		};
		for (i = 0; i < TS_ARRAY_LEN(rows); i++) {
			assert_int_equal(ts_unseal(&mk, 1, "aad", rows[i], &pt, &ptlen), TS_EINVAL);
			assert_int_equal(ts_sealed_kid(rows[i], kid), TS_EINVAL);
		}
	}
	/* Valid kid but a body too short for nonce and tag, or not base64url. */
	snprintf(buf, sizeof(buf), "v1.%s.%s", mk.kid, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	assert_int_equal(ts_unseal(&mk, 1, "aad", buf, &pt, &ptlen), TS_EINVAL);
	snprintf(buf, sizeof(buf), "%s=", sealed);
	assert_int_equal(ts_unseal(&mk, 1, "aad", buf, &pt, &ptlen), TS_EINVAL);
	snprintf(buf, sizeof(buf), "%s.x", sealed);
	assert_int_equal(ts_unseal(&mk, 1, "aad", buf, &pt, &ptlen), TS_EINVAL);
	/* Truncating the body drops tag bytes: refused one way or another. */
	snprintf(buf, sizeof(buf), "%.*s", (int)strlen(sealed) - 4, sealed);
	assert_int_not_equal(ts_unseal(&mk, 1, "aad", buf, &pt, &ptlen), TS_OK);
	assert_int_equal(ts_unseal(&mk, 1, "aad", NULL, &pt, &ptlen), TS_EINVAL);
	assert_null(pt);
	free(sealed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gcm_spec_vectors),
		cmocka_unit_test(test_gcm_rejects_bad_iv),
		cmocka_unit_test(test_gcm_empty_null_buffers),
		cmocka_unit_test(test_master_key_parse),
		cmocka_unit_test(test_master_key_kid),
		cmocka_unit_test(test_seal_roundtrip),
		cmocka_unit_test(test_seal_nonce_is_random),
		cmocka_unit_test(test_unseal_wrong_aad),
		cmocka_unit_test(test_unseal_wrong_key),
		cmocka_unit_test(test_unseal_key_rotation),
		cmocka_unit_test(test_unseal_tampered),
		cmocka_unit_test(test_unseal_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
