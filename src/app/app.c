/* app.c: request dispatch. Server-wide routes first (/healthz, /readyz,
 * /metrics, RFC 8414 path-inserted discovery), then the tenant: by path
 * ({base}/t/{name}/...) or by Host (one of its domains), then the tenant's
 * route table, then the routes of the tenant's compatibility profiles
 * (compat/). CORS answers are decided here, per tenant. */
#include "app.h"

#include "api/api.h"
#include "compat/compat.h"
#include "oauth/oauth.h"
#include "oidc/oidc.h"
#include "vault/vault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROUTE_HEALTHZ "healthz"
#define ROUTE_READYZ "readyz"
#define ROUTE_METRICS "metrics"
#define ROUTE_DISCOVERY "discovery"
#define ROUTE_PREFLIGHT "preflight"
#define ROUTE_NOT_FOUND "not_found"
#define CORS_MAX_AGE "600"
#define METRICS_MAX (4u << 20)

static const struct ts_route tenant_routes[] = {
	{"GET", "/.well-known/openid-configuration", ts_oidc_discovery, ROUTE_DISCOVERY},
	{"GET", "/.well-known/oauth-authorization-server", ts_oidc_discovery, ROUTE_DISCOVERY},
	{"GET", "/oauth2/jwks", ts_oidc_jwks, "jwks"},
	{"POST", "/oauth2/token", ts_oauth_token, "token"},
	{"POST", "/oauth2/introspect", ts_oauth_introspect, "introspect"},
	{"POST", "/oauth2/revoke", ts_oauth_revoke, "revoke"},
	{"GET", "/oauth2/authorize", ts_oauth_authorize, "authorize"},
	{"POST", "/oauth2/authorize", ts_oauth_authorize, "authorize"},
	{"GET", "/oauth2/userinfo", ts_oidc_userinfo, "userinfo"},
	{"POST", "/oauth2/userinfo", ts_oidc_userinfo, "userinfo"},
	{"GET", "/login", ts_oidc_login, "login"},
	{"POST", "/login", ts_oidc_login, "login"},
	{"GET", "/consent", ts_oidc_consent, "consent"},
	{"POST", "/consent", ts_oidc_consent, "consent"},
	{"GET", "/logout", ts_oidc_logout, "logout"},
	{"POST", "/logout", ts_oidc_logout, "logout"},
	{"POST", "/oauth2/device_authorization", ts_oauth_device_authorization, "device_authorization"},
	{"GET", "/device", ts_oauth_device_page, "device"},
	{"POST", "/device", ts_oauth_device_page, "device"},
	{"POST", "/api/login", ts_api_login, "api_login"},
	{"POST", "/api/logout", ts_api_logout, "api_logout"},
	{"POST", "/api/mobile/login", ts_api_mobile_login, "api_mobile_login"},
	{"GET", "/api/me", ts_api_me, "api_me"},
	{"POST", "/api/groups", ts_api_group_create, "api_groups"},
	{"GET", "/api/groups/{id}", ts_api_group_get, "api_groups"},
	{"GET", "/api/groups/{id}/members", ts_api_group_members, "api_groups"},
	{"POST", "/api/groups/{id}/members", ts_api_group_member_add, "api_groups"},
	{"DELETE", "/api/groups/{id}/members/{username}", ts_api_group_member_remove, "api_groups"},
	{"POST", "/api/apikeys", ts_api_apikey_create, "api_apikeys"},
	{"DELETE", "/api/apikeys/{key}", ts_api_apikey_delete, "api_apikeys"},
	{"POST", "/api/connections", ts_vault_api_create, "api_connections"},
	{"GET", "/api/connections", ts_vault_api_list, "api_connections"},
	{"GET", "/api/connections/{id}", ts_vault_api_get, "api_connections"},
	{"DELETE", "/api/connections/{id}", ts_vault_api_delete, "api_connections"},
	{"POST", "/api/connections/{id}/token", ts_vault_api_token, "api_connections_token"},
	{"POST", "/api/connections/{id}/sign", ts_vault_api_sign, "api_connections_sign"},
	{"POST", "/api/connections/{id}/refresh", ts_vault_api_refresh, "api_connections_refresh"},
	{"GET", "/connect/callback", ts_vault_callback, "connect_callback"},
};

