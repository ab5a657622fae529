/* test_store_state.c: the store contract for sessions, consent, pending
 * state, shared throttling and purge_expired, against the ts_store_* API only (see
 * test_store_fixture.h for how the store is chosen); and, across all the
 * operations of people and token flows, that none of them moves the
 * generation and that deleting a tenant takes all of it along. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_store_fixture.h"

/* Times for the purge test: rows expire at EXPIRED or FAR_FUTURE, and
 * the purge runs at PURGE_NOW, between the two. */
#define EXPIRED 500
#define PURGE_NOW 1000

static struct ts_session_rec session_rec(const char *hash, const char *tid, const char *uid,
					 int64_t expires_at)
{
	struct ts_session_rec s = {0};

	s.id_hash = (char *)hash;
	s.tenant_id = (char *)tid;
	s.user_id = (char *)uid;
	s.auth_time = 10;
	s.last_seen = 20;
	s.expires_at = expires_at;
	return s;
}

static void test_sessions(void **state)
{
	struct ts_store *st = store_of(state);
	struct ts_session_rec s, *got = NULL;
	char name[NAME_CAP], tid[ID_CAP], uid[ID_CAP], uid2[ID_CAP];
	char h1[HASH_CAP], h2[HASH_CAP], h3[HASH_CAP];

	new_tenant(st, "sessions", name, tid);
	new_user(st, tid, "u1", uid);
	new_user(st, tid, "u2", uid2);
	rand_hash(h1);
	rand_hash(h2);
	rand_hash(h3);
	s = session_rec(h1, tid, uid, FAR_FUTURE);
	assert_int_equal(ts_store_session_put(st, &s), TS_OK);
	s = session_rec(h2, tid, uid, FAR_FUTURE);
	assert_int_equal(ts_store_session_put(st, &s), TS_OK);
	s = session_rec(h3, tid, uid2, FAR_FUTURE);
	assert_int_equal(ts_store_session_put(st, &s), TS_OK);

	assert_int_equal(ts_store_session_get(st, h1, &got), TS_OK);
	assert_string_equal(got->id_hash, h1);
	assert_string_equal(got->tenant_id, tid);
	assert_string_equal(got->user_id, uid);
	assert_int_equal(got->auth_time, 10);
	assert_int_equal(got->last_seen, 20);
	assert_int_equal(got->expires_at, FAR_FUTURE);
	ts_session_rec_free(got);
	got = NULL;

	/* Touch moves last_seen forward only (requests may finish out of
	 * order). */
	assert_int_equal(ts_store_session_touch(st, h1, 30), TS_OK);
	assert_int_equal(ts_store_session_touch(st, h1, 25), TS_OK);
	assert_int_equal(ts_store_session_get(st, h1, &got), TS_OK);
	assert_int_equal(got->last_seen, 30);
	assert_int_equal(got->auth_time, 10);
	ts_session_rec_free(got);
	got = NULL;

	/* Put again replaces (e.g. a new auth_time). */
	s = session_rec(h1, tid, uid, FAR_FUTURE);
	s.auth_time = 40;
	s.last_seen = 40;
	assert_int_equal(ts_store_session_put(st, &s), TS_OK);
	assert_int_equal(ts_store_session_get(st, h1, &got), TS_OK);
	assert_int_equal(got->auth_time, 40);
	ts_session_rec_free(got);
	got = NULL;

	assert_int_equal(ts_store_session_delete(st, h1), TS_OK);
	assert_int_equal(ts_store_session_get(st, h1, &got), TS_ENOTFOUND);
	assert_null(got);
	assert_int_equal(ts_store_session_delete(st, h1), TS_ENOTFOUND);
	assert_int_equal(ts_store_session_touch(st, h1, 50), TS_ENOTFOUND);

	/* All of one user's sessions end; the other user's stay. */
	assert_int_equal(ts_store_session_delete_user(st, tid, uid), TS_OK);
	assert_int_equal(ts_store_session_get(st, h2, &got), TS_ENOTFOUND);
	assert_int_equal(ts_store_session_get(st, h3, &got), TS_OK);
	ts_session_rec_free(got);
	got = NULL;
	assert_int_equal(ts_store_session_delete_user(st, tid, uid), TS_OK); /* none left */

	/* Missing parents and bad arguments. */
	s = session_rec(h1, tid, "no-such-user", FAR_FUTURE);
	assert_int_equal(ts_store_session_put(st, &s), TS_ENOTFOUND);
	s = session_rec("", tid, uid, FAR_FUTURE);
	assert_int_equal(ts_store_session_put(st, &s), TS_EINVAL);
	s = session_rec(h1, tid, NULL, FAR_FUTURE);
	assert_int_equal(ts_store_session_put(st, &s), TS_EINVAL);
	assert_int_equal(ts_store_session_get(st, NULL, &got), TS_EINVAL);
	assert_int_equal(ts_store_session_get(st, h3, NULL), TS_EINVAL);
	assert_int_equal(ts_store_session_touch(NULL, h3, 1), TS_EINVAL);
	assert_int_equal(ts_store_session_delete_user(st, NULL, uid), TS_EINVAL);
	assert_int_equal(ts_store_tenant_delete(st, name), TS_OK);
}

