/* sqlite_people.c: users, groups and group membership for the SQLite
 * backend. Usernames are unique per tenant without regard to ASCII case:
 * each row carries a folded copy (username_lc) under a unique index, and
 * lookups fold the name they are given the same way. None of these writes
 * is configuration, so none bumps the generation. */
#include "sqlite_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A copy of s with ASCII letters folded to lower case, owned by the
 * caller. Bytes outside A-Z (UTF-8 included) are kept as they are, so two
 * names differing only there stay distinct. */
static char *fold_ascii(const char *s)
{
	char *r = ts_xstrdup(s);
	char *p;

	for (p = r; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return r;
}

/* A row of USER_COLS as a new record, or NULL if a NOT NULL column came
 * back NULL (a damaged file). */
static struct ts_user_rec *read_user(sqlite3_stmt *s)
{
	struct ts_user_rec *r = ts_xcalloc(1, sizeof(*r));

	r->tenant_id = ts_sq_col_dup(s, 0);
	r->id = ts_sq_col_dup(s, 1);
	r->username = ts_sq_col_dup(s, 2);
	r->password_hash = ts_sq_col_dup(s, 3);
	r->app_password_hash = ts_sq_col_dup(s, 4);
	r->device_id = ts_sq_col_dup(s, 5);
	r->profile = ts_sq_col_dup(s, 6);
	r->disabled = sqlite3_column_int(s, 7) != 0;
	r->created_at = sqlite3_column_int64(s, 8);
	r->updated_at = sqlite3_column_int64(s, 9);
	if (r->tenant_id == NULL || r->id == NULL || r->username == NULL || r->profile == NULL) {
		ts_user_rec_free(r);
		return NULL;
	}
	return r;
}

static struct ts_group_rec *read_group(sqlite3_stmt *s)
{
	struct ts_group_rec *r = ts_xcalloc(1, sizeof(*r));

	r->tenant_id = ts_sq_col_dup(s, 0);
	r->id = ts_sq_col_dup(s, 1);
	r->name = ts_sq_col_dup(s, 2);
	r->created_at = sqlite3_column_int64(s, 3);
	r->org_id = ts_sq_col_dup(s, 4);
	if (r->tenant_id == NULL || r->id == NULL || r->name == NULL) {
		ts_group_rec_free(r);
		return NULL;
	}
	return r;
}

static void *row_user(sqlite3_stmt *s)
{
	return read_user(s);
}

static void free_user(void *r)
{
	ts_user_rec_free(r);
}

/* A row of USER_COLS followed by added_at and added_by. */
static void *row_member(sqlite3_stmt *s)
{
	struct ts_user_rec *u = read_user(s);
	struct ts_member_rec *m;

	if (u == NULL)
		return NULL;
	m = ts_xcalloc(1, sizeof(*m));
	m->user = u;
	m->added_at = sqlite3_column_int64(s, 10);
	m->added_by = ts_sq_col_dup(s, 11);
	return m;
}

static void free_member(void *r)
{
	struct ts_member_rec *m = r;

	ts_member_recs_free(&m, 1);
}

static void *row_group(sqlite3_stmt *s)
{
	return read_group(s);
}

static void free_group(void *r)
{
	ts_group_rec_free(r);
}

int ts_sq_user_put(struct ts_store *st, const struct ts_user_rec *r)
{
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	char *lc = fold_ascii(r->username);
	int rc;

	rc = ts_sq_write_begin(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = ts_sq_stmt(c, TS_SQ_USER_PUT, &s);
	if (rc != TS_OK)
		goto out;
	if (ts_sq_bind_str(s, 1, r->tenant_id) || ts_sq_bind_str(s, 2, r->id) ||
	    ts_sq_bind_str(s, 3, r->username) || ts_sq_bind_str(s, 4, lc) ||
	    ts_sq_bind_str(s, 5, r->password_hash) || ts_sq_bind_str(s, 6, r->app_password_hash) ||
	    ts_sq_bind_str(s, 7, r->device_id) || ts_sq_bind_str(s, 8, r->profile) ||
	    sqlite3_bind_int(s, 9, r->disabled ? 1 : 0) ||
	    sqlite3_bind_int64(s, 10, r->created_at) || sqlite3_bind_int64(s, 11, r->updated_at)) {
		rc = ts_sq_fail(c->db, "user put bind");
		goto out;
	}
	rc = ts_sq_run(c, s, "user put");
out:
	/* Reset before lc goes: it was bound without a copy. */
	ts_sq_stmt_done(s);
	rc = ts_sq_write_end(st, c, rc, false);
	free(lc);
	return rc;
}

int ts_sq_user_bind_device(struct ts_store *st, const char *tenant_id, const char *id,
			   const char *device_id, int64_t now)
{
	char t[24];
	const char *args[] = {tenant_id, id, device_id, t};

	snprintf(t, sizeof(t), "%lld", (long long)now);
	return ts_sq_write1(st, TS_SQ_USER_BIND_DEVICE, args, 4, true, false, "user bind device");
}

int ts_sq_user_rehash(struct ts_store *st, const char *tenant_id, const char *id,
		      const char *old_hash, const char *new_hash, int64_t now)
{
	char t[24];
	const char *args[] = {tenant_id, id, old_hash, new_hash, t};

	snprintf(t, sizeof(t), "%lld", (long long)now);
	return ts_sq_write1(st, TS_SQ_USER_REHASH, args, 5, true, false, "user rehash");
}

/* The user statement id with string parameters args, as a new record. */
static int user_get_by(struct ts_store *st, enum ts_sq_stmt id, const char *const *args,
		       struct ts_user_rec **out, const char *what)
{
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	int rc;

	rc = ts_sq_read_begin(st, id, args, 2, &c, &s, what);
	if (rc == TS_OK && (*out = read_user(s)) == NULL)
		rc = ts_sq_bad_row("user");
	ts_sq_read_end(st, c, s);
	return rc;
}

int ts_sq_user_get(struct ts_store *st, const char *tenant_id, const char *id,
		   struct ts_user_rec **out)
{
	const char *args[] = {tenant_id, id};

	return user_get_by(st, TS_SQ_USER_GET, args, out, "user get");
}

int ts_sq_user_find(struct ts_store *st, const char *tenant_id, const char *username,
		    struct ts_user_rec **out)
{
	char *lc = fold_ascii(username);
	const char *args[] = {tenant_id, lc};
	int rc;

	rc = user_get_by(st, TS_SQ_USER_FIND, args, out, "user find");
	free(lc);
	return rc;
}

/* The users a list statement (USER_COLS) yields for two string
 * parameters a and b (b NULL for one). */
static int user_list_by(struct ts_store *st, enum ts_sq_stmt id, const char *a, const char *b,
			struct ts_user_rec ***out, size_t *n, const char *what)
{
	const char *args[] = {a, b};

	return ts_sq_list(st, id, args, b != NULL ? 2 : 1, row_user, free_user, what, (void ***)out, n);
}

int ts_sq_user_list(struct ts_store *st, const char *tenant_id, struct ts_user_rec ***out,
		    size_t *n)
{
	return user_list_by(st, TS_SQ_USER_LIST, tenant_id, NULL, out, n, "user list");
}

/* The access tokens recorded with the user's grants are denied first, in
 * the same transaction: the grants and their records go with the user,
 * the tokens themselves would otherwise stay valid until they expire. */
int ts_sq_user_delete(struct ts_store *st, const char *tenant_id, const char *id)
{
	const char *args[] = {tenant_id, id};
	struct ts_sq_conn *c = NULL;
	int rc, changed = 0;

	rc = ts_sq_write_begin(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = ts_sq_exec(c, TS_SQ_USER_DENY_TOKENS, args, 2, NULL, "user delete deny");
	if (rc != TS_OK)
		goto out;
	rc = ts_sq_exec(c, TS_SQ_USER_DELETE, args, 2, &changed, "user delete");
	if (rc == TS_OK && changed == 0)
		rc = TS_ENOTFOUND;
out:
	return ts_sq_write_end(st, c, rc, false);
}

int ts_sq_group_put(struct ts_store *st, const struct ts_group_rec *r)
{
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	int rc;

	rc = ts_sq_write_begin(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = ts_sq_stmt(c, TS_SQ_GROUP_PUT, &s);
	if (rc != TS_OK)
		goto out;
	if (ts_sq_bind_str(s, 1, r->tenant_id) || ts_sq_bind_str(s, 2, r->id) ||
	    ts_sq_bind_str(s, 3, r->name) || sqlite3_bind_int64(s, 4, r->created_at) ||
	    ts_sq_bind_str(s, 5, r->org_id)) {
		rc = ts_sq_fail(c->db, "group put bind");
		goto out;
	}
	rc = ts_sq_run(c, s, "group put");
out:
	ts_sq_stmt_done(s);
	return ts_sq_write_end(st, c, rc, false);
}

static int group_get_by(struct ts_store *st, enum ts_sq_stmt id, const char *tenant_id,
			const char *key, struct ts_group_rec **out, const char *what)
{
	const char *args[] = {tenant_id, key};
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	int rc;

	rc = ts_sq_read_begin(st, id, args, 2, &c, &s, what);
	if (rc == TS_OK && (*out = read_group(s)) == NULL)
		rc = ts_sq_bad_row("group");
	ts_sq_read_end(st, c, s);
	return rc;
}

int ts_sq_group_get(struct ts_store *st, const char *tenant_id, const char *id,
		    struct ts_group_rec **out)
{
	return group_get_by(st, TS_SQ_GROUP_GET, tenant_id, id, out, "group get");
}

int ts_sq_group_find(struct ts_store *st, const char *tenant_id, const char *name,
		     struct ts_group_rec **out)
{
	return group_get_by(st, TS_SQ_GROUP_FIND, tenant_id, name, out, "group find");
}

int ts_sq_group_list(struct ts_store *st, const char *tenant_id, struct ts_group_rec ***out,
		     size_t *n)
{
	const char *args[] = {tenant_id};

	return ts_sq_list(st, TS_SQ_GROUP_LIST, args, 1, row_group, free_group, "group list",
			  (void ***)out, n);
}

/* Memberships go with the group (ON DELETE CASCADE). */
int ts_sq_group_delete(struct ts_store *st, const char *tenant_id, const char *id)
{
	const char *args[] = {tenant_id, id};

	return ts_sq_write1(st, TS_SQ_GROUP_DELETE, args, 2, true, false, "group delete");
}

int ts_sq_member_add(struct ts_store *st, const char *tenant_id, const char *group_id,
		     const char *user_id, const char *added_by, int64_t added_at)
{
	char at[24];
	const char *args[] = {tenant_id, group_id, user_id, at, added_by};

	snprintf(at, sizeof(at), "%lld", (long long)added_at);
	return ts_sq_write1(st, TS_SQ_MEMBER_ADD, args, 5, false, false, "member add");
}

int ts_sq_member_remove(struct ts_store *st, const char *tenant_id, const char *group_id,
			const char *user_id)
{
	const char *args[] = {tenant_id, group_id, user_id};

	return ts_sq_write1(st, TS_SQ_MEMBER_REMOVE, args, 3, true, false, "member remove");
}

int ts_sq_member_list(struct ts_store *st, const char *tenant_id, const char *group_id,
		      struct ts_user_rec ***out, size_t *n)
{
	return user_list_by(st, TS_SQ_MEMBER_LIST, tenant_id, group_id, out, n, "member list");
}

int ts_sq_member_records(struct ts_store *st, const char *tenant_id, const char *group_id,
			 struct ts_member_rec ***out, size_t *n)
{
	const char *args[] = {tenant_id, group_id};

	return ts_sq_list(st, TS_SQ_MEMBER_RECORDS, args, 2, row_member, free_member,
			  "member records", (void ***)out, n);
}

int ts_sq_member_check(struct ts_store *st, const char *tenant_id, const char *group_id,
		       const char *user_id, bool *is_member)
{
	const char *args[] = {tenant_id, group_id, user_id};
	struct ts_sq_conn *c = NULL;
	sqlite3_stmt *s = NULL;
	int rc;

	rc = ts_sq_read_begin(st, TS_SQ_MEMBER_CHECK, args, 3, &c, &s, "member check");
	ts_sq_read_end(st, c, s);
	if (rc == TS_OK || rc == TS_ENOTFOUND) {
		*is_member = rc == TS_OK;
		rc = TS_OK;
	}
	return rc;
}
