/* session.c: browser sessions (server-side, the cookie holds a random id
 * whose SHA-256 is stored), tenant-scoped cookies, and CSRF tokens derived
 * with HMAC so that none needs storing. */
#include "web.h"

#include "store/store_people.h"
#include "store/store_state.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#define BROWSER_ID_BYTES 24

/* The path part of the issuer: cookies of one tenant never reach another. */
static const char *cookie_path(const struct ts_rctx *rc, struct ts_arena *a)
{
	const char *p = strstr(rc->issuer, "://");
	const char *slash = p ? strchr(p + 3, '/') : NULL;

	return slash ? ts_arena_strdup(a, slash) : "/";
}

void ts_cookie_set(const struct ts_rctx *rc, struct ts_http_resp *resp, const char *name,
		   const char *value, int64_t max_age)
{
	bool secure = strcmp(rc->app->scheme, "https") == 0;
	char age[48] = "";
	const char *v;

	if (max_age >= 0)
		snprintf(age, sizeof(age), "; Max-Age=%lld", (long long)max_age);
	v = ts_arena_printf(resp->arena, "%s=%s; Path=%s%s; HttpOnly; SameSite=Lax%s", name, value,
			    cookie_path(rc, resp->arena), age, secure ? "; Secure" : "");
	/* Several cookies may be set on one response: libmicrohttpd sends
	 * every header added, so add instead of replacing. */
	if (resp->nheaders < TS_HTTP_MAX_RESP_HEADERS) {
		resp->headers[resp->nheaders].name = "Set-Cookie";
		resp->headers[resp->nheaders].value = v;
		resp->nheaders++;
	}
}

#define H_ORIGIN "Origin"             /* RFC 6454 §7 */
#define H_FETCH_SITE "Sec-Fetch-Site" /* Fetch Metadata Request Headers */
#define CROSS_SITE "cross-site"

/* The origin (scheme "://" host [":" port]) of url, as an arena string. */
static const char *origin_of(struct ts_arena *a, const char *url)
{
	const char *host = strstr(url, "://");
	const char *end = host ? strchr(host + 3, '/') : NULL;

	return end ? ts_arena_strndup(a, url, (size_t)(end - url)) : url;
}

bool ts_web_same_site(const struct ts_rctx *rc, struct ts_http_req *req)
{
	const char *origin = ts_http_header(req, H_ORIGIN);
	const char *site = ts_http_header(req, H_FETCH_SITE);

	if (site != NULL && strcmp(site, CROSS_SITE) == 0)
		return false;
	return origin == NULL || strcmp(origin, origin_of(req->arena, rc->issuer)) == 0 ||
	       ts_tenant_allows_origin(rc->tenant, origin);
}

void ts_page_cross_site(const struct ts_rctx *rc, struct ts_http_resp *resp)
{
	ts_page_error(rc, resp, 403, "Request refused",
		      "This form was sent from another site. Please start again from the application.");
}

static void hash_id(const char *raw, char out[2 * TS_SHA256_LEN + 1])
{
	ts_sha256_hex(raw, strlen(raw), out);
}

int ts_session_load(const struct ts_rctx *rc, struct ts_http_req *req, const char *raw,
		    struct ts_session_rec **sess, struct ts_user_rec **user, const char **raw_id)
{
	int r;

	*sess = NULL;
	*user = NULL;
	*raw_id = NULL;
	if (raw == NULL)
		raw = ts_http_cookie(req, TS_SESSION_COOKIE);
	r = ts_session_resolve(rc->app->store, rc->tenant->id, raw, ts_now(), sess, user);
	if (r == TS_OK)
		*raw_id = ts_arena_strdup(req->arena, raw);
	return r;
}

int ts_session_start(const struct ts_rctx *rc, struct ts_http_req *req, struct ts_http_resp *resp,
		     const struct ts_user_rec *user, int64_t auth_time, const char **raw_id)
{
	const char *old = ts_http_cookie(req, TS_SESSION_COOKIE);
	char raw[64], h[2 * TS_SHA256_LEN + 1];
	struct ts_session_rec s;
	int64_t now = ts_now();
	int r;

	/* Regenerate at login: an id planted before login is never promoted. */
	if (old && strlen(old) <= 128) {
		hash_id(old, h);
		r = ts_store_session_delete(rc->app->store, h);
		if (r != TS_OK && r != TS_ENOTFOUND)
			return r;
	}
	r = ts_rand_token(raw, sizeof(raw), TS_SESSION_ID_BYTES);
	if (r != TS_OK)
		return r;
	hash_id(raw, h);
	memset(&s, 0, sizeof(s));
	s.id_hash = h;
	s.tenant_id = rc->tenant->id;
	s.user_id = user->id;
	s.auth_time = auth_time;
	s.last_seen = now;
	s.expires_at = now + TS_SESSION_ABSOLUTE_S;
	r = ts_store_session_put(rc->app->store, &s);
	if (r != TS_OK)
		return r;
	ts_cookie_set(rc, resp, TS_SESSION_COOKIE, raw, -1);
	ts_known_device_set(rc, resp, user->username);
	*raw_id = ts_arena_strdup(req->arena, raw);
	OPENSSL_cleanse(raw, sizeof(raw));
	return TS_OK;
}

int ts_session_end(const struct ts_rctx *rc, struct ts_http_req *req, struct ts_http_resp *resp)
{
	const char *raw = ts_http_cookie(req, TS_SESSION_COOKIE);
	char h[2 * TS_SHA256_LEN + 1];
	int r = TS_OK;

	if (raw && strlen(raw) <= 128) {
		hash_id(raw, h);
		r = ts_store_session_delete(rc->app->store, h);
		if (r == TS_ENOTFOUND)
			r = TS_OK;
	}
	ts_cookie_set(rc, resp, TS_SESSION_COOKIE, "", 0);
	return r;
}

const char *ts_browser_id(const struct ts_rctx *rc, struct ts_http_req *req,
			  struct ts_http_resp *resp)
{
	const char *v = ts_http_cookie(req, TS_BROWSER_COOKIE);
	char raw[48];

	if (v && strlen(v) >= 16 && strlen(v) <= 64)
		return v;
	if (ts_rand_token(raw, sizeof(raw), BROWSER_ID_BYTES) != TS_OK)
		return NULL;
	ts_cookie_set(rc, resp, TS_BROWSER_COOKIE, raw, -1);
	return ts_arena_strdup(req->arena, raw);
}

void ts_csrf_token(const struct ts_app *app, const char *purpose, const char *binding,
		   char out[44])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	struct ts_buf b;

	/* A NUL separates purpose from binding, so no pair can collide. */
	ts_buf_init(&b, 4096);
	ts_buf_appends(&b, purpose);
	ts_buf_append(&b, "", 1);
	ts_buf_appends(&b, binding ? binding : "");
	HMAC(EVP_sha256(), app->csrf_key, sizeof(app->csrf_key), (const unsigned char *)b.p, b.len,
	     mac, &maclen);
	ts_b64url_encode(mac, maclen, out, 44);
	ts_buf_clear(&b);
}

bool ts_csrf_ok(const struct ts_app *app, const char *purpose, const char *binding,
		const char *presented)
{
	char want[44];

	if (presented == NULL || binding == NULL)
		return false;
	ts_csrf_token(app, purpose, binding, want);
	return ts_ct_equal(want, strlen(want), presented, strlen(presented));
}

void ts_session_csrf_token(const struct ts_app *app, const char *session_id, char out[44])
{
	ts_csrf_token(app, TS_CSRF_API, session_id, out);
}
