/* test_store.c: the store contract for opening, the generation, write
 * batches, revocations and single-use ids, audit and concurrency, written
 * against the ts_store_* API only so that it runs unchanged against every
 * backend (see test_store_fixture.h for how the store is chosen).
 * test_store_config.c, test_store_people.c, test_store_grants.c,
 * test_store_state.c and test_store_vault.c cover the rest of the contract;
 * test_store_sqlite.c the SQLite backend's specifics. */
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
		cmocka_unit_test(test_generation),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_revoke),
		cmocka_unit_test(test_jti_use),
		cmocka_unit_test(test_audit),
	};
	const struct CMUnitTest concurrency_tests[] = {
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_jti_use_concurrent),
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
