/* store_vault.c: the ts_store_* wrappers for the token vault's providers
 * and connections and their record destructors, with the argument checks
 * every backend would repeat. */
#include "store.h"

#include <stdlib.h>
#include <string.h>

#define DUE_LIMIT_MAX 1000

static bool nonempty(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static bool kind_ok(const char *k)
{
	return k != NULL && (strcmp(k, "oauth2") == 0 || strcmp(k, "shopee") == 0);
}

static bool status_ok(const char *s)
{
	return s != NULL && (strcmp(s, "pending") == 0 || strcmp(s, "active") == 0 ||
			     strcmp(s, "needs_reauth") == 0);
}

int ts_store_provider_put(struct ts_store *st, const struct ts_provider_rec *r)
{
	if (st == NULL || r == NULL || !nonempty(r->tenant_id) || !nonempty(r->name) ||
	    !kind_ok(r->kind) || !nonempty(r->config))
		return TS_EINVAL;
	return st->ops->provider_put(st, r);
}

int ts_store_provider_get(struct ts_store *st, const char *tenant_id, const char *name,
			  struct ts_provider_rec **out)
{
	if (out == NULL)
		return TS_EINVAL;
	*out = NULL;
	if (st == NULL || !nonempty(tenant_id) || !nonempty(name))
		return TS_EINVAL;
	return st->ops->provider_get(st, tenant_id, name, out);
}

int ts_store_provider_list(struct ts_store *st, const char *tenant_id,
			   struct ts_provider_rec ***out, size_t *n)
{
	if (out == NULL || n == NULL)
		return TS_EINVAL;
	*out = NULL;
	*n = 0;
	if (st == NULL)
		return TS_EINVAL;
	return st->ops->provider_list(st, tenant_id, out, n);
}

int ts_store_provider_delete(struct ts_store *st, const char *tenant_id, const char *name)
{
	if (st == NULL || !nonempty(tenant_id) || !nonempty(name))
		return TS_EINVAL;
	return st->ops->provider_delete(st, tenant_id, name);
}

int ts_store_provider_reseal(struct ts_store *st, const char *tenant_id, const char *name,
			     const char *old_sealed, const char *new_sealed)
{
	if (st == NULL || !nonempty(tenant_id) || !nonempty(name) || !nonempty(old_sealed) ||
	    !nonempty(new_sealed))
		return TS_EINVAL;
	return st->ops->provider_reseal(st, tenant_id, name, old_sealed, new_sealed);
}

int ts_store_connection_insert(struct ts_store *st, const struct ts_connection_rec *r)
{
	if (st == NULL || r == NULL || !nonempty(r->id) || !nonempty(r->tenant_id) ||
	    !nonempty(r->provider) || !nonempty(r->name) || !status_ok(r->status) ||
	    !nonempty(r->metadata))
		return TS_EINVAL;
	return st->ops->connection_insert(st, r);
}

int ts_store_connection_get(struct ts_store *st, const char *tenant_id, const char *id,
			    struct ts_connection_rec **out)
{
	if (out == NULL)
		return TS_EINVAL;
	*out = NULL;
	if (st == NULL || !nonempty(tenant_id) || !nonempty(id))
		return TS_EINVAL;
	return st->ops->connection_get(st, tenant_id, id, out);
}

int ts_store_connection_find(struct ts_store *st, const char *tenant_id, const char *owner,
			     const char *name, struct ts_connection_rec **out)
{
	if (out == NULL)
		return TS_EINVAL;
	*out = NULL;
	if (st == NULL || !nonempty(tenant_id) || !nonempty(name))
		return TS_EINVAL;
	return st->ops->connection_find(st, tenant_id, owner, name, out);
}

int ts_store_connection_list(struct ts_store *st, const char *tenant_id,
			     struct ts_connection_rec ***out, size_t *n)
{
	if (out == NULL || n == NULL)
		return TS_EINVAL;
	*out = NULL;
	*n = 0;
	if (st == NULL)
		return TS_EINVAL;
	return st->ops->connection_list(st, tenant_id, out, n);
}

int ts_store_connection_due(struct ts_store *st, int64_t now, size_t limit,
			    struct ts_connection_rec ***out, size_t *n)
{
	if (out == NULL || n == NULL)
		return TS_EINVAL;
	*out = NULL;
	*n = 0;
	if (st == NULL || limit == 0 || limit > DUE_LIMIT_MAX)
		return TS_EINVAL;
	return st->ops->connection_due(st, now, limit, out, n);
}

int ts_store_connection_lease(struct ts_store *st, const char *tenant_id, const char *id,
			      const char *owner, int64_t until, int64_t now)
{
	if (st == NULL || !nonempty(tenant_id) || !nonempty(id) || !nonempty(owner) || until <= now)
		return TS_EINVAL;
	return st->ops->connection_lease(st, tenant_id, id, owner, until, now);
}

int ts_store_connection_save(struct ts_store *st, const struct ts_connection_rec *r,
			     const char *lease_owner)
{
	if (st == NULL || r == NULL || !nonempty(r->tenant_id) || !nonempty(r->id) ||
	    !status_ok(r->status) || !nonempty(r->metadata) || !nonempty(lease_owner))
		return TS_EINVAL;
	return st->ops->connection_save(st, r, lease_owner);
}

int ts_store_connection_release(struct ts_store *st, const char *tenant_id, const char *id,
				const char *lease_owner)
{
	if (st == NULL || !nonempty(tenant_id) || !nonempty(id) || !nonempty(lease_owner))
		return TS_EINVAL;
	return st->ops->connection_release(st, tenant_id, id, lease_owner);
}

int ts_store_connection_delete(struct ts_store *st, const char *tenant_id, const char *id)
{
	if (st == NULL || !nonempty(tenant_id) || !nonempty(id))
		return TS_EINVAL;
	return st->ops->connection_delete(st, tenant_id, id);
}

int ts_store_key_reseal(struct ts_store *st, const char *tenant_id, const char *kid,
			const char *old_sealed, const char *new_sealed)
{
	if (st == NULL || !nonempty(tenant_id) || !nonempty(kid) || !nonempty(old_sealed) ||
	    !nonempty(new_sealed))
		return TS_EINVAL;
	return st->ops->key_reseal(st, tenant_id, kid, old_sealed, new_sealed);
}

void ts_provider_rec_free(struct ts_provider_rec *r)
{
	if (r == NULL)
		return;
	free(r->tenant_id);
	free(r->name);
	free(r->kind);
	free(r->config);
	free(r->sealed_secret);
	free(r);
}

void ts_provider_recs_free(struct ts_provider_rec **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		ts_provider_rec_free(v[i]);
	free(v);
}

void ts_connection_rec_free(struct ts_connection_rec *r)
{
	if (r == NULL)
		return;
	free(r->id);
	free(r->tenant_id);
	free(r->tenant_name);
	free(r->provider);
	free(r->name);
	free(r->owner);
	free(r->created_by);
	free(r->status);
	free(r->metadata);
	free(r->access_token);
	free(r->refresh_token);
	free(r->last_error);
	free(r->lease_owner);
	free(r);
}

void ts_connection_recs_free(struct ts_connection_rec **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		ts_connection_rec_free(v[i]);
	free(v);
}
