/* test_cli_commands.c: the command table (src/cli/commands.c): every
 * command the usage text names is found and runs its noun's entry point,
 * the usage text is the table's lines in order, and only the commands that
 * make a new installation may create a missing SQLite file; and the option
 * tables that turn options into spec members (src/cli/spec_opts.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmd.h"

static const struct {
	const char *name;
	int (*fn)(struct ts_config *c, int argc, char **argv);
} expected[] = {
	{"serve", ts_cmd_serve},       {"bootstrap", ts_cmd_bootstrap}, {"tenant", ts_cmd_tenant},
	{"client", ts_cmd_client},     {"user", ts_cmd_user},           {"group", ts_cmd_group},
	{"apikey", ts_cmd_apikey},     {"keys", ts_cmd_keys},           {"provider", ts_cmd_provider},
	{"connection", ts_cmd_connection}, {"audit", ts_cmd_audit},     {"backup", ts_cmd_backup},
	{"migrate", ts_cmd_migrate},   {"version", ts_cmd_version},
};

static char *usage_text(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	ts_cli_usage(f);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void test_find(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		const struct ts_cli_command *c = ts_cli_command_find(expected[i].name);
		assert_non_null(c);
		assert_string_equal(c->name, expected[i].name);
		assert_ptr_equal(c->fn, expected[i].fn);
	}
	assert_null(ts_cli_command_find("nosuch"));
	assert_null(ts_cli_command_find(""));
	assert_null(ts_cli_command_find("Tenant"));
	assert_null(ts_cli_command_find("tenants"));
}

/* Each command has one line (or two) in the usage text, in the table's
 * order, indented by two spaces and starting with its name. */
static void test_usage_lists_every_command(void **state)
{
	char *text = usage_text(), *at;
	const char *from;
	size_t i;

	(void)state;
	at = strstr(text, "commands:\n");
	assert_non_null(at);
	from = at;
	for (i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		const struct ts_cli_command *c = ts_cli_command_find(expected[i].name);
		char line[64];
		const char *hit;
		snprintf(line, sizeof(line), "\n  %s ", expected[i].name);
		hit = strstr(from, line);
		assert_non_null(hit);
		assert_non_null(strstr(hit, c->help));
		from = hit + 1;
	}
	assert_non_null(strstr(from, "\nenvironment: TESSERA_DB"));
	assert_string_equal(text + strlen(text) - 2, "}\n");
	free(text);
}

static bool may_create(const char *a1, const char *a2)
{
	char *argv[] = {"tessera", (char *)a1, (char *)a2, NULL};
	int argc = a2 ? 3 : 2;

	return ts_cli_may_create_db(a1, argc, argv, 1);
}

static void test_may_create_db(void **state)
{
	(void)state;
	assert_true(may_create("serve", NULL));
	assert_true(may_create("bootstrap", "file.json"));
	assert_true(may_create("tenant", "create"));
	assert_false(may_create("tenant", "list"));
	assert_false(may_create("tenant", NULL));
	assert_false(may_create("client", "create"));
	assert_false(may_create("user", "create"));
	assert_false(may_create("migrate", NULL));
	assert_false(may_create("backup", "copy.db"));
}

static void test_command_flags(void **state)
{
	bool stdin_flag = false, check = false;
	size_t i;

	(void)state;
	for (i = 0; ts_cli_command_flags[i]; i++) {
		stdin_flag = stdin_flag || strcmp(ts_cli_command_flags[i], "password-stdin") == 0;
		check = check || strcmp(ts_cli_command_flags[i], "check") == 0;
	}
	assert_true(stdin_flag);
	assert_true(check);
}

static bool set_marker(json_t *spec, const struct ts_opts *o)
{
	json_object_set_new(spec, "marker", json_string(ts_opts_get(o, "mark")));
	return true;
}

static const struct ts_cli_spec_opt spec_table[] = {
	{"name", "name", TS_CLI_SPEC_STR, NULL},
	{"grant", "grant_types", TS_CLI_SPEC_LIST, NULL},
	{"none", "nothing", TS_CLI_SPEC_LIST, NULL},
	{"ttl", "ttl", TS_CLI_SPEC_INT, NULL},
	{"grace", "grace", TS_CLI_SPEC_NUMBER, NULL},
	{"word", "word", TS_CLI_SPEC_NUMBER, NULL},
	{"skip", "skip", TS_CLI_SPEC_TRUE, NULL},
	{"keep", "kept", TS_CLI_SPEC_DEL, NULL},
	{"reg", "reg", TS_CLI_SPEC_ON_OFF, NULL},
	{"unreg", "unreg", TS_CLI_SPEC_ON_OFF, NULL},
	{"mark", NULL, TS_CLI_SPEC_FN, set_marker},
};

/* Runs spec_table over args against a spec holding {"kept": true,
 * "unreg": true}; *out is the spec (caller releases). */
static bool spec_of(int argc, char **argv, json_t **out)
{
	struct ts_opts o;

	assert_true(ts_opts_parse(argc, argv, (const char *const[]){"skip", "keep", NULL}, &o));
	*out = json_pack("{s:b,s:b}", "kept", 1, "unreg", 1);
	return ts_cli_spec_from_opts(*out, &o, spec_table, TS_ARRAY_LEN(spec_table));
}

static void test_spec_table(void **state)
{
	char *all[] = {"--name", "n", "--grant", "a", "--grant", "b", "--ttl", "60", "--grace", "7",
		       "--word", "ten", "--skip", "--keep", "--reg", "on", "--unreg", "off",
		       "--mark", "m"};
	char *bad_int[] = {"--name", "n", "--ttl", "6x", "--reg", "on"};
	char *bad_on_off[] = {"--reg", "maybe", "--mark", "m"};
	json_t *spec, *want;

	(void)state;
	assert_true(spec_of(TS_ARRAY_LEN(all), all, &spec));
	want = json_pack("{s:s,s:[ss],s:I,s:I,s:s,s:b,s:b,s:s}", "name", "n", "grant_types", "a",
			 "b", "ttl", (json_int_t)60, "grace", (json_int_t)7, "word", "ten", "skip",
			 1, "reg", 1, "marker", "m");
	assert_true(json_equal(spec, want));
	json_decref(want);
	json_decref(spec);
	/* A usage error stops the table: later lines are not applied. */
	assert_false(spec_of(TS_ARRAY_LEN(bad_int), bad_int, &spec));
	assert_string_equal(json_string_value(json_object_get(spec, "name")), "n");
	assert_null(json_object_get(spec, "reg"));
	json_decref(spec);
	assert_false(spec_of(TS_ARRAY_LEN(bad_on_off), bad_on_off, &spec));
	assert_null(json_object_get(spec, "marker"));
	assert_non_null(json_object_get(spec, "unreg"));
	json_decref(spec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_usage_lists_every_command),
		cmocka_unit_test(test_may_create_db),
		cmocka_unit_test(test_command_flags),
		cmocka_unit_test(test_spec_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
