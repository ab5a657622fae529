/* internal.h: what the files of libtessera share. Not installed: the public
 * API is include/tessera/tessera.h. Everything declared here is hidden in
 * the shared library (-fvisibility=hidden); the unit tests link the same
 * sources statically and reach it directly, including the test hooks at
 * the end (an injected JWKS, discovery document, clocks and fetcher). */
#ifndef TS_LIB_INTERNAL_H
#define TS_LIB_INTERNAL_H

#include "tessera/tessera.h"

#include "core/core.h"
#include "jose/jose.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* ---- limits and protocol names ---- */
#define TS_LIB_AUTH_MAX (TS_JWS_MAX + 256) /* bytes of an Authorization header */
#define TS_LIB_COOKIE_MAX 32768            /* bytes of a Cookie header */
#define TS_LIB_APIKEY_MAX 128              /* bytes of an API key id (as the server) */
#define TS_LIB_APISECRET_MAX 256           /* bytes of an API key secret (as the server) */
#define TS_LIB_SESSION_ID_MIN 16           /* the server's bounds on a session id */
#define TS_LIB_SESSION_ID_MAX 128
#define TS_LIB_HTTP_BODY_MAX (1024 * 1024) /* any response from Tessera */
#define TS_LIB_URL_MAX 2048
#define TS_LIB_SECRET_MAX 1024             /* a configured client secret */
#define TS_LIB_JWKS_KEYS_MAX 64            /* keys kept from one JWKS */
#define TS_LIB_SCOPES_MAX 256              /* scopes taken from one token */
#define TS_LIB_ROLES_MAX 256               /* roles taken from one introspection */
#define TS_LIB_CACHE_ENTRIES 4096          /* introspection results kept */
#define TS_LIB_RETRY_MS 1000               /* least time between failed fetches */
#define TS_LIB_JSON_DEPTH 16               /* nesting accepted in Tessera's answers */

#define TS_LIB_SESSION_COOKIE "tessera_session"
#define TS_LIB_COOKIE_NAME_MAX 64
#define TS_LIB_WELL_KNOWN "/.well-known/openid-configuration"
#define TS_LIB_TYP_AT_JWT "at+jwt"                    /* RFC 9068 §2.1 */
#define TS_LIB_TYP_AT_JWT_LONG "application/at+jwt"
#define TS_LIB_TT_API_KEY "api_key"                   /* token_type of introspection */
#define TS_LIB_TT_SESSION "session"
#ifndef TS_LIB_VERSION
#define TS_LIB_VERSION "0" /* set by the build */
#endif
#define TS_LIB_USER_AGENT "libtessera/" TS_LIB_VERSION

/* Defaults of struct tessera_verifier_config (a 0 member means these). */
#define TS_LIB_DEF_JWKS_MIN_REFRESH_S 30
#define TS_LIB_DEF_JWKS_MAX_AGE_S 300
#define TS_LIB_DEF_INTROSPECTION_CACHE_S 10
#define TS_LIB_DEF_LEEWAY_S 60
#define TS_LIB_DEF_HTTP_TIMEOUT_MS 5000L

/* ---- header.c: Authorization (RFC 7235 §2.1) and Cookie (RFC 6265 §5.4) ---- */
enum ts_lib_scheme {
	TS_LIB_AUTH_NONE,    /* no header, or an empty one */
	TS_LIB_AUTH_BEARER,  /* RFC 6750 §2.1 */
	TS_LIB_AUTH_APIKEY,  /* "token key:secret" or Basic base64(key:secret) */
	TS_LIB_AUTH_INVALID, /* malformed, or a scheme we do not take */
	TS_LIB_AUTH_DPOP,    /* RFC 9449 §7.1: token set, like Bearer */
};
struct ts_lib_auth {
	enum ts_lib_scheme scheme;
	char *token;      /* Bearer: the token (owned) */
	char *key;        /* API key: the key id (owned) */
	char *secret;     /* API key: the secret (owned, wiped by _clear) */
	const char *why;  /* INVALID: a static description for the client */
};
/* Parses an Authorization header value of len bytes (p need not be
 * NUL-terminated; spaces and tabs around it are dropped) with the shared
 * split of wire/wire.h. Bad input is not a failure: the outcome is
 * out->scheme. Schemes are case-insensitive; Bearer tokens must be RFC 6750
 * b64token; API key ids and secrets are non-empty visible ASCII within the
 * server's bounds. Release with ts_lib_auth_clear. Returns TS_OK, or
 * TS_ENOMEM (out->scheme INVALID) when a copy could not be made. */
