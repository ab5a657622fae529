/* authz.c: one call to tessera_verify per request, then the scope and role
 * rules of the tasks API (SPEC §7). Error answers use what libtessera
 * wrote into struct tessera_error, WWW-Authenticate included (RFC 6750 §3). */
#include "authz.h"

#include <string.h>

#define HDR_AUTHORIZATION "Authorization"
#define HDR_CSRF "X-CSRF-Token"
#define HDR_WWW_AUTHENTICATE "WWW-Authenticate"

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

static void send_tessera_error(struct ta_req *r, const struct tessera_error *e)
{
	int status = e->status >= 400 && e->status <= 599 ? e->status : 401;

	ta_resp_error(r, status, e->error[0] ? e->error : "invalid_token", e->description,
		      e->www_authenticate[0] ? HDR_WWW_AUTHENTICATE : NULL, e->www_authenticate);
}

static bool verify(struct ta_app *app, struct ta_req *r, struct tessera_principal **p)
{
	struct tessera_error e;
	bool dup_auth = false, dup_csrf = false;
	const char *auth = ta_req_header(r, HDR_AUTHORIZATION, &dup_auth);
	const char *csrf = ta_req_header(r, HDR_CSRF, &dup_csrf);
	int rc;

	if (dup_auth || dup_csrf) {
		/* Two credentials in one request: refuse rather than guess
		 * which one the sender meant. */
		ta_resp_error(r, 400, "invalid_request",
			      dup_auth ? "more than one Authorization header"
				       : "more than one X-CSRF-Token header",
			      NULL, NULL);
		return false;
	}
	memset(&e, 0, sizeof(e));
	rc = tessera_verify(app->verifier, auth, ta_req_cookie(r), r->method, csrf, p, &e);
	if (rc == TESSERA_OK)
		return true;
	*p = NULL;
	if (rc == TESSERA_EDENIED || rc == TESSERA_EUNAVAILABLE) {
		send_tessera_error(r, &e);
	} else {
		ta_log_err("tessera_verify failed (%d)", rc);
		ta_resp_error(r, 500, "server_error", "the credential could not be checked", NULL,
			      NULL);
	}
	return false;
}

bool ta_authorize(struct ta_app *app, struct ta_req *r, bool write, struct ta_caller *c)
{
	const char *scope = write ? TA_SCOPE_WRITE : TA_SCOPE_READ;
	struct tessera_principal *p = NULL;
	enum ta_access access;

	memset(c, 0, sizeof(*c));
	if (!verify(app, r, &p))
		return false;
	/* Defence in depth: the verifier is bound to one issuer, so another
	 * tenant's principal cannot get here; if Tessera names the tenant,
	 * it must be ours. */
	if (p->tenant && strstr(app->opts->issuer, "/t/") && strcmp(p->tenant, app->tenant) != 0) {
		tessera_principal_free(p);
		ta_resp_error(r, 401, "invalid_token", "the credential belongs to another tenant",
			      NULL, NULL);
		return false;
	}
	if (p->sub == NULL || p->sub[0] == '\0') {
		tessera_principal_free(p);
		ta_resp_error(r, 401, "invalid_token", "the credential names no subject", NULL, NULL);
		return false;
	}
	if (!tessera_principal_has_scope(app->verifier, p, scope)) {
		struct tessera_error e;
		memset(&e, 0, sizeof(e));
		tessera_error_insufficient_scope(app->verifier, scope, &e);
		tessera_principal_free(p);
		send_tessera_error(r, &e);
		return false;
	}
	access = ta_access_of(p, write);
	if (access == TA_ACCESS_NONE) {
		ta_resp_error(r, 403, "forbidden",
			      !p->is_user ? "a service may read tasks but not change them"
			      : write     ? "changing tasks needs the role \"Sales User\" or \"Sales Manager\""
					  : "reading tasks needs the role \"Sales User\" or \"Sales Manager\"",
			      NULL, NULL);
		tessera_principal_free(p);
		return false;
	}
	c->p = p;
	c->owner = access == TA_ACCESS_OWN ? p->sub : NULL;
	return true;
}

void ta_caller_clear(struct ta_caller *c)
{
	tessera_principal_free(c->p);
	memset(c, 0, sizeof(*c));
}
