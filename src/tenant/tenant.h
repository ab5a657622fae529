/* tenant.h: tenants, their clients, scopes and signing keys, as an immutable
 * in-memory snapshot that request threads read without locks, and the
 * checks that validating configuration shares (spec.c). Creating and
 * changing tenants, clients and keys is src/admin/.
 *
 * A registry owns the current snapshot. A background thread polls the
 * store's generation counter and, when it moved, builds a new snapshot and
 * publishes it with one atomic pointer store. The new snapshot rebuilds only
 * the tenants whose version changed and shares every other tenant (with its
 * clients and keys) with the previous one; a tenant is reference counted by
 * the snapshots that hold it. Readers take the pointer with one atomic load;
 * an old snapshot is freed only after a grace period much longer than any
 * request may hold it (TS_SNAPSHOT_GRACE_S). */
#ifndef TS_TENANT_H
#define TS_TENANT_H

#include "core/core.h"
#include "jose/jose.h"

#include <jansson.h>
#include <stdatomic.h>

struct ts_store;

#define TS_TENANT_NAME_MAX 63
#define TS_CLIENT_ID_MAX 128
#define TS_CLIENT_SECRET_MIN 32
#define TS_CLIENT_SECRET_BYTES 32 /* generated secrets: 256 bits */
#define TS_DEFAULT_ACCESS_TTL 900
#define TS_DEFAULT_REFRESH_TTL 2592000
#define TS_DEFAULT_CODE_TTL 60
#define TS_SNAPSHOT_GRACE_S 120
#define TS_RELOAD_INTERVAL_MS 1000

/* Counters that outlive snapshots: one per tenant id, never freed while the
 * process runs, updated with relaxed atomics on the hot path. */
#define TS_GRANT_KINDS 6 /* client_credentials, authorization_code, refresh_token, password, device_code, token_exchange */
struct ts_tenant_stats {
	char *tenant_name;
	atomic_ullong tokens_issued[TS_GRANT_KINDS];
	atomic_ullong client_auth_failures;
	atomic_ullong tokens_revoked;
	atomic_ullong login_failures;
	struct ts_tenant_stats *next;
};
enum ts_grant_kind {
	TS_GRANT_CLIENT_CREDENTIALS = 0,
	TS_GRANT_AUTHORIZATION_CODE,
	TS_GRANT_REFRESH_TOKEN,
	TS_GRANT_PASSWORD,
	TS_GRANT_DEVICE_CODE,
	TS_GRANT_TOKEN_EXCHANGE,
};
const char *ts_grant_kind_name(enum ts_grant_kind g);

struct ts_scope_def {
	char *name;
	char **includes; /* names of scopes it satisfies, transitively expanded */
	size_t nincludes;
	char *description; /* shown on the consent page, or NULL */
};

struct ts_client {
	char *client_id;
	char *name;
	bool confidential;
	bool disabled;
	char *secret_hash;    /* NULL for public clients */
	char **redirect_uris; size_t nredirect_uris;
	char **grant_types; size_t ngrant_types;
	char **scopes; size_t nscopes;
	char **cors_origins; size_t ncors_origins;
	char **post_logout_redirect_uris; size_t npost_logout_redirect_uris;
	enum ts_jws_alg id_token_alg; /* RS256 unless the client registered another */
	bool skip_consent;
	bool private_key_jwt;         /* authenticates with signed assertions (RFC 7523) */
	struct ts_jwk **jwks; size_t njwks; /* its public keys, for private_key_jwt */
	/* Seconds after a rotation in which the rotated refresh token may be
	 * presented again while its successor is unused; 0: never. */
	int64_t refresh_reuse_grace;
	bool dpop_bound_access_tokens; /* RFC 9449 §5.2: every token request needs a DPoP proof */
	bool require_par;             /* authorization requests only pushed (RFC 9126 §5) */
	/* Tokens issued before this (Unix seconds) are inactive: the client's
	 * creation, or the last time it was disabled, so that re-creating or
	 * enabling a client again gives back none of its old tokens. */
	int64_t tokens_after;
};

/* The client configuration member that keeps when a client was last
 * disabled (admin/client.c writes it, the snapshot reads it). */
#define TS_CLIENT_TOKENS_AFTER "tokens_valid_after"

/* A client's refresh_reuse_grace when its configuration names none, and
 * the most it may name. */
#define TS_REFRESH_REUSE_GRACE_DEFAULT 0
#define TS_REFRESH_REUSE_GRACE_MAX 3600

struct ts_signing_key {
	char *kid;
	enum ts_jws_alg alg;
	char *state;              /* "next", "current", "retired" */
	int64_t retired_at;
	struct ts_jwk *jwk;       /* private when the master key opened it */
};

