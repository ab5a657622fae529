/* state.c: browser sessions, consent, short-lived pending state, shared
 * throttling, leases and the purge of expired rows, for every driver. Expiry is
 * the caller's check on every read; purge_expired only reclaims space. No
 * write here moves the generation. The argument checks every driver would
 * repeat live here, so the SQL sees only valid input. */
#include "q.h"
#include "store_state.h"
#include "revcache.h"

#include <stdio.h>
#include <stdlib.h>

#define LEASE_ID_CAP 256

/* Hands *src over to *dst. */
static void move_str(char **dst, char **src)
{
	*dst = *src;
	*src = NULL;
}

/* Session ids are bearer secrets: their digests are wiped when freed. */
static const struct ts_col session_cols[] = {
	TS_COL(TS_COL_TEXT, struct ts_session_rec, id_hash, TS_COL_REQUIRED | TS_COL_SECRET),
	TS_COL(TS_COL_TEXT, struct ts_session_rec, tenant_id, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct ts_session_rec, user_id, TS_COL_REQUIRED),
	TS_COL(TS_COL_I64, struct ts_session_rec, auth_time, 0),
	TS_COL(TS_COL_I64, struct ts_session_rec, last_seen, 0),
	TS_COL(TS_COL_I64, struct ts_session_rec, expires_at, 0),
};
static const struct ts_rec_desc session_desc =
	TS_REC_DESC("session", struct ts_session_rec, session_cols);

/* One column, a scope. */
struct scope_row {
	char *scope;
};
static const struct ts_col scope_cols[] = {
	TS_COL(TS_COL_TEXT, struct scope_row, scope, TS_COL_REQUIRED),
};
static const struct ts_rec_desc scope_desc = TS_REC_DESC("consent", struct scope_row, scope_cols);

/* Pending state may carry secrets (vault state): its data is wiped. */
struct pending_row {
	char *tenant_id, *kind, *data;
	int64_t expires_at;
};
static const struct ts_col pending_cols[] = {
	TS_COL(TS_COL_TEXT, struct pending_row, tenant_id, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct pending_row, kind, TS_COL_REQUIRED),
	TS_COL(TS_COL_TEXT, struct pending_row, data, TS_COL_REQUIRED | TS_COL_SECRET),
	TS_COL(TS_COL_I64, struct pending_row, expires_at, 0),
};
static const struct ts_rec_desc pending_desc =
	TS_REC_DESC("pending", struct pending_row, pending_cols);

static const struct ts_col throttle_cols[] = {
	TS_COL(TS_COL_I64, struct ts_throttle_win, start, 0),
	TS_COL(TS_COL_INT, struct ts_throttle_win, failures, 0),
	TS_COL(TS_COL_I64, struct ts_throttle_win, last, 0),
};
static const struct ts_rec_desc throttle_desc =
	TS_REC_DESC("throttle", struct ts_throttle_win, throttle_cols);

/* ---- sessions ---- */

int ts_store_session_put(struct ts_store *st, const struct ts_session_rec *rec)
{
	struct ts_arg a[TS_ARRAY_LEN(session_cols)];

	if (st == NULL || rec == NULL || !ts_q_nonempty(rec->id_hash) || rec->tenant_id == NULL ||
	    rec->user_id == NULL)
		return TS_EINVAL;
	ts_rec_args(&session_desc, rec, a);
	return ts_q_write1(st, true, TS_SQL_SESSION_PUT, a, session_desc.ncols, 0, "session put");
}

int ts_store_session_get(struct ts_store *st, const char *id_hash, struct ts_session_rec **out)
{
	const struct ts_arg a[] = {TS_TXT(id_hash)};

	return ts_q_fetch(st, id_hash != NULL, TS_SQL_SESSION_GET, a, 1, &session_desc,
			  (void **)out, "session get");
}

/* The row counts as changed even when it keeps its value, so only an
 * unknown session is TS_ENOTFOUND. */
int ts_store_session_touch(struct ts_store *st, const char *id_hash, int64_t last_seen)
{
	const struct ts_arg a[] = {TS_TXT(id_hash), TS_I64(last_seen)};

	return ts_q_write1(st, id_hash != NULL, TS_SQL_SESSION_TOUCH, a, 2, TS_Q_CHANGE,
			   "session touch");
}

int ts_store_session_delete(struct ts_store *st, const char *id_hash)
{
	const struct ts_arg a[] = {TS_TXT(id_hash)};

	return ts_q_write1(st, id_hash != NULL, TS_SQL_SESSION_DELETE, a, 1, TS_Q_CHANGE,
			   "session delete");
}

/* TS_OK also when the user had no session (or does not exist). */
int ts_store_session_delete_user(struct ts_store *st, const char *tenant_id, const char *user_id)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(user_id)};

	return ts_q_write1(st, tenant_id != NULL && user_id != NULL, TS_SQL_SESSION_DELETE_USER, a,
			   2, 0, "session delete user");
}

