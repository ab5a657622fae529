/* group_cmd.c: `tessera group create|list|show|delete|members|add-member|
 * remove-member`. Create and membership changes go through the same
 * validation as the bootstrap file (admin/group.c). */
#include "cmd.h"

#include "identity/identity.h"
#include "store/store_config.h"
#include "store/store_people.h"

#include <stdlib.h>
#include <string.h>

/* Finds a group by name, or else by id. */
static int group_lookup(struct ts_cli_session *s, const char *name, struct ts_group_rec **g)
{
	int rc = ts_store_group_find(s->st, s->t->id, name, g);

	if (rc == TS_ENOTFOUND)
		rc = ts_store_group_get(s->st, s->t->id, name, g);
	if (rc == TS_ENOTFOUND)
		ts_cli_error_code("not_found", "no group \"%s\" in tenant \"%s\"", name, s->t->name);
	else if (rc != TS_OK)
		ts_cli_fail_store(rc);
	return rc;
}

/* {id, name, created_at, members: [usernames]} (with full user views when
 * full). NULL after a store failure (reported). */
static json_t *group_view(struct ts_cli_session *s, const struct ts_group_rec *g, bool full)
{
	struct ts_user_rec **v = NULL;
	size_t n = 0, i;
	json_t *m;
	int rc = ts_store_member_list(s->st, s->t->id, g->id, &v, &n);

	if (rc != TS_OK) {
		ts_cli_fail_store(rc);
		return NULL;
	}
	m = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(m, full ? ts_user_view(v[i]) : json_string(v[i]->username));
	ts_user_recs_free(v, n);
	return json_pack("{s:s,s:s,s:I,s:o,s:s?}", "id", g->id, "name", g->name, "created_at",
			 (json_int_t)g->created_at, "members", m, "org_id", g->org_id);
}

static int print_group(struct ts_config *c, struct ts_cli_session *s, const struct ts_group_rec *g,
		       bool full, const char *result)
{
	json_t *v = group_view(s, g, full);

	if (v == NULL)
		return TS_EXIT_FAIL;
	if (result)
		json_object_set_new(v, "result", json_string(result));
	ts_cli_print(c, v);
	return TS_EXIT_OK;
}

static int group_create_cmd(struct ts_config *c, struct ts_cli_session *s, const char *name)
{
	struct ts_group_rec *g = NULL;
	json_t *spec;
	const char *result;
	char *id = NULL;
	char err[TS_CLI_ERR_MAX] = "";
	int rc;

	rc = ts_store_group_find(s->st, s->t->id, name, &g);
	ts_group_rec_free(g);
	g = NULL;
	if (rc == TS_OK) {
		ts_cli_error_code("already_exists", "group \"%s\" already exists in tenant \"%s\"", name, s->t->name);
		return TS_EXIT_FAIL;
	}
	if (rc != TS_ENOTFOUND)
		return ts_cli_fail_store(rc);
	spec = json_pack("{s:s?}", "name", name);
	rc = ts_admin_group_apply(&s->a, s->t->name, spec, &result, &id, err, sizeof(err));
	json_decref(spec);
	if (rc != TS_OK) {
		ts_cli_error("%s", err);
		return TS_EXIT_FAIL;
	}
	rc = ts_store_group_get(s->st, s->t->id, id, &g);
	free(id);
	if (rc != TS_OK)
		return ts_cli_fail_store(rc);
	rc = print_group(c, s, g, false, result);
	ts_group_rec_free(g);
	return rc;
}

/* add-member, remove-member */
static int group_member_cmd(struct ts_config *c, struct ts_cli_session *s, const char *verb,
			    struct ts_group_rec *g, const char *username)
{
	struct ts_user_rec *u = NULL;
	bool add = strcmp(verb, "add-member") == 0;
	int rc;