static void test_consent(void **state)
{
	struct ts_store *st = store_of(state);
	char name[NAME_CAP], tid[ID_CAP], uid[ID_CAP], uid2[ID_CAP];
	char *scope = (char *)1;

	new_tenant(st, "consent", name, tid);
	new_user(st, tid, "u1", uid);
	new_user(st, tid, "u2", uid2);
	assert_int_equal(ts_store_consent_get(st, tid, uid, "app", &scope), TS_ENOTFOUND);
	assert_null(scope);
	assert_int_equal(ts_store_consent_put(st, tid, uid, "app", "openid email"), TS_OK);
	assert_int_equal(ts_store_consent_put(st, tid, uid, "other", "openid"), TS_OK);
	assert_int_equal(ts_store_consent_get(st, tid, uid, "app", &scope), TS_OK);
	assert_string_equal(scope, "openid email");
	free(scope);
	/* Overwrite. */
	assert_int_equal(ts_store_consent_put(st, tid, uid, "app", "openid"), TS_OK);
	assert_int_equal(ts_store_consent_get(st, tid, uid, "app", &scope), TS_OK);
	assert_string_equal(scope, "openid");
	free(scope);
	/* Per user and per client. */
	assert_int_equal(ts_store_consent_get(st, tid, uid2, "app", &scope), TS_ENOTFOUND);
	assert_int_equal(ts_store_consent_get(st, tid, uid, "other", &scope), TS_OK);
	assert_string_equal(scope, "openid");
	free(scope);

	assert_int_equal(ts_store_consent_put(st, tid, "no-such-user", "app", "openid"),
			 TS_ENOTFOUND);
	assert_int_equal(ts_store_consent_put(st, tid, uid, "app", NULL), TS_EINVAL);
	assert_int_equal(ts_store_consent_get(st, tid, uid, NULL, &scope), TS_EINVAL);
	assert_null(scope);
	assert_int_equal(ts_store_consent_get(st, tid, uid, "app", NULL), TS_EINVAL);
	assert_int_equal(ts_store_tenant_delete(st, name), TS_OK);
}

static void test_pending(void **state)
{
	struct ts_store *st = store_of(state);
	char name[NAME_CAP], tid[ID_CAP], h[HASH_CAP];
	char *t = NULL, *k = NULL, *d = NULL;
	int64_t exp = 0;

	new_tenant(st, "pending", name, tid);
	rand_hash(h);
	assert_int_equal(ts_store_pending_get(st, h, &t, &k, &d, &exp), TS_ENOTFOUND);
	assert_int_equal(ts_store_pending_put(st, tid, h, "authz", "{\"state\":\"s1\"}", 777),
			 TS_OK);
	assert_int_equal(ts_store_pending_get(st, h, &t, &k, &d, &exp), TS_OK);
	assert_string_equal(t, tid);
	assert_string_equal(k, "authz");
	assert_string_equal(d, "{\"state\":\"s1\"}");
	assert_int_equal(exp, 777);
	free(t);
	free(k);
	free(d);
	/* Replace; out-parameters the caller does not want may be NULL. */
	assert_int_equal(ts_store_pending_put(st, tid, h, "device", "{}", 888), TS_OK);
	assert_int_equal(ts_store_pending_get(st, h, NULL, &k, NULL, &exp), TS_OK);
	assert_string_equal(k, "device");
	assert_int_equal(exp, 888);
	free(k);
	assert_int_equal(ts_store_pending_get(st, h, NULL, NULL, NULL, NULL), TS_OK);

	/* A conditional update: only while the data is what the caller read
	 * (or, without old data, while the row exists); kind and expiry stay. */
	assert_int_equal(ts_store_pending_update(st, h, "{\"s\":1}", "{\"s\":2}"), TS_ENOTFOUND);
	assert_int_equal(ts_store_pending_update(st, h, "{}", "{\"s\":1}"), TS_OK);
	assert_int_equal(ts_store_pending_update(st, h, "{}", "{\"s\":3}"), TS_ENOTFOUND);
	assert_int_equal(ts_store_pending_update(st, h, NULL, "{\"s\":2}"), TS_OK);
	assert_int_equal(ts_store_pending_get(st, h, NULL, &k, &d, &exp), TS_OK);
	assert_string_equal(k, "device");
	assert_string_equal(d, "{\"s\":2}");
	assert_int_equal(exp, 888);
	free(k);
	free(d);
	assert_int_equal(ts_store_pending_update(st, h, NULL, NULL), TS_EINVAL);
	assert_int_equal(ts_store_pending_update(st, NULL, NULL, "{}"), TS_EINVAL);

	assert_int_equal(ts_store_pending_delete(st, h), TS_OK);
	assert_int_equal(ts_store_pending_delete(st, h), TS_ENOTFOUND);
	assert_int_equal(ts_store_pending_update(st, h, NULL, "{}"), TS_ENOTFOUND);
	t = k = d = (char *)1;
	exp = 1;
	assert_int_equal(ts_store_pending_get(st, h, &t, &k, &d, &exp), TS_ENOTFOUND);
	assert_null(t);
	assert_null(k);
	assert_null(d);
	assert_int_equal(exp, 0);

	assert_int_equal(ts_store_pending_put(st, "no-such-tenant", h, "authz", "{}", 1),
			 TS_ENOTFOUND);
	assert_int_equal(ts_store_pending_put(st, tid, "", "authz", "{}", 1), TS_EINVAL);
	assert_int_equal(ts_store_pending_put(st, tid, h, NULL, "{}", 1), TS_EINVAL);
	assert_int_equal(ts_store_pending_put(st, tid, h, "authz", NULL, 1), TS_EINVAL);
	assert_int_equal(ts_store_pending_get(st, NULL, &t, &k, &d, &exp), TS_EINVAL);
	assert_int_equal(ts_store_pending_delete(st, NULL), TS_EINVAL);
	assert_int_equal(ts_store_tenant_delete(st, name), TS_OK);
}

