/* frappe.c: the seven methods of the Frappe CRM mobile API under
 * /api/method/crm.api.mobile_api.*, next to the JSON routes, for the
 * mobile app that calls them unchanged. Each method has Frappe's verb and
 * answers {"message": ...}; errors carry Frappe's exc_type and HTTP
 * status. The credential, scope and role rules are the JSON routes' own
 * (authz.c), checked before any parameter is read. */
#include "app.h"

#include "authz.h"
#include "frappe.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MOBILE_API "crm.api.mobile_api."
#define LIMIT_MAX 200
#define HOME_LIMIT_DEFAULT 50
#define FILTER_LIMIT_DEFAULT 100
#define BUCKET_LIMIT_DEFAULT 100
#define SEARCH_MAX 200 /* bytes of search_text */
#define CT_FORM "application/x-www-form-urlencoded"
#define CT_MULTIPART "multipart/form-data"
#define CT_JSON "application/json"

typedef void (*method_fn)(struct ta_app *app, struct ta_req *r, const struct ta_caller *c,
			  const struct ta_fparams *p);

static void home_tasks(struct ta_app *, struct ta_req *, const struct ta_caller *,
		       const struct ta_fparams *);
static void filter_tasks(struct ta_app *, struct ta_req *, const struct ta_caller *,
			 const struct ta_fparams *);
static void main_page_buckets(struct ta_app *, struct ta_req *, const struct ta_caller *,
			      const struct ta_fparams *);
static void create_task(struct ta_app *, struct ta_req *, const struct ta_caller *,
			const struct ta_fparams *);
static void edit_task(struct ta_app *, struct ta_req *, const struct ta_caller *,
		      const struct ta_fparams *);
static void update_status(struct ta_app *, struct ta_req *, const struct ta_caller *,
			  const struct ta_fparams *);
static void delete_task(struct ta_app *, struct ta_req *, const struct ta_caller *,
			const struct ta_fparams *);

static const char *const p_limit[] = {"limit"};
static const char *const p_filter[] = {"status", "priority", "search_text", "from_date",
				       "to_date", "limit"};
static const char *const p_create[] = {"title", "description", "start_date", "priority",
				       "status"};
static const char *const p_edit[] = {"name", "title", "description", "start_date", "priority",
				     "status"};
static const char *const p_status[] = {"name", "status"};
static const char *const p_name[] = {"name"};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* The methods: a GET reads (tasks:read), a POST writes (tasks:write). */
static const struct method {
	const char *name;
	bool post;
	const char *const *params;
	size_t nparams;
	method_fn fn;
} methods[] = {
	{"home_tasks", false, p_limit, N_OF(p_limit), home_tasks},
	{"filter_tasks", false, p_filter, N_OF(p_filter), filter_tasks},
	{"main_page_buckets", false, p_limit, N_OF(p_limit), main_page_buckets},
	{"create_task", true, p_create, N_OF(p_create), create_task},
	{"edit_task", true, p_edit, N_OF(p_edit), edit_task},
	{"update_status", true, p_status, N_OF(p_status), update_status},
	{"delete_task", true, p_name, N_OF(p_name), delete_task},
};

/* ---- answers ---- */

static void send_error(struct ta_req *r, enum ta_fexc exc, const char *message, const char *hname,
		       const char *hvalue)
{
	json_t *o = ta_frappe_error_json(exc, message);

	ta_resp_json_header(r, ta_fexc_status(exc), o, hname, hvalue);
	json_decref(o);
}

static void send_ferr(struct ta_req *r, const struct ta_ferr *e)
{
	send_error(r, e->exc, e->message, NULL, NULL);
}

static void send_unavailable(struct ta_req *r)
{
	send_error(r, TA_FEXC_UNAVAILABLE, "the task store is unavailable", "Retry-After", "5");
}

/* {"message": message}; takes the reference to message. */
static void send_message(struct ta_req *r, json_t *message)
{
	json_t *o = json_pack("{s:o}", "message", message);

	ta_resp_json(r, 200, o);
	json_decref(o);
}

/* A refusal of authz.c in Frappe's words, with the same status and
 * challenge as on the JSON routes. */
