/* client_cmd.c: `tessera client
 * create|update|list|show|delete|disable|enable|rotate-secret`, and
 * `tessera client registration-token` (an initial access token for
 * dynamic registration). Create and
 * update go through the same validation as the bootstrap file
 * (admin/client.c); update starts from the stored settings and changes
 * only the options given. */
#include "cmd.h"
#include "oauth/oauth.h"
#include "store/store_config.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

static json_t *client_view(const struct ts_client_rec *r)
{
	json_t *cfg = json_loads(r->config, 0, NULL), *v;

	v = json_pack("{s:s,s:b,s:I,s:I}", "client_id", r->client_id, "has_secret",
		      r->secret_hash != NULL, "created_at", (json_int_t)r->created_at, "updated_at",
		      (json_int_t)r->updated_at);
	if (cfg)
		json_object_update_missing(v, cfg);
	json_decref(cfg);
	/* Every setting shown, the defaults too, so that the shape is the
	 * same for every client. */
	ts_cli_json_default(v, "refresh_reuse_grace", json_integer(TS_REFRESH_REUSE_GRACE_DEFAULT));
	ts_cli_json_default(v, "name", json_null());
	ts_cli_json_default(v, "disabled", json_false());
	ts_cli_json_default(v, "skip_consent", json_false());
	ts_cli_json_default(v, "redirect_uris", json_array());
	ts_cli_json_default(v, "post_logout_redirect_uris", json_array());
	ts_cli_json_default(v, "scopes", json_array());
	ts_cli_json_default(v, "allowed_cors_origins", json_array());
	return v;
}

/* The options of create and update, in the order they are applied: each
 * into its spec member, which admin/client.c validates. */
static const struct ts_cli_spec_opt client_opts[] = {
	{"name", "name", TS_CLI_SPEC_STR, NULL},
	{"type", "type", TS_CLI_SPEC_STR, NULL},
	{"secret", "secret", TS_CLI_SPEC_STR, NULL},
	{"secret-env", "secret_env", TS_CLI_SPEC_STR, NULL},
	{"grant", "grant_types", TS_CLI_SPEC_LIST, NULL},
	{"scope", "scopes", TS_CLI_SPEC_LIST, NULL},
	{"redirect-uri", "redirect_uris", TS_CLI_SPEC_LIST, NULL},
	{"post-logout-redirect-uri", "post_logout_redirect_uris", TS_CLI_SPEC_LIST, NULL},
	{"cors-origin", "allowed_cors_origins", TS_CLI_SPEC_LIST, NULL},
	{"skip-consent", "skip_consent", TS_CLI_SPEC_TRUE, NULL},
	{"disabled", "disabled", TS_CLI_SPEC_TRUE, NULL},
	{"dpop-bound-access-tokens", "dpop_bound_access_tokens", TS_CLI_SPEC_TRUE, NULL},
	{"enabled", "disabled", TS_CLI_SPEC_DEL, NULL},
	/* SECONDS; anything else reaches the validation, which says what it takes */
	{"refresh-reuse-grace", "refresh_reuse_grace", TS_CLI_SPEC_NUMBER, NULL},
	{"require-pushed-authorization-requests", "require_pushed_authorization_requests",
	 TS_CLI_SPEC_TRUE, NULL},
	{"no-require-pushed-authorization-requests", "require_pushed_authorization_requests",
	 TS_CLI_SPEC_DEL, NULL},
};

