/* test_libtessera.c: the parts of libtessera that need neither keys nor a
 * network: the header parsers (Authorization: Bearer, token, Basic, garbage;
 * Cookie with several cookies, quotes, spaces), introspection results and
 * their bounded cache (expiry, eviction), URL and form helpers, discovery
 * parsing, and the token client's 80% renewal, single flight and failure
 * sharing with an injected fetcher and clock. JWT checks and the verifier
 * are test_libtessera_verify.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define ISS "https://id.example.test/t/acme"
#define MONO_START 1000000000LL
/* Nothing listens on port 1: a fetch there fails at once. */
#define CLOSED "http://127.0.0.1:1"
#define DISCOVERY                                                                    \
	"{\"issuer\":\"" ISS "\",\"jwks_uri\":\"" CLOSED "/jwks\","                \
	"\"tessera_scope_includes\":{\"groups:admin\":[\"groups:read\",\"members:read\"]," \
	"\"tasks:read\":[]}}"

static int64_t mono_now = MONO_START;

static int64_t fake_mono(void)
{
	return mono_now;
}

/* ---- Authorization ---- */

struct auth_case {
	const char *hdr;
	enum ts_lib_scheme scheme;
	const char *a, *b; /* token, or key and secret */
};

static const struct auth_case auth_cases[] = {
	{"Bearer abc.def.ghi", TS_LIB_AUTH_BEARER, "abc.def.ghi", NULL},
	{"bearer   a-b_c~d+e/f==  ", TS_LIB_AUTH_BEARER, "a-b_c~d+e/f==", NULL},
	{"  BEARER x", TS_LIB_AUTH_BEARER, "x", NULL},
	{"Bearer", TS_LIB_AUTH_INVALID, NULL, NULL},
	{"Bearer ", TS_LIB_AUTH_INVALID, NULL, NULL},
	{"Bearer a b", TS_LIB_AUTH_INVALID, NULL, NULL},
	{"Bearer a\"b", TS_LIB_AUTH_INVALID, NULL, NULL},
	{"Bearer =abc", TS_LIB_AUTH_INVALID, NULL, NULL},
	{"Bearer ab=c", TS_LIB_AUTH_INVALID, NULL, NULL},
	{"token tk_abc:s3cret", TS_LIB_AUTH_APIKEY, "tk_abc", "s3cret"},
	{"Token tk_abc:se:cret", TS_LIB_AUTH_APIKEY, "tk_abc", "se:cret"},
	{"token :secret", TS_LIB_AUTH_INVALID, NULL, NULL},
	{"token key:", TS_LIB_AUTH_INVALID, NULL, NULL},
	{"token keysecret", TS_LIB_AUTH_INVALID, NULL, NULL},
	{"token key :secret", TS_LIB_AUTH_INVALID, NULL, NULL},
	{"token key:sec ret", TS_LIB_AUTH_INVALID, NULL, NULL},
	{"Basic dGtfYWJjOnMzY3JldA==", TS_LIB_AUTH_APIKEY, "tk_abc", "s3cret"},
	{"basic dGtfYWJjOnNlOmNyZXQ=", TS_LIB_AUTH_APIKEY, "tk_abc", "se:cret"},
	{"Basic bm9jb2xvbg==", TS_LIB_AUTH_INVALID, NULL, NULL},  /* "nocolon" */
	{"Basic OnNlY3JldA==", TS_LIB_AUTH_INVALID, NULL, NULL},  /* ":secret" */
	{"Basic a2V5Og==", TS_LIB_AUTH_INVALID, NULL, NULL},      /* "key:" */
	{"Basic azoBeA==", TS_LIB_AUTH_INVALID, NULL, NULL},      /* "k:\x01x" */
	{"Basic ayB5OnM=", TS_LIB_AUTH_INVALID, NULL, NULL},      /* "k y:s" */
	{"Basic !!!!", TS_LIB_AUTH_INVALID, NULL, NULL},
	{"Basic dGtfYWJjOnMzY3JldA", TS_LIB_AUTH_INVALID, NULL, NULL},
	{"Basic", TS_LIB_AUTH_INVALID, NULL, NULL},
	{"Digest username=\"x\"", TS_LIB_AUTH_INVALID, NULL, NULL},
	{"DPoP abc", TS_LIB_AUTH_DPOP, "abc", NULL},
	{"DPoP a b", TS_LIB_AUTH_INVALID, NULL, NULL},
	{"\x01\x02\x03", TS_LIB_AUTH_INVALID, NULL, NULL},
	{"Bearerabc", TS_LIB_AUTH_INVALID, NULL, NULL},
	{"", TS_LIB_AUTH_NONE, NULL, NULL},
	{" \t ", TS_LIB_AUTH_NONE, NULL, NULL},
};

