/* redirect_uri.c: redirect URI comparison (RFC 6749 §3.1.2.3, RFC 9700
 * §4.1.3): byte-exact, with the one exception of RFC 8252 §7.3: for a
 * loopback IP literal with http the port may differ. */
#include "oauth.h"

#include "wire/ascii.h"

#include <string.h>

/* RFC 8252 §7.3 lets a loopback port vary, as a real port: RFC 3986
 * §3.2.3 digits, at most five of them, naming 1-65535. */
#define PORT_DIGITS_MAX 5
#define PORT_MAX 65535

/* What loopback_parts finds. */
enum loopback {
	NOT_LOOPBACK, /* not http on a loopback IP literal */
	LOOPBACK,     /* one, with no port or a valid one */
	BAD_PORT,     /* one whose port cannot be a port */
};

/* Splits "http://127.0.0.1:PORT/rest" into the part before the port and the
 * part after it. */
static enum loopback loopback_parts(const char *uri, size_t *host_end, const char **rest)
{
	static const char *const prefixes[] = {"http://127.0.0.1", "http://[::1]"};
	size_t i, n;

	for (i = 0; i < TS_ARRAY_LEN(prefixes); i++) {
		size_t pl = strlen(prefixes[i]);
		const char *p;
		long port = 0;
		if (strncmp(uri, prefixes[i], pl) != 0)
			continue;
		p = uri + pl;
		if (*p == ':') {
			for (p++, n = 0; ts_is_digit((unsigned char)*p); p++, n++)
				if (n < PORT_DIGITS_MAX)
					port = port * 10 + (*p - '0');
			if (n == 0 || n > PORT_DIGITS_MAX || port < 1 || port > PORT_MAX ||
			    (*p != '/' && *p != '\0' && *p != '?'))
				return BAD_PORT;
		} else if (*p != '/' && *p != '\0' && *p != '?') {
			return NOT_LOOPBACK;
		}
		*host_end = pl;
		*rest = p;
		return LOOPBACK;
	}
	return NOT_LOOPBACK;
}

const char *ts_redirect_uri_match(const struct ts_client *c, const char *uri)
{
	size_t i, he = 0, rhe;
	const char *rest = NULL, *rrest;
	enum loopback kind;

	/* Registration refuses these; a record stored before it did is
	 * still never used. */
	if (uri == NULL || ts_redirect_scheme_refused(uri))
		return NULL;
	/* A loopback URI whose port cannot be one is no redirect target, even
	 * if a client registered it. */
	kind = loopback_parts(uri, &he, &rest);
	if (kind == BAD_PORT)
		return NULL;
	for (i = 0; i < c->nredirect_uris; i++)
		if (strcmp(c->redirect_uris[i], uri) == 0)
			return c->redirect_uris[i];
	if (kind != LOOPBACK)
		return NULL;
	for (i = 0; i < c->nredirect_uris; i++) {
		const char *reg = c->redirect_uris[i];
		if (loopback_parts(reg, &rhe, &rrest) == LOOPBACK && rhe == he &&
		    strncmp(reg, uri, he) == 0 &&
		    strcmp(rest, rrest) == 0)
			return reg;
	}
	return NULL;
}
