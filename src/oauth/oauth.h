/* oauth.h: the OAuth 2.0 endpoints of a tenant: token (RFC 6749 §3.2),
 * introspection (RFC 7662) and revocation (RFC 7009), with client
 * authentication (RFC 6749 §2.3) and access tokens as JWTs (RFC 9068). */
#ifndef TS_OAUTH_H
#define TS_OAUTH_H

#include "web/web.h"
#include "http/params.h"
#include "proto.h"


/* A client-facing OAuth error (RFC 6749 §5.2): data, rendered by
 * ts_oauth_err_send. desc is a static string or NULL. */
struct ts_oauth_err {
	int status;
	const char *code;
	const char *desc;
	bool basic_challenge; /* add WWW-Authenticate: Basic (client auth by header) */
	int retry_after;      /* > 0: add Retry-After (throttled) */
};
void ts_oauth_err_send(const struct ts_rctx *rc, struct ts_http_resp *resp,
		       const struct ts_oauth_err *e);
/* Fills e with status, code and desc (static strings). */
void ts_oauth_err_set(struct ts_oauth_err *e, int status, const char *code, const char *desc);
/* Fills e with the storage-failure answer: 503 temporarily_unavailable
 * (rendered with Retry-After), as ts_web_store_unavailable answers. */
void ts_oauth_err_unavailable(struct ts_oauth_err *e);
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
 * its keys (algorithm pinned to the key), typ at+jwt, iss, exp, and a
 * client that still exists and is enabled (in the snapshot). Revocation
 * is checked in storage: TS_ESTORE if it cannot be. TS_EDENIED if the token
 * is not a valid, active token of this tenant. Whether its user is still
 * active is the caller's check (it reads the user anyway). */
int ts_oauth_access_token_check(const struct ts_rctx *rc, const char *token,
				struct ts_access_token *out);
void ts_access_token_clear(struct ts_access_token *t);
/* Whether a token's "aud" (a string or an array of strings) contains want. */
bool ts_oauth_aud_has(const json_t *aud, const char *want);

/* ---- DPoP proofs (dpop.c, RFC 9449) ---- */
#define TS_DPOP_HEADER "DPoP"
#define TS_DPOP_NONCE_HEADER "DPoP-Nonce"
#define TS_DPOP_ALGS "ES256 EdDSA RS256 PS256" /* what a proof may be signed with */
#define TS_DPOP_IAT_PAST_S 60   /* a proof's iat may be this old ... */
#define TS_DPOP_IAT_FUTURE_S 5  /* ... or this far ahead (clock skew) */
#define TS_DPOP_NONCE_SLOT_S 300 /* a nonce is accepted for one to two slots */
#define TS_DPOP_JTI_MAX 256
/* Checks the request's DPoP proof (RFC 9449 §4.3): typ, an asymmetric
 * alg, a public jwk that verifies it, htm, htu (against the issuer's
 * public origin and the request path), iat within the window, ath when
 * token is not NULL, the server nonce when nonce_required, and a jti never
 * seen before (recorded in storage). TS_OK with jkt (the key's RFC 7638
 * thumbprint); TS_EDENIED with e set to 400 invalid_dpop_proof or
 * use_dpop_nonce; TS_ESTORE with e set to the storage-failure answer. */
int ts_dpop_verify(const struct ts_rctx *rc, struct ts_http_req *req, const char *token,
		   bool nonce_required, char jkt[44], struct ts_oauth_err *e);
/* s is a JWK SHA-256 thumbprint as dpop_jkt carries it (RFC 9449 §10):
 * 43 base64url characters that decode to 32 bytes. */
bool ts_dpop_jkt_ok(const char *s);
/* The current server nonce of the tenant (arena string of a). */
const char *ts_dpop_nonce(const struct ts_rctx *rc, struct ts_arena *a);
/* The DPoP rules of a protected resource for an access token that passed
 * its checks (claims): a bound token (cnf.jkt) only with the DPoP scheme and
 * a proof for this token by the bound key; an unbound one only without the
 * DPoP scheme. TS_OK, TS_EDENIED (e: 401), TS_ESTORE (e: 503). */