TS_REC_FREE_FN(ts_session_rec_free, struct ts_session_rec, session_desc)

/* ---- consent ---- */

int ts_store_consent_get(struct ts_store *st, const char *tenant_id, const char *user_id,
			 const char *client_id, char **scope)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(user_id), TS_TXT(client_id)};
	struct scope_row row = {0};
	int rc;

	if (scope == NULL)
		return TS_EINVAL;
	*scope = NULL;
	if (st == NULL || tenant_id == NULL || user_id == NULL || client_id == NULL)
		return TS_EINVAL;
	rc = ts_q_read(st, TS_SQL_CONSENT_GET, a, 3, &scope_desc, &row, "consent get");
	if (rc == TS_OK)
		*scope = row.scope;
	return rc;
}

int ts_store_consent_put(struct ts_store *st, const char *tenant_id, const char *user_id,
			 const char *client_id, const char *scope)
{
	const struct ts_arg a[] = {TS_TXT(tenant_id), TS_TXT(user_id), TS_TXT(client_id),
				   TS_TXT(scope)};

	return ts_q_write1(
		st, tenant_id != NULL && user_id != NULL && client_id != NULL && scope != NULL,
		TS_SQL_CONSENT_PUT, a, 4, 0, "consent put");
}

/* ---- pending state ---- */

int ts_store_pending_put(struct ts_store *st, const char *tenant_id, const char *id_hash,
			 const char *kind, const char *data, int64_t expires_at)
{
	const struct ts_arg a[] = {TS_TXT(id_hash), TS_TXT(tenant_id), TS_TXT(kind), TS_TXT(data),
				   TS_I64(expires_at)};

	return ts_q_write1(
		st, tenant_id != NULL && ts_q_nonempty(id_hash) && kind != NULL && data != NULL,
		TS_SQL_PENDING_PUT, a, 5, 0, "pending put");
}

/* Any of the out-parameters may be NULL when the caller does not want it;
 * each is set only on TS_OK. */
int ts_store_pending_get(struct ts_store *st, const char *id_hash, char **tenant_id, char **kind,
			 char **data, int64_t *expires_at)
{
	const struct ts_arg a[] = {TS_TXT(id_hash)};
	struct pending_row row = {0};
	int rc;

	if (tenant_id != NULL)
		*tenant_id = NULL;
	if (kind != NULL)
		*kind = NULL;
	if (data != NULL)
		*data = NULL;
	if (expires_at != NULL)
		*expires_at = 0;
	if (st == NULL || id_hash == NULL)
		return TS_EINVAL;
	rc = ts_q_read(st, TS_SQL_PENDING_GET, a, 1, &pending_desc, &row, "pending get");
	if (rc != TS_OK)
		return rc;
	if (tenant_id != NULL)
		move_str(tenant_id, &row.tenant_id);
	if (kind != NULL)
		move_str(kind, &row.kind);
	if (data != NULL)
		move_str(data, &row.data);
	if (expires_at != NULL)
		*expires_at = row.expires_at;
	ts_rec_clear(&pending_desc, &row);
	return TS_OK;
}

/* One conditional UPDATE (the row lock orders concurrent writers, and each
 * re-checks the condition on the row it waited for): TS_ENOTFOUND when it
 * changed no row. */
int ts_store_pending_update(struct ts_store *st, const char *id_hash, const char *old_data,
			    const char *data)
{
	const struct ts_arg a[] = {TS_TXT(id_hash), TS_TXT(old_data), TS_TXT(data)};

	return ts_q_write1(st, ts_q_nonempty(id_hash) && data != NULL, TS_SQL_PENDING_UPDATE, a, 3,
			   TS_Q_CHANGE, "pending update");
}

/* TS_ENOTFOUND when there was nothing to delete, so that of two callers
 * consuming the same state only one sees TS_OK. */
int ts_store_pending_delete(struct ts_store *st, const char *id_hash)
{
	const struct ts_arg a[] = {TS_TXT(id_hash)};

	return ts_q_write1(st, id_hash != NULL, TS_SQL_PENDING_DELETE, a, 1, TS_Q_CHANGE,
			   "pending delete");
}

/* ---- leases ---- */

/* The pending-state id of lease (name, tenant_id) into buf (cap bytes). */
static bool lease_id(char *buf, size_t cap, const char *name, const char *tenant_id)
{
	int n = snprintf(buf, cap, "lease:%s:%s", name, tenant_id);

	return n > 0 && (size_t)n < cap;
}

