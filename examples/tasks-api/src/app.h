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

/* Shared by the JSON routes and the Frappe methods. */
struct ta_task_filter;
struct ta_task_input;
struct ta_task;
/* How a task is shown: ta_task_json or ta_frappe_task_json. */
typedef json_t *(*ta_task_json_fn)(const struct ta_task *t);
/* The local date, which decides "today". */
ta_day ta_today(void);
/* A filter of the caller's view: the tenant, and the owner for a Sales User. */
void ta_tasks_filter_init(struct ta_app *app, const struct ta_caller *c,
			  struct ta_task_filter *f);
/* The tasks of f as a JSON array made by json_of. TA_OK with *out (new
 * reference), TA_EDB. */
int ta_tasks_find(struct ta_app *app, const struct ta_task_filter *f, ta_task_json_fn json_of,
		  json_t **out);
/* {as_of, week_end, overdue, today, tomorrow, this_week, later}, each
 * bucket at most limit tasks made by json_of. TA_OK with *out, TA_EDB. */
int ta_tasks_buckets_find(struct ta_app *app, const struct ta_caller *c, int limit,
			  ta_task_json_fn json_of, json_t **out);
/* Creates the task that in describes (a create input, defaults applied),
 * owned by the caller. On TA_OK *t is the stored task, its strings
 * borrowed from in, the caller and the app (never ta_task_free it).
 * TA_EIO without randomness for an id, TA_EDB. */
int ta_tasks_insert(struct ta_app *app, const struct ta_caller *c, const struct ta_task_input *in,
		    struct ta_task *t);

/* The Frappe CRM mobile methods under /api/method/ (frappe.c). */
#define TA_FRAPPE_PREFIX "/api/method/"
void ta_frappe_handle(struct ta_app *app, struct ta_req *r);

/* Common answers. */
void ta_resp_bad_request(struct ta_req *r, const char *desc);
void ta_resp_not_found(struct ta_req *r);
void ta_resp_unavailable(struct ta_req *r, const char *desc);

#endif
