/* test_registry.c: incremental snapshots (ts_snapshot_update) and the
 * registry that publishes them: an update rebuilds only the tenants whose
 * version moved and shares the others (the same objects, reference
 * counted, alive after the older snapshot is freed), leaves deleted
 * tenants out and adds new ones; a many-tenant load matches every tenant
 * with its own clients and keys; domains are found by Host; only current
 * keys of algorithms the tenant signs with carry a private half; RSA keys
 * exist only where a client needs RS256 for ID tokens, and are taken from
 * keys generated ahead of need when there are some. Runs on a temporary
 * SQLite store. */
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
#define PUBLIC_URL "https://id.example.test"
#define SECRET "client-secret-0123456789abcdefghijkl"
#define ERR_CAP 512
#define MANY 40 /* more than the load's bulk and parallel thresholds */
#define NAME_CAP 64
#define JSON_CAP 512

struct fx {
	char dir[PATH_MAX];
	struct ts_store *st;
	struct ts_master_key mk;
	struct ts_admin a;
	struct ts_snapshot_src src;
};

static void apply(struct fx *fx, const char *tenant, const char *json)
{
	json_t *spec = json_loads(json, 0, NULL);
	const char *result = NULL;
	char err[ERR_CAP] = "", *secret = NULL;
	int rc;

	assert_non_null(spec);
	rc = tenant ? ts_admin_client_apply(&fx->a, tenant, spec, &result, &secret, err, sizeof(err))
		    : ts_admin_tenant_apply(&fx->a, spec, &result, err, sizeof(err));
	if (rc != TS_OK)
		fail_msg("apply %s: %s", json, err);
	ts_free_secret(secret);
	json_decref(spec);
}

