/* test_store_config.c: the store contract for configuration, against the
 * ts_store_* API only (see test_store_fixture.h for how the store is
 * chosen): tenants (names, ordering, updates, what a deletion takes with
 * it, the version that moves with every write to a tenant's configuration),
 * clients (per tenant and across tenants, updates that never create, also
 * racing a delete) and signing keys (ordering, state changes, which
 * tenants are due for an automatic rotation and in what order). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>

#include "test_store_fixture.h"

#define THREADS 8
#define OPS_PER_THREAD 25

/* ---- tenants ---- */

static void test_tenant_crud(void **state)
{
	struct ts_store *st = store_of(state);
	struct ts_tenant_rec *t = NULL, **v = NULL;
	struct ts_tenant_rec upd = {0};
	char name[NAME_CAP], name2[NAME_CAP], clash[NAME_CAP];
	char id[37], id2[37], other_id[37];
	size_t n = 0, i, found = 0;

	new_tenant(st, "b", name, id);
	new_tenant(st, "a", name2, id2);
	assert_int_equal(ts_store_tenant_get(st, name, &t), TS_OK);
	assert_string_equal(t->id, id);
	assert_string_equal(t->name, name);
	assert_string_equal(t->config, "{\"display_name\":\"Test\"}");
	assert_int_equal(t->created_at, 1000);
	assert_int_equal(t->updated_at, 1000);
	ts_tenant_rec_free(t);
	t = NULL;

	/* Update by name keeps the id and created_at. */
	assert_int_equal(ts_rand_uuid(other_id), TS_OK);
	upd.id = other_id;
	upd.name = name;
	upd.config = "{\"display_name\":\"Renamed\"}";
	upd.created_at = 5000;
	upd.updated_at = 6000;
	assert_int_equal(ts_store_tenant_put(st, &upd), TS_OK);
	assert_int_equal(ts_store_tenant_get(st, name, &t), TS_OK);
	assert_string_equal(t->id, id);
	assert_string_equal(t->config, "{\"display_name\":\"Renamed\"}");
	assert_int_equal(t->created_at, 1000);
	assert_int_equal(t->updated_at, 6000);
	ts_tenant_rec_free(t);
	t = NULL;

	/* A new name cannot take an id another tenant has. */
	upd.id = id2;
	rand_name(clash, "clash");
	upd.name = clash;
	assert_int_equal(ts_store_tenant_put(st, &upd), TS_EEXIST);
	assert_int_equal(ts_store_tenant_get(st, upd.name, &t), TS_ENOTFOUND);

	/* The list is ordered by name and holds both. */
	assert_int_equal(ts_store_tenant_list(st, &v, &n), TS_OK);
	for (i = 0; i < n; i++) {
		if (i > 0)
			assert_true(strcmp(v[i - 1]->name, v[i]->name) < 0);
		if (strcmp(v[i]->name, name) == 0 || strcmp(v[i]->name, name2) == 0)
			found++;
	}
	assert_int_equal(found, 2);
	ts_tenant_recs_free(v, n);

	assert_int_equal(ts_store_tenant_delete(st, name), TS_OK);
	assert_int_equal(ts_store_tenant_get(st, name, &t), TS_ENOTFOUND);
	assert_null(t);
	assert_int_equal(ts_store_tenant_delete(st, name), TS_ENOTFOUND);
	assert_int_equal(ts_store_tenant_delete(st, name2), TS_OK);
	assert_int_equal(ts_store_tenant_get(st, "tnothere-x", &t), TS_ENOTFOUND);
}

static void test_tenant_invalid(void **state)
{
	struct ts_store *st = store_of(state);
	struct ts_tenant_rec t = {0};
	char id[37];
	static const char *const bad[] = {
		"", "Upper", "under_score", "sp ace", "dot.ted",
		"a234567890123456789012345678901234567890123456789012345678901234", /* 64 */
	};
	size_t i;

	assert_int_equal(ts_rand_uuid(id), TS_OK);
	t.id = id;
	t.config = "{}";
	for (i = 0; i < TS_ARRAY_LEN(bad); i++) {
		t.name = (char *)bad[i];
		assert_int_equal(ts_store_tenant_put(st, &t), TS_EINVAL);
	}
	t.name = "ok-name";
	t.config = NULL;
	assert_int_equal(ts_store_tenant_put(st, &t), TS_EINVAL);
	t.config = "{}";
	t.id = NULL;
	assert_int_equal(ts_store_tenant_put(st, &t), TS_EINVAL);
	assert_int_equal(ts_store_tenant_put(st, NULL), TS_EINVAL);
	assert_int_equal(ts_store_tenant_put(NULL, &t), TS_EINVAL);
}

