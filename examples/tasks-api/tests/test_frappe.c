/* test_frappe.c: the Frappe CRM mobile view of tasks: status and priority
 * names both ways, task names, the task's fields, parameters from forms
 * and JSON bodies, the task input they make, and Frappe's error body. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "frappe.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const create_names[] = {"title", "description", "start_date", "priority",
					   "status"};
#define N_CREATE (sizeof(create_names) / sizeof(create_names[0]))

static void test_statuses_both_ways(void **state)
{
	static const struct {
		const char *name;
		enum ta_status status;
	} in[] = {{"Open", TA_STATUS_OPEN},       {"Backlog", TA_STATUS_OPEN},
		  {"Todo", TA_STATUS_OPEN},       {"In Progress", TA_STATUS_IN_PROGRESS},
		  {"Done", TA_STATUS_DONE}};
	static const char *const refused[] = {"open", "OPEN", "Canceled", "Cancelled", "Closed",
					      "in_progress", "", " Open", "Open "};
	enum ta_status s, every[] = {TA_STATUS_OPEN, TA_STATUS_IN_PROGRESS, TA_STATUS_DONE};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		assert_true(ta_frappe_status_parse(in[i].name, &s));
		assert_int_equal(s, in[i].status);
	}
	/* What is shown reads back as the same status. */
	for (i = 0; i < 3; i++) {
		assert_true(ta_frappe_status_parse(ta_frappe_status_name(every[i]), &s));
		assert_int_equal(s, every[i]);
	}
	assert_string_equal(ta_frappe_status_name(TA_STATUS_OPEN), "Open");
	assert_string_equal(ta_frappe_status_name(TA_STATUS_IN_PROGRESS), "In Progress");
	assert_string_equal(ta_frappe_status_name(TA_STATUS_DONE), "Done");
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		assert_false(ta_frappe_status_parse(refused[i], &s));
	assert_false(ta_frappe_status_parse(NULL, &s));
}

static void test_priorities_both_ways(void **state)
{
	static const char *const names[] = {"Low", "Medium", "High"};
	enum ta_priority p;
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		assert_true(ta_frappe_priority_parse(names[i], &p));
		assert_int_equal(p, (enum ta_priority)i);
		assert_string_equal(ta_frappe_priority_name(p), names[i]);
	}
	assert_false(ta_frappe_priority_parse("high", &p));
	assert_false(ta_frappe_priority_parse("Urgent", &p));
	assert_false(ta_frappe_priority_parse("", &p));
	assert_false(ta_frappe_priority_parse(NULL, &p));
}

static void test_names(void **state)
{
	static const char *const refused[] = {"", "0", "-1", "+1", "01", "1.0", "1e3", "abc",
					      " 1", "1 ", "9007199254740992",
					      "99999999999999999999"};
	int64_t n = 0;
	size_t i;

	(void)state;
	assert_true(ta_frappe_name_parse("1", &n));
	assert_int_equal(n, 1);
	assert_true(ta_frappe_name_parse("123", &n));
	assert_int_equal(n, 123);
	assert_true(ta_frappe_name_parse("9007199254740991", &n));
	assert_true(n == TA_FRAPPE_NAME_MAX);
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		assert_false(ta_frappe_name_parse(refused[i], &n));
	assert_false(ta_frappe_name_parse(NULL, &n));
}

static void test_task_fields(void **state)
{
	struct ta_task t;
	char *text;
	json_t *o;

	(void)state;
	memset(&t, 0, sizeof(t));
	strcpy(t.id, "3dcb45ae-7a12-4bf9-810b-c9a49ed72aba");
	t.num = 123;
	t.title = (char *)"Call client";
	t.owner_username = (char *)"alice@acme.test";
	strcpy(t.due_date, "2025-12-03");
	t.priority = TA_PRIORITY_HIGH;
	t.status = TA_STATUS_OPEN;
	t.created_at = 1764772200000LL;       /* 2025-12-03 14:30:00 UTC */
	t.updated_at = 1764772200999LL + 60000; /* one minute and 999 ms later */
	o = ta_frappe_task_json(&t);
	text = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
	assert_string_equal(text, "{\"creation\":\"2025-12-03 14:30:00\",\"description\":null,"
				  "\"modified\":\"2025-12-03 14:31:00\",\"name\":123,"
				  "\"owner\":\"alice@acme.test\",\"priority\":\"High\","
				  "\"start_date\":\"2025-12-03\",\"status\":\"Open\","
				  "\"title\":\"Call client\"}");
	free(text);
	json_decref(o);
}

