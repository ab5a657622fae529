/* dispatch.c: finding a route among the tenant's profiles, running it
 * (request adapter, the native handler, response adapter), and the small
 * rewrites adapters are made of. */
#include "compat.h"

#include "web/web.h"

#include <string.h>
#include <strings.h>

#define METHOD_PREFIX "/api/method/"

struct profile_table {
	unsigned bit;
	const struct ts_compat_table *table;
};

static const struct profile_table tables[] = {
	{TS_COMPAT_FRAPPE, &ts_compat_frappe},
	{TS_COMPAT_ACTIVITY, &ts_compat_activity},
	{TS_COMPAT_INTEGRATIONS, &ts_compat_integrations},
};

/* The path of a route: its pattern, or the tenant's mobile login method. */
static const char *route_path(const struct ts_tenant *t, const struct ts_compat_route *cr,
			      struct ts_arena *a)
{
	if (cr->pattern)
		return cr->pattern;
	return ts_arena_printf(a, "%s%s", METHOD_PREFIX,
			       t->mobile_login_method ? t->mobile_login_method
						      : TS_COMPAT_MOBILE_LOGIN_DEFAULT);
}

int ts_compat_match(const struct ts_rctx *rc, struct ts_http_req *req, const char *path,
		    const struct ts_compat_route **out, const char **allow)
{
	const struct ts_compat_route **map;
	const struct ts_route *hit = NULL;
	struct ts_route *rv;
	size_t i, j, n = 0;
	int r;

	*out = NULL;
	for (i = 0; i < TS_ARRAY_LEN(tables); i++)
		if (rc->tenant->compat & tables[i].bit)
			n += tables[i].table->nroutes;
	if (n == 0)
		return TS_ENOTFOUND;
	rv = ts_arena_alloc(req->arena, n * sizeof(*rv));
	map = ts_arena_alloc(req->arena, n * sizeof(*map));
	n = 0;
	for (i = 0; i < TS_ARRAY_LEN(tables); i++) {
		if (!(rc->tenant->compat & tables[i].bit))
			continue;
		for (j = 0; j < tables[i].table->nroutes; j++) {
			const struct ts_compat_route *cr = &tables[i].table->routes[j];
			rv[n] = (struct ts_route){cr->method, route_path(rc->tenant, cr, req->arena),
						  cr->handler, cr->name};
			map[n++] = cr;
		}
	}
	r = ts_router_match(rv, n, req, path, &hit, allow);
	if (r == TS_OK)
		*out = map[hit - rv];
	return r;
}

void ts_compat_prepare(const struct ts_rctx *rc, struct ts_http_req *req)
{
	if (rc->tenant->compat & TS_COMPAT_FRAPPE)
		ts_compat_frappe_prepare(req);
}

void ts_compat_run(struct ts_rctx *rc, struct ts_http_req *req, struct ts_http_resp *resp,
		   const struct ts_compat_route *route)
{
	struct ts_compat_call call;

	memset(&call, 0, sizeof(call));
	call.rc = rc;
	if (route->before && !route->before(&call, req, resp))
		return;
	route->handler(rc, req, resp);
	if (route->after)
		route->after(&call, req, resp);
}

const char *ts_compat_field(const struct ts_http_req *req, const char *name)
{
	if (json_is_object(req->json))
		return json_string_value(json_object_get(req->json, name));
	return ts_params_get(req->form, req->nform, name, NULL);
}

void ts_compat_rename(struct ts_http_req *req, const char *from, const char *to)
{
	json_t *v;
	size_t i;

	if (json_is_object(req->json)) {
		v = json_object_get(req->json, from);
		if (v && json_object_get(req->json, to) == NULL)
			json_object_set(req->json, to, v);
		return;
	}
	if (ts_params_get(req->form, req->nform, to, NULL) != NULL)
		return;
	for (i = 0; i < req->nform; i++)
		if (strcmp(req->form[i].name, from) == 0)
			req->form[i].name = to;
}

void ts_compat_param_set(struct ts_http_req *req, bool query, const char *name, const char *value)
{
	struct ts_param **v = query ? &req->query : &req->form, *grown;
	size_t *n = query ? &req->nquery : &req->nform, i;

	for (i = 0; i < *n; i++) {
		if (strcmp((*v)[i].name, name) == 0) {
			(*v)[i].value = value;
			return;
		}
	}
	grown = ts_arena_alloc(req->arena, (*n + 1) * sizeof(*grown));
	if (*n)
		memcpy(grown, *v, *n * sizeof(*grown));
	grown[*n] = (struct ts_param){name, value};
	*v = grown;
	(*n)++;
}

json_t *ts_compat_body(const struct ts_http_resp *resp)
{
	if (resp->body.p == NULL)
		return NULL;
	return json_loadb(resp->body.p, resp->body.len, 0, NULL);
}

void ts_compat_body_set(struct ts_http_resp *resp, const json_t *obj)
{
	/* The old body may hold a secret that the new one carries too. */
	ts_buf_clear_secret(&resp->body);
	ts_http_resp_json(resp, resp->status, obj);
}

void ts_compat_cookie_rename(struct ts_http_resp *resp, const char *from, const char *to)
{
	size_t i, fl = strlen(from);

	for (i = 0; i < resp->nheaders; i++) {
		const char *v = resp->headers[i].value;
		if (strcasecmp(resp->headers[i].name, "Set-Cookie") == 0 && strncmp(v, from, fl) == 0 &&
		    v[fl] == '=')
			resp->headers[i].value = ts_arena_printf(resp->arena, "%s%s", to, v + fl);
	}
}