static void test_tenant_delete_cascades(void **state)
{
	struct ts_store *st = store_of(state);
	struct ts_client_rec *c = NULL, **cv = NULL;
	struct ts_key_rec **kv = NULL;
	struct ts_key_rec k;
	char name[NAME_CAP], id[37], keep[NAME_CAP], keep_id[37];
	size_t n = 0;
	bool revoked = false;

	new_tenant(st, "doomed", name, id);
	new_tenant(st, "kept", keep, keep_id);
	put_client(st, id, "c1", NULL, 1);
	put_client(st, id, "c2", "sha256$00$11", 2);
	put_client(st, keep_id, "c1", NULL, 1);
	k = key_rec(id, "k1", "current", 10);
	assert_int_equal(ts_store_key_put(st, &k), TS_OK);
	k = key_rec(keep_id, "k1", "current", 10);
	assert_int_equal(ts_store_key_put(st, &k), TS_OK);
	assert_int_equal(ts_store_revoke_put(st, id, "jti-1", INT64_C(9999999999)), TS_OK);
	assert_int_equal(ts_store_revoke_put(st, keep_id, "jti-1", INT64_C(9999999999)), TS_OK);

	assert_int_equal(ts_store_tenant_delete(st, name), TS_OK);
	assert_int_equal(ts_store_client_get(st, id, "c1", &c), TS_ENOTFOUND);
	assert_int_equal(ts_store_client_list(st, id, &cv, &n), TS_OK);
	assert_int_equal(n, 0);
	ts_client_recs_free(cv, n);
	assert_int_equal(ts_store_key_list(st, id, &kv, &n), TS_OK);
	assert_int_equal(n, 0);
	ts_key_recs_free(kv, n);
	assert_int_equal(ts_store_revoke_check(st, id, "jti-1", &revoked), TS_OK);
	assert_false(revoked);

	/* The other tenant is untouched. */
	assert_int_equal(ts_store_client_get(st, keep_id, "c1", &c), TS_OK);
	ts_client_rec_free(c);
	assert_int_equal(ts_store_key_list(st, keep_id, &kv, &n), TS_OK);
	assert_int_equal(n, 1);
	ts_key_recs_free(kv, n);
	assert_int_equal(ts_store_revoke_check(st, keep_id, "jti-1", &revoked), TS_OK);
	assert_true(revoked);
	assert_int_equal(ts_store_tenant_delete(st, keep), TS_OK);
}

/* ---- tenant versions ---- */

/* The version of tenant name in the versions list (checking the list is in
 * name order), or -1 if it is not there. */
static int64_t version_of(struct ts_store *st, const char *name, const char *id)
{
	struct ts_tenant_ver **v = NULL;
	size_t n = 0, i;
	int64_t ver = -1;

	assert_int_equal(ts_store_tenant_versions(st, &v, &n), TS_OK);
	for (i = 0; i < n; i++) {
		if (i > 0)
			assert_true(strcmp(v[i - 1]->name, v[i]->name) < 0);
		if (strcmp(v[i]->name, name) == 0) {
			assert_string_equal(v[i]->id, id);
			ver = v[i]->version;
		}
	}
	ts_tenant_vers_free(v, n);
	return ver;
}

/* A tenant's version moves with every write to its row, clients or keys,
 * and only with those: another tenant's writes and failed writes leave it. */
