/* test_libtessera_verify.c: libtessera's verifier without a network. JWT
 * access tokens (RFC 9068) signed here with generated keys and checked
 * against a JWKS injected through a test hook: every claim (exp, nbf, iat,
 * iss, aud, sub, client_id), typ, kid, the algorithm pinned to the key, none,
 * HS256, embedded keys, crit, bad signatures and sizes; the error answers
 * (RFC 6750 §3); API keys, sessions with CSRF and users' roles answered from
 * a pre-filled introspection cache; the JWKS refetch limits on a fake clock
 * against a closed port; many threads on one verifier while its keys and
 * discovery are replaced. */
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

#include "internal.h"
#include "jose/internal.h"

#define ISS "https://id.example.test/t/acme"
#define AUD "https://api.example.test"
#define NOW 1700000000
#define MONO_START 1000000000LL
#define BUF_MAX 65536
/* Nothing listens on port 1: a fetch there fails at once. */
#define CLOSED "http://127.0.0.1:1"
#define DISCOVERY                                                                    \
	"{\"issuer\":\"" ISS "\",\"jwks_uri\":\"" CLOSED "/jwks\","                \
	"\"introspection_endpoint\":\"" CLOSED "/introspect\","                     \
	"\"token_endpoint\":\"" CLOSED "/token\","                                  \
	"\"tessera_scope_includes\":{\"groups:admin\":[\"groups:read\",\"members:read\"]," \
	"\"tasks:read\":[]}}"

static struct ts_jwk *es_key, *rsa_key, *stranger;
static char *jwks_text;
static int64_t mono_now = MONO_START;

static int64_t fixed_now(void)
{
	return NOW;
}

static int64_t fake_mono(void)
{
	return mono_now;
}

static int setup_keys(void **state)
{
	json_t *set;

	(void)state;
	if (ts_jwk_generate(TS_ALG_ES256, &es_key) != TS_OK ||
	    ts_jwk_generate(TS_ALG_RS256, &rsa_key) != TS_OK ||
	    ts_jwk_generate(TS_ALG_ES256, &stranger) != TS_OK)
		return -1;
	set = json_pack("{s:[o,o]}", "keys", ts_jwk_public_json(es_key), ts_jwk_public_json(rsa_key));
	jwks_text = json_dumps(set, JSON_COMPACT);
	json_decref(set);
	return jwks_text ? 0 : -1;
}

static int teardown_keys(void **state)
{
	(void)state;
	ts_jwk_free(es_key);
	ts_jwk_free(rsa_key);
	ts_jwk_free(stranger);
	free(jwks_text);
	return 0;
}

/* ---- tokens ---- */

static json_t *claims_ok(void)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:s}", "iss", ISS, "aud", AUD, "sub",
			 "svc", "client_id", "svc", "scope", "tasks:read groups:admin", "iat",
			 (json_int_t)NOW - 10, "nbf", (json_int_t)NOW - 10, "exp",
			 (json_int_t)NOW + 900, "jti", "j1");
}

/* A token signed by ts_jws_sign (header alg, kid and typ); takes claims. */
static char *sign(const struct ts_jwk *k, const char *typ, json_t *claims)
{
	char *payload = json_dumps(claims, JSON_COMPACT);
	struct ts_buf out;

	ts_buf_init(&out, BUF_MAX);
	assert_int_equal(ts_jws_sign(k, typ, payload, strlen(payload), &out), TS_OK);
	free(payload);
	json_decref(claims);
	return ts_buf_take(&out);
}

static void append_b64url(struct ts_buf *b, const void *p, size_t n)
{
	char *enc = malloc(ts_b64url_encoded_len(n) + 1);

	ts_b64url_encode(p, n, enc, ts_b64url_encoded_len(n) + 1);
	assert_int_equal(ts_buf_appends(b, enc), TS_OK);
	free(enc);
}

/* A token with a hand-made header: signed with k's raw primitive, or with
 * the given signature bytes when k is NULL. Takes claims. */
static char *sign_raw(const struct ts_jwk *k, const char *header, json_t *claims,
		      const unsigned char *sig, size_t siglen)
{
	char *payload = json_dumps(claims, JSON_COMPACT);
	unsigned char s[TS_JWS_SIG_MAX];
	size_t slen = 0;
	struct ts_buf b;

	ts_buf_init(&b, BUF_MAX);
	append_b64url(&b, header, strlen(header));
	assert_int_equal(ts_buf_append(&b, ".", 1), TS_OK);
	append_b64url(&b, payload, strlen(payload));
	if (k != NULL) {
		assert_int_equal(ts_jws_sign_input(k, b.p, b.len, s, &slen), TS_OK);
		sig = s;
		siglen = slen;
	}
	assert_int_equal(ts_buf_append(&b, ".", 1), TS_OK);
	if (siglen)
		append_b64url(&b, sig, siglen);
	free(payload);
	json_decref(claims);
	return ts_buf_take(&b);
}

static tessera_verifier *verifier(bool introspection)
{
	struct tessera_verifier_config cfg = {.issuer = ISS, .audience = AUD};
	tessera_verifier *v = NULL;

	if (introspection) {
		cfg.client_id = "tasks-api";
		cfg.client_secret = "a-secret-of-at-least-32-characters!!";
	}
	assert_int_equal(tessera_verifier_new(&cfg, &v), TESSERA_OK);
	mono_now = MONO_START;
	ts_lib_verifier_set_clocks(v, fixed_now, fake_mono);
	assert_int_equal(ts_lib_verifier_set_keys(v, jwks_text), TS_OK);
	assert_int_equal(ts_lib_verifier_set_discovery(v, DISCOVERY), TS_OK);
	return v;
}

