/* test_shopee.c: Shopee Open Platform v2 pure functions (src/vault/shopee.c):
 * signatures against HMAC-SHA256 values computed independently with Python's
 * hmac/hashlib, the authorization link, token and refresh requests, response
 * parsing and the base URL policy (https anywhere, http on loopback only). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vault/shopee.h"

#define KEY "shpk4a6b6c6f6e67706172746e65726b6579"
#define PID 2001887
#define TS 1655714431
#define AT "59777174636562737266615546704c6d"
#define LIVE TS_SHOPEE_HOST_LIVE

/* ---- signatures ---- */

struct sign_vec {
	const char *key;
	int64_t pid;
	const char *path;
	int64_t ts;
	enum ts_shopee_scope scope;
	const char *at;
	const char *id;
	const char *hex; /* python3: hmac.new(key, base, hashlib.sha256).hexdigest() */
};

static void test_sign_vectors(void **state)
{
	/* Base strings as in Shopee's developer guide 16 (its shop example uses
	 * these partner_id, path, timestamp, access_token and shop_id). */
	static const struct sign_vec v[] = {
		/* "2001887/api/v2/shop/auth_partner1655714431" */
		{KEY, PID, TS_SHOPEE_PATH_AUTH, TS, TS_SHOPEE_PUBLIC, NULL, NULL,
		 "d99af34adb4ccb1dfef10893f720bd1c65db7c4cdef3de0a07f57848d93bf4e0"},
		/* "2001887/api/v2/auth/token/get1655714431" */
		{KEY, PID, TS_SHOPEE_PATH_TOKEN, TS, TS_SHOPEE_PUBLIC, NULL, NULL,
		 "d6b2a72762bc3e3ea9f6f72436cf962221808a3aa81550d1c6e79e531162ee7b"},
		/* "2001887/api/v2/auth/access_token/get1655714431" */
		{KEY, PID, TS_SHOPEE_PATH_REFRESH, TS, TS_SHOPEE_PUBLIC, NULL, NULL,
		 "cb6717472d56935e5bbbdf87417b1123a23d115adb3530fb5a2b4485e15fe33f"},
		/* "2001887/api/v2/shop/get_shop_info1655714431" AT "14701711" */
		{KEY, PID, "/api/v2/shop/get_shop_info", TS, TS_SHOPEE_SHOP, AT, "14701711",
		 "4c3fab926a13c215adff355d98506f465840131ae4863ead3c1688b1053268f4"},
		/* "2001887/api/v2/merchant/get_merchant_info1655714431" AT "1000000" */
		{KEY, PID, "/api/v2/merchant/get_merchant_info", TS, TS_SHOPEE_MERCHANT, AT,
		 "1000000", "d875e2fe59538fa77ae53ea17e9959ed265ee788063d391aef1c1beaed8b9693"},
		/* int64 extremes: "9223372036854775807/api/v2/shop/get_shop_info1700000000"
		 * "tok" "9223372036854775807" under key "k" */
		{"k", INT64_MAX, "/api/v2/shop/get_shop_info", 1700000000, TS_SHOPEE_SHOP, "tok",
		 "9223372036854775807",
		 "1fc69c921e64ca78910208d7be4a6add384782a35f7a2b477bc23989c60d4d87"},
	};
	char out[TS_SHOPEE_SIGN_LEN + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		memset(out, 'x', sizeof(out));
		assert_int_equal(ts_shopee_sign(v[i].key, v[i].pid, v[i].path, v[i].ts, v[i].scope,
						v[i].at, v[i].id, out),
				 TS_OK);
		assert_string_equal(out, v[i].hex);
	}
	/* PUBLIC ignores access_token and id. */
	assert_int_equal(ts_shopee_sign(KEY, PID, TS_SHOPEE_PATH_AUTH, TS, TS_SHOPEE_PUBLIC, AT,
					"14701711", out),
			 TS_OK);
	assert_string_equal(out, v[0].hex);
	/* The same inputs at shop and merchant level give different signatures
	 * only through the id; the scope itself is not in the base string. */
	assert_int_equal(ts_shopee_sign(KEY, PID, "/api/v2/shop/get_shop_info", TS,
					TS_SHOPEE_MERCHANT, AT, "14701711", out),
			 TS_OK);
	assert_string_equal(out, v[3].hex);
}

