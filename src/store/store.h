/* store.h: the storage contract. Everything above this header is backend
 * neutral: it sees records and return codes, never SQL. One backend per
 * file (sqlite.c; pg/pg.c for PostgreSQL), selected by URL in ts_store_open.
 *
 * Conventions for every operation:
 * - returns TS_OK, TS_ENOTFOUND (no such row; for a write, also no such
 *   parent tenant), TS_EEXIST (unique conflict), TS_EINVAL (bad arguments)
 *   or TS_ESTORE (the backend failed: the caller answers 503 and never
 *   turns it into a credential error);
 * - a write that fails changes nothing (generation included);
 * - string arguments are borrowed for the duration of the call;
 * - records returned through out-parameters are owned by the caller and
 *   released with the matching _free function (which accepts NULL); an
 *   empty list comes back as NULL with n == 0;
 * - every operation is safe to call from many threads at once;
 * - every write is durable when the call returns TS_OK.
 *
 * Configuration objects (tenants, clients) carry their settings as a JSON
 * text in `config`; the store persists it verbatim and never interprets it.
 * Every write to tenants, clients or keys increments the store's generation,
 * which running servers poll to reload their in-memory snapshot. */
#ifndef TS_STORE_H
#define TS_STORE_H

#include "core/core.h"

struct ts_tenant_rec {
	char *id;         /* stable UUID, assigned by the caller at creation */
	char *name;       /* unique, [a-z0-9-]{1,63} */
	char *config;     /* JSON object text: display_name, domains, ttls, scopes, ... */
	int64_t created_at;
	int64_t updated_at;
	int64_t version;  /* read only: moves with every write to the tenant, its clients or keys */
};

/* A tenant's configuration version (see ts_store_tenant_versions). */
struct ts_tenant_ver {
	char *id;
	char *name;
	int64_t version;
};

struct ts_client_rec {
	char *tenant_id;
	char *client_id;   /* unique within the tenant */
	char *config;      /* JSON object text: name, type, redirect_uris, grant_types, ... */
	char *secret_hash; /* "sha256$<salt hex>$<digest hex>", or NULL for public clients */
	int64_t created_at;
	int64_t updated_at;
};

/* A signing key's life: "next" (published in JWKS, not yet signing) ->
 * "current" (signs new tokens) -> "retired" (still published until
 * retired_at + the longest token lifetime). */
struct ts_key_rec {
	char *tenant_id;
	char *kid;            /* RFC 7638 thumbprint; unique within the tenant */
	char *alg;            /* "ES256", "RS256", "PS256", "EdDSA" */
	char *state;          /* "next", "current", "retired" */
	char *public_jwk;     /* JSON text of the public JWK */
	char *sealed_private; /* ts_seal output of the PKCS#8 DER private key */
	int64_t created_at;
	int64_t activated_at; /* 0 while "next" */
	int64_t retired_at;   /* 0 unless "retired" */
};

struct ts_audit_rec {
	int64_t id;        /* assigned by the store; ignored on append */
	char *tenant;      /* tenant name, or NULL for server-wide events */
	int64_t time;      /* Unix seconds */
	char *type;        /* e.g. "token.issued", "token.revoked", "client.created" */
	char *actor;       /* who did it: client_id, "cli", user sub, ... */
	char *subject;     /* what it was done to: client_id, kid, jti, ... */
	char *request_id;  /* X-Request-ID of the request, or NULL */
	char *detail;      /* JSON object text with extra fields, or NULL */
};


/* A person of a tenant. username is unique within the tenant without regard
 * to ASCII case; id is a stable UUID (the "sub" of their tokens). */
struct ts_user_rec {
	char *tenant_id;
	char *id;
	char *username;          /* as given; lookups fold ASCII case */
	char *password_hash;     /* Argon2id PHC string, or NULL (no password login) */
	char *app_password_hash; /* Argon2id PHC string of the mobile app password, or NULL */
	char *device_id;         /* bound mobile device, or NULL */
	char *profile;           /* JSON object text: email, name, roles, mobile_access, ... */
	bool disabled;
	int64_t created_at;
	int64_t updated_at;
};

struct ts_group_rec {
	char *tenant_id;
	char *id;   /* stable UUID */
	char *name; /* unique within the tenant */
	int64_t created_at;
	char *org_id; /* the organization it belongs to, or NULL */
};

