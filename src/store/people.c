/* people.c: users, groups, group membership and API keys, for every
 * driver. Usernames are unique per tenant without regard to ASCII case:
 * each row carries a folded copy (username_lc) under a unique index, and
 * lookups fold the name they are given the same way. API-key secrets are
 * stored only as SHA-256 digests; the comparison is the caller's, in
 * constant time. None of these writes is configuration, so none moves the
 * generation. */
#include "q.h"
#include "store_people.h"
#include "revcache.h"

#include "wire/ascii.h"

#include <stdlib.h>
#include <string.h>

/* A copy of s with ASCII letters folded to lower case, owned by the
 * caller. Bytes outside A-Z (UTF-8 included) are kept as they are, so two
 * names differing only there stay distinct. Done in C rather than with
 * SQL lower(), whose result depends on the database's locale. */
static char *fold_ascii(const char *s)
{
	char *r = ts_xstrdup(s);
	char *p;

	for (p = r; *p != '\0'; p++)
		*p = (char)ts_to_lower((unsigned char)*p);
	return r;
}

/* Argon2id digests, not passwords, but offline guessing starts from them:
 * they leave nothing in freed memory. */
#define USER_COLUMNS(type, m)                                                                  \
	TS_COL(TS_COL_TEXT, type, m tenant_id, TS_COL_REQUIRED),                               \
	TS_COL(TS_COL_TEXT, type, m id, TS_COL_REQUIRED),                                      \
	TS_COL(TS_COL_TEXT, type, m username, TS_COL_REQUIRED),                                \
	TS_COL(TS_COL_TEXT, type, m password_hash, TS_COL_SECRET),                             \
	TS_COL(TS_COL_TEXT, type, m app_password_hash, TS_COL_SECRET),                         \
	TS_COL(TS_COL_TEXT, type, m device_id, 0),                                             \
	TS_COL(TS_COL_TEXT, type, m profile, TS_COL_REQUIRED),                                 \
	TS_COL(TS_COL_BOOL, type, m disabled, 0),                                              \
	TS_COL(TS_COL_I64, type, m created_at, 0),                                             \
	TS_COL(TS_COL_I64, type, m updated_at, 0)

static const struct ts_col user_cols[] = {USER_COLUMNS(struct ts_user_rec, )};
const struct ts_rec_desc ts_user_desc = TS_REC_DESC("user", struct ts_user_rec, user_cols);

/* A MEMBER_RECORDS row: the user's columns, then added_at and added_by. */
struct member_row {
	struct ts_user_rec user;
	int64_t added_at;
	char *added_by;
};
static const struct ts_col member_cols[] = {
	USER_COLUMNS(struct member_row, user.),
	TS_COL(TS_COL_I64, struct member_row, added_at, 0),
	TS_COL(TS_COL_TEXT, struct member_row, added_by, 0),
};
static const struct ts_rec_desc member_desc = TS_REC_DESC("member", struct member_row, member_cols);

static const struct ts_col group_cols[] = {
	TS_COL(TS_COL_TEXT, struct ts_group_rec, tenant_id, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_group_rec, id, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_group_rec, name, TS_COL_REQUIRED),
	TS_COL(TS_COL_I64, struct ts_group_rec, created_at, 0),
	TS_COL(TS_COL_TEXT, struct ts_group_rec, org_id, 0),
};
static const struct ts_rec_desc group_desc = TS_REC_DESC("group", struct ts_group_rec, group_cols);

static const struct ts_col apikey_cols[] = {
	TS_COL(TS_COL_TEXT, struct ts_apikey_rec, key, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_apikey_rec, tenant_id, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_apikey_rec, user_id, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_apikey_rec, secret_hash, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_apikey_rec, kind, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_apikey_rec, device_id, 0),
	TS_COL(TS_COL_I64, struct ts_apikey_rec, created_at, 0),
};
static const struct ts_rec_desc apikey_desc =
	TS_REC_DESC("api key", struct ts_apikey_rec, apikey_cols);

/* ---- users ---- */

