/* redirect_uri.c: redirect URI comparison (RFC 6749 §3.1.2.3, RFC 9700
 * §4.1.3): byte-exact, with the one exception of RFC 8252 §7.3: for a
 * loopback IP literal with http the port may differ. */
#include "oauth.h"

#include <string.h>

const char *ts_redirect_uri_match(const struct ts_client *c, const char *uri)
{
	size_t i, he = 0, rhe;
	const char *rest = NULL, *rrest;
	enum ts_loopback kind;

	/* Registration refuses these; a record stored before it did is
	 * still never used. */
	if (uri == NULL || ts_redirect_scheme_refused(uri))
		return NULL;
	/* A loopback URI whose port cannot be one is no redirect target, even
	 * if a client registered it. */
	kind = ts_redirect_loopback(uri, &he, &rest);
	if (kind == TS_BAD_PORT)
		return NULL;
	for (i = 0; i < c->nredirect_uris; i++)
		if (strcmp(c->redirect_uris[i], uri) == 0)
			return c->redirect_uris[i];
	if (kind != TS_LOOPBACK)
		return NULL;
	for (i = 0; i < c->nredirect_uris; i++) {
		const char *reg = c->redirect_uris[i];
		if (ts_redirect_loopback(reg, &rhe, &rrest) == TS_LOOPBACK && rhe == he &&
		    strncmp(reg, uri, he) == 0 &&
		    strcmp(rest, rrest) == 0)
			return reg;
	}
	return NULL;
}
