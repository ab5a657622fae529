/* test_db.c: the SQLite store: insert, get, list filters and ordering,
 * owner and tenant scoping, update, delete, reopen; task numbers and the
 * upgrade of a version 1 file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "db.h"

#include <sqlite3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fixture {
	char dir[64];
	char path[128];
	struct ta_db *db;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/ta_db_XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/tasks.db", f->dir);
	if (ta_db_open(f->path, &f->db) != TA_OK)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char p[160];

	ta_db_close(f->db);
	unlink(f->path);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Inserts a task: its id into id, its number returned. */
static int64_t add(struct ta_db *db, char id[TA_UUID_LEN + 1], const char *tenant,
		   const char *owner, const char *title, const char *desc, const char *due,
		   enum ta_priority p, enum ta_status s, int64_t at)
{
	struct ta_task t;

	memset(&t, 0, sizeof(t));
	assert_int_equal(ta_uuid_new(t.id), TA_OK);
	t.tenant = (char *)tenant;
	t.owner_sub = (char *)owner;
	t.owner_username = (char *)"user@acme.test";
	t.title = (char *)title;
	t.description = (char *)desc;
	strcpy(t.due_date, due);
	t.priority = p;
	t.status = s;
	t.created_at = t.updated_at = at;
	assert_int_equal(ta_db_insert(db, &t), TA_OK);
	assert_true(t.num > 0);
	strcpy(id, t.id);
	return t.num;
}

static size_t count(struct ta_db *db, const struct ta_task_filter *f, char first[64])
{
	struct ta_task **v = NULL;
	size_t n = 0;

	assert_int_equal(ta_db_list(db, f, &v, &n), TA_OK);
	if (first)
		snprintf(first, 64, "%s", n ? v[0]->title : "");
	ta_tasks_free(v, n);
	return n;
}

static void test_crud_and_scoping(void **state)
{
	struct fixture *fx = *state;
	char a[TA_UUID_LEN + 1], b[TA_UUID_LEN + 1], c[TA_UUID_LEN + 1];
	struct ta_task *t = NULL;
	struct ta_task_input in;

	add(fx->db, a, "acme", "alice", "Call Acme", "about renewal", "2026-11-24", TA_PRIORITY_HIGH,
	    TA_STATUS_OPEN, 1);
	add(fx->db, b, "acme", "bob", "Visit Globex", NULL, "2026-11-25", TA_PRIORITY_LOW,
	    TA_STATUS_DONE, 2);
	add(fx->db, c, "other", "alice", "Elsewhere", NULL, "2026-11-24", TA_PRIORITY_LOW,
	    TA_STATUS_OPEN, 3);

	assert_int_equal(ta_db_get(fx->db, "acme", a, NULL, &t), TA_OK);
	assert_string_equal(t->title, "Call Acme");
	assert_string_equal(t->description, "about renewal");
	assert_string_equal(t->owner_username, "user@acme.test");
	assert_int_equal(t->priority, TA_PRIORITY_HIGH);
	ta_task_free(t);
	/* Another owner's task, or another tenant's, does not exist. */
	assert_int_equal(ta_db_get(fx->db, "acme", b, "alice", &t), TA_ENOTFOUND);
	assert_int_equal(ta_db_get(fx->db, "acme", c, NULL, &t), TA_ENOTFOUND);
	assert_int_equal(ta_db_get(fx->db, "acme", "nope", NULL, &t), TA_ENOTFOUND);

	memset(&in, 0, sizeof(in));
	in.set = TA_SET_STATUS | TA_SET_DESCRIPTION;
	in.status = TA_STATUS_DONE;
	in.description = NULL;
	assert_int_equal(ta_db_update(fx->db, "acme", b, "alice", &in, 99, &t), TA_ENOTFOUND);
	assert_int_equal(ta_db_update(fx->db, "acme", a, "alice", &in, 99, &t), TA_OK);
	assert_int_equal(t->status, TA_STATUS_DONE);
	assert_null(t->description);
	assert_int_equal(t->updated_at, 99);
	assert_int_equal(t->created_at, 1);
	ta_task_free(t);

	assert_int_equal(ta_db_delete(fx->db, "acme", b, "alice"), TA_ENOTFOUND);
	assert_int_equal(ta_db_delete(fx->db, "other", b, NULL), TA_ENOTFOUND);
	assert_int_equal(ta_db_delete(fx->db, "acme", b, NULL), TA_OK);
	assert_int_equal(ta_db_delete(fx->db, "acme", b, NULL), TA_ENOTFOUND);
}