static void test_tenant_versions(void **state)
{
	struct ts_store *st = store_of(state);
	struct ts_tenant_rec *t = NULL, rec = {0};
	struct ts_key_rec k;
	char a[NAME_CAP], aid[ID_CAP], b[NAME_CAP], bid[ID_CAP];
	int64_t va, vb, v;

	new_tenant(st, "va", a, aid);
	new_tenant(st, "vb", b, bid);
	va = version_of(st, a, aid);
	vb = version_of(st, b, bid);
	assert_true(va >= 1 && vb >= 1);
	assert_int_equal(ts_store_tenant_get(st, a, &t), TS_OK);
	assert_int_equal(t->version, va);
	ts_tenant_rec_free(t);

	put_client(st, aid, "c", NULL, 1);
	assert_true((v = version_of(st, a, aid)) > va);
	va = v;
	put_client(st, aid, "c", NULL, 2);
	assert_true((v = version_of(st, a, aid)) > va);
	va = v;
	k = key_rec(aid, "k", "next", 1);
	assert_int_equal(ts_store_key_put(st, &k), TS_OK);
	assert_true((v = version_of(st, a, aid)) > va);
	va = v;
	k.state = "current";
	assert_int_equal(ts_store_key_put(st, &k), TS_OK);
	assert_true((v = version_of(st, a, aid)) > va);
	va = v;
	rec.id = aid;
	rec.name = a;
	rec.config = "{\"display_name\":\"Changed\"}";
	assert_int_equal(ts_store_tenant_put(st, &rec), TS_OK);
	assert_true((v = version_of(st, a, aid)) > va);
	va = v;
	assert_int_equal(ts_store_client_delete(st, aid, "missing"), TS_ENOTFOUND);
	assert_int_equal(ts_store_revoke_put(st, aid, "jti", FAR_FUTURE), TS_OK);
	assert_int_equal(version_of(st, a, aid), va);
	assert_int_equal(ts_store_key_delete(st, aid, "k"), TS_OK);
	assert_true((v = version_of(st, a, aid)) > va);
	va = v;
	assert_int_equal(ts_store_client_delete(st, aid, "c"), TS_OK);
	assert_true(version_of(st, a, aid) > va);
	assert_int_equal(version_of(st, b, bid), vb);
	assert_int_equal(ts_store_tenant_delete(st, a), TS_OK);
	assert_int_equal(version_of(st, a, aid), -1);
	assert_int_equal(version_of(st, b, bid), vb);
	assert_int_equal(ts_store_tenant_versions(st, NULL, NULL), TS_EINVAL);
}

/* ---- clients ---- */

