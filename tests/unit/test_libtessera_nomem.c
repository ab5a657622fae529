/* test_libtessera_nomem.c: libtessera never aborts its host when memory runs
 * out. Each public call is run again and again with one allocation failing,
 * the first, then the second, and so on until the call needs no more: every
 * run must return TESSERA_OK (no failure was reached) or TESSERA_ENOMEM with
 * a 503 answer, never crash, and (under ASan) leak nothing. The failures come
 * from the allocation hook in core/mem.c; the verifier works without a
 * network, on an injected JWKS, discovery and introspection cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define ISS "https://id.example.test/t/acme"
#define AUD "https://api.example.test"
#define NOW 1700000000
#define BUF_MAX 65536
#define MAX_FAILURE_POINTS 1000 /* far more allocations than any call makes */
#define CLOSED "http://127.0.0.1:1"
#define DISCOVERY                                                                  \
	"{\"issuer\":\"" ISS "\",\"jwks_uri\":\"" CLOSED "/jwks\","              \
	"\"introspection_endpoint\":\"" CLOSED "/introspect\","                   \
	"\"token_endpoint\":\"" CLOSED "/token\"}"
#define SID "Zm9vYmFyYmF6cXV4cXV1eHh5eg"
#define APIKEY "tk_abc:s3cret"

static struct ts_jwk *key;
static char *jwks_text, *service_token, *user_token;

static int64_t fixed_now(void)
{
	return NOW;
}

/* The monotonic clock stands still, so the cached answers never expire. */
static int64_t fixed_mono(void)
{
	return 1;
}

/* A token signed with key for subject sub by client. */
static char *sign(const char *sub, const char *client)
{
	json_t *c = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I}", "iss", ISS, "aud", AUD, "sub", sub,
			      "client_id", client, "scope", "tasks:read tasks:write", "iat",
			      (json_int_t)NOW - 10, "exp", (json_int_t)NOW + 900);
	char *payload = json_dumps(c, JSON_COMPACT);
	struct ts_buf out;

	ts_buf_init(&out, BUF_MAX);
	assert_int_equal(ts_jws_sign(key, "at+jwt", payload, strlen(payload), &out), TS_OK);
	free(payload);
	json_decref(c);
	return ts_buf_take(&out);
}

static int setup(void **state)
{
	json_t *set;

	(void)state;
	if (ts_jwk_generate(TS_ALG_ES256, &key) != TS_OK)
		return -1;
	set = json_pack("{s:[o]}", "keys", ts_jwk_public_json(key));
	jwks_text = json_dumps(set, JSON_COMPACT);
	json_decref(set);
	service_token = sign("svc", "svc");
	user_token = sign("u-1", "mobile");
	return jwks_text ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	ts_jwk_free(key);
	free(jwks_text);
	free(service_token);
	free(user_token);
	return 0;
}

/* Caches an active introspection answer for cred (a user in acme with one
 * role and a CSRF token), as if Tessera had given it. */
static void prefill(tessera_verifier *v, const char *kind, const char *cred, const char *type)
{
	unsigned char k[TS_SHA256_LEN];
	struct ts_lib_intro *r = NULL;
	char *text = NULL;
	json_t *o;

	o = json_pack("{s:b,s:s,s:s,s:s,s:s,s:s,s:[s],s:s,s:s}", "active", 1, "token_type", type,
		      "sub", "u-1", "username", "alice@acme.test", "principal_type", "user",
		      "tenant", "acme", "roles", "Sales User", "scope", "openid tasks:read",
		      "csrf_token", "csrf-1");
	text = json_dumps(o, JSON_COMPACT);
	assert_int_equal(ts_lib_intro_parse(text, strlen(text), &r), TS_OK);
	assert_int_equal(ts_lib_cache_key(kind, cred, k), TS_OK);
	ts_lib_cache_put(v->cache, k, 0, r);
	ts_lib_intro_free(r);
	free(text);
	json_decref(o);
}