static void test_auth_parse_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < TS_ARRAY_LEN(auth_cases); i++) {
		const struct auth_case *c = &auth_cases[i];
		struct ts_lib_auth a;

		ts_lib_auth_parse(c->hdr, strlen(c->hdr), &a);
		if (a.scheme != c->scheme)
			fail_msg("case %zu \"%s\": scheme %d, want %d", i, c->hdr, a.scheme, c->scheme);
		switch (c->scheme) {
		case TS_LIB_AUTH_BEARER:
		case TS_LIB_AUTH_DPOP:
			assert_string_equal(a.token, c->a);
			assert_null(a.key);
			break;
		case TS_LIB_AUTH_APIKEY:
			assert_string_equal(a.key, c->a);
			assert_string_equal(a.secret, c->b);
			assert_null(a.token);
			break;
		case TS_LIB_AUTH_INVALID:
			assert_non_null(a.why);
			assert_null(a.token);
			assert_null(a.key);
			assert_null(a.secret);
			break;
		default:
			break;
		}
		ts_lib_auth_clear(&a);
	}
}

static void test_auth_parse_limits(void **state)
{
	struct ts_lib_auth a;
	char *big = malloc(TS_LIB_AUTH_MAX + 2);

	(void)state;
	ts_lib_auth_parse(NULL, 0, &a);
	assert_int_equal(a.scheme, TS_LIB_AUTH_NONE);
	/* A NUL inside the given length is refused, never a terminator. */
	ts_lib_auth_parse("Bearer ab\0cd", 12, &a);
	assert_int_equal(a.scheme, TS_LIB_AUTH_INVALID);
	ts_lib_auth_clear(&a);
	/* Only len bytes are read. */
	ts_lib_auth_parse("Bearer abc garbage", 10, &a);
	assert_int_equal(a.scheme, TS_LIB_AUTH_BEARER);
	assert_string_equal(a.token, "abc");
	ts_lib_auth_clear(&a);
	memcpy(big, "Bearer ", 7);
	memset(big + 7, 'a', TS_LIB_AUTH_MAX - 7);
	ts_lib_auth_parse(big, TS_LIB_AUTH_MAX, &a);
	assert_int_equal(a.scheme, TS_LIB_AUTH_BEARER);
	ts_lib_auth_clear(&a);
	big[TS_LIB_AUTH_MAX] = 'a';
	ts_lib_auth_parse(big, TS_LIB_AUTH_MAX + 1, &a);
	assert_int_equal(a.scheme, TS_LIB_AUTH_INVALID);
	ts_lib_auth_clear(&a);
	/* Key and secret bounds are the server's. */
	memcpy(big, "token ", 6);
	memset(big + 6, 'k', TS_LIB_APIKEY_MAX + 1);
	memcpy(big + 6 + TS_LIB_APIKEY_MAX + 1, ":s", 2);
	ts_lib_auth_parse(big, 6 + TS_LIB_APIKEY_MAX + 3, &a);
	assert_int_equal(a.scheme, TS_LIB_AUTH_INVALID);
	ts_lib_auth_clear(&a);
	free(big);
}