static void test_client_crud(void **state)
{
	struct ts_store *st = store_of(state);
	struct ts_client_rec *c = NULL, **v = NULL;
	struct ts_client_rec upd = {0};
	char a[NAME_CAP], aid[37], b[NAME_CAP], bid[37];
	size_t n = 0, i, ours = 0;
	const char *prev_t = NULL, *prev_c = NULL;

	new_tenant(st, "ca", a, aid);
	new_tenant(st, "cb", b, bid);
	put_client(st, aid, "zeta", "sha256$aa$bb", 10);
	put_client(st, aid, "alpha", NULL, 11);
	put_client(st, aid, "mid", NULL, 12);
	put_client(st, bid, "alpha", NULL, 13);

	assert_int_equal(ts_store_client_get(st, aid, "zeta", &c), TS_OK);
	assert_string_equal(c->tenant_id, aid);
	assert_string_equal(c->client_id, "zeta");
	assert_string_equal(c->config, "{\"type\":\"confidential\"}");
	assert_string_equal(c->secret_hash, "sha256$aa$bb");
	assert_int_equal(c->created_at, 10);
	ts_client_rec_free(c);
	c = NULL;
	assert_int_equal(ts_store_client_get(st, aid, "alpha", &c), TS_OK);
	assert_null(c->secret_hash);
	ts_client_rec_free(c);
	c = NULL;

	/* Per tenant, ordered by client_id. */
	assert_int_equal(ts_store_client_list(st, aid, &v, &n), TS_OK);
	assert_int_equal(n, 3);
	assert_string_equal(v[0]->client_id, "alpha");
	assert_string_equal(v[1]->client_id, "mid");
	assert_string_equal(v[2]->client_id, "zeta");
	for (i = 0; i < n; i++)
		assert_string_equal(v[i]->tenant_id, aid);
	ts_client_recs_free(v, n);

	/* Every tenant, ordered by tenant_id then client_id. */
	assert_int_equal(ts_store_client_list(st, NULL, &v, &n), TS_OK);
	for (i = 0; i < n; i++) {
		int ct = prev_t ? strcmp(prev_t, v[i]->tenant_id) : -1;
		assert_true(ct < 0 || (ct == 0 && strcmp(prev_c, v[i]->client_id) < 0));
		prev_t = v[i]->tenant_id;
		prev_c = v[i]->client_id;
		if (strcmp(v[i]->tenant_id, aid) == 0 || strcmp(v[i]->tenant_id, bid) == 0)
			ours++;
	}
	assert_int_equal(ours, 4);
	ts_client_recs_free(v, n);

	/* Update keeps created_at and may drop the secret. */
	upd.tenant_id = aid;
	upd.client_id = "zeta";
	upd.config = "{\"type\":\"public\"}";
	upd.created_at = 999;
	upd.updated_at = 50;
	assert_int_equal(ts_store_client_put(st, &upd), TS_OK);
	assert_int_equal(ts_store_client_get(st, aid, "zeta", &c), TS_OK);
	assert_string_equal(c->config, "{\"type\":\"public\"}");
	assert_null(c->secret_hash);
	assert_int_equal(c->created_at, 10);
	assert_int_equal(c->updated_at, 50);
	ts_client_rec_free(c);
	c = NULL;

	/* Missing rows and missing parents. */
	assert_int_equal(ts_store_client_get(st, bid, "zeta", &c), TS_ENOTFOUND);
	assert_null(c);
	assert_int_equal(ts_store_client_get(st, "no-such-tenant", "alpha", &c), TS_ENOTFOUND);
	upd.tenant_id = "no-such-tenant";
	assert_int_equal(ts_store_client_put(st, &upd), TS_ENOTFOUND);
	upd.tenant_id = aid;
	upd.config = NULL;
	assert_int_equal(ts_store_client_put(st, &upd), TS_EINVAL);
	assert_int_equal(ts_store_client_list(st, "no-such-tenant", &v, &n), TS_OK);
	assert_int_equal(n, 0);
	assert_null(v);
	ts_client_recs_free(v, n);

	assert_int_equal(ts_store_client_delete(st, aid, "mid"), TS_OK);
	assert_int_equal(ts_store_client_get(st, aid, "mid", &c), TS_ENOTFOUND);
	assert_int_equal(ts_store_client_delete(st, aid, "mid"), TS_ENOTFOUND);
	assert_int_equal(ts_store_client_get(st, bid, "alpha", &c), TS_OK); /* other tenant's */
	ts_client_rec_free(c);
	assert_int_equal(ts_store_tenant_delete(st, a), TS_OK);
	assert_int_equal(ts_store_tenant_delete(st, b), TS_OK);
}

/* An update changes an existing client only (moving the generation and
 * the tenant's version), keeps created_at, and never creates one: not for
 * an unknown id, not for a deleted client. */
static void test_client_update(void **state)
{
	struct ts_store *st = store_of(state);
	struct ts_client_rec *c = NULL, upd = {0};
	char a[NAME_CAP], aid[ID_CAP];
	int64_t g, v;

	new_tenant(st, "cu", a, aid);
	put_client(st, aid, "c", "sha256$aa$bb", 10);
	g = generation(st);
	v = version_of(st, a, aid);
	upd.tenant_id = aid;
	upd.client_id = "c";
	upd.config = "{\"type\":\"public\"}";
	upd.created_at = 999;
	upd.updated_at = 20;
	assert_int_equal(ts_store_client_update(st, &upd), TS_OK);
	assert_true(generation(st) > g);
	assert_true(version_of(st, a, aid) > v);
	assert_int_equal(ts_store_client_get(st, aid, "c", &c), TS_OK);
	assert_string_equal(c->config, "{\"type\":\"public\"}");
	assert_null(c->secret_hash);
	assert_int_equal(c->created_at, 10);
	assert_int_equal(c->updated_at, 20);
	ts_client_rec_free(c);
	c = NULL;

	/* Nothing to update: nothing written, nothing created. */
	g = generation(st);
	upd.client_id = "missing";
	assert_int_equal(ts_store_client_update(st, &upd), TS_ENOTFOUND);
	assert_int_equal(ts_store_client_get(st, aid, "missing", &c), TS_ENOTFOUND);
	upd.tenant_id = "no-such-tenant";
	upd.client_id = "c";
	assert_int_equal(ts_store_client_update(st, &upd), TS_ENOTFOUND);
	assert_int_equal(generation(st), g);
	upd.tenant_id = aid;
	assert_int_equal(ts_store_client_delete(st, aid, "c"), TS_OK);
	assert_int_equal(ts_store_client_update(st, &upd), TS_ENOTFOUND);
	assert_int_equal(ts_store_client_get(st, aid, "c", &c), TS_ENOTFOUND);
	assert_null(c);

	assert_int_equal(ts_store_client_update(NULL, &upd), TS_EINVAL);
	assert_int_equal(ts_store_client_update(st, NULL), TS_EINVAL);
	upd.client_id = "";
	assert_int_equal(ts_store_client_update(st, &upd), TS_EINVAL);
	upd.client_id = "c";
	upd.config = NULL;
	assert_int_equal(ts_store_client_update(st, &upd), TS_EINVAL);
	assert_int_equal(ts_store_tenant_delete(st, a), TS_OK);
}

