/* store_vault.h: the storage contract for the token vault: providers,
 * connections and re-sealing (vault.c), under the conventions of store_core.h.
 * */
#ifndef TS_STORE_VAULT_H
#define TS_STORE_VAULT_H

#include "store_core.h"

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

/* The connections of one owner (a user id) to one provider of a tenant,
 * oldest first. */
int ts_store_connection_owned(struct ts_store *st, const char *tenant_id, const char *owner,
			      const char *provider, struct ts_connection_rec ***out, size_t *n);

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

#endif