static void tenant_with_client(struct fx *fx, const char *name, const char *client)
{
	char json[JSON_CAP];

	snprintf(json, sizeof(json), "{\"name\":\"%s\"}", name);
	apply(fx, NULL, json);
	snprintf(json, sizeof(json), "{\"client_id\":\"%s\",\"secret\":\"" SECRET "\"}", client);
	apply(fx, name, json);
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	const char *tmp = getenv("TMPDIR");
	char url[PATH_MAX + 32];

	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "%s/ts-registry-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(url, sizeof(url), "sqlite:%s/t.db", fx->dir);
	if (ts_store_open(url, &fx->st) != TS_OK || ts_master_key_parse(MK_HEX, &fx->mk) != TS_OK)
		return -1;
	fx->a.store = fx->st;
	fx->a.mk = &fx->mk;
	fx->a.public_url = PUBLIC_URL;
	fx->a.actor = "test";
	fx->src.store = fx->st;
	fx->src.public_url = PUBLIC_URL;
	fx->src.mks = &fx->mk;
	fx->src.nmk = 1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	DIR *d;
	struct dirent *e;
	char p[PATH_MAX * 2];

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

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

static const struct ts_tenant *tenant_of(const struct ts_snapshot *s, const char *name)
{
	const struct ts_tenant *t = ts_snapshot_tenant(s, name);

	assert_non_null(t);
	return t;
}

/* One change rebuilds one tenant; the others are the same objects. */
static void test_update_rebuilds_only_what_changed(void **state)
{
	struct fx *fx = *state;
	struct ts_snapshot *s1 = NULL, *s2 = NULL, *s3 = NULL;
	const struct ts_tenant *x, *y;
	size_t rebuilt = 99;

	tenant_with_client(fx, "x", "cx");
	tenant_with_client(fx, "y", "cy");
	tenant_with_client(fx, "z", "cz");
	assert_int_equal(ts_snapshot_update(&fx->src, NULL, &s1, &rebuilt), TS_OK);
	assert_int_equal(rebuilt, 3);
	assert_int_equal(s1->ntenants, 3);

	/* Nothing changed: nothing rebuilt, everything shared. */
	assert_int_equal(ts_snapshot_update(&fx->src, s1, &s2, &rebuilt), TS_OK);
	assert_int_equal(rebuilt, 0);
	assert_ptr_equal(tenant_of(s2, "x"), tenant_of(s1, "x"));
	assert_ptr_equal(tenant_of(s2, "z"), tenant_of(s1, "z"));
	ts_snapshot_free(s2);
	s2 = NULL;

	/* y gets another client, z goes, w comes. */
	apply(fx, "y", "{\"client_id\":\"cy2\",\"secret\":\"" SECRET "\"}");
	assert_int_equal(ts_store_tenant_delete(fx->st, "z"), TS_OK);
	tenant_with_client(fx, "w", "cw");
	assert_int_equal(ts_snapshot_update(&fx->src, s1, &s2, &rebuilt), TS_OK);
	assert_int_equal(rebuilt, 2);
	assert_int_equal(s2->ntenants, 3);
	x = tenant_of(s2, "x");
	y = tenant_of(s2, "y");
	assert_ptr_equal(x, tenant_of(s1, "x"));
	assert_ptr_not_equal(y, tenant_of(s1, "y"));
	assert_non_null(ts_tenant_client(y, "cy2"));
	assert_null(ts_tenant_client(tenant_of(s1, "y"), "cy2"));
	assert_null(ts_snapshot_tenant(s2, "z"));
	assert_non_null(ts_tenant_client(tenant_of(s2, "w"), "cw"));

	/* The shared tenant outlives the snapshot it was built for. */
	ts_snapshot_free(s1);
	assert_string_equal(x->name, "x");
	assert_non_null(ts_tenant_client(x, "cx"));
	assert_non_null(x->signer[TS_ALG_ES256]);

	/* A tenant's key rotation is a change of that tenant alone. */
	{
		char err[ERR_CAP] = "";
		assert_int_equal(
			ts_admin_keys_rotate(&fx->a, "x", TS_ALG_ES256, true, err, sizeof(err)), TS_OK);
	}
	assert_int_equal(ts_snapshot_update(&fx->src, s2, &s3, &rebuilt), TS_OK);
	assert_int_equal(rebuilt, 1);
	assert_ptr_not_equal(tenant_of(s3, "x"), x);
	assert_ptr_not_equal(tenant_of(s3, "x")->signer[TS_ALG_ES256], x->signer[TS_ALG_ES256]);
	assert_ptr_equal(tenant_of(s3, "y"), y);
	ts_snapshot_free(s2);
	ts_snapshot_free(s3);
}

/* A load of many tenants (bulk reads, several threads) gives each tenant
 * its own clients and keys. */
static void test_many_tenants_each_get_their_own(void **state)
{
	struct fx *fx = *state;
	struct ts_snapshot *s = NULL;
	char name[NAME_CAP], client[NAME_CAP];
	size_t rebuilt = 0, i;

	for (i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "t%02zu", i);
		snprintf(client, sizeof(client), "client-of-t%02zu", i);
		tenant_with_client(fx, name, client);
	}
	assert_int_equal(ts_snapshot_update(&fx->src, NULL, &s, &rebuilt), TS_OK);
	assert_int_equal(rebuilt, MANY);
	assert_int_equal(s->ntenants, MANY);
	for (i = 0; i < MANY; i++) {
		const struct ts_tenant *t;
		snprintf(name, sizeof(name), "t%02zu", i);
		snprintf(client, sizeof(client), "client-of-t%02zu", i);
		t = tenant_of(s, name);
		assert_int_equal(t->nclients, 1);
		assert_string_equal(t->clients[0]->client_id, client);
		/* ES256 and EdDSA current keys (next keys are only published);
		 * it signs with ES256 alone; no RSA for a service client. */
		assert_int_equal(t->nkeys, 2);
		assert_non_null(t->signer[TS_ALG_ES256]);
		assert_null(t->signer[TS_ALG_EDDSA]);
		assert_null(t->signer[TS_ALG_RS256]);
		if (i > 0)
			assert_true(strcmp(s->tenants[i - 1]->name, s->tenants[i]->name) < 0);
	}
	ts_snapshot_free(s);
}

/* Only a current key of an algorithm the tenant signs with is opened
 * with its private half; next keys are published but not kept. */
