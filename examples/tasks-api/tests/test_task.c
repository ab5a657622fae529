/* test_task.c: request body parsing and validation for POST /tasks and the
 * PATCH routes, and the JSON form of a task. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "task.h"

#include <stdlib.h>
#include <string.h>

static int parse(const char *text, enum ta_input_kind kind, struct ta_task_input *in, char *err,
		 json_t **keep)
{
	json_t *body = NULL;
	int rc = ta_body_parse(text, strlen(text), &body, err);

	*keep = body;
	if (rc != TA_OK)
		return rc;
	return ta_task_input_parse(body, kind, in, err);
}

static void test_create_defaults(void **state)
{
	struct ta_task_input in;
	char err[TA_ERR_MAX];
	json_t *b;

	(void)state;
	assert_int_equal(parse("{\"title\":\"Call Acme\",\"due_date\":\"2026-11-24\"}",
			       TA_INPUT_CREATE, &in, err, &b), TA_OK);
	assert_string_equal(in.title, "Call Acme");
	assert_string_equal(in.due_date, "2026-11-24");
	assert_int_equal(in.priority, TA_PRIORITY_MEDIUM);
	assert_int_equal(in.status, TA_STATUS_OPEN);
	assert_false(in.set & TA_SET_DESCRIPTION);
	json_decref(b);
}

static void test_create_all_fields(void **state)
{
	struct ta_task_input in;
	char err[TA_ERR_MAX];
	json_t *b;

	(void)state;
	assert_int_equal(parse("{\"title\":\"Q\",\"due_date\":\"2026-02-28\",\"priority\":\"high\","
			       "\"status\":\"in_progress\",\"description\":\"line1\\nline2\"}",
			       TA_INPUT_CREATE, &in, err, &b), TA_OK);
	assert_int_equal(in.priority, TA_PRIORITY_HIGH);
	assert_int_equal(in.status, TA_STATUS_IN_PROGRESS);
	assert_string_equal(in.description, "line1\nline2");
	json_decref(b);
}

/* Table of refusals: body, kind, a fragment of the message. */
static void test_refusals(void **state)
{
	static const struct {
		const char *body;
		enum ta_input_kind kind;
		const char *msg;
	} cases[] = {
		{"", TA_INPUT_CREATE, "JSON object is required"},
		{"{", TA_INPUT_CREATE, "not valid JSON"},
		{"[1]", TA_INPUT_CREATE, "must be a JSON object"},
		{"{\"title\":\"a\",\"title\":\"b\",\"due_date\":\"2026-01-01\"}", TA_INPUT_CREATE,
		 "not valid JSON"},
		{"{\"due_date\":\"2026-01-01\"}", TA_INPUT_CREATE, "\"title\" is required"},
		{"{\"title\":\"x\"}", TA_INPUT_CREATE, "\"due_date\" is required"},
		{"{\"title\":\"x\",\"due_date\":\"2026-02-30\"}", TA_INPUT_CREATE, "due_date"},
		{"{\"title\":\"x\",\"due_date\":20260101}", TA_INPUT_CREATE, "due_date"},
		{"{\"title\":\"x\",\"due_date\":\"2026-01-01\",\"priority\":\"urgent\"}",
		 TA_INPUT_CREATE, "\"priority\" must be one of"},
		{"{\"title\":\"x\",\"due_date\":\"2026-01-01\",\"status\":\"closed\"}", TA_INPUT_CREATE,
		 "\"status\" must be one of"},
		{"{\"title\":\"x\",\"due_date\":\"2026-01-01\",\"owner\":\"bob\"}", TA_INPUT_CREATE,
		 "unknown field \"owner\""},
		{"{\"title\":\"   \",\"due_date\":\"2026-01-01\"}", TA_INPUT_CREATE, "must not be empty"},
		{"{\"title\":7,\"due_date\":\"2026-01-01\"}", TA_INPUT_CREATE, "must be a string"},
		{"{\"title\":\"a\\u0007b\",\"due_date\":\"2026-01-01\"}", TA_INPUT_CREATE,
		 "control characters"},
		{"{\"title\":\"a\\u0000b\",\"due_date\":\"2026-01-01\"}", TA_INPUT_CREATE,
		 "not valid JSON"},
		{"{\"title\":\"x\",\"due_date\":\"2026-01-01\",\"description\":5}", TA_INPUT_CREATE,
		 "string or null"},
		{"{}", TA_INPUT_EDIT, "nothing to change"},
		{"{\"id\":\"x\"}", TA_INPUT_EDIT, "unknown field \"id\""},
		{"{}", TA_INPUT_STATUS, "\"status\" is required"},
		{"{\"status\":\"done\",\"title\":\"x\"}", TA_INPUT_STATUS, "takes only \"status\""},
		{"{\"status\":null}", TA_INPUT_STATUS, "\"status\" must be one of"},
		{"{\"title\":{\"a\":{\"b\":{\"c\":{}}}}}", TA_INPUT_EDIT, "nested too deeply"},
	};
	struct ta_task_input in;
	char err[TA_ERR_MAX];
	json_t *b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		assert_int_not_equal(parse(cases[i].body, cases[i].kind, &in, err, &b), TA_OK);
		if (strstr(err, cases[i].msg) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err, cases[i].msg);
		json_decref(b);
	}
}

