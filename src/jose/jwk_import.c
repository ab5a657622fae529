/* jwk_import.c: public keys from JWK JSON (RFC 7517 §4, RFC 7518 §6.2.1 and
 * §6.3.1, RFC 8037 §2). Every member is checked before OpenSSL sees it:
 * exact coordinate lengths, a point on the curve, a modulus of 2048 bits or
 * more, and an algorithm that fits the key type. Private members are
 * ignored; what comes back is always a public key. */
#include "jose/internal.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <string.h>

#define JWK_TEXT_MAX 16384
#define JWK_RSA_E_MAX 8 /* bytes; OpenSSL caps public exponents at 64 bits */
#define EC_POINT_UNCOMPRESSED 0x04 /* SEC 1 §2.3.3 */

/* Decodes the base64url string member name of o into buf. TS_EINVAL if it
 * is missing, not a string, not canonical base64url or longer than cap. */
static int member_b64(const json_t *o, const char *name, unsigned char *buf, size_t cap,
		      size_t *len)
{
	const json_t *v = json_object_get(o, name);
	int rc;

	if (!json_is_string(v))
		return TS_EINVAL;
	rc = ts_b64url_decode(json_string_value(v), json_string_length(v), buf, cap, len);
	return rc == TS_OK ? TS_OK : TS_EINVAL;
}

/* A string member that may be absent (*out = NULL) but not of another type. */
static int member_opt_str(const json_t *o, const char *name, const char **out)
{
	const json_t *v = json_object_get(o, name);

	*out = NULL;
	if (v == NULL)
		return TS_OK;
	if (!json_is_string(v))
		return TS_EINVAL;
	*out = json_string_value(v);
	return TS_OK;
}

static bool member_is(const json_t *o, const char *name, const char *want)
{
	const char *s = json_string_value(json_object_get(o, name));

	return s != NULL && strcmp(s, want) == 0;
}

/* Builds a public key of type name from params, then, when check is set,
 * runs OpenSSL's public key validation (for EC: on the curve, not the point
 * at infinity; for RSA: a sanity check of the modulus). */
static int pkey_from_params(const char *name, OSSL_PARAM_BLD *bld, bool check, EVP_PKEY **out)
{
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL, *cctx = NULL;
	EVP_PKEY *pkey = NULL;
	int rc = TS_EINVAL;

	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, name, NULL);
	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1) {
		ts_log_openssl("EVP_PKEY_fromdata_init");
		rc = TS_ECRYPTO;
		goto out;
	}
	if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto out;
	if (check) {
		cctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
		if (cctx == NULL || EVP_PKEY_public_check(cctx) != 1)
			goto out;
	}
	*out = pkey;
	pkey = NULL;
	rc = TS_OK;
out:
	/* A refused key is bad input: leave no error behind for the next
	 * unrelated OpenSSL call to report. */
	ERR_clear_error();
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(cctx);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return rc;
}

/* RFC 7518 §6.2.1: crv "P-256" and x, y of exactly 32 octets each. */
static int ec_from_jwk(const json_t *jwk, bool check, EVP_PKEY **out)
{
	unsigned char pub[1 + 2 * TS_JWK_P256_COORD_LEN];
	OSSL_PARAM_BLD *bld = NULL;
	size_t xlen = 0, ylen = 0;
	int rc = TS_EINVAL;

	if (!member_is(jwk, "crv", "P-256"))
		return TS_EINVAL;
	pub[0] = EC_POINT_UNCOMPRESSED;
	if (member_b64(jwk, "x", pub + 1, TS_JWK_P256_COORD_LEN, &xlen) != TS_OK ||
	    member_b64(jwk, "y", pub + 1 + TS_JWK_P256_COORD_LEN, TS_JWK_P256_COORD_LEN,
		       &ylen) != TS_OK ||
	    xlen != TS_JWK_P256_COORD_LEN || ylen != TS_JWK_P256_COORD_LEN)
		return TS_EINVAL;
	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub)) != 1) {
		rc = TS_ECRYPTO;
		goto out;
	}
	rc = pkey_from_params("EC", bld, check, out);
out:
	OSSL_PARAM_BLD_free(bld);
	return rc;
}

/* RFC 7518 §6.3.1: n and e as minimal big-endian octets (no leading zero);
 * the modulus must be at least 2048 bits (§3.3), which ts_jwk_build checks
 * on the imported key. */
static int rsa_from_jwk(const json_t *jwk, bool check, EVP_PKEY **out)
{
	unsigned char n[TS_JWK_RSA_MAX_BITS / 8], e[JWK_RSA_E_MAX];
	size_t nlen = 0, elen = 0;
	BIGNUM *bn_n = NULL, *bn_e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	int rc = TS_EINVAL;

	if (member_b64(jwk, "n", n, sizeof(n), &nlen) != TS_OK ||
	    member_b64(jwk, "e", e, sizeof(e), &elen) != TS_OK)
		return TS_EINVAL;
	if (nlen < TS_JWK_RSA_MIN_BITS / 8 || n[0] == 0 || elen == 0 || e[0] == 0)
		return TS_EINVAL;
	bn_n = BN_bin2bn(n, (int)nlen, NULL);
	bn_e = BN_bin2bn(e, (int)elen, NULL);
	bld = OSSL_PARAM_BLD_new();
	if (bn_n == NULL || bn_e == NULL || bld == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) != 1) {
		rc = TS_ECRYPTO;
		goto out;
	}
	rc = pkey_from_params("RSA", bld, check, out);
