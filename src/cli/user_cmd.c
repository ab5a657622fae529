/* user_cmd.c: `tessera user …`: day-to-day administration of people.
 * Create and update go through the same validation as the bootstrap file
 * (admin/user.c): update starts from the stored user and changes only the
 * options given. */
#include "cmd.h"

#include "identity/identity.h"
#include "store/store_config.h"
#include "store/store_people.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET_LINE_MAX (TS_PASSWORD_MAX + 3) /* the secret, "\r\n" and the NUL */

/* Reads one line (the secret) from standard input into buf (capacity cap)
 * without its line ending. false, with a message, if none or too long. */
static bool read_secret_line(char *buf, size_t cap)
{
	size_t n;

	if (fgets(buf, (int)cap, stdin) == NULL) {
		ts_cli_error("no password on standard input");
		return false;
	}
	n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	else if (n == cap - 1) {
		OPENSSL_cleanse(buf, cap);
		ts_cli_error("the password on standard input is too long");
		return false;
	}
	if (n && buf[n - 1] == '\r')
		buf[--n] = '\0';
	return true;
}

/* Overwrites the secrets a spec holds before it is released. */
static void wipe_secrets(json_t *spec)
{
	static const char *const keys[] = {"password", "app_password"};
	size_t i;

	for (i = 0; i < TS_ARRAY_LEN(keys); i++) {
		json_t *v = json_object_get(spec, keys[i]);
		if (json_is_string(v))
			OPENSSL_cleanse((char *)json_string_value(v), json_string_length(v));
	}
}

/* The spec of a stored user: what applying it would leave as it is. */
static json_t *spec_from_user(const struct ts_user_rec *u)
{
	json_t *prof = json_loads(u->profile ? u->profile : "{}", 0, NULL), *spec = json_object();
	static const char *const keys[] = {"email", "name", "roles", "mobile_access", "attributes"};
	size_t i;

	json_object_set_new(spec, "username", json_string(u->username));
	for (i = 0; i < TS_ARRAY_LEN(keys); i++) {
		json_t *v = json_object_get(prof, keys[i]);
		if (v)
			json_object_set(spec, keys[i], v);
	}
	json_object_set_new(spec, "disabled", json_boolean(u->disabled));
	json_decref(prof);
	return spec;
}

/* --attribute NAME=VALUE sets one attribute (repeatable); NAME= removes it.
 * Returns an exit code: TS_EXIT_OK to go on. */
static int attribute_options(json_t *spec, const struct ts_opts *o)
{
	json_t *attrs = json_object_get(spec, "attributes");
	const char *v, *eq;
	size_t i;
	char *name;

	for (i = 0; i < o->nopt; i++) {
		if (strcmp(o->opt[i].name, "attribute") != 0 || (v = o->opt[i].value) == NULL)
			continue;
		eq = strchr(v, '=');
		if (eq == NULL || eq == v) {
			ts_cli_error("--attribute takes NAME=VALUE (NAME= removes it)");
			return TS_EXIT_USAGE;
		}
		if (!json_is_object(attrs)) {
			attrs = json_object();
			json_object_set_new(spec, "attributes", attrs);
		}
		name = ts_xstrndup(v, (size_t)(eq - v));
		if (eq[1] == '\0')
			json_object_del(attrs, name);
		else
			json_object_set_new(attrs, name, json_string(eq + 1));
		free(name);
	}
	return TS_EXIT_OK;
}

/* Applies the options of create/update and the verb's own change to spec.
 * Returns an exit code: TS_EXIT_OK to go on. */