/* ---- Cookie ---- */

struct cookie_case {
	const char *hdr;
	int rc;
	const char *value;
};

static const struct cookie_case cookie_cases[] = {
	{"tessera_session=abc", TS_OK, "abc"},
	{"a=1; tessera_session=abc; b=2", TS_OK, "abc"},
	{"a=1;tessera_session=abc;b=2", TS_OK, "abc"},
	{"  a = 1 ;  tessera_session  =  v1  ; x=y", TS_OK, "v1"},
	{"tessera_session=\"quoted-value\"", TS_OK, "quoted-value"},
	{"x=\"a;b\"; tessera_session=\"q\"", TS_OK, "q"}, /* a ';' ends a pair, quotes or not */
	{"tessera_session=\"\"", TS_OK, ""},
	{"tessera_session=", TS_OK, ""},
	{"tessera_session=\"unbalanced", TS_OK, "\"unbalanced"},
	{"tessera_session=a=b", TS_OK, "a=b"},
	{"tessera_session=first; tessera_session=second", TS_OK, "first"},
	{"junk; tessera_session=v", TS_OK, "v"},
	{"\ttessera_session=tab\t", TS_OK, "tab"},
	{"a=1; b=2", TS_ENOTFOUND, NULL},
	{"tessera_session_x=1; xtessera_session=2; Tessera_Session=3", TS_ENOTFOUND, NULL},
	{"tessera_session", TS_ENOTFOUND, NULL},
	{"", TS_ENOTFOUND, NULL},
	{";;;", TS_ENOTFOUND, NULL},
};

static void test_cookie_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < TS_ARRAY_LEN(cookie_cases); i++) {
		const struct cookie_case *c = &cookie_cases[i];
		char *v = NULL;
		int rc = ts_lib_cookie_get(c->hdr, strlen(c->hdr), "tessera_session", &v);

		if (rc != c->rc)
			fail_msg("case %zu \"%s\": rc %d, want %d", i, c->hdr, rc, c->rc);
		if (c->value)
			assert_string_equal(v, c->value);
		else
			assert_null(v);
		free(v);
	}
}

static void test_cookie_limits(void **state)
{
	char *v = NULL, *big;

	(void)state;
	assert_int_equal(ts_lib_cookie_get(NULL, 0, "tessera_session", &v), TS_ENOTFOUND);
	assert_int_equal(ts_lib_cookie_get("tessera_session=a\0b", 19, "tessera_session", &v),
			 TS_EINVAL);
	assert_null(v);
	/* Only len bytes are read. */
	assert_int_equal(ts_lib_cookie_get("tessera_session=abcdef", 19, "tessera_session", &v),
			 TS_OK);
	assert_string_equal(v, "abc");
	free(v);
	big = malloc(TS_LIB_COOKIE_MAX + 1);
	memset(big, 'x', TS_LIB_COOKIE_MAX + 1);
	assert_int_equal(ts_lib_cookie_get(big, TS_LIB_COOKIE_MAX + 1, "tessera_session", &v),
			 TS_ETOOBIG);
	free(big);
	assert_true(ts_lib_session_id_ok("AAAAAAAAAAAAAAAAAAAAAA"));
	assert_true(ts_lib_session_id_ok("abc-DEF_0123456789"));
	assert_false(ts_lib_session_id_ok("short"));
	assert_false(ts_lib_session_id_ok("AAAAAAAAAAAAAAAA:secret"));
	assert_false(ts_lib_session_id_ok("AAAAAAAAAAAAAAAA AAAA"));
	assert_false(ts_lib_session_id_ok(NULL));
}

/* ---- introspection results and the cache ---- */