static int client_apply_cmd(struct ts_config *c, struct ts_cli_session *s, const struct ts_opts *o,
			    const char *tenant, const char *id, bool create)
{
	struct ts_tenant_rec *t = NULL;
	struct ts_client_rec *old = NULL;
	json_t *spec = NULL, *view;
	const char *result;
	char *secret = NULL;
	char err[TS_CLI_ERR_MAX] = "";
	int rc, exit_code = TS_EXIT_FAIL;

	rc = ts_store_tenant_get(s->st, tenant, &t);
	if (rc == TS_ENOTFOUND) {
		ts_cli_error_code("not_found", "no tenant named \"%s\"", tenant);
		goto out;
	}
	if (rc != TS_OK) {
		exit_code = ts_cli_fail_store_quiet(rc);
		goto out;
	}
	rc = ts_store_client_get(s->st, t->id, id, &old);
	if (create && rc == TS_OK) {
		ts_cli_error_code("already_exists", "client \"%s\" already exists in tenant \"%s\"", id, tenant);
		goto out;
	}
	if (!create && rc == TS_ENOTFOUND) {
		ts_cli_error_code("not_found", "no client \"%s\" in tenant \"%s\"", id, tenant);
		goto out;
	}
	if (rc != TS_OK && rc != TS_ENOTFOUND) {
		exit_code = ts_cli_fail_store_quiet(rc);
		goto out;
	}
	spec = old ? json_loads(old->config, 0, NULL) : json_object();
	if (spec == NULL)
		spec = json_object();
	json_object_del(spec, TS_CLIENT_TOKENS_AFTER); /* kept by the apply, not a setting */
	json_object_set_new(spec, "client_id", json_string(id));
	if (!ts_cli_spec_from_opts(spec, o, client_opts, TS_ARRAY_LEN(client_opts))) {
		exit_code = TS_EXIT_USAGE;
		goto out;
	}
	rc = ts_admin_client_apply(&s->a, tenant, spec, &result, &secret, err, sizeof(err));
	if (rc != TS_OK) {
		ts_cli_error("%s", err);
		goto out;
	}
	ts_client_rec_free(old);
	old = NULL;
	rc = ts_store_client_get(s->st, t->id, id, &old);
	if (rc != TS_OK) {
		exit_code = ts_cli_fail_store_quiet(rc);
		goto out;
	}
	view = client_view(old);
	json_object_set_new(view, "result", json_string(result));
	if (secret)
		json_object_set_new(view, "client_secret", json_string(secret));
	ts_cli_print(c, view);
	exit_code = TS_EXIT_OK;
out:
	ts_free_secret(secret);
	json_decref(spec);
	ts_client_rec_free(old);
	ts_tenant_rec_free(t);
	return exit_code;
}

/* An initial access token for dynamic client registration: printed once,
 * stored as its SHA-256, spent by one registration or at --expires. */
static int registration_token_cmd(struct ts_config *c, struct ts_cli_session *s,
				  const struct ts_opts *o, const struct ts_tenant_rec *t)
{
	const char *e = ts_opts_get(o, "expires");
	char tok[TS_REG_TOKEN_CAP];
	char *end = NULL;
	long long ttl = TS_REG_TOKEN_TTL_S;
	int64_t exp;
	int rc;

	if (e) {
		ttl = strtoll(e, &end, 10);
		if (*e == '\0' || *end || ttl < 1 || ttl > TS_REG_TOKEN_TTL_MAX_S) {
			ts_cli_error("--expires takes 1 to %d seconds", TS_REG_TOKEN_TTL_MAX_S);
			return TS_EXIT_USAGE;
		}
	}
	exp = ts_now() + ttl;
	rc = ts_register_token_new(s->st, t->id, exp, tok, sizeof(tok));
	if (rc != TS_OK)
		return ts_cli_fail_store_quiet(rc);
	ts_cli_print(c, json_pack("{s:s,s:s,s:I}", "tenant", t->name, "initial_access_token", tok,
				  "expires_at", (json_int_t)exp));
	OPENSSL_cleanse(tok, sizeof(tok));
	return TS_EXIT_OK;
}

