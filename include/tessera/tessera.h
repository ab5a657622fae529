/* tessera.h: libtessera, the C library for resource servers that accept
 * Tessera credentials.
 *
 * A verifier turns the three credentials of a Tessera tenant into one
 * principal:
 *   - "Authorization: Bearer <JWT access token>": checked locally against
 *     the tenant's JWKS (fetched through discovery and cached; an unknown
 *     kid triggers at most one refetch per interval). The algorithm comes
 *     from the key, never from the token; typ, iss, aud, exp and nbf are
 *     checked with a small leeway; crit, embedded keys and oversized tokens
 *     are refused.
 *   - "Authorization: token <key>:<secret>" or "Basic base64(key:secret)":
 *     an API key, resolved through the tenant's introspection endpoint and
 *     cached for a short time.
 *   - the "tessera_session" cookie (or the one named by
 *     alt_session_cookie, such as Frappe's "sid"): resolved the same way;
 *     for methods that change state the X-CSRF-Token header must match the
 *     session's token, and a request from another site may not use it
 *     (tessera_verify_request with origin and sec_fetch_site).
 *
 * A token client obtains service tokens with client credentials, caches
 * them, renews them at 80% of their lifetime, fetches once however many
 * threads ask, and is safe to share between threads.
 *
 * Every function returns TESSERA_OK (0) or a negative TESSERA_E* code.
 * Objects returned through out-parameters are owned by the caller and
 * released with the matching _free function (NULL is a no-op). All objects
 * are safe to use from many threads at once unless stated otherwise.
 * When memory runs out a function returns TESSERA_ENOMEM (the library
 * never aborts its host process). The library writes the reasons Tessera
 * could not be reached to stderr as JSON lines (never a credential). See
 * docs/LIBTESSERA.md. */
#ifndef TESSERA_H
#define TESSERA_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define TESSERA_API __attribute__((visibility("default")))
#else
#define TESSERA_API
#endif

#define TESSERA_OK 0
#define TESSERA_EINVAL (-1)       /* bad arguments or configuration */
#define TESSERA_EDENIED (-2)      /* the credential is refused (see the error) */
#define TESSERA_EUNAVAILABLE (-3) /* Tessera could not be reached or answered 5xx */
#define TESSERA_ENOMEM (-4)       /* memory ran out (the error says 503) */

/* How the principal authenticated. */
enum tessera_auth {
	TESSERA_AUTH_BEARER = 1,
	TESSERA_AUTH_API_KEY,
	TESSERA_AUTH_SESSION,
	TESSERA_AUTH_DPOP,  /* a DPoP-bound access token with its proof (RFC 9449) */
};

/* Who is calling. Every member is owned by the principal. */
struct tessera_principal {
	enum tessera_auth auth;
	int is_user;        /* 1: a person; 0: a service (client credentials) */
	char *tenant;       /* the tenant's name when Tessera said it, else NULL */
	char *sub;          /* stable user UUID, or the service's client_id */
	char *username;     /* users: their username (NULL if unknown) */
	char *client_id;    /* Bearer: the token's client; else NULL */
	char **scopes;      /* Bearer: the token's scopes; API key and session: the
			     * tenant's person scopes (see has_scope) */
	size_t nscopes;
	char **roles;       /* users: their roles (from Tessera) */
	size_t nroles;
};

/* Why a credential was refused, ready to send back (RFC 6750 §3):
 *   401 "unauthorized"      no credential (or an ended session); the
 *                           challenge is just Bearer realm="<issuer>"
 *   401 "invalid_token"     a bad, expired or revoked token or API key
 *   400 "invalid_request"   a malformed Authorization or Cookie header
 *   403 "csrf_failed"       a session without the right X-CSRF-Token
 *   403 "cross_site_request" a session cookie sent by another site
 *   403 "insufficient_scope" from tessera_error_insufficient_scope
 *   503 "temporarily_unavailable"  Tessera could not be reached
 * All strings are NUL-terminated and need no escaping in a header. */
struct tessera_error {
	int status;                 /* 401, 403, 400 or 503 */
	char error[64];             /* "invalid_token", "invalid_request", "insufficient_scope", ... */
	char description[256];
	char www_authenticate[512]; /* the WWW-Authenticate header value, or "" (403, 503) */
};

/* Strings are copied. A member left 0 takes its default; a negative one is
 * TESSERA_EINVAL. Without client_id and client_secret (both or neither),
 * API keys are refused, the session cookie is ignored and users' Bearer
 * tokens come without roles. */
struct tessera_verifier_config {
	const char *issuer;        /* required: the tenant's issuer URL (http or https) */
	const char *audience;      /* required aud of Bearer tokens; NULL: the issuer */
	const char *client_id;     /* this resource server's confidential client, for */
	const char *client_secret; /*   introspection of API keys, sessions and users' tokens */
	int jwks_min_refresh_s;    /* least time between JWKS refetches for an unknown kid (default 30) */
	int jwks_max_age_s;        /* JWKS (and discovery) refetched after this (default 300); while
				    * Tessera is unreachable the old set serves this long again */
	int introspection_cache_s; /* API keys, sessions and users' roles are re-checked after this
				    * (default 10); refusals are cached as long */
	int leeway_s;              /* clock leeway for exp/nbf/iat (default 60) */
	long http_timeout_ms;      /* per request to Tessera (default 5000) */
	/* Another cookie name that carries a Tessera session id, for clients
	 * that know the session by another name (a tenant with the "frappe"
	 * profile calls it "sid"); NULL: only "tessera_session". When both
	 * are sent, "tessera_session" is used. Letters, digits, '_' and '-',
	 * at most 64 bytes. */
	const char *alt_session_cookie;
};

typedef struct tessera_verifier tessera_verifier;

