/* frappe.c: the "frappe" profile: the methods of Frappe's OAuth 2.0
 * provider (frappe.integrations.oauth2), Frappe's login and logout methods
 * and a mobile app login by app password and device, under /api/method/.
 * Each runs the native handler; the adapters only translate Frappe's
 * parameter, cookie and header names and reshape the answers into Frappe's
 * forms (docs/COMPATIBILITY.md). */
#include "compat.h"

#include "api/api.h"
#include "web/web.h"
#include "oauth/oauth.h"
#include "oidc/oidc.h"

#include <string.h>

#define M "/api/method/"
#define OAUTH2 M "frappe.integrations.oauth2."
#define SCOPE_ALL "all"
#define FRAPPE_SESSION_COOKIE "sid"
#define FRAPPE_CSRF_HEADER "X-Frappe-CSRF-Token"
#define FRAPPE_HOME_PAGE "/app"
#define MOBILE_INVALID "Invalid credentials"

/* The native handlers ask for their own cookie and header names; a Frappe
 * client sends these. */
static const struct ts_http_alias frappe_aliases[] = {
	{TS_SESSION_COOKIE, FRAPPE_SESSION_COOKIE},
	{TS_CSRF_HEADER, FRAPPE_CSRF_HEADER},
};

void ts_compat_frappe_prepare(struct ts_http_req *req)
{
	req->aliases = frappe_aliases;
	req->naliases = TS_ARRAY_LEN(frappe_aliases);
}

/* The client a token or authorization request names (client_id, or the
 * user of Basic authentication), or NULL. */
static const struct ts_client *named_client(const struct ts_rctx *rc, const struct ts_http_req *req,
					    const struct ts_param *v, size_t n)
{
	const char *id = ts_params_get(v, n, TS_P_CLIENT_ID, NULL);

	if (id == NULL && req->auth.scheme == TS_AUTH_BASIC)
		id = req->auth.user;
	return id ? ts_tenant_client(rc->tenant, id) : NULL;
}

/* Frappe's scope "all": every scope the client is allowed. The other words
 * of the request stay; a tenant that defines a scope named "all" keeps its
 * own meaning. Anything the native handler would refuse (no client, a
 * repeated scope) is left for it to refuse. */
static void expand_all(struct ts_compat_call *call, struct ts_http_req *req, bool query)
{
	const struct ts_param *v = query ? req->query : req->form;
	size_t n = query ? req->nquery : req->nform, i;
	const struct ts_client *c;
	const char *scope, *p;
	struct ts_buf b;
	bool dup = false;

	scope = ts_params_get(v, n, TS_P_SCOPE, &dup);
	if (scope == NULL || dup || !ts_scope_has(scope, SCOPE_ALL) ||
	    ts_tenant_scope(call->rc->tenant, SCOPE_ALL) != NULL)
		return;
	c = named_client(call->rc, req, v, n);
	if (c == NULL)
		return;
	ts_buf_init(&b, TS_SCOPE_MAX * 4);
	for (p = scope; *p;) {
		size_t wl = strcspn(p, " ");
		if (wl && !(wl == strlen(SCOPE_ALL) && strncmp(p, SCOPE_ALL, wl) == 0))
			ts_buf_appendf(&b, "%s%.*s", b.len ? " " : "", (int)wl, p);
		p += wl + (p[wl] == ' ');
	}
	for (i = 0; i < c->nscopes; i++)
		if (!ts_scope_has(b.p ? b.p : "", c->scopes[i]))
			ts_buf_appendf(&b, "%s%s", b.len ? " " : "", c->scopes[i]);
	call->asked_scope = scope;
	call->expanded_scope = ts_arena_strdup(req->arena, b.p ? b.p : "");
	ts_compat_param_set(req, query, TS_P_SCOPE, call->expanded_scope);
	ts_buf_clear(&b);
}

static bool authorize_before(struct ts_compat_call *call, struct ts_http_req *req,
			     struct ts_http_resp *resp)
{
	(void)resp;
	expand_all(call, req, strcmp(req->method, "POST") != 0);
	return true;
}

static bool token_before(struct ts_compat_call *call, struct ts_http_req *req,
			 struct ts_http_resp *resp)
{
	(void)resp;
	expand_all(call, req, false);
	return true;
}