int ts_dpop_resource_check(const struct ts_rctx *rc, struct ts_http_req *req, const char *token,
			   const json_t *claims, struct ts_oauth_err *e);
/* A public client's refresh tokens are bound to the DPoP key of the grant:
 * a pending-state record of this kind under ts_dpop_grant_key (arena
 * string) holds the key's thumbprint. */
#define TS_DPOP_GRANT_KIND "dpop_grant"
/* That key is this prefix followed by the grant id. */
#define TS_DPOP_GRANT_PREFIX TS_DPOP_GRANT_KIND ":"
const char *ts_dpop_grant_key(struct ts_arena *a, const char *grant_id);
/* The refresh-token side of that binding, given the token read with its
 * grant's record (ts_store_refresh_load with TS_DPOP_GRANT_PREFIX): false,
 * with e set, when the grant is bound and the request's proof
 * (rc->dpop_jkt) is missing or by another key. */
struct ts_refresh_load;
bool ts_dpop_refresh_ok(const struct ts_rctx *rc, const struct ts_refresh_load *l,
			struct ts_oauth_err *e);
/* Answers e with an RFC 9449 §7.1 challenge (WWW-Authenticate: DPoP). */
void ts_dpop_challenge(const struct ts_rctx *rc, struct ts_http_resp *resp,
		       const struct ts_oauth_err *e);

/* ---- the authorization endpoint (authorize.c) ---- */
/* A validated authorization request. Strings live in the request arena. */
struct ts_authz_req {
	const char *client_id;
	const char *redirect_uri;   /* where the answer goes */
	bool redirect_uri_sent;     /* the request named it (RFC 6749 §4.1.3: the
				     * token request must then repeat it) */
	const char *scope;          /* granted scope, space-separated */
	const char *state;          /* or NULL */
	const char *nonce;          /* or NULL */
	const char *code_challenge; /* S256, or NULL */
	const char *dpop_jkt;       /* RFC 9449 §10: the DPoP key the code is bound to, or NULL */
	const char *resource_json;  /* JSON array text, or NULL */
	bool prompt_none, prompt_login, prompt_consent;
	int64_t max_age;            /* -1 when absent */
	int64_t created;            /* when the request first arrived */
	int64_t login_at;           /* when the user signed in for it (0: not yet) */
	bool consented;             /* the user approved it on the consent page */
	const char *pending_id;     /* raw id of its pending record, or NULL */
	const char *device_hash;    /* device flow (RFC 8628): the device code's hash; then
				     * redirect_uri is "" and the result is a page */
	bool posted;                /* this request is a form POST: its redirects are
				     * 303 See Other (RFC 9700 §4.12), not 302 */
};
/* Loads a pending request saved while the user signs in or consents.
 * TS_ENOTFOUND if unknown, expired or of another tenant. */
int ts_authz_pending_load(const struct ts_rctx *rc, struct ts_http_req *req, const char *raw_id,
			  struct ts_authz_req *ar);
/* Saves the request as pending (new: sets ar->pending_id). Updating a
 * saved one is a conditional write: TS_ENOTFOUND once it has been used up
 * or has expired, so a used request never comes back. */
int ts_authz_pending_save(const struct ts_rctx *rc, struct ts_http_req *req,
			  struct ts_authz_req *ar);
/* Decides what happens next for a validated request: the login page, the
 * consent page, an error back to the client, or a code back to the client
 * (RFC 6749 §4.1.2 with RFC 9207 iss). session_id is the raw id of a
 * session started on this response, or NULL to use the request's cookie. */
void ts_authz_proceed(struct ts_rctx *rc, struct ts_http_req *req, struct ts_http_resp *resp,
		      struct ts_authz_req *ar, const char *session_id);