struct ts_tenant {
	char *id;
	char *name;
	char *display_name;
	char *issuer;          /* {public_url}/t/{name} */
	char **domains; size_t ndomains;
	char *audience;        /* NULL: the issuer */
	int64_t access_token_ttl, refresh_token_ttl, code_ttl;
	enum ts_jws_alg access_token_alg;
	char **roles; size_t nroles;
	char **api_key_roles; size_t napi_key_roles;
	struct ts_scope_def *scopes; size_t nscopes;
	struct ts_client **clients; size_t nclients; /* sorted by client_id */
	struct ts_signing_key *keys; size_t nkeys; /* current and retired keys, for verification */
	/* The current key of each algorithm the tenant signs with (its access
	 * tokens, its clients' ID tokens), opened with its private half; NULL
	 * for the others. */
	const struct ts_jwk *signer[TS_ALG_EDDSA + 1];
	char *jwks_json;       /* the JWKS document, prebuilt */
	size_t jwks_len;
	struct ts_tenant_stats *stats;
	unsigned compat;           /* compatibility profiles turned on (TS_COMPAT_* bits) */
	char *mobile_login_method; /* the frappe profile's mobile login method, or NULL */
	/* An OpenID request for every scope its client may have ("all openid")
	 * gets a refresh token without offline_access (Frappe's behaviour). */
	bool refresh_without_offline_access;
	char *login_client;        /* the activity profile's /auth/login client, or NULL */
	bool dynamic_registration; /* clients may register themselves (RFC 7591) */
	int64_t version;       /* the store's version of the tenant this was built from */
	atomic_uint refs;      /* snapshots holding it; the last one to go frees it */
};

/* A Host name served as a tenant (its "domains"), for lookups by Host. */
struct ts_domain_ent {
	const char *domain;    /* borrowed from the tenant */
	const struct ts_tenant *tenant;
};

struct ts_snapshot {
	int64_t generation;
	struct ts_tenant **tenants; size_t ntenants; /* sorted by name */
	struct ts_domain_ent *domains; size_t ndomains; /* sorted by domain, then tenant name */
};

/* ---- lookups (lock-free, on the snapshot) ---- */
const struct ts_tenant *ts_snapshot_tenant(const struct ts_snapshot *s, const char *name);
const struct ts_tenant *ts_snapshot_tenant_by_domain(const struct ts_snapshot *s,
						     const char *host);
const struct ts_client *ts_tenant_client(const struct ts_tenant *t, const char *client_id);
const struct ts_scope_def *ts_tenant_scope(const struct ts_tenant *t, const char *name);
const struct ts_signing_key *ts_tenant_key(const struct ts_tenant *t, const char *kid);
bool ts_client_has_grant(const struct ts_client *c, const char *grant);
bool ts_client_allows_origin(const struct ts_client *c, const char *origin);
bool ts_tenant_allows_origin(const struct ts_tenant *t, const char *origin);

/* The algorithm a client's public JWK is used with: its "alg", or from its
 * key type (EC P-256: ES256, OKP Ed25519: EdDSA, RSA: RS256). */
enum ts_jws_alg ts_client_jwk_alg(const json_t *jwk);

/* Checks a presented client secret against the stored hash in constant
 * time. false for public clients and malformed hashes. */
bool ts_client_secret_ok(const struct ts_client *c, const char *secret, size_t len);
/* Makes a stored hash for a secret ("sha256$salt$digest"). Caller frees. */
int ts_client_secret_hash(const char *secret, char **out);

/* Scope arithmetic. `granted` satisfies `needed` when it names it or one of
 * its (transitive) includes. */
bool ts_scope_satisfies(const struct ts_tenant *t, const char *granted, const char *needed);
/* Whether the client may be given scope s (directly allowed, or included by
 * an allowed scope). */
bool ts_client_scope_allowed(const struct ts_tenant *t, const struct ts_client *c,
			     const char *s);

/* Where snapshots come from: the store, the public URL that issuers are
 * formed from, the master keys (first is current) that open private keys,
 * and stats_for, which maps a tenant name to its long-lived counters (may
 * be NULL; called only from the thread building the snapshot). */
struct ts_snapshot_src {
	struct ts_store *store;
	const char *public_url;
	const struct ts_master_key *mks;
	size_t nmk;
	struct ts_tenant_stats *(*stats_for)(void *ctx, const char *name);
	void *stats_ctx;
};

/* Builds a snapshot of the store's configuration. Every tenant of prev
 * (may be NULL) whose id and version are still the store's is shared with
 * the new snapshot, not rebuilt; the others are read and built (in
 * parallel when there are many), tenants gone from the store are left
 * out. Only the current keys of the algorithms a tenant signs with are
 * opened with their private halves (see signer), without a pairwise check:
 * a key was checked when it was generated, and the seal authenticates it.
 * Next keys are only published (jwks_json). *rebuilt (may be NULL) gets
 * the number of tenants built. prev stays valid and unchanged. On TS_OK
 * *out is owned by the caller (ts_snapshot_free). */
int ts_snapshot_update(const struct ts_snapshot_src *src, const struct ts_snapshot *prev,
		       struct ts_snapshot **out, size_t *rebuilt);
