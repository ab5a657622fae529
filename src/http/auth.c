/* auth.c: the Authorization header (RFC 7235 §2.1): Basic (RFC 7617, with
 * the form-decoding of client credentials of RFC 6749 §2.3.1), Bearer
 * (RFC 6750 §2.1) and "token key:secret". Schemes are case-insensitive. */
#include "http.h"

#include <string.h>
#include <strings.h>

#define AUTH_HEADER_MAX 8192

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

/* Splits "user:secret" at the first colon; both sides form-decoded when
 * urldecode is set (RFC 6749 §2.3.1). */
static bool split_pair(struct ts_arena *a, const char *p, size_t len, bool urldecode,
		       struct ts_http_auth *out)
{
	const char *colon = memchr(p, ':', len);

	if (colon == NULL || colon == p)
		return false;
	if (memchr(p, '\0', len))
		return false;
	if (!urldecode) {
		out->user = ts_arena_strndup(a, p, (size_t)(colon - p));
		out->secret = ts_arena_strndup(a, colon + 1, len - (size_t)(colon - p) - 1);
		return true;
	}
	/* RFC 6749 §2.3.1: each side is form-encoded on its own, so '&' and
	 * '=' are ordinary characters here. */
	return ts_form_decode(a, p, (size_t)(colon - p), &out->user) == TS_OK &&
	       ts_form_decode(a, colon + 1, len - (size_t)(colon - p) - 1, &out->secret) == TS_OK;
}

void ts_http_auth_parse(struct ts_arena *a, const char *hdr, size_t len,
			struct ts_http_auth *out)
{
	const char *sp, *cred;
	size_t slen, clen;

	memset(out, 0, sizeof(*out));
	if (hdr == NULL) {
		out->scheme = TS_AUTH_NONE;
		return;
	}
	out->scheme = TS_AUTH_INVALID;
	if (len > AUTH_HEADER_MAX || memchr(hdr, '\0', len))
		return;
	sp = memchr(hdr, ' ', len);
	if (sp == NULL) {
		out->scheme = TS_AUTH_OTHER;
		return;
	}
	slen = (size_t)(sp - hdr);
	cred = sp + 1;
	clen = len - slen - 1;
	while (clen && *cred == ' ') {
		cred++;
		clen--;
	}
	while (clen && cred[clen - 1] == ' ')
		clen--;
	if (slen == 5 && strncasecmp(hdr, "basic", 5) == 0) {
		unsigned char *dec = ts_arena_alloc(a, clen + 1);
		size_t dlen;
		if (clen == 0 || ts_b64_decode(cred, clen, dec, clen, &dlen) != TS_OK)
			return;
		if (split_pair(a, (const char *)dec, dlen, true, out))
			out->scheme = TS_AUTH_BASIC;
	} else if (slen == 6 && strncasecmp(hdr, "bearer", 6) == 0) {
		if (!is_b64token(cred, clen))
			return;
		out->token = ts_arena_strndup(a, cred, clen);
		out->scheme = TS_AUTH_BEARER;
	} else if (slen == 5 && strncasecmp(hdr, "token", 5) == 0) {
		if (clen == 0 || memchr(cred, ' ', clen))
			return;
		if (split_pair(a, cred, clen, false, out))
			out->scheme = TS_AUTH_TOKEN;
	} else {
		out->scheme = TS_AUTH_OTHER;
	}
}
