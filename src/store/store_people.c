/* store_people.c: the ts_store_* wrappers for users, groups and group
 * membership, and their record destructors. As in store.c, the argument
 * checks every backend would repeat live here. */
#include "store.h"

#include "revcache.h"

#include <stdlib.h>

static bool nonempty(const char *s)
{
	return s != NULL && s[0] != '\0';
}

int ts_store_user_put(struct ts_store *st, const struct ts_user_rec *rec)
{
	if (st == NULL || rec == NULL || rec->tenant_id == NULL || !nonempty(rec->id) ||
	    !nonempty(rec->username) || rec->profile == NULL)
		return TS_EINVAL;
	return st->ops->user_put(st, rec);
}

int ts_store_user_get(struct ts_store *st, const char *tenant_id, const char *id,
		      struct ts_user_rec **out)
{
	if (out == NULL)
		return TS_EINVAL;
	*out = NULL;
	if (st == NULL || tenant_id == NULL || id == NULL)
		return TS_EINVAL;
	return st->ops->user_get(st, tenant_id, id, out);
}

int ts_store_user_bind_device(struct ts_store *st, const char *tenant_id, const char *id,
			      const char *device_id, int64_t now)
{
	if (st == NULL || tenant_id == NULL || !nonempty(id) || !nonempty(device_id))
		return TS_EINVAL;
	return st->ops->user_bind_device(st, tenant_id, id, device_id, now);
}

int ts_store_user_rehash(struct ts_store *st, const char *tenant_id, const char *id,
			 const char *old_hash, const char *new_hash, int64_t now)
{
	if (st == NULL || tenant_id == NULL || !nonempty(id) || !nonempty(old_hash) ||
	    !nonempty(new_hash))
		return TS_EINVAL;
	return st->ops->user_rehash(st, tenant_id, id, old_hash, new_hash, now);
}

int ts_store_user_find(struct ts_store *st, const char *tenant_id, const char *username,
		       struct ts_user_rec **out)
{
	if (out == NULL)
		return TS_EINVAL;
	*out = NULL;
	if (st == NULL || tenant_id == NULL || username == NULL)
		return TS_EINVAL;
	return st->ops->user_find(st, tenant_id, username, out);
}

int ts_store_user_list(struct ts_store *st, const char *tenant_id, struct ts_user_rec ***out,
		       size_t *n)
{
	if (out == NULL || n == NULL)
		return TS_EINVAL;
	*out = NULL;
	*n = 0;
	if (st == NULL || tenant_id == NULL)
		return TS_EINVAL;
	return st->ops->user_list(st, tenant_id, out, n);
}

int ts_store_user_delete(struct ts_store *st, const char *tenant_id, const char *id)
{
	int r;

	if (st == NULL || tenant_id == NULL || id == NULL)
		return TS_EINVAL;
	r = st->ops->user_delete(st, tenant_id, id);
	/* The user's tokens are denied by id in storage (as for a grant). */
	ts_revcache_bump(st->revcache);
	return r;
}

int ts_store_group_put(struct ts_store *st, const struct ts_group_rec *rec)
{
	if (st == NULL || rec == NULL || rec->tenant_id == NULL || !nonempty(rec->id) ||
	    !nonempty(rec->name) || (rec->org_id != NULL && !nonempty(rec->org_id)))
		return TS_EINVAL;
	return st->ops->group_put(st, rec);
}

int ts_store_group_get(struct ts_store *st, const char *tenant_id, const char *id,
		       struct ts_group_rec **out)
{
	if (out == NULL)
		return TS_EINVAL;
	*out = NULL;
	if (st == NULL || tenant_id == NULL || id == NULL)
		return TS_EINVAL;
	return st->ops->group_get(st, tenant_id, id, out);
}

int ts_store_group_find(struct ts_store *st, const char *tenant_id, const char *name,
			struct ts_group_rec **out)
{
	if (out == NULL)
		return TS_EINVAL;
	*out = NULL;
	if (st == NULL || tenant_id == NULL || name == NULL)
		return TS_EINVAL;
	return st->ops->group_find(st, tenant_id, name, out);
}

