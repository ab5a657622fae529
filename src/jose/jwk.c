/* jwk.c: JSON Web Keys (RFC 7517) on OpenSSL 3 EVP_PKEY: generation,
 * PKCS#8 import and export, RFC 7638 thumbprints and the public JWK
 * (RFC 7518 §6.2, §6.3; RFC 8037 §2). Import from JWK JSON is jwk_import.c. */
#include "jose/internal.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define JWK_GROUP_NAME_MAX 64
#define JWK_PKCS8_MAX 16384 /* an 8192-bit RSA key is about 4.8 KB of DER */

/* Serials start at 1, so 0 can mean "empty" in the signing cache. */
static _Atomic uint64_t next_serial = 1;

static const char *kty_name(enum ts_jws_alg alg)
{
	switch (alg) {
	case TS_ALG_ES256: return "EC";
	case TS_ALG_RS256:
	case TS_ALG_PS256: return "RSA";
	case TS_ALG_EDDSA: return "OKP";
	default: return NULL;
	}
}

/* RFC 7518 §3.3/§3.5 want RSA keys of 2048 bits or more, §3.4 pins ES256 to
 * P-256, and RFC 8037 §3.1 EdDSA here means Ed25519 only. */
static int key_fits_alg(EVP_PKEY *pkey, enum ts_jws_alg alg)
{
	char group[JWK_GROUP_NAME_MAX];
	int bits;

	switch (alg) {
	case TS_ALG_ES256:
		if (!EVP_PKEY_is_a(pkey, "EC") ||
		    EVP_PKEY_get_group_name(pkey, group, sizeof(group), NULL) != 1)
			return TS_EINVAL;
		return strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0 ? TS_OK
											 : TS_EINVAL;
	case TS_ALG_RS256:
	case TS_ALG_PS256:
		if (!EVP_PKEY_is_a(pkey, "RSA"))
			return TS_EINVAL;
		bits = EVP_PKEY_get_bits(pkey);
		return bits >= TS_JWK_RSA_MIN_BITS && bits <= TS_JWK_RSA_MAX_BITS ? TS_OK : TS_EINVAL;
	case TS_ALG_EDDSA:
		return EVP_PKEY_is_a(pkey, "ED25519") ? TS_OK : TS_EINVAL;
	default:
		return TS_EINVAL;
	}
}

/* *out = the base64url text of p[0..n), new; TS_ENOMEM. */
static int b64_dup(const unsigned char *p, size_t n, char **out)
{
	size_t cap = ts_b64url_encoded_len(n) + 1;

	*out = ts_malloc(cap);
	if (*out == NULL)
		return TS_ENOMEM;
	ts_b64url_encode(p, n, *out, cap);
	return TS_OK;
}

/* Base64url of a BIGNUM parameter: minimal big-endian bytes (RFC 7518
 * §6.3.1: no leading zero octets) unless pad, which fixes the width
 * (§6.2.1.2: EC coordinates are always the full field size). */
static int bn_param_b64(EVP_PKEY *pkey, const char *name, size_t pad, char **out)
{
	BIGNUM *bn = NULL;
	unsigned char buf[TS_JWK_RSA_MAX_BITS / 8];
	int n, rc = TS_ECRYPTO;

	if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1)
		goto out;
	if (pad > 0)
		n = BN_bn2binpad(bn, buf, (int)pad);
	else if ((size_t)BN_num_bytes(bn) <= sizeof(buf))
		n = BN_bn2bin(bn, buf);
	else
		n = -1;
	if (n <= 0)
		goto out;
	rc = b64_dup(buf, (size_t)n, out);
out:
	BN_free(bn);
	return rc;
}