/* Whether every word of scope a is in scope b. */
static bool scopes_within(const char *a, const char *b)
{
	const char *p;
	char w[TS_SCOPE_MAX];

	for (p = a; *p;) {
		size_t wl = strcspn(p, " ");
		if (wl && wl < sizeof(w)) {
			memcpy(w, p, wl);
			w[wl] = '\0';
			if (!ts_scope_has(b, w))
				return false;
		}
		p += wl + (p[wl] == ' ');
	}
	return true;
}

/* Whether two scope strings hold the same words. */
static bool same_scopes(const char *a, const char *b)
{
	return scopes_within(a, b) && scopes_within(b, a);
}

/* A token answer for a request that said "all" says so again when "all"
 * was granted whole: in Frappe's words, "all" is the whole of what the
 * client may have; the access token's own scope claim lists each scope. A
 * narrower grant (a refresh narrowed to the client's current scopes, a code
 * redeemed) keeps the native answer, so the client is never told it holds
 * more than it does. */
static void token_after(struct ts_compat_call *call, struct ts_http_req *req,
			struct ts_http_resp *resp)
{
	json_t *body;

	(void)req;
	if (call->asked_scope == NULL || resp->status != 200 || (body = ts_compat_body(resp)) == NULL)
		return;
	if (json_is_string(json_object_get(body, TS_P_SCOPE)) && call->expanded_scope != NULL &&
	    same_scopes(json_string_value(json_object_get(body, TS_P_SCOPE)), call->expanded_scope)) {
		json_object_set_new(body, TS_P_SCOPE, json_string(call->asked_scope));
		ts_compat_body_set(resp, body);
	}
	json_decref(body);
}

static void revoke_after(struct ts_compat_call *call, struct ts_http_req *req,
			 struct ts_http_resp *resp)
{
	json_t *body;

	(void)call;
	(void)req;
	if (resp->status != 200)
		return;
	body = json_pack("{s:s}", "message", "success");
	ts_compat_body_set(resp, body);
	json_decref(body);
}

/* Frappe's error answer: {"exc_type": ..., "message": ...}, same status and
 * headers as the native answer. */
static void frappe_error(struct ts_http_resp *resp, const char *message)
{
	json_t *native = ts_compat_body(resp), *body;
	const char *exc, *desc = json_string_value(json_object_get(native, TS_P_ERROR_DESCRIPTION));

	switch (resp->status) {
	case 400: exc = "ValidationError"; break;
	case 401: exc = "AuthenticationError"; break;
	case 403: exc = "PermissionError"; break;
	case 429: exc = "TooManyRequestsError"; break;
	default: exc = "ServerError"; break;
	}
	body = json_pack("{s:s,s:s}", "exc_type", exc, "message",
			 message ? message : desc ? desc : "request refused");
	ts_compat_body_set(resp, body);
	json_decref(body);
	json_decref(native);
}

static bool login_before(struct ts_compat_call *call, struct ts_http_req *req,
			 struct ts_http_resp *resp)
{
	(void)call;
	(void)resp;
	ts_compat_rename(req, "usr", TS_P_USERNAME);
	ts_compat_rename(req, "pwd", TS_P_PASSWORD);
	return true;
}

/* Frappe's answer to a login: {"message": "Logged In", "home_page",
 * "full_name"}, with the session in the cookie "sid"; csrf_token is the
 * X-Frappe-CSRF-Token (or X-CSRF-Token) that state-changing calls with the
 * cookie must send. */
static void login_after(struct ts_compat_call *call, struct ts_http_req *req,
			struct ts_http_resp *resp)
{
	json_t *native, *body;
	const json_t *user;
	const char *name;

	(void)call;
	(void)req;
	ts_compat_cookie_rename(resp, TS_SESSION_COOKIE, FRAPPE_SESSION_COOKIE);
	if (resp->status != 200) {
		frappe_error(resp, resp->status == 401 ? "Invalid Login. Try again." : NULL);
		return;
	}
	native = ts_compat_body(resp);
	user = json_object_get(native, "user");
	name = json_string_value(json_object_get(user, "name"));
	if (name == NULL)
		name = json_string_value(json_object_get(user, "username"));
	body = json_pack("{s:s,s:s,s:s?,s:O?}", "message", "Logged In", "home_page", FRAPPE_HOME_PAGE,
			 "full_name", name, "csrf_token", json_object_get(native, "csrf_token"));
	ts_compat_body_set(resp, body);
	json_decref(body);
	json_decref(native);
}

