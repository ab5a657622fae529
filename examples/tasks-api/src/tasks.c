/* tasks.c: the task routes. Callers arrive authorized (routes.c); c->owner
 * restricts a Sales User to its own tasks, and a task outside the caller's
 * view is answered 404 exactly like a task that does not exist. */
#include "app.h"

#include "authz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define LIMIT_MAX 200
#define TODAY_LIMIT_DEFAULT 50
#define LIST_LIMIT_DEFAULT 100
#define BUCKET_LIMIT_DEFAULT 100
#define Q_MAX 200 /* bytes of a search term */
#define JSON_TYPE "application/json"
#define LOCATION_MAX 64

ta_day ta_today(void)
{
	return ta_date_local(time(NULL));
}

/* Reads "limit" (v may be NULL: def). False once 400 has been answered. */
static bool limit_param(struct ta_req *r, const char *v, int def, int *out)
{
	int n = 0;
	size_t i;

	if (v == NULL) {
		*out = def;
		return true;
	}
	for (i = 0; v[i] && i < 4; i++) {
		if (v[i] < '0' || v[i] > '9')
			break;
		n = n * 10 + (v[i] - '0');
	}
	if (i == 0 || v[i] != '\0' || n < 1 || n > LIMIT_MAX) {
		ta_resp_bad_request(r, "\"limit\" must be a whole number from 1 to 200");
		return false;
	}
	*out = n;
	return true;
}

static bool date_param(struct ta_req *r, const char *name, const char *v, ta_day *d)
{
	char msg[96];

	if (v == NULL || ta_date_parse(v, strlen(v), d))
		return true;
	snprintf(msg, sizeof(msg), "\"%s\" must be a calendar date \"YYYY-MM-DD\"", name);
	ta_resp_bad_request(r, msg);
	return false;
}

static json_t *tasks_json(struct ta_task **v, size_t n, ta_task_json_fn json_of)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_of(v[i]));
	return a;
}

int ta_tasks_find(struct ta_app *app, const struct ta_task_filter *f, ta_task_json_fn json_of,
		  json_t **out)
{
	struct ta_task **v = NULL;
	size_t n = 0;
	int rc;

	*out = NULL;
	rc = ta_db_list(app->db, f, &v, &n);
	if (rc != TA_OK)
		return rc;
	*out = tasks_json(v, n, json_of);
	ta_tasks_free(v, n);
	return TA_OK;
}

/* Runs f; on TA_OK *out is the JSON array (new reference). False once an
 * error has been answered. */
static bool list_json(struct ta_app *app, struct ta_req *r, const struct ta_task_filter *f,
		      json_t **out)
{
	if (ta_tasks_find(app, f, ta_task_json, out) != TA_OK) {
		ta_resp_unavailable(r, "the task store is unavailable");
		return false;
	}
	return true;
}

void ta_tasks_filter_init(struct ta_app *app, const struct ta_caller *c, struct ta_task_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->tenant = app->tenant;
	f->owner_sub = c->owner;
}

void ta_tasks_today(struct ta_app *app, struct ta_req *r, const struct ta_caller *c)
{
	static const char *const names[] = {"limit"};
	const char *v[1];
	char err[128], date[TA_DATE_LEN + 1];
	struct ta_task_filter f;
	json_t *a, *o;

	if (ta_req_query(r, names, 1, v, err, sizeof(err)) != TA_OK) {
		ta_resp_bad_request(r, err);
		return;
	}
	ta_tasks_filter_init(app, c, &f);
	if (!limit_param(r, v[0], TODAY_LIMIT_DEFAULT, &f.limit))
		return;
	ta_date_format(ta_today(), date);
	f.from = f.to = date;
	if (!list_json(app, r, &f, &a))
		return;
	o = json_pack("{s:s,s:I,s:o}", "date", date, "count", (json_int_t)json_array_size(a),
		      "tasks", a);
	ta_resp_json(r, 200, o);
	json_decref(o);
}

#define N_FILTERS 5 /* status, priority, q, from, to: the names before limit */

/* Reads the filters of GET /tasks into f (strings borrowed from the
 * request). False once 400 has been answered. */