/* One of everything for a user of a tenant, at a given expiry. The
 * digests come back in the struct. */
struct things {
	char grant[ID_CAP], gid[ID_CAP];
	char session[HASH_CAP], code[HASH_CAP], refresh[HASH_CAP], pending[HASH_CAP];
	char jti[HASH_CAP], revoked_jti[HASH_CAP];
};

static void make_things(struct ts_store *st, const char *tid, const char *uid,
			int64_t expires_at, struct things *t)
{
	struct ts_session_rec s;
	struct ts_code_rec c = {0};
	struct ts_grant_rec g = {0};
	struct ts_group_rec grp = {0};
	struct ts_refresh_rec r = {0};

	assert_int_equal(ts_rand_uuid(t->grant), TS_OK);
	assert_int_equal(ts_rand_uuid(t->gid), TS_OK);
	rand_hash(t->session);
	rand_hash(t->code);
	rand_hash(t->refresh);
	rand_hash(t->pending);
	rand_hash(t->jti);
	rand_hash(t->revoked_jti);
	s = session_rec(t->session, tid, uid, expires_at);
	assert_int_equal(ts_store_session_put(st, &s), TS_OK);
	g = (struct ts_grant_rec){.tenant_id = (char *)tid, .id = t->grant, .client_id = "app",
				  .user_id = (char *)uid, .scope = "openid"};
	assert_int_equal(ts_store_grant_put(st, &g), TS_OK);
	assert_int_equal(ts_store_grant_token_add(st, tid, t->grant, t->jti, expires_at), TS_OK);
	c = (struct ts_code_rec){.code_hash = t->code, .tenant_id = (char *)tid,
				 .client_id = "app", .user_id = (char *)uid,
				 .grant_id = t->grant, .scope = "openid",
				 .expires_at = expires_at};
	assert_int_equal(ts_store_code_put(st, &c), TS_OK);
	r = (struct ts_refresh_rec){.token_hash = t->refresh, .tenant_id = (char *)tid,
				    .grant_id = t->grant, .client_id = "app",
				    .user_id = (char *)uid, .scope = "openid",
				    .expires_at = expires_at};
	assert_int_equal(ts_store_refresh_put(st, &r), TS_OK);
	assert_int_equal(ts_store_pending_put(st, tid, t->pending, "authz", "{}", expires_at),
			 TS_OK);
	assert_int_equal(ts_store_revoke_put(st, tid, t->revoked_jti, expires_at), TS_OK);
	assert_int_equal(ts_store_consent_put(st, tid, uid, "app", "openid"), TS_OK);
	grp = (struct ts_group_rec){.tenant_id = (char *)tid, .id = t->gid, .name = t->gid};
	assert_int_equal(ts_store_group_put(st, &grp), TS_OK);
	assert_int_equal(ts_store_member_add(st, tid, t->gid, uid, "cli", 1), TS_OK);
}

/* Checks whether the things keyed by digests alone are (all) there. */
static void expect_things(struct ts_store *st, const char *tid, const struct things *t,
			  bool present)
{
	struct ts_session_rec *s = NULL;
	struct ts_refresh_rec *r = NULL;
	int want = present ? TS_OK : TS_ENOTFOUND;
	bool revoked = !present;

	assert_int_equal(ts_store_session_get(st, t->session, &s), want);
	ts_session_rec_free(s);
	assert_int_equal(ts_store_refresh_get(st, t->refresh, &r), want);
	ts_refresh_rec_free(r);
	assert_int_equal(ts_store_pending_get(st, t->pending, NULL, NULL, NULL, NULL), want);
	assert_int_equal(ts_store_revoke_check(st, tid, t->revoked_jti, &revoked), TS_OK);
	assert_true(revoked == present);
}

/* A grant nothing is issued under any more goes a day after it was made;
 * one with a live refresh token, or a young one, stays. */
static void test_purge_spent_grants(void **state)
{
	struct ts_store *st = store_of(state);
	char name[NAME_CAP], tid[ID_CAP], uid[ID_CAP], spent[ID_CAP], held[ID_CAP], young[ID_CAP];
	char rt[2 * TS_SHA256_LEN + 1];
	const int64_t now = 200000;
	struct ts_grant_rec g = {0}, *got = NULL;
	struct ts_refresh_rec r = {0};

	new_tenant(st, "grants", name, tid);
	new_user(st, tid, "u", uid);
	assert_int_equal(ts_rand_uuid(spent), TS_OK);
	assert_int_equal(ts_rand_uuid(held), TS_OK);
	assert_int_equal(ts_rand_uuid(young), TS_OK);
	g = (struct ts_grant_rec){.tenant_id = tid, .client_id = "app", .user_id = uid,
				  .scope = "openid", .created_at = 1};
	g.id = spent;
	assert_int_equal(ts_store_grant_put(st, &g), TS_OK);
	assert_int_equal(ts_store_grant_token_add(st, tid, spent, "jti-spent", now - 10), TS_OK);
	g.id = held;
	assert_int_equal(ts_store_grant_put(st, &g), TS_OK);
	rand_hash(rt);
	r = (struct ts_refresh_rec){.token_hash = rt, .tenant_id = tid, .grant_id = held,
				    .client_id = "app", .user_id = uid, .scope = "openid",
				    .expires_at = FAR_FUTURE};
	assert_int_equal(ts_store_refresh_put(st, &r), TS_OK);
	g.id = young;
	g.created_at = now - 100;
	assert_int_equal(ts_store_grant_put(st, &g), TS_OK);

	assert_int_equal(ts_store_purge_expired(st, now), TS_OK);
	assert_int_equal(ts_store_grant_get(st, tid, spent, &got), TS_ENOTFOUND);
	assert_int_equal(ts_store_grant_get(st, tid, held, &got), TS_OK);
	ts_grant_rec_free(got);
	got = NULL;
	assert_int_equal(ts_store_grant_get(st, tid, young, &got), TS_OK);
	ts_grant_rec_free(got);
	assert_int_equal(ts_store_tenant_delete(st, name), TS_OK);
}