/* One membership of a group: the member, and when and by whom it was
 * added (a username, a client_id, "bootstrap" or "cli"; added_at 0 and
 * added_by NULL for memberships older than this record). */
struct ts_member_rec {
	struct ts_user_rec *user;
	int64_t added_at;
	char *added_by;
};

/* A browser session. Only the SHA-256 of the session id is stored. */
struct ts_session_rec {
	char *id_hash;      /* hex SHA-256 of the cookie value */
	char *tenant_id;
	char *user_id;
	int64_t auth_time;  /* when the user authenticated */
	int64_t last_seen;  /* for the idle timeout */
	int64_t expires_at; /* absolute timeout */
};

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
};

/* An API key: a public id ("tk_...") and a secret stored as its SHA-256.
 * A key belongs to a user and acts with that user's roles. Kind "user" is
 * created by the user; kind "device" is the one key of a user's bound
 * mobile device, whose secret is replaced at every mobile login. */
struct ts_apikey_rec {
	char *key;         /* unique across all tenants */
	char *tenant_id;
	char *user_id;
	char *secret_hash; /* hex SHA-256 of the secret */
	char *kind;        /* "user" or "device" */
	char *device_id;   /* device keys: the bound device; else NULL */
	int64_t created_at;
};

/* A token-vault provider of a tenant: an outside authorization server.
 * Its non-secret settings are JSON text the store never interprets; its
 * one secret (client_secret or partner_key) is stored only sealed. */
struct ts_provider_rec {
	char *tenant_id;
	char *name;          /* unique within the tenant */
	char *kind;          /* "oauth2" or "shopee" */
	char *config;        /* JSON object text: URLs, client id, scopes, ... */
	char *sealed_secret; /* ts_seal output, or NULL (public client) */
	int64_t created_at;
	int64_t updated_at;
};

/* A token-vault connection: one tenant's (or one user's) link to a
 * provider, with its tokens sealed. Refreshes are serialized by a lease:
 * lease_owner/lease_until are set only by connection_lease and cleared by
 * connection_save or connection_release. */
struct ts_connection_rec {
	char *id;             /* UUID, assigned by the caller */
	char *tenant_id;
	char *tenant_name;    /* filled by reads; ignored by writes */
	char *provider;       /* a provider name of the tenant */
	char *name;           /* unique per tenant and owner */
	char *owner;          /* the owning user's id, or NULL (the tenant's) */
	char *created_by;     /* who created it: user id, client_id, "cli", or NULL */
	char *status;         /* "pending", "active" or "needs_reauth" */
	char *metadata;       /* JSON object text: shop ids, instance URL, errors, ... */
	char *access_token;   /* sealed, or NULL */
	char *refresh_token;  /* sealed, or NULL */
	int64_t issued_at;    /* when the access token was obtained */
	int64_t expires_at;   /* when it expires; 0: none yet */
	int64_t refresh_expires_at; /* when the refresh token expires; 0: unknown */
	int64_t next_refresh_at;    /* when the scheduler should act; 0: never */
	int64_t failures;     /* consecutive failed refreshes */
	char *last_error;     /* the last refresh failure, or NULL */
	bool expiry_warned;   /* the refresh token's end was announced */
	char *lease_owner;    /* read only: the current lease holder, or NULL */
	int64_t lease_until;  /* read only */
	int64_t created_at;
	int64_t updated_at;
};

struct ts_store;

/* One key's throttle window as the store keeps it. */
struct ts_throttle_win {
	int64_t start; /* the window's first failure, Unix seconds */
	int failures;  /* failures counted in it */
	int64_t last;  /* the latest failure, Unix seconds */
};

/* What callers may know of the backend behind a store. */
struct ts_store_ops {
	const char *name; /* "sqlite" or "postgres" */
	/* Several servers may share this store (PostgreSQL): state that must
	 * hold across all of them, such as throttling, is kept in it too. */
	bool shared;
};

struct ts_revcache;
struct ts_drv;
struct ts_store {
	const struct ts_store_ops *ops; /* the driver's (drv.h) */
	const struct ts_drv *drv; /* the driver every operation runs on (drv.h) */
	void *impl; /* backend state */
	struct ts_revcache *revcache; /* revocation answers in memory (revcache.h), or NULL */
};

