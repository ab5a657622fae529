/* authz.h: who may do what. The credential is checked by libtessera
 * alone (tessera_verify); then the scope (tasks:read for reads,
 * tasks:write for writes) and the role decide:
 *   - "Sales Manager": every task of the tenant;
 *   - "Sales User": only the tasks it owns (owner_sub = its sub);
 *   - a service (client credentials) with the scope: reads every task,
 *     never writes (a task belongs to a person);
 *   - anyone else: 403. */
#ifndef TA_AUTHZ_H
#define TA_AUTHZ_H

#include "app.h"

#define TA_FRAPPE_SESSION_COOKIE "sid" /* Frappe's session cookie, also accepted */
#define TA_SCOPE_READ "tasks:read"
#define TA_SCOPE_WRITE "tasks:write"
#define TA_ROLE_USER "Sales User"
#define TA_ROLE_MANAGER "Sales Manager"

enum ta_access {
	TA_ACCESS_NONE,      /* 403 */
	TA_ACCESS_OWN,       /* the caller's own tasks */
	TA_ACCESS_ALL,       /* every task of the tenant */
};

/* The caller of one request. */
struct ta_caller {
	struct tessera_principal *p; /* owned (ta_caller_clear) */
	const char *owner;           /* NULL: every task; else p->sub, the only owner visible */
};

/* Why a request was refused. */
struct ta_denial {
	int status;          /* 400, 401, 403, 500 or 503 */
	char error[64];      /* an RFC 6750 style code: "invalid_token", "insufficient_scope", ... */
	char desc[256];      /* for the client */
	char www[512];       /* the WWW-Authenticate value, or "" */
};

/* The role rule above, for a principal already known to hold the scope. */
enum ta_access ta_access_of(const struct tessera_principal *p, bool write);

/* Authenticates r and checks scope, tenant and role. True with *c filled;
 * false once the error (401, 403, 503) has been answered. */
bool ta_authorize(struct ta_app *app, struct ta_req *r, bool write, struct ta_caller *c);
/* The same checks without answering: true with *c filled, false with *d
 * saying why (the caller words the answer). */
bool ta_authorize_check(struct ta_app *app, struct ta_req *r, bool write, struct ta_caller *c,
			struct ta_denial *d);
void ta_caller_clear(struct ta_caller *c);

#endif
