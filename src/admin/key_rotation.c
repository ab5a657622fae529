/* key_rotation.c: automatic signing-key rotation. A tenant's key_rotation
 * says how long a key signs; when that has passed since its current key
 * was promoted, and its next key has been in JWKS long enough for every
 * verifier's cache to hold it, the next key is promoted (keys.c) and a new
 * one published. Any server may do it: one query finds the tenants that
 * are due, and a storage lease per tenant lets one server rotate it. */
#include "admin.h"

#include "store/store_config.h"
#include "store/store_state.h"

#include <string.h>
#include <time.h>

#define DUE_BATCH 100
#define LEASE_NAME "key-rotation"
#define LEASE_S 120 /* far longer than a rotation takes, even with RSA keys */
#define ALGS_MAX 8  /* more than the algorithms there are */
#define LEASE_POLL_MS 50
#define NS_PER_MS 1000000L

int ts_admin_keys_lease(struct ts_admin *a, const char *tenant_id, const char *owner,
			int64_t wait_ms)
{
	const struct timespec poll = {0, LEASE_POLL_MS * NS_PER_MS};
	int64_t waited = 0;
	int rc;

	for (;;) {
		/* The lease runs on the database's clock. */
		rc = ts_store_lease_take(a->store, tenant_id, LEASE_NAME, owner, LEASE_S);
		if (rc != TS_ECONFLICT || waited >= wait_ms)
			return rc;
		nanosleep(&poll, NULL);
		waited += LEASE_POLL_MS;
	}
}

void ts_admin_keys_release(struct ts_admin *a, const char *tenant_id, const char *owner)
{
	if (ts_store_lease_release(a->store, tenant_id, LEASE_NAME, owner) != TS_OK)
		ts_log_warn("could not release the key-rotation lease of tenant %s", tenant_id);
}

int64_t ts_admin_key_rotation(const json_t *tenant_cfg)
{
	const json_t *v = json_object_get(tenant_cfg, "key_rotation");

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : TS_KEY_ROTATION_DEFAULT_S;
}

/* The key of alg in state among keys, the latest created, or NULL. */
static struct ts_key_rec *key_in(struct ts_key_rec *const *keys, size_t n, const char *alg,
				 const char *state)
{
	struct ts_key_rec *k = NULL;
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(keys[i]->alg, alg) == 0 && strcmp(keys[i]->state, state) == 0)
			k = keys[i]; /* listed by created_at: the latest wins */
	return k;
}

/* When alg's rotation may happen: its current key's promotion plus
 * key_rotation, and not before its next key has been published for
 * TS_KEY_PUBLISH_LEAD_S. 0 when it never rotates on its own. */
static int64_t rotation_at(int64_t rotation, const struct ts_key_rec *cur,
			   const struct ts_key_rec *next)
{
	int64_t at;

	if (rotation <= 0 || cur == NULL)
		return 0;
	at = cur->activated_at + rotation;
	if (next && next->created_at + TS_KEY_PUBLISH_LEAD_S > at)
		at = next->created_at + TS_KEY_PUBLISH_LEAD_S;
	return at;
}

/* Whether alg is among the n of due: an algorithm rotates once, however
 * many current keys an interrupted rotation left it. */
static bool alg_listed(const enum ts_jws_alg *due, size_t n, const char *alg)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (due[i] == ts_jws_alg_parse(alg))
			return true;
	return false;
}

/* Under the tenant's lease: reads its configuration and keys again (another
 * server may have rotated since the due list was read) and rotates each
 * algorithm that is due. */
