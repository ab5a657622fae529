/* test_core.c: base64url, hex, buffers, constant-time compare, randomness,
 * integer settings from the environment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

static void test_b64url_rfc4648_vectors(void **state)
{
	/* RFC 4648 §10 test vectors, unpadded URL alphabet. */
	static const struct { const char *in, *out; } v[] = {
		{"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"}, {"foob", "Zm9vYg"},
		{"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
	};
	size_t i;
	(void)state;
	for (i = 0; i < TS_ARRAY_LEN(v); i++) {
		char out[32];
		unsigned char dec[32];
		size_t n;
		assert_int_equal(ts_b64url_encode(v[i].in, strlen(v[i].in), out, sizeof(out)),
				 strlen(v[i].out));
		assert_string_equal(out, v[i].out);
		assert_int_equal(ts_b64url_decode(out, strlen(out), dec, sizeof(dec), &n), TS_OK);
		assert_int_equal(n, strlen(v[i].in));
		assert_memory_equal(dec, v[i].in, n);
	}
}

static void test_b64url_rejects(void **state)
{
	unsigned char dec[16];
	size_t n;
	(void)state;
	assert_int_equal(ts_b64url_decode("Zm9v=", 5, dec, sizeof(dec), &n), TS_EINVAL);
	assert_int_equal(ts_b64url_decode("Zm+v", 4, dec, sizeof(dec), &n), TS_EINVAL);
	assert_int_equal(ts_b64url_decode("Z", 1, dec, sizeof(dec), &n), TS_EINVAL);
	assert_int_equal(ts_b64url_decode("Zh", 2, dec, sizeof(dec), &n), TS_EINVAL); /* non-canonical */
	assert_int_equal(ts_b64url_decode("Zm9vYmFy", 8, dec, 3, &n), TS_ETOOBIG);
	/* a 0xfb 0xff pair needs the URL alphabet */
	assert_int_equal(ts_b64url_decode("-_8", 3, dec, sizeof(dec), &n), TS_OK);
	assert_int_equal(n, 2);
	assert_int_equal(dec[0], 0xfb);
	assert_int_equal(dec[1], 0xff);
}

static void test_b64_standard(void **state)
{
	unsigned char dec[32];
	size_t n;
	(void)state;
	assert_int_equal(ts_b64_decode("Zm9vYg==", 8, dec, sizeof(dec), &n), TS_OK);
	assert_int_equal(n, 4);
	assert_memory_equal(dec, "foob", 4);
	assert_int_equal(ts_b64_decode("Zm9vYg=", 7, dec, sizeof(dec), &n), TS_EINVAL);
	assert_int_equal(ts_b64_decode("Zm9v+/==", 8, dec, sizeof(dec), &n), TS_EINVAL);
}

static void test_hex(void **state)
{
	char out[9];
	unsigned char dec[4];
	size_t n;
	(void)state;
	ts_hex_encode("\x01\xab\xff\x00", 4, out);
	assert_string_equal(out, "01abff00");
	assert_int_equal(ts_hex_decode("01ABff00", 8, dec, sizeof(dec), &n), TS_OK);
	assert_memory_equal(dec, "\x01\xab\xff\x00", 4);
	assert_int_equal(ts_hex_decode("0g", 2, dec, sizeof(dec), &n), TS_EINVAL);
}

static void test_buf_max(void **state)
{
	struct ts_buf b;
	(void)state;
	ts_buf_init(&b, 8);
	assert_int_equal(ts_buf_appends(&b, "12345"), TS_OK);
	assert_int_equal(ts_buf_appendf(&b, "%d", 678), TS_OK);
	assert_string_equal(b.p, "12345678");
	assert_int_equal(ts_buf_appends(&b, "9"), TS_ETOOBIG);
	assert_null(b.p); /* a failed buffer is empty */
	assert_int_equal(b.len, 0);
	ts_buf_init(&b, 64);
	assert_int_equal(ts_buf_append_json_escaped(&b, "a\"b\\\n\x01", 6), TS_OK);
	assert_string_equal(b.p, "a\\\"b\\\\\\n\\u0001");
	ts_buf_clear(&b);
}

static void test_ct_equal(void **state)
{
	(void)state;
	assert_true(ts_ct_equal("secret", 6, "secret", 6));
	assert_false(ts_ct_equal("secret", 6, "secreT", 6));
	assert_false(ts_ct_equal("secret", 6, "secret!", 7));
	assert_false(ts_ct_equal(NULL, 0, "", 0));
	assert_false(ts_ct_equal("", 0, NULL, 0));
}