/* Opens the store named by url, "sqlite:PATH" or a PostgreSQL URL
 * ("postgres://..." or "postgresql://...", as libpq reads it), creating and
 * migrating the schema as needed. PATH is a file name, taken relative to the
 * working directory unless absolute, and created (mode 0600) if missing;
 * ":memory:" is refused. The PostgreSQL database must exist; its tables are
 * created on first use. On TS_OK *out is owned by the caller (ts_store_close,
 * once no other call on it is running). TS_EINVAL for an unknown scheme, an
 * empty path or a URL libpq cannot parse, TS_ESTORE when the database cannot
 * be opened or migrated (a missing directory, a file that is not a database,
 * a server that cannot be reached, a schema newer than this binary). The URL
 * may hold a password: it is never logged. */
int ts_store_open(const char *url, struct ts_store **out);
/* What of a store URL may be shown (in messages, never the password): a
 * SQLite URL whole; of a PostgreSQL URL only the scheme, host, port and
 * database name (none of them when the URL cannot be read safely); of
 * anything else nothing. Written into buf (capacity cap); returns buf. */
const char *ts_store_url_shown(const char *url, char *buf, size_t cap);
void ts_store_close(struct ts_store *st); /* NULL is a no-op */

/* The schema version of the database at url and the newest this binary
 * knows, without changing anything (a database without tables is version
 * 0). TS_ENOTFOUND for a SQLite file that does not exist, TS_ESTORE when
 * the database cannot be read, TS_EINVAL for an unknown scheme. */
int ts_store_schema_status(const char *url, int64_t *current, int64_t *latest);

/* Backend constructors, used by ts_store_open. The PostgreSQL one takes
 * the whole URL. */
int ts_store_sqlite_open(const char *path, struct ts_store **out);
int ts_store_pg_open(const char *url, struct ts_store **out);
int ts_store_sqlite_schema_status(const char *path, int64_t *current, int64_t *latest);
int ts_store_pg_schema_status(const char *url, int64_t *current, int64_t *latest);
int ts_store_pg_url_shown(const char *url, char *buf, size_t cap);

/* The operations; see the conventions above. */
int ts_store_ping(struct ts_store *st);
/* A number that increases with every write to tenants, clients or keys. */
int ts_store_generation(struct ts_store *st, int64_t *out);

/* Inserts or replaces (by name) a tenant. Renaming is not supported: the id
 * of an existing name is kept. */
int ts_store_tenant_put(struct ts_store *st, const struct ts_tenant_rec *rec);
int ts_store_tenant_get(struct ts_store *st, const char *name, struct ts_tenant_rec **out);
/* All tenants ordered by name; *out is an array of n records. */
int ts_store_tenant_list(struct ts_store *st, struct ts_tenant_rec ***out, size_t *n);
/* Deletes the tenant and everything that belongs to it. */
int ts_store_tenant_delete(struct ts_store *st, const char *name);
/* Every tenant's id, name and version, ordered by name. A tenant's version
 * moves with every write to its row, its clients or its keys (key reseals
 * included), so a server that kept the versions of its last load reloads
 * only the tenants whose version differs. *out is an array of n entries
 * (ts_tenant_vers_free). */
int ts_store_tenant_versions(struct ts_store *st, struct ts_tenant_ver ***out, size_t *n);

/* Write batches. Between ts_store_batch_begin and ts_store_batch_end, every
 * operation the calling thread runs on st (reads too, so they see the
 * batch's writes) uses one connection inside one transaction, so that many
 * small writes share one commit. Each write still succeeds or fails alone:
 * a failed one is undone (a savepoint) and its error returned, the others
 * stand. ts_store_batch_end with commit true commits them all (TS_OK only
 * if the commit succeeded; otherwise none is kept), moving the generation
 * once if any of them moves it, with commit false rolls them all back. The write lock is held from begin to end, so other writers
 * wait: keep batches short (well under a second). Batches do not nest;
 * begin while the thread has one open is TS_EINVAL. */
int ts_store_batch_begin(struct ts_store *st);
int ts_store_batch_end(struct ts_store *st, bool commit);

/* Inserts or replaces (by tenant_id, client_id) a client. */
int ts_store_client_put(struct ts_store *st, const struct ts_client_rec *rec);
int ts_store_client_get(struct ts_store *st, const char *tenant_id, const char *client_id,
			struct ts_client_rec **out);
/* Clients of one tenant, or of every tenant when tenant_id is NULL, ordered
 * by tenant_id then client_id. */
int ts_store_client_list(struct ts_store *st, const char *tenant_id,
			 struct ts_client_rec ***out, size_t *n);
