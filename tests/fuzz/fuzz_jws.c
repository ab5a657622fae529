/* fuzz_jws.c: libFuzzer target for the compact JWS parser (RFC 7515 §7.1).
 * Every input goes through ts_jws_parse; whatever parses is read through
 * the accessors and verified against a fixed ES256 key (generated once), so
 * the header checks, base64url decoders and the signature-form checks all
 * see hostile bytes. Nothing should crash, leak or verify. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "jose/jose.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ts_jwk *fuzz_key(void)
{
	static struct ts_jwk *key;

	if (key == NULL && ts_jwk_generate(TS_ALG_ES256, &key) != TS_OK)
		abort();
	return key;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ts_jws *j = NULL;
	const unsigned char *payload;
	size_t plen = 0;
	int rc;

	if (ts_jws_parse((const char *)data, size, &j) != TS_OK)
		return 0;
	(void)ts_jws_header(j);
	(void)ts_jws_kid(j);
	(void)ts_jws_typ(j);
	payload = ts_jws_payload(j, &plen);
	if (payload == NULL || payload[plen] != '\0')
		abort();
	rc = ts_jws_verify(j, fuzz_key());
	/* A forgery of a key generated inside this process would be a bug. */
	if (rc == TS_OK)
		abort();
	ts_jws_free(j);
	return 0;
}
