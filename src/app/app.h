/* app.h: the server application, its composition root: tenant
 * resolution (by path /t/{name} or by Host), the route table, CORS, and the
 * per-request bookkeeping (metrics, access log). */
#ifndef TS_APP_H
#define TS_APP_H

#include "http/http.h"
#include "web/web.h"

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

#endif
