/* jws.c: parsing and verification of compact JWS (RFC 7515 §7.1, §5.2) with
 * the algorithms of RFC 7518 §3.3-3.5 and RFC 8037 §3.1. The parser refuses
 * whatever would let a token choose its own key or rules ("none", "crit",
 * embedded or remote keys, unencoded payloads), and verification pins the
 * header's algorithm to the key's. Signing is jws_sign.c. */
#include "jose/internal.h"

#include <openssl/err.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#define ASN1_SEQUENCE 0x30
#define ASN1_INTEGER 0x02
#define ASN1_SHORT_LEN_MAX 0x7f
#define P256_INT_LEN 32
#define ES256_DER_MAX (2 + 2 * (2 + P256_INT_LEN + 1))

struct ts_jws {
	char *input;               /* owned copy of the compact serialization */
	size_t signing_len;        /* bytes of "header.payload", the signing input */
	json_t *header;            /* owned; the decoded protected header */
	enum ts_jws_alg alg;
	const char *kid, *typ;     /* borrowed from header; NULL if absent */
	unsigned char *payload;    /* owned, NUL-terminated */
	size_t payload_len;
	unsigned char *sig;        /* owned */
	size_t sig_len;
};

static const char *const alg_names[] = {
	[TS_ALG_NONE] = "none",   [TS_ALG_ES256] = "ES256", [TS_ALG_RS256] = "RS256",
	[TS_ALG_PS256] = "PS256", [TS_ALG_EDDSA] = "EdDSA",
};

const char *ts_jws_alg_name(enum ts_jws_alg alg)
{
	if ((size_t)alg >= TS_ARRAY_LEN(alg_names))
		return alg_names[TS_ALG_NONE];
	return alg_names[alg];
}

enum ts_jws_alg ts_jws_alg_parse(const char *name)
{
	size_t i;

	if (name == NULL)
		return TS_ALG_NONE;
	/* RFC 7515 §4.1.1: "alg" values are case-sensitive. */
	for (i = TS_ALG_NONE + 1; i < TS_ARRAY_LEN(alg_names); i++) {
		if (strcmp(name, alg_names[i]) == 0)
			return (enum ts_jws_alg)i;
	}
	return TS_ALG_NONE;
}

/* Header members whose mere presence makes us refuse the token:
 * "crit" (RFC 7515 §4.1.11) names extensions we do not implement;
 * "jwk", "jku", "x5u", "x5c" (§4.1.2-4.1.6) would let the token pick its own
 * verification key; "b64" (RFC 7797 §3) changes what the signature covers. */
static const char *const refused_members[] = {"crit", "jwk", "jku", "x5u", "x5c", "b64"};
#define JWK_MEMBER 1 /* index of "jwk" in refused_members */

static int check_header(struct ts_jws *j, bool embedded_jwk)
{
	const json_t *v;
	size_t i;

	if (!json_is_object(j->header))
		return TS_EINVAL;
	for (i = 0; i < TS_ARRAY_LEN(refused_members); i++) {
		if (embedded_jwk && i == JWK_MEMBER)
			continue;
		if (json_object_get(j->header, refused_members[i]) != NULL)
			return TS_EINVAL;
	}
	/* RFC 7515 §4.1.1: "alg" is required; RFC 8725 §3.1: never "none". */
	j->alg = ts_jws_alg_parse(json_string_value(json_object_get(j->header, "alg")));
	if (j->alg == TS_ALG_NONE)
		return TS_EINVAL;
	v = json_object_get(j->header, "kid");
	if (v != NULL && (!json_is_string(v) || json_string_length(v) > TS_KID_MAX))
		return TS_EINVAL;
	j->kid = json_string_value(v);
	v = json_object_get(j->header, "typ");
	if (v != NULL && !json_is_string(v))
		return TS_EINVAL;
	j->typ = json_string_value(v);
	return TS_OK;
}

/* Decodes a base64url part into a fresh buffer with room for a NUL. */
static int decode_part(const char *p, size_t len, unsigned char **out, size_t *outlen)
{
	size_t cap = len / 4 * 3 + 3;
	int rc;

	*out = ts_malloc(cap);
	if (*out == NULL)
		return TS_ENOMEM;
	rc = ts_b64url_decode(p, len, *out, cap, outlen);
	if (rc != TS_OK)
		return TS_EINVAL;
	(*out)[*outlen] = '\0';
	return TS_OK;
}

