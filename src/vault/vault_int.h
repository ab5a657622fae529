/* vault_int.h: private to src/vault: the vault context, a provider loaded
 * for use, the tokens a provider gives, and the functions the vault's
 * files share: sealing (vault.c), upstream HTTP (upstream.c), the OAuth 2.0
 * and Shopee protocols (oauth2.c, shopee_glue.c), refreshing under the
 * lease (refresh.c) and the scheduler (scheduler.c). Nothing outside
 * src/vault includes it. */
#ifndef TS_VAULT_INT_H
#define TS_VAULT_INT_H

#include "vault.h"

#include <stdatomic.h>
#include <pthread.h>

#define TS_VAULT_LEASE_S 60          /* longer than any upstream exchange can take */
#define TS_VAULT_LEASE_WAIT_MS 5000  /* how long a request waits for another refresher */
#define TS_VAULT_MANUAL_MIN_S 3      /* a token this fresh is not refreshed again on request */
#define TS_VAULT_STATE_TTL 600       /* an authorization link lives 10 minutes */
#define TS_VAULT_STATE_BYTES 32
#define TS_VAULT_STATE_MAX 64        /* longest state accepted back, base64url of the bytes */
#define TS_VAULT_URL_MAX 16384       /* an authorization or return URL */
#define TS_VAULT_CALLBACK_PATH "/connect/callback" /* under the issuer */
#define TS_VAULT_LEASE_ID_MAX 32
#define TS_VAULT_PENDING_KIND "vault.connect"
#define TS_VAULT_SHOPEE_REFRESH_LIFETIME (30 * TS_SECONDS_PER_DAY)
#define TS_VAULT_TOKEN_MAX 16384
#define TS_VAULT_NAME_MAX 128
#define TS_VAULT_DUE_BATCH 100

/* Tunables, read from the environment at ts_vault_new. */
struct ts_vault_settings {
	int64_t tick_ms;         /* scheduler period */
	int64_t backoff_base_ms; /* first retry delay after a failed refresh */
	int64_t backoff_max_ms;  /* retry delay cap */
	int64_t http_timeout_ms; /* total time of one upstream request */
	int64_t warn_s;          /* announce a refresh token's end this long before */
};

struct ts_vault {
	struct ts_store *store;      /* borrowed */
	struct ts_master_key *mks;   /* owned copies, wiped at free; mks[0] seals */
	size_t nmk;
	struct ts_audit *audit;      /* borrowed, or NULL */
	struct ts_metrics *metrics;  /* borrowed, or NULL */
	const char *actor;           /* static */
	struct ts_vault_settings set;
	/* the scheduler thread */
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;          /* guards stop */
	pthread_cond_t cv;           /* signalled to stop */
	bool stop;
	atomic_bool halt;         /* set at shutdown: outbound calls in flight end */
};

enum ts_vault_kind {
	TS_VAULT_OAUTH2 = 0,
	TS_VAULT_SHOPEE,
};

/* A provider loaded for use: its stored settings and its opened secret.
 * The const char * members are borrowed from cfg. */
struct ts_vault_provider {
	char *tenant_id;
	char *name;
	enum ts_vault_kind kind;
	json_t *cfg;                 /* owned */
	char *secret;                /* owned, wiped when freed; NULL: none */
	/* oauth2 */
	const char *authorize_url;   /* NULL for SMART (discovered) and client credentials */
	const char *token_url;       /* NULL for SMART (discovered) */
	const char *revoke_url;      /* or NULL */
	const char *client_id;
	const char *auth_method;     /* client_secret_basic | client_secret_post | none */
	const char *fhir_base_url;   /* SMART on FHIR, or NULL */
	bool pkce;
	bool client_credentials;     /* grant "client_credentials" */
	int64_t token_lifetime;      /* used when the provider sends no expires_in */
	/* shopee */
	int64_t partner_id;
	const char *base_url;
};
/* Loads tenant_id's provider name and opens its secret with any of the
 * master keys. TS_ENOTFOUND, TS_ESTORE, TS_ECRYPTO (the secret cannot be
 * opened: wrong key or a record copied elsewhere). *out: caller frees. */
int ts_vault_provider_load(struct ts_vault *v, const char *tenant_id, const char *name,
			   struct ts_vault_provider **out);
void ts_vault_provider_free(struct ts_vault_provider *p);
/* The AAD that binds a provider's sealed secret: tenant id, provider name
 * and field ("client_secret" or "partner_key"). Caller frees. */