static tessera_verifier *verifier(void)
{
	struct tessera_verifier_config cfg = {.issuer = ISS, .audience = AUD,
					      .client_id = "tasks-api",
					      .client_secret = "a-secret-of-at-least-32-characters!!"};
	tessera_verifier *v = NULL;

	assert_int_equal(tessera_verifier_new(&cfg, &v), TESSERA_OK);
	ts_lib_verifier_set_clocks(v, fixed_now, fixed_mono);
	assert_int_equal(ts_lib_verifier_set_keys(v, jwks_text), TS_OK);
	assert_int_equal(ts_lib_verifier_set_discovery(v, DISCOVERY), TS_OK);
	prefill(v, "api_key", APIKEY, "api_key");
	prefill(v, "session", SID, "session");
	prefill(v, "bearer", user_token, "Bearer");
	return v;
}

/* One public call under test: returns a TESSERA_* code, fills err (status
 * 0 when it has nothing to say). */
typedef int (*call_fn)(void *ctx, struct tessera_error *err);

/* Runs call with allocation n failing, for every n until a run reaches no
 * failure. Returns the number of failure points found. */
static long torture(call_fn call, void *ctx)
{
	struct tessera_error err;
	long n;

	for (n = 0; n < MAX_FAILURE_POINTS; n++) {
		bool fired;
		int rc;

		memset(&err, 0, sizeof(err));
		ts_mem_fail_after(n);
		rc = call(ctx, &err);
		fired = ts_mem_fail_fired();
		ts_mem_fail_after(-1);
		if (!fired) {
			if (rc != TESSERA_OK)
				fail_msg("without a failure the call returned %d", rc);
			return n;
		}
		if (rc != TESSERA_ENOMEM)
			fail_msg("allocation %ld failed: the call returned %d, not TESSERA_ENOMEM", n,
				 rc);
		if (err.status != 0 && err.status != 503)
			fail_msg("allocation %ld failed: the answer is %d, not 503", n, err.status);
	}
	fail_msg("the call never ran without a failure");
	return n;
}

static int call_verifier_new(void *ctx, struct tessera_error *err)
{
	struct tessera_verifier_config cfg = {.issuer = ISS, .client_id = "c",
					      .client_secret = "s"};
	tessera_verifier *v = NULL;
	int rc = tessera_verifier_new(&cfg, &v);

	(void)ctx;
	(void)err;
	if ((rc == TESSERA_OK) != (v != NULL))
		fail_msg("verifier and return code disagree");
	tessera_verifier_free(v);
	return rc;
}

static int call_set_keys(void *ctx, struct tessera_error *err)
{
	int rc = ts_lib_verifier_set_keys(ctx, jwks_text);

	(void)err;
	return rc == TS_OK ? TESSERA_OK : rc == TS_ENOMEM ? TESSERA_ENOMEM : TESSERA_EINVAL;
}

static int call_set_discovery(void *ctx, struct tessera_error *err)
{
	int rc = ts_lib_verifier_set_discovery(ctx, DISCOVERY);

	(void)err;
	return rc == TS_OK ? TESSERA_OK : rc == TS_ENOMEM ? TESSERA_ENOMEM : TESSERA_EINVAL;
}

struct verify_case {
	tessera_verifier *v;
	const char *authorization, *cookie, *method, *csrf;
	enum tessera_auth auth;
};

static int call_verify(void *ctx, struct tessera_error *err)
{
	const struct verify_case *c = ctx;
	struct tessera_principal *p = NULL;
	int rc = tessera_verify(c->v, c->authorization, c->cookie, c->method, c->csrf, &p, err);

	if (rc == TESSERA_OK) {
		if (p == NULL || p->auth != c->auth || p->sub == NULL || p->nscopes == 0)
			fail_msg("an incomplete principal");
	} else if (p != NULL) {
		fail_msg("a principal with an error");
	}
	tessera_principal_free(p);
	return rc;
}

static void test_verifier_new(void **state)
{
	(void)state;
	assert_true(torture(call_verifier_new, NULL) > 0);
}

static void test_injected_keys_and_discovery(void **state)
{
	tessera_verifier *v = verifier();

	(void)state;
	assert_true(torture(call_set_keys, v) > 0);
	assert_true(torture(call_set_discovery, v) > 0);
	tessera_verifier_free(v);
}