static int parse(const char *p, size_t len, bool embedded_jwk, struct ts_jws **out)
{
	struct ts_jws *j = NULL;
	unsigned char hdr[TS_JWS_HEADER_MAX];
	const char *d1, *d2, *end;
	size_t hlen = 0;
	json_error_t jerr;
	int rc;

	*out = NULL;
	if (p == NULL)
		return TS_EINVAL;
	if (len > TS_JWS_MAX)
		return TS_ETOOBIG;
	end = p + len;
	/* RFC 7515 §7.1: exactly three parts separated by two periods. */
	d1 = memchr(p, '.', len);
	d2 = d1 ? memchr(d1 + 1, '.', (size_t)(end - d1 - 1)) : NULL;
	if (d2 == NULL || memchr(d2 + 1, '.', (size_t)(end - d2 - 1)) != NULL)
		return TS_EINVAL;
	rc = ts_b64url_decode(p, (size_t)(d1 - p), hdr, sizeof(hdr), &hlen);
	if (rc != TS_OK)
		return rc; /* TS_EINVAL, or TS_ETOOBIG past TS_JWS_HEADER_MAX */
	/* The signature can never be longer than the largest RSA modulus. */
	if ((size_t)(end - d2 - 1) > ts_b64url_encoded_len(TS_JWS_SIG_MAX))
		return TS_EINVAL;
	j = ts_calloc(1, sizeof(*j));
	if (j == NULL)
		return TS_ENOMEM;
	/* RFC 7515 §5.2 step 3-4: the header must be a JSON object; duplicate
	 * member names are refused rather than resolved (§4, RFC 8725 §3.11). */
	j->header = json_loadb((const char *)hdr, hlen, JSON_REJECT_DUPLICATES, &jerr);
	rc = check_header(j, embedded_jwk);
	if (rc != TS_OK)
		goto out;
	rc = decode_part(d1 + 1, (size_t)(d2 - d1 - 1), &j->payload, &j->payload_len);
	if (rc != TS_OK)
		goto out;
	rc = decode_part(d2 + 1, (size_t)(end - d2 - 1), &j->sig, &j->sig_len);
	if (rc != TS_OK)
		goto out;
	j->input = ts_strndup(p, len);
	if (j->input == NULL) {
		rc = TS_ENOMEM;
		goto out;
	}
	j->signing_len = (size_t)(d2 - p);
	*out = j;
	j = NULL;
out:
	ts_jws_free(j);
	return rc;
}

int ts_jws_parse(const char *p, size_t len, struct ts_jws **out)
{
	return parse(p, len, false, out);
}

int ts_jws_parse_embedded(const char *p, size_t len, struct ts_jws **out)
{
	return parse(p, len, true, out);
}

const json_t *ts_jws_header(const struct ts_jws *j)
{
	return j ? j->header : NULL;
}

const char *ts_jws_kid(const struct ts_jws *j)
{
	return j ? j->kid : NULL;
}

const char *ts_jws_typ(const struct ts_jws *j)
{
	return j ? j->typ : NULL;
}

enum ts_jws_alg ts_jws_header_alg(const struct ts_jws *j)
{
	return j ? j->alg : TS_ALG_NONE;
}

const unsigned char *ts_jws_payload(const struct ts_jws *j, size_t *len)
{
	if (j == NULL) {
		if (len)
			*len = 0;
		return NULL;
	}
	if (len)
		*len = j->payload_len;
	return j->payload;
}

void ts_jws_free(struct ts_jws *j)
{
	if (j == NULL)
		return;
	free(j->input);
	json_decref(j->header);
	free(j->payload);
	free(j->sig);
	free(j);
}