static void test_sign_rejects(void **state)
{
	static const char *bad_ids[] = {"", "0", "0123", "-1", "+1", "12a", " 1", "1 ",
					"9223372036854775808", "99999999999999999999"};
	static const char *bad_paths[] = {"", "api/v2/x", "/api/v2/x?y=1", "/a#b", "/a b",
					  "/a%2fb"};
	char out[TS_SHOPEE_SIGN_LEN + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		snprintf(out, sizeof(out), "junk");
		assert_int_equal(ts_shopee_sign(KEY, PID, "/api/v2/shop/get_shop_info", TS,
						TS_SHOPEE_SHOP, AT, bad_ids[i], out),
				 TS_EINVAL);
		assert_string_equal(out, "");
	}
	for (i = 0; i < sizeof(bad_paths) / sizeof(bad_paths[0]); i++)
		assert_int_equal(ts_shopee_sign(KEY, PID, bad_paths[i], TS, TS_SHOPEE_PUBLIC, NULL,
						NULL, out),
				 TS_EINVAL);
	assert_int_equal(ts_shopee_sign(KEY, PID, NULL, TS, TS_SHOPEE_PUBLIC, NULL, NULL, out),
			 TS_EINVAL);
	assert_int_equal(ts_shopee_sign(NULL, PID, "/a", TS, TS_SHOPEE_PUBLIC, NULL, NULL, out),
			 TS_EINVAL);
	assert_int_equal(ts_shopee_sign("", PID, "/a", TS, TS_SHOPEE_PUBLIC, NULL, NULL, out),
			 TS_EINVAL);
	assert_int_equal(ts_shopee_sign(KEY, 0, "/a", TS, TS_SHOPEE_PUBLIC, NULL, NULL, out),
			 TS_EINVAL);
	assert_int_equal(ts_shopee_sign(KEY, -5, "/a", TS, TS_SHOPEE_PUBLIC, NULL, NULL, out),
			 TS_EINVAL);
	assert_int_equal(ts_shopee_sign(KEY, PID, "/a", 0, TS_SHOPEE_PUBLIC, NULL, NULL, out),
			 TS_EINVAL);
	assert_int_equal(ts_shopee_sign(KEY, PID, "/a", TS, TS_SHOPEE_SHOP, NULL, "1", out),
			 TS_EINVAL);
	assert_int_equal(ts_shopee_sign(KEY, PID, "/a", TS, TS_SHOPEE_SHOP, "", "1", out),
			 TS_EINVAL);
	assert_int_equal(ts_shopee_sign(KEY, PID, "/a", TS, TS_SHOPEE_SHOP, "a b", "1", out),
			 TS_EINVAL);
	assert_int_equal(ts_shopee_sign(KEY, PID, "/a", TS, TS_SHOPEE_MERCHANT, AT, NULL, out),
			 TS_EINVAL);
	assert_int_equal(ts_shopee_sign(KEY, PID, "/a", TS, (enum ts_shopee_scope)7, AT, "1", out),
			 TS_EINVAL);
}

/* ---- authorization link ---- */

#define REDIRECT "https://tessera.example/t/acme/connect/callback?state=a b&x=1"
/* python3: urllib.parse.quote(REDIRECT, safe='-._~') */
#define REDIRECT_ENC \
	"https%3A%2F%2Ftessera.example%2Ft%2Facme%2Fconnect%2Fcallback%3Fstate%3Da%20b%26x%3D1"
#define AUTH_SIGN "d99af34adb4ccb1dfef10893f720bd1c65db7c4cdef3de0a07f57848d93bf4e0"

