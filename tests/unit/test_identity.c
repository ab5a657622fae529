/* test_identity.c: Argon2id password hashing (RFC 9106) and its dummy check
 * for unknown users, the failure throttle driven by
 * explicit clock values, validation of the bootstrap file's user and group
 * objects, and user create/update/disable against a fresh SQLite store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <argon2.h>
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admin/admin.h"
#include "identity/identity.h"
#include "store/store_config.h"
#include "store/store_people.h"
#include "store/store_state.h"

#define PW "correct horse battery staple"
#define T0 INT64_C(1700000000)
#define ERR_CAP 512
#define LOW_M_KIB 256 /* a deliberately cheap hash for needs_rehash */
#define LOW_T 1
#define SALT "0123456789abcdef"
#define HASH_LEN 32

/* ---- passwords ---- */

static void test_password_hash_verify(void **state)
{
	char *h1 = NULL, *h2 = NULL;
	char prefix[64];
	bool rehash = true;

	(void)state;
	assert_int_equal(ts_password_hash(PW, &h1), TS_OK);
	assert_int_equal(ts_password_hash(PW, &h2), TS_OK);
	snprintf(prefix, sizeof(prefix), "$argon2id$v=19$m=%d,t=%d,p=%d$", TS_ARGON2_M_KIB,
		 TS_ARGON2_T, TS_ARGON2_P);
	assert_memory_equal(h1, prefix, strlen(prefix));
	assert_string_not_equal(h1, h2); /* random salts */
	assert_int_equal(ts_password_verify(h1, PW, &rehash), TS_OK);
	assert_false(rehash);
	assert_int_equal(ts_password_verify(h2, PW, NULL), TS_OK);
	assert_int_equal(ts_password_verify(h1, PW "x", &rehash), TS_EDENIED);
	assert_int_equal(ts_password_verify(h1, NULL, NULL), TS_EDENIED);
	free(h1);
	free(h2);
}

static void test_password_limits(void **state)
{
	char *big = malloc(TS_PASSWORD_MAX + 2), *h = (char *)1;

	(void)state;
	assert_non_null(big);
	assert_int_equal(ts_password_hash("", &h), TS_EINVAL);
	assert_null(h);
	assert_int_equal(ts_password_hash(NULL, &h), TS_EINVAL);
	memset(big, 'a', TS_PASSWORD_MAX + 1);
	big[TS_PASSWORD_MAX + 1] = '\0';
	assert_int_equal(ts_password_hash(big, &h), TS_EINVAL);
	big[TS_PASSWORD_MAX] = '\0'; /* exactly the maximum is allowed */
	assert_int_equal(ts_password_hash(big, &h), TS_OK);
	assert_int_equal(ts_password_verify(h, big, NULL), TS_OK);
	free(h);
	free(big);
}

static void test_password_needs_rehash(void **state)
{
	char enc[256];
	bool rehash = false;

	(void)state;
	assert_int_equal(argon2id_hash_encoded(LOW_T, LOW_M_KIB, 1, PW, strlen(PW), SALT,
					       strlen(SALT), HASH_LEN, enc, sizeof(enc)),
			 ARGON2_OK);
	assert_int_equal(ts_password_verify(enc, PW, &rehash), TS_OK);
	assert_true(rehash);
	assert_int_equal(ts_password_verify(enc, "wrong password", NULL), TS_EDENIED);
}

static void test_password_bad_phc(void **state)
{
	static const char *const bad[] = {
		"nonsense",
		"$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=16$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=99999999999,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaA",
	};
	size_t i;
	bool rehash = true;

	(void)state;
	for (i = 0; i < TS_ARRAY_LEN(bad); i++) {
		assert_int_equal(ts_password_verify(bad[i], PW, &rehash), TS_EDENIED);
		assert_false(rehash);
	}
}

/* CPU time of the calling thread (Argon2 with one lane runs in it), which
 * unlike wall time does not depend on the machine's load. */
static int64_t cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* An unknown user (phc NULL) is refused after the same work as a real
 * check: CPU time within a generous factor, never a match. */
static void test_password_dummy(void **state)
{
	char *h = NULL;
	int64_t t0, real, dummy;
	bool rehash = true;

	(void)state;
	assert_int_equal(ts_password_verify(NULL, PW, &rehash), TS_EDENIED); /* warms up */
	assert_false(rehash);
	assert_int_equal(ts_password_hash(PW, &h), TS_OK);
	t0 = cpu_us();
	assert_int_equal(ts_password_verify(h, PW, NULL), TS_OK);
	real = cpu_us() - t0;
	t0 = cpu_us();
	assert_int_equal(ts_password_verify(NULL, "", NULL), TS_EDENIED);
	dummy = cpu_us() - t0;
	assert_true(dummy * 5 >= real);
	free(h);
}