static void test_purge_expired(void **state)
{
	struct ts_store *st = store_of(state);
	char name[NAME_CAP], tid[ID_CAP], uid[ID_CAP];
	struct things old, live;
	struct ts_code_rec *c = NULL;
	struct ts_grant_rec *g = NULL;
	bool revoked = false;

	new_tenant(st, "purge", name, tid);
	new_user(st, tid, "u", uid);
	make_things(st, tid, uid, EXPIRED, &old);
	make_things(st, tid, uid, FAR_FUTURE, &live);
	expect_things(st, tid, &old, true);
	assert_int_equal(ts_store_purge_expired(st, EXPIRED), TS_OK); /* not before now */
	expect_things(st, tid, &old, true);

	assert_int_equal(ts_store_purge_expired(st, PURGE_NOW), TS_OK);
	expect_things(st, tid, &old, false);
	expect_things(st, tid, &live, true);
	assert_int_equal(ts_store_code_take(st, old.code, &c), TS_ENOTFOUND);
	assert_int_equal(ts_store_code_take(st, live.code, &c), TS_OK);
	ts_code_rec_free(c);
	/* Grants have no expiry and stay; the record of the expired access
	 * token is gone, so revoking the grant denies only the live one. */
	assert_int_equal(ts_store_grant_get(st, tid, old.grant, &g), TS_OK);
	ts_grant_rec_free(g);
	assert_int_equal(ts_store_grant_revoke(st, tid, old.grant), TS_OK);
	assert_int_equal(ts_store_grant_revoke(st, tid, live.grant), TS_OK);
	assert_int_equal(ts_store_revoke_check(st, tid, old.jti, &revoked), TS_OK);
	assert_false(revoked);
	assert_int_equal(ts_store_revoke_check(st, tid, live.jti, &revoked), TS_OK);
	assert_true(revoked);
	assert_int_equal(ts_store_purge_expired(NULL, PURGE_NOW), TS_EINVAL);
	assert_int_equal(ts_store_tenant_delete(st, name), TS_OK);
}

/* ---- shared throttling ---- */

/* Times for the throttle tests, far from PURGE_NOW so that the purges of
 * other tests never touch these windows. */
#define TW INT64_C(1700000000)
#define WINDOW 900
#define TMAX 20

static void expect_window(struct ts_store *st, const char *h, int64_t start, int failures,
			  int64_t last)
{
	int64_t s = -1, l = -1;
	int n = -1;

	assert_int_equal(ts_store_throttle_get(st, h, &s, &n, &l), TS_OK);
	assert_int_equal(s, start);
	assert_int_equal(n, failures);
	assert_int_equal(l, last);
}

static void test_throttle(void **state)
{
	struct ts_store *st = store_of(state);
	char h[HASH_CAP], other[HASH_CAP];
	int64_t s = 0, l = 0;
	int n = 0, i;

	rand_hash(h);
	rand_hash(other);
	assert_int_equal(ts_store_throttle_get(st, h, &s, &n, &l), TS_ENOTFOUND);

	/* The first failure starts the window; later ones count in it. */
	assert_int_equal(ts_store_throttle_fail(st, h, TW, WINDOW, TMAX), TS_OK);
	assert_int_equal(ts_store_throttle_fail(st, h, TW + 3, WINDOW, TMAX), TS_OK);
	assert_int_equal(ts_store_throttle_fail(st, h, TW + 7, WINDOW, TMAX), TS_OK);
	expect_window(st, h, TW, 3, TW + 7);
	assert_int_equal(ts_store_throttle_get(st, other, &s, &n, &l), TS_ENOTFOUND);

	/* The last second of the window still counts; the next restarts at 1. */
	assert_int_equal(ts_store_throttle_fail(st, h, TW + WINDOW - 1, WINDOW, TMAX), TS_OK);
	expect_window(st, h, TW, 4, TW + WINDOW - 1);
	assert_int_equal(ts_store_throttle_fail(st, h, TW + WINDOW, WINDOW, TMAX), TS_OK);
	expect_window(st, h, TW + WINDOW, 1, TW + WINDOW);

	/* Saturation at max. */
	for (i = 0; i < TMAX + 5; i++)
		assert_int_equal(ts_store_throttle_fail(st, other, TW + i, WINDOW, TMAX), TS_OK);
	expect_window(st, other, TW, TMAX, TW + TMAX + 4);

	/* Reset forgets one key only, and is TS_OK for a key without a row. */
	assert_int_equal(ts_store_throttle_reset(st, h), TS_OK);
	assert_int_equal(ts_store_throttle_get(st, h, &s, &n, &l), TS_ENOTFOUND);
	assert_int_equal(ts_store_throttle_reset(st, h), TS_OK);
	expect_window(st, other, TW, TMAX, TW + TMAX + 4);
	assert_int_equal(ts_store_throttle_reset(st, other), TS_OK);

	assert_int_equal(ts_store_throttle_get(NULL, h, &s, &n, &l), TS_EINVAL);
	assert_int_equal(ts_store_throttle_get(st, "", &s, &n, &l), TS_EINVAL);
	assert_int_equal(ts_store_throttle_get(st, h, NULL, &n, &l), TS_EINVAL);
	assert_int_equal(ts_store_throttle_fail(st, NULL, TW, WINDOW, TMAX), TS_EINVAL);
	assert_int_equal(ts_store_throttle_fail(st, h, TW, 0, TMAX), TS_EINVAL);
	assert_int_equal(ts_store_throttle_fail(st, h, TW, WINDOW, 0), TS_EINVAL);
	assert_int_equal(ts_store_throttle_reset(st, NULL), TS_EINVAL);
}