struct updater {
	struct ts_store *st;
	const char *tenant_id;
	pthread_barrier_t *start;
	atomic_int *failures;
};

/* Updates client "c" over and over while it is being deleted: each update
 * changes it or finds it gone. */
static void *updater_main(void *arg)
{
	struct updater *u = arg;
	struct ts_client_rec c = {0};
	int i, rc;

	c.tenant_id = (char *)u->tenant_id;
	c.client_id = "c";
	c.config = "{\"type\":\"public\"}";
	pthread_barrier_wait(u->start);
	for (i = 0; i < OPS_PER_THREAD; i++) {
		c.updated_at = i;
		rc = ts_store_client_update(u->st, &c);
		if (rc != TS_OK && rc != TS_ENOTFOUND)
			atomic_fetch_add(u->failures, 1);
	}
	return NULL;
}

/* Updates racing a delete: once the delete has returned, the client is
 * gone and stays gone. */
static void test_client_update_races_delete(void **state)
{
	struct ts_store *st = store_of(state);
	struct ts_client_rec *c = NULL;
	pthread_t th[THREADS];
	struct updater u[THREADS];
	pthread_barrier_t start;
	atomic_int failures = 0;
	char name[NAME_CAP], id[ID_CAP];
	int i, round;

	new_tenant(st, "updrace", name, id);
	for (round = 0; round < THREADS; round++) {
		put_client(st, id, "c", NULL, 1);
		pthread_barrier_init(&start, NULL, THREADS + 1);
		for (i = 0; i < THREADS; i++) {
			u[i] = (struct updater){st, id, &start, &failures};
			assert_int_equal(pthread_create(&th[i], NULL, updater_main, &u[i]), 0);
		}
		pthread_barrier_wait(&start);
		assert_int_equal(ts_store_client_delete(st, id, "c"), TS_OK);
		assert_int_equal(ts_store_client_get(st, id, "c", &c), TS_ENOTFOUND);
		for (i = 0; i < THREADS; i++)
			assert_int_equal(pthread_join(th[i], NULL), 0);
		pthread_barrier_destroy(&start);
		assert_int_equal(ts_store_client_get(st, id, "c", &c), TS_ENOTFOUND);
		assert_null(c);
	}
	assert_int_equal(atomic_load(&failures), 0);
	assert_int_equal(ts_store_tenant_delete(st, name), TS_OK);
}

/* ---- keys ---- */