int ts_lib_auth_parse(const char *p, size_t len, struct ts_lib_auth *out);
void ts_lib_auth_clear(struct ts_lib_auth *a);
/* Finds cookie name in a Cookie header value of len bytes: pairs separated
 * by ';', optional spaces or tabs around names and values, a value in
 * double quotes is unquoted, the first pair with the name wins. TS_OK with
 * *out a new string (caller frees), TS_ENOTFOUND, or TS_EINVAL for a NUL
 * byte, TS_ETOOBIG past TS_LIB_COOKIE_MAX, TS_ENOMEM. */
int ts_lib_cookie_get(const char *p, size_t len, const char *name, char **out);
/* A session id as the server makes them: base64url, 16 to 128 bytes. */
bool ts_lib_session_id_ok(const char *s);

/* ---- fetch.c: HTTP through libcurl ---- */
/* GET url (form NULL) or POST form (application/x-www-form-urlencoded,
 * len bytes) to url, with client_secret_basic (RFC 6749 §2.3.1) when user
 * is not NULL. Only http and https, no redirects, timeout_ms for the whole
 * exchange, at most TS_LIB_HTTP_BODY_MAX bytes of body. On TS_OK *status is
 * the HTTP status and body holds the response (the caller clears it).
 * TS_EINVAL for a URL that is not http(s), TS_EIO when no answer came,
 * TS_ETOOBIG for an oversized body, TS_ENOMEM if libcurl cannot start or
 * memory runs out. */
int ts_lib_http(const char *url, const char *form, size_t len, const char *user,
		const char *pass, long timeout_ms, long *status, struct ts_buf *body);
/* Appends the application/x-www-form-urlencoded form of s (RFC 3986
 * unreserved characters kept, everything else %XX). */
int ts_lib_form_escape(struct ts_buf *b, const char *s);
/* True for an absolute http:// or https:// URL without spaces or controls. */
bool ts_lib_url_ok(const char *url);
/* Parses a JSON object answered by Tessera (duplicate keys refused, depth
 * capped). New reference or NULL. */
json_t *ts_lib_json_object(const char *p, size_t len);

/* ---- discovery.c: OpenID Connect Discovery 1.0 §4 ---- */
/* What the verifier and the token client need from discovery. Immutable
 * once built, shared between threads by reference count. */
struct ts_lib_meta {
	atomic_int refs;
	char *jwks_uri;               /* owned */
	char *introspection_endpoint; /* owned; NULL if not published */
	char *token_endpoint;         /* owned; NULL if not published */
	json_t *scope_includes;       /* owned; "tessera_scope_includes", an object or NULL */
};
/* Parses a discovery document: "issuer" must equal issuer byte for byte,
 * "jwks_uri" must be an http(s) URL. TS_EINVAL otherwise. */
int ts_lib_meta_parse(const char *issuer, const char *doc, size_t len, struct ts_lib_meta **out);
/* Fetches and parses {issuer}/.well-known/openid-configuration. TS_EIO
 * when Tessera did not answer 200, TS_EINVAL for a bad document. */
int ts_lib_meta_fetch(const char *issuer, long timeout_ms, struct ts_lib_meta **out);
struct ts_lib_meta *ts_lib_meta_ref(struct ts_lib_meta *m);
void ts_lib_meta_unref(struct ts_lib_meta *m); /* NULL is a no-op */
/* Whether granted satisfies needed: equal, or granted's definition lists
 * needed among its includes (one level, as the server). */
