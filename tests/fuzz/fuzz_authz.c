/* fuzz_authz.c: libFuzzer target for the Authorization header (RFC 7235
 * §2.1): the shared split (wire/authz.c) and both readings of it, the
 * server's (http/auth.c: Basic per RFC 7617 and RFC 6749 §2.3.1, Bearer per
 * RFC 6750 §2.1, DPoP per RFC 9449 §7.1, "token key:secret") and
 * libtessera's (lib/header.c: API keys, Bearer, DPoP). Every input goes through all three. They never fail, so
 * the checks are on the output: a known outcome with exactly the fields it
 * promises, NUL-terminated, within bounds, never longer than the input, and
 * the two readings agreeing on the scheme the split found. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "internal.h"
#include "wire/wire.h"

#define FUZZ_AUTHZ_MAX 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_str(const char *s, size_t max)
{
	/* strlen also makes ASan check the terminator is in bounds. */
	if (s == NULL || strlen(s) > max)
		abort();
}

static void check_split(const char *p, size_t size, const struct ts_wire_authz *w)
{
	switch (w->kind) {
	case TS_WIRE_AUTHZ_BASIC:
	case TS_WIRE_AUTHZ_TOKEN:
	case TS_WIRE_AUTHZ_BEARER:
	case TS_WIRE_AUTHZ_DPOP:
	case TS_WIRE_AUTHZ_BADBEARER:
	case TS_WIRE_AUTHZ_UNKNOWN:
		/* The credentials lie inside the input, without edge spaces. */
		if (w->cred.p < p || w->cred.p + w->cred.len > p + size)
			abort();
		if (w->cred.len && (w->cred.p[0] == ' ' || w->cred.p[w->cred.len - 1] == ' '))
			abort();
		if ((w->kind == TS_WIRE_AUTHZ_BEARER || w->kind == TS_WIRE_AUTHZ_DPOP) &&
		    !ts_wire_b64token_ok(w->cred.p, w->cred.len))
			abort();
		break;
	case TS_WIRE_AUTHZ_TOOBIG:
	case TS_WIRE_AUTHZ_MALFORMED:
	case TS_WIRE_AUTHZ_NOCRED:
		if (w->cred.p != NULL)
			abort();
		break;
	case TS_WIRE_AUTHZ_ABSENT: /* only for a NULL value */
	default:
		abort();
	}
}

static void check_server(const char *p, size_t size, enum ts_wire_authz_kind kind)
{
	struct ts_arena *a = ts_arena_new();
	struct ts_http_auth out;

	ts_http_auth_parse(a, p, size, &out);
	switch (out.scheme) {
	case TS_AUTH_BASIC:
	case TS_AUTH_TOKEN:
		/* Basic credentials are decoded from base64, so never longer
		 * than the header. */
		check_str(out.user, size);
		check_str(out.secret, size);
		/* The client id is never empty (a colon first is malformed). */
		if (out.user[0] == '\0' || out.token != NULL)
			abort();
		break;
	case TS_AUTH_BEARER:
	case TS_AUTH_DPOP:
		check_str(out.token, size);
		if (out.token[0] == '\0' || strchr(out.token, ' ') || out.user || out.secret ||
		    kind != (out.scheme == TS_AUTH_BEARER ? TS_WIRE_AUTHZ_BEARER : TS_WIRE_AUTHZ_DPOP))
			abort();
		break;
	case TS_AUTH_OTHER:
	case TS_AUTH_INVALID:
		break;
	case TS_AUTH_NONE: /* only for a missing header */
	default:
		abort();
	}
	ts_arena_free(a);
}

static void check_lib(const char *p, size_t size)
{
	struct ts_lib_auth a;

	ts_lib_auth_parse(p, size, &a);
	switch (a.scheme) {
	case TS_LIB_AUTH_NONE:
		if (a.token || a.key || a.secret)
			abort();
		break;
	case TS_LIB_AUTH_BEARER:
	case TS_LIB_AUTH_DPOP:
		check_str(a.token, size);
		if (a.token[0] == '\0' || strchr(a.token, ' ') || a.key || a.secret)
			abort();
		break;
	case TS_LIB_AUTH_APIKEY:
		check_str(a.key, TS_LIB_APIKEY_MAX);
		check_str(a.secret, TS_LIB_APISECRET_MAX);
		if (a.key[0] == '\0' || a.secret[0] == '\0' || strchr(a.key, ':') ||
		    strchr(a.key, ' ') || strchr(a.secret, ' ') || a.token)
			abort();
		break;
	case TS_LIB_AUTH_INVALID:
		if (a.why == NULL || a.token || a.key || a.secret)
			abort();
		break;
	default:
		abort();
	}
	ts_lib_auth_clear(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct ts_wire_authz w;

	ts_wire_authz_parse(p, size, FUZZ_AUTHZ_MAX, &w);
	check_split(p, size, &w);
	check_server(p, size, w.kind);
	check_lib(p, size);
	return 0;
}
