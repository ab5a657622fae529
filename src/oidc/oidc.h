/* oidc.h: discovery documents (OpenID Connect Discovery 1.0 §4, RFC 8414)
 * and the JWKS endpoint (RFC 7517 §5). */
#ifndef TS_OIDC_H
#define TS_OIDC_H

#include "web/web.h"

/* {issuer}/.well-known/openid-configuration and
 * {issuer}/.well-known/oauth-authorization-server. */
void ts_oidc_discovery(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
/* {issuer}/oauth2/jwks */
void ts_oidc_jwks(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);

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