/* The USER_PUT arguments of rec, lc its folded username. */
#define USER_PUT_ARGS 11
static void user_put_args(const struct ts_user_rec *rec, const char *lc,
			  struct ts_arg a[USER_PUT_ARGS])
{
	a[0] = TS_TXT(rec->tenant_id);
	a[1] = TS_TXT(rec->id);
	a[2] = TS_TXT(rec->username);
	a[3] = TS_TXT(lc);
	a[4] = TS_TXT(rec->password_hash);
	a[5] = TS_TXT(rec->app_password_hash);
	a[6] = TS_TXT(rec->device_id);
	a[7] = TS_TXT(rec->profile);
	a[8] = TS_I64(rec->disabled);
	a[9] = TS_I64(rec->created_at);
	a[10] = TS_I64(rec->updated_at);
}

static bool user_rec_ok(const struct ts_user_rec *rec)
{
	return rec != NULL && rec->tenant_id != NULL && ts_q_nonempty(rec->id) &&
	       ts_q_nonempty(rec->username) && rec->profile != NULL;
}

int ts_store_user_put(struct ts_store *st, const struct ts_user_rec *rec)
{
	struct ts_arg a[USER_PUT_ARGS];
	char *lc;
	int rc;

	if (st == NULL || !user_rec_ok(rec))
		return TS_EINVAL;
	lc = fold_ascii(rec->username);
	user_put_args(rec, lc, a);
	rc = ts_q_write1(st, true, TS_SQL_USER_PUT, a, USER_PUT_ARGS, 0, "user put");
	free(lc);
	return rc;
}

/* The write and the revocations commit together, so no credential of a
 * disabled user outlives the write that disabled them; on PostgreSQL the
 * user's grants and row are locked first, as for a deletion
 * (sql_table.h), so that every token recorded under them is denied. */
int ts_store_user_put_revoke(struct ts_store *st, const struct ts_user_rec *rec, unsigned what)
{
	static const enum ts_sql locks[] = {TS_SQL_USER_LOCK_GRANTS, TS_SQL_USER_LOCK,
					    TS_SQL_USER_LOCK_GRANTS};
	static const enum ts_sql all[] = {
		TS_SQL_USER_DENY_TOKENS, TS_SQL_USER_REVOKE_REFRESH, TS_SQL_USER_REVOKE_GRANTS,
		TS_SQL_USER_REVOKE_CODES, TS_SQL_SESSION_DELETE_USER, TS_SQL_APIKEY_DELETE_USER,
	};
	static const enum ts_sql device[] = {TS_SQL_APIKEY_DELETE_DEVICE};
	bool everything = (what & TS_USER_REVOKE_ALL) != 0;
	const enum ts_sql *steps = everything ? all : device;
	size_t i, nsteps = everything ? TS_ARRAY_LEN(all) : TS_ARRAY_LEN(device);
	struct ts_arg a[USER_PUT_ARGS];
	struct ts_drv_conn *c = NULL;
	char *lc;
	int rc;

	if (st == NULL || !user_rec_ok(rec) ||
	    (what & ~(TS_USER_REVOKE_ALL | TS_USER_REVOKE_DEVICE_KEY)) != 0 || what == 0)
		return TS_EINVAL;
	lc = fold_ascii(rec->username);
	user_put_args(rec, lc, a);
	rc = ts_txn_begin(st, &c);
	for (i = 0; everything && i < TS_ARRAY_LEN(locks) && rc == TS_OK; i++)
		if (ts_q_has(st, locks[i]))
			rc = ts_q_exec(st, c, locks[i], a, 2, NULL, "user revoke");
	if (rc == TS_OK)
		rc = ts_q_exec(st, c, TS_SQL_USER_PUT, a, USER_PUT_ARGS, NULL, "user put");
	for (i = 0; i < nsteps && rc == TS_OK; i++)
		rc = ts_q_exec(st, c, steps[i], a, 2, NULL, "user revoke");
	rc = ts_txn_end(st, c, rc, false);
	free(lc);
	/* The user's tokens are denied by id in storage (as for a grant). */
	if (everything)
		ts_revcache_bump(st->revcache);
	return rc;
}

int ts_store_user_get(struct ts_store *st, const char *tenant_id, const char *id,
		      struct ts_user_rec **out)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(id)};

	return ts_q_fetch(st, tenant_id != NULL && id != NULL, TS_SQL_USER_GET, a, 2, &ts_user_desc,
			  (void **)out, "user get");
}

