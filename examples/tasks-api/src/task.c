/* task.c: the task record's JSON form and the validation of request
 * bodies. Every refusal carries a message that names the field, so a
 * mobile developer can fix the request without reading the server. */
#include "task.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BODY_DEPTH_MAX 4 /* a task body is flat: an object of scalars */
#define KEY_SHOWN 64     /* bytes of an unknown field name quoted back */

static const char *const priorities[] = {"low", "medium", "high"};
static const char *const statuses[] = {"open", "in_progress", "done"};

void ta_task_free(struct ta_task *t)
{
	if (t == NULL)
		return;
	free(t->tenant);
	free(t->owner_sub);
	free(t->owner_username);
	free(t->title);
	free(t->description);
	free(t);
}

static json_t *time_json(int64_t ms)
{
	char buf[40];
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	size_t n;

	if (gmtime_r(&s, &tm) == NULL)
		return json_null();
	n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, sizeof(buf) - n, ".%03dZ", (int)(ms % 1000));
	return json_string(buf);
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *ta_task_json(const struct ta_task *t)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_string(t->id));
	json_object_set_new(o, "title", json_string(t->title));
	json_object_set_new(o, "description", str_or_null(t->description));
	json_object_set_new(o, "due_date", json_string(t->due_date));
	json_object_set_new(o, "priority", json_string(ta_priority_name(t->priority)));
	json_object_set_new(o, "status", json_string(ta_status_name(t->status)));
	json_object_set_new(o, "owner_sub", json_string(t->owner_sub));
	json_object_set_new(o, "owner_username", str_or_null(t->owner_username));
	json_object_set_new(o, "created_at", time_json(t->created_at));
	json_object_set_new(o, "updated_at", time_json(t->updated_at));
	return o;
}

/* Whether s names name: ASCII case aside, and with a space for the '_'
 * ("In Progress" as the Frappe methods and people write it). */
static bool name_is(const char *name, const char *s)
{
	for (; *name != '\0' && *s != '\0'; name++, s++) {
		char c = *s >= 'A' && *s <= 'Z' ? (char)(*s - 'A' + 'a') : *s == ' ' ? '_' : *s;
		if (c != *name)
			return false;
	}
	return *name == '\0' && *s == '\0';
}

static bool name_parse(const char *const *names, size_t n, const char *s, int *out)
{
	size_t i;

	for (i = 0; s && i < n; i++) {
		if (name_is(names[i], s)) {
			*out = (int)i;
			return true;
		}
	}
	return false;
}

const char *ta_priority_name(enum ta_priority p)
{
	return (size_t)p < 3 ? priorities[p] : "medium";
}

bool ta_priority_parse(const char *s, enum ta_priority *out)
{
	int v;

	if (!name_parse(priorities, 3, s, &v))
		return false;
	*out = (enum ta_priority)v;
	return true;
}

const char *ta_status_name(enum ta_status s)
{
	return (size_t)s < 3 ? statuses[s] : "open";
}

bool ta_status_parse(const char *s, enum ta_status *out)
{
	int v;

	if (!name_parse(statuses, 3, s, &v))
		return false;
	*out = (enum ta_status)v;
	return true;
}

/* Depth of a JSON value: a scalar is 1. */
static int depth(const json_t *v)
{
	int max = 0, d;
	const char *k;
	json_t *m;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, m) {
			d = depth(m);
			max = d > max ? d : max;
			if (max >= BODY_DEPTH_MAX)
				break;
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, m) {
			d = depth(m);
			max = d > max ? d : max;
			if (max >= BODY_DEPTH_MAX)
				break;
		}
	} else {
		return 1;
	}
	return max + 1;
}