static void test_auth_url(void **state)
{
	static const char *bases[] = {LIVE, LIVE "/"};
	struct ts_buf b;
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		ts_buf_init(&b, 8192);
		assert_int_equal(ts_shopee_auth_url(bases[i], PID, KEY, REDIRECT, TS, &b), TS_OK);
		/* partner_id, timestamp, sign, redirect, in that order. */
		assert_string_equal(b.p, LIVE "/api/v2/shop/auth_partner?partner_id=2001887"
					      "&timestamp=1655714431&sign=" AUTH_SIGN
					      "&redirect=" REDIRECT_ENC);
		ts_buf_clear(&b);
	}
	/* Appends to what is there. */
	ts_buf_init(&b, 8192);
	assert_int_equal(ts_buf_appends(&b, "<"), TS_OK);
	assert_int_equal(ts_shopee_auth_url("http://127.0.0.1:8123", PID, KEY, "http://x/", TS, &b),
			 TS_OK);
	assert_string_equal(b.p, "<http://127.0.0.1:8123/api/v2/shop/auth_partner?partner_id=2001887"
				 "&timestamp=1655714431&sign=" AUTH_SIGN
				 "&redirect=http%3A%2F%2Fx%2F");
	ts_buf_clear(&b);

	ts_buf_init(&b, 8192);
	assert_int_equal(ts_shopee_auth_url("http://example.com", PID, KEY, REDIRECT, TS, &b),
			 TS_EINVAL);
	assert_int_equal(ts_shopee_auth_url(LIVE, PID, KEY, NULL, TS, &b), TS_EINVAL);
	assert_int_equal(ts_shopee_auth_url(LIVE, PID, KEY, "", TS, &b), TS_EINVAL);
	assert_int_equal(ts_shopee_auth_url(LIVE, PID, NULL, REDIRECT, TS, &b), TS_EINVAL);
	assert_int_equal(ts_shopee_auth_url(LIVE, 0, KEY, REDIRECT, TS, &b), TS_EINVAL);
	ts_buf_clear(&b);
	/* A maximum too small for the link. */
	ts_buf_init(&b, 64);
	assert_int_equal(ts_shopee_auth_url(LIVE, PID, KEY, REDIRECT, TS, &b), TS_ETOOBIG);
	assert_null(b.p);
	ts_buf_clear(&b);
}

/* ---- token and refresh requests ---- */

#define TOKEN_SIGN "d6b2a72762bc3e3ea9f6f72436cf962221808a3aa81550d1c6e79e531162ee7b"
#define REFRESH_SIGN "cb6717472d56935e5bbbdf87417b1123a23d115adb3530fb5a2b4485e15fe33f"

/* The body in canonical form, and each id must be a JSON integer. */
static void assert_body(const json_t *body, const char *want, const char *id_name)
{
	char *s = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);

	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
	assert_true(json_is_integer(json_object_get(body, "partner_id")));
	assert_true(json_is_integer(json_object_get(body, id_name)));
}

static void test_token_request(void **state)
{
	struct ts_shopee_request r = {0};

	(void)state;
	assert_int_equal(ts_shopee_token_request(LIVE, PID, KEY, "7867624d4e76616648544f6e52625557",
						 "54804", NULL, TS, &r),
			 TS_OK);
	assert_string_equal(r.url, LIVE "/api/v2/auth/token/get?partner_id=2001887"
					 "&timestamp=1655714431&sign=" TOKEN_SIGN);
	assert_body(r.body,
		    "{\"code\":\"7867624d4e76616648544f6e52625557\",\"partner_id\":2001887,"
		    "\"shop_id\":54804}",
		    "shop_id");
	ts_shopee_request_clear(&r);
	assert_null(r.url);
	assert_null(r.body);

	/* Main account, with an id beyond 2^53 that must stay exact. */
	assert_int_equal(ts_shopee_token_request("http://localhost:9000/", PID, KEY, "c0de", NULL,
						 "9007199254740993", TS, &r),
			 TS_OK);
	assert_string_equal(r.url, "http://localhost:9000/api/v2/auth/token/get?partner_id=2001887"
				   "&timestamp=1655714431&sign=" TOKEN_SIGN);
	assert_body(r.body,
		    "{\"code\":\"c0de\",\"main_account_id\":9007199254740993,\"partner_id\":2001887}",
		    "main_account_id");
	ts_shopee_request_clear(&r);

	/* Exactly one of shop_id and main_account_id; strict decimals. */
	assert_int_equal(ts_shopee_token_request(LIVE, PID, KEY, "c", "1", "2", TS, &r), TS_EINVAL);
	assert_null(r.url);
	assert_null(r.body);
	assert_int_equal(ts_shopee_token_request(LIVE, PID, KEY, "c", NULL, NULL, TS, &r), TS_EINVAL);
	assert_int_equal(ts_shopee_token_request(LIVE, PID, KEY, "c", "54804x", NULL, TS, &r),
			 TS_EINVAL);
	assert_int_equal(ts_shopee_token_request(LIVE, PID, KEY, "c", NULL, "-3", TS, &r), TS_EINVAL);
	assert_int_equal(ts_shopee_token_request(LIVE, PID, KEY, "", "1", NULL, TS, &r), TS_EINVAL);
	assert_int_equal(ts_shopee_token_request(LIVE, PID, KEY, NULL, "1", NULL, TS, &r), TS_EINVAL);
	assert_int_equal(ts_shopee_token_request("ftp://x", PID, KEY, "c", "1", NULL, TS, &r),
			 TS_EINVAL);
	assert_int_equal(ts_shopee_token_request(LIVE, PID, "", "c", "1", NULL, TS, &r), TS_EINVAL);
	assert_null(r.url);
	assert_null(r.body);
	ts_shopee_request_clear(&r);
	ts_shopee_request_clear(NULL);
}

