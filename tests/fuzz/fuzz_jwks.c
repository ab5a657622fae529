/* fuzz_jwks.c: libFuzzer target for JWK import (RFC 7517 §4-5, RFC 7518 §6,
 * RFC 8037 §2): the server's ts_jwk_from_json_text (jose/jwk_import.c), on
 * the input as one JWK with and without a pinned algorithm, and libtessera's
 * JWK Set reading (lib/jwks.c), on the input as a set. The checks: a key
 * that is imported has its one algorithm, a public half that imports again
 * to the same thumbprint, and a set holds at most its cap of keys with
 * distinct, non-empty kids. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "jose/jose.h"

#define THUMB_LEN 44

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_key(const struct ts_jwk *k, enum ts_jws_alg pinned)
{
	char t1[THUMB_LEN], t2[THUMB_LEN];
	struct ts_jwk *again = NULL;
	json_t *pub;

	if (ts_jwk_alg(k) == TS_ALG_NONE || (pinned != TS_ALG_NONE && ts_jwk_alg(k) != pinned))
		abort();
	if (ts_jwk_is_private(k) || ts_jwk_kid(k) == NULL || ts_jwk_kid(k)[0] == '\0')
		abort();
	pub = ts_jwk_public_json(k);
	if (pub == NULL || ts_jwk_from_json(pub, ts_jwk_alg(k), &again) != TS_OK)
		abort();
	if (ts_jwk_thumbprint(k, t1) != TS_OK || ts_jwk_thumbprint(again, t2) != TS_OK ||
	    strcmp(t1, t2) != 0)
		abort();
	ts_jwk_free(again);
	json_decref(pub);
}

static void one_key(const char *p, size_t size, enum ts_jws_alg pinned)
{
	struct ts_jwk *k = NULL;
	int rc = ts_jwk_from_json_text(p, size, pinned, &k);

	if ((rc == TS_OK) != (k != NULL))
		abort();
	if (k != NULL)
		check_key(k, pinned);
	ts_jwk_free(k);
}

static void key_set(const char *p, size_t size)
{
	struct ts_lib_keys *ks = NULL;
	size_t i, j;

	if (ts_lib_keys_parse(p, size, &ks) != TS_OK) {
		if (ks != NULL)
			abort();
		return;
	}
	if (ks->n > TS_LIB_JWKS_KEYS_MAX)
		abort();
	for (i = 0; i < ks->n; i++) {
		const char *kid = ts_jwk_kid(ks->k[i]);
		if (ts_lib_keys_find(ks, kid) != ks->k[i])
			abort();
		for (j = 0; j < i; j++)
			if (strcmp(kid, ts_jwk_kid(ks->k[j])) == 0)
				abort();
	}
	ts_lib_keys_unref(ks);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;

	one_key(p, size, TS_ALG_NONE);
	one_key(p, size, TS_ALG_ES256);
	key_set(p, size);
	return 0;
}
