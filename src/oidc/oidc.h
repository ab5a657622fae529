/* oidc.h: discovery documents (OpenID Connect Discovery 1.0 §4, RFC 8414)
 * and the JWKS endpoint (RFC 7517 §5). */
#ifndef TS_OIDC_H
#define TS_OIDC_H

#include "app/app.h"

/* {issuer}/.well-known/openid-configuration and
 * {issuer}/.well-known/oauth-authorization-server. */
void ts_oidc_discovery(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
/* {issuer}/oauth2/jwks */
void ts_oidc_jwks(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);

/* ---- browser sessions (session.c) ---- */
#define TS_SESSION_COOKIE "tessera_session"
#define TS_BROWSER_COOKIE "tessera_browser"
#define TS_SESSION_IDLE_S (30 * TS_SECONDS_PER_MINUTE)
#define TS_SESSION_ABSOLUTE_S (12 * TS_SECONDS_PER_HOUR)
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

/* ---- HTML pages (page.c) ---- */
/* Starts a page: the common head with the tenant's display name, and the
 * security headers (CSP with frame-ancestors 'none', X-Frame-Options DENY,
 * Referrer-Policy no-referrer, no-store). */
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

/* The claims of a user for a granted scope (OpenID Connect Core §5.4):
 * sub always; profile: name, preferred_username, updated_at; email: email.
 * New reference owned by the caller. */
json_t *ts_oidc_user_claims(const struct ts_user_rec *u, const char *scope);

/* Route handlers (ctx is a struct ts_rctx *). */
void ts_oidc_login(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
void ts_oidc_consent(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
void ts_oidc_logout(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
void ts_oidc_userinfo(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);

#endif