/* Routes whose documents are public: any origin may read them. */
static bool public_route(const char *name)
{
	return name && (strcmp(name, ROUTE_DISCOVERY) == 0 || strcmp(name, "jwks") == 0);
}

static const char *const route_names[] = {
	ROUTE_DISCOVERY, "jwks", "token", "introspect", "revoke", "authorize", "userinfo",
	"login", "consent", "logout", "device_authorization", "device", "api_login", "api_logout", "api_mobile_login", "api_me",
	"api_groups", "api_apikeys", "api_connections", "api_connections_token",
	"api_connections_sign", "api_connections_refresh", "connect_callback",
	ROUTE_HEALTHZ, ROUTE_READYZ, ROUTE_METRICS, ROUTE_PREFLIGHT, ROUTE_NOT_FOUND,
};

const char *const *ts_app_route_names(size_t *n)
{
	*n = TS_ARRAY_LEN(route_names);
	return route_names;
}

int ts_app_init_urls(struct ts_app *app, const char *url)
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

void ts_app_clear_urls(struct ts_app *app)
{
	free(app->public_url);
	free(app->scheme);
	free(app->origin);
	free(app->base_path);
}

bool ts_app_issuer_ok(const struct ts_app *app, const struct ts_tenant *t, const char *iss)
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

void ts_app_store_unavailable(struct ts_http_resp *resp)
{
	ts_http_resp_error(resp, 503, TS_ERR_TEMPORARILY_UNAVAILABLE, TS_STORE_UNAVAILABLE_DESC);
	ts_http_resp_header(resp, "Retry-After", "2");
	ts_http_resp_header(resp, "Cache-Control", "no-store");
}

static void healthz(struct ts_http_resp *resp)
{
	ts_http_resp_text(resp, 200, "application/json", "{\"status\":\"ok\"}", 15);
	ts_http_resp_header(resp, "Cache-Control", "no-store");
}

/* The first tenant that cannot sign its access tokens (the master key
 * could not unseal the current key of its access-token algorithm), or
 * NULL. */
static const struct ts_tenant *sealed_tenant(const struct ts_snapshot *snap)
{
	size_t i;

	for (i = 0; i < snap->ntenants; i++) {
		const struct ts_tenant *t = snap->tenants[i];
		if (t->signer[t->access_token_alg] == NULL)
			return t;
	}
	return NULL;
}

/* Whether the server is ready: storage answers, the configuration is
 * loaded and every tenant can sign. Sets *sealed to a tenant that cannot. */
static bool ready(struct ts_app *app, const struct ts_tenant **sealed)
{
	const struct ts_snapshot *snap = ts_registry_get(app->reg);

	*sealed = NULL;
	if (ts_store_ping(app->store) != TS_OK || snap == NULL)
		return false;
	*sealed = sealed_tenant(snap);
	return *sealed == NULL;
}

static void readyz(struct ts_app *app, struct ts_http_req *req, struct ts_http_resp *resp)
{
	const struct ts_tenant *t;

	if (!ready(app, &t) && t == NULL) {
		ts_app_store_unavailable(resp);
		return;
	}
	if (t != NULL) {
		ts_http_resp_error(resp, 503, TS_ERR_TEMPORARILY_UNAVAILABLE,
				   ts_arena_printf(req->arena,
						   "the master key cannot open the signing keys of "
						   "tenant %s",
						   t->name));
		ts_http_resp_header(resp, "Retry-After", "10");
		ts_http_resp_header(resp, "Cache-Control", "no-store");
		return;
	}
	ts_http_resp_text(resp, 200, "application/json", "{\"status\":\"ready\"}", 18);
	ts_http_resp_header(resp, "Cache-Control", "no-store");
}

/* /metrics pings storage for tessera_ready, so it runs on the blocking
 * pool (ts_app_blocking). */
