/* jose.h: JSON Web Keys (RFC 7517, 7518, 8037), thumbprints (RFC 7638) and
 * compact JWS (RFC 7515) on OpenSSL 3 EVP. Algorithms: ES256, RS256, PS256,
 * EdDSA (Ed25519). Verification pins the algorithm to the key: a token whose
 * header names another algorithm than its key is refused, never coerced. */
#ifndef TS_JOSE_H
#define TS_JOSE_H

#include "core/core.h"

#include <jansson.h>

enum ts_jws_alg {
	TS_ALG_NONE = 0, /* never accepted; the "unknown" value */
	TS_ALG_ES256,
	TS_ALG_RS256,
	TS_ALG_PS256,
	TS_ALG_EDDSA,
};

/* Hard caps on untrusted input. */
#define TS_JWS_MAX 16384      /* bytes of a compact JWS */
#define TS_JWS_HEADER_MAX 2048 /* decoded protected header bytes */
#define TS_KID_MAX 64

/* "ES256", ...; static string, "none" for TS_ALG_NONE. */
const char *ts_jws_alg_name(enum ts_jws_alg alg);
/* Byte-exact parse of an algorithm name; TS_ALG_NONE if unknown. */
enum ts_jws_alg ts_jws_alg_parse(const char *name);

/* A key pair or a public key, with the one algorithm it may be used with and
 * its kid. Immutable once built, so one key may be shared by all threads. */
struct ts_jwk;

/* Generates a fresh key for alg (P-256, RSA 2048, Ed25519). Its kid is the
 * RFC 7638 thumbprint. On TS_OK *out is owned by the caller. */
int ts_jwk_generate(enum ts_jws_alg alg, struct ts_jwk **out);
/* Builds a public key from a JWK object (kty EC/RSA/OKP). The algorithm is
 * alg if given; else the JWK's "alg" member, which must then be present.
 * A JWK whose "alg" contradicts alg, or whose key type does not fit it, is
 * TS_EINVAL. The kid is the JWK's "kid" or, if absent, its thumbprint.
 * TS_ENOMEM when memory runs out. */
int ts_jwk_from_json(const json_t *jwk, enum ts_jws_alg alg, struct ts_jwk **out);
/* Same, from JSON text of length len. */
int ts_jwk_from_json_text(const char *text, size_t len, enum ts_jws_alg alg,
			  struct ts_jwk **out);
/* Same, for the public half of a key this server generated (a stored
 * signing key's public JWK): without OpenSSL's public-key check, which for
 * RSA costs milliseconds and proves nothing new about a key made here. */
int ts_jwk_from_json_text_trusted(const char *text, size_t len, enum ts_jws_alg alg,
				  struct ts_jwk **out);
/* Imports a private key from PKCS#8 DER; kid is its thumbprint. The public
 * half must match the private one (a pairwise check: for RSA it costs more
 * than everything else here together). */
int ts_jwk_from_pkcs8(enum ts_jws_alg alg, const unsigned char *der, size_t len,
		      struct ts_jwk **out);
/* A reusable PKCS#8 decoder, for loading many keys that were checked when
 * they were made and authenticated since (keys this server generated and
 * sealed, opened with ts_unseal): no pairwise check, since a key is
 * validated once, when it is created or imported, never each time it is
 * loaded; and OpenSSL's decoder set-up, which costs several times the
 * decoding, is done once per key type. One decoder belongs to one thread
 * at a time. ts_jwk_decoder_pkcs8 is ts_jwk_from_pkcs8 otherwise. */
struct ts_jwk_decoder;
struct ts_jwk_decoder *ts_jwk_decoder_new(void);
int ts_jwk_decoder_pkcs8(struct ts_jwk_decoder *d, enum ts_jws_alg alg, const unsigned char *der,
			 size_t len, struct ts_jwk **out);
void ts_jwk_decoder_free(struct ts_jwk_decoder *d); /* NULL is a no-op */
/* Exports the private key as PKCS#8 DER into a buffer the caller owns and
 * must wipe (OPENSSL_cleanse) and free. TS_EINVAL for a public-only key. */
int ts_jwk_to_pkcs8(const struct ts_jwk *k, unsigned char **der, size_t *len);
/* The public JWK with "kty", key members, "kid", "alg" and "use":"sig".
 * New reference owned by the caller. */
json_t *ts_jwk_public_json(const struct ts_jwk *k);
/* RFC 7638 §3 thumbprint (SHA-256, base64url): 43 chars + NUL. */
int ts_jwk_thumbprint(const struct ts_jwk *k, char out[44]);
const char *ts_jwk_kid(const struct ts_jwk *k); /* borrowed, lives as long as k */
enum ts_jws_alg ts_jwk_alg(const struct ts_jwk *k);
bool ts_jwk_is_private(const struct ts_jwk *k);
void ts_jwk_free(struct ts_jwk *k); /* NULL is a no-op */

/* Signs payload as a compact JWS with protected header
 * {"alg":<key alg>,"kid":<kid>[,"typ":typ]} and appends it to out.
 * The key must be private. Safe from many threads at once; the per-thread
 * signing context is cached so that the cost is the signature itself. */
int ts_jws_sign(const struct ts_jwk *k, const char *typ, const void *payload, size_t len,
		struct ts_buf *out);

/* A parsed, not yet verified compact JWS. */
struct ts_jws;
/* Parses a compact JWS (at most TS_JWS_MAX bytes). Refuses: a wrong number
 * of parts, bad base64url, a header that is not a JSON object, a missing or
 * unknown "alg" (and "none"), any "crit" member, and embedded or remote keys
 * ("jwk", "jku", "x5u", "x5c"). On TS_OK *out is owned by the caller.
 * TS_ENOMEM when memory runs out. */
int ts_jws_parse(const char *p, size_t len, struct ts_jws **out);
/* The same, except that a "jwk" header member is allowed: for a proof that
 * carries the key it was signed with (RFC 9449 §4.2), which the caller
 * reads from ts_jws_header, checks and verifies the signature with. */
int ts_jws_parse_embedded(const char *p, size_t len, struct ts_jws **out);
/* Borrowed views, valid as long as the jws. */
const json_t *ts_jws_header(const struct ts_jws *j);
const char *ts_jws_kid(const struct ts_jws *j); /* NULL if absent */
const char *ts_jws_typ(const struct ts_jws *j); /* NULL if absent */
enum ts_jws_alg ts_jws_header_alg(const struct ts_jws *j);
/* The decoded payload bytes (NUL-terminated for convenience). */
const unsigned char *ts_jws_payload(const struct ts_jws *j, size_t *len);
/* Verifies the signature with key k. TS_EDENIED if the header's alg is not
 * the key's alg or the signature does not verify (including a malformed or
 * all-zero ECDSA signature). */
int ts_jws_verify(const struct ts_jws *j, const struct ts_jwk *k);
/* The same for signatures made by others with their own libraries (client
 * assertions): an ES256 signature is accepted in either S form, since most
 * libraries return both; ts_jws_verify, for what Tessera itself signed,
 * accepts only the low-S form it makes. */
int ts_jws_verify_foreign(const struct ts_jws *j, const struct ts_jwk *k);
void ts_jws_free(struct ts_jws *j); /* NULL is a no-op */

#endif
