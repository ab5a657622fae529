/* test_http.c: the HTTP layer's pure parsers: application/x-www-form-urlencoded
 * (WHATWG URL §5, strict escapes), the Authorization header (RFC 7235 §2.1;
 * Basic per RFC 7617 with RFC 6749 §2.3.1 form-decoding, Bearer per
 * RFC 6750 §2.1, "token key:secret") and the path router. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "http/http.h"

/* ---- helpers ---- */

static int setup_arena(void **state)
{
	*state = ts_arena_new();
	return *state ? 0 : -1;
}

static int teardown_arena(void **state)
{
	ts_arena_free(*state);
	return 0;
}

static int parse(struct ts_arena *a, const char *s, size_t max, struct ts_param **v, size_t *n)
{
	return ts_form_parse(a, s, strlen(s), max, v, n);
}

static void auth(struct ts_arena *a, const char *hdr, struct ts_http_auth *out)
{
	ts_http_auth_parse(a, hdr, hdr ? strlen(hdr) : 0, out);
}

/* "Basic " + base64(creds), in the arena. */
static const char *basic(struct ts_arena *a, const char *creds)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(creds), i, o = 6;
	char *out = ts_arena_alloc(a, 6 + 4 * (n / 3 + 1) + 1);
	const unsigned char *p = (const unsigned char *)creds;

	memcpy(out, "Basic ", 6);
	for (i = 0; i + 2 < n; i += 3) {
		out[o++] = tbl[p[i] >> 2];
		out[o++] = tbl[(p[i] & 3) << 4 | p[i + 1] >> 4];
		out[o++] = tbl[(p[i + 1] & 15) << 2 | p[i + 2] >> 6];
		out[o++] = tbl[p[i + 2] & 63];
	}
	if (n - i == 1) {
		out[o++] = tbl[p[i] >> 2];
		out[o++] = tbl[(p[i] & 3) << 4];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		out[o++] = tbl[p[i] >> 2];
		out[o++] = tbl[(p[i] & 3) << 4 | p[i + 1] >> 4];
		out[o++] = tbl[(p[i + 1] & 15) << 2];
		out[o++] = '=';
	}
	out[o] = '\0';
	return out;
}

/* ---- form parser ---- */

static void test_form_basic_pairs(void **state)
{
	struct ts_param *v;
	size_t n;

	assert_int_equal(parse(*state, "grant_type=client_credentials&scope=a", 8, &v, &n), TS_OK);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].name, "grant_type");
	assert_string_equal(v[0].value, "client_credentials");
	assert_string_equal(v[1].name, "scope");
	assert_string_equal(v[1].value, "a");
	/* A name without '=' has an empty value; "=v" has an empty name. */
	assert_int_equal(parse(*state, "flag&=v&k=", 8, &v, &n), TS_OK);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].name, "flag");
	assert_string_equal(v[0].value, "");
	assert_string_equal(v[1].name, "");
	assert_string_equal(v[1].value, "v");
	assert_string_equal(v[2].name, "k");
	assert_string_equal(v[2].value, "");
	/* Only the first '=' separates: the value keeps the rest. */
	assert_int_equal(parse(*state, "a=b=c", 8, &v, &n), TS_OK);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].value, "b=c");
}

static void test_form_empty_input(void **state)
{
	struct ts_param *v = NULL;
	size_t n = 99;

	assert_int_equal(ts_form_parse(*state, "", 0, 8, &v, &n), TS_OK);
	assert_int_equal(n, 0);
	assert_int_equal(parse(*state, "&&&", 8, &v, &n), TS_OK);
	assert_int_equal(n, 0);
}

static void test_form_plus_is_space(void **state)
{
	struct ts_param *v;
	size_t n;

	assert_int_equal(parse(*state, "scope=openid+profile+email&a+b=c", 8, &v, &n), TS_OK);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].value, "openid profile email");
	assert_string_equal(v[1].name, "a b");
	/* An encoded plus stays a plus. */
	assert_int_equal(parse(*state, "s=a%2Bb", 8, &v, &n), TS_OK);
	assert_string_equal(v[0].value, "a+b");
}