int ts_store_client_delete(struct ts_store *st, const char *tenant_id, const char *client_id);

/* Inserts or replaces (by tenant_id, kid) a key. */
int ts_store_key_put(struct ts_store *st, const struct ts_key_rec *rec);
/* Keys of one tenant, or of every tenant when tenant_id is NULL, ordered by
 * tenant_id then created_at. */
int ts_store_key_list(struct ts_store *st, const char *tenant_id, struct ts_key_rec ***out,
		      size_t *n);
int ts_store_key_delete(struct ts_store *st, const char *tenant_id, const char *kid);

/* Denies a token id until expires_at (idempotent; a repeat keeps the later
 * expires_at). TS_ENOTFOUND if the tenant does not exist. */
int ts_store_revoke_put(struct ts_store *st, const char *tenant_id, const char *jti,
			int64_t expires_at);
/* *revoked is true while an entry exists (purged or not). On any error it
 * is true as well, so that a careless caller fails closed. A store opened
 * with ts_store_open answers from memory what it learnt within the last
 * second (revcache.h): a revocation made through it is seen at once, one
 * made by another process within a second. */
int ts_store_revoke_check(struct ts_store *st, const char *tenant_id, const char *jti,
			  bool *revoked);
/* ts_store_revoke_check's answer if it is in memory now (TS_OK), else
 * TS_ENOTFOUND without asking the database. */
int ts_store_revoke_cached(struct ts_store *st, const char *tenant_id, const char *jti,
			   bool *revoked);
/* Forgets entries whose expires_at is before now. */
int ts_store_revoke_purge(struct ts_store *st, int64_t now);
/* Records a single-use id (kept with the revocations until expires_at) in
 * one atomic insert: TS_OK for the first call, TS_EEXIST for every later
 * one, so exactly one of any number of concurrent calls, in any number of
 * processes, gets TS_OK. */
int ts_store_jti_use(struct ts_store *st, const char *tenant_id, const char *jti,
		     int64_t expires_at);

/* Appends n audit records in one transaction: all or none. n == 0 is a
 * no-op; every record needs a type. */
int ts_store_audit_append(struct ts_store *st, const struct ts_audit_rec *recs, size_t n);
/* Records of one tenant (or all when tenant is NULL) with time >= since,
 * newest first, at most limit (so a limit keeps the latest). */
int ts_store_audit_query(struct ts_store *st, const char *tenant, int64_t since, size_t limit,
			 struct ts_audit_rec ***out, size_t *n);

/* ---- people (users, groups) ---- */
/* Inserts or replaces a user by (tenant_id, id). TS_EEXIST if another user
 * of the tenant has the same username (ASCII case folded). Not a
 * configuration write: the generation does not move. */
int ts_store_user_put(struct ts_store *st, const struct ts_user_rec *rec);
int ts_store_user_get(struct ts_store *st, const char *tenant_id, const char *id,
		      struct ts_user_rec **out);
/* Binds a user that has no device yet to device_id (and sets updated_at
 * to now), writing nothing else: one conditional update, so of any number
 * of concurrent first logins exactly one binds. TS_ENOTFOUND when there is
 * no such user or it is bound already (the caller re-reads it). */
int ts_store_user_bind_device(struct ts_store *st, const char *tenant_id, const char *id,
			      const char *device_id, int64_t now);
/* Replaces a user's password hash old_hash by new_hash (a rehash with new
 * parameters at login), writing nothing else, and only while the stored
 * hash is still old_hash: a password set or a user changed meanwhile by an
 * administrator is never overwritten. TS_ENOTFOUND when there is no such
 * user or its hash changed. */
int ts_store_user_rehash(struct ts_store *st, const char *tenant_id, const char *id,
			 const char *old_hash, const char *new_hash, int64_t now);
/* By username, ASCII case folded. */
int ts_store_user_find(struct ts_store *st, const char *tenant_id, const char *username,
		       struct ts_user_rec **out);
/* Users of a tenant ordered by username (ASCII case folded). */
int ts_store_user_list(struct ts_store *st, const char *tenant_id, struct ts_user_rec ***out,
		       size_t *n);
/* Deletes the user with their sessions, memberships, consents, codes,
 * grants and refresh tokens; the access-token jtis recorded with their
 * grants are denied first (as revoke_put), in the same transaction. */
int ts_store_user_delete(struct ts_store *st, const char *tenant_id, const char *id);