static int verify_bearer(tessera_verifier *v, const char *token, struct tessera_principal **p,
			 struct tessera_error *e)
{
	struct ts_buf h;
	int rc;

	ts_buf_init(&h, 2 * BUF_MAX);
	assert_int_equal(ts_buf_appendf(&h, "Bearer %s", token), TS_OK);
	rc = tessera_verify(v, h.p, NULL, "GET", NULL, p, e);
	ts_buf_clear(&h);
	return rc;
}

/* Verifies token (which it frees) and expects an invalid_token refusal
 * whose description contains why. */
static void refused(tessera_verifier *v, char *token, const char *why)
{
	struct tessera_principal *p = NULL;
	struct tessera_error e;

	assert_int_equal(verify_bearer(v, token, &p, &e), TESSERA_EDENIED);
	assert_null(p);
	assert_int_equal(e.status, 401);
	assert_string_equal(e.error, "invalid_token");
	if (strstr(e.description, why) == NULL)
		fail_msg("description \"%s\" lacks \"%s\"", e.description, why);
	assert_non_null(strstr(e.www_authenticate, "error=\"invalid_token\""));
	assert_non_null(strstr(e.www_authenticate, "Bearer realm=\"" ISS "\""));
	free(token);
}

static void accepted(tessera_verifier *v, char *token)
{
	struct tessera_principal *p = NULL;
	struct tessera_error e;
	int rc = verify_bearer(v, token, &p, &e);

	if (rc != TESSERA_OK)
		fail_msg("refused: %s", e.description);
	tessera_principal_free(p);
	free(token);
}

struct claim_case {
	const char *member;
	const char *value; /* JSON text; NULL removes the member */
	bool ok;
};

static const struct claim_case claim_cases[] = {
	{"exp", "1699999941", true},   /* 59 s ago: within the 60 s leeway */
	{"exp", "1699999940", false},  /* exactly the leeway */
	{"exp", "1699999000", false},
	{"exp", "1700000900.5", true},
	{"exp", "\"1700000900\"", false},
	{"exp", NULL, false},
	{"nbf", "1700000060", true},
	{"nbf", "1700000061", false},
	{"nbf", NULL, true},
	{"nbf", "null", false},
	{"iat", "1700000120", false},
	{"iat", NULL, true},
	{"iss", "\"https://evil.example.test/t/acme\"", false},
	{"iss", "\"" ISS "/\"", false},
	{"iss", "\"HTTPS://ID.EXAMPLE.TEST/t/acme\"", false},
	{"iss", NULL, false},
	{"aud", "\"https://other.example.test\"", false},
	{"aud", "[\"https://other.example.test\",\"" AUD "\"]", true},
	{"aud", "[\"https://other.example.test\"]", false},
	{"aud", "[]", false},
	{"aud", "[1]", false},
	{"aud", "\"" ISS "\"", false}, /* the issuer is not this audience */
	{"aud", NULL, false},
	{"sub", NULL, false},
	{"sub", "\"\"", false},
	{"sub", "7", false},
	{"client_id", NULL, false},
	{"scope", "5", false},
	{"scope", NULL, true},
};

static void test_claims_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < TS_ARRAY_LEN(claim_cases); i++) {
		const struct claim_case *c = &claim_cases[i];
		json_t *claims = claims_ok();
		const char *why = NULL;
		int rc;

		if (c->value)
			json_object_set_new(claims, c->member,
					    json_loads(c->value, JSON_DECODE_ANY, NULL));
		else
			json_object_del(claims, c->member);
		rc = ts_lib_claims_check(claims, ISS, AUD, NOW, 60, &why);
		if ((rc == TS_OK) != c->ok)
			fail_msg("case %zu (%s=%s): rc %d (%s)", i, c->member,
				 c->value ? c->value : "absent", rc, why ? why : "");
		json_decref(claims);
	}
	assert_int_equal(ts_lib_claims_check(json_null(), ISS, AUD, NOW, 60,
					     &(const char *){NULL}), TS_EDENIED);
}

static void test_bearer_service(void **state)
{
	tessera_verifier *v = verifier(false);
	struct tessera_principal *p = NULL;
	struct tessera_error e;
	char *tok = sign(es_key, "at+jwt", claims_ok());

	(void)state;
	assert_int_equal(verify_bearer(v, tok, &p, &e), TESSERA_OK);
	assert_int_equal(p->auth, TESSERA_AUTH_BEARER);
	assert_int_equal(p->is_user, 0);
	assert_string_equal(p->sub, "svc");
	assert_string_equal(p->client_id, "svc");
	assert_null(p->tenant);
	assert_int_equal(p->nscopes, 2);
	assert_string_equal(p->scopes[0], "tasks:read");
	assert_string_equal(p->scopes[1], "groups:admin");
	assert_int_equal(p->nroles, 0);
	/* Scope includes come from discovery's tessera_scope_includes. */
	assert_true(tessera_principal_has_scope(v, p, "tasks:read"));
	assert_true(tessera_principal_has_scope(v, p, "groups:admin"));
	assert_true(tessera_principal_has_scope(v, p, "groups:read"));
	assert_true(tessera_principal_has_scope(v, p, "members:read"));
	assert_false(tessera_principal_has_scope(v, p, "groups:write"));
	assert_false(tessera_principal_has_scope(v, p, "tasks:write"));
	assert_false(tessera_principal_has_scope(NULL, p, "groups:read"));
	assert_true(tessera_principal_has_scope(NULL, p, "tasks:read"));
	assert_false(tessera_principal_has_scope(v, p, NULL));
	assert_false(tessera_principal_has_role(p, "Sales User"));
	tessera_principal_free(p);
	free(tok);
	/* RSA keys work the same; the long typ form too; aud as an array. */
	{
		json_t *c = claims_ok();
		json_object_set_new(c, "aud", json_pack("[s,s]", "x", AUD));
		accepted(v, sign(rsa_key, "application/at+jwt", c));
	}
	tessera_verifier_free(v);
}