static void test_form_percent_escapes(void **state)
{
	struct ts_param *v;
	size_t n;

	assert_int_equal(parse(*state,
			       "redirect_uri=https%3A%2F%2Fclient.example.com%2Fcb%3Fx%3D1%26y&e=%c3%A9",
			       8, &v, &n),
			 TS_OK);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].value, "https://client.example.com/cb?x=1&y");
	assert_string_equal(v[1].value, "\xc3\xa9");
	/* An escaped '&' or '=' is data, not a separator. */
	assert_int_equal(parse(*state, "k%3Dx=v%26w", 8, &v, &n), TS_OK);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].name, "k=x");
	assert_string_equal(v[0].value, "v&w");
	assert_int_equal(parse(*state, "x=%25%2525", 8, &v, &n), TS_OK);
	assert_string_equal(v[0].value, "%%25");
}

static void test_form_bad_escapes(void **state)
{
	static const char *const bad[] = {
		"x=%", "x=%4", "x=%zz", "x=%g1", "x=%1g", "x=%%41", "%ZZ=v", "a=1&b=%", "x=% 1",
	};
	struct ts_param *v;
	size_t n, i;

	for (i = 0; i < TS_ARRAY_LEN(bad); i++) {
		n = 42;
		assert_int_equal(parse(*state, bad[i], 8, &v, &n), TS_EINVAL);
		assert_int_equal(n, 0);
	}
}

static void test_form_rejects_nul(void **state)
{
	static const char raw[] = "a=1&b=x\0y";
	struct ts_param *v;
	size_t n;

	assert_int_equal(parse(*state, "x=%00", 8, &v, &n), TS_EINVAL);
	assert_int_equal(parse(*state, "x%00=1", 8, &v, &n), TS_EINVAL);
	assert_int_equal(parse(*state, "x=a%00b", 8, &v, &n), TS_EINVAL);
	/* A raw NUL byte inside the given length is refused too. */
	assert_int_equal(ts_form_parse(*state, raw, sizeof(raw) - 1, 8, &v, &n), TS_EINVAL);
}

static void test_form_uses_length_not_nul(void **state)
{
	static const char buf[] = "a=1&b=2&c=3";
	struct ts_param *v;
	size_t n;

	assert_int_equal(ts_form_parse(*state, buf, 7, 8, &v, &n), TS_OK);
	assert_int_equal(n, 2);
	assert_string_equal(v[1].name, "b");
	assert_string_equal(v[1].value, "2");
}

static void test_form_max_params(void **state)
{
	struct ts_buf b;
	struct ts_param *v;
	size_t n, i;

	assert_int_equal(parse(*state, "a=1&b=2&c=3", 3, &v, &n), TS_OK);
	assert_int_equal(n, 3);
	assert_int_equal(parse(*state, "a=1&b=2&c=3&d=4", 3, &v, &n), TS_ETOOBIG);
	assert_int_equal(n, 0);
	/* Empty pairs do not count against the cap. */
	assert_int_equal(parse(*state, "a=1&&&b=2&&&&c=3&", 3, &v, &n), TS_OK);
	assert_int_equal(n, 3);
	/* The server's cap, exactly and one over. */
	ts_buf_init(&b, 4096);
	for (i = 0; i < TS_HTTP_MAX_PARAMS; i++)
		assert_int_equal(ts_buf_appendf(&b, "%sp%zu=%zu", i ? "&" : "", i, i), TS_OK);
	assert_int_equal(ts_form_parse(*state, b.p, b.len, TS_HTTP_MAX_PARAMS, &v, &n), TS_OK);
	assert_int_equal(n, TS_HTTP_MAX_PARAMS);
	assert_int_equal(ts_buf_appends(&b, "&one=more"), TS_OK);
	assert_int_equal(ts_form_parse(*state, b.p, b.len, TS_HTTP_MAX_PARAMS, &v, &n), TS_ETOOBIG);
	ts_buf_clear(&b);
	/* A flood of separators is refused before anything is allocated. */
	ts_buf_init(&b, 8192);
	for (i = 0; i < 4000; i++)
		assert_int_equal(ts_buf_appends(&b, "&"), TS_OK);
	assert_int_equal(ts_form_parse(*state, b.p, b.len, TS_HTTP_MAX_PARAMS, &v, &n), TS_ETOOBIG);
	ts_buf_clear(&b);
}

