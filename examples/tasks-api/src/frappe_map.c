/* frappe_map.c: parameters, task fields and errors of the Frappe CRM
 * mobile methods. The values the app sends are translated into the input
 * of the JSON routes and checked by the same rules (task.c), so both
 * front ends accept and refuse the same tasks. */
#include "frappe.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DOCTYPE "CRM Task"
#define VALUE_SHOWN 64 /* bytes of a refused value quoted back */
#define MS_PER_S 1000

static const struct exc_info {
	int status;
	const char *type;
} excs[] = {
	[TA_FEXC_VALIDATION] = {417, "ValidationError"},
	[TA_FEXC_MANDATORY] = {417, "MandatoryError"},
	[TA_FEXC_NOT_FOUND] = {404, "DoesNotExistError"},
	[TA_FEXC_PERMISSION] = {403, "PermissionError"},
	[TA_FEXC_AUTHENTICATION] = {401, "AuthenticationError"},
	[TA_FEXC_CSRF] = {403, "CSRFTokenError"},
	[TA_FEXC_MEDIA_TYPE] = {415, "UnsupportedMediaType"},
	[TA_FEXC_UNAVAILABLE] = {503, "ServiceUnavailableError"},
	[TA_FEXC_SERVER] = {500, "InternalServerError"},
};

/* Status names: the first one of each status is how it is shown. */
static const struct {
	const char *name;
	enum ta_status status;
} statuses[] = {
	{"Open", TA_STATUS_OPEN},
	{"In Progress", TA_STATUS_IN_PROGRESS},
	{"Done", TA_STATUS_DONE},
	{"Backlog", TA_STATUS_OPEN},
	{"Todo", TA_STATUS_OPEN},
};
#define STATUS_CHOICES "\"Open\", \"Backlog\", \"Todo\", \"In Progress\", \"Done\""

static const char *const priorities[] = {
	[TA_PRIORITY_LOW] = "Low", [TA_PRIORITY_MEDIUM] = "Medium", [TA_PRIORITY_HIGH] = "High"};
#define PRIORITY_CHOICES "\"Low\", \"Medium\", \"High\""

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

int ta_fexc_status(enum ta_fexc exc)
{
	return (size_t)exc < N_OF(excs) ? excs[exc].status : 500;
}

const char *ta_fexc_type(enum ta_fexc exc)
{
	return (size_t)exc < N_OF(excs) ? excs[exc].type : "InternalServerError";
}

static void set_err(struct ta_ferr *e, enum ta_fexc exc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(struct ta_ferr *e, enum ta_fexc exc, const char *fmt, ...)
{
	va_list ap;

	e->exc = exc;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
}

/* A value quoted back in a message: printable ASCII only (anything else
 * becomes '?'), at most VALUE_SHOWN bytes, so the message is always
 * valid UTF-8 and free of controls. */
static void shown(const char *s, char out[VALUE_SHOWN + 1])
{
	size_t i;

	for (i = 0; s[i] && i < VALUE_SHOWN; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	out[i] = '\0';
}

json_t *ta_frappe_error_json(enum ta_fexc exc, const char *message)
{
	json_t *msg = json_string(message), *one, *list, *o;
	char *one_text, *list_text, *exception;
	size_t n;

	if (msg == NULL)
		msg = json_string("(unprintable)");
	one = json_pack("{s:O,s:s,s:s,s:i}", "message", msg, "title", "Message", "indicator", "red",
			"raise_exception", 1);
	one_text = json_dumps(one, JSON_COMPACT);
	list = json_pack("[s]", one_text ? one_text : "{}");
	list_text = json_dumps(list, JSON_COMPACT);
	n = strlen(ta_fexc_type(exc)) + strlen(json_string_value(msg)) + sizeof("frappe.exceptions.: ");
	exception = ta_xmalloc(n);
	snprintf(exception, n, "frappe.exceptions.%s: %s", ta_fexc_type(exc), json_string_value(msg));
	o = json_pack("{s:s,s:s,s:s}", "exc_type", ta_fexc_type(exc), "exception", exception,
		      "_server_messages", list_text ? list_text : "[]");
	free(exception);
	free(list_text);
	free(one_text);
	json_decref(list);
	json_decref(one);
	json_decref(msg);
	return o;
}

/* ---- parameters ---- */

void ta_fparams_init(struct ta_fparams *p, const char *const *names, size_t n)
{
	memset(p, 0, sizeof(*p));
	p->names = names;
	p->n = n < TA_FRAPPE_PARAMS_MAX ? n : TA_FRAPPE_PARAMS_MAX;
}

void ta_fparams_clear(struct ta_fparams *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->values[i]);
	memset(p, 0, sizeof(*p));
}

static int declared(const struct ta_fparams *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		if (strcmp(p->names[i], name) == 0)
			return (int)i;
	}
	return -1;
}

