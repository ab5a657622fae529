/* test_routing.c: the facts the route tables and the grant table carry:
 * which requests run on the event loop, the metrics names the routes
 * register, and the token endpoint's dispatch on grant_type (RFC 6749 §4). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "app/app.h"
#include "oauth/internal.h"

/* A parsed request with a form body of up to two parameters. */
static struct ts_http_req req_of(const char *method, const char *path, struct ts_param *form,
				 size_t nform)
{
	struct ts_http_req r;

	memset(&r, 0, sizeof(r));
	r.method = method;
	r.path = path;
	r.form = form;
	r.nform = nform;
	return r;
}

static bool blocking(const char *method, const char *path, struct ts_param *form, size_t n)
{
	struct ts_http_req r = req_of(method, path, form, n);

	return ts_app_blocking(NULL, &r);
}

static void test_inline_routes(void **state)
{
	struct ts_param cc[] = {{"grant_type", "client_credentials"}};
	struct ts_param cc_assert[] = {{"grant_type", "client_credentials"},
				       {"client_assertion", "x.y.z"}};
	struct ts_param code[] = {{"grant_type", "authorization_code"}};
	struct ts_param token[] = {{"token", "abc"}};

	(void)state;
	/* Pure computation on the snapshot: the event loop. */
	assert_false(blocking("GET", "/healthz", NULL, 0));
	assert_false(blocking("HEAD", "/healthz", NULL, 0));
	assert_false(blocking("GET", "/t/acme/oauth2/jwks", NULL, 0));
	assert_false(blocking("GET", "/t/acme/.well-known/openid-configuration", NULL, 0));
	assert_false(blocking("GET", "/.well-known/oauth-authorization-server/t/acme", NULL, 0));
	assert_false(blocking("OPTIONS", "/t/acme/api/me", NULL, 0));
	assert_false(blocking("POST", "/t/acme/oauth2/token", cc, 1));
	assert_false(blocking("POST", "/t/acme/oauth2/introspect", token, 1));
	/* Storage, a password hash or a recorded jti: the blocking pool. */
	assert_true(blocking("POST", "/t/acme/oauth2/token", cc_assert, 2));
	assert_true(blocking("POST", "/t/acme/oauth2/token", code, 1));
	assert_true(blocking("POST", "/t/acme/oauth2/token", NULL, 0));
	assert_true(blocking("POST", "/t/acme/oauth2/introspect", cc_assert + 1, 1));
	assert_true(blocking("POST", "/t/acme/oauth2/revoke", token, 1));
	assert_true(blocking("GET", "/readyz", NULL, 0));
	assert_true(blocking("GET", "/metrics", NULL, 0));
	assert_true(blocking("GET", "/t/acme/login", NULL, 0));
	assert_true(blocking("POST", "/t/acme/oauth2/jwks", NULL, 0));
	assert_true(blocking("DELETE", "/t/acme/api/apikeys/k", NULL, 0));
}

static bool has_name(const char *const *names, size_t n, const char *want)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], want) == 0)
			return true;
	return false;
}

static void test_route_names(void **state)
{
	size_t n, i, j;
	const char *const *names = ts_app_route_names(&n);
	static const char *const want[] = {"discovery", "jwks", "token", "introspect", "revoke",
					   "authorize", "connect_callback", "healthz", "readyz",
					   "metrics", "preflight", "not_found"};

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_true(has_name(names, n, want[i]));
	/* Each name once, the table order kept: the first is discovery, the
	 * last the answer without a route. */
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			assert_string_not_equal(names[i], names[j]);
	assert_string_equal(names[0], "discovery");
	assert_string_equal(names[n - 1], "not_found");
}

static void test_grant_table(void **state)
{
	static const char *const types[] = {
		"authorization_code", "client_credentials", "password", "refresh_token",
		"urn:ietf:params:oauth:grant-type:device_code"};
	const struct ts_grant *g;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		g = ts_grant_find(types[i]);
		assert_non_null(g);
		assert_string_equal(g->grant_type, types[i]);
		assert_non_null(g->fn);
		assert_string_equal(ts_grant_kind_name(g->kind),
				    i == 4 ? "device_code" : types[i]);
		/* Only client credentials is for confidential clients only and
		 * may run on the event loop. */
		assert_int_equal(g->confidential_only, i == 1);
		assert_int_equal(g->runs_inline, i == 1);
	}
	assert_null(ts_grant_find(NULL));
	assert_null(ts_grant_find(""));
	assert_null(ts_grant_find("implicit"));
	assert_null(ts_grant_find("Client_Credentials"));
	assert_null(ts_grant_find("client_credentials "));
	assert_null(ts_grant_find("urn:ietf:params:oauth:grant-type:jwt-bearer"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inline_routes),
		cmocka_unit_test(test_route_names),
		cmocka_unit_test(test_grant_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
