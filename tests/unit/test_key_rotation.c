/* Signing-key rotation driven through the admin layer on a SQLite store:
 * the states a rotation interrupted half-way leaves behind, and how later
 * rotations and maintenance repair them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "admin/admin.h"
#include "store/store_config.h"
#include "store/store_vault.h"

#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MK_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define ROTATION_S 3900 /* the shortest there is: a retired key's stay in JWKS */
#define KEYS_MAX 16

struct fx {
	char dir[64];
	struct ts_store *st;
	struct ts_master_key mk;
	struct ts_admin a;
	struct ts_tenant_rec *t;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	char url[PATH_MAX], err[512] = "";
	const char *result;
	json_t *spec;

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/ts-keyrot-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(url, sizeof(url), "sqlite:%s/t.db", fx->dir);
	assert_int_equal(ts_store_open(url, &fx->st), TS_OK);
	assert_int_equal(ts_master_key_parse(MK_HEX, &fx->mk), TS_OK);
	fx->a.store = fx->st;
	fx->a.mk = &fx->mk;
	fx->a.public_url = "https://id.example.test";
	fx->a.actor = "test";
	spec = json_pack("{s:s,s:i}", "name", "t", "key_rotation", ROTATION_S);
	assert_int_equal(ts_admin_tenant_apply(&fx->a, spec, &result, err, sizeof(err)), TS_OK);
	json_decref(spec);
	assert_int_equal(ts_store_tenant_get(fx->st, "t", &fx->t), TS_OK);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[128];

