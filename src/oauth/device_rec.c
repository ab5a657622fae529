/* device_rec.c: the stored records of the device authorization grant
 * (RFC 8628): the device record, written only by the user's decision, and
 * its polling pace, written only by polls. */
#include "oauth.h"
#include "internal.h"

#include "store/store_state.h"
#include "store/store_tokens.h"

#include <stdlib.h>
#include <string.h>

/* The device record and, in *text (owned by the caller, may be NULL),
 * the stored text it was read from, for a compare and swap. */
int ts_device_load(struct ts_rctx *rc, const char *hash, json_t **data, char **text, int64_t *exp)
{
	char *tenant = NULL, *kind = NULL, *t = NULL;
	int r = ts_store_pending_get(rc->app->store, hash, &tenant, &kind, &t, exp);

	*data = NULL;
	if (r == TS_OK) {
		if (strcmp(tenant, rc->tenant->id) != 0 || strcmp(kind, TS_DEVICE_KIND) != 0 ||
		    *exp <= ts_now() || (*data = json_loads(t, 0, NULL)) == NULL)
			r = TS_ENOTFOUND;
	}
	free(tenant);
	free(kind);
	if (r == TS_OK && text) {
		*text = t;
		t = NULL;
	}
	free(t);
	return r;
}

/* Writes data over the record only if it still holds old (the text load
 * returned): TS_ENOTFOUND if someone changed it meanwhile. */
static int swap(struct ts_rctx *rc, const char *hash, const char *old, json_t *data)
{
	char *text = json_dumps(data, JSON_COMPACT);
	int r = text ? ts_store_pending_update(rc->app->store, hash, old, text) : TS_ENOMEM;

	free(text);
	return r;
}

bool ts_device_pending(const json_t *d)
{
	return ts_str_eq(ts_str_c(json_string_value(json_object_get(d, "status"))), "pending");
}

/* The polling pace of a device code (interval, last poll) is a record of
 * its own, under a key derived from the device code's: polls write only
 * it, so they never touch the record a decision is written to. */
const char *ts_device_pace_key(struct ts_arena *a, const char *h)
{
	char k[2 * TS_SHA256_LEN + 1];
	const char *s = ts_arena_printf(a, "device-pace:%s", h);

	ts_sha256_hex(s, strlen(s), k);
	return ts_arena_strdup(a, k);
}

int ts_device_pace_put(struct ts_rctx *rc, const char *key, int64_t interval, int64_t last,
		    const char *old, int64_t exp)
{
	json_t *p = json_pack("{s:I,s:I}", "interval", (json_int_t)interval, "last_poll",
			      (json_int_t)last);
	char *text = json_dumps(p, JSON_COMPACT);
	int r;

	json_decref(p);
	if (text == NULL)
		return TS_ENOMEM;
	r = old ? ts_store_pending_update(rc->app->store, key, old, text)
		: ts_store_pending_put(rc->app->store, rc->tenant->id, key, TS_DEVICE_KIND_PACE, text, exp);
	free(text);
	return r;
}

/* The grant an approval is recorded under, gid, made when the user
 * approves: whatever revokes the user's grants before the device polls
 * (the user disabled, say) also revokes this one, and the poll finds it
 * so. Its id goes into d. Storing it again under the same id (a retried
 * decision) changes nothing. */
static int approval_grant(struct ts_rctx *rc, json_t *d, const char *gid, const char *user_id,
			  int64_t auth_time)
{
	struct ts_grant_rec g;
	int r;

	memset(&g, 0, sizeof(g));
	g.tenant_id = rc->tenant->id;
	g.id = (char *)gid;
	g.client_id = (char *)json_string_value(json_object_get(d, "client_id"));
	g.user_id = (char *)user_id;
	g.scope = (char *)json_string_value(json_object_get(d, "scope"));
	g.auth_time = auth_time;
	g.created_at = ts_now();
	if (g.client_id == NULL || g.scope == NULL)
		return TS_ENOTFOUND;
	r = ts_store_grant_put(rc->app->store, &g);
	if (r == TS_OK)
		json_object_set_new(d, "grant_id", json_string(gid));
	return r == TS_OK || r == TS_ENOTFOUND ? r : TS_ESTORE;
}

int ts_device_decide(struct ts_rctx *rc, const char *device_hash, const char *user_id,
		     int64_t auth_time, bool approve)
{
	json_t *d = NULL;
	char *old = NULL, gid[37];
	int64_t exp;
	int tries, r = TS_ENOTFOUND;

	if (approve && ts_rand_uuid(gid) != TS_OK)
		return TS_ESTORE;
	/* Only decisions write this record (polls write their pace record),
	 * and only while it is pending: of two decisions one wins. */
	for (tries = 0; tries < TS_DEVICE_CAS_TRIES; tries++) {
		r = ts_device_load(rc, device_hash, &d, &old, &exp);
		if (r != TS_OK)
			break;
		if (!ts_device_pending(d)) {
			r = TS_ECONFLICT;
			break;
		}
		json_object_set_new(d, "status", json_string(approve ? "approved" : "denied"));
		if (approve) {
			json_object_set_new(d, "user_id", json_string(user_id));
			json_object_set_new(d, "auth_time", json_integer(auth_time));
			r = approval_grant(rc, d, gid, user_id, auth_time);
			if (r != TS_OK)
				break;
		}
		r = swap(rc, device_hash, old, d);
		json_decref(d);
		d = NULL;
		free(old);
		old = NULL;
		if (r != TS_ENOTFOUND)
			break;
		r = TS_ESTORE; /* only if every try lost */
	}
	json_decref(d);
	free(old);
	return r;
}
