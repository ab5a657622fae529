/* store_apikeys.c: the ts_store_* wrappers for API keys and their record
 * destructors, with the argument checks every backend would repeat. */
#include "store.h"

#include <stdlib.h>
#include <string.h>

static bool nonempty(const char *s)
{
	return s != NULL && s[0] != '\0';
}

int ts_store_apikey_put(struct ts_store *st, const struct ts_apikey_rec *r)
{
	if (st == NULL || r == NULL || !nonempty(r->key) || !nonempty(r->tenant_id) ||
	    !nonempty(r->user_id) || !nonempty(r->secret_hash) || r->kind == NULL ||
	    (strcmp(r->kind, "user") != 0 && strcmp(r->kind, "device") != 0))
		return TS_EINVAL;
	return st->ops->apikey_put(st, r);
}

int ts_store_apikey_get(struct ts_store *st, const char *key, struct ts_apikey_rec **out)
{
	if (out == NULL)
		return TS_EINVAL;
	*out = NULL;
	if (st == NULL || !nonempty(key))
		return TS_EINVAL;
	return st->ops->apikey_get(st, key, out);
}

int ts_store_apikey_find_device(struct ts_store *st, const char *tenant_id, const char *user_id,
				struct ts_apikey_rec **out)
{
	if (out == NULL)
		return TS_EINVAL;
	*out = NULL;
	if (st == NULL || tenant_id == NULL || user_id == NULL)
		return TS_EINVAL;
	return st->ops->apikey_find_device(st, tenant_id, user_id, out);
}

int ts_store_apikey_list(struct ts_store *st, const char *tenant_id, const char *user_id,
			 struct ts_apikey_rec ***out, size_t *n)
{
	if (out == NULL || n == NULL)
		return TS_EINVAL;
	*out = NULL;
	*n = 0;
	if (st == NULL || tenant_id == NULL || user_id == NULL)
		return TS_EINVAL;
	return st->ops->apikey_list(st, tenant_id, user_id, out, n);
}

int ts_store_apikey_delete(struct ts_store *st, const char *tenant_id, const char *key)
{
	if (st == NULL || tenant_id == NULL || !nonempty(key))
		return TS_EINVAL;
	return st->ops->apikey_delete(st, tenant_id, key);
}

int ts_store_apikey_delete_user(struct ts_store *st, const char *tenant_id, const char *user_id)
{
	if (st == NULL || tenant_id == NULL || user_id == NULL)
		return TS_EINVAL;
	return st->ops->apikey_delete_user(st, tenant_id, user_id);
}

void ts_apikey_rec_free(struct ts_apikey_rec *r)
{
	if (r == NULL)
		return;
	free(r->key);
	free(r->tenant_id);
	free(r->user_id);
	free(r->secret_hash);
	free(r->kind);
	free(r->device_id);
	free(r);
}

void ts_apikey_recs_free(struct ts_apikey_rec **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		ts_apikey_rec_free(v[i]);
	free(v);
}