bool ts_lib_meta_includes(const struct ts_lib_meta *m, const char *granted, const char *needed);

/* ---- jwks.c: the tenant's keys ---- */
struct ts_lib_keys {
	atomic_int refs;
	size_t n;
	struct ts_jwk **k; /* owned */
};
/* Parses a JWK Set (RFC 7517 §5). Keys that are unusable (no "alg", an
 * unsupported type, "use" other than "sig", a repeated kid) are skipped;
 * TS_EINVAL when the document is not a JWK Set. */
int ts_lib_keys_parse(const char *text, size_t len, struct ts_lib_keys **out);
struct ts_lib_keys *ts_lib_keys_ref(struct ts_lib_keys *ks);
void ts_lib_keys_unref(struct ts_lib_keys *ks); /* NULL is a no-op */
/* The key with kid, borrowed from ks; NULL if none. */
const struct ts_jwk *ts_lib_keys_find(const struct ts_lib_keys *ks, const char *kid);

/* ---- cache.c: introspection results ---- */
/* What Tessera's introspection said about an API key, a session or a
 * user's access token. */
struct ts_lib_intro {
	bool active;
	char *token_type;     /* "api_key", "session", "Bearer"; owned or NULL */
	char *sub, *username, *principal_type, *tenant; /* owned or NULL */
	char *csrf_token;     /* sessions; owned, wiped on free */
	char *scope;          /* API keys and sessions: the person scopes; owned or NULL */
	char **roles;         /* owned */
	size_t nroles;
};
void ts_lib_intro_free(struct ts_lib_intro *r); /* NULL is a no-op */
/* A deep copy; NULL when memory runs out. */
struct ts_lib_intro *ts_lib_intro_dup(const struct ts_lib_intro *r);
/* Reads an introspection answer (a JSON object). TS_EINVAL if it is not one
 * or "active" is not a boolean, TS_ENOMEM. */
int ts_lib_intro_parse(const char *text, size_t len, struct ts_lib_intro **out);

/* A bounded map from SHA-256 digests to introspection results, each kept
 * for ttl_ms; when full the oldest entry goes. Thread-safe. */
struct ts_lib_cache;
/* NULL when memory runs out. */
struct ts_lib_cache *ts_lib_cache_new(size_t max_entries, int64_t ttl_ms);
void ts_lib_cache_free(struct ts_lib_cache *c); /* NULL is a no-op */
/* TS_OK with *out a copy the caller frees, or TS_ENOTFOUND (absent or
 * expired at now_ms), TS_ENOMEM. */
int ts_lib_cache_get(struct ts_lib_cache *c, const unsigned char key[TS_SHA256_LEN],
		     int64_t now_ms, struct ts_lib_intro **out);
/* Stores a copy of r under key, replacing any entry with that key. When
 * memory runs out nothing is stored and an entry with that key expires. */
void ts_lib_cache_put(struct ts_lib_cache *c, const unsigned char key[TS_SHA256_LEN],
		      int64_t now_ms, const struct ts_lib_intro *r);
size_t ts_lib_cache_count(struct ts_lib_cache *c);
/* The cache key of a credential: SHA-256 over kind, a NUL and cred, so each
 * kind ("api_key", "session", "bearer") has its own namespace
 * (introspect.c). TS_OK, or TS_ENOMEM (out untouched). */
int ts_lib_cache_key(const char *kind, const char *cred, unsigned char out[TS_SHA256_LEN]);

/* ---- the verifier (verifier.c, keys.c, bearer.c, introspect.c) ---- */
struct tessera_verifier {
	char *issuer;          /* owned, as configured */
	char *audience;        /* owned; the issuer when not configured */
	char *client_id;       /* owned; NULL: no introspection */
	char *client_secret;   /* owned, wiped on free */
	char *alt_cookie;      /* owned; another session cookie name, or NULL */
	char *realm;           /* owned; the issuer, safe inside a quoted-string */
	int64_t min_refresh_ms, max_age_ms, leeway_s;
	long timeout_ms;
	struct ts_lib_cache *cache;

