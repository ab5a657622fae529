/* test_jose_fixture.h: what the JOSE suites (test_jose.c,
 * test_jose_verify.c, test_jose_jwk.c) share: one generated key per
 * algorithm for the whole group (RSA key generation is slow), published
 * vectors read from tests/vectors, and parse-then-verify of a compact JWS.
 * Include after <cmocka.h>. */
#ifndef TS_TEST_JOSE_FIXTURE_H
#define TS_TEST_JOSE_FIXTURE_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jose/jose.h"

#define BUF_MAX 65536

static const enum ts_jws_alg all_algs[] = {TS_ALG_ES256, TS_ALG_RS256, TS_ALG_PS256,
					    TS_ALG_EDDSA};

/* One generated key per algorithm, shared by the tests (RSA keygen is slow). */
static struct ts_jwk *keys[TS_ALG_EDDSA + 1];

static inline int setup_keys(void **state)
{
	size_t i;
	(void)state;
	for (i = 0; i < TS_ARRAY_LEN(all_algs); i++) {
		if (ts_jwk_generate(all_algs[i], &keys[all_algs[i]]) != TS_OK)
			return -1;
	}
	return 0;
}

static inline int teardown_keys(void **state)
{
	size_t i;
	(void)state;
	for (i = 0; i < TS_ARRAY_LEN(keys); i++) {
		ts_jwk_free(keys[i]);
		keys[i] = NULL;
	}
	return 0;
}

/* Loads tests/vectors/<rel>: from $TS_VECTORS (set by ctest), else relative
 * to this header. */
static inline json_t *load_vector(const char *rel)
{
	const char *dir = getenv("TS_VECTORS");
	char base[1024], path[1200];
	json_error_t err;
	json_t *j;

	if (dir == NULL || dir[0] == '\0') {
		const char *slash = strrchr(__FILE__, '/');
		int n = slash ? (int)(slash - __FILE__) : 1;
		snprintf(base, sizeof(base), "%.*s/../vectors", n, slash ? __FILE__ : ".");
		dir = base;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	j = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
	if (j == NULL)
		fail_msg("cannot load vector %s: %s", path, err.text);
	return j;
}

static inline const char *vstr(const json_t *v, const char *name)
{
	const char *s = json_string_value(json_object_get(v, name));
	assert_non_null(s);
	return s;
}

static inline int parse_verify(const char *jws, const struct ts_jwk *k)
{
	struct ts_jws *j = NULL;
	int rc = ts_jws_parse(jws, strlen(jws), &j);

	if (rc == TS_OK)
		rc = ts_jws_verify(j, k);
	ts_jws_free(j);
	return rc;
}

#endif
