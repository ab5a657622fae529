/* test_store_fixture.h: the fixture shared by the store contract suites
 * (test_store.c, test_store_config.c, test_store_people.c,
 * test_store_grants.c, test_store_state.c, test_store_vault.c). The store
 * is named by TS_STORE_URL (e.g. a PostgreSQL URL); by default each test
 * group gets a fresh SQLite file in its own mkdtemp directory. Tests never assume an empty store: names,
 * ids and digests are random and assertions are about their own rows, so
 * a shared database works too. Include after <cmocka.h>. */
#ifndef TS_TEST_STORE_FIXTURE_H
#define TS_TEST_STORE_FIXTURE_H

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

#define URL_ENV "TS_STORE_URL"
#define DB_NAME "store.db"
#define NAME_CAP 64
#define ID_CAP 37                        /* a UUID's text and its NUL */
#define HASH_CAP (2 * TS_SHA256_LEN + 1) /* a hex SHA-256 and its NUL */
/* Far enough ahead that no purge in these tests reaches it. */
#define FAR_FUTURE INT64_C(9999999999)

/* One test group's store. */
struct fx {
	char dir[PATH_MAX]; /* temporary directory, or "" when the URL came from the env */
	char url[PATH_MAX + 32];
	struct ts_store *st;
};

/* Creates a temporary directory for the test into dir (capacity PATH_MAX). */
static inline void make_tmpdir(char *dir)
{
	const char *tmp = getenv("TMPDIR");
	int n = snprintf(dir, PATH_MAX, "%s/ts-store-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");

	assert_true(n > 0 && n < PATH_MAX);
	assert_non_null(mkdtemp(dir));
}

/* Removes dir and everything in it (one level of subdirectories at most,
 * which is all these tests create). */
static inline void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[PATH_MAX * 2];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (unlink(p) != 0)
			rmdir(p);
	}
	closedir(d);
	rmdir(dir);
}

static inline int group_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	const char *env = getenv(URL_ENV);

	if (fx == NULL)
		return -1;
	if (env != NULL && env[0] != '\0') {
		snprintf(fx->url, sizeof(fx->url), "%s", env);
	} else {
		make_tmpdir(fx->dir);
		snprintf(fx->url, sizeof(fx->url), "sqlite:%s/%s", fx->dir, DB_NAME);
	}
	if (ts_store_open(fx->url, &fx->st) != TS_OK) {
		if (fx->dir[0])
			remove_tree(fx->dir);
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static inline int group_teardown(void **state)
{
	struct fx *fx = *state;

	ts_store_close(fx->st);
	if (fx->dir[0])
		remove_tree(fx->dir);
	free(fx);
	return 0;
}

static inline struct ts_store *store_of(void **state)
{
	return ((struct fx *)*state)->st;
}

/* A fresh random tenant name with the given suffix, e.g. "t1a2b3c4d-acme". */
static inline void rand_name(char out[NAME_CAP], const char *suffix)
{
	unsigned char r[4];
	char hex[9];

	assert_int_equal(ts_rand_bytes(r, sizeof(r)), TS_OK);
	ts_hex_encode(r, sizeof(r), hex);
	assert_true(snprintf(out, NAME_CAP, "t%s-%s", hex, suffix) < NAME_CAP);
}

/* A fresh random value shaped like the hex SHA-256 digests the store keeps
 * for session ids, codes and refresh tokens (unique across tenants). */
static inline void rand_hash(char out[HASH_CAP])
{
	unsigned char r[TS_SHA256_LEN];

	assert_int_equal(ts_rand_bytes(r, sizeof(r)), TS_OK);
	ts_hex_encode(r, sizeof(r), out);
}

/* Creates a tenant with a random name and id; both come back in name/id. */
static inline void new_tenant(struct ts_store *st, const char *suffix, char name[NAME_CAP],
			      char id[ID_CAP])
{
	struct ts_tenant_rec t = {0};

	rand_name(name, suffix);
	assert_int_equal(ts_rand_uuid(id), TS_OK);
	t.id = id;
	t.name = name;
	t.config = "{\"display_name\":\"Test\"}";
	t.created_at = 1000;
	t.updated_at = 1000;
	assert_int_equal(ts_store_tenant_put(st, &t), TS_OK);
}

/* Creates a user of tenant tid with a random id (returned in id). */
static inline void new_user(struct ts_store *st, const char *tid, const char *username,
			    char id[ID_CAP])
{
	struct ts_user_rec u = {0};

	assert_int_equal(ts_rand_uuid(id), TS_OK);
	u.tenant_id = (char *)tid;
	u.id = id;
	u.username = (char *)username;
	u.profile = "{}";
	u.created_at = 1000;
	u.updated_at = 1000;
	assert_int_equal(ts_store_user_put(st, &u), TS_OK);
}

/* Creates or replaces confidential client cid of tenant tid, created and
 * updated at `at`; secret_hash may be NULL. */
static inline void put_client(struct ts_store *st, const char *tid, const char *cid,
			      const char *secret_hash, int64_t at)
{
	struct ts_client_rec c = {0};

	c.tenant_id = (char *)tid;
	c.client_id = (char *)cid;
	c.config = "{\"type\":\"confidential\"}";
	c.secret_hash = (char *)secret_hash;
	c.created_at = at;
	c.updated_at = at;
	assert_int_equal(ts_store_client_put(st, &c), TS_OK);
}

/* An ES256 key record of tenant tid in the given state, with placeholder
 * public and sealed private parts (the store keeps them as given). */
static inline struct ts_key_rec key_rec(const char *tid, const char *kid, const char *state,
					int64_t created)
{
	struct ts_key_rec k = {0};

	k.tenant_id = (char *)tid;
	k.kid = (char *)kid;
	k.alg = "ES256";
	k.state = (char *)state;
	k.public_jwk = "{\"kty\":\"EC\"}";
	k.sealed_private = "v1.0011223344556677.c2VhbGVk";
	k.created_at = created;
	return k;
}

static inline int64_t generation(struct ts_store *st)
{
	int64_t g = -1;

	assert_int_equal(ts_store_generation(st, &g), TS_OK);
	return g;
}

#endif
