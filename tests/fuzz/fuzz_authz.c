/* fuzz_authz.c: libFuzzer target for the Authorization header parser
 * (RFC 7235 §2.1; Basic per RFC 7617 and RFC 6749 §2.3.1, Bearer per
 * RFC 6750 §2.1, "token key:secret"). The parser never fails, so the
 * checks are on its output: a known scheme, and exactly the fields that
 * scheme promises, as NUL-terminated strings no longer than the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_str(const char *s, size_t size)
{
	/* Basic credentials are decoded from base64, so never longer than the
	 * header; strlen also makes ASan check the terminator is in bounds. */
	if (s == NULL || strlen(s) > size)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ts_arena *a = ts_arena_new();
	struct ts_http_auth out;

	ts_http_auth_parse(a, (const char *)data, size, &out);
	switch (out.scheme) {
	case TS_AUTH_BASIC:
	case TS_AUTH_TOKEN:
		check_str(out.user, size);
		check_str(out.secret, size);
		/* The client id is never empty (a colon first is malformed). */
		if (out.user[0] == '\0' || out.token != NULL)
			abort();
		break;
	case TS_AUTH_BEARER:
		check_str(out.token, size);
		if (out.token[0] == '\0' || strchr(out.token, ' ') || out.user || out.secret)
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
	return 0;
}
