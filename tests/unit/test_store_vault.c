/* test_store_vault.c: the storage contract of the token vault: providers
 * (upsert, list, delete refused while in use, compare-and-swap re-seal),
 * connections (names unique per tenant and owner, isolation by tenant,
 * cascades), and the refresh lease: exactly one taker, a fenced save that
 * releases it, a stale lease taken over, the due list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>

#include "test_store_fixture.h"

static void put_provider(struct ts_store *st, const char *tid, const char *name,
			 const char *secret)
{
	struct ts_provider_rec p = {0};

	p.tenant_id = (char *)tid;
	p.name = (char *)name;
	p.kind = "oauth2";
	p.config = "{\"kind\":\"oauth2\"}";
	p.sealed_secret = (char *)secret;
	p.created_at = 1000;
	p.updated_at = 1000;
	assert_int_equal(ts_store_provider_put(st, &p), TS_OK);
}

static void new_conn(struct ts_store *st, const char *tid, const char *provider,
		     const char *owner, const char *name, int64_t next, char id[ID_CAP])
{
	struct ts_connection_rec c = {0};

	assert_int_equal(ts_rand_uuid(id), TS_OK);
	c.id = id;
	c.tenant_id = (char *)tid;
	c.provider = (char *)provider;
	c.name = (char *)name;
	c.owner = (char *)owner;
	c.status = "active";
	c.metadata = "{}";
	c.access_token = "v1.sealed-at";
	c.refresh_token = "v1.sealed-rt";
	c.issued_at = 1000;
	c.expires_at = 2000;
	c.next_refresh_at = next;
	c.created_at = 1000;
	c.updated_at = 1000;
	assert_int_equal(ts_store_connection_insert(st, &c), TS_OK);
}

static void test_providers(void **state)
{
	struct ts_store *st = store_of(state);
	struct ts_provider_rec *p = NULL, **v = NULL;
	char name[NAME_CAP], tid[ID_CAP], other[NAME_CAP], oid[ID_CAP], cid[ID_CAP];
	size_t n = 0;

	new_tenant(st, "prov", name, tid);
	new_tenant(st, "prov2", other, oid);
	put_provider(st, tid, "crm", "v1.old");
	put_provider(st, tid, "erp", NULL);
	put_provider(st, oid, "crm", "v1.other");
	assert_int_equal(ts_store_provider_get(st, tid, "crm", &p), TS_OK);
	assert_string_equal(p->kind, "oauth2");
	assert_string_equal(p->sealed_secret, "v1.old");
	ts_provider_rec_free(p);
	assert_int_equal(ts_store_provider_list(st, tid, &v, &n), TS_OK);
	assert_int_equal(n, 2);
	assert_string_equal(v[0]->name, "crm");
	assert_null(v[1]->sealed_secret);
	ts_provider_recs_free(v, n);
	/* Re-seal: compare and swap. */
	assert_int_equal(ts_store_provider_reseal(st, tid, "crm", "v1.wrong", "v1.new"), TS_ECONFLICT);
	assert_int_equal(ts_store_provider_reseal(st, tid, "crm", "v1.old", "v1.new"), TS_OK);
	assert_int_equal(ts_store_provider_get(st, tid, "crm", &p), TS_OK);
	assert_string_equal(p->sealed_secret, "v1.new");
	ts_provider_rec_free(p);
	/* The other tenant's provider of the same name is untouched. */
	assert_int_equal(ts_store_provider_get(st, oid, "crm", &p), TS_OK);
	assert_string_equal(p->sealed_secret, "v1.other");
	ts_provider_rec_free(p);
	/* In use: not deleted. */
	new_conn(st, tid, "crm", NULL, "c", 0, cid);
	assert_int_equal(ts_store_provider_delete(st, tid, "crm"), TS_ECONFLICT);
	assert_int_equal(ts_store_connection_delete(st, tid, cid), TS_OK);
	assert_int_equal(ts_store_provider_delete(st, tid, "crm"), TS_OK);
	assert_int_equal(ts_store_provider_delete(st, tid, "crm"), TS_ENOTFOUND);
	assert_int_equal(ts_store_provider_get(st, tid, "crm", &p), TS_ENOTFOUND);
	/* A connection needs its provider and tenant. */
	{
		struct ts_connection_rec c = {0};
		char id[ID_CAP];
		assert_int_equal(ts_rand_uuid(id), TS_OK);
		c.id = id;
		c.tenant_id = tid;
		c.provider = "crm";
		c.name = "orphan";
		c.status = "pending";
		c.metadata = "{}";
		assert_int_equal(ts_store_connection_insert(st, &c), TS_ENOTFOUND);
		c.status = "bogus";
		assert_int_equal(ts_store_connection_insert(st, &c), TS_EINVAL);
	}
}