static struct ts_lib_intro *intro(bool active, const char *type, const char *sub,
				  const char *csrf, const char *role)
{
	struct ts_lib_intro *r = ts_xcalloc(1, sizeof(*r));

	r->active = active;
	if (!active)
		return r;
	r->token_type = ts_xstrdup(type);
	r->sub = ts_xstrdup(sub);
	r->username = ts_xstrdup("alice@acme.test");
	r->principal_type = ts_xstrdup("user");
	r->tenant = ts_xstrdup("acme");
	r->csrf_token = ts_xstrdup(csrf);
	if (role) {
		r->roles = ts_xcalloc(1, sizeof(*r->roles));
		r->roles[0] = ts_xstrdup(role);
		r->nroles = 1;
	}
	return r;
}

static void digest(const char *s, unsigned char out[TS_SHA256_LEN])
{
	ts_sha256(s, strlen(s), out);
}

static void test_intro_parse(void **state)
{
	static const char active[] =
		"{\"active\":true,\"token_type\":\"session\",\"sub\":\"u1\",\"username\":\"alice\","
		"\"principal_type\":\"user\",\"tenant\":\"acme\",\"roles\":[\"A\",7,\"B\"],"
		"\"csrf_token\":\"c\"}";
	struct ts_lib_intro *r = NULL, *d;

	(void)state;
	assert_int_equal(ts_lib_intro_parse(active, strlen(active), &r), TS_OK);
	assert_true(r->active);
	assert_string_equal(r->token_type, "session");
	assert_string_equal(r->sub, "u1");
	assert_string_equal(r->tenant, "acme");
	assert_string_equal(r->csrf_token, "c");
	assert_int_equal(r->nroles, 2); /* the number is skipped */
	assert_string_equal(r->roles[1], "B");
	d = ts_lib_intro_dup(r);
	assert_string_equal(d->roles[0], "A");
	assert_string_equal(d->username, "alice");
	ts_lib_intro_free(d);
	ts_lib_intro_free(r);
	assert_int_equal(ts_lib_intro_parse("{\"active\":false}", 16, &r), TS_OK);
	assert_false(r->active);
	assert_null(r->sub);
	ts_lib_intro_free(r);
	assert_int_equal(ts_lib_intro_parse("{\"active\":\"true\"}", 17, &r), TS_EINVAL);
	assert_int_equal(ts_lib_intro_parse("{}", 2, &r), TS_EINVAL);
	assert_int_equal(ts_lib_intro_parse("[true]", 6, &r), TS_EINVAL);
	assert_int_equal(ts_lib_intro_parse("{\"active\":true,\"active\":false}", 31, &r),
			 TS_EINVAL);
	assert_int_equal(ts_lib_intro_parse("nope", 4, &r), TS_EINVAL);
	assert_null(r);
	ts_lib_intro_free(NULL);
}

static void test_cache_expiry(void **state)
{
	struct ts_lib_cache *c = ts_lib_cache_new(16, 10000);
	struct ts_lib_intro *r = intro(true, "api_key", "u1", NULL, "R"), *no = intro(false, 0, 0, 0, 0);
	struct ts_lib_intro *got = NULL;
	unsigned char k1[TS_SHA256_LEN], k2[TS_SHA256_LEN];

	(void)state;
	digest("one", k1);
	digest("two", k2);
	assert_int_equal(ts_lib_cache_get(c, k1, 0, &got), TS_ENOTFOUND);
	ts_lib_cache_put(c, k1, 1000, r);
	ts_lib_cache_put(c, k2, 1000, no); /* refusals are cached too */
	assert_int_equal(ts_lib_cache_get(c, k1, 10999, &got), TS_OK);
	assert_true(got->active);
	assert_string_equal(got->roles[0], "R");
	ts_lib_intro_free(got);
	assert_int_equal(ts_lib_cache_get(c, k2, 5000, &got), TS_OK);
	assert_false(got->active);
	ts_lib_intro_free(got);
	assert_int_equal(ts_lib_cache_get(c, k1, 11000, &got), TS_ENOTFOUND);
	assert_null(got);
	/* A fresh answer replaces the old one and restarts its time. */
	ts_lib_cache_put(c, k1, 20000, no);
	assert_int_equal(ts_lib_cache_count(c), 2);
	assert_int_equal(ts_lib_cache_get(c, k1, 29999, &got), TS_OK);
	assert_false(got->active);
	ts_lib_intro_free(got);
	ts_lib_intro_free(r);
	ts_lib_intro_free(no);
	ts_lib_cache_free(c);
	ts_lib_cache_free(NULL);
}