static void test_password_concurrency_one(void **state)
{
	char *h = NULL;

	(void)state;
	ts_password_set_concurrency(1);
	assert_int_equal(ts_password_hash(PW, &h), TS_OK);
	ts_password_set_concurrency(0);
	free(h);
}

/* ---- throttle ---- */

static int throttle_setup(void **state)
{
	*state = ts_throttle_new();
	return *state ? 0 : -1;
}

static int throttle_teardown(void **state)
{
	ts_throttle_free(*state);
	return 0;
}

static void fail_n(struct ts_throttle *t, const char *key, int n, int64_t now)
{
	int i;

	for (i = 0; i < n; i++)
		ts_throttle_fail(t, key, now);
}

static void test_throttle_free_failures(void **state)
{
	struct ts_throttle *t = *state;
	int ra = -1;

	assert_int_equal(ts_throttle_check(t, "acme/user:free", T0, &ra), TS_OK);
	assert_int_equal(ra, 0);
	fail_n(t, "acme/user:free", TS_THROTTLE_FREE - 1, T0);
	assert_int_equal(ts_throttle_check(t, "acme/user:free", T0, &ra), TS_OK);
	ts_throttle_fail(t, "acme/user:free", T0);
	/* 1 s, counted from the end of the failure's second */
	assert_int_equal(ts_throttle_check(t, "acme/user:free", T0, &ra), TS_EDENIED);
	assert_int_equal(ra, 2);
	assert_int_equal(ts_throttle_check(t, "acme/user:free", T0 + 1, &ra), TS_EDENIED);
	assert_int_equal(ra, 1);
	assert_int_equal(ts_throttle_check(t, "acme/user:free", T0 + 2, &ra), TS_OK);
	/* another key is not affected */
	assert_int_equal(ts_throttle_check(t, "acme/user:other", T0, &ra), TS_OK);
}

/* After n >= FREE failures the next attempt waits min(2^(n-FREE), 60) s
 * after the latest failure, counted from the end of its second (times are
 * whole seconds: the wait is never shorter than promised). */
static void test_throttle_delays(void **state)
{
	struct ts_throttle *t = *state;
	const char *k = "acme/client:svc";
	int64_t now = T0;
	int n, ra;

	fail_n(t, k, TS_THROTTLE_FREE - 1, now);
	for (n = TS_THROTTLE_FREE; n < TS_THROTTLE_MAX; n++) {
		int delay = n - TS_THROTTLE_FREE >= 6 ? 60 : 1 << (n - TS_THROTTLE_FREE);
		ts_throttle_fail(t, k, now);
		assert_int_equal(ts_throttle_check(t, k, now, &ra), TS_EDENIED);
		assert_int_equal(ra, delay + 1);
		assert_int_equal(ts_throttle_check(t, k, now + delay, &ra), TS_EDENIED);
		assert_int_equal(ra, 1);
		now += delay + 1;
		assert_int_equal(ts_throttle_check(t, k, now, &ra), TS_OK);
	}
}

static void test_throttle_max_and_window(void **state)
{
	struct ts_throttle *t = *state;
	const char *k = "acme/user:max";
	int ra;

	fail_n(t, k, TS_THROTTLE_MAX, T0 + 10);
	/* refused until the window (started by the first failure) ends */
	assert_int_equal(ts_throttle_check(t, k, T0 + 100, &ra), TS_EDENIED);
	assert_int_equal(ra, TS_THROTTLE_WINDOW_S + 10 - 100);
	assert_int_equal(ts_throttle_check(t, k, T0 + 10 + TS_THROTTLE_WINDOW_S - 1, &ra),
			 TS_EDENIED);
	assert_int_equal(ra, 1);
	assert_int_equal(ts_throttle_check(t, k, T0 + 10 + TS_THROTTLE_WINDOW_S, &ra), TS_OK);
	/* a failure after the window starts a new one, counted from 1 */
	fail_n(t, k, TS_THROTTLE_FREE - 1, T0 + 10 + TS_THROTTLE_WINDOW_S);
	assert_int_equal(ts_throttle_check(t, k, T0 + 10 + TS_THROTTLE_WINDOW_S, &ra), TS_OK);
}

static void test_throttle_window_expiry(void **state)
{
	struct ts_throttle *t = *state;
	const char *k = "acme/ip:127.0.0.1";
	int ra;

	fail_n(t, k, TS_THROTTLE_FREE + 8, T0); /* 60 s delay */
	assert_int_equal(ts_throttle_check(t, k, T0 + 60, &ra), TS_EDENIED);
	assert_int_equal(ts_throttle_check(t, k, T0 + 61, &ra), TS_OK);
	/* failures late in the window still count toward it */
	fail_n(t, k, 1, T0 + TS_THROTTLE_WINDOW_S - 5);
	assert_int_equal(ts_throttle_check(t, k, T0 + TS_THROTTLE_WINDOW_S - 4, &ra), TS_EDENIED);
	assert_int_equal(ra, 4); /* capped at the window's end */
	assert_int_equal(ts_throttle_check(t, k, T0 + TS_THROTTLE_WINDOW_S, &ra), TS_OK);
}

