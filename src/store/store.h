/* store.h: the storage contract. Everything above this header is backend
 * neutral: it sees records and return codes, never SQL. One backend per
 * file (sqlite.c, later pg.c), selected by URL in ts_store_open.
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

struct ts_store;

/* The backend vtable. Each backend fills one of these; callers use the
 * ts_store_* wrappers below, never the table directly. */
struct ts_store_ops {
	const char *name;
	void (*close)(struct ts_store *st);
	int (*ping)(struct ts_store *st);
	int (*generation)(struct ts_store *st, int64_t *out);

	int (*tenant_put)(struct ts_store *st, const struct ts_tenant_rec *rec);
	int (*tenant_get)(struct ts_store *st, const char *name, struct ts_tenant_rec **out);
	int (*tenant_list)(struct ts_store *st, struct ts_tenant_rec ***out, size_t *n);
	int (*tenant_delete)(struct ts_store *st, const char *name);

	int (*client_put)(struct ts_store *st, const struct ts_client_rec *rec);
	int (*client_get)(struct ts_store *st, const char *tenant_id, const char *client_id,
			  struct ts_client_rec **out);
	int (*client_list)(struct ts_store *st, const char *tenant_id,
			   struct ts_client_rec ***out, size_t *n);
	int (*client_delete)(struct ts_store *st, const char *tenant_id, const char *client_id);

	int (*key_put)(struct ts_store *st, const struct ts_key_rec *rec);
	int (*key_list)(struct ts_store *st, const char *tenant_id, struct ts_key_rec ***out,
			size_t *n);
	int (*key_delete)(struct ts_store *st, const char *tenant_id, const char *kid);

	int (*revoke_put)(struct ts_store *st, const char *tenant_id, const char *jti,
			  int64_t expires_at);
	int (*revoke_check)(struct ts_store *st, const char *tenant_id, const char *jti,
			    bool *revoked);
	int (*revoke_purge)(struct ts_store *st, int64_t now);

	int (*audit_append)(struct ts_store *st, const struct ts_audit_rec *recs, size_t n);
	int (*audit_query)(struct ts_store *st, const char *tenant, int64_t since, size_t limit,
			   struct ts_audit_rec ***out, size_t *n);
};

struct ts_store {
	const struct ts_store_ops *ops;
	void *impl; /* backend state */
};

/* Opens the store named by url ("sqlite:PATH"; later "postgres://..."),
 * creating and migrating the schema as needed. PATH is a file name, taken
 * relative to the working directory unless absolute, and created (mode 0600)
 * if missing; ":memory:" is refused. On TS_OK *out is owned by the caller
 * (ts_store_close, once no other call on it is running). TS_EINVAL for an
 * unknown scheme or an empty path, TS_ESTORE when the database cannot be
 * opened or migrated (a missing directory, a file that is not a database, a
 * schema newer than this binary). */
int ts_store_open(const char *url, struct ts_store **out);
void ts_store_close(struct ts_store *st); /* NULL is a no-op */

/* SQLite backend constructor, used by ts_store_open. */
int ts_store_sqlite_open(const char *path, struct ts_store **out);

/* Thin wrappers over the vtable; see the conventions above. */
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
 * is true as well, so that a careless caller fails closed. */
int ts_store_revoke_check(struct ts_store *st, const char *tenant_id, const char *jti,
			  bool *revoked);
/* Forgets entries whose expires_at is before now. */
int ts_store_revoke_purge(struct ts_store *st, int64_t now);

/* Appends n audit records in one transaction: all or none. n == 0 is a
 * no-op; every record needs a type. */
int ts_store_audit_append(struct ts_store *st, const struct ts_audit_rec *recs, size_t n);
/* Records of one tenant (or all when tenant is NULL) with time >= since,
 * oldest first, at most limit. */
int ts_store_audit_query(struct ts_store *st, const char *tenant, int64_t since, size_t limit,
			 struct ts_audit_rec ***out, size_t *n);

void ts_tenant_rec_free(struct ts_tenant_rec *r);
void ts_client_rec_free(struct ts_client_rec *r);
void ts_key_rec_free(struct ts_key_rec *r);
void ts_audit_rec_free(struct ts_audit_rec *r);
/* Free an array returned by a _list/_query call, records included. */
void ts_tenant_recs_free(struct ts_tenant_rec **v, size_t n);
void ts_client_recs_free(struct ts_client_rec **v, size_t n);
void ts_key_recs_free(struct ts_key_rec **v, size_t n);
void ts_audit_recs_free(struct ts_audit_rec **v, size_t n);

#endif
