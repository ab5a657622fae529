/* auth.c: the server's reading of the Authorization header (RFC 7235 §2.1),
 * split by wire/authz.c: Basic (RFC 7617, with the form-decoding of client
 * credentials of RFC 6749 §2.3.1), Bearer (RFC 6750 §2.1) and
 * "token key:secret". */
#include "http.h"

#include "wire/wire.h"

#include <string.h>

#define AUTH_HEADER_MAX 8192

/* Splits "user:secret" at the first colon; both sides form-decoded when
 * urldecode is set (RFC 6749 §2.3.1). */
static bool split_pair(struct ts_arena *a, const char *p, size_t len, bool urldecode,
		       struct ts_http_auth *out)
{
	struct ts_str user, secret;

	if (!ts_wire_pair_split((struct ts_str){p, len}, &user, &secret))
		return false;
	if (memchr(p, '\0', len))
		return false;
	if (!urldecode) {
		out->user = ts_arena_strndup(a, user.p, user.len);
		out->secret = ts_arena_strndup(a, secret.p, secret.len);
		return true;
	}
	/* RFC 6749 §2.3.1: each side is form-encoded on its own, so '&' and
	 * '=' are ordinary characters here. */
	return ts_form_decode(a, user.p, user.len, &out->user) == TS_OK &&
	       ts_form_decode(a, secret.p, secret.len, &out->secret) == TS_OK;
}

static void basic(struct ts_arena *a, struct ts_str cred, struct ts_http_auth *out)
{
	/* Decoded base64 is never longer than its text. */
	unsigned char *dec = ts_arena_alloc(a, cred.len + 1);
	size_t dlen;

	if (cred.len == 0 || ts_b64_decode(cred.p, cred.len, dec, cred.len, &dlen) != TS_OK)
		return;
	if (split_pair(a, (const char *)dec, dlen, true, out))
		out->scheme = TS_AUTH_BASIC;
}

void ts_http_auth_parse(struct ts_arena *a, const char *hdr, size_t len,
			struct ts_http_auth *out)
{
	struct ts_wire_authz w;

	memset(out, 0, sizeof(*out));
	out->scheme = TS_AUTH_INVALID;
	ts_wire_authz_parse(hdr, len, AUTH_HEADER_MAX, &w);
	switch (w.kind) {
	case TS_WIRE_AUTHZ_ABSENT:
		out->scheme = TS_AUTH_NONE;
		break;
	case TS_WIRE_AUTHZ_NOCRED:
	case TS_WIRE_AUTHZ_UNKNOWN:
		out->scheme = TS_AUTH_OTHER;
		break;
	case TS_WIRE_AUTHZ_BASIC:
		basic(a, w.cred, out);
		break;
	case TS_WIRE_AUTHZ_BEARER:
		out->token = ts_arena_strndup(a, w.cred.p, w.cred.len);
		out->scheme = TS_AUTH_BEARER;
		break;
	case TS_WIRE_AUTHZ_DPOP:
		out->token = ts_arena_strndup(a, w.cred.p, w.cred.len);
		out->scheme = TS_AUTH_DPOP;
		break;
	case TS_WIRE_AUTHZ_TOKEN:
		if (w.cred.len == 0 || memchr(w.cred.p, ' ', w.cred.len))
			break;
		if (split_pair(a, w.cred.p, w.cred.len, false, out))
			out->scheme = TS_AUTH_TOKEN;
		break;
	case TS_WIRE_AUTHZ_TOOBIG:
	case TS_WIRE_AUTHZ_MALFORMED:
	case TS_WIRE_AUTHZ_BADBEARER:
		break;
	}
}
