/* test_store_grants.c: the store contract for authorization codes, grants
 * and refresh tokens, against the ts_store_* API only (see
 * test_store_fixture.h for how the store is chosen): single use of codes
 * and refresh tokens, also under RACE_THREADS concurrent callers on one
 * store handle or two, many refresh chains rotated at once, and revocation
 * of a grant with everything issued under it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>

#include "test_store_fixture.h"

#define RACE_THREADS 20
#define CHAIN_THREADS 16
#define CHAIN_STEPS 20
#define JTI_CAP 32
#define CLIENT "app"
#define SCOPE "openid profile"

/* A tenant with one user and one grant of CLIENT to them. */
struct world {
	char name[NAME_CAP], tid[ID_CAP], uid[ID_CAP], grant[ID_CAP];
};

static void make_world(struct ts_store *st, const char *suffix, struct world *w)
{
	struct ts_grant_rec g = {0};

	new_tenant(st, suffix, w->name, w->tid);
	new_user(st, w->tid, "user", w->uid);
	assert_int_equal(ts_rand_uuid(w->grant), TS_OK);
	g.tenant_id = w->tid;
	g.id = w->grant;
	g.client_id = CLIENT;
	g.user_id = w->uid;
	g.scope = SCOPE;
	g.auth_time = 50;
	g.created_at = 60;
	assert_int_equal(ts_store_grant_put(st, &g), TS_OK);
}

/* A code of w's grant, every field set, borrowing its strings. */
static struct ts_code_rec code_rec(const struct world *w, const char *hash)
{
	struct ts_code_rec c = {0};

	c.code_hash = (char *)hash;
	c.tenant_id = (char *)w->tid;
	c.client_id = CLIENT;
	c.user_id = (char *)w->uid;
	c.grant_id = (char *)w->grant;
	c.redirect_uri = "https://app.example/cb";
	c.scope = SCOPE;
	c.nonce = "n-0S6_WzA2Mj";
	c.code_challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
	c.resource = "[\"https://api.example\"]";
	c.session_id_hash = "5e55";
	c.dpop_jkt = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";
	c.auth_time = 50;
	c.expires_at = FAR_FUTURE;
	c.used = true; /* ignored by put */
	return c;
}

static struct ts_refresh_rec refresh_rec(const struct world *w, const char *hash)
{
	struct ts_refresh_rec r = {0};

	r.token_hash = (char *)hash;
	r.tenant_id = (char *)w->tid;
	r.grant_id = (char *)w->grant;
	r.client_id = CLIENT;
	r.user_id = (char *)w->uid;
	r.scope = SCOPE;
	r.resource = "[\"https://api.example\"]";
	r.auth_time = 50;
	r.issued_at = 70;
	r.expires_at = FAR_FUTURE;
	return r;
}

static void check_code(const struct ts_code_rec *got, const struct ts_code_rec *want)
{
	assert_string_equal(got->code_hash, want->code_hash);
	assert_string_equal(got->tenant_id, want->tenant_id);
	assert_string_equal(got->client_id, want->client_id);
	assert_string_equal(got->user_id, want->user_id);
	assert_string_equal(got->grant_id, want->grant_id);
	assert_string_equal(got->redirect_uri, want->redirect_uri);
	assert_string_equal(got->scope, want->scope);
	assert_string_equal(got->nonce, want->nonce);
	assert_string_equal(got->code_challenge, want->code_challenge);
	assert_string_equal(got->resource, want->resource);
	assert_string_equal(got->session_id_hash, want->session_id_hash);
	assert_string_equal(got->dpop_jkt, want->dpop_jkt);
	assert_int_equal(got->auth_time, want->auth_time);
	assert_int_equal(got->expires_at, want->expires_at);
	assert_true(got->used);
}

static void test_code_take(void **state)
{
	struct ts_store *st = store_of(state);
	struct world w;
	struct ts_code_rec c, *got = NULL;
	char h[HASH_CAP], h2[HASH_CAP];

	make_world(st, "codes", &w);
	rand_hash(h);
	c = code_rec(&w, h);
	assert_int_equal(ts_store_code_put(st, &c), TS_OK);
	assert_int_equal(ts_store_code_put(st, &c), TS_EEXIST);

	assert_int_equal(ts_store_code_take(st, h, &got), TS_OK);
	check_code(got, &c);
	ts_code_rec_free(got);
	got = NULL;
	/* RFC 6749 §4.1.2: a replay is told apart and still gets the record. */
	assert_int_equal(ts_store_code_take(st, h, &got), TS_ECONFLICT);
	assert_non_null(got);
	check_code(got, &c);
	ts_code_rec_free(got);
	got = (struct ts_code_rec *)1;
	rand_hash(h2);
	assert_int_equal(ts_store_code_take(st, h2, &got), TS_ENOTFOUND);
	assert_null(got);

	/* Optional fields may be NULL. */
	c = code_rec(&w, h2);
	c.redirect_uri = NULL;
	c.nonce = NULL;
	c.code_challenge = NULL;
	c.resource = NULL;
	c.session_id_hash = NULL;
	c.dpop_jkt = NULL;
	assert_int_equal(ts_store_code_put(st, &c), TS_OK);
	assert_int_equal(ts_store_code_take(st, h2, &got), TS_OK);
	assert_null(got->redirect_uri);
	assert_null(got->nonce);
	assert_null(got->code_challenge);
	assert_null(got->resource);
	assert_null(got->session_id_hash);
	assert_null(got->dpop_jkt);
	ts_code_rec_free(got);

	/* Missing parents and bad arguments. */
	rand_hash(h2);
	c = code_rec(&w, h2);
	c.user_id = "no-such-user";
	assert_int_equal(ts_store_code_put(st, &c), TS_ENOTFOUND);
	c = code_rec(&w, h2);
	c.tenant_id = "no-such-tenant";
	assert_int_equal(ts_store_code_put(st, &c), TS_ENOTFOUND);
	c = code_rec(&w, "");
	assert_int_equal(ts_store_code_put(st, &c), TS_EINVAL);
	c = code_rec(&w, h2);
	c.scope = NULL;
	assert_int_equal(ts_store_code_put(st, &c), TS_EINVAL);
	assert_int_equal(ts_store_code_take(st, NULL, &got), TS_EINVAL);
	assert_int_equal(ts_store_code_take(st, h, NULL), TS_EINVAL);
	assert_int_equal(ts_store_tenant_delete(st, w.name), TS_OK);
}