static void test_bearer_user_without_introspection(void **state)
{
	tessera_verifier *v = verifier(false);
	struct tessera_principal *p = NULL;
	struct tessera_error e;
	json_t *c = claims_ok();
	char *tok;

	(void)state;
	json_object_set_new(c, "sub", json_string("3f1c7a9e-user"));
	json_object_set_new(c, "client_id", json_string("mobile"));
	tok = sign(es_key, "at+jwt", c);
	assert_int_equal(verify_bearer(v, tok, &p, &e), TESSERA_OK);
	assert_int_equal(p->is_user, 1);
	assert_string_equal(p->sub, "3f1c7a9e-user");
	assert_string_equal(p->client_id, "mobile");
	assert_null(p->username);
	assert_int_equal(p->nroles, 0);
	tessera_principal_free(p);
	free(tok);
	tessera_verifier_free(v);
}

static json_t *with(const char *member, json_t *value)
{
	json_t *c = claims_ok();

	if (value)
		json_object_set_new(c, member, value);
	else
		json_object_del(c, member);
	return c;
}

static void test_bearer_claims(void **state)
{
	tessera_verifier *v = verifier(false);

	(void)state;
	refused(v, sign(es_key, "at+jwt", with("exp", json_integer(NOW - 61))), "expired");
	accepted(v, sign(es_key, "at+jwt", with("exp", json_integer(NOW - 59))));
	refused(v, sign(es_key, "at+jwt", with("nbf", json_integer(NOW + 120))), "not valid yet");
	accepted(v, sign(es_key, "at+jwt", with("nbf", json_integer(NOW + 30))));
	refused(v, sign(es_key, "at+jwt", with("iat", json_integer(NOW + 3600))), "not valid yet");
	refused(v, sign(es_key, "at+jwt", with("iss", json_string("https://evil.test/t/acme"))),
		"another issuer");
	refused(v, sign(es_key, "at+jwt", with("aud", json_string("https://other.test"))),
		"not meant for this server");
	refused(v, sign(es_key, "at+jwt", with("aud", json_pack("[s]", "https://other.test"))),
		"not meant for this server");
	refused(v, sign(es_key, "at+jwt", with("client_id", NULL)), "client_id");
	refused(v, sign(es_key, "at+jwt", with("exp", NULL)), "dates");
	tessera_verifier_free(v);
}

static void test_bearer_header(void **state)
{
	tessera_verifier *v = verifier(false);
	char hdr[512];

	(void)state;
	/* typ: RFC 9068 access tokens only (not an ID token, not untyped). */
	refused(v, sign(es_key, "JWT", claims_ok()), "typ");
	refused(v, sign(es_key, NULL, claims_ok()), "typ");
	refused(v, sign(es_key, "AT+JWT", claims_ok()), "typ");
	/* kid is required. */
	refused(v, sign_raw(es_key, "{\"alg\":\"ES256\",\"typ\":\"at+jwt\"}", claims_ok(), NULL, 0),
		"kid");
	/* An unknown kid (the JWKS here is pinned: no refetch). */
	refused(v, sign(stranger, "at+jwt", claims_ok()), "unknown");
	/* The header's alg must be the key's: RS256 named with the ES256 key's
	 * kid, signed by an RSA key; and the other way round. */
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"RS256\",\"kid\":\"%s\",\"typ\":\"at+jwt\"}",
		 ts_jwk_kid(es_key));
	refused(v, sign_raw(rsa_key, hdr, claims_ok(), NULL, 0), "signature");
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\",\"typ\":\"at+jwt\"}",
		 ts_jwk_kid(rsa_key));
	refused(v, sign_raw(es_key, hdr, claims_ok(), NULL, 0), "signature");
	/* A correctly formed header signed by a key that is not the kid's. */
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\",\"typ\":\"at+jwt\"}",
		 ts_jwk_kid(es_key));
	refused(v, sign_raw(stranger, hdr, claims_ok(), NULL, 0), "signature");
	/* alg none, HS256 (keyed with the public key), an embedded key, crit. */
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"none\",\"kid\":\"%s\",\"typ\":\"at+jwt\"}",
		 ts_jwk_kid(es_key));
	refused(v, sign_raw(NULL, hdr, claims_ok(), NULL, 0), "malformed");
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"HS256\",\"kid\":\"%s\",\"typ\":\"at+jwt\"}",
		 ts_jwk_kid(es_key));
	refused(v, sign_raw(NULL, hdr, claims_ok(), (const unsigned char *)"0123456789abcdef0123456789abcdef", 32),
		"malformed");
	{
		json_t *pub = ts_jwk_public_json(stranger);
		char *jwk = json_dumps(pub, JSON_COMPACT);
		snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\",\"typ\":\"at+jwt\",\"jwk\":%s}",
			 ts_jwk_kid(es_key), jwk);
		refused(v, sign_raw(stranger, hdr, claims_ok(), NULL, 0), "malformed");
		free(jwk);
		json_decref(pub);
	}
	snprintf(hdr, sizeof(hdr),
		 "{\"alg\":\"ES256\",\"kid\":\"%s\",\"typ\":\"at+jwt\",\"crit\":[\"exp\"]}",
		 ts_jwk_kid(es_key));
	refused(v, sign_raw(es_key, hdr, claims_ok(), NULL, 0), "malformed");
	/* Control: the same hand-made path with a good header is accepted. */
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\",\"typ\":\"at+jwt\"}",
		 ts_jwk_kid(es_key));
	accepted(v, sign_raw(es_key, hdr, claims_ok(), NULL, 0));
	tessera_verifier_free(v);
}

