/* cmds.c: day-to-day administration: `tenant`, `client`, `keys`, `audit`.
 * Create and update go through the same validation as the bootstrap file
 * (tenant/admin.c); update starts from the stored settings and changes
 * only the options given. */
#include "cli.h"

#include "compat/compat.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ERR_MAX 512
#define AUDIT_DEFAULT_LIMIT 1000
#define AUDIT_MAX_LIMIT 100000

struct session {
	struct ts_store *st;
	struct ts_admin a;
};

static int open_session(struct ts_config *c, struct session *s, const char *actor)
{
	memset(s, 0, sizeof(*s));
	if (ts_cli_open_store(c, &s->st) != TS_OK)
		return TS_ESTORE;
	s->a.store = s->st;
	s->a.mk = c->have_mk ? &c->mk : NULL;
	s->a.public_url = c->public_url;
	s->a.actor = actor;
	return TS_OK;
}

static void close_session(struct session *s)
{
	ts_store_close(s->st);
}

static int fail_store(int rc)
{
	if (rc == TS_ENOTFOUND)
		return TS_EXIT_FAIL;
	ts_cli_error("the database failed (%s)", ts_rc_str(rc));
	return TS_EXIT_FAIL;
}

/* Collects every value of a repeated option into a JSON array. */
static json_t *opt_array(const struct ts_opts *o, const char *name)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < o->nopt; i++)
		if (strcmp(o->opt[i].name, name) == 0 && o->opt[i].value)
			json_array_append_new(a, json_string(o->opt[i].value));
	return a;
}

static bool set_int(json_t *spec, const struct ts_opts *o, const char *opt, const char *key)
{
	const char *v = ts_opts_get(o, opt);
	char *end;
	long long n;

	if (v == NULL)
		return true;
	n = strtoll(v, &end, 10);
	if (*v == '\0' || *end) {
		ts_cli_error("--%s must be a whole number", opt);
		return false;
	}
	json_object_set_new(spec, key, json_integer(n));
	return true;
}

static void set_str(json_t *spec, const struct ts_opts *o, const char *opt, const char *key)
{
	const char *v = ts_opts_get(o, opt);

	if (v)
		json_object_set_new(spec, key, json_string(v));
}

static void set_list(json_t *spec, const struct ts_opts *o, const char *opt, const char *key)
{
	json_t *a = opt_array(o, opt);

	if (json_array_size(a))
		json_object_set(spec, key, a);
	json_decref(a);
}

/* --scope NAME or --scope NAME=inc1,inc2 */
static void set_scopes(json_t *spec, const struct ts_opts *o)
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
}

/* --compat NAME... sets the tenant's compatibility profiles; --compat none
 * (alone) turns every profile off. Names are checked by the validation. */
