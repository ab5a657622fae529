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

/* Route handlers (ctx is a struct ts_rctx *). */
void ts_oidc_login(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
void ts_oidc_consent(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
void ts_oidc_logout(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
void ts_oidc_userinfo(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);

#endif