/* Groups: put by (tenant_id, id); TS_EEXIST for a duplicate name. */
int ts_store_group_put(struct ts_store *st, const struct ts_group_rec *rec);
int ts_store_group_get(struct ts_store *st, const char *tenant_id, const char *id,
		       struct ts_group_rec **out);
int ts_store_group_find(struct ts_store *st, const char *tenant_id, const char *name,
			struct ts_group_rec **out);
int ts_store_group_list(struct ts_store *st, const char *tenant_id, struct ts_group_rec ***out,
			size_t *n);
int ts_store_group_delete(struct ts_store *st, const char *tenant_id, const char *id);
/* Membership; add is idempotent and keeps the first added_at and
 * added_by (TS_ENOTFOUND if the group or user does not exist), remove of
 * a non-member is TS_ENOTFOUND. added_by is who adds: a username, a
 * client_id, "bootstrap" or "cli". */
int ts_store_member_add(struct ts_store *st, const char *tenant_id, const char *group_id,
			const char *user_id, const char *added_by, int64_t added_at);
int ts_store_member_remove(struct ts_store *st, const char *tenant_id, const char *group_id,
			   const char *user_id);
/* Members as user records ordered by username (ASCII case folded). */
int ts_store_member_list(struct ts_store *st, const char *tenant_id, const char *group_id,
			 struct ts_user_rec ***out, size_t *n);
/* *is_member is false on any error. */
int ts_store_member_check(struct ts_store *st, const char *tenant_id, const char *group_id,
			  const char *user_id, bool *is_member);
/* The memberships with their users, in member_list's order. */
int ts_store_member_records(struct ts_store *st, const char *tenant_id, const char *group_id,
			    struct ts_member_rec ***out, size_t *n);

/* ---- sessions ---- */
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

/* ---- authorization codes, grants, refresh tokens ---- */
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

/* ---- consent ---- */
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
 * expires_at is before now, and throttle windows that have ended (started
 * TS_STORE_THROTTLE_WINDOW_S or more before now). Idle sessions are the
 * caller's business. */
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

/* ---- API keys ---- */
/* Inserts or replaces (by key) an API key; replacing a device key's secret
 * makes the previous secret fail from this write on. TS_ENOTFOUND if the
 * user does not exist. */
int ts_store_apikey_put(struct ts_store *st, const struct ts_apikey_rec *rec);
int ts_store_apikey_get(struct ts_store *st, const char *key, struct ts_apikey_rec **out);
/* The user's device key; TS_ENOTFOUND if none. */
int ts_store_apikey_find_device(struct ts_store *st, const char *tenant_id, const char *user_id,
				struct ts_apikey_rec **out);
/* Keys of a user ordered by creation. */
int ts_store_apikey_list(struct ts_store *st, const char *tenant_id, const char *user_id,
			 struct ts_apikey_rec ***out, size_t *n);
int ts_store_apikey_delete(struct ts_store *st, const char *tenant_id, const char *key);
/* Every key of a user (TS_OK also when there was none). */
int ts_store_apikey_delete_user(struct ts_store *st, const char *tenant_id, const char *user_id);
void ts_apikey_rec_free(struct ts_apikey_rec *r);
void ts_apikey_recs_free(struct ts_apikey_rec **v, size_t n);

/* ---- token vault: providers and connections (not configuration: no
 * write here moves the generation) ---- */
/* Inserts or replaces a provider by (tenant_id, name); TS_ENOTFOUND if the
 * tenant does not exist. created_at of an existing provider is kept. */
int ts_store_provider_put(struct ts_store *st, const struct ts_provider_rec *rec);
int ts_store_provider_get(struct ts_store *st, const char *tenant_id, const char *name,
			  struct ts_provider_rec **out);
/* Providers of one tenant (or of all when tenant_id is NULL), ordered by
 * tenant_id then name. */
int ts_store_provider_list(struct ts_store *st, const char *tenant_id,
			   struct ts_provider_rec ***out, size_t *n);
/* TS_ECONFLICT (nothing deleted) while a connection uses the provider. */
int ts_store_provider_delete(struct ts_store *st, const char *tenant_id, const char *name);
/* Replaces the sealed secret only if it is still old_sealed (compare and
 * swap, for re-sealing under a new master key): TS_ECONFLICT otherwise. */
int ts_store_provider_reseal(struct ts_store *st, const char *tenant_id, const char *name,
			     const char *old_sealed, const char *new_sealed);