static int spec_options(json_t *spec, const struct ts_opts *o, const char *verb)
{
	static const char *const strs[][2] = {{"email", "email"}, {"name", "name"},
					      {"password", "password"},
					      {"app-password", "app_password"},
					      {"device-id", "device_id"}};
	const char *v;
	json_t *roles = json_array();
	size_t i;

	for (i = 0; i < TS_ARRAY_LEN(strs); i++) {
		if ((v = ts_opts_get(o, strs[i][0])) == NULL)
			continue;
		/* An empty --email or --name removes it. */
		if (v[0] == '\0' && (strcmp(strs[i][1], "email") == 0 || strcmp(strs[i][1], "name") == 0))
			json_object_del(spec, strs[i][1]);
		else
			json_object_set_new(spec, strs[i][1], json_string(v));
	}
	for (i = 0; i < o->nopt; i++) {
		if (strcmp(o->opt[i].name, "role") != 0 || o->opt[i].value == NULL)
			continue;
		if (o->opt[i].value[0])
			json_array_append_new(roles, json_string(o->opt[i].value));
		json_object_set(spec, "roles", roles); /* --role "" alone: no roles */
	}
	json_decref(roles);
	if (attribute_options(spec, o) != TS_EXIT_OK)
		return TS_EXIT_USAGE;
	if ((v = ts_opts_get(o, "mobile-access")) != NULL) {
		if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0) {
			ts_cli_error("--mobile-access must be true or false");
			return TS_EXIT_USAGE;
		}
		json_object_set_new(spec, "mobile_access", json_boolean(v[0] == 't'));
	}
	if (ts_opts_has(o, "disabled") || strcmp(verb, "disable") == 0)
		json_object_set_new(spec, "disabled", json_true());
	if (ts_opts_has(o, "enabled") || strcmp(verb, "enable") == 0)
		json_object_set_new(spec, "disabled", json_false());
	if (strcmp(verb, "reset-device") == 0)
		json_object_set_new(spec, "device_id", json_null());
	return TS_EXIT_OK;
}

/* --password-stdin gives the password (or, for set-app-password, the app
 * password) on standard input. */
static int stdin_secret(json_t *spec, const struct ts_opts *o, const char *verb)
{
	const char *key = strcmp(verb, "set-app-password") == 0 ? "app_password" : "password";
	char line[SECRET_LINE_MAX];

	if (!ts_opts_has(o, "password-stdin"))
		return TS_EXIT_OK;
	if (json_object_get(spec, key)) {
		ts_cli_error("give the password on the command line or on standard input, not both");
		return TS_EXIT_USAGE;
	}
	if (!read_secret_line(line, sizeof(line)))
		return TS_EXIT_FAIL;
	json_object_set_new(spec, key, json_string(line));
	OPENSSL_cleanse(line, sizeof(line));
	if (json_object_get(spec, key) == NULL) {
		ts_cli_error("the password on standard input is not valid UTF-8");
		return TS_EXIT_FAIL;
	}
	return TS_EXIT_OK;
}

/* create, update, disable, enable, set-password, set-app-password,
 * reset-device: every change goes through ts_admin_user_apply. */
static int user_apply_cmd(struct ts_config *c, struct ts_cli_session *s, const struct ts_opts *o,
			  const char *verb, const char *username)
{
	bool create = strcmp(verb, "create") == 0;
	struct ts_user_rec *old = NULL;
	json_t *spec = NULL, *view;
	const char *result;
	char err[TS_CLI_ERR_MAX] = "";
	int rc, exit_code = TS_EXIT_FAIL;

	rc = ts_store_user_find(s->st, s->t->id, username, &old);
	if (rc != TS_OK && rc != TS_ENOTFOUND)
		return ts_cli_fail_store(rc);
	if (create && old) {
		ts_cli_error_code("already_exists", "user \"%s\" already exists in tenant \"%s\"", username, s->t->name);
		goto out;
	}
	if (!create && old == NULL) {
		ts_cli_error_code("not_found", "no user \"%s\" in tenant \"%s\"", username, s->t->name);
		goto out;
	}
	spec = old ? spec_from_user(old) : json_object();
	if (!old)
		json_object_set_new(spec, "username", json_string(username));
	exit_code = spec_options(spec, o, verb);
	if (exit_code == TS_EXIT_OK)
		exit_code = stdin_secret(spec, o, verb);
	if (exit_code != TS_EXIT_OK)
		goto out;
	exit_code = TS_EXIT_FAIL;
	if ((strcmp(verb, "set-password") == 0 && !json_object_get(spec, "password")) ||
	    (strcmp(verb, "set-app-password") == 0 && !json_object_get(spec, "app_password"))) {
		ts_cli_error("%s needs --%s P or --password-stdin", verb,
			     verb[4] == 'a' ? "app-password" : "password");
		exit_code = TS_EXIT_USAGE;
		goto out;
	}
	rc = ts_admin_user_apply(&s->a, s->t->name, spec, &result, err, sizeof(err));
	if (rc != TS_OK) {
		ts_cli_error("%s", err);
		goto out;
	}
	ts_user_rec_free(old);
	old = NULL;
	rc = ts_store_user_find(s->st, s->t->id, username, &old);
	if (rc != TS_OK) {
		exit_code = ts_cli_fail_store(rc);
		goto out;
	}
	view = ts_user_view(old);
	json_object_set_new(view, "result", json_string(result));
	ts_cli_print(c, view);
	exit_code = TS_EXIT_OK;
out:
	wipe_secrets(spec);
	json_decref(spec);
	ts_user_rec_free(old);
	return exit_code;
}