static void test_only_signing_keys_are_private(void **state)
{
	struct fx *fx = *state;
	struct ts_snapshot *s = NULL;
	const struct ts_tenant *t;
	size_t i;

	tenant_with_client(fx, "k", "ck");
	apply(fx, NULL, "{\"name\":\"e\",\"access_token_alg\":\"EdDSA\"}");
	assert_int_equal(ts_snapshot_load(fx->st, PUBLIC_URL, &fx->mk, 1, NULL, NULL, &s), TS_OK);
	t = tenant_of(s, "k");
	assert_int_equal(t->nkeys, 2);
	for (i = 0; i < t->nkeys; i++) {
		assert_string_equal(t->keys[i].state, "current");
		assert_int_equal(ts_jwk_is_private(t->keys[i].jwk), t->keys[i].alg == TS_ALG_ES256);
	}
	/* Four keys in JWKS (current and next of two algorithms), none private. */
	assert_int_equal(count(t->jwks_json, "\"kid\""), 4);
	assert_null(strstr(t->jwks_json, "\"d\""));
	t = tenant_of(s, "e");
	assert_non_null(t->signer[TS_ALG_EDDSA]);
	assert_null(t->signer[TS_ALG_ES256]);
	ts_snapshot_free(s);
}

/* RSA keys come with the first client that people sign in to (ID tokens
 * are RS256 by default), or with an RS256 access-token algorithm. */
static void test_rsa_keys_where_needed(void **state)
{
	struct fx *fx = *state;
	struct ts_snapshot *s = NULL;

	tenant_with_client(fx, "plain", "svc");
	apply(fx, NULL, "{\"name\":\"rs\",\"access_token_alg\":\"RS256\"}");
	tenant_with_client(fx, "oidc", "svc");
	apply(fx, "oidc", "{\"client_id\":\"web\",\"type\":\"public\","
			  "\"redirect_uris\":[\"https://app.test/cb\"]}");
	tenant_with_client(fx, "es-id", "svc");
	apply(fx, "es-id", "{\"client_id\":\"web\",\"type\":\"public\","
			   "\"redirect_uris\":[\"https://app.test/cb\"],"
			   "\"id_token_signed_response_alg\":\"ES256\"}");
	tenant_with_client(fx, "ps-id", "svc");
	apply(fx, "ps-id", "{\"client_id\":\"web\",\"type\":\"public\","
			   "\"redirect_uris\":[\"https://app.test/cb\"],"
			   "\"id_token_signed_response_alg\":\"PS256\"}");
	assert_int_equal(ts_snapshot_load(fx->st, PUBLIC_URL, &fx->mk, 1, NULL, NULL, &s), TS_OK);
	/* A client's PS256 ID tokens get PS256 keys, and no RS256 ones. */
	assert_non_null(tenant_of(s, "ps-id")->signer[TS_ALG_PS256]);
	assert_null(tenant_of(s, "ps-id")->signer[TS_ALG_RS256]);
	assert_null(tenant_of(s, "oidc")->signer[TS_ALG_PS256]);
	assert_null(tenant_of(s, "plain")->signer[TS_ALG_RS256]);
	assert_null(tenant_of(s, "es-id")->signer[TS_ALG_RS256]);
	assert_non_null(tenant_of(s, "rs")->signer[TS_ALG_RS256]);
	assert_non_null(tenant_of(s, "oidc")->signer[TS_ALG_RS256]);
	assert_int_equal(count(tenant_of(s, "oidc")->jwks_json, "\"kid\""), 6);
	ts_snapshot_free(s);
	assert_int_equal(ts_admin_client_key_needs("{\"grant_types\":[\"password\"]}"),
			 TS_ADMIN_NEED_RS256);
	assert_int_equal(ts_admin_client_key_needs("{\"grant_types\":[\"authorization_code\"],"
						   "\"id_token_signed_response_alg\":\"PS256\"}"),
			 TS_ADMIN_NEED_PS256);
	assert_int_equal(ts_admin_client_key_needs("{\"grant_types\":[\"authorization_code\"],"
						   "\"id_token_signed_response_alg\":\"EdDSA\"}"),
			 0);
	assert_int_equal(ts_admin_client_key_needs("{\"grant_types\":[\"client_credentials\"]}"), 0);
	assert_int_equal(ts_admin_client_key_needs("{\"grant_types\":[\"refresh_token\"]}"),
			 TS_ADMIN_NEED_RS256);
}

