/* seal.c: AES-256-GCM (NIST SP 800-38D) on OpenSSL EVP, and the sealed-value
 * format "v1.<kid>.<base64url(nonce || ciphertext || tag)>" used to keep
 * signing keys and provider tokens encrypted at rest under the master key.
 * The associated data names where a value belongs, so a copy elsewhere
 * fails to open. */
#include "core.h"

#include "wire/ascii.h"

#include <limits.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GCM_TAG_LEN 16
#define GCM_IV_MAX 128 /* the provider's limit; we only ever use 12 */
#define SEAL_NONCE_LEN 12 /* SP 800-38D §8.2.2: random 96-bit IVs */
#define SEAL_KID_LEN 16
#define SEAL_PREFIX "v1."
#define SEAL_PREFIX_LEN (sizeof(SEAL_PREFIX) - 1)
#define MASTER_KID_LABEL "tessera-master-key-id"

int ts_master_key_parse(const char *hex, struct ts_master_key *out)
{
	unsigned char buf[sizeof(MASTER_KID_LABEL) - 1 + TS_MASTER_KEY_LEN];
	char digest_hex[2 * TS_SHA256_LEN + 1];
	size_t n = 0;
	int rc = TS_EINVAL;

	memset(out, 0, sizeof(*out));
	if (hex == NULL || strlen(hex) != 2 * TS_MASTER_KEY_LEN)
		goto out;
	rc = ts_hex_decode(hex, 2 * TS_MASTER_KEY_LEN, out->key, sizeof(out->key), &n);
	if (rc != TS_OK || n != TS_MASTER_KEY_LEN) {
		rc = TS_EINVAL;
		goto out;
	}
	/* The key id is a public digest of the key, so sealed values can name
	 * their key without revealing anything about it. */
	memcpy(buf, MASTER_KID_LABEL, sizeof(MASTER_KID_LABEL) - 1);
	memcpy(buf + sizeof(MASTER_KID_LABEL) - 1, out->key, TS_MASTER_KEY_LEN);
	ts_sha256_hex(buf, sizeof(buf), digest_hex);
	memcpy(out->kid, digest_hex, SEAL_KID_LEN);
	out->kid[SEAL_KID_LEN] = '\0';
	rc = TS_OK;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	if (rc != TS_OK)
		OPENSSL_cleanse(out, sizeof(*out));
	return rc;
}

/* Creates a context for AES-256-GCM with key and an IV of any length the
 * provider accepts. The IV length must be set before the IV itself. */
static EVP_CIPHER_CTX *gcm_ctx_new(bool enc, const unsigned char key[32], const unsigned char *iv,
				   size_t ivlen)
{
	EVP_CIPHER_CTX *ctx = NULL;
	OSSL_PARAM params[2];

	if (iv == NULL || ivlen == 0 || ivlen > GCM_IV_MAX)
		return NULL;
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL)
		return NULL;
	params[0] = OSSL_PARAM_construct_size_t(OSSL_CIPHER_PARAM_AEAD_IVLEN, &ivlen);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_CipherInit_ex2(ctx, EVP_aes_256_gcm(), NULL, NULL, enc ? 1 : 0, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_params(ctx, params) != 1 ||
	    EVP_CipherInit_ex2(ctx, NULL, key, iv, enc ? 1 : 0, NULL) != 1) {
		ts_log_openssl("AES-256-GCM init");
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static bool len_ok(size_t n)
{
	return n <= (size_t)INT_MAX;
}

int ts_aes256gcm_encrypt(const unsigned char key[32], const unsigned char *iv, size_t ivlen,
			 const unsigned char *aad, size_t aadlen, const unsigned char *pt,
			 size_t ptlen, unsigned char *ct, unsigned char tag[16])
{
	EVP_CIPHER_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	unsigned char fin[GCM_TAG_LEN];
	int outl = 0, rc = TS_ECRYPTO;

	if (!len_ok(aadlen) || !len_ok(ptlen))
		return TS_ETOOBIG;
	if (ivlen == 0 || ivlen > GCM_IV_MAX)
		return TS_EINVAL;
	ctx = gcm_ctx_new(true, key, iv, ivlen);
	if (ctx == NULL)
		goto out;
	if (aadlen > 0 && EVP_EncryptUpdate(ctx, NULL, &outl, aad, (int)aadlen) != 1)
		goto out;
	if (ptlen > 0 && EVP_EncryptUpdate(ctx, ct, &outl, pt, (int)ptlen) != 1)
		goto out;
	/* GCM is a stream mode: Final writes no bytes (ct may be NULL when
	 * ptlen is 0), but it computes the tag. */
	if (EVP_EncryptFinal_ex(ctx, fin, &outl) != 1 || outl != 0)
		goto out;
	params[0] = OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, GCM_TAG_LEN);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_CIPHER_CTX_get_params(ctx, params) != 1)
		goto out;
	rc = TS_OK;
