/* task.h: the task record, its JSON form, and the validation of the
 * bodies of POST /tasks, PATCH /tasks/{id} and PATCH /tasks/{id}/status. */
#ifndef TA_TASK_H
#define TA_TASK_H

#include "dates.h"
#include "util.h"

#include <jansson.h>

#define TA_BODY_MAX (64 * 1024)   /* bytes of a request body */
#define TA_TITLE_MAX 200          /* characters (Unicode code points) */
#define TA_DESCRIPTION_MAX 4000   /* characters */
#define TA_ERR_MAX 256            /* bytes of a validation message */

enum ta_priority {
	TA_PRIORITY_LOW,
	TA_PRIORITY_MEDIUM,
	TA_PRIORITY_HIGH,
};

enum ta_status {
	TA_STATUS_OPEN,
	TA_STATUS_IN_PROGRESS,
	TA_STATUS_DONE,
};

/* One task. Strings are owned by the task (ta_task_free). */
struct ta_task {
	char id[TA_UUID_LEN + 1];
	int64_t num;             /* the store's number for it (its Frappe "name"), > 0 */
	char *tenant;            /* the tenant's name */
	char *owner_sub;         /* the principal sub of the creator */
	char *owner_username;    /* the creator's username, or NULL */
	char *title;
	char *description;       /* NULL: none */
	char due_date[TA_DATE_LEN + 1];
	enum ta_priority priority;
	enum ta_status status;
	int64_t created_at;      /* Unix milliseconds */
	int64_t updated_at;
};

void ta_task_free(struct ta_task *t); /* NULL is a no-op */
/* The task as the API shows it (new reference). */
json_t *ta_task_json(const struct ta_task *t);

const char *ta_priority_name(enum ta_priority p);
bool ta_priority_parse(const char *s, enum ta_priority *out);
const char *ta_status_name(enum ta_status s);
bool ta_status_parse(const char *s, enum ta_status *out);

/* Which members of a ta_task_input a body set. */
#define TA_SET_TITLE 0x01u
#define TA_SET_DESCRIPTION 0x02u
#define TA_SET_DUE_DATE 0x04u
#define TA_SET_PRIORITY 0x08u
#define TA_SET_STATUS 0x10u

/* What a body asks for. Strings are borrowed from the parsed JSON and
 * live as long as it does. */
struct ta_task_input {
	unsigned set;            /* TA_SET_* bits */
	const char *title;
	const char *description; /* NULL with TA_SET_DESCRIPTION: remove it */
	char due_date[TA_DATE_LEN + 1];
	enum ta_priority priority;
	enum ta_status status;
};

enum ta_input_kind {
	TA_INPUT_CREATE, /* POST /tasks: title and due_date required, defaults applied */
	TA_INPUT_EDIT,   /* PATCH /tasks/{id}: any field, at least one */
	TA_INPUT_STATUS, /* PATCH /tasks/{id}/status: status only */
};

/* Parses a request body of len bytes as one JSON object (duplicate keys
 * refused). TA_OK with *out a new reference; TA_EINVAL with a message for
 * the client in err (TA_ERR_MAX bytes). */
int ta_body_parse(const char *body, size_t len, json_t **out, char err[TA_ERR_MAX]);
/* Validates a body object for kind: unknown fields, types, enums, dates
 * and lengths. TA_OK with *in filled; TA_EINVAL with a message in err. */
int ta_task_input_parse(const json_t *body, enum ta_input_kind kind, struct ta_task_input *in,
			char err[TA_ERR_MAX]);
/* Copies what in sets into t (strings duplicated). */
void ta_task_apply(struct ta_task *t, const struct ta_task_input *in);

#endif