static void test_connection_names_and_isolation(void **state)
{
	struct ts_store *st = store_of(state);
	struct ts_connection_rec *c = NULL, **v = NULL;
	struct ts_provider_rec *p = NULL;
	char name[NAME_CAP], tid[ID_CAP], other[NAME_CAP], oid[ID_CAP];
	char uid[ID_CAP], a[ID_CAP], b[ID_CAP], d[ID_CAP];
	size_t n = 0;

	new_tenant(st, "names", name, tid);
	new_tenant(st, "names2", other, oid);
	new_user(st, tid, "owner", uid);
	put_provider(st, tid, "crm", "v1.s");
	put_provider(st, oid, "crm", "v1.s");
	new_conn(st, tid, "crm", NULL, "main", 0, a);
	new_conn(st, tid, "crm", uid, "main", 0, b); /* same name, another owner */
	new_conn(st, oid, "crm", NULL, "main", 0, d); /* same name, another tenant */
	{
		struct ts_connection_rec dup = {0};
		char id[ID_CAP];
		assert_int_equal(ts_rand_uuid(id), TS_OK);
		dup.id = id;
		dup.tenant_id = tid;
		dup.provider = "crm";
		dup.name = "main";
		dup.status = "pending";
		dup.metadata = "{}";
		assert_int_equal(ts_store_connection_insert(st, &dup), TS_EEXIST);
		dup.owner = uid;
		assert_int_equal(ts_store_connection_insert(st, &dup), TS_EEXIST);
	}
	assert_int_equal(ts_store_connection_find(st, tid, NULL, "main", &c), TS_OK);
	assert_string_equal(c->id, a);
	assert_string_equal(c->tenant_name, name);
	assert_null(c->owner);
	ts_connection_rec_free(c);
	assert_int_equal(ts_store_connection_find(st, tid, uid, "main", &c), TS_OK);
	assert_string_equal(c->id, b);
	assert_string_equal(c->owner, uid);
	ts_connection_rec_free(c);
	/* Tenant isolation: an id of another tenant is not found. */
	assert_int_equal(ts_store_connection_get(st, tid, d, &c), TS_ENOTFOUND);
	assert_int_equal(ts_store_connection_list(st, tid, &v, &n), TS_OK);
	assert_int_equal(n, 2);
	ts_connection_recs_free(v, n);
	/* A user's connections go with the user; a tenant's with the tenant. */
	assert_int_equal(ts_store_user_delete(st, tid, uid), TS_OK);
	assert_int_equal(ts_store_connection_get(st, tid, b, &c), TS_ENOTFOUND);
	assert_int_equal(ts_store_tenant_delete(st, name), TS_OK);
	assert_int_equal(ts_store_connection_get(st, tid, a, &c), TS_ENOTFOUND);
	assert_int_equal(ts_store_provider_get(st, tid, "crm", &p), TS_ENOTFOUND);
	assert_int_equal(ts_store_connection_get(st, oid, d, &c), TS_OK);
	ts_connection_rec_free(c);
}