static void test_form_parameters(void **state)
{
	static const char body[] = "title=Call+client%21&cmd=x&&priority=High&description"
				   "&start_date=2025-12-03&%74%69tle2=ignored";
	struct ta_fparams p;
	struct ta_ferr e;

	(void)state;
	ta_fparams_init(&p, create_names, N_CREATE);
	assert_int_equal(ta_fparams_form(&p, body, strlen(body), &e), TA_OK);
	assert_string_equal(ta_fparams_get(&p, "title"), "Call client!");
	assert_string_equal(ta_fparams_get(&p, "priority"), "High");
	assert_string_equal(ta_fparams_get(&p, "description"), "");
	assert_string_equal(ta_fparams_get(&p, "start_date"), "2025-12-03");
	assert_null(ta_fparams_get(&p, "status"));
	assert_null(ta_fparams_get(&p, "cmd"));
	ta_fparams_clear(&p);
}

static void test_form_refusals(void **state)
{
	static const struct {
		const char *body;
		const char *msg;
	} cases[] = {
		{"title=a&title=b", "\"title\" is given more than once"},
		{"title=%4", "%-escape"},
		{"title=%zz", "%-escape"},
		{"ti%tle=x", "%-escape"},
		{"title=a%00b", "NUL"},
	};
	struct ta_fparams p;
	struct ta_ferr e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ta_fparams_init(&p, create_names, N_CREATE);
		memset(&e, 0, sizeof(e));
		assert_int_equal(ta_fparams_form(&p, cases[i].body, strlen(cases[i].body), &e),
				 TA_EINVAL);
		assert_int_equal(e.exc, TA_FEXC_VALIDATION);
		if (strstr(e.message, cases[i].msg) == NULL)
			fail_msg("%s: \"%s\" lacks \"%s\"", cases[i].body, e.message, cases[i].msg);
		ta_fparams_clear(&p);
	}
	/* A NUL in an undeclared parameter is no concern of ours. */
	ta_fparams_init(&p, create_names, N_CREATE);
	assert_int_equal(ta_fparams_form(&p, "x=%00", 5, &e), TA_OK);
	ta_fparams_clear(&p);
}

static void test_too_many_pairs(void **state)
{
	char body[TA_FRAPPE_FIELDS_MAX * 4 + 8];
	struct ta_fparams p;
	struct ta_ferr e;
	size_t n = 0;
	int i;

	(void)state;
	for (i = 0; i < TA_FRAPPE_FIELDS_MAX; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n, "x=&");
	ta_fparams_init(&p, create_names, N_CREATE);
	assert_int_equal(ta_fparams_form(&p, body, n, &e), TA_OK);
	ta_fparams_clear(&p);
	body[n++] = 'y';
	ta_fparams_init(&p, create_names, N_CREATE);
	assert_int_equal(ta_fparams_form(&p, body, n, &e), TA_EINVAL);
	assert_non_null(strstr(e.message, "more than 64 parameters"));
	ta_fparams_clear(&p);
}

static void test_json_parameters(void **state)
{
	static const char *const names[] = {"name", "status", "description"};
	static const char body[] = "{\"name\": 123, \"status\": \"Done\", \"description\": null,"
				   " \"extra\": [1, {\"a\": 2}]}";
	static const struct {
		const char *body;
		const char *msg;
	} refused[] = {
		{"{\"name\": 1.5}", "\"name\" must be a string"},
		{"{\"name\": true}", "\"name\" must be a string"},
		{"{\"status\": [\"Done\"]}", "\"status\" must be a string"},
		{"{\"status\": \"a\\u0000b\"}", "NUL"},
		{"{\"name\": 1, \"name\": 2}", "not valid JSON"},
		{"[1]", "must be a JSON object"},
		{"{", "not valid JSON"},
	};
	struct ta_fparams p;
	struct ta_ferr e;
	size_t i;

	(void)state;
	ta_fparams_init(&p, names, 3);
	assert_int_equal(ta_fparams_json(&p, body, strlen(body), &e), TA_OK);
	assert_string_equal(ta_fparams_get(&p, "name"), "123");
	assert_string_equal(ta_fparams_get(&p, "status"), "Done");
	assert_string_equal(ta_fparams_get(&p, "description"), "");
	ta_fparams_clear(&p);
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		ta_fparams_init(&p, names, 3);
		assert_int_equal(ta_fparams_json(&p, refused[i].body, strlen(refused[i].body), &e),
				 TA_EINVAL);
		if (strstr(e.message, refused[i].msg) == NULL)
			fail_msg("%s: \"%s\" lacks \"%s\"", refused[i].body, e.message,
				 refused[i].msg);
		ta_fparams_clear(&p);
	}
}

