/* tenant_cmd.c: `tessera tenant create|update|list|show|delete`. Create
 * and update go through the same validation as the bootstrap file
 * (admin/tenant.c); update starts from the stored settings and changes
 * only the options given. */
#include "cmd.h"

#include "compat/compat.h"
#include "store/store_config.h"

#include <stdlib.h>
#include <string.h>

/* --scope NAME or --scope NAME=inc1,inc2 */
static bool set_scopes(json_t *spec, const struct ts_opts *o)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < o->nopt; i++) {
		const char *v = o->opt[i].value, *eq;
		json_t *s;
		if (strcmp(o->opt[i].name, "scope") != 0 || v == NULL)
			continue;
		eq = strchr(v, '=');
		s = json_object();
		json_object_set_new(s, "name", eq ? json_stringn(v, (size_t)(eq - v)) : json_string(v));
		if (eq) {
			json_t *inc = json_array();
			const char *p = eq + 1;
			while (*p) {
				const char *comma = strchr(p, ',');
				size_t n = comma ? (size_t)(comma - p) : strlen(p);
				if (n)
					json_array_append_new(inc, json_stringn(p, n));
				p += n + (comma ? 1 : 0);
			}
			json_object_set_new(s, "includes", inc);
		}
		json_array_append_new(a, s);
	}
	if (json_array_size(a))
		json_object_set(spec, "scopes", a);
	json_decref(a);
	return true;
}

/* --compat NAME... sets the tenant's compatibility profiles; --compat none
 * (alone) turns every profile off. Names are checked by the validation. */
static bool set_compat(json_t *spec, const struct ts_opts *o)
{
	json_t *a = ts_cli_opt_array(o, "compat");
	size_t i, n = json_array_size(a);
	bool none = false;

	for (i = 0; i < n; i++)
		none = none || strcmp(json_string_value(json_array_get(a, i)), TS_COMPAT_NONE) == 0;
	if (none && n > 1) {
		ts_cli_error("--compat none turns every profile off and cannot be combined with a profile");
		json_decref(a);
		return false;
	}
	if (none)
		json_array_clear(a);
	if (n)
		json_object_set(spec, "compat", a);
	json_decref(a);
	return true;
}

/* The options of create and update, in the order they are applied: each
 * into its spec member, which admin/tenant.c validates. */
static const struct ts_cli_spec_opt tenant_opts[] = {
	{"display-name", "display_name", TS_CLI_SPEC_STR, NULL},
	{"audience", "audience", TS_CLI_SPEC_STR, NULL},
	{"alg", "access_token_alg", TS_CLI_SPEC_STR, NULL},
	{"domain", "domains", TS_CLI_SPEC_LIST, NULL},
	{"role", "roles", TS_CLI_SPEC_LIST, NULL},
	{"api-key-role", "api_key_roles", TS_CLI_SPEC_LIST, NULL},
	{"scope", "scopes", TS_CLI_SPEC_FN, set_scopes},
	{"mobile-login-method", "mobile_login_method", TS_CLI_SPEC_STR, NULL},
	{"login-client", "login_client", TS_CLI_SPEC_STR, NULL},
	/* whether clients may register themselves */
	{"dynamic-registration", "dynamic_registration", TS_CLI_SPEC_ON_OFF, NULL},
	{"compat", "compat", TS_CLI_SPEC_FN, set_compat},
	{"access-token-ttl", "access_token_ttl", TS_CLI_SPEC_INT, NULL},
	{"refresh-token-ttl", "refresh_token_ttl", TS_CLI_SPEC_INT, NULL},
	{"code-ttl", "code_ttl", TS_CLI_SPEC_INT, NULL},
	{"key-rotation", "key_rotation", TS_CLI_SPEC_INT, NULL},
};