char *ts_vault_provider_aad(const char *tenant_id, const char *name, const char *field);
/* "client_secret" or "partner_key" by kind text. Static. */
const char *ts_vault_secret_field(const char *kind);

/* What a provider's token endpoint gave. */
struct ts_vault_tokens {
	char *access_token;         /* owned, wiped when cleared */
	char *refresh_token;        /* owned, wiped; NULL: none given (keep the old one) */
	int64_t expires_in;         /* seconds; 0: not given */
	int64_t refresh_expires_in; /* seconds; 0: not given */
	json_t *info;               /* owned: non-secret fields for the metadata, or NULL */
};
void ts_vault_tokens_clear(struct ts_vault_tokens *t);

/* ---- vault.c: sealing, audit, metrics ---- */
/* Seals value for field of connection conn_id of tenant_id under mks[0]
 * (AAD "tessera:vault:<tenant>:<connection>:<field>"). *out: caller frees. */
int ts_vault_seal(struct ts_vault *v, const char *tenant_id, const char *conn_id,
		  const char *field, const char *value, char **out);
/* Opens what ts_vault_seal made. *out: caller frees with ts_free_secret.
 * TS_ECRYPTO for a value copied from elsewhere or tampered with,
 * TS_ENOTFOUND when no configured master key has its key id. */
int ts_vault_unseal(struct ts_vault *v, const char *tenant_id, const char *conn_id,
		    const char *field, const char *sealed, char **out);
/* The same with an explicit AAD. */
int ts_vault_unseal_aad(struct ts_vault *v, const char *aad, const char *sealed, char **out);
/* Records an audit event (detail, which may be NULL, is stolen). */
void ts_vault_audit(struct ts_vault *v, const char *tenant, const char *type, const char *actor,
		    const char *subject, json_t *detail);
/* Counts a refresh outcome ("ok", "error", "needs_reauth") for /metrics. */
void ts_vault_count(struct ts_vault *v, const char *tenant, const char *result);
/* A random id for a lease holder (base64url, NUL-terminated). */
void ts_vault_lease_id(char out[TS_VAULT_LEASE_ID_MAX]);
/* Whether s is 1..max printable bytes (no control characters). */
bool ts_vault_printable(const char *s, size_t max);

/* ---- errtext.c: a provider's error text, scrubbed ---- */
/* Appends at most max bytes of text to out, with every one of the nsecrets
 * secrets (values under 4 bytes are ignored) and every run of 16 or more
 * token characters holding a digit replaced by "[redacted]", and bytes
 * outside printable ASCII by '?'; "..." marks a cut. */
void ts_vault_scrub(const char *text, size_t max, const char *const *secrets, size_t nsecrets,
		    struct ts_buf *out);
/* Writes "<who> answered <code> (HTTP <status>): <description>" into err
 * (capacity cap) for logs, last_error and audit: the code (or NULL) and the
 * description (or NULL) scrubbed as ts_vault_scrub does and bounded. Never
 * for an API caller, who gets a generic sentence. */
void ts_vault_error_text(char *err, size_t cap, const char *who, const char *code,
			 const char *desc, long status, const char *const *secrets,
			 size_t nsecrets);

/* ---- upstream.c: HTTP to providers (libcurl) ---- */
#define TS_UPSTREAM_BODY_MAX (256 * 1024)
struct ts_upstream_req {
	const char *method;       /* "GET" or "POST" */
	const char *url;
	const char *content_type; /* of body, or NULL */
	const char *body;         /* or NULL */
	size_t body_len;
	const char *basic_user;   /* HTTP Basic (RFC 6749 §2.3.1 encoding applied), or NULL */
	const char *basic_pass;
	int64_t timeout_ms;
	const atomic_bool *cancel; /* when it turns true the call ends at once, or NULL */
};
struct ts_upstream_resp {
	long status;              /* HTTP status */
	char *body;               /* owned, NUL-terminated; wiped when cleared */
	size_t len;
	char *content_type;       /* owned, lowercased media type, or NULL */
};
/* Sends one request; redirects are never followed, the answer is capped at
 * TS_UPSTREAM_BODY_MAX. TS_OK: *out holds whatever status came back.
 * TS_EINVAL: the URL is not allowed. TS_EIO: no answer (refused, timed
 * out, TLS, too large); err (capacity cap) says why, without secrets. */
int ts_upstream_fetch(const struct ts_upstream_req *rq, struct ts_upstream_resp *out, char *err,
		      size_t cap);
