/* shopee.h: Shopee Open Platform v2, as pure functions: signatures,
 * authorization links, and the token and refresh requests and responses.
 * No I/O here: the vault sends what these build and hands back what came.
 *
 * sign = lowercase hex HMAC-SHA256, keyed with the partner key, of
 *   partner_id + api_path + timestamp                      (public APIs)
 *   partner_id + api_path + timestamp + access_token + shop_id      (shop APIs)
 *   partner_id + api_path + timestamp + access_token + merchant_id  (merchant APIs)
 * timestamp is Unix seconds (Shopee refuses it after 5 minutes); the common
 * parameters travel in the query string, business parameters of a POST in
 * a JSON body. */
#ifndef TS_VAULT_SHOPEE_H
#define TS_VAULT_SHOPEE_H

#include "core/core.h"

#include <jansson.h>

#define TS_SHOPEE_PATH_AUTH "/api/v2/shop/auth_partner"
#define TS_SHOPEE_PATH_TOKEN "/api/v2/auth/token/get"
#define TS_SHOPEE_PATH_REFRESH "/api/v2/auth/access_token/get"
#define TS_SHOPEE_HOST_LIVE "https://partner.shopeemobile.com"
#define TS_SHOPEE_HOST_SANDBOX "https://partner.test-stable.shopeemobile.com"
#define TS_SHOPEE_HOST_CN "https://openplatform.shopee.cn"
#define TS_SHOPEE_HOST_CN_SANDBOX "https://openplatform.test-stable.shopee.cn"
#define TS_SHOPEE_SIGN_LEN 64

/* Which identity a shop-level or merchant-level call carries. */
enum ts_shopee_scope {
	TS_SHOPEE_PUBLIC = 0, /* no access token */
	TS_SHOPEE_SHOP,       /* access_token + shop_id */
	TS_SHOPEE_MERCHANT,   /* access_token + merchant_id */
};

/* Computes the signature into out (64 hex chars + NUL). access_token and
 * id are required for SHOP and MERCHANT, ignored for PUBLIC. */
int ts_shopee_sign(const char *partner_key, int64_t partner_id, const char *api_path,
		   int64_t timestamp, enum ts_shopee_scope scope, const char *access_token,
		   const char *id, char out[TS_SHOPEE_SIGN_LEN + 1]);

/* The authorization link: {base}/api/v2/shop/auth_partner?partner_id=..&
 * timestamp=..&sign=..&redirect=<redirect, url-encoded>. Appended to out. */
int ts_shopee_auth_url(const char *base_url, int64_t partner_id, const char *partner_key,
		       const char *redirect, int64_t timestamp, struct ts_buf *out);

/* A signed request of a public API: the full URL with the common query
 * parameters (partner_id, timestamp, sign) and the JSON body. */
struct ts_shopee_request {
	char *url;    /* owned */
	json_t *body; /* owned */
};
void ts_shopee_request_clear(struct ts_shopee_request *r);

/* Token: POST {base}/api/v2/auth/token/get with {code, partner_id, shop_id}
 * or {code, partner_id, main_account_id} (exactly one of shop_id and
 * main_account_id, as decimal strings). */
int ts_shopee_token_request(const char *base_url, int64_t partner_id, const char *partner_key,
			    const char *code, const char *shop_id, const char *main_account_id,
			    int64_t timestamp, struct ts_shopee_request *out);
/* Refresh: POST {base}/api/v2/auth/access_token/get with {refresh_token,
 * partner_id, shop_id} or {refresh_token, partner_id, merchant_id}. */
int ts_shopee_refresh_request(const char *base_url, int64_t partner_id, const char *partner_key,
			      const char *refresh_token, const char *shop_id,
			      const char *merchant_id, int64_t timestamp,
			      struct ts_shopee_request *out);

/* What a token or refresh response gave. */
struct ts_shopee_tokens {
	char *access_token;  /* owned */
	char *refresh_token; /* owned */
	int64_t expire_in;   /* seconds */
	json_t *shop_ids;     /* array of shop ids (strings) from shop_id_list, or NULL */
	json_t *merchant_ids; /* array of merchant ids (strings) from merchant_id_list, or NULL */
};
void ts_shopee_tokens_clear(struct ts_shopee_tokens *t);
/* Parses a response body. Shopee answers errors with a non-empty "error"
 * member: then TS_EDENIED when the refresh token or code is refused
 * (error_auth, error_shop_refresh_token, refresh_token_expired,
 * shop_access_expired, invalid_code, invalid_acceess_token, ..., or an
 * error_param whose message names the code or refresh token: the caller
 * marks the connection needs_reauth) or TS_EIO for anything else (error_sign,
 * "Invalid timestamp", error_server, a malformed success, ...); errmsg
 * (capacity cap) receives Shopee's "error" and "message", made printable.
 * Bodies over 64 KiB are TS_ETOOBIG. On failure *out is all zero. */
int ts_shopee_parse_tokens(const char *body, size_t len, struct ts_shopee_tokens *out,
			   char *errmsg, size_t cap);

/* The signed common parameters for calling api_path now, as POST
 * /api/connections/{id}/sign answers: {partner_id, timestamp, sign,
 * access_token, shop_id | merchant_id} (public paths: the first three).
 * New reference. */
json_t *ts_shopee_common_params(int64_t partner_id, const char *partner_key,
				const char *api_path, int64_t timestamp,
				enum ts_shopee_scope scope, const char *access_token,
				const char *id);

/* Whether base_url is acceptable: https on any host, or plain http only on
 * a loopback address (127.0.0.0/8, ::1, localhost). */
bool ts_shopee_base_url_ok(const char *base_url);

#endif
