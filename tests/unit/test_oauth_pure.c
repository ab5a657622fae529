/* test_oauth_pure.c: the OAuth protocol steps that are pure functions of
 * their input: PKCE S256 (RFC 7636, with the Appendix B vector), redirect
 * URI matching (RFC 6749 §3.1.2.3 exact match, RFC 8252 §7.1 private-use
 * schemes and §7.3 any port on an http loopback literal, dangerous schemes
 * never), scope narrowing (RFC 6749 §3.3, §6) and resource indicators
 * (RFC 8707 §2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oauth/oauth.h"
#include "tenant/tenant.h"

#define RESOURCE_PREFIX "https://api.example.test/"

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

/* Loads tests/vectors/<rel>: from $TS_VECTORS (set by ctest), else relative
 * to this source file. */
static json_t *load_vector(const char *rel)
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

/* A string of n copies of c, in the arena. */
static char *repeat(struct ts_arena *a, char c, size_t n)
{
	char *s = ts_arena_alloc(a, n + 1);

	memset(s, c, n);
	return s;
}

/* ---- PKCE ---- */

static void test_pkce_rfc7636_vector(void **state)
{
	json_t *v = load_vector("pkce/rfc7636_appendix_b.json");
	const char *verifier = json_string_value(json_object_get(v, "code_verifier"));
	const char *challenge = json_string_value(json_object_get(v, "code_challenge"));

	(void)state;
	assert_string_equal(verifier, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
	assert_string_equal(challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
	assert_true(ts_pkce_challenge_ok(challenge));
	assert_true(ts_pkce_verify(verifier, challenge));
	/* S256 only: the verifier itself ("plain") is no challenge. */
	assert_false(ts_pkce_verify(verifier, verifier));
	/* One character off on either side fails. */
	assert_false(ts_pkce_verify("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl", challenge));
	assert_false(ts_pkce_verify(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"));
	/* A well-formed challenge of another verifier, alike in its first
	 * 32 characters. */
	assert_true(ts_pkce_challenge_ok("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGF3sSgG5M"));
	assert_false(ts_pkce_verify(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGF3sSgG5M"));
	json_decref(v);
}

static void test_pkce_syntax(void **state)
{
	struct ts_arena *a = *state;
	unsigned char d[TS_SHA256_LEN];
	char challenge[64];
	const char *v43 = repeat(a, 'a', 43), *v128 = repeat(a, '~', 128);

	/* RFC 7636 §4.1: 43 to 128 unreserved characters. */
	ts_sha256(v43, 43, d);
	ts_b64url_encode(d, sizeof(d), challenge, sizeof(challenge));
	assert_true(ts_pkce_verify(v43, challenge));
	ts_sha256(v128, 128, d);
	ts_b64url_encode(d, sizeof(d), challenge, sizeof(challenge));
	assert_true(ts_pkce_verify(v128, challenge));
	assert_false(ts_pkce_verify(repeat(a, 'a', 42), challenge));
	assert_false(ts_pkce_verify(repeat(a, 'a', 129), challenge));
	assert_false(ts_pkce_verify("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX+", challenge));
	assert_false(ts_pkce_verify(NULL, challenge));
	assert_false(ts_pkce_verify(v43, NULL));
	/* RFC 7636 §4.2: an S256 challenge is 43 base64url characters. */
	assert_false(ts_pkce_challenge_ok(NULL));
	assert_false(ts_pkce_challenge_ok(""));
	assert_false(ts_pkce_challenge_ok("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGF3sSgG5"));
	assert_false(ts_pkce_challenge_ok("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGF3sSgG5MM"));
	assert_false(ts_pkce_challenge_ok("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGF3sSgG5="));
	assert_false(ts_pkce_challenge_ok("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGF3sSgG5+"));
}

/* ---- redirect URIs ---- */

struct redirect_case {
	const char *uri;
	int want; /* index into the registered URIs, or -1 */
};

static void test_redirect_uri_match(void **state)
{
	static char *registered[] = {
		"https://app.example.test/cb",      /* 0 */
		"com.example.app:/oauth2redirect",  /* 1: RFC 8252 §7.1 */
		"http://127.0.0.1/native",          /* 2: RFC 8252 §7.3 */
		"http://[::1]:8080/v6?x=1",         /* 3 */
		"http://localhost:8080/named",      /* 4: a name, not a literal */
		"javascript:alert(1)",              /* 5: stored before it was refused */
		"data:text/html,hi",                /* 6 */
		"VBScript:msgbox",                  /* 7 */
		"file:///etc/passwd",               /* 8 */
		"https://127.0.0.1/tls",            /* 9: https loopback is exact */
		"http://127.0.0.1:0/zero",          /* 10: no port, never matched */
	};
	static const struct redirect_case cases[] = {
		{"https://app.example.test/cb", 0},
		{"https://app.example.test/cb/", -1},
		{"https://app.example.test/CB", -1},
		{"HTTPS://app.example.test/cb", -1},
		{"https://app.example.test/cb?x=1", -1},
		{"https://app.example.test/cb#frag", -1},
		{"https://app.example.test:443/cb", -1},
		{"com.example.app:/oauth2redirect", 1},
		{"com.example.app:/oauth2redirect/x", -1},
		{"com.example.evil:/oauth2redirect", -1},
		{"http://127.0.0.1/native", 2},
		{"http://127.0.0.1:51004/native", 2},
		{"http://127.0.0.1:1/native", 2},
		{"http://127.0.0.1:51004/native#frag", -1},
		{"http://127.0.0.1:51004/other", -1},
		{"http://127.0.0.1:/native", -1},
		{"http://127.0.0.1:x/native", -1},
		{"http://127.0.0.1.evil.test/native", -1},
		{"http://127.0.0.2:51004/native", -1},
		{"http://[::1]:9/v6?x=1", 3},
		{"http://[::1]/v6?x=1", 3},
		{"http://[::1]:9/v6?x=2", -1},
		{"http://localhost:8080/named", 4},
		{"http://localhost:9090/named", -1},
		{"https://127.0.0.1:8443/tls", -1},
		{"https://127.0.0.1/tls", 9},
		{"javascript:alert(1)", -1},
		{"data:text/html,hi", -1},
		{"VBScript:msgbox", -1},
		{"file:///etc/passwd", -1},
		{"", -1},
		/* RFC 8252 §7.3: a real port only (1-65535, at most 5 digits). */
		{"http://127.0.0.1:65535/native", 2},
		{"http://127.0.0.1:08080/native", 2},
		{"http://[::1]:65535/v6?x=1", 3},
		{"http://127.0.0.1:65536/native", -1},
		{"http://127.0.0.1:99999/native", -1},
		{"http://127.0.0.1:0/native", -1},
		{"http://127.0.0.1:00000/native", -1},
		{"http://127.0.0.1:000080/native", -1},
		{"http://127.0.0.1:18446744073709551696/native", -1},
		{"http://127.0.0.1:80a/native", -1},
		{"http://127.0.0.1:+80/native", -1},
		{"http://127.0.0.1:80:80/native", -1},
		{"http://[::1]:0/v6?x=1", -1},
		{"http://[::1]:70000/v6?x=1", -1},
		{"http://127.0.0.1:0/zero", -1},
		{"http://127.0.0.1:1/zero", -1},
	};
	struct ts_client c;
	size_t i;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.redirect_uris = registered;
	c.nredirect_uris = TS_ARRAY_LEN(registered);
	for (i = 0; i < TS_ARRAY_LEN(cases); i++) {
		const char *m = ts_redirect_uri_match(&c, cases[i].uri);
		const char *want = cases[i].want < 0 ? NULL : registered[cases[i].want];
		if (m != want)
			fail_msg("case %zu \"%s\": matched \"%s\", want \"%s\"", i, cases[i].uri,
				 m ? m : "(none)", want ? want : "(none)");
	}
	assert_null(ts_redirect_uri_match(&c, NULL));
	/* Each refused scheme, in any case, whatever follows it. */
	assert_true(ts_redirect_scheme_refused("javascript:x"));
	assert_true(ts_redirect_scheme_refused("JAVASCRIPT:x"));
	assert_true(ts_redirect_scheme_refused("data:x"));
	assert_true(ts_redirect_scheme_refused("vbscript:x"));
	assert_true(ts_redirect_scheme_refused("File:x"));
	assert_false(ts_redirect_scheme_refused("https://x"));
	assert_false(ts_redirect_scheme_refused("javascripts:x"));
}

/* ---- scopes ---- */

struct narrow_case {
	const char *granted, *requested;
	bool ok;
	const char *out;
};

static void test_scope_narrow(void **state)
{
	static const struct narrow_case cases[] = {
		{"openid profile email", NULL, true, "openid profile email"},
		{"openid profile email", "profile", true, "profile"},
		{"openid profile email", "email openid", true, "email openid"},
		{"openid profile email", "email email", true, "email"},
		{"openid profile email", "openid profile email", true, "openid profile email"},
		{"openid profile", "openid admin", false, NULL},
		{"openid profile", "prof", false, NULL},
		{"openid profile", "openid  profile", false, NULL},
		{"openid profile", " openid", false, NULL},
		{"openid profile", "openid ", false, NULL},
		{"openid profile", "open\"id", false, NULL},
		{"openid profile", "open\\id", false, NULL},
		{"openid profile", "op\x01id", false, NULL},
		{"openid profile", "op\x7fid", false, NULL},
		{"", "openid", false, NULL},
	};
	struct ts_arena *a = *state;
	size_t i;

	for (i = 0; i < TS_ARRAY_LEN(cases); i++) {
		const char *out = NULL;
		bool ok = ts_scope_narrow(NULL, cases[i].granted, cases[i].requested, a, &out);
		if (ok != cases[i].ok)
			fail_msg("case %zu (\"%s\" from \"%s\"): %d", i,
				 cases[i].requested ? cases[i].requested : "(none)", cases[i].granted,
				 ok);
		if (ok)
			assert_string_equal(out, cases[i].out);
	}
	/* The whole scope string is capped, and so is its number of scopes. */
	assert_false(ts_scope_narrow(NULL, repeat(a, 'a', TS_SCOPE_MAX + 1),
				     repeat(a, 'a', TS_SCOPE_MAX + 1), a, &(const char *){NULL}));
	{
		struct ts_buf many;
		bool ok;
		int n;

		ts_buf_init(&many, TS_SCOPE_MAX);
		for (n = 0; n <= TS_SCOPES_MAX; n++)
			assert_int_equal(ts_buf_appendf(&many, "%ss%d", n ? " " : "", n), TS_OK);
		ok = ts_scope_narrow(NULL, many.p, many.p, a, &(const char *){NULL});
		assert_false(ok);
		ts_buf_clear(&many);
	}
	assert_true(ts_scope_has("openid profile", "profile"));
	assert_false(ts_scope_has("openid profile", "prof"));
	assert_true(ts_scope_covers(NULL, "openid profile email", "email openid"));
	assert_false(ts_scope_covers(NULL, "openid profile", "openid email"));
	{
		/* With the tenant's includes: groups:admin satisfies groups:read. */
		char *inc[] = {"groups:read", "groups:write"};
		struct ts_scope_def defs[] = {{"groups:admin", inc, 2, NULL}};
		struct ts_tenant t = {0};
		const char *out = NULL;

		t.scopes = defs;
		t.nscopes = 1;
		assert_true(ts_scope_covers(&t, "openid groups:admin", "groups:read openid"));
		assert_false(ts_scope_covers(NULL, "openid groups:admin", "groups:read"));
		assert_false(ts_scope_covers(&t, "groups:read", "groups:admin"));
		assert_true(ts_scope_narrow(&t, "offline_access groups:admin", "groups:write", a, &out));
		assert_string_equal(out, "groups:write");
		assert_false(ts_scope_narrow(&t, "groups:admin", "members:read", a, &out));
	}
}

/* ---- resource indicators ---- */

static void test_resource_ok(void **state)
{
	static const char *const good[] = {
		"https://api.example.test",
		"https://api.example.test/v1?tenant=acme",
		"urn:example:api",
		"a+b.c-d:x",
		"https://api.example.test/~!$&'()*+,;=:@%20",
	};
	static const char *const bad[] = {
		"",                                     /* not absolute */
		"api.example.test/v1",                  /* no scheme */
		"/v1",
		":no-scheme",
		"1https://api.example.test",            /* a scheme starts with a letter */
		"ht_tp://api.example.test",
		"https://api.example.test/#frag",       /* RFC 8707 §2: no fragment */
		"https://api.example.test/#",
		"https://api.example.test/a b",         /* printable ASCII only */
		"https://api.example.test/\t",
		"https://api.example.test/\x7f",
		"https://api.example.test/\xc3\xa9",
		"https://api.example.test/\x01",
	};
	struct ts_arena *a = *state;
	char *at_max, *over_max;
	size_t i, fill = TS_RESOURCE_MAX - strlen(RESOURCE_PREFIX);

	for (i = 0; i < TS_ARRAY_LEN(good); i++)
		if (!ts_oauth_resource_ok(good[i]))
			fail_msg("\"%s\" refused", good[i]);
	for (i = 0; i < TS_ARRAY_LEN(bad); i++)
		if (ts_oauth_resource_ok(bad[i]))
			fail_msg("bad case %zu \"%s\" accepted", i, bad[i]);
	assert_false(ts_oauth_resource_ok(NULL));
	/* At most TS_RESOURCE_MAX (2048) bytes. */
	at_max = ts_arena_printf(a, RESOURCE_PREFIX "%s", repeat(a, 'r', fill));
	over_max = ts_arena_printf(a, RESOURCE_PREFIX "%s", repeat(a, 'r', fill + 1));
	assert_int_equal(strlen(at_max), TS_RESOURCE_MAX);
	assert_true(ts_oauth_resource_ok(at_max));
	assert_false(ts_oauth_resource_ok(over_max));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pkce_rfc7636_vector),
		cmocka_unit_test_setup_teardown(test_pkce_syntax, setup_arena, teardown_arena),
		cmocka_unit_test(test_redirect_uri_match),
		cmocka_unit_test_setup_teardown(test_scope_narrow, setup_arena, teardown_arena),
		cmocka_unit_test_setup_teardown(test_resource_ok, setup_arena, teardown_arena),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