static void test_throttle_reset(void **state)
{
	struct ts_throttle *t = *state;
	int ra;

	fail_n(t, "acme/user:a", TS_THROTTLE_MAX, T0);
	fail_n(t, "acme/user:b", TS_THROTTLE_MAX, T0);
	ts_throttle_reset(t, "acme/user:a");
	assert_int_equal(ts_throttle_check(t, "acme/user:a", T0, &ra), TS_OK);
	/* resetting one key leaves another's failures alone */
	assert_int_equal(ts_throttle_check(t, "acme/user:b", T0, &ra), TS_EDENIED);
	ts_throttle_reset(t, "acme/user:never-failed");
	assert_int_equal(ts_throttle_check(t, "acme/user:b", T0, NULL), TS_EDENIED);
	ts_throttle_free(NULL);
}

struct racer {
	struct ts_throttle *t;
	pthread_barrier_t *start;
};

static void *race_fail(void *arg)
{
	struct racer *r = arg;

	pthread_barrier_wait(r->start);
	fail_n(r->t, "acme/user:race", 3, T0);
	return NULL;
}

/* Failures recorded at once from two threads are all counted: 6 failures
 * mean a 2 s delay (Retry-After 3 from inside the failure's second), a lost
 * update would show as 1 s (2). */
static void test_throttle_concurrent(void **state)
{
	struct ts_throttle *t = *state;
	pthread_barrier_t start;
	struct racer r = {t, &start};
	pthread_t th[2];
	int round, i, ra;

	for (round = 0; round < 200; round++) {
		assert_int_equal(pthread_barrier_init(&start, NULL, 2), 0);
		for (i = 0; i < 2; i++)
			assert_int_equal(pthread_create(&th[i], NULL, race_fail, &r), 0);
		for (i = 0; i < 2; i++)
			pthread_join(th[i], NULL);
		pthread_barrier_destroy(&start);
		assert_int_equal(ts_throttle_check(t, "acme/user:race", T0, &ra), TS_EDENIED);
		assert_int_equal(ra, 3);
		ts_throttle_reset(t, "acme/user:race");
	}
}

/* A reservation counts at once: the sixth attempt in a second is refused
 * before anything is checked; a success takes its count back. */
static void test_throttle_reserve(void **state)
{
	struct ts_throttle *t = *state;
	const char *k = "acme/user:reserve";
	int i, ra;

	for (i = 0; i < TS_THROTTLE_FREE; i++)
		assert_int_equal(ts_throttle_reserve(t, k, &ts_throttle_account, T0, &ra), TS_OK);
	assert_int_equal(ts_throttle_reserve(t, k, &ts_throttle_account, T0, &ra), TS_EDENIED);
	assert_int_equal(ra, 2);
	/* a refusal counts nothing: after the delay one more is allowed */
	assert_int_equal(ts_throttle_reserve(t, k, &ts_throttle_account, T0 + 2, &ra), TS_OK);
	assert_int_equal(ts_throttle_reserve(t, k, &ts_throttle_account, T0 + 2, &ra), TS_EDENIED);
	/* a release takes one back: five counted again, the next one waits 1 s */
	ts_throttle_release(t, k, T0 + 2);
	assert_int_equal(ts_throttle_check(t, k, T0 + 2, &ra), TS_EDENIED);
	assert_int_equal(ra, 2);
	ts_throttle_release(t, k, T0 + 2);
	assert_int_equal(ts_throttle_check(t, k, T0 + 2, &ra), TS_OK);
	/* releasing a key with no count, or another key, changes nothing */
	ts_throttle_release(t, "acme/user:nobody", T0 + 2);
	ts_throttle_reset(t, k);
	ts_throttle_release(t, k, T0 + 2);
	assert_int_equal(ts_throttle_check(t, k, T0 + 2, &ra), TS_OK);
}

/* The address policy: a hundred failures without delay, then refused. */
static void test_throttle_address(void **state)
{
	struct ts_throttle *t = *state;
	const char *k = "acme/ip:192.0.2.7";
	int i, ra;

	for (i = 0; i < TS_THROTTLE_ADDR_MAX; i++)
		assert_int_equal(ts_throttle_reserve(t, k, &ts_throttle_address, T0 + i / 10, &ra),
				 TS_OK);
	assert_int_equal(ts_throttle_reserve(t, k, &ts_throttle_address, T0 + 10, &ra), TS_EDENIED);
	assert_int_equal(ra, TS_THROTTLE_WINDOW_S - 10);
	assert_int_equal(ts_throttle_reserve(t, k, &ts_throttle_address, T0 + TS_THROTTLE_WINDOW_S,
					     &ra), TS_OK);
}