int ta_body_parse(const char *body, size_t len, json_t **out, char err[TA_ERR_MAX])
{
	json_error_t je;
	json_t *v;

	*out = NULL;
	if (len == 0) {
		snprintf(err, TA_ERR_MAX, "a JSON object is required in the body");
		return TA_EINVAL;
	}
	if (len > TA_BODY_MAX) {
		snprintf(err, TA_ERR_MAX, "the body is larger than %d bytes", TA_BODY_MAX);
		return TA_ETOOBIG;
	}
	v = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (v == NULL) {
		snprintf(err, TA_ERR_MAX, "the body is not valid JSON: %s (line %d, column %d)",
			 je.text, je.line, je.column);
		return TA_EINVAL;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		snprintf(err, TA_ERR_MAX, "the body must be a JSON object");
		return TA_EINVAL;
	}
	if (depth(v) > BODY_DEPTH_MAX) {
		json_decref(v);
		snprintf(err, TA_ERR_MAX, "the body is nested too deeply");
		return TA_EINVAL;
	}
	*out = v;
	return TA_OK;
}

/* Characters of valid UTF-8 (jansson has checked it): bytes that do not
 * continue a sequence. */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* True when s has a C0 control or DEL; multiline allows tab, CR and LF. */
static bool has_controls(const char *s, bool multiline)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (multiline && (c == '\t' || c == '\n' || c == '\r'))
			continue;
		if (c < 0x20 || c == 0x7f)
			return true;
	}
	return false;
}

static bool blank(const char *s)
{
	for (; *s; s++) {
		if (strchr(" \t\r\n", *s) == NULL)
			return false;
	}
	return true;
}

static int check_title(const json_t *v, struct ta_task_input *in, char *err)
{
	const char *s = json_string_value(v);

	if (s == NULL) {
		snprintf(err, TA_ERR_MAX, "\"title\" must be a string");
		return TA_EINVAL;
	}
	if (blank(s)) {
		snprintf(err, TA_ERR_MAX, "\"title\" must not be empty");
		return TA_EINVAL;
	}
	if (utf8_chars(s) > TA_TITLE_MAX) {
		snprintf(err, TA_ERR_MAX, "\"title\" is longer than %d characters", TA_TITLE_MAX);
		return TA_EINVAL;
	}
	if (has_controls(s, false)) {
		snprintf(err, TA_ERR_MAX, "\"title\" must not contain control characters");
		return TA_EINVAL;
	}
	in->title = s;
	in->set |= TA_SET_TITLE;
	return TA_OK;
}

static int check_description(const json_t *v, struct ta_task_input *in, char *err)
{
	const char *s = json_string_value(v);

	if (!json_is_null(v) && s == NULL) {
		snprintf(err, TA_ERR_MAX, "\"description\" must be a string or null");
		return TA_EINVAL;
	}
	if (s && utf8_chars(s) > TA_DESCRIPTION_MAX) {
		snprintf(err, TA_ERR_MAX, "\"description\" is longer than %d characters",
			 TA_DESCRIPTION_MAX);
		return TA_EINVAL;
	}
	if (s && has_controls(s, true)) {
		snprintf(err, TA_ERR_MAX, "\"description\" must not contain control characters");
		return TA_EINVAL;
	}
	in->description = s;
	in->set |= TA_SET_DESCRIPTION;
	return TA_OK;
}

static int check_due_date(const json_t *v, struct ta_task_input *in, char *err)
{
	const char *s = json_string_value(v);
	ta_day d;

	if (s == NULL || !ta_date_parse(s, strlen(s), &d)) {
		snprintf(err, TA_ERR_MAX,
			 "\"due_date\" must be a calendar date \"YYYY-MM-DD\" between %d and %d",
			 TA_DATE_YEAR_MIN, TA_DATE_YEAR_MAX);
		return TA_EINVAL;
	}
	ta_date_format(d, in->due_date);
	in->set |= TA_SET_DUE_DATE;
	return TA_OK;
}

static int check_priority(const json_t *v, struct ta_task_input *in, char *err)
{
	if (!ta_priority_parse(json_string_value(v), &in->priority)) {
		snprintf(err, TA_ERR_MAX, "\"priority\" must be one of \"low\", \"medium\", \"high\"");
		return TA_EINVAL;
	}
	in->set |= TA_SET_PRIORITY;
	return TA_OK;
}

static int check_status(const json_t *v, struct ta_task_input *in, char *err)
{
	if (!ta_status_parse(json_string_value(v), &in->status)) {
		snprintf(err, TA_ERR_MAX,
			 "\"status\" must be one of \"open\", \"in_progress\", \"done\"");
		return TA_EINVAL;
	}
	in->set |= TA_SET_STATUS;
	return TA_OK;
}