/* Inserts a new connection (lease fields ignored). TS_EEXIST if the id, or
 * the name for the same tenant and owner, is taken; TS_ENOTFOUND if the
 * tenant, provider or owner does not exist. */
int ts_store_connection_insert(struct ts_store *st, const struct ts_connection_rec *rec);
int ts_store_connection_get(struct ts_store *st, const char *tenant_id, const char *id,
			    struct ts_connection_rec **out);
/* By name for an owner (NULL: the tenant's own connections). */
int ts_store_connection_find(struct ts_store *st, const char *tenant_id, const char *owner,
			     const char *name, struct ts_connection_rec **out);
/* Connections of one tenant (or of all when tenant_id is NULL), ordered by
 * tenant_id then created_at. */
int ts_store_connection_list(struct ts_store *st, const char *tenant_id,
			     struct ts_connection_rec ***out, size_t *n);
/* Connections whose next_refresh_at is set and not after now and whose
 * lease is free, earliest first, at most limit (1..1000). */
int ts_store_connection_due(struct ts_store *st, int64_t now, size_t limit,
			    struct ts_connection_rec ***out, size_t *n);
/* Takes the connection's lease for owner until `until` if it is free (no
 * holder, or the holder's lease ended before now): one conditional UPDATE,
 * so of any number of callers in any number of processes exactly one gets
 * TS_OK. TS_ECONFLICT: someone else holds it. TS_ENOTFOUND: no such row. */
int ts_store_connection_lease(struct ts_store *st, const char *tenant_id, const char *id,
			      const char *owner, int64_t until, int64_t now);
/* Writes every mutable field of rec (status, metadata, both sealed tokens,
 * times, failures, last_error, expiry_warned) and releases the lease, in
 * one statement, only while lease_owner still holds the lease: a rotated
 * refresh token replaces the old one together with its access token, and
 * a holder whose lease was taken over writes nothing (TS_ECONFLICT).
 * TS_ENOTFOUND if the row is gone. */
int ts_store_connection_save(struct ts_store *st, const struct ts_connection_rec *rec,
			     const char *lease_owner);
/* Releases the lease if lease_owner holds it (TS_OK either way). */
int ts_store_connection_release(struct ts_store *st, const char *tenant_id, const char *id,
				const char *lease_owner);
int ts_store_connection_delete(struct ts_store *st, const char *tenant_id, const char *id);
/* Replaces a signing key's sealed private key only if it is still
 * old_sealed (compare and swap, for re-sealing under a new master key; the
 * key itself does not change, so the generation does not move).
 * TS_ECONFLICT otherwise. */
int ts_store_key_reseal(struct ts_store *st, const char *tenant_id, const char *kid,
			const char *old_sealed, const char *new_sealed);
void ts_provider_rec_free(struct ts_provider_rec *r);
void ts_provider_recs_free(struct ts_provider_rec **v, size_t n);
void ts_connection_rec_free(struct ts_connection_rec *r);
void ts_connection_recs_free(struct ts_connection_rec **v, size_t n);

void ts_user_rec_free(struct ts_user_rec *r);
void ts_group_rec_free(struct ts_group_rec *r);
void ts_session_rec_free(struct ts_session_rec *r);
void ts_code_rec_free(struct ts_code_rec *r);
void ts_grant_rec_free(struct ts_grant_rec *r);
void ts_refresh_rec_free(struct ts_refresh_rec *r);
void ts_user_recs_free(struct ts_user_rec **v, size_t n);
void ts_group_recs_free(struct ts_group_rec **v, size_t n);
void ts_member_recs_free(struct ts_member_rec **v, size_t n);

void ts_tenant_rec_free(struct ts_tenant_rec *r);
void ts_client_rec_free(struct ts_client_rec *r);
void ts_key_rec_free(struct ts_key_rec *r);
void ts_audit_rec_free(struct ts_audit_rec *r);
/* Free an array returned by a _list/_query call, records included. */
void ts_tenant_recs_free(struct ts_tenant_rec **v, size_t n);
void ts_tenant_ver_free(struct ts_tenant_ver *v);
void ts_tenant_vers_free(struct ts_tenant_ver **v, size_t n);
void ts_client_recs_free(struct ts_client_rec **v, size_t n);
void ts_key_recs_free(struct ts_key_rec **v, size_t n);
void ts_audit_recs_free(struct ts_audit_rec **v, size_t n);

#endif