static void test_refresh_request(void **state)
{
	struct ts_shopee_request r = {0};

	(void)state;
	assert_int_equal(ts_shopee_refresh_request(TS_SHOPEE_HOST_SANDBOX, PID, KEY,
						   "684d42685667777868597a4477587455", "33142",
						   NULL, TS, &r),
			 TS_OK);
	assert_string_equal(r.url, TS_SHOPEE_HOST_SANDBOX "/api/v2/auth/access_token/get"
							  "?partner_id=2001887&timestamp=1655714431"
							  "&sign=" REFRESH_SIGN);
	assert_body(r.body,
		    "{\"partner_id\":2001887,\"refresh_token\":\"684d42685667777868597a4477587455\","
		    "\"shop_id\":33142}",
		    "shop_id");
	ts_shopee_request_clear(&r);

	assert_int_equal(ts_shopee_refresh_request(TS_SHOPEE_HOST_CN, PID, KEY, "rt", NULL,
						   "1001705", TS, &r),
			 TS_OK);
	assert_string_equal(r.url, TS_SHOPEE_HOST_CN "/api/v2/auth/access_token/get"
						     "?partner_id=2001887&timestamp=1655714431"
						     "&sign=" REFRESH_SIGN);
	assert_body(r.body, "{\"merchant_id\":1001705,\"partner_id\":2001887,\"refresh_token\":\"rt\"}",
		    "merchant_id");
	ts_shopee_request_clear(&r);

	assert_int_equal(ts_shopee_refresh_request(LIVE, PID, KEY, "rt", "1", "2", TS, &r),
			 TS_EINVAL);
	assert_int_equal(ts_shopee_refresh_request(LIVE, PID, KEY, "rt", NULL, NULL, TS, &r),
			 TS_EINVAL);
	assert_int_equal(ts_shopee_refresh_request(LIVE, PID, KEY, "r t", "1", NULL, TS, &r),
			 TS_EINVAL);
	assert_int_equal(ts_shopee_refresh_request(LIVE, PID, KEY, "rt", "01", NULL, TS, &r),
			 TS_EINVAL);
	assert_int_equal(ts_shopee_refresh_request(LIVE, PID, KEY, "rt", "1", NULL, 0, &r),
			 TS_EINVAL);
	assert_null(r.url);
	assert_null(r.body);
}

/* ---- responses ---- */

static int parse(const char *body, struct ts_shopee_tokens *t, char *err, size_t cap)
{
	return ts_shopee_parse_tokens(body, strlen(body), t, err, cap);
}