static void test_rand_token(void **state)
{
	char a[64], b[64], u[37];
	(void)state;
	assert_int_equal(ts_rand_token(a, sizeof(a), 32), TS_OK);
	assert_int_equal(ts_rand_token(b, sizeof(b), 32), TS_OK);
	assert_int_equal(strlen(a), 43);
	assert_string_not_equal(a, b);
	assert_int_equal(ts_rand_token(a, 43, 32), TS_ETOOBIG);
	assert_int_equal(ts_rand_uuid(u), TS_OK);
	assert_int_equal(strlen(u), 36);
	assert_int_equal(u[14], '4');
}

static void test_arena(void **state)
{
	struct ts_arena *a = ts_arena_new();
	char *big, *s;
	(void)state;
	s = ts_arena_printf(a, "%s-%d", "x", 42);
	assert_string_equal(s, "x-42");
	big = ts_arena_alloc(a, 100000);
	big[99999] = 1;
	s = ts_arena_strndup(a, "hello", 3);
	assert_string_equal(s, "hel");
	ts_arena_free(a);
}

/* A whole decimal number within the bounds, or nothing: *out keeps the
 * caller's default unless TS_OK. */
static void test_env_int(void **state)
{
	static const struct {
		const char *text;
		int64_t min;
		int rc;
		int64_t want;
	} v[] = {
		{"42", 1, TS_OK, 42},
		{"1", 1, TS_OK, 1},
		{"100", 1, TS_OK, 100},
		{"-5", -5, TS_OK, -5},
		{"0", 0, TS_OK, 0},
		{"0", 1, TS_EINVAL, 7},
		{"101", 1, TS_EINVAL, 7},
		{"-6", -5, TS_EINVAL, 7},
		{"4x", 1, TS_EINVAL, 7},
		{"x4", 1, TS_EINVAL, 7},
		{" 4", 1, TS_EINVAL, 7},
		{"+4", 1, TS_EINVAL, 7},
		{"4 ", 1, TS_EINVAL, 7},
		{"1.5", 1, TS_EINVAL, 7},
		{"-", -5, TS_EINVAL, 7},
		{"99999999999999999999999", 1, TS_EINVAL, 7},
		{"", 1, TS_ENOTFOUND, 7},
	};
	size_t i;
	int64_t out;
	(void)state;
	for (i = 0; i < TS_ARRAY_LEN(v); i++) {
		assert_int_equal(setenv("TS_TEST_ENV_INT", v[i].text, 1), 0);
		out = 7;
		assert_int_equal(ts_env_int("TS_TEST_ENV_INT", v[i].min, 100, &out), v[i].rc);
		assert_int_equal(out, v[i].want);
	}
	assert_int_equal(setenv("TS_TEST_ENV_INT", "9223372036854775807", 1), 0);
	assert_int_equal(ts_env_int("TS_TEST_ENV_INT", 1, INT64_MAX, &out), TS_OK);
	assert_int_equal(out, INT64_MAX);
	assert_int_equal(setenv("TS_TEST_ENV_INT", "9223372036854775808", 1), 0);
	assert_int_equal(ts_env_int("TS_TEST_ENV_INT", 1, INT64_MAX, &out), TS_EINVAL);
	assert_int_equal(out, INT64_MAX);
	assert_int_equal(ts_env_int("TS_TEST_ENV_INT", 100, 1, &out), TS_EINVAL);
	assert_int_equal(ts_env_int(NULL, 1, 100, &out), TS_EINVAL);
	assert_int_equal(ts_env_int("TS_TEST_ENV_INT", 1, 100, NULL), TS_EINVAL);
	assert_int_equal(unsetenv("TS_TEST_ENV_INT"), 0);
	out = 7;
	assert_int_equal(ts_env_int("TS_TEST_ENV_INT", 1, 100, &out), TS_ENOTFOUND);
	assert_int_equal(out, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64url_rfc4648_vectors),
		cmocka_unit_test(test_b64url_rejects),
		cmocka_unit_test(test_b64_standard),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_buf_max),
		cmocka_unit_test(test_ct_equal),
		cmocka_unit_test(test_rand_token),
		cmocka_unit_test(test_arena),
		cmocka_unit_test(test_env_int),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