int ta_fparams_set(struct ta_fparams *p, const char *name, const char *value, size_t len,
		   struct ta_ferr *e)
{
	int i;

	if (++p->seen > TA_FRAPPE_FIELDS_MAX) {
		set_err(e, TA_FEXC_VALIDATION, "more than %d parameters", TA_FRAPPE_FIELDS_MAX);
		return TA_EINVAL;
	}
	i = declared(p, name);
	if (i < 0)
		return TA_OK;
	if (p->values[i]) {
		set_err(e, TA_FEXC_VALIDATION, "the parameter \"%s\" is given more than once",
			p->names[i]);
		return TA_EINVAL;
	}
	if (memchr(value, '\0', len)) {
		set_err(e, TA_FEXC_VALIDATION, "the parameter \"%s\" contains a NUL byte",
			p->names[i]);
		return TA_EINVAL;
	}
	p->values[i] = ta_xstrndup(value, len);
	return TA_OK;
}

const char *ta_fparams_get(const struct ta_fparams *p, const char *name)
{
	int i = declared(p, name);

	return i < 0 ? NULL : p->values[i];
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes one form component (len bytes: '+' is a space, %XX a byte)
 * into out, which has room for len + 1 bytes. False for a bad escape. */
static bool form_decode(const char *s, size_t len, char *out, size_t *outlen)
{
	size_t i, n = 0;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] == '+') {
			out[n++] = ' ';
		} else if (s[i] != '%') {
			out[n++] = s[i];
		} else {
			if (i + 2 >= len)
				return false;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return false;
			out[n++] = (char)(hi * 16 + lo);
			i += 2;
		}
	}
	out[n] = '\0';
	*outlen = n;
	return true;
}

static int form_pair(struct ta_fparams *p, const char *s, size_t len, char *key, char *val,
		     struct ta_ferr *e)
{
	const char *eq = memchr(s, '=', len);
	size_t klen = eq ? (size_t)(eq - s) : len, kn, vn = 0;

	if (!form_decode(s, klen, key, &kn) ||
	    (eq && !form_decode(eq + 1, len - klen - 1, val, &vn))) {
		set_err(e, TA_FEXC_VALIDATION, "the form body has a bad %%-escape");
		return TA_EINVAL;
	}
	if (!eq)
		val[0] = '\0';
	/* A NUL in a name cannot match a declared name: it is ignored. */
	return ta_fparams_set(p, key, val, vn, e);
}

int ta_fparams_form(struct ta_fparams *p, const char *body, size_t len, struct ta_ferr *e)
{
	char *key = ta_xmalloc(len + 1), *val = ta_xmalloc(len + 1);
	size_t start = 0, end;
	int rc = TA_OK;

	while (rc == TA_OK && start < len) {
		const char *amp = memchr(body + start, '&', len - start);
		end = amp ? (size_t)(amp - body) : len;
		if (end > start)
			rc = form_pair(p, body + start, end - start, key, val, e);
		start = end + 1;
	}
	free(key);
	free(val);
	return rc;
}