static bool list_filters(struct ta_req *r, struct ta_task_filter *f)
{
	static const char *const names[] = {"status", "priority", "q", "from", "to", "limit"};
	const char *v[6];
	enum ta_status st;
	enum ta_priority pr;
	ta_day from = 0, to = 0;
	char err[128];
	size_t i;

	if (ta_req_query(r, names, 6, v, err, sizeof(err)) != TA_OK) {
		ta_resp_bad_request(r, err);
		return false;
	}
	/* An empty filter is no filter, as in filter_tasks: a form or client
	 * sends every field, filled in or not. */
	for (i = 0; i < N_FILTERS; i++)
		if (v[i] && v[i][0] == '\0')
			v[i] = NULL;
	if (v[0] && !ta_status_parse(v[0], &st)) {
		ta_resp_bad_request(r, "\"status\" must be one of open, in_progress, done");
		return false;
	}
	if (v[1] && !ta_priority_parse(v[1], &pr)) {
		ta_resp_bad_request(r, "\"priority\" must be one of low, medium, high");
		return false;
	}
	if (v[2] && strlen(v[2]) > Q_MAX) {
		ta_resp_bad_request(r, "\"q\" is longer than 200 bytes");
		return false;
	}
	if (!date_param(r, "from", v[3], &from) || !date_param(r, "to", v[4], &to))
		return false;
	if (v[3] && v[4] && from > to) {
		ta_resp_bad_request(r, "\"from\" is after \"to\"");
		return false;
	}
	if (!limit_param(r, v[5], LIST_LIMIT_DEFAULT, &f->limit))
		return false;
	/* The stored names, however the request wrote them. */
	f->status = v[0] ? ta_status_name(st) : NULL;
	f->priority = v[1] ? ta_priority_name(pr) : NULL;
	f->q = v[2];
	f->from = v[3];
	f->to = v[4];
	return true;
}

void ta_tasks_list(struct ta_app *app, struct ta_req *r, const struct ta_caller *c)
{
	struct ta_task_filter f;
	json_t *a, *o;

	ta_tasks_filter_init(app, c, &f);
	if (!list_filters(r, &f) || !list_json(app, r, &f, &a))
		return;
	o = json_pack("{s:I,s:o}", "count", (json_int_t)json_array_size(a), "tasks", a);
	ta_resp_json(r, 200, o);
	json_decref(o);
}

/* One bucket: the visible tasks due from..to (either may be NULL). */
static int bucket(struct ta_app *app, const struct ta_caller *c, int limit, const char *from,
		  const char *to, bool not_done, ta_task_json_fn json_of, json_t **out)
{
	struct ta_task_filter f;

	ta_tasks_filter_init(app, c, &f);
	f.limit = limit;
	f.from = from;
	f.to = to;
	f.not_done = not_done;
	return ta_tasks_find(app, &f, json_of, out);
}

int ta_tasks_buckets_find(struct ta_app *app, const struct ta_caller *c, int limit,
			  ta_task_json_fn json_of, json_t **out)
{
	char d_today[TA_DATE_LEN + 1], d_yesterday[TA_DATE_LEN + 1], d_tomorrow[TA_DATE_LEN + 1],
		d_week_from[TA_DATE_LEN + 1], d_week_end[TA_DATE_LEN + 1], d_later[TA_DATE_LEN + 1];
	json_t *overdue = NULL, *tod = NULL, *tom = NULL, *week = NULL, *later = NULL;
	struct ta_buckets b;
	int rc;

	*out = NULL;
	ta_buckets_compute(ta_today(), &b);
	ta_date_format(b.today, d_today);
	ta_date_format(b.today - 1, d_yesterday);
	ta_date_format(b.tomorrow, d_tomorrow);
	ta_date_format(b.tomorrow + 1, d_week_from);
	ta_date_format(b.week_end, d_week_end);
	ta_date_format(b.later_from, d_later);
	rc = bucket(app, c, limit, NULL, d_yesterday, true, json_of, &overdue);
	if (rc == TA_OK)
		rc = bucket(app, c, limit, d_today, d_today, false, json_of, &tod);
	if (rc == TA_OK)
		rc = bucket(app, c, limit, d_tomorrow, d_tomorrow, false, json_of, &tom);
	/* this_week is empty when tomorrow already ends the week. */
	if (rc == TA_OK && b.week_end > b.tomorrow)
		rc = bucket(app, c, limit, d_week_from, d_week_end, false, json_of, &week);
	else if (rc == TA_OK)
		week = json_array();
	if (rc == TA_OK)
		rc = bucket(app, c, limit, d_later, NULL, false, json_of, &later);
	if (rc == TA_OK)
		*out = json_pack("{s:s,s:s,s:O,s:O,s:O,s:O,s:O}", "as_of", d_today, "week_end",
				 d_week_end, "overdue", overdue, "today", tod, "tomorrow", tom,
				 "this_week", week, "later", later);
	json_decref(overdue);
	json_decref(tod);
	json_decref(tom);
	json_decref(week);
	json_decref(later);
	return rc;
}

void ta_tasks_buckets(struct ta_app *app, struct ta_req *r, const struct ta_caller *c)
{
	static const char *const names[] = {"limit"};
	char err[128];
	const char *v[1];
	json_t *o;
	int limit;

	if (ta_req_query(r, names, 1, v, err, sizeof(err)) != TA_OK) {
		ta_resp_bad_request(r, err);
		return;
	}
	if (!limit_param(r, v[0], BUCKET_LIMIT_DEFAULT, &limit))
		return;
	if (ta_tasks_buckets_find(app, c, limit, ta_task_json, &o) != TA_OK) {
		ta_resp_unavailable(r, "the task store is unavailable");
		return;
	}
	ta_resp_json(r, 200, o);
	json_decref(o);
}

/* The request's JSON body, checked for content type, size and syntax.
 * False once the error has been answered. */