	pthread_mutex_t lock;      /* guards the members below */
	struct ts_lib_meta *meta;  /* current discovery, or NULL */
	int64_t meta_at;           /* mono ms when it was fetched */
	int64_t meta_failed_at;    /* mono ms of the last failed discovery, or 0 */
	struct ts_lib_keys *keys;  /* current JWKS, or NULL */
	int64_t keys_at;           /* mono ms when it was fetched */
	int64_t keys_tried_at;     /* mono ms of the last fetch attempt */
	int64_t keys_failed_at;    /* mono ms of the last failed fetch, or 0 */
	uint64_t keys_gen;         /* counts successful fetches */
	int64_t intro_failed_at;   /* mono ms of the last failed introspection, or 0 */
	bool keys_pinned;          /* test hook: injected keys, never refetched */
	bool meta_pinned;          /* test hook: injected discovery, never refetched */
	pthread_mutex_t fetch_lock; /* one JWKS fetch in flight; taken before lock */
	pthread_mutex_t meta_lock;  /* one discovery fetch in flight; taken before lock */

	int64_t (*now)(void);      /* wall clock, Unix seconds (test hook) */
	int64_t (*mono_ms)(void);  /* monotonic clock, ms (test hook) */
	struct ts_lib_replay *replay; /* the jtis of DPoP proofs seen (dpop.c) */
	int64_t dpop_past_s;       /* how old a DPoP proof's iat may be */
};

/* The current discovery, fetched when missing or older than the JWKS
 * maximum age (a stale one is kept while Tessera is unreachable). On TS_OK
 * *out is a reference the caller drops. TS_EIO, TS_EINVAL. */
int ts_lib_verifier_meta(struct tessera_verifier *v, struct ts_lib_meta **out);
/* The key for kid: from the cached JWKS, refetched when older than
 * jwks_max_age_s or, for an unknown kid, at most once per
 * jwks_min_refresh_s. On TS_OK *ks is a reference the caller drops and
 * *key is borrowed from it. TS_ENOTFOUND for an unknown kid, TS_EIO when
 * no key set could be had, TS_ENOMEM. */
int ts_lib_verifier_key(struct tessera_verifier *v, const char *kid, struct ts_lib_keys **ks,
			const struct ts_jwk **key);

/* Checks a JWT access token (RFC 9068) and builds its principal; fills
 * err. With dpop NULL (the Bearer scheme) a DPoP-bound token (cnf.jkt) is
 * refused; otherwise the token must be bound and dpop's proof must be by
 * that key, for this request and token (ts_lib_dpop_check). Returns a
 * TESSERA_* code. */
int ts_lib_bearer(struct tessera_verifier *v, const char *token,
		  const struct tessera_request *dpop, struct tessera_principal **out,
		  struct tessera_error *err);

/* ---- DPoP proofs (dpop.c, RFC 9449) ---- */
#define TS_LIB_DPOP_BUCKETS 2048 /* the replay table: buckets of ... */
#define TS_LIB_DPOP_WAYS 8       /* ... this many proofs each */
#define TS_LIB_DPOP_PAST_S 60    /* a proof's iat may be this old (as the server) */
#define TS_LIB_DPOP_FUTURE_S 5   /* and this far ahead */
#define TS_LIB_DPOP_ALGS "ES256 EdDSA RS256 PS256"
struct ts_lib_replay;
struct ts_lib_replay *ts_lib_replay_new(void); /* NULL when memory runs out */
void ts_lib_replay_free(struct ts_lib_replay *r);
/* Checks req->dpop as the proof of this request (method, uri) for token
 * by the key whose RFC 7638 thumbprint is jkt, and records its jti:
 * TESSERA_OK, or a TESSERA_* code with err filled (a replay is
 * invalid_dpop_proof; a replay table full of live proofs is 503). */
int ts_lib_dpop_check(struct tessera_verifier *v, const struct tessera_request *req,
		      const char *token, const char *jkt, struct tessera_error *err);