static void test_bearer_signature(void **state)
{
	tessera_verifier *v = verifier(false);
	unsigned char zeros[TS_JWS_ES256_SIG_LEN] = {0};
	char hdr[256], *tok, *dot, *big;

	(void)state;
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\",\"typ\":\"at+jwt\"}",
		 ts_jwk_kid(es_key));
	refused(v, sign_raw(NULL, hdr, claims_ok(), zeros, sizeof(zeros)), "signature");
	/* A truncated signature. */
	tok = sign(es_key, "at+jwt", claims_ok());
	tok[strlen(tok) - 4] = '\0';
	refused(v, tok, "");
	/* No signature at all. */
	tok = sign(es_key, "at+jwt", claims_ok());
	dot = strrchr(tok, '.');
	dot[1] = '\0';
	refused(v, tok, "");
	/* A payload changed after signing: a claim swapped for another. */
	tok = sign(es_key, "at+jwt", claims_ok());
	{
		char *p1 = strchr(tok, '.') + 1, *p2 = strrchr(tok, '.');
		char *other = sign(es_key, "at+jwt", with("sub", json_string("admin")));
		char *o1 = strchr(other, '.') + 1, *o2 = strrchr(other, '.');
		struct ts_buf b;
		ts_buf_init(&b, BUF_MAX);
		ts_buf_append(&b, tok, (size_t)(p1 - tok));
		ts_buf_append(&b, o1, (size_t)(o2 - o1));
		ts_buf_appends(&b, p2);
		free(other);
		free(tok);
		refused(v, ts_buf_take(&b), "signature");
	}
	/* Oversized tokens are refused before parsing; an oversized header
	 * is a malformed request. */
	big = malloc(TS_LIB_AUTH_MAX + 16);
	memset(big, 'a', TS_LIB_AUTH_MAX + 15);
	big[TS_LIB_AUTH_MAX + 15] = '\0';
	big[100] = big[200] = '.';
	big[TS_JWS_MAX + 10] = '\0';
	refused(v, ts_xstrdup(big), "too large");
	big[TS_JWS_MAX + 10] = 'a';
	{
		struct tessera_principal *p = NULL;
		struct tessera_error e;
		assert_int_equal(verify_bearer(v, big, &p, &e), TESSERA_EDENIED);
		assert_int_equal(e.status, 400);
	}
	free(big);
	tessera_verifier_free(v);
}

static void test_errors(void **state)
{
	tessera_verifier *v = verifier(false);
	struct tessera_principal *p = NULL;
	struct tessera_error e;

	(void)state;
	/* RFC 6750 §3.1: no credential, no error code in the challenge. */
	assert_int_equal(tessera_verify(v, NULL, NULL, "GET", NULL, &p, &e), TESSERA_EDENIED);
	assert_null(p);
	assert_int_equal(e.status, 401);
	assert_string_equal(e.www_authenticate, "Bearer realm=\"" ISS "\"");
	assert_int_equal(tessera_verify(v, "", "other=1", "GET", NULL, &p, &e), TESSERA_EDENIED);
	assert_int_equal(e.status, 401);
	assert_null(strstr(e.www_authenticate, "error="));
	/* A malformed header: 400 invalid_request. */
	assert_int_equal(tessera_verify(v, "Digest x", NULL, "GET", NULL, &p, &e), TESSERA_EDENIED);
	assert_int_equal(e.status, 400);
	assert_string_equal(e.error, "invalid_request");
	assert_non_null(strstr(e.www_authenticate, "error=\"invalid_request\""));
	assert_int_equal(tessera_verify(v, "Bearer a b", NULL, "GET", NULL, &p, &e), TESSERA_EDENIED);
	assert_int_equal(e.status, 400);
	/* A garbage token: 401 invalid_token. */
	assert_int_equal(tessera_verify(v, "Bearer abc", NULL, "GET", NULL, &p, &e), TESSERA_EDENIED);
	assert_int_equal(e.status, 401);
	assert_string_equal(e.error, "invalid_token");
	/* Without introspection, API keys are refused and cookies ignored. */
	assert_int_equal(tessera_verify(v, "token tk_a:b", NULL, "GET", NULL, &p, &e),
			 TESSERA_EDENIED);
	assert_int_equal(e.status, 401);
	assert_string_equal(e.error, "invalid_token");
	assert_int_equal(tessera_verify(v, NULL, "tessera_session=AAAAAAAAAAAAAAAAAAAA", "GET", NULL,
					&p, &e), TESSERA_EDENIED);
	assert_int_equal(e.status, 401);
	assert_null(strstr(e.www_authenticate, "error="));
	/* err may be NULL; out may not. */
	assert_int_equal(tessera_verify(v, NULL, NULL, "GET", NULL, &p, NULL), TESSERA_EDENIED);
	assert_int_equal(tessera_verify(v, NULL, NULL, "GET", NULL, NULL, &e), TESSERA_EINVAL);
	assert_int_equal(tessera_verify(NULL, NULL, NULL, "GET", NULL, &p, &e), TESSERA_EINVAL);
	/* insufficient_scope (RFC 6750 §3.1) names the scope. */
	tessera_error_insufficient_scope(v, "tasks:write", &e);
	assert_int_equal(e.status, 403);
	assert_string_equal(e.error, "insufficient_scope");
	assert_string_equal(e.www_authenticate,
			    "Bearer realm=\"" ISS "\", error=\"insufficient_scope\", "
			    "error_description=\"the request needs the scope tasks:write\", "
			    "scope=\"tasks:write\"");
	tessera_error_insufficient_scope(v, "bad\"scope", &e);
	assert_null(strstr(e.www_authenticate, "bad"));
	tessera_error_insufficient_scope(v, "x", NULL);
	tessera_verifier_free(v);
}

