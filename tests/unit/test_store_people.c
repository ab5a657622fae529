/* test_store_people.c: the store contract for users, groups and group
 * membership, against the ts_store_* API only (see test_store_fixture.h
 * for how the store is chosen): usernames unique per tenant without regard
 * to ASCII case, ordering, updates, argument checks, and what a user's
 * deletion takes with it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <strings.h>

#include "test_store_fixture.h"

/* A user record with every field set, borrowing its strings. */
static struct ts_user_rec user_rec(const char *tid, const char *id, const char *username)
{
	struct ts_user_rec u = {0};

	u.tenant_id = (char *)tid;
	u.id = (char *)id;
	u.username = (char *)username;
	u.password_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";
	u.app_password_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdDI$aGFzaDI";
	u.device_id = "device-1";
	u.profile = "{\"email\":\"alice@x\",\"roles\":[\"admin\"]}";
	u.created_at = 100;
	u.updated_at = 100;
	return u;
}

static void test_user_crud(void **state)
{
	struct ts_store *st = store_of(state);
	struct ts_user_rec u, *got = NULL;
	char name[NAME_CAP], tid[ID_CAP], other[NAME_CAP], oid[ID_CAP];
	char id1[ID_CAP], id2[ID_CAP], id3[ID_CAP];

	new_tenant(st, "users", name, tid);
	new_tenant(st, "users2", other, oid);
	assert_int_equal(ts_rand_uuid(id1), TS_OK);
	assert_int_equal(ts_rand_uuid(id2), TS_OK);
	u = user_rec(tid, id1, "Alice@X");
	assert_int_equal(ts_store_user_put(st, &u), TS_OK);

	assert_int_equal(ts_store_user_get(st, tid, id1, &got), TS_OK);
	assert_string_equal(got->tenant_id, tid);
	assert_string_equal(got->id, id1);
	assert_string_equal(got->username, "Alice@X"); /* kept as given */
	assert_string_equal(got->password_hash, u.password_hash);
	assert_string_equal(got->app_password_hash, u.app_password_hash);
	assert_string_equal(got->device_id, "device-1");
	assert_string_equal(got->profile, u.profile);
	assert_false(got->disabled);
	assert_int_equal(got->created_at, 100);
	assert_int_equal(got->updated_at, 100);
	ts_user_rec_free(got);
	got = NULL;

	/* Lookups fold ASCII case. */
	assert_int_equal(ts_store_user_find(st, tid, "alice@x", &got), TS_OK);
	assert_string_equal(got->id, id1);
	ts_user_rec_free(got);
	assert_int_equal(ts_store_user_find(st, tid, "ALICE@X", &got), TS_OK);
	assert_string_equal(got->username, "Alice@X");
	ts_user_rec_free(got);
	got = NULL;
	assert_int_equal(ts_store_user_find(st, tid, "alice@y", &got), TS_ENOTFOUND);
	assert_null(got);
	assert_int_equal(ts_store_user_find(st, oid, "alice@x", &got), TS_ENOTFOUND);

	/* Another user cannot take the name in any case; another tenant can. */
	u = user_rec(tid, id2, "ALICE@x");
	assert_int_equal(ts_store_user_put(st, &u), TS_EEXIST);
	assert_int_equal(ts_store_user_get(st, tid, id2, &got), TS_ENOTFOUND);
	u.tenant_id = oid;
	assert_int_equal(ts_store_user_put(st, &u), TS_OK);

	/* Only ASCII is folded: these are two names. */
	new_user(st, tid, "\xc3\x89mile", id3);
	new_user(st, tid, "\xc3\xa9mile", id3);
	assert_int_equal(ts_store_tenant_delete(st, name), TS_OK);
	assert_int_equal(ts_store_tenant_delete(st, other), TS_OK);
}

/* Update by id keeps created_at; it may drop hashes, disable, and change
 * the case of the name (the user's own name is no conflict). A rename
 * frees the old name. */
