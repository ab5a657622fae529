/* consent.c: the consent page. It names the application and the scopes it
 * asks for, with two buttons (decision=approve|deny) and a csrf_token bound
 * to the session and the pending request. Approval is remembered per user,
 * client and scope set. */
#include "oidc.h"

#include "oauth/oauth.h"
#include "store/store_people.h"
#include "store/store_state.h"

#include <stdlib.h>
#include <string.h>

#define CSRF_CONSENT "consent"

static const char *scope_label(const char *s)
{
	static const struct { const char *scope, *label; } labels[] = {
		{"openid", "Sign you in"},
		{"profile", "Read your name and username"},
		{"email", "Read your email address"},
		{"offline_access", "Stay signed in (keep access when you are away)"},
	};
	size_t i;

	for (i = 0; i < TS_ARRAY_LEN(labels); i++)
		if (strcmp(labels[i].scope, s) == 0)
			return labels[i].label;
	return NULL;
}

static void page(struct ts_rctx *rc, struct ts_http_resp *resp, const struct ts_client *c,
		 const struct ts_authz_req *ar, const char *csrf)
{
	struct ts_buf b;
	const char *p = ar->scope;

	ts_page_begin(rc, resp, &b, ar->device_hash ? "Connect this device?" : "Allow access?");
	if (ar->device_hash)
		ts_buf_appends(&b, "<p>Only continue if you started this on your own device.</p>");
	ts_buf_appends(&b, "<p><strong>");
	ts_html_escape(&b, c->name ? c->name : c->client_id);
	ts_buf_appends(&b, "</strong> (");
	ts_html_escape(&b, c->client_id);
	ts_buf_appends(&b, ") asks to:</p><ul>");
	while (p && *p) {
		const char *e = strchr(p, ' ');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		char tok[TS_SCOPE_MAX + 1];
		const char *label;
		if (len > TS_SCOPE_MAX)
			break;
		memcpy(tok, p, len);
		tok[len] = '\0';
		label = scope_label(tok);
		if (label == NULL) {
			/* The tenant's own words for its scope, if it gave any. */
			const struct ts_scope_def *d = ts_tenant_scope(rc->tenant, tok);
			label = d && d->description && d->description[0] ? d->description : NULL;
		}
		ts_buf_appends(&b, "<li>");
		ts_html_escape(&b, label ? label : tok);
		if (label && ar->device_hash) {
			/* A device gets exactly what is named: name each scope. */
			ts_buf_appends(&b, " (");
			ts_html_escape(&b, tok);
			ts_buf_appends(&b, ")");
		}
		ts_buf_appends(&b, "</li>");
		p = e ? e + 1 : NULL;
	}
	ts_buf_appends(&b, "</ul><form method=\"post\" action=\"");
	ts_html_escape(&b, rc->issuer);
	ts_buf_appends(&b, "/consent\"><input type=\"hidden\" name=\"" TS_P_CSRF_TOKEN "\" value=\"");
	ts_html_escape(&b, csrf);
	ts_buf_appends(&b, "\"><input type=\"hidden\" name=\"" TS_P_REQ "\" value=\"");
	ts_html_escape(&b, ar->pending_id);
	ts_buf_appends(&b, "\"><button type=\"submit\" name=\"" TS_P_DECISION "\" value=\"approve\">Allow</button> "
			   "<button type=\"submit\" name=\"" TS_P_DECISION "\" value=\"deny\" class=\"secondary\">Deny</button>"
			   "</form>");
	ts_page_end(resp, &b, 200);
}

void ts_oidc_consent(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = ctx;
	bool is_post = strcmp(req->method, "POST") == 0;
	const struct ts_param *v = is_post ? req->form : req->query;
	size_t n = is_post ? req->nform : req->nquery;
	const char *req_id = ts_params_get(v, n, TS_P_REQ, NULL);
	struct ts_session_rec *sess = NULL;
	struct ts_user_rec *user = NULL;
	const struct ts_client *c;
	struct ts_authz_req ar;
	const char *sid, *decision, *binding;
	char csrf[44];
	int r;

	/* A decision is the signed-in person's, from this site's page only. */
	if (is_post && !ts_web_same_site(rc, req)) {
		ts_page_cross_site(rc, resp);
		return;
	}
	r = ts_authz_pending_load(rc, req, req_id, &ar);
	if (r == TS_ESTORE)
		goto unavailable;
	c = r == TS_OK ? ts_tenant_client(rc->tenant, ar.client_id) : NULL;
	if (c == NULL) {
		ts_page_error(rc, resp, 400, "Request expired",
			      "This request expired. Please return to the application and start again.");
		return;
	}
	r = ts_session_load(rc, req, NULL, &sess, &user, &sid);
	if (r == TS_ESTORE)
		goto unavailable;
	if (r != TS_OK) {
		/* The session ended meanwhile: sign in again, then come back. */
		ts_authz_proceed(rc, req, resp, &ar, NULL);
		return;
	}
	binding = ts_arena_printf(req->arena, "%s|%s", sid, ar.pending_id);
	if (!is_post) {
		ts_csrf_token(rc->app, CSRF_CONSENT, binding, csrf);
		page(rc, resp, c, &ar, csrf);
		goto out;
	}
	if (!ts_csrf_ok(rc->app, CSRF_CONSENT, binding,
			ts_params_get(req->form, req->nform, TS_P_CSRF_TOKEN, NULL))) {
		ts_page_error(rc, resp, 403, "Request expired",
			      "The form expired or was not sent from this browser. Please start again.");
		goto out;
	}
	decision = ts_params_get(req->form, req->nform, TS_P_DECISION, NULL);
	if (decision == NULL || strcmp(decision, "approve") != 0) {
		char h[2 * TS_SHA256_LEN + 1];
		ts_sha256_hex(ar.pending_id, strlen(ar.pending_id), h);
		r = ts_store_pending_delete(rc->app->store, h);
		if (r == TS_ENOTFOUND) {
			ts_authz_used_page(rc, resp);
			goto out;
		}
		if (r != TS_OK)
			goto unavailable;
		ts_audit_emit(rc->app->audit, rc->tenant->name, "consent.denied", user->id,
			      c->client_id, NULL);
		ts_authz_error(rc, resp, &ar, TS_ERR_ACCESS_DENIED, "the user denied the request");
		goto out;
	}
	r = ts_store_consent_put(rc->app->store, rc->tenant->id, user->id, c->client_id, ar.scope);
	if (r != TS_OK)
		goto unavailable;
	ts_audit_emit(rc->app->audit, rc->tenant->name, "consent.granted", user->id, c->client_id,
		      NULL);
	ar.consented = true;
	ts_authz_proceed(rc, req, resp, &ar, NULL);
	goto out;
unavailable:
	ts_page_unavailable(rc, resp);
	ts_http_resp_header(resp, "Retry-After", "2");
out:
	ts_session_rec_free(sess);
	ts_user_rec_free(user);
}