/* The fields each kind of body may carry. */
static const struct field {
	const char *name;
	unsigned bit;
	int (*check)(const json_t *v, struct ta_task_input *in, char *err);
} fields[] = {
	{"title", TA_SET_TITLE, check_title},
	{"description", TA_SET_DESCRIPTION, check_description},
	{"due_date", TA_SET_DUE_DATE, check_due_date},
	{"priority", TA_SET_PRIORITY, check_priority},
	{"status", TA_SET_STATUS, check_status},
};

static unsigned allowed_bits(enum ta_input_kind kind)
{
	return kind == TA_INPUT_STATUS ? TA_SET_STATUS
				       : TA_SET_TITLE | TA_SET_DESCRIPTION | TA_SET_DUE_DATE |
						 TA_SET_PRIORITY | TA_SET_STATUS;
}

/* Checks one member of the body against the field table. */
static int check_member(const char *key, const json_t *v, unsigned allowed,
			struct ta_task_input *in, char *err)
{
	size_t i, n;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (strcmp(fields[i].name, key) == 0 && (fields[i].bit & allowed))
			return fields[i].check(v, in, err);
	}
	/* At most KEY_SHOWN bytes of the name, cut at a character boundary
	 * so the message stays valid UTF-8; JSON escaping happens when the
	 * message is sent. */
	n = strlen(key);
	if (n > KEY_SHOWN) {
		n = KEY_SHOWN;
		while (n > 0 && ((unsigned char)key[n] & 0xc0) == 0x80)
			n--;
	}
	snprintf(err, TA_ERR_MAX, "unknown field \"%.*s\"%s", (int)n, key,
		 allowed == TA_SET_STATUS ? " (this route takes only \"status\")" : "");
	return TA_EINVAL;
}

int ta_task_input_parse(const json_t *body, enum ta_input_kind kind, struct ta_task_input *in,
			char err[TA_ERR_MAX])
{
	unsigned allowed = allowed_bits(kind);
	const char *key;
	json_t *v;
	int rc;

	memset(in, 0, sizeof(*in));
	if (!json_is_object(body)) {
		snprintf(err, TA_ERR_MAX, "the body must be a JSON object");
		return TA_EINVAL;
	}
	json_object_foreach((json_t *)body, key, v) {
		rc = check_member(key, v, allowed, in, err);
		if (rc != TA_OK)
			return rc;
	}
	if (kind == TA_INPUT_CREATE) {
		if (!(in->set & TA_SET_TITLE) || !(in->set & TA_SET_DUE_DATE)) {
			snprintf(err, TA_ERR_MAX, "\"%s\" is required",
				 (in->set & TA_SET_TITLE) ? "due_date" : "title");
			return TA_EINVAL;
		}
		if (!(in->set & TA_SET_PRIORITY))
			in->priority = TA_PRIORITY_MEDIUM;
		if (!(in->set & TA_SET_STATUS))
			in->status = TA_STATUS_OPEN;
		in->set |= TA_SET_PRIORITY | TA_SET_STATUS;
	} else if (kind == TA_INPUT_STATUS && !(in->set & TA_SET_STATUS)) {
		snprintf(err, TA_ERR_MAX, "\"status\" is required");
		return TA_EINVAL;
	} else if (in->set == 0) {
		snprintf(err, TA_ERR_MAX,
			 "nothing to change: give title, description, due_date, priority or status");
		return TA_EINVAL;
	}
	return TA_OK;
}

void ta_task_apply(struct ta_task *t, const struct ta_task_input *in)
{
	if (in->set & TA_SET_TITLE) {
		free(t->title);
		t->title = ta_xstrdup(in->title);
	}
	if (in->set & TA_SET_DESCRIPTION) {
		free(t->description);
		t->description = in->description ? ta_xstrdup(in->description) : NULL;
	}
	if (in->set & TA_SET_DUE_DATE)
		memcpy(t->due_date, in->due_date, sizeof(t->due_date));
	if (in->set & TA_SET_PRIORITY)
		t->priority = in->priority;
	if (in->set & TA_SET_STATUS)
		t->status = in->status;
}
