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

/* ---- the running server (serve.c) ---- */
/* What the server runs with, as the command line resolved it. Borrowed
 * for the call to ts_app_server_start only, except trusted, mks, version
 * and commit, which must outlive the server. */
struct ts_app_config {
	const char *public_url;     /* the issuers' base */
	const char *listen;         /* the main listener's address */
	const char *metrics_listen; /* a second listener for /metrics, /healthz and
				     * /readyz, or NULL */
	unsigned threads;           /* event-loop threads; 0: one per core */
	int reload_ms;              /* configuration poll interval */
	bool access_log;            /* one JSON line per request */
	const struct ts_cidr_list *trusted;  /* proxies whose forwarding headers count */
	const struct ts_master_key *mks;     /* mks[0] seals; the others only open */
	size_t nmks;                         /* at least 1 */
	const char *version, *commit;        /* for tessera_build_info */
};
struct ts_app_server;
/* Whether url can be the public URL: http or https, without query or
 * fragment. */
bool ts_app_public_url_ok(const char *url);
/* Starts the server on store (owned by the server from here on, closed by
 * ts_app_server_stop): the application state, key and storage
 * maintenance, the listeners. *out is set even on failure, and must be
 * stopped; err then holds one sentence for the operator, or is empty when
 * the failure was logged already. TS_OK, TS_EINVAL, TS_ESTORE, TS_EIO. */
int ts_app_server_start(const struct ts_app_config *cfg, struct ts_store *store,
			struct ts_app_server **out, char *err, size_t cap);
/* Turns the access log on or off while running (SIGHUP). */
void ts_app_server_set_access_log(struct ts_app_server *s, bool on);
/* Stops accepting, lets in-flight requests finish (up to grace_ms), stops
 * the background work and frees everything, the store too. NULL is a
 * no-op. */
void ts_app_server_stop(struct ts_app_server *s, int grace_ms);

/* ---- automatic signing-key rotation (key_rotation.c) ---- */
struct ts_key_rotation;
/* Starts the thread that rotates the keys of the tenants that are due, on
 * st, sealing new keys under mk and counting rotations in metrics (all
 * borrowed until ts_key_rotation_stop). TS_OK, TS_ECRYPTO, TS_EIO. */
int ts_key_rotation_start(struct ts_store *st, const struct ts_master_key *mk,
			  const char *public_url, struct ts_metrics *metrics,
			  struct ts_key_rotation **out);
/* Stops the thread (after the rotation under way) and frees it. NULL is a
 * no-op. */
void ts_key_rotation_stop(struct ts_key_rotation *r);

#endif