static int read_public(struct ts_jwk *k)
{
	unsigned char raw[TS_JWK_ED25519_LEN];
	size_t n = sizeof(raw);
	int rc;

	switch (k->alg) {
	case TS_ALG_ES256:
		rc = bn_param_b64(k->pkey, OSSL_PKEY_PARAM_EC_PUB_X, TS_JWK_P256_COORD_LEN, &k->a);
		if (rc == TS_OK)
			rc = bn_param_b64(k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, TS_JWK_P256_COORD_LEN,
					  &k->b);
		return rc;
	case TS_ALG_RS256:
	case TS_ALG_PS256:
		rc = bn_param_b64(k->pkey, OSSL_PKEY_PARAM_RSA_N, 0, &k->a);
		if (rc == TS_OK)
			rc = bn_param_b64(k->pkey, OSSL_PKEY_PARAM_RSA_E, 0, &k->b);
		return rc;
	case TS_ALG_EDDSA:
		if (EVP_PKEY_get_raw_public_key(k->pkey, raw, &n) != 1 || n != TS_JWK_ED25519_LEN)
			return TS_ECRYPTO;
		return b64_dup(raw, n, &k->a);
	default:
		return TS_EINVAL;
	}
}

/* RFC 7638 §3.2: the required members only, in lexicographic order, with
 * no whitespace; §3.1 hashes that UTF-8 text with SHA-256. */
static int compute_thumbprint(struct ts_jwk *k)
{
	struct ts_buf b;
	unsigned char d[TS_SHA256_LEN];
	int rc;

	ts_buf_init(&b, TS_JWS_SIG_MAX * 2);
	switch (k->alg) {
	case TS_ALG_ES256:
		rc = ts_buf_appendf(&b, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
				    k->a, k->b);
		break;
	case TS_ALG_RS256:
	case TS_ALG_PS256:
		rc = ts_buf_appendf(&b, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", k->b, k->a);
		break;
	case TS_ALG_EDDSA:
		rc = ts_buf_appendf(&b, "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}", k->a);
		break;
	default:
		rc = TS_EINVAL;
	}
	if (rc != TS_OK)
		goto out;
	ts_sha256(b.p, b.len, d);
	ts_b64url_encode(d, sizeof(d), k->thumb, sizeof(k->thumb));
out:
	ts_buf_clear(&b);
	return rc;
}

static int precompute_headers(struct ts_jwk *k)
{
	static const char *const typ[TS_JWS_TYP_NSLOTS] = {
		[TS_JWS_TYP_NONE] = NULL,
		[TS_JWS_TYP_JWT] = "JWT",
		[TS_JWS_TYP_AT_JWT] = "at+jwt", /* RFC 9068 §2.1 */
	};
	size_t i;
	int rc;

	for (i = 0; i < TS_JWS_TYP_NSLOTS; i++) {
		rc = ts_jws_header_encode(k, typ[i], &k->hdr[i], &k->hdr_len[i]);
		if (rc != TS_OK)
			return rc;
	}
	return TS_OK;
}

int ts_jwk_build(EVP_PKEY *pkey, enum ts_jws_alg alg, bool priv, const char *kid,
		 struct ts_jwk **out)
{
	struct ts_jwk *k = NULL;
	int rc;

	*out = NULL;
	if (pkey == NULL)
		return TS_EINVAL;
	k = ts_calloc(1, sizeof(*k));
	if (k == NULL) {
		EVP_PKEY_free(pkey); /* ours to free on every path */
		return TS_ENOMEM;
	}
	k->pkey = pkey;
	k->alg = alg;
	k->priv = priv;
	k->serial = atomic_fetch_add(&next_serial, 1);
	rc = key_fits_alg(pkey, alg);
	if (rc != TS_OK)
		goto out;
	rc = read_public(k);
	if (rc != TS_OK)
		goto out;
	rc = compute_thumbprint(k);
	if (rc != TS_OK)
		goto out;
	if (kid == NULL)
		kid = k->thumb;
	if (kid[0] == '\0' || strlen(kid) > TS_KID_MAX) {
		rc = TS_EINVAL;
		goto out;
	}
	memcpy(k->kid, kid, strlen(kid) + 1);
	if (priv) {
		rc = precompute_headers(k);
		if (rc != TS_OK)
			goto out;
	}
	*out = k;
	k = NULL;
out:
	ts_jwk_free(k);
	return rc;
}

int ts_jwk_generate(enum ts_jws_alg alg, struct ts_jwk **out)
{
	EVP_PKEY *pkey = NULL;

	*out = NULL;
	switch (alg) {
	case TS_ALG_ES256:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case TS_ALG_RS256:
	case TS_ALG_PS256:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)TS_JWK_RSA_MIN_BITS);
		break;
	case TS_ALG_EDDSA:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	default:
		return TS_EINVAL;
	}
	if (pkey == NULL) {
		ts_log_openssl("key generation");
		return TS_ECRYPTO;
	}
	return ts_jwk_build(pkey, alg, true, NULL, out);
}