int ts_store_user_bind_device(struct ts_store *st, const char *tenant_id, const char *id,
			      const char *device_id, int64_t now)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(id), TS_TXT(device_id), TS_I64(now)};

	return ts_q_write1(st, tenant_id != NULL && ts_q_nonempty(id) && ts_q_nonempty(device_id),
			   TS_SQL_USER_BIND_DEVICE, a, 4, TS_Q_CHANGE, "user bind device");
}

int ts_store_user_rehash(struct ts_store *st, const char *tenant_id, const char *id,
			 const char *old_hash, const char *new_hash, int64_t now)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(id), TS_TXT(old_hash),
				   TS_TXT(new_hash), TS_I64(now)};

	return ts_q_write1(st,
			   tenant_id != NULL && ts_q_nonempty(id) && ts_q_nonempty(old_hash) &&
				   ts_q_nonempty(new_hash),
			   TS_SQL_USER_REHASH, a, 5, TS_Q_CHANGE, "user rehash");
}

int ts_store_user_find(struct ts_store *st, const char *tenant_id, const char *username,
		       struct ts_user_rec **out)
{
	char *lc;
	int rc;

	if (out == NULL)
		return TS_EINVAL;
	*out = NULL;
	if (st == NULL || tenant_id == NULL || username == NULL)
		return TS_EINVAL;
	lc = fold_ascii(username);
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(lc)};
	rc = ts_q_get(st, TS_SQL_USER_FIND, a, 2, &ts_user_desc, (void **)out, "user find");
	free(lc);
	return rc;
}

int ts_store_user_list(struct ts_store *st, const char *tenant_id, struct ts_user_rec ***out,
		       size_t *n)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id)};

	return ts_q_fetch_all(st, tenant_id != NULL, TS_SQL_USER_LIST, a, 1, &ts_user_desc,
			      (void ***)out, n, "user list");
}

/* The access tokens recorded with the user's grants are denied first, in
 * the same transaction: the grants and their records go with the user,
 * the tokens themselves would otherwise stay valid until they expire. The
 * locks come first where the dialect needs them (sql_table.h). */
int ts_store_user_delete(struct ts_store *st, const char *tenant_id, const char *id)
{
	static const enum ts_sql steps[] = {
		TS_SQL_USER_LOCK_GRANTS, TS_SQL_USER_LOCK, TS_SQL_USER_LOCK_GRANTS,
		TS_SQL_USER_DENY_TOKENS,
	};
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(id)};
	struct ts_drv_conn *c = NULL;
	size_t i;
	int rc, changed = 0;

	if (st == NULL || tenant_id == NULL || id == NULL)
		return TS_EINVAL;
	rc = ts_txn_begin(st, &c);
	for (i = 0; i < TS_ARRAY_LEN(steps) && rc == TS_OK; i++)
		if (ts_q_has(st, steps[i]))
			rc = ts_q_exec(st, c, steps[i], a, 2, NULL, "user delete");
	if (rc == TS_OK)
		rc = ts_q_exec(st, c, TS_SQL_USER_DELETE, a, 2, &changed, "user delete");
	if (rc == TS_OK && changed == 0)
		rc = TS_ENOTFOUND;
	rc = ts_txn_end(st, c, rc, false);
	/* The user's tokens are denied by id in storage (as for a grant). */
	ts_revcache_bump(st->revcache);
	return rc;
}

TS_REC_FREE_FN(ts_user_rec_free, struct ts_user_rec, ts_user_desc)
TS_RECS_FREE_FN(ts_user_recs_free, struct ts_user_rec, ts_user_desc)

/* ---- groups ---- */

int ts_store_group_put(struct ts_store *st, const struct ts_group_rec *rec)
{
	struct ts_arg a[TS_ARRAY_LEN(group_cols)];

	if (st == NULL || rec == NULL || rec->tenant_id == NULL || !ts_q_nonempty(rec->id) ||
	    !ts_q_nonempty(rec->name) || (rec->org_id != NULL && !ts_q_nonempty(rec->org_id)))
		return TS_EINVAL;
	ts_rec_args(&group_desc, rec, a);
	return ts_q_write1(st, true, TS_SQL_GROUP_PUT, a, group_desc.ncols, 0, "group put");
}

