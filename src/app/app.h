/* app.h: the server application: the context every handler gets, tenant
 * resolution (by path /t/{name} or by Host), the route table, CORS, and the
 * per-request bookkeeping (metrics, access log). */
#ifndef TS_APP_H
#define TS_APP_H

#include "core/core.h"
#include "identity/identity.h"
#include "http/http.h"
#include "ops/ops.h"
#include "store/store.h"
#include "tenant/tenant.h"

struct ts_vault;

struct ts_app {
	struct ts_store *store;
	struct ts_registry *reg;
	struct ts_metrics *metrics;
	struct ts_audit *audit;
	char *public_url;   /* without trailing slash */
	char *scheme;       /* "http" or "https", from public_url */
	char *origin;       /* scheme://host[:port] of public_url */
	char *base_path;    /* path of public_url ("" or "/prefix") */
	atomic_bool access_log; /* one JSON line per request (SIGHUP may change it) */
	struct ts_throttle *throttle; /* failed password and client checks */
	unsigned char csrf_key[TS_SHA256_LEN]; /* HMAC key for CSRF tokens, derived from the master key */
	struct ts_vault *vault;       /* the token vault (vault/vault.h) */
};

/* What a tenant route handler gets as its ctx. Lives for the request. */
struct ts_rctx {
	struct ts_app *app;
	const struct ts_snapshot *snap;
	const struct ts_tenant *tenant;
	const char *issuer; /* the issuer this request addresses (path or domain form) */
};

/* Fills the public_url-derived members of app from url. */
int ts_app_init_urls(struct ts_app *app, const char *url);
void ts_app_clear_urls(struct ts_app *app);
/* The route names, for the metrics registry. Static. */
const char *const *ts_app_route_names(size_t *n);
/* ts_http_dispatch_fn and ts_http_done_fn for the HTTP server. */
void ts_app_dispatch(void *app, struct ts_http_req *req, struct ts_http_resp *resp);
/* ts_http_blocking_fn: true unless the request is pure computation (the
 * client-credentials grant, discovery, JWKS, health, metrics, CORS). */
bool ts_app_blocking(void *ctx, const struct ts_http_req *req);
/* ts_http_dispatch_fn of the --metrics-listen listener: /healthz, /readyz
 * and /metrics for any peer, 404 for everything else. */
void ts_app_dispatch_ops(void *app, struct ts_http_req *req, struct ts_http_resp *resp);
void ts_app_done(void *app, const struct ts_http_req *req, int status, int64_t duration_us);
/* Whether iss is one of the tenant's issuers (path form or a domain form). */
bool ts_app_issuer_ok(const struct ts_app *app, const struct ts_tenant *t, const char *iss);
/* Sets the 503 answer for a storage failure (RFC 6749 §5.2 has no code for
 * it; temporarily_unavailable with Retry-After is what clients retry on). */
void ts_app_store_unavailable(struct ts_http_resp *resp);
/* The error_description of every storage-failure answer. */
#define TS_STORE_UNAVAILABLE_DESC "storage is unavailable; retry shortly"

#endif