out:
	if (rc != TS_OK)
		ts_log_openssl("AES-256-GCM encrypt");
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int ts_aes256gcm_decrypt(const unsigned char key[32], const unsigned char *iv, size_t ivlen,
			 const unsigned char *aad, size_t aadlen, const unsigned char *ct,
			 size_t ctlen, const unsigned char tag[16], unsigned char *pt)
{
	EVP_CIPHER_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	unsigned char tagbuf[GCM_TAG_LEN], fin[GCM_TAG_LEN];
	int outl = 0, rc = TS_ECRYPTO;

	if (!len_ok(aadlen) || !len_ok(ctlen))
		return TS_ETOOBIG;
	if (ivlen == 0 || ivlen > GCM_IV_MAX)
		return TS_EINVAL;
	ctx = gcm_ctx_new(false, key, iv, ivlen);
	if (ctx == NULL)
		goto out;
	if (aadlen > 0 && EVP_DecryptUpdate(ctx, NULL, &outl, aad, (int)aadlen) != 1)
		goto out;
	if (ctlen > 0 && EVP_DecryptUpdate(ctx, pt, &outl, ct, (int)ctlen) != 1)
		goto out;
	/* SP 800-38D §7.2: the full 16-byte tag is always compared; a
	 * truncated tag is never accepted because its length is fixed here. */
	memcpy(tagbuf, tag, GCM_TAG_LEN);
	params[0] = OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tagbuf,
						      GCM_TAG_LEN);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_CIPHER_CTX_set_params(ctx, params) != 1)
		goto out;
	if (EVP_DecryptFinal_ex(ctx, fin, &outl) != 1 || outl != 0)
		goto out;
	rc = TS_OK;
out:
	/* Never hand back plaintext that failed authentication. A tag
	 * mismatch is an input error, not ours: it is not logged, and the
	 * error queue is left clean for the next caller. */
	if (rc != TS_OK) {
		if (ctlen > 0)
			OPENSSL_cleanse(pt, ctlen);
		ERR_clear_error();
	}
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int ts_seal(const struct ts_master_key *mk, const char *aad, const void *pt, size_t ptlen,
	    char **out)
{
	unsigned char *raw = NULL;
	size_t rawlen, b64len, total;
	char *s = NULL;
	int rc;

	*out = NULL;
	if (mk == NULL || (pt == NULL && ptlen > 0))
		return TS_EINVAL;
	if (ptlen > (size_t)INT_MAX - SEAL_NONCE_LEN - GCM_TAG_LEN)
		return TS_ETOOBIG;
	if (aad == NULL)
		aad = "";
	rawlen = SEAL_NONCE_LEN + ptlen + GCM_TAG_LEN;
	raw = ts_xmalloc(rawlen);
	rc = ts_rand_bytes(raw, SEAL_NONCE_LEN);
	if (rc != TS_OK)
		goto out;
	rc = ts_aes256gcm_encrypt(mk->key, raw, SEAL_NONCE_LEN, (const unsigned char *)aad,
				  strlen(aad), pt, ptlen, raw + SEAL_NONCE_LEN,
				  raw + SEAL_NONCE_LEN + ptlen);
	if (rc != TS_OK)
		goto out;
	b64len = ts_b64url_encoded_len(rawlen);
	total = SEAL_PREFIX_LEN + SEAL_KID_LEN + 1 + b64len + 1;
	s = ts_xmalloc(total);
	memcpy(s, SEAL_PREFIX, SEAL_PREFIX_LEN);
	memcpy(s + SEAL_PREFIX_LEN, mk->kid, SEAL_KID_LEN);
	s[SEAL_PREFIX_LEN + SEAL_KID_LEN] = '.';
	ts_b64url_encode(raw, rawlen, s + SEAL_PREFIX_LEN + SEAL_KID_LEN + 1, b64len + 1);
	*out = s;
out:
	/* The ciphertext is not secret, but raw briefly held nothing else;
	 * wiping it costs little and keeps the rule simple. */
	OPENSSL_cleanse(raw, rawlen);
	free(raw);
	return rc;
}