static bool set_compat(json_t *spec, const struct ts_opts *o)
{
	json_t *a = opt_array(o, "compat");
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

static json_t *tenant_view(struct ts_config *c, const struct ts_tenant_rec *t)
{
	json_t *cfg = json_loads(t->config, 0, NULL), *v;
	char *issuer = ts_tenant_issuer(c->public_url, t->name);

	v = json_pack("{s:s,s:s,s:s,s:I,s:I}", "name", t->name, "id", t->id, "issuer", issuer,
		      "created_at", (json_int_t)t->created_at, "updated_at", (json_int_t)t->updated_at);
	if (cfg)
		json_object_update_missing(v, cfg);
	json_decref(cfg);
	free(issuer);
	return v;
}

static int tenant_apply_cmd(struct ts_config *c, struct session *s, const struct ts_opts *o,
			    const char *name, bool create)
{
	struct ts_tenant_rec *old = NULL;
	json_t *spec;
	const char *result;
	char err[ERR_MAX] = "";
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
		return fail_store(rc);
	spec = old ? json_loads(old->config, 0, NULL) : json_object();
	if (spec == NULL)
		spec = json_object();
	json_object_set_new(spec, "name", json_string(name));
	set_str(spec, o, "display-name", "display_name");
	set_str(spec, o, "audience", "audience");
	set_str(spec, o, "alg", "access_token_alg");
	set_list(spec, o, "domain", "domains");
	set_list(spec, o, "role", "roles");
	set_list(spec, o, "api-key-role", "api_key_roles");
	set_scopes(spec, o);
	set_str(spec, o, "mobile-login-method", "mobile_login_method");
	set_str(spec, o, "login-client", "login_client");
	if (!set_compat(spec, o) || !set_int(spec, o, "access-token-ttl", "access_token_ttl") ||
	    !set_int(spec, o, "refresh-token-ttl", "refresh_token_ttl") ||
	    !set_int(spec, o, "code-ttl", "code_ttl")) {
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
		return fail_store(rc);
	{
		json_t *v = tenant_view(c, old);
		json_object_set_new(v, "result", json_string(result));
		ts_cli_print(c, v);
	}
	ts_tenant_rec_free(old);
	return TS_EXIT_OK;
}

int ts_cmd_tenant(struct ts_config *c, int argc, char **argv)
{
	static const char *const known[] = {"display-name", "audience", "alg", "domain", "role",
					    "api-key-role", "scope", "access-token-ttl",
					    "refresh-token-ttl", "code-ttl", "compat",
					    "mobile-login-method", "login-client", NULL};
	struct ts_opts o;
	struct session s;
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
	if (strcmp(verb, "create") == 0 || strcmp(verb, "update") == 0 ||
	    strcmp(verb, "list") == 0 || strcmp(verb, "show") == 0 || strcmp(verb, "delete") == 0) {
		if (open_session(c, &s, "cli") != TS_OK)
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
			exit_code = fail_store(rc);
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
			exit_code = fail_store(rc);
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
			exit_code = fail_store(rc);
		}
	}
	close_session(&s);
	return exit_code;
usage:
	ts_cli_error("usage: tessera tenant create|update NAME [--display-name S] [--domain D]... "
		     "[--audience A] [--alg ES256|RS256|EdDSA|PS256] [--access-token-ttl N] "
		     "[--scope NAME[=INCLUDED,...]]... [--role R]... [--compat frappe|activity|integrations|none]... "
		     "[--mobile-login-method M] [--login-client CLIENT_ID]; "
		     "tessera tenant list|show|delete [NAME]");
	return TS_EXIT_USAGE;
}

static json_t *client_view(const struct ts_client_rec *r)
{
	json_t *cfg = json_loads(r->config, 0, NULL), *v;

	v = json_pack("{s:s,s:b,s:I,s:I}", "client_id", r->client_id, "has_secret",
		      r->secret_hash != NULL, "created_at", (json_int_t)r->created_at, "updated_at",
		      (json_int_t)r->updated_at);
	if (cfg)
		json_object_update_missing(v, cfg);
	json_decref(cfg);
	return v;
}

static int client_apply_cmd(struct ts_config *c, struct session *s, const struct ts_opts *o,
			    const char *tenant, const char *id, bool create)
{
	struct ts_tenant_rec *t = NULL;
	struct ts_client_rec *old = NULL;
	json_t *spec = NULL, *view;
	const char *result;
	char *secret = NULL;
	char err[ERR_MAX] = "";
	int rc, exit_code = TS_EXIT_FAIL;

	rc = ts_store_tenant_get(s->st, tenant, &t);
	if (rc == TS_ENOTFOUND) {
		ts_cli_error_code("not_found", "no tenant named \"%s\"", tenant);
		goto out;
	}
	if (rc != TS_OK) {
		exit_code = fail_store(rc);
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
		exit_code = fail_store(rc);
		goto out;
	}
	spec = old ? json_loads(old->config, 0, NULL) : json_object();
	if (spec == NULL)
		spec = json_object();
	json_object_set_new(spec, "client_id", json_string(id));
	set_str(spec, o, "name", "name");
	set_str(spec, o, "type", "type");
	set_str(spec, o, "secret", "secret");
	set_str(spec, o, "secret-env", "secret_env");
	set_list(spec, o, "grant", "grant_types");
	set_list(spec, o, "scope", "scopes");
	set_list(spec, o, "redirect-uri", "redirect_uris");
	set_list(spec, o, "post-logout-redirect-uri", "post_logout_redirect_uris");
	set_list(spec, o, "cors-origin", "allowed_cors_origins");
	if (ts_opts_has(o, "skip-consent"))
		json_object_set_new(spec, "skip_consent", json_true());
	if (ts_opts_has(o, "disabled"))
		json_object_set_new(spec, "disabled", json_true());
	if (ts_opts_has(o, "enabled"))
		json_object_del(spec, "disabled");
	rc = ts_admin_client_apply(&s->a, tenant, spec, &result, &secret, err, sizeof(err));
	if (rc != TS_OK) {
		ts_cli_error("%s", err);
		goto out;
	}
	ts_client_rec_free(old);
	old = NULL;
	rc = ts_store_client_get(s->st, t->id, id, &old);
	if (rc != TS_OK) {
		exit_code = fail_store(rc);
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

int ts_cmd_client(struct ts_config *c, int argc, char **argv)
{
	static const char *const known[] = {"tenant", "client-id", "name", "type", "secret",
					    "secret-env", "grant", "scope", "redirect-uri",
					    "post-logout-redirect-uri", "cors-origin", "skip-consent",
					    "disabled", "enabled", NULL};
	struct ts_opts o;
	struct session s;
	struct ts_tenant_rec *t = NULL;
	const char *verb, *tenant, *id;
	int rc, exit_code = TS_EXIT_FAIL;

	if (!ts_opts_parse(argc, argv, NULL, &o) || !ts_opts_only(&o, known) || o.npos < 1)
		goto usage;
	verb = o.pos[0];
	tenant = ts_opts_get(&o, "tenant");
	id = o.npos > 1 ? o.pos[1] : ts_opts_get(&o, "client-id");
	if (tenant == NULL || o.npos > 2 || (strcmp(verb, "list") != 0 && id == NULL))
		goto usage;
	if (open_session(c, &s, "cli") != TS_OK)
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
			fail_store(rc);
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
			exit_code = fail_store(rc);
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
			exit_code = fail_store(rc);
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
			exit_code = fail_store(rc);
		}
	} else if (strcmp(verb, "rotate-secret") == 0) {
		char *secret = NULL;
		char err[ERR_MAX] = "";
		rc = ts_admin_client_rotate_secret(&s.a, tenant, id, &secret, err, sizeof(err));
		if (rc == TS_OK) {
			ts_cli_print(c, json_pack("{s:s,s:s}", "client_id", id, "client_secret", secret));
			exit_code = TS_EXIT_OK;
		} else {
			ts_cli_error("%s", err);
		}
		ts_free_secret(secret);
	} else if (strcmp(verb, "disable") == 0 || strcmp(verb, "enable") == 0) {
		struct ts_opts o2 = o;
		o2.opt[o2.nopt].name = verb[0] == 'd' ? "disabled" : "enabled";
		o2.opt[o2.nopt].value = NULL;
		if (o2.nopt < TS_OPTS_MAX)
			o2.nopt++;
		exit_code = client_apply_cmd(c, &s, &o2, tenant, id, false);
	} else {
		close_session(&s);
		ts_tenant_rec_free(t);
		goto usage;
	}
done:
	ts_tenant_rec_free(t);
	close_session(&s);
	return exit_code;
usage:
	ts_cli_error("usage: tessera client create|update|show|delete|disable|enable|rotate-secret "
		     "--tenant T CLIENT_ID [--type public|confidential] [--grant G]... [--scope S]... "
		     "[--redirect-uri U]... [--secret S | --secret-env VAR]; tessera client list --tenant T");
	return TS_EXIT_USAGE;
}

int ts_cmd_keys(struct ts_config *c, int argc, char **argv)
{
	static const char *const known[] = {"tenant", "alg", NULL};
	struct ts_opts o;
	struct session s;
	struct ts_tenant_rec *t = NULL;
	const char *tenant, *alg_s;
	enum ts_jws_alg alg = TS_ALG_NONE;
	int rc, exit_code = TS_EXIT_FAIL;

	if (!ts_opts_parse(argc, argv, NULL, &o))
		goto usage;
	if (o.npos >= 1 && strcmp(o.pos[0], "rekey-vault") == 0)
		return ts_cmd_keys_rekey_vault(c, argc, argv);
	if (!ts_opts_only(&o, known) || o.npos != 1 || (tenant = ts_opts_get(&o, "tenant")) == NULL)
		goto usage;
	alg_s = ts_opts_get(&o, "alg");
	if (alg_s && (alg = ts_jws_alg_parse(alg_s)) == TS_ALG_NONE) {
		ts_cli_error("--alg must be ES256, RS256, EdDSA or PS256");
		return TS_EXIT_USAGE;
	}
	if (strcmp(o.pos[0], "rotate") == 0) {
		char err[ERR_MAX] = "";
		if (!c->have_mk) {
			ts_cli_error("TESSERA_MASTER_KEY is not set; it seals the new key");
			return TS_EXIT_FAIL;
		}
		if (open_session(c, &s, "cli") != TS_OK)
			return TS_EXIT_FAIL;
		rc = ts_admin_keys_rotate(&s.a, tenant, alg, err, sizeof(err));
		if (rc != TS_OK) {
			ts_cli_error("%s", err);
			close_session(&s);
			return TS_EXIT_FAIL;
		}
	} else if (strcmp(o.pos[0], "list") == 0) {
		if (open_session(c, &s, "cli") != TS_OK)
			return TS_EXIT_FAIL;
	} else {
		goto usage;
	}
	rc = ts_store_tenant_get(s.st, tenant, &t);
	if (rc == TS_OK) {
		struct ts_key_rec **v = NULL;
		size_t n = 0, i;
		rc = ts_store_key_list(s.st, t->id, &v, &n);
		if (rc == TS_OK) {
			json_t *a = json_array();
			for (i = 0; i < n; i++) {
				if (alg != TS_ALG_NONE && ts_jws_alg_parse(v[i]->alg) != alg)
					continue;
				json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:I,s:I,s:I}", "kid", v[i]->kid,
								   "alg", v[i]->alg, "state", v[i]->state,
								   "created_at", (json_int_t)v[i]->created_at,
								   "activated_at", (json_int_t)v[i]->activated_at,
								   "retired_at", (json_int_t)v[i]->retired_at));
			}
			ts_cli_print(c, json_pack("{s:s,s:o}", "tenant", tenant, "keys", a));
			exit_code = TS_EXIT_OK;
		} else {
			exit_code = fail_store(rc);
		}
		ts_key_recs_free(v, n);
	} else if (rc == TS_ENOTFOUND) {
		ts_cli_error_code("not_found", "no tenant named \"%s\"", tenant);
	} else {
		exit_code = fail_store(rc);
	}
	ts_tenant_rec_free(t);
	close_session(&s);
	return exit_code;