out:
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn_n);
	BN_free(bn_e);
	return rc;
}

/* RFC 8037 §2: kty "OKP", crv "Ed25519", x the 32-octet public key. */
static int okp_from_jwk(const json_t *jwk, EVP_PKEY **out)
{
	unsigned char x[TS_JWK_ED25519_LEN];
	size_t xlen = 0;

	if (!member_is(jwk, "crv", "Ed25519"))
		return TS_EINVAL;
	if (member_b64(jwk, "x", x, sizeof(x), &xlen) != TS_OK || xlen != sizeof(x))
		return TS_EINVAL;
	*out = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, x, xlen);
	if (*out == NULL) {
		ERR_clear_error();
		return TS_EINVAL;
	}
	return TS_OK;
}

/* Settles the one algorithm the key may be used with: the caller's pin, the
 * JWK's own "alg" (RFC 7517 §4.4), or both when they agree. */
static int settle_alg(const json_t *jwk, enum ts_jws_alg want, enum ts_jws_alg *alg)
{
	const char *name;
	enum ts_jws_alg own = TS_ALG_NONE;

	if (member_opt_str(jwk, "alg", &name) != TS_OK)
		return TS_EINVAL;
	if (name != NULL) {
		own = ts_jws_alg_parse(name);
		if (own == TS_ALG_NONE)
			return TS_EINVAL;
	}
	if (want != TS_ALG_NONE && own != TS_ALG_NONE && want != own)
		return TS_EINVAL;
	*alg = want != TS_ALG_NONE ? want : own;
	return *alg == TS_ALG_NONE ? TS_EINVAL : TS_OK;
}

static int from_json(const json_t *jwk, enum ts_jws_alg alg, bool check, struct ts_jwk **out)
{
	const char *kid, *use;
	EVP_PKEY *pkey = NULL;
	int rc;

	*out = NULL;
	if (!json_is_object(jwk))
		return TS_EINVAL;
	rc = settle_alg(jwk, alg, &alg);
	if (rc != TS_OK)
		return rc;
	/* RFC 7517 §4.2: a key meant for encryption is not a signing key. */
	if (member_opt_str(jwk, "use", &use) != TS_OK || (use != NULL && strcmp(use, "sig") != 0))
		return TS_EINVAL;
	if (member_opt_str(jwk, "kid", &kid) != TS_OK)
		return TS_EINVAL;
	if (kid != NULL && (kid[0] == '\0' || strlen(kid) > TS_KID_MAX))
		return TS_EINVAL;
	switch (alg) {
	case TS_ALG_ES256:
		rc = member_is(jwk, "kty", "EC") ? ec_from_jwk(jwk, check, &pkey) : TS_EINVAL;
		break;
	case TS_ALG_RS256:
	case TS_ALG_PS256:
		rc = member_is(jwk, "kty", "RSA") ? rsa_from_jwk(jwk, check, &pkey) : TS_EINVAL;
		break;
	case TS_ALG_EDDSA:
		rc = member_is(jwk, "kty", "OKP") ? okp_from_jwk(jwk, &pkey) : TS_EINVAL;
		break;
	default:
		rc = TS_EINVAL;
	}
	if (rc != TS_OK)
		return rc;
	return ts_jwk_build(pkey, alg, false, kid, out);
}

int ts_jwk_from_json(const json_t *jwk, enum ts_jws_alg alg, struct ts_jwk **out)
{
	return from_json(jwk, alg, true, out);
}

static int from_json_text(const char *text, size_t len, enum ts_jws_alg alg, bool check,
			  struct ts_jwk **out)
{
	json_t *jwk = NULL;
	json_error_t err;
	int rc;

	*out = NULL;
	if (text == NULL)
		return TS_EINVAL;
	if (len > JWK_TEXT_MAX)
		return TS_ETOOBIG;
	/* Duplicate members would let two readers see two different keys. */
	jwk = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
	if (jwk == NULL)
		return TS_EINVAL;
	rc = from_json(jwk, alg, check, out);
	json_decref(jwk);
	return rc;
}

int ts_jwk_from_json_text(const char *text, size_t len, enum ts_jws_alg alg,
			  struct ts_jwk **out)
{
	return from_json_text(text, len, alg, true, out);
}

int ts_jwk_from_json_text_trusted(const char *text, size_t len, enum ts_jws_alg alg,
				  struct ts_jwk **out)
{
	return from_json_text(text, len, alg, false, out);
}
