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
#include "store/store_core.h"

#include <pthread.h>
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

/* Whether a request to a route is pure computation that may run on the
 * event loop (decided before the route runs, from the parsed request). */
typedef bool (*inline_fn)(const struct ts_http_req *req);

/* Route flag: the route's documents are public, any origin may read them
 * (CORS "*"). */
#define ROUTE_PUBLIC 1u

/* A route and its facts: the one place they are written. */
struct app_route {
	struct ts_route route;
	unsigned flags;         /* ROUTE_* */
	inline_fn runs_inline;  /* NULL: always on the blocking pool */
};

static bool always_inline(const struct ts_http_req *req)
{
	(void)req;
	return true;
}

static const struct app_route tenant_table[] = {
	{{"GET", "/.well-known/openid-configuration", ts_oidc_discovery, ROUTE_DISCOVERY},
	 ROUTE_PUBLIC, always_inline},
	{{"GET", "/.well-known/oauth-authorization-server", ts_oidc_discovery, ROUTE_DISCOVERY},
	 ROUTE_PUBLIC, always_inline},
	{{"GET", "/oauth2/jwks", ts_oidc_jwks, "jwks"}, ROUTE_PUBLIC, always_inline},
	{{"POST", "/oauth2/token", ts_oauth_token, "token"}, 0, ts_oauth_token_inline},
	{{"POST", "/oauth2/introspect", ts_oauth_introspect, "introspect"}, 0, ts_oauth_introspect_inline},
	{{"POST", "/oauth2/revoke", ts_oauth_revoke, "revoke"}, 0, NULL},
	{{"GET", "/oauth2/authorize", ts_oauth_authorize, "authorize"}, 0, NULL},
	{{"POST", "/oauth2/authorize", ts_oauth_authorize, "authorize"}, 0, NULL},
	{{"GET", "/oauth2/userinfo", ts_oidc_userinfo, "userinfo"}, 0, NULL},
	{{"POST", "/oauth2/userinfo", ts_oidc_userinfo, "userinfo"}, 0, NULL},
	{{"GET", "/login", ts_oidc_login, "login"}, 0, NULL},
	{{"POST", "/login", ts_oidc_login, "login"}, 0, NULL},
	{{"GET", "/consent", ts_oidc_consent, "consent"}, 0, NULL},
	{{"POST", "/consent", ts_oidc_consent, "consent"}, 0, NULL},
	{{"GET", "/logout", ts_oidc_logout, "logout"}, 0, NULL},
	{{"POST", "/logout", ts_oidc_logout, "logout"}, 0, NULL},
	{{"POST", "/oauth2/device_authorization", ts_oauth_device_authorization, "device_authorization"},
	 0, NULL},
	{{"GET", "/device", ts_oauth_device_page, "device"}, 0, NULL},
	{{"POST", "/device", ts_oauth_device_page, "device"}, 0, NULL},
	{{"POST", "/api/login", ts_api_login, "api_login"}, 0, NULL},
	{{"POST", "/api/logout", ts_api_logout, "api_logout"}, 0, NULL},
	{{"POST", "/api/mobile/login", ts_api_mobile_login, "api_mobile_login"}, 0, NULL},
	{{"GET", "/api/me", ts_api_me, "api_me"}, 0, NULL},
	{{"POST", "/api/groups", ts_api_group_create, "api_groups"}, 0, NULL},
	{{"GET", "/api/groups/{id}", ts_api_group_get, "api_groups"}, 0, NULL},
	{{"GET", "/api/groups/{id}/members", ts_api_group_members, "api_groups"}, 0, NULL},
	{{"POST", "/api/groups/{id}/members", ts_api_group_member_add, "api_groups"}, 0, NULL},
	{{"DELETE", "/api/groups/{id}/members/{username}", ts_api_group_member_remove, "api_groups"},
	 0, NULL},
	{{"POST", "/api/apikeys", ts_api_apikey_create, "api_apikeys"}, 0, NULL},
	{{"DELETE", "/api/apikeys/{key}", ts_api_apikey_delete, "api_apikeys"}, 0, NULL},
	{{"POST", "/api/connections", ts_vault_api_create, "api_connections"}, 0, NULL},
	{{"GET", "/api/connections", ts_vault_api_list, "api_connections"}, 0, NULL},
	{{"GET", "/api/connections/{id}", ts_vault_api_get, "api_connections"}, 0, NULL},
	{{"DELETE", "/api/connections/{id}", ts_vault_api_delete, "api_connections"}, 0, NULL},
	{{"POST", "/api/connections/{id}/token", ts_vault_api_token, "api_connections_token"},
	 0, NULL},
	{{"POST", "/api/connections/{id}/sign", ts_vault_api_sign, "api_connections_sign"},
	 0, NULL},
	{{"POST", "/api/connections/{id}/refresh", ts_vault_api_refresh, "api_connections_refresh"},
	 0, NULL},
	{{"GET", "/connect/callback", ts_vault_callback, "connect_callback"}, 0, NULL},
	{{"POST", "/oauth2/par", ts_oauth_par, "par"}, 0, NULL},
	{{"POST", "/oauth2/register", ts_oauth_register, "register"}, 0, NULL},
	{{"GET", "/oauth2/register/{id}", ts_oauth_register_manage, "register_manage"}, 0, NULL},
	{{"PUT", "/oauth2/register/{id}", ts_oauth_register_manage, "register_manage"}, 0, NULL},
	{{"DELETE", "/oauth2/register/{id}", ts_oauth_register_manage, "register_manage"}, 0, NULL},
};

