/* test_vault.c: the token vault's pure parts: the refresh window
 * (the earlier of 600 s before expiry and 80% of the lifetime, never
 * before half of it), its jitter, the retry backoff, which provider URLs
 * may be called, and provider validation (profiles, unknown fields,
 * secrets, grant rules). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "vault/vault.h"
#include "vault/vault_int.h"

#define LEAD TS_VAULT_REFRESH_LEAD_S

static void test_refresh_window(void **state)
{
	static const struct {
		int64_t issued, expires, want;
	} cases[] = {
		/* Seconds-long tokens: half of the lifetime. */
		{0, 4, 2},
		{1000, 1004, 1002},
		{0, 1, 0},
		/* 1000 s: 80% (800) is before expiry - 600 (400)? No: 400 is the
		 * earlier, but it is before half (500), so 500. */
		{0, 1000, 500},
		/* 2000 s: expiry - 600 = 1400 is earlier than 80% = 1600. */
		{0, 2000, 1400},
		/* 3000 s: both give 2400. */
		{0, 3000, 2400},
		/* An hour: 80% = 2880 is earlier than 3000. */
		{0, 3600, 2880},
		/* Salesforce's assumed two hours, Shopee's four. */
		{100, 7300, 100 + 5760},
		{0, 14400, 11520},
		/* No known lifetime: due at expiry. */
		{500, 500, 500},
		{500, 400, 400},
	};
	size_t i;

	(void)state;
	for (i = 0; i < TS_ARRAY_LEN(cases); i++) {
		int64_t got = ts_vault_refresh_at(cases[i].issued, cases[i].expires, LEAD);
		if (got != cases[i].want)
			fail_msg("case %zu: refresh_at(%lld, %lld) = %lld, want %lld", i,
				 (long long)cases[i].issued, (long long)cases[i].expires,
				 (long long)got, (long long)cases[i].want);
	}
	/* Whatever the lifetime: never before half, never after 80%, never
	 * later than lead before expiry unless half forces it. */
	for (i = 1; i < 200000; i += 997) {
		int64_t at = ts_vault_refresh_at(0, (int64_t)i, LEAD);
		assert_true(at >= (int64_t)i / 2);
		assert_true(at <= (int64_t)i * 4 / 5 || at == (int64_t)i / 2);
		assert_true(at <= (int64_t)i - LEAD || at == (int64_t)i / 2);
	}
}

static void test_jitter(void **state)
{
	unsigned j;

	(void)state;
	/* No jitter: the window itself. */
	assert_int_equal(ts_vault_refresh_jittered(0, 3600, LEAD, 0), 2880);
	/* Full jitter: 5% of the lifetime, at most 30 s, earlier. */
	assert_int_equal(ts_vault_refresh_jittered(0, 3600, LEAD, 1000), 2850);
	assert_int_equal(ts_vault_refresh_jittered(0, 100, 10, 1000), 75);
	assert_int_equal(ts_vault_refresh_jittered(0, 100, 10, 500), 78);
	/* Never before half of the lifetime. */
	assert_int_equal(ts_vault_refresh_jittered(0, 4, LEAD, 1000), 2);
	for (j = 0; j <= 1200; j += 50) {
		int64_t at = ts_vault_refresh_jittered(0, 14400, LEAD, j);
		assert_true(at <= 11520 && at >= 11490 && at >= 7200);
	}
}

static void test_backoff(void **state)
{
	(void)state;
	assert_int_equal(ts_vault_backoff_ms(1, 2000, 300000), 2000);
	assert_int_equal(ts_vault_backoff_ms(2, 2000, 300000), 4000);
	assert_int_equal(ts_vault_backoff_ms(3, 2000, 300000), 8000);
	assert_int_equal(ts_vault_backoff_ms(8, 2000, 300000), 256000);
	assert_int_equal(ts_vault_backoff_ms(9, 2000, 300000), 300000);
	assert_int_equal(ts_vault_backoff_ms(1000000, 2000, 300000), 300000);
	assert_int_equal(ts_vault_backoff_ms(0, 2000, 300000), 2000);
	assert_int_equal(ts_vault_backoff_ms(-5, 1000, 4000), 1000);
	assert_int_equal(ts_vault_backoff_ms(3, 1000, 4000), 4000);
}