/* purge_expired drops the windows that have ended and keeps live ones. */
static void test_throttle_purge(void **state)
{
	struct ts_store *st = store_of(state);
	char ended[HASH_CAP], live[HASH_CAP];
	int64_t now = TW + 10 * TS_STORE_THROTTLE_WINDOW_S, s = 0, l = 0;
	int n = 0;

	rand_hash(ended);
	rand_hash(live);
	assert_int_equal(ts_store_throttle_fail(st, ended, now - TS_STORE_THROTTLE_WINDOW_S,
						TS_STORE_THROTTLE_WINDOW_S, TMAX), TS_OK);
	assert_int_equal(ts_store_throttle_fail(st, live, now - TS_STORE_THROTTLE_WINDOW_S + 1,
						TS_STORE_THROTTLE_WINDOW_S, TMAX), TS_OK);
	assert_int_equal(ts_store_purge_expired(st, now), TS_OK);
	assert_int_equal(ts_store_throttle_get(st, ended, &s, &n, &l), TS_ENOTFOUND);
	expect_window(st, live, now - TS_STORE_THROTTLE_WINDOW_S + 1, 1,
		      now - TS_STORE_THROTTLE_WINDOW_S + 1);
	assert_int_equal(ts_store_throttle_reset(st, live), TS_OK);
}

#define RACERS 8
#define RACE_FAILS 10

struct throttle_racer {
	struct ts_store *st;
	const char *h;
	pthread_barrier_t *start;
	int bad; /* failures the store did not take */
};

static void *race_throttle(void *arg)
{
	struct throttle_racer *r = arg;
	int i;

	pthread_barrier_wait(r->start);
	for (i = 0; i < RACE_FAILS; i++)
		if (ts_store_throttle_fail(r->st, r->h, TW + i, WINDOW, RACERS * RACE_FAILS) !=
		    TS_OK)
			r->bad++;
	return NULL;
}

/* Failures counted at once from many threads (for PostgreSQL, many
 * connections, as from many servers) are all counted. */
static void test_throttle_concurrent(void **state)
{
	struct ts_store *st = store_of(state);
	struct throttle_racer r[RACERS];
	pthread_t th[RACERS];
	pthread_barrier_t start;
	char h[HASH_CAP];
	int i;

	rand_hash(h);
	assert_int_equal(pthread_barrier_init(&start, NULL, RACERS), 0);
	for (i = 0; i < RACERS; i++) {
		r[i] = (struct throttle_racer){st, h, &start, 0};
		assert_int_equal(pthread_create(&th[i], NULL, race_throttle, &r[i]), 0);
	}
	for (i = 0; i < RACERS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(r[i].bad, 0);
	}
	pthread_barrier_destroy(&start);
	expect_window(st, h, TW, RACERS * RACE_FAILS, TW + RACE_FAILS - 1);
	assert_int_equal(ts_store_throttle_reset(st, h), TS_OK);
}

/* Compare and swap: a write decided on a read lands only if the row is
 * still what was read. */