/* Parses body as a form and makes the input of kind. */
static int input(const char *body, enum ta_input_kind kind, struct ta_task_input *in,
		 struct ta_ferr *e, json_t **holder)
{
	static const char *const names[] = {"title", "description", "start_date", "priority",
					    "status"};
	struct ta_fparams p;
	ta_day today = 0;
	int rc;

	assert_true(ta_date_parse("2026-03-04", 10, &today));
	ta_fparams_init(&p, names, 5);
	assert_int_equal(ta_fparams_form(&p, body, strlen(body), e), TA_OK);
	rc = ta_frappe_task_input(&p, kind, today, in, holder, e);
	ta_fparams_clear(&p);
	return rc;
}

static void test_task_input(void **state)
{
	struct ta_task_input in;
	struct ta_ferr e;
	json_t *h = NULL;

	(void)state;
	assert_int_equal(input("title=Call", TA_INPUT_CREATE, &in, &e, &h), TA_OK);
	assert_string_equal(in.title, "Call");
	assert_string_equal(in.due_date, "2026-03-04");
	assert_int_equal(in.priority, TA_PRIORITY_MEDIUM);
	assert_int_equal(in.status, TA_STATUS_OPEN);
	json_decref(h);
	assert_int_equal(input("title=Q&start_date=2025-12-03&priority=High&status=Todo&description=n",
			       TA_INPUT_CREATE, &in, &e, &h), TA_OK);
	assert_string_equal(in.due_date, "2025-12-03");
	assert_int_equal(in.priority, TA_PRIORITY_HIGH);
	assert_int_equal(in.status, TA_STATUS_OPEN);
	assert_string_equal(in.description, "n");
	json_decref(h);
	/* An edit changes only what it gives; an empty description removes it. */
	assert_int_equal(input("status=In+Progress&description=", TA_INPUT_EDIT, &in, &e, &h),
			 TA_OK);
	assert_int_equal(in.set, TA_SET_STATUS | TA_SET_DESCRIPTION);
	assert_int_equal(in.status, TA_STATUS_IN_PROGRESS);
	assert_null(in.description);
	json_decref(h);
	assert_int_equal(input("status=Done&title=ignored", TA_INPUT_STATUS, &in, &e, &h), TA_OK);
	assert_int_equal(in.set, TA_SET_STATUS);
	assert_int_equal(in.status, TA_STATUS_DONE);
	json_decref(h);
}