/* Splits a sealed value into its key id and base64url body. TS_EINVAL if
 * the text is not "v1.<16 lowercase hex>.<body>". */
static int seal_split(const char *sealed, char kid[SEAL_KID_LEN + 1], const char **body)
{
	size_t i;

	if (sealed == NULL || strncmp(sealed, SEAL_PREFIX, SEAL_PREFIX_LEN) != 0)
		return TS_EINVAL;
	for (i = 0; i < SEAL_KID_LEN; i++) {
		char c = sealed[SEAL_PREFIX_LEN + i];
		if (!ts_is_xdigit_lower((unsigned char)c))
			return TS_EINVAL;
		kid[i] = c;
	}
	kid[SEAL_KID_LEN] = '\0';
	if (sealed[SEAL_PREFIX_LEN + SEAL_KID_LEN] != '.')
		return TS_EINVAL;
	*body = sealed + SEAL_PREFIX_LEN + SEAL_KID_LEN + 1;
	return TS_OK;
}

int ts_sealed_kid(const char *sealed, char out[17])
{
	const char *body;

	return seal_split(sealed, out, &body);
}

const char *ts_unseal_cause(int rc, const char *sealed, const struct ts_master_key *keys,
			    size_t nkeys, char *buf, size_t cap)
{
	char kid[SEAL_KID_LEN + 1];

	if (sealed == NULL || nkeys == 0)
		snprintf(buf, cap, "no master key or no sealed value");
	else if (ts_sealed_kid(sealed, kid) != TS_OK)
		snprintf(buf, cap, "the sealed value is malformed");
	else if (rc == TS_ENOTFOUND)
		snprintf(buf, cap,
			 "it was sealed under master key %s, but the master key is %s and no old "
			 "key (TESSERA_MASTER_KEY_OLD) has that id",
			 kid, keys[0].kid);
	else if (rc == TS_ECRYPTO)
		snprintf(buf, cap,
			 "master key %s did not open it: the sealed value is damaged or was not "
			 "sealed for this record",
			 kid);
	else
		snprintf(buf, cap, "%s", ts_rc_str(rc));
	return buf;
}

int ts_unseal(const struct ts_master_key *keys, size_t nkeys, const char *aad,
	      const char *sealed, unsigned char **pt, size_t *ptlen)
{
	const struct ts_master_key *mk = NULL;
	char kid[SEAL_KID_LEN + 1];
	const char *body;
	unsigned char *raw = NULL, *plain = NULL;
	size_t i, bodylen, cap = 0, rawlen = 0, n = 0;
	int rc;

	*pt = NULL;
	*ptlen = 0;
	rc = seal_split(sealed, kid, &body);
	if (rc != TS_OK)
		return rc;
	for (i = 0; i < nkeys; i++) {
		if (strcmp(keys[i].kid, kid) == 0) {
			mk = &keys[i];
			break;
		}
	}
	if (mk == NULL)
		return TS_ENOTFOUND;
	if (aad == NULL)
		aad = "";
	bodylen = strlen(body);
	if (bodylen > (size_t)INT_MAX)
		return TS_ETOOBIG;
	cap = bodylen / 4 * 3 + 3;
	raw = ts_xmalloc(cap);
	rc = ts_b64url_decode(body, bodylen, raw, cap, &rawlen);
	if (rc != TS_OK)
		goto out;
	if (rawlen < SEAL_NONCE_LEN + GCM_TAG_LEN) {
		rc = TS_EINVAL;
		goto out;
	}
	n = rawlen - SEAL_NONCE_LEN - GCM_TAG_LEN;
	plain = ts_xmalloc(n + 1);
	rc = ts_aes256gcm_decrypt(mk->key, raw, SEAL_NONCE_LEN, (const unsigned char *)aad,
				  strlen(aad), raw + SEAL_NONCE_LEN, n, raw + SEAL_NONCE_LEN + n,
				  plain);
	if (rc != TS_OK)
		goto out;
	plain[n] = '\0';
	*pt = plain;
	*ptlen = n;
	plain = NULL;
out:
	if (plain != NULL) {
		OPENSSL_cleanse(plain, n + 1);
		free(plain);
	}
	if (raw != NULL)
		OPENSSL_cleanse(raw, cap);
	free(raw);
	return rc;
}