static void healthz(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
static void readyz(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
static void metrics_local(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
static void metrics(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);

/* Server-wide routes on the main listener, before any tenant. The HEAD
 * entries only name the method in a 405's Allow: GET routes answer HEAD.
 * /readyz and /metrics ping storage: the blocking pool. */
static const struct app_route server_table[] = {
	{{"GET", "/healthz", healthz, ROUTE_HEALTHZ}, 0, always_inline},
	{{"HEAD", "/healthz", healthz, ROUTE_HEALTHZ}, 0, always_inline},
	{{"GET", "/readyz", readyz, ROUTE_READYZ}, 0, NULL},
	{{"HEAD", "/readyz", readyz, ROUTE_READYZ}, 0, NULL},
	{{"GET", "/metrics", metrics_local, ROUTE_METRICS}, 0, NULL},
	{{"HEAD", "/metrics", metrics_local, ROUTE_METRICS}, 0, NULL},
};

/* The routes of the --metrics-listen listener, for any peer. */
static const struct app_route ops_table[] = {
	{{"GET", "/healthz", healthz, ROUTE_HEALTHZ}, 0, always_inline},
	{{"HEAD", "/healthz", healthz, ROUTE_HEALTHZ}, 0, always_inline},
	{{"GET", "/readyz", readyz, ROUTE_READYZ}, 0, NULL},
	{{"HEAD", "/readyz", readyz, ROUTE_READYZ}, 0, NULL},
	{{"GET", "/metrics", metrics, ROUTE_METRICS}, 0, NULL},
	{{"HEAD", "/metrics", metrics, ROUTE_METRICS}, 0, NULL},
};

/* Derived once from the tables above: the routes alone, as the router
 * takes them (same order, so an index names the facts), and every route
 * name once, in table order, then the answers without a route. */
static struct ts_route tenant_routes[TS_ARRAY_LEN(tenant_table)];
static struct ts_route server_routes[TS_ARRAY_LEN(server_table)];
static struct ts_route ops_routes[TS_ARRAY_LEN(ops_table)];
static const char *route_names[TS_ARRAY_LEN(tenant_table) + TS_ARRAY_LEN(server_table) + 2];
static size_t nroute_names;
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void add_name(const char *name)
{
	size_t i;

	for (i = 0; i < nroute_names; i++)
		if (strcmp(route_names[i], name) == 0)
			return;
	route_names[nroute_names++] = name;
}

static void tables_init(void)
{
	size_t i;

	for (i = 0; i < TS_ARRAY_LEN(tenant_table); i++) {
		tenant_routes[i] = tenant_table[i].route;
		add_name(tenant_table[i].route.name);
	}
	for (i = 0; i < TS_ARRAY_LEN(server_table); i++) {
		server_routes[i] = server_table[i].route;
		add_name(server_table[i].route.name);
	}
	for (i = 0; i < TS_ARRAY_LEN(ops_table); i++)
		ops_routes[i] = ops_table[i].route;
	add_name(ROUTE_PREFLIGHT);
	add_name(ROUTE_NOT_FOUND);
}

const char *const *ts_app_route_names(size_t *n)
{
	pthread_once(&tables_once, tables_init);
	*n = nroute_names;
	return route_names;
}

static void healthz(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	(void)ctx;
	(void)req;
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

	bool reached = ts_store_ping(app->store) == TS_OK;

	*sealed = NULL;
	ts_registry_storage_seen(app->reg, reached);
	if (!reached || snap == NULL)
		return false;
	*sealed = sealed_tenant(snap);
	return *sealed == NULL;
}

static void readyz(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = ctx;
	const struct ts_tenant *t;

	if (!ready(rc->app, &t) && t == NULL) {
		ts_web_store_unavailable(resp);
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

static void metrics(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = ctx;
	const struct ts_tenant *sealed;
	struct ts_buf b;
	bool is_ready = ready(rc->app, &sealed);

	(void)req;
	ts_buf_init(&b, METRICS_MAX);
	if (ts_metrics_render(rc->app->metrics, ts_registry_stats(rc->app->reg), is_ready, &b) !=
	    TS_OK) {
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

/* The metrics name every tenant and its activity: on the main listener
 * only for this machine (a scraper elsewhere uses --metrics-listen). */
static void metrics_local(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	if (!req->local) {
		not_found(req, resp);
		return;
	}
	metrics(ctx, req, resp);
}

/* The request headers a browser client may send across origins. */
#define CORS_HEADERS "Authorization, Content-Type, DPoP, X-Request-ID, X-CSRF-Token"

/* CORS (Fetch standard): an origin gets access, with credentials, when a
 * client of the tenant lists it, or without for a public route
 * (discovery, JWKS: "*"). Returns true if the
 * request was a preflight and has been answered. */
static bool cors(struct ts_rctx *rc, struct ts_http_req *req, struct ts_http_resp *resp,
		 bool is_public)
{
	const char *origin = ts_http_header(req, "Origin");
	bool allowed;

	if (origin == NULL)
		return false;
	allowed = is_public || ts_tenant_allows_origin(rc->tenant, origin);
	if (allowed) {
		ts_http_resp_header(resp, "Access-Control-Allow-Origin", is_public ? "*" : origin);
		/* A listed origin may also use the session cookie (login, the
		 * identity API): its credentialed requests get their answers. */
		if (!is_public) {
			ts_http_resp_header(resp, "Vary", "Origin");
			ts_http_resp_header(resp, "Access-Control-Allow-Credentials", "true");
		}
		/* What a browser client reads of an answer besides the basics:
		 * the DPoP nonce to retry with, the challenge, the wait. */
		ts_http_resp_header(resp, "Access-Control-Expose-Headers",
				    "DPoP-Nonce, WWW-Authenticate, Retry-After");
	}
	if (strcmp(req->method, "OPTIONS") != 0 ||
	    ts_http_header(req, "Access-Control-Request-Method") == NULL)
		return false;
	req->route_name = ROUTE_PREFLIGHT;
	resp->status = 204;
	if (allowed) {
		ts_http_resp_header(resp, "Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
		ts_http_resp_header(resp, "Access-Control-Allow-Headers",
				    rc->tenant && (rc->tenant->compat & TS_COMPAT_FRAPPE)
					    ? CORS_HEADERS ", X-Frappe-CSRF-Token"
					    : CORS_HEADERS);
		ts_http_resp_header(resp, "Access-Control-Max-Age", CORS_MAX_AGE);
	}
	return true;
}

static void method_not_allowed(struct ts_http_resp *resp, const char *allow)
{
	ts_http_resp_error(resp, 405, TS_ERR_INVALID_REQUEST, "method not allowed");
	ts_http_resp_header(resp, "Allow", allow);
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
	if (cors(rc, req, resp, route && (tenant_table[route - tenant_routes].flags & ROUTE_PUBLIC)))
		return;
	if (r == TS_ENOTFOUND) {
		not_found(req, resp);
		return;
	}
	if (r == TS_EINVAL) {
		method_not_allowed(resp, allow);
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

/* Routes one of a server-wide table (literal paths). true if the path is
 * one of them and the request has been answered. */
static bool server_dispatch(const struct ts_route *routes, size_t n, struct ts_rctx *rc,
			    struct ts_http_req *req, struct ts_http_resp *resp)
{
	const struct ts_route *route = NULL;
	const char *allow = NULL;
	size_t i;
	int r = ts_router_match(routes, n, req, req->path, &route, &allow);

	if (r == TS_ENOTFOUND)
		return false;
	if (r == TS_EINVAL) {
		for (i = 0; i < n; i++)
			if (strcmp(routes[i].pattern, req->path) == 0)
				req->route_name = routes[i].name;
		method_not_allowed(resp, allow);
		return true;
	}
	route->fn(rc, req, resp);
	return true;
}

static struct ts_rctx *rctx_new(struct ts_app *app, struct ts_http_req *req)
{
	struct ts_rctx *rc = ts_arena_alloc(req->arena, sizeof(*rc));

	pthread_once(&tables_once, tables_init);
	rc->app = app;
	rc->snap = ts_registry_get(app->reg);
	req->app = rc;
	return rc;
}

void ts_app_dispatch(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_app *app = ctx;
	struct ts_rctx *rc = rctx_new(app, req);
	const char *path = req->path, *name = NULL, *rest = NULL;
	static const char *const wk[] = {"/.well-known/openid-configuration",
					 "/.well-known/oauth-authorization-server"};
	size_t i;

	if (server_dispatch(server_routes, TS_ARRAY_LEN(server_routes), rc, req, resp))
		return;
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

/* The inline fact of the route whose (literal) pattern ends the path, or
 * starts it (the RFC 8414 path-inserted discovery URLs). true with *inl
 * set when such a route has the request's method. */
static bool inline_fact(const struct app_route *table, size_t n, const struct ts_http_req *req,
			bool *inl)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct ts_route *r = &table[i].route;
		if (table[i].runs_inline == NULL || strchr(r->pattern, '{'))
			continue;
		if (strcmp(r->method, req->method) != 0 &&
		    !(strcmp(r->method, "GET") == 0 && strcmp(req->method, "HEAD") == 0))
			continue;
		if (ends_with(req->path, r->pattern) ||
		    strncmp(req->path, r->pattern, strlen(r->pattern)) == 0) {
			*inl = table[i].runs_inline(req);
			return true;
		}
	}
	return false;
}

/* Which requests run on the event loop: CORS preflights, and those whose
 * route says they are pure computation on the tenant snapshot (the
 * runs_inline fact of the route tables above). Everything else may write,
 * hash a password or call out, and goes to the blocking pool. A wrong
 * guess costs a thread hop, never a wrong answer: this only picks the
 * thread (the tenant is not resolved yet, so the path's end decides). */
bool ts_app_blocking(void *ctx, const struct ts_http_req *req)
{
	bool inl = false;

	(void)ctx;
	if (strcmp(req->method, "OPTIONS") == 0)
		return false;
	if (inline_fact(server_table, TS_ARRAY_LEN(server_table), req, &inl) ||
	    inline_fact(tenant_table, TS_ARRAY_LEN(tenant_table), req, &inl))
		return !inl;
	return true;
}

void ts_app_dispatch_ops(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = rctx_new(ctx, req);

	if (!server_dispatch(ops_routes, TS_ARRAY_LEN(ops_routes), rc, req, resp))
		not_found(req, resp);
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