static void test_lease_and_fenced_save(void **state)
{
	struct ts_store *st = store_of(state);
	struct ts_connection_rec *c = NULL;
	char name[NAME_CAP], tid[ID_CAP], id[ID_CAP];

	new_tenant(st, "lease", name, tid);
	put_provider(st, tid, "crm", "v1.s");
	new_conn(st, tid, "crm", NULL, "l", 5000, id);
	assert_int_equal(ts_store_connection_lease(st, tid, id, "A", 1060, 1000), TS_OK);
	assert_int_equal(ts_store_connection_lease(st, tid, id, "B", 1060, 1000), TS_ECONFLICT);
	assert_int_equal(ts_store_connection_lease(st, tid, "nope", "B", 1060, 1000), TS_ENOTFOUND);
	assert_int_equal(ts_store_connection_get(st, tid, id, &c), TS_OK);
	assert_string_equal(c->lease_owner, "A");
	assert_int_equal(c->lease_until, 1060);
	/* B cannot write while A holds it. */
	free(c->access_token);
	c->access_token = ts_xstrdup("v1.new-at");
	free(c->refresh_token);
	c->refresh_token = ts_xstrdup("v1.new-rt");
	c->expires_at = 3000;
	assert_int_equal(ts_store_connection_save(st, c, "B"), TS_ECONFLICT);
	/* A's save writes both tokens together and releases the lease. */
	assert_int_equal(ts_store_connection_save(st, c, "A"), TS_OK);
	ts_connection_rec_free(c);
	assert_int_equal(ts_store_connection_get(st, tid, id, &c), TS_OK);
	assert_null(c->lease_owner);
	assert_string_equal(c->access_token, "v1.new-at");
	assert_string_equal(c->refresh_token, "v1.new-rt");
	assert_int_equal(c->expires_at, 3000);
	/* A second save by A no longer holds: fenced. */
	assert_int_equal(ts_store_connection_save(st, c, "A"), TS_ECONFLICT);
	ts_connection_rec_free(c);
	/* A stale lease (a crashed holder) is taken over after it ends, and
	 * the old holder's late save is dropped. */
	assert_int_equal(ts_store_connection_lease(st, tid, id, "A", 1060, 1000), TS_OK);
	assert_int_equal(ts_store_connection_lease(st, tid, id, "B", 1200, 1100), TS_OK);
	assert_int_equal(ts_store_connection_get(st, tid, id, &c), TS_OK);
	assert_int_equal(ts_store_connection_save(st, c, "A"), TS_ECONFLICT);
	assert_int_equal(ts_store_connection_release(st, tid, id, "A"), TS_OK);
	ts_connection_rec_free(c);
	assert_int_equal(ts_store_connection_get(st, tid, id, &c), TS_OK);
	assert_string_equal(c->lease_owner, "B");
	ts_connection_rec_free(c);
	assert_int_equal(ts_store_connection_release(st, tid, id, "B"), TS_OK);
	assert_int_equal(ts_store_connection_lease(st, tid, id, "C", 1300, 1100), TS_OK);
	assert_int_equal(ts_store_connection_release(st, tid, id, "C"), TS_OK);
}

struct race {
	struct ts_store *st;
	const char *tid, *id;
	char owner[16];
	int rc;
};

static void *take(void *arg)
{
	struct race *r = arg;

	r->rc = ts_store_connection_lease(r->st, r->tid, r->id, r->owner, 2000, 1000);
	return NULL;
}

static void test_lease_has_one_winner(void **state)
{
	struct ts_store *st = store_of(state);
	char name[NAME_CAP], tid[ID_CAP], id[ID_CAP];
	struct race rs[8];
	pthread_t th[8];
	int i, won = 0;

	new_tenant(st, "race", name, tid);
	put_provider(st, tid, "crm", "v1.s");
	new_conn(st, tid, "crm", NULL, "r", 0, id);
	for (i = 0; i < 8; i++) {
		rs[i].st = st;
		rs[i].tid = tid;
		rs[i].id = id;
		snprintf(rs[i].owner, sizeof(rs[i].owner), "o%d", i);
		assert_int_equal(pthread_create(&th[i], NULL, take, &rs[i]), 0);
	}
	for (i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		assert_true(rs[i].rc == TS_OK || rs[i].rc == TS_ECONFLICT);
		won += rs[i].rc == TS_OK;
	}
	assert_int_equal(won, 1);
}