/* The group whose tenant and key (id or name, by statement id) match. */
static int group_get_by(struct ts_store *st, enum ts_sql id, const char *tenant_id,
			const char *key, struct ts_group_rec **out, const char *what)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(key)};

	return ts_q_fetch(st, tenant_id != NULL && key != NULL, id, a, 2, &group_desc, (void **)out,
			  what);
}

int ts_store_group_get(struct ts_store *st, const char *tenant_id, const char *id,
		       struct ts_group_rec **out)
{
	return group_get_by(st, TS_SQL_GROUP_GET, tenant_id, id, out, "group get");
}

int ts_store_group_find(struct ts_store *st, const char *tenant_id, const char *name,
			struct ts_group_rec **out)
{
	return group_get_by(st, TS_SQL_GROUP_FIND, tenant_id, name, out, "group find");
}

int ts_store_group_list(struct ts_store *st, const char *tenant_id, struct ts_group_rec ***out,
			size_t *n)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id)};

	return ts_q_fetch_all(st, tenant_id != NULL, TS_SQL_GROUP_LIST, a, 1, &group_desc,
			      (void ***)out, n, "group list");
}

int ts_store_group_delete(struct ts_store *st, const char *tenant_id, const char *id)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(id)};

	return ts_q_write1(st, tenant_id != NULL && id != NULL, TS_SQL_GROUP_DELETE, a, 2,
			   TS_Q_CHANGE, "group delete");
}

TS_REC_FREE_FN(ts_group_rec_free, struct ts_group_rec, group_desc)
TS_RECS_FREE_FN(ts_group_recs_free, struct ts_group_rec, group_desc)

/* ---- membership ---- */

int ts_store_member_add(struct ts_store *st, const char *tenant_id, const char *group_id,
			const char *user_id, const char *added_by, int64_t added_at)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(group_id), TS_TXT(user_id),
				   TS_I64(added_at), TS_TXT(added_by)};

	return ts_q_write1(st,
			   tenant_id != NULL && group_id != NULL && user_id != NULL &&
				   added_by != NULL && added_by[0] != '\0' && added_at > 0,
			   TS_SQL_MEMBER_ADD, a, 5, 0, "member add");
}

int ts_store_member_remove(struct ts_store *st, const char *tenant_id, const char *group_id,
			   const char *user_id)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(group_id), TS_TXT(user_id)};

	return ts_q_write1(st, tenant_id != NULL && group_id != NULL && user_id != NULL,
			   TS_SQL_MEMBER_REMOVE, a, 3, TS_Q_CHANGE, "member remove");
}

int ts_store_member_list(struct ts_store *st, const char *tenant_id, const char *group_id,
			 struct ts_user_rec ***out, size_t *n)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(group_id)};

	return ts_q_fetch_all(st, tenant_id != NULL && group_id != NULL, TS_SQL_MEMBER_LIST, a, 2,
			      &ts_user_desc, (void ***)out, n, "member list");
}

int ts_store_member_check(struct ts_store *st, const char *tenant_id, const char *group_id,
			  const char *user_id, bool *is_member)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(group_id), TS_TXT(user_id)};
	struct ts_int_row row = {0};
	int rc;

	if (is_member == NULL)
		return TS_EINVAL;
	/* Fail closed, as revoke_check does: no answer is not membership. */
	*is_member = false;
	if (st == NULL || tenant_id == NULL || group_id == NULL || user_id == NULL)
		return TS_EINVAL;
	rc = ts_q_read(st, TS_SQL_MEMBER_CHECK, a, 3, &ts_int_row_desc, &row, "member check");
	if (rc == TS_OK || rc == TS_ENOTFOUND) {
		*is_member = rc == TS_OK;
		rc = TS_OK;
	}
	return rc;
}