/* Creates a verifier. Discovery is fetched lazily, on first use, so a
 * resource server can start before Tessera. TESSERA_EINVAL for a missing
 * issuer. */
TESSERA_API int tessera_verifier_new(const struct tessera_verifier_config *cfg,
				     tessera_verifier **out);
TESSERA_API void tessera_verifier_free(tessera_verifier *v);

/* Checks the credential of one request. authorization and cookie are the
 * raw header values (either may be NULL; an empty Authorization counts as
 * none); method is the HTTP method, case-sensitive (NULL counts as
 * state-changing) and csrf the X-CSRF-Token header (may be NULL). A Bearer
 * or API-key credential wins over the cookie. On TESSERA_OK *out is a new
 * principal. On TESSERA_EDENIED or TESSERA_EUNAVAILABLE err (if not NULL)
 * says why; TESSERA_EINVAL for a NULL v or out. Blocks only while Tessera
 * is asked (first use, JWKS refresh, uncached API keys and sessions), at
 * most http_timeout_ms per request. */
TESSERA_API int tessera_verify(tessera_verifier *v, const char *authorization,
			       const char *cookie, const char *method, const char *csrf,
			       struct tessera_principal **out, struct tessera_error *err);
TESSERA_API void tessera_principal_free(struct tessera_principal *p);

/* One request's credentials, for tessera_verify_request. Strings are the
 * raw header values (NULL when absent) and are only read during the call. */
struct tessera_request {
	const char *method;        /* the HTTP method, case-sensitive (NULL: state-changing) */
	const char *uri;           /* the absolute URI clients address this request at,
				    * "https://api.example.com/tasks?x=1" (the public one,
				    * behind a proxy); query and fragment are ignored.
				    * Needed for DPoP, and its origin is where the session
				    * cookie may also be used from; may be NULL otherwise */
	const char *authorization; /* Authorization */
	const char *dpop;          /* DPoP: the proof (RFC 9449 §4) */
	const char *cookie;        /* Cookie */
	const char *csrf;          /* X-CSRF-Token */
	const char *origin;        /* Origin (RFC 6454 §7) */
	const char *sec_fetch_site; /* Sec-Fetch-Site (Fetch Metadata) */
};

/* tessera_verify for a whole request, which also takes DPoP-bound access
 * tokens (RFC 9449 §7): "Authorization: DPoP <token>" with a "DPoP" proof
 * whose htm is method, whose htu is uri (without query and fragment),
 * whose iat is at most 60 s old and at most 5 s ahead, whose ath is the
 * token's hash and whose key is the one the token is bound to (cnf.jkt).
 * A proof is accepted once: its jti is remembered by this verifier, in
 * memory, until its iat leaves the window (a bounded table: when it is
 * full of live proofs the answer is 503, never an early eviction). A
 * bound token presented as Bearer is refused. DPoP refusals are 401 with
 * a "WWW-Authenticate: DPoP" challenge (error "invalid_dpop_proof" or
 * "invalid_token"). The principal's auth is TESSERA_AUTH_DPOP.
 * The session cookie is refused (403 "cross_site_request") when the
 * browser marks the request cross-site (sec_fetch_site "cross-site") or
 * names an Origin other than the issuer's or, when uri is given, this
 * server's own: another site's page may not act with a person's session,
 * whatever cookies its request carries. Otherwise as tessera_verify,
 * which is this function without uri, dpop, origin and sec_fetch_site. */
TESSERA_API int tessera_verify_request(tessera_verifier *v, const struct tessera_request *req,
				       struct tessera_principal **out, struct tessera_error *err);

/* Scope check: true (1) when the principal's scopes contain scope or a
 * scope that includes it (the tenant's definitions, from discovery), for
 * every credential. A Bearer token holds its own scope. An API key or a
 * session is the person acting directly, with their roles: it holds the
 * tenant's person scopes, every scope that a client with a person's grant
 * (authorization code, password, device code) may be given, as Tessera's
 * introspection reports them; never a scope only services are allowed. */
TESSERA_API int tessera_principal_has_scope(tessera_verifier *v,
					    const struct tessera_principal *p,
					    const char *scope);
/* Role check: 1 when the principal holds role. */
TESSERA_API int tessera_principal_has_role(const struct tessera_principal *p, const char *role);
/* Fills err with a 403 insufficient_scope answer for scope. */
TESSERA_API void tessera_error_insufficient_scope(tessera_verifier *v, const char *scope,
						  struct tessera_error *err);

typedef struct tessera_token_client tessera_token_client;

/* A client-credentials token source for issuer's token endpoint (found by
 * discovery on first use). scope may be NULL (the client's allowed scopes).
 * Strings are copied. TESSERA_EINVAL for a missing or non-http(s) issuer
 * or client_id, or a NULL client_secret. */
TESSERA_API int tessera_token_client_new(const char *issuer, const char *client_id,
					 const char *client_secret, const char *scope,
					 tessera_token_client **out);
TESSERA_API void tessera_token_client_free(tessera_token_client *c);
/* A valid access token, as a new string the caller frees with free().
 * Cached; renewed at 80% of its lifetime by the first caller that needs
 * it while the others wait for that one fetch (or keep using the cached
 * token while it is still valid). If the renewal fails, the cached token
 * is used until shortly before it expires. On failure err says why, with
 * status 503 (what the caller's own clients should get):
 * TESSERA_EUNAVAILABLE when Tessera could not be reached, TESSERA_EDENIED
 * when it refused this client (err->error is its OAuth error, such as
 * "invalid_client"). Threads that waited for a failed fetch share its
 * answer rather than each asking again. */
TESSERA_API int tessera_token_client_get(tessera_token_client *c, char **token,
					 struct tessera_error *err);

#ifdef __cplusplus
}
#endif

#endif