static void test_params_get_and_duplicates(void **state)
{
	struct ts_param *v;
	size_t n;
	bool dup = true;

	assert_int_equal(parse(*state, "scope=a&grant_type=x&scope=b&other=1", 8, &v, &n), TS_OK);
	/* RFC 6749 §3.1: a repeated parameter is flagged so it can be refused. */
	assert_string_equal(ts_params_get(v, n, "scope", &dup), "a");
	assert_true(dup);
	assert_string_equal(ts_params_get(v, n, "grant_type", &dup), "x");
	assert_false(dup);
	assert_null(ts_params_get(v, n, "missing", &dup));
	assert_false(dup);
	/* dup is optional. */
	assert_string_equal(ts_params_get(v, n, "other", NULL), "1");
	/* Names are compared byte for byte: case matters. */
	assert_null(ts_params_get(v, n, "Scope", NULL));
	assert_null(ts_params_get(NULL, 0, "scope", &dup));
	assert_false(dup);
	/* A repeated empty value is still a duplicate. */
	assert_int_equal(parse(*state, "state=&state=", 8, &v, &n), TS_OK);
	assert_string_equal(ts_params_get(v, n, "state", &dup), "");
	assert_true(dup);
}

static void test_urlencode(void **state)
{
	struct ts_buf b;
	(void)state;

	ts_buf_init(&b, 256);
	assert_int_equal(ts_buf_append_urlencoded(&b, "a b/c?d=e&f+g~h-i.j_k\xc3\xa9"), TS_OK);
	assert_string_equal(b.p, "a%20b%2Fc%3Fd%3De%26f%2Bg~h-i.j_k%C3%A9");
	ts_buf_clear(&b);
}

/* ---- Authorization header ---- */

static void test_auth_none(void **state)
{
	struct ts_http_auth a;

	auth(*state, NULL, &a);
	assert_int_equal(a.scheme, TS_AUTH_NONE);
	assert_null(a.user);
	assert_null(a.secret);
	assert_null(a.token);
}