void ts_upstream_resp_clear(struct ts_upstream_resp *r);

/* ---- oauth2.c: OAuth 2.0 providers ---- */
/* The endpoints to use for a connection: the provider's, or for SMART on
 * FHIR those discovered at connect time and kept in the connection's
 * metadata ("smart"). Borrowed from p or meta. */
void ts_vault_oauth2_endpoints(const struct ts_vault_provider *p, const json_t *meta,
			       const char **authorize, const char **token, const char **revoke);
/* SMART App Launch: GET {fhir_base_url}/.well-known/smart-configuration.
 * *out (new reference): {authorization_endpoint, token_endpoint,
 * revocation_endpoint?}, each an allowed URL. */
int ts_vault_smart_discover(struct ts_vault *v, const struct ts_vault_provider *p, json_t **out,
			    char *err, size_t cap);
/* Whether a token response member is one provider_data keeps (an
 * allow-list: scope, token_type and the profiles' known members). */
bool ts_vault_kept_member(const char *name);
/* Appends the authorization request URL (RFC 6749 §4.1.1, RFC 7636 §4.3
 * with S256 when challenge is not NULL; SMART: aud and launch). */
int ts_vault_oauth2_authorize_url(const struct ts_vault_provider *p, const char *endpoint,
				  const char *redirect_uri, const char *state,
				  const char *challenge, const char *launch, struct ts_buf *out);
/* Token requests. TS_OK: *t filled. TS_EDENIED: the provider refused the
 * grant (invalid_grant: the code or refresh token is no good). TS_EIO:
 * anything else (network, 5xx, other errors); err says what. */
int ts_vault_oauth2_exchange(struct ts_vault *v, const struct ts_vault_provider *p,
			     const char *token_url, const char *code, const char *redirect_uri,
			     const char *verifier, struct ts_vault_tokens *t, char *err, size_t cap);
int ts_vault_oauth2_refresh(struct ts_vault *v, const struct ts_vault_provider *p,
			    const char *token_url, const char *refresh_token,
			    struct ts_vault_tokens *t, char *err, size_t cap);
int ts_vault_oauth2_client_credentials(struct ts_vault *v, const struct ts_vault_provider *p,
				       struct ts_vault_tokens *t, char *err, size_t cap);
/* RFC 7009 revocation of token (hint "refresh_token" or "access_token").
 * TS_OK when the provider answered 200. */
int ts_vault_oauth2_revoke(struct ts_vault *v, const struct ts_vault_provider *p,
			   const char *revoke_url, const char *token, const char *hint, char *err,
			   size_t cap);

/* ---- shopee_glue.c: Shopee Open Platform v2 through shopee.h ---- */
/* The signed auth_partner link with redirect. */
int ts_vault_shopee_auth_url(const struct ts_vault_provider *p, const char *redirect,
			     struct ts_buf *out);
/* Token from the redirect's code with shop_id or main_account_id; t->info
 * gets shop_id / main_account_id and the shop and merchant id lists. */
int ts_vault_shopee_exchange(struct ts_vault *v, const struct ts_vault_provider *p,
			     const char *code, const char *shop_id, const char *main_account_id,
			     struct ts_vault_tokens *t, char *err, size_t cap);
/* Refresh with the connection's shop or merchant (from meta). */
int ts_vault_shopee_refresh(struct ts_vault *v, const struct ts_vault_provider *p,
			    const json_t *meta, const char *refresh_token,
			    struct ts_vault_tokens *t, char *err, size_t cap);
/* The signed common parameters for path (POST .../sign), a shop or
 * merchant API path (public paths are refused). shop_id or merchant_id
 * (may be NULL) pick one of the connection's own; otherwise the path
 * decides (merchant APIs, else shop) and the connection's first id is
 * used. NULL with err on a bad request. */
json_t *ts_vault_shopee_sign(const struct ts_vault_provider *p, const json_t *meta,
			     const char *access_token, const char *path, const char *shop_id,
			     const char *merchant_id, char *err, size_t cap);

/* ---- api.c helpers shared with the other API files ---- */
struct ts_http_req;
struct ts_http_resp;
struct ts_principal;
struct ts_rctx;
/* Loads the route's connection if the principal may see it; otherwise
 * answers 404 (or 503) itself. */
int ts_vault_load_visible(const struct ts_rctx *rc, struct ts_http_req *req,
			  struct ts_http_resp *resp, const struct ts_principal *p,
			  struct ts_connection_rec **out);