static bool all_zero(const unsigned char *p, size_t n)
{
	unsigned char acc = 0;
	size_t i;

	for (i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

/* The order n of the P-256 group (SEC 2 §2.4.2) and floor(n / 2), both
 * big-endian. (R, S) and (R, n - S) verify alike; only the form with
 * S <= n / 2 is accepted, so a signature has one encoding. */
static const unsigned char p256_n[P256_INT_LEN] = {
	0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17,
	0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};
static const unsigned char p256_half_n[P256_INT_LEN] = {
	0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b,
	0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8};

bool ts_jws_ecdsa_low_s(const unsigned char raw[64])
{
	/* Signatures are public: a plain comparison leaks nothing. */
	return memcmp(raw + P256_INT_LEN, p256_half_n, P256_INT_LEN) <= 0;
}

void ts_jws_ecdsa_normalize(unsigned char raw[64])
{
	unsigned char *s = raw + P256_INT_LEN;
	unsigned borrow = 0;
	int i;

	if (ts_jws_ecdsa_low_s(raw))
		return;
	/* S = n - S, byte by byte from the least significant end. */
	for (i = P256_INT_LEN - 1; i >= 0; i--) {
		unsigned d = (unsigned)p256_n[i] - s[i] - borrow;
		borrow = d > 0xff;
		s[i] = (unsigned char)d;
	}
}

int ts_jws_ecdsa_raw_to_der(const unsigned char raw[64], unsigned char *der, size_t cap,
			    size_t *len)
{
	size_t i, o = 2;

	/* An all-zero R or S is never a valid signature (SEC 1 §4.1.4 step 1
	 * wants both in [1, n-1]); refuse it before OpenSSL sees it. */
	if (all_zero(raw, P256_INT_LEN) || all_zero(raw + P256_INT_LEN, P256_INT_LEN))
		return TS_EINVAL;
	if (cap < ES256_DER_MAX)
		return TS_ETOOBIG;
	der[0] = ASN1_SEQUENCE;
	for (i = 0; i < 2; i++) {
		const unsigned char *v = raw + i * P256_INT_LEN;
		size_t skip = 0, n;

		while (skip < P256_INT_LEN - 1 && v[skip] == 0)
			skip++;
		n = P256_INT_LEN - skip;
		der[o++] = ASN1_INTEGER;
		/* DER INTEGERs are signed: a set top bit needs a zero octet. */
		der[o++] = (unsigned char)(n + (v[skip] & 0x80 ? 1 : 0));
		if (v[skip] & 0x80)
			der[o++] = 0;
		memcpy(der + o, v + skip, n);
		o += n;
	}
	der[1] = (unsigned char)(o - 2);
	*len = o;
	return TS_OK;
}

int ts_jws_ecdsa_der_to_raw(const unsigned char *der, size_t len, unsigned char raw[64])
{
	const unsigned char *p = der + 2, *end = der + len;
	size_t i;

	if (len < 8 || len > ES256_DER_MAX || der[0] != ASN1_SEQUENCE || der[1] != len - 2)
		return TS_EINVAL;
	for (i = 0; i < 2; i++) {
		size_t n;

		if (end - p < 2 || p[0] != ASN1_INTEGER || p[1] > ASN1_SHORT_LEN_MAX)
			return TS_EINVAL;
		n = p[1];
		p += 2;
		if (n == 0 || n > (size_t)(end - p) || (p[0] & 0x80))
			return TS_EINVAL; /* empty, truncated or negative */
		if (n > 1 && p[0] == 0 && !(p[1] & 0x80))
			return TS_EINVAL; /* not minimal */
		if (n == P256_INT_LEN + 1) {
			p++;
			n--;
		}
		if (n > P256_INT_LEN)
			return TS_EINVAL;
		memset(raw + i * P256_INT_LEN, 0, P256_INT_LEN - n);
		memcpy(raw + i * P256_INT_LEN + P256_INT_LEN - n, p, n);
		p += n;
	}
	if (p != end || all_zero(raw, P256_INT_LEN) || all_zero(raw + P256_INT_LEN, P256_INT_LEN))
		return TS_EINVAL;
	return TS_OK;
}

/* Sets RSA padding on a signing or verification context: PKCS #1 v1.5 for
 * RS256 (RFC 7518 §3.3), PSS with SHA-256, MGF1-SHA-256 and a 32-octet salt
 * for PS256 (§3.5). */
int ts_jws_rsa_padding(EVP_PKEY_CTX *pctx, enum ts_jws_alg alg)
{
	if (alg == TS_ALG_RS256)
		return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 ? TS_OK
										  : TS_ECRYPTO;
	if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, "SHA256", NULL) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, TS_PSS_SALT_LEN) != 1)
		return TS_ECRYPTO;
	return TS_OK;
}

/* Puts the JWS signature into the form OpenSSL verifies, after the length
 * checks of RFC 7518 §3.3-3.5 and RFC 8032 §5.1.7. TS_EDENIED if malformed. */
