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

void ts_api_cross_site(struct ts_http_resp *resp)
{
	ts_http_resp_error(resp, 403, "cross_site_request",
			   "a request from another site may not set or use the session cookie");
	ts_http_resp_header(resp, "Cache-Control", "no-store");
}