	ts_tenant_rec_free(fx->t);
	ts_store_close(fx->st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

/* The ES256 keys of the tenant, as listed (oldest first). */
struct es_keys {
	struct ts_key_rec **all;
	size_t nall;
	struct ts_key_rec *k[KEYS_MAX];
	size_t n;
};

static void es_list(struct fx *fx, struct es_keys *e)
{
	size_t i;

	memset(e, 0, sizeof(*e));
	assert_int_equal(ts_store_key_list(fx->st, fx->t->id, &e->all, &e->nall), TS_OK);
	for (i = 0; i < e->nall; i++)
		if (strcmp(e->all[i]->alg, "ES256") == 0 && e->n < KEYS_MAX)
			e->k[e->n++] = e->all[i];
}

static void es_free(struct es_keys *e)
{
	ts_key_recs_free(e->all, e->nall);
}

static size_t count(const struct es_keys *e, const char *state)
{
	size_t i, c = 0;

	for (i = 0; i < e->n; i++)
		c += strcmp(e->k[i]->state, state) == 0;
	return c;
}

static const char *kid_in(const struct es_keys *e, const char *state)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		if (strcmp(e->k[i]->state, state) == 0)
			return e->k[i]->kid;
	return NULL;
}

/* A key's publication time, which no store operation changes, set in the
 * database file itself. */
static void set_created(struct fx *fx, const char *kid, int64_t created)
{
	char path[PATH_MAX];
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;

	snprintf(path, sizeof(path), "%s/t.db", fx->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_prepare_v2(db, "UPDATE keys SET created_at = ?1 WHERE kid = ?2",
					    -1, &q, NULL),
			 SQLITE_OK);
	sqlite3_bind_int64(q, 1, created);
	sqlite3_bind_text(q, 2, kid, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(q), SQLITE_DONE);
	assert_int_equal(sqlite3_changes(db), 1);
	sqlite3_finalize(q);
	sqlite3_close(db);
}

static void set_key(struct fx *fx, struct ts_key_rec *k, const char *state, int64_t created,
		    int64_t activated, int64_t retired)
{
	free(k->state);
	k->state = strdup(state);
	k->created_at = created;
	k->activated_at = activated;
	k->retired_at = retired;
	assert_int_equal(ts_store_key_put(fx->st, k), TS_OK);
	set_created(fx, k->kid, created);
}

/* At least three ES256 keys: the tenant's two and one retired by a
 * rotation by hand. */
static void three_es_keys(struct fx *fx, struct es_keys *e)
{
	char err[512] = "";

	assert_int_equal(ts_admin_keys_rotate(&fx->a, "t", TS_ALG_ES256, true, err, sizeof(err)),
			 TS_OK);
	es_list(fx, e);
	assert_true(e->n >= 3);
}

static void expect_one_each(struct fx *fx, const char *label)
{
	struct es_keys e;

	es_list(fx, &e);
	if (count(&e, "current") != 1 || count(&e, "next") != 1)
		fail_msg("%s: %zu current and %zu next ES256 keys", label, count(&e, "current"),
			 count(&e, "next"));
	es_free(&e);
}

/* A rotation that stopped after publishing the key after next and before
 * promoting leaves one current and two next keys: later rotations promote
 * one of them, and the tenant keeps exactly one current key that was
 * published before it signed. */
static void test_interrupted_rotation(void **state)
{
	struct fx *fx = *state;
	struct es_keys e, after;
	int64_t t0 = ts_now();
	char oldest_next[128];

	three_es_keys(fx, &e);
	set_key(fx, e.k[0], "current", t0, t0, 0);
	set_key(fx, e.k[1], "next", t0, 0, 0);
	set_key(fx, e.k[2], "next", t0 + ROTATION_S, 0, 0);
	snprintf(oldest_next, sizeof(oldest_next), "%s", e.k[1]->kid);
	es_free(&e);

	assert_int_equal(ts_admin_keys_rotate_due(&fx->a, t0 + ROTATION_S + 400, "A", NULL, NULL,
						  NULL, NULL),
			 TS_OK);
	expect_one_each(fx, "after the first rotation");
	es_list(fx, &after);
	assert_string_equal(kid_in(&after, "current"), oldest_next);
	es_free(&after);
	assert_int_equal(ts_admin_keys_rotate_due(&fx->a, t0 + 2 * ROTATION_S + 800, "A", NULL,
						  NULL, NULL, NULL),
			 TS_OK);
	expect_one_each(fx, "after the second rotation");
	assert_int_equal(ts_admin_keys_ensure(&fx->a, fx->t), TS_OK);
	expect_one_each(fx, "after maintenance");
}

/* Two current keys of one algorithm (left by an older interrupted
 * rotation) are rotated once: the next key becomes the only current one. */
static void test_two_current_rotated_once(void **state)
{
	struct fx *fx = *state;
	struct es_keys e, after;
	int64_t t0 = ts_now();
	char next[128];

	three_es_keys(fx, &e);
	set_key(fx, e.k[0], "current", t0, t0, 0);
	set_key(fx, e.k[1], "current", t0, t0, 0);
	set_key(fx, e.k[2], "next", t0, 0, 0);
	snprintf(next, sizeof(next), "%s", e.k[2]->kid);
	es_free(&e);
	assert_int_equal(ts_admin_keys_rotate_due(&fx->a, t0 + ROTATION_S + 400, "A", NULL, NULL,
						  NULL, NULL),
			 TS_OK);
	expect_one_each(fx, "after the rotation");
	es_list(fx, &after);
	assert_string_equal(kid_in(&after, "current"), next);
	es_free(&after);
}

/* Maintenance that finds no current key but a published next key promotes
 * it rather than signing with a key no verifier has. */
static void test_maintenance_promotes_next(void **state)
{
	struct fx *fx = *state;
	struct es_keys e, after;
	int64_t t0 = ts_now();
	char next[128];
	size_t i;

	three_es_keys(fx, &e);
	for (i = 0; i + 1 < e.n; i++)
		set_key(fx, e.k[i], "retired", t0, t0, t0);
	set_key(fx, e.k[e.n - 1], "next", t0 - TS_KEY_PUBLISH_LEAD_S, 0, 0);
	snprintf(next, sizeof(next), "%s", e.k[e.n - 1]->kid);
	es_free(&e);
	assert_int_equal(ts_admin_keys_ensure(&fx->a, fx->t), TS_OK);
	expect_one_each(fx, "after maintenance");
	es_list(fx, &after);
	assert_string_equal(kid_in(&after, "current"), next);
	es_free(&after);
}

static bool stop_now(void *arg)
{
	(void)arg;
	return true;
}

/* A server that is stopping rotates no further tenant. */
static void test_stop_between_tenants(void **state)
{
	struct fx *fx = *state;
	struct es_keys before, after;
	int64_t t0 = ts_now();

	es_list(fx, &before);
	assert_int_equal(ts_admin_keys_rotate_due(&fx->a, t0 + 10 * ROTATION_S, "A", NULL, stop_now,
						  NULL, NULL),
			 TS_OK);
	es_list(fx, &after);
	assert_string_equal(kid_in(&after, "current"), kid_in(&before, "current"));
	es_free(&before);
	es_free(&after);
}

/* Answers true for tenant "t" only, and counts the questions. */
static bool t_waits(void *arg, const char *tenant)
{
	int *asked = arg;

	(*asked)++;
	return strcmp(tenant, "t") == 0;
}

/* A due tenant the caller says is waiting (backing off) is left alone;
 * asked again when it no longer waits, it rotates. */
static void test_waiting_tenant_is_left_alone(void **state)
{
	struct fx *fx = *state;
	struct es_keys before, after;
	int64_t t0 = ts_now();
	int asked = 0;

	es_list(fx, &before);
	assert_int_equal(ts_admin_keys_rotate_due(&fx->a, t0 + 10 * ROTATION_S, "A", NULL, NULL,
						  t_waits, &asked),
			 TS_OK);
	assert_int_equal(asked, 1);
	es_list(fx, &after);
	assert_string_equal(kid_in(&after, "current"), kid_in(&before, "current"));
	es_free(&after);
	assert_int_equal(ts_admin_keys_rotate_due(&fx->a, t0 + 10 * ROTATION_S, "A", NULL, NULL,
						  NULL, NULL),
			 TS_OK);
	es_list(fx, &after);
	assert_string_not_equal(kid_in(&after, "current"), kid_in(&before, "current"));
	es_free(&before);
	es_free(&after);
}

/* A rotation by hand promotes a next key only once it has been in JWKS for
 * a cache lifetime, unless forced. */
static void test_rotation_by_hand_warns_of_a_young_key(void **state)
{
	struct fx *fx = *state;
	struct es_keys e, after;
	char err[512] = "", cur[128];
	size_t i;

	es_list(fx, &e);
	snprintf(cur, sizeof(cur), "%s", kid_in(&e, "current"));
	es_free(&e);
	/* Published moments ago: promoted, with a warning that says so. */
	if (ts_admin_keys_rotate(&fx->a, "t", TS_ALG_ES256, false, err, sizeof(err)) != TS_OK)
		fail_msg("%s", err);
	assert_non_null(strstr(err, "published"));
	assert_non_null(strstr(err, "--force"));
	es_list(fx, &after);
	assert_string_not_equal(kid_in(&after, "current"), cur);
	snprintf(cur, sizeof(cur), "%s", kid_in(&after, "current"));
	/* Published a cache lifetime ago: promoted without a word. */
	for (i = 0; i < after.n; i++)
		if (strcmp(after.k[i]->state, "next") == 0)
			set_key(fx, after.k[i], "next", ts_now() - TS_JWKS_MAX_AGE_S, 0, 0);
	es_free(&after);
	err[0] = 'x';
	if (ts_admin_keys_rotate(&fx->a, "t", TS_ALG_ES256, false, err, sizeof(err)) != TS_OK)
		fail_msg("%s", err);
	assert_string_equal(err, "");
	es_list(fx, &after);
	assert_string_not_equal(kid_in(&after, "current"), cur);
	es_free(&after);
	/* Right after it, --force rotates without the warning. */
	err[0] = 'x';
	assert_int_equal(ts_admin_keys_rotate(&fx->a, "t", TS_ALG_ES256, true, err, sizeof(err)),
			 TS_OK);
	assert_string_equal(err, "");
	expect_one_each(fx, "after a forced rotation");
}

/* The next ES256 key among e, re-sealed in the store under the same master
 * key (new ciphertext), as `tessera keys rekey-vault` does; the new text
 * into out (free). */
static char *reseal_next(struct fx *fx, const struct es_keys *e)
{
	const struct ts_key_rec *k = NULL;
	unsigned char *der = NULL;
	size_t len = 0, i;
	char aad[256], *out = NULL;

	for (i = 0; i < e->n; i++)
		if (strcmp(e->k[i]->state, "next") == 0)
			k = e->k[i];
	assert_non_null(k);
	snprintf(aad, sizeof(aad), "tessera:signing-key:%s:%s", fx->t->id, k->kid);
	assert_int_equal(ts_unseal(&fx->mk, 1, aad, k->sealed_private, &der, &len), TS_OK);
	assert_int_equal(ts_seal(&fx->mk, aad, der, len, &out), TS_OK);
	free(der);
	assert_string_not_equal(out, k->sealed_private);
	assert_int_equal(ts_store_key_reseal(fx->st, fx->t->id, k->kid, k->sealed_private, out),
			 TS_OK);
	return out;
}

/* A rotation working from keys read before a re-seal keeps the re-sealed
 * key material: it changes states only. */
static void test_rotation_keeps_a_concurrent_reseal(void **state)
{
	struct fx *fx = *state;
	struct es_keys stale, after;
	char *resealed;
	size_t i;

	es_list(fx, &stale);
	resealed = reseal_next(fx, &stale);
	assert_int_equal(ts_admin_keys_promote(&fx->a, fx->t, stale.all, stale.nall, TS_ALG_ES256,
					       ts_now()),
			 TS_OK);
	es_list(fx, &after);
	for (i = 0; i < after.n; i++)
		if (strcmp(after.k[i]->state, "current") == 0)
			assert_string_equal(after.k[i]->sealed_private, resealed);
	free(resealed);
	es_free(&stale);
	es_free(&after);
}

/* A rotation working from keys another rotation has changed since writes
 * nothing: no key comes back to life, none is promoted twice. */
static void test_stale_rotation_writes_nothing(void **state)
{
	struct fx *fx = *state;
	struct es_keys stale, before, after;
	char err[512] = "";
	size_t i;

	es_list(fx, &stale);
	assert_int_equal(ts_admin_keys_rotate(&fx->a, "t", TS_ALG_ES256, true, err, sizeof(err)),
			 TS_OK);
	es_list(fx, &before);
	assert_int_not_equal(ts_admin_keys_promote(&fx->a, fx->t, stale.all, stale.nall,
						   TS_ALG_ES256, ts_now() + 10),
			     TS_OK);
	es_list(fx, &after);
	assert_int_equal(after.n, before.n);
	for (i = 0; i < after.n; i++) {
		assert_string_equal(after.k[i]->kid, before.k[i]->kid);
		assert_string_equal(after.k[i]->state, before.k[i]->state);
		assert_true(after.k[i]->retired_at == before.k[i]->retired_at);
	}
	expect_one_each(fx, "after a stale rotation");
	es_free(&stale);
	es_free(&before);
	es_free(&after);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_interrupted_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_current_rotated_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_maintenance_promotes_next, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_between_tenants, setup, teardown),
		cmocka_unit_test_setup_teardown(test_waiting_tenant_is_left_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation_by_hand_warns_of_a_young_key, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rotation_keeps_a_concurrent_reseal, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stale_rotation_writes_nothing, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