/* The threads of a race: each makes one attempt once all are ready. */
struct racer {
	struct ts_store *st;
	pthread_barrier_t *start;
	const char *old_hash;          /* what every racer goes for */
	const struct world *w;
	char next_hash[HASH_CAP];      /* refresh races: this racer's successor */
	int rc;
	struct ts_code_rec *code;      /* code races: what came back */
};

static void *code_racer(void *arg)
{
	struct racer *r = arg;

	pthread_barrier_wait(r->start);
	r->rc = ts_store_code_take(r->st, r->old_hash, &r->code);
	return NULL;
}

static void *refresh_racer(void *arg)
{
	struct racer *r = arg;
	struct ts_refresh_rec next = refresh_rec(r->w, r->next_hash);

	pthread_barrier_wait(r->start);
	r->rc = ts_store_refresh_rotate(r->st, r->old_hash, &next);
	return NULL;
}

/* As refresh_racer, recording the successor's hash as an access token's
 * jti in the same write. */
static void *refresh_token_racer(void *arg)
{
	struct racer *r = arg;
	struct ts_refresh_rec next = refresh_rec(r->w, r->next_hash);

	pthread_barrier_wait(r->start);
	r->rc = ts_store_refresh_rotate_token(r->st, r->old_hash, &next, r->next_hash, FAR_FUTURE);
	return NULL;
}

/* Runs RACE_THREADS racers of fn on old_hash; returns how many got TS_OK
 * and checks that every other one got TS_ECONFLICT. With two_stores, half
 * of them go through a second handle on the same database, as another
 * server process would, so that the store's own locks are not all that
 * keeps them apart; without, all of them share one handle and so may
 * share a transaction. */