/* ts_snapshot_update without a previous snapshot: everything is built. */
int ts_snapshot_load(struct ts_store *st, const char *public_url, const struct ts_master_key *mks,
		     size_t nmk, struct ts_tenant_stats *(*stats_for)(void *, const char *),
		     void *stats_ctx, struct ts_snapshot **out);
/* Releases the snapshot's hold on each of its tenants (freeing those no
 * other snapshot holds) and the snapshot. NULL is a no-op. */
void ts_snapshot_free(struct ts_snapshot *s);

/* ---- the registry ---- */
struct ts_registry;
/* public_url is copied; mks (nmk master keys, first is current) are copied.
 * The first snapshot is loaded before this returns: TS_ESTORE if it cannot. */
int ts_registry_new(struct ts_store *st, const char *public_url,
		    const struct ts_master_key *mks, size_t nmk, struct ts_registry **out);
/* Starts the polling thread (interval_ms between generation checks). */
int ts_registry_start(struct ts_registry *r, int interval_ms);
/* The current snapshot; valid for at least TS_SNAPSHOT_GRACE_S seconds. */
const struct ts_snapshot *ts_registry_get(struct ts_registry *r);
/* Reloads now if the generation moved (or force). */
int ts_registry_reload(struct ts_registry *r, bool force);
/* Whether storage answered the last time anyone looked: the registry's
 * poll (every interval), or a caller that tells it (/readyz's ping).
 * Answers that need no storage of their own go by it, so that an outage
 * is 503 everywhere. */
bool ts_registry_storage_ok(struct ts_registry *r);
void ts_registry_storage_seen(struct ts_registry *r, bool ok);
/* Stops the thread and frees everything. NULL is a no-op. */
void ts_registry_free(struct ts_registry *r);
/* Every tenant's long-lived counters, for /metrics. Borrowed list head. */
struct ts_tenant_stats *ts_registry_stats(struct ts_registry *r);

/* ---- checks shared by every configuration validator (src/admin/ and
 * the modules that read JSON objects of their own) ---- */

/* ts_admin_fail writes one sentence into err and returns TS_EINVAL;
 * ts_admin_check_known refuses a member of obj not in known
 * (NULL-terminated), naming it; ts_admin_printable accepts 1..max bytes
 * without control characters. */
int ts_admin_fail(char *err, size_t cap, const char *fmt, ...) TS_PRINTF(3, 4);
int ts_admin_check_known(const json_t *obj, const char *const *known, const char *what,
			 char *err, size_t cap);
bool ts_admin_printable(const char *s, size_t max);
/* Whether a redirect URI's scheme is one that runs or reads something in
 * the user agent instead of reaching a client (javascript, data, vbscript,
 * file; any case): such a URI is never registered nor redirected to. */
bool ts_redirect_scheme_refused(const char *uri);
/* What an http loopback IP literal redirect URI is (RFC 8252 §7.3, whose
 * port may vary, as a real port: RFC 3986 §3.2.3 digits, at most five,
 * naming 1-65535). */
enum ts_loopback {
	TS_NOT_LOOPBACK, /* not http on a loopback IP literal */
	TS_LOOPBACK,     /* one, with no port or a valid one */
	TS_BAD_PORT,     /* one whose port cannot be a port: never registered
			  * nor redirected to */
};
/* Classifies uri; for TS_LOOPBACK, *host_end is the length of the part
 * before the port and *rest what follows the port. */
enum ts_loopback ts_redirect_loopback(const char *uri, size_t *host_end, const char **rest);

/* The tenant's issuer for the public URL: {public_url}/t/{name}. Caller frees. */
char *ts_tenant_issuer(const char *public_url, const char *name);
/* Validates a tenant name: [a-z0-9-]{1,63}. */
bool ts_tenant_name_ok(const char *name);

/* ---- compatibility profiles (profile.c) ---- */
/* Profile bits of struct ts_tenant's compat. */
#define TS_COMPAT_FRAPPE (1u << 0)
#define TS_COMPAT_ACTIVITY (1u << 1)
#define TS_COMPAT_INTEGRATIONS (1u << 2)
/* With the frappe profile on, access tokens live this long unless the
 * tenant sets access_token_ttl (Frappe's own default). */
#define TS_COMPAT_FRAPPE_ACCESS_TTL 3600
/* The bit of a profile name, or 0 if there is no such profile. */
unsigned ts_compat_bit(const char *name);
/* The profile bits of a configuration's "compat" array (unknown names are
 * skipped: the configuration was validated when it was written). */
unsigned ts_compat_bits(const json_t *compat);
/* The access-token lifetime of a configuration that sets none. */
int64_t ts_compat_default_access_ttl(const json_t *cfg);
#define TS_COMPAT_NONE "none" /* the CLI's word for "no profile" */

/* The mobile login method's path under /api/method/ when the tenant names
 * none. */
#define TS_COMPAT_MOBILE_LOGIN_DEFAULT "ashida.ashida_gaxis.api.mobile_auth.mobile_app_login"

#endif