int ts_store_group_list(struct ts_store *st, const char *tenant_id, struct ts_group_rec ***out,
			size_t *n)
{
	if (out == NULL || n == NULL)
		return TS_EINVAL;
	*out = NULL;
	*n = 0;
	if (st == NULL || tenant_id == NULL)
		return TS_EINVAL;
	return st->ops->group_list(st, tenant_id, out, n);
}

int ts_store_group_delete(struct ts_store *st, const char *tenant_id, const char *id)
{
	if (st == NULL || tenant_id == NULL || id == NULL)
		return TS_EINVAL;
	return st->ops->group_delete(st, tenant_id, id);
}

int ts_store_member_add(struct ts_store *st, const char *tenant_id, const char *group_id,
			const char *user_id, const char *added_by, int64_t added_at)
{
	if (st == NULL || tenant_id == NULL || group_id == NULL || user_id == NULL ||
	    added_by == NULL || added_by[0] == '\0' || added_at <= 0)
		return TS_EINVAL;
	return st->ops->member_add(st, tenant_id, group_id, user_id, added_by, added_at);
}

int ts_store_member_remove(struct ts_store *st, const char *tenant_id, const char *group_id,
			   const char *user_id)
{
	if (st == NULL || tenant_id == NULL || group_id == NULL || user_id == NULL)
		return TS_EINVAL;
	return st->ops->member_remove(st, tenant_id, group_id, user_id);
}

int ts_store_member_list(struct ts_store *st, const char *tenant_id, const char *group_id,
			 struct ts_user_rec ***out, size_t *n)
{
	if (out == NULL || n == NULL)
		return TS_EINVAL;
	*out = NULL;
	*n = 0;
	if (st == NULL || tenant_id == NULL || group_id == NULL)
		return TS_EINVAL;
	return st->ops->member_list(st, tenant_id, group_id, out, n);
}

int ts_store_member_check(struct ts_store *st, const char *tenant_id, const char *group_id,
			  const char *user_id, bool *is_member)
{
	if (is_member == NULL)
		return TS_EINVAL;
	/* Fail closed, as revoke_check does: no answer is not membership. */
	*is_member = false;
	if (st == NULL || tenant_id == NULL || group_id == NULL || user_id == NULL)
		return TS_EINVAL;
	return st->ops->member_check(st, tenant_id, group_id, user_id, is_member);
}

int ts_store_member_records(struct ts_store *st, const char *tenant_id, const char *group_id,
			    struct ts_member_rec ***out, size_t *n)
{
	if (out == NULL || n == NULL)
		return TS_EINVAL;
	*out = NULL;
	*n = 0;
	if (st == NULL || tenant_id == NULL || group_id == NULL)
		return TS_EINVAL;
	return st->ops->member_records(st, tenant_id, group_id, out, n);
}

void ts_user_rec_free(struct ts_user_rec *r)
{
	if (r == NULL)
		return;
	free(r->tenant_id);
	free(r->id);
	free(r->username);
	/* Argon2id digests, not passwords, but offline guessing starts
	 * from them: leave nothing in freed memory. */
	ts_free_secret(r->password_hash);
	ts_free_secret(r->app_password_hash);
	free(r->device_id);
	free(r->profile);
	free(r);
}

void ts_group_rec_free(struct ts_group_rec *r)
{
	if (r == NULL)
		return;
	free(r->tenant_id);
	free(r->id);
	free(r->name);
	free(r->org_id);
	free(r);
}

void ts_user_recs_free(struct ts_user_rec **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		ts_user_rec_free(v[i]);
	free(v);
}

void ts_member_recs_free(struct ts_member_rec **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++) {
		if (v[i] == NULL)
			continue;
		ts_user_rec_free(v[i]->user);
		free(v[i]->added_by);
		free(v[i]);
	}
	free(v);
}

void ts_group_recs_free(struct ts_group_rec **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		ts_group_rec_free(v[i]);
	free(v);
}
