/* test_tenant.c: the tenant snapshot and the administrative validators
 * (src/tenant): scope expansion (transitive includes, cycles, undefined
 * names) with ts_scope_satisfies and ts_client_scope_allowed, client
 * secret hashing and checking, tenant names, issuer formation, and the
 * error messages of ts_admin_tenant_validate / ts_admin_client_validate.
 * Snapshots are built with ts_snapshot_load from a temporary SQLite store
 * populated through ts_admin_tenant_apply and ts_admin_client_apply. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin/admin.h"
#include "tenant/tenant.h"
#include "store/store_config.h"

#define MK_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define PUBLIC_URL "https://id.example.test/"
#define ISSUER "https://id.example.test/t/acme"
#define SECRET "client-secret-0123456789abcdefghijkl"
#define ERR_CAP 512

/* ---- fixture: a store with tenant acme and a snapshot of it ---- */

static const char *const TENANT_JSON =
	"{\"name\":\"acme\",\"display_name\":\"Acme\",\"audience\":\"https://api.acme.test\","
	"\"roles\":[\"Sales User\"],\"api_key_roles\":[\"Sales User\"],"
	"\"scopes\":["
	/* a chain: a -> b -> c -> d, so a satisfies d only transitively */
	"{\"name\":\"a\",\"includes\":[\"b\"]},{\"name\":\"b\",\"includes\":[\"c\"]},"
	"{\"name\":\"c\",\"includes\":[\"d\"]},{\"name\":\"d\"},"
	/* a cycle: x -> y -> z -> x */
	"{\"name\":\"x\",\"includes\":[\"y\"]},{\"name\":\"y\",\"includes\":[\"z\"]},"
	"{\"name\":\"z\",\"includes\":[\"x\"]},"
	/* including itself, and a name that is not defined */
	"{\"name\":\"self\",\"includes\":[\"self\",\"ghost\"]},"
	"{\"name\":\"groups:read\"},{\"name\":\"members:read\"},{\"name\":\"groups:write\"},"
	"{\"name\":\"groups:admin\",\"includes\":[\"groups:read\",\"groups:write\",\"members:read\"]},"
	"{\"name\":\"super\",\"includes\":[\"groups:admin\",\"a\"]}"
	"]}";

struct fx {
	char dir[PATH_MAX];
	struct ts_store *st;
	struct ts_master_key mk;
	struct ts_admin a;
	struct ts_snapshot *snap;
	const struct ts_tenant *t;
};

static void apply_json(struct fx *fx, const char *tenant, const char *json, bool client)
{
	json_t *spec = json_loads(json, 0, NULL);
	const char *result = NULL;
	char err[ERR_CAP] = "", *secret = NULL;
	int rc;

	assert_non_null(spec);
	rc = client ? ts_admin_client_apply(&fx->a, tenant, spec, &result, &secret, err, sizeof(err))
		    : ts_admin_tenant_apply(&fx->a, spec, &result, err, sizeof(err));
	if (rc != TS_OK)
		fail_msg("apply %s: %s", json, err);
	ts_free_secret(secret);
	json_decref(spec);
}

static int group_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	const char *tmp = getenv("TMPDIR");
	char url[PATH_MAX + 32];

	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "%s/ts-tenant-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(url, sizeof(url), "sqlite:%s/t.db", fx->dir);
	if (ts_store_open(url, &fx->st) != TS_OK || ts_master_key_parse(MK_HEX, &fx->mk) != TS_OK)
		return -1;
	fx->a.store = fx->st;
	fx->a.mk = &fx->mk;
	fx->a.public_url = PUBLIC_URL;
	fx->a.actor = "test";
	*state = fx;
	apply_json(fx, NULL, TENANT_JSON, false);
	apply_json(fx, "acme",
		   "{\"client_id\":\"svc\",\"type\":\"confidential\",\"secret\":\"" SECRET "\","
		   "\"scopes\":[\"a\",\"groups:admin\"]}",
		   true);
	apply_json(fx, "acme",
		   "{\"client_id\":\"looper\",\"secret\":\"" SECRET "\",\"scopes\":[\"y\"]}", true);
	apply_json(fx, "acme",
		   "{\"client_id\":\"app\",\"type\":\"public\",\"redirect_uris\":[\"app.acme://cb\"],"
		   "\"scopes\":[\"openid\",\"self\"]}",
		   true);
	if (ts_snapshot_load(fx->st, PUBLIC_URL, &fx->mk, 1, NULL, NULL, &fx->snap) != TS_OK)
		return -1;
	fx->t = ts_snapshot_tenant(fx->snap, "acme");
	return fx->t ? 0 : -1;
}

