/* provider_cmd.c: `tessera provider create|update|list|show|delete`: the
 * token vault's providers. Create and update go through the same
 * validation as the bootstrap file's "providers" section
 * (admin/provider.c); update starts from the stored settings and changes
 * only the options given (a secret not given is kept). Secrets are never
 * printed. */
#include "cmd.h"

#include "vault/vault.h"
#include "store/store_config.h"
#include "store/store_vault.h"

#include <stdlib.h>
#include <string.h>

/* The options that are spec members as they are, in the order they are
 * applied. */
static const struct ts_cli_spec_opt provider_opts[] = {
	{"kind", "kind", TS_CLI_SPEC_STR, NULL},
	{"profile", "profile", TS_CLI_SPEC_STR, NULL},
	{"authorize-url", "authorize_url", TS_CLI_SPEC_STR, NULL},
	{"token-url", "token_url", TS_CLI_SPEC_STR, NULL},
	{"revoke-url", "revoke_url", TS_CLI_SPEC_STR, NULL},
	{"client-id", "client_id", TS_CLI_SPEC_STR, NULL},
	{"client-secret", "client_secret", TS_CLI_SPEC_STR, NULL},
	{"client-secret-env", "client_secret_env", TS_CLI_SPEC_STR, NULL},
	{"auth-method", "auth_method", TS_CLI_SPEC_STR, NULL},
	{"grant", "grant", TS_CLI_SPEC_STR, NULL},
	{"fhir-base-url", "fhir_base_url", TS_CLI_SPEC_STR, NULL},
	{"microsoft-tenant", "microsoft_tenant", TS_CLI_SPEC_STR, NULL},
	{"partner-key", "partner_key", TS_CLI_SPEC_STR, NULL},
	{"partner-key-env", "partner_key_env", TS_CLI_SPEC_STR, NULL},
	{"base-url", "base_url", TS_CLI_SPEC_STR, NULL},
	{"partner-id", "partner_id", TS_CLI_SPEC_STR, NULL},
	/* A secret given anew replaces the stored one of the other form. */
	{"client-secret", "client_secret_env", TS_CLI_SPEC_DEL, NULL},
	{"client-secret-env", "client_secret", TS_CLI_SPEC_DEL, NULL},
	{"partner-key", "partner_key_env", TS_CLI_SPEC_DEL, NULL},
	{"partner-key-env", "partner_key", TS_CLI_SPEC_DEL, NULL},
};

/* Builds the spec members the options give. false on a bad value. */
static bool spec_from_opts(json_t *spec, const struct ts_opts *o)
{
	json_t *scopes = json_array(), *extra = json_object();
	const char *v;
	size_t i;
	bool ok = ts_cli_spec_from_opts(spec, o, provider_opts, TS_ARRAY_LEN(provider_opts));

	if ((v = ts_opts_get(o, "pkce")) != NULL) {
		if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0) {
			ts_cli_error("--pkce must be true or false");
			ok = false;
		}
		json_object_set_new(spec, "pkce", json_boolean(strcmp(v, "true") == 0));
	}
	if ((v = ts_opts_get(o, "token-lifetime")) != NULL) {
		char *end;
		long long n = strtoll(v, &end, 10);
		if (*v == '\0' || *end) {
			ts_cli_error("--token-lifetime must be a whole number of seconds");
			ok = false;
		}
		json_object_set_new(spec, "token_lifetime", json_integer(n));
	}
	for (i = 0; i < o->nopt; i++) {
		const char *val = o->opt[i].value, *eq;
		if (val == NULL)
			continue;
		if (strcmp(o->opt[i].name, "scope") == 0) {
			json_array_append_new(scopes, json_string(val));
		} else if (strcmp(o->opt[i].name, "extra-param") == 0) {
			eq = strchr(val, '=');
			if (eq == NULL || eq == val) {
				ts_cli_error("--extra-param must be NAME=VALUE");
				ok = false;
				continue;
			}
			{
				char *name = ts_xstrndup(val, (size_t)(eq - val));
				json_object_set_new(extra, name, json_string(eq + 1));
				free(name);
			}
		}
	}
	if (json_array_size(scopes))
		json_object_set(spec, "scopes", scopes);
	if (json_object_size(extra))
		json_object_set(spec, "extra_authorize_params", extra);
	json_decref(scopes);
	json_decref(extra);
	return ok;
}

static int provider_apply_cmd(struct ts_config *c, const struct ts_opts *o, const char *tenant,
			      const char *name, bool create)
{
	struct ts_store *st = NULL;
	struct ts_vault *v = NULL;
	struct ts_tenant_rec *t = NULL;
	struct ts_provider_rec *old = NULL;
	json_t *spec = NULL, *view;
	const char *result;
	char err[TS_CLI_ERR_MAX] = "";
	int rc, exit_code = TS_EXIT_FAIL;

	if (ts_cli_open_vault(c, &st, &v, "cli") != TS_OK)
		return TS_EXIT_FAIL;
	if (ts_cli_tenant_get(st, tenant, &t) != TS_OK)
		goto out;
	rc = ts_store_provider_get(st, t->id, name, &old);
	if (create && rc == TS_OK) {
		ts_cli_error_code("already_exists", "provider \"%s\" already exists in tenant \"%s\"", name, tenant);
		goto out;
	}
	if (!create && rc == TS_ENOTFOUND) {
		ts_cli_error_code("not_found", "no provider \"%s\" in tenant \"%s\"", name, tenant);
		goto out;
	}
	if (rc != TS_OK && rc != TS_ENOTFOUND) {
		ts_cli_error("the database failed (%s)", ts_rc_str(rc));
		goto out;
	}
	spec = old ? json_loads(old->config, 0, NULL) : json_object();
	if (spec == NULL)
		spec = json_object();
	json_object_set_new(spec, "name", json_string(name));
	if (!spec_from_opts(spec, o)) {
		exit_code = TS_EXIT_USAGE;
		goto out;
	}
	rc = ts_admin_provider_apply(v, tenant, spec, !create, &result, err, sizeof(err));
	if (rc != TS_OK) {
		ts_cli_error("%s", err);
		goto out;
	}
	ts_provider_rec_free(old);
	old = NULL;
	if (ts_store_provider_get(st, t->id, name, &old) != TS_OK) {
		ts_cli_error("the database failed");
		goto out;
	}
	view = ts_vault_provider_view(old);
	json_object_set_new(view, "result", json_string(result));
	ts_cli_print(c, view);
	exit_code = TS_EXIT_OK;
out:
	json_decref(spec);
	ts_provider_rec_free(old);
	ts_tenant_rec_free(t);
	ts_vault_free(v);
	ts_store_close(st);
	return exit_code;
}