static void test_user_update(void **state)
{
	struct ts_store *st = store_of(state);
	struct ts_user_rec u, *got = NULL;
	char name[NAME_CAP], tid[ID_CAP], id1[ID_CAP], id2[ID_CAP];

	new_tenant(st, "uupd", name, tid);
	assert_int_equal(ts_rand_uuid(id1), TS_OK);
	assert_int_equal(ts_rand_uuid(id2), TS_OK);
	u = user_rec(tid, id1, "Alice@X");
	assert_int_equal(ts_store_user_put(st, &u), TS_OK);
	u = user_rec(tid, id1, "alice@X");
	u.password_hash = NULL;
	u.app_password_hash = NULL;
	u.device_id = NULL;
	u.profile = "{}";
	u.disabled = true;
	u.created_at = 999;
	u.updated_at = 200;
	assert_int_equal(ts_store_user_put(st, &u), TS_OK);
	assert_int_equal(ts_store_user_find(st, tid, "ALICE@X", &got), TS_OK);
	assert_string_equal(got->id, id1);
	assert_string_equal(got->username, "alice@X");
	assert_null(got->password_hash);
	assert_null(got->app_password_hash);
	assert_null(got->device_id);
	assert_string_equal(got->profile, "{}");
	assert_true(got->disabled);
	assert_int_equal(got->created_at, 100);
	assert_int_equal(got->updated_at, 200);
	ts_user_rec_free(got);
	got = NULL;

	u.username = "bob@x";
	assert_int_equal(ts_store_user_put(st, &u), TS_OK);
	u = user_rec(tid, id2, "ALICE@x");
	assert_int_equal(ts_store_user_put(st, &u), TS_OK);
	assert_int_equal(ts_store_user_find(st, tid, "alice@x", &got), TS_OK);
	assert_string_equal(got->id, id2);
	ts_user_rec_free(got);
	assert_int_equal(ts_store_tenant_delete(st, name), TS_OK);
}

/* A first device is bound by a write of that field alone: never over a
 * bound device, and never undoing a change made to the user meanwhile. */
static void test_user_bind_device(void **state)
{
	struct ts_store *st = store_of(state);
	struct ts_user_rec u, *got = NULL;
	char name[NAME_CAP], tid[ID_CAP], id[ID_CAP], missing[ID_CAP];

	new_tenant(st, "binds", name, tid);
	assert_int_equal(ts_rand_uuid(id), TS_OK);
	assert_int_equal(ts_rand_uuid(missing), TS_OK);
	u = user_rec(tid, id, "bind@x");
	u.device_id = NULL;
	assert_int_equal(ts_store_user_put(st, &u), TS_OK);
	/* An administrator disables the user and changes the roles while a
	 * login that read the old record is hashing. */
	u.disabled = true;
	u.profile = "{\"roles\":[]}";
	assert_int_equal(ts_store_user_put(st, &u), TS_OK);
	assert_int_equal(ts_store_user_bind_device(st, tid, id, "phone-1", 200), TS_OK);
	assert_int_equal(ts_store_user_bind_device(st, tid, id, "phone-2", 300), TS_ENOTFOUND);
	assert_int_equal(ts_store_user_bind_device(st, tid, id, "phone-1", 300), TS_ENOTFOUND);
	assert_int_equal(ts_store_user_get(st, tid, id, &got), TS_OK);
	assert_string_equal(got->device_id, "phone-1");
	assert_true(got->disabled);
	assert_string_equal(got->profile, "{\"roles\":[]}");
	assert_string_equal(got->password_hash, u.password_hash);
	assert_int_equal(got->updated_at, 200);
	ts_user_rec_free(got);
	assert_int_equal(ts_store_user_bind_device(st, tid, missing, "phone-1", 200), TS_ENOTFOUND);
	assert_int_equal(ts_store_user_bind_device(st, "no-such-tenant", id, "phone-1", 200),
			 TS_ENOTFOUND);
	assert_int_equal(ts_store_user_bind_device(st, tid, id, "", 200), TS_EINVAL);
	assert_int_equal(ts_store_user_bind_device(st, tid, "", "phone-1", 200), TS_EINVAL);
	assert_int_equal(ts_store_user_bind_device(NULL, tid, id, "phone-1", 200), TS_EINVAL);
}

/* A login's rehash replaces only the hash it checked: a password an
 * administrator set meanwhile, and every other field, stay. */
