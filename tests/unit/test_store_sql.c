/* test_store_sql.c: the SQL table and the schema steps the drivers run:
 * every statement exists in some dialect, numbers its parameters ?1..?N
 * without a gap (PostgreSQL cannot type a parameter a statement skips),
 * never writes one as $N, and turns into PostgreSQL's $N form; both
 * dialects keep every migration step they ever released. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "store/schema.h"
#include "store/sql.h"

/* Released schema versions: a binary must never know fewer. */
#define SQLITE_VERSIONS 7
#define PG_VERSIONS 4
#define MAX_PARAMS 64

/* The highest ?N in sql, with seen[k] set for every k used. */
static int params(const char *sql, bool seen[MAX_PARAMS + 1])
{
	int max = 0, k;
	const char *p;

	memset(seen, 0, (MAX_PARAMS + 1) * sizeof(*seen));
	for (p = sql; *p != '\0'; p++) {
		if (*p != '?')
			continue;
		assert_true(isdigit((unsigned char)p[1]));
		k = atoi(p + 1);
		assert_true(k >= 1 && k <= MAX_PARAMS);
		seen[k] = true;
		if (k > max)
			max = k;
	}
	return max;
}

static void check_text(const char *sql)
{
	bool seen[MAX_PARAMS + 1];
	int max, k;
	const char *p;

	for (p = sql; (p = strchr(p, '$')) != NULL; p++)
		assert_false(isdigit((unsigned char)p[1]));
	max = params(sql, seen);
	for (k = 1; k <= max; k++)
		assert_true(seen[k]);
}

static void test_every_statement(void **state)
{
	int id;

	(void)state;
	for (id = 0; id < TS_SQL_COUNT; id++) {
		const char *sq = ts_sql_text(TS_DIALECT_SQLITE, (enum ts_sql)id);
		const char *pg = ts_sql_text(TS_DIALECT_PG, (enum ts_sql)id);

		assert_true(sq != NULL || pg != NULL);
		if (sq != NULL)
			check_text(sq);
		if (pg != NULL)
			check_text(pg);
	}
	assert_null(ts_sql_text(TS_DIALECT_SQLITE, TS_SQL_COUNT));
}

static void test_pg_form(void **state)
{
	char *s;

	(void)state;
	s = ts_sql_pg_dup("SELECT a FROM t WHERE b = ?1 AND c = ?12 AND d = CAST(?2 AS BIGINT)");
	assert_string_equal(s, "SELECT a FROM t WHERE b = $1 AND c = $12 AND d = CAST($2 AS BIGINT)");
	free(s);
	s = ts_sql_pg_dup("SELECT '?', 'a?b' FROM t");
	assert_string_equal(s, "SELECT '?', 'a?b' FROM t");
	free(s);
	assert_null(ts_sql_pg_dup(NULL));
}

/* A statement only one dialect needs is absent from the other: the
 * one-statement refresh rotation is PostgreSQL's, its user-delete locks
 * too. */
static void test_dialect_only(void **state)
{
	(void)state;
	assert_null(ts_sql_text(TS_DIALECT_SQLITE, TS_SQL_REFRESH_ROTATE_ONE));
	assert_non_null(ts_sql_text(TS_DIALECT_PG, TS_SQL_REFRESH_ROTATE_ONE));
	assert_null(ts_sql_text(TS_DIALECT_SQLITE, TS_SQL_USER_LOCK));
	assert_non_null(strstr(ts_sql_text(TS_DIALECT_PG, TS_SQL_GRANT_LOCK), "FOR SHARE"));
	assert_null(strstr(ts_sql_text(TS_DIALECT_SQLITE, TS_SQL_GRANT_LOCK), "FOR SHARE"));
}

static void test_schema_steps(void **state)
{
	const char *const *steps;
	size_t n, i;

	(void)state;
	steps = ts_schema_steps(TS_DIALECT_SQLITE, &n);
	assert_true(n >= SQLITE_VERSIONS);
	for (i = 0; i < n; i++) {
		assert_non_null(steps[i]);
		assert_null(strstr(steps[i], "COLLATE"));
		assert_null(strstr(steps[i], "BIGINT"));
	}
	steps = ts_schema_steps(TS_DIALECT_PG, &n);
	assert_true(n >= PG_VERSIONS);
	for (i = 0; i < n; i++) {
		assert_non_null(steps[i]);
		assert_null(strstr(steps[i], "WITHOUT ROWID"));
		assert_null(strstr(steps[i], "AUTOINCREMENT"));
	}
	/* PostgreSQL's first step is SQLite's first four. */
	assert_non_null(strstr(steps[0], "CREATE TABLE vault_connections"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_statement),
		cmocka_unit_test(test_pg_form),
		cmocka_unit_test(test_dialect_only),
		cmocka_unit_test(test_schema_steps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