static void test_verifier_config(void **state)
{
	struct tessera_verifier_config cfg = {.issuer = ISS};
	tessera_verifier *v = NULL;

	(void)state;
	assert_int_equal(tessera_verifier_new(NULL, &v), TESSERA_EINVAL);
	assert_int_equal(tessera_verifier_new(&cfg, NULL), TESSERA_EINVAL);
	cfg.issuer = NULL;
	assert_int_equal(tessera_verifier_new(&cfg, &v), TESSERA_EINVAL);
	cfg.issuer = "ftp://id.example.test";
	assert_int_equal(tessera_verifier_new(&cfg, &v), TESSERA_EINVAL);
	cfg.issuer = "https://id.example.test/t/a b";
	assert_int_equal(tessera_verifier_new(&cfg, &v), TESSERA_EINVAL);
	cfg.issuer = ISS;
	cfg.client_id = "only-the-id";
	assert_int_equal(tessera_verifier_new(&cfg, &v), TESSERA_EINVAL);
	cfg.client_id = NULL;
	cfg.leeway_s = -1;
	assert_int_equal(tessera_verifier_new(&cfg, &v), TESSERA_EINVAL);
	cfg.leeway_s = 0;
	cfg.http_timeout_ms = -5;
	assert_int_equal(tessera_verifier_new(&cfg, &v), TESSERA_EINVAL);
	assert_null(v);
	cfg.http_timeout_ms = 0;
	cfg.alt_session_cookie = "";
	assert_int_equal(tessera_verifier_new(&cfg, &v), TESSERA_EINVAL);
	cfg.alt_session_cookie = "sid;x=1";
	assert_int_equal(tessera_verifier_new(&cfg, &v), TESSERA_EINVAL);
	cfg.alt_session_cookie = "sid";
	assert_int_equal(tessera_verifier_new(&cfg, &v), TESSERA_OK);
	assert_string_equal(v->alt_cookie, "sid");
	tessera_verifier_free(v);
	cfg.alt_session_cookie = NULL;
	assert_int_equal(tessera_verifier_new(&cfg, &v), TESSERA_OK);
	assert_null(v->alt_cookie);
	/* Defaults: the audience is the issuer, leeway 60 s, JWKS 30 s / 300 s. */
	assert_string_equal(v->audience, ISS);
	assert_int_equal(v->leeway_s, 60);
	assert_int_equal(v->min_refresh_ms, 30000);
	assert_int_equal(v->max_age_ms, 300000);
	tessera_verifier_free(v);
	tessera_verifier_free(NULL);
	tessera_principal_free(NULL);
}

/* ---- API keys, sessions and users' tokens, answered from the cache ---- */

/* Puts Tessera's answer for (kind, cred) in v's cache: active with
 * token_type type (alice in tenant acme, holding the person scopes
 * "openid tasks:read tasks:write", with role and csrf if not NULL), or
 * inactive when type is NULL. */
static void prefill(tessera_verifier *v, const char *kind, const char *cred, const char *type,
		    const char *sub, const char *csrf, const char *role)
{
	unsigned char key[TS_SHA256_LEN];
	struct ts_lib_intro *r = NULL;
	json_t *o = json_pack("{s:b}", "active", type != NULL);
	char *text;

	if (type != NULL) {
		json_t *m = json_pack("{s:s,s:s,s:s,s:s,s:s,s:[],s:s}", "token_type", type, "sub",
				      sub, "username", "alice@acme.test", "principal_type", "user",
				      "tenant", "acme", "roles", "scope", "openid tasks:read tasks:write");
		json_object_update(o, m);
		json_decref(m);
		if (role)
			json_array_append_new(json_object_get(o, "roles"), json_string(role));
		if (csrf)
			json_object_set_new(o, "csrf_token", json_string(csrf));
	}
	text = json_dumps(o, JSON_COMPACT);
	assert_int_equal(ts_lib_intro_parse(text, strlen(text), &r), TS_OK);
	ts_lib_cache_key(kind, cred, key);
	ts_lib_cache_put(v->cache, key, mono_now, r);
	ts_lib_intro_free(r);
	free(text);
	json_decref(o);
}