static void test_cache_eviction(void **state)
{
	struct ts_lib_cache *c = ts_lib_cache_new(4, 60000);
	struct ts_lib_intro *r = intro(true, "session", "u", "c", NULL), *got = NULL;
	unsigned char k[10][TS_SHA256_LEN];
	char name[16];
	size_t i;

	(void)state;
	for (i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "cred-%zu", i);
		digest(name, k[i]);
	}
	for (i = 0; i < 5; i++)
		ts_lib_cache_put(c, k[i], 0, r);
	/* Bounded: the oldest went. */
	assert_int_equal(ts_lib_cache_count(c), 4);
	assert_int_equal(ts_lib_cache_get(c, k[0], 1, &got), TS_ENOTFOUND);
	for (i = 1; i < 5; i++) {
		assert_int_equal(ts_lib_cache_get(c, k[i], 1, &got), TS_OK);
		ts_lib_intro_free(got);
	}
	for (i = 5; i < 10; i++)
		ts_lib_cache_put(c, k[i], 0, r);
	assert_int_equal(ts_lib_cache_count(c), 4);
	for (i = 0; i < 6; i++)
		assert_int_equal(ts_lib_cache_get(c, k[i], 1, &got), TS_ENOTFOUND);
	for (i = 6; i < 10; i++) {
		assert_int_equal(ts_lib_cache_get(c, k[i], 1, &got), TS_OK);
		ts_lib_intro_free(got);
	}
	ts_lib_intro_free(r);
	ts_lib_cache_free(c);
}

static void test_cache_full_size(void **state)
{
	struct ts_lib_cache *c = ts_lib_cache_new(TS_LIB_CACHE_ENTRIES, 60000);
	struct ts_lib_intro *r = intro(false, 0, 0, 0, 0), *got = NULL;
	unsigned char k[TS_SHA256_LEN];
	char name[32];
	size_t i;

	(void)state;
	for (i = 0; i < 3 * TS_LIB_CACHE_ENTRIES; i++) {
		snprintf(name, sizeof(name), "c%zu", i);
		digest(name, k);
		ts_lib_cache_put(c, k, 0, r);
	}
	assert_int_equal(ts_lib_cache_count(c), TS_LIB_CACHE_ENTRIES);
	digest("c0", k);
	assert_int_equal(ts_lib_cache_get(c, k, 1, &got), TS_ENOTFOUND);
	snprintf(name, sizeof(name), "c%d", 3 * TS_LIB_CACHE_ENTRIES - 1);
	digest(name, k);
	assert_int_equal(ts_lib_cache_get(c, k, 1, &got), TS_OK);
	ts_lib_intro_free(got);
	ts_lib_intro_free(r);
	ts_lib_cache_free(c);
}

/* ---- the token client ---- */

struct fake {
	pthread_mutex_t m;
	pthread_cond_t c;
	int calls;
	int fail_from;      /* calls from this one on fail (0: never) */
	int64_t expires_in;
	bool gate;          /* each fetch waits for release */
	bool started, release;
};

static void fake_init(struct fake *f, int64_t expires_in)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->m, NULL);
	pthread_cond_init(&f->c, NULL);
	f->expires_in = expires_in;
}

static void fake_clear(struct fake *f)
{
	pthread_mutex_destroy(&f->m);
	pthread_cond_destroy(&f->c);
}

