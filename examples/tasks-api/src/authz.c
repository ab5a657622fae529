/* authz.c: one call to tessera_verify_request per request (DPoP-bound
 * tokens included), then the scope and role rules of the tasks API. Error answers use what libtessera
 * wrote into struct tessera_error, WWW-Authenticate included (RFC 6750 §3). */
#include "authz.h"

#include <stdio.h>
#include <string.h>

#define HDR_AUTHORIZATION "Authorization"
#define HDR_CSRF "X-CSRF-Token"
#define HDR_FRAPPE_CSRF "X-Frappe-CSRF-Token" /* Frappe's name for the same token */
#define HDR_WWW_AUTHENTICATE "WWW-Authenticate"
#define HDR_DPOP "DPoP"
#define HDR_ORIGIN "Origin"
#define HDR_FETCH_SITE "Sec-Fetch-Site"
#define TA_URI_MAX 2048 /* the public URL and a path (both capped before) */

enum ta_access ta_access_of(const struct tessera_principal *p, bool write)
{
	if (!p->is_user)
		return write ? TA_ACCESS_NONE : TA_ACCESS_ALL;
	if (tessera_principal_has_role(p, TA_ROLE_MANAGER))
		return TA_ACCESS_ALL;
	if (tessera_principal_has_role(p, TA_ROLE_USER))
		return TA_ACCESS_OWN;
	return TA_ACCESS_NONE;
}

/* A refusal, kept as data so that each front end words it in its own
 * style (the JSON routes, the Frappe methods). */
static bool deny(struct ta_denial *d, int status, const char *error, const char *desc,
		 const char *www)
{
	d->status = status;
	snprintf(d->error, sizeof(d->error), "%s", error);
	snprintf(d->desc, sizeof(d->desc), "%s", desc ? desc : "");
	snprintf(d->www, sizeof(d->www), "%s", www ? www : "");
	return false;
}

static bool deny_tessera(struct ta_denial *d, const struct tessera_error *e)
{
	int status = e->status >= 400 && e->status <= 599 ? e->status : 401;

	return deny(d, status, e->error[0] ? e->error : "invalid_token", e->description,
		    e->www_authenticate);
}

static bool verify(struct ta_app *app, struct ta_req *r, struct tessera_principal **p,
		   struct ta_denial *d)
{
	struct tessera_error e;
	bool dup_auth = false, dup_csrf = false, dup_dpop = false, dup_origin = false,
	     dup_site = false;
	struct tessera_request req = {0};
	char uri[TA_URI_MAX];
	const char *auth = ta_req_header(r, HDR_AUTHORIZATION, &dup_auth);
	const char *csrf = ta_req_header(r, HDR_CSRF, &dup_csrf);
	int rc;

	if (csrf == NULL && !dup_csrf)
		csrf = ta_req_header(r, HDR_FRAPPE_CSRF, &dup_csrf);
	*p = NULL;
	if (dup_auth || dup_csrf) {
		/* Two credentials in one request: refuse rather than guess
		 * which one the sender meant. */
		return deny(d, 400, "invalid_request",
			    dup_auth ? "more than one Authorization header"
				     : "more than one CSRF token header",
			    NULL);
	}
	memset(&e, 0, sizeof(e));
	req.method = r->method;
	req.authorization = auth;
	req.cookie = ta_req_cookie(r);
	req.csrf = csrf;
	/* RFC 9449 §7: a DPoP-bound token comes with a proof for this URI. */
	req.dpop = ta_req_header(r, HDR_DPOP, &dup_dpop);
	if (dup_dpop)
		return deny(d, 400, "invalid_request", "more than one DPoP header", NULL);
	/* The URI this request was addressed at: a proof's htu is checked
	 * against it, and its origin may use the session cookie. */
	if (app->opts->public_url)
		snprintf(uri, sizeof(uri), "%s%s", app->opts->public_url, r->path);
	else
		snprintf(uri, sizeof(uri), "http://%s%s", app->opts->listen, r->path);
	req.uri = uri;
	/* Only a browser sends these; the session cookie is refused when they
	 * say another site sent it. A repeated one counts as another site's. */
	req.origin = ta_req_header(r, HDR_ORIGIN, &dup_origin);
	req.sec_fetch_site = ta_req_header(r, HDR_FETCH_SITE, &dup_site);
	if (dup_origin)
		req.origin = "null";
	if (dup_site)
		req.sec_fetch_site = "cross-site";
	rc = tessera_verify_request(app->verifier, &req, p, &e);
	if (rc == TESSERA_OK)
		return true;
	*p = NULL;
	if (rc == TESSERA_EDENIED || rc == TESSERA_EUNAVAILABLE)
		return deny_tessera(d, &e);
	ta_log_err("tessera_verify_request failed (%d)", rc);
	return deny(d, 500, "server_error", "the credential could not be checked", NULL);
}

static const char *role_refusal(const struct tessera_principal *p, bool write)
{
	if (!p->is_user)
		return "a service may read tasks but not change them";
	return write ? "changing tasks needs the role \"Sales User\" or \"Sales Manager\""
		     : "reading tasks needs the role \"Sales User\" or \"Sales Manager\"";
}

/* The checks after the credential: tenant, subject, scope and role. */
static bool admit(struct ta_app *app, const struct tessera_principal *p, bool write,
		  enum ta_access *access, struct ta_denial *d)
{
	const char *scope = write ? TA_SCOPE_WRITE : TA_SCOPE_READ;

	/* Defence in depth: the verifier is bound to one issuer, so another
	 * tenant's principal cannot get here; if Tessera names the tenant,
	 * it must be ours. */
	if (p->tenant && strstr(app->opts->issuer, "/t/") && strcmp(p->tenant, app->tenant) != 0)
		return deny(d, 401, "invalid_token", "the credential belongs to another tenant",
			    NULL);
	if (p->sub == NULL || p->sub[0] == '\0')
		return deny(d, 401, "invalid_token", "the credential names no subject", NULL);
	if (!tessera_principal_has_scope(app->verifier, p, scope)) {
		struct tessera_error e;
		memset(&e, 0, sizeof(e));
		tessera_error_insufficient_scope(app->verifier, scope, &e);
		return deny_tessera(d, &e);
	}
	*access = ta_access_of(p, write);
	if (*access == TA_ACCESS_NONE)
		return deny(d, 403, "forbidden", role_refusal(p, write), NULL);
	return true;
}

bool ta_authorize_check(struct ta_app *app, struct ta_req *r, bool write, struct ta_caller *c,
			struct ta_denial *d)
{
	struct tessera_principal *p = NULL;
	enum ta_access access = TA_ACCESS_NONE;

	memset(c, 0, sizeof(*c));
	memset(d, 0, sizeof(*d));
	if (!verify(app, r, &p, d))
		return false;
	if (!admit(app, p, write, &access, d)) {
		tessera_principal_free(p);
		return false;
	}
	c->p = p;
	c->owner = access == TA_ACCESS_OWN ? p->sub : NULL;
	return true;
}

bool ta_authorize(struct ta_app *app, struct ta_req *r, bool write, struct ta_caller *c)
{
	struct ta_denial d;

	if (ta_authorize_check(app, r, write, c, &d))
		return true;
	ta_resp_error(r, d.status, d.error, d.desc, d.www[0] ? HDR_WWW_AUTHENTICATE : NULL, d.www);
	return false;
}

void ta_caller_clear(struct ta_caller *c)
{
	tessera_principal_free(c->p);
	memset(c, 0, sizeof(*c));
}