int ts_cmd_client(struct ts_config *c, int argc, char **argv)
{
	static const char *const known[] = {"tenant", "client-id", "name", "type", "secret",
					    "secret-env", "grant", "scope", "redirect-uri",
					    "post-logout-redirect-uri", "cors-origin", "skip-consent",
					    "disabled", "enabled", "refresh-reuse-grace", "dpop-bound-access-tokens",
					    "require-pushed-authorization-requests",
					    "no-require-pushed-authorization-requests", "expires", NULL};
	struct ts_opts o;
	struct ts_cli_session s;
	struct ts_tenant_rec *t = NULL;
	const char *verb, *tenant, *id;
	int rc, exit_code = TS_EXIT_FAIL;

	if (!ts_opts_parse(argc, argv, NULL, &o) || !ts_opts_only(&o, known) || o.npos < 1)
		goto usage;
	verb = o.pos[0];
	tenant = ts_opts_get(&o, "tenant");
	id = o.npos > 1 ? o.pos[1] : ts_opts_get(&o, "client-id");
	if (tenant == NULL || o.npos > 2 ||
	    (strcmp(verb, "list") != 0 && strcmp(verb, "registration-token") != 0 && id == NULL))
		goto usage;
	if (ts_cli_session_open(c, &s, "cli") != TS_OK)
		return TS_EXIT_FAIL;
	if (strcmp(verb, "create") == 0 || strcmp(verb, "update") == 0) {
		exit_code = client_apply_cmd(c, &s, &o, tenant, id, strcmp(verb, "create") == 0);
		goto done;
	}
	rc = ts_store_tenant_get(s.st, tenant, &t);
	if (rc != TS_OK) {
		if (rc == TS_ENOTFOUND)
			ts_cli_error_code("not_found", "no tenant named \"%s\"", tenant);
		else
			ts_cli_fail_store_quiet(rc);
		goto done;
	}
	if (strcmp(verb, "list") == 0) {
		struct ts_client_rec **v = NULL;
		size_t n = 0, i;
		rc = ts_store_client_list(s.st, t->id, &v, &n);
		if (rc == TS_OK) {
			json_t *a = json_array();
			for (i = 0; i < n; i++)
				json_array_append_new(a, client_view(v[i]));
			ts_cli_print(c, json_pack("{s:o}", "clients", a));
			exit_code = TS_EXIT_OK;
		} else {
			exit_code = ts_cli_fail_store_quiet(rc);
		}
		ts_client_recs_free(v, n);
	} else if (strcmp(verb, "show") == 0) {
		struct ts_client_rec *r = NULL;
		rc = ts_store_client_get(s.st, t->id, id, &r);
		if (rc == TS_OK) {
			ts_cli_print(c, client_view(r));
			exit_code = TS_EXIT_OK;
		} else if (rc == TS_ENOTFOUND) {
			ts_cli_error_code("not_found", "no client \"%s\" in tenant \"%s\"", id, tenant);
		} else {
			exit_code = ts_cli_fail_store_quiet(rc);
		}
		ts_client_rec_free(r);
	} else if (strcmp(verb, "delete") == 0) {
		rc = ts_store_client_delete(s.st, t->id, id);
		if (rc == TS_OK) {
			struct ts_audit_rec ar = {0, (char *)tenant, ts_now(), "client.deleted", "cli",
						  (char *)id, NULL, NULL};
			ts_store_audit_append(s.st, &ar, 1);
			ts_cli_print(c, json_pack("{s:s,s:b}", "client_id", id, "deleted", 1));
			exit_code = TS_EXIT_OK;
		} else if (rc == TS_ENOTFOUND) {
			ts_cli_error_code("not_found", "no client \"%s\" in tenant \"%s\"", id, tenant);
		} else {
			exit_code = ts_cli_fail_store_quiet(rc);
		}
	} else if (strcmp(verb, "rotate-secret") == 0) {
		char *secret = NULL;
		char err[TS_CLI_ERR_MAX] = "";
		rc = ts_admin_client_rotate_secret(&s.a, tenant, id, &secret, err, sizeof(err));
		if (rc == TS_OK) {
			ts_cli_print(c, json_pack("{s:s,s:s}", "client_id", id, "client_secret", secret));
			exit_code = TS_EXIT_OK;
		} else {
			ts_cli_error_code(rc == TS_ENOTFOUND ? "not_found" : NULL, "%s", err);
		}
		ts_free_secret(secret);
	} else if (strcmp(verb, "registration-token") == 0) {
		exit_code = registration_token_cmd(c, &s, &o, t);
	} else if (strcmp(verb, "disable") == 0 || strcmp(verb, "enable") == 0) {
		struct ts_opts o2 = o;
		o2.opt[o2.nopt].name = verb[0] == 'd' ? "disabled" : "enabled";
		o2.opt[o2.nopt].value = NULL;
		if (o2.nopt < TS_OPTS_MAX)
			o2.nopt++;
		exit_code = client_apply_cmd(c, &s, &o2, tenant, id, false);
	} else {
		ts_cli_session_close(&s);
		ts_tenant_rec_free(t);
		goto usage;
	}
done:
	ts_tenant_rec_free(t);
	ts_cli_session_close(&s);
	return exit_code;
usage:
	ts_cli_error("usage: tessera client create|update|show|delete|disable|enable|rotate-secret "
		     "--tenant T CLIENT_ID [--type public|confidential] [--grant G]... [--scope S]... "
		     "[--redirect-uri U]... [--secret S | --secret-env VAR] [--refresh-reuse-grace SECONDS]; "
		     "tessera client list --tenant T; "
		     "tessera client registration-token --tenant T [--expires SECONDS]");
	return TS_EXIT_USAGE;
}