static void test_parse_success(void **state)
{
	struct ts_shopee_tokens t;
	char err[128];

	(void)state;
	/* Guide 20's shop-level sample. */
	assert_int_equal(parse("{\"refresh_token\":\"456e416149664b76745a6a794156794a\","
			       "\"access_token\":\"6a55746e61546f707579627656637464\","
			       "\"expire_in\":13859,\"request_id\":\"c040b886cfcabdfa5a23af51c595cd1b\","
			       "\"error\":\"\",\"message\":\"\"}",
			       &t, err, sizeof(err)),
			 TS_OK);
	assert_string_equal(t.access_token, "6a55746e61546f707579627656637464");
	assert_string_equal(t.refresh_token, "456e416149664b76745a6a794156794a");
	assert_int_equal(t.expire_in, 13859);
	assert_null(t.shop_ids);
	assert_null(t.merchant_ids);
	assert_string_equal(err, "");
	ts_shopee_tokens_clear(&t);
	assert_null(t.access_token);

	/* Guide 20's main-account sample, plus an id beyond 2^53. */
	assert_int_equal(parse("{\"refresh_token\":\"684d42685667777868597a4477587455\","
			       "\"access_token\":\"44776151594778486943647644745361\","
			       "\"expire_in\":14344,\"request_id\":\"9199e13ee74b22411498209cb5516e24\","
			       "\"merchant_id_list\":[1001705],"
			       "\"shop_id_list\":[33142,46154,9007199254740993],"
			       "\"error\":\"\",\"message\":\"\"}",
			       &t, err, sizeof(err)),
			 TS_OK);
	assert_int_equal(json_array_size(t.shop_ids), 3);
	assert_string_equal(json_string_value(json_array_get(t.shop_ids, 0)), "33142");
	assert_string_equal(json_string_value(json_array_get(t.shop_ids, 1)), "46154");
	assert_string_equal(json_string_value(json_array_get(t.shop_ids, 2)), "9007199254740993");
	assert_int_equal(json_array_size(t.merchant_ids), 1);
	assert_string_equal(json_string_value(json_array_get(t.merchant_ids, 0)), "1001705");
	ts_shopee_tokens_clear(&t);

	/* A refresh response (no error member at all; ids as strings; null list). */
	assert_int_equal(parse("{\"partner_id\":1000016,\"refresh_token\":\"r2\",\"access_token\":\"a2\","
			       "\"expire_in\":14400,\"shop_id\":33142,\"merchant_id_list\":null,"
			       "\"shop_id_list\":[\"33142\"]}",
			       &t, NULL, 0),
			 TS_OK);
	assert_int_equal(t.expire_in, 14400);
	assert_null(t.merchant_ids);
	assert_string_equal(json_string_value(json_array_get(t.shop_ids, 0)), "33142");
	ts_shopee_tokens_clear(&t);
	ts_shopee_tokens_clear(NULL);
}

struct err_vec {
	const char *body;
	int rc;
	const char *errmsg;
};

static void test_parse_errors(void **state)
{
	static const struct err_vec v[] = {
		/* Refusals of the refresh token or code: the connection needs the seller. */
		{"{\"error\":\"error_auth\",\"message\":\"Invalid refresh_token.\",\"request_id\":\"x\"}",
		 TS_EDENIED, "error_auth: Invalid refresh_token."},
		{"{\"error\":\"error_shop_refresh_token\",\"message\":\"Your refresh token is error ,"
		 "please check refresh token or shopid.\"}",
		 TS_EDENIED,
		 "error_shop_refresh_token: Your refresh token is error ,please check refresh token "
		 "or shopid."},
		{"{\"error\":\"error_merchant_refresh_token\",\"message\":\"m\"}", TS_EDENIED,
		 "error_merchant_refresh_token: m"},
		{"{\"error\":\"refresh_token_expired\",\"message\":\"Your refresh_token expired.\"}",
		 TS_EDENIED, "refresh_token_expired: Your refresh_token expired."},
		{"{\"error\":\"shop_access_expired\"}", TS_EDENIED, "shop_access_expired"},
		{"{\"error\":\"invalid_code\",\"message\":\"The code is expired or used or invalid\"}",
		 TS_EDENIED, "invalid_code: The code is expired or used or invalid"},
		{"{\"error\":\"invalid_acceess_token\",\"message\":\"Invalid access_token.\"}",
		 TS_EDENIED, "invalid_acceess_token: Invalid access_token."},
		{"{\"error\":\"error_param\",\"message\":\"Invalid refresh_token\"}", TS_EDENIED,
		 "error_param: Invalid refresh_token"},
		{"{\"error\":\"error_param\",\"message\":\"Invalid Code.\"}", TS_EDENIED,
		 "error_param: Invalid Code."},
		/* Everything else: our request, our clock, or Shopee having a bad day. */
		{"{\"error\":\"error_sign\",\"message\":\"Wrong sign.\"}", TS_EIO,
		 "error_sign: Wrong sign."},
		{"{\"error\":\"error_param\",\"message\":\"Invalid timestamp\"}", TS_EIO,
		 "error_param: Invalid timestamp"},
		{"{\"error\":\"error_param\",\"message\":\"There is no partner_id in query.\"}", TS_EIO,
		 "error_param: There is no partner_id in query."},
		{"{\"error\":\"error_server\",\"message\":\"System error. Please try again later.\"}",
		 TS_EIO, "error_server: System error. Please try again later."},
		{"{\"error\":\"error_rate_limit\",\"message\":\"\"}", TS_EIO, "error_rate_limit"},
		/* Malformed successes. */
		{"not json", TS_EIO, "response is not a JSON object"},
		{"[1]", TS_EIO, "response is not a JSON object"},
		{"", TS_EIO, "response is not a JSON object"},
		{"{\"error\":5}", TS_EIO, "response has a non-string error"},
		{"{\"access_token\":\"a\",\"expire_in\":1}", TS_EIO,
		 "response lacks a well-formed access_token and refresh_token"},
		{"{\"access_token\":\"a\",\"refresh_token\":\"\",\"expire_in\":1}", TS_EIO,
		 "response lacks a well-formed access_token and refresh_token"},
		{"{\"access_token\":\"a b\",\"refresh_token\":\"r\",\"expire_in\":1}", TS_EIO,
		 "response lacks a well-formed access_token and refresh_token"},
		{"{\"access_token\":\"a\",\"refresh_token\":\"r\",\"expire_in\":\"14400\"}", TS_EIO,
		 "response lacks a positive integer expire_in"},
		{"{\"access_token\":\"a\",\"refresh_token\":\"r\",\"expire_in\":0}", TS_EIO,
		 "response lacks a positive integer expire_in"},
		{"{\"access_token\":\"a\",\"refresh_token\":\"r\",\"expire_in\":1,"
		 "\"shop_id_list\":[1,-2]}",
		 TS_EIO, "response has a malformed id list"},
		{"{\"access_token\":\"a\",\"refresh_token\":\"r\",\"expire_in\":1,"
		 "\"merchant_id_list\":{}}",
		 TS_EIO, "response has a malformed id list"},
		{"{\"access_token\":\"a\",\"refresh_token\":\"r\",\"expire_in\":1,"
		 "\"shop_id_list\":[\"007\"]}",
		 TS_EIO, "response has a malformed id list"},
		{"{\"access_token\":\"a\",\"access_token\":\"b\",\"refresh_token\":\"r\","
		 "\"expire_in\":1}",
		 TS_EIO, "response is not a JSON object"},
	};
	struct ts_shopee_tokens t;
	char err[160];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		memset(&t, 0x5a, sizeof(t));
		assert_int_equal(parse(v[i].body, &t, err, sizeof(err)), v[i].rc);
		assert_string_equal(err, v[i].errmsg);
		assert_null(t.access_token);
		assert_null(t.refresh_token);
		assert_null(t.shop_ids);
		assert_null(t.merchant_ids);
	}
}

