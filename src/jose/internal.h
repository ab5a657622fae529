/* internal.h: what jwk.c, jwk_import.c, jws.c and jws_sign.c share inside
 * the jose module. Not for other modules: they use jose.h. Unit tests may
 * include it to reach the raw signing primitive (RFC 8037 §A.4 checks exact
 * signature bytes under a header ts_jws_sign would not produce). */
#ifndef TS_JOSE_INTERNAL_H
#define TS_JOSE_INTERNAL_H

#include "jose/jose.h"

#include <openssl/evp.h>

#define TS_JWK_RSA_MIN_BITS 2048 /* RFC 7518 §3.3: 2048 bits or larger */
#define TS_JWK_RSA_MAX_BITS 8192 /* caps the cost of a hostile verification key */
/* Largest JWS signature we handle: RSA up to TS_JWK_RSA_MAX_BITS. */
#define TS_JWS_SIG_MAX (TS_JWK_RSA_MAX_BITS / 8)
#define TS_JWS_ES256_SIG_LEN 64 /* RFC 7518 §3.4: R || S, 32 octets each */
#define TS_JWS_ED25519_SIG_LEN 64 /* RFC 8032 §5.1.6 */
#define TS_JWK_P256_COORD_LEN 32
#define TS_JWK_ED25519_LEN 32
#define TS_PSS_SALT_LEN 32 /* RFC 7518 §3.5: the salt is as long as the hash */

/* Protected headers precomputed per key for the common "typ" values. */
enum ts_jws_typ_slot { TS_JWS_TYP_NONE, TS_JWS_TYP_JWT, TS_JWS_TYP_AT_JWT, TS_JWS_TYP_NSLOTS };

struct ts_jwk {
	EVP_PKEY *pkey;         /* owned */
	enum ts_jws_alg alg;    /* the one algorithm this key may be used with */
	bool priv;              /* holds the private half */
	uint64_t serial;        /* unique per process; keys the signing cache */
	char kid[TS_KID_MAX + 1];
	char thumb[44];         /* RFC 7638 thumbprint, base64url */
	/* Public members, base64url: EC x and y, RSA n and e, OKP x (b NULL). */
	char *a, *b;            /* owned */
	/* base64url(protected header) per ts_jws_typ_slot; private keys only. */
	char *hdr[TS_JWS_TYP_NSLOTS];
	size_t hdr_len[TS_JWS_TYP_NSLOTS];
};

/* Takes ownership of pkey (freed on failure too), checks that its type fits
 * alg, reads the public members, computes the thumbprint, sets the kid
 * (kid if non-NULL, else the thumbprint) and for a private key precomputes
 * the protected headers. TS_EINVAL if the key does not fit alg. */
int ts_jwk_build(EVP_PKEY *pkey, enum ts_jws_alg alg, bool priv, const char *kid,
		 struct ts_jwk **out);

/* Builds base64url(UTF8({"alg":..,"kid":..[,"typ":typ]})), the protected
 * header ts_jws_sign emits for k. On TS_OK *out (length *len) is owned by
 * the caller. TS_ETOOBIG past TS_JWS_HEADER_MAX. */
int ts_jws_header_encode(const struct ts_jwk *k, const char *typ, char **out, size_t *len);

/* Sets the RSA padding of a signing or verification context for RS256
 * (PKCS #1 v1.5) or PS256 (PSS, MGF1-SHA-256, 32-octet salt). */
int ts_jws_rsa_padding(EVP_PKEY_CTX *pctx, enum ts_jws_alg alg);

/* Signs the JWS Signing Input (RFC 7515 §5.1 step 5) with k's private key
 * through this thread's cached context. sig must hold TS_JWS_SIG_MAX bytes;
 * *siglen is set to the JWS signature length (64 for ES256 and EdDSA, the
 * modulus size for RSA). TS_EINVAL for a public key, TS_ECRYPTO otherwise. */
int ts_jws_sign_input(const struct ts_jwk *k, const void *in, size_t len, unsigned char *sig,
		      size_t *siglen);
/* Verifies sig (ES256 in DER, RS256, PS256; not EdDSA) over md, the
 * SHA-256 of a JWS Signing Input, with k through this thread's cached
 * verification context. TS_OK, TS_EDENIED (does not verify), TS_EINVAL
 * (EdDSA), or TS_ECRYPTO. */
int ts_jws_verify_digest(const struct ts_jwk *k, const unsigned char md[TS_SHA256_LEN],
			 const unsigned char *sig, size_t siglen);
/* The calling thread's memory of verified signatures: id is the SHA-256 of
 * the signing input's digest and the signature bytes, so it names exactly
 * one signed token. ts_jws_seen is true only when id was added for this
 * very key (its serial), so a key that leaves the key set takes its
 * entries with it. Only what ts_jws_verify accepted is ever added. */
bool ts_jws_seen(const struct ts_jwk *k, const unsigned char id[TS_SHA256_LEN]);
void ts_jws_seen_add(const struct ts_jwk *k, const unsigned char id[TS_SHA256_LEN]);
/* Drops the calling thread's cached context for serial, if any, so a freed
 * key's material does not linger in this thread's cache. */
void ts_jws_cache_forget(uint64_t serial);

/* ECDSA signature conversion between DER (what OpenSSL speaks) and the
 * fixed-width R || S of RFC 7518 §3.4. Strict: a non-minimal or oversized
 * DER integer is TS_EINVAL, and so is raw R or S equal to zero. */
int ts_jws_ecdsa_der_to_raw(const unsigned char *der, size_t len, unsigned char raw[64]);
int ts_jws_ecdsa_raw_to_der(const unsigned char raw[64], unsigned char *der, size_t cap,
			    size_t *len);
/* Whether the S of a raw P-256 signature is in the lower half, S <= n/2
 * (the canonical one of the two valid encodings (R, S) and (R, n - S)).
 * ts_jws_verify refuses the other one. */
bool ts_jws_ecdsa_low_s(const unsigned char raw[64]);
/* Replaces a high S by n - S, which verifies alike. */
void ts_jws_ecdsa_normalize(unsigned char raw[64]);

#endif