static int fake_fetch(void *ctx, struct ts_lib_token *out, struct tessera_error *err)
{
	struct fake *f = ctx;
	char tok[32];
	int n;

	pthread_mutex_lock(&f->m);
	n = ++f->calls;
	f->started = true;
	pthread_cond_broadcast(&f->c);
	while (f->gate && !f->release)
		pthread_cond_wait(&f->c, &f->m);
	pthread_mutex_unlock(&f->m);
	if (f->fail_from && n >= f->fail_from) {
		err->status = 503;
		snprintf(err->error, sizeof(err->error), "temporarily_unavailable");
		snprintf(err->description, sizeof(err->description), "fake failure %d", n);
		return TESSERA_EUNAVAILABLE;
	}
	snprintf(tok, sizeof(tok), "tok-%d", n);
	out->access_token = ts_xstrdup(tok);
	out->expires_in_s = f->expires_in;
	return TESSERA_OK;
}

static void fake_wait_started(struct fake *f)
{
	pthread_mutex_lock(&f->m);
	while (!f->started)
		pthread_cond_wait(&f->c, &f->m);
	pthread_mutex_unlock(&f->m);
}

static void fake_release(struct fake *f)
{
	pthread_mutex_lock(&f->m);
	f->release = true;
	pthread_cond_broadcast(&f->c);
	pthread_mutex_unlock(&f->m);
}

static tessera_token_client *token_client(struct fake *f, bool fake_clock)
{
	tessera_token_client *c = NULL;

	assert_int_equal(tessera_token_client_new(ISS, "tasks-api", "a-secret", "tasks:read", &c),
			 TESSERA_OK);
	ts_lib_token_client_set_fetch(c, fake_fetch, f);
	if (fake_clock) {
		mono_now = MONO_START;
		ts_lib_token_client_set_clock(c, fake_mono);
	}
	return c;
}

static void expect_token(tessera_token_client *c, const char *want)
{
	struct tessera_error e;
	char *tok = NULL;
	int rc = tessera_token_client_get(c, &tok, &e);

	if (rc != TESSERA_OK)
		fail_msg("get: %d %s", rc, e.description);
	assert_string_equal(tok, want);
	free(tok);
}

static void test_token_renewal(void **state)
{
	struct fake f;
	tessera_token_client *c;

	(void)state;
	fake_init(&f, 100);
	c = token_client(&f, true);
	expect_token(c, "tok-1");
	assert_int_equal(f.calls, 1);
	/* Cached until 80% of the 100 s lifetime... */
	mono_now = MONO_START + 79999;
	expect_token(c, "tok-1");
	assert_int_equal(f.calls, 1);
	/* ...then renewed. */
	mono_now = MONO_START + 80000;
	expect_token(c, "tok-2");
	assert_int_equal(f.calls, 2);
	mono_now = MONO_START + 80000 + 79999;
	expect_token(c, "tok-2");
	mono_now = MONO_START + 160000;
	expect_token(c, "tok-3");
	assert_int_equal(f.calls, 3);
	tessera_token_client_free(c);
	fake_clear(&f);
}

static void test_token_renewal_failure(void **state)
{
	struct tessera_error e;
	tessera_token_client *c;
	struct fake f;
	char *tok = NULL;

	(void)state;
	fake_init(&f, 100);
	c = token_client(&f, true);
	expect_token(c, "tok-1");
	f.fail_from = 2;
	/* Renewal fails while the token is still valid: it is still handed out. */
	mono_now = MONO_START + 85000;
	expect_token(c, "tok-1");
	assert_int_equal(f.calls, 2);
	/* Close to expiry it is not: the failure is the answer. */
	mono_now = MONO_START + 96000;
	assert_int_equal(tessera_token_client_get(c, &tok, &e), TESSERA_EUNAVAILABLE);
	assert_null(tok);
	assert_int_equal(e.status, 503);
	assert_string_equal(e.description, "fake failure 3");
	/* Tessera is back. */
	f.fail_from = 0;
	expect_token(c, "tok-4");
	tessera_token_client_free(c);
	fake_clear(&f);
}