static void test_verify(void **state)
{
	char *bearer_svc = NULL, *bearer_user = NULL;
	tessera_verifier *v = verifier();
	struct ts_buf b;
	size_t i;

	(void)state;
	ts_buf_init(&b, BUF_MAX);
	assert_int_equal(ts_buf_appendf(&b, "Bearer %s", service_token), TS_OK);
	bearer_svc = ts_buf_take(&b);
	assert_int_equal(ts_buf_appendf(&b, "Bearer %s", user_token), TS_OK);
	bearer_user = ts_buf_take(&b);
	{
		const struct verify_case cases[] = {
			{v, bearer_svc, NULL, "GET", NULL, TESSERA_AUTH_BEARER},
			{v, bearer_user, NULL, "GET", NULL, TESSERA_AUTH_BEARER},
			{v, "token " APIKEY, NULL, "POST", NULL, TESSERA_AUTH_API_KEY},
			{v, "Basic dGtfYWJjOnMzY3JldA==", NULL, "GET", NULL, TESSERA_AUTH_API_KEY},
			{v, NULL, "theme=dark; tessera_session=" SID, "POST", "csrf-1",
			 TESSERA_AUTH_SESSION},
		};
		for (i = 0; i < TS_ARRAY_LEN(cases); i++)
			if (torture(call_verify, (void *)&cases[i]) == 0)
				fail_msg("case %zu allocated nothing", i);
	}
	free(bearer_svc);
	free(bearer_user);
	tessera_verifier_free(v);
}

/* The token client's fetcher stands in for Tessera: a token that lives an
 * hour, allocated with malloc (the hook does not reach it). */
static int fake_fetch(void *ctx, struct ts_lib_token *out, struct tessera_error *err)
{
	(void)ctx;
	(void)err;
	out->access_token = strdup("service-token");
	out->expires_in_s = TS_SECONDS_PER_HOUR;
	return out->access_token ? TESSERA_OK : TESSERA_ENOMEM;
}

static int call_token_client(void *ctx, struct tessera_error *err)
{
	tessera_token_client *c = NULL;
	char *token = NULL;
	int rc;

	(void)ctx;
	rc = tessera_token_client_new(ISS, "svc", "a-secret", "tasks:read", &c);
	if (rc != TESSERA_OK)
		return rc;
	ts_lib_token_client_set_fetch(c, fake_fetch, NULL);
	rc = tessera_token_client_get(c, &token, err);
	if (rc == TESSERA_OK && (token == NULL || strcmp(token, "service-token") != 0))
		fail_msg("a wrong token");
	free(token);
	tessera_token_client_free(c);
	return rc;
}

static void test_token_client(void **state)
{
	(void)state;
	assert_true(torture(call_token_client, NULL) > 0);
}

/* A cache that cannot copy an answer keeps none, and never a stale one. */
static void test_cache_put(void **state)
{
	struct ts_lib_cache *c = ts_lib_cache_new(4, 60000);
	struct ts_lib_intro active = {.active = true, .sub = "u-1"}, inactive = {.active = false};
	struct ts_lib_intro *got = NULL;
	unsigned char k[TS_SHA256_LEN];

	(void)state;
	assert_non_null(c);
	assert_int_equal(ts_lib_cache_key("api_key", APIKEY, k), TS_OK);
	ts_lib_cache_put(c, k, 0, &active);
	ts_mem_fail_after(0);
	ts_lib_cache_put(c, k, 1, &inactive);
	assert_true(ts_mem_fail_fired());
	assert_int_equal(ts_lib_cache_get(c, k, 2, &got), TS_ENOTFOUND);
	assert_null(got);
	ts_lib_cache_put(c, k, 3, &active);
	ts_mem_fail_after(0);
	assert_int_equal(ts_lib_cache_get(c, k, 4, &got), TS_ENOMEM);
	assert_null(got);
	assert_int_equal(ts_lib_cache_get(c, k, 5, &got), TS_OK);
	assert_string_equal(got->sub, "u-1");
	ts_lib_intro_free(got);
	ts_lib_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verifier_new),
		cmocka_unit_test(test_injected_keys_and_discovery),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_token_client),
		cmocka_unit_test(test_cache_put),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
