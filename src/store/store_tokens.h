/* store_tokens.h: the storage contract for authorization codes, grants and
 * refresh tokens (tokens.c), under the conventions of store_core.h. */
#ifndef TS_STORE_TOKENS_H
#define TS_STORE_TOKENS_H

#include "store_core.h"

/* An authorization code (RFC 6749 §4.1.2), stored as the SHA-256 of the code. */
struct ts_code_rec {
	char *code_hash;
	char *tenant_id;
	char *client_id;
	char *user_id;
	char *grant_id;       /* the grant the code's tokens will belong to */
	char *redirect_uri;   /* as named by the authorization request, or NULL */
	char *scope;          /* granted scope, space-separated */
	char *nonce;          /* or NULL */
	char *code_challenge; /* RFC 7636 S256 challenge, or NULL */
	char *resource;       /* JSON array text of RFC 8707 resources, or NULL */
	char *session_id_hash; /* session that approved it, or NULL */
	char *dpop_jkt;        /* RFC 9449 §10: the key its token request must prove, or NULL */
	int64_t auth_time;
	int64_t expires_at;
	bool used;            /* set by code_take */
};

/* A grant: one authorization of a client by a user, to which every token
 * issued from it belongs (access-token jtis are recorded with it so that
 * revoking the grant revokes them). */
struct ts_grant_rec {
	char *tenant_id;
	char *id;
	char *client_id;
	char *user_id;     /* NULL for none */
	char *scope;
	int64_t auth_time;
	int64_t created_at;
	bool revoked;
};

/* A refresh token, stored as the SHA-256 of the token. */
struct ts_refresh_rec {
	char *token_hash;
	char *tenant_id;
	char *grant_id;
	char *client_id;
	char *user_id;
	char *scope;       /* the scope it may ask for (the grant's) */
	char *resource;    /* JSON array text, or NULL */
	int64_t auth_time;
	int64_t issued_at;
	int64_t expires_at;
	bool used;         /* rotated: presenting it again is reuse */
	bool revoked;
	/* Set by the rotations (the callers' values are ignored): the token
	 * it succeeded, when that one was first rotated, the access token
	 * issued with it. */
	char *parent_hash;
	int64_t rotated_at;
	char *access_jti;
};

/* Stores a new code (rec->used is ignored: it starts unused). TS_EEXIST if
 * the hash is already stored, TS_ENOTFOUND if the user does not exist. */
int ts_store_code_put(struct ts_store *st, const struct ts_code_rec *rec);

/* Atomically marks the code used and returns it. TS_OK: this call was the
 * first to take it. TS_ECONFLICT: it had been taken before (a replay); *out
 * is still returned so that the caller can revoke its grant. TS_ENOTFOUND:
 * no such code. Exactly one of any number of concurrent calls gets TS_OK. */
int ts_store_code_take(struct ts_store *st, const char *code_hash, struct ts_code_rec **out);

/* Inserts a grant, or updates the scope and auth_time of an existing one
 * (a revoked grant stays revoked). A grant's client and user never change:
 * TS_EEXIST if the id is taken by a grant of another client or user.
 * TS_ENOTFOUND if the user (when not NULL) does not exist. */
int ts_store_grant_put(struct ts_store *st, const struct ts_grant_rec *rec);
int ts_store_grant_get(struct ts_store *st, const char *tenant_id, const char *id,
		       struct ts_grant_rec **out);

/* Records an access token's jti as issued under the grant (until
 * expires_at). If the grant is already revoked, the jti is denied at once
 * (as revoke_put), so a revocation racing an issuance cannot miss it.
 * TS_ENOTFOUND if the grant does not exist. */
int ts_store_grant_token_add(struct ts_store *st, const char *tenant_id, const char *grant_id,
			     const char *jti, int64_t expires_at);

/* In one transaction: marks the grant revoked, revokes every refresh token
 * of it, marks its unredeemed codes used, and denies every recorded
 * access-token jti (as revoke_put, keeping each one's expires_at).
 * Idempotent; TS_OK also when the grant does not exist. */
int ts_store_grant_revoke(struct ts_store *st, const char *tenant_id, const char *grant_id);

/* Stores a new refresh token; TS_EEXIST if the hash is already stored,
 * TS_ENOTFOUND if its grant (or user) does not exist. A token of a revoked
 * grant is stored revoked. */
int ts_store_refresh_put(struct ts_store *st, const struct ts_refresh_rec *rec);
int ts_store_refresh_get(struct ts_store *st, const char *token_hash,
			 struct ts_refresh_rec **out);

/* A refresh token read with what the refresh grant checks next, in one
 * statement. */
struct ts_user_rec;
struct ts_refresh_load {
	struct ts_refresh_rec *token;
	struct ts_user_rec *user; /* its user; NULL when it has none or the user is gone */
	/* The pending state (as ts_store_pending_get) whose id is the
	 * caller's prefix followed by the token's grant id: its tenant (NULL
	 * when there is none), data and expiry. */
	char *pending_tenant;
	char *pending_data;
	int64_t pending_expires_at;
};
/* Reads refresh token token_hash (TS_ENOTFOUND if unknown) with its user
 * and, unless pending_prefix is NULL, that pending state. *out must be
 * zeroed; ts_refresh_load_clear frees what it holds, whatever the result. */
int ts_store_refresh_load(struct ts_store *st, const char *token_hash, const char *pending_prefix,
			  struct ts_refresh_load *out);
void ts_refresh_load_clear(struct ts_refresh_load *l);

/* In one transaction: if old_hash is unused and not revoked, marks it used
 * and inserts next (TS_OK); if it was already used or revoked,
 * TS_ECONFLICT and nothing changes; TS_ENOTFOUND if unknown. Exactly one of
 * concurrent rotations of the same token gets TS_OK. TS_EINVAL if next
 * has another tenant, grant or client than old_hash's token, or the same
 * hash. If next cannot be stored (TS_EEXIST), the old token stays unused. */
int ts_store_refresh_rotate(struct ts_store *st, const char *old_hash,
			    const struct ts_refresh_rec *next);

/* As ts_store_refresh_rotate, and in the same transaction records jti
 * (expiring at jti_expires_at) under next->grant_id as
 * ts_store_grant_token_add does: a refresh then costs one durable write. */
int ts_store_refresh_rotate_token(struct ts_store *st, const char *old_hash,
				  const struct ts_refresh_rec *next, const char *jti,
				  int64_t jti_expires_at);
/* A retry of a rotated token inside its grace window: in one transaction,
 * if a successor of old_hash (same tenant, grant and client as next) first
 * rotated at or after not_before was never used, revokes it and the access
 * token issued with it, and stores next in its place (recording jti as
 * ts_store_refresh_rotate_token does) with the same rotated_at (TS_OK).
 * TS_ECONFLICT when a successor was used, the window has passed, or there
 * is no successor (reuse); TS_EDENIED when a concurrent retry replaced the
 * successor first, or old_hash is itself a successor that a retry replaced
 * (nothing changed). Of concurrent retries exactly one
 * replaces any given successor, so one unused successor remains. */
int ts_store_refresh_regrace(struct ts_store *st, const char *old_hash, int64_t not_before,
			     const struct ts_refresh_rec *next, const char *jti,
			     int64_t jti_expires_at);
void ts_code_rec_free(struct ts_code_rec *r);
void ts_grant_rec_free(struct ts_grant_rec *r);
void ts_refresh_rec_free(struct ts_refresh_rec *r);

#endif
