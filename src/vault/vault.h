/* vault.h: the token vault. Providers are a tenant's outside
 * authorization servers (OAuth 2.0 with ready-made profiles, and Shopee
 * Open Platform v2); connections hold their tokens sealed at rest
 * (AES-256-GCM under the master key, bound to tenant, record and field)
 * and are refreshed before they expire by a scheduler, one refresher at a
 * time per connection across every server sharing the database (a lease
 * in storage). This header serves the server (routes, scheduler), the CLI
 * and the bootstrap file (providers, connections, rekey). shopee.h holds
 * the pure Shopee v2 functions. */
#ifndef TS_VAULT_H
#define TS_VAULT_H

#include "core/core.h"

#include <jansson.h>

struct ts_connection_rec;
struct ts_provider_rec;
struct ts_store;

struct ts_audit;
struct ts_http_req;
struct ts_http_resp;
struct ts_metrics;
struct ts_vault;

#define TS_VAULT_SCOPE_READ "vault:read"
#define TS_VAULT_SCOPE_WRITE "vault:write"

/* ---- the vault context ---- */

/* Creates the context shared by request threads, the scheduler and the
 * CLI. mks are nmk master keys (copied): mks[0] seals, every one of them
 * opens (TESSERA_MASTER_KEY_OLD during a key change). audit and metrics
 * are borrowed and may be NULL (the CLI: events then go straight to the
 * store). actor names the writer in audit events ("server", "cli",
 * "bootstrap"; static string). Settings come from the environment:
 * TESSERA_VAULT_TICK_MS (scheduler period, default 1000),
 * TESSERA_VAULT_BACKOFF_MS (first retry delay, default 2000),
 * TESSERA_VAULT_BACKOFF_MAX_MS (default 300000), TESSERA_VAULT_HTTP_TIMEOUT_MS
 * (per upstream request, default 15000) and TESSERA_VAULT_WARN_S (announce
 * a refresh token's end this long before it, default 7 days). On TS_OK
 * *out is owned by the caller (ts_vault_free). */
int ts_vault_new(struct ts_store *st, const struct ts_master_key *mks, size_t nmk,
		 struct ts_audit *audit, struct ts_metrics *metrics, const char *actor,
		 struct ts_vault **out);
/* Starts the refresh scheduler thread (tessera serve). */
int ts_vault_start(struct ts_vault *v);
/* Stops the scheduler (waiting for a refresh in progress) and frees
 * everything. NULL is a no-op. */
void ts_vault_free(struct ts_vault *v);

/* ---- the refresh schedule (pure; unit tested) ---- */
#define TS_VAULT_REFRESH_LEAD_S 600 /* refresh at the latest this long before expiry */

/* The moment from which a token issued at issued_at and expiring at
 * expires_at should be refreshed: the earlier of expires_at - lead_s and
 * 80% of its lifetime, but never before half of its lifetime has passed.
 * A token without a known lifetime (expires_at <= issued_at) is due at
 * expires_at. */
int64_t ts_vault_refresh_at(int64_t issued_at, int64_t expires_at, int64_t lead_s);
/* ts_vault_refresh_at moved earlier by jitter_permille/1000 of up to 5% of
 * the lifetime (at most 30 s), never before half of the lifetime: spreads
 * the refreshes of tokens issued together. */
int64_t ts_vault_refresh_jittered(int64_t issued_at, int64_t expires_at, int64_t lead_s,
				  unsigned jitter_permille);
/* The delay before retry number failures (1, 2, ...): base_ms doubling,
 * capped at max_ms. */
int64_t ts_vault_backoff_ms(int64_t failures, int64_t base_ms, int64_t max_ms);

/* ---- providers (src/admin/provider.c validates and resolves specs) ---- */

#define TS_VAULT_ERR_MAX 256
#define TS_VAULT_DEFAULT_LIFETIME 3600 /* an access token without expires_in */

/* Stores a provider of tenant (by the spec's "name") with its resolved
 * settings cfg (borrowed) and its secret (NULL: none given), sealed under
 * mks[0]; with keep_secret, no secret keeps the stored one while the kind
 * stays the same. *result: "created", "updated" or "unchanged"; audited. */
int ts_vault_provider_put(struct ts_vault *v, const char *tenant, const json_t *spec,
			  const json_t *cfg, const char *secret, bool keep_secret,
			  const char **result, char *err, size_t cap);
/* Whether url may be called: absolute http(s) without credentials or a
 * fragment, and plain http only to a loopback host. */