static void test_key_crud(void **state)
{
	struct ts_store *st = store_of(state);
	struct ts_key_rec **v = NULL;
	struct ts_key_rec k;
	char a[NAME_CAP], aid[37], b[NAME_CAP], bid[37];
	size_t n = 0, i, ours = 0;

	new_tenant(st, "ka", a, aid);
	new_tenant(st, "kb", b, bid);
	k = key_rec(aid, "ka-300", "next", 300);
	assert_int_equal(ts_store_key_put(st, &k), TS_OK);
	k = key_rec(aid, "kc-100", "retired", 100);
	k.activated_at = 100;
	k.retired_at = 200;
	assert_int_equal(ts_store_key_put(st, &k), TS_OK);
	k = key_rec(aid, "kb-200", "current", 200);
	k.activated_at = 200;
	assert_int_equal(ts_store_key_put(st, &k), TS_OK);
	k = key_rec(bid, "k050", "current", 50);
	assert_int_equal(ts_store_key_put(st, &k), TS_OK);

	/* Ordered by created_at within a tenant (kids sort the other way). */
	assert_int_equal(ts_store_key_list(st, aid, &v, &n), TS_OK);
	assert_int_equal(n, 3);
	assert_string_equal(v[0]->kid, "kc-100");
	assert_string_equal(v[1]->kid, "kb-200");
	assert_string_equal(v[2]->kid, "ka-300");
	assert_string_equal(v[0]->state, "retired");
	assert_int_equal(v[0]->activated_at, 100);
	assert_int_equal(v[0]->retired_at, 200);
	assert_string_equal(v[1]->alg, "ES256");
	assert_string_equal(v[1]->public_jwk, "{\"kty\":\"EC\"}");
	assert_string_equal(v[1]->sealed_private, "v1.0011223344556677.c2VhbGVk");
	assert_int_equal(v[2]->activated_at, 0);
	ts_key_recs_free(v, n);

	/* Rotation: "next" becomes "current"; created_at stays. */
	k = key_rec(aid, "ka-300", "current", 12345);
	k.activated_at = 400;
	assert_int_equal(ts_store_key_put(st, &k), TS_OK);
	assert_int_equal(ts_store_key_list(st, aid, &v, &n), TS_OK);
	assert_int_equal(n, 3);
	assert_string_equal(v[2]->kid, "ka-300");
	assert_string_equal(v[2]->state, "current");
	assert_int_equal(v[2]->created_at, 300);
	assert_int_equal(v[2]->activated_at, 400);
	ts_key_recs_free(v, n);

	/* Every tenant: ordered by tenant_id, then created_at. */
	assert_int_equal(ts_store_key_list(st, NULL, &v, &n), TS_OK);
	for (i = 0; i < n; i++) {
		if (i > 0) {
			int ct = strcmp(v[i - 1]->tenant_id, v[i]->tenant_id);
			assert_true(ct < 0 || (ct == 0 && v[i - 1]->created_at <= v[i]->created_at));
		}
		if (strcmp(v[i]->tenant_id, aid) == 0 || strcmp(v[i]->tenant_id, bid) == 0)
			ours++;
	}
	assert_int_equal(ours, 4);
	ts_key_recs_free(v, n);

	k = key_rec(aid, "kbad", "active", 1);
	assert_int_equal(ts_store_key_put(st, &k), TS_EINVAL);
	k = key_rec(aid, "kbad", "next", 1);
	k.sealed_private = NULL;
	assert_int_equal(ts_store_key_put(st, &k), TS_EINVAL);
	k = key_rec("no-such-tenant", "k1", "next", 1);
	assert_int_equal(ts_store_key_put(st, &k), TS_ENOTFOUND);

	assert_int_equal(ts_store_key_delete(st, aid, "kb-200"), TS_OK);
	assert_int_equal(ts_store_key_delete(st, aid, "kb-200"), TS_ENOTFOUND);
	assert_int_equal(ts_store_key_delete(st, bid, "kc-100"), TS_ENOTFOUND);
	assert_int_equal(ts_store_key_list(st, aid, &v, &n), TS_OK);
	assert_int_equal(n, 2);
	ts_key_recs_free(v, n);
	assert_int_equal(ts_store_tenant_delete(st, a), TS_OK);
	assert_int_equal(ts_store_tenant_delete(st, b), TS_OK);
}

/* ---- automatic key rotation ---- */

#define ROT 3600
#define DEFAULT_ROT 7776000
#define LEAD 302
#define DUE_LIMIT 1000

/* A tenant with config cfg whose ES256 current key was promoted at
 * promoted and whose next key (if next_at) was published at next_at. */
