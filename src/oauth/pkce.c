/* pkce.c: Proof Key for Code Exchange (RFC 7636), S256 only: "plain" gives
 * no protection against a leaked authorization request and is refused. */
#include "proto.h"

#include "wire/ascii.h"

#include <string.h>

#define VERIFIER_MIN 43
#define VERIFIER_MAX 128
#define S256_CHALLENGE_LEN 43

/* RFC 7636 §4.1: unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~" */
static bool unreserved(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!ts_is_unreserved((unsigned char)s[i]))
			return false;
	return true;
}

bool ts_pkce_challenge_ok(const char *challenge)
{
	unsigned char raw[TS_SHA256_LEN];
	size_t n;

	/* RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is always 43 characters. */
	return challenge && strlen(challenge) == S256_CHALLENGE_LEN &&
	       ts_b64url_decode(challenge, S256_CHALLENGE_LEN, raw, sizeof(raw), &n) == TS_OK &&
	       n == TS_SHA256_LEN;
}

bool ts_pkce_verify(const char *verifier, const char *challenge)
{
	unsigned char d[TS_SHA256_LEN];
	char enc[S256_CHALLENGE_LEN + 1];
	size_t n;

	if (verifier == NULL || challenge == NULL)
		return false;
	n = strlen(verifier);
	if (n < VERIFIER_MIN || n > VERIFIER_MAX || !unreserved(verifier, n))
		return false;
	/* RFC 7636 §4.6: BASE64URL-ENCODE(SHA256(ASCII(code_verifier))) == code_challenge */
	ts_sha256(verifier, n, d);
	ts_b64url_encode(d, sizeof(d), enc, sizeof(enc));
	return ts_ct_equal(enc, strlen(enc), challenge, strlen(challenge));
}
