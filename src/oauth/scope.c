/* scope.c: scope strings (RFC 6749 §3.3): parsing, granting against a
 * client's allowed scopes (with the tenant's "includes"), and narrowing. */
#include "oauth.h"

#include "wire/ascii.h"

#include <string.h>

/* Splits, validates and de-duplicates a scope string into arena strings.
 * false on a malformed string (empty token, bad character, too many). */
static bool split(struct ts_arena *a, const char *s, const char ***out, size_t *n)
{
	const char **v = ts_arena_alloc(a, TS_SCOPES_MAX * sizeof(char *));
	size_t count = 0, i;
	const char *p = s;

	if (strlen(s) > TS_SCOPE_MAX)
		return false;
	while (*p) {
		const char *e = strchr(p, ' ');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		const char *tok;
		bool dup = false;

		if (len == 0)
			return false; /* leading, trailing or double space */
		for (i = 0; i < len; i++) {
			/* scope-token = 1*( %x21 / %x23-5B / %x5D-7E ) */
			if (!ts_is_nqchar((unsigned char)p[i]))
				return false;
		}
		tok = ts_arena_strndup(a, p, len);
		for (i = 0; i < count; i++)
			dup = dup || strcmp(v[i], tok) == 0;
		if (!dup) {
			if (count == TS_SCOPES_MAX)
				return false;
			v[count++] = tok;
		}
		p += len;
		if (*p == ' ' && *++p == '\0')
			return false;
	}
	*out = v;
	*n = count;
	return true;
}

static const char *join(struct ts_arena *a, const char *const *v, size_t n)
{
	size_t len = 0, i;
	char *s, *p;

	for (i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	s = p = ts_arena_alloc(a, len + 1);
	for (i = 0; i < n; i++) {
		size_t l = strlen(v[i]);
		if (i)
			*p++ = ' ';
		memcpy(p, v[i], l);
		p += l;
	}
	*p = '\0';
	return s;
}

bool ts_oauth_scope_grant(const struct ts_tenant *t, const struct ts_client *c,
			  const char *requested, struct ts_arena *a, const char **out)
{
	const char **v;
	size_t n, i;

	/* An empty scope parameter is treated as omitted (RFC 6749 §3.3: the
	 * server then uses the client's default, here all its scopes). */
	if (requested == NULL || requested[0] == '\0') {
		*out = join(a, (const char *const *)c->scopes, c->nscopes);
		return true;
	}
	if (!split(a, requested, &v, &n))
		return false;
	for (i = 0; i < n; i++)
		if (!ts_client_scope_allowed(t, c, v[i]))
			return false;
	*out = join(a, v, n);
	return true;
}

const char *ts_scope_client_narrow(const struct ts_tenant *t, const struct ts_client *c,
				   const char *scope, struct ts_arena *a)
{
	const char **v;
	size_t n, i, kept = 0;

	if (scope == NULL || !split(a, scope, &v, &n))
		return "";
	for (i = 0; i < n; i++)
		if (ts_client_scope_allowed(t, c, v[i]))
			v[kept++] = v[i];
	return join(a, v, kept);
}

bool ts_scope_has(const char *scope, const char *s)
{
	size_t n = strlen(s);
	const char *p = scope;

	while (p && *p) {
		const char *e = strchr(p, ' ');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == n && strncmp(p, s, n) == 0)
			return true;
		p = e ? e + 1 : NULL;
	}
	return false;
}

/* Whether one scope of have (space-separated) satisfies needed: names it,
 * or, with a tenant, includes it. */
static bool have_satisfies(const struct ts_tenant *t, const char *have, const char *needed)
{
	char tok[TS_SCOPE_MAX + 1];
	const char *p = have;

	if (ts_scope_has(have, needed))
		return true;
	while (t && p && *p) {
		const char *e = strchr(p, ' ');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len && len < sizeof(tok)) {
			memcpy(tok, p, len);
			tok[len] = '\0';
			if (ts_scope_satisfies(t, tok, needed))
				return true;
		}
		p = e ? e + 1 : NULL;
	}
	return false;
}

bool ts_scope_covers(const struct ts_tenant *t, const char *have, const char *want)
{
	const char *p = want;
	char tok[TS_SCOPE_MAX + 1];

	while (p && *p) {
		const char *e = strchr(p, ' ');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len >= sizeof(tok))
			return false;
		memcpy(tok, p, len);
		tok[len] = '\0';
		if (len && !have_satisfies(t, have, tok))
			return false;
		p = e ? e + 1 : NULL;
	}
	return true;
}

bool ts_scope_narrow(const struct ts_tenant *t, const char *granted, const char *requested,
		     struct ts_arena *a, const char **out)
{
	const char **v;
	size_t n;

	if (requested == NULL) {
		*out = granted;
		return true;
	}
	if (!split(a, requested, &v, &n))
		return false;
	*out = join(a, v, n);
	return ts_scope_covers(t, granted, *out);
}