static void test_apikey(void **state)
{
	tessera_verifier *v = verifier(true);
	struct tessera_principal *p = NULL;
	struct tessera_error e;

	(void)state;
	prefill(v, "api_key", "tk_abc:s3cret", "api_key", "u-1", NULL, "Sales User");
	prefill(v, "api_key", "tk_bad:nope", NULL, NULL, NULL, NULL);
	/* A session's answer is not an API key's. */
	prefill(v, "api_key", "tk_ses:x", "session", "u-1", "c", NULL);
	assert_int_equal(tessera_verify(v, "token tk_abc:s3cret", NULL, "POST", NULL, &p, &e),
			 TESSERA_OK);
	assert_int_equal(p->auth, TESSERA_AUTH_API_KEY);
	assert_int_equal(p->is_user, 1);
	assert_string_equal(p->sub, "u-1");
	assert_string_equal(p->username, "alice@acme.test");
	assert_string_equal(p->tenant, "acme");
	assert_null(p->client_id);
	assert_int_equal(p->nscopes, 3);
	assert_true(tessera_principal_has_role(p, "Sales User"));
	assert_false(tessera_principal_has_role(p, "Sales Manager"));
	/* A person acting directly holds the person scopes Tessera reported,
	 * and nothing else (a scope only services have is not theirs). */
	assert_true(tessera_principal_has_scope(v, p, "tasks:write"));
	assert_false(tessera_principal_has_scope(v, p, "groups:write"));
	tessera_principal_free(p);
	assert_int_equal(tessera_verify(v, "Basic dGtfYWJjOnMzY3JldA==", NULL, "GET", NULL, &p, &e),
			 TESSERA_OK);
	assert_int_equal(p->auth, TESSERA_AUTH_API_KEY);
	tessera_principal_free(p);
	assert_int_equal(tessera_verify(v, "token tk_bad:nope", NULL, "GET", NULL, &p, &e),
			 TESSERA_EDENIED);
	assert_int_equal(e.status, 401);
	assert_string_equal(e.error, "invalid_token");
	assert_int_equal(tessera_verify(v, "token tk_ses:x", NULL, "GET", NULL, &p, &e),
			 TESSERA_EDENIED);
	assert_int_equal(e.status, 401);
	/* Not cached: Tessera (a closed port here) is asked, and is down. */
	assert_int_equal(tessera_verify(v, "token tk_new:x", NULL, "GET", NULL, &p, &e),
			 TESSERA_EUNAVAILABLE);
	assert_int_equal(e.status, 503);
	assert_string_equal(e.www_authenticate, "");
	/* For a second, nobody asks again. */
	assert_int_equal(v->intro_failed_at, MONO_START);
	assert_int_equal(tessera_verify(v, "token tk_new2:x", NULL, "GET", NULL, &p, &e),
			 TESSERA_EUNAVAILABLE);
	/* Cached answers expire. */
	mono_now += 10000;
	assert_int_equal(tessera_verify(v, "token tk_abc:s3cret", NULL, "GET", NULL, &p, &e),
			 TESSERA_EUNAVAILABLE);
	tessera_verifier_free(v);
}

#define SID "Zm9vYmFyYmF6cXV4cXV1eHh5eg"
#define SID2 "b3RoZXJzZXNzaW9uaWRoZXJl"

static void test_session_csrf(void **state)
{
	static const char *const unsafe[] = {"POST", "PUT", "PATCH", "DELETE", "get", NULL};
	tessera_verifier *v = verifier(true);
	struct tessera_principal *p = NULL;
	struct tessera_error e;
	const char *cookie = "theme=dark; tessera_session=" SID "; lang=en";
	size_t i;

	(void)state;
	prefill(v, "session", SID, "session", "u-2", "csrf-token-value", "Sales Manager");
	prefill(v, "session", SID2, NULL, NULL, NULL, NULL);
	assert_int_equal(tessera_verify(v, NULL, cookie, "GET", NULL, &p, &e), TESSERA_OK);
	assert_int_equal(p->auth, TESSERA_AUTH_SESSION);
	assert_string_equal(p->sub, "u-2");
	assert_true(tessera_principal_has_role(p, "Sales Manager"));
	tessera_principal_free(p);
	assert_int_equal(tessera_verify(v, NULL, cookie, "HEAD", NULL, &p, &e), TESSERA_OK);
	tessera_principal_free(p);
	assert_int_equal(tessera_verify(v, NULL, cookie, "OPTIONS", NULL, &p, &e), TESSERA_OK);
	tessera_principal_free(p);
	/* State-changing methods (and an unknown one) need the CSRF token. */
	for (i = 0; i < TS_ARRAY_LEN(unsafe); i++) {
		assert_int_equal(tessera_verify(v, NULL, cookie, unsafe[i], NULL, &p, &e),
				 TESSERA_EDENIED);
		assert_null(p);
		assert_int_equal(e.status, 403);
		assert_string_equal(e.error, "csrf_failed");
		assert_int_equal(tessera_verify(v, NULL, cookie, unsafe[i], "csrf-token-valu", &p, &e),
				 TESSERA_EDENIED);
		assert_int_equal(e.status, 403);
		assert_int_equal(tessera_verify(v, NULL, cookie, unsafe[i], "", &p, &e),
				 TESSERA_EDENIED);
		assert_int_equal(tessera_verify(v, NULL, cookie, unsafe[i], "csrf-token-value", &p,
						&e), TESSERA_OK);
		tessera_principal_free(p);
	}
	/* A quoted cookie value is the same session. */
	assert_int_equal(tessera_verify(v, NULL, "tessera_session=\"" SID "\"", "GET", NULL, &p, &e),
			 TESSERA_OK);
	tessera_principal_free(p);
	/* An ended session, a malformed id, no session cookie: 401, no code. */
	assert_int_equal(tessera_verify(v, NULL, "tessera_session=" SID2, "GET", NULL, &p, &e),
			 TESSERA_EDENIED);
	assert_int_equal(e.status, 401);
	assert_string_equal(e.www_authenticate, "Bearer realm=\"" ISS "\"");
	assert_int_equal(tessera_verify(v, NULL, "tessera_session=tk_a:b", "GET", NULL, &p, &e),
			 TESSERA_EDENIED);
	assert_int_equal(e.status, 401);
	assert_int_equal(tessera_verify(v, NULL, "tessera_browser=" SID, "GET", NULL, &p, &e),
			 TESSERA_EDENIED);
	assert_int_equal(e.status, 401);
	/* A credential in Authorization wins over the cookie. */
	prefill(v, "api_key", "tk_abc:s3cret", "api_key", "u-1", NULL, NULL);
	assert_int_equal(tessera_verify(v, "token tk_abc:s3cret", cookie, "POST", NULL, &p, &e),
			 TESSERA_OK);
	assert_int_equal(p->auth, TESSERA_AUTH_API_KEY);
	tessera_principal_free(p);
	assert_int_equal(tessera_verify(v, "Bearer x.y.z", cookie, "GET", NULL, &p, &e),
			 TESSERA_EDENIED);
	assert_int_equal(e.status, 401);
	tessera_verifier_free(v);
}

