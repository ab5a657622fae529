/* activity.c: the "activity" profile: the routes an auth-api / chat-api
 * pair of services calls. The service token at /oauth/token (client
 * credentials, form or JSON), a person's login at /auth/login (email,
 * password) for a JWT, and the groups under /api/auth/groups. Each runs the
 * native handler (the token endpoint, the group endpoints) with every check
 * it makes; the adapters only translate the request and reshape the answer
 * (docs/COMPATIBILITY.md). The token claims of this profile ("type" and an
 * array "aud") are set where access tokens are built (oauth/issue.c). */
#include "compat.h"

#include "api/api.h"
#include "http/members.h"
#include "web/web.h"
#include "oauth/oauth.h"

#include <string.h>
#include <time.h>

#define FORM_TYPE "application/x-www-form-urlencoded"
#define JSON_FIELDS_MAX 32
#define ISO_TIME_MAX 32
#define LOGIN_REFUSED "Incorrect email or password"

/* A JSON object of strings as the form the token endpoint reads. Answers
 * 400 itself (false) for anything else. */
static bool json_as_form(struct ts_http_req *req, struct ts_http_resp *resp)
{
	const char *k;
	json_t *v;

	if (!json_is_object(req->json))
		return true;
	if (json_object_size(req->json) > JSON_FIELDS_MAX) {
		ts_http_resp_error(resp, 400, TS_ERR_INVALID_REQUEST, "too many fields");
		return false;
	}
	json_object_foreach(req->json, k, v) {
		if (!json_is_string(v)) {
			ts_http_resp_error(resp, 400, TS_ERR_INVALID_REQUEST,
					   "every field of the body must be a string");
			return false;
		}
		ts_compat_param_set(req, false, ts_arena_strdup(req->arena, k),
				    ts_arena_strdup(req->arena, json_string_value(v)));
	}
	req->content_type = FORM_TYPE;
	return true;
}

/* POST /oauth/token: the client credentials grant only, as a form or as
 * JSON; the native token endpoint authenticates the client and issues. */
static bool token_before(struct ts_compat_call *call, struct ts_http_req *req,
			 struct ts_http_resp *resp)
{
	const char *grant;

	(void)call;
	if (!json_as_form(req, resp))
		return false;
	grant = ts_params_get(req->form, req->nform, TS_P_GRANT_TYPE, NULL);
	if (grant != NULL && strcmp(grant, TS_GRANT_CLIENT_CREDENTIALS_S) != 0) {
		ts_http_resp_error(resp, 400, TS_ERR_UNSUPPORTED_GRANT_TYPE,
				   "only client_credentials is served at this path");
		ts_http_resp_header(resp, "Cache-Control", "no-store");
		return false;
	}
	return true;
}

/* {"detail": text}, keeping the native status and headers. */
static void detail(struct ts_http_resp *resp, const char *text)
{
	json_t *body = json_pack("{s:s}", "detail", text);

	ts_compat_body_set(resp, body);
	json_decref(body);
}

/* POST /auth/login {email, password}: the native password grant for the
 * tenant's login client, with its throttling and checks; the email is the
 * username. */
static bool login_before(struct ts_compat_call *call, struct ts_http_req *req,
			 struct ts_http_resp *resp)
{
	const char *client = call->rc->tenant->login_client;
	const char *email = ts_compat_field(req, "email");
	const char *password = ts_compat_field(req, TS_P_PASSWORD);
	const char *scope = ts_compat_field(req, TS_P_SCOPE);

	if (client == NULL) {
		ts_http_resp_error(resp, 404, "not_found", "no such endpoint");
		return false;
	}
	if (email == NULL || password == NULL) {
		resp->status = 400;
		detail(resp, "email and password are required");
		return false;
	}
	req->form = NULL;
	req->nform = 0;
	ts_compat_param_set(req, false, TS_P_GRANT_TYPE, TS_GRANT_PASSWORD_S);
	ts_compat_param_set(req, false, TS_P_CLIENT_ID, client);
	ts_compat_param_set(req, false, TS_P_USERNAME, email);
	ts_compat_param_set(req, false, TS_P_PASSWORD, password);
	if (scope)
		ts_compat_param_set(req, false, TS_P_SCOPE, scope);
	req->content_type = FORM_TYPE;
	return true;
}