static int verify_form(const struct ts_jws *j, const struct ts_jwk *k, bool low_s_only,
		       unsigned char *der, const unsigned char **sig, size_t *siglen)
{
	*sig = j->sig;
	*siglen = j->sig_len;
	switch (k->alg) {
	case TS_ALG_ES256:
		if (j->sig_len != TS_JWS_ES256_SIG_LEN || (low_s_only && !ts_jws_ecdsa_low_s(j->sig)) ||
		    ts_jws_ecdsa_raw_to_der(j->sig, der, ES256_DER_MAX, siglen) != TS_OK)
			return TS_EDENIED;
		*sig = der;
		return TS_OK;
	case TS_ALG_RS256:
	case TS_ALG_PS256:
		/* RFC 8017 §8.1.2 step 1, §8.2.2 step 1: exactly k octets. */
		return j->sig_len == (size_t)EVP_PKEY_get_size(k->pkey) ? TS_OK : TS_EDENIED;
	case TS_ALG_EDDSA:
		return j->sig_len == TS_JWS_ED25519_SIG_LEN ? TS_OK : TS_EDENIED;
	default:
		return TS_EDENIED;
	}
}

/* Ed25519 verifies the message itself (RFC 8037 §3.1), so it has no
 * digest to verify and no cached context. */
static int verify_eddsa(const struct ts_jws *j, const struct ts_jwk *k)
{
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	int rc = TS_ECRYPTO, r;

	if (mctx == NULL || EVP_DigestVerifyInit_ex(mctx, NULL, NULL, NULL, NULL, k->pkey, NULL) != 1) {
		ts_log_openssl("EVP_DigestVerifyInit_ex");
		goto out;
	}
	r = EVP_DigestVerify(mctx, j->sig, j->sig_len, (const unsigned char *)j->input,
			     j->signing_len);
	/* Anything but 1 is a refusal; a malformed signature is not our error. */
	rc = r == 1 ? TS_OK : TS_EDENIED;
	ERR_clear_error();
out:
	EVP_MD_CTX_free(mctx);
	return rc;
}

/* The id ts_jws_seen knows a signed token by: SHA-256 of the signing
 * input's digest and the signature as sent. */
static bool seen_id(const unsigned char md[TS_SHA256_LEN], const struct ts_jws *j,
		    unsigned char id[TS_SHA256_LEN])
{
	unsigned char buf[TS_SHA256_LEN + TS_JWS_SIG_MAX];

	if (j->sig_len > TS_JWS_SIG_MAX)
		return false;
	memcpy(buf, md, TS_SHA256_LEN);
	memcpy(buf + TS_SHA256_LEN, j->sig, j->sig_len);
	ts_sha256(buf, TS_SHA256_LEN + j->sig_len, id);
	return true;
}

/* low_s_only marks Tessera's own tokens: the strict form, and the
 * per-thread memory of verified signatures (a resource server introspects
 * the same token again and again; a stranger's assertion is used once). */
static int verify(const struct ts_jws *j, const struct ts_jwk *k, bool low_s_only)
{
	unsigned char der[ES256_DER_MAX], md[TS_SHA256_LEN], id[TS_SHA256_LEN];
	const unsigned char *sig;
	size_t siglen;
	bool remember;
	int rc;

	if (j == NULL || k == NULL)
		return TS_EINVAL;
	/* RFC 8725 §3.1: the key decides the algorithm; a header naming any
	 * other is refused, never coerced. */
	if (j->alg != k->alg)
		return TS_EDENIED;
	rc = verify_form(j, k, low_s_only, der, &sig, &siglen);
	if (rc != TS_OK)
		return rc;
	if (k->alg == TS_ALG_EDDSA)
		return verify_eddsa(j, k);
	ts_sha256(j->input, j->signing_len, md);
	remember = low_s_only && seen_id(md, j, id);
	if (remember && ts_jws_seen(k, id))
		return TS_OK;
	rc = ts_jws_verify_digest(k, md, sig, siglen);
	if (rc == TS_OK && remember)
		ts_jws_seen_add(k, id);
	return rc;
}

int ts_jws_verify(const struct ts_jws *j, const struct ts_jwk *k)
{
	return verify(j, k, true);
}

int ts_jws_verify_foreign(const struct ts_jws *j, const struct ts_jwk *k)
{
	return verify(j, k, false);
}