static void test_throttle_cas(void **state)
{
	struct ts_store *st = store_of(state);
	char h[HASH_CAP];
	struct ts_throttle_win a = {TW, 1, TW}, b = {TW, 2, TW + 4}, c = {TW, 1, TW + 9};

	rand_hash(h);
	/* Absent: the insert lands once; a second insert finds the row. */
	assert_int_equal(ts_store_throttle_cas(st, h, NULL, &a), TS_OK);
	expect_window(st, h, TW, 1, TW);
	assert_int_equal(ts_store_throttle_cas(st, h, NULL, &b), TS_ECONFLICT);
	/* From the row read: lands; from a stale row: refused, nothing moves. */
	assert_int_equal(ts_store_throttle_cas(st, h, &a, &b), TS_OK);
	expect_window(st, h, TW, 2, TW + 4);
	assert_int_equal(ts_store_throttle_cas(st, h, &a, &c), TS_ECONFLICT);
	expect_window(st, h, TW, 2, TW + 4);
	/* A row that differs in its latest failure alone is another row. */
	c = (struct ts_throttle_win){TW, 2, TW + 3};
	assert_int_equal(ts_store_throttle_cas(st, h, &c, &a), TS_ECONFLICT);
	/* Down to zero failures is a row too. */
	c = (struct ts_throttle_win){TW, 0, TW + 4};
	assert_int_equal(ts_store_throttle_cas(st, h, &b, &c), TS_OK);
	expect_window(st, h, TW, 0, TW + 4);
	/* A row that was reset is absent again. */
	assert_int_equal(ts_store_throttle_reset(st, h), TS_OK);
	assert_int_equal(ts_store_throttle_cas(st, h, &c, &a), TS_ECONFLICT);
	assert_int_equal(ts_store_throttle_cas(st, h, NULL, &a), TS_OK);
	assert_int_equal(ts_store_throttle_reset(st, h), TS_OK);

	assert_int_equal(ts_store_throttle_cas(NULL, h, NULL, &a), TS_EINVAL);
	assert_int_equal(ts_store_throttle_cas(st, "", NULL, &a), TS_EINVAL);
	assert_int_equal(ts_store_throttle_cas(st, h, NULL, NULL), TS_EINVAL);
	c.failures = -1;
	assert_int_equal(ts_store_throttle_cas(st, h, NULL, &c), TS_EINVAL);
}

struct cas_racer {
	struct ts_store *st;
	const char *h;
	pthread_barrier_t *start;
	int won, rc_other; /* swaps that landed; unexpected return codes */
};

/* Reads, then swaps one more failure in, until RACE_FAILS have landed. */
static void *race_cas(void *arg)
{
	struct cas_racer *r = arg;
	int tries = 0;

	pthread_barrier_wait(r->start);
	while (r->won < RACE_FAILS && tries++ < 10000) {
		struct ts_throttle_win old = {0, 0, 0}, next;
		int rc = ts_store_throttle_get(r->st, r->h, &old.start, &old.failures, &old.last);
		if (rc != TS_OK && rc != TS_ENOTFOUND) {
			r->rc_other++;
			continue;
		}
		next = rc == TS_OK ? (struct ts_throttle_win){old.start, old.failures + 1, TW}
				   : (struct ts_throttle_win){TW, 1, TW};
		rc = ts_store_throttle_cas(r->st, r->h, rc == TS_OK ? &old : NULL, &next);
		if (rc == TS_OK)
			r->won++;
		else if (rc != TS_ECONFLICT)
			r->rc_other++;
	}
	return NULL;
}

/* Swaps from many threads (for PostgreSQL, many connections, as from many
 * servers): every landed swap is one step, none is lost or doubled. */
static void test_throttle_cas_concurrent(void **state)
{
	struct ts_store *st = store_of(state);
	struct cas_racer r[RACERS];
	pthread_t th[RACERS];
	pthread_barrier_t start;
	char h[HASH_CAP];
	int i;

	rand_hash(h);
	assert_int_equal(pthread_barrier_init(&start, NULL, RACERS), 0);
	for (i = 0; i < RACERS; i++) {
		r[i] = (struct cas_racer){st, h, &start, 0, 0};
		assert_int_equal(pthread_create(&th[i], NULL, race_cas, &r[i]), 0);
	}
	for (i = 0; i < RACERS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(r[i].rc_other, 0);
		assert_int_equal(r[i].won, RACE_FAILS);
	}
	pthread_barrier_destroy(&start);
	expect_window(st, h, TW, RACERS * RACE_FAILS, TW);
	assert_int_equal(ts_store_throttle_reset(st, h), TS_OK);
}

/* None of the operations of people and token flows is configuration. */
static void test_no_generation_bump(void **state)
{
	struct ts_store *st = store_of(state);
	char name[NAME_CAP], tid[ID_CAP], uid[ID_CAP], h[HASH_CAP];
	struct things t;
	struct ts_code_rec *c = NULL;
	struct ts_refresh_rec next = {0};
	int64_t g;

	new_tenant(st, "nogen", name, tid);
	g = generation(st);
	new_user(st, tid, "u", uid);
	make_things(st, tid, uid, FAR_FUTURE, &t);
	assert_int_equal(ts_store_session_touch(st, t.session, 99), TS_OK);
	assert_int_equal(ts_store_code_take(st, t.code, &c), TS_OK);
	ts_code_rec_free(c);
	rand_hash(h);
	next = (struct ts_refresh_rec){.token_hash = h, .tenant_id = tid, .grant_id = t.grant,
				       .client_id = "app", .user_id = uid, .scope = "openid",
				       .expires_at = FAR_FUTURE};
	assert_int_equal(ts_store_refresh_rotate(st, t.refresh, &next), TS_OK);
	assert_int_equal(ts_store_member_remove(st, tid, t.gid, uid), TS_OK);
	assert_int_equal(ts_store_group_delete(st, tid, t.gid), TS_OK);
	assert_int_equal(ts_store_grant_revoke(st, tid, t.grant), TS_OK);
	assert_int_equal(ts_store_session_delete(st, t.session), TS_OK);
	assert_int_equal(ts_store_session_delete_user(st, tid, uid), TS_OK);
	assert_int_equal(ts_store_pending_delete(st, t.pending), TS_OK);
	assert_int_equal(ts_store_purge_expired(st, PURGE_NOW), TS_OK);
	assert_int_equal(ts_store_user_delete(st, tid, uid), TS_OK);
	/* Failed writes neither. */
	assert_int_equal(ts_store_user_delete(st, tid, uid), TS_ENOTFOUND);
	assert_int_equal(ts_store_consent_put(st, tid, uid, "app", "x"), TS_ENOTFOUND);
	assert_int_equal(generation(st), g);
	assert_int_equal(ts_store_tenant_delete(st, name), TS_OK);
}

