/* app.h: the tasks API as one object: its options, tenant, store,
 * libtessera verifier and team directory; and the router that the HTTP
 * server calls for every request. */
#ifndef TA_APP_H
#define TA_APP_H

#include "db.h"
#include "opts.h"
#include "server.h"

#include <tessera/tessera.h>

#define TA_TENANT_MAX 128

struct ta_team;

struct ta_app {
	const struct ta_opts *opts;  /* borrowed, lives as long as the app */
	char tenant[TA_TENANT_MAX];  /* ta_tenant_from_issuer(opts->issuer) */
	struct ta_db *db;            /* owned */
	tessera_verifier *verifier;  /* owned */
	struct ta_team *team;        /* owned; NULL without --team-group */
};

/* The request handler (ctx is a struct ta_app *): routes, authorizes and
 * answers every request. */
void ta_app_handle(void *ctx, struct ta_req *r);

/* Route handlers (routes.c dispatches to them after authorization). */
struct ta_caller;
void ta_tasks_today(struct ta_app *app, struct ta_req *r, const struct ta_caller *c);
void ta_tasks_list(struct ta_app *app, struct ta_req *r, const struct ta_caller *c);
void ta_tasks_buckets(struct ta_app *app, struct ta_req *r, const struct ta_caller *c);
void ta_tasks_create(struct ta_app *app, struct ta_req *r, const struct ta_caller *c);
void ta_tasks_get(struct ta_app *app, struct ta_req *r, const struct ta_caller *c, const char *id);
void ta_tasks_edit(struct ta_app *app, struct ta_req *r, const struct ta_caller *c, const char *id,
		   bool status_only);
void ta_tasks_delete(struct ta_app *app, struct ta_req *r, const struct ta_caller *c,
		     const char *id);
void ta_team_handle(struct ta_app *app, struct ta_req *r, const struct ta_caller *c);

/* Common answers. */
void ta_resp_bad_request(struct ta_req *r, const char *desc);
void ta_resp_not_found(struct ta_req *r);
void ta_resp_unavailable(struct ta_req *r, const char *desc);

#endif
