/* test_httpc.c: URL splitting and response parsing of the small HTTP
 * client (Content-Length, chunked, close-delimited, malformed, caps). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "httpc.h"

#include <string.h>

static void test_url_split(void **state)
{
	char host[TA_HTTP_HOST_MAX], port[TA_HTTP_PORT_MAX];
	const char *path;

	(void)state;
	assert_int_equal(ta_url_split("http://127.0.0.1:8080/t/acme/api", host, port, &path), TA_OK);
	assert_string_equal(host, "127.0.0.1");
	assert_string_equal(port, "8080");
	assert_string_equal(path, "/t/acme/api");
	assert_int_equal(ta_url_split("http://auth.acme.test", host, port, &path), TA_OK);
	assert_string_equal(host, "auth.acme.test");
	assert_string_equal(port, "80");
	assert_string_equal(path, "/");
	assert_int_equal(ta_url_split("http://[::1]:9/x", host, port, &path), TA_OK);
	assert_string_equal(host, "::1");
	assert_string_equal(port, "9");
	assert_int_equal(ta_url_split("https://a/x", host, port, &path), TA_EINVAL);
	assert_int_equal(ta_url_split("http://u@a/x", host, port, &path), TA_EINVAL);
	assert_int_equal(ta_url_split("http://a:/x", host, port, &path), TA_EINVAL);
	assert_int_equal(ta_url_split("http://a:8x/x", host, port, &path), TA_EINVAL);
	assert_int_equal(ta_url_split("http://a/x y", host, port, &path), TA_EINVAL);
	assert_int_equal(ta_url_split("http://a/x\r\nHost: b", host, port, &path), TA_EINVAL);
	assert_int_equal(ta_url_split("http:///x", host, port, &path), TA_EINVAL);
	assert_int_equal(ta_url_split("http://[::1/x", host, port, &path), TA_EINVAL);
}

static int parse(const char *s, bool eof, size_t max, bool *complete, struct ta_http_resp *r)
{
	return ta_http_parse(s, strlen(s), eof, max, complete, r);
}

static void test_parse_content_length(void **state)
{
	const char *s = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
			"content-length: 7\r\n\r\n{\"a\":1}";
	struct ta_http_resp r;
	bool complete;
	size_t cut;

	(void)state;
	assert_int_equal(parse(s, false, 1024, &complete, &r), TA_OK);
	assert_true(complete);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.len, 7);
	assert_string_equal(r.body, "{\"a\":1}");
	ta_http_resp_clear(&r);
	/* Every prefix is incomplete, never an error. */
	for (cut = 0; cut < strlen(s); cut++) {
		assert_int_equal(ta_http_parse(s, cut, false, 1024, &complete, &r), TA_OK);
		assert_false(complete);
		ta_http_resp_clear(&r);
	}
	/* Over the cap. */
	assert_int_equal(parse(s, false, 6, &complete, &r), TA_ETOOBIG);
	ta_http_resp_clear(&r);
}

static void test_parse_chunked(void **state)
{
	const char *s = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			"4\r\n{\"a\"\r\n3;ext=1\r\n:1}\r\n0\r\nTrailer: x\r\n\r\n";
	struct ta_http_resp r;
	bool complete;
	size_t cut;

	(void)state;
	assert_int_equal(parse(s, false, 1024, &complete, &r), TA_OK);
	assert_true(complete);
	assert_string_equal(r.body, "{\"a\":1}");
	assert_int_equal(r.len, 7);
	ta_http_resp_clear(&r);
	for (cut = 0; cut < strlen(s); cut++) {
		assert_int_equal(ta_http_parse(s, cut, false, 1024, &complete, &r), TA_OK);
		assert_false(complete);
		ta_http_resp_clear(&r);
	}
	assert_int_equal(parse(s, false, 5, &complete, &r), TA_ETOOBIG);
	ta_http_resp_clear(&r);
}

static void test_parse_close_delimited_and_no_body(void **state)
{
	struct ta_http_resp r;
	bool complete;

	(void)state;
	assert_int_equal(parse("HTTP/1.0 404 Not Found\r\n\r\nnope", false, 64, &complete, &r),
			 TA_OK);
	assert_false(complete);
	ta_http_resp_clear(&r);
	assert_int_equal(parse("HTTP/1.0 404 Not Found\r\n\r\nnope", true, 64, &complete, &r),
			 TA_OK);
	assert_true(complete);
	assert_int_equal(r.status, 404);
	assert_string_equal(r.body, "nope");
	ta_http_resp_clear(&r);
	assert_int_equal(parse("HTTP/1.1 204\r\n\r\n", false, 64, &complete, &r), TA_OK);
	assert_true(complete);
	assert_int_equal(r.status, 204);
	assert_int_equal(r.len, 0);
	ta_http_resp_clear(&r);
}

static void test_parse_malformed(void **state)
{
	static const char *const bad[] = {
		"HTTP/2 200 OK\r\n\r\n",
		"HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1 099 OK\r\n\r\n",
		"XTTP/1.1 200 OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n",
	};
	struct ta_http_resp r;
	bool complete;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], true, 64, &complete, &r) == TA_OK && complete)
			fail_msg("case %zu parsed", i);
		ta_http_resp_clear(&r);
	}
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n", false, 64,
			       &complete, &r), TA_ETOOBIG);
	ta_http_resp_clear(&r);
}

static void test_get_unreachable_and_bad_url(void **state)
{
	struct ta_http_resp r;

	(void)state;
	/* Port 1 on loopback: nothing listens there in a test environment. */
	assert_int_equal(ta_http_get("http://127.0.0.1:1/x", "t", 2000, 64, &r), TA_EIO);
	assert_int_equal(ta_http_get("https://127.0.0.1/x", NULL, 2000, 64, &r), TA_EINVAL);
	assert_int_equal(ta_http_get("http://127.0.0.1:1/x", "a\r\nb", 2000, 64, &r), TA_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_split),
		cmocka_unit_test(test_parse_content_length),
		cmocka_unit_test(test_parse_chunked),
		cmocka_unit_test(test_parse_close_delimited_and_no_body),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_get_unreachable_and_bad_url),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
