/* test_store_sqlite.c: behaviour specific to the SQLite backend, always
 * on a private temporary directory whatever TS_STORE_URL says: paths
 * (relative, "file:" names), files that cannot be opened or are not
 * databases, WAL, refusal of a newer schema, the upgrade of a version 1
 * file, and batched writes (group commit) with batches made up on purpose.
 * The batch tests reach into the backend through its private header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <time.h>

#include "test_store_fixture.h"
#include "store/schema.h"
#include "store/sqlite_int.h"

#define CLIENT "app"
#define SCOPE "openid"
/* More than a batch holds (BATCH_MAX in sqlite.c), so that they need two. */
#define MANY_STEPS 70
#define MAX_STEPS MANY_STEPS
#define WAIT_TRIES 3000 /* of WAIT_NS each: 3 s, well inside the busy timeout */
#define WAIT_NS 1000000

static void test_sqlite_unopenable(void **state)
{
	char dir[PATH_MAX], url[PATH_MAX + 64], path[PATH_MAX + 32];
	struct ts_store *st = NULL;
	FILE *f;
	int i;

	(void)state;
	make_tmpdir(dir);
	/* A directory that does not exist. */
	snprintf(url, sizeof(url), "sqlite:%s/missing/sub/x.db", dir);
	assert_int_equal(ts_store_open(url, &st), TS_ESTORE);
	assert_null(st);
	/* A directory in place of the file. */
	snprintf(url, sizeof(url), "sqlite:%s", dir);
	assert_int_equal(ts_store_open(url, &st), TS_ESTORE);
	assert_null(st);
	/* A file that is not a database. */
	snprintf(path, sizeof(path), "%s/not-a-db", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	for (i = 0; i < 200; i++)
		fputs("this is a text file, not an SQLite database\n", f);
	fclose(f);
	snprintf(url, sizeof(url), "sqlite:%s", path);
	assert_int_equal(ts_store_open(url, &st), TS_ESTORE);
	assert_null(st);
	remove_tree(dir);
}

static void test_sqlite_relative_path(void **state)
{
	char dir[PATH_MAX], cwd[PATH_MAX];
	struct ts_store *st = NULL;
	struct stat sb;

	(void)state;
	make_tmpdir(dir);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	/* Created in the working directory, owner-only. */
	assert_int_equal(ts_store_open("sqlite:rel.db", &st), TS_OK);
	assert_int_equal(ts_store_ping(st), TS_OK);
	ts_store_close(st);
	st = NULL;
	assert_int_equal(stat("rel.db", &sb), 0);
	assert_int_equal(sb.st_mode & 077, 0);
	/* "file:" is a file name here, never an SQLite URI. */
	assert_int_equal(ts_store_open("sqlite:file:uri.db?mode=memory", &st), TS_OK);
	ts_store_close(st);
	assert_int_equal(stat("file:uri.db?mode=memory", &sb), 0);
	assert_int_equal(chdir(cwd), 0);
	remove_tree(dir);
}

/* Runs fixed SQL on a database file behind the store's back. */
static void raw_sql(const char *path, const char *sql)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void test_sqlite_schema(void **state)
{
	char dir[PATH_MAX], url[PATH_MAX + 64], path[PATH_MAX + 32];
	struct ts_store *st = NULL;
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;

	(void)state;
	make_tmpdir(dir);
	snprintf(path, sizeof(path), "%s/%s", dir, DB_NAME);
	snprintf(url, sizeof(url), "sqlite:%s", path);
	assert_int_equal(ts_store_open(url, &st), TS_OK);
	ts_store_close(st);
	st = NULL;

	/* WAL is a property of the file: check it from outside. */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	sqlite3_close(db);

	/* A schema newer than this binary is refused, not clobbered. */
	raw_sql(path, "UPDATE schema_version SET version = 999");
	assert_int_equal(ts_store_open(url, &st), TS_ESTORE);
	assert_null(st);
	remove_tree(dir);
}

/* Reads schema_version behind the store's back. */
static int64_t raw_version(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int64_t v;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &s,
					    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* The version this binary's schema steps lead to. */
static int64_t latest_version(void)
{
	size_t n = 0;

	ts_schema_steps(TS_DIALECT_SQLITE, &n);
	return (int64_t)n;
}

/* A version 1 file (configuration only) is upgraded in place on open:
 * its data stays and the version 2 operations work. The file is made by
 * taking version 2's tables off a new one. */
static void test_sqlite_upgrade(void **state)
{
	char dir[PATH_MAX], url[PATH_MAX + 64], path[PATH_MAX + 32];
	char name[NAME_CAP], tid[ID_CAP], uid[ID_CAP];
	struct ts_store *st = NULL;
	struct ts_tenant_rec *t = NULL;
	struct ts_user_rec *u = NULL;

	(void)state;
	make_tmpdir(dir);
	snprintf(path, sizeof(path), "%s/%s", dir, DB_NAME);
	snprintf(url, sizeof(url), "sqlite:%s", path);
	assert_int_equal(ts_store_open(url, &st), TS_OK);
	new_tenant(st, "old", name, tid);
	ts_store_close(st);
	st = NULL;
	assert_int_equal(raw_version(path), latest_version());
	raw_sql(path, "DROP TRIGGER clients_touch_tenant_INSERT; DROP TRIGGER clients_touch_tenant_UPDATE;"
		      "DROP TRIGGER clients_touch_tenant_DELETE; DROP TRIGGER keys_touch_tenant_INSERT;"
		      "DROP TRIGGER keys_touch_tenant_UPDATE; DROP TRIGGER keys_touch_tenant_DELETE;"
		      "ALTER TABLE tenants DROP COLUMN version;"
		      "DROP TABLE throttle; DROP TABLE vault_connections; DROP TABLE vault_providers;"
		      "DROP TABLE api_keys; DROP TABLE pending; DROP TABLE consents; DROP TABLE refresh_tokens;"
		      "DROP TABLE grant_tokens; DROP TABLE grants; DROP TABLE codes;"
		      "DROP TABLE sessions; DROP TABLE group_members; DROP TABLE user_groups;"
		      "DROP TABLE users; UPDATE schema_version SET version = 1");

	assert_int_equal(ts_store_open(url, &st), TS_OK);
	assert_int_equal(raw_version(path), latest_version());
	assert_int_equal(ts_store_tenant_get(st, name, &t), TS_OK);
	assert_string_equal(t->id, tid);
	ts_tenant_rec_free(t);
	new_user(st, tid, "after-upgrade", uid);
	assert_int_equal(ts_store_user_find(st, tid, "After-Upgrade", &u), TS_OK);
	assert_string_equal(u->id, uid);
	ts_user_rec_free(u);
	ts_store_close(st);
	remove_tree(dir);
}

/* ---- batched writes ---- */

/* A store on a fresh file, with a tenant, a user and a grant of CLIENT. */
struct bfx {
	char dir[PATH_MAX], path[PATH_MAX + 32];
	struct ts_store *st;
	char name[NAME_CAP], tid[ID_CAP], uid[ID_CAP], grant[ID_CAP];
};

static void bfx_open(struct bfx *b)
{
	char url[PATH_MAX + 64];
	struct ts_grant_rec g = {0};

	make_tmpdir(b->dir);
	snprintf(b->path, sizeof(b->path), "%s/%s", b->dir, DB_NAME);
	snprintf(url, sizeof(url), "sqlite:%s", b->path);
	assert_int_equal(ts_store_open(url, &b->st), TS_OK);
	new_tenant(b->st, "batch", b->name, b->tid);
	new_user(b->st, b->tid, "user", b->uid);
	assert_int_equal(ts_rand_uuid(b->grant), TS_OK);
	g = (struct ts_grant_rec){.tenant_id = b->tid, .id = b->grant, .client_id = CLIENT,
				  .user_id = b->uid, .scope = SCOPE, .created_at = 60};
	assert_int_equal(ts_store_grant_put(b->st, &g), TS_OK);
}

static void bfx_close(struct bfx *b)
{
	ts_store_close(b->st);
	remove_tree(b->dir);
}

static struct ts_refresh_rec batch_refresh(const struct bfx *b, const char *hash)
{
	return (struct ts_refresh_rec){.token_hash = (char *)hash, .tenant_id = (char *)b->tid,
				       .grant_id = (char *)b->grant, .client_id = CLIENT,
				       .user_id = (char *)b->uid, .scope = SCOPE,
				       .expires_at = FAR_FUTURE};
}

/* The stored state of a refresh token: 0 unused, 1 used, -1 missing. */
static int batch_used(struct ts_store *st, const char *hash)
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

/* Test jobs for ts_sq_write_batched, run on whichever thread runs the
 * batch (never under cmocka's assertions). */
static int noop_job(struct ts_drv_conn *c, void *arg)
{
	(void)c;
	(void)arg;
	return TS_OK;
}

static int fail_job(struct ts_drv_conn *c, void *arg)
{
	(void)c;
	(void)arg;
	return TS_ENOTFOUND;
}

/* Bumps the generation by hand: a write that the batch must keep or drop. */
static int gen_job(struct ts_drv_conn *c, void *arg)
{
	int *runs = arg;

	(*runs)++;
	return sqlite3_exec(((struct ts_sq_conn *)c)->db,
			    "UPDATE meta SET value = value + 1 WHERE name = 'generation'",
			    NULL, NULL, NULL) == SQLITE_OK ? TS_OK : TS_ESTORE;
}

/* Ends the transaction under the batch, as SQLite does by itself after
 * some I/O errors, and claims success. */
static int lose_job(struct ts_drv_conn *c, void *arg)
{
	(void)arg;
	sqlite3_exec(((struct ts_sq_conn *)c)->db, "ROLLBACK", NULL, NULL, NULL);
	return TS_OK;
}

/* One thread's call in a batch: a store operation, or a raw job. */
struct step {
	struct ts_store *st;
	int (*run)(struct step *s);
	const char *old_hash;         /* rotations */
	struct ts_refresh_rec next;
	const char *code_hash;        /* code_take */
	struct ts_code_rec *code;     /* what code_take gave */
	const char *tenant_id, *grant_id, *jti; /* grant_token_add */
	ts_drv_job fn;                /* raw jobs */
	void *arg;
	bool bump;
	int rc;
};

static void *step_thread(void *arg)
{
	struct step *s = arg;

	s->rc = s->run(s);
	return NULL;
}

static int rotate_step(struct step *s)
{
	return ts_store_refresh_rotate(s->st, s->old_hash, &s->next);
}

static int take_step(struct step *s)
{
	return ts_store_code_take(s->st, s->code_hash, &s->code);
}

static int jti_step(struct step *s)
{
	return ts_store_grant_token_add(s->st, s->tenant_id, s->grant_id, s->jti, FAR_FUTURE);
}

static int job_step(struct step *s)
{
	return ts_sq_write_batched(s->st, s->fn, s->arg, s->bump);
}

/* Waits until a batch is running with exactly pending jobs queued. */
static void wait_queued(struct ts_store *st, size_t pending)
{
	const struct timespec pause = {.tv_nsec = WAIT_NS};
	struct ts_sq_batch_stats bs;
	int i;

	for (i = 0; i < WAIT_TRIES; i++) {
		ts_sq_batch_stats(st, &bs);
		if (bs.combining && bs.pending == pending)
			return;
		nanosleep(&pause, NULL);
	}
	fail_msg("%zu jobs never queued behind a running batch", pending);
}

/* Runs the n steps as batches made up on purpose. The database's write
 * lock is taken from outside, so that a first write (a no-op job) stalls
 * inside a running batch; the steps queue behind it one at a time, in
 * order, and the lock is then let go. The steps thus run in that order,
 * in ceil(n / BATCH_MAX) batches after the first. Returns the number of
 * batches, the first included, when all have returned. */
static uint64_t held_batches(struct bfx *b, struct step *steps, size_t n)
{
	struct step first = {.st = b->st, .run = job_step, .fn = noop_job};
	struct ts_sq_batch_stats before, after;
	pthread_t th[MAX_STEPS], th0;
	sqlite3 *db = NULL;
	size_t i;

	assert_true(n <= MAX_STEPS);
	ts_sq_batch_stats(b->st, &before);
	assert_int_equal(sqlite3_open(b->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(pthread_create(&th0, NULL, step_thread, &first), 0);
	wait_queued(b->st, 0);
	for (i = 0; i < n; i++) {
		steps[i].st = b->st;
		assert_int_equal(pthread_create(&th[i], NULL, step_thread, &steps[i]), 0);
		wait_queued(b->st, i + 1);
	}
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(pthread_join(th0, NULL), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	assert_int_equal(first.rc, TS_OK);
	ts_sq_batch_stats(b->st, &after);
	assert_false(after.combining);
	assert_int_equal(after.pending, 0);
	assert_int_equal(after.jobs - before.jobs, n + 1);
	return after.batches - before.batches;
}

/* One batch of store operations, some of which fail: each gets its own
 * answer, a failed one leaves nothing behind, and later ones see what the
 * earlier ones of the batch wrote. */
static void test_sqlite_batch_results(void **state)
{
	struct bfx b;
	struct step st[9];
	struct ts_refresh_rec r;
	struct ts_code_rec code;
	char h1[HASH_CAP], h2[HASH_CAP], taken[HASH_CAP], n1[HASH_CAP], n1b[HASH_CAP];
	char n2[HASH_CAP], unknown[HASH_CAP], chash[HASH_CAP];
	bool revoked = true;
	size_t i;

	(void)state;
	bfx_open(&b);
	rand_hash(h1);
	rand_hash(h2);
	rand_hash(taken);
	rand_hash(n1);
	rand_hash(n1b);
	rand_hash(n2);
	rand_hash(unknown);
	rand_hash(chash);
	r = batch_refresh(&b, h1);
	assert_int_equal(ts_store_refresh_put(b.st, &r), TS_OK);
	r = batch_refresh(&b, h2);
	assert_int_equal(ts_store_refresh_put(b.st, &r), TS_OK);
	r = batch_refresh(&b, taken);
	assert_int_equal(ts_store_refresh_put(b.st, &r), TS_OK);
	code = (struct ts_code_rec){.code_hash = chash, .tenant_id = b.tid, .client_id = CLIENT,
				    .user_id = b.uid, .grant_id = b.grant, .scope = SCOPE,
				    .expires_at = FAR_FUTURE};
	assert_int_equal(ts_store_code_put(b.st, &code), TS_OK);

	/* Spends h1, then fails on a successor hash already stored. */
	st[0] = (struct step){.run = rotate_step, .old_hash = h1, .next = batch_refresh(&b, taken)};
	st[1] = (struct step){.run = rotate_step, .old_hash = unknown,
			      .next = batch_refresh(&b, n1b)};
	/* Finds h1 unused again: st[0] was undone. */
	st[2] = (struct step){.run = rotate_step, .old_hash = h1, .next = batch_refresh(&b, n1)};
	/* Finds h1 spent by st[2], in the same transaction. */
	st[3] = (struct step){.run = rotate_step, .old_hash = h1, .next = batch_refresh(&b, n1b)};
	st[4] = (struct step){.run = rotate_step, .old_hash = h2, .next = batch_refresh(&b, n2)};
	st[5] = (struct step){.run = take_step, .code_hash = chash};
	st[6] = (struct step){.run = take_step, .code_hash = chash};
	st[7] = (struct step){.run = jti_step, .tenant_id = b.tid, .grant_id = "no-such-grant",
			      .jti = "jti-lost"};
	st[8] = (struct step){.run = jti_step, .tenant_id = b.tid, .grant_id = b.grant,
			      .jti = "jti-kept"};
	assert_int_equal(held_batches(&b, st, TS_ARRAY_LEN(st)), 2);

	assert_int_equal(st[0].rc, TS_EEXIST);
	assert_int_equal(st[1].rc, TS_ENOTFOUND);
	assert_int_equal(st[2].rc, TS_OK);
	assert_int_equal(st[3].rc, TS_ECONFLICT);
	assert_int_equal(st[4].rc, TS_OK);
	assert_int_equal(st[5].rc, TS_OK);
	assert_int_equal(st[6].rc, TS_ECONFLICT);
	assert_int_equal(st[7].rc, TS_ENOTFOUND);
	assert_int_equal(st[8].rc, TS_OK);
	for (i = 5; i <= 6; i++) {
		assert_non_null(st[i].code);
		assert_string_equal(st[i].code->code_hash, chash);
		assert_true(st[i].code->used);
		ts_code_rec_free(st[i].code);
	}

	assert_int_equal(batch_used(b.st, h1), 1);
	assert_int_equal(batch_used(b.st, n1), 0);
	assert_int_equal(batch_used(b.st, n1b), -1);
	assert_int_equal(batch_used(b.st, h2), 1);
	assert_int_equal(batch_used(b.st, n2), 0);
	assert_int_equal(batch_used(b.st, taken), 0);
	assert_int_equal(ts_store_grant_revoke(b.st, b.tid, b.grant), TS_OK);
	assert_int_equal(ts_store_revoke_check(b.st, b.tid, "jti-kept", &revoked), TS_OK);
	assert_true(revoked);
	assert_int_equal(ts_store_revoke_check(b.st, b.tid, "jti-lost", &revoked), TS_OK);
	assert_false(revoked);
	bfx_close(&b);
}

/* The generation is bumped once per batch, and only for jobs that
 * succeeded; a batch in which nothing succeeded changes nothing. */
static void test_sqlite_batch_bump(void **state)
{
	struct bfx b;
	struct step st[4];
	int64_t g0;

	(void)state;
	bfx_open(&b);
	g0 = generation(b.st);
	st[0] = (struct step){.run = job_step, .fn = noop_job, .bump = true};
	st[1] = (struct step){.run = job_step, .fn = fail_job, .bump = true};
	st[2] = (struct step){.run = job_step, .fn = noop_job, .bump = true};
	st[3] = (struct step){.run = job_step, .fn = noop_job};
	assert_int_equal(held_batches(&b, st, TS_ARRAY_LEN(st)), 2);
	assert_int_equal(st[0].rc, TS_OK);
	assert_int_equal(st[1].rc, TS_ENOTFOUND);
	assert_int_equal(st[2].rc, TS_OK);
	assert_int_equal(st[3].rc, TS_OK);
	assert_int_equal(generation(b.st), g0 + 1);

	assert_int_equal(ts_sq_write_batched(b.st, fail_job, NULL, true), TS_ENOTFOUND);
	assert_int_equal(ts_sq_write_batched(b.st, noop_job, NULL, false), TS_OK);
	assert_int_equal(generation(b.st), g0 + 1);
	assert_int_equal(ts_sq_write_batched(b.st, noop_job, NULL, true), TS_OK);
	assert_int_equal(generation(b.st), g0 + 2);
	bfx_close(&b);
}

/* A job after which the transaction is gone fails the whole batch: the
 * jobs before it lose their writes and their TS_OK, the ones after it never
 * run. The store works normally afterwards. */
static void test_sqlite_batch_lost(void **state)
{
	struct bfx b;
	struct step st[3];
	int runs = 0;
	int64_t g0;

	(void)state;
	bfx_open(&b);
	g0 = generation(b.st);
	st[0] = (struct step){.run = job_step, .fn = gen_job, .arg = &runs};
	st[1] = (struct step){.run = job_step, .fn = lose_job};
	st[2] = (struct step){.run = job_step, .fn = gen_job, .arg = &runs};
	assert_int_equal(held_batches(&b, st, TS_ARRAY_LEN(st)), 2);
	assert_int_equal(st[0].rc, TS_ESTORE);
	assert_int_equal(st[1].rc, TS_ESTORE);
	assert_int_equal(st[2].rc, TS_ESTORE);
	assert_int_equal(runs, 1);
	assert_int_equal(generation(b.st), g0);

	/* Alone, too. */
	assert_int_equal(ts_sq_write_batched(b.st, lose_job, NULL, false), TS_ESTORE);
	assert_int_equal(ts_sq_write_batched(b.st, gen_job, &runs, false), TS_OK);
	assert_int_equal(runs, 2);
	assert_int_equal(generation(b.st), g0 + 1);
	bfx_close(&b);
}

/* More jobs than a batch holds are queued at once: they run in order, in
 * two batches, and all succeed. */
static void test_sqlite_batch_cap(void **state)
{
	struct bfx b;
	struct step *st = calloc(MANY_STEPS, sizeof(*st));
	size_t i;

	(void)state;
	assert_non_null(st);
	bfx_open(&b);
	for (i = 0; i < MANY_STEPS; i++)
		st[i] = (struct step){.run = job_step, .fn = noop_job};
	assert_int_equal(held_batches(&b, st, MANY_STEPS), 3);
	for (i = 0; i < MANY_STEPS; i++)
		assert_int_equal(st[i].rc, TS_OK);
	free(st);
	bfx_close(&b);
}

int main(void)
{
	const struct CMUnitTest sqlite_tests[] = {
		cmocka_unit_test(test_sqlite_unopenable),
		cmocka_unit_test(test_sqlite_relative_path),
		cmocka_unit_test(test_sqlite_schema),
		cmocka_unit_test(test_sqlite_upgrade),
		cmocka_unit_test(test_sqlite_batch_results),
		cmocka_unit_test(test_sqlite_batch_bump),
		cmocka_unit_test(test_sqlite_batch_lost),
		cmocka_unit_test(test_sqlite_batch_cap),
	};

	return cmocka_run_group_tests_name("store_sqlite", sqlite_tests, NULL, NULL) != 0;
}
