/* fuzz_form.c: libFuzzer target for the application/x-www-form-urlencoded
 * parser (bodies and query strings). Raw bytes go through ts_form_parse with
 * the server's parameter cap; whatever parses must keep the parser's
 * promises (NUL-free strings, at most max_params pairs, ts_params_get finds
 * every name) and survive a round trip through ts_buf_append_urlencoded. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Encodes one pair, parses it back and checks it comes out unchanged. */
static void round_trip(struct ts_arena *a, const struct ts_param *p)
{
	struct ts_buf b;
	struct ts_param *v;
	size_t n;

	ts_buf_init(&b, 3 * (strlen(p->name) + strlen(p->value)) + 2);
	if (ts_buf_append_urlencoded(&b, p->name) != TS_OK || ts_buf_appends(&b, "=") != TS_OK ||
	    ts_buf_append_urlencoded(&b, p->value) != TS_OK)
		abort();
	if (ts_form_parse(a, b.p, b.len, 1, &v, &n) != TS_OK || n != 1 ||
	    strcmp(v[0].name, p->name) != 0 || strcmp(v[0].value, p->value) != 0)
		abort();
	ts_buf_clear(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ts_arena *a;
	struct ts_param *v = NULL;
	size_t n = 0, i;
	int rc;

	if (size > TS_HTTP_MAX_BODY)
		return 0;
	a = ts_arena_new();
	rc = ts_form_parse(a, (const char *)data, size, TS_HTTP_MAX_PARAMS, &v, &n);
	if (rc != TS_OK) {
		if ((rc != TS_EINVAL && rc != TS_ETOOBIG) || n != 0)
			abort();
		goto out;
	}
	if (n > TS_HTTP_MAX_PARAMS || (n > 0 && v == NULL))
		abort();
	for (i = 0; i < n; i++) {
		bool dup = false;
		const char *val = ts_params_get(v, n, v[i].name, &dup);
		size_t first = n, count = 0, j;

		for (j = 0; j < n; j++) {
			if (strcmp(v[j].name, v[i].name) != 0)
				continue;
			if (first == n)
				first = j;
			count++;
		}
		/* The first pair with a name wins; dup says whether it repeats. */
		if (val != v[first].value || dup != (count > 1))
			abort();
		if (strlen(v[i].name) > size || strlen(v[i].value) > size)
			abort();
		round_trip(a, &v[i]);
	}
	(void)ts_params_get(v, n, "grant_type", NULL);
out:
	ts_arena_free(a);
	return 0;
}
