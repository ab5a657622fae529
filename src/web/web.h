/* web.h: what every handler of a tenant's endpoints shares, below the
 * handlers themselves: the application state and the request context
 * (struct ts_app, struct ts_rctx), browser sessions and their cookies,
 * CSRF tokens, HTML pages, and the bookkeeping of password attempts. The
 * routes that use them live in oauth/, oidc/, api/, vault/ and compat/;
 * app/ composes them. */
#ifndef TS_WEB_H
#define TS_WEB_H

#include "core/core.h"
#include "http/http.h"
#include "identity/identity.h"
#include "ops/ops.h"
#include "tenant/tenant.h"

struct ts_session_rec;
struct ts_store;
struct ts_user_rec;
struct ts_vault;

/* The application's shared state: built, owned and freed by the running
 * server (app/serve.c); handlers reach it through struct ts_rctx. */
struct ts_app {
	struct ts_store *store;
	struct ts_registry *reg;
	struct ts_metrics *metrics;
	struct ts_audit *audit;
	char *public_url;   /* without trailing slash */
	char *scheme;       /* "http" or "https", from public_url */
	char *origin;       /* scheme://host[:port] of public_url */
	char *base_path;    /* path of public_url ("" or "/prefix") */
	atomic_bool access_log; /* one JSON line per request (SIGHUP may change it) */
	struct ts_throttle *throttle; /* failed password and client checks */
	unsigned char csrf_key[TS_SHA256_LEN]; /* HMAC key for CSRF tokens, derived from the master key */
	struct ts_vault *vault;       /* the token vault (vault/vault.h) */
};

/* What a tenant route handler gets as its ctx. Lives for the request. */
struct ts_rctx {
	struct ts_app *app;
	const struct ts_snapshot *snap;
	const struct ts_tenant *tenant;
	const char *issuer; /* the issuer this request addresses (path or domain form) */
	const char *dpop_jkt; /* the RFC 7638 thumbprint of the key of the request's
			       * checked DPoP proof (token endpoint), or NULL */
};

/* ---- the application's public URL and shared answers (context.c) ---- */
/* Fills the public_url-derived members of app from url. TS_EINVAL if it is
 * not an http or https URL without query or fragment. */
int ts_web_init_urls(struct ts_app *app, const char *url);
void ts_web_clear_urls(struct ts_app *app);
/* Whether iss is one of the tenant's issuers (path form or a domain form). */
bool ts_web_issuer_ok(const struct ts_app *app, const struct ts_tenant *t, const char *iss);
/* The error_description of every storage-failure answer. */
#define TS_STORE_UNAVAILABLE_DESC "storage is unavailable; retry shortly"
/* Sets the 503 answer for a storage failure (RFC 6749 §5.2 has no code for
 * it; temporarily_unavailable with Retry-After is what clients retry on). */
void ts_web_store_unavailable(struct ts_http_resp *resp);

/* ---- browser sessions (session.c) ---- */
#define TS_SESSION_COOKIE "tessera_session"
#define TS_BROWSER_COOKIE "tessera_browser"
/* A browser where a person signed in before (attempt.c). */
#define TS_DEVICE_COOKIE "tessera_device"
#define TS_SESSION_ID_BYTES 32

/* The request's session, if its cookie (or raw, when not NULL: a session
 * just started on this response) names a live session of this tenant
 * whose user exists and is enabled. TS_OK: *sess and *user are owned by the
 * caller; *raw_id (arena) is the cookie value. TS_ENOTFOUND: no valid
 * session. TS_ESTORE: storage failed. */
int ts_session_load(const struct ts_rctx *rc, struct ts_http_req *req, const char *raw,
		    struct ts_session_rec **sess, struct ts_user_rec **user, const char **raw_id);
/* Starts a new session for user (a fresh id: never the one presented),
 * ending the request's previous session if any, and sets the cookie.
 * *raw_id (arena) is the new cookie value. */
int ts_session_start(const struct ts_rctx *rc, struct ts_http_req *req, struct ts_http_resp *resp,
		     const struct ts_user_rec *user, int64_t auth_time, const char **raw_id);
/* Ends the request's session (if any) and clears the cookie. */
int ts_session_end(const struct ts_rctx *rc, struct ts_http_req *req, struct ts_http_resp *resp);
/* Whether a request that sets or relies on the session cookie may: false
 * when its Sec-Fetch-Site is "cross-site" (whatever its Origin), or when
 * its Origin is present and is neither the issuer's origin nor an allowed
 * CORS origin of one of the tenant's clients. A browser marks another
 * site's form, link or script so; a client origin on another site reaches
 * the API with a token, never the cookie. */
