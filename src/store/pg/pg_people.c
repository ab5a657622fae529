/* pg_people.c: users, groups and group membership for the PostgreSQL
 * backend. Usernames are unique per tenant without regard to ASCII case:
 * each row carries a folded copy (username_lc) under a unique index, and
 * lookups fold the name they are given the same way. Lists sort in byte
 * order, as from SQLite: every text column of the schema is COLLATE "C".
 * None of these writes is configuration, so none bumps the generation. */
#include "pg_int.h"

#include <stdio.h>
#include <stdlib.h>

#define USER_COLS \
	"tenant_id, id, username, password_hash, app_password_hash, device_id, profile, " \
	"disabled, created_at, updated_at"
#define USER_COLS_U \
	"u.tenant_id, u.id, u.username, u.password_hash, u.app_password_hash, u.device_id, " \
	"u.profile, u.disabled, u.created_at, u.updated_at"
#define GROUP_COLS "tenant_id, id, name, created_at, org_id"

/* A copy of s with ASCII letters folded to lower case, owned by the
 * caller. Bytes outside A-Z (UTF-8 included) are kept as they are, so two
 * names differing only there stay distinct. Done in C rather than with
 * SQL lower(), whose result depends on the database's locale. */
static char *fold_ascii(const char *s)
{
	char *r = ts_xstrdup(s);
	char *p;

	for (p = r; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return r;
}

/* Row i (USER_COLS) as a new record, or NULL if a NOT NULL column came
 * back NULL. */
static struct ts_user_rec *read_user(const PGresult *res, int i)
{
	struct ts_user_rec *r = ts_xcalloc(1, sizeof(*r));

	r->tenant_id = ts_pg_col_dup(res, i, 0);
	r->id = ts_pg_col_dup(res, i, 1);
	r->username = ts_pg_col_dup(res, i, 2);
	r->password_hash = ts_pg_col_dup(res, i, 3);
	r->app_password_hash = ts_pg_col_dup(res, i, 4);
	r->device_id = ts_pg_col_dup(res, i, 5);
	r->profile = ts_pg_col_dup(res, i, 6);
	r->disabled = ts_pg_col_bool(res, i, 7);
	r->created_at = ts_pg_col_i64(res, i, 8);
	r->updated_at = ts_pg_col_i64(res, i, 9);
	if (r->tenant_id == NULL || r->id == NULL || r->username == NULL || r->profile == NULL) {
		ts_user_rec_free(r);
		return NULL;
	}
	return r;
}

static struct ts_group_rec *read_group(const PGresult *res, int i)
{
	struct ts_group_rec *r = ts_xcalloc(1, sizeof(*r));

	r->tenant_id = ts_pg_col_dup(res, i, 0);
	r->id = ts_pg_col_dup(res, i, 1);
	r->name = ts_pg_col_dup(res, i, 2);
	r->created_at = ts_pg_col_i64(res, i, 3);
	r->org_id = ts_pg_col_dup(res, i, 4);
	if (r->tenant_id == NULL || r->id == NULL || r->name == NULL) {
		ts_group_rec_free(r);
		return NULL;
	}
	return r;
}

static void *row_user(const PGresult *res, int i)
{
	return read_user(res, i);
}

static void free_user(void *r)
{
	ts_user_rec_free(r);
}

/* A row of USER_COLS followed by added_at and added_by. */
static void *row_member(const PGresult *res, int i)
{
	struct ts_user_rec *u = read_user(res, i);
	struct ts_member_rec *m;

	if (u == NULL)
		return NULL;
	m = ts_xcalloc(1, sizeof(*m));
	m->user = u;
	m->added_at = ts_pg_col_i64(res, i, 10);
	m->added_by = ts_pg_col_dup(res, i, 11);
	return m;
}

static void free_member(void *r)
{
	struct ts_member_rec *m = r;

	ts_member_recs_free(&m, 1);
}

static void *row_group(const PGresult *res, int i)
{
	return read_group(res, i);
}

static void free_group(void *r)
{
	ts_group_rec_free(r);
}

/* Upsert by (tenant_id, id): an existing user keeps created_at. A username
 * (case folded) held by another user of the tenant fails on the unique
 * index (TS_EEXIST), a missing tenant on the foreign key (TS_ENOTFOUND).
 * Never delete and insert again: the delete would cascade to the user's
 * sessions and grants. */
int ts_pg_user_put(struct ts_store *st, const struct ts_user_rec *r)
{
	static const char sql[] =
		"INSERT INTO users (tenant_id, id, username, username_lc, password_hash,"
		" app_password_hash, device_id, profile, disabled, created_at, updated_at)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::integer, $10::bigint, $11::bigint)"
		" ON CONFLICT (tenant_id, id) DO UPDATE SET username = excluded.username,"
		" username_lc = excluded.username_lc, password_hash = excluded.password_hash,"
		" app_password_hash = excluded.app_password_hash,"
		" device_id = excluded.device_id, profile = excluded.profile,"
		" disabled = excluded.disabled, updated_at = excluded.updated_at";
	char disabled[TS_PG_I64_BUF], created[TS_PG_I64_BUF], updated[TS_PG_I64_BUF];
	char *lc = fold_ascii(r->username);
	const char *args[] = {
		r->tenant_id,
		r->id,
		r->username,
		lc,
		r->password_hash,
		r->app_password_hash,
		r->device_id,
		r->profile,
		ts_pg_i64(disabled, r->disabled ? 1 : 0),
		ts_pg_i64(created, r->created_at),
		ts_pg_i64(updated, r->updated_at),
	};
	int rc;

	rc = ts_pg_write1(st, sql, args, (int)TS_ARRAY_LEN(args), false, false, "user put");
	free(lc);
	return rc;
}

/* The one user sql yields for the two parameters args, as a new record. */
/* One conditional UPDATE: the row lock decides the one binder among any
 * number of servers. */
int ts_pg_user_bind_device(struct ts_store *st, const char *tenant_id, const char *id,
			   const char *device_id, int64_t now)
{
	static const char sql[] = "UPDATE users SET device_id = $3, updated_at = $4::BIGINT"
				  " WHERE tenant_id = $1 AND id = $2 AND device_id IS NULL";
	char t[24];
	const char *args[] = {tenant_id, id, device_id, t};

	snprintf(t, sizeof(t), "%lld", (long long)now);
	return ts_pg_write1(st, sql, args, 4, true, false, "user bind device");
}

int ts_pg_user_rehash(struct ts_store *st, const char *tenant_id, const char *id,
		      const char *old_hash, const char *new_hash, int64_t now)
{
	static const char sql[] = "UPDATE users SET password_hash = $4, updated_at = $5::BIGINT"
				  " WHERE tenant_id = $1 AND id = $2 AND password_hash = $3";
	char t[24];
	const char *args[] = {tenant_id, id, old_hash, new_hash, t};

	snprintf(t, sizeof(t), "%lld", (long long)now);
	return ts_pg_write1(st, sql, args, 5, true, false, "user rehash");
}

static int user_get_by(struct ts_store *st, const char *sql, const char *const *args,
		       struct ts_user_rec **out, const char *what)
{
	PGresult *res = NULL;
	int rc;

	rc = ts_pg_get1(st, sql, args, 2, &res, what);
	if (rc != TS_OK)
		return rc;
	if ((*out = read_user(res, 0)) == NULL)
		rc = ts_pg_bad_row("user");
	PQclear(res);
	return rc;
}

int ts_pg_user_get(struct ts_store *st, const char *tenant_id, const char *id,
		   struct ts_user_rec **out)
{
	static const char sql[] =
		"SELECT " USER_COLS " FROM users WHERE tenant_id = $1 AND id = $2";
	const char *args[] = {tenant_id, id};

	return user_get_by(st, sql, args, out, "user get");
}

int ts_pg_user_find(struct ts_store *st, const char *tenant_id, const char *username,
		    struct ts_user_rec **out)
{
	/* $2 is the username already folded to lower case. */
	static const char sql[] =
		"SELECT " USER_COLS " FROM users WHERE tenant_id = $1 AND username_lc = $2";
	char *lc = fold_ascii(username);
	const char *args[] = {tenant_id, lc};
	int rc;

	rc = user_get_by(st, sql, args, out, "user find");
	free(lc);
	return rc;
}

int ts_pg_user_list(struct ts_store *st, const char *tenant_id, struct ts_user_rec ***out,
		    size_t *n)
{
	static const char sql[] =
		"SELECT " USER_COLS " FROM users WHERE tenant_id = $1"
		" ORDER BY username_lc";
	const char *args[] = {tenant_id};

	return ts_pg_list(st, sql, args, 1, row_user, free_user, "user list", (void ***)out, n);
}

/* Locks the user's grants, then the user, then the grants again, FOR
 * UPDATE. Recording an access token under a grant takes a key-share lock
 * on the grant, and inserting a grant one on its user; FOR UPDATE excludes
 * both. Once these are held, every token recorded under the user's grants
 * is committed and visible to the next statement, and no new one can be
 * recorded before the user is gone, so the denial misses none. The first
 * pass waits out writers already holding a grant (a refresh token insert
 * locks its grant, then its user) rather than deadlocking with them; the
 * last takes the grants created before the user's row was locked. */
static int lock_user_grants(struct ts_pg_conn *c, const char *const *args)
{
	static const char grants_sql[] =
		"SELECT 1 FROM grants WHERE tenant_id = $1 AND user_id = $2 FOR UPDATE";
	static const char user_sql[] =
		"SELECT 1 FROM users WHERE tenant_id = $1 AND id = $2 FOR UPDATE";
	int rc;

	rc = ts_pg_exec(c, grants_sql, args, 2, NULL, "user delete lock grants");
	if (rc == TS_OK)
		rc = ts_pg_exec(c, user_sql, args, 2, NULL, "user delete lock user");
	if (rc == TS_OK)
		rc = ts_pg_exec(c, grants_sql, args, 2, NULL, "user delete lock grants");
	return rc;
}

/* The access tokens recorded with the user's grants are denied first, in
 * the same transaction: the grants and their records go with the user,
 * the tokens themselves would otherwise stay valid until they expire.
 * Sessions, memberships, consents, codes, grants (with their token
 * records), refresh tokens and API keys go with the user (ON DELETE
 * CASCADE). */
int ts_pg_user_delete(struct ts_store *st, const char *tenant_id, const char *id)
{
	/* As revoke_put for each recorded jti, keeping the later expiry. One
	 * row per jti: PostgreSQL refuses an upsert that meets the same row
	 * twice, and a jti may be recorded under two of the user's grants. */
	static const char deny_sql[] =
		"INSERT INTO revocations (tenant_id, jti, expires_at)"
		" SELECT t.tenant_id, t.jti, max(t.expires_at) FROM grants g"
		" JOIN grant_tokens t ON t.tenant_id = g.tenant_id AND t.grant_id = g.id"
		" WHERE g.tenant_id = $1 AND g.user_id = $2"
		" GROUP BY t.tenant_id, t.jti"
		" ON CONFLICT (tenant_id, jti) DO UPDATE SET"
		" expires_at = greatest(revocations.expires_at, excluded.expires_at)";
	static const char delete_sql[] = "DELETE FROM users WHERE tenant_id = $1 AND id = $2";
	const char *args[] = {tenant_id, id};
	struct ts_pg_conn *c = NULL;
	int rc, changed = 0;

	rc = ts_pg_write_begin(st, &c);
	if (rc != TS_OK)
		goto out;
	rc = lock_user_grants(c, args);
	if (rc != TS_OK)
		goto out;
	rc = ts_pg_exec(c, deny_sql, args, 2, NULL, "user delete deny");
	if (rc != TS_OK)
		goto out;
	rc = ts_pg_exec(c, delete_sql, args, 2, &changed, "user delete");
	if (rc == TS_OK && changed == 0)
		rc = TS_ENOTFOUND;
out:
	return ts_pg_write_end(st, c, rc, false);
}

/* Upsert by (tenant_id, id), keeping created_at; a name held by another
 * group of the tenant is TS_EEXIST, a missing tenant TS_ENOTFOUND. */
int ts_pg_group_put(struct ts_store *st, const struct ts_group_rec *r)
{
	static const char sql[] =
		"INSERT INTO user_groups (" GROUP_COLS ") VALUES ($1, $2, $3, $4::bigint, $5)"
		" ON CONFLICT (tenant_id, id) DO UPDATE SET name = excluded.name,"
		" org_id = excluded.org_id";
	char created[TS_PG_I64_BUF];
	const char *args[] = {r->tenant_id, r->id, r->name, ts_pg_i64(created, r->created_at),
			      r->org_id};

	return ts_pg_write1(st, sql, args, 5, false, false, "group put");
}

static int group_get_by(struct ts_store *st, const char *sql, const char *tenant_id,
			const char *key, struct ts_group_rec **out, const char *what)
{
	const char *args[] = {tenant_id, key};
	PGresult *res = NULL;
	int rc;

	rc = ts_pg_get1(st, sql, args, 2, &res, what);
	if (rc != TS_OK)
		return rc;
	if ((*out = read_group(res, 0)) == NULL)
		rc = ts_pg_bad_row("group");
	PQclear(res);
	return rc;
}

int ts_pg_group_get(struct ts_store *st, const char *tenant_id, const char *id,
		    struct ts_group_rec **out)
{
	static const char sql[] =
		"SELECT " GROUP_COLS " FROM user_groups WHERE tenant_id = $1 AND id = $2";

	return group_get_by(st, sql, tenant_id, id, out, "group get");
}

int ts_pg_group_find(struct ts_store *st, const char *tenant_id, const char *name,
		     struct ts_group_rec **out)
{
	static const char sql[] =
		"SELECT " GROUP_COLS " FROM user_groups WHERE tenant_id = $1 AND name = $2";

	return group_get_by(st, sql, tenant_id, name, out, "group find");
}

int ts_pg_group_list(struct ts_store *st, const char *tenant_id, struct ts_group_rec ***out,
		     size_t *n)
{
	static const char sql[] =
		"SELECT " GROUP_COLS " FROM user_groups WHERE tenant_id = $1"
		" ORDER BY name";
	const char *args[] = {tenant_id};

	return ts_pg_list(st, sql, args, 1, row_group, free_group, "group list", (void ***)out,
			  n);
}

/* Memberships go with the group (ON DELETE CASCADE). */
int ts_pg_group_delete(struct ts_store *st, const char *tenant_id, const char *id)
{
	static const char sql[] = "DELETE FROM user_groups WHERE tenant_id = $1 AND id = $2";
	const char *args[] = {tenant_id, id};

	return ts_pg_write1(st, sql, args, 2, true, false, "group delete");
}

/* Idempotent; a missing group or user fails on a foreign key
 * (TS_ENOTFOUND). */
int ts_pg_member_add(struct ts_store *st, const char *tenant_id, const char *group_id,
		     const char *user_id, const char *added_by, int64_t added_at)
{
	static const char sql[] =
		"INSERT INTO group_members (tenant_id, group_id, user_id, added_at, added_by)"
		" VALUES ($1, $2, $3, $4::bigint, $5)"
		" ON CONFLICT (tenant_id, group_id, user_id) DO NOTHING";
	char at[TS_PG_I64_BUF];
	const char *args[] = {tenant_id, group_id, user_id, ts_pg_i64(at, added_at), added_by};

	return ts_pg_write1(st, sql, args, 5, false, false, "member add");
}

int ts_pg_member_remove(struct ts_store *st, const char *tenant_id, const char *group_id,
			const char *user_id)
{
	static const char sql[] =
		"DELETE FROM group_members WHERE tenant_id = $1 AND group_id = $2"
		" AND user_id = $3";
	const char *args[] = {tenant_id, group_id, user_id};

	return ts_pg_write1(st, sql, args, 3, true, false, "member remove");
}

int ts_pg_member_list(struct ts_store *st, const char *tenant_id, const char *group_id,
		      struct ts_user_rec ***out, size_t *n)
{
	static const char sql[] =
		"SELECT " USER_COLS_U " FROM group_members m"
		" JOIN users u ON u.tenant_id = m.tenant_id AND u.id = m.user_id"
		" WHERE m.tenant_id = $1 AND m.group_id = $2"
		" ORDER BY u.username_lc";
	const char *args[] = {tenant_id, group_id};

	return ts_pg_list(st, sql, args, 2, row_user, free_user, "member list", (void ***)out, n);
}

int ts_pg_member_records(struct ts_store *st, const char *tenant_id, const char *group_id,
			 struct ts_member_rec ***out, size_t *n)
{
	static const char sql[] =
		"SELECT " USER_COLS_U ", m.added_at, m.added_by FROM group_members m"
		" JOIN users u ON u.tenant_id = m.tenant_id AND u.id = m.user_id"
		" WHERE m.tenant_id = $1 AND m.group_id = $2"
		" ORDER BY u.username_lc";
	const char *args[] = {tenant_id, group_id};

	return ts_pg_list(st, sql, args, 2, row_member, free_member, "member records",
			  (void ***)out, n);
}

int ts_pg_member_check(struct ts_store *st, const char *tenant_id, const char *group_id,
		       const char *user_id, bool *is_member)
{
	static const char sql[] =
		"SELECT 1 FROM group_members WHERE tenant_id = $1 AND group_id = $2"
		" AND user_id = $3";
	const char *args[] = {tenant_id, group_id, user_id};
	PGresult *res = NULL;
	int rc;

	rc = ts_pg_get1(st, sql, args, 3, &res, "member check");
	PQclear(res);
	if (rc == TS_OK || rc == TS_ENOTFOUND) {
		*is_member = rc == TS_OK;
		rc = TS_OK;
	}
	return rc;
}
