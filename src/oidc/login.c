/* login.c: the login page. GET shows the form (username, password and a
 * hidden csrf_token bound to this browser and request); POST checks the
 * token, the throttles and the password, starts a fresh session and resumes
 * the pending authorization request, if any. The answer to a wrong password
 * and to an unknown user is the same, and costs the same hash. */
#include "oidc.h"

#include "oauth/oauth.h"
#include "store/store_people.h"
#include "wire/ascii.h"

#include <stdlib.h>
#include <string.h>

#define CSRF_LOGIN "login"
#define USERNAME_MAX 254
#define RETURN_PREFIX "/connect/callback?" /* the one place a sign-in may send back to */
#define RETURN_MAX 4096

/* Where to send the browser after signing in when no authorization request
 * waits: only back to the vault's callback under this issuer (a path that
 * is appended to the issuer, so never another site). NULL otherwise. */
static const char *return_to(struct ts_http_req *req)
{
	const char *r = ts_params_get(req->form, req->nform, TS_P_RETURN, NULL);
	size_t i, n;

	if (r == NULL)
		r = ts_params_get(req->query, req->nquery, TS_P_RETURN, NULL);
	n = r ? strlen(r) : 0;
	if (n == 0 || n > RETURN_MAX || strncmp(r, RETURN_PREFIX, strlen(RETURN_PREFIX)) != 0)
		return NULL;
	for (i = 0; i < n; i++)
		if (!ts_is_vchar((unsigned char)r[i]))
			return NULL;
	return r;
}

static const char *csrf_binding(struct ts_arena *a, const char *browser, const char *req_id)
{
	return ts_arena_printf(a, "%s|%s", browser ? browser : "", req_id ? req_id : "");
}

static void form(struct ts_rctx *rc, struct ts_http_req *req, struct ts_http_resp *resp,
		 const char *req_id, const char *username, const char *error, int status)
{
	const char *browser = ts_browser_id(rc, req, resp);
	char csrf[44];
	struct ts_buf b;

	ts_csrf_token(rc->app, CSRF_LOGIN, csrf_binding(req->arena, browser, req_id), csrf);
	ts_page_begin(rc, resp, &b, "Sign in");
	if (error) {
		ts_buf_appends(&b, "<p class=\"error\" role=\"alert\">");
		ts_html_escape(&b, error);
		ts_buf_appends(&b, "</p>");
	}
	ts_buf_appends(&b, "<form method=\"post\" action=\"");
	ts_html_escape(&b, rc->issuer);
	ts_buf_appends(&b, "/login\">\n<input type=\"hidden\" name=\"" TS_P_CSRF_TOKEN "\" value=\"");
	ts_html_escape(&b, csrf);
	ts_buf_appends(&b, "\">\n");
	if (req_id) {
		ts_buf_appends(&b, "<input type=\"hidden\" name=\"" TS_P_REQ "\" value=\"");
		ts_html_escape(&b, req_id);
		ts_buf_appends(&b, "\">\n");
	} else if (return_to(req)) {
		ts_buf_appends(&b, "<input type=\"hidden\" name=\"" TS_P_RETURN "\" value=\"");
		ts_html_escape(&b, return_to(req));
		ts_buf_appends(&b, "\">\n");
	}
	ts_buf_appends(&b, "<label for=\"username\">Username</label>"
			   "<input type=\"text\" id=\"username\" name=\"username\" autocomplete=\"username\" "
			   "autocapitalize=\"none\" required value=\"");
	ts_html_escape(&b, username ? username : "");
	ts_buf_appends(&b, "\">\n<label for=\"password\">Password</label>"
			   "<input type=\"password\" id=\"password\" name=\"password\" "
			   "autocomplete=\"current-password\" required>\n"
			   "<button type=\"submit\">Sign in</button>\n</form>");
	ts_page_end(resp, &b, status);
}

static void throttled(struct ts_rctx *rc, struct ts_http_resp *resp, int retry_after)
{
	ts_page_error(rc, resp, 429, "Too many attempts",
		      "Too many failed sign-in attempts. Please wait and try again.");
	ts_http_resp_header(resp, "Retry-After", ts_arena_printf(resp->arena, "%d", retry_after));
}

static void unavailable(struct ts_rctx *rc, struct ts_http_resp *resp)
{
	ts_page_unavailable(rc, resp);
	ts_http_resp_header(resp, "Retry-After", "2");
}

