/* fuzz_redirect_uri.c: libFuzzer target for redirect URI matching
 * (oauth/redirect_uri.c; RFC 6749 §3.1.2.3 exact match, RFC 8252 §7.3 any
 * port for an http loopback literal). The input is lines: the registered
 * URIs, then the URI of the request. The checks: the answer is NULL or one
 * of the registered URIs; a refused scheme never matches, nor does an http
 * loopback literal whose port is not a port (1-65535, at most five
 * digits); any other registered URI matches itself; a match that is not
 * byte-exact is an http loopback literal that differs only in its port. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oauth/oauth.h"
#include "tenant/tenant.h"

#define MAX_REGISTERED 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The length of the "http://127.0.0.1" or "http://[::1]" that s starts
 * with, or 0. */
static size_t loopback_prefix(const char *s)
{
	static const char *const prefixes[] = {"http://127.0.0.1", "http://[::1]"};
	size_t i;

	for (i = 0; i < TS_ARRAY_LEN(prefixes); i++)
		if (strncmp(s, prefixes[i], strlen(prefixes[i])) == 0)
			return strlen(prefixes[i]);
	return 0;
}

/* s after its optional ":digits" port at offset at. */
static const char *after_port(const char *s, size_t at)
{
	s += at;
	if (*s == ':') {
		s++;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return s;
}

/* An http loopback literal with a ":" after the host and no real port
 * after it. */
static bool bad_loopback_port(const char *s)
{
	size_t pl = loopback_prefix(s), n = 0;
	long port = 0;

	if (pl == 0 || s[pl] != ':')
		return false;
	for (s += pl + 1; *s >= '0' && *s <= '9'; s++, n++)
		if (n < 5)
			port = port * 10 + (*s - '0');
	return n == 0 || n > 5 || port < 1 || port > 65535 ||
	       (*s != '/' && *s != '\0' && *s != '?');
}

static void check_loose(const char *reg, const char *uri)
{
	size_t pl = loopback_prefix(uri);

	if (pl == 0 || loopback_prefix(reg) != pl || strncmp(reg, uri, pl) != 0)
		abort();
	if (strcmp(after_port(reg, pl), after_port(uri, pl)) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *lines[MAX_REGISTERED + 1], *p;
	struct ts_client c;
	const char *m;
	size_t n = 0, i;

	memcpy(text, data, size);
	text[size] = '\0';
	for (p = text; n < TS_ARRAY_LEN(lines); n++) {
		char *nl = strchr(p, '\n');
		lines[n] = p;
		if (nl == NULL) {
			n++;
			break;
		}
		*nl = '\0';
		p = nl + 1;
	}
	memset(&c, 0, sizeof(c));
	c.redirect_uris = lines;
	c.nredirect_uris = n - 1;
	m = ts_redirect_uri_match(&c, lines[n - 1]);
	if (m != NULL) {
		for (i = 0; i < c.nredirect_uris && m != lines[i]; i++)
			;
		if (i == c.nredirect_uris || ts_redirect_scheme_refused(lines[n - 1]) ||
		    bad_loopback_port(lines[n - 1]))
			abort();
		if (strcmp(m, lines[n - 1]) != 0)
			check_loose(m, lines[n - 1]);
	}
	for (i = 0; i < c.nredirect_uris; i++)
		if (!ts_redirect_scheme_refused(lines[i]) && !bad_loopback_port(lines[i]) &&
		    ts_redirect_uri_match(&c, lines[i]) == NULL)
			abort();
	free(text);
	return 0;
}
