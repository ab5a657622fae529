/* compat.h: compatibility profiles. A tenant may turn on profiles by name
 * ("compat" in its configuration); each profile is a table of extra routes
 * that map a (method, path) to an existing handler, with an optional
 * adapter that rewrites the request before the handler and one that
 * reshapes the answer after it. A profile adds routes and shapes only: the
 * handler behind a route is the native one, with every check it makes. */
#ifndef TS_COMPAT_H
#define TS_COMPAT_H

#include "core/core.h"
#include "http/http.h"
#include "tenant/tenant.h" /* the profile bits and names */

#include <jansson.h>

struct ts_rctx;

/* One call through a profile route: what the adapters share. */
struct ts_compat_call {
	struct ts_rctx *rc;
	const char *asked_scope; /* the scope as the client sent it, before rewriting */
	const char *expanded_scope; /* what "all" was rewritten to (arena), or NULL */
};

/* A request adapter: rewrites req before the handler. Returns false when it
 * has answered the request itself (resp set); the handler is then skipped. */
typedef bool (*ts_compat_before_fn)(struct ts_compat_call *call, struct ts_http_req *req,
				    struct ts_http_resp *resp);
/* A response adapter: reshapes the handler's answer. */
typedef void (*ts_compat_after_fn)(struct ts_compat_call *call, struct ts_http_req *req,
				   struct ts_http_resp *resp);

/* A profile route. pattern as for ts_router_match; NULL: the tenant's
 * mobile login method (/api/method/{mobile_login_method}). name is the
 * metrics label: the native twin's. */
struct ts_compat_route {
	const char *method;
	const char *pattern;
	ts_route_fn handler;
	const char *name;
	ts_compat_before_fn before; /* or NULL */
	ts_compat_after_fn after;   /* or NULL */
};

struct ts_compat_table {
	const struct ts_compat_route *routes;
	size_t nroutes;
};

/* The tables, one per profile file. */
extern const struct ts_compat_table ts_compat_frappe;
extern const struct ts_compat_table ts_compat_activity;
extern const struct ts_compat_table ts_compat_integrations;

/* ---- dispatch (dispatch.c) ---- */
/* Finds the route of the tenant's profiles for (method, path): TS_OK with
 * *out set (and req->route_params, req->route_name), TS_ENOTFOUND, or
 * TS_EINVAL when a route has the path but not the method (*allow set). */
int ts_compat_match(const struct ts_rctx *rc, struct ts_http_req *req, const char *path,
		    const struct ts_compat_route **out, const char **allow);
/* Prepares any request to a tenant, before routing: with the frappe
 * profile on, the session cookie and the CSRF header are also taken under
 * Frappe's names (sid, X-Frappe-CSRF-Token), on every route. */
void ts_compat_prepare(const struct ts_rctx *rc, struct ts_http_req *req);
void ts_compat_frappe_prepare(struct ts_http_req *req);
/* Runs a matched route: request adapter, handler, response adapter. */
void ts_compat_run(struct ts_rctx *rc, struct ts_http_req *req, struct ts_http_resp *resp,
		   const struct ts_compat_route *route);

/* ---- adapter helpers (dispatch.c) ---- */
/* A body field from a JSON object or a form (NULL if absent). */
const char *ts_compat_field(const struct ts_http_req *req, const char *name);
/* Renames a body field (form or JSON) from -> to, unless to is present. */
void ts_compat_rename(struct ts_http_req *req, const char *from, const char *to);
/* Sets a parameter of the form (body) or, when query, of the query string. */
void ts_compat_param_set(struct ts_http_req *req, bool query, const char *name, const char *value);
/* The answer's body as JSON (new reference), or NULL. */
json_t *ts_compat_body(const struct ts_http_resp *resp);
/* Replaces the answer's body with obj (borrowed), keeping status and headers. */
void ts_compat_body_set(struct ts_http_resp *resp, const json_t *obj);
/* Renames a cookie set by the answer (Set-Cookie "from=..." -> "to=..."). */
void ts_compat_cookie_rename(struct ts_http_resp *resp, const char *from, const char *to);

#endif
