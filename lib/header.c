/* header.c: the request headers a resource server hands to libtessera.
 * Authorization (RFC 7235 §2.1): Bearer (RFC 6750 §2.1), "token key:secret"
 * and Basic (RFC 7617) carrying an API key. Cookie (RFC 6265 §4.2, parsed
 * leniently as browsers send it, §5.4). Both take (ptr, len) and never
 * trust a NUL. */
#include "internal.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
static bool is_b64token(const char *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = (unsigned char)p[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/')
			i++;
		else
			break;
	}
	if (i == 0)
		return false;
	while (i < len && p[i] == '=')
		i++;
	return i == len;
}

/* Visible ASCII (RFC 5234 VCHAR), no ':' where it would be ambiguous. */
static bool is_vchars(const char *p, size_t len, bool colon_ok)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x21 || c > 0x7e || (!colon_ok && c == ':'))
			return false;
	}
	return true;
}

/* Splits "key:secret" at the first colon into out. */
static bool split_key(const char *p, size_t len, struct ts_lib_auth *out)
{
	const char *colon = memchr(p, ':', len);
	size_t klen, slen;

	if (colon == NULL)
		return false;
	klen = (size_t)(colon - p);
	slen = len - klen - 1;
	if (klen == 0 || slen == 0 || klen > TS_LIB_APIKEY_MAX || slen > TS_LIB_APISECRET_MAX)
		return false;
	if (!is_vchars(p, klen, false) || !is_vchars(colon + 1, slen, true))
		return false;
	out->key = ts_xstrndup(p, klen);
	out->secret = ts_xstrndup(colon + 1, slen);
	return true;
}

static const char *basic(const char *cred, size_t clen, struct ts_lib_auth *out)
{
	/* Decoded base64 is never longer than its text. */
	unsigned char *dec = ts_xmalloc(clen + 1);
	const char *why = NULL;
	size_t dlen = 0;

	if (clen == 0 || ts_b64_decode(cred, clen, dec, clen, &dlen) != TS_OK)
		why = "the Basic credentials are not base64";
	else if (!split_key((const char *)dec, dlen, out))
		why = "the Basic credentials are not an API key and secret";
	else
		out->scheme = TS_LIB_AUTH_APIKEY;
	OPENSSL_cleanse(dec, clen + 1);
	free(dec);
	return why;
}

/* Fills out from the trimmed header; returns NULL, or why it is invalid. */
static const char *parse(const char *p, size_t len, struct ts_lib_auth *out)
{
	const char *sp, *cred;
	size_t slen, clen;

	sp = memchr(p, ' ', len);
	if (sp == NULL)
		return "the Authorization header has no credentials";
	slen = (size_t)(sp - p);
	cred = sp + 1;
	clen = len - slen - 1;
	while (clen && is_ows(*cred)) {
		cred++;
		clen--;
	}
	/* RFC 7235 §2.1: the scheme is case-insensitive. */
	if (slen == 6 && strncasecmp(p, "bearer", 6) == 0) {
		if (!is_b64token(cred, clen))
			return "the Bearer token is malformed";
		out->token = ts_xstrndup(cred, clen);
		out->scheme = TS_LIB_AUTH_BEARER;
		return NULL;
	}
	if (slen == 5 && strncasecmp(p, "token", 5) == 0) {
		if (!split_key(cred, clen, out))
			return "the API key is malformed";
		out->scheme = TS_LIB_AUTH_APIKEY;
		return NULL;
	}
	if (slen == 5 && strncasecmp(p, "basic", 5) == 0)
		return basic(cred, clen, out);
	return "unsupported Authorization scheme";
}

void ts_lib_auth_parse(const char *p, size_t len, struct ts_lib_auth *out)
{
	const char *why = NULL;

	memset(out, 0, sizeof(*out));
	out->scheme = TS_LIB_AUTH_NONE;
	if (p == NULL)
		return;
	if (len > TS_LIB_AUTH_MAX)
		why = "the Authorization header is too long";
	else if (memchr(p, '\0', len) != NULL)
		why = "the Authorization header is malformed";
	if (why == NULL) {
		while (len && is_ows(p[0])) {
			p++;
			len--;
		}
		while (len && is_ows(p[len - 1]))
			len--;
		/* An empty header is what some frameworks hand over for a
		 * missing one. */
		if (len == 0)
			return;
		why = parse(p, len, out);
	}
	if (why != NULL) {
		ts_lib_auth_clear(out);
		out->scheme = TS_LIB_AUTH_INVALID;
		out->why = why;
	}
}

void ts_lib_auth_clear(struct ts_lib_auth *a)
{
	if (a == NULL)
		return;
	/* A Bearer token is a credential too. */
	ts_free_secret(a->token);
	ts_free_secret(a->key);
	ts_free_secret(a->secret);
	memset(a, 0, sizeof(*a));
}

int ts_lib_cookie_get(const char *p, size_t len, const char *name, char **out)
{
	size_t nlen = strlen(name), i = 0;

	*out = NULL;
	if (p == NULL)
		return TS_ENOTFOUND;
	if (len > TS_LIB_COOKIE_MAX)
		return TS_ETOOBIG;
	if (memchr(p, '\0', len) != NULL)
		return TS_EINVAL;
	while (i < len) {
		const char *pair = p + i, *semi = memchr(pair, ';', len - i), *eq, *val;
		size_t plen = semi ? (size_t)(semi - pair) : len - i, klen, vlen;

		i += plen + 1;
		while (plen && is_ows(*pair)) {
			pair++;
			plen--;
		}
		while (plen && is_ows(pair[plen - 1]))
			plen--;
		eq = memchr(pair, '=', plen);
		if (eq == NULL)
			continue; /* RFC 6265 §5.2: a pair without '=' is ignored */
		klen = (size_t)(eq - pair);
		while (klen && is_ows(pair[klen - 1]))
			klen--;
		val = eq + 1;
		vlen = plen - (size_t)(val - pair);
		while (vlen && is_ows(*val)) {
			val++;
			vlen--;
		}
		/* RFC 6265 §4.1.1: cookie-value may be wrapped in DQUOTEs. */
		if (vlen >= 2 && val[0] == '"' && val[vlen - 1] == '"') {
			val++;
			vlen -= 2;
		}
		if (klen == nlen && memcmp(pair, name, nlen) == 0) {
			*out = ts_xstrndup(val, vlen);
			return TS_OK;
		}
	}
	return TS_ENOTFOUND;
}

bool ts_lib_session_id_ok(const char *s)
{
	size_t n, i;

	if (s == NULL)
		return false;
	n = strlen(s);
	if (n < TS_LIB_SESSION_ID_MIN || n > TS_LIB_SESSION_ID_MAX)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return true;
}