/* Decodes PKCS#8 DER into a key of alg, checking the public half against
 * the private one when pairwise is set. */
static int from_pkcs8(enum ts_jws_alg alg, const unsigned char *der, size_t len, bool pairwise,
		      struct ts_jwk **out)
{
	OSSL_DECODER_CTX *dctx = NULL;
	EVP_PKEY_CTX *cctx = NULL;
	EVP_PKEY *pkey = NULL;
	const unsigned char *p = der;
	size_t left = len;
	int rc = TS_EINVAL;

	*out = NULL;
	if (der == NULL || len == 0 || kty_name(alg) == NULL)
		return TS_EINVAL;
	if (len > JWK_PKCS8_MAX)
		return TS_ETOOBIG;
	dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "DER", "PrivateKeyInfo", NULL,
					     EVP_PKEY_KEYPAIR, NULL, NULL);
	if (dctx == NULL) {
		ts_log_openssl("OSSL_DECODER_CTX_new_for_pkey");
		rc = TS_ECRYPTO;
		goto out;
	}
	/* Trailing bytes after the PrivateKeyInfo are refused, not ignored. */
	if (OSSL_DECODER_from_data(dctx, &p, &left) != 1 || pkey == NULL || left != 0)
		goto out;
	rc = key_fits_alg(pkey, alg);
	if (rc != TS_OK)
		goto out;
	/* The public half stored beside the private key must match it. */
	if (pairwise) {
		cctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
		if (cctx == NULL || EVP_PKEY_pairwise_check(cctx) != 1) {
			rc = TS_EINVAL;
			goto out;
		}
	}
	rc = ts_jwk_build(pkey, alg, true, NULL, out);
	pkey = NULL;
out:
	/* Decoding failures come from bad input; keep the queue clean. */
	ERR_clear_error();
	EVP_PKEY_CTX_free(cctx);
	EVP_PKEY_free(pkey);
	OSSL_DECODER_CTX_free(dctx);
	return rc;
}

int ts_jwk_from_pkcs8(enum ts_jws_alg alg, const unsigned char *der, size_t len,
		      struct ts_jwk **out)
{
	return from_pkcs8(alg, der, len, true, out);
}

/* Key types a decoder keeps a context for, by algorithm. */
enum { DEC_EC, DEC_RSA, DEC_ED25519, DEC_NTYPES };

struct ts_jwk_decoder {
	OSSL_DECODER_CTX *ctx[DEC_NTYPES]; /* made on first use */
	EVP_PKEY *pkey[DEC_NTYPES];        /* where each context puts its key */
};

static int dec_type(enum ts_jws_alg alg)
{
	switch (alg) {
	case TS_ALG_ES256: return DEC_EC;
	case TS_ALG_RS256:
	case TS_ALG_PS256: return DEC_RSA;
	case TS_ALG_EDDSA: return DEC_ED25519;
	default: return -1;
	}
}

struct ts_jwk_decoder *ts_jwk_decoder_new(void)
{
	return ts_xcalloc(1, sizeof(struct ts_jwk_decoder));
}

void ts_jwk_decoder_free(struct ts_jwk_decoder *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < DEC_NTYPES; i++) {
		OSSL_DECODER_CTX_free(d->ctx[i]);
		EVP_PKEY_free(d->pkey[i]);
	}
	free(d);
}

