/* api.h: the identity API under {issuer}/api (sessions, API keys, mobile
 * device login, the principal, groups). Every endpoint resolves one of
 * three credentials to a principal: a Bearer access token, an API key
 * ("token key:secret" or Basic key:secret), or the session cookie (whose
 * state-changing requests also need the X-CSRF-Token header). */
#ifndef TS_API_H
#define TS_API_H

#include "web/web.h"

#define TS_APIKEY_PREFIX "tk_"
#define TS_APIKEY_ID_BYTES 12
#define TS_APIKEY_SECRET_BYTES 32 /* 256 bits */
#define TS_CSRF_HEADER "X-CSRF-Token"
#define TS_SCOPE_APIKEYS_WRITE "apikeys:write" /* a Bearer token that may manage API keys */

enum ts_auth_via {
	TS_VIA_BEARER,
	TS_VIA_API_KEY,
	TS_VIA_SESSION,
};

/* Who is calling. Strings live in the request arena. */
struct ts_principal {
	enum ts_auth_via via;
	bool is_user;            /* a person (else a service: client credentials) */
	const char *sub;         /* user id, or the client_id of a service */
	const char *username;    /* users only */
	const char *client_id;   /* the token's client (Bearer), else NULL */
	const char *scope;       /* Bearer: the token's scope; API key and session:
				  * the person scopes (ts_person_scope) */
	json_t *roles;           /* array of role names (users; owned, see ts_principal_clear) */
	const char *session_id;  /* raw session id (session principals) */
	const char *api_key;     /* the key id (API-key principals) */
};

/* Resolves the request's credential. TS_OK: *p filled (p->roles is a new
 * reference the caller releases with ts_principal_clear). TS_EDENIED: resp
 * holds the 401 answer with an RFC 6750 challenge. TS_ESTORE: resp holds
 * the 503 answer. A session principal on a state-changing method without a
 * valid X-CSRF-Token is TS_EDENIED with 403. */
int ts_api_authenticate(const struct ts_rctx *rc, struct ts_http_req *req,
			struct ts_http_resp *resp, struct ts_principal *p);
void ts_principal_clear(struct ts_principal *p);
/* Whether the principal's scope holds scope (or one that includes it).
 * The same rule for every credential: a Bearer token holds its own scope,
 * an API key or a session the person scopes of the tenant. */
bool ts_principal_has_scope(const struct ts_rctx *rc, const struct ts_principal *p,
			    const char *scope);
bool ts_principal_has_role(const struct ts_principal *p, const char *role);
/* Answers 403 cross_site_request (a request ts_web_same_site refuses). */
void ts_api_cross_site(struct ts_http_resp *resp);
/* The principal as /api/me shows it (new reference). */
json_t *ts_principal_json(const struct ts_rctx *rc, const struct ts_principal *p);

/* Route handlers (ctx is a struct ts_rctx *). */
void ts_api_login(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
void ts_api_logout(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
void ts_api_mobile_login(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
void ts_api_me(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
void ts_api_group_get(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
void ts_api_group_members(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
void ts_api_group_create(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
void ts_api_group_member_add(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
void ts_api_group_member_remove(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
void ts_api_apikey_create(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
void ts_api_apikey_delete(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);

#endif