int ts_store_lease_take(struct ts_store *st, const char *tenant_id, const char *name,
			const char *owner, int64_t duration_s)
{
	char id[LEASE_ID_CAP];
	const struct ts_arg a[] = {TS_TXT(id), TS_TXT(tenant_id), TS_TXT(owner),
				   TS_I64(duration_s)};
	int rc;

	if (st == NULL || !ts_q_nonempty(tenant_id) || !ts_q_nonempty(name) ||
	    !ts_q_nonempty(owner) || duration_s < 0 || duration_s > TS_STORE_LEASE_MAX_S ||
	    !lease_id(id, sizeof(id), name, tenant_id))
		return TS_EINVAL;
	/* No row changed: another holder's lease (or no such tenant). */
	rc = ts_q_write1(st, true, TS_SQL_LEASE_TAKE, a, (int)TS_ARRAY_LEN(a), TS_Q_CHANGE,
			 "lease take");
	return rc == TS_ENOTFOUND ? TS_ECONFLICT : rc;
}

int ts_store_lease_release(struct ts_store *st, const char *tenant_id, const char *name,
			   const char *owner)
{
	char id[LEASE_ID_CAP];
	const struct ts_arg a[] = {TS_TXT(id), TS_TXT(owner)};

	return ts_q_write1(st,
			   ts_q_nonempty(tenant_id) && ts_q_nonempty(name) &&
				   ts_q_nonempty(owner) &&
				   lease_id(id, sizeof(id), name, tenant_id),
			   TS_SQL_LEASE_RELEASE, a, 2, 0, "lease release");
}

/* One transaction, so a failure leaves everything as it was. */
int ts_store_purge_expired(struct ts_store *st, int64_t now)
{
	static const enum ts_sql steps[] = {
		TS_SQL_PURGE_SESSIONS,	   TS_SQL_PURGE_CODES,	      TS_SQL_PURGE_PENDING,
		TS_SQL_PURGE_REVOCATIONS, TS_SQL_PURGE_REFRESH,      TS_SQL_PURGE_GRANT_TOKENS,
		TS_SQL_PURGE_GRANTS,	   TS_SQL_PURGE_THROTTLE,
	};
	const struct ts_arg a[] = {TS_I64(now)};
	int r;

	if (st == NULL)
		return TS_EINVAL;
	r = ts_q_steps(st, steps, TS_ARRAY_LEN(steps), a, 1, false, "purge expired");
	ts_revcache_clear(st->revcache);
	return r;
}

/* ---- shared throttling ---- */

int ts_store_throttle_get(struct ts_store *st, const char *key_hash, int64_t *start,
			  int *failures, int64_t *last)
{
	const struct ts_arg a[] = {TS_TXT(key_hash)};
	struct ts_throttle_win w = {0};
	int rc;

	if (st == NULL || !ts_q_nonempty(key_hash) || start == NULL || failures == NULL ||
	    last == NULL)
		return TS_EINVAL;
	rc = ts_q_read(st, TS_SQL_THROTTLE_GET, a, 1, &throttle_desc, &w, "throttle get");
	if (rc == TS_OK) {
		*start = w.start;
		*failures = w.failures;
		*last = w.last;
	}
	return rc;
}

int ts_store_throttle_fail(struct ts_store *st, const char *key_hash, int64_t now,
			   int64_t window, int max)
{
	const struct ts_arg a[] = {TS_TXT(key_hash), TS_I64(now), TS_I64(window), TS_I64(max)};

	return ts_q_write1(st, ts_q_nonempty(key_hash) && window >= 1 && max >= 1,
			   TS_SQL_THROTTLE_FAIL, a, 4, 0, "throttle fail");
}

int ts_store_throttle_reset(struct ts_store *st, const char *key_hash)
{
	const struct ts_arg a[] = {TS_TXT(key_hash)};

	return ts_q_write1(st, ts_q_nonempty(key_hash), TS_SQL_THROTTLE_RESET, a, 1, 0,
			   "throttle reset");
}

/* The row lock of the UPDATE, or the unique key of the INSERT, lets
 * exactly one of concurrent swaps from the same row win. */
int ts_store_throttle_cas(struct ts_store *st, const char *key_hash,
			  const struct ts_throttle_win *old, const struct ts_throttle_win *next)
{
	int rc;

	if (st == NULL || !ts_q_nonempty(key_hash) || next == NULL || next->failures < 0)
		return TS_EINVAL;
	if (old == NULL) {
		const struct ts_arg a[] = {TS_TXT(key_hash), TS_I64(next->start),
					   TS_I64(next->failures), TS_I64(next->last)};
		rc = ts_q_write1(st, true, TS_SQL_THROTTLE_CAS_NEW, a, 4, TS_Q_CHANGE,
				 "throttle cas");
	} else {
		const struct ts_arg a[] = {TS_TXT(key_hash),	  TS_I64(old->start),
					   TS_I64(old->failures), TS_I64(old->last),
					   TS_I64(next->start),	  TS_I64(next->failures),
					   TS_I64(next->last)};
		rc = ts_q_write1(st, true, TS_SQL_THROTTLE_CAS, a, 7, TS_Q_CHANGE, "throttle cas");
	}
	return rc == TS_ENOTFOUND ? TS_ECONFLICT : rc;
}
