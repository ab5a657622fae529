/* redirect_uri.c: redirect URI comparison (RFC 6749 §3.1.2.3, RFC 9700
 * §4.1.3): byte-exact, with the one exception of RFC 8252 §7.3: for a
 * loopback IP literal with http the port may differ. */
#include "oauth.h"

#include "wire/ascii.h"

#include <string.h>

/* Splits "http://127.0.0.1:PORT/rest" into the part before the port and the
 * part after it. Returns false unless uri is http on a loopback literal. */
static bool loopback_parts(const char *uri, size_t *host_end, const char **rest)
{
	static const char *const prefixes[] = {"http://127.0.0.1", "http://[::1]"};
	size_t i;

	for (i = 0; i < TS_ARRAY_LEN(prefixes); i++) {
		size_t pl = strlen(prefixes[i]);
		const char *p;
		if (strncmp(uri, prefixes[i], pl) != 0)
			continue;
		p = uri + pl;
		if (*p == ':') {
			p++;
			if (!ts_is_digit((unsigned char)*p))
				return false;
			while (ts_is_digit((unsigned char)*p))
				p++;
		}
		if (*p != '/' && *p != '\0' && *p != '?')
			return false;
		*host_end = pl;
		*rest = p;
		return true;
	}
	return false;
}

const char *ts_redirect_uri_match(const struct ts_client *c, const char *uri)
{
	size_t i, he, rhe;
	const char *rest, *rrest;

	/* Registration refuses these; a record stored before it did is
	 * still never used. */
	if (uri == NULL || ts_redirect_scheme_refused(uri))
		return NULL;
	for (i = 0; i < c->nredirect_uris; i++)
		if (strcmp(c->redirect_uris[i], uri) == 0)
			return c->redirect_uris[i];
	if (!loopback_parts(uri, &he, &rest))
		return NULL;
	for (i = 0; i < c->nredirect_uris; i++) {
		const char *reg = c->redirect_uris[i];
		if (loopback_parts(reg, &rhe, &rrest) && rhe == he && strncmp(reg, uri, he) == 0 &&
		    strcmp(rest, rrest) == 0)
			return reg;
	}
	return NULL;
}