struct getter {
	tessera_token_client *c;
	int rc;
	char *tok;
	struct tessera_error e;
};

static void *get_thread(void *arg)
{
	struct getter *g = arg;

	g->rc = tessera_token_client_get(g->c, &g->tok, &g->e);
	return NULL;
}

#define N_GETTERS 8

static void test_token_single_flight(void **state)
{
	struct getter g[N_GETTERS];
	pthread_t t[N_GETTERS];
	tessera_token_client *c;
	struct fake f;
	size_t i;

	(void)state;
	fake_init(&f, 100);
	f.gate = true;
	c = token_client(&f, false);
	for (i = 0; i < N_GETTERS; i++) {
		memset(&g[i], 0, sizeof(g[i]));
		g[i].c = c;
		assert_int_equal(pthread_create(&t[i], NULL, get_thread, &g[i]), 0);
	}
	fake_wait_started(&f);
	/* Let every thread reach the client while the one fetch is held. */
	usleep(100000);
	fake_release(&f);
	for (i = 0; i < N_GETTERS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(g[i].rc, TESSERA_OK);
		assert_string_equal(g[i].tok, "tok-1");
		free(g[i].tok);
	}
	assert_int_equal(f.calls, 1);
	tessera_token_client_free(c);
	fake_clear(&f);
}

static void test_token_cached_while_renewing(void **state)
{
	struct getter g = {0};
	tessera_token_client *c;
	struct fake f;
	pthread_t t;

	(void)state;
	fake_init(&f, 100);
	c = token_client(&f, true);
	expect_token(c, "tok-1");
	/* Renewal is due; one thread starts it and is held inside... */
	mono_now = MONO_START + 85000;
	f.gate = true;
	f.started = false;
	g.c = c;
	assert_int_equal(pthread_create(&t, NULL, get_thread, &g), 0);
	fake_wait_started(&f);
	/* ...meanwhile others get the cached, still valid token at once. */
	expect_token(c, "tok-1");
	expect_token(c, "tok-1");
	fake_release(&f);
	pthread_join(t, NULL);
	assert_int_equal(g.rc, TESSERA_OK);
	assert_string_equal(g.tok, "tok-2");
	free(g.tok);
	expect_token(c, "tok-2");
	assert_int_equal(f.calls, 2);
	tessera_token_client_free(c);
	fake_clear(&f);
}

static void test_token_waiters_share_failure(void **state)
{
	struct getter a = {0}, b = {0};
	tessera_token_client *c;
	struct fake f;
	pthread_t ta, tb;

	(void)state;
	fake_init(&f, 100);
	f.gate = true;
	f.fail_from = 1;
	c = token_client(&f, false);
	a.c = b.c = c;
	assert_int_equal(pthread_create(&ta, NULL, get_thread, &a), 0);
	fake_wait_started(&f);
	assert_int_equal(pthread_create(&tb, NULL, get_thread, &b), 0);
	usleep(100000); /* b is now waiting for a's fetch */
	fake_release(&f);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_int_equal(a.rc, TESSERA_EUNAVAILABLE);
	assert_int_equal(b.rc, TESSERA_EUNAVAILABLE);
	assert_string_equal(b.e.description, "fake failure 1");
	assert_int_equal(f.calls, 1);
	tessera_token_client_free(c);
	fake_clear(&f);
}

