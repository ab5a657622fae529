/* internal.h: inside oauth/, the grants of the token endpoint (one file
 * each, grant_*.c), the table that dispatches on grant_type (token.c), the
 * token checks shared by introspection and revocation (access.c), and the
 * device records shared by the device endpoints and the device code grant
 * (device_rec.c). */
#ifndef TS_OAUTH_INTERNAL_H
#define TS_OAUTH_INTERNAL_H

#include "oauth.h"

struct ts_refresh_rec;

/* Runs one grant for an authenticated client that may use it; answers the
 * request (tokens or an RFC 6749 §5.2 error). */
typedef void (*ts_grant_fn)(struct ts_rctx *rc, struct ts_http_req *req,
			    struct ts_http_resp *resp, const struct ts_client *c);

/* One grant of the token endpoint and the facts the dispatch needs. */
struct ts_grant {
	const char *grant_type;  /* the grant_type value (TS_GRANT_*_S) */
	enum ts_grant_kind kind; /* its label in metrics and audit events */
	ts_grant_fn fn;
	bool confidential_only;  /* only a confidential client may use it */
	bool runs_inline;        /* pure computation on the snapshot: may run on
				  * the event loop (without a client assertion) */
};

/* The grant named grant_type, or NULL if it is not supported. Static. */
const struct ts_grant *ts_grant_find(const char *grant_type);

/* The grants, one file each. */
void ts_grant_authorization_code(struct ts_rctx *rc, struct ts_http_req *req,
				 struct ts_http_resp *resp, const struct ts_client *c);
void ts_grant_client_credentials(struct ts_rctx *rc, struct ts_http_req *req,
				 struct ts_http_resp *resp, const struct ts_client *c);
void ts_grant_device_code(struct ts_rctx *rc, struct ts_http_req *req, struct ts_http_resp *resp,
			  const struct ts_client *c);
void ts_grant_password(struct ts_rctx *rc, struct ts_http_req *req, struct ts_http_resp *resp,
		       const struct ts_client *c);
void ts_grant_refresh_token(struct ts_rctx *rc, struct ts_http_req *req,
			    struct ts_http_resp *resp, const struct ts_client *c);
void ts_grant_token_exchange(struct ts_rctx *rc, struct ts_http_req *req,
			     struct ts_http_resp *resp, const struct ts_client *c);

/* ---- shared by the grants (token.c) ---- */
/* The SHA-256 hex digest of raw, as an arena string: how codes and refresh
 * tokens are stored. */
const char *ts_grant_hash(struct ts_arena *a, const char *raw);
/* Stores the grant id of client c for user u (scope, auth_time). TS_OK or
 * the store's error. */
int ts_grant_record(struct ts_rctx *rc, const char *id, const struct ts_client *c,
		    const struct ts_user_rec *u, const char *scope, int64_t auth_time);

/* ---- token checks (access.c) ---- */
/* Whether a token issued at iat to client_id is one of an enabled client
 * of the tenant: the tokens of a client that is disabled or gone, and
 * those from before it was created or last disabled, are inactive (the
 * snapshot, reloaded within a second of the change, says so without
 * storage). */
bool ts_oauth_client_active(const struct ts_rctx *rc, const char *client_id, int64_t iat);
/* An access token's signature (with one of the tenant's keys), header and
 * claims, without storage: no revocation or client check. With
 * memory_only, a token that cannot be answered from memory (not a
 * client's own, or its revocation state not cached) is TS_ENOTFOUND
 * before its signature is checked. TS_OK with *out filled (clear it with
 * ts_access_token_clear), TS_EDENIED. */
int ts_oauth_token_verify(const struct ts_rctx *rc, const char *token, bool memory_only,
			  struct ts_access_token *out);
/* ts_oauth_access_token_check; with memory_only, TS_ENOTFOUND when the
 * answer would need storage (the caller then retries on a blocking
 * thread). TS_OK, TS_EDENIED, TS_ESTORE. */
int ts_oauth_token_check(const struct ts_rctx *rc, const char *token, bool memory_only,
			 struct ts_access_token *out);
/* A refresh token of this tenant in any state: TS_OK with *out (owned),
 * TS_ENOTFOUND if unknown (or not a refresh token's shape), TS_ESTORE. */
int ts_oauth_refresh_find(const struct ts_rctx *rc, const char *token,
			  struct ts_refresh_rec **out);
/* The rules of an introspection or revocation body: form-encoded, no
 * parameter repeated (RFC 6749 §3.1). false with e filled otherwise. */
bool ts_oauth_form_ok(const struct ts_rctx *rc, struct ts_http_req *req, struct ts_oauth_err *e);

/* ---- device records (device_rec.c, RFC 8628) ---- */
#define TS_DEVICE_KIND "device"           /* pending-state kind of a device record */
#define TS_DEVICE_KIND_PACE "device_pace" /* and of its polling pace */
#define TS_DEVICE_INTERVAL_S 5            /* RFC 8628 §3.2 interval */
#define TS_DEVICE_SLOW_DOWN_S 5           /* RFC 8628 §3.5: added on slow_down */
/* A compare and swap that lost to a concurrent writer is redone on a fresh
 * read, a few times. */
#define TS_DEVICE_CAS_TRIES 8

/* The device record hash of this tenant, unexpired: *data (owned), *exp,
 * and, when text is not NULL, *text (owned): the stored text it was read
 * from, for a compare and swap. TS_ENOTFOUND, TS_ESTORE. */
int ts_device_load(struct ts_rctx *rc, const char *hash, json_t **data, char **text, int64_t *exp);
/* Whether the user has not decided on the device record d yet. */
bool ts_device_pending(const json_t *d);
/* The key of the polling-pace record of device record h (arena string):
 * a record of its own, so polls never write the record a decision is
 * written to. */
const char *ts_device_pace_key(struct ts_arena *a, const char *h);
/* Writes the pace record key (interval, last poll): a new record when old
 * is NULL, else only if it still holds old (TS_ENOTFOUND otherwise). */
int ts_device_pace_put(struct ts_rctx *rc, const char *key, int64_t interval, int64_t last,
		       const char *old, int64_t exp);

#endif