static void send_denial(struct ta_req *r, const struct ta_denial *d)
{
	enum ta_fexc exc = TA_FEXC_PERMISSION;
	char msg[sizeof(d->error) + sizeof(d->desc) + 2];
	const char *www = d->www[0] ? d->www : NULL;

	if (d->status == 401)
		exc = TA_FEXC_AUTHENTICATION;
	else if (d->status == 400)
		exc = TA_FEXC_VALIDATION;
	else if (d->status == 503)
		exc = TA_FEXC_UNAVAILABLE;
	else if (d->status >= 500)
		exc = TA_FEXC_SERVER;
	else if (strcmp(d->error, "csrf_failed") == 0)
		exc = TA_FEXC_CSRF;
	snprintf(msg, sizeof(msg), "%s%s%s", d->error, d->desc[0] ? ": " : "", d->desc);
	if (d->status == ta_fexc_status(exc)) {
		send_error(r, exc, msg, www ? "WWW-Authenticate" : NULL, www);
	} else {
		/* A malformed header stays a 400, as on the JSON routes. */
		json_t *o = ta_frappe_error_json(exc, msg);
		ta_resp_json_header(r, d->status, o, www ? "WWW-Authenticate" : NULL, www);
		json_decref(o);
	}
}

/* ---- parameters ---- */

struct collector {
	struct ta_fparams *p;
	struct ta_ferr *e;
};

static int collect(void *ctx, const char *name, const char *value, size_t len)
{
	struct collector *k = ctx;

	return ta_fparams_set(k->p, name, value, len, k->e);
}