/* list, show, delete: no secret is opened, no master key needed. */
static int provider_read_cmd(struct ts_config *c, const char *verb, const char *tenant,
			     const char *name)
{
	struct ts_store *st = NULL;
	struct ts_tenant_rec *t = NULL;
	int rc, exit_code = TS_EXIT_FAIL;

	if (ts_cli_open_store(c, &st) != TS_OK)
		return TS_EXIT_FAIL;
	if (ts_cli_tenant_get(st, tenant, &t) != TS_OK)
		goto out;
	if (strcmp(verb, "list") == 0) {
		struct ts_provider_rec **v = NULL;
		size_t n = 0, i;
		rc = ts_store_provider_list(st, t->id, &v, &n);
		if (rc == TS_OK) {
			json_t *a = json_array();
			for (i = 0; i < n; i++)
				json_array_append_new(a, ts_vault_provider_view(v[i]));
			ts_cli_print(c, json_pack("{s:s,s:o}", "tenant", tenant, "providers", a));
			exit_code = TS_EXIT_OK;
		}
		ts_provider_recs_free(v, n);
	} else if (strcmp(verb, "show") == 0) {
		struct ts_provider_rec *p = NULL;
		rc = ts_store_provider_get(st, t->id, name, &p);
		if (rc == TS_OK) {
			ts_cli_print(c, ts_vault_provider_view(p));
			exit_code = TS_EXIT_OK;
		}
		ts_provider_rec_free(p);
	} else {
		rc = ts_store_provider_delete(st, t->id, name);
		if (rc == TS_OK) {
			struct ts_audit_rec ar = {0, (char *)tenant, ts_now(), "vault.provider_deleted",
						  "cli", (char *)name, NULL, NULL};
			ts_store_audit_append(st, &ar, 1);
			ts_cli_print(c, json_pack("{s:s,s:b}", "name", name, "deleted", 1));
			exit_code = TS_EXIT_OK;
		} else if (rc == TS_ECONFLICT) {
			ts_cli_error("provider \"%s\" still has connections; delete them first", name);
			rc = TS_OK;
		}
	}
	if (rc == TS_ENOTFOUND)
		ts_cli_error_code("not_found", "no provider \"%s\" in tenant \"%s\"", name, tenant);
	else if (rc != TS_OK)
		ts_cli_error("the database failed (%s)", ts_rc_str(rc));
out:
	ts_tenant_rec_free(t);
	ts_store_close(st);
	return exit_code;
}

int ts_cmd_provider(struct ts_config *c, int argc, char **argv)
{
	static const char *const known[] = {
		"tenant", "name", "kind", "profile", "authorize-url", "token-url", "revoke-url",
		"client-id", "client-secret", "client-secret-env", "scope", "pkce", "auth-method",
		"extra-param", "token-lifetime", "grant", "fhir-base-url", "microsoft-tenant",
		"partner-id", "partner-key", "partner-key-env", "base-url", NULL,
	};
	struct ts_opts o;
	const char *verb, *tenant, *name;

	if (!ts_opts_parse(argc, argv, NULL, &o) || !ts_opts_only(&o, known) || o.npos < 1)
		goto usage;
	verb = o.pos[0];
	tenant = ts_opts_get(&o, "tenant");
	name = o.npos > 1 ? o.pos[1] : ts_opts_get(&o, "name");
	if (tenant == NULL || o.npos > 2 || (strcmp(verb, "list") != 0 && name == NULL))
		goto usage;
	if (strcmp(verb, "create") == 0 || strcmp(verb, "update") == 0)
		return provider_apply_cmd(c, &o, tenant, name, strcmp(verb, "create") == 0);
	if (strcmp(verb, "list") == 0 || strcmp(verb, "show") == 0 || strcmp(verb, "delete") == 0)
		return provider_read_cmd(c, verb, tenant, name);
usage:
	ts_cli_error("usage: tessera provider create|update --tenant T NAME [--profile salesforce|"
		     "hubspot|google|microsoft|smart-on-fhir|shopee] [--kind oauth2|shopee] "
		     "[--authorize-url U] [--token-url U] [--revoke-url U] [--client-id ID] "
		     "[--client-secret S | --client-secret-env VAR] [--scope S]... [--pkce true|false] "
		     "[--auth-method M] [--extra-param K=V]... [--token-lifetime N] [--grant G] "
		     "[--fhir-base-url U] [--microsoft-tenant T] [--partner-id N] "
		     "[--partner-key K | --partner-key-env VAR] [--base-url U]; "
		     "tessera provider list|show|delete --tenant T [NAME]");
	return TS_EXIT_USAGE;
}
