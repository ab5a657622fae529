/* header.c: the request headers a resource server hands to libtessera.
 * Authorization (RFC 7235 §2.1): Bearer (RFC 6750 §2.1), "token key:secret"
 * and Basic (RFC 7617) carrying an API key. Cookie (RFC 6265 §4.2, parsed
 * leniently as browsers send it, §5.4). Both take (ptr, len) and never
 * trust a NUL. */
#include "internal.h"

#include "wire/wire.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

/* Visible ASCII (RFC 5234 VCHAR), no ':' where it would be ambiguous. */
static bool is_vchars(const char *p, size_t len, bool colon_ok)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (!ts_is_vchar(c) || (!colon_ok && c == ':'))
			return false;
	}
	return true;
}

/* The one description of an allocation failure, told apart by address. */
static const char why_nomem[] = "out of memory";

/* Splits "key:secret" at the first colon into out: TS_OK, TS_EINVAL for a
 * malformed pair, TS_ENOMEM. */
static int split_key(const char *p, size_t len, struct ts_lib_auth *out)
{
	struct ts_str key, secret;

	if (!ts_wire_pair_split((struct ts_str){p, len}, &key, &secret))
		return TS_EINVAL;
	if (secret.len == 0 || key.len > TS_LIB_APIKEY_MAX || secret.len > TS_LIB_APISECRET_MAX)
		return TS_EINVAL;
	if (!is_vchars(key.p, key.len, false) || !is_vchars(secret.p, secret.len, true))
		return TS_EINVAL;
	out->key = ts_strndup(key.p, key.len);
	out->secret = ts_strndup(secret.p, secret.len);
	return out->key && out->secret ? TS_OK : TS_ENOMEM;
}

static const char *basic(const char *cred, size_t clen, struct ts_lib_auth *out)
{
	/* Decoded base64 is never longer than its text. */
	unsigned char *dec = ts_malloc(clen + 1);
	const char *why = NULL;
	size_t dlen = 0;
	int rc;

	if (dec == NULL)
		return why_nomem;
	if (clen == 0 || ts_b64_decode(cred, clen, dec, clen, &dlen) != TS_OK)
		why = "the Basic credentials are not base64";
	else if ((rc = split_key((const char *)dec, dlen, out)) == TS_ENOMEM)
		why = why_nomem;
	else if (rc != TS_OK)
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
	struct ts_wire_authz w;

	ts_wire_authz_parse(p, len, TS_LIB_AUTH_MAX, &w);
	switch (w.kind) {
	case TS_WIRE_AUTHZ_BEARER:
		out->token = ts_strndup(w.cred.p, w.cred.len);
		if (out->token == NULL)
			return why_nomem;
		out->scheme = TS_LIB_AUTH_BEARER;
		return NULL;
	case TS_WIRE_AUTHZ_TOKEN:
		switch (split_key(w.cred.p, w.cred.len, out)) {
		case TS_OK:
			out->scheme = TS_LIB_AUTH_APIKEY;
			return NULL;
		case TS_ENOMEM:
			return why_nomem;
		default:
			return "the API key is malformed";
		}
	case TS_WIRE_AUTHZ_BASIC:
		return basic(w.cred.p, w.cred.len, out);
	case TS_WIRE_AUTHZ_BADBEARER:
		return "the Bearer or DPoP token is malformed";
	case TS_WIRE_AUTHZ_NOCRED:
		return "the Authorization header has no credentials";
	case TS_WIRE_AUTHZ_DPOP:
		out->token = ts_strndup(w.cred.p, w.cred.len);
		if (out->token == NULL)
			return why_nomem;
		out->scheme = TS_LIB_AUTH_DPOP;
		return NULL;
	case TS_WIRE_AUTHZ_UNKNOWN:
		return "unsupported Authorization scheme";
	case TS_WIRE_AUTHZ_TOOBIG:
		return "the Authorization header is too long";
	case TS_WIRE_AUTHZ_ABSENT:
	case TS_WIRE_AUTHZ_MALFORMED:
		break;
	}
	return "the Authorization header is malformed";
}

int ts_lib_auth_parse(const char *p, size_t len, struct ts_lib_auth *out)
{
	const char *why = NULL;

	memset(out, 0, sizeof(*out));
	out->scheme = TS_LIB_AUTH_NONE;
	if (p == NULL)
		return TS_OK;
	/* The cap applies to the value as handed over, spaces included. */
	if (len > TS_LIB_AUTH_MAX) {
		why = "the Authorization header is too long";
	} else {
		while (len && ts_is_ows((unsigned char)p[0])) {
			p++;
			len--;
		}
		while (len && ts_is_ows((unsigned char)p[len - 1]))
			len--;
		/* An empty header is what some frameworks hand over for a
		 * missing one. */
		if (len == 0)
			return TS_OK;
		why = parse(p, len, out);
	}
	if (why != NULL) {
		ts_lib_auth_clear(out);
		out->scheme = TS_LIB_AUTH_INVALID;
		out->why = why;
	}
	return why == why_nomem ? TS_ENOMEM : TS_OK;
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
	struct ts_str v;
	int rc;

	*out = NULL;
	rc = ts_wire_cookie_find(p, len, TS_LIB_COOKIE_MAX, name, &v);
	if (rc == TS_OK && (*out = ts_strndup(v.p, v.len)) == NULL)
		rc = TS_ENOMEM;
	return rc;
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
		if (!ts_is_b64url((unsigned char)s[i]))
			return false;
	}
	return true;
}
