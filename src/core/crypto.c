/* crypto.c: constant-time comparison, CSPRNG access and SHA-256. */
#include "core.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>

/* SHA-256 fetched once: OpenSSL 3's one-shot SHA256() looks the algorithm
 * up by name on every call, which costs more than hashing a token. */
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_md; /* NULL if the fetch failed: SHA256() is used */

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

bool ts_ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	unsigned char ha[TS_SHA256_LEN], hb[TS_SHA256_LEN];

	if (a == NULL || b == NULL)
		return false;
	/* Hash both sides to a fixed length so neither length nor content of
	 * the secret leaks through the comparison's timing. */
	ts_sha256(a, alen, ha);
	ts_sha256(b, blen, hb);
	return CRYPTO_memcmp(ha, hb, sizeof(ha)) == 0 && alen == blen;
}

bool ts_ct_equal_fixed(const void *a, const void *b, size_t len)
{
	if (a == NULL || b == NULL)
		return false;
	return CRYPTO_memcmp(a, b, len) == 0;
}

int ts_rand_bytes(void *out, size_t n)
{
	if (n > (size_t)INT32_MAX)
		return TS_EINVAL;
	if (RAND_bytes(out, (int)n) != 1) {
		ts_log_openssl("RAND_bytes");
		return TS_ECRYPTO;
	}
	return TS_OK;
}

int ts_rand_token(char *out, size_t cap, size_t nbytes)
{
	unsigned char raw[128];
	int rc;

	if (nbytes == 0 || nbytes > sizeof(raw))
		return TS_EINVAL;
	if (ts_b64url_encoded_len(nbytes) + 1 > cap)
		return TS_ETOOBIG;
	rc = ts_rand_bytes(raw, nbytes);
	if (rc != TS_OK)
		return rc;
	ts_b64url_encode(raw, nbytes, out, cap);
	OPENSSL_cleanse(raw, sizeof(raw));
	return TS_OK;
}

int ts_rand_uuid(char out[37])
{
	unsigned char u[16];
	int rc = ts_rand_bytes(u, sizeof(u));

	if (rc != TS_OK)
		return rc;
	u[6] = (unsigned char)((u[6] & 0x0f) | 0x40); /* RFC 4122 §4.4: version 4 */
	u[8] = (unsigned char)((u[8] & 0x3f) | 0x80); /* variant 10 */
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
	return TS_OK;
}

void ts_sha256(const void *p, size_t n, unsigned char out[TS_SHA256_LEN])
{
	pthread_once(&sha256_once, sha256_fetch);
	if (sha256_md == NULL || EVP_Digest(p, n, out, NULL, sha256_md, NULL) != 1)
		SHA256(p, n, out);
}

void ts_sha256_hex(const void *p, size_t n, char out[2 * TS_SHA256_LEN + 1])
{
	unsigned char d[TS_SHA256_LEN];

	ts_sha256(p, n, d);
	ts_hex_encode(d, sizeof(d), out);
}