static bool content_type_is(const char *ct, const char *want)
{
	size_t n = strlen(want);

	return ct && strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* The body's parameters, by its Content-Type. */
static int body_params(struct ta_req *r, struct ta_fparams *p, struct ta_ferr *e)
{
	const char *ct = ta_req_header(r, "Content-Type", NULL);
	struct collector k = {p, e};
	int rc;

	if (r->body_len == 0)
		return TA_OK;
	if (content_type_is(ct, CT_FORM))
		return ta_fparams_form(p, r->body, r->body_len, e);
	if (content_type_is(ct, CT_JSON))
		return ta_fparams_json(p, r->body, r->body_len, e);
	if (content_type_is(ct, CT_MULTIPART)) {
		rc = ta_req_multipart(r, collect, &k);
		if (rc == TA_EINVAL && e->message[0] == '\0')
			snprintf(e->message, sizeof(e->message), "the multipart body is malformed");
		return rc;
	}
	e->exc = TA_FEXC_MEDIA_TYPE;
	snprintf(e->message, sizeof(e->message),
		 "the body must be " CT_FORM ", " CT_MULTIPART " or " CT_JSON);
	return TA_EINVAL;
}

/* The query's parameters, then (for a POST) the body's. False once the
 * error has been answered. */
static bool read_params(struct ta_req *r, bool post, struct ta_fparams *p)
{
	struct ta_ferr e = {TA_FEXC_VALIDATION, ""};
	struct collector k = {p, &e};
	int rc = ta_req_args(r, collect, &k);

	if (rc == TA_OK && post)
		rc = body_params(r, p, &e);
	if (rc == TA_OK)
		return true;
	if (e.message[0] == '\0')
		snprintf(e.message, sizeof(e.message), "the parameters could not be read");
	send_ferr(r, &e);
	return false;
}

static bool limit_param(struct ta_req *r, const struct ta_fparams *p, int def, int *out)
{
	const char *v = ta_fparams_get(p, "limit");
	int64_t n;

	if (v == NULL || v[0] == '\0') {
		*out = def;
		return true;
	}
	if (!ta_frappe_name_parse(v, &n) || n > LIMIT_MAX) {
		send_error(r, TA_FEXC_VALIDATION, "\"limit\" must be a whole number from 1 to 200",
			   NULL, NULL);
		return false;
	}
	*out = (int)n;
	return true;
}

/* The date parameter name, or NULL when absent or empty. False once the
 * error has been answered. */
static bool date_param(struct ta_req *r, const struct ta_fparams *p, const char *name,
		       const char **out)
{
	const char *v = ta_fparams_get(p, name);
	char msg[96];
	ta_day d;

	*out = NULL;
	if (v == NULL || v[0] == '\0')
		return true;
	if (!ta_date_parse(v, strlen(v), &d)) {
		snprintf(msg, sizeof(msg), "\"%s\" must be a date \"YYYY-MM-DD\"", name);
		send_error(r, TA_FEXC_VALIDATION, msg, NULL, NULL);
		return false;
	}
	*out = v;
	return true;
}

/* The task named by "name": its id in the caller's view. False once the
 * error (417 without a name, 404 for one outside the view) is answered. */
static bool task_of(struct ta_app *app, struct ta_req *r, const struct ta_caller *c,
		    const struct ta_fparams *p, char id[TA_UUID_LEN + 1])
{
	const char *v = ta_fparams_get(p, "name");
	char msg[64];
	int64_t num = 0;
	int rc = TA_ENOTFOUND;

	if (v == NULL || v[0] == '\0') {
		send_error(r, TA_FEXC_MANDATORY, "Value missing for CRM Task: name", NULL, NULL);
		return false;
	}
	if (ta_frappe_name_parse(v, &num))
		rc = ta_db_find_num(app->db, app->tenant, num, c->owner, id);
	if (rc == TA_OK)
		return true;
	if (rc != TA_ENOTFOUND) {
		send_unavailable(r);
		return false;
	}
	if (num > 0)
		snprintf(msg, sizeof(msg), "CRM Task %lld not found", (long long)num);
	else
		snprintf(msg, sizeof(msg), "CRM Task not found");
	send_error(r, TA_FEXC_NOT_FOUND, msg, NULL, NULL);
	return false;
}

/* ---- the methods ---- */

static void home_tasks(struct ta_app *app, struct ta_req *r, const struct ta_caller *c,
		       const struct ta_fparams *p)
{
	char date[TA_DATE_LEN + 1];
	struct ta_task_filter f;
	json_t *a;

	ta_tasks_filter_init(app, c, &f);
	if (!limit_param(r, p, HOME_LIMIT_DEFAULT, &f.limit))
		return;
	ta_date_format(ta_today(), date);
	f.from = f.to = date;
	if (ta_tasks_find(app, &f, ta_frappe_task_json, &a) != TA_OK) {
		send_unavailable(r);
		return;
	}
	send_message(r, json_pack("{s:o,s:i}", "today", a, "limit", f.limit));
}

/* status and priority of filter_tasks, as the store names them. */
static bool enum_filters(struct ta_req *r, const struct ta_fparams *p, struct ta_task_filter *f)
{
	const char *st = ta_fparams_get(p, "status"), *pr = ta_fparams_get(p, "priority");
	enum ta_status status;
	enum ta_priority priority;

	if (st && st[0]) {
		if (!ta_frappe_status_parse(st, &status)) {
			send_error(r, TA_FEXC_VALIDATION,
				   "\"status\" must be one of Open, Backlog, Todo, In Progress, Done",
				   NULL, NULL);
			return false;
		}
		f->status = ta_status_name(status);
	}
	if (pr && pr[0]) {
		if (!ta_frappe_priority_parse(pr, &priority)) {
			send_error(r, TA_FEXC_VALIDATION,
				   "\"priority\" must be one of Low, Medium, High", NULL, NULL);
			return false;
		}
		f->priority = ta_priority_name(priority);
	}
	return true;
}

static void filter_tasks(struct ta_app *app, struct ta_req *r, const struct ta_caller *c,
			 const struct ta_fparams *p)
{
	const char *q = ta_fparams_get(p, "search_text");
	struct ta_task_filter f;
	json_t *a;

	ta_tasks_filter_init(app, c, &f);
	if (!enum_filters(r, p, &f) || !date_param(r, p, "from_date", &f.from) ||
	    !date_param(r, p, "to_date", &f.to) || !limit_param(r, p, FILTER_LIMIT_DEFAULT, &f.limit))
		return;
	if (f.from && f.to && strcmp(f.from, f.to) > 0) {
		send_error(r, TA_FEXC_VALIDATION, "\"from_date\" is after \"to_date\"", NULL, NULL);
		return;
	}
	if (q && strlen(q) > SEARCH_MAX) {
		send_error(r, TA_FEXC_VALIDATION, "\"search_text\" is longer than 200 bytes", NULL,
			   NULL);
		return;
	}
	f.q = q && q[0] ? q : NULL;
	if (ta_tasks_find(app, &f, ta_frappe_task_json, &a) != TA_OK) {
		send_unavailable(r);
		return;
	}
	send_message(r, a);
}

static void main_page_buckets(struct ta_app *app, struct ta_req *r, const struct ta_caller *c,
			      const struct ta_fparams *p)
{
	json_t *o;
	int limit;

	if (!limit_param(r, p, BUCKET_LIMIT_DEFAULT, &limit))
		return;
	if (ta_tasks_buckets_find(app, c, limit, ta_frappe_task_json, &o) != TA_OK) {
		send_unavailable(r);
		return;
	}
	send_message(r, o);
}

static void create_task(struct ta_app *app, struct ta_req *r, const struct ta_caller *c,
			const struct ta_fparams *p)
{
	struct ta_task_input in;
	struct ta_ferr e;
	struct ta_task t;
	json_t *holder = NULL;
	int rc;

	if (ta_frappe_task_input(p, TA_INPUT_CREATE, ta_today(), &in, &holder, &e) != TA_OK) {
		send_ferr(r, &e);
		goto out;
	}
	rc = ta_tasks_insert(app, c, &in, &t);
	if (rc == TA_EIO)
		send_error(r, TA_FEXC_SERVER, "no randomness for an id", NULL, NULL);
	else if (rc != TA_OK)
		send_unavailable(r);
	else
		send_message(r, ta_frappe_task_json(&t));
out:
	json_decref(holder);
}

/* edit_task and update_status. */
static void change(struct ta_app *app, struct ta_req *r, const struct ta_caller *c,
		   const struct ta_fparams *p, enum ta_input_kind kind)
{
	char id[TA_UUID_LEN + 1];
	struct ta_task_input in;
	struct ta_task *t = NULL;
	struct ta_ferr e;
	json_t *holder = NULL;
	int rc;

	if (!task_of(app, r, c, p, id))
		return;
	if (ta_frappe_task_input(p, kind, ta_today(), &in, &holder, &e) != TA_OK) {
		send_ferr(r, &e);
		goto out;
	}
	rc = ta_db_update(app->db, app->tenant, id, c->owner, &in, ta_now_ms(), &t);
	if (rc == TA_ENOTFOUND)
		send_error(r, TA_FEXC_NOT_FOUND, "CRM Task not found", NULL, NULL);
	else if (rc != TA_OK)
		send_unavailable(r);
	else
		send_message(r, ta_frappe_task_json(t));
out:
	ta_task_free(t);
	json_decref(holder);
}

static void edit_task(struct ta_app *app, struct ta_req *r, const struct ta_caller *c,
		      const struct ta_fparams *p)
{
	change(app, r, c, p, TA_INPUT_EDIT);
}

static void update_status(struct ta_app *app, struct ta_req *r, const struct ta_caller *c,
			  const struct ta_fparams *p)
{
	change(app, r, c, p, TA_INPUT_STATUS);
}

static void delete_task(struct ta_app *app, struct ta_req *r, const struct ta_caller *c,
			const struct ta_fparams *p)
{
	char id[TA_UUID_LEN + 1];
	int rc;

	if (!task_of(app, r, c, p, id))
		return;
	rc = ta_db_delete(app->db, app->tenant, id, c->owner);
	if (rc == TA_ENOTFOUND)
		send_error(r, TA_FEXC_NOT_FOUND, "CRM Task not found", NULL, NULL);
	else if (rc != TA_OK)
		send_unavailable(r);
	else
		send_message(r, json_string("ok"));
}

/* ---- dispatch ---- */

static const struct method *find(const char *path)
{
	const char *name = path + strlen(TA_FRAPPE_PREFIX);
	size_t i;

	if (strncmp(name, MOBILE_API, strlen(MOBILE_API)) != 0)
		return NULL;
	name += strlen(MOBILE_API);
	for (i = 0; i < N_OF(methods); i++) {
		if (strcmp(methods[i].name, name) == 0)
			return &methods[i];
	}
	return NULL;
}

void ta_frappe_handle(struct ta_app *app, struct ta_req *r)
{
	const struct method *m = find(r->path);
	struct ta_fparams p;
	struct ta_denial d;
	struct ta_caller c;

	if (m == NULL) {
		send_error(r, TA_FEXC_NOT_FOUND, "no such method", NULL, NULL);
		return;
	}
	/* Frappe refuses a verb a method does not allow with PermissionError. */
	if (strcmp(r->method, m->post ? "POST" : "GET") != 0) {
		send_error(r, TA_FEXC_PERMISSION,
			   m->post ? "Not permitted: use POST" : "Not permitted: use GET", "Allow",
			   m->post ? "POST" : "GET");
		return;
	}
	if (!ta_authorize_check(app, r, m->post, &c, &d)) {
		send_denial(r, &d);
		return;
	}
	ta_fparams_init(&p, m->params, m->nparams);
	if (read_params(r, m->post, &p))
		m->fn(app, r, &c, &p);
	ta_fparams_clear(&p);
	ta_caller_clear(&c);
}
