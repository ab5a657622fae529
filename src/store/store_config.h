/* store_config.h: the storage contract for configuration (tenants, clients,
 * signing keys), revocations and the audit log (config.c), under the
 * conventions of store_core.h. */
#ifndef TS_STORE_CONFIG_H
#define TS_STORE_CONFIG_H

#include "store_core.h"

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

/* Inserts or replaces (by tenant_id, client_id) a client. */
int ts_store_client_put(struct ts_store *st, const struct ts_client_rec *rec);
/* Replaces the configuration, secret_hash and updated_at of an existing
 * client (by tenant_id, client_id), moving the generation; TS_ENOTFOUND
 * (nothing written) when there is no such client, also when a concurrent
 * delete removed it first: it never creates one. */
int ts_store_client_update(struct ts_store *st, const struct ts_client_rec *rec);
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
/* Moves key kid of tenant_id from state from to state to, with the given
 * activated_at and retired_at, leaving its key material as it is:
 * TS_ENOTFOUND (nothing written) when the key is not in state from. */
int ts_store_key_set_state(struct ts_store *st, const char *tenant_id, const char *kid,
			   const char *from, const char *to, int64_t activated_at,
			   int64_t retired_at);
/* Deletes key kid of tenant_id if it is in state: TS_ENOTFOUND otherwise. */
int ts_store_key_delete_in_state(struct ts_store *st, const char *tenant_id, const char *kid,
				 const char *state);

/* Tenants due for an automatic key rotation at now: those with an
 * algorithm whose current key was promoted key_rotation seconds or more
 * before now (the tenant configuration's "key_rotation", default_rotation
 * where it has none; 0 never) and whose next key was published at
 * published_by or before. At most limit (1..1000), the most overdue first
 * (then by id); *out is an array of n records (ts_tenant_recs_free), NULL
 * when none. */
int ts_store_key_rotation_due(struct ts_store *st, int64_t now, int64_t published_by,
			      int64_t default_rotation, size_t limit, struct ts_tenant_rec ***out,
			      size_t *n);

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
