/* json_body.c: a request body of type application/json (RFC 8259): its
 * nesting capped before jansson reads it, duplicate member names refused
 * (§4: their meaning is undefined, so no choice between them is made). */
#include "http.h"

/* JSON nesting depth, counted outside strings; jansson has no depth cap of
 * its own below 2048, and we want a much smaller one. */
static bool json_depth_ok(const char *p, size_t len)
{
	size_t i;
	int depth = 0;
	bool in_str = false;

	for (i = 0; i < len; i++) {
		char c = p[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
		} else if (c == '{' || c == '[') {
			if (++depth > TS_HTTP_MAX_JSON_DEPTH)
				return false;
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	return true;
}

int ts_http_json_parse(const char *p, size_t len, json_t **out)
{
	json_error_t err;

	*out = NULL;
	if (!json_depth_ok(p, len))
		return TS_ETOOBIG;
	*out = json_loadb(p, len, JSON_REJECT_DUPLICATES, &err);
	return *out ? TS_OK : TS_EINVAL;
}
