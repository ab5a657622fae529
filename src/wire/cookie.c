/* cookie.c: one cookie out of a Cookie header (RFC 6265 §4.2), read
 * leniently as browsers send it (§5.4). */
#include "wire.h"

#include <string.h>

static void trim_ows(const char **p, size_t *len)
{
	while (*len && ts_is_ows((unsigned char)**p)) {
		(*p)++;
		(*len)--;
	}
	while (*len && ts_is_ows((unsigned char)(*p)[*len - 1]))
		(*len)--;
}

int ts_wire_cookie_find(const char *p, size_t len, size_t max, const char *name,
			struct ts_str *val)
{
	size_t nlen = strlen(name), i = 0;

	val->p = NULL;
	val->len = 0;
	if (p == NULL)
		return TS_ENOTFOUND;
	if (len > max)
		return TS_ETOOBIG;
	if (memchr(p, '\0', len) != NULL)
		return TS_EINVAL;
	while (i < len) {
		const char *pair = p + i, *semi = memchr(pair, ';', len - i), *eq, *v;
		size_t plen = semi ? (size_t)(semi - pair) : len - i, klen, vlen;

		i += plen + 1;
		trim_ows(&pair, &plen);
		eq = memchr(pair, '=', plen);
		if (eq == NULL)
			continue; /* RFC 6265 §5.2: a pair without '=' is ignored */
		klen = (size_t)(eq - pair);
		while (klen && ts_is_ows((unsigned char)pair[klen - 1]))
			klen--;
		v = eq + 1;
		vlen = plen - (size_t)(v - pair);
		trim_ows(&v, &vlen);
		/* RFC 6265 §4.1.1: cookie-value may be wrapped in DQUOTEs. */
		if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
			v++;
			vlen -= 2;
		}
		if (klen == nlen && memcmp(pair, name, nlen) == 0) {
			val->p = v;
			val->len = vlen;
			return TS_OK;
		}
	}
	return TS_ENOTFOUND;
}