static json_t *tenant_view(struct ts_config *c, const struct ts_tenant_rec *t)
{
	json_t *cfg = json_loads(t->config, 0, NULL), *v;
	char *issuer = ts_tenant_issuer(c->public_url, t->name);

	v = json_pack("{s:s,s:s,s:s,s:I,s:I}", "name", t->name, "id", t->id, "issuer", issuer,
		      "created_at", (json_int_t)t->created_at, "updated_at", (json_int_t)t->updated_at);
	if (cfg)
		json_object_update_missing(v, cfg);
	/* Every setting shown, the defaults too, so that the shape is the
	 * same for every tenant. */
	json_object_set_new(v, "key_rotation", json_integer(ts_admin_key_rotation(cfg)));
	if (json_object_get(v, "access_token_ttl") == NULL)
		json_object_set_new(v, "access_token_ttl",
				    json_integer(ts_compat_default_access_ttl(cfg)));
	ts_cli_json_default(v, "access_token_alg", json_string("ES256"));
	ts_cli_json_default(v, "refresh_token_ttl", json_integer(TS_DEFAULT_REFRESH_TTL));
	ts_cli_json_default(v, "code_ttl", json_integer(TS_DEFAULT_CODE_TTL));
	ts_cli_json_default(v, "audience", json_null());
	ts_cli_json_default(v, "display_name", json_null());
	ts_cli_json_default(v, "domains", json_array());
	ts_cli_json_default(v, "roles", json_array());
	ts_cli_json_default(v, "api_key_roles", json_array());
	ts_cli_json_default(v, "scopes", json_array());
	ts_cli_json_default(v, "compat", json_array());
	json_decref(cfg);
	free(issuer);
	return v;
}

static int tenant_apply_cmd(struct ts_config *c, struct ts_cli_session *s, const struct ts_opts *o,
			    const char *name, bool create)
{
	struct ts_tenant_rec *old = NULL;
	json_t *spec;
	const char *result;
	char err[TS_CLI_ERR_MAX] = "";
	int rc;

	rc = ts_store_tenant_get(s->st, name, &old);
	if (create && rc == TS_OK) {
		ts_cli_error_code("already_exists", "tenant \"%s\" already exists", name);
		ts_tenant_rec_free(old);
		return TS_EXIT_FAIL;
	}
	if (!create && rc == TS_ENOTFOUND) {
		ts_cli_error_code("not_found", "no tenant named \"%s\"", name);
		return TS_EXIT_FAIL;
	}
	if (rc != TS_OK && rc != TS_ENOTFOUND)
		return ts_cli_fail_store_quiet(rc);
	spec = old ? json_loads(old->config, 0, NULL) : json_object();
	if (spec == NULL)
		spec = json_object();
	json_object_set_new(spec, "name", json_string(name));
	if (!ts_cli_spec_from_opts(spec, o, tenant_opts, TS_ARRAY_LEN(tenant_opts))) {
		json_decref(spec);
		ts_tenant_rec_free(old);
		return TS_EXIT_USAGE;
	}
	ts_tenant_rec_free(old);
	old = NULL;
	rc = ts_admin_tenant_apply(&s->a, spec, &result, err, sizeof(err));
	json_decref(spec);
	if (rc != TS_OK) {
		ts_cli_error("%s", err);
		return TS_EXIT_FAIL;
	}
	rc = ts_store_tenant_get(s->st, name, &old);
	if (rc != TS_OK)
		return ts_cli_fail_store_quiet(rc);
	{
		json_t *v = tenant_view(c, old);
		json_object_set_new(v, "result", json_string(result));
		ts_cli_print(c, v);
	}
	ts_tenant_rec_free(old);
	return TS_EXIT_OK;
}

/* A new tenant's spec is checked before the database is opened: a create
 * that fails changes nothing, not even by creating an empty database.
 * Returns the exit code of the failure, or TS_EXIT_OK. */
static int create_precheck(const struct ts_opts *o, const char *name)
{
	json_t *spec = json_pack("{s:s}", "name", name);
	char err[TS_CLI_ERR_MAX] = "";
	int exit_code = TS_EXIT_OK;

	if (!ts_cli_spec_from_opts(spec, o, tenant_opts, TS_ARRAY_LEN(tenant_opts))) {
		exit_code = TS_EXIT_USAGE;
	} else if (ts_admin_tenant_validate(spec, err, sizeof(err)) != TS_OK) {
		ts_cli_error("%s", err);
		exit_code = TS_EXIT_FAIL;
	}
	json_decref(spec);
	return exit_code;
}

