/* oauth.h: the OAuth 2.0 endpoints of a tenant: token (RFC 6749 §3.2),
 * introspection (RFC 7662) and revocation (RFC 7009), with client
 * authentication (RFC 6749 §2.3) and access tokens as JWTs (RFC 9068). */
#ifndef TS_OAUTH_H
#define TS_OAUTH_H

#include "app/app.h"

#define TS_P_GRANT_TYPE "grant_type"
#define TS_P_CLIENT_ID "client_id"
#define TS_P_CLIENT_SECRET "client_secret"
#define TS_P_SCOPE "scope"
#define TS_P_RESOURCE "resource"
#define TS_P_TOKEN "token"
#define TS_P_TOKEN_TYPE_HINT "token_type_hint"
#define TS_GRANT_CLIENT_CREDENTIALS_S "client_credentials"
#define TS_SCOPE_MAX 2048
#define TS_SCOPES_MAX 64

/* A client-facing OAuth error (RFC 6749 §5.2): data, rendered by
 * ts_oauth_err_send. desc is a static string or NULL. */
struct ts_oauth_err {
	int status;
	const char *code;
	const char *desc;
	bool basic_challenge; /* add WWW-Authenticate: Basic (client auth by header) */
};
void ts_oauth_err_send(const struct ts_rctx *rc, struct ts_http_resp *resp,
		       const struct ts_oauth_err *e);
/* Sets Cache-Control: no-store and Pragma: no-cache (RFC 6749 §5.1). */
void ts_oauth_no_store(struct ts_http_resp *resp);

/* Authenticates the client of a token, introspection or revocation request
 * (client_secret_basic or client_secret_post; "none" for public clients
 * when allow_public). Exactly one method may be used. On TS_OK *out is the
 * client (borrowed from the snapshot). On TS_EDENIED err is filled. */
int ts_oauth_client_auth(const struct ts_rctx *rc, const struct ts_http_req *req,
			 bool allow_public, const struct ts_client **out, struct ts_oauth_err *err);

/* Rejects a request with a repeated OAuth parameter (RFC 6749 §3.1), except
 * names listed in multi (NULL-terminated). Returns false and fills err. */
bool ts_oauth_params_unique(const struct ts_param *v, size_t n, const char *const *multi,
			    struct ts_oauth_err *err);

/* A verified access token of this tenant. */
struct ts_access_token {
	json_t *claims;  /* owned */
	const char *jti; /* borrowed from claims */
	const char *client_id;
	int64_t exp;
};
/* Verifies a JWT access token issued by this tenant: signature with one of
 * its keys (algorithm pinned to the key), typ at+jwt, iss, exp. Revocation
 * is checked in storage: TS_ESTORE if it cannot be. TS_EDENIED if the token
 * is not a valid, active token of this tenant. */
int ts_oauth_access_token_check(const struct ts_rctx *rc, const char *token,
				struct ts_access_token *out);
void ts_access_token_clear(struct ts_access_token *t);

/* Route handlers (ctx is a struct ts_rctx *). */
void ts_oauth_token(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
void ts_oauth_introspect(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
void ts_oauth_revoke(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);

#endif