/* The checks of RFC 9068 §4 on a decoded payload, at wall-clock now:
 * TS_OK, or TS_EDENIED with *why a static description. */
int ts_lib_claims_check(const json_t *claims, const char *issuer, const char *audience,
			int64_t now, int64_t leeway_s, const char **why);

/* Asks Tessera (or the cache) about a credential: kind separates the
 * cache's namespaces ("api_key", "session", "bearer"). TS_OK with *out
 * owned by the caller (active or not), TS_EINVAL when introspection is not
 * configured, TS_EIO when Tessera could not answer, TS_ENOMEM. */
int ts_lib_introspect(struct tessera_verifier *v, const char *kind, const char *cred,
		      struct ts_lib_intro **out);

/* Errors, ready to send (verifier.c). Each fills err when it is not NULL
 * and returns the TESSERA_* code to return. */
int ts_lib_err_missing(const struct tessera_verifier *v, struct tessera_error *err,
		       const char *desc);
int ts_lib_err_token(const struct tessera_verifier *v, struct tessera_error *err,
		     const char *desc);
int ts_lib_err_request(const struct tessera_verifier *v, struct tessera_error *err,
		       const char *desc);
int ts_lib_err_unavailable(struct tessera_error *err, const char *desc);
int ts_lib_err_csrf(struct tessera_error *err);
/* 403 cross_site_request: a session cookie another site sent. */
int ts_lib_err_cross_site(struct tessera_error *err);
/* 401 with an RFC 9449 §7.1 challenge: DPoP realm, algs, error. */
int ts_lib_err_dpop(const struct tessera_verifier *v, struct tessera_error *err,
		    const char *error, const char *desc);
/* Memory ran out: 503, and TESSERA_ENOMEM to return. */
int ts_lib_err_nomem(struct tessera_error *err);

/* A principal with every member NULL/0 except auth; NULL when memory runs
 * out. */
struct tessera_principal *ts_lib_principal_new(enum tessera_auth auth);
/* Copies roles, username, tenant of an introspection into p. TS_OK or
 * TS_ENOMEM (p then holds part of them and frees cleanly). */
int ts_lib_principal_take_intro(struct tessera_principal *p, const struct ts_lib_intro *r);
/* Sets p->scopes (empty before) from a space-separated scope (RFC 6749
 * §3.3), at most TS_LIB_SCOPES_MAX of them; NULL gives none. TS_OK or
 * TS_ENOMEM (as above). */
int ts_lib_principal_scopes(struct tessera_principal *p, const char *scope);

/* ---- token_client.c ---- */
/* What one token request gave: a new token (owned) and its lifetime. */
struct ts_lib_token {
	char *access_token;
	int64_t expires_in_s;
};
/* The fetcher a token client uses: the real one does discovery and the
 * client-credentials request; tests inject their own. Returns a TESSERA_*
 * code and fills err on failure. */
typedef int (*ts_lib_token_fetch_fn)(void *ctx, struct ts_lib_token *out,
				     struct tessera_error *err);

/* ---- test hooks (not public API; hidden in the shared library) ---- */
/* Replaces the verifier's JWKS with jwks (a JWK Set text) and stops it from
 * being fetched. TS_EINVAL for a bad set. */
int ts_lib_verifier_set_keys(struct tessera_verifier *v, const char *jwks);
/* Replaces the verifier's discovery document (text, checked like a fetched
 * one). TS_EINVAL for a bad document. */
int ts_lib_verifier_set_discovery(struct tessera_verifier *v, const char *doc);
/* Replaces the verifier's clocks (either may be NULL to keep it). */
void ts_lib_verifier_set_clocks(struct tessera_verifier *v, int64_t (*now)(void),
				int64_t (*mono_ms)(void));
/* Replaces the token client's fetcher and monotonic clock (ms). */
void ts_lib_token_client_set_fetch(tessera_token_client *c, ts_lib_token_fetch_fn fn,
				   void *ctx);
void ts_lib_token_client_set_clock(tessera_token_client *c, int64_t (*mono_ms)(void));

#endif