/* A person never acts on a client-credentials provider's connection: it
 * is the tenant's. Answers 403 (or 503) itself. */
int ts_vault_person_may_use(const struct ts_rctx *rc, struct ts_http_resp *resp,
			    const struct ts_principal *p, const struct ts_connection_rec *c);

/* ---- refresh.c: tokens under the lease ---- */
enum ts_vault_why {
	TS_VAULT_SCHEDULED, /* the scheduler: only when next_refresh_at has come */
	TS_VAULT_ON_DEMAND, /* POST .../token, bootstrap: when inside the refresh window */
};
/* Takes the lease of a connection, waiting up to wait_ms for another
 * holder. owner receives the lease id. TS_OK, TS_ECONFLICT (still held),
 * TS_ENOTFOUND, TS_ESTORE. */
int ts_vault_lease(struct ts_vault *v, const char *tenant_id, const char *id, int64_t wait_ms,
		   char owner[TS_VAULT_LEASE_ID_MAX]);
/* Refreshes (or, for client credentials, fetches) the connection's token
 * under its lease when why says it is time. TS_OK: *out (caller frees) is
 * the connection afterwards, whatever the provider said (check status,
 * expires_at, last_error). TS_ECONFLICT: someone else holds the lease.
 * TS_ENOTFOUND, TS_ESTORE. */
int ts_vault_refresh(struct ts_vault *v, const char *tenant_id, const char *id,
		     enum ts_vault_why why, const char *actor, struct ts_connection_rec **out);
/* Makes *c (replaced in place) hold a valid access token, refreshing it
 * first when it is inside its refresh window, waiting briefly for another
 * refresher (handout.c). TS_OK with *token (caller frees with
 * ts_free_secret); TS_EINVAL if the connection is pending or needs_reauth
 * (see (*c)->status), TS_EIO if its token expired and could not be
 * refreshed, TS_ENOTFOUND if it is gone, TS_ESTORE, TS_ECRYPTO. */
int ts_vault_fresh_token(struct ts_vault *v, const char *actor, struct ts_connection_rec **c,
			 char **token);
/* Whether c waits for its authorization callback (nothing to refresh). */
bool ts_vault_awaits_callback(const struct ts_connection_rec *c);
/* ts_vault_refresh for an operator's request that saw the connection as
 * seen: refreshes whatever the schedule says, unless the connection waits
 * for its callback or needs_reauth, or another refresher wrote an outcome
 * since seen was read (then *out is that outcome, and the provider is not
 * asked again). */
int ts_vault_refresh_manual(struct ts_vault *v, const struct ts_connection_rec *seen,
			    const char *actor, struct ts_connection_rec **out);
/* Stores freshly obtained tokens in c (sealed under mks[0]): status
 * active, lifetimes, schedule, failures cleared, info merged into the
 * metadata's "provider_data". */
int ts_vault_store_tokens(struct ts_vault *v, struct ts_connection_rec *c,
			  const struct ts_vault_provider *p, const struct ts_vault_tokens *t,
			  int64_t now);
/* Fetches the token of a client-credentials or Shopee/OAuth refresh for c
 * (dispatch by provider kind; refresh_token may be NULL). */
int ts_vault_fetch(struct ts_vault *v, const struct ts_vault_provider *p,
		   const struct ts_connection_rec *c, const char *refresh_token,
		   struct ts_vault_tokens *t, char *err, size_t cap);

/* ---- api.c: who may do what (also used by connect.c) ---- */
struct ts_principal;
struct ts_rctx;
/* Authenticates the request and checks that the principal holds scope
 * (whatever the credential). TS_OK: *p is filled (the caller calls
 * ts_principal_clear); otherwise resp holds the answer. */
int ts_vault_principal(const struct ts_rctx *rc, struct ts_http_req *req,
		       struct ts_http_resp *resp, const char *scope, struct ts_principal *p);
/* Whether p may act on c: a service on every connection of the tenant, a
 * user only on the ones it owns. */
bool ts_vault_may_access(const struct ts_principal *p, const struct ts_connection_rec *c);

/* ---- scheduler.c ---- */
/* One pass: refreshes every due connection (used by the thread). */
void ts_vault_tick(struct ts_vault *v);

/* The SHA-256 hex of a connect state: how it is stored (connect.c). */
void ts_vault_state_hash(const char *state, char out[2 * TS_SHA256_LEN + 1]);

#endif