static void logout_after(struct ts_compat_call *call, struct ts_http_req *req,
			 struct ts_http_resp *resp)
{
	json_t *body;

	(void)call;
	(void)req;
	ts_compat_cookie_rename(resp, TS_SESSION_COOKIE, FRAPPE_SESSION_COOKIE);
	if (resp->status != 200) {
		frappe_error(resp, NULL);
		return;
	}
	body = json_object();
	ts_compat_body_set(resp, body);
	json_decref(body);
}

static bool mobile_before(struct ts_compat_call *call, struct ts_http_req *req,
			  struct ts_http_resp *resp)
{
	(void)call;
	(void)resp;
	ts_compat_rename(req, "usr", TS_P_USERNAME);
	return true;
}

/* The words of a refused mobile login: one per status, so that every
 * failed check gives the same answer. */
static const char *mobile_refusal(int status)
{
	switch (status) {
	case 400: return "usr, app_password and device_id are required";
	case 401: return MOBILE_INVALID;
	case 429: return "Too many failed attempts; retry later";
	default: return "The service is temporarily unavailable; retry shortly";
	}
}

/* {"message": {"success": true, "data": {employee_id, employee_name, user,
 * api_key, api_secret, device_id}}}, or {"message": {"success": false,
 * "message": ...}} with the native status and headers. */
static void mobile_after(struct ts_compat_call *call, struct ts_http_req *req,
			 struct ts_http_resp *resp)
{
	json_t *native = NULL, *body;
	const json_t *user, *name;

	(void)call;
	if (resp->status == 200)
		native = ts_compat_body(resp);
	if (native == NULL) {
		body = json_pack("{s:{s:b,s:s}}", "message", "success", 0, "message",
				 mobile_refusal(resp->status));
		ts_compat_body_set(resp, body);
		json_decref(body);
		return;
	}
	user = json_object_get(native, "user");
	name = json_object_get(user, "name");
	body = json_pack("{s:{s:b,s:{s:O?,s:O,s:O,s:O,s:O,s:s}}}", "message", "success", 1, "data",
			 "employee_id",
			 json_object_get(json_object_get(user, "attributes"), "employee_id"),
			 "employee_name", json_is_string(name) ? name : json_object_get(user, "username"),
			 "user", json_object_get(user, "username"), "api_key",
			 json_object_get(native, "api_key"), "api_secret",
			 json_object_get(native, "api_secret"), "device_id",
			 ts_compat_field(req, "device_id"));
	if (body == NULL) {
		resp->status = 500;
		body = json_pack("{s:{s:b,s:s}}", "message", "success", 0, "message",
				 mobile_refusal(resp->status));
	}
	ts_compat_body_set(resp, body);
	json_decref(body);
	json_decref(native);
}

static const struct ts_compat_route routes[] = {
	{"GET", OAUTH2 "authorize", ts_oauth_authorize, "authorize", authorize_before, NULL},
	{"POST", OAUTH2 "authorize", ts_oauth_authorize, "authorize", authorize_before, NULL},
	{"POST", OAUTH2 "get_token", ts_oauth_token, "token", token_before, token_after},
	{"POST", OAUTH2 "revoke_token", ts_oauth_revoke_by_holder, "revoke", NULL, revoke_after},
	{"GET", OAUTH2 "openid_profile", ts_oidc_userinfo, "userinfo", NULL, NULL},
	{"POST", OAUTH2 "openid_profile", ts_oidc_userinfo, "userinfo", NULL, NULL},
	{"POST", M "login", ts_api_login, "api_login", login_before, login_after},
	{"POST", M "logout", ts_api_logout, "api_logout", NULL, logout_after},
	/* pattern NULL: /api/method/{the tenant's mobile_login_method} */
	{"POST", NULL, ts_api_mobile_login, "api_mobile_login", mobile_before, mobile_after},
};

const struct ts_compat_table ts_compat_frappe = {routes, TS_ARRAY_LEN(routes)};