struct reserve_racer {
	struct ts_throttle *t;
	pthread_barrier_t *start;
	atomic_int *won;
};

static void *race_reserve(void *arg)
{
	struct reserve_racer *r = arg;
	int i;

	pthread_barrier_wait(r->start);
	for (i = 0; i < 30; i++)
		if (ts_throttle_reserve(r->t, "acme/user:burst", &ts_throttle_account, T0, NULL) ==
		    TS_OK)
			atomic_fetch_add(r->won, 1);
	return NULL;
}

/* Reservations from four threads at once: exactly the free ones pass. */
static void test_throttle_reserve_concurrent(void **state)
{
	struct ts_throttle *t = *state;
	pthread_barrier_t start;
	atomic_int won;
	struct reserve_racer r = {t, &start, &won};
	pthread_t th[4];
	int round, i;

	for (round = 0; round < 100; round++) {
		atomic_init(&won, 0);
		assert_int_equal(pthread_barrier_init(&start, NULL, 4), 0);
		for (i = 0; i < 4; i++)
			assert_int_equal(pthread_create(&th[i], NULL, race_reserve, &r), 0);
		for (i = 0; i < 4; i++)
			pthread_join(th[i], NULL);
		pthread_barrier_destroy(&start);
		assert_int_equal(atomic_load(&won), TS_THROTTLE_FREE);
		ts_throttle_reset(t, "acme/user:burst");
	}
}

/* The rule alone, on a window given as numbers (as a shared store keeps
 * it): the same answers as the table's. */
static void test_throttle_decide(void **state)
{
	const int64_t end = T0 + TS_THROTTLE_WINDOW_S;
	const struct ts_throttle_policy *acct = &ts_throttle_account;
	int ra = -1;

	(void)state;
	/* free failures, and no window at all */
	assert_int_equal(ts_throttle_decide(acct, T0, 0, T0, T0, &ra), TS_OK);
	assert_int_equal(ra, 0);
	assert_int_equal(ts_throttle_decide(acct, T0, TS_THROTTLE_FREE - 1, T0 + 5, T0 + 5, &ra), TS_OK);
	/* the first delayed attempt waits 1 s from the end of the latest
	 * failure's second, the next 2 s, then 4 s */
	assert_int_equal(ts_throttle_decide(acct, T0, TS_THROTTLE_FREE, T0 + 5, T0 + 5, &ra),
			 TS_EDENIED);
	assert_int_equal(ra, 2);
	assert_int_equal(ts_throttle_decide(acct, T0, TS_THROTTLE_FREE, T0 + 5, T0 + 6, &ra),
			 TS_EDENIED);
	assert_int_equal(ra, 1);
	assert_int_equal(ts_throttle_decide(acct, T0, TS_THROTTLE_FREE, T0 + 5, T0 + 7, &ra), TS_OK);
	assert_int_equal(ts_throttle_decide(acct, T0, TS_THROTTLE_FREE + 1, T0 + 5, T0 + 5, &ra),
			 TS_EDENIED);
	assert_int_equal(ra, 3);
	assert_int_equal(ts_throttle_decide(acct, T0, TS_THROTTLE_FREE + 2, T0 + 5, T0 + 5, &ra),
			 TS_EDENIED);
	assert_int_equal(ra, 5);
	/* at most a minute */
	assert_int_equal(ts_throttle_decide(acct, T0, TS_THROTTLE_MAX - 1, T0, T0, &ra), TS_EDENIED);
	assert_int_equal(ra, 61);
	/* capped at the window's end */
	assert_int_equal(ts_throttle_decide(acct, T0, TS_THROTTLE_FREE + 3, end - 3, end - 2, &ra),
			 TS_EDENIED);
	assert_int_equal(ra, 2);
	/* after TS_THROTTLE_MAX, refused until the window ends */
	assert_int_equal(ts_throttle_decide(acct, T0, TS_THROTTLE_MAX, T0 + 1, T0 + 100, &ra),
			 TS_EDENIED);
	assert_int_equal(ra, TS_THROTTLE_WINDOW_S - 100);
	assert_int_equal(ts_throttle_decide(acct, T0, TS_THROTTLE_MAX + 7, T0 + 1, end - 1, NULL),
			 TS_EDENIED);
	/* a window that has ended allows anything */
	assert_int_equal(ts_throttle_decide(acct, T0, TS_THROTTLE_MAX, end - 1, end, &ra), TS_OK);
	assert_int_equal(ra, 0);
}