bool ts_upstream_url_ok(const char *url);
/* A provider as the CLI shows it: settings and has_secret, never the
 * secret. New reference. */
json_t *ts_vault_provider_view(const struct ts_provider_rec *p);

/* ---- connections (CLI and bootstrap) ---- */

/* A connection's metadata and status as the API and CLI show them: never
 * a token. last_error is the recorded (scrubbed) cause for the operator's
 * CLI (admin), and only a generic sentence for API callers, who never see a
 * provider's own words. New reference. */
json_t *ts_vault_connection_view(const struct ts_connection_rec *c, int64_t now, bool admin);
/* Validates a bootstrap "connections" entry: {provider, name}. */
int ts_vault_connection_spec_validate(const json_t *spec, char *err, size_t cap);
/* Declares a tenant-owned connection of a client-credentials provider
 * (bootstrap): created if missing, due for its first token at once. It
 * asks the provider nothing, so it may run inside a write batch;
 * ts_vault_connection_fetch_first fetches that token once the connection
 * is committed. *result as for providers; *id (caller frees) is its id. */
int ts_vault_connection_declare(struct ts_vault *v, const char *tenant, const json_t *spec,
				const char **result, char **id, char *err, size_t cap);
/* Fetches the first token of connection id of tenant (by name), best
 * effort: a failure is logged and left to the scheduler, which retries. */
void ts_vault_connection_fetch_first(struct ts_vault *v, const char *tenant, const char *id);
/* Revokes the connection's grant upstream where the provider can (RFC 7009,
 * best effort) and deletes it; audited as vault.deleted with actor.
 * TS_ENOTFOUND if it does not exist. *revoked tells whether the provider
 * confirmed the revocation (may be NULL). */
int ts_vault_connection_delete(struct ts_vault *v, const struct ts_connection_rec *c,
			       const char *actor, bool *revoked);

/* Re-seals every provider secret and connection token under mks[0], one
 * record per transaction (connections under their refresh lease, so a
 * running server's refresh never races it). *summary (new reference)
 * counts what was re-sealed, already current, and failed. TS_OK when
 * nothing failed. */
int ts_vault_rekey(struct ts_vault *v, json_t **summary);

/* ---- a person's token, for token exchange (handout.c, RFC 8693) ---- */

/* What ts_vault_user_token hands out; every member owned. */
struct ts_vault_user_token {
	char *access_token;  /* the provider's access token (a secret) */
	char *token_type;    /* the provider's token_type, or "Bearer" */
	int64_t expires_at;  /* when the provider said it expires */
	char *connection_id; /* the connection it came from */
};
/* The access token of user_id's own connection to the tenant's provider
 * (the oldest active one when there are several), refreshed first when it
 * is inside its refresh window, through the refresh lease; actor names the
 * refresher in audit events. Never another owner's or the tenant's own
 * connection. TS_OK with *out filled (ts_vault_user_token_clear);
 * TS_ENOTFOUND (no such provider, or no connection of the user to it),
 * TS_EDENIED (a client-credentials or Shopee provider), TS_EINVAL (the
 * connection waits for its authorization or needs_reauth), TS_EIO (the
 * token expired and could not be refreshed), TS_ESTORE, TS_ECRYPTO. */
int ts_vault_user_token(struct ts_vault *v, const char *tenant_id, const char *user_id,
			const char *provider, const char *actor, struct ts_vault_user_token *out);
/* Wipes the token and frees every member; a cleared struct may be cleared
 * again. */
void ts_vault_user_token_clear(struct ts_vault_user_token *t);

/* ---- HTTP routes (ctx is a struct ts_rctx *) ---- */
void ts_vault_api_create(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
void ts_vault_api_list(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
void ts_vault_api_get(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
void ts_vault_api_delete(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
void ts_vault_api_token(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
void ts_vault_api_sign(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
/* Whether the tenant's provider name uses the client credentials grant
 * (provider_grant.c). TS_OK, TS_ENOTFOUND, TS_ESTORE, or TS_ECRYPTO when
 * its secret cannot be opened. */
int ts_vault_provider_client_credentials(struct ts_vault *v, const char *tenant_id,
					 const char *name, bool *client_credentials);
/* POST /api/connections/{id}/refresh: refresh now (refresh_api.c). */
void ts_vault_api_refresh(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
/* {issuer}/connect/callback: the redirect target of every provider. */
void ts_vault_callback(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);

#endif