static int user_show_cmd(struct ts_config *c, struct ts_cli_session *s, const char *verb,
			 const char *username)
{
	struct ts_user_rec *u = NULL, **v = NULL;
	size_t n = 0, i;
	int rc;

	if (strcmp(verb, "list") == 0) {
		json_t *a;
		rc = ts_store_user_list(s->st, s->t->id, &v, &n);
		if (rc != TS_OK)
			return ts_cli_fail_store(rc);
		a = json_array();
		for (i = 0; i < n; i++)
			json_array_append_new(a, ts_user_view(v[i]));
		ts_user_recs_free(v, n);
		ts_cli_print(c, json_pack("{s:s,s:o}", "tenant", s->t->name, "users", a));
		return TS_EXIT_OK;
	}
	rc = ts_store_user_find(s->st, s->t->id, username, &u);
	if (rc == TS_ENOTFOUND) {
		ts_cli_error_code("not_found", "no user \"%s\" in tenant \"%s\"", username, s->t->name);
		return TS_EXIT_FAIL;
	}
	if (rc != TS_OK)
		return ts_cli_fail_store(rc);
	if (strcmp(verb, "show") == 0) {
		ts_cli_print(c, ts_user_view(u));
	} else {
		rc = ts_store_user_delete(s->st, s->t->id, u->id);
		if (rc != TS_OK) {
			ts_user_rec_free(u);
			return ts_cli_fail_store(rc);
		}
		ts_cli_audit(s, "user.deleted", u->username, "id", u->id);
		ts_cli_print(c, json_pack("{s:s,s:s,s:b}", "username", u->username, "id", u->id,
					  "deleted", 1));
	}
	ts_user_rec_free(u);
	return TS_EXIT_OK;
}

int ts_cmd_user(struct ts_config *c, int argc, char **argv)
{
	static const char *const known[] = {"tenant", "email", "name", "role", "password",
					    "password-stdin", "app-password", "mobile-access",
					    "device-id", "attribute", "disabled", "enabled", NULL};
	static const char *const flags[] = {"password-stdin", NULL};
	static const char *const verbs[] = {"create", "update", "show", "list", "delete",
					    "disable", "enable", "set-password",
					    "set-app-password", "reset-device", NULL};
	struct ts_opts o;
	struct ts_cli_session s;
	const char *verb, *tenant;
	size_t i;
	bool known_verb = false;
	int exit_code;

	if (!ts_opts_parse(argc, argv, flags, &o) || !ts_opts_only(&o, known) || o.npos < 1)
		goto usage;
	verb = o.pos[0];
	for (i = 0; verbs[i]; i++)
		known_verb = known_verb || strcmp(verbs[i], verb) == 0;
	tenant = ts_opts_get(&o, "tenant");
	if (!known_verb || tenant == NULL || o.npos != (strcmp(verb, "list") == 0 ? 1u : 2u))
		goto usage;
	if (ts_cli_session_tenant(c, &s, tenant) != TS_OK) {
		ts_cli_session_close(&s);
		return TS_EXIT_FAIL;
	}
	if (strcmp(verb, "show") == 0 || strcmp(verb, "list") == 0 || strcmp(verb, "delete") == 0)
		exit_code = user_show_cmd(c, &s, verb, o.npos > 1 ? o.pos[1] : NULL);
	else
		exit_code = user_apply_cmd(c, &s, &o, verb, o.pos[1]);
	ts_cli_session_close(&s);
	return exit_code;
usage:
	ts_cli_error("usage: tessera user create|update|show|delete|disable|enable|set-password|"
		     "set-app-password|reset-device --tenant T USERNAME [--email E] [--name N] "
		     "[--role R]... [--password P | --password-stdin] [--app-password P] "
		     "[--mobile-access true|false] [--device-id D] [--attribute NAME=VALUE]...; "
		     "tessera user list --tenant T");
	return TS_EXIT_USAGE;
}