static void test_title_length_counts_characters(void **state)
{
	char body[2048], title[1024];
	struct ta_task_input in;
	char err[TA_ERR_MAX];
	json_t *b;
	size_t i;

	(void)state;
	/* 200 two-byte characters: 400 bytes, still within the limit. */
	for (i = 0; i < TA_TITLE_MAX; i++)
		memcpy(title + 2 * i, "\xc3\xa9", 2);
	title[2 * TA_TITLE_MAX] = '\0';
	snprintf(body, sizeof(body), "{\"title\":\"%s\",\"due_date\":\"2026-01-01\"}", title);
	assert_int_equal(parse(body, TA_INPUT_CREATE, &in, err, &b), TA_OK);
	json_decref(b);
	memset(title, 'a', TA_TITLE_MAX + 1);
	title[TA_TITLE_MAX + 1] = '\0';
	snprintf(body, sizeof(body), "{\"title\":\"%s\",\"due_date\":\"2026-01-01\"}", title);
	assert_int_equal(parse(body, TA_INPUT_CREATE, &in, err, &b), TA_EINVAL);
	assert_non_null(strstr(err, "longer than 200"));
	json_decref(b);
}

static void test_unknown_field_name_is_cut_on_a_character(void **state)
{
	char body[512], key[200];
	struct ta_task_input in;
	char err[TA_ERR_MAX];
	json_t *b, *s;
	size_t i;

	(void)state;
	/* 63 ASCII bytes then a two-byte character that straddles byte 64. */
	for (i = 0; i < 63; i++)
		key[i] = 'k';
	memcpy(key + 63, "\xc3\xa9\xc3\xa9", 4);
	key[67] = '\0';
	snprintf(body, sizeof(body), "{\"%s\":1}", key);
	assert_int_equal(parse(body, TA_INPUT_EDIT, &in, err, &b), TA_EINVAL);
	s = json_string(err); /* NULL if the message were not valid UTF-8 */
	assert_non_null(s);
	json_decref(s);
	json_decref(b);
}

static void test_apply_and_json(void **state)
{
	struct ta_task *t = calloc(1, sizeof(*t));
	struct ta_task_input in;
	char err[TA_ERR_MAX];
	json_t *b, *o;

	(void)state;
	strcpy(t->id, "0f8fad5b-d9cb-469f-a165-70867728950e");
	t->tenant = strdup("acme");
	t->owner_sub = strdup("u1");
	t->title = strdup("old");
	t->description = strdup("desc");
	strcpy(t->due_date, "2026-01-01");
	t->created_at = 1700000000123;
	t->updated_at = 1700000000123;
	assert_int_equal(parse("{\"title\":\"new\",\"description\":null,\"status\":\"done\"}",
			       TA_INPUT_EDIT, &in, err, &b), TA_OK);
	ta_task_apply(t, &in);
	json_decref(b);
	o = ta_task_json(t);
	assert_string_equal(json_string_value(json_object_get(o, "title")), "new");
	assert_true(json_is_null(json_object_get(o, "description")));
	assert_string_equal(json_string_value(json_object_get(o, "status")), "done");
	assert_string_equal(json_string_value(json_object_get(o, "priority")), "low");
	assert_true(json_is_null(json_object_get(o, "owner_username")));
	assert_string_equal(json_string_value(json_object_get(o, "created_at")),
			    "2023-11-14T22:13:20.123Z");
	json_decref(o);
	ta_task_free(t);
	ta_task_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_defaults),
		cmocka_unit_test(test_create_all_fields),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_title_length_counts_characters),
		cmocka_unit_test(test_unknown_field_name_is_cut_on_a_character),
		cmocka_unit_test(test_apply_and_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