/* The rows are read flat (member_row) and handed over as member records. */
int ts_store_member_records(struct ts_store *st, const char *tenant_id, const char *group_id,
			    struct ts_member_rec ***out, size_t *n)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(group_id)};
	struct member_row **rows = NULL;
	size_t i, cnt = 0;
	int rc;

	if (out == NULL || n == NULL)
		return TS_EINVAL;
	*out = NULL;
	*n = 0;
	if (st == NULL || tenant_id == NULL || group_id == NULL)
		return TS_EINVAL;
	rc = ts_q_list(st, TS_SQL_MEMBER_RECORDS, a, 2, &member_desc, (void ***)&rows, &cnt,
		       "member records");
	if (rc != TS_OK || cnt == 0)
		return rc;
	*out = ts_xcalloc(cnt, sizeof(**out));
	for (i = 0; i < cnt; i++) {
		struct ts_member_rec *m = ts_xcalloc(1, sizeof(*m));
		m->user = ts_xmalloc(sizeof(*m->user));
		*m->user = rows[i]->user;
		m->added_at = rows[i]->added_at;
		m->added_by = rows[i]->added_by;
		(*out)[i] = m;
		free(rows[i]);
	}
	free(rows);
	*n = cnt;
	return TS_OK;
}

void ts_member_recs_free(struct ts_member_rec **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++) {
		if (v[i] == NULL)
			continue;
		ts_user_rec_free(v[i]->user);
		free(v[i]->added_by);
		free(v[i]);
	}
	free(v);
}

/* ---- API keys ---- */

int ts_store_apikey_put(struct ts_store *st, const struct ts_apikey_rec *r)
{
	struct ts_arg a[TS_ARRAY_LEN(apikey_cols)];
	struct ts_drv_conn *c = NULL;
	int rc, changed = 0;

	if (st == NULL || r == NULL || !ts_q_nonempty(r->key) || !ts_q_nonempty(r->tenant_id) ||
	    !ts_q_nonempty(r->user_id) || !ts_q_nonempty(r->secret_hash) || r->kind == NULL ||
	    (strcmp(r->kind, "user") != 0 && strcmp(r->kind, "device") != 0))
		return TS_EINVAL;
	ts_rec_args(&apikey_desc, r, a);
	rc = ts_txn_begin(st, &c);
	if (rc == TS_OK)
		rc = ts_q_exec(st, c, TS_SQL_APIKEY_PUT, a, apikey_desc.ncols, &changed,
			       "apikey put");
	if (rc == TS_OK && changed == 0)
		rc = TS_EEXIST;
	return ts_txn_end(st, c, rc, false);
}

int ts_store_apikey_get(struct ts_store *st, const char *key, struct ts_apikey_rec **out)
{
	const struct ts_arg a[] = {TS_TXT(key)};

	return ts_q_fetch(st, ts_q_nonempty(key), TS_SQL_APIKEY_GET, a, 1, &apikey_desc,
			  (void **)out, "apikey get");
}

int ts_store_apikey_find_device(struct ts_store *st, const char *tenant_id, const char *user_id,
				struct ts_apikey_rec **out)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(user_id)};

	return ts_q_fetch(st, tenant_id != NULL && user_id != NULL, TS_SQL_APIKEY_FIND_DEVICE, a, 2,
			  &apikey_desc, (void **)out, "apikey find device");
}

int ts_store_apikey_list(struct ts_store *st, const char *tenant_id, const char *user_id,
			 struct ts_apikey_rec ***out, size_t *n)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(user_id)};

	return ts_q_fetch_all(st, tenant_id != NULL && user_id != NULL, TS_SQL_APIKEY_LIST, a, 2,
			      &apikey_desc, (void ***)out, n, "apikey list");
}

int ts_store_apikey_delete(struct ts_store *st, const char *tenant_id, const char *key)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(key)};

	return ts_q_write1(st, tenant_id != NULL && ts_q_nonempty(key), TS_SQL_APIKEY_DELETE, a, 2,
			   TS_Q_CHANGE, "apikey delete");
}

/* TS_OK also when the user had no key. */
int ts_store_apikey_delete_user(struct ts_store *st, const char *tenant_id, const char *user_id)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(user_id)};

	return ts_q_write1(st, tenant_id != NULL && user_id != NULL, TS_SQL_APIKEY_DELETE_USER, a,
			   2, 0, "apikey delete user");
}

TS_REC_FREE_FN(ts_apikey_rec_free, struct ts_apikey_rec, apikey_desc)
TS_RECS_FREE_FN(ts_apikey_recs_free, struct ts_apikey_rec, apikey_desc)