static void test_upstream_urls(void **state)
{
	static const char *const ok[] = {
		"https://login.salesforce.com/services/oauth2/token",
		"https://a.example:8443/x?y=1",
		"http://127.0.0.1:8080/t/up/oauth2/token",
		"http://127.9.8.7/x",
		"http://localhost:9/x",
		"http://[::1]:9/x",
		"http://127.1/x", /* 127.0.0.1 in its short form */
		"HTTPS://UPPER.example/",
	};
	static const char *const bad[] = {
		"http://example.com/token", "ftp://example.com/x", "file:///etc/passwd",
		"https://user:pw@example.com/x", "https://example.com/x#frag", "https://",
		"http://127.0.0.1.evil.example/x", "gopher://127.0.0.1/",
		"https://exa mple.com/", "", "//example.com/x", "http://10.0.0.1/x",
	};
	size_t i;

	(void)state;
	for (i = 0; i < TS_ARRAY_LEN(ok); i++)
		if (!ts_upstream_url_ok(ok[i]))
			fail_msg("refused %s", ok[i]);
	for (i = 0; i < TS_ARRAY_LEN(bad); i++)
		if (ts_upstream_url_ok(bad[i]))
			fail_msg("allowed %s", bad[i]);
	assert_false(ts_upstream_url_ok(NULL));
}

/* Validates a provider given as JSON text; returns the code and err. */
static int validate(const char *text, bool require_secret, char *err, size_t cap)
{
	json_t *spec = json_loads(text, 0, NULL);
	int rc;

	assert_non_null(spec);
	err[0] = '\0';
	rc = ts_admin_provider_validate(spec, require_secret, err, cap);
	json_decref(spec);
	return rc;
}

/* A provider's error text as logs and last_error keep it. */
static void test_error_text(void **state)
{
	static const struct {
		const char *code, *desc, *want;
	} cases[] = {
		{"invalid_client", "bad secret s3cr3t-value for client", /* the request's secret */
		 "the provider answered invalid_client (HTTP 401): bad secret [redacted] for client"},
		{"invalid_grant", "code 4f6a9c0e1b2d3a4f5e6d7c8b9a0f1e2d expired", /* a token-like run */
		 "the provider answered invalid_grant (HTTP 401): code [redacted] expired"},
		{"invalid_request", "the parameter authorization_code is unsupported", /* words stay */
		 "the provider answered invalid_request (HTTP 401): the parameter "
		 "authorization_code is unsupported"},
		{"x\n\x01y", "line\nbreak", "the provider answered x??y (HTTP 401): line?break"},
		{NULL, NULL, "the provider answered (HTTP 401)"},
		{"s3cr3t-value", NULL, "the provider answered [redacted] (HTTP 401)"},
	};
	const char *secrets[] = {"s3cr3t-value", NULL, "abc"};
	char err[TS_VAULT_ERR_MAX], longer[600];
	size_t i;

	(void)state;
	for (i = 0; i < TS_ARRAY_LEN(cases); i++) {
		ts_vault_error_text(err, sizeof(err), "the provider", cases[i].code, cases[i].desc, 401,
				    secrets, TS_ARRAY_LEN(secrets));
		assert_string_equal(err, cases[i].want);
	}
	/* Bounded, and marked where cut. */
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	ts_vault_error_text(err, sizeof(err), "Shopee", NULL, longer, 400, NULL, 0);
	assert_true(strlen(err) < 200);
	assert_non_null(strstr(err, "..."));
	/* Short values (under 4 bytes) are not hidden: they would hide words. */
	ts_vault_error_text(err, sizeof(err), "Shopee", NULL, "abc abd", 400, secrets, 3);
	assert_string_equal(err, "Shopee answered (HTTP 400): abc abd");
}

