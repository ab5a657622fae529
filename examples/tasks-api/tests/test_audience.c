/* test_audience.c: the aud read from a JWT's payload, as tasks-api learns
 * the tenant's audience from its own token. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "audience.h"

#include <stdlib.h>

/* Header and signature do not matter; the payloads are base64url of:
 *   {"aud":"https://api.acme.test","sub":"x"}
 *   {"aud":["https://a.test","https://b.test"]}
 *   {"sub":"x"}
 *   {"aud":""}
 *   {"aud":7} */
#define HDR "eyJhbGciOiJFUzI1NiJ9."
#define STRING_AUD "eyJhdWQiOiJodHRwczovL2FwaS5hY21lLnRlc3QiLCJzdWIiOiJ4In0"
#define ARRAY_AUD "eyJhdWQiOlsiaHR0cHM6Ly9hLnRlc3QiLCJodHRwczovL2IudGVzdCJdfQ"
#define NO_AUD "eyJzdWIiOiJ4In0"
#define EMPTY_AUD "eyJhdWQiOiIifQ"
#define NUMBER_AUD "eyJhdWQiOjd9"

static void expect(const char *token, const char *want)
{
	char *aud = (char *)1;

	if (want == NULL) {
		assert_int_equal(ta_audience_of_token(token, &aud), TA_EINVAL);
		assert_null(aud);
		return;
	}
	assert_int_equal(ta_audience_of_token(token, &aud), TA_OK);
	assert_string_equal(aud, want);
	free(aud);
}

static void test_string_and_array(void **state)
{
	(void)state;
	expect(HDR STRING_AUD ".sig", "https://api.acme.test");
	expect(HDR ARRAY_AUD ".sig", "https://a.test");
}

static void test_refused(void **state)
{
	(void)state;
	expect(HDR NO_AUD ".sig", NULL);
	expect(HDR EMPTY_AUD ".sig", NULL);
	expect(HDR NUMBER_AUD ".sig", NULL);
	expect(NULL, NULL);
	expect("", NULL);
	expect("no-dots", NULL);
	expect(HDR "not*base64.sig", NULL);
	expect(HDR "eyJhdWQiOiJ4In0=.sig", NULL); /* padded: not base64url */
	expect(HDR "e.sig", NULL);                /* a length no encoding has */
	expect(HDR "bm90IGpzb24.sig", NULL);      /* "not json" */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_string_and_array),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests_name("tasks_api_audience", tests, NULL, NULL);
}