static bool json_body(struct ta_req *r, json_t **out)
{
	const char *ct = ta_req_header(r, "Content-Type", NULL);
	size_t n = strlen(JSON_TYPE);
	char err[TA_ERR_MAX];

	if (ct == NULL || strncasecmp(ct, JSON_TYPE, n) != 0 || (ct[n] != '\0' && ct[n] != ';' &&
								ct[n] != ' ')) {
		ta_resp_error(r, 415, "invalid_request", "the body must be application/json", NULL,
			      NULL);
		return false;
	}
	if (ta_body_parse(r->body, r->body_len, out, err) != TA_OK) {
		ta_resp_bad_request(r, err);
		return false;
	}
	return true;
}

int ta_tasks_insert(struct ta_app *app, const struct ta_caller *c, const struct ta_task_input *in,
		    struct ta_task *t)
{
	memset(t, 0, sizeof(*t));
	if (ta_uuid_new(t->id) != TA_OK)
		return TA_EIO;
	/* Borrowed strings: see the contract in app.h. */
	t->tenant = app->tenant;
	t->owner_sub = c->p->sub;
	t->owner_username = c->p->username;
	t->title = (char *)in->title;
	t->description = (char *)in->description;
	memcpy(t->due_date, in->due_date, sizeof(t->due_date));
	t->priority = in->priority;
	t->status = in->status;
	t->created_at = t->updated_at = ta_now_ms();
	return ta_db_insert(app->db, t);
}

void ta_tasks_create(struct ta_app *app, struct ta_req *r, const struct ta_caller *c)
{
	struct ta_task_input in;
	struct ta_task t;
	char err[TA_ERR_MAX], loc[LOCATION_MAX];
	json_t *body = NULL, *o;
	int rc;

	if (!json_body(r, &body))
		return;
	if (ta_task_input_parse(body, TA_INPUT_CREATE, &in, err) != TA_OK) {
		ta_resp_bad_request(r, err);
		goto out;
	}
	rc = ta_tasks_insert(app, c, &in, &t);
	if (rc == TA_EIO) {
		ta_resp_error(r, 500, "server_error", "no randomness for an id", NULL, NULL);
		goto out;
	}
	if (rc != TA_OK) {
		ta_resp_unavailable(r, "the task store is unavailable");
		goto out;
	}
	snprintf(loc, sizeof(loc), "/tasks/%s", t.id);
	o = ta_task_json(&t);
	ta_resp_json_header(r, 201, o, "Location", loc);
	json_decref(o);
out:
	json_decref(body);
}

void ta_tasks_get(struct ta_app *app, struct ta_req *r, const struct ta_caller *c, const char *id)
{
	struct ta_task *t = NULL;
	json_t *o;
	int rc;

	if (!ta_uuid_ok(id)) {
		ta_resp_not_found(r);
		return;
	}
	rc = ta_db_get(app->db, app->tenant, id, c->owner, &t);
	if (rc == TA_ENOTFOUND) {
		ta_resp_not_found(r);
		return;
	}
	if (rc != TA_OK) {
		ta_resp_unavailable(r, "the task store is unavailable");
		return;
	}
	o = ta_task_json(t);
	ta_resp_json(r, 200, o);
	json_decref(o);
	ta_task_free(t);
}

void ta_tasks_edit(struct ta_app *app, struct ta_req *r, const struct ta_caller *c, const char *id,
		   bool status_only)
{
	struct ta_task_input in;
	struct ta_task *t = NULL;
	char err[TA_ERR_MAX];
	json_t *body = NULL, *o;
	int rc;

	if (!ta_uuid_ok(id)) {
		ta_resp_not_found(r);
		return;
	}
	if (!json_body(r, &body))
		return;
	if (ta_task_input_parse(body, status_only ? TA_INPUT_STATUS : TA_INPUT_EDIT, &in, err) !=
	    TA_OK) {
		ta_resp_bad_request(r, err);
		goto out;
	}
	rc = ta_db_update(app->db, app->tenant, id, c->owner, &in, ta_now_ms(), &t);
	if (rc == TA_ENOTFOUND) {
		ta_resp_not_found(r);
		goto out;
	}
	if (rc != TA_OK) {
		ta_resp_unavailable(r, "the task store is unavailable");
		goto out;
	}
	o = ta_task_json(t);
	ta_resp_json(r, 200, o);
	json_decref(o);
out:
	ta_task_free(t);
	json_decref(body);
}

void ta_tasks_delete(struct ta_app *app, struct ta_req *r, const struct ta_caller *c,
		     const char *id)
{
	int rc;

	if (!ta_uuid_ok(id)) {
		ta_resp_not_found(r);
		return;
	}
	rc = ta_db_delete(app->db, app->tenant, id, c->owner);
	if (rc == TA_ENOTFOUND)
		ta_resp_not_found(r);
	else if (rc != TA_OK)
		ta_resp_unavailable(r, "the task store is unavailable");
	else
		ta_resp_empty(r, 204);
}
