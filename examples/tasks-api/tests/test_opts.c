/* test_opts.c: the command line of tasks-api and the tenant name derived
 * from the issuer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "opts.h"

#include <stdlib.h>
#include <string.h>

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void test_full_command_line(void **state)
{
	char *argv[] = {"tasks-api", "--listen", "127.0.0.1:9", "--issuer",
			"http://127.0.0.1:8080/t/acme", "--db=sqlite:/tmp/x.db", "--client-id",
			"tasks-api", "--client-secret", "s3cret", "--team-group", "abc-123",
			"--leeway", "5"};
	struct ta_opts o;
	char err[256];

	(void)state;
	assert_int_equal(ta_opts_parse(ARGC(argv), argv, &o, err, sizeof(err)), TA_OK);
	assert_string_equal(o.listen, "127.0.0.1:9");
	assert_string_equal(o.db_path, "/tmp/x.db");
	assert_string_equal(o.client_secret, "s3cret");
	assert_string_equal(o.team_group, "abc-123");
	assert_int_equal(o.leeway_s, 5);
	assert_int_equal(o.team_cache_s, TA_DEFAULT_TEAM_CACHE_S);
	assert_null(o.audience);
}

static void test_secret_from_environment(void **state)
{
	char *argv[] = {"tasks-api", "--issuer", "https://auth.acme.test", "--db", "sqlite:x.db",
			"--client-id", "tasks-api"};
	struct ta_opts o;
	char err[256];

	(void)state;
	unsetenv(TA_SECRET_ENV);
	assert_int_equal(ta_opts_parse(ARGC(argv), argv, &o, err, sizeof(err)), TA_EINVAL);
	assert_non_null(strstr(err, "--client-secret"));
	setenv(TA_SECRET_ENV, "from-env", 1);
	assert_int_equal(ta_opts_parse(ARGC(argv), argv, &o, err, sizeof(err)), TA_OK);
	assert_string_equal(o.client_secret, "from-env");
	assert_string_equal(o.listen, TA_DEFAULT_LISTEN);
	unsetenv(TA_SECRET_ENV);
}

static void test_refusals(void **state)
{
	static const struct {
		const char *args[4];
		const char *msg;
	} cases[] = {
		{{"--db", "x.db"}, "sqlite:PATH"},
		{{"--issuer", "ftp://x"}, "--issuer"},
		{{"--issuer", "http://127.0.0.1:8080/t/acme/"}, "trailing slash"},
		{{"--leeway", "0"}, "--leeway"},
		{{"--team-cache", "abc"}, "--team-cache"},
		{{"--team-group", "../x"}, "--team-group"},
		{{"--bogus", "1"}, "unknown option --bogus"},
		{{"stray"}, "unexpected argument"},
		{{"--client-id"}, "needs a value"},
	};
	struct ta_opts o;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[16] = {"tasks-api", "--issuer", "http://h/t/acme", "--db", "sqlite:x",
				  "--client-id", "c", "--client-secret", "s"};
		int argc = 9, j;
		for (j = 0; j < 4 && cases[i].args[j]; j++)
			argv[argc++] = (char *)cases[i].args[j];
		err[0] = '\0';
		assert_int_equal(ta_opts_parse(argc, argv, &o, err, sizeof(err)), TA_EINVAL);
		if (strstr(err, cases[i].msg) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err, cases[i].msg);
	}
}

static void test_tenant_from_issuer(void **state)
{
	char t[64];

	(void)state;
	assert_int_equal(ta_tenant_from_issuer("http://127.0.0.1:8080/t/acme", t, sizeof(t)), TA_OK);
	assert_string_equal(t, "acme");
	assert_int_equal(ta_tenant_from_issuer("https://id.example/base/t/globex", t, sizeof(t)),
			 TA_OK);
	assert_string_equal(t, "globex");
	assert_int_equal(ta_tenant_from_issuer("https://auth.acme.test", t, sizeof(t)), TA_OK);
	assert_string_equal(t, "auth.acme.test");
	assert_int_equal(ta_tenant_from_issuer("https://auth.acme.test:8443", t, sizeof(t)), TA_OK);
	assert_string_equal(t, "auth.acme.test");
	assert_int_equal(ta_tenant_from_issuer("http://h/other", t, sizeof(t)), TA_EINVAL);
	assert_int_equal(ta_tenant_from_issuer("http://h/t/", t, sizeof(t)), TA_EINVAL);
	assert_int_equal(ta_tenant_from_issuer("http://h/t/a/b", t, sizeof(t)), TA_EINVAL);
	assert_int_equal(ta_tenant_from_issuer("http://h/t/abcdef", t, 4), TA_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_command_line),
		cmocka_unit_test(test_secret_from_environment),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_tenant_from_issuer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