static void test_bearer_user_roles(void **state)
{
	tessera_verifier *v = verifier(true);
	struct tessera_principal *p = NULL;
	struct tessera_error e;
	json_t *c = claims_ok();
	char *tok, *revoked, *other;

	(void)state;
	json_object_set_new(c, "sub", json_string("u-3"));
	json_object_set_new(c, "client_id", json_string("mobile"));
	tok = sign(es_key, "at+jwt", json_deep_copy(c));
	json_object_set_new(c, "jti", json_string("j2"));
	revoked = sign(es_key, "at+jwt", json_deep_copy(c));
	json_object_set_new(c, "jti", json_string("j3"));
	other = sign(es_key, "at+jwt", c);
	prefill(v, "bearer", tok, "Bearer", "u-3", NULL, "Sales User");
	prefill(v, "bearer", revoked, NULL, NULL, NULL, NULL);
	prefill(v, "bearer", other, "Bearer", "u-somebody-else", NULL, NULL);
	assert_int_equal(verify_bearer(v, tok, &p, &e), TESSERA_OK);
	assert_int_equal(p->is_user, 1);
	assert_string_equal(p->username, "alice@acme.test");
	assert_string_equal(p->tenant, "acme");
	assert_true(tessera_principal_has_role(p, "Sales User"));
	tessera_principal_free(p);
	refused(v, revoked, "revoked");
	refused(v, other, "revoked");
	/* A service token needs no introspection (nothing cached for it). */
	accepted(v, sign(es_key, "at+jwt", claims_ok()));
	free(tok);
	tessera_verifier_free(v);
}

/* ---- JWKS refetching, on a fake clock, against a closed port ---- */

static void test_jwks_refetch_limits(void **state)
{
	tessera_verifier *v = verifier(false);
	struct tessera_principal *p = NULL;
	struct tessera_error e;
	char *good = sign(es_key, "at+jwt", claims_ok());
	char *unknown = sign(stranger, "at+jwt", claims_ok());

	(void)state;
	/* Keys as if fetched at MONO_START, no longer pinned. */
	v->keys_pinned = false;
	/* An unknown kid refetches at once; Tessera is down: 503. */
	assert_int_equal(verify_bearer(v, unknown, &p, &e), TESSERA_EUNAVAILABLE);
	assert_int_equal(e.status, 503);
	assert_int_equal(v->keys_tried_at, MONO_START);
	/* Within jwks_min_refresh_s, another unknown kid does not refetch. */
	mono_now = MONO_START + 5000;
	assert_int_equal(verify_bearer(v, unknown, &p, &e), TESSERA_EDENIED);
	assert_int_equal(e.status, 401);
	assert_non_null(strstr(e.description, "unknown"));
	assert_int_equal(v->keys_tried_at, MONO_START);
	assert_int_equal(verify_bearer(v, good, &p, &e), TESSERA_OK);
	tessera_principal_free(p);
	/* After it, one more attempt. */
	mono_now = MONO_START + 31000;
	assert_int_equal(verify_bearer(v, unknown, &p, &e), TESSERA_EUNAVAILABLE);
	assert_int_equal(v->keys_tried_at, MONO_START + 31000);
	/* Past jwks_max_age_s the set is refetched; while that fails, known
	 * kids keep working for another jwks_max_age_s, then 503. */
	mono_now = MONO_START + 301000;
	assert_int_equal(verify_bearer(v, good, &p, &e), TESSERA_OK);
	tessera_principal_free(p);
	assert_int_equal(v->keys_tried_at, MONO_START + 301000);
	mono_now = MONO_START + 601000;
	assert_int_equal(verify_bearer(v, good, &p, &e), TESSERA_EUNAVAILABLE);
	assert_int_equal(e.status, 503);
	free(good);
	free(unknown);
	tessera_verifier_free(v);
}

