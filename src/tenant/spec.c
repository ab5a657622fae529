/* spec.c: the checks every configuration validator shares (one sentence
 * per error, unknown members refused by name, printable strings), and the
 * redirect-URI schemes that are never registered nor redirected to. They
 * sit here, below src/admin/, because the vault, the compatibility
 * profiles and the request handlers use them as well. */
#include "tenant.h"

#include "wire/ascii.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int ts_admin_fail(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, cap, fmt, ap);
	va_end(ap);
	return TS_EINVAL;
}

int ts_admin_check_known(const json_t *obj, const char *const *known, const char *what,
			 char *err, size_t cap)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)obj, k, v) {
		size_t i;
		bool ok = false;
		(void)v;
		for (i = 0; known[i]; i++)
			if (strcmp(known[i], k) == 0)
				ok = true;
		if (!ok)
			return ts_admin_fail(err, cap, "unknown field \"%s\" in %s", k, what);
	}
	return TS_OK;
}

bool ts_admin_printable(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0, i;

	if (n == 0 || n > max)
		return false;
	for (i = 0; i < n; i++)
		if (ts_is_ctl((unsigned char)s[i]))
			return false;
	return true;
}

#define PORT_DIGITS_MAX 5
#define PORT_MAX 65535

enum ts_loopback ts_redirect_loopback(const char *uri, size_t *host_end, const char **rest)
{
	static const char *const prefixes[] = {"http://127.0.0.1", "http://[::1]"};
	size_t i, n;

	for (i = 0; i < TS_ARRAY_LEN(prefixes); i++) {
		size_t pl = strlen(prefixes[i]);
		const char *p;
		long port = 0;
		if (strncmp(uri, prefixes[i], pl) != 0)
			continue;
		p = uri + pl;
		if (*p == ':') {
			for (p++, n = 0; ts_is_digit((unsigned char)*p); p++, n++)
				if (n < PORT_DIGITS_MAX)
					port = port * 10 + (*p - '0');
			if (n == 0 || n > PORT_DIGITS_MAX || port < 1 || port > PORT_MAX ||
			    (*p != '/' && *p != '\0' && *p != '?'))
				return TS_BAD_PORT;
		} else if (*p != '/' && *p != '\0' && *p != '?') {
			return TS_NOT_LOOPBACK;
		}
		*host_end = pl;
		*rest = p;
		return TS_LOOPBACK;
	}
	return TS_NOT_LOOPBACK;
}

bool ts_redirect_scheme_refused(const char *uri)
{
	static const char *const refused[] = {"javascript", "data", "vbscript", "file"};
	size_t i, len = strcspn(uri, ":");

	for (i = 0; i < TS_ARRAY_LEN(refused); i++)
		if (strlen(refused[i]) == len && strncasecmp(uri, refused[i], len) == 0)
			return true;
	return false;
}
