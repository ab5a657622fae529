/* test_store.c: the store contract for opening, configuration (tenants,
 * clients, keys), revocations, audit and concurrency, written against the
 * ts_store_* API only so that it runs unchanged against every backend (see
 * test_store_fixture.h for how the store is chosen). test_store_people.c,
 * test_store_grants.c and test_store_state.c cover the rest of the
 * contract; test_store_sqlite.c the SQLite backend's specifics. */
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
/* Audit times far in the future, offset randomly, keep this run's records
 * apart from anything else in a shared database. */
#define AUDIT_TIME_BASE INT64_C(5000000000)
#define AUDIT_QUERY_ALL 100000

static void put_client(struct ts_store *st, const char *tid, const char *cid,
		       const char *secret_hash, int64_t at)
{
	struct ts_client_rec c = {0};

	c.tenant_id = (char *)tid;
	c.client_id = (char *)cid;
	c.config = "{\"type\":\"confidential\"}";
	c.secret_hash = (char *)secret_hash;
	c.created_at = at;
	c.updated_at = at;
	assert_int_equal(ts_store_client_put(st, &c), TS_OK);
}

static struct ts_key_rec key_rec(const char *tid, const char *kid, const char *state,
				 int64_t created)
{
	struct ts_key_rec k = {0};

	k.tenant_id = (char *)tid;
	k.kid = (char *)kid;
	k.alg = "ES256";
	k.state = (char *)state;
	k.public_jwk = "{\"kty\":\"EC\"}";
	k.sealed_private = "v1.0011223344556677.c2VhbGVk";
	k.created_at = created;
	return k;
}

/* ---- open, ping, migrations ---- */

static void test_open_twice(void **state)
{
	struct fx *fx = *state;
	struct ts_store *a = NULL, *b = NULL;
	struct ts_tenant_rec *t = NULL;
	char name[NAME_CAP], id[37];

	/* A second open of the same store migrates nothing and sees the data;
	 * two stores open on one database at once both work. */
	new_tenant(fx->st, "reopen", name, id);
	assert_int_equal(ts_store_open(fx->url, &a), TS_OK);
	assert_int_equal(ts_store_open(fx->url, &b), TS_OK);
	assert_int_equal(ts_store_ping(a), TS_OK);
	assert_int_equal(ts_store_ping(b), TS_OK);
	assert_int_equal(ts_store_tenant_get(a, name, &t), TS_OK);
	assert_string_equal(t->id, id);
	ts_tenant_rec_free(t);
	assert_int_equal(ts_store_tenant_delete(b, name), TS_OK);
	assert_int_equal(ts_store_tenant_get(a, name, &t), TS_ENOTFOUND);
	assert_null(t);
	ts_store_close(a);
	ts_store_close(b);
	ts_store_close(NULL);
}

static void test_ping(void **state)
{
	assert_int_equal(ts_store_ping(store_of(state)), TS_OK);
	assert_int_equal(ts_store_ping(NULL), TS_EINVAL);
}

static void test_open_bad_urls(void **state)
{
	struct ts_store *st = (struct ts_store *)1;

	(void)state;
	assert_int_equal(ts_store_open(NULL, &st), TS_EINVAL);
	assert_null(st);
	assert_int_equal(ts_store_open("bogus://x", &st), TS_EINVAL);
	assert_int_equal(ts_store_open("", &st), TS_EINVAL);
	assert_int_equal(ts_store_open("sqlite:", &st), TS_EINVAL);
	assert_int_equal(ts_store_open("sqlite::memory:", &st), TS_EINVAL);
	assert_int_equal(ts_store_open("SQLITE:/tmp/x.db", &st), TS_EINVAL);
	assert_null(st);
	assert_int_equal(ts_store_open("sqlite:/x.db", NULL), TS_EINVAL);
}

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

/* ---- generation ---- */