/* RSA keys made ahead of need are used before any is generated: a tenant
 * whose first sign-in client needs RS256 keys takes its current and next
 * key from the pool. */
static void test_rsa_pool(void **state)
{
	struct fx *fx = *state;
	struct ts_keypool pool = {0};
	struct ts_snapshot *s = NULL;
	char kid[2][TS_KID_MAX + 1];
	size_t i;
	json_t *spec;

	assert_int_equal(ts_keypool_fill(&pool, 2), TS_OK);
	assert_int_equal(pool.n, 2);
	assert_int_equal(ts_keypool_fill(&pool, 1), TS_OK); /* holds enough already */
	assert_int_equal(pool.n, 2);
	for (i = 0; i < 2; i++)
		snprintf(kid[i], sizeof(kid[i]), "%s", ts_jwk_kid(pool.keys[i]));
	fx->a.rsa_pool = &pool;
	tenant_with_client(fx, "pooled", "svc");
	assert_int_equal(pool.n, 2); /* a service client needs none */
	apply(fx, "pooled", "{\"client_id\":\"web\",\"type\":\"public\","
			    "\"redirect_uris\":[\"https://app.test/cb\"]}");
	assert_int_equal(pool.n, 0);
	assert_null(ts_keypool_take(&pool));
	fx->a.rsa_pool = NULL;
	assert_int_equal(ts_snapshot_load(fx->st, PUBLIC_URL, &fx->mk, 1, NULL, NULL, &s), TS_OK);
	for (i = 0; i < 2; i++)
		assert_non_null(strstr(tenant_of(s, "pooled")->jwks_json, kid[i]));
	ts_snapshot_free(s);
	ts_keypool_clear(&pool);
	ts_keypool_clear(NULL);

	spec = json_loads("{\"name\":\"a\",\"clients\":[{\"client_id\":\"s\"}]}", 0, NULL);
	assert_false(ts_admin_tenant_spec_needs_rsa(spec));
	json_decref(spec);
	spec = json_loads("{\"name\":\"a\",\"clients\":[{\"client_id\":\"p\",\"type\":\"public\"}]}",
			  0, NULL);
	assert_true(ts_admin_tenant_spec_needs_rsa(spec));
	json_decref(spec);
	spec = json_loads("{\"name\":\"a\",\"access_token_alg\":\"RS256\"}", 0, NULL);
	assert_true(ts_admin_tenant_spec_needs_rsa(spec));
	json_decref(spec);
	spec = json_loads("{\"name\":\"a\",\"clients\":[{\"client_id\":\"p\",\"type\":\"public\","
			  "\"id_token_signed_response_alg\":\"EdDSA\"}]}", 0, NULL);
	assert_false(ts_admin_tenant_spec_needs_rsa(spec));
	json_decref(spec);
}

/* The periodic key maintenance, with three list queries for all tenants:
 * nothing to do on an empty store; a tenant stored without keys gets them,
 * RSA too where its client needs them; a tenant with keys keeps them. */
static void test_keys_maintain(void **state)
{
	struct fx *fx = *state;
	struct ts_tenant_rec rec = {0};
	struct ts_client_rec crec = {0};
	struct ts_snapshot *s = NULL;
	const struct ts_tenant *t;
	char *kept_jwks;

	assert_int_equal(ts_admin_keys_maintain(&fx->a), TS_OK);
	tenant_with_client(fx, "kept", "svc");
	rec.id = "00000000-0000-4000-8000-000000000001";
	rec.name = "bare";
	rec.config = "{}";
	assert_int_equal(ts_store_tenant_put(fx->st, &rec), TS_OK);
	crec.tenant_id = rec.id;
	crec.client_id = "web";
	crec.config = "{\"type\":\"public\",\"grant_types\":[\"authorization_code\"]}";
	assert_int_equal(ts_store_client_put(fx->st, &crec), TS_OK);
	assert_int_equal(ts_snapshot_load(fx->st, PUBLIC_URL, &fx->mk, 1, NULL, NULL, &s), TS_OK);
	assert_int_equal(tenant_of(s, "bare")->nkeys, 0);
	kept_jwks = strdup(tenant_of(s, "kept")->jwks_json);
	assert_non_null(kept_jwks);
	ts_snapshot_free(s);
	assert_int_equal(ts_admin_keys_maintain(&fx->a), TS_OK);
	assert_int_equal(ts_snapshot_load(fx->st, PUBLIC_URL, &fx->mk, 1, NULL, NULL, &s), TS_OK);
	t = tenant_of(s, "bare");
	assert_int_equal(count(t->jwks_json, "\"kid\""), 6);
	assert_non_null(t->signer[TS_ALG_ES256]);
	assert_non_null(t->signer[TS_ALG_RS256]);
	assert_string_equal(tenant_of(s, "kept")->jwks_json, kept_jwks);
	free(kept_jwks);
	ts_snapshot_free(s);
}

