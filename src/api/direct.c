/* direct.c: what a person acting directly (an API key or a browser
 * session) may do. Such a credential is the user, with the user's roles;
 * it is never more than the user could be given through a client of the
 * tenant. So it holds exactly the scopes that a client with a person's
 * grant (authorization code, password, device code) may request: a scope
 * that only services are allowed is never a person's. And the session
 * cookie is set and used only by requests from the issuer's own origin or
 * an allowed client origin, and never by one the browser marks cross-site
 * (login CSRF: another site's form must not sign a browser in, nor act
 * with its session). */
#include "api.h"

#include "oauth/oauth.h"

#include <stdlib.h>
#include <string.h>

#define H_ORIGIN "Origin"                /* RFC 6454 §7 */
#define H_FETCH_SITE "Sec-Fetch-Site"    /* Fetch Metadata Request Headers */
#define CROSS_SITE "cross-site"

/* The origin (scheme "://" host [":" port]) of url, as an arena string. */
static const char *origin_of(struct ts_arena *a, const char *url)
{
	const char *host = strstr(url, "://");
	const char *end = host ? strchr(host + 3, '/') : NULL;

	return end ? ts_arena_strndup(a, url, (size_t)(end - url)) : url;
}

bool ts_api_same_site(const struct ts_rctx *rc, struct ts_http_req *req)
{
	const char *origin = ts_http_header(req, H_ORIGIN);
	const char *site = ts_http_header(req, H_FETCH_SITE);

	/* Fetch Metadata: a browser says cross-site for another site's form,
	 * link or script, whatever Origin it names; an allowed client origin
	 * on another site reaches the API with a token, never the cookie. */
	if (site != NULL && strcmp(site, CROSS_SITE) == 0)
		return false;
	return origin == NULL || strcmp(origin, origin_of(req->arena, rc->issuer)) == 0 ||
	       ts_tenant_allows_origin(rc->tenant, origin);
}

void ts_api_cross_site(struct ts_http_resp *resp)
{
	ts_http_resp_error(resp, 403, "cross_site_request",
			   "a request from another site may not set or use the session cookie");
	ts_http_resp_header(resp, "Cache-Control", "no-store");
}