static void test_user_rehash(void **state)
{
	struct ts_store *st = store_of(state);
	struct ts_user_rec u, *got = NULL;
	char name[NAME_CAP], tid[ID_CAP], id[ID_CAP];
	const char *old;

	new_tenant(st, "rehash", name, tid);
	assert_int_equal(ts_rand_uuid(id), TS_OK);
	u = user_rec(tid, id, "rehash@x");
	assert_int_equal(ts_store_user_put(st, &u), TS_OK);
	old = u.password_hash;
	u.disabled = true;
	assert_int_equal(ts_store_user_put(st, &u), TS_OK);
	assert_int_equal(ts_store_user_rehash(st, tid, id, old, "$argon2id$new", 500), TS_OK);
	assert_int_equal(ts_store_user_get(st, tid, id, &got), TS_OK);
	assert_string_equal(got->password_hash, "$argon2id$new");
	assert_true(got->disabled);
	assert_int_equal(got->updated_at, 500);
	ts_user_rec_free(got);
	/* The hash changed since it was read: nothing is written. */
	assert_int_equal(ts_store_user_rehash(st, tid, id, old, "$argon2id$stale", 600),
			 TS_ENOTFOUND);
	assert_int_equal(ts_store_user_get(st, tid, id, &got), TS_OK);
	assert_string_equal(got->password_hash, "$argon2id$new");
	ts_user_rec_free(got);
	assert_int_equal(ts_store_user_rehash(st, tid, id, "", "x", 600), TS_EINVAL);
	assert_int_equal(ts_store_user_rehash(NULL, tid, id, old, "x", 600), TS_EINVAL);
}

static void test_user_list_and_invalid(void **state)
{
	struct ts_store *st = store_of(state);
	struct ts_user_rec u = {0}, *got = (struct ts_user_rec *)1, **v = NULL;
	char name[NAME_CAP], tid[ID_CAP], id[ID_CAP];
	size_t n = 0, i;

	new_tenant(st, "ulist", name, tid);
	assert_int_equal(ts_store_user_list(st, tid, &v, &n), TS_OK);
	assert_int_equal(n, 0);
	assert_null(v);
	new_user(st, tid, "carol", id);
	new_user(st, tid, "Bob", id);
	new_user(st, tid, "alice", id);
	new_user(st, tid, "Dave", id);
	assert_int_equal(ts_store_user_list(st, tid, &v, &n), TS_OK);
	assert_int_equal(n, 4);
	for (i = 1; i < n; i++)
		assert_true(strcasecmp(v[i - 1]->username, v[i]->username) < 0);
	assert_string_equal(v[0]->username, "alice");
	assert_string_equal(v[3]->username, "Dave");
	ts_user_recs_free(v, n);

	/* Missing parents and bad arguments. */
	u = (struct ts_user_rec){.tenant_id = "no-such-tenant", .id = id, .username = "x",
				 .profile = "{}"};
	assert_int_equal(ts_store_user_put(st, &u), TS_ENOTFOUND);
	u.tenant_id = tid;
	u.username = "";
	assert_int_equal(ts_store_user_put(st, &u), TS_EINVAL);
	u.username = "x";
	u.profile = NULL;
	assert_int_equal(ts_store_user_put(st, &u), TS_EINVAL);
	u.profile = "{}";
	u.id = "";
	assert_int_equal(ts_store_user_put(st, &u), TS_EINVAL);
	assert_int_equal(ts_store_user_put(st, NULL), TS_EINVAL);
	assert_int_equal(ts_store_user_put(NULL, &u), TS_EINVAL);
	assert_int_equal(ts_store_user_get(st, tid, NULL, &got), TS_EINVAL);
	assert_null(got);
	assert_int_equal(ts_store_user_find(st, tid, "x", NULL), TS_EINVAL);
	assert_int_equal(ts_store_user_list(st, NULL, &v, &n), TS_EINVAL);
	assert_int_equal(ts_store_user_delete(st, tid, NULL), TS_EINVAL);
	assert_int_equal(ts_store_user_delete(st, tid, "no-such-user"), TS_ENOTFOUND);
	assert_int_equal(ts_store_tenant_delete(st, name), TS_OK);
}

/* Everything of one user; the codes and tokens come back in the hashes. */
struct owned {
	char gid[ID_CAP], grant[ID_CAP];
	char session[HASH_CAP], code[HASH_CAP], refresh[HASH_CAP], jti[HASH_CAP];
};

static void give_user_things(struct ts_store *st, const char *tid, const char *uid,
			     struct owned *o)
{
	struct ts_group_rec g = {0};
	struct ts_session_rec s = {0};
	struct ts_code_rec c = {0};
	struct ts_grant_rec gr = {0};
	struct ts_refresh_rec r = {0};

