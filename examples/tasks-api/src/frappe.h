/* frappe.h: the task list as the Frappe CRM mobile app sees it: its
 * method parameters (from a query string, a form or a JSON body), its task
 * fields (name, title, status "Open", priority "High", start_date,
 * modified) and Frappe's exception types. Pure mapping, no I/O: the
 * methods themselves are in frappe.c. */
#ifndef TA_FRAPPE_H
#define TA_FRAPPE_H

#include "task.h"

#include <jansson.h>

#define TA_FRAPPE_PARAMS_MAX 8    /* parameters a method declares */
#define TA_FRAPPE_FIELDS_MAX 64   /* name=value pairs read from one request */
#define TA_FRAPPE_NAME_MAX 9007199254740991LL /* 2^53 - 1: exact in any JSON reader */

/* Frappe's exception classes and the HTTP status each one carries. */
enum ta_fexc {
	TA_FEXC_VALIDATION,     /* 417 ValidationError */
	TA_FEXC_MANDATORY,      /* 417 MandatoryError (a required value is missing) */
	TA_FEXC_NOT_FOUND,      /* 404 DoesNotExistError */
	TA_FEXC_PERMISSION,     /* 403 PermissionError */
	TA_FEXC_AUTHENTICATION, /* 401 AuthenticationError */
	TA_FEXC_CSRF,           /* 403 CSRFTokenError */
	TA_FEXC_MEDIA_TYPE,     /* 415 UnsupportedMediaType */
	TA_FEXC_UNAVAILABLE,    /* 503 ServiceUnavailableError */
	TA_FEXC_SERVER,         /* 500 InternalServerError */
};

/* An error for the client: the class and a message. */
struct ta_ferr {
	enum ta_fexc exc;
	char message[TA_ERR_MAX];
};

int ta_fexc_status(enum ta_fexc exc);
const char *ta_fexc_type(enum ta_fexc exc);
/* Frappe's error body: {exc_type, exception, _server_messages} where
 * _server_messages is, as Frappe sends it, a JSON string holding an array
 * of JSON strings, each one message object. New reference. */
json_t *ta_frappe_error_json(enum ta_fexc exc, const char *message);

/* The parameters of one call. Only the names the method declares are
 * kept: others are ignored, as Frappe passes a whitelisted function only
 * the arguments it takes. A declared name given twice is refused. Values
 * are owned (ta_fparams_clear). */
struct ta_fparams {
	const char *const *names;                 /* borrowed: the declared names */
	size_t n;
	char *values[TA_FRAPPE_PARAMS_MAX];      /* NULL: not given */
	size_t seen;                             /* pairs read, declared or not */
};

void ta_fparams_init(struct ta_fparams *p, const char *const *names, size_t n);
void ta_fparams_clear(struct ta_fparams *p);
/* Records one pair (value len bytes). TA_EINVAL with e filled for a
 * repeated declared name, a NUL byte in a declared value or more than
 * TA_FRAPPE_FIELDS_MAX pairs. */
int ta_fparams_set(struct ta_fparams *p, const char *name, const char *value, size_t len,
		   struct ta_ferr *e);
/* The value of a declared name, or NULL when not given (a JSON null
 * reads as "", like an empty form field). Borrowed until
 * ta_fparams_clear. */
const char *ta_fparams_get(const struct ta_fparams *p, const char *name);
/* Reads an application/x-www-form-urlencoded body (len bytes). */
int ta_fparams_form(struct ta_fparams *p, const char *body, size_t len, struct ta_ferr *e);
/* Reads a JSON object body: string, integer and null members; any other
 * type of a declared member is refused. */
int ta_fparams_json(struct ta_fparams *p, const char *body, size_t len, struct ta_ferr *e);

/* Statuses: "Open" (also "Backlog", "Todo") is open, "In Progress" is
 * in_progress, "Done" is done; a task is always shown with the first
 * name of its status, so what is read can be written back unchanged. */
const char *ta_frappe_status_name(enum ta_status s);
bool ta_frappe_status_parse(const char *s, enum ta_status *out);
/* Priorities: "Low", "Medium", "High". */
const char *ta_frappe_priority_name(enum ta_priority p);
bool ta_frappe_priority_parse(const char *s, enum ta_priority *out);
/* A task's name: a decimal number from 1 to TA_FRAPPE_NAME_MAX. */
bool ta_frappe_name_parse(const char *s, int64_t *out);
/* "YYYY-MM-DD HH:MM:SS" in local time, as Frappe writes modified. */
void ta_frappe_datetime(int64_t ms, char out[20]);

/* The task as the mobile app reads it: {name, title, description, status,
 * priority, start_date, owner, creation, modified}. New reference. */
json_t *ta_frappe_task_json(const struct ta_task *t);

/* Turns the parameters of create_task (TA_INPUT_CREATE), edit_task
 * (TA_INPUT_EDIT) or update_status (TA_INPUT_STATUS) into an input:
 * title, description, start_date (the due date; today when a new task
 * has none), priority, status. The same rules as the JSON routes hold.
 * On TA_OK *in borrows strings from *holder (a new reference the caller
 * releases, also on error); TA_EINVAL with e filled. */
int ta_frappe_task_input(const struct ta_fparams *p, enum ta_input_kind kind, ta_day today,
			 struct ta_task_input *in, json_t **holder, struct ta_ferr *e);

#endif
