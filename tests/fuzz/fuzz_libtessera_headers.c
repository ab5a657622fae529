/* fuzz_libtessera_headers.c: libFuzzer target for libtessera's header
 * parsers (lib/header.c): the Authorization header (RFC 7235 §2.1; Bearer
 * per RFC 6750 §2.1, "token key:secret", Basic per RFC 7617 carrying an API
 * key) and the Cookie header (RFC 6265 §5.4). Every input goes through
 * both. The parsers never fail, so the checks are on their output: a known
 * outcome with exactly the fields it promises, NUL-terminated, within the
 * documented bounds, never longer than the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_str(const char *s, size_t max)
{
	/* strlen also makes ASan check the terminator is in bounds. */
	if (s == NULL || s[0] == '\0' || strlen(s) > max)
		abort();
}

static void check_auth(const char *p, size_t size)
{
	struct ts_lib_auth a;

	ts_lib_auth_parse(p, size, &a);
	switch (a.scheme) {
	case TS_LIB_AUTH_NONE:
		if (a.token || a.key || a.secret)
			abort();
		break;
	case TS_LIB_AUTH_BEARER:
		check_str(a.token, size);
		if (strchr(a.token, ' ') || a.key || a.secret)
			abort();
		break;
	case TS_LIB_AUTH_APIKEY:
		check_str(a.key, TS_LIB_APIKEY_MAX);
		check_str(a.secret, TS_LIB_APISECRET_MAX);
		if (strchr(a.key, ':') || strchr(a.key, ' ') || strchr(a.secret, ' ') || a.token)
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

static void check_cookie(const char *p, size_t size)
{
	char *v = NULL;
	int rc = ts_lib_cookie_get(p, size, TS_LIB_SESSION_COOKIE, &v);

	if (rc == TS_OK) {
		if (v == NULL || strlen(v) > size)
			abort();
		/* A session id that passes the shape check has no separators. */
		if (ts_lib_session_id_ok(v) && strpbrk(v, " ;=\":"))
			abort();
	} else if (v != NULL || (rc != TS_ENOTFOUND && rc != TS_EINVAL && rc != TS_ETOOBIG)) {
		abort();
	}
	free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_auth((const char *)data, size);
	check_cookie((const char *)data, size);
	return 0;
}