	rc = ts_store_user_find(s->st, s->t->id, username, &u);
	if (rc == TS_ENOTFOUND) {
		ts_cli_error_code("not_found", "no user \"%s\" in tenant \"%s\"", username, s->t->name);
		return TS_EXIT_FAIL;
	}
	if (rc != TS_OK)
		return ts_cli_fail_store(rc);
	rc = add ? ts_store_member_add(s->st, s->t->id, g->id, u->id, "cli", ts_now())
		 : ts_store_member_remove(s->st, s->t->id, g->id, u->id);
	if (rc == TS_OK)
		ts_cli_audit(s, add ? "group.member_added" : "group.member_removed", g->name, "username",
		      u->username);
	ts_user_rec_free(u);
	if (rc == TS_ENOTFOUND) {
		ts_cli_error("user \"%s\" is not a member of group \"%s\"", username, g->name);
		return TS_EXIT_FAIL;
	}
	if (rc != TS_OK)
		return ts_cli_fail_store(rc);
	return print_group(c, s, g, false, NULL);
}

static int group_verb(struct ts_config *c, struct ts_cli_session *s, const char *verb,
		      const struct ts_opts *o)
{
	struct ts_group_rec *g = NULL, **v = NULL;
	size_t n = 0, i;
	int rc, exit_code = TS_EXIT_FAIL;

	if (strcmp(verb, "list") == 0) {
		json_t *a;
		rc = ts_store_group_list(s->st, s->t->id, &v, &n);
		if (rc != TS_OK)
			return ts_cli_fail_store(rc);
		a = json_array();
		for (i = 0; i < n; i++)
			json_array_append_new(a, json_pack("{s:s,s:s,s:I}", "id", v[i]->id, "name",
							   v[i]->name, "created_at",
							   (json_int_t)v[i]->created_at));
		ts_group_recs_free(v, n);
		ts_cli_print(c, json_pack("{s:s,s:o}", "tenant", s->t->name, "groups", a));
		return TS_EXIT_OK;
	}
	if (strcmp(verb, "create") == 0)
		return group_create_cmd(c, s, o->pos[1]);
	if (group_lookup(s, o->pos[1], &g) != TS_OK)
		return TS_EXIT_FAIL;
	if (strcmp(verb, "show") == 0 || strcmp(verb, "members") == 0) {
		exit_code = print_group(c, s, g, verb[0] == 'm', NULL);
	} else if (strcmp(verb, "delete") == 0) {
		rc = ts_store_group_delete(s->st, s->t->id, g->id);
		if (rc == TS_OK) {
			ts_cli_audit(s, "group.deleted", g->name, "id", g->id);
			ts_cli_print(c, json_pack("{s:s,s:s,s:b}", "name", g->name, "id", g->id,
						  "deleted", 1));
			exit_code = TS_EXIT_OK;
		} else {
			exit_code = ts_cli_fail_store(rc);
		}
	} else {
		exit_code = group_member_cmd(c, s, verb, g, o->pos[2]);
	}
	ts_group_rec_free(g);
	return exit_code;
}

int ts_cmd_group(struct ts_config *c, int argc, char **argv)
{
	static const char *const known[] = {"tenant", NULL};
	static const char *const verbs[][2] = {
		{"create", "2"}, {"list", "1"}, {"show", "2"}, {"delete", "2"},
		{"add-member", "3"}, {"remove-member", "3"}, {"members", "2"},
	};
	struct ts_opts o;
	struct ts_cli_session s;
	const char *tenant;
	size_t i;
	bool ok = false;
	int exit_code;

	if (!ts_opts_parse(argc, argv, NULL, &o) || !ts_opts_only(&o, known) || o.npos < 1 ||
	    (tenant = ts_opts_get(&o, "tenant")) == NULL)
		goto usage;
	for (i = 0; i < TS_ARRAY_LEN(verbs); i++)
		ok = ok || (strcmp(verbs[i][0], o.pos[0]) == 0 &&
			    o.npos == (size_t)(verbs[i][1][0] - '0'));
	if (!ok)
		goto usage;
	if (ts_cli_session_tenant(c, &s, tenant) != TS_OK) {
		ts_cli_session_close(&s);
		return TS_EXIT_FAIL;
	}
	exit_code = group_verb(c, &s, o.pos[0], &o);
	ts_cli_session_close(&s);
	return exit_code;
usage:
	ts_cli_error("usage: tessera group create|show|delete|members --tenant T NAME; "
		     "tessera group add-member|remove-member --tenant T NAME USERNAME; "
		     "tessera group list --tenant T");
	return TS_EXIT_USAGE;
}