static void rot_tenant(struct ts_store *st, const char *cfg, int64_t promoted, int64_t next_at,
		       char name[NAME_CAP], char id[ID_CAP])
{
	struct ts_tenant_rec t = {0};
	struct ts_key_rec k;

	rand_name(name, "rot");
	assert_int_equal(ts_rand_uuid(id), TS_OK);
	t.id = id;
	t.name = name;
	t.config = (char *)cfg;
	t.created_at = t.updated_at = 1;
	assert_int_equal(ts_store_tenant_put(st, &t), TS_OK);
	k = key_rec(id, "cur", "current", promoted);
	k.activated_at = promoted;
	assert_int_equal(ts_store_key_put(st, &k), TS_OK);
	k = key_rec(id, "old", "retired", 1);
	assert_int_equal(ts_store_key_put(st, &k), TS_OK);
	if (next_at) {
		k = key_rec(id, "nxt", "next", next_at);
		assert_int_equal(ts_store_key_put(st, &k), TS_OK);
	}
}

/* Whether tenant id is among those due at now (next keys published by
 * now - LEAD). */
static bool is_due(struct ts_store *st, const char *id, int64_t now)
{
	struct ts_tenant_rec **v = NULL;
	size_t n = 0, i;
	bool found = false;

	assert_int_equal(ts_store_key_rotation_due(st, now, now - LEAD, DEFAULT_ROT, DUE_LIMIT, &v,
						   &n), TS_OK);
	for (i = 0; i < n; i++)
		found = found || strcmp(v[i]->id, id) == 0;
	ts_tenant_recs_free(v, n);
	return found;
}

/* One query finds the tenants whose current key has signed for their
 * key_rotation (the default where none is set; 0 never) and whose next
 * key has been published long enough. */
static void test_key_rotation_due(void **state)
{
	struct ts_store *st = store_of(state);
	char a[NAME_CAP], aid[ID_CAP], z[NAME_CAP], zid[ID_CAP], d[NAME_CAP], did[ID_CAP];
	char y[NAME_CAP], yid[ID_CAP], x[NAME_CAP], xid[ID_CAP];
	struct ts_tenant_rec **v = NULL;
	size_t n = 7;

	rot_tenant(st, "{\"key_rotation\":3600}", 1000, 1000, a, aid);
	rot_tenant(st, "{\"key_rotation\":0}", 1000, 1000, z, zid);
	rot_tenant(st, "{\"display_name\":\"Default\"}", 1000, 1000, d, did);
	rot_tenant(st, "{\"key_rotation\":3600}", 1000, 4500, y, yid); /* a young next key */
	rot_tenant(st, "{\"key_rotation\":3600}", 1000, 0, x, xid);    /* no next key */

	assert_false(is_due(st, aid, 1000 + ROT - 1));
	assert_true(is_due(st, aid, 1000 + ROT));
	assert_false(is_due(st, zid, INT64_C(9999999999)));
	assert_false(is_due(st, did, 1000 + DEFAULT_ROT - 1));
	assert_true(is_due(st, did, 1000 + DEFAULT_ROT));
	assert_false(is_due(st, yid, 4500 + LEAD - 1));
	assert_true(is_due(st, yid, 4500 + LEAD));
	assert_false(is_due(st, xid, INT64_C(9999999999)));

	assert_int_equal(ts_store_key_rotation_due(st, 1, 1, 1, 0, &v, &n), TS_EINVAL);
	assert_null(v);
	assert_int_equal(n, 0);
	assert_int_equal(ts_store_key_rotation_due(st, 1, 1, 1, DUE_LIMIT + 1, &v, &n), TS_EINVAL);
	assert_int_equal(ts_store_key_rotation_due(NULL, 1, 1, 1, 1, &v, &n), TS_EINVAL);
	assert_int_equal(ts_store_tenant_delete(st, a), TS_OK);
	assert_int_equal(ts_store_tenant_delete(st, z), TS_OK);
	assert_int_equal(ts_store_tenant_delete(st, d), TS_OK);
	assert_int_equal(ts_store_tenant_delete(st, y), TS_OK);
	assert_int_equal(ts_store_tenant_delete(st, x), TS_OK);
}

/* A key's state changes only from the state named, and leaves its sealed
 * key as it is; a delete in a state likewise. */