	assert_int_equal(ts_rand_uuid(o->gid), TS_OK);
	assert_int_equal(ts_rand_uuid(o->grant), TS_OK);
	rand_hash(o->session);
	rand_hash(o->code);
	rand_hash(o->refresh);
	rand_hash(o->jti);
	g = (struct ts_group_rec){.tenant_id = (char *)tid, .id = o->gid, .name = o->gid};
	assert_int_equal(ts_store_group_put(st, &g), TS_OK);
	assert_int_equal(ts_store_member_add(st, tid, o->gid, uid, "cli", 1), TS_OK);
	s = (struct ts_session_rec){.id_hash = o->session, .tenant_id = (char *)tid,
				    .user_id = (char *)uid, .expires_at = FAR_FUTURE};
	assert_int_equal(ts_store_session_put(st, &s), TS_OK);
	assert_int_equal(ts_store_consent_put(st, tid, uid, "app", "openid"), TS_OK);
	gr = (struct ts_grant_rec){.tenant_id = (char *)tid, .id = o->grant, .client_id = "app",
				   .user_id = (char *)uid, .scope = "openid"};
	assert_int_equal(ts_store_grant_put(st, &gr), TS_OK);
	assert_int_equal(ts_store_grant_token_add(st, tid, o->grant, o->jti, FAR_FUTURE), TS_OK);
	c = (struct ts_code_rec){.code_hash = o->code, .tenant_id = (char *)tid,
				 .client_id = "app", .user_id = (char *)uid,
				 .grant_id = o->grant, .scope = "openid",
				 .expires_at = FAR_FUTURE};
	assert_int_equal(ts_store_code_put(st, &c), TS_OK);
	r = (struct ts_refresh_rec){.token_hash = o->refresh, .tenant_id = (char *)tid,
				    .grant_id = o->grant, .client_id = "app",
				    .user_id = (char *)uid, .scope = "openid",
				    .expires_at = FAR_FUTURE};
	assert_int_equal(ts_store_refresh_put(st, &r), TS_OK);
}

static void test_user_delete_cascades(void **state)
{
	struct ts_store *st = store_of(state);
	char name[NAME_CAP], tid[ID_CAP], doomed[ID_CAP], kept[ID_CAP];
	struct owned a, b;
	struct ts_session_rec *s = NULL;
	struct ts_code_rec *c = NULL;
	struct ts_grant_rec *g = NULL;
	struct ts_refresh_rec *r = NULL;
	struct ts_user_rec *u = NULL, **v = NULL;
	struct ts_group_rec *grp = NULL;
	char *scope = NULL;
	bool yes = true;
	size_t n = 0;

	new_tenant(st, "udel", name, tid);
	new_user(st, tid, "doomed", doomed);
	new_user(st, tid, "kept", kept);
	give_user_things(st, tid, doomed, &a);
	give_user_things(st, tid, kept, &b);
	assert_int_equal(ts_store_member_add(st, tid, b.gid, doomed, "cli", 1), TS_OK);

	assert_int_equal(ts_store_user_delete(st, tid, doomed), TS_OK);
	assert_int_equal(ts_store_user_get(st, tid, doomed, &u), TS_ENOTFOUND);
	assert_int_equal(ts_store_user_find(st, tid, "doomed", &u), TS_ENOTFOUND);
	assert_null(u);
	assert_int_equal(ts_store_session_get(st, a.session, &s), TS_ENOTFOUND);
	assert_int_equal(ts_store_member_check(st, tid, a.gid, doomed, &yes), TS_OK);
	assert_false(yes);
	assert_int_equal(ts_store_member_list(st, tid, b.gid, &v, &n), TS_OK);
	assert_int_equal(n, 1);
	assert_string_equal(v[0]->id, kept);
	ts_user_recs_free(v, n);
	assert_int_equal(ts_store_consent_get(st, tid, doomed, "app", &scope), TS_ENOTFOUND);
	assert_int_equal(ts_store_code_take(st, a.code, &c), TS_ENOTFOUND);
	assert_int_equal(ts_store_grant_get(st, tid, a.grant, &g), TS_ENOTFOUND);
	assert_int_equal(ts_store_refresh_get(st, a.refresh, &r), TS_ENOTFOUND);
	/* The access tokens issued to them are denied, not forgotten. */
	yes = false;
	assert_int_equal(ts_store_revoke_check(st, tid, a.jti, &yes), TS_OK);
	assert_true(yes);
	/* The group itself stays. */
	assert_int_equal(ts_store_group_get(st, tid, a.gid, &grp), TS_OK);
	ts_group_rec_free(grp);

	/* The other user keeps everything. */
	assert_int_equal(ts_store_session_get(st, b.session, &s), TS_OK);
	ts_session_rec_free(s);
	assert_int_equal(ts_store_member_check(st, tid, b.gid, kept, &yes), TS_OK);
	assert_true(yes);
	assert_int_equal(ts_store_consent_get(st, tid, kept, "app", &scope), TS_OK);
	free(scope);
	assert_int_equal(ts_store_grant_get(st, tid, b.grant, &g), TS_OK);
	ts_grant_rec_free(g);
	assert_int_equal(ts_store_refresh_get(st, b.refresh, &r), TS_OK);
	ts_refresh_rec_free(r);
	assert_int_equal(ts_store_revoke_check(st, tid, b.jti, &yes), TS_OK);
	assert_false(yes);
	assert_int_equal(ts_store_code_take(st, b.code, &c), TS_OK);
	ts_code_rec_free(c);

	assert_int_equal(ts_store_user_delete(st, tid, doomed), TS_ENOTFOUND);
	assert_int_equal(ts_store_tenant_delete(st, name), TS_OK);
}