/* The page for a pending request that was used up or has expired. */
void ts_authz_used_page(struct ts_rctx *rc, struct ts_http_resp *resp);
/* Redirects an error to the client (RFC 6749 §4.1.2.1). */
void ts_authz_error(struct ts_rctx *rc, struct ts_http_resp *resp, const struct ts_authz_req *ar,
		    const char *code, const char *desc);
/* Validates an authorization request of client c made of v[0..n) into ar
 * (strings borrowed from v and the request arena). pushed: it came through
 * the pushed-request endpoint. TS_OK; TS_EINVAL when the redirect URI is
 * not acceptable (never redirected); TS_EDENIED when the error e may go
 * back to ar's redirect URI. */
int ts_authz_validate(struct ts_rctx *rc, struct ts_http_req *req, const struct ts_client *c,
		      const struct ts_param *v, size_t n, bool pushed, struct ts_authz_req *ar,
		      struct ts_oauth_err *e);

/* ---- dynamic client registration (register.c, RFC 7591, RFC 7592) ---- */
#define TS_REG_TOKEN_CAP 64                  /* an initial access token, with its NUL */
#define TS_REG_TOKEN_TTL_S 86400             /* its default lifetime */
#define TS_REG_TOKEN_TTL_MAX_S (30 * 86400)  /* its longest lifetime */
/* Makes an initial access token of a tenant, valid until expires_at and
 * for one registration: out (capacity cap >= TS_REG_TOKEN_CAP) gets the
 * token, storage only its SHA-256. TS_OK or a storage code. */
int ts_register_token_new(struct ts_store *st, const char *tenant_id, int64_t expires_at,
			  char *out, size_t cap);
