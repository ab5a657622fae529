/* group.c: the group object shared by the bootstrap file and the CLI:
 * {name, org_id, members}. Applying it creates the group if needed, sets
 * its organization when one is given and makes its membership exactly the
 * list given. */
#include "admin.h"

#include "identity/identity.h"
#include "store/store_config.h"
#include "store/store_people.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GROUP_MEMBERS_MAX 10000

int ts_admin_group_validate(const json_t *spec, char *err, size_t errcap)
{
	const json_t *members;
	const char *k, *name;
	json_t *v;
	size_t i;

	if (errcap)
		err[0] = '\0';
	if (!json_is_object(spec))
		return ts_admin_fail(err, errcap, "a group must be a JSON object");
	json_object_foreach((json_t *)spec, k, v) {
		if (strcmp(k, "name") != 0 && strcmp(k, "members") != 0 && strcmp(k, "org_id") != 0)
			return ts_admin_fail(err, errcap, "unknown field \"%s\" in group", k);
	}
	name = json_string_value(json_object_get(spec, "name"));
	if (!ts_group_name_ok(name))
		return ts_admin_fail(err, errcap, "group: \"name\" must be 1 to %d printable characters "
			    "without spaces at either end", TS_GROUP_NAME_MAX);
	if (json_object_get(spec, "org_id") != NULL &&
	    !ts_group_org_ok(json_string_value(json_object_get(spec, "org_id"))))
		return ts_admin_fail(err, errcap, "group %s: \"org_id\" must be 1 to %d printable "
			    "characters without spaces", name, TS_GROUP_ORG_MAX);
	members = json_object_get(spec, "members");
	if (members == NULL)
		return TS_OK;
	if (!json_is_array(members) || json_array_size(members) > GROUP_MEMBERS_MAX)
		return ts_admin_fail(err, errcap, "group %s: \"members\" must be an array of at most %d "
			    "usernames", name, GROUP_MEMBERS_MAX);
	for (i = 0; i < json_array_size(members); i++)
		if (!ts_username_ok(json_string_value(json_array_get(members, i))))
			return ts_admin_fail(err, errcap, "group %s: \"members\" has an invalid username",
				    name);
	return TS_OK;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool sorted_has(char **v, size_t n, const char *s)
{
	return n && bsearch(&s, v, n, sizeof(*v), cmp_str) != NULL;
}

/* The user ids of the listed usernames, sorted and without duplicates
 * (*ids owned by the caller: free each and the array). */
static int resolve_members(struct ts_store *st, const char *tenant_id, const char *group,
			   const json_t *members, char ***ids, size_t *n, char *err, size_t cap)
{
	size_t i, m = 0, cnt = json_array_size(members);
	char **v = ts_xcalloc(cnt ? cnt : 1, sizeof(*v));
	int rc = TS_OK;

	for (i = 0; rc == TS_OK && i < cnt; i++) {
		const char *u = json_string_value(json_array_get(members, i));
		struct ts_user_rec *r = NULL;
		rc = ts_store_user_find(st, tenant_id, u, &r);
		if (rc == TS_ENOTFOUND)
			rc = ts_admin_fail(err, cap, "group %s: no user \"%s\"", group, u);
		if (rc == TS_OK) {
			v[m++] = r->id;
			r->id = NULL;
		}
		ts_user_rec_free(r);
	}
	if (m)
		qsort(v, m, sizeof(*v), cmp_str);
	/* The same user may be listed under two spellings of the username. */
	for (i = 1; m && i < m;) {
		if (strcmp(v[i - 1], v[i]) == 0) {
			free(v[i]);
			memmove(v + i, v + i + 1, (m - i - 1) * sizeof(*v));
			m--;
		} else {
			i++;
		}
	}
	*ids = v;
	*n = m;
	return rc;
}

static void free_strs(char **v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

/* Makes the membership of group g exactly want (sorted ids); sets *changed. */
static int sync_members(struct ts_admin *a, const struct ts_tenant_rec *t,
			const struct ts_group_rec *g, char **want, size_t nwant, bool *changed)
{
	struct ts_user_rec **cur = NULL;
	char **have = NULL;
	size_t ncur = 0, i;
	int rc;

	*changed = false;
	rc = ts_store_member_list(a->store, t->id, g->id, &cur, &ncur);
	if (rc != TS_OK)
		return rc;
	have = ts_xcalloc(ncur ? ncur : 1, sizeof(*have));
	for (i = 0; i < ncur; i++)
		have[i] = cur[i]->id;
	if (ncur)
		qsort(have, ncur, sizeof(*have), cmp_str);
	for (i = 0; rc == TS_OK && i < ncur; i++) {
		if (sorted_has(want, nwant, cur[i]->id))
			continue;
		rc = ts_store_member_remove(a->store, t->id, g->id, cur[i]->id);
		if (rc == TS_OK)
			ts_admin_audit(a, t->name, "group.member_removed", g->name,
			      json_pack("{s:s,s:s}", "id", g->id, "username", cur[i]->username));
		*changed = true;
	}
	for (i = 0; rc == TS_OK && i < nwant; i++) {
		if (sorted_has(have, ncur, want[i]))
			continue;
		rc = ts_store_member_add(a->store, t->id, g->id, want[i],
					 a->actor ? a->actor : "cli", ts_now());
		if (rc == TS_OK)
			ts_admin_audit(a, t->name, "group.member_added", g->name,
			      json_pack("{s:s,s:s}", "id", g->id, "user_id", want[i]));
		*changed = true;
	}
	free(have); /* the strings belong to cur */
	ts_user_recs_free(cur, ncur);
	return rc;
}

int ts_admin_group_apply(struct ts_admin *a, const char *tenant, const json_t *spec,
			 const char **result, char **group_id, char *err, size_t errcap)
{
	const json_t *members = json_object_get(spec, "members");
	struct ts_tenant_rec *t = NULL;
	struct ts_group_rec *g = NULL;
	char **want = NULL;
	size_t nwant = 0;
	const char *org = json_string_value(json_object_get(spec, "org_id"));
	bool created = false, changed = false;
	char id[37];
	int rc;

	*result = NULL;
	*group_id = NULL;
	rc = ts_admin_group_validate(spec, err, errcap);
	if (rc != TS_OK)
		return rc;
	rc = ts_store_tenant_get(a->store, tenant, &t);
	if (rc == TS_ENOTFOUND)
		rc = ts_admin_fail(err, errcap, "no tenant named \"%s\"", tenant);
	if (rc != TS_OK)
		goto out;
	/* Every member is resolved before anything is written. */
	if (members) {
		rc = resolve_members(a->store, t->id, json_string_value(json_object_get(spec, "name")),
				     members, &want, &nwant, err, errcap);
		if (rc != TS_OK)
			goto out;
	}
	rc = ts_store_group_find(a->store, t->id, json_string_value(json_object_get(spec, "name")),
				 &g);
	if (rc == TS_ENOTFOUND) {
		rc = ts_rand_uuid(id);
		if (rc != TS_OK)
			goto out;
		g = ts_xcalloc(1, sizeof(*g));
		g->tenant_id = ts_xstrdup(t->id);
		g->id = ts_xstrdup(id);
		g->name = ts_xstrdup(json_string_value(json_object_get(spec, "name")));
		g->created_at = ts_now();
		g->org_id = org ? ts_xstrdup(org) : NULL;
		rc = ts_store_group_put(a->store, g);
		if (rc != TS_OK)
			goto out;
		created = true;
		ts_admin_audit(a, tenant, "group.created", g->name, json_pack("{s:s}", "id", g->id));
	} else if (rc == TS_OK && org != NULL && (g->org_id == NULL || strcmp(g->org_id, org) != 0)) {
		free(g->org_id);
		g->org_id = ts_xstrdup(org);
		rc = ts_store_group_put(a->store, g);
		changed = rc == TS_OK;
	}
	if (rc != TS_OK)
		goto out;
	if (members) {
		bool synced = false;
		rc = sync_members(a, t, g, want, nwant, &synced);
		changed = changed || synced;
	}
	if (rc != TS_OK)
		goto out;
	*result = created ? "created" : changed ? "updated" : "unchanged";
	*group_id = ts_xstrdup(g->id);
out:
	if (rc != TS_OK && err[0] == '\0')
		ts_admin_fail(err, errcap, "could not save group (%s)", ts_rc_str(rc));
	free_strs(want, nwant);
	ts_group_rec_free(g);
	ts_tenant_rec_free(t);
	return rc;
}
