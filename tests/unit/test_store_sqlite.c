/* test_store_sqlite.c: behaviour specific to the SQLite backend, always
 * on a private temporary directory whatever TS_STORE_URL says: paths
 * (relative, "file:" names), files that cannot be opened or are not
 * databases, WAL, refusal of a newer schema, and the upgrade of a version 1
 * file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <sys/stat.h>

#include "test_store_fixture.h"

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
	assert_int_equal(raw_version(path), 4);
	raw_sql(path, "DROP TABLE vault_connections; DROP TABLE vault_providers;"
		      "DROP TABLE api_keys; DROP TABLE pending; DROP TABLE consents; DROP TABLE refresh_tokens;"
		      "DROP TABLE grant_tokens; DROP TABLE grants; DROP TABLE codes;"
		      "DROP TABLE sessions; DROP TABLE group_members; DROP TABLE user_groups;"
		      "DROP TABLE users; UPDATE schema_version SET version = 1");

	assert_int_equal(ts_store_open(url, &st), TS_OK);
	assert_int_equal(raw_version(path), 4);
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

int main(void)
{
	const struct CMUnitTest sqlite_tests[] = {
		cmocka_unit_test(test_sqlite_unopenable),
		cmocka_unit_test(test_sqlite_relative_path),
		cmocka_unit_test(test_sqlite_schema),
		cmocka_unit_test(test_sqlite_upgrade),
	};

	return cmocka_run_group_tests_name("store_sqlite", sqlite_tests, NULL, NULL) != 0;
}
