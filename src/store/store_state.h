/* store_state.h: the storage contract for browser sessions, consent,
 * short-lived pending state, shared throttling and the purge of expired rows
 * (state.c), under the conventions of store_core.h. */
#ifndef TS_STORE_STATE_H
#define TS_STORE_STATE_H

#include "store_core.h"

/* A browser session. Only the SHA-256 of the session id is stored. */
struct ts_session_rec {
	char *id_hash;      /* hex SHA-256 of the cookie value */
	char *tenant_id;
	char *user_id;
	int64_t auth_time;  /* when the user authenticated */
	int64_t last_seen;  /* for the idle timeout */
	int64_t expires_at; /* absolute timeout */
};

/* One key's throttle window as the store keeps it. */
struct ts_throttle_win {
	int64_t start; /* the window's first failure, Unix seconds */
	int failures;  /* failures counted in it */
	int64_t last;  /* the latest failure, Unix seconds */
};

/* Inserts or replaces by id_hash; TS_ENOTFOUND if the user does not exist.
 * Expiry and idle checks are the caller's. */
int ts_store_session_put(struct ts_store *st, const struct ts_session_rec *rec);
int ts_store_session_get(struct ts_store *st, const char *id_hash, struct ts_session_rec **out);

/* Sets last_seen, which never moves back. TS_ENOTFOUND if unknown. */
int ts_store_session_touch(struct ts_store *st, const char *id_hash, int64_t last_seen);

/* TS_ENOTFOUND if unknown. */
int ts_store_session_delete(struct ts_store *st, const char *id_hash);

/* Ends every session of a user (disable, password change); TS_OK also
 * when there was none. */
int ts_store_session_delete_user(struct ts_store *st, const char *tenant_id, const char *user_id);

/* The scope (space-separated) a user granted a client; TS_ENOTFOUND if none. */
int ts_store_consent_get(struct ts_store *st, const char *tenant_id, const char *user_id,
			 const char *client_id, char **scope);

/* Inserts or replaces; TS_ENOTFOUND if the user does not exist. */
int ts_store_consent_put(struct ts_store *st, const char *tenant_id, const char *user_id,
			 const char *client_id, const char *scope);

/* ---- short-lived pending state (authorization requests awaiting login or
 * consent, device codes, vault state): opaque JSON under a hashed id ---- */

/* Inserts or replaces by id_hash; TS_ENOTFOUND if the tenant does not exist. */
int ts_store_pending_put(struct ts_store *st, const char *tenant_id, const char *id_hash,
			 const char *kind, const char *data, int64_t expires_at);

/* TS_ENOTFOUND if unknown (expiry is the caller's check). Out strings are
 * owned by the caller; any out-parameter may be NULL if not wanted. */
int ts_store_pending_get(struct ts_store *st, const char *id_hash, char **tenant_id, char **kind,
			 char **data, int64_t *expires_at);

/* TS_ENOTFOUND if unknown: of two callers consuming the same state, one
 * gets TS_OK. */
int ts_store_pending_delete(struct ts_store *st, const char *id_hash);

/* Replaces the data of existing pending state in one conditional write
 * (kind and expiry are kept): only while the row exists and, when old_data
 * is not NULL, its data is still exactly old_data (compare and swap).
 * TS_ENOTFOUND, with nothing changed, otherwise: the caller reloads. */
int ts_store_pending_update(struct ts_store *st, const char *id_hash, const char *old_data,
			    const char *data);

/* Deletes, in one transaction, sessions, codes, pending state,
 * revocations, refresh tokens and recorded access-token jtis whose
 * expires_at is before now, grants made more than a day before now that
 * nothing is left under (no recorded jti, refresh token or code), and
 * throttle windows that have ended (started TS_STORE_THROTTLE_WINDOW_S or
 * more before now). Idle sessions are the caller's business. */
#define TS_STORE_THROTTLE_WINDOW_S 900 /* identity.h's TS_THROTTLE_WINDOW_S */
int ts_store_purge_expired(struct ts_store *st, int64_t now);

/* ---- throttling shared by the servers of one store: failure counts by
 * key_hash (the hex SHA-256 of a throttle key, never the key itself).
 * Not configuration: no write here moves the generation. ---- */

/* The key's window: its start, its failures and the time of the latest.
 * TS_ENOTFOUND if the key has no row (its window may also have ended: that
 * is the caller's check). */
int ts_store_throttle_get(struct ts_store *st, const char *key_hash, int64_t *start,
			  int *failures, int64_t *last);

/* Counts a failure at now, atomically (one statement, so concurrent
 * failures from any number of servers all count): within a live window
 * (now < start + window) failures grows by one up to max and the latest
 * failure becomes now; otherwise a new window starts at now with one
 * failure. window >= 1, max >= 1. */
int ts_store_throttle_fail(struct ts_store *st, const char *key_hash, int64_t now,
			   int64_t window, int max);

/* Forgets the key's failures (TS_OK also when it had none). */
int ts_store_throttle_reset(struct ts_store *st, const char *key_hash);

/* Compare and swap of the key's window, for a change that the caller
 * decided on what it read: when the key has no row (old NULL) or exactly
 * the row old, it becomes next, atomically. TS_ECONFLICT when the row was
 * not as expected (another attempt, on any server, moved it first: read it
 * again and decide again). next->failures >= 0. */
int ts_store_throttle_cas(struct ts_store *st, const char *key_hash,
			  const struct ts_throttle_win *old, const struct ts_throttle_win *next);

/* ---- leases: work on a tenant that one server of a store does at a
 * time (automatic key rotation). A lease is named (name, tenant_id) and
 * held by owner (a server's random id) until a time; it is kept as
 * pending state, so it goes with its tenant and is purged once ended. ---- */

/* Takes the lease for owner for duration_s seconds (0 to
 * TS_STORE_LEASE_MAX_S; 0 ends at once) if it is free (never taken, or its
 * holder's time has ended), in one conditional write, so that of any
 * number of servers trying at once exactly one gets TS_OK. Its time is the
 * database's clock, never the caller's, so servers whose clocks disagree
 * cannot both hold it. A lease still held (by anyone, owner too), or a
 * tenant that does not exist: TS_ECONFLICT. */
#define TS_STORE_LEASE_MAX_S 86400
int ts_store_lease_take(struct ts_store *st, const char *tenant_id, const char *name,
			const char *owner, int64_t duration_s);
/* Releases the lease if owner holds it (TS_OK either way). */
int ts_store_lease_release(struct ts_store *st, const char *tenant_id, const char *name,
			   const char *owner);
void ts_session_rec_free(struct ts_session_rec *r);

#endif