static int rotate_tenant(struct ts_admin *a, const char *name, int64_t now,
			 ts_admin_rotated_fn rotated, void *arg)
{
	struct ts_tenant_rec *t = NULL;
	struct ts_key_rec **keys = NULL;
	enum ts_jws_alg due[ALGS_MAX];
	json_t *cfg = NULL;
	size_t nkeys = 0, ndue = 0, i;
	int64_t rotation;
	int rc;

	rc = ts_store_tenant_get(a->store, name, &t);
	if (rc == TS_OK)
		rc = ts_store_key_list(a->store, t->id, &keys, &nkeys);
	if (rc != TS_OK)
		goto out;
	cfg = json_loads(t->config, 0, NULL);
	rotation = ts_admin_key_rotation(cfg);
	for (i = 0; i < nkeys && ndue < ALGS_MAX; i++) {
		const struct ts_key_rec *k = keys[i], *next;
		int64_t at;
		if (strcmp(k->state, "current") != 0)
			continue;
		/* Publish before sign: without a next key, none is promoted. */
		next = key_in(keys, nkeys, k->alg, "next");
		at = rotation_at(rotation, k, next);
		if (next == NULL || at == 0 || at > now || alg_listed(due, ndue, k->alg))
			continue;
		due[ndue++] = ts_jws_alg_parse(k->alg);
	}
	for (i = 0; rc == TS_OK && i < ndue; i++) {
		if (due[i] == TS_ALG_NONE)
			continue;
		rc = ts_admin_keys_promote(a, t, keys, nkeys, due[i], now);
		if (rc != TS_OK)
			break;
		ts_log_info("tenant %s: %s signing key rotated (key_rotation %lld s)", t->name,
			    ts_jws_alg_name(due[i]), (long long)rotation);
		if (rotated)
			rotated(arg, t->name, due[i], TS_OK);
	}
out:
	json_decref(cfg);
	ts_key_recs_free(keys, nkeys);
	ts_tenant_rec_free(t);
	return rc;
}

int ts_admin_keys_rotate_due(struct ts_admin *a, int64_t now, const char *owner,
			     ts_admin_rotated_fn rotated, ts_admin_stopping_fn stopping,
			     ts_admin_waiting_fn waiting, void *arg)
{
	struct ts_tenant_rec **due = NULL;
	size_t n = 0, i;
	int64_t began = ts_now();
	int rc;

	rc = ts_store_key_rotation_due(a->store, now, now - TS_KEY_PUBLISH_LEAD_S,
				       TS_KEY_ROTATION_DEFAULT_S, DUE_BATCH, &due, &n);
	if (rc != TS_OK)
		return rc;
	for (i = 0; i < n && !(stopping && stopping(arg)); i++) {
		int r;
		if (waiting && waiting(arg, due[i]->name))
			continue;
		r = ts_admin_keys_lease(a, due[i]->id, owner, 0);
		if (r == TS_ECONFLICT)
			continue; /* another server (or a rotation by hand) is on it */
		if (r == TS_OK) {
			/* The schedule's clock, moved on as the batch goes. */
			r = rotate_tenant(a, due[i]->name, now + (ts_now() - began), rotated, arg);
			ts_admin_keys_release(a, due[i]->id, owner);
		}
		if (r != TS_OK && r != TS_ENOTFOUND) {
			ts_log_warn("tenant %s: automatic key rotation failed (%s)", due[i]->name,
				    ts_rc_str(r));
			if (rotated)
				rotated(arg, due[i]->name, TS_ALG_NONE, r);
		}
	}
	ts_tenant_recs_free(due, n);
	return TS_OK;
}

json_t *ts_admin_key_schedule(const struct ts_tenant_rec *t, struct ts_key_rec *const *keys,
			      size_t nkeys)
{
	json_t *cfg = json_loads(t->config, 0, NULL), *sched = json_array();
	int64_t rotation = ts_admin_key_rotation(cfg);
	size_t i;

	for (i = 0; i < nkeys; i++) {
		const struct ts_key_rec *k = keys[i], *next;
		int64_t at;
		if (strcmp(k->state, "current") != 0)
			continue;
		next = key_in(keys, nkeys, k->alg, "next");
		at = rotation_at(rotation, k, next);
		json_array_append_new(sched, json_pack(
			"{s:s,s:s,s:I,s:s?,s:o,s:o}", "alg", k->alg, "current", k->kid,
			"promoted_at", (json_int_t)k->activated_at, "next", next ? next->kid : NULL,
			"next_published_at", next ? json_integer(next->created_at) : json_null(),
			"next_rotation_at", at ? json_integer(at) : json_null()));
	}
	json_decref(cfg);
	return json_pack("{s:I,s:o}", "key_rotation", (json_int_t)rotation, "schedule", sched);
}