/* ---- validation ---- */

static void expect_user_err(const char *json, const char *needle)
{
	json_t *spec = json_loads(json, 0, NULL);
	char err[ERR_CAP] = "";

	assert_non_null(spec);
	assert_int_equal(ts_admin_user_validate(spec, err, sizeof(err)), TS_EINVAL);
	if (strstr(err, needle) == NULL)
		fail_msg("error \"%s\" does not mention \"%s\" (spec %s)", err, needle, json);
	json_decref(spec);
}

static void test_user_validate(void **state)
{
	json_t *spec;
	char err[ERR_CAP] = "";

	(void)state;
	spec = json_pack("{s:s,s:s,s:s,s:s,s:[s],s:b,s:b,s:s,s:s}", "username", "alice@acme.test",
			 "password", PW, "email", "alice@acme.test", "name", "Alice", "roles",
			 "Sales User", "disabled", 0, "mobile_access", 1, "app_password",
			 "app-secret-1", "device_id", "ABC123XYZ");
	assert_int_equal(ts_admin_user_validate(spec, err, sizeof(err)), TS_OK);
	json_decref(spec);
	setenv("TS_TEST_USER_PW", PW, 1);
	spec = json_pack("{s:s,s:s,s:n}", "username", "bob", "password_env", "TS_TEST_USER_PW",
			 "email");
	assert_int_equal(ts_admin_user_validate(spec, err, sizeof(err)), TS_OK);
	json_decref(spec);

	expect_user_err("{\"username\":\"a\",\"bogus\":1}", "unknown field \"bogus\" in user");
	expect_user_err("[1]", "JSON object");
	expect_user_err("{}", "\"username\"");
	expect_user_err("{\"username\":\" alice\"}", "\"username\"");
	expect_user_err("{\"username\":\"alice \"}", "\"username\"");
	expect_user_err("{\"username\":\"al\\nice\"}", "\"username\"");
	expect_user_err("{\"username\":42}", "\"username\"");
	expect_user_err("{\"username\":\"a\",\"password\":\"short\"}", "at least 8");
	expect_user_err("{\"username\":\"a\",\"password\":12345678}", "\"password\"");
	expect_user_err("{\"username\":\"a\",\"password\":\"" PW "\",\"password_env\":\"X\"}",
			"not both");
	expect_user_err("{\"username\":\"a\",\"password_env\":\"TS_TEST_UNSET_VARIABLE\"}",
			"TS_TEST_UNSET_VARIABLE");
	expect_user_err("{\"username\":\"a\",\"app_password\":\"1234567\"}", "\"app_password\"");
	expect_user_err("{\"username\":\"a\",\"disabled\":\"yes\"}", "\"disabled\"");
	expect_user_err("{\"username\":\"a\",\"mobile_access\":1}", "\"mobile_access\"");
	expect_user_err("{\"username\":\"a\",\"roles\":\"Sales User\"}", "\"roles\"");
	expect_user_err("{\"username\":\"a\",\"roles\":[1]}", "\"roles\"");
	expect_user_err("{\"username\":\"a\",\"roles\":[\"x\",\"x\"]}", "twice");
	expect_user_err("{\"username\":\"a\",\"email\":\"no-at-sign\"}", "\"email\"");
	expect_user_err("{\"username\":\"a\",\"name\":true}", "\"name\"");
	expect_user_err("{\"username\":\"a\",\"device_id\":7}", "\"device_id\"");
	{
		char json[400];
		snprintf(json, sizeof(json), "{\"username\":\"a\",\"device_id\":\"%0129d\"}", 0);
		expect_user_err(json, "\"device_id\"");
	}
}

static void test_group_validate(void **state)
{
	static const char *const bad[][2] = {
		{"{\"name\":\"g\",\"owner\":\"x\"}", "unknown field \"owner\" in group"},
		{"{\"members\":[]}", "\"name\""},
		{"{\"name\":\" g\"}", "\"name\""},
		{"{\"name\":\"g\",\"members\":\"alice\"}", "\"members\""},
		{"{\"name\":\"g\",\"members\":[\"\"]}", "\"members\""},
		{"\"g\"", "JSON object"},
	};
	json_t *spec;
	char err[ERR_CAP];
	size_t i;

	(void)state;
	spec = json_pack("{s:s,s:[ss]}", "name", "E2E Test Group", "members", "alice@acme.test",
			 "bob");
	assert_int_equal(ts_admin_group_validate(spec, err, sizeof(err)), TS_OK);
	json_decref(spec);
	for (i = 0; i < TS_ARRAY_LEN(bad); i++) {
		spec = json_loads(bad[i][0], JSON_DECODE_ANY, NULL);
		assert_non_null(spec);
		assert_int_equal(ts_admin_group_validate(spec, err, sizeof(err)), TS_EINVAL);
		if (strstr(err, bad[i][1]) == NULL)
			fail_msg("error \"%s\" does not mention \"%s\"", err, bad[i][1]);
		json_decref(spec);
	}
}