static void metrics(struct ts_app *app, struct ts_http_resp *resp)
{
	const struct ts_tenant *sealed;
	struct ts_buf b;
	bool is_ready = ready(app, &sealed);

	ts_buf_init(&b, METRICS_MAX);
	if (ts_metrics_render(app->metrics, ts_registry_stats(app->reg), is_ready, &b) != TS_OK) {
		ts_buf_clear(&b);
		ts_http_resp_error(resp, 500, TS_ERR_SERVER_ERROR, "metrics too large");
		return;
	}
	ts_http_resp_text(resp, 200, "text/plain; version=0.0.4; charset=utf-8", b.p ? b.p : "",
			  b.len);
	ts_buf_clear(&b);
}

static void not_found(struct ts_http_req *req, struct ts_http_resp *resp)
{
	req->route_name = ROUTE_NOT_FOUND;
	ts_http_resp_error(resp, 404, "not_found", "no such endpoint");
}

/* CORS (Fetch standard): an origin gets access when a client of the tenant
 * lists it, or for the public discovery and JWKS documents. Returns true if
 * the request was a preflight and has been answered. */
static bool cors(struct ts_rctx *rc, struct ts_http_req *req, struct ts_http_resp *resp,
		 const char *route)
{
	const char *origin = ts_http_header(req, "Origin");
	bool allowed, is_public = public_route(route);

	if (origin == NULL)
		return false;
	allowed = is_public || ts_tenant_allows_origin(rc->tenant, origin);
	if (allowed) {
		ts_http_resp_header(resp, "Access-Control-Allow-Origin", is_public ? "*" : origin);
		if (!is_public)
			ts_http_resp_header(resp, "Vary", "Origin");
	}
	if (strcmp(req->method, "OPTIONS") != 0 ||
	    ts_http_header(req, "Access-Control-Request-Method") == NULL)
		return false;
	req->route_name = ROUTE_PREFLIGHT;
	resp->status = 204;
	if (allowed) {
		ts_http_resp_header(resp, "Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
		ts_http_resp_header(resp, "Access-Control-Allow-Headers",
				    "Authorization, Content-Type, X-Request-ID, X-CSRF-Token");
		ts_http_resp_header(resp, "Access-Control-Max-Age", CORS_MAX_AGE);
	}
	return true;
}

static void tenant_dispatch(struct ts_rctx *rc, struct ts_http_req *req, struct ts_http_resp *resp,
			    const char *subpath)
{
	const struct ts_route *route = NULL;
	const struct ts_compat_route *compat = NULL;
	const char *allow = NULL;
	int r;

	ts_compat_prepare(rc, req);
	r = ts_router_match(tenant_routes, TS_ARRAY_LEN(tenant_routes), req, subpath, &route, &allow);
	if (r == TS_ENOTFOUND) /* the routes of the tenant's compatibility profiles */
		r = ts_compat_match(rc, req, subpath, &compat, &allow);
	if (cors(rc, req, resp, r == TS_OK ? req->route_name : NULL))
		return;
	if (r == TS_ENOTFOUND) {
		not_found(req, resp);
		return;
	}
	if (r == TS_EINVAL) {
		ts_http_resp_error(resp, 405, TS_ERR_INVALID_REQUEST, "method not allowed");
		ts_http_resp_header(resp, "Allow", allow);
		return;
	}
	if (compat)
		ts_compat_run(rc, req, resp, compat);
	else
		route->fn(rc, req, resp);
}

/* "{base}/t/{name}{rest}": sets *name (arena) and *rest (borrowed). */
static bool split_tenant_path(struct ts_arena *a, const char *path, const char *base,
			      const char **name, const char **rest)
{
	size_t bl = strlen(base);
	const char *p, *end;

	if (strncmp(path, base, bl) != 0 || strncmp(path + bl, "/t/", 3) != 0)
		return false;
	p = path + bl + 3;
	end = strchr(p, '/');
	if (end == NULL || end == p)
		return false;
	*name = ts_arena_strndup(a, p, (size_t)(end - p));
	*rest = end;
	return true;
}

void ts_app_dispatch(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_app *app = ctx;
	struct ts_rctx *rc = ts_arena_alloc(req->arena, sizeof(*rc));
	const char *path = req->path, *name = NULL, *rest = NULL;
	static const char *const wk[] = {"/.well-known/openid-configuration",
					 "/.well-known/oauth-authorization-server"};
	size_t i;

	rc->app = app;
	rc->snap = ts_registry_get(app->reg);
	req->app = rc;
	if ((strcmp(path, "/healthz") == 0 || strcmp(path, "/readyz") == 0 ||
	     strcmp(path, "/metrics") == 0) &&
	    strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
		req->route_name = path[1] == 'h' ? ROUTE_HEALTHZ : path[1] == 'r' ? ROUTE_READYZ : ROUTE_METRICS;
		ts_http_resp_error(resp, 405, TS_ERR_INVALID_REQUEST, "method not allowed");
		ts_http_resp_header(resp, "Allow", "GET, HEAD");
		return;
	}
	if (strcmp(path, "/healthz") == 0) {
		req->route_name = ROUTE_HEALTHZ;
		healthz(resp);
		return;
	}
	if (strcmp(path, "/readyz") == 0) {
		req->route_name = ROUTE_READYZ;
		readyz(app, req, resp);
		return;
	}
	/* The metrics name every tenant and its activity: on the main listener
	 * only for this machine (a scraper elsewhere uses --metrics-listen). */
	if (strcmp(path, "/metrics") == 0 && req->local) {
		req->route_name = ROUTE_METRICS;
		metrics(app, resp);
		return;
	}
	if (strcmp(path, "/metrics") == 0) {
		not_found(req, resp);
		return;
	}
	/* RFC 8414 §3.1: /.well-known/oauth-authorization-server{issuer path};
	 * the OpenID document is served at the same placement too. */
	for (i = 0; i < TS_ARRAY_LEN(wk); i++) {
		size_t wl = strlen(wk[i]), bl = strlen(app->base_path);
		const char *p = path + wl;
		if (strncmp(path, wk[i], wl) != 0 || strncmp(p, app->base_path, bl) != 0 ||
		    strncmp(p + bl, "/t/", 3) != 0 || p[bl + 3] == '\0' || strchr(p + bl + 3, '/'))
			continue;
		rc->tenant = ts_snapshot_tenant(rc->snap, p + bl + 3);
		if (rc->tenant == NULL)
			break;
		rc->issuer = rc->tenant->issuer;
		tenant_dispatch(rc, req, resp, wk[i]);
		return;
	}
	if (split_tenant_path(req->arena, path, app->base_path, &name, &rest)) {
		rc->tenant = ts_snapshot_tenant(rc->snap, name);
		if (rc->tenant == NULL) {
			not_found(req, resp);
			return;
		}
		rc->issuer = rc->tenant->issuer;
		tenant_dispatch(rc, req, resp, rest);
		return;
	}
	rc->tenant = ts_snapshot_tenant_by_domain(rc->snap, req->host);
	if (rc->tenant) {
		rc->issuer = ts_arena_printf(req->arena, "%s://%s", app->scheme, req->host);
		tenant_dispatch(rc, req, resp, path);
		return;
	}
	not_found(req, resp);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* Which requests run on the event loop: those that are pure computation on
 * the tenant snapshot. The client-credentials grant is the hot path (one
 * signature), unless it carries a client assertion, whose jti is recorded;
 * so is the introspection of a client's own access token.
 * Everything else may write, hash a password or call out, and goes to the
 * blocking pool. A wrong guess costs a thread hop, never a wrong answer:
 * this only picks the thread. */
bool ts_app_blocking(void *ctx, const struct ts_http_req *req)
{
	static const char *const cheap_gets[] = {"/healthz", "/oauth2/jwks",
						 "/.well-known/openid-configuration",
						 "/.well-known/oauth-authorization-server"};
	const char *grant;
	size_t i;

	(void)ctx;
	if (strcmp(req->method, "OPTIONS") == 0)
		return false;
	if (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0) {
		for (i = 0; i < TS_ARRAY_LEN(cheap_gets); i++)
			if (ends_with(req->path, cheap_gets[i]) ||
			    strncmp(req->path, cheap_gets[i], strlen(cheap_gets[i])) == 0)
				return false;
		return true;
	}
	/* Introspection starts on the event loop, and goes on to a blocking
	 * thread itself when the answer needs storage (resp->retry_blocking). */
	if (strcmp(req->method, "POST") == 0 && ends_with(req->path, "/oauth2/introspect"))
		return ts_params_get(req->form, req->nform, TS_P_CLIENT_ASSERTION, NULL) != NULL;
	if (strcmp(req->method, "POST") == 0 && ends_with(req->path, "/oauth2/token")) {
		grant = ts_params_get(req->form, req->nform, TS_P_GRANT_TYPE, NULL);
		return grant == NULL || strcmp(grant, "client_credentials") != 0 ||
		       ts_params_get(req->form, req->nform, TS_P_CLIENT_ASSERTION, NULL) != NULL;
	}
	return true;
}

void ts_app_dispatch_ops(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_app *app = ctx;
	const char *path = req->path;
	bool known = strcmp(path, "/healthz") == 0 || strcmp(path, "/readyz") == 0 ||
		     strcmp(path, "/metrics") == 0;

	if (!known) {
		not_found(req, resp);
		return;
	}
	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
		req->route_name = path[1] == 'h' ? ROUTE_HEALTHZ : path[1] == 'r' ? ROUTE_READYZ : ROUTE_METRICS;
		ts_http_resp_error(resp, 405, TS_ERR_INVALID_REQUEST, "method not allowed");
		ts_http_resp_header(resp, "Allow", "GET, HEAD");
	} else if (path[1] == 'h') {
		req->route_name = ROUTE_HEALTHZ;
		healthz(resp);
	} else if (path[1] == 'r') {
		req->route_name = ROUTE_READYZ;
		readyz(app, req, resp);
	} else {
		req->route_name = ROUTE_METRICS;
		metrics(app, resp);
	}
}

void ts_app_done(void *ctx, const struct ts_http_req *req, int status, int64_t duration_us)
{
	struct ts_app *app = ctx;
	const struct ts_rctx *rc = req->app;

	ts_metrics_request(app->metrics, req->route_name, status, duration_us);
	if (atomic_load_explicit(&app->access_log, memory_order_relaxed) &&
	    ts_log_get_level() <= TS_LOG_INFO) {
		struct ts_buf b;
		ts_buf_init(&b, 4096);
		char when[TS_LOG_TIME_MAX];
		ts_log_time(when);
		ts_buf_appendf(&b, "{\"time\":\"%s\",\"level\":\"info\",\"request_id\":\"%s\",\"method\":\"",
			       when, req->request_id);
		ts_buf_append_json_escaped(&b, req->method, strlen(req->method));
		ts_buf_appends(&b, "\",\"path\":\"");
		ts_buf_append_json_escaped(&b, req->path, strnlen(req->path, 512));
		ts_buf_appendf(&b, "\",\"status\":%d,\"duration_ms\":%.3f,\"route\":\"%s\"", status,
			       (double)duration_us / 1000.0, req->route_name ? req->route_name : "-");
		if (rc && rc->tenant)
			ts_buf_appendf(&b, ",\"tenant\":\"%s\"", rc->tenant->name);
		ts_buf_appends(&b, ",\"remote\":\"");
		ts_buf_append_json_escaped(&b, req->remote_addr, strlen(req->remote_addr));
		if (strcmp(req->peer_addr, req->remote_addr) != 0) {
			ts_buf_appends(&b, "\",\"peer\":\"");
			ts_buf_appends(&b, req->peer_addr);
		}
		ts_buf_appends(&b, "\"}");
		if (b.p)
			ts_log_json_line(b.p, b.len);
		ts_buf_clear(&b);
	}
}