usage:
	ts_cli_error("usage: tessera keys list|rotate --tenant T [--alg ALG]; tessera keys rekey-vault");
	return TS_EXIT_USAGE;
}

/* --since: Unix seconds, an ISO 8601 UTC time (YYYY-MM-DDTHH:MM:SSZ), or a
 * duration back from now ("15m", "2h", "7d"). */
static bool parse_since(const char *s, int64_t *out)
{
	char *end;
	long long v;
	struct tm tm;

	if (s == NULL) {
		*out = 0;
		return true;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end && (*end == '\0' || strcmp(end, "Z") == 0)) {
		*out = (int64_t)timegm(&tm);
		return true;
	}
	v = strtoll(s, &end, 10);
	if (end == s || v < 0)
		return false;
	if (*end == '\0')
		*out = v;
	else if (strcmp(end, "s") == 0)
		*out = ts_now() - v;
	else if (strcmp(end, "m") == 0)
		*out = ts_now() - v * TS_SECONDS_PER_MINUTE;
	else if (strcmp(end, "h") == 0)
		*out = ts_now() - v * TS_SECONDS_PER_HOUR;
	else if (strcmp(end, "d") == 0)
		*out = ts_now() - v * TS_SECONDS_PER_DAY;
	else
		return false;
	return true;
}