int ts_cmd_tenant(struct ts_config *c, int argc, char **argv)
{
	static const char *const known[] = {"display-name", "audience", "alg", "domain", "role",
					    "api-key-role", "scope", "access-token-ttl",
					    "refresh-token-ttl", "code-ttl", "compat",
					    "mobile-login-method", "login-client",
					    "dynamic-registration", "key-rotation", NULL};
	struct ts_opts o;
	struct ts_cli_session s;
	const char *verb;
	int rc, exit_code = TS_EXIT_FAIL;

	if (!ts_opts_parse(argc, argv, NULL, &o) || !ts_opts_only(&o, known) || o.npos < 1)
		goto usage;
	verb = o.pos[0];
	if (strcmp(verb, "list") != 0 && o.npos != 2)
		goto usage;
	if (strcmp(verb, "create") == 0 && !c->have_mk) {
		/* Refused before the database is touched: a failed command changes
		 * nothing, not even by creating an empty database. */
		ts_cli_error("TESSERA_MASTER_KEY is not set; it seals the signing keys of tenant %s",
			     o.pos[1]);
		return TS_EXIT_FAIL;
	}
	if (strcmp(verb, "create") == 0 && (exit_code = create_precheck(&o, o.pos[1])) != TS_EXIT_OK)
		return exit_code;
	exit_code = TS_EXIT_FAIL;
	if (strcmp(verb, "create") == 0 || strcmp(verb, "update") == 0 ||
	    strcmp(verb, "list") == 0 || strcmp(verb, "show") == 0 || strcmp(verb, "delete") == 0) {
		if (ts_cli_session_open(c, &s, "cli") != TS_OK)
			return TS_EXIT_FAIL;
	} else {
		goto usage;
	}
	if (strcmp(verb, "create") == 0 || strcmp(verb, "update") == 0) {
		exit_code = tenant_apply_cmd(c, &s, &o, o.pos[1], strcmp(verb, "create") == 0);
	} else if (strcmp(verb, "list") == 0) {
		struct ts_tenant_rec **v = NULL;
		size_t n = 0, i;
		rc = ts_store_tenant_list(s.st, &v, &n);
		if (rc == TS_OK) {
			json_t *a = json_array();
			for (i = 0; i < n; i++)
				json_array_append_new(a, tenant_view(c, v[i]));
			ts_cli_print(c, json_pack("{s:o}", "tenants", a));
			exit_code = TS_EXIT_OK;
		} else {
			exit_code = ts_cli_fail_store_quiet(rc);
		}
		ts_tenant_recs_free(v, n);
	} else if (strcmp(verb, "show") == 0) {
		struct ts_tenant_rec *t = NULL;
		rc = ts_store_tenant_get(s.st, o.pos[1], &t);
		if (rc == TS_OK) {
			ts_cli_print(c, tenant_view(c, t));
			exit_code = TS_EXIT_OK;
		} else if (rc == TS_ENOTFOUND) {
			ts_cli_error_code("not_found", "no tenant named \"%s\"", o.pos[1]);
		} else {
			exit_code = ts_cli_fail_store_quiet(rc);
		}
		ts_tenant_rec_free(t);
	} else {
		rc = ts_store_tenant_delete(s.st, o.pos[1]);
		if (rc == TS_OK) {
			struct ts_audit_rec ar = {0, (char *)o.pos[1], ts_now(), "tenant.deleted", "cli",
						  (char *)o.pos[1], NULL, NULL};
			ts_store_audit_append(s.st, &ar, 1);
			ts_cli_print(c, json_pack("{s:s,s:b}", "name", o.pos[1], "deleted", 1));
			exit_code = TS_EXIT_OK;
		} else if (rc == TS_ENOTFOUND) {
			ts_cli_error_code("not_found", "no tenant named \"%s\"", o.pos[1]);
		} else {
			exit_code = ts_cli_fail_store_quiet(rc);
		}
	}
	ts_cli_session_close(&s);
	return exit_code;
usage:
	ts_cli_error("usage: tessera tenant create|update NAME [--display-name S] [--domain D]... "
		     "[--audience A] [--alg ES256|RS256|EdDSA|PS256] [--access-token-ttl N] "
		     "[--scope NAME[=INCLUDED,...]]... [--role R]... [--compat frappe|activity|integrations|none]... "
		     "[--mobile-login-method M] [--login-client CLIENT_ID] "
		     "[--dynamic-registration on|off] [--key-rotation SECONDS|0]; "
		     "tessera tenant list|show|delete [NAME]");
	return TS_EXIT_USAGE;
}