static void test_token_client_args(void **state)
{
	tessera_token_client *c = NULL;
	struct tessera_error e;
	char *tok = NULL;

	(void)state;
	assert_int_equal(tessera_token_client_new(NULL, "a", "b", NULL, &c), TESSERA_EINVAL);
	assert_int_equal(tessera_token_client_new("file:///etc", "a", "b", NULL, &c), TESSERA_EINVAL);
	assert_int_equal(tessera_token_client_new(ISS, "", "b", NULL, &c), TESSERA_EINVAL);
	assert_int_equal(tessera_token_client_new(ISS, "a", NULL, NULL, &c), TESSERA_EINVAL);
	assert_int_equal(tessera_token_client_new(ISS, "a", "b", NULL, NULL), TESSERA_EINVAL);
	assert_null(c);
	assert_int_equal(tessera_token_client_get(NULL, &tok, &e), TESSERA_EINVAL);
	tessera_token_client_free(NULL);
	/* The real fetcher against a closed port: 503, quickly. */
	assert_int_equal(tessera_token_client_new(CLOSED "/t/acme", "a", "b", NULL, &c), TESSERA_OK);
	assert_int_equal(tessera_token_client_get(c, &tok, &e), TESSERA_EUNAVAILABLE);
	assert_int_equal(e.status, 503);
	assert_int_equal(tessera_token_client_get(c, NULL, &e), TESSERA_EINVAL);
	tessera_token_client_free(c);
}

/* ---- small helpers ---- */

static void test_helpers(void **state)
{
	static const char no_jwks[] = "{\"issuer\":\"" ISS "\"}";
	static const char bad_jwks[] = "{\"issuer\":\"" ISS "\",\"jwks_uri\":\"file:///x\"}";
	struct ts_buf b;
	struct ts_lib_meta *m = NULL;

	(void)state;
	ts_buf_init(&b, 256);
	assert_int_equal(ts_lib_form_escape(&b, "a b+c/d:é~_-."), TS_OK);
	assert_string_equal(b.p, "a%20b%2Bc%2Fd%3A%C3%A9~_-.");
	ts_buf_clear(&b);
	assert_true(ts_lib_url_ok("http://127.0.0.1:8080/t/acme"));
	assert_true(ts_lib_url_ok("HTTPS://id.example.test"));
	assert_false(ts_lib_url_ok("http://"));
	assert_false(ts_lib_url_ok("file:///etc/passwd"));
	assert_false(ts_lib_url_ok("gopher://x"));
	assert_false(ts_lib_url_ok("http://a b"));
	assert_false(ts_lib_url_ok(NULL));
	/* Discovery: the issuer must match exactly; jwks_uri is required. */
	assert_int_equal(ts_lib_meta_parse(ISS, DISCOVERY, strlen(DISCOVERY), &m), TS_OK);
	assert_string_equal(m->jwks_uri, CLOSED "/jwks");
	assert_true(ts_lib_meta_includes(m, "groups:admin", "members:read"));
	assert_false(ts_lib_meta_includes(m, "members:read", "groups:admin"));
	assert_false(ts_lib_meta_includes(m, "tasks:read", "tasks:write"));
	ts_lib_meta_unref(m);
	assert_int_equal(ts_lib_meta_parse(ISS "/", DISCOVERY, strlen(DISCOVERY), &m), TS_EINVAL);
	assert_int_equal(ts_lib_meta_parse(ISS, no_jwks, strlen(no_jwks), &m), TS_EINVAL);
	assert_int_equal(ts_lib_meta_parse(ISS, bad_jwks, strlen(bad_jwks), &m), TS_EINVAL);
	assert_null(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_auth_parse_table),
		cmocka_unit_test(test_auth_parse_limits),
		cmocka_unit_test(test_cookie_table),
		cmocka_unit_test(test_cookie_limits),
		cmocka_unit_test(test_intro_parse),
		cmocka_unit_test(test_cache_expiry),
		cmocka_unit_test(test_cache_eviction),
		cmocka_unit_test(test_cache_full_size),
		cmocka_unit_test(test_helpers),
		cmocka_unit_test(test_token_renewal),
		cmocka_unit_test(test_token_renewal_failure),
		cmocka_unit_test(test_token_single_flight),
		cmocka_unit_test(test_token_cached_while_renewing),
		cmocka_unit_test(test_token_waiters_share_failure),
		cmocka_unit_test(test_token_client_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