/* An API key of kind for user uid (device keys on device-1). */
static void give_key(struct ts_store *st, const char *tid, const char *uid, const char *key,
		     const char *kind)
{
	char secret[HASH_CAP];
	struct ts_apikey_rec k = {0};

	rand_hash(secret);
	k = (struct ts_apikey_rec){.key = (char *)key, .tenant_id = (char *)tid,
				   .user_id = (char *)uid, .secret_hash = secret,
				   .kind = (char *)kind,
				   .device_id = strcmp(kind, "device") == 0 ? "device-1" : NULL,
				   .created_at = 1};
	assert_int_equal(ts_store_apikey_put(st, &k), TS_OK);
}

static void assert_key(struct ts_store *st, const char *key, int want)
{
	struct ts_apikey_rec *k = NULL;

	assert_int_equal(ts_store_apikey_get(st, key, &k), want);
	ts_apikey_rec_free(k);
}

static void test_user_put_revoke(void **state)
{
	struct ts_store *st = store_of(state);
	char name[NAME_CAP], tid[ID_CAP], off[ID_CAP], kept[ID_CAP], keys[4][32];
	struct owned a, b;
	struct ts_user_rec u, *got = NULL;
	struct ts_session_rec *s = NULL;
	struct ts_code_rec *c = NULL;
	struct ts_grant_rec *g = NULL;
	struct ts_refresh_rec *r = NULL;
	char *scope = NULL;
	bool yes = false;
	int i;

	new_tenant(st, "urev", name, tid);
	new_user(st, tid, "off", off);
	new_user(st, tid, "kept", kept);
	give_user_things(st, tid, off, &a);
	give_user_things(st, tid, kept, &b);
	for (i = 0; i < 4; i++) {
		char h[HASH_CAP];
		rand_hash(h);
		snprintf(keys[i], sizeof(keys[i]), "tk_%.16s", h);
		give_key(st, tid, i < 2 ? off : kept, keys[i], i % 2 ? "device" : "user");
	}

	/* Turning mobile_access off: the device key only. */
	u = user_rec(tid, off, "off");
	assert_int_equal(ts_store_user_put_revoke(st, &u, TS_USER_REVOKE_DEVICE_KEY), TS_OK);
	assert_key(st, keys[1], TS_ENOTFOUND);
	assert_key(st, keys[0], TS_OK);
	assert_int_equal(ts_store_session_get(st, a.session, &s), TS_OK);
	ts_session_rec_free(s);

	/* Disabling: the write and every credential, in one transaction. */
	give_key(st, tid, off, keys[1], "device");
	u.disabled = true;
	u.updated_at = 200;
	assert_int_equal(ts_store_user_put_revoke(st, &u, TS_USER_REVOKE_ALL), TS_OK);
	assert_int_equal(ts_store_user_get(st, tid, off, &got), TS_OK);
	assert_true(got->disabled);
	assert_int_equal(got->updated_at, 200);
	ts_user_rec_free(got);
	assert_key(st, keys[0], TS_ENOTFOUND);
	assert_key(st, keys[1], TS_ENOTFOUND);
	assert_int_equal(ts_store_session_get(st, a.session, &s), TS_ENOTFOUND);
	assert_int_equal(ts_store_code_take(st, a.code, &c), TS_ECONFLICT);
	ts_code_rec_free(c);
	c = NULL;
	assert_int_equal(ts_store_grant_get(st, tid, a.grant, &g), TS_OK);
	assert_true(g->revoked);
	ts_grant_rec_free(g);
	assert_int_equal(ts_store_refresh_get(st, a.refresh, &r), TS_OK);
	assert_true(r->revoked);
	ts_refresh_rec_free(r);
	assert_int_equal(ts_store_revoke_check(st, tid, a.jti, &yes), TS_OK);
	assert_true(yes);
	/* The account keeps its memberships and consents. */
	assert_int_equal(ts_store_member_check(st, tid, a.gid, off, &yes), TS_OK);
	assert_true(yes);
	assert_int_equal(ts_store_consent_get(st, tid, off, "app", &scope), TS_OK);
	free(scope);

	/* Enabling again brings nothing back. */
	u.disabled = false;
	assert_int_equal(ts_store_user_put(st, &u), TS_OK);
	assert_key(st, keys[0], TS_ENOTFOUND);
	assert_int_equal(ts_store_refresh_get(st, a.refresh, &r), TS_OK);
	assert_true(r->revoked);
	ts_refresh_rec_free(r);

	/* The other user keeps everything. */
	assert_key(st, keys[2], TS_OK);
	assert_key(st, keys[3], TS_OK);
	assert_int_equal(ts_store_session_get(st, b.session, &s), TS_OK);
	ts_session_rec_free(s);
	assert_int_equal(ts_store_grant_get(st, tid, b.grant, &g), TS_OK);
	assert_false(g->revoked);
	ts_grant_rec_free(g);
	assert_int_equal(ts_store_refresh_get(st, b.refresh, &r), TS_OK);
	assert_false(r->revoked);
	ts_refresh_rec_free(r);
	assert_int_equal(ts_store_revoke_check(st, tid, b.jti, &yes), TS_OK);
	assert_false(yes);
	assert_int_equal(ts_store_code_take(st, b.code, &c), TS_OK);
	ts_code_rec_free(c);

	/* Argument checks; a taken username is TS_EEXIST and revokes nothing. */
	assert_int_equal(ts_store_user_put_revoke(st, &u, 0), TS_EINVAL);
	assert_int_equal(ts_store_user_put_revoke(st, &u, 4), TS_EINVAL);
	assert_int_equal(ts_store_user_put_revoke(NULL, &u, TS_USER_REVOKE_ALL), TS_EINVAL);
	assert_int_equal(ts_store_user_put_revoke(st, NULL, TS_USER_REVOKE_ALL), TS_EINVAL);
	u = user_rec(tid, kept, "OFF");
	u.disabled = true;
	assert_int_equal(ts_store_user_put_revoke(st, &u, TS_USER_REVOKE_ALL), TS_EEXIST);
	assert_key(st, keys[2], TS_OK);
	assert_int_equal(ts_store_session_get(st, b.session, &s), TS_OK);
	ts_session_rec_free(s);
	assert_int_equal(ts_store_tenant_delete(st, name), TS_OK);
}