static void test_provider_validation(void **state)
{
	static const char *const good[] = {
		"{\"name\":\"hub\",\"profile\":\"hubspot\",\"client_id\":\"c\",\"client_secret\":\"s\"}",
		"{\"name\":\"sf\",\"profile\":\"salesforce\",\"client_id\":\"c\",\"client_secret\":\"s\","
		"\"authorize_url\":\"https://test.salesforce.com/services/oauth2/authorize\"}",
		"{\"name\":\"ms\",\"profile\":\"microsoft\",\"client_id\":\"c\",\"client_secret\":\"s\","
		"\"microsoft_tenant\":\"organizations\"}",
		"{\"name\":\"fhir\",\"profile\":\"smart-on-fhir\",\"client_id\":\"c\","
		"\"auth_method\":\"none\",\"fhir_base_url\":\"https://fhir.example/r4\"}",
		"{\"name\":\"cc\",\"grant\":\"client_credentials\",\"token_url\":\"https://a.example/t\","
		"\"client_id\":\"c\",\"client_secret\":\"s\"}",
		"{\"name\":\"shop\",\"kind\":\"shopee\",\"partner_id\":\"2001887\",\"partner_key\":\"k\","
		"\"base_url\":\"cn-sandbox\"}",
		"{\"name\":\"shop2\",\"profile\":\"shopee\",\"partner_id\":1,\"partner_key\":\"k\","
		"\"base_url\":\"http://127.0.0.1:9\"}",
	};
	static const struct {
		const char *text;
		const char *needle; /* the sentence must name it */
	} bad[] = {
		{"{\"name\":\"x\",\"profile\":\"hubspot\",\"client_id\":\"c\",\"client_secret\":\"s\","
		 "\"colour\":1}", "colour"},
		{"{\"name\":\"x\",\"profile\":\"google\",\"client_id\":\"c\",\"client_secret\":\"s\","
		 "\"partner_key\":\"k\"}", "partner_key"},
		{"{\"name\":\"x\",\"kind\":\"shopee\",\"profile\":\"hubspot\"}", "profile"},
		{"{\"name\":\"x\",\"profile\":\"hubspot\",\"client_secret\":\"s\"}", "client_id"},
		{"{\"name\":\"x\",\"profile\":\"hubspot\",\"client_id\":\"c\"}", "client_secret"},
		{"{\"name\":\"x\",\"grant\":\"client_credentials\",\"token_url\":\"https://a.example/t\","
		 "\"client_id\":\"c\",\"auth_method\":\"none\"}", "client_credentials"},
		{"{\"name\":\"x\",\"token_url\":\"https://a.example/t\",\"client_id\":\"c\","
		 "\"client_secret\":\"s\"}", "authorize_url"},
		{"{\"name\":\"x\",\"profile\":\"hubspot\",\"client_id\":\"c\",\"client_secret\":\"s\","
		 "\"scopes\":[\"a b\"]}", "scopes"},
		{"{\"name\":\"x\",\"profile\":\"hubspot\",\"client_id\":\"c\",\"client_secret\":\"s\","
		 "\"extra_authorize_params\":{\"redirect_uri\":\"https://evil.example\"}}", "redirect_uri"},
		{"{\"name\":\"x\",\"profile\":\"hubspot\",\"client_id\":\"c\",\"client_secret\":\"s\","
		 "\"microsoft_tenant\":\"t\"}", "microsoft_tenant"},
		{"{\"name\":\"x\",\"profile\":\"microsoft\",\"client_id\":\"c\",\"client_secret\":\"s\","
		 "\"microsoft_tenant\":\"../evil\"}", "microsoft_tenant"},
		{"{\"name\":\"x\",\"profile\":\"shopee\",\"partner_id\":0,\"partner_key\":\"k\"}",
		 "partner_id"},
		{"{\"name\":\"x\",\"profile\":\"shopee\",\"partner_id\":\"01\",\"partner_key\":\"k\"}",
		 "partner_id"},
		{"{\"name\":\"x\",\"profile\":\"shopee\",\"partner_id\":1,\"partner_key\":\"k\","
		 "\"base_url\":\"http://shopee.example\"}", "base_url"},
		{"{\"name\":\"\",\"profile\":\"hubspot\",\"client_id\":\"c\",\"client_secret\":\"s\"}",
		 "name"},
		{"{\"profile\":\"hubspot\",\"client_id\":\"c\",\"client_secret\":\"s\"}", "name"},
		{"[]", "object"},
	};
	char err[512];
	size_t i;

	(void)state;
	for (i = 0; i < TS_ARRAY_LEN(good); i++)
		if (validate(good[i], true, err, sizeof(err)) != TS_OK)
			fail_msg("refused %s: %s", good[i], err);
	for (i = 0; i < TS_ARRAY_LEN(bad); i++) {
		if (validate(bad[i].text, true, err, sizeof(err)) != TS_EINVAL)
			fail_msg("accepted %s", bad[i].text);
		if (strstr(err, bad[i].needle) == NULL)
			fail_msg("\"%s\" does not name %s", err, bad[i].needle);
	}
	/* An update may leave the secret out (the stored one is kept). */
	assert_int_equal(validate("{\"name\":\"x\",\"profile\":\"hubspot\",\"client_id\":\"c\"}",
				  false, err, sizeof(err)), TS_OK);
	/* A secret from the environment is read at apply time. */
	setenv("TS_TEST_VAULT_SECRET", "from-env", 1);
	assert_int_equal(validate("{\"name\":\"x\",\"profile\":\"hubspot\",\"client_id\":\"c\","
				  "\"client_secret_env\":\"TS_TEST_VAULT_SECRET\"}", true, err,
				  sizeof(err)), TS_OK);
	unsetenv("TS_TEST_VAULT_SECRET");
	assert_int_equal(validate("{\"name\":\"x\",\"profile\":\"hubspot\",\"client_id\":\"c\","
				  "\"client_secret_env\":\"TS_TEST_VAULT_SECRET\"}", true, err,
				  sizeof(err)), TS_EINVAL);
	assert_non_null(strstr(err, "TS_TEST_VAULT_SECRET"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refresh_window),
		cmocka_unit_test(test_jitter),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_upstream_urls),
		cmocka_unit_test(test_error_text),
		cmocka_unit_test(test_provider_validation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