static int json_member(struct ta_fparams *p, const char *key, const json_t *v, struct ta_ferr *e)
{
	char num[24];

	if (declared(p, key) < 0)
		return ta_fparams_set(p, key, "", 0, e);
	if (json_is_string(v))
		return ta_fparams_set(p, key, json_string_value(v), json_string_length(v), e);
	if (json_is_null(v))
		return ta_fparams_set(p, key, "", 0, e);
	if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return ta_fparams_set(p, key, num, strlen(num), e);
	}
	set_err(e, TA_FEXC_VALIDATION, "\"%s\" must be a string or a whole number", key);
	return TA_EINVAL;
}

int ta_fparams_json(struct ta_fparams *p, const char *body, size_t len, struct ta_ferr *e)
{
	char err[TA_ERR_MAX];
	json_t *o = NULL, *v;
	const char *key;
	int rc;

	rc = ta_body_parse(body, len, &o, err);
	if (rc != TA_OK) {
		set_err(e, TA_FEXC_VALIDATION, "%s", err);
		return TA_EINVAL;
	}
	json_object_foreach(o, key, v) {
		rc = json_member(p, key, v, e);
		if (rc != TA_OK)
			break;
	}
	json_decref(o);
	return rc;
}

/* ---- fields ---- */

const char *ta_frappe_status_name(enum ta_status s)
{
	size_t i;

	for (i = 0; i < N_OF(statuses); i++) {
		if (statuses[i].status == s)
			return statuses[i].name;
	}
	return statuses[0].name;
}

bool ta_frappe_status_parse(const char *s, enum ta_status *out)
{
	size_t i;

	for (i = 0; s && i < N_OF(statuses); i++) {
		if (strcmp(statuses[i].name, s) == 0) {
			*out = statuses[i].status;
			return true;
		}
	}
	return false;
}

const char *ta_frappe_priority_name(enum ta_priority p)
{
	return (size_t)p < N_OF(priorities) ? priorities[p] : priorities[TA_PRIORITY_MEDIUM];
}

bool ta_frappe_priority_parse(const char *s, enum ta_priority *out)
{
	size_t i;

	for (i = 0; s && i < N_OF(priorities); i++) {
		if (strcmp(priorities[i], s) == 0) {
			*out = (enum ta_priority)i;
			return true;
		}
	}
	return false;
}

bool ta_frappe_name_parse(const char *s, int64_t *out)
{
	int64_t v = 0;
	size_t i;

	if (s == NULL || s[0] < '1' || s[0] > '9')
		return false;
	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (TA_FRAPPE_NAME_MAX - (s[i] - '0')) / 10)
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

void ta_frappe_datetime(int64_t ms, char out[20])
{
	time_t t = (time_t)(ms / MS_PER_S);
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL || strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(out, 20, "1970-01-01 00:00:00");
}

static json_t *str_or_null(const char *s)
{
	json_t *v = s ? json_string(s) : NULL;

	return v ? v : json_null();
}

json_t *ta_frappe_task_json(const struct ta_task *t)
{
	char creation[20], modified[20];

	ta_frappe_datetime(t->created_at, creation);
	ta_frappe_datetime(t->updated_at, modified);
	return json_pack("{s:I,s:o,s:o,s:s,s:s,s:s,s:o,s:s,s:s}", "name", (json_int_t)t->num,
			 "title", str_or_null(t->title), "description", str_or_null(t->description),
			 "status", ta_frappe_status_name(t->status), "priority",
			 ta_frappe_priority_name(t->priority), "start_date", t->due_date, "owner",
			 str_or_null(t->owner_username), "creation", creation, "modified", modified);
}

/* ---- task input ---- */

static int put_string(json_t *o, const char *field, const char *s, struct ta_ferr *e)
{
	json_t *v = json_string(s);

	if (v == NULL) {
		set_err(e, TA_FEXC_VALIDATION, "\"%s\" must be valid UTF-8", field);
		return TA_EINVAL;
	}
	json_object_set_new(o, field, v);
	return TA_OK;
}