static void test_unreachable(void **state)
{
	struct tessera_verifier_config cfg = {.issuer = CLOSED "/t/acme", .http_timeout_ms = 2000};
	tessera_verifier *v = NULL;
	struct tessera_principal *p = NULL;
	struct tessera_error e;
	char *tok = sign(es_key, "at+jwt", claims_ok());

	(void)state;
	assert_int_equal(tessera_verifier_new(&cfg, &v), TESSERA_OK);
	assert_int_equal(verify_bearer(v, tok, &p, &e), TESSERA_EUNAVAILABLE);
	assert_int_equal(e.status, 503);
	assert_string_equal(e.error, "temporarily_unavailable");
	assert_null(p);
	/* Moments later, no new attempt: still 503, at once. */
	assert_int_equal(verify_bearer(v, tok, &p, &e), TESSERA_EUNAVAILABLE);
	free(tok);
	tessera_verifier_free(v);
}

static void test_jwks_parse(void **state)
{
	struct ts_lib_keys *ks = NULL;
	json_t *pub = ts_jwk_public_json(es_key), *set;
	char *text;

	(void)state;
	/* Unusable entries are skipped; a repeated kid keeps the first. */
	json_object_del(pub, "alg");
	set = json_pack("{s:[{s:s},o,o,o]}", "keys", "kty", "oct", pub, ts_jwk_public_json(rsa_key),
			ts_jwk_public_json(stranger));
	json_object_set_new(json_array_get(json_object_get(set, "keys"), 3), "kid",
			    json_string(ts_jwk_kid(rsa_key)));
	text = json_dumps(set, JSON_COMPACT);
	assert_int_equal(ts_lib_keys_parse(text, strlen(text), &ks), TS_OK);
	assert_int_equal(ks->n, 1);
	assert_non_null(ts_lib_keys_find(ks, ts_jwk_kid(rsa_key)));
	assert_int_equal(ts_jwk_alg(ts_lib_keys_find(ks, ts_jwk_kid(rsa_key))), TS_ALG_RS256);
	assert_null(ts_lib_keys_find(ks, ts_jwk_kid(es_key)));
	assert_null(ts_lib_keys_find(ks, NULL));
	ts_lib_keys_unref(ks);
	free(text);
	json_decref(set);
	assert_int_equal(ts_lib_keys_parse("{\"keys\":{}}", 11, &ks), TS_EINVAL);
	assert_int_equal(ts_lib_keys_parse("[]", 2, &ks), TS_EINVAL);
	assert_null(ks);
}

/* ---- many threads on one verifier ---- */

#define N_THREADS 8
#define ROUNDS 200

struct worker {
	tessera_verifier *v;
	const char *good, *bad;
	int failures;
};

static void *verify_many(void *arg)
{
	struct worker *w = arg;
	struct tessera_principal *p = NULL;
	struct tessera_error e;
	int i;

	for (i = 0; i < ROUNDS; i++) {
		if (verify_bearer(w->v, w->good, &p, &e) != TESSERA_OK ||
		    !tessera_principal_has_scope(w->v, p, "groups:read"))
			w->failures++;
		tessera_principal_free(p);
		p = NULL;
		if (verify_bearer(w->v, w->bad, &p, &e) != TESSERA_EDENIED)
			w->failures++;
		if (tessera_verify(w->v, "token tk_abc:s3cret", NULL, "GET", NULL, &p, &e) != TESSERA_OK)
			w->failures++;
		tessera_principal_free(p);
		p = NULL;
	}
	return NULL;
}

static void test_threads(void **state)
{
	tessera_verifier *v = verifier(true);
	struct worker w[N_THREADS];
	pthread_t t[N_THREADS];
	char *good = sign(es_key, "at+jwt", claims_ok());
	char *bad = sign(es_key, "at+jwt", with("aud", json_string("https://other.test")));
	size_t i;

	(void)state;
	prefill(v, "api_key", "tk_abc:s3cret", "api_key", "u-1", NULL, "Sales User");
	for (i = 0; i < N_THREADS; i++) {
		w[i] = (struct worker){v, good, bad, 0};
		assert_int_equal(pthread_create(&t[i], NULL, verify_many, &w[i]), 0);
	}
	/* Meanwhile the key set and discovery are replaced under them. */
	for (i = 0; i < 20; i++) {
		assert_int_equal(ts_lib_verifier_set_keys(v, jwks_text), TS_OK);
		assert_int_equal(ts_lib_verifier_set_discovery(v, DISCOVERY), TS_OK);
	}
	for (i = 0; i < N_THREADS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].failures, 0);
	}
	free(good);
	free(bad);
	tessera_verifier_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jwks_parse),
		cmocka_unit_test(test_claims_table),
		cmocka_unit_test(test_bearer_service),
		cmocka_unit_test(test_bearer_user_without_introspection),
		cmocka_unit_test(test_bearer_claims),
		cmocka_unit_test(test_bearer_header),
		cmocka_unit_test(test_bearer_signature),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_verifier_config),
		cmocka_unit_test(test_apikey),
		cmocka_unit_test(test_session_csrf),
		cmocka_unit_test(test_bearer_user_roles),
		cmocka_unit_test(test_jwks_refetch_limits),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