static void test_tenant_delete_cascades_all(void **state)
{
	struct ts_store *st = store_of(state);
	char doomed[NAME_CAP], did[ID_CAP], duid[ID_CAP];
	char kept[NAME_CAP], kid[ID_CAP], kuid[ID_CAP];
	struct things d, k;
	struct ts_code_rec *c = NULL;
	struct ts_user_rec *u = NULL, **uv = NULL;
	struct ts_group_rec **gv = NULL;
	struct ts_grant_rec *g = NULL;
	char *scope = NULL;
	size_t n = 0;

	new_tenant(st, "doomed", doomed, did);
	new_user(st, did, "same-name", duid);
	make_things(st, did, duid, FAR_FUTURE, &d);
	new_tenant(st, "kept", kept, kid);
	new_user(st, kid, "same-name", kuid);
	make_things(st, kid, kuid, FAR_FUTURE, &k);

	assert_int_equal(ts_store_tenant_delete(st, doomed), TS_OK);
	expect_things(st, did, &d, false);
	assert_int_equal(ts_store_code_take(st, d.code, &c), TS_ENOTFOUND);
	assert_int_equal(ts_store_user_get(st, did, duid, &u), TS_ENOTFOUND);
	assert_int_equal(ts_store_user_list(st, did, &uv, &n), TS_OK);
	assert_int_equal(n, 0);
	assert_int_equal(ts_store_group_list(st, did, &gv, &n), TS_OK);
	assert_int_equal(n, 0);
	assert_int_equal(ts_store_grant_get(st, did, d.grant, &g), TS_ENOTFOUND);
	assert_int_equal(ts_store_consent_get(st, did, duid, "app", &scope), TS_ENOTFOUND);

	/* The other tenant, with a user of the same name, keeps everything. */
	expect_things(st, kid, &k, true);
	assert_int_equal(ts_store_user_find(st, kid, "same-name", &u), TS_OK);
	ts_user_rec_free(u);
	assert_int_equal(ts_store_member_list(st, kid, k.gid, &uv, &n), TS_OK);
	assert_int_equal(n, 1);
	ts_user_recs_free(uv, n);
	assert_int_equal(ts_store_consent_get(st, kid, kuid, "app", &scope), TS_OK);
	free(scope);
	assert_int_equal(ts_store_code_take(st, k.code, &c), TS_OK);
	ts_code_rec_free(c);
	assert_int_equal(ts_store_tenant_delete(st, kept), TS_OK);
	expect_things(st, kid, &k, false);
}

/* ---- leases ---- */

#define LEASE "key-rotation"
#define LEASE_ROUNDS 5
#define LEASE_S 60
#define CLOCK_SLACK_S 2

/* A lease is taken by one owner until its time ends; releasing it is the
 * holder's alone; leases of other names or tenants are independent. */
static void test_lease(void **state)
{
	struct ts_store *st = store_of(state);
	char name[NAME_CAP], tid[ID_CAP], other[NAME_CAP], oid[ID_CAP];

	new_tenant(st, "lease", name, tid);
	new_tenant(st, "lease2", other, oid);
	assert_int_equal(ts_store_lease_take(st, tid, LEASE, "A", LEASE_S), TS_OK);
	assert_int_equal(ts_store_lease_take(st, tid, LEASE, "B", LEASE_S), TS_ECONFLICT);
	assert_int_equal(ts_store_lease_take(st, tid, LEASE, "A", LEASE_S), TS_ECONFLICT);
	assert_int_equal(ts_store_lease_take(st, tid, "other-work", "B", LEASE_S), TS_OK);
	assert_int_equal(ts_store_lease_take(st, oid, LEASE, "B", LEASE_S), TS_OK);
	/* Only the holder releases. */
	assert_int_equal(ts_store_lease_release(st, tid, LEASE, "B"), TS_OK);
	assert_int_equal(ts_store_lease_take(st, tid, LEASE, "C", LEASE_S), TS_ECONFLICT);
	assert_int_equal(ts_store_lease_release(st, tid, LEASE, "A"), TS_OK);
	/* Ended (a lease of 0 s ends at once): the next taker gets it. */
	assert_int_equal(ts_store_lease_take(st, tid, LEASE, "C", 0), TS_OK);
	assert_int_equal(ts_store_lease_take(st, tid, LEASE, "D", LEASE_S), TS_OK);
	assert_int_equal(ts_store_lease_take(st, tid, LEASE, "C", LEASE_S), TS_ECONFLICT);
	/* A lease is not pending state anyone may replace or read as theirs. */
	assert_int_equal(ts_store_lease_take(st, "no-such-tenant", LEASE, "A", LEASE_S),
			 TS_ECONFLICT);
	assert_int_equal(ts_store_lease_take(st, tid, LEASE, "", LEASE_S), TS_EINVAL);
	assert_int_equal(ts_store_lease_take(st, tid, NULL, "A", LEASE_S), TS_EINVAL);
	assert_int_equal(ts_store_lease_take(st, NULL, LEASE, "A", LEASE_S), TS_EINVAL);
	assert_int_equal(ts_store_lease_take(st, oid, "x", "A", -1), TS_EINVAL);
	assert_int_equal(ts_store_lease_take(st, oid, "x", "A", TS_STORE_LEASE_MAX_S + 1),
			 TS_EINVAL);
	assert_int_equal(ts_store_lease_release(st, tid, LEASE, NULL), TS_EINVAL);
	/* Leases go with their tenant. */
	assert_int_equal(ts_store_tenant_delete(st, name), TS_OK);
	assert_int_equal(ts_store_tenant_delete(st, other), TS_OK);
}