static void test_task_input_refusals(void **state)
{
	static const struct {
		const char *body;
		enum ta_input_kind kind;
		enum ta_fexc exc;
		const char *msg;
	} cases[] = {
		{"", TA_INPUT_CREATE, TA_FEXC_MANDATORY, "Value missing for CRM Task: title"},
		{"title=+", TA_INPUT_CREATE, TA_FEXC_VALIDATION, "\"title\" must not be empty"},
		{"title=a%01", TA_INPUT_CREATE, TA_FEXC_VALIDATION, "control characters"},
		{"title=%ff", TA_INPUT_CREATE, TA_FEXC_VALIDATION, "\"title\" must be valid UTF-8"},
		{"title=x&start_date=2026-02-30", TA_INPUT_CREATE, TA_FEXC_VALIDATION,
		 "\"start_date\" must be a date \"YYYY-MM-DD\" between 1970 and 9999"},
		{"title=x&start_date=", TA_INPUT_CREATE, TA_FEXC_VALIDATION, "\"start_date\""},
		{"title=x&start_date=2025-12-03+10:00:00", TA_INPUT_CREATE, TA_FEXC_VALIDATION,
		 "\"start_date\""},
		{"title=x&priority=high", TA_INPUT_CREATE, TA_FEXC_VALIDATION,
		 "Priority cannot be \"high\". It should be one of \"Low\", \"Medium\", \"High\""},
		{"title=x&status=Canceled", TA_INPUT_CREATE, TA_FEXC_VALIDATION,
		 "Status cannot be \"Canceled\". It should be one of \"Open\", \"Backlog\", "
		 "\"Todo\", \"In Progress\", \"Done\""},
		{"title=x&status=%e2%82%ac%0a", TA_INPUT_CREATE, TA_FEXC_VALIDATION,
		 "Status cannot be \"????\""},
		{"", TA_INPUT_EDIT, TA_FEXC_VALIDATION, "nothing to change"},
		{"title=", TA_INPUT_EDIT, TA_FEXC_VALIDATION, "must not be empty"},
		{"", TA_INPUT_STATUS, TA_FEXC_MANDATORY, "Value missing for CRM Task: status"},
		{"status=", TA_INPUT_STATUS, TA_FEXC_VALIDATION, "Status cannot be \"\""},
	};
	struct ta_task_input in;
	struct ta_ferr e;
	json_t *h;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		h = NULL;
		memset(&e, 0, sizeof(e));
		assert_int_equal(input(cases[i].body, cases[i].kind, &in, &e, &h), TA_EINVAL);
		json_decref(h);
		assert_int_equal(e.exc, cases[i].exc);
		if (strstr(e.message, cases[i].msg) == NULL)
			fail_msg("%s: \"%s\" lacks \"%s\"", cases[i].body, e.message, cases[i].msg);
	}
}

static void test_error_body(void **state)
{
	json_t *o = ta_frappe_error_json(TA_FEXC_NOT_FOUND, "CRM Task 7 not found"), *list, *one;
	json_error_t je;

	(void)state;
	assert_int_equal(ta_fexc_status(TA_FEXC_VALIDATION), 417);
	assert_int_equal(ta_fexc_status(TA_FEXC_MANDATORY), 417);
	assert_int_equal(ta_fexc_status(TA_FEXC_NOT_FOUND), 404);
	assert_int_equal(ta_fexc_status(TA_FEXC_PERMISSION), 403);
	assert_int_equal(ta_fexc_status(TA_FEXC_AUTHENTICATION), 401);
	assert_string_equal(ta_fexc_type(TA_FEXC_MANDATORY), "MandatoryError");
	assert_int_equal(json_object_size(o), 3);
	assert_string_equal(json_string_value(json_object_get(o, "exc_type")), "DoesNotExistError");
	assert_string_equal(json_string_value(json_object_get(o, "exception")),
			    "frappe.exceptions.DoesNotExistError: CRM Task 7 not found");
	/* _server_messages: a string holding an array of strings, each a JSON object. */
	list = json_loads(json_string_value(json_object_get(o, "_server_messages")), 0, &je);
	assert_non_null(list);
	assert_int_equal(json_array_size(list), 1);
	one = json_loads(json_string_value(json_array_get(list, 0)), 0, &je);
	assert_non_null(one);
	assert_string_equal(json_string_value(json_object_get(one, "message")),
			    "CRM Task 7 not found");
	assert_string_equal(json_string_value(json_object_get(one, "indicator")), "red");
	json_decref(one);
	json_decref(list);
	json_decref(o);
	/* A message that is not UTF-8 still gives a body. */
	o = ta_frappe_error_json(TA_FEXC_VALIDATION, "\xff");
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "exception")),
			    "frappe.exceptions.ValidationError: (unprintable)");
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_statuses_both_ways),
		cmocka_unit_test(test_priorities_both_ways),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_task_fields),
		cmocka_unit_test(test_form_parameters),
		cmocka_unit_test(test_form_refusals),
		cmocka_unit_test(test_too_many_pairs),
		cmocka_unit_test(test_json_parameters),
		cmocka_unit_test(test_task_input),
		cmocka_unit_test(test_task_input_refusals),
		cmocka_unit_test(test_error_body),
	};

	/* modified and creation are local times: pin the zone. */
	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
