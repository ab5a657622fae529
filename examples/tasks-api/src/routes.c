/* routes.c: the route table of the tasks API. A request is matched by
 * path, then by method (405 with Allow otherwise), then authorized
 * (tasks:read for GET, tasks:write for the rest) and only then handled, so
 * that nothing about the data is said to an unauthenticated caller. */
#include "app.h"

#include "authz.h"

#include <string.h>

#define TASKS_PREFIX "/tasks/"

/* The routes, by the shape of their path. */
enum route {
	R_NONE,
	R_HEALTH,  /* /healthz */
	R_TEAM,    /* /team */
	R_TASKS,   /* /tasks */
	R_TODAY,   /* /tasks/today */
	R_BUCKETS, /* /tasks/buckets */
	R_TASK,    /* /tasks/{id} */
	R_STATUS,  /* /tasks/{id}/status */
};

static const char *const allow[] = {
	[R_NONE] = "", [R_HEALTH] = "GET", [R_TEAM] = "GET", [R_TASKS] = "GET, POST",
	[R_TODAY] = "GET", [R_BUCKETS] = "GET", [R_TASK] = "GET, PATCH, DELETE",
	[R_STATUS] = "PATCH",
};

/* Matches path; for R_TASK and R_STATUS, id receives the id segment. */
static enum route match(const char *path, char *id, size_t cap)
{
	const char *seg, *slash;
	size_t n;

	if (strcmp(path, "/healthz") == 0)
		return R_HEALTH;
	if (strcmp(path, "/team") == 0)
		return R_TEAM;
	if (strcmp(path, "/tasks") == 0)
		return R_TASKS;
	if (strncmp(path, TASKS_PREFIX, strlen(TASKS_PREFIX)) != 0)
		return R_NONE;
	seg = path + strlen(TASKS_PREFIX);
	if (strcmp(seg, "today") == 0)
		return R_TODAY;
	if (strcmp(seg, "buckets") == 0)
		return R_BUCKETS;
	slash = strchr(seg, '/');
	n = slash ? (size_t)(slash - seg) : strlen(seg);
	if (n == 0 || (slash && strcmp(slash, "/status") != 0))
		return R_NONE;
	/* An id that is too long to be ours is kept truncated-invalid, so
	 * the handler answers 404 after authorization. */
	if (n >= cap)
		n = 0;
	memcpy(id, seg, n);
	id[n] = '\0';
	return slash ? R_STATUS : R_TASK;
}

static bool method_ok(enum route rt, const char *m)
{
	switch (rt) {
	case R_HEALTH:
	case R_TEAM:
	case R_TODAY:
	case R_BUCKETS:
		return strcmp(m, "GET") == 0;
	case R_TASKS:
		return strcmp(m, "GET") == 0 || strcmp(m, "POST") == 0;
	case R_TASK:
		return strcmp(m, "GET") == 0 || strcmp(m, "PATCH") == 0 || strcmp(m, "DELETE") == 0;
	case R_STATUS:
		return strcmp(m, "PATCH") == 0;
	case R_NONE:
		break;
	}
	return false;
}

static void dispatch(struct ta_app *app, struct ta_req *r, enum route rt, const char *id,
		     const struct ta_caller *c)
{
	const char *m = r->method;

	switch (rt) {
	case R_TEAM:
		ta_team_handle(app, r, c);
		break;
	case R_TASKS:
		if (strcmp(m, "POST") == 0)
			ta_tasks_create(app, r, c);
		else
			ta_tasks_list(app, r, c);
		break;
	case R_TODAY:
		ta_tasks_today(app, r, c);
		break;
	case R_BUCKETS:
		ta_tasks_buckets(app, r, c);
		break;
	case R_TASK:
		if (strcmp(m, "GET") == 0)
			ta_tasks_get(app, r, c, id);
		else if (strcmp(m, "PATCH") == 0)
			ta_tasks_edit(app, r, c, id, false);
		else
			ta_tasks_delete(app, r, c, id);
		break;
	case R_STATUS:
		ta_tasks_edit(app, r, c, id, true);
		break;
	case R_HEALTH:
	case R_NONE:
		break;
	}
}

void ta_app_handle(void *ctx, struct ta_req *r)
{
	struct ta_app *app = ctx;
	char id[TA_UUID_LEN + 2];
	struct ta_caller c;
	enum route rt;

	if (strncmp(r->path, TA_FRAPPE_PREFIX, strlen(TA_FRAPPE_PREFIX)) == 0) {
		ta_frappe_handle(app, r);
		return;
	}
	rt = match(r->path, id, sizeof(id));
	if (rt == R_NONE) {
		ta_resp_error(r, 404, "not_found", "no such route", NULL, NULL);
		return;
	}
	if (!method_ok(rt, r->method)) {
		ta_resp_error(r, 405, "method_not_allowed", "this method is not allowed here",
			      "Allow", allow[rt]);
		return;
	}
	if (rt == R_HEALTH) {
		json_t *o = json_pack("{s:s}", "status", "ok");
		ta_resp_json(r, 200, o);
		json_decref(o);
		return;
	}
	if (!ta_authorize(app, r, strcmp(r->method, "GET") != 0, &c))
		return;
	dispatch(app, r, rt, id, &c);
	ta_caller_clear(&c);
}

void ta_resp_bad_request(struct ta_req *r, const char *desc)
{
	ta_resp_error(r, 400, "invalid_request", desc, NULL, NULL);
}

void ta_resp_not_found(struct ta_req *r)
{
	ta_resp_error(r, 404, "not_found", "no such task", NULL, NULL);
}

void ta_resp_unavailable(struct ta_req *r, const char *desc)
{
	ta_resp_error(r, 503, "temporarily_unavailable", desc, "Retry-After", "5");
}
