/* test_wire.c: the shared wire helpers (src/wire/): ASCII classes against
 * their grammar's sets over all 256 bytes, the Authorization split (RFC 7235
 * §2.1), the Cookie lookup (RFC 6265 §5.4) and percent-encoding
 * (RFC 3986 §2.1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "wire/wire.h"

#define BYTE_VALUES 256
#define URLENC_CAP 256

/* Membership in a set written out in full, the grammar's way. */
static bool in(const char *set, int c)
{
	return c != 0 && strchr(set, c) != NULL;
}

static void test_classes(void **state)
{
	static const char upper[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	static const char lower[] = "abcdefghijklmnopqrstuvwxyz";
	static const char digit[] = "0123456789";
	static const char tchar_extra[] = "!#$%&'*+-.^_`|~";
	int c;

	(void)state;
	for (c = 0; c < BYTE_VALUES; c++) {
		unsigned char u = (unsigned char)c;
		bool al = in(upper, c) || in(lower, c), dg = in(digit, c);

		assert_int_equal(ts_is_upper(u), in(upper, c));
		assert_int_equal(ts_is_lower(u), in(lower, c));
		assert_int_equal(ts_is_alpha(u), al);
		assert_int_equal(ts_is_digit(u), dg);
		assert_int_equal(ts_is_alnum(u), al || dg);
		assert_int_equal(ts_is_xdigit(u), dg || in("abcdefABCDEF", c));
		assert_int_equal(ts_is_xdigit_lower(u), dg || in("abcdef", c));
		assert_int_equal(ts_is_ows(u), c == ' ' || c == '\t');
		assert_int_equal(ts_is_vchar(u), c > ' ' && c < 0x7f);
		assert_int_equal(ts_is_print(u), c >= ' ' && c < 0x7f);
		assert_int_equal(ts_is_ctl(u), c < ' ' || c == 0x7f);
		assert_int_equal(ts_is_unreserved(u), al || dg || in("-._~", c));
		assert_int_equal(ts_is_b64token(u), al || dg || in("-._~+/", c));
		assert_int_equal(ts_is_b64url(u), al || dg || in("-_", c));
		assert_int_equal(ts_is_tchar(u), al || dg || in(tchar_extra, c));
		assert_int_equal(ts_is_nqchar(u), c > ' ' && c < 0x7f && c != '"' && c != '\\');
		assert_int_equal(ts_is_scheme_char(u), al || dg || in("+-.", c));
		assert_int_equal(ts_is_ctl_or_space(u), c <= ' ' || c == 0x7f);
		assert_int_equal(ts_to_lower(u), in(upper, c) ? c + 32 : c);
		assert_int_equal(ts_to_upper(u), in(lower, c) ? c - 32 : c);
	}
}

struct authz_case {
	const char *hdr;
	enum ts_wire_authz_kind kind;
	const char *cred; /* NULL: none */
};

static const struct authz_case authz_cases[] = {
	{"Bearer abc.def", TS_WIRE_AUTHZ_BEARER, "abc.def"},
	{"bEaReR   a+/b==  ", TS_WIRE_AUTHZ_BEARER, "a+/b=="},
	{"Bearer a b", TS_WIRE_AUTHZ_BADBEARER, "a b"},
	{"Bearer ", TS_WIRE_AUTHZ_BADBEARER, ""},
	{"Bearer \tabc", TS_WIRE_AUTHZ_BADBEARER, "\tabc"},
	{"Bearer", TS_WIRE_AUTHZ_NOCRED, NULL},
	{"", TS_WIRE_AUTHZ_NOCRED, NULL},
	{"BASIC QWxh", TS_WIRE_AUTHZ_BASIC, "QWxh"},
	{"Basic ", TS_WIRE_AUTHZ_BASIC, ""},
	{"token k:s", TS_WIRE_AUTHZ_TOKEN, "k:s"},
	{"DPoP abc.def", TS_WIRE_AUTHZ_DPOP, "abc.def"},
	{"DPoP a b", TS_WIRE_AUTHZ_BADBEARER, "a b"},
	{"Digest x=1", TS_WIRE_AUTHZ_UNKNOWN, "x=1"},
	{" Bearer x", TS_WIRE_AUTHZ_UNKNOWN, "Bearer x"},
	{"Bearers x", TS_WIRE_AUTHZ_UNKNOWN, "x"},
};

static void test_authz_split(void **state)
{
	struct ts_wire_authz w;
	size_t i;

	(void)state;
	for (i = 0; i < TS_ARRAY_LEN(authz_cases); i++) {
		const struct authz_case *c = &authz_cases[i];

		ts_wire_authz_parse(c->hdr, strlen(c->hdr), 64, &w);
		if (w.kind != c->kind)
			fail_msg("case %zu \"%s\": kind %d, want %d", i, c->hdr, w.kind, c->kind);
		if (c->cred == NULL) {
			assert_null(w.cred.p);
		} else {
			assert_int_equal(w.cred.len, strlen(c->cred));
			assert_memory_equal(w.cred.p, c->cred, w.cred.len);
		}
	}
	ts_wire_authz_parse(NULL, 0, 64, &w);
	assert_int_equal(w.kind, TS_WIRE_AUTHZ_ABSENT);
	/* The cap is checked first, the NUL next, and only len bytes are read. */
	ts_wire_authz_parse("Bearer abc", 10, 9, &w);
	assert_int_equal(w.kind, TS_WIRE_AUTHZ_TOOBIG);
	ts_wire_authz_parse("Bearer a\0c", 10, 64, &w);
	assert_int_equal(w.kind, TS_WIRE_AUTHZ_MALFORMED);
	ts_wire_authz_parse("Bearer abc def", 10, 64, &w);
	assert_int_equal(w.kind, TS_WIRE_AUTHZ_BEARER);
	assert_int_equal(w.cred.len, 3);
}

static void test_pair_split(void **state)
{
	struct ts_str l, r;

	(void)state;
	assert_true(ts_wire_pair_split(TS_STR("id:se:cret"), &l, &r));
	assert_int_equal(l.len, 2);
	assert_memory_equal(l.p, "id", 2);
	assert_int_equal(r.len, 7);
	assert_memory_equal(r.p, "se:cret", 7);
	assert_true(ts_wire_pair_split(TS_STR("id:"), &l, &r));
	assert_int_equal(r.len, 0);
	assert_false(ts_wire_pair_split(TS_STR(":secret"), &l, &r));
	assert_false(ts_wire_pair_split(TS_STR("nocolon"), &l, &r));
	assert_false(ts_wire_pair_split(TS_STR(""), &l, &r));
}

static void expect_cookie(const char *hdr, const char *want)
{
	struct ts_str v;
	int rc = ts_wire_cookie_find(hdr, strlen(hdr), 1024, "sid", &v);

	if (want == NULL) {
		assert_int_equal(rc, TS_ENOTFOUND);
		assert_null(v.p);
		return;
	}
	assert_int_equal(rc, TS_OK);
	assert_int_equal(v.len, strlen(want));
	assert_memory_equal(v.p, want, v.len);
}

static void test_cookie(void **state)
{
	struct ts_str v;

	(void)state;
	expect_cookie("sid=abc", "abc");
	expect_cookie("a=1; sid=abc; b=2", "abc");
	expect_cookie(" \t sid \t= \t abc \t ;x", "abc");
	expect_cookie("sid=\"quoted\"", "quoted");
	expect_cookie("sid=first; sid=second", "first");
	expect_cookie("sid=", "");
	expect_cookie("sid; x=1", NULL);
	expect_cookie("SID=abc; sidx=1; xsid=2", NULL);
	expect_cookie("", NULL);
	assert_int_equal(ts_wire_cookie_find(NULL, 0, 1024, "sid", &v), TS_ENOTFOUND);
	assert_int_equal(ts_wire_cookie_find("sid=a\0b", 7, 1024, "sid", &v), TS_EINVAL);
	assert_int_equal(ts_wire_cookie_find("sid=abc", 7, 6, "sid", &v), TS_ETOOBIG);
}

static void test_urlencode(void **state)
{
	struct ts_buf b;

	(void)state;
	ts_buf_init(&b, URLENC_CAP);
	assert_int_equal(ts_wire_urlencode(&b, "AZaz09-._~"), TS_OK);
	assert_int_equal(ts_wire_urlencode(&b, " +/:?#&=%\x7f\xc3\xa9"), TS_OK);
	assert_string_equal(b.p, "AZaz09-._~%20%2B%2F%3A%3F%23%26%3D%25%7F%C3%A9");
	ts_buf_clear(&b);
	/* The buffer's cap holds. */
	ts_buf_init(&b, 4);
	assert_int_equal(ts_wire_urlencode(&b, "a b"), TS_ETOOBIG);
	ts_buf_clear(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classes),     cmocka_unit_test(test_authz_split),
		cmocka_unit_test(test_pair_split),  cmocka_unit_test(test_cookie),
		cmocka_unit_test(test_urlencode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