static void test_generation(void **state)
{
	struct ts_store *st = store_of(state);
	struct ts_audit_rec a = {0};
	struct ts_key_rec k;
	char name[NAME_CAP], id[37];
	int64_t g, g2;

	g = generation(st);
	new_tenant(st, "gen", name, id);
	g2 = generation(st);
	assert_true(g2 > g);
	g = g2;

	put_client(st, id, "c", NULL, 1);
	assert_true((g2 = generation(st)) > g);
	g = g2;
	put_client(st, id, "c", NULL, 1); /* an update counts too */
	assert_true((g2 = generation(st)) > g);
	g = g2;
	k = key_rec(id, "k", "next", 1);
	assert_int_equal(ts_store_key_put(st, &k), TS_OK);
	assert_true((g2 = generation(st)) > g);
	g = g2;

	/* Revocations, purges and audit records are not configuration. */
	assert_int_equal(ts_store_revoke_put(st, id, "j", 5), TS_OK);
	assert_int_equal(ts_store_revoke_purge(st, 1), TS_OK);
	a.tenant = name;
	a.time = 1;
	a.type = "test.event";
	assert_int_equal(ts_store_audit_append(st, &a, 1), TS_OK);
	/* Failed writes change nothing. */
	assert_int_equal(ts_store_client_delete(st, id, "missing"), TS_ENOTFOUND);
	assert_int_equal(ts_store_key_delete(st, id, "missing"), TS_ENOTFOUND);
	assert_int_equal(ts_store_tenant_delete(st, "tmissing-x"), TS_ENOTFOUND);
	assert_int_equal(generation(st), g);

	assert_int_equal(ts_store_key_delete(st, id, "k"), TS_OK);
	assert_true((g2 = generation(st)) > g);
	g = g2;
	assert_int_equal(ts_store_client_delete(st, id, "c"), TS_OK);
	assert_true((g2 = generation(st)) > g);
	g = g2;
	assert_int_equal(ts_store_tenant_delete(st, name), TS_OK);
	assert_true(generation(st) > g);
	assert_int_equal(ts_store_generation(st, NULL), TS_EINVAL);
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

/* ---- write batches ---- */

struct peek {
	struct ts_store *st;
	const char *name;
	int rc;
};

static void *peek_tenant(void *arg)
{
	struct peek *p = arg;
	struct ts_tenant_rec *t = NULL;

	p->rc = ts_store_tenant_get(p->st, p->name, &t);
	ts_tenant_rec_free(t);
	return NULL;
}

/* Writes between batch_begin and batch_end are one transaction: visible to
 * the batch's own reads at once, to other threads after the commit, to no
 * one after a rollback; a failed write inside is undone alone. */
static void test_batch(void **state)
{
	struct ts_store *st = store_of(state);
	struct ts_tenant_rec *t = NULL;
	struct ts_client_rec c = {0};
	struct peek p = {.st = st};
	pthread_t th;
	char a[NAME_CAP], aid[ID_CAP], b[NAME_CAP], bid[ID_CAP];
	int64_t g = generation(st);

	assert_int_equal(ts_store_batch_end(st, true), TS_EINVAL);
	assert_int_equal(ts_store_batch_begin(st), TS_OK);
	assert_int_equal(ts_store_batch_begin(st), TS_EINVAL);
	new_tenant(st, "ba", a, aid);
	put_client(st, aid, "c", NULL, 1);
	c.tenant_id = "no-such-tenant";
	c.client_id = "c";
	c.config = "{}";
	assert_int_equal(ts_store_client_put(st, &c), TS_ENOTFOUND);
	assert_int_equal(ts_store_tenant_get(st, a, &t), TS_OK);
	ts_tenant_rec_free(t);
	p.name = a;
	assert_int_equal(pthread_create(&th, NULL, peek_tenant, &p), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(p.rc, TS_ENOTFOUND);
	assert_int_equal(ts_store_batch_end(st, true), TS_OK);
	assert_true(generation(st) > g);
	assert_int_equal(pthread_create(&th, NULL, peek_tenant, &p), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(p.rc, TS_OK);
	{
		struct ts_client_rec *got = NULL;
		assert_int_equal(ts_store_client_get(st, aid, "c", &got), TS_OK);
		ts_client_rec_free(got);
		assert_int_equal(ts_store_client_get(st, "no-such-tenant", "c", &got), TS_ENOTFOUND);
	}

	g = generation(st);
	assert_int_equal(ts_store_batch_begin(st), TS_OK);
	new_tenant(st, "bb", b, bid);
	assert_int_equal(ts_store_batch_end(st, false), TS_OK);
	assert_int_equal(ts_store_tenant_get(st, b, &t), TS_ENOTFOUND);
	assert_int_equal(generation(st), g);
	/* Outside a batch, writes commit one by one again. */
	new_tenant(st, "bc", b, bid);
	assert_int_equal(ts_store_tenant_get(st, b, &t), TS_OK);
	ts_tenant_rec_free(t);
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

/* ---- keys ---- */

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

/* ---- revocations ---- */

static void test_revoke(void **state)
{
	struct ts_store *st = store_of(state);
	char name[NAME_CAP], id[37];
	bool revoked = false;

	new_tenant(st, "rev", name, id);
	assert_int_equal(ts_store_revoke_check(st, id, "old", &revoked), TS_OK);
	assert_false(revoked);
	assert_int_equal(ts_store_revoke_put(st, id, "old", 1000), TS_OK);
	assert_int_equal(ts_store_revoke_put(st, id, "old", 1000), TS_OK); /* idempotent */
	assert_int_equal(ts_store_revoke_put(st, id, "new", INT64_C(9999999999)), TS_OK);
	assert_int_equal(ts_store_revoke_check(st, id, "old", &revoked), TS_OK);
	assert_true(revoked);
	assert_int_equal(ts_store_revoke_check(st, id, "new", &revoked), TS_OK);
	assert_true(revoked);
	assert_int_equal(ts_store_revoke_check(st, id, "other", &revoked), TS_OK);
	assert_false(revoked);
	assert_int_equal(ts_store_revoke_check(st, "no-such-tenant", "old", &revoked), TS_OK);
	assert_false(revoked);

	/* Purge forgets what expired before now, and only that. */
	assert_int_equal(ts_store_revoke_purge(st, 1000), TS_OK);
	assert_int_equal(ts_store_revoke_check(st, id, "old", &revoked), TS_OK);
	assert_true(revoked);
	assert_int_equal(ts_store_revoke_purge(st, 1001), TS_OK);
	assert_int_equal(ts_store_revoke_check(st, id, "old", &revoked), TS_OK);
	assert_false(revoked);
	assert_int_equal(ts_store_revoke_check(st, id, "new", &revoked), TS_OK);
	assert_true(revoked);

	assert_int_equal(ts_store_revoke_put(st, "no-such-tenant", "x", 1), TS_ENOTFOUND);
	assert_int_equal(ts_store_revoke_put(st, id, "", 1), TS_EINVAL);
	revoked = false;
	assert_int_equal(ts_store_revoke_check(st, id, NULL, &revoked), TS_EINVAL);
	assert_true(revoked); /* fails closed */
	assert_int_equal(ts_store_tenant_delete(st, name), TS_OK);
}

/* A single-use id is accepted by the first insert only, and counts as a
 * revocation until it is purged. */
static void test_jti_use(void **state)
{
	struct ts_store *st = store_of(state);
	char name[NAME_CAP], id[37];
	bool revoked = false;

	new_tenant(st, "jti", name, id);
	assert_int_equal(ts_store_jti_use(st, id, "a:1", 1000), TS_OK);
	assert_int_equal(ts_store_jti_use(st, id, "a:1", 1000), TS_EEXIST);
	assert_int_equal(ts_store_jti_use(st, id, "a:1", 2000), TS_EEXIST);
	assert_int_equal(ts_store_revoke_check(st, id, "a:1", &revoked), TS_OK);
	assert_true(revoked);
	/* A revoked token id is used too. */
	assert_int_equal(ts_store_revoke_put(st, id, "a:2", 1000), TS_OK);
	assert_int_equal(ts_store_jti_use(st, id, "a:2", 1000), TS_EEXIST);
	assert_int_equal(ts_store_revoke_purge(st, 1001), TS_OK);
	assert_int_equal(ts_store_jti_use(st, id, "a:1", 3000), TS_OK);
	assert_int_equal(ts_store_jti_use(st, id, "", 1), TS_EINVAL);
	assert_int_equal(ts_store_jti_use(st, NULL, "x", 1), TS_EINVAL);
	assert_int_equal(ts_store_tenant_delete(st, name), TS_OK);
}

/* What of a store URL may be shown: never a password, wherever it sits. */
static void test_url_shown(void **state)
{
	static const struct {
		const char *url, *shown;
	} v[] = {
		{"sqlite:/tmp/t.db", "sqlite:/tmp/t.db"},
		{"postgresql://u:pw@db.example:5432/app?sslmode=require&password=x",
		 "postgresql://db.example:5432/app"},
		{"postgres://u:Sekr3t%2FLeak@h/app", "postgres://h/app"},
		/* libpq reads "u" as host and "Sekr3t" as port here. */
		{"postgres://u:Sekr3t/Leak@h:5/db", "postgres://.../..."},
		{"postgres://u:123456/Leak@h:5/db", "postgres://.../..."},
		{"postgres://u:Sekr3t?Leak@h:5/db", "postgres://h:5/db"},
		{"mysql://u:Sekr3tLeak@h/db", "of an unknown kind"},
	};
	char buf[256];
	size_t i;
	(void)state;
	for (i = 0; i < TS_ARRAY_LEN(v); i++)
		assert_string_equal(ts_store_url_shown(v[i].url, buf, sizeof(buf)), v[i].shown);
}

/* ---- audit ---- */

/* Queries every tenant's records since `since`, checks the order and the
 * filter, and counts those of tenants t and u and the server-wide ones whose
 * subject is marker. */
static size_t count_ours(struct ts_store *st, int64_t since, const char *t, const char *u,
			 const char *marker)
{
	struct ts_audit_rec **v = NULL;
	size_t n = 0, i, ours = 0;

	assert_int_equal(ts_store_audit_query(st, NULL, since, AUDIT_QUERY_ALL, &v, &n), TS_OK);
	for (i = 0; i < n; i++) {
		assert_true(v[i]->time >= since);
		if (i > 0)
			assert_true(v[i - 1]->time >= v[i]->time);
		if (v[i]->tenant ? strcmp(v[i]->tenant, t) == 0 || strcmp(v[i]->tenant, u) == 0
				 : v[i]->subject != NULL && strcmp(v[i]->subject, marker) == 0)
			ours++;
	}
	ts_audit_recs_free(v, n);
	return ours;
}

static void test_audit(void **state)
{
	struct ts_store *st = store_of(state);
	struct ts_audit_rec recs[8];
	struct ts_audit_rec **v = NULL;
	char t[NAME_CAP], u[NAME_CAP], marker[NAME_CAP];
	unsigned char r[3];
	int64_t base;
	size_t n = 0, i;

	rand_name(t, "audit");
	rand_name(u, "audit2");
	rand_name(marker, "server");
	assert_int_equal(ts_rand_bytes(r, sizeof(r)), TS_OK);
	base = AUDIT_TIME_BASE + ((int64_t)r[0] << 16 | (int64_t)r[1] << 8 | r[2]) * 10;
	memset(recs, 0, sizeof(recs));
	/* Five for t (times out of order), two for u, one server-wide. */
	for (i = 0; i < 5; i++) {
		recs[i].tenant = t;
		recs[i].time = base + (int64_t)((i * 3) % 5);
		recs[i].type = "token.issued";
		recs[i].actor = "client-1";
		recs[i].subject = "jti";
		recs[i].request_id = i == 0 ? "rid-0" : NULL;
		recs[i].detail = i == 0 ? "{\"scope\":\"openid\"}" : NULL;
	}
	recs[5].tenant = u;
	recs[5].time = base;
	recs[5].type = "client.created";
	recs[6] = recs[5];
	recs[6].time = base + 1;
	recs[7].tenant = NULL;
	recs[7].time = base + 2;
	recs[7].type = "server.started";
	recs[7].subject = marker;
	recs[7].id = 12345; /* ignored */
	assert_int_equal(ts_store_audit_append(st, recs, 8), TS_OK);

	/* One tenant, newest first. */
	assert_int_equal(ts_store_audit_query(st, t, 0, 100, &v, &n), TS_OK);
	assert_int_equal(n, 5);
	for (i = 0; i < n; i++) {
		assert_string_equal(v[i]->tenant, t);
		assert_int_equal(v[i]->time, base + 4 - (int64_t)i);
		if (i > 0)
			assert_true(v[i]->id != v[i - 1]->id);
	}
	assert_string_equal(v[4]->type, "token.issued");
	assert_string_equal(v[4]->actor, "client-1");
	assert_string_equal(v[4]->subject, "jti");
	assert_string_equal(v[4]->request_id, "rid-0");
	assert_string_equal(v[4]->detail, "{\"scope\":\"openid\"}");
	assert_null(v[3]->request_id);
	assert_null(v[3]->detail);
	ts_audit_recs_free(v, n);

	/* since and limit. */
	assert_int_equal(ts_store_audit_query(st, t, base + 3, 100, &v, &n), TS_OK);
	assert_int_equal(n, 2);
	assert_int_equal(v[0]->time, base + 4);
	assert_int_equal(v[1]->time, base + 3);
	ts_audit_recs_free(v, n);
	/* A limit keeps the latest. */
	assert_int_equal(ts_store_audit_query(st, t, 0, 2, &v, &n), TS_OK);
	assert_int_equal(n, 2);
	assert_int_equal(v[0]->time, base + 4);
	assert_int_equal(v[1]->time, base + 3);
	ts_audit_recs_free(v, n);
	assert_int_equal(ts_store_audit_query(st, t, 0, 0, &v, &n), TS_OK);
	assert_int_equal(n, 0);
	ts_audit_recs_free(v, n);

	/* Every tenant, including server-wide records (others' records may
	 * share a database, so ours are counted among them). */
	assert_int_equal(count_ours(st, base, t, u, marker), 8);
	assert_int_equal(count_ours(st, base + 2, t, u, marker), 4); /* t +2..+4, server +2 */
	assert_int_equal(ts_store_audit_query(st, u, base, 1, &v, &n), TS_OK);
	assert_int_equal(n, 1);
	assert_int_equal(v[0]->time, base + 1);
	assert_string_equal(v[0]->type, "client.created");
	assert_null(v[0]->actor);
	ts_audit_recs_free(v, n);

	/* An empty batch is a no-op; a bad one stores nothing. */
	assert_int_equal(ts_store_audit_append(st, NULL, 0), TS_OK);
	assert_int_equal(ts_store_audit_append(st, NULL, 1), TS_EINVAL);
	recs[1].type = NULL;
	assert_int_equal(ts_store_audit_append(st, recs, 2), TS_EINVAL);
	assert_int_equal(ts_store_audit_query(st, t, 0, 100, &v, &n), TS_OK);
	assert_int_equal(n, 5);
	ts_audit_recs_free(v, n);
}

/* ---- many threads ---- */

struct worker {
	struct ts_store *st;
	const char *tenant_id;
	const char *tenant_name;
	int idx;
	atomic_int *failures;
};

static void note_failure(struct worker *w, const char *what, int rc)
{
	fprintf(stderr, "worker %d: %s: %s\n", w->idx, what, ts_rc_str(rc));
	atomic_fetch_add(w->failures, 1);
}

/* Puts and gets on its own clients, revocations and audit records, and
 * reads the shared tenant, so that reads and writes interleave. */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct ts_client_rec c = {0}, *got = NULL;
	struct ts_tenant_rec *t = NULL;
	struct ts_audit_rec a = {0};
	char cid[32], jti[32];
	int64_t g;
	bool revoked;
	int i, rc;

	c.tenant_id = (char *)w->tenant_id;
	c.client_id = cid;
	c.config = "{}";
	a.tenant = (char *)w->tenant_name;
	a.type = "test.concurrent";
	for (i = 0; i < OPS_PER_THREAD; i++) {
		snprintf(cid, sizeof(cid), "w%d-c%d", w->idx, i);
		snprintf(jti, sizeof(jti), "w%d-j%d", w->idx, i);
		c.created_at = i;
		if ((rc = ts_store_client_put(w->st, &c)) != TS_OK)
			note_failure(w, "client_put", rc);
		if ((rc = ts_store_client_get(w->st, w->tenant_id, cid, &got)) != TS_OK ||
		    strcmp(got->client_id, cid) != 0)
			note_failure(w, "client_get", rc);
		ts_client_rec_free(got);
		got = NULL;
		if ((rc = ts_store_tenant_get(w->st, w->tenant_name, &t)) != TS_OK)
			note_failure(w, "tenant_get", rc);
		ts_tenant_rec_free(t);
		t = NULL;
		if ((rc = ts_store_revoke_put(w->st, w->tenant_id, jti, 1)) != TS_OK)
			note_failure(w, "revoke_put", rc);
		revoked = false;
		if ((rc = ts_store_revoke_check(w->st, w->tenant_id, jti, &revoked)) != TS_OK ||
		    !revoked)
			note_failure(w, "revoke_check", rc);
		a.time = i;
		if ((rc = ts_store_audit_append(w->st, &a, 1)) != TS_OK)
			note_failure(w, "audit_append", rc);
		if ((rc = ts_store_generation(w->st, &g)) != TS_OK)
			note_failure(w, "generation", rc);
	}
	return NULL;
}

struct jti_racer {
	struct ts_store *st;
	const char *tenant_id;
	pthread_barrier_t *start;
	atomic_int *wins;
	atomic_int *failures;
};

/* Every racer inserts the same ids at once; each id has one winner. */
static void *jti_racer_main(void *arg)
{
	struct jti_racer *r = arg;
	char jti[32];
	int i, rc;

	for (i = 0; i < OPS_PER_THREAD; i++) {
		snprintf(jti, sizeof(jti), "race-%d", i);
		if (i == 0)
			pthread_barrier_wait(r->start);
		rc = ts_store_jti_use(r->st, r->tenant_id, jti, INT64_C(9999999999));
		if (rc == TS_OK)
			atomic_fetch_add(r->wins, 1);
		else if (rc != TS_EEXIST)
			atomic_fetch_add(r->failures, 1);
	}
	return NULL;
}

static void test_jti_use_concurrent(void **state)
{
	struct ts_store *st = store_of(state);
	pthread_t th[THREADS];
	struct jti_racer r[THREADS];
	pthread_barrier_t start;
	atomic_int wins = 0, failures = 0;
	char name[NAME_CAP], id[37];
	int i;

	new_tenant(st, "jtirace", name, id);
	pthread_barrier_init(&start, NULL, THREADS);
	for (i = 0; i < THREADS; i++) {
		r[i] = (struct jti_racer){st, id, &start, &wins, &failures};
		assert_int_equal(pthread_create(&th[i], NULL, jti_racer_main, &r[i]), 0);
	}
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	pthread_barrier_destroy(&start);
	assert_int_equal(atomic_load(&failures), 0);
	assert_int_equal(atomic_load(&wins), OPS_PER_THREAD);
	assert_int_equal(ts_store_tenant_delete(st, name), TS_OK);
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

static void test_concurrent(void **state)
{
	struct ts_store *st = store_of(state);
	pthread_t th[THREADS];
	struct worker w[THREADS];
	struct ts_client_rec **v = NULL;
	struct ts_audit_rec **av = NULL;
	atomic_int failures = 0;
	char name[NAME_CAP], id[37];
	int64_t g0;
	size_t n = 0;
	int i;

	new_tenant(st, "threads", name, id);
	g0 = generation(st);
	for (i = 0; i < THREADS; i++) {
		w[i] = (struct worker){st, id, name, i, &failures};
		assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
	}
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	assert_int_equal(atomic_load(&failures), 0);

	assert_int_equal(ts_store_client_list(st, id, &v, &n), TS_OK);
	assert_int_equal(n, THREADS * OPS_PER_THREAD);
	ts_client_recs_free(v, n);
	assert_int_equal(ts_store_audit_query(st, name, 0, 10000, &av, &n), TS_OK);
	assert_int_equal(n, THREADS * OPS_PER_THREAD);
	ts_audit_recs_free(av, n);
	assert_true(generation(st) >= g0 + THREADS * OPS_PER_THREAD);
	assert_int_equal(ts_store_tenant_delete(st, name), TS_OK);
}

int main(void)
{
	const struct CMUnitTest open_tests[] = {
		cmocka_unit_test(test_open_twice),
		cmocka_unit_test(test_ping),
		cmocka_unit_test(test_open_bad_urls),
		cmocka_unit_test(test_url_shown),
	};
	const struct CMUnitTest contract_tests[] = {
		cmocka_unit_test(test_tenant_crud),
		cmocka_unit_test(test_tenant_invalid),
		cmocka_unit_test(test_tenant_delete_cascades),
		cmocka_unit_test(test_generation),
		cmocka_unit_test(test_tenant_versions),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_client_crud),
		cmocka_unit_test(test_client_update),
		cmocka_unit_test(test_key_crud),
		cmocka_unit_test(test_revoke),
		cmocka_unit_test(test_jti_use),
		cmocka_unit_test(test_audit),
		cmocka_unit_test(test_key_rotation_due),
		cmocka_unit_test(test_key_rotation_due_order),
		cmocka_unit_test(test_key_set_state),
	};
	const struct CMUnitTest concurrency_tests[] = {
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_jti_use_concurrent),
		cmocka_unit_test(test_client_update_races_delete),
	};
	int failed = 0;

	failed += cmocka_run_group_tests_name("store_open", open_tests, group_setup,
					      group_teardown);
	failed += cmocka_run_group_tests_name("store_contract", contract_tests, group_setup,
					      group_teardown);
	failed += cmocka_run_group_tests_name("store_concurrency", concurrency_tests,
					      group_setup, group_teardown);
	return failed != 0;
}