static void test_due_list(void **state)
{
	struct ts_store *st = store_of(state);
	struct ts_connection_rec **v = NULL;
	char name[NAME_CAP], tid[ID_CAP], a[ID_CAP], b[ID_CAP], c[ID_CAP], d[ID_CAP];
	size_t n = 0, i;
	int seen_a = 0, seen_b = 0;

	new_tenant(st, "due", name, tid);
	put_provider(st, tid, "crm", "v1.s");
	new_conn(st, tid, "crm", NULL, "a", 50, a);
	new_conn(st, tid, "crm", NULL, "b", 40, b);
	new_conn(st, tid, "crm", NULL, "c", 0, c);         /* never */
	new_conn(st, tid, "crm", NULL, "d", FAR_FUTURE, d); /* later */
	assert_int_equal(ts_store_connection_lease(st, tid, b, "x", 200, 100), TS_OK);
	assert_int_equal(ts_store_connection_due(st, 100, 1000, &v, &n), TS_OK);
	for (i = 0; i < n; i++) {
		assert_string_not_equal(v[i]->id, c);
		assert_string_not_equal(v[i]->id, d);
		seen_a += strcmp(v[i]->id, a) == 0;
		seen_b += strcmp(v[i]->id, b) == 0;
	}
	assert_int_equal(seen_a, 1);
	assert_int_equal(seen_b, 0); /* leased */
	ts_connection_recs_free(v, n);
	assert_int_equal(ts_store_connection_due(st, 100, 0, &v, &n), TS_EINVAL);
}

/* A person's connections to one provider: only theirs, only that
 * provider's, only this tenant's, oldest first. */
static void test_owned_connections(void **state)
{
	struct ts_store *st = store_of(state);
	struct ts_connection_rec **v = NULL;
	char name[NAME_CAP], tid[ID_CAP], other[NAME_CAP], oid[ID_CAP];
	char alice[ID_CAP], bob[ID_CAP], a1[ID_CAP], a2[ID_CAP], x[ID_CAP];
	size_t n = 0;

	new_tenant(st, "owned", name, tid);
	new_tenant(st, "owned2", other, oid);
	new_user(st, tid, "alice", alice);
	new_user(st, tid, "bob", bob);
	put_provider(st, tid, "crm", "v1.s");
	put_provider(st, tid, "erp", "v1.s");
	put_provider(st, oid, "crm", "v1.s");
	new_conn(st, tid, "crm", alice, "first", 0, a1);
	new_conn(st, tid, "crm", alice, "second", 0, a2);
	new_conn(st, tid, "crm", bob, "bobs", 0, x);
	new_conn(st, tid, "crm", NULL, "tenants", 0, x);
	new_conn(st, tid, "erp", alice, "erp", 0, x);
	assert_int_equal(ts_store_connection_owned(st, tid, alice, "crm", &v, &n), TS_OK);
	assert_int_equal(n, 2);
	assert_string_equal(v[0]->owner, alice);
	assert_string_equal(v[1]->owner, alice);
	assert_true((strcmp(v[0]->id, a1) == 0 && strcmp(v[1]->id, a2) == 0) ||
		    (strcmp(v[0]->id, a2) == 0 && strcmp(v[1]->id, a1) == 0));
	ts_connection_recs_free(v, n);
	assert_int_equal(ts_store_connection_owned(st, oid, alice, "crm", &v, &n), TS_OK);
	assert_int_equal(n, 0);
	ts_connection_recs_free(v, n);
	assert_int_equal(ts_store_connection_owned(st, tid, alice, "none", &v, &n), TS_OK);
	assert_int_equal(n, 0);
	ts_connection_recs_free(v, n);
	assert_int_equal(ts_store_connection_owned(st, tid, NULL, "crm", &v, &n), TS_EINVAL);
	assert_int_equal(ts_store_tenant_delete(st, name), TS_OK);
	assert_int_equal(ts_store_tenant_delete(st, other), TS_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_providers),
		cmocka_unit_test(test_connection_names_and_isolation),
		cmocka_unit_test(test_lease_and_fenced_save),
		cmocka_unit_test(test_lease_has_one_winner),
		cmocka_unit_test(test_due_list),
		cmocka_unit_test(test_owned_connections),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