static int group_teardown(void **state)
{
	struct fx *fx = *state;
	DIR *d;
	struct dirent *e;
	char p[PATH_MAX * 2];

	ts_snapshot_free(fx->snap);
	ts_store_close(fx->st);
	if ((d = opendir(fx->dir)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", fx->dir, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(fx->dir);
	free(fx);
	return 0;
}

/* ---- the snapshot ---- */

static void test_snapshot_tenant(void **state)
{
	struct fx *fx = *state;
	const struct ts_tenant *t = fx->t;

	assert_string_equal(t->name, "acme");
	assert_string_equal(t->display_name, "Acme");
	assert_string_equal(t->issuer, ISSUER);
	assert_string_equal(t->audience, "https://api.acme.test");
	assert_int_equal(t->access_token_ttl, TS_DEFAULT_ACCESS_TTL);
	assert_int_equal(t->refresh_token_ttl, TS_DEFAULT_REFRESH_TTL);
	assert_int_equal(t->code_ttl, TS_DEFAULT_CODE_TTL);
	assert_int_equal(t->access_token_alg, TS_ALG_ES256);
	assert_int_equal(t->napi_key_roles, 1);
	assert_string_equal(t->api_key_roles[0], "Sales User");
	/* A current and a next key for ES256, RS256 and EdDSA, all in JWKS;
	 * the current ones are kept for verification, and those of the
	 * algorithms the tenant signs with (ES256 access tokens, RS256 ID
	 * tokens of the public client) sign (the master key opened them). */
	assert_int_equal(t->nkeys, 3);
	assert_non_null(t->signer[TS_ALG_ES256]);
	assert_non_null(t->signer[TS_ALG_RS256]);
	assert_null(t->signer[TS_ALG_EDDSA]);
	assert_null(t->signer[TS_ALG_PS256]);
	assert_non_null(ts_tenant_key(t, t->keys[0].kid));
	assert_null(ts_tenant_key(t, "no-such-kid"));
	assert_null(ts_tenant_key(t, NULL));
	assert_null(ts_snapshot_tenant(fx->snap, "beta"));
	assert_null(ts_snapshot_tenant(fx->snap, NULL));
	/* Clients are sorted and found by id. */
	assert_int_equal(t->nclients, 3);
	assert_string_equal(t->clients[0]->client_id, "app");
	assert_string_equal(t->clients[2]->client_id, "svc");
	assert_true(ts_tenant_client(t, "svc")->confidential);
	assert_false(ts_tenant_client(t, "app")->confidential);
	assert_null(ts_tenant_client(t, "ap"));
	assert_null(ts_tenant_client(t, NULL));
	assert_null(ts_tenant_client(t, "app")->secret_hash);
	assert_non_null(ts_tenant_client(t, "svc")->secret_hash);
}

static void test_snapshot_without_master_key(void **state)
{
	struct fx *fx = *state;
	struct ts_snapshot *s = NULL;
	const struct ts_tenant *t;

	/* The public halves are still published, but nothing can sign. */
	assert_int_equal(ts_snapshot_load(fx->st, "http://127.0.0.1:8080", NULL, 0, NULL, NULL, &s),
			 TS_OK);
	t = ts_snapshot_tenant(s, "acme");
	assert_non_null(t);
	assert_string_equal(t->issuer, "http://127.0.0.1:8080/t/acme");
	assert_int_equal(t->nkeys, 3);
	assert_null(t->signer[TS_ALG_ES256]);
	assert_null(t->signer[TS_ALG_RS256]);
	assert_non_null(strstr(t->jwks_json, "\"keys\""));
	assert_null(strstr(t->jwks_json, "\"d\""));
	ts_snapshot_free(s);
}

/* ---- scopes ---- */

/* Whether the expanded includes of scope name list inc. */
static bool includes(const struct ts_tenant *t, const char *name, const char *inc)
{
	const struct ts_scope_def *d = ts_tenant_scope(t, name);
	size_t i;

	assert_non_null(d);
	for (i = 0; i < d->nincludes; i++)
		if (strcmp(d->includes[i], inc) == 0)
			return true;
	return false;
}

static void test_scope_transitive(void **state)
{
	const struct ts_tenant *t = ((struct fx *)*state)->t;

	assert_true(ts_scope_satisfies(t, "a", "a"));
	assert_true(ts_scope_satisfies(t, "a", "b"));
	assert_true(ts_scope_satisfies(t, "a", "c"));
	assert_true(ts_scope_satisfies(t, "a", "d"));
	assert_true(ts_scope_satisfies(t, "b", "d"));
	assert_int_equal(ts_tenant_scope(t, "a")->nincludes, 3);
	/* Inclusion goes one way. */
	assert_false(ts_scope_satisfies(t, "d", "c"));
	assert_false(ts_scope_satisfies(t, "b", "a"));
	assert_false(ts_scope_satisfies(t, "d", "a"));
	/* Through two levels of named bundles. */
	assert_true(ts_scope_satisfies(t, "super", "groups:admin"));
	assert_true(ts_scope_satisfies(t, "super", "members:read"));
	assert_true(ts_scope_satisfies(t, "super", "d"));
	assert_false(ts_scope_satisfies(t, "super", "x"));
	assert_true(ts_scope_satisfies(t, "groups:admin", "groups:read"));
	assert_true(ts_scope_satisfies(t, "groups:admin", "groups:write"));
	assert_true(ts_scope_satisfies(t, "groups:admin", "members:read"));
	assert_false(ts_scope_satisfies(t, "groups:read", "members:read"));
	assert_false(ts_scope_satisfies(t, "groups:write", "groups:read"));
	/* Names are compared exactly. */
	assert_false(ts_scope_satisfies(t, "groups:admin", "groups:rea"));
	assert_false(ts_scope_satisfies(t, "groups:admin", "Groups:read"));
	assert_false(ts_scope_satisfies(t, "groups", "groups:read"));
	/* Undefined scopes satisfy only themselves. */
	assert_true(ts_scope_satisfies(t, "unknown", "unknown"));
	assert_false(ts_scope_satisfies(t, "unknown", "a"));
	assert_null(ts_tenant_scope(t, "unknown"));
}

static void test_scope_cycles(void **state)
{
	const struct ts_tenant *t = ((struct fx *)*state)->t;
	const char *const ring[] = {"x", "y", "z"};
	size_t i, j;

	/* The snapshot was built (the expansion ended); every member of the
	 * ring satisfies every other, and none lists itself. */
	for (i = 0; i < 3; i++) {
		for (j = 0; j < 3; j++)
			assert_true(ts_scope_satisfies(t, ring[i], ring[j]));
		assert_false(includes(t, ring[i], ring[i]));
		assert_int_equal(ts_tenant_scope(t, ring[i])->nincludes, 2);
		assert_false(ts_scope_satisfies(t, ring[i], "a"));
	}
	/* A scope that includes itself, and one that is not defined. */
	assert_true(ts_scope_satisfies(t, "self", "self"));
	assert_true(ts_scope_satisfies(t, "self", "ghost"));
	assert_false(ts_scope_satisfies(t, "ghost", "self"));
	assert_int_equal(ts_tenant_scope(t, "self")->nincludes, 2);
}

static void test_scope_cycles_by_hand(void **state)
{
	/* A snapshot the loader did not expand: ts_scope_satisfies looks one
	 * level deep into what it is given and never loops. */
	char *inc_p[] = {"q"}, *inc_q[] = {"p"};
	struct ts_scope_def defs[] = {{"p", inc_p, 1, NULL}, {"q", inc_q, 1, NULL}};
	struct ts_tenant t;

	(void)state;
	memset(&t, 0, sizeof(t));
	t.scopes = defs;
	t.nscopes = 2;
	assert_true(ts_scope_satisfies(&t, "p", "q"));
	assert_true(ts_scope_satisfies(&t, "q", "p"));
	assert_false(ts_scope_satisfies(&t, "p", "r"));
	assert_non_null(ts_tenant_scope(&t, "q"));
	assert_null(ts_tenant_scope(&t, "r"));
}

static void test_client_scope_allowed(void **state)
{
	const struct ts_tenant *t = ((struct fx *)*state)->t;
	const struct ts_client *svc = ts_tenant_client(t, "svc");
	const struct ts_client *looper = ts_tenant_client(t, "looper");
	const struct ts_client *app = ts_tenant_client(t, "app");

	assert_non_null(svc);
	assert_non_null(looper);
	assert_non_null(app);
	/* svc lists a and groups:admin. */
	assert_true(ts_client_scope_allowed(t, svc, "a"));
	assert_true(ts_client_scope_allowed(t, svc, "d"));
	assert_true(ts_client_scope_allowed(t, svc, "groups:admin"));
	assert_true(ts_client_scope_allowed(t, svc, "groups:read"));
	assert_true(ts_client_scope_allowed(t, svc, "members:read"));
	assert_false(ts_client_scope_allowed(t, svc, "super"));
	assert_false(ts_client_scope_allowed(t, svc, "x"));
	assert_false(ts_client_scope_allowed(t, svc, "openid"));
	/* looper lists y, inside the ring. */
	assert_true(ts_client_scope_allowed(t, looper, "x"));
	assert_true(ts_client_scope_allowed(t, looper, "z"));
	assert_false(ts_client_scope_allowed(t, looper, "a"));
	/* app lists an undefined scope (openid) and self. */
	assert_true(ts_client_scope_allowed(t, app, "openid"));
	assert_true(ts_client_scope_allowed(t, app, "ghost"));
	assert_false(ts_client_scope_allowed(t, app, "profile"));
}

/* ---- client secrets ---- */

static void test_client_secret_hash(void **state)
{
	struct ts_client c;
	char *h1 = NULL, *h2 = NULL;
	size_t i;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(ts_client_secret_hash(SECRET, &h1), TS_OK);
	assert_int_equal(ts_client_secret_hash(SECRET, &h2), TS_OK);
	/* "sha256$" 32 hex (salt) "$" 64 hex (digest) */
	assert_int_equal(strlen(h1), 7 + 32 + 1 + 64);
	assert_memory_equal(h1, "sha256$", 7);
	assert_int_equal(h1[39], '$');
	for (i = 7; i < strlen(h1); i++)
		if (i != 39)
			assert_non_null(strchr("0123456789abcdef", h1[i]));
	assert_string_not_equal(h1, h2); /* salted */
	assert_null(strstr(h1, SECRET));
	c.secret_hash = h1;
	assert_true(ts_client_secret_ok(&c, SECRET, strlen(SECRET)));
	c.secret_hash = h2;
	assert_true(ts_client_secret_ok(&c, SECRET, strlen(SECRET)));
	/* Wrong, shorter, longer, case-changed, empty, NULL. */
	assert_false(ts_client_secret_ok(&c, "client-secret-0123456789abcdefghijkm", strlen(SECRET)));
	assert_false(ts_client_secret_ok(&c, SECRET, strlen(SECRET) - 1));
	assert_false(ts_client_secret_ok(&c, SECRET "x", strlen(SECRET) + 1));
	assert_false(ts_client_secret_ok(&c, "CLIENT-secret-0123456789abcdefghijkl", strlen(SECRET)));
	assert_false(ts_client_secret_ok(&c, "", 0));
	assert_false(ts_client_secret_ok(&c, NULL, 0));
	/* The length given counts: a secret with an embedded NUL is not the
	 * prefix before it. */
	{
		char buf[64];
		memcpy(buf, SECRET, strlen(SECRET));
		buf[strlen(SECRET)] = '\0';
		buf[strlen(SECRET) + 1] = 'x';
		assert_false(ts_client_secret_ok(&c, buf, strlen(SECRET) + 2));
	}
	free(h1);
	free(h2);
}

static void test_client_secret_malformed(void **state)
{
	struct ts_client c;
	char *h = NULL, bad[160];
	size_t n;

	(void)state;
	memset(&c, 0, sizeof(c));
	/* A public client has no hash: nothing matches. */
	assert_false(ts_client_secret_ok(&c, SECRET, strlen(SECRET)));
	assert_int_equal(ts_client_secret_hash(SECRET, &h), TS_OK);
	n = strlen(h);
	c.secret_hash = bad;
	/* Another algorithm name. */
	snprintf(bad, sizeof(bad), "sha512%s", h + 6);
	assert_false(ts_client_secret_ok(&c, SECRET, strlen(SECRET)));
	/* Truncated, and one character too long. */
	snprintf(bad, sizeof(bad), "%.*s", (int)n - 1, h);
	assert_false(ts_client_secret_ok(&c, SECRET, strlen(SECRET)));
	snprintf(bad, sizeof(bad), "%s0", h);
	assert_false(ts_client_secret_ok(&c, SECRET, strlen(SECRET)));
	/* Not hex (salt, then digest), at the right length. */
	snprintf(bad, sizeof(bad), "%s", h);
	bad[10] = 'g';
	assert_false(ts_client_secret_ok(&c, SECRET, strlen(SECRET)));
	snprintf(bad, sizeof(bad), "%s", h);
	bad[n - 1] = 'z';
	assert_false(ts_client_secret_ok(&c, SECRET, strlen(SECRET)));
	/* The digest changed by one nibble. */
	snprintf(bad, sizeof(bad), "%s", h);
	bad[n - 1] = bad[n - 1] == '0' ? '1' : '0';
	assert_false(ts_client_secret_ok(&c, SECRET, strlen(SECRET)));
	/* The salt changed by one nibble. */
	snprintf(bad, sizeof(bad), "%s", h);
	bad[7] = bad[7] == '0' ? '1' : '0';
	assert_false(ts_client_secret_ok(&c, SECRET, strlen(SECRET)));
	/* The separator moved. */
	snprintf(bad, sizeof(bad), "%s", h);
	bad[39] = 'a';
	bad[40] = '$';
	assert_false(ts_client_secret_ok(&c, SECRET, strlen(SECRET)));
	/* Plain text, or an empty string, stored by mistake. */
	c.secret_hash = SECRET;
	assert_false(ts_client_secret_ok(&c, SECRET, strlen(SECRET)));
	c.secret_hash = "";
	assert_false(ts_client_secret_ok(&c, "", 0));
	/* Intact, it still matches. */
	c.secret_hash = h;
	assert_true(ts_client_secret_ok(&c, SECRET, strlen(SECRET)));
	free(h);
}

/* ---- names and issuers ---- */

static void test_tenant_name_ok(void **state)
{
	static const char *const good[] = {"acme", "a", "0", "a-b-c", "acme-2", "-",
					   "abcdefghijklmnopqrstuvwxyz0123456789-abcdefghijklmnopqrstuvwxyz"};
	static const char *const bad[] = {"", "Acme", "ac_me", "ac me", "acme.test", "acme/x",
					  "ac\xc3\xa9me", "acme\n", "t/acme",
					  "abcdefghijklmnopqrstuvwxyz0123456789-abcdefghijklmnopqrstuvwxyz0"};
	size_t i;

	(void)state;
	assert_int_equal(strlen(good[TS_ARRAY_LEN(good) - 1]), TS_TENANT_NAME_MAX);
	assert_int_equal(strlen(bad[TS_ARRAY_LEN(bad) - 1]), TS_TENANT_NAME_MAX + 1);
	for (i = 0; i < TS_ARRAY_LEN(good); i++)
		if (!ts_tenant_name_ok(good[i]))
			fail_msg("\"%s\" should be a valid tenant name", good[i]);
	for (i = 0; i < TS_ARRAY_LEN(bad); i++)
		if (ts_tenant_name_ok(bad[i]))
			fail_msg("\"%s\" should not be a valid tenant name", bad[i]);
	assert_false(ts_tenant_name_ok(NULL));
}

static void test_tenant_issuer(void **state)
{
	static const char *const cases[][3] = {
		{"http://127.0.0.1:8080", "acme", "http://127.0.0.1:8080/t/acme"},
		{"https://id.example.test/", "acme", "https://id.example.test/t/acme"},
		{"https://id.example.test///", "beta", "https://id.example.test/t/beta"},
		{"https://example.test/auth", "acme", "https://example.test/auth/t/acme"},
		{"https://example.test/auth/", "a-1", "https://example.test/auth/t/a-1"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < TS_ARRAY_LEN(cases); i++) {
		char *s = ts_tenant_issuer(cases[i][0], cases[i][1]);
		assert_non_null(s);
		assert_string_equal(s, cases[i][2]);
		free(s);
	}
}

/* ---- validators ---- */

static void expect_err(int (*validate)(const json_t *, char *, size_t), const char *json,
		       const char *needle)
{
	json_t *spec = json_loads(json, JSON_DECODE_ANY, NULL);
	char err[ERR_CAP] = "";

	assert_non_null(spec);
	if (validate(spec, err, sizeof(err)) != TS_EINVAL)
		fail_msg("%s should be refused", json);
	if (strstr(err, needle) == NULL)
		fail_msg("error \"%s\" does not mention \"%s\" (spec %s)", err, needle, json);
	json_decref(spec);
}

static void expect_ok(int (*validate)(const json_t *, char *, size_t), const char *json)
{
	json_t *spec = json_loads(json, 0, NULL);
	char err[ERR_CAP] = "";

	assert_non_null(spec);
	if (validate(spec, err, sizeof(err)) != TS_OK)
		fail_msg("%s refused: %s", json, err);
	assert_string_equal(err, "");
	json_decref(spec);
}

static void test_tenant_validate(void **state)
{
	(void)state;
	expect_ok(ts_admin_tenant_validate, TENANT_JSON);
	expect_ok(ts_admin_tenant_validate, "{\"name\":\"acme\"}");
	expect_err(ts_admin_tenant_validate, "{\"name\":\"acme\",\"colour\":\"red\"}",
		   "unknown field \"colour\" in tenant");
	/* users, clients etc. belong to the bootstrap file, not to this spec. */
	expect_err(ts_admin_tenant_validate, "{\"name\":\"acme\",\"users\":[]}",
		   "unknown field \"users\" in tenant");
	expect_err(ts_admin_tenant_validate, "{\"name\":\"acme\",\"Name\":\"acme\"}",
		   "unknown field \"Name\"");
	expect_err(ts_admin_tenant_validate,
		   "{\"name\":\"acme\",\"scopes\":[{\"name\":\"s\",\"inclues\":[\"x\"]}]}",
		   "unknown field \"inclues\" in scope");
	expect_err(ts_admin_tenant_validate, "{\"name\":\"Acme\"}", "[a-z0-9-]{1,63}");
	expect_err(ts_admin_tenant_validate, "{\"display_name\":\"x\"}", "[a-z0-9-]{1,63}");
	expect_err(ts_admin_tenant_validate, "[]", "JSON object");
	expect_err(ts_admin_tenant_validate, "{\"name\":\"acme\",\"access_token_ttl\":0}",
		   "access_token_ttl");
	expect_err(ts_admin_tenant_validate, "{\"name\":\"acme\",\"access_token_alg\":\"HS256\"}",
		   "access_token_alg");
	expect_err(ts_admin_tenant_validate,
		   "{\"name\":\"acme\",\"scopes\":[{\"name\":\"bad scope\"}]}", "scope");
	expect_err(ts_admin_tenant_validate, "{\"name\":\"acme\",\"roles\":\"Admin\"}", "roles");
}

/* key_rotation: 0, or whole seconds from a retired key's stay in JWKS,
 * max(TTL, 1 h) + 300 s, to ten years; the message states the tenant's own
 * shortest value. */
static void test_tenant_key_rotation(void **state)
{
	(void)state;
	expect_ok(ts_admin_tenant_validate, "{\"name\":\"acme\",\"key_rotation\":0}");
	expect_ok(ts_admin_tenant_validate, "{\"name\":\"acme\",\"key_rotation\":3900}");
	expect_err(ts_admin_tenant_validate, "{\"name\":\"acme\",\"key_rotation\":3600}",
		   "between 3900 and 315360000: a retired key stays in JWKS for "
		   "\"access_token_ttl\" (at least 3600 s) plus 300 s");
	expect_err(ts_admin_tenant_validate,
		   "{\"name\":\"acme\",\"key_rotation\":86400,\"access_token_ttl\":86400}",
		   "between 86700 and 315360000");
	expect_err(ts_admin_tenant_validate,
		   "{\"name\":\"acme\",\"key_rotation\":59,\"access_token_ttl\":7200}",
		   "between 7500 and 315360000");
	expect_ok(ts_admin_tenant_validate,
		  "{\"name\":\"acme\",\"key_rotation\":86700,\"access_token_ttl\":86400}");
	expect_ok(ts_admin_tenant_validate,
		  "{\"name\":\"acme\",\"key_rotation\":0,\"access_token_ttl\":86400}");
	expect_ok(ts_admin_tenant_validate, "{\"name\":\"acme\",\"key_rotation\":315360000}");
	expect_err(ts_admin_tenant_validate, "{\"name\":\"acme\",\"key_rotation\":3599}",
		   "\"key_rotation\" must be 0 (rotation by hand only) or a number of seconds "
		   "between 3900 and 315360000");
	expect_err(ts_admin_tenant_validate, "{\"name\":\"acme\",\"key_rotation\":315360001}",
		   "key_rotation");
	expect_err(ts_admin_tenant_validate, "{\"name\":\"acme\",\"key_rotation\":-1}",
		   "key_rotation");
	expect_err(ts_admin_tenant_validate, "{\"name\":\"acme\",\"key_rotation\":\"90d\"}",
		   "key_rotation");
	expect_err(ts_admin_tenant_validate, "{\"name\":\"acme\",\"key_rotation\":3600.0}",
		   "key_rotation");
	expect_err(ts_admin_tenant_validate, "{\"name\":\"acme\",\"key_rotation\":null}",
		   "key_rotation");
}

static void test_client_validate(void **state)
{
	(void)state;
	expect_ok(ts_admin_client_validate, "{\"client_id\":\"svc\"}");
	expect_ok(ts_admin_client_validate,
		  "{\"client_id\":\"svc\",\"secret\":\"" SECRET "\",\"scopes\":[\"a\"]}");
	expect_err(ts_admin_client_validate, "{\"client_id\":\"svc\",\"scope\":\"a\"}",
		   "unknown field \"scope\" in client");
	expect_err(ts_admin_client_validate,
		   "{\"client_id\":\"svc\",\"redirect_uri\":\"https://x.test/cb\"}",
		   "unknown field \"redirect_uri\" in client");
	expect_err(ts_admin_client_validate, "{\"client_id\":\"svc\",\"client_secret\":\"x\"}",
		   "unknown field \"client_secret\" in client");
	expect_err(ts_admin_client_validate, "{\"name\":\"no id\"}", "client_id");
	expect_err(ts_admin_client_validate, "{\"client_id\":\"a:b\"}", "client_id");
	expect_err(ts_admin_client_validate, "\"svc\"", "JSON object");
	expect_err(ts_admin_client_validate, "{\"client_id\":\"svc\",\"secret\":\"short\"}",
		   "at least 32 characters");
	expect_err(ts_admin_client_validate,
		   "{\"client_id\":\"app\",\"type\":\"public\",\"secret\":\"" SECRET "\"}",
		   "public client has no secret");
	expect_err(ts_admin_client_validate,
		   "{\"client_id\":\"app\",\"type\":\"public\",\"grant_types\":[\"client_credentials\"]}",
		   "client_credentials");
	expect_err(ts_admin_client_validate,
		   "{\"client_id\":\"web\",\"grant_types\":[\"authorization_code\"]}",
		   "redirect_uri");
	expect_err(ts_admin_client_validate, "{\"client_id\":\"svc\",\"type\":\"trusted\"}",
		   "\"public\" or \"confidential\"");
}

static void test_apply_validates_first(void **state)
{
	struct fx *fx = *state;
	json_t *spec = json_loads("{\"name\":\"gamma\",\"colour\":\"red\"}", 0, NULL);
	struct ts_tenant_rec *t = NULL;
	const char *result = NULL;
	char err[ERR_CAP] = "", *secret = NULL;

	/* A refused spec writes nothing. */
	assert_int_equal(ts_admin_tenant_apply(&fx->a, spec, &result, err, sizeof(err)), TS_EINVAL);
	assert_non_null(strstr(err, "unknown field \"colour\" in tenant"));
	assert_int_equal(ts_store_tenant_get(fx->st, "gamma", &t), TS_ENOTFOUND);
	json_decref(spec);
	spec = json_loads("{\"client_id\":\"new\",\"scopse\":[]}", 0, NULL);
	err[0] = '\0';
	assert_int_equal(ts_admin_client_apply(&fx->a, "acme", spec, &result, &secret, err,
					       sizeof(err)),
			 TS_EINVAL);
	assert_non_null(strstr(err, "unknown field \"scopse\" in client"));
	assert_null(secret);
	json_decref(spec);
	/* Re-applying the stored tenant changes nothing. */
	spec = json_loads(TENANT_JSON, 0, NULL);
	assert_int_equal(ts_admin_tenant_apply(&fx->a, spec, &result, err, sizeof(err)), TS_OK);
	assert_string_equal(result, "unchanged");
	json_decref(spec);
}

int main(void)
{
	const struct CMUnitTest snapshot_tests[] = {
		cmocka_unit_test(test_snapshot_tenant),
		cmocka_unit_test(test_snapshot_without_master_key),
		cmocka_unit_test(test_scope_transitive),
		cmocka_unit_test(test_scope_cycles),
		cmocka_unit_test(test_client_scope_allowed),
		cmocka_unit_test(test_apply_validates_first),
	};
	const struct CMUnitTest pure_tests[] = {
		cmocka_unit_test(test_scope_cycles_by_hand),
		cmocka_unit_test(test_client_secret_hash),
		cmocka_unit_test(test_client_secret_malformed),
		cmocka_unit_test(test_tenant_name_ok),
		cmocka_unit_test(test_tenant_issuer),
		cmocka_unit_test(test_tenant_validate),
		cmocka_unit_test(test_tenant_key_rotation),
		cmocka_unit_test(test_client_validate),
	};
	int failed = 0;

	ts_log_set_level(TS_LOG_ERR);
	failed += cmocka_run_group_tests_name("snapshot", snapshot_tests, group_setup, group_teardown);
	failed += cmocka_run_group_tests_name("pure", pure_tests, NULL, NULL);
	return failed;
}