static int put_date(json_t *o, const char *s, ta_day today, struct ta_ferr *e)
{
	char buf[TA_DATE_LEN + 1];
	ta_day d = today;

	if (s && !ta_date_parse(s, strlen(s), &d)) {
		set_err(e, TA_FEXC_VALIDATION,
			"\"start_date\" must be a date \"YYYY-MM-DD\" between %d and %d",
			TA_DATE_YEAR_MIN, TA_DATE_YEAR_MAX);
		return TA_EINVAL;
	}
	ta_date_format(d, buf);
	json_object_set_new(o, "due_date", json_string(buf));
	return TA_OK;
}

static int put_priority(json_t *o, const char *s, struct ta_ferr *e)
{
	enum ta_priority pr;
	char v[VALUE_SHOWN + 1];

	if (!ta_frappe_priority_parse(s, &pr)) {
		shown(s, v);
		set_err(e, TA_FEXC_VALIDATION,
			"Priority cannot be \"%s\". It should be one of " PRIORITY_CHOICES, v);
		return TA_EINVAL;
	}
	json_object_set_new(o, "priority", json_string(ta_priority_name(pr)));
	return TA_OK;
}

static int put_status(json_t *o, const char *s, struct ta_ferr *e)
{
	enum ta_status st;
	char v[VALUE_SHOWN + 1];

	if (!ta_frappe_status_parse(s, &st)) {
		shown(s, v);
		set_err(e, TA_FEXC_VALIDATION,
			"Status cannot be \"%s\". It should be one of " STATUS_CHOICES, v);
		return TA_EINVAL;
	}
	json_object_set_new(o, "status", json_string(ta_status_name(st)));
	return TA_OK;
}

/* The fields a call gives, as the JSON body of the matching JSON route. */
static int build_body(const struct ta_fparams *p, enum ta_input_kind kind, ta_day today,
		      json_t *o, struct ta_ferr *e)
{
	const char *title = ta_fparams_get(p, "title"), *desc = ta_fparams_get(p, "description"),
		   *date = ta_fparams_get(p, "start_date"), *prio = ta_fparams_get(p, "priority"),
		   *status = ta_fparams_get(p, "status");
	int rc = TA_OK;

	if (kind == TA_INPUT_STATUS) {
		if (status == NULL) {
			set_err(e, TA_FEXC_MANDATORY, "Value missing for " DOCTYPE ": status");
			return TA_EINVAL;
		}
		return put_status(o, status, e);
	}
	if (kind == TA_INPUT_CREATE && title == NULL) {
		set_err(e, TA_FEXC_MANDATORY, "Value missing for " DOCTYPE ": title");
		return TA_EINVAL;
	}
	if (kind == TA_INPUT_EDIT && !title && !desc && !date && !prio && !status) {
		set_err(e, TA_FEXC_VALIDATION,
			"nothing to change: give title, description, start_date, priority or status");
		return TA_EINVAL;
	}
	if (title)
		rc = put_string(o, "title", title, e);
	/* An empty description removes it, as clearing the field does. */
	if (rc == TA_OK && desc && desc[0])
		rc = put_string(o, "description", desc, e);
	else if (rc == TA_OK && desc)
		json_object_set_new(o, "description", json_null());
	if (rc == TA_OK && (date || kind == TA_INPUT_CREATE))
		rc = put_date(o, date, today, e);
	if (rc == TA_OK && prio)
		rc = put_priority(o, prio, e);
	if (rc == TA_OK && status)
		rc = put_status(o, status, e);
	return rc;
}

int ta_frappe_task_input(const struct ta_fparams *p, enum ta_input_kind kind, ta_day today,
			 struct ta_task_input *in, json_t **holder, struct ta_ferr *e)
{
	char err[TA_ERR_MAX];
	json_t *o = json_object();

	*holder = o;
	memset(in, 0, sizeof(*in));
	if (build_body(p, kind, today, o, e) != TA_OK)
		return TA_EINVAL;
	if (ta_task_input_parse(o, kind, in, err) != TA_OK) {
		set_err(e, TA_FEXC_VALIDATION, "%s", err);
		return TA_EINVAL;
	}
	return TA_OK;
}
