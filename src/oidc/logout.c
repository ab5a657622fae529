/* logout.c: sign-out (OpenID Connect RP-Initiated Logout 1.0). GET asks for
 * confirmation; POST (with its csrf_token) ends the session. The user is
 * sent back only to a post_logout_redirect_uri that the client registered,
 * byte for byte, so this page is never an open redirector. */
#include "oidc.h"

#include "oauth/oauth.h"

#include <string.h>

#define CSRF_LOGOUT "logout"
#define STATE_MAX 2048
#define VSCHAR " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"

/* The client the request names: by client_id, by the audience of
 * id_token_hint (an ID token this tenant signed; its expiry does not
 * matter here), or both, when they must agree (RP-Initiated Logout 1.0
 * §2: a client_id that is not the hint's audience is refused). false when
 * the hint is not this tenant's or the two disagree; *out may be NULL
 * (neither given, or an unknown client). */
static bool find_client(const struct ts_rctx *rc, const char *client_id, const char *hint,
			const struct ts_client **out)
{
	struct ts_jws *jws = NULL;
	const struct ts_signing_key *k;
	json_t *claims = NULL;
	const json_t *aud;
	const unsigned char *p;
	const char *who;
	size_t n;
	bool ok = false;

	*out = NULL;
	if (hint == NULL) {
		*out = client_id ? ts_tenant_client(rc->tenant, client_id) : NULL;
		return true;
	}
	if (strlen(hint) > TS_JWS_MAX || ts_jws_parse(hint, strlen(hint), &jws) != TS_OK)
		return false;
	k = ts_tenant_key(rc->tenant, ts_jws_kid(jws));
	if (k == NULL || ts_jws_verify(jws, k->jwk) != TS_OK)
		goto out;
	p = ts_jws_payload(jws, &n);
	claims = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, NULL);
	if (!ts_web_issuer_ok(rc->app, rc->tenant, json_string_value(json_object_get(claims, "iss"))))
		goto out;
	aud = json_object_get(claims, "aud");
	/* An ID token names its client as aud (and azp when aud has more). */
	who = json_is_string(aud) ? json_string_value(aud)
				  : json_string_value(json_object_get(claims, "azp"));
	if (who == NULL || (client_id && !ts_oauth_aud_has(aud, client_id)))
		goto out;
	*out = ts_tenant_client(rc->tenant, client_id ? client_id : who);
	ok = true;
out:
	json_decref(claims);
	ts_jws_free(jws);
	return ok;
}

static bool uri_registered(const struct ts_client *c, const char *uri)
{
	size_t i;

	/* A javascript: (etc.) URI stored before registration refused it is
	 * never a redirect target. */
	if (uri && ts_redirect_scheme_refused(uri))
		return false;
	for (i = 0; c && uri && i < c->npost_logout_redirect_uris; i++)
		if (strcmp(c->post_logout_redirect_uris[i], uri) == 0)
			return true;
	return false;
}

static void hidden(struct ts_buf *b, const char *name, const char *value)
{
	if (value == NULL)
		return;
	ts_buf_appends(b, "<input type=\"hidden\" name=\"");
	ts_html_escape(b, name);
	ts_buf_appends(b, "\" value=\"");
	ts_html_escape(b, value);
	ts_buf_appends(b, "\">");
}

void ts_oidc_logout(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = ctx;
	bool is_post = strcmp(req->method, "POST") == 0;
	const struct ts_param *v = is_post ? req->form : req->query;
	size_t n = is_post ? req->nform : req->nquery;
	const char *client_id = ts_params_get(v, n, TS_P_CLIENT_ID, NULL);
	const char *hint = ts_params_get(v, n, TS_P_ID_TOKEN_HINT, NULL);
	const char *uri = ts_params_get(v, n, TS_P_POST_LOGOUT_REDIRECT_URI, NULL);
	const char *state = ts_params_get(v, n, TS_P_STATE, NULL);
	const char *browser = ts_browser_id(rc, req, resp);
	const struct ts_client *c = NULL;
	char csrf[44];
	struct ts_buf b;

	if (state && (strlen(state) > STATE_MAX || strspn(state, VSCHAR) != strlen(state))) {
		/* It would be echoed into the redirect: printable ASCII only. */
		ts_page_error(rc, resp, 400, "Invalid sign-out request",
			      "The state parameter must be at most 2048 printable ASCII characters.");
		return;
	}
	if (!find_client(rc, client_id, hint, &c)) {
		ts_page_error(rc, resp, 400, "Invalid sign-out request",
			      "The id_token_hint was not issued by this server to this application.");
		return;
	}
	if (uri && !uri_registered(c, uri)) {
		ts_page_error(rc, resp, 400, "Invalid redirect",
			      "The post_logout_redirect_uri is not registered for this application.");
		return;
	}
	/* RP-Initiated Logout 1.0 §2: the request may come as a GET or a POST
	 * (from the application's site); either gets the confirming form.
	 * Only the form's own POST, from this site, ends the session. */
	if (!is_post || ts_params_get(req->form, req->nform, TS_P_CSRF_TOKEN, NULL) == NULL) {
		ts_csrf_token(rc->app, CSRF_LOGOUT, browser, csrf);
		ts_page_begin(rc, resp, &b, "Sign out");
		ts_buf_appends(&b, "<p>Do you want to sign out?</p><form method=\"post\" action=\"");
		ts_html_escape(&b, rc->issuer);
		ts_buf_appends(&b, "/logout\">");
		hidden(&b, TS_P_CSRF_TOKEN, csrf);
		hidden(&b, TS_P_CLIENT_ID, c ? c->client_id : NULL);
		hidden(&b, TS_P_POST_LOGOUT_REDIRECT_URI, uri);
		hidden(&b, TS_P_STATE, state);
		ts_buf_appends(&b, "<button type=\"submit\">Sign out</button></form>");
		ts_page_end(resp, &b, 200);
		return;
	}
	if (!ts_web_same_site(rc, req)) {
		ts_page_cross_site(rc, resp);
		return;
	}
	if (!ts_csrf_ok(rc->app, CSRF_LOGOUT, browser,
			ts_params_get(req->form, req->nform, TS_P_CSRF_TOKEN, NULL))) {
		ts_page_error(rc, resp, 403, "Request expired",
			      "The form expired or was not sent from this browser. Please start again.");
		return;
	}
	if (ts_session_end(rc, req, resp) != TS_OK) {
		ts_page_unavailable(rc, resp);
		ts_http_resp_header(resp, "Retry-After", "2");
		return;
	}
	ts_audit_emit(rc->app->audit, rc->tenant->name, "logout", NULL, c ? c->client_id : NULL, NULL);
	if (uri) {
		ts_buf_init(&b, 8192);
		ts_buf_appends(&b, uri);
		if (state) {
			ts_buf_appends(&b, strchr(uri, '?') ? "&state=" : "?state=");
			ts_buf_append_urlencoded(&b, state);
		}
		if (b.p) {
			/* RFC 9700 §4.12: a redirect answering a POST is 303. */
			ts_http_resp_header(resp, "Location", b.p);
			ts_http_resp_text(resp, 303, "text/plain; charset=utf-8", "", 0);
		}
		ts_buf_clear(&b);
		return;
	}
	ts_page_error(rc, resp, 200, "Signed out", "You are signed out.");
}