static void test_list_filters(void **state)
{
	struct fixture *fx = *state;
	char id[TA_UUID_LEN + 1], first[64];
	struct ta_task_filter f;

	add(fx->db, id, "acme", "alice", "Low early", NULL, "2026-11-20", TA_PRIORITY_LOW,
	    TA_STATUS_OPEN, 1);
	add(fx->db, id, "acme", "alice", "High same day", "Discuss PRICING", "2026-11-20",
	    TA_PRIORITY_HIGH, TA_STATUS_IN_PROGRESS, 2);
	add(fx->db, id, "acme", "bob", "Bob done", NULL, "2026-11-19", TA_PRIORITY_MEDIUM,
	    TA_STATUS_DONE, 3);
	add(fx->db, id, "acme", "bob", "100% sure_thing", NULL, "2026-12-01", TA_PRIORITY_MEDIUM,
	    TA_STATUS_OPEN, 4);

	memset(&f, 0, sizeof(f));
	f.tenant = "acme";
	f.limit = 100;
	assert_int_equal(count(fx->db, &f, first), 4);
	assert_string_equal(first, "Bob done"); /* earliest due date first */
	f.from = "2026-11-20";
	assert_int_equal(count(fx->db, &f, first), 3);
	assert_string_equal(first, "High same day"); /* high before low on a day */
	f.to = "2026-11-20";
	assert_int_equal(count(fx->db, &f, NULL), 2);
	f.from = f.to = NULL;
	f.owner_sub = "alice";
	assert_int_equal(count(fx->db, &f, NULL), 2);
	f.owner_sub = NULL;
	f.status = "done";
	assert_int_equal(count(fx->db, &f, NULL), 1);
	f.status = NULL;
	f.not_done = true;
	assert_int_equal(count(fx->db, &f, NULL), 3);
	f.not_done = false;
	f.priority = "medium";
	assert_int_equal(count(fx->db, &f, NULL), 2);
	f.priority = NULL;
	/* q: case-insensitive, in title or description, no wildcards. */
	f.q = "pricing";
	assert_int_equal(count(fx->db, &f, first), 1);
	assert_string_equal(first, "High same day");
	f.q = "BOB";
	assert_int_equal(count(fx->db, &f, NULL), 1);
	f.q = "%";
	assert_int_equal(count(fx->db, &f, first), 1);
	assert_string_equal(first, "100% sure_thing");
	f.q = "_";
	assert_int_equal(count(fx->db, &f, NULL), 1);
	f.q = NULL;
	f.limit = 2;
	assert_int_equal(count(fx->db, &f, NULL), 2);
	f.tenant = "other";
	assert_int_equal(count(fx->db, &f, NULL), 0);
}

static void test_reopen_keeps_data(void **state)
{
	struct fixture *fx = *state;
	char id[TA_UUID_LEN + 1];
	struct ta_task *t = NULL;

	add(fx->db, id, "acme", "alice", "Persist", NULL, "2026-11-20", TA_PRIORITY_LOW,
	    TA_STATUS_OPEN, 1);
	ta_db_close(fx->db);
	assert_int_equal(ta_db_open(fx->path, &fx->db), TA_OK);
	assert_int_equal(ta_db_get(fx->db, "acme", id, "alice", &t), TA_OK);
	assert_string_equal(t->title, "Persist");
	ta_task_free(t);
}