/* {access_token, token_type, expires_in}; a refusal is {"detail": ...},
 * 401 for a wrong email or password, 429 when throttled. */
static void login_after(struct ts_compat_call *call, struct ts_http_req *req,
			struct ts_http_resp *resp)
{
	json_t *native = ts_compat_body(resp), *body;
	const char *err = json_string_value(json_object_get(native, TS_P_ERROR));
	const char *desc = json_string_value(json_object_get(native, TS_P_ERROR_DESCRIPTION));

	(void)call;
	(void)req;
	if (resp->status == 200) {
		body = json_pack("{s:O,s:O,s:O}", TS_P_ACCESS_TOKEN,
				 json_object_get(native, TS_P_ACCESS_TOKEN), TS_J_TOKEN_TYPE,
				 json_object_get(native, TS_J_TOKEN_TYPE), TS_J_EXPIRES_IN,
				 json_object_get(native, TS_J_EXPIRES_IN));
		if (body == NULL) {
			resp->status = 500;
			detail(resp, "the token could not be issued");
		} else {
			ts_compat_body_set(resp, body);
			json_decref(body);
		}
	} else if (resp->status != 429 && err && strcmp(err, TS_ERR_INVALID_GRANT) == 0) {
		/* (A throttled attempt stays 429, with its Retry-After.) */
		resp->status = 401;
		detail(resp, LOGIN_REFUSED);
	} else {
		detail(resp, desc ? desc : err ? err : "request refused");
	}
	json_decref(native);
}

/* Unix seconds as ISO 8601 UTC ("2025-11-12T11:14:54Z"). */
static json_t *iso_time(json_int_t t)
{
	char buf[ISO_TIME_MAX];
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL)
		return json_null();
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

/* {"members": [{user_id, email, added_at, added_by}]} from the native
 * group answer. */
static void members_after(struct ts_compat_call *call, struct ts_http_req *req,
			  struct ts_http_resp *resp)
{
	json_t *native, *list, *body, *m;
	size_t i;

	(void)call;
	(void)req;
	if (resp->status != 200 || (native = ts_compat_body(resp)) == NULL)
		return;
	list = json_array();
	json_array_foreach(json_object_get(native, "members"), i, m) {
		const json_t *email = json_object_get(m, "email");
		const char *uname = json_string_value(json_object_get(m, "username"));
		json_t *e;
		/* A user without an email in its profile signs in with one as
		 * its username. */
		if (email == NULL && uname != NULL && strchr(uname, '@') != NULL)
			email = json_object_get(m, "username");
		e = json_pack("{s:O,s:O?,s:o,s:O?}", "user_id", json_object_get(m, "id"), "email",
			      email, "added_at",
			      iso_time(json_integer_value(json_object_get(m, "added_at"))), "added_by",
			      json_object_get(m, "added_by"));
		if (e)
			json_array_append_new(list, e);
	}
	body = json_pack("{s:o}", "members", list);
	ts_compat_body_set(resp, body);
	json_decref(body);
	json_decref(native);
}

static const struct ts_compat_route routes[] = {
	{"POST", "/oauth/token", ts_oauth_token, "token", token_before, NULL},
	{"POST", "/auth/login", ts_oauth_token, "token", login_before, login_after},
	{"GET", "/api/auth/groups/{id}", ts_api_group_get, "api_groups", NULL, NULL},
	{"GET", "/api/auth/groups/{id}/members", ts_api_group_members, "api_groups", NULL,
	 members_after},
};

const struct ts_compat_table ts_compat_activity = {routes, TS_ARRAY_LEN(routes)};
