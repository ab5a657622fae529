/* form.c: application/x-www-form-urlencoded and query parsing (WHATWG URL
 * "application/x-www-form-urlencoded parser", strict about bad escapes). */
#include "http.h"

#include "wire/wire.h"

#include <string.h>

int ts_form_decode(struct ts_arena *a, const char *p, size_t len, const char **out)
{
	char *d = ts_arena_alloc(a, len + 1);
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '+') {
			d[o++] = ' ';
		} else if (c == '%') {
			int hi, lo;
			if (len - i < 3)
				return TS_EINVAL;
			hi = ts_hex_val((unsigned char)p[i + 1]);
			lo = ts_hex_val((unsigned char)p[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return TS_EINVAL; /* bad escape, or an encoded NUL */
			d[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '\0') {
			return TS_EINVAL;
		} else {
			d[o++] = (char)c;
		}
	}
	d[o] = '\0';
	*out = d;
	return TS_OK;
}

int ts_form_parse(struct ts_arena *a, const char *p, size_t len, size_t max_params,
		  struct ts_param **out, size_t *n)
{
	struct ts_param *v;
	size_t count = 0, i, start = 0, cap = 1;
	int rc;

	*out = NULL;
	*n = 0;
	for (i = 0; i < len; i++)
		if (p[i] == '&')
			cap++;
	if (cap > max_params * 4 + 16)
		return TS_ETOOBIG; /* far too many separators: do not even allocate */
	v = ts_arena_alloc(a, cap * sizeof(*v));
	for (i = 0; i <= len; i++) {
		const char *pair, *eq;
		size_t plen;

		if (i < len && p[i] != '&')
			continue;
		pair = p + start;
		plen = i - start;
		start = i + 1;
		if (plen == 0)
			continue;
		if (count == max_params)
			return TS_ETOOBIG;
		eq = memchr(pair, '=', plen);
		if (eq) {
			rc = ts_form_decode(a, pair, (size_t)(eq - pair), &v[count].name);
			if (rc == TS_OK)
				rc = ts_form_decode(a, eq + 1, plen - (size_t)(eq - pair) - 1, &v[count].value);
		} else {
			rc = ts_form_decode(a, pair, plen, &v[count].name);
			v[count].value = "";
		}
		if (rc != TS_OK)
			return rc;
		count++;
	}
	*out = v;
	*n = count;
	return TS_OK;
}

const char *ts_params_get(const struct ts_param *v, size_t n, const char *name, bool *dup)
{
	const char *found = NULL;
	size_t i;

	if (dup)
		*dup = false;
	for (i = 0; i < n; i++) {
		if (strcmp(v[i].name, name) != 0)
			continue;
		if (found) {
			if (dup)
				*dup = true;
			continue;
		}
		found = v[i].value;
	}
	return found;
}

int ts_buf_append_urlencoded(struct ts_buf *b, const char *s)
{
	return ts_wire_urlencode(b, s);
}