static void test_key_set_state(void **state)
{
	struct ts_store *st = store_of(state);
	char name[NAME_CAP], id[ID_CAP];
	struct ts_key_rec **v = NULL;
	size_t n = 0;

	rot_tenant(st, "{}", 1000, 2000, name, id);
	assert_int_equal(ts_store_key_set_state(st, id, "nxt", "current", "retired", 0, 5),
			 TS_ENOTFOUND);
	assert_int_equal(ts_store_key_set_state(st, id, "nxt", "next", "current", 3000, 0), TS_OK);
	assert_int_equal(ts_store_key_set_state(st, id, "nxt", "next", "current", 3000, 0),
			 TS_ENOTFOUND);
	assert_int_equal(ts_store_key_set_state(st, id, "cur", "current", "bogus", 0, 0),
			 TS_EINVAL);
	assert_int_equal(ts_store_key_list(st, id, &v, &n), TS_OK);
	assert_int_equal(n, 3);
	assert_string_equal(v[2]->kid, "nxt");
	assert_string_equal(v[2]->state, "current");
	assert_true(v[2]->activated_at == 3000 && v[2]->retired_at == 0);
	assert_string_equal(v[2]->sealed_private, "v1.0011223344556677.c2VhbGVk");
	ts_key_recs_free(v, n);
	assert_int_equal(ts_store_key_delete_in_state(st, id, "old", "next"), TS_ENOTFOUND);
	assert_int_equal(ts_store_key_delete_in_state(st, id, "old", "retired"), TS_OK);
	assert_int_equal(ts_store_key_delete_in_state(st, id, "old", "retired"), TS_ENOTFOUND);
	assert_int_equal(ts_store_tenant_delete(st, name), TS_OK);
}

/* Where tenant id is in v, or n. */
static size_t due_pos(struct ts_tenant_rec *const *v, size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n && strcmp(v[i]->id, id) != 0; i++)
		;
	return i;
}

/* The due tenants come most overdue first, whatever their ids, and carry
 * their version as a tenant read does. */
static void test_key_rotation_due_order(void **state)
{
	struct ts_store *st = store_of(state);
	char p[NAME_CAP], pid[ID_CAP], q[NAME_CAP], qid[ID_CAP], r[NAME_CAP], rid[ID_CAP];
	struct ts_tenant_rec **v = NULL, *got = NULL;
	size_t n = 0;

	rot_tenant(st, "{\"key_rotation\":7200}", 100, 100, p, pid);   /* due at 7300 */
	rot_tenant(st, "{\"key_rotation\":3600}", 1000, 1000, q, qid); /* due at 4600 */
	rot_tenant(st, "{\"key_rotation\":3600}", 2000, 2000, r, rid); /* due at 5600 */
	assert_int_equal(ts_store_key_rotation_due(st, 10000, 10000 - LEAD, DEFAULT_ROT, DUE_LIMIT,
						   &v, &n),
			 TS_OK);
	assert_true(due_pos(v, n, qid) < due_pos(v, n, rid));
	assert_true(due_pos(v, n, rid) < due_pos(v, n, pid));
	assert_true(due_pos(v, n, pid) < n);
	assert_int_equal(ts_store_tenant_get(st, q, &got), TS_OK);
	assert_true(got->version > 0);
	assert_int_equal(v[due_pos(v, n, qid)]->version, got->version);
	ts_tenant_rec_free(got);
	ts_tenant_recs_free(v, n);
	assert_int_equal(ts_store_tenant_delete(st, p), TS_OK);
	assert_int_equal(ts_store_tenant_delete(st, q), TS_OK);
	assert_int_equal(ts_store_tenant_delete(st, r), TS_OK);
}

int main(void)
{
	const struct CMUnitTest config_tests[] = {
		cmocka_unit_test(test_tenant_crud),
		cmocka_unit_test(test_tenant_invalid),
		cmocka_unit_test(test_tenant_delete_cascades),
		cmocka_unit_test(test_tenant_versions),
		cmocka_unit_test(test_client_crud),
		cmocka_unit_test(test_client_update),
		cmocka_unit_test(test_key_crud),
		cmocka_unit_test(test_key_rotation_due),
		cmocka_unit_test(test_key_rotation_due_order),
		cmocka_unit_test(test_key_set_state),
	};
	const struct CMUnitTest concurrency_tests[] = {
		cmocka_unit_test(test_client_update_races_delete),
	};
	int failed = 0;

	failed += cmocka_run_group_tests_name("store_config", config_tests, group_setup,
					      group_teardown);
	failed += cmocka_run_group_tests_name("store_config_concurrency", concurrency_tests,
					      group_setup, group_teardown);
	return failed != 0;
}