static void test_parse_limits(void **state)
{
	struct ts_shopee_tokens t;
	char small[8], err[64];
	char *big;

	(void)state;
	/* errmsg is truncated to its capacity, and provider bytes are made safe. */
	assert_int_equal(parse("{\"error\":\"error_sign\",\"message\":\"Wrong sign.\"}", &t, small,
			       sizeof(small)),
			 TS_EIO);
	assert_string_equal(small, "error_s");
	assert_int_equal(parse("{\"error\":\"error_server\",\"message\":\"a\\nb\\u00e9\"}", &t, err,
			       sizeof(err)),
			 TS_EIO);
	assert_string_equal(err, "error_server: a?b??");
	/* Size cap before parsing. */
	big = calloc(1, 70000);
	assert_non_null(big);
	memset(big, ' ', 69999);
	assert_int_equal(ts_shopee_parse_tokens(big, 69999, &t, err, sizeof(err)), TS_ETOOBIG);
	free(big);
	assert_int_equal(ts_shopee_parse_tokens(NULL, 0, &t, err, sizeof(err)), TS_EINVAL);
	/* Length is honoured: the bytes after len are not read. */
	assert_int_equal(ts_shopee_parse_tokens("{\"error\":\"error_sign\"}garbage", 22, &t, err,
						sizeof(err)),
			 TS_EIO);
	assert_string_equal(err, "error_sign");
}

/* ---- common parameters for /api/connections/{id}/sign ---- */