int ts_cmd_audit(struct ts_config *c, int argc, char **argv)
{
	static const char *const known[] = {"tenant", "since", "limit", NULL};
	struct ts_opts o;
	struct session s;
	struct ts_audit_rec **v = NULL;
	const char *lim;
	int64_t since;
	long long limit = AUDIT_DEFAULT_LIMIT;
	size_t n = 0, i;
	int rc, exit_code = TS_EXIT_FAIL;

	if (!ts_opts_parse(argc, argv, NULL, &o) || !ts_opts_only(&o, known) || o.npos != 0 ||
	    ts_opts_get(&o, "tenant") == NULL) {
		ts_cli_error("usage: tessera audit --tenant T [--since TIME|DURATION] [--limit N] [--json]");
		return TS_EXIT_USAGE;
	}
	if (!parse_since(ts_opts_get(&o, "since"), &since)) {
		ts_cli_error("--since must be Unix seconds, YYYY-MM-DDTHH:MM:SSZ or a duration such as 15m");
		return TS_EXIT_USAGE;
	}
	if ((lim = ts_opts_get(&o, "limit")) != NULL) {
		char *end;
		limit = strtoll(lim, &end, 10);
		if (*lim == '\0' || *end || limit < 1 || limit > AUDIT_MAX_LIMIT) {
			ts_cli_error("--limit must be between 1 and %d", AUDIT_MAX_LIMIT);
			return TS_EXIT_USAGE;
		}
	}
	if (open_session(c, &s, "cli") != TS_OK)
		return TS_EXIT_FAIL;
	rc = ts_store_audit_query(s.st, ts_opts_get(&o, "tenant"), since, (size_t)limit, &v, &n);
	if (rc == TS_OK) {
		json_t *a = json_array();
		for (i = 0; i < n; i++) {
			json_t *e = json_pack("{s:I,s:I,s:s}", "id", (json_int_t)v[i]->id, "time",
					      (json_int_t)v[i]->time, "type", v[i]->type);
			if (v[i]->tenant)
				json_object_set_new(e, "tenant", json_string(v[i]->tenant));
			if (v[i]->actor)
				json_object_set_new(e, "actor", json_string(v[i]->actor));
			if (v[i]->subject)
				json_object_set_new(e, "subject", json_string(v[i]->subject));
			if (v[i]->request_id)
				json_object_set_new(e, "request_id", json_string(v[i]->request_id));
			if (v[i]->detail) {
				json_t *d = json_loads(v[i]->detail, 0, NULL);
				if (d)
					json_object_set_new(e, "detail", d);
			}
			json_array_append_new(a, e);
		}
		ts_cli_print(c, json_pack("{s:s,s:o}", "tenant", ts_opts_get(&o, "tenant"), "events", a));
		exit_code = TS_EXIT_OK;
	} else {
		exit_code = fail_store(rc);
	}
	ts_audit_recs_free(v, n);
	close_session(&s);
	return exit_code;
}