static int race(void **state, const struct world *w, const char *old_hash,
		void *(*fn)(void *), struct racer *r, bool two_stores)
{
	struct fx *fx = *state;
	struct ts_store *st2 = NULL;
	pthread_t th[RACE_THREADS];
	pthread_barrier_t start;
	int i, ok = 0;

	if (two_stores)
		assert_int_equal(ts_store_open(fx->url, &st2), TS_OK);
	assert_int_equal(pthread_barrier_init(&start, NULL, RACE_THREADS), 0);
	for (i = 0; i < RACE_THREADS; i++) {
		r[i] = (struct racer){.st = i % 2 && two_stores ? st2 : fx->st, .start = &start,
				      .old_hash = old_hash, .w = w};
		rand_hash(r[i].next_hash);
		assert_int_equal(pthread_create(&th[i], NULL, fn, &r[i]), 0);
	}
	for (i = 0; i < RACE_THREADS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	pthread_barrier_destroy(&start);
	ts_store_close(st2);
	for (i = 0; i < RACE_THREADS; i++) {
		if (r[i].rc == TS_OK)
			ok++;
		else
			assert_int_equal(r[i].rc, TS_ECONFLICT);
	}
	return ok;
}

static void code_take_race(void **state, bool two_stores)
{
	struct ts_store *st = store_of(state);
	struct racer r[RACE_THREADS];
	struct world w;
	struct ts_code_rec c;
	char h[HASH_CAP];
	int i;

	make_world(st, "code-race", &w);
	rand_hash(h);
	c = code_rec(&w, h);
	assert_int_equal(ts_store_code_put(st, &c), TS_OK);
	assert_int_equal(race(state, &w, h, code_racer, r, two_stores), 1);
	for (i = 0; i < RACE_THREADS; i++) {
		assert_non_null(r[i].code); /* the winner and every replay */
		check_code(r[i].code, &c);
		ts_code_rec_free(r[i].code);
	}
	assert_int_equal(ts_store_tenant_delete(st, w.name), TS_OK);
}

static void test_code_take_race(void **state)
{
	code_take_race(state, true);
}

static void test_code_take_race_one_store(void **state)
{
	code_take_race(state, false);
}

static void check_refresh(const struct ts_refresh_rec *got, const struct ts_refresh_rec *want)
{
	assert_string_equal(got->token_hash, want->token_hash);
	assert_string_equal(got->tenant_id, want->tenant_id);
	assert_string_equal(got->grant_id, want->grant_id);
	assert_string_equal(got->client_id, want->client_id);
	assert_string_equal(got->user_id, want->user_id);
	assert_string_equal(got->scope, want->scope);
	assert_string_equal(got->resource, want->resource);
	assert_int_equal(got->auth_time, want->auth_time);
	assert_int_equal(got->issued_at, want->issued_at);
	assert_int_equal(got->expires_at, want->expires_at);
}

/* The stored state of a refresh token: 0 unused, 1 used, -1 missing. */
static int refresh_used(struct ts_store *st, const char *hash)
{
	struct ts_refresh_rec *r = NULL;
	int used, rc = ts_store_refresh_get(st, hash, &r);

	if (rc == TS_ENOTFOUND)
		return -1;
	assert_int_equal(rc, TS_OK);
	used = r->used;
	ts_refresh_rec_free(r);
	return used;
}

static void test_refresh_rotate(void **state)
{
	struct ts_store *st = store_of(state);
	struct world w, other;
	struct ts_refresh_rec r1, r2, bad, *got = NULL;
	char h1[HASH_CAP], h2[HASH_CAP], h3[HASH_CAP];

	make_world(st, "refresh", &w);
	make_world(st, "refresh2", &other);
	rand_hash(h1);
	rand_hash(h2);
	rand_hash(h3);
	r1 = refresh_rec(&w, h1);
	assert_int_equal(ts_store_refresh_put(st, &r1), TS_OK);
	assert_int_equal(ts_store_refresh_put(st, &r1), TS_EEXIST);
	assert_int_equal(ts_store_refresh_get(st, h1, &got), TS_OK);
	check_refresh(got, &r1);
	assert_false(got->used);
	assert_false(got->revoked);
	ts_refresh_rec_free(got);

	/* Successors that do not belong to the same grant change nothing. */
	bad = refresh_rec(&other, h2);
	assert_int_equal(ts_store_refresh_rotate(st, h1, &bad), TS_EINVAL);
	bad = refresh_rec(&w, h1);
	assert_int_equal(ts_store_refresh_rotate(st, h1, &bad), TS_EINVAL);
	/* A successor that cannot be stored leaves the old token unused. */
	r2 = refresh_rec(&other, h2);
	assert_int_equal(ts_store_refresh_put(st, &r2), TS_OK);
	bad = refresh_rec(&w, h2);
	assert_int_equal(ts_store_refresh_rotate(st, h1, &bad), TS_EEXIST);
	assert_int_equal(refresh_used(st, h1), 0);

	r2 = refresh_rec(&w, h3);
	r2.issued_at = 80;
	assert_int_equal(ts_store_refresh_rotate(st, h1, &r2), TS_OK);
	assert_int_equal(refresh_used(st, h1), 1);
	assert_int_equal(ts_store_refresh_get(st, h3, &got), TS_OK);
	check_refresh(got, &r2);
	assert_false(got->used);
	ts_refresh_rec_free(got);

	/* Reuse of the spent token: TS_ECONFLICT, and its successor-to-be is
	 * not stored. */
	rand_hash(h2);
	bad = refresh_rec(&w, h2);
	assert_int_equal(ts_store_refresh_rotate(st, h1, &bad), TS_ECONFLICT);
	assert_int_equal(refresh_used(st, h2), -1);
	assert_int_equal(ts_store_refresh_rotate(st, h2, &r2), TS_ENOTFOUND);

	/* Missing parents and bad arguments. */
	bad = refresh_rec(&w, h2);
	bad.grant_id = "no-such-grant";
	assert_int_equal(ts_store_refresh_put(st, &bad), TS_ENOTFOUND);
	bad = refresh_rec(&w, h2);
	bad.client_id = NULL;
	assert_int_equal(ts_store_refresh_put(st, &bad), TS_EINVAL);
	assert_int_equal(ts_store_refresh_rotate(st, NULL, &r2), TS_EINVAL);
	assert_int_equal(ts_store_refresh_rotate(st, h3, NULL), TS_EINVAL);
	got = (struct ts_refresh_rec *)1;
	assert_int_equal(ts_store_refresh_get(st, NULL, &got), TS_EINVAL);
	assert_null(got);
	assert_int_equal(ts_store_tenant_delete(st, w.name), TS_OK);
	assert_int_equal(ts_store_tenant_delete(st, other.name), TS_OK);
}

/* A token read with its user and the pending state named after its grant,
 * in one call; without a prefix no pending state is read. */
static void test_refresh_load(void **state)
{
	struct ts_store *st = store_of(state);
	struct ts_refresh_load l = {0};
	struct ts_refresh_rec r1, r2;
	struct world w;
	char h1[HASH_CAP], h2[HASH_CAP], key[ID_CAP + 16];

	make_world(st, "load", &w);
	rand_hash(h1);
	rand_hash(h2);
	r1 = refresh_rec(&w, h1);
	assert_int_equal(ts_store_refresh_put(st, &r1), TS_OK);
	r2 = refresh_rec(&w, h2);
	r2.user_id = NULL;
	assert_int_equal(ts_store_refresh_put(st, &r2), TS_OK);

	assert_int_equal(ts_store_refresh_load(st, h1, NULL, &l), TS_OK);
	check_refresh(l.token, &r1);
	assert_non_null(l.user);
	assert_string_equal(l.user->id, w.uid);
	assert_string_equal(l.user->tenant_id, w.tid);
	assert_false(l.user->disabled);
	assert_null(l.pending_tenant);
	assert_null(l.pending_data);
	ts_refresh_load_clear(&l);
	assert_null(l.token);

	snprintf(key, sizeof(key), "bind:%s", w.grant);
	assert_int_equal(ts_store_pending_put(st, w.tid, key, "bind", "thumb", FAR_FUTURE), TS_OK);
	assert_int_equal(ts_store_refresh_load(st, h1, "bind:", &l), TS_OK);
	assert_string_equal(l.pending_tenant, w.tid);
	assert_string_equal(l.pending_data, "thumb");
	assert_int_equal(l.pending_expires_at, FAR_FUTURE);
	ts_refresh_load_clear(&l);
	assert_int_equal(ts_store_refresh_load(st, h1, NULL, &l), TS_OK);
	assert_null(l.pending_tenant);
	ts_refresh_load_clear(&l);
	assert_int_equal(ts_store_refresh_load(st, h1, "other:", &l), TS_OK);
	assert_null(l.pending_tenant);
	ts_refresh_load_clear(&l);

	/* A token without a user. */
	assert_int_equal(ts_store_refresh_load(st, h2, "bind:", &l), TS_OK);
	assert_string_equal(l.token->token_hash, h2);
	assert_null(l.token->user_id);
	assert_null(l.user);
	assert_string_equal(l.pending_data, "thumb");
	ts_refresh_load_clear(&l);

	rand_hash(h2);
	assert_int_equal(ts_store_refresh_load(st, h2, "bind:", &l), TS_ENOTFOUND);
	assert_null(l.token);
	assert_int_equal(ts_store_refresh_load(st, NULL, NULL, &l), TS_EINVAL);
	assert_int_equal(ts_store_refresh_load(st, h1, NULL, NULL), TS_EINVAL);
	assert_int_equal(ts_store_tenant_delete(st, w.name), TS_OK);
}

/* Rotation and the new access token's record in one write: revoking the
 * grant afterwards reaches that token; a failed rotation records nothing. */
static void test_refresh_rotate_token(void **state)
{
	struct ts_store *st = store_of(state);
	struct world w;
	struct ts_refresh_rec r1, r2, r3;
	char h1[HASH_CAP], h2[HASH_CAP], h3[HASH_CAP];
	bool revoked = true;

	make_world(st, "rotate-token", &w);
	rand_hash(h1);
	rand_hash(h2);
	rand_hash(h3);
	r1 = refresh_rec(&w, h1);
	assert_int_equal(ts_store_refresh_put(st, &r1), TS_OK);
	r2 = refresh_rec(&w, h2);
	assert_int_equal(ts_store_refresh_rotate_token(st, h1, &r2, "jti-rt", FAR_FUTURE), TS_OK);
	assert_int_equal(refresh_used(st, h1), 1);
	r3 = refresh_rec(&w, h3);
	assert_int_equal(ts_store_refresh_rotate_token(st, h1, &r3, "jti-lost", FAR_FUTURE),
			 TS_ECONFLICT);
	assert_int_equal(refresh_used(st, h3), -1);
	assert_int_equal(ts_store_refresh_rotate_token(st, h2, &r3, "", FAR_FUTURE), TS_EINVAL);
	assert_int_equal(ts_store_grant_revoke(st, w.tid, w.grant), TS_OK);
	assert_int_equal(ts_store_revoke_check(st, w.tid, "jti-rt", &revoked), TS_OK);
	assert_true(revoked);
	assert_int_equal(ts_store_revoke_check(st, w.tid, "jti-lost", &revoked), TS_OK);
	assert_false(revoked);
	assert_int_equal(ts_store_tenant_delete(st, w.name), TS_OK);
}

/* A race of RACE_THREADS rotations of one token through fn. Exactly the
 * winner's successor exists, unused; with_jti, exactly the winner's access
 * token was recorded, which revoking the grant shows. */
static void refresh_race(void **state, void *(*fn)(void *), bool two_stores, bool with_jti)
{
	struct ts_store *st = store_of(state);
	struct racer r[RACE_THREADS];
	struct world w;
	struct ts_refresh_rec r0;
	char h[HASH_CAP];
	int i, stored = 0;
	bool revoked;

	make_world(st, "refresh-race", &w);
	rand_hash(h);
	r0 = refresh_rec(&w, h);
	assert_int_equal(ts_store_refresh_put(st, &r0), TS_OK);
	assert_int_equal(race(state, &w, h, fn, r, two_stores), 1);
	for (i = 0; i < RACE_THREADS; i++) {
		int used = refresh_used(st, r[i].next_hash);

		assert_int_equal(used, r[i].rc == TS_OK ? 0 : -1);
		stored += used == 0;
	}
	assert_int_equal(stored, 1);
	assert_int_equal(refresh_used(st, h), 1);
	if (with_jti) {
		assert_int_equal(ts_store_grant_revoke(st, w.tid, w.grant), TS_OK);
		for (i = 0; i < RACE_THREADS; i++) {
			assert_int_equal(ts_store_revoke_check(st, w.tid, r[i].next_hash, &revoked),
					 TS_OK);
			assert_int_equal(revoked, r[i].rc == TS_OK);
		}
	}
	assert_int_equal(ts_store_tenant_delete(st, w.name), TS_OK);
}

static void test_refresh_rotate_race(void **state)
{
	refresh_race(state, refresh_racer, true, false);
}

static void test_refresh_rotate_race_one_store(void **state)
{
	refresh_race(state, refresh_racer, false, false);
}

static void test_refresh_rotate_token_race(void **state)
{
	refresh_race(state, refresh_token_racer, false, true);
}

/* One thread's share of test_refresh_chains. Everything random is made by
 * the test's own thread, since cmocka's assertions are for that thread only;
 * the chain's thread records how far it got instead. */
struct chain {
	struct ts_store *st;
	pthread_barrier_t *start;
	const struct world *w;
	char hash[CHAIN_STEPS + 1][HASH_CAP]; /* the tokens, oldest first */
	char jti[CHAIN_STEPS][JTI_CAP];       /* access tokens, one per rotation */
	char code[HASH_CAP];
	int rc;    /* TS_OK, or the first failure */
	int steps; /* rotations that succeeded */
	int take2; /* what a second take of the code gave */
};

/* Stores a token and rotates it CHAIN_STEPS times, recording an access
 * token with every rotation: with the rotation (rotate_token) or after it
 * (grant_token_add), by turns. In between, a code is stored (a write that
 * is never batched), then taken twice. */
static void *chain_runner(void *arg)
{
	struct chain *ch = arg;
	struct ts_refresh_rec next = refresh_rec(ch->w, ch->hash[0]);
	struct ts_code_rec code = code_rec(ch->w, ch->code), *got = NULL;
	int i, rc;

	pthread_barrier_wait(ch->start);
	rc = ts_store_refresh_put(ch->st, &next);
	for (i = 0; i < CHAIN_STEPS && rc == TS_OK; i++) {
		next = refresh_rec(ch->w, ch->hash[i + 1]);
		if (i % 2 == 0) {
			rc = ts_store_refresh_rotate_token(ch->st, ch->hash[i], &next, ch->jti[i],
							   FAR_FUTURE);
		} else {
			rc = ts_store_refresh_rotate(ch->st, ch->hash[i], &next);
			if (rc == TS_OK)
				rc = ts_store_grant_token_add(ch->st, ch->w->tid, ch->w->grant,
							      ch->jti[i], FAR_FUTURE);
		}
		if (rc == TS_OK)
			ch->steps++;
		if (rc == TS_OK && i == CHAIN_STEPS / 2)
			rc = ts_store_code_put(ch->st, &code);
	}
	if (rc == TS_OK)
		rc = ts_store_code_take(ch->st, ch->code, &got);
	ts_code_rec_free(got);
	got = NULL;
	if (rc == TS_OK)
		ch->take2 = ts_store_code_take(ch->st, ch->code, &got);
	ts_code_rec_free(got);
	ch->rc = rc;
	return NULL;
}

/* CHAIN_THREADS threads each rotate a refresh-token chain of their own at
 * once, on one store handle. Every call succeeds, and afterwards every
 * chain is consistent: each token but the newest is used, the newest is
 * not, and every access token recorded on the way is known to the grant. */
static void test_refresh_chains(void **state)
{
	struct ts_store *st = store_of(state);
	struct chain *ch = calloc(CHAIN_THREADS, sizeof(*ch));
	pthread_t th[CHAIN_THREADS];
	pthread_barrier_t start;
	struct ts_refresh_rec *got = NULL;
	struct world w;
	bool revoked;
	int i, k;

	assert_non_null(ch);
	make_world(st, "chains", &w);
	assert_int_equal(pthread_barrier_init(&start, NULL, CHAIN_THREADS), 0);
	for (i = 0; i < CHAIN_THREADS; i++) {
		ch[i].st = st;
		ch[i].start = &start;
		ch[i].w = &w;
		for (k = 0; k <= CHAIN_STEPS; k++)
			rand_hash(ch[i].hash[k]);
		for (k = 0; k < CHAIN_STEPS; k++)
			snprintf(ch[i].jti[k], JTI_CAP, "jti-%d-%d", i, k);
		rand_hash(ch[i].code);
		assert_int_equal(pthread_create(&th[i], NULL, chain_runner, &ch[i]), 0);
	}
	for (i = 0; i < CHAIN_THREADS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	pthread_barrier_destroy(&start);

	assert_int_equal(ts_store_grant_revoke(st, w.tid, w.grant), TS_OK);
	for (i = 0; i < CHAIN_THREADS; i++) {
		assert_int_equal(ch[i].rc, TS_OK);
		assert_int_equal(ch[i].steps, CHAIN_STEPS);
		assert_int_equal(ch[i].take2, TS_ECONFLICT);
		for (k = 0; k < CHAIN_STEPS; k++) {
			assert_int_equal(refresh_used(st, ch[i].hash[k]), 1);
			assert_int_equal(ts_store_revoke_check(st, w.tid, ch[i].jti[k], &revoked),
					 TS_OK);
			assert_true(revoked);
		}
		assert_int_equal(ts_store_refresh_get(st, ch[i].hash[CHAIN_STEPS], &got), TS_OK);
		assert_false(got->used);
		assert_true(got->revoked); /* by the grant's revocation */
		ts_refresh_rec_free(got);
		got = NULL;
	}
	free(ch);
	assert_int_equal(ts_store_tenant_delete(st, w.name), TS_OK);
}

static void test_grant_revoke(void **state)
{
	struct ts_store *st = store_of(state);
	struct world w;
	struct ts_grant_rec *got = NULL;
	struct ts_refresh_rec r, *rg = NULL;
	struct ts_code_rec c, *cg = NULL;
	char h1[HASH_CAP], h2[HASH_CAP], code[HASH_CAP];
	bool revoked = true;

	make_world(st, "grants", &w);
	assert_int_equal(ts_store_grant_get(st, w.tid, w.grant, &got), TS_OK);
	assert_string_equal(got->tenant_id, w.tid);
	assert_string_equal(got->id, w.grant);
	assert_string_equal(got->client_id, CLIENT);
	assert_string_equal(got->user_id, w.uid);
	assert_string_equal(got->scope, SCOPE);
	assert_int_equal(got->auth_time, 50);
	assert_int_equal(got->created_at, 60);
	assert_false(got->revoked);
	ts_grant_rec_free(got);
	got = NULL;

	/* Two access tokens, one expiring early; a refresh token; a code. */
	assert_int_equal(ts_store_grant_token_add(st, w.tid, w.grant, "jti-early", 2000), TS_OK);
	assert_int_equal(ts_store_grant_token_add(st, w.tid, w.grant, "jti-late", FAR_FUTURE),
			 TS_OK);
	assert_int_equal(ts_store_grant_token_add(st, w.tid, "no-such-grant", "j", 1),
			 TS_ENOTFOUND);
	assert_int_equal(ts_store_grant_token_add(st, w.tid, w.grant, "", 1), TS_EINVAL);
	rand_hash(h1);
	r = refresh_rec(&w, h1);
	assert_int_equal(ts_store_refresh_put(st, &r), TS_OK);
	rand_hash(code);
	c = code_rec(&w, code);
	assert_int_equal(ts_store_code_put(st, &c), TS_OK);
	assert_int_equal(ts_store_revoke_check(st, w.tid, "jti-late", &revoked), TS_OK);
	assert_false(revoked);

	assert_int_equal(ts_store_grant_revoke(st, w.tid, w.grant), TS_OK);
	assert_int_equal(ts_store_grant_get(st, w.tid, w.grant, &got), TS_OK);
	assert_true(got->revoked);
	ts_grant_rec_free(got);
	assert_int_equal(ts_store_revoke_check(st, w.tid, "jti-early", &revoked), TS_OK);
	assert_true(revoked);
	assert_int_equal(ts_store_revoke_check(st, w.tid, "jti-late", &revoked), TS_OK);
	assert_true(revoked);
	assert_int_equal(ts_store_refresh_get(st, h1, &rg), TS_OK);
	assert_true(rg->revoked);
	assert_false(rg->used);
	ts_refresh_rec_free(rg);
	assert_int_equal(ts_store_code_take(st, code, &cg), TS_ECONFLICT);
	ts_code_rec_free(cg);
	rand_hash(h2);
	r = refresh_rec(&w, h2);
	assert_int_equal(ts_store_refresh_rotate(st, h1, &r), TS_ECONFLICT);

	/* Each denial keeps its token's expiry: a purge past the early one
	 * forgets only that one. */
	assert_int_equal(ts_store_revoke_purge(st, 2001), TS_OK);
	assert_int_equal(ts_store_revoke_check(st, w.tid, "jti-early", &revoked), TS_OK);
	assert_false(revoked);
	assert_int_equal(ts_store_revoke_check(st, w.tid, "jti-late", &revoked), TS_OK);
	assert_true(revoked);
	assert_int_equal(ts_store_tenant_delete(st, w.name), TS_OK);
}

/* What is issued under a revoked grant afterwards is dead at once, and
 * putting the grant again does not bring it back. */
static void test_grant_stays_revoked(void **state)
{
	struct ts_store *st = store_of(state);
	struct world w;
	struct ts_grant_rec g = {0}, *got = NULL;
	struct ts_refresh_rec r, *rg = NULL;
	char h1[HASH_CAP], h2[HASH_CAP];
	bool revoked = false;

	make_world(st, "revoked", &w);
	assert_int_equal(ts_store_grant_revoke(st, w.tid, w.grant), TS_OK);
	assert_int_equal(ts_store_grant_token_add(st, w.tid, w.grant, "jti-after", FAR_FUTURE),
			 TS_OK);
	assert_int_equal(ts_store_revoke_check(st, w.tid, "jti-after", &revoked), TS_OK);
	assert_true(revoked);
	rand_hash(h2);
	r = refresh_rec(&w, h2);
	assert_int_equal(ts_store_refresh_put(st, &r), TS_OK);
	assert_int_equal(ts_store_refresh_get(st, h2, &rg), TS_OK);
	assert_true(rg->revoked);
	ts_refresh_rec_free(rg);
	rand_hash(h1);
	r = refresh_rec(&w, h1);
	assert_int_equal(ts_store_refresh_rotate(st, h2, &r), TS_ECONFLICT);
	g = (struct ts_grant_rec){.tenant_id = w.tid, .id = w.grant, .client_id = CLIENT,
				  .user_id = w.uid, .scope = "openid", .auth_time = 90};
	assert_int_equal(ts_store_grant_put(st, &g), TS_OK);
	assert_int_equal(ts_store_grant_get(st, w.tid, w.grant, &got), TS_OK);
	assert_true(got->revoked);
	assert_string_equal(got->scope, "openid");
	assert_int_equal(got->auth_time, 90);
	assert_int_equal(got->created_at, 60);
	ts_grant_rec_free(got);

	/* Idempotent, and TS_OK for an unknown grant. */
	assert_int_equal(ts_store_grant_revoke(st, w.tid, w.grant), TS_OK);
	assert_int_equal(ts_store_grant_revoke(st, w.tid, "no-such-grant"), TS_OK);
	assert_int_equal(ts_store_grant_revoke(st, w.tid, NULL), TS_EINVAL);
	assert_int_equal(ts_store_tenant_delete(st, w.name), TS_OK);
}

/* A grant without a user (client credentials) and the argument checks. */
static void test_grant_put(void **state)
{
	struct ts_store *st = store_of(state);
	struct ts_grant_rec g = {0}, *got = NULL;
	char name[NAME_CAP], tid[ID_CAP], gid[ID_CAP], uid[ID_CAP];

	new_tenant(st, "grant-put", name, tid);
	assert_int_equal(ts_rand_uuid(gid), TS_OK);
	g = (struct ts_grant_rec){.tenant_id = tid, .id = gid, .client_id = "svc", .scope = ""};
	assert_int_equal(ts_store_grant_put(st, &g), TS_OK);
	assert_int_equal(ts_store_grant_get(st, tid, gid, &got), TS_OK);
	assert_null(got->user_id);
	assert_string_equal(got->scope, "");
	ts_grant_rec_free(got);
	got = NULL;
	assert_int_equal(ts_store_grant_get(st, tid, "no-such-grant", &got), TS_ENOTFOUND);
	assert_null(got);

	/* The id is taken by a grant of another client or user. */
	g.client_id = "other";
	assert_int_equal(ts_store_grant_put(st, &g), TS_EEXIST);
	g.client_id = "svc";
	new_user(st, tid, "u", uid);
	g.user_id = uid;
	assert_int_equal(ts_store_grant_put(st, &g), TS_EEXIST);
	assert_int_equal(ts_store_grant_get(st, tid, gid, &got), TS_OK);
	assert_null(got->user_id);
	assert_string_equal(got->client_id, "svc");
	ts_grant_rec_free(got);

	assert_int_equal(ts_rand_uuid(gid), TS_OK);
	g.user_id = "no-such-user";
	assert_int_equal(ts_store_grant_put(st, &g), TS_ENOTFOUND);
	g.user_id = NULL;
	g.tenant_id = "no-such-tenant";
	assert_int_equal(ts_store_grant_put(st, &g), TS_ENOTFOUND);
	g.tenant_id = tid;
	g.client_id = NULL;
	assert_int_equal(ts_store_grant_put(st, &g), TS_EINVAL);
	g.client_id = "svc";
	g.id = "";
	assert_int_equal(ts_store_grant_put(st, &g), TS_EINVAL);
	assert_int_equal(ts_store_grant_get(st, tid, gid, NULL), TS_EINVAL);
	assert_int_equal(ts_store_tenant_delete(st, name), TS_OK);
}

/* The stored state of a refresh token: 0 live, 1 used, 2 revoked unused,
 * -1 missing. */
static int refresh_state(struct ts_store *st, const char *hash)
{
	struct ts_refresh_rec *r = NULL;
	int state, rc = ts_store_refresh_get(st, hash, &r);

	if (rc == TS_ENOTFOUND)
		return -1;
	assert_int_equal(rc, TS_OK);
	state = r->used ? 1 : r->revoked ? 2 : 0;
	ts_refresh_rec_free(r);
	return state;
}

static bool jti_denied(struct ts_store *st, const struct world *w, const char *jti)
{
	bool revoked = false;

	assert_int_equal(ts_store_revoke_check(st, w->tid, jti, &revoked), TS_OK);
	return revoked;
}

/* A retry inside the window replaces an unused successor (and denies its
 * access token), keeps the window's start, and is reuse once the
 * successor was used, after the window, or without a successor. */
static void test_refresh_regrace(void **state)
{
	struct ts_store *st = store_of(state);
	struct world w;
	struct ts_refresh_rec r1, r2, r3, r4, *got = NULL;
	char h1[HASH_CAP], h2[HASH_CAP], h3[HASH_CAP], h4[HASH_CAP];

	make_world(st, "regrace", &w);
	rand_hash(h1);
	rand_hash(h2);
	rand_hash(h3);
	rand_hash(h4);
	r1 = refresh_rec(&w, h1);
	assert_int_equal(ts_store_refresh_put(st, &r1), TS_OK);
	/* No successor yet: reuse. */
	r3 = refresh_rec(&w, h3);
	assert_int_equal(ts_store_refresh_regrace(st, h1, 0, &r3, "jti-3", FAR_FUTURE),
			 TS_ECONFLICT);
	r2 = refresh_rec(&w, h2);
	r2.issued_at = 100;
	assert_int_equal(ts_store_refresh_rotate_token(st, h1, &r2, "jti-2", FAR_FUTURE), TS_OK);
	/* Outside the window: nothing changes. */
	assert_int_equal(ts_store_refresh_regrace(st, h1, 101, &r3, "jti-3", FAR_FUTURE),
			 TS_ECONFLICT);
	assert_int_equal(refresh_state(st, h2), 0);
	assert_int_equal(refresh_state(st, h3), -1);
	r3.issued_at = 120;
	assert_int_equal(ts_store_refresh_regrace(st, h1, 100, &r3, "jti-3", FAR_FUTURE), TS_OK);
	assert_int_equal(refresh_state(st, h2), 2);
	assert_int_equal(refresh_state(st, h3), 0);
	assert_true(jti_denied(st, &w, "jti-2"));
	assert_false(jti_denied(st, &w, "jti-3"));
	/* The replaced successor is dead, not reused. */
	r4 = refresh_rec(&w, h4);
	assert_int_equal(ts_store_refresh_regrace(st, h2, 0, &r4, "jti-4", FAR_FUTURE), TS_EDENIED);
	assert_int_equal(refresh_state(st, h4), -1);
	assert_int_equal(ts_store_refresh_get(st, h3, &got), TS_OK);
	assert_string_equal(got->parent_hash, h1);
	assert_int_equal(got->rotated_at, 100); /* the window does not move */
	assert_string_equal(got->access_jti, "jti-3");
	ts_refresh_rec_free(got);
	/* The successor used: reuse, and nothing changes. */
	r4 = refresh_rec(&w, h4);
	assert_int_equal(ts_store_refresh_rotate(st, h3, &r4), TS_OK);
	rand_hash(h2);
	r2 = refresh_rec(&w, h2);
	assert_int_equal(ts_store_refresh_regrace(st, h1, 0, &r2, "jti-x", FAR_FUTURE),
			 TS_ECONFLICT);
	assert_int_equal(refresh_state(st, h2), -1);
	assert_int_equal(refresh_state(st, h4), 0);
	assert_int_equal(ts_store_refresh_regrace(st, h1, 0, &r2, NULL, FAR_FUTURE), TS_EINVAL);
	assert_int_equal(ts_store_refresh_regrace(st, h2, 0, &r2, "jti-x", FAR_FUTURE), TS_EINVAL);
	assert_int_equal(ts_store_tenant_delete(st, w.name), TS_OK);
}

static void *regrace_racer(void *arg)
{
	struct racer *r = arg;
	struct ts_refresh_rec next = refresh_rec(r->w, r->next_hash);

	pthread_barrier_wait(r->start);
	r->rc = ts_store_refresh_regrace(r->st, r->old_hash, 0, &next, r->next_hash, FAR_FUTURE);
	return NULL;
}

/* RACE_THREADS retries of one rotated token, through two handles: each
 * gets TS_OK or TS_EDENIED, and exactly one successor is left live. */
static void test_refresh_regrace_race(void **state)
{
	struct fx *fx = *state;
	struct ts_store *st = fx->st, *st2 = NULL;
	struct racer r[RACE_THREADS];
	pthread_t th[RACE_THREADS];
	pthread_barrier_t start;
	struct world w;
	struct ts_refresh_rec r0, r1;
	char h0[HASH_CAP], h1[HASH_CAP];
	int i, live = 0, ok = 0;

	make_world(st, "regrace-race", &w);
	rand_hash(h0);
	rand_hash(h1);
	r0 = refresh_rec(&w, h0);
	assert_int_equal(ts_store_refresh_put(st, &r0), TS_OK);
	r1 = refresh_rec(&w, h1);
	assert_int_equal(ts_store_refresh_rotate_token(st, h0, &r1, "jti-first", FAR_FUTURE),
			 TS_OK);
	assert_int_equal(ts_store_open(fx->url, &st2), TS_OK);
	assert_int_equal(pthread_barrier_init(&start, NULL, RACE_THREADS), 0);
	for (i = 0; i < RACE_THREADS; i++) {
		r[i] = (struct racer){.st = i % 2 ? st2 : st, .start = &start, .old_hash = h0,
				      .w = &w};
		rand_hash(r[i].next_hash);
		assert_int_equal(pthread_create(&th[i], NULL, regrace_racer, &r[i]), 0);
	}
	for (i = 0; i < RACE_THREADS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	pthread_barrier_destroy(&start);
	ts_store_close(st2);
	for (i = 0; i < RACE_THREADS; i++) {
		int s = refresh_state(st, r[i].next_hash);

		assert_true(r[i].rc == TS_OK || r[i].rc == TS_EDENIED);
		assert_int_equal(s == -1, r[i].rc != TS_OK);
		ok += r[i].rc == TS_OK;
		live += s == 0;
		/* A replaced successor's access token is denied. */
		assert_int_equal(jti_denied(st, &w, r[i].next_hash), s == 2);
	}
	assert_true(ok >= 1);
	assert_int_equal(live, 1);
	assert_int_equal(refresh_state(st, h1), 2);
	assert_true(jti_denied(st, &w, "jti-first"));
	assert_int_equal(ts_store_tenant_delete(st, w.name), TS_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_code_take),
		cmocka_unit_test(test_code_take_race),
		cmocka_unit_test(test_code_take_race_one_store),
		cmocka_unit_test(test_refresh_rotate),
		cmocka_unit_test(test_refresh_rotate_token),
		cmocka_unit_test(test_refresh_load),
		cmocka_unit_test(test_refresh_rotate_race),
		cmocka_unit_test(test_refresh_rotate_race_one_store),
		cmocka_unit_test(test_refresh_rotate_token_race),
		cmocka_unit_test(test_refresh_chains),
		cmocka_unit_test(test_grant_revoke),
		cmocka_unit_test(test_grant_stays_revoked),
		cmocka_unit_test(test_grant_put),
		cmocka_unit_test(test_refresh_regrace),
		cmocka_unit_test(test_refresh_regrace_race),
	};

	return cmocka_run_group_tests_name("store_grants", tests, group_setup, group_teardown) !=
	       0;
}