static void test_groups(void **state)
{
	struct ts_store *st = store_of(state);
	struct ts_group_rec g = {0}, *got = NULL, **v = NULL;
	char name[NAME_CAP], tid[ID_CAP], g1[ID_CAP], g2[ID_CAP], g3[ID_CAP];
	size_t n = 0;

	new_tenant(st, "groups", name, tid);
	assert_int_equal(ts_rand_uuid(g1), TS_OK);
	assert_int_equal(ts_rand_uuid(g2), TS_OK);
	assert_int_equal(ts_rand_uuid(g3), TS_OK);
	g = (struct ts_group_rec){.tenant_id = tid, .id = g1, .name = "staff", .created_at = 7,
				  .org_id = "org-42"};
	assert_int_equal(ts_store_group_put(st, &g), TS_OK);
	g.org_id = NULL;
	g.id = g2;
	g.name = "admins";
	assert_int_equal(ts_store_group_put(st, &g), TS_OK);
	g.id = g3;
	g.name = "staff"; /* names are unique within the tenant */
	assert_int_equal(ts_store_group_put(st, &g), TS_EEXIST);

	assert_int_equal(ts_store_group_get(st, tid, g1, &got), TS_OK);
	assert_string_equal(got->tenant_id, tid);
	assert_string_equal(got->id, g1);
	assert_string_equal(got->name, "staff");
	assert_int_equal(got->created_at, 7);
	assert_string_equal(got->org_id, "org-42");
	ts_group_rec_free(got);
	assert_int_equal(ts_store_group_find(st, tid, "admins", &got), TS_OK);
	assert_string_equal(got->id, g2);
	assert_null(got->org_id);
	ts_group_rec_free(got);
	got = NULL;
	assert_int_equal(ts_store_group_find(st, tid, "nobody", &got), TS_ENOTFOUND);
	assert_null(got);
	assert_int_equal(ts_store_group_get(st, tid, g3, &got), TS_ENOTFOUND);

	assert_int_equal(ts_store_group_list(st, tid, &v, &n), TS_OK);
	assert_int_equal(n, 2);
	assert_string_equal(v[0]->name, "admins");
	assert_string_equal(v[1]->name, "staff");
	assert_string_equal(v[1]->org_id, "org-42");
	ts_group_recs_free(v, n);

	/* Rename by id keeps created_at; the organization is what is given. */
	g = (struct ts_group_rec){.tenant_id = tid, .id = g1, .name = "zstaff", .created_at = 99,
				  .org_id = "org-43"};
	assert_int_equal(ts_store_group_put(st, &g), TS_OK);
	assert_int_equal(ts_store_group_find(st, tid, "zstaff", &got), TS_OK);
	assert_string_equal(got->id, g1);
	assert_int_equal(got->created_at, 7);
	assert_string_equal(got->org_id, "org-43");
	ts_group_rec_free(got);
	g.org_id = "";
	assert_int_equal(ts_store_group_put(st, &g), TS_EINVAL);
	g.org_id = NULL;

	g.tenant_id = "no-such-tenant";
	assert_int_equal(ts_store_group_put(st, &g), TS_ENOTFOUND);
	g.tenant_id = tid;
	g.name = "";
	assert_int_equal(ts_store_group_put(st, &g), TS_EINVAL);
	assert_int_equal(ts_store_group_list(st, NULL, &v, &n), TS_EINVAL);

	assert_int_equal(ts_store_group_delete(st, tid, g2), TS_OK);
	assert_int_equal(ts_store_group_delete(st, tid, g2), TS_ENOTFOUND);
	assert_int_equal(ts_store_group_get(st, tid, g2, &got), TS_ENOTFOUND);
	assert_int_equal(ts_store_tenant_delete(st, name), TS_OK);
}