/* A lease's time is the database's, never a taker's: it ends duration_s
 * after the database's now (the test machine's clock here, within a
 * second or two either way). */
static void test_lease_on_the_database_clock(void **state)
{
	struct ts_store *st = store_of(state);
	char name[NAME_CAP], tid[ID_CAP], id[NAME_CAP + ID_CAP];
	char *tenant = NULL, *kind = NULL, *data = NULL;
	int64_t exp = 0, before = ts_now(), after;

	new_tenant(st, "leaseclock", name, tid);
	assert_int_equal(ts_store_lease_take(st, tid, LEASE, "A", LEASE_S), TS_OK);
	after = ts_now();
	snprintf(id, sizeof(id), "lease:%s:%s", LEASE, tid);
	assert_int_equal(ts_store_pending_get(st, id, &tenant, &kind, &data, &exp), TS_OK);
	assert_string_equal(kind, "lease");
	assert_string_equal(data, "A");
	assert_true(exp >= before + LEASE_S - CLOCK_SLACK_S && exp <= after + LEASE_S + CLOCK_SLACK_S);
	free(tenant);
	free(kind);
	free(data);
	/* A server whose clock runs a day ahead purges expired state; the live
	 * lease stays, by the database's clock, and still has its holder. */
	assert_int_equal(ts_store_purge_expired(st, after + 86400), TS_OK);
	assert_int_equal(ts_store_lease_take(st, tid, LEASE, "B", LEASE_S), TS_ECONFLICT);
	assert_int_equal(ts_store_tenant_delete(st, name), TS_OK);
}

struct lease_racer {
	struct ts_store *st;
	const char *tid;
	char owner[16];
	pthread_barrier_t *start;
	int rc;
};

static void *race_lease(void *arg)
{
	struct lease_racer *r = arg;

	pthread_barrier_wait(r->start);
	r->rc = ts_store_lease_take(r->st, r->tid, LEASE, r->owner, LEASE_S);
	return NULL;
}

/* Many takers at once (for PostgreSQL, many connections, as from many
 * servers), on a lease never taken, released or ended: exactly one wins. */
static void test_lease_concurrent(void **state)
{
	struct ts_store *st = store_of(state);
	struct lease_racer r[RACERS];
	pthread_t th[RACERS];
	pthread_barrier_t start;
	char name[NAME_CAP], tid[ID_CAP], id[NAME_CAP + ID_CAP];
	int i, round, wins;

	new_tenant(st, "leaserace", name, tid);
	snprintf(id, sizeof(id), "lease:%s:%s", LEASE, tid);
	for (round = 0; round < LEASE_ROUNDS; round++) {
		assert_int_equal(pthread_barrier_init(&start, NULL, RACERS), 0);
		for (i = 0; i < RACERS; i++) {
			r[i] = (struct lease_racer){st, tid, "", &start, -1};
			snprintf(r[i].owner, sizeof(r[i].owner), "owner-%d", i);
			assert_int_equal(pthread_create(&th[i], NULL, race_lease, &r[i]), 0);
		}
		wins = 0;
		for (i = 0; i < RACERS; i++)
			pthread_join(th[i], NULL);
		pthread_barrier_destroy(&start);
		for (i = 0; i < RACERS; i++) {
			assert_true(r[i].rc == TS_OK || r[i].rc == TS_ECONFLICT);
			wins += r[i].rc == TS_OK;
			/* The next round finds it released, or ended long ago. */
			if (r[i].rc == TS_OK && round % 2 == 0)
				assert_int_equal(ts_store_lease_release(st, tid, LEASE, r[i].owner),
						 TS_OK);
			else if (r[i].rc == TS_OK)
				assert_int_equal(ts_store_pending_put(st, tid, id, "lease", r[i].owner,
								      1),
						 TS_OK);
		}
		assert_int_equal(wins, 1);
	}
	assert_int_equal(ts_store_tenant_delete(st, name), TS_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sessions),
		cmocka_unit_test(test_consent),
		cmocka_unit_test(test_pending),
		cmocka_unit_test(test_purge_expired),
		cmocka_unit_test(test_purge_spent_grants),
		cmocka_unit_test(test_throttle),
		cmocka_unit_test(test_throttle_purge),
		cmocka_unit_test(test_throttle_concurrent),
		cmocka_unit_test(test_throttle_cas),
		cmocka_unit_test(test_throttle_cas_concurrent),
		cmocka_unit_test(test_no_generation_bump),
		cmocka_unit_test(test_tenant_delete_cascades_all),
		cmocka_unit_test(test_lease),
		cmocka_unit_test(test_lease_on_the_database_clock),
		cmocka_unit_test(test_lease_concurrent),
	};

	return cmocka_run_group_tests_name("store_state", tests, group_setup, group_teardown) !=
	       0;
}