/* POST {issuer}/oauth2/register. */
void ts_oauth_register(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
/* GET, PUT and DELETE {issuer}/oauth2/register/{client_id}. */
void ts_oauth_register_manage(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);

/* ---- pushed authorization requests (par.c, RFC 9126) ---- */
/* POST {issuer}/oauth2/par. */
void ts_oauth_par(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
/* Uses up the pushed request named by request_uri for client c, once:
 * true with *v, *n its parameters (in the request arena); false after
 * answering with a page (unknown, expired, used, or another client's). */
bool ts_par_take(struct ts_rctx *rc, struct ts_http_req *req, struct ts_http_resp *resp,
		 const struct ts_client *c, const char *request_uri, const struct ts_param **v,
		 size_t *n);

/* The claims of a user for a granted scope (OpenID Connect Core §5.4):
 * sub always; profile: name, preferred_username, updated_at; email: email.
 * New reference owned by the caller. */
json_t *ts_oauth_user_claims(const struct ts_user_rec *u, const char *scope);

/* ---- issuing tokens (issue.c) ---- */
#define TS_ID_TOKEN_TTL 3600
#define TS_REFRESH_BYTES 32
/* What one successful token request issues. */
struct ts_issue {
	const struct ts_client *client;
	const struct ts_user_rec *user; /* NULL: the client's own token (sub = client_id) */
	const char *scope;              /* granted scope for the access token */
	const char *refresh_scope;      /* scope of a new refresh token (the grant's) */
	const char *const *aud;         /* RFC 8707 audiences; naud == 0: the tenant's */
	size_t naud;
	const char *resource_json;      /* the same as JSON array text, kept with refresh tokens */
	const char *grant_id;           /* NULL for client credentials */
	enum ts_grant_kind kind;
	int64_t auth_time;              /* 0 for none */
	const char *nonce;              /* for the ID token, or NULL */
	bool refresh;                   /* issue a refresh token */
	const char *rotate_from;        /* hash of the refresh token being rotated, or NULL */
	int64_t reuse_grace;            /* the client's refresh_reuse_grace, with rotate_from */
	const char *act_json;           /* RFC 8693 §4.1 act claim (JSON object text), or NULL */
	int64_t exp_max;                /* > 0: the access token expires no later than this */
	const char *issued_token_type;  /* RFC 8693 §2.2.1: answered as issued_token_type
					 * (then no ID token), or NULL */
};
/* Signs the access token (and ID token when the scope has openid and there
 * is a user), stores what must be stored (the jti under the grant, the new
 * refresh token, atomically rotating rotate_from), and sets the token
 * response. On failure fills e (a storage failure is a 503
 * temporarily_unavailable; a refresh token rotated concurrently revokes the
 * grant and is invalid_grant, unless inside reuse_grace its unused
 * successor is replaced instead) and returns an error code. */
int ts_oauth_issue(struct ts_rctx *rc, struct ts_http_req *req, struct ts_http_resp *resp,
		   const struct ts_issue *is, struct ts_oauth_err *e);

/* Whether a token response gets a refresh token: the client lists the
 * grant and, for an OpenID request, offline_access was granted (or, where
 * the tenant answers as Frappe does, every scope the client may have). */
bool ts_oauth_wants_refresh(const struct ts_tenant *t, const struct ts_client *c,
			    const char *scope);
/* Collects the RFC 8707 resource parameters of a token request into
 * is->aud/naud (and is->resource_json when want_json). false, with e set
 * to invalid_target, if one is not an absolute URI without a fragment. */
bool ts_oauth_resources(struct ts_http_req *req, struct ts_issue *is, bool want_json,
			struct ts_oauth_err *e);
/* The JSON array text of RFC 8707 resource parameters into arena strings. */
size_t ts_oauth_aud_from_json(struct ts_arena *a, const char *json, const char ***out);
/* RFC 8707 §2.2 at the token endpoint for a grant authorized earlier (a
 * code, a refresh token, a device code), granted being the JSON array text
 * of the resources it was authorized for (NULL or empty: none). Every
 * resource parameter passes ts_oauth_resource_ok; when the grant names
 * resources, each must be one of them. The access token's is->aud/naud
 * are the resource parameters, or the grant's resources when there are
 * none; is->resource_json stays the grant's, so its refresh tokens keep
 * what was authorized. false, with e set to invalid_target, otherwise. */
bool ts_oauth_resources_within(struct ts_http_req *req, const char *granted, struct ts_issue *is,
			       struct ts_oauth_err *e);

/* ---- device authorization grant (device.c, RFC 8628) ---- */
/* Records the user's decision on a device request (approve: user and
 * auth_time; deny: user NULL), only while it is undecided, by a compare
 * and swap that a concurrent poll cannot undo. TS_ENOTFOUND if unknown or
 * expired, TS_ECONFLICT if it was decided already. */
int ts_device_decide(struct ts_rctx *rc, const char *device_hash, const char *user_id,
		     int64_t auth_time, bool approve);
void ts_oauth_device_authorization(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
void ts_oauth_device_page(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
/* Whether a token request runs on the event loop: its grant is pure
 * computation on the snapshot (client credentials) and it carries no
 * client assertion, whose jti would be recorded. The route table's
 * fact for the token endpoint. */
bool ts_oauth_token_inline(const struct ts_http_req *req);

/* Route handlers (ctx is a struct ts_rctx *). */
void ts_oauth_authorize(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
void ts_oauth_token(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
void ts_oauth_introspect(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
/* Whether an introspection request starts on the event loop: unless it
 * carries a client assertion (whose jti is recorded). It goes on to a
 * blocking thread itself when the answer needs storage. The route table's
 * fact for the introspection endpoint. */
bool ts_oauth_introspect_inline(const struct ts_http_req *req);
void ts_oauth_revoke(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
/* Revocation by whoever holds the token, without client authentication (a
 * token revokes only itself, or a refresh token its grant). */
void ts_oauth_revoke_by_holder(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);

#endif