static void test_common_params(void **state)
{
	json_t *o;
	char *s;

	(void)state;
	o = ts_shopee_common_params(PID, KEY, "/api/v2/shop/get_shop_info", TS, TS_SHOPEE_SHOP, AT,
				    "14701711");
	assert_non_null(o);
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(s, "{\"access_token\":\"" AT "\",\"partner_id\":2001887,"
			       "\"shop_id\":14701711,\"sign\":"
			       "\"4c3fab926a13c215adff355d98506f465840131ae4863ead3c1688b1053268f4\","
			       "\"timestamp\":1655714431}");
	free(s);
	json_decref(o);

	o = ts_shopee_common_params(PID, KEY, "/api/v2/merchant/get_merchant_info", TS,
				    TS_SHOPEE_MERCHANT, AT, "1000000");
	assert_non_null(o);
	assert_int_equal(json_integer_value(json_object_get(o, "merchant_id")), 1000000);
	assert_null(json_object_get(o, "shop_id"));
	assert_string_equal(json_string_value(json_object_get(o, "sign")),
			    "d875e2fe59538fa77ae53ea17e9959ed265ee788063d391aef1c1beaed8b9693");
	json_decref(o);

	o = ts_shopee_common_params(PID, KEY, TS_SHOPEE_PATH_TOKEN, TS, TS_SHOPEE_PUBLIC, NULL, NULL);
	assert_non_null(o);
	assert_int_equal(json_object_size(o), 3);
	assert_string_equal(json_string_value(json_object_get(o, "sign")), TOKEN_SIGN);
	json_decref(o);

	assert_null(ts_shopee_common_params(PID, KEY, "/api/v2/shop/get_shop_info", TS,
					    TS_SHOPEE_SHOP, AT, "abc"));
	assert_null(ts_shopee_common_params(PID, KEY, "no-slash", TS, TS_SHOPEE_PUBLIC, NULL, NULL));
}

/* ---- base URL policy ---- */

static void test_base_url(void **state)
{
	static const char *ok[] = {
		TS_SHOPEE_HOST_LIVE,
		TS_SHOPEE_HOST_SANDBOX,
		TS_SHOPEE_HOST_CN,
		TS_SHOPEE_HOST_CN_SANDBOX,
		"https://partner.shopeemobile.com/",
		"HTTPS://openplatform.sandbox.test-stable.shopee.sg",
		"https://127.0.0.1.evil.com", /* https to any host is fine */
		"https://example.com:8443",
		"https://10.0.0.5",
		"https://[2001:db8::1]:443",
		"http://127.0.0.1",
		"http://127.0.0.1:8080",
		"http://127.255.0.9:1/",
		"http://[::1]:9000",
		"http://[0:0:0:0:0:0:0:1]",
		"http://localhost:5000",
		"http://LocalHost",
	};
	static const char *bad[] = {
		"",
		"http://example.com",
		"http://10.0.0.1",
		"http://128.0.0.1",
		"ftp://127.0.0.1",
		"file:///etc/passwd",
		"//127.0.0.1",
		"127.0.0.1:8080",
		"http://127.0.0.1@evil.com",
		"http://user:pw@127.0.0.1",
		"https://user@partner.shopeemobile.com",
		"http://127.0.0.1.evil.com",
		"http://localhost.evil.com",
		"http://evil.com#@127.0.0.1",
		"http://evil.com?x=@127.0.0.1",
		"http://evil.com\\@127.0.0.1",
		"http://127.0.0.1%2f@evil.com",
		"http://127.1",
		"http://0177.0.0.1",
		"http://127.0.0.01",
		"http://2130706433",
		"http://[::ffff:127.0.0.1]",
		"http://[::2]",
		"http://[::1",
		"http://127.0.0.1:0",
		"http://127.0.0.1:65536",
		"http://127.0.0.1:",
		"http://127.0.0.1:80:80",
		"http://127.0.0.1:8o",
		"https://",
		"https:///path",
		"https://-bad.example",
		"https://bad..example",
		"https://exa mple.com",
		"https://partner.shopeemobile.com/api",
		"https://partner.shopeemobile.com/?x",
		"https://partner.shopeemobile.com#frag",
		"http://127.0.0.1\n.evil.com",
		"https://example.com/ ",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!ts_shopee_base_url_ok(ok[i]))
			fail_msg("should accept %s", ok[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ts_shopee_base_url_ok(bad[i]))
			fail_msg("should refuse %s", bad[i]);
	assert_false(ts_shopee_base_url_ok(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_vectors),
		cmocka_unit_test(test_sign_rejects),
		cmocka_unit_test(test_auth_url),
		cmocka_unit_test(test_token_request),
		cmocka_unit_test(test_refresh_request),
		cmocka_unit_test(test_parse_success),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_common_params),
		cmocka_unit_test(test_base_url),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