/* Host lookups go through the snapshot's domain index; a domain claimed
 * by two tenants goes to the first name. */
static void test_domains(void **state)
{
	struct fx *fx = *state;
	struct ts_snapshot *s = NULL;

	apply(fx, NULL, "{\"name\":\"b\",\"domains\":[\"auth.b.test\",\"shared.test\"]}");
	apply(fx, NULL, "{\"name\":\"a\",\"domains\":[\"shared.test\",\"auth.a.test\"]}");
	apply(fx, NULL, "{\"name\":\"c\"}");
	assert_int_equal(ts_snapshot_load(fx->st, PUBLIC_URL, &fx->mk, 1, NULL, NULL, &s), TS_OK);
	assert_string_equal(ts_snapshot_tenant_by_domain(s, "auth.a.test")->name, "a");
	assert_string_equal(ts_snapshot_tenant_by_domain(s, "auth.b.test")->name, "b");
	assert_string_equal(ts_snapshot_tenant_by_domain(s, "shared.test")->name, "a");
	assert_null(ts_snapshot_tenant_by_domain(s, "auth.c.test"));
	assert_null(ts_snapshot_tenant_by_domain(s, "auth.a.tes"));
	assert_null(ts_snapshot_tenant_by_domain(s, ""));
	assert_null(ts_snapshot_tenant_by_domain(s, NULL));
	ts_snapshot_free(s);
}

/* The registry publishes a change on reload, sharing what did not change,
 * and keeps every tenant's counters across snapshots. */
static void test_registry_reload(void **state)
{
	struct fx *fx = *state;
	struct ts_registry *r = NULL;
	const struct ts_snapshot *s1, *s2;
	const struct ts_tenant *p1;

	tenant_with_client(fx, "p", "cp");
	tenant_with_client(fx, "q", "cq");
	assert_int_equal(ts_registry_new(fx->st, PUBLIC_URL, &fx->mk, 1, &r), TS_OK);
	s1 = ts_registry_get(r);
	p1 = tenant_of(s1, "p");
	assert_int_equal(ts_registry_reload(r, false), TS_OK);
	assert_ptr_equal(ts_registry_get(r), s1);
	apply(fx, "q", "{\"client_id\":\"cq2\",\"secret\":\"" SECRET "\"}");
	assert_int_equal(ts_registry_reload(r, false), TS_OK);
	s2 = ts_registry_get(r);
	assert_ptr_not_equal(s2, s1);
	assert_ptr_equal(tenant_of(s2, "p"), p1);
	assert_non_null(ts_tenant_client(tenant_of(s2, "q"), "cq2"));
	assert_ptr_equal(tenant_of(s2, "q")->stats, tenant_of(s1, "q")->stats);
	assert_non_null(tenant_of(s2, "q")->stats);
	/* A forced reload rebuilds everything, the counters stay. */
	assert_int_equal(ts_registry_reload(r, true), TS_OK);
	assert_ptr_not_equal(tenant_of(ts_registry_get(r), "p"), p1);
	assert_ptr_equal(tenant_of(ts_registry_get(r), "p")->stats, p1->stats);
	ts_registry_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_update_rebuilds_only_what_changed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_many_tenants_each_get_their_own, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_only_signing_keys_are_private, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rsa_keys_where_needed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rsa_pool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys_maintain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_domains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_registry_reload, setup, teardown),
	};

	return cmocka_run_group_tests_name("registry", tests, NULL, NULL);
}