int ts_jwk_decoder_pkcs8(struct ts_jwk_decoder *d, enum ts_jws_alg alg, const unsigned char *der,
			 size_t len, struct ts_jwk **out)
{
	static const char *const keytype[DEC_NTYPES] = {"EC", "RSA", "ED25519"};
	const unsigned char *p = der;
	size_t left = len;
	EVP_PKEY *pkey;
	int t = dec_type(alg), rc;

	*out = NULL;
	if (t < 0 || der == NULL || len == 0)
		return TS_EINVAL;
	if (len > JWK_PKCS8_MAX)
		return TS_ETOOBIG;
	/* Setting a decoder context up (finding OpenSSL's decoders for the
	 * structure and key type) costs several times the decoding itself,
	 * so each is made once and reused. */
	if (d->ctx[t] == NULL) {
		d->ctx[t] = OSSL_DECODER_CTX_new_for_pkey(&d->pkey[t], "DER", "PrivateKeyInfo",
							  keytype[t], EVP_PKEY_KEYPAIR, NULL, NULL);
		if (d->ctx[t] == NULL) {
			ts_log_openssl("OSSL_DECODER_CTX_new_for_pkey");
			return TS_ECRYPTO;
		}
	}
	d->pkey[t] = NULL;
	if (OSSL_DECODER_from_data(d->ctx[t], &p, &left) != 1 || d->pkey[t] == NULL || left != 0) {
		ERR_clear_error();
		EVP_PKEY_free(d->pkey[t]);
		d->pkey[t] = NULL;
		return TS_EINVAL;
	}
	pkey = d->pkey[t];
	d->pkey[t] = NULL;
	rc = key_fits_alg(pkey, alg);
	if (rc != TS_OK) {
		EVP_PKEY_free(pkey);
		return rc;
	}
	return ts_jwk_build(pkey, alg, true, NULL, out);
}

int ts_jwk_to_pkcs8(const struct ts_jwk *k, unsigned char **der, size_t *len)
{
	OSSL_ENCODER_CTX *ectx = NULL;
	unsigned char *data = NULL;
	size_t n = 0;
	int rc = TS_ECRYPTO;

	*der = NULL;
	*len = 0;
	if (k == NULL || !k->priv)
		return TS_EINVAL;
	ectx = OSSL_ENCODER_CTX_new_for_pkey(k->pkey, EVP_PKEY_KEYPAIR, "DER", "PrivateKeyInfo",
					     NULL);
	if (ectx == NULL || OSSL_ENCODER_CTX_get_num_encoders(ectx) == 0 ||
	    OSSL_ENCODER_to_data(ectx, &data, &n) != 1 || n == 0) {
		ts_log_openssl("PKCS#8 encode");
		goto out;
	}
	/* Hand back memory from our allocator so the caller's free() matches. */
	*der = ts_xmalloc(n);
	memcpy(*der, data, n);
	*len = n;
	rc = TS_OK;
out:
	if (data != NULL)
		OPENSSL_clear_free(data, n);
	OSSL_ENCODER_CTX_free(ectx);
	return rc;
}

json_t *ts_jwk_public_json(const struct ts_jwk *k)
{
	const char *alg;

	if (k == NULL)
		return NULL;
	alg = ts_jws_alg_name(k->alg);
	switch (k->alg) {
	case TS_ALG_ES256:
		return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "kty", "EC", "crv", "P-256", "x",
				 k->a, "y", k->b, "kid", k->kid, "alg", alg, "use", "sig");
	case TS_ALG_RS256:
	case TS_ALG_PS256:
		return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "kty", "RSA", "n", k->a, "e", k->b,
				 "kid", k->kid, "alg", alg, "use", "sig");
	case TS_ALG_EDDSA:
		return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "kty", "OKP", "crv", "Ed25519", "x",
				 k->a, "kid", k->kid, "alg", alg, "use", "sig");
	default:
		return NULL;
	}
}

int ts_jwk_thumbprint(const struct ts_jwk *k, char out[44])
{
	if (k == NULL)
		return TS_EINVAL;
	memcpy(out, k->thumb, sizeof(k->thumb));
	return TS_OK;
}

const char *ts_jwk_kid(const struct ts_jwk *k)
{
	return k ? k->kid : NULL;
}

enum ts_jws_alg ts_jwk_alg(const struct ts_jwk *k)
{
	return k ? k->alg : TS_ALG_NONE;
}

bool ts_jwk_is_private(const struct ts_jwk *k)
{
	return k != NULL && k->priv;
}

void ts_jwk_free(struct ts_jwk *k)
{
	size_t i;

	if (k == NULL)
		return;
	ts_jws_cache_forget(k->serial);
	EVP_PKEY_free(k->pkey);
	free(k->a);
	free(k->b);
	for (i = 0; i < TS_JWS_TYP_NSLOTS; i++)
		free(k->hdr[i]);
	free(k);
}