static void test_membership(void **state)
{
	struct ts_store *st = store_of(state);
	struct ts_group_rec g = {0};
	struct ts_user_rec **v = NULL;
	struct ts_member_rec **mv = NULL;
	char name[NAME_CAP], tid[ID_CAP], gid[ID_CAP], other[ID_CAP];
	char zed[ID_CAP], amy[ID_CAP], bo[ID_CAP];
	bool yes = true;
	size_t n = 0;

	new_tenant(st, "members", name, tid);
	assert_int_equal(ts_rand_uuid(gid), TS_OK);
	assert_int_equal(ts_rand_uuid(other), TS_OK);
	g = (struct ts_group_rec){.tenant_id = tid, .id = gid, .name = "team"};
	assert_int_equal(ts_store_group_put(st, &g), TS_OK);
	g = (struct ts_group_rec){.tenant_id = tid, .id = other, .name = "other"};
	assert_int_equal(ts_store_group_put(st, &g), TS_OK);
	new_user(st, tid, "zed", zed);
	new_user(st, tid, "Amy", amy);
	new_user(st, tid, "bo", bo);

	assert_int_equal(ts_store_member_check(st, tid, gid, zed, &yes), TS_OK);
	assert_false(yes);
	assert_int_equal(ts_store_member_add(st, tid, gid, zed, "alice", 100), TS_OK);
	/* idempotent: the first addition's time and author stay */
	assert_int_equal(ts_store_member_add(st, tid, gid, zed, "svc", 200), TS_OK);
	assert_int_equal(ts_store_member_add(st, tid, gid, amy, "bootstrap", 300), TS_OK);
	assert_int_equal(ts_store_member_add(st, tid, gid, bo, "cli", 1), TS_OK);
	assert_int_equal(ts_store_member_add(st, tid, other, bo, "cli", 1), TS_OK);
	assert_int_equal(ts_store_member_check(st, tid, gid, zed, &yes), TS_OK);
	assert_true(yes);
	assert_int_equal(ts_store_member_check(st, tid, other, zed, &yes), TS_OK);
	assert_false(yes);

	/* Ordered by username, case folded; each member once. */
	assert_int_equal(ts_store_member_list(st, tid, gid, &v, &n), TS_OK);
	assert_int_equal(n, 3);
	assert_string_equal(v[0]->username, "Amy");
	assert_string_equal(v[1]->username, "bo");
	assert_string_equal(v[2]->username, "zed");
	assert_string_equal(v[0]->profile, "{}");
	ts_user_recs_free(v, n);

	/* The same members with when and by whom each was added. */
	assert_int_equal(ts_store_member_records(st, tid, gid, &mv, &n), TS_OK);
	assert_int_equal(n, 3);
	assert_string_equal(mv[0]->user->username, "Amy");
	assert_string_equal(mv[0]->user->id, amy);
	assert_int_equal(mv[0]->added_at, 300);
	assert_string_equal(mv[0]->added_by, "bootstrap");
	assert_string_equal(mv[2]->user->username, "zed");
	assert_int_equal(mv[2]->added_at, 100);
	assert_string_equal(mv[2]->added_by, "alice");
	ts_member_recs_free(mv, n);
	assert_int_equal(ts_store_member_add(st, tid, gid, zed, "", 5), TS_EINVAL);
	assert_int_equal(ts_store_member_add(st, tid, gid, zed, NULL, 5), TS_EINVAL);
	assert_int_equal(ts_store_member_add(st, tid, gid, zed, "cli", 0), TS_EINVAL);

	assert_int_equal(ts_store_member_remove(st, tid, gid, bo), TS_OK);
	assert_int_equal(ts_store_member_remove(st, tid, gid, bo), TS_ENOTFOUND);
	assert_int_equal(ts_store_member_check(st, tid, gid, bo, &yes), TS_OK);
	assert_false(yes);
	assert_int_equal(ts_store_member_check(st, tid, other, bo, &yes), TS_OK);
	assert_true(yes);

	/* Missing group or user; bad arguments fail closed. */
	assert_int_equal(ts_store_member_add(st, tid, "no-such-group", zed, "cli", 1), TS_ENOTFOUND);
	assert_int_equal(ts_store_member_add(st, tid, gid, "no-such-user", "cli", 1), TS_ENOTFOUND);
	assert_int_equal(ts_store_member_list(st, tid, "no-such-group", &v, &n), TS_OK);
	assert_int_equal(n, 0);
	assert_null(v);
	assert_int_equal(ts_store_member_records(st, tid, "no-such-group", &mv, &n), TS_OK);
	assert_int_equal(n, 0);
	assert_null(mv);
	assert_int_equal(ts_store_member_records(st, NULL, gid, &mv, &n), TS_EINVAL);
	yes = true;
	assert_int_equal(ts_store_member_check(st, tid, gid, NULL, &yes), TS_EINVAL);
	assert_false(yes);

	/* Deleting the group ends its memberships, not its members. */
	assert_int_equal(ts_store_group_delete(st, tid, gid), TS_OK);
	assert_int_equal(ts_store_member_check(st, tid, gid, zed, &yes), TS_OK);
	assert_false(yes);
	assert_int_equal(ts_store_member_list(st, tid, gid, &v, &n), TS_OK);
	assert_int_equal(n, 0);
	assert_int_equal(ts_store_user_list(st, tid, &v, &n), TS_OK);
	assert_int_equal(n, 3);
	ts_user_recs_free(v, n);
	assert_int_equal(ts_store_tenant_delete(st, name), TS_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user_crud),
		cmocka_unit_test(test_user_update),
		cmocka_unit_test(test_user_bind_device),
		cmocka_unit_test(test_user_rehash),
		cmocka_unit_test(test_user_list_and_invalid),
		cmocka_unit_test(test_user_delete_cascades),
		cmocka_unit_test(test_user_put_revoke),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_membership),
	};

	return cmocka_run_group_tests_name("store_people", tests, group_setup, group_teardown) !=
	       0;
}
