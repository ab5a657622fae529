/* params.h: the names of OAuth 2.0 and OpenID Connect parameters (RFC 6749
 * §4, RFC 7636 §4, RFC 7009 §2.1, RFC 7662 §2.1, RFC 7523 §2.2, RFC 8628
 * §3, RFC 8707 §2, OpenID Connect Core §3.1.2.1) and the error codes an
 * answer carries (RFC 6749 §4.1.2.1, §5.2; RFC 6750 §3.1; RFC 8628 §3.5;
 * RFC 8707 §2; OpenID Connect Core §3.1.2.6). Here, below every handler,
 * because the HTTP layer answers with these codes too. */
#ifndef TS_HTTP_PARAMS_H
#define TS_HTTP_PARAMS_H

/* ---- parameter names ---- */
#define TS_P_ACCESS_TOKEN "access_token"
#define TS_P_CLIENT_ASSERTION "client_assertion"
#define TS_P_CLIENT_ASSERTION_TYPE "client_assertion_type"
#define TS_P_CLIENT_ID "client_id"
#define TS_P_CLIENT_SECRET "client_secret"
#define TS_P_CODE "code"
#define TS_P_CODE_CHALLENGE "code_challenge"
#define TS_P_CODE_CHALLENGE_METHOD "code_challenge_method"
#define TS_P_DPOP_JKT "dpop_jkt"
#define TS_P_CODE_VERIFIER "code_verifier"
#define TS_P_DEVICE_CODE "device_code"
#define TS_P_ERROR "error"
#define TS_P_ERROR_DESCRIPTION "error_description"
#define TS_P_GRANT_TYPE "grant_type"
#define TS_P_ID_TOKEN_HINT "id_token_hint"
#define TS_P_ISS "iss"
#define TS_P_MAX_AGE "max_age"
#define TS_P_NONCE "nonce"
#define TS_P_PASSWORD "password"
#define TS_P_POST_LOGOUT_REDIRECT_URI "post_logout_redirect_uri"
#define TS_P_PROMPT "prompt"
#define TS_P_REDIRECT_URI "redirect_uri"
#define TS_P_REFRESH_TOKEN "refresh_token"
#define TS_P_REQUEST "request"
#define TS_P_REQUEST_URI "request_uri"
#define TS_P_RESOURCE "resource"
#define TS_P_RESPONSE_MODE "response_mode"
#define TS_P_RESPONSE_TYPE "response_type"
#define TS_P_SCOPE "scope"
#define TS_P_STATE "state"
#define TS_P_TOKEN "token"
#define TS_P_TOKEN_TYPE_HINT "token_type_hint"
#define TS_P_USER_CODE "user_code"
#define TS_P_USERNAME "username"
/* RFC 8693 §2.1: token exchange */
#define TS_P_ACTOR_TOKEN "actor_token"
#define TS_P_ACTOR_TOKEN_TYPE "actor_token_type"
#define TS_P_AUDIENCE "audience"
#define TS_P_REQUESTED_TOKEN_TYPE "requested_token_type"
#define TS_P_SUBJECT_TOKEN "subject_token"
#define TS_P_SUBJECT_TOKEN_TYPE "subject_token_type"

/* ---- grant_type values (RFC 6749 §4, RFC 8628 §3.4) ---- */
#define TS_GRANT_AUTHORIZATION_CODE_S "authorization_code"
#define TS_GRANT_CLIENT_CREDENTIALS_S "client_credentials"
#define TS_GRANT_DEVICE_CODE_S "urn:ietf:params:oauth:grant-type:device_code"
#define TS_GRANT_PASSWORD_S "password"
#define TS_GRANT_REFRESH_TOKEN_S "refresh_token"
/* RFC 8693 §2.1 */
#define TS_GRANT_TOKEN_EXCHANGE_S "urn:ietf:params:oauth:grant-type:token-exchange"
/* RFC 8693 §3: token type identifiers */
#define TS_TOKEN_TYPE_ACCESS_TOKEN "urn:ietf:params:oauth:token-type:access_token"

/* ---- error codes ---- */
#define TS_ERR_ACCESS_DENIED "access_denied"
#define TS_ERR_AUTHORIZATION_PENDING "authorization_pending"
#define TS_ERR_CONSENT_REQUIRED "consent_required"
#define TS_ERR_EXPIRED_TOKEN "expired_token"
#define TS_ERR_INSUFFICIENT_SCOPE "insufficient_scope"
#define TS_ERR_INVALID_CLIENT "invalid_client"
#define TS_ERR_INVALID_GRANT "invalid_grant"
#define TS_ERR_INVALID_REQUEST "invalid_request"
#define TS_ERR_INVALID_SCOPE "invalid_scope"
#define TS_ERR_INVALID_TARGET "invalid_target"
#define TS_ERR_INVALID_TOKEN "invalid_token"
#define TS_ERR_LOGIN_REQUIRED "login_required"
#define TS_ERR_SERVER_ERROR "server_error"
#define TS_ERR_SLOW_DOWN "slow_down"
#define TS_ERR_TEMPORARILY_UNAVAILABLE "temporarily_unavailable"
#define TS_ERR_UNAUTHORIZED_CLIENT "unauthorized_client"
#define TS_ERR_UNSUPPORTED_GRANT_TYPE "unsupported_grant_type"
#define TS_ERR_UNSUPPORTED_RESPONSE_TYPE "unsupported_response_type"
#define TS_ERR_INVALID_DPOP_PROOF "invalid_dpop_proof" /* RFC 9449 §5, §7.1 */
#define TS_ERR_USE_DPOP_NONCE "use_dpop_nonce"         /* RFC 9449 §8, §9 */
#define TS_ERR_UNSUPPORTED_TOKEN_TYPE "unsupported_token_type" /* RFC 8693 §2.2.2 */

#endif