static void test_numbers(void **state)
{
	struct fixture *fx = *state;
	char a[TA_UUID_LEN + 1], b[TA_UUID_LEN + 1], c[TA_UUID_LEN + 1], found[TA_UUID_LEN + 1];
	struct ta_task *t = NULL;
	int64_t na, nb, nc;

	na = add(fx->db, a, "acme", "alice", "One", NULL, "2026-11-20", TA_PRIORITY_LOW,
		 TA_STATUS_OPEN, 1);
	nb = add(fx->db, b, "acme", "bob", "Two", NULL, "2026-11-20", TA_PRIORITY_LOW,
		 TA_STATUS_OPEN, 2);
	assert_true(nb > na);
	assert_int_equal(ta_db_get(fx->db, "acme", b, NULL, &t), TA_OK);
	assert_true(t->num == nb);
	ta_task_free(t);
	assert_int_equal(ta_db_find_num(fx->db, "acme", na, NULL, found), TA_OK);
	assert_string_equal(found, a);
	assert_int_equal(ta_db_find_num(fx->db, "acme", nb, "bob", found), TA_OK);
	assert_string_equal(found, b);
	/* Scoped like every other call: owner and tenant. */
	assert_int_equal(ta_db_find_num(fx->db, "acme", nb, "alice", found), TA_ENOTFOUND);
	assert_int_equal(ta_db_find_num(fx->db, "other", na, NULL, found), TA_ENOTFOUND);
	assert_int_equal(ta_db_find_num(fx->db, "acme", nb + 1, NULL, found), TA_ENOTFOUND);
	/* The highest number, once deleted, is never given again. */
	assert_int_equal(ta_db_delete(fx->db, "acme", b, NULL), TA_OK);
	nc = add(fx->db, c, "acme", "alice", "Three", NULL, "2026-11-20", TA_PRIORITY_LOW,
		 TA_STATUS_OPEN, 3);
	assert_true(nc > nb);
	assert_int_equal(ta_db_find_num(fx->db, "acme", nb, NULL, found), TA_ENOTFOUND);
	ta_db_close(fx->db);
	assert_int_equal(ta_db_open(fx->path, &fx->db), TA_OK);
	assert_true(add(fx->db, b, "acme", "alice", "Four", NULL, "2026-11-20", TA_PRIORITY_LOW,
			TA_STATUS_OPEN, 4) > nc);
}

/* A file as the first version of the store wrote it. */
static void write_v1(const char *path)
{
	static const char sql[] =
		"CREATE TABLE tasks (id TEXT PRIMARY KEY, tenant TEXT NOT NULL,"
		" owner_sub TEXT NOT NULL, owner_username TEXT, title TEXT NOT NULL,"
		" description TEXT, due_date TEXT NOT NULL CHECK (length(due_date) = 10),"
		" priority TEXT NOT NULL CHECK (priority IN ('low', 'medium', 'high')),"
		" status TEXT NOT NULL CHECK (status IN ('open', 'in_progress', 'done')),"
		" created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
		"CREATE INDEX tasks_tenant_due ON tasks (tenant, due_date);"
		"CREATE INDEX tasks_tenant_owner_due ON tasks (tenant, owner_sub, due_date);"
		"INSERT INTO tasks VALUES ('22222222-2222-4222-8222-222222222222', 'acme', 'alice',"
		" 'alice@acme.test', 'Second', NULL, '2026-11-20', 'high', 'done', 20, 21);"
		"INSERT INTO tasks VALUES ('11111111-1111-4111-8111-111111111111', 'acme', 'bob',"
		" NULL, 'First', 'notes', '2026-11-21', 'low', 'open', 10, 11);"
		"PRAGMA user_version = 1;";
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void test_upgrade_from_version_1(void **state)
{
	struct fixture *fx = *state;
	char id[TA_UUID_LEN + 1];
	struct ta_task *t = NULL;
	int64_t first, second;

	ta_db_close(fx->db);
	fx->db = NULL;
	unlink(fx->path);
	write_v1(fx->path);
	assert_int_equal(ta_db_open(fx->path, &fx->db), TA_OK);
	/* Numbers follow creation order; every other column is kept. */
	assert_int_equal(ta_db_get(fx->db, "acme", "11111111-1111-4111-8111-111111111111", NULL, &t),
			 TA_OK);
	first = t->num;
	assert_string_equal(t->title, "First");
	assert_string_equal(t->description, "notes");
	assert_null(t->owner_username);
	assert_int_equal(t->priority, TA_PRIORITY_LOW);
	assert_true(t->created_at == 10 && t->updated_at == 11);
	ta_task_free(t);
	assert_int_equal(ta_db_get(fx->db, "acme", "22222222-2222-4222-8222-222222222222", "alice",
				   &t),
			 TA_OK);
	second = t->num;
	assert_int_equal(t->status, TA_STATUS_DONE);
	assert_string_equal(t->due_date, "2026-11-20");
	ta_task_free(t);
	assert_true(first == 1 && second == 2);
	assert_int_equal(ta_db_find_num(fx->db, "acme", 2, NULL, id), TA_OK);
	assert_string_equal(id, "22222222-2222-4222-8222-222222222222");
	assert_true(add(fx->db, id, "acme", "alice", "Third", NULL, "2026-11-22", TA_PRIORITY_LOW,
			TA_STATUS_OPEN, 30) == 3);
	/* Opening again is a no-op. */
	ta_db_close(fx->db);
	assert_int_equal(ta_db_open(fx->path, &fx->db), TA_OK);
	assert_int_equal(ta_db_find_num(fx->db, "acme", 3, NULL, id), TA_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_crud_and_scoping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_keeps_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_numbers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_from_version_1, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
