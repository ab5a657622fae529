/* fuzz_cookie.c: libFuzzer target for the Cookie header (RFC 6265 §5.4):
 * the shared lookup (wire/cookie.c) and libtessera's copy of its result
 * (lib/header.c). The checks are on the output: a known return code, a
 * value inside the input and within its bounds, and a session id that
 * passes the shape check holding no separators. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_slice(const char *p, size_t size)
{
	struct ts_str v;
	int rc = ts_wire_cookie_find(p, size, TS_LIB_COOKIE_MAX, TS_LIB_SESSION_COOKIE, &v);

	if (rc == TS_OK) {
		if (v.p < p || v.p + v.len > p + size)
			abort();
		if (memchr(v.p, ';', v.len) != NULL)
			abort();
	} else if (v.p != NULL || (rc != TS_ENOTFOUND && rc != TS_EINVAL && rc != TS_ETOOBIG)) {
		abort();
	}
}

static void check_lib(const char *p, size_t size)
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
	check_slice((const char *)data, size);
	check_lib((const char *)data, size);
	return 0;
}