static void post(struct ts_rctx *rc, struct ts_http_req *req, struct ts_http_resp *resp)
{
	const char *username = ts_params_get(req->form, req->nform, TS_P_USERNAME, NULL);
	const char *password = ts_params_get(req->form, req->nform, TS_P_PASSWORD, NULL);
	const char *csrf = ts_params_get(req->form, req->nform, TS_P_CSRF_TOKEN, NULL);
	const char *req_id = ts_params_get(req->form, req->nform, TS_P_REQ, NULL);
	const char *browser = ts_http_cookie(req, TS_BROWSER_COOKIE);
	struct ts_user_rec *user = NULL;
	struct ts_authz_req ar;
	struct ts_pw_attempt pa;
	const char *sid;
	bool rehash = false, have_req = false;
	int retry = 0, r;
	int64_t now = ts_now();

	if (!ts_csrf_ok(rc->app, CSRF_LOGIN, csrf_binding(req->arena, browser, req_id), csrf)) {
		ts_page_error(rc, resp, 403, "Session expired",
			      "The sign-in form expired or was not sent from this browser. Please start again.");
		return;
	}
	if (req_id) {
		r = ts_authz_pending_load(rc, req, req_id, &ar);
		if (r == TS_ESTORE) {
			unavailable(rc, resp);
			return;
		}
		if (r != TS_OK) {
			ts_page_error(rc, resp, 400, "Request expired",
				      "The sign-in request expired. Please return to the application and start again.");
			return;
		}
		have_req = true;
	}
	if (username == NULL || password == NULL || username[0] == '\0' ||
	    strlen(username) > USERNAME_MAX || strlen(password) > TS_PASSWORD_MAX) {
		form(rc, req, resp, req_id, username && strlen(username) <= USERNAME_MAX ? username : "",
		     "Enter your username and password.", 400);
		return;
	}
	if (ts_pw_attempt_begin(rc, req, username, &pa, &retry) != TS_OK) {
		throttled(rc, resp, retry);
		return;
	}
	r = ts_store_user_find(rc->app->store, rc->tenant->id, username, &user);
	if (r != TS_OK && r != TS_ENOTFOUND) {
		unavailable(rc, resp);
		return;
	}
	r = ts_password_verify(user ? user->password_hash : NULL, password, &rehash);
	if (r != TS_OK || user == NULL || user->disabled) {
		ts_pw_attempt_failed(rc, &pa, user ? user->id : NULL, NULL, "password");
		form(rc, req, resp, req_id, username, "Invalid username or password.", 401);
		goto out;
	}
	ts_pw_attempt_succeeded(rc, &pa, user, password, rehash);
	r = ts_session_start(rc, req, resp, user, now, &sid);
	if (r != TS_OK) {
		unavailable(rc, resp);
		goto out;
	}
	ts_audit_emit(rc->app->audit, rc->tenant->name, "login.succeeded", user->id, user->id,
		      "{\"method\":\"password\"}");
	if (have_req) {
		ar.login_at = now;
		r = ts_authz_pending_save(rc, req, &ar);
		if (r == TS_ENOTFOUND) {
			ts_authz_used_page(rc, resp);
			goto out;
		}
		if (r != TS_OK) {
			unavailable(rc, resp);
			goto out;
		}
		ts_authz_proceed(rc, req, resp, &ar, sid);
		goto out;
	}
	if (return_to(req)) {
		ts_http_resp_header(resp, "Location",
				    ts_arena_printf(req->arena, "%s%s", rc->issuer, return_to(req)));
		ts_http_resp_header(resp, "Cache-Control", "no-store");
		ts_http_resp_text(resp, 303, "text/plain; charset=utf-8", "", 0);
		goto out;
	}
	ts_page_error(rc, resp, 200, "Signed in", "You are signed in.");
out:
	ts_user_rec_free(user);
}

void ts_oidc_login(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = ctx;

	if (strcmp(req->method, "POST") == 0) {
		/* Login CSRF: another site's form must not sign this browser in. */
		if (!ts_web_same_site(rc, req))
			ts_page_cross_site(rc, resp);
		else
			post(rc, req, resp);
		return;
	}
	form(rc, req, resp, ts_params_get(req->query, req->nquery, TS_P_REQ, NULL), NULL, NULL, 200);
}