static void test_auth_basic(void **state)
{
	struct ts_http_auth a;

	/* RFC 7617 §2 example. */
	auth(*state, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", &a);
	assert_int_equal(a.scheme, TS_AUTH_BASIC);
	assert_string_equal(a.user, "Aladdin");
	assert_string_equal(a.secret, "open sesame");
	assert_null(a.token);
	/* The secret may contain colons: only the first one splits. */
	auth(*state, basic(*state, "client:a:b:c"), &a);
	assert_int_equal(a.scheme, TS_AUTH_BASIC);
	assert_string_equal(a.user, "client");
	assert_string_equal(a.secret, "a:b:c");
	/* An empty secret is syntactically fine (authentication will fail). */
	auth(*state, basic(*state, "client:"), &a);
	assert_int_equal(a.scheme, TS_AUTH_BASIC);
	assert_string_equal(a.secret, "");
}

static void test_auth_basic_form_decoding(void **state)
{
	struct ts_http_auth a;

	/* RFC 6749 §2.3.1: id and secret are form-encoded before Basic. */
	auth(*state, basic(*state, "my%20client:p%40ss+w%3Ard%2B"), &a);
	assert_int_equal(a.scheme, TS_AUTH_BASIC);
	assert_string_equal(a.user, "my client");
	assert_string_equal(a.secret, "p@ss w:rd+");
	/* An encoded colon in the id is part of the id. */
	auth(*state, basic(*state, "a%3Ab:s"), &a);
	assert_int_equal(a.scheme, TS_AUTH_BASIC);
	assert_string_equal(a.user, "a:b");
	assert_string_equal(a.secret, "s");
	/* '=' is an ordinary character inside the credentials; so is an
	 * encoded '&'. */
	auth(*state, basic(*state, "id&x=y:s=1&t"), &a);
	assert_int_equal(a.scheme, TS_AUTH_BASIC);
	assert_string_equal(a.user, "id&x=y");
	assert_string_equal(a.secret, "s=1&t");
	/* A raw '&' is data: it is neither dropped nor a separator. */
	auth(*state, basic(*state, "id:secret&"), &a);
	assert_int_equal(a.scheme, TS_AUTH_BASIC);
	assert_string_equal(a.secret, "secret&");
	auth(*state, basic(*state, "&:s"), &a);
	assert_int_equal(a.scheme, TS_AUTH_BASIC);
	assert_string_equal(a.user, "&");
	auth(*state, basic(*state, "id=x:s=1%26t"), &a);
	assert_int_equal(a.scheme, TS_AUTH_BASIC);
	assert_string_equal(a.user, "id=x");
	assert_string_equal(a.secret, "s=1&t");
}

static void test_auth_basic_malformed(void **state)
{
	static const char *const creds[] = {
		"no-colon", ":secret", "id:%zz", "%4:s", "id:%00", "i%00d:s", "id:bad%",
	};
	struct ts_http_auth a;
	size_t i;

	for (i = 0; i < TS_ARRAY_LEN(creds); i++) {
		auth(*state, basic(*state, creds[i]), &a);
		assert_int_equal(a.scheme, TS_AUTH_INVALID);
	}
	auth(*state, "Basic", &a); /* a scheme without credentials */
	assert_int_not_equal(a.scheme, TS_AUTH_BASIC);
	assert_null(a.user);
	auth(*state, "Basic ", &a);
	assert_int_equal(a.scheme, TS_AUTH_INVALID);
	auth(*state, "Basic !!!!", &a);
	assert_int_equal(a.scheme, TS_AUTH_INVALID);
	auth(*state, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ", &a); /* padding missing */
	assert_int_equal(a.scheme, TS_AUTH_INVALID);
	auth(*state, "Basic QWxh ZGRp", &a);
	assert_int_equal(a.scheme, TS_AUTH_INVALID);
	/* A raw NUL decoded from base64 ("a\0:b") is refused. */
	auth(*state, "Basic YQA6Yg==", &a);
	assert_int_equal(a.scheme, TS_AUTH_INVALID);
}

static void test_auth_bearer(void **state)
{
	static const char *const good[] = {
		"mF_9.B5f-4.1JqM", "abc==", "a", "A-Z.a_z~0+9/", "eyJhbGciOiJFUzI1NiJ9.e30.c2ln",
	};
	static const char *const bad[] = {
		"", "=abc", "abc=d", "a b", "a,b", "\"abc\"", "a\tb", "abc==x", "\xc3\xa9",
	};
	struct ts_http_auth a;
	size_t i;

	for (i = 0; i < TS_ARRAY_LEN(good); i++) {
		auth(*state, ts_arena_printf(*state, "Bearer %s", good[i]), &a);
		assert_int_equal(a.scheme, TS_AUTH_BEARER);
		assert_string_equal(a.token, good[i]);
		assert_null(a.user);
		assert_null(a.secret);
	}
	for (i = 0; i < TS_ARRAY_LEN(bad); i++) {
		auth(*state, ts_arena_printf(*state, "Bearer %s", bad[i]), &a);
		assert_int_equal(a.scheme, TS_AUTH_INVALID);
		assert_null(a.token);
	}
	/* Extra spaces around the credentials are tolerated. */
	auth(*state, "Bearer   tok  ", &a);
	assert_int_equal(a.scheme, TS_AUTH_BEARER);
	assert_string_equal(a.token, "tok");
}

static void test_auth_token_scheme(void **state)
{
	struct ts_http_auth a;

	auth(*state, "token key_1234:s3cr3t", &a);
	assert_int_equal(a.scheme, TS_AUTH_TOKEN);
	assert_string_equal(a.user, "key_1234");
	assert_string_equal(a.secret, "s3cr3t");
	assert_null(a.token);
	/* No form-decoding here: the key and secret are taken as sent. */
	auth(*state, "token k%20y:a+b", &a);
	assert_int_equal(a.scheme, TS_AUTH_TOKEN);
	assert_string_equal(a.user, "k%20y");
	assert_string_equal(a.secret, "a+b");
	auth(*state, "token key", &a);
	assert_int_equal(a.scheme, TS_AUTH_INVALID);
	auth(*state, "token :secret", &a);
	assert_int_equal(a.scheme, TS_AUTH_INVALID);
	auth(*state, "token key:sec ret", &a);
	assert_int_equal(a.scheme, TS_AUTH_INVALID);
	auth(*state, "token ", &a);
	assert_int_equal(a.scheme, TS_AUTH_INVALID);
}

static void test_auth_scheme_case_insensitive(void **state)
{
	struct ts_http_auth a;

	auth(*state, "bAsIc QWxhZGRpbjpvcGVuIHNlc2FtZQ==", &a);
	assert_int_equal(a.scheme, TS_AUTH_BASIC);
	assert_string_equal(a.user, "Aladdin");
	auth(*state, "BASIC QWxhZGRpbjpvcGVuIHNlc2FtZQ==", &a);
	assert_int_equal(a.scheme, TS_AUTH_BASIC);
	auth(*state, "BEARER abc", &a);
	assert_int_equal(a.scheme, TS_AUTH_BEARER);
	auth(*state, "bearer abc", &a);
	assert_int_equal(a.scheme, TS_AUTH_BEARER);
	auth(*state, "Token k:s", &a);
	assert_int_equal(a.scheme, TS_AUTH_TOKEN);
}

/* RFC 9449 §7.1: the DPoP scheme carries the access token like Bearer. */
static void test_auth_dpop_scheme(void **state)
{
	struct ts_http_auth a;

	auth(*state, "DPoP eyJ.eyJ.sig", &a);
	assert_int_equal(a.scheme, TS_AUTH_DPOP);
	assert_string_equal(a.token, "eyJ.eyJ.sig");
	auth(*state, "dpop eyJ.eyJ.sig", &a);
	assert_int_equal(a.scheme, TS_AUTH_DPOP);
	auth(*state, "DPoP a b", &a);
	assert_int_equal(a.scheme, TS_AUTH_INVALID);
	assert_null(a.token);
}

static void test_auth_other_schemes(void **state)
{
	static const char *const other[] = {
		"Digest username=\"Mufasa\", realm=\"x\"", "Negotiate YIIB",
		"Basicx QWxh", "Bear abc", "Negotiate",
	};
	struct ts_http_auth a;
	size_t i;

	for (i = 0; i < TS_ARRAY_LEN(other); i++) {
		auth(*state, other[i], &a);
		assert_int_equal(a.scheme, TS_AUTH_OTHER);
		assert_null(a.user);
		assert_null(a.token);
	}
}

static void test_auth_hostile_bytes(void **state)
{
	static const char nul[] = "Bearer ab\0cd";
	struct ts_http_auth a;
	struct ts_buf b;
	size_t i;

	ts_http_auth_parse(*state, nul, sizeof(nul) - 1, &a);
	assert_int_equal(a.scheme, TS_AUTH_INVALID);
	/* Only len bytes are read: a valid prefix is judged on its own. */
	ts_http_auth_parse(*state, "Bearer abc def", 10, &a);
	assert_int_equal(a.scheme, TS_AUTH_BEARER);
	assert_string_equal(a.token, "abc");
	/* Past the 8 KiB cap the header is refused whatever it holds. */
	ts_buf_init(&b, 16384);
	assert_int_equal(ts_buf_appends(&b, "Bearer "), TS_OK);
	for (i = 0; i < 9000; i++)
		assert_int_equal(ts_buf_appends(&b, "a"), TS_OK);
	ts_http_auth_parse(*state, b.p, b.len, &a);
	assert_int_equal(a.scheme, TS_AUTH_INVALID);
	ts_buf_clear(&b);
}

/* ---- router ---- */

static void route_fn(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	(void)ctx;
	(void)req;
	(void)resp;
}

static const struct ts_route routes[] = {
	{"GET", "/healthz", route_fn, "healthz"},
	{"GET", "/t/{tenant}/oauth2/jwks", route_fn, "jwks"},
	{"POST", "/t/{tenant}/oauth2/token", route_fn, "token"},
	{"GET", "/t/{tenant}/api/groups/{id}/members", route_fn, "members_list"},
	{"POST", "/t/{tenant}/api/groups/{id}/members", route_fn, "members_add"},
	{"DELETE", "/t/{tenant}/api/groups/{id}/members/{uid}", route_fn, "members_remove"},
	{"*", "/t/{tenant}/oauth2/userinfo", route_fn, "userinfo"},
};

static int route(struct ts_arena *a, struct ts_http_req *req, const char *method,
		 const char *path, const struct ts_route **out, const char **allow)
{
	memset(req, 0, sizeof(*req));
	req->arena = a;
	req->method = method;
	return ts_router_match(routes, TS_ARRAY_LEN(routes), req, path, out, allow);
}

static void test_router_placeholders(void **state)
{
	struct ts_http_req req;
	const struct ts_route *r;
	const char *allow;

	assert_int_equal(route(*state, &req, "GET", "/healthz", &r, &allow), TS_OK);
	assert_ptr_equal(r, &routes[0]);
	assert_string_equal(req.route_name, "healthz");
	assert_null(req.route_params[0]);
	assert_null(allow);

	assert_int_equal(route(*state, &req, "POST", "/t/acme/oauth2/token", &r, &allow), TS_OK);
	assert_string_equal(r->name, "token");
	assert_string_equal(req.route_params[0], "acme");
	assert_null(req.route_params[1]);

	assert_int_equal(route(*state, &req, "DELETE", "/t/acme/api/groups/g-1/members/u%2F2", &r,
			       &allow),
			 TS_OK);
	assert_string_equal(r->name, "members_remove");
	assert_string_equal(req.route_params[0], "acme");
	assert_string_equal(req.route_params[1], "g-1");
	assert_string_equal(req.route_params[2], "u%2F2");
	assert_null(req.route_params[3]);

	/* The same pattern is chosen by method. */
	assert_int_equal(route(*state, &req, "POST", "/t/x/api/groups/7/members", &r, &allow), TS_OK);
	assert_string_equal(r->name, "members_add");
	assert_string_equal(req.route_params[1], "7");
}

static void test_router_methods(void **state)
{
	struct ts_http_req req;
	const struct ts_route *r;
	const char *allow;

	/* HEAD is served by a GET route; "*" takes any method. */
	assert_int_equal(route(*state, &req, "HEAD", "/t/acme/oauth2/jwks", &r, &allow), TS_OK);
	assert_string_equal(r->name, "jwks");
	assert_int_equal(route(*state, &req, "PATCH", "/t/acme/oauth2/userinfo", &r, &allow), TS_OK);
	assert_string_equal(r->name, "userinfo");
	assert_int_equal(route(*state, &req, "GET", "/t/acme/oauth2/userinfo", &r, &allow), TS_OK);
	/* Method names are case-sensitive (RFC 9110 §9.1). */
	assert_int_equal(route(*state, &req, "get", "/healthz", &r, &allow), TS_EINVAL);
}

static void test_router_not_found(void **state)
{
	static const char *const paths[] = {
		"/", "", "/health", "/healthz/", "/healthzz", "/t//oauth2/jwks", "/t/acme/oauth2",
		"/t/acme/oauth2/jwks/", "/t/acme/oauth2/jwks/x", "/t/acme/api/groups//members",
		"/t/acme/api/groups/g/members/", "/T/acme/oauth2/jwks",
	};
	struct ts_http_req req;
	const struct ts_route *r;
	const char *allow;
	size_t i;

	for (i = 0; i < TS_ARRAY_LEN(paths); i++) {
		assert_int_equal(route(*state, &req, "GET", paths[i], &r, &allow), TS_ENOTFOUND);
		assert_null(r);
		assert_null(allow);
	}
}

static void test_router_method_not_allowed(void **state)
{
	struct ts_http_req req;
	const struct ts_route *r;
	const char *allow;

	assert_int_equal(route(*state, &req, "GET", "/t/acme/oauth2/token", &r, &allow), TS_EINVAL);
	assert_null(r);
	assert_string_equal(allow, "POST");
	/* Every method of the matching patterns is listed, in table order. */
	assert_int_equal(route(*state, &req, "PUT", "/t/acme/api/groups/1/members", &r, &allow),
			 TS_EINVAL);
	assert_string_equal(allow, "GET, POST");
	assert_int_equal(route(*state, &req, "POST", "/healthz", &r, &allow), TS_EINVAL);
	assert_string_equal(allow, "GET");
	/* allow is optional. */
	assert_int_equal(route(*state, &req, "DELETE", "/healthz", &r, NULL), TS_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_form_basic_pairs, setup_arena, teardown_arena),
		cmocka_unit_test_setup_teardown(test_form_empty_input, setup_arena, teardown_arena),
		cmocka_unit_test_setup_teardown(test_form_plus_is_space, setup_arena, teardown_arena),
		cmocka_unit_test_setup_teardown(test_form_percent_escapes, setup_arena, teardown_arena),
		cmocka_unit_test_setup_teardown(test_form_bad_escapes, setup_arena, teardown_arena),
		cmocka_unit_test_setup_teardown(test_form_rejects_nul, setup_arena, teardown_arena),
		cmocka_unit_test_setup_teardown(test_form_uses_length_not_nul, setup_arena,
						teardown_arena),
		cmocka_unit_test_setup_teardown(test_form_max_params, setup_arena, teardown_arena),
		cmocka_unit_test_setup_teardown(test_params_get_and_duplicates, setup_arena,
						teardown_arena),
		cmocka_unit_test(test_urlencode),
		cmocka_unit_test_setup_teardown(test_auth_none, setup_arena, teardown_arena),
		cmocka_unit_test_setup_teardown(test_auth_basic, setup_arena, teardown_arena),
		cmocka_unit_test_setup_teardown(test_auth_basic_form_decoding, setup_arena,
						teardown_arena),
		cmocka_unit_test_setup_teardown(test_auth_basic_malformed, setup_arena, teardown_arena),
		cmocka_unit_test_setup_teardown(test_auth_bearer, setup_arena, teardown_arena),
		cmocka_unit_test_setup_teardown(test_auth_token_scheme, setup_arena, teardown_arena),
		cmocka_unit_test_setup_teardown(test_auth_scheme_case_insensitive, setup_arena,
						teardown_arena),
		cmocka_unit_test_setup_teardown(test_auth_dpop_scheme, setup_arena, teardown_arena),
		cmocka_unit_test_setup_teardown(test_auth_other_schemes, setup_arena, teardown_arena),
		cmocka_unit_test_setup_teardown(test_auth_hostile_bytes, setup_arena, teardown_arena),
		cmocka_unit_test_setup_teardown(test_router_placeholders, setup_arena, teardown_arena),
		cmocka_unit_test_setup_teardown(test_router_methods, setup_arena, teardown_arena),
		cmocka_unit_test_setup_teardown(test_router_not_found, setup_arena, teardown_arena),
		cmocka_unit_test_setup_teardown(test_router_method_not_allowed, setup_arena,
						teardown_arena),
	};
	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