static void test_username_ok(void **state)
{
	char long_name[300];

	(void)state;
	assert_true(ts_username_ok("alice@acme.test"));
	assert_true(ts_username_ok("Jean Dupont"));
	assert_true(ts_username_ok("\xc3\xa9lodie"));
	assert_false(ts_username_ok(NULL));
	assert_false(ts_username_ok(""));
	assert_false(ts_username_ok(" a"));
	assert_false(ts_username_ok("a "));
	assert_false(ts_username_ok("a\tb"));
	assert_false(ts_username_ok("a\x7f"));
	memset(long_name, 'a', 254);
	long_name[254] = '\0';
	assert_true(ts_username_ok(long_name));
	long_name[254] = 'a';
	long_name[255] = '\0';
	assert_false(ts_username_ok(long_name));
}

static void test_user_view(void **state)
{
	struct ts_user_rec u;
	json_t *v, *prof;

	(void)state;
	memset(&u, 0, sizeof(u));
	u.id = "0b7a2c4e-0000-4000-8000-000000000001";
	u.username = "alice@acme.test";
	u.password_hash = "$argon2id$secret";
	u.app_password_hash = "$argon2id$secret2";
	u.device_id = "ABC";
	u.profile = "{\"email\":\"alice@acme.test\",\"roles\":[\"Sales User\"],\"mobile_access\":true}";
	u.created_at = T0;
	v = ts_user_view(&u);
	assert_string_equal(json_string_value(json_object_get(v, "id")), u.id);
	assert_string_equal(json_string_value(json_object_get(v, "username")), u.username);
	assert_string_equal(json_string_value(json_object_get(v, "email")), "alice@acme.test");
	assert_true(json_is_null(json_object_get(v, "name")));
	assert_string_equal(json_string_value(json_array_get(json_object_get(v, "roles"), 0)),
			    "Sales User");
	assert_true(json_is_true(json_object_get(v, "mobile_access")));
	assert_true(json_is_true(json_object_get(v, "device_bound")));
	assert_true(json_is_false(json_object_get(v, "disabled")));
	assert_int_equal(json_integer_value(json_object_get(v, "created_at")), T0);
	assert_null(json_object_get(v, "password_hash"));
	assert_null(json_object_get(v, "app_password_hash"));
	assert_null(json_object_get(v, "device_id"));
	{
		char *s = json_dumps(v, 0);
		assert_null(strstr(s, "argon2"));
		free(s);
	}
	json_decref(v);
	prof = json_loads(u.profile, 0, NULL);
	assert_true(ts_user_has_role(prof, "Sales User"));
	assert_false(ts_user_has_role(prof, "sales user"));
	assert_false(ts_user_has_role(prof, NULL));
	assert_false(ts_user_has_role(NULL, "Sales User"));
	json_decref(prof);
	u.profile = NULL;
	u.device_id = NULL;
	v = ts_user_view(&u);
	assert_int_equal(json_array_size(json_object_get(v, "roles")), 0);
	assert_true(json_is_false(json_object_get(v, "device_bound")));
	json_decref(v);
}

/* ---- apply, against a fresh SQLite store ---- */

struct fx {
	char dir[PATH_MAX];
	struct ts_store *st;
	struct ts_admin a;
	char tenant_id[37];
};

static int store_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	const char *tmp = getenv("TMPDIR");
	char url[PATH_MAX + 32];
	struct ts_tenant_rec t;

	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "%s/ts-identity-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(url, sizeof(url), "sqlite:%s/id.db", fx->dir);
	if (ts_store_open(url, &fx->st) != TS_OK)
		return -1;
	fx->a.store = fx->st;
	fx->a.actor = "test";
	memset(&t, 0, sizeof(t));
	if (ts_rand_uuid(fx->tenant_id) != TS_OK)
		return -1;
	t.id = fx->tenant_id;
	t.name = "acme";
	t.config = "{\"roles\":[\"Sales User\",\"Sales Manager\"]}";
	t.created_at = t.updated_at = T0;
	if (ts_store_tenant_put(fx->st, &t) != TS_OK)
		return -1;
	*state = fx;
	return 0;
}

