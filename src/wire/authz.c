/* authz.c: the Authorization header (RFC 7235 §2.1) split into scheme and
 * credentials, for Basic (RFC 7617), Bearer (RFC 6750 §2.1) and
 * "token key:secret". What the credentials must hold beyond that is each
 * caller's policy (http/auth.c, lib/header.c). */
#include "wire.h"

#include <string.h>
#include <strings.h>

#define SCHEME_BASIC "basic"
#define SCHEME_BEARER "bearer"
#define SCHEME_DPOP "dpop"
#define SCHEME_TOKEN "token"

static bool scheme_is(const char *p, size_t len, const char *name)
{
	return len == strlen(name) && strncasecmp(p, name, len) == 0;
}

bool ts_wire_b64token_ok(const char *p, size_t len)
{
	size_t i = 0;

	while (i < len && ts_is_b64token((unsigned char)p[i]))
		i++;
	if (i == 0)
		return false;
	while (i < len && p[i] == '=')
		i++;
	return i == len;
}

bool ts_wire_pair_split(struct ts_str s, struct ts_str *left, struct ts_str *right)
{
	const char *colon = s.len ? memchr(s.p, ':', s.len) : NULL;

	if (colon == NULL || colon == s.p)
		return false;
	left->p = s.p;
	left->len = (size_t)(colon - s.p);
	right->p = colon + 1;
	right->len = s.len - left->len - 1;
	return true;
}

void ts_wire_authz_parse(const char *p, size_t len, size_t max, struct ts_wire_authz *out)
{
	const char *sp, *cred;
	size_t slen, clen;

	memset(out, 0, sizeof(*out));
	out->kind = TS_WIRE_AUTHZ_ABSENT;
	if (p == NULL)
		return;
	out->kind = TS_WIRE_AUTHZ_TOOBIG;
	if (len > max)
		return;
	out->kind = TS_WIRE_AUTHZ_MALFORMED;
	if (memchr(p, '\0', len) != NULL)
		return;
	out->kind = TS_WIRE_AUTHZ_NOCRED;
	sp = memchr(p, ' ', len);
	if (sp == NULL)
		return;
	slen = (size_t)(sp - p);
	cred = sp + 1;
	clen = len - slen - 1;
	while (clen && *cred == ' ') {
		cred++;
		clen--;
	}
	while (clen && cred[clen - 1] == ' ')
		clen--;
	out->cred.p = cred;
	out->cred.len = clen;
	if (scheme_is(p, slen, SCHEME_BASIC))
		out->kind = TS_WIRE_AUTHZ_BASIC;
	else if (scheme_is(p, slen, SCHEME_TOKEN))
		out->kind = TS_WIRE_AUTHZ_TOKEN;
	else if (scheme_is(p, slen, SCHEME_BEARER))
		out->kind = ts_wire_b64token_ok(cred, clen) ? TS_WIRE_AUTHZ_BEARER
							    : TS_WIRE_AUTHZ_BADBEARER;
	else if (scheme_is(p, slen, SCHEME_DPOP))
		out->kind = ts_wire_b64token_ok(cred, clen) ? TS_WIRE_AUTHZ_DPOP
							    : TS_WIRE_AUTHZ_BADBEARER;
	else
		out->kind = TS_WIRE_AUTHZ_UNKNOWN;
}
