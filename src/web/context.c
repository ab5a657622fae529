/* context.c: the application's public URL (scheme, origin, base path),
 * the issuers a tenant answers to, and the one answer for a storage
 * failure. */
#include "web.h"

#include "http/params.h"

#include <stdlib.h>
#include <string.h>

int ts_web_init_urls(struct ts_app *app, const char *url)
{
	const char *p = strstr(url, "://"), *slash;
	size_t n = strlen(url);

	if (p == NULL || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
		return TS_EINVAL;
	while (n && url[n - 1] == '/')
		n--;
	app->public_url = ts_xstrndup(url, n);
	app->scheme = ts_xstrndup(url, (size_t)(p - url));
	slash = strchr(p + 3, '/');
	if (slash && (size_t)(slash - url) < n) {
		app->origin = ts_xstrndup(url, (size_t)(slash - url));
		app->base_path = ts_xstrndup(slash, n - (size_t)(slash - url));
	} else {
		app->origin = ts_xstrndup(url, n);
		app->base_path = ts_xstrdup("");
	}
	if (strchr(app->origin + strlen(app->scheme) + 3, '?') || strchr(url, '#'))
		return TS_EINVAL;
	return TS_OK;
}

void ts_web_clear_urls(struct ts_app *app)
{
	free(app->public_url);
	free(app->scheme);
	free(app->origin);
	free(app->base_path);
}

bool ts_web_issuer_ok(const struct ts_app *app, const struct ts_tenant *t, const char *iss)
{
	size_t i, sl = strlen(app->scheme);

	if (iss == NULL)
		return false;
	if (strcmp(iss, t->issuer) == 0)
		return true;
	if (strncmp(iss, app->scheme, sl) != 0 || strncmp(iss + sl, "://", 3) != 0)
		return false;
	for (i = 0; i < t->ndomains; i++)
		if (strcmp(iss + sl + 3, t->domains[i]) == 0)
			return true;
	return false;
}

void ts_web_store_unavailable(struct ts_http_resp *resp)
{
	ts_http_resp_error(resp, 503, TS_ERR_TEMPORARILY_UNAVAILABLE, TS_STORE_UNAVAILABLE_DESC);
	ts_http_resp_header(resp, "Retry-After", "2");
	ts_http_resp_header(resp, "Cache-Control", "no-store");
}
