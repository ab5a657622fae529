/* router.c: literal-and-placeholder path patterns, matched segment by
 * segment; the first matching route wins. */
#include "http.h"

#include <string.h>

/* Matches path against pattern, capturing placeholders into params. */
static bool match(struct ts_arena *a, const char *pattern, const char *path,
		  const char **params, size_t *nparams)
{
	const char *p = pattern, *s = path;

	*nparams = 0;
	while (*p && *s) {
		if (*p == '{') {
			const char *pend = strchr(p, '}');
			const char *send = strchr(s, '/');
			size_t slen = send ? (size_t)(send - s) : strlen(s);
			if (pend == NULL || slen == 0 || *nparams == TS_HTTP_MAX_ROUTE_PARAMS)
				return false;
			params[(*nparams)++] = ts_arena_strndup(a, s, slen);
			p = pend + 1;
			s += slen;
			continue;
		}
		if (*p != *s)
			return false;
		p++;
		s++;
	}
	return *p == '\0' && *s == '\0';
}

int ts_router_match(const struct ts_route *routes, size_t n, struct ts_http_req *req,
		    const char *path, const struct ts_route **out, const char **allow)
{
	const char *params[TS_HTTP_MAX_ROUTE_PARAMS];
	struct ts_buf methods;
	size_t i, np, k;
	bool path_matched = false;

	*out = NULL;
	if (allow)
		*allow = NULL;
	ts_buf_init(&methods, 256);
	for (i = 0; i < n; i++) {
		if (!match(req->arena, routes[i].pattern, path, params, &np))
			continue;
		if (strcmp(routes[i].method, "*") == 0 || strcmp(routes[i].method, req->method) == 0 ||
		    (strcmp(routes[i].method, "GET") == 0 && strcmp(req->method, "HEAD") == 0)) {
			for (k = 0; k < TS_HTTP_MAX_ROUTE_PARAMS; k++)
				req->route_params[k] = k < np ? params[k] : NULL;
			req->route_name = routes[i].name;
			*out = &routes[i];
			ts_buf_clear(&methods);
			return TS_OK;
		}
		path_matched = true;
		ts_buf_appendf(&methods, "%s%s", methods.len ? ", " : "", routes[i].method);
	}
	if (path_matched) {
		if (allow)
			*allow = ts_arena_strdup(req->arena, methods.p ? methods.p : "");
		ts_buf_clear(&methods);
		return TS_EINVAL;
	}
	ts_buf_clear(&methods);
	return TS_ENOTFOUND;
}