bool ts_web_same_site(const struct ts_rctx *rc, struct ts_http_req *req);
/* The page that refuses a form another site sent (403). */
void ts_page_cross_site(const struct ts_rctx *rc, struct ts_http_resp *resp);
/* Sets a cookie scoped to the tenant: Path = the issuer's path (or /),
 * HttpOnly, SameSite=Lax, Secure when the public URL is https. max_age < 0
 * omits Max-Age (a browser-session cookie); 0 deletes it. */
void ts_cookie_set(const struct ts_rctx *rc, struct ts_http_resp *resp, const char *name,
		   const char *value, int64_t max_age);
/* The browser-binding id (cookie TS_BROWSER_COOKIE), created and set if
 * missing. Binds pre-login CSRF tokens to this browser. Arena string. */
const char *ts_browser_id(const struct ts_rctx *rc, struct ts_http_req *req,
			  struct ts_http_resp *resp);
/* CSRF token for a purpose and binding (e.g. "login", browser id + request
 * id): base64url HMAC-SHA256 under the server's CSRF key. out: 44 bytes. */
void ts_csrf_token(const struct ts_app *app, const char *purpose, const char *binding,
		   char out[44]);
bool ts_csrf_ok(const struct ts_app *app, const char *purpose, const char *binding,
		const char *presented);
/* The CSRF purpose of a session's state-changing requests. */
#define TS_CSRF_API "api"
/* The CSRF token of a session (what /api/login returns, and introspection
 * of a session id). out: 44 bytes. */
void ts_session_csrf_token(const struct ts_app *app, const char *session_id, char out[44]);

/* ---- HTML pages (page.c) ---- */
/* The parameters of Tessera's own pages. */
#define TS_P_CSRF_TOKEN "csrf_token" /* the hidden CSRF field of every form */
#define TS_P_REQ "req"               /* the id of a pending authorization request */
#define TS_P_RETURN "return"         /* where the login page goes back to */
#define TS_P_DECISION "decision"     /* the consent page's answer: approve or deny */
/* Starts a page: the common head with the tenant's display name, and the
 * security headers (CSP with frame-ancestors 'none', X-Frame-Options DENY,
 * Referrer-Policy same-origin, no-store). */
void ts_page_begin(const struct ts_rctx *rc, struct ts_http_resp *resp, struct ts_buf *b,
		   const char *title);
/* Finishes the page and sets it as the response body with status. */
void ts_page_end(struct ts_http_resp *resp, struct ts_buf *b, int status);
/* Appends HTML-escaped text. */
void ts_html_escape(struct ts_buf *b, const char *s);
/* A complete error page (never a redirect): for a bad client_id or
 * redirect_uri and other errors that cannot go back to the client. */
void ts_page_error(const struct ts_rctx *rc, struct ts_http_resp *resp, int status,
		   const char *title, const char *message);
/* The error page for a storage failure (503): the browser's counterpart of
 * ts_web_store_unavailable. */
void ts_page_unavailable(const struct ts_rctx *rc, struct ts_http_resp *resp);

/* ---- password attempts (attempt.c) ---- */
/* Every path that checks a password (login page, password grant, API
 * login, mobile login) shares one throttle counter per user (ASCII case
 * folded) and one per client address, one failure metric and one audit
 * event. */
struct ts_pw_attempt {
	const char *ukey; /* throttle key of the username (arena) */
	const char *ikey; /* throttle key of the client address (arena) */
};
/* TS_OK if an attempt may be made now: it is then already counted as a
 * failure under both keys (so parallel attempts cannot pass the limits),
 * until ts_pw_attempt_succeeded takes it back. An attempt that ends in
 * neither call (storage down) stays counted. TS_EDENIED with
 * *retry_after otherwise, and nothing is counted. */
int ts_pw_attempt_begin(const struct ts_rctx *rc, struct ts_http_req *req, const char *username,
			struct ts_pw_attempt *a, int *retry_after);
/* Marks the browser as one where username signed in (a cookie of its own,
 * an HMAC of the tenant, the folded username and a nonce; nothing
 * stored): its later attempts for that username count per browser rather
 * than per client address, so that other people's failures from the same
 * address (a NAT, a proxy) never lock out a person on their own browser.
 * The per-user limit holds for every attempt. */
void ts_known_device_set(const struct ts_rctx *rc, struct ts_http_resp *resp, const char *username);
/* Records a failure. user_id (or NULL), actor (or NULL) and method ("password",
 * "password_grant", "api_login", "mobile_login") go to the audit event. */
void ts_pw_attempt_failed(const struct ts_rctx *rc, const struct ts_pw_attempt *a,
			  const char *user_id, const char *actor, const char *method);
/* Clears the user's failures, takes the attempt back from the address's
 * count and, when needs_rehash, stores a new hash of
 * password with the current parameters (best effort). */
void ts_pw_attempt_succeeded(const struct ts_rctx *rc, const struct ts_pw_attempt *a,
			     struct ts_user_rec *u, const char *password, bool needs_rehash);

#endif