static int store_teardown(void **state)
{
	struct fx *fx = *state;
	DIR *d;
	struct dirent *e;
	char p[PATH_MAX * 2];

	ts_store_close(fx->st);
	if ((d = opendir(fx->dir)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", fx->dir, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static const char *apply(struct fx *fx, const char *json)
{
	json_t *spec = json_loads(json, 0, NULL);
	const char *result = NULL;
	char err[ERR_CAP] = "";
	int rc;

	assert_non_null(spec);
	rc = ts_admin_user_apply(&fx->a, "acme", spec, &result, err, sizeof(err));
	json_decref(spec);
	if (rc != TS_OK)
		fail_msg("apply %s: %s", json, err);
	return result;
}

static struct ts_user_rec *find(struct fx *fx, const char *username)
{
	struct ts_user_rec *u = NULL;

	assert_int_equal(ts_store_user_find(fx->st, fx->tenant_id, username, &u), TS_OK);
	return u;
}

#define ALICE "{\"username\":\"alice@acme.test\",\"password\":\"" PW "\",\"roles\":[\"Sales User\"]," \
	      "\"mobile_access\":true,\"app_password\":\"app-secret-1\""

static void test_user_apply(void **state)
{
	struct fx *fx = *state;
	struct ts_user_rec *u, *u2;
	char id[64];

	assert_string_equal(apply(fx, ALICE "}"), "created");
	u = find(fx, "ALICE@acme.test");
	snprintf(id, sizeof(id), "%s", u->id);
	assert_int_equal(ts_password_verify(u->password_hash, PW, NULL), TS_OK);
	assert_int_equal(ts_password_verify(u->app_password_hash, "app-secret-1", NULL), TS_OK);
	assert_null(u->device_id);
	/* the same spec again changes nothing, not even the hashes */
	assert_string_equal(apply(fx, ALICE "}"), "unchanged");
	u2 = find(fx, "alice@acme.test");
	assert_string_equal(u2->password_hash, u->password_hash);
	assert_string_equal(u2->app_password_hash, u->app_password_hash);
	ts_user_rec_free(u2);
	/* a device in the spec binds; leaving it out keeps it */
	assert_string_equal(apply(fx, ALICE ",\"device_id\":\"DEV1\"}"), "updated");
	assert_string_equal(apply(fx, ALICE "}"), "unchanged");
	u2 = find(fx, "alice@acme.test");
	assert_string_equal(u2->device_id, "DEV1");
	assert_string_equal(u2->id, id);
	assert_int_equal(u2->created_at, u->created_at);
	ts_user_rec_free(u2);
	assert_string_equal(apply(fx, ALICE ",\"device_id\":null}"), "updated");
	u2 = find(fx, "alice@acme.test");
	assert_null(u2->device_id);
	ts_user_rec_free(u2);
	/* a new password is a new hash */
	assert_string_equal(apply(fx, "{\"username\":\"alice@acme.test\",\"password\":\"another password\"}"),
			    "updated");
	u2 = find(fx, "alice@acme.test");
	assert_int_equal(ts_password_verify(u2->password_hash, "another password", NULL), TS_OK);
	assert_string_equal(u2->app_password_hash, u->app_password_hash); /* omitted: kept */
	ts_user_rec_free(u2);
	ts_user_rec_free(u);
}

static void test_user_apply_errors(void **state)
{
	struct fx *fx = *state;
	json_t *spec = json_pack("{s:s,s:[s]}", "username", "carol", "roles", "Admin");
	const char *result = "x";
	char err[ERR_CAP] = "";

	assert_int_equal(ts_admin_user_apply(&fx->a, "acme", spec, &result, err, sizeof(err)),
			 TS_EINVAL);
	assert_non_null(strstr(err, "\"Admin\" is not a role"));
	assert_null(result);
	assert_int_equal(ts_admin_user_apply(&fx->a, "nope", spec, &result, err, sizeof(err)),
			 TS_EINVAL);
	assert_non_null(strstr(err, "no tenant"));
	json_decref(spec);
}

static void test_user_disable_ends_sessions(void **state)
{
	struct fx *fx = *state;
	struct ts_session_rec s, *got = NULL;
	struct ts_user_rec *u;

	assert_string_equal(apply(fx, "{\"username\":\"dave\"}"), "created");
	u = find(fx, "dave");
	memset(&s, 0, sizeof(s));
	s.id_hash = "0000000000000000000000000000000000000000000000000000000000000001";
	s.tenant_id = fx->tenant_id;
	s.user_id = u->id;
	s.auth_time = s.last_seen = ts_now();
	s.expires_at = ts_now() + TS_SECONDS_PER_HOUR;
	assert_int_equal(ts_store_session_put(fx->st, &s), TS_OK);
	assert_string_equal(apply(fx, "{\"username\":\"dave\"}"), "unchanged");
	assert_int_equal(ts_store_session_get(fx->st, s.id_hash, &got), TS_OK);
	ts_session_rec_free(got);
	got = NULL;
	assert_string_equal(apply(fx, "{\"username\":\"dave\",\"disabled\":true}"), "updated");
	assert_int_equal(ts_store_session_get(fx->st, s.id_hash, &got), TS_ENOTFOUND);
	ts_user_rec_free(u);
}

static void test_group_apply(void **state)
{
	struct fx *fx = *state;
	json_t *spec;
	const char *result;
	char *gid = NULL, *gid2 = NULL;
	char err[ERR_CAP] = "";
	struct ts_user_rec **m = NULL;
	size_t n = 0;

	assert_string_equal(apply(fx, "{\"username\":\"erin\"}"), "created");
	assert_string_equal(apply(fx, "{\"username\":\"frank\"}"), "created");
	spec = json_pack("{s:s,s:[sss]}", "name", "Team", "members", "erin", "FRANK", "frank");
	assert_int_equal(ts_admin_group_apply(&fx->a, "acme", spec, &result, &gid, err, sizeof(err)),
			 TS_OK);
	assert_string_equal(result, "created");
	json_decref(spec);
	assert_int_equal(ts_store_member_list(fx->st, fx->tenant_id, gid, &m, &n), TS_OK);
	assert_int_equal(n, 2);
	ts_user_recs_free(m, n);
	spec = json_pack("{s:s,s:[s]}", "name", "Team", "members", "erin");
	assert_int_equal(ts_admin_group_apply(&fx->a, "acme", spec, &result, &gid2, err, sizeof(err)),
			 TS_OK);
	assert_string_equal(result, "updated");
	assert_string_equal(gid, gid2);
	free(gid2);
	assert_int_equal(ts_admin_group_apply(&fx->a, "acme", spec, &result, &gid2, err, sizeof(err)),
			 TS_OK);
	assert_string_equal(result, "unchanged");
	free(gid2);
	json_decref(spec);
	assert_int_equal(ts_store_member_list(fx->st, fx->tenant_id, gid, &m, &n), TS_OK);
	assert_int_equal(n, 1);
	assert_string_equal(m[0]->username, "erin");
	ts_user_recs_free(m, n);
	spec = json_pack("{s:s,s:[s]}", "name", "Team", "members", "nobody");
	assert_int_equal(ts_admin_group_apply(&fx->a, "acme", spec, &result, &gid2, err, sizeof(err)),
			 TS_EINVAL);
	assert_non_null(strstr(err, "no user \"nobody\""));
	assert_null(gid2);
	json_decref(spec);
	free(gid);
}

int main(void)
{
	const struct CMUnitTest password_tests[] = {
		cmocka_unit_test(test_password_hash_verify),
		cmocka_unit_test(test_password_limits),
		cmocka_unit_test(test_password_needs_rehash),
		cmocka_unit_test(test_password_bad_phc),
		cmocka_unit_test(test_password_dummy),
		cmocka_unit_test(test_password_concurrency_one),
	};
	const struct CMUnitTest throttle_tests[] = {
		cmocka_unit_test_setup_teardown(test_throttle_free_failures, throttle_setup,
						throttle_teardown),
		cmocka_unit_test_setup_teardown(test_throttle_delays, throttle_setup,
						throttle_teardown),
		cmocka_unit_test_setup_teardown(test_throttle_max_and_window, throttle_setup,
						throttle_teardown),
		cmocka_unit_test_setup_teardown(test_throttle_window_expiry, throttle_setup,
						throttle_teardown),
		cmocka_unit_test_setup_teardown(test_throttle_reset, throttle_setup,
						throttle_teardown),
		cmocka_unit_test_setup_teardown(test_throttle_concurrent, throttle_setup,
						throttle_teardown),
		cmocka_unit_test_setup_teardown(test_throttle_reserve, throttle_setup,
						throttle_teardown),
		cmocka_unit_test_setup_teardown(test_throttle_address, throttle_setup,
						throttle_teardown),
		cmocka_unit_test_setup_teardown(test_throttle_reserve_concurrent, throttle_setup,
						throttle_teardown),
		cmocka_unit_test(test_throttle_decide),
	};
	const struct CMUnitTest validate_tests[] = {
		cmocka_unit_test(test_user_validate),
		cmocka_unit_test(test_group_validate),
		cmocka_unit_test(test_username_ok),
		cmocka_unit_test(test_user_view),
	};
	const struct CMUnitTest apply_tests[] = {
		cmocka_unit_test(test_user_apply),
		cmocka_unit_test(test_user_apply_errors),
		cmocka_unit_test(test_user_disable_ends_sessions),
		cmocka_unit_test(test_group_apply),
	};
	int failed = 0;

	ts_log_set_level(TS_LOG_ERR);
	failed += cmocka_run_group_tests_name("password", password_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("throttle", throttle_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("validate", validate_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("apply", apply_tests, store_setup, store_teardown);
	return failed;
}
