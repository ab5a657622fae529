/* bootstrap.c: `tessera bootstrap FILE`: applies a declarative file
 * idempotently. The whole file is validated before anything is written,
 * then applied in one write batch that is committed only when every part
 * of it succeeded, so a file that fails changes nothing. */
#include "cli.h"
#include "identity/identity.h"
#include "vault/vault.h"
#include "store/store_config.h"

#include <stdlib.h>
#include <string.h>

#define ERR_MAX 512

/* Members of a tenant in the file that are not tenant settings. */
static const char *const tenant_sections[] = {"clients", "users", "groups", "providers",
					      "connections", NULL};

static bool is_section(const char *k)
{
	size_t i;

	for (i = 0; tenant_sections[i]; i++)
		if (strcmp(tenant_sections[i], k) == 0)
			return true;
	return false;
}

/* The tenant spec without its sections (new reference). */
static json_t *tenant_settings(const json_t *t)
{
	json_t *s = json_object();
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)t, k, v) {
		if (!is_section(k))
			json_object_set(s, k, v);
	}
	return s;
}

static json_t *created_value(const char *result)
{
	if (strcmp(result, "created") == 0)
		return json_true();
	if (strcmp(result, "updated") == 0)
		return json_string("updated");
	return json_false();
}

static bool has_string(const json_t *arr, const char *s)
{
	size_t i;

	for (i = 0; i < json_array_size(arr); i++)
		if (ts_str_eq(ts_str_c(json_string_value(json_array_get(arr, i))), s))
			return true;
	return false;
}

/* The tenant's "users" and "groups" sections. */
static int validate_people(const json_t *t, char *err, size_t cap)
{
	const json_t *users = json_object_get(t, "users"), *groups = json_object_get(t, "groups");
	size_t j;
	int rc = TS_OK;

	if ((users && !json_is_array(users)) || (groups && !json_is_array(groups))) {
		snprintf(err, cap, "\"%s\" must be an array",
			 users && !json_is_array(users) ? "users" : "groups");
		return TS_EINVAL;
	}
	for (j = 0; rc == TS_OK && j < json_array_size(users); j++) {
		const json_t *u = json_array_get(users, j), *roles = json_object_get(u, "roles");
		size_t k;
		rc = ts_admin_user_validate(u, err, cap);
		/* Roles are checked here against the file's tenant, which replaces
		 * the stored one, so that a bad role fails before any write. */
		for (k = 0; rc == TS_OK && k < json_array_size(roles); k++) {
			const char *r = json_string_value(json_array_get(roles, k));
			if (!has_string(json_object_get(t, "roles"), r)) {
				snprintf(err, cap, "user %s: \"%s\" is not a role of tenant \"%s\"",
					 json_string_value(json_object_get(u, "username")), r,
					 json_string_value(json_object_get(t, "name")));
				rc = TS_EINVAL;
			}
		}
	}
	for (j = 0; rc == TS_OK && j < json_array_size(groups); j++)
		rc = ts_admin_group_validate(json_array_get(groups, j), err, cap);
	return rc;
}

/* The tenant's "providers" and "connections" sections (token vault). */
static int validate_vault(const json_t *t, char *err, size_t cap)
{
	const json_t *ps = json_object_get(t, "providers"), *cs = json_object_get(t, "connections");
	size_t j;
	int rc = TS_OK;

	if ((ps && !json_is_array(ps)) || (cs && !json_is_array(cs))) {
		snprintf(err, cap, "\"%s\" must be an array",
			 ps && !json_is_array(ps) ? "providers" : "connections");
		return TS_EINVAL;
	}
	for (j = 0; rc == TS_OK && j < json_array_size(ps); j++)
		rc = ts_admin_provider_validate(json_array_get(ps, j), true, err, cap);
	for (j = 0; rc == TS_OK && j < json_array_size(cs); j++) {
		const json_t *cn = json_array_get(cs, j);
		const char *pname = json_string_value(json_object_get(cn, "provider"));
		size_t k;
		rc = ts_vault_connection_spec_validate(cn, err, cap);
		/* Only client-credentials providers can be connected without a
		 * person; a provider of the same file is checked now, one already
		 * stored when the file is applied. */
		for (k = 0; rc == TS_OK && k < json_array_size(ps); k++) {
			const json_t *p = json_array_get(ps, k);
			if (ts_str_eq(ts_str_c(json_string_value(json_object_get(p, "name"))), pname) &&
			    !ts_str_eq(ts_str_c(json_string_value(json_object_get(p, "grant"))),
				       "client_credentials")) {
				snprintf(err, cap, "connection %s: provider \"%s\" needs a person to "
					 "authorize it; connect it with POST /api/connections",
					 json_string_value(json_object_get(cn, "name")), pname);
				rc = TS_EINVAL;
			}
		}
	}
	return rc;
}

static int validate(const json_t *doc, char *err, size_t cap)
{
	const json_t *tenants = json_object_get(doc, "tenants");
	const char *k;
	json_t *v;
	size_t i, j;

	if (!json_is_object(doc)) {
		snprintf(err, cap, "the top level must be a JSON object with \"tenants\", not %s",
			 ts_cli_json_kind(doc));
		return TS_EINVAL;
	}
	json_object_foreach((json_t *)doc, k, v) {
		if (strcmp(k, "tenants") != 0) {
			snprintf(err, cap, "unknown field \"%s\" at the top level", k);
			return TS_EINVAL;
		}
	}
	if (!json_is_array(tenants)) {
		snprintf(err, cap, "\"tenants\" must be an array");
		return TS_EINVAL;
	}
	for (i = 0; i < json_array_size(tenants); i++) {
		const json_t *t = json_array_get(tenants, i);
		const json_t *clients = json_object_get(t, "clients");
		json_t *settings;
		int rc;

		if (!json_is_object(t)) {
			snprintf(err, cap, "each tenant must be a JSON object");
			return TS_EINVAL;
		}
		settings = tenant_settings(t);
		rc = ts_admin_tenant_validate(settings, err, cap);
		json_decref(settings);
		if (rc != TS_OK)
			return rc;
		if (clients && !json_is_array(clients)) {
			snprintf(err, cap, "\"clients\" must be an array");
			return TS_EINVAL;
		}
		for (j = 0; j < json_array_size(clients); j++) {
			rc = ts_admin_client_validate(json_array_get(clients, j), err, cap);
			if (rc != TS_OK)
				return rc;
		}
		rc = validate_people(t, err, cap);
		if (rc != TS_OK)
			return rc;
		rc = validate_vault(t, err, cap);
		if (rc != TS_OK)
			return rc;
	}
	return TS_OK;
}

/* What applying a file carries from tenant to tenant. */
struct run {
	struct ts_config *c;
	struct ts_admin *a;
	struct ts_vault *v; /* for providers and connections; NULL when the file has none */
	bool print;         /* --print-secrets */
	json_t *fetch;      /* [tenant, id] of each connection created: its first
			     * token is fetched once the file is committed */
	char *err;
	size_t cap;
};

/* With --print-secrets, the secret that spec supplies as key, or through
 * key_env from the environment, is echoed in res as name. Never
 * otherwise: what the file supplied is not the command's to print. */
static void echo_secret(const struct run *r, json_t *res, const char *name, const json_t *spec,
			const char *key, const char *key_env)
{
	const char *s = json_string_value(json_object_get(spec, key));
	const char *var = json_string_value(json_object_get(spec, key_env));

	if (!r->print)
		return;
	if (s == NULL && var != NULL)
		s = getenv(var);
	if (s != NULL)
		json_object_set_new(res, name, json_string(s));
}

/* Users, then groups (whose members must exist), of one tenant; their
 * results go into res as "users" and "groups". */
static int apply_people(struct run *r, const char *name, const json_t *t, json_t *res)
{
	const json_t *users = json_object_get(t, "users"), *groups = json_object_get(t, "groups");
	json_t *ures = json_array(), *gres = json_array();
	const char *result;
	size_t j;
	int rc = TS_OK;

	for (j = 0; rc == TS_OK && j < json_array_size(users); j++) {
		const json_t *us = json_array_get(users, j);
		json_t *ur;
		rc = ts_admin_user_apply(r->a, name, us, &result, r->err, r->cap);
		if (rc != TS_OK)
			break;
		ur = json_pack("{s:s,s:o}", "username",
			       json_string_value(json_object_get(us, "username")), "created",
			       created_value(result));
		echo_secret(r, ur, "password", us, "password", "password_env");
		echo_secret(r, ur, "app_password", us, "app_password", "app_password_env");
		json_array_append_new(ures, ur);
	}
	for (j = 0; rc == TS_OK && j < json_array_size(groups); j++) {
		const json_t *gs = json_array_get(groups, j);
		char *gid = NULL;
		rc = ts_admin_group_apply(r->a, name, gs, &result, &gid, r->err, r->cap);
		if (rc == TS_OK)
			json_array_append_new(gres, json_pack("{s:s,s:s,s:o}", "name",
				json_string_value(json_object_get(gs, "name")), "id", gid, "created",
				created_value(result)));
		free(gid);
	}
	json_object_set_new(res, "users", ures);
	json_object_set_new(res, "groups", gres);
	return rc;
}

/* Providers, then connections (client-credentials providers only) of
 * one tenant; their results go into res as "providers" and "connections". */
static int apply_vault(struct run *r, const char *name, const json_t *t, json_t *res)
{
	const json_t *ps = json_object_get(t, "providers"), *cs = json_object_get(t, "connections");
	json_t *pres = json_array(), *cres = json_array();
	const char *result;
	size_t j;
	int rc = TS_OK;

	for (j = 0; rc == TS_OK && j < json_array_size(ps); j++) {
		const json_t *p = json_array_get(ps, j);
		json_t *pr;
		rc = ts_admin_provider_apply(r->v, name, p, false, &result, r->err, r->cap);
		if (rc != TS_OK)
			break;
		pr = json_pack("{s:s,s:o}", "name", json_string_value(json_object_get(p, "name")),
			       "created", created_value(result));
		echo_secret(r, pr, "client_secret", p, "client_secret", "client_secret_env");
		echo_secret(r, pr, "partner_key", p, "partner_key", "partner_key_env");
		json_array_append_new(pres, pr);
	}
	for (j = 0; rc == TS_OK && j < json_array_size(cs); j++) {
		const json_t *cn = json_array_get(cs, j);
		char *id = NULL;
		rc = ts_vault_connection_declare(r->v, name, cn, &result, &id, r->err, r->cap);
		if (rc == TS_OK) {
			json_array_append_new(cres, json_pack("{s:s,s:s,s:s,s:o}", "name",
				json_string_value(json_object_get(cn, "name")), "provider",
				json_string_value(json_object_get(cn, "provider")), "id", id,
				"created", created_value(result)));
			if (strcmp(result, "created") == 0)
				json_array_append_new(r->fetch, json_pack("[s,s]", name, id));
		}
		free(id);
	}
	json_object_set_new(res, "providers", pres);
	json_object_set_new(res, "connections", cres);
	return rc;
}

static int apply_tenant(struct run *r, const json_t *t, json_t *out)
{
	const json_t *clients = json_object_get(t, "clients");
	const char *name = json_string_value(json_object_get(t, "name"));
	json_t *settings = tenant_settings(t), *res, *cres = json_array();
	const char *result;
	char *issuer;
	size_t j;
	int rc;

	rc = ts_admin_tenant_apply(r->a, settings, &result, r->err, r->cap);
	json_decref(settings);
	if (rc != TS_OK) {
		json_decref(cres);
		return rc;
	}
	issuer = ts_tenant_issuer(r->c->public_url, name);
	res = json_pack("{s:s,s:s,s:o}", "name", name, "issuer", issuer, "created",
			created_value(result));
	free(issuer);
	for (j = 0; rc == TS_OK && j < json_array_size(clients); j++) {
		const json_t *cs = json_array_get(clients, j);
		char *secret = NULL;
		json_t *cr;

		rc = ts_admin_client_apply(r->a, name, cs, &result, &secret, r->err, r->cap);
		if (rc != TS_OK)
			break;
		cr = json_pack("{s:s,s:o}", "client_id",
			       json_string_value(json_object_get(cs, "client_id")), "created",
			       created_value(result));
		/* A generated secret is printed once, when it is made. */
		if (secret) {
			json_object_set_new(cr, "client_secret", json_string(secret));
			ts_free_secret(secret);
		} else {
			echo_secret(r, cr, "client_secret", cs, "secret", "secret_env");
		}
		json_array_append_new(cres, cr);
	}
	json_object_set_new(res, "clients", cres);
	if (rc == TS_OK)
		rc = apply_people(r, name, t, res);
	if (rc == TS_OK)
		rc = apply_vault(r, name, t, res);
	json_array_append_new(out, res);
	return rc;
}

static int ver_cmp(const void *key, const void *elem)
{
	return strcmp(key, (*(struct ts_tenant_ver *const *)elem)->name);
}

/* RSA keys ahead of need: every tenant of the file that is not stored yet
 * and needs RS256 keys (a current and a next each) has them generated in
 * parallel before the file's transaction begins, which then holds the
 * write lock for less time. */
static int rsa_ahead(struct ts_admin *a, const json_t *tenants)
{
	struct ts_tenant_ver **vers = NULL;
	size_t j, want = 0, nv = 0;
	int rc;

	rc = ts_store_tenant_versions(a->store, &vers, &nv);
	for (j = 0; rc == TS_OK && j < json_array_size(tenants); j++) {
		const json_t *t = json_array_get(tenants, j);
		const char *name = json_string_value(json_object_get(t, "name"));
		/* vers is NULL when the store has no tenant yet. */
		bool stored = nv > 0 && bsearch(name, vers, nv, sizeof(*vers), ver_cmp) != NULL;
		if (!stored && ts_admin_tenant_spec_needs_rsa(t))
			want += 2;
	}
	if (rc == TS_OK)
		rc = ts_keypool_fill(a->rsa_pool, want);
	ts_tenant_vers_free(vers, nv);
	return rc;
}

/* Every user's password hashes, picked before the write batch (Argon2id
 * takes tens of milliseconds a secret, which the batch's write lock would
 * otherwise be held for). */
static void hashes_ahead(struct ts_admin *a, const json_t *tenants)
{
	size_t i, j;

	for (i = 0; i < json_array_size(tenants); i++) {
		const json_t *t = json_array_get(tenants, i);
		const char *name = json_string_value(json_object_get(t, "name"));
		const json_t *users = json_object_get(t, "users");
		for (j = 0; name && j < json_array_size(users); j++)
			ts_admin_user_hash_ahead(a, name, json_array_get(users, j));
	}
}

/* Whether a tenant of the file has providers or connections. */
static bool any_vault(const json_t *tenants)
{
	size_t i;

	for (i = 0; i < json_array_size(tenants); i++) {
		const json_t *t = json_array_get(tenants, i);
		if (json_array_size(json_object_get(t, "providers")) +
		    json_array_size(json_object_get(t, "connections")) > 0)
			return true;
	}
	return false;
}

/* Applies every tenant of the file, in order, in one write batch: all of
 * it is committed, or nothing when any part fails (err then says why).
 * RSA keys and password hashes are made before the batch, and the first
 * tokens of the connections it created are fetched after the commit, so
 * that neither slow work nor a provider's answer happens under the write
 * lock. */
static int apply_all(struct run *r, const json_t *tenants, json_t *out)
{
	size_t i;
	int rc, erc;

	rc = rsa_ahead(r->a, tenants);
	hashes_ahead(r->a, tenants);
	if (rc == TS_OK && any_vault(tenants))
		rc = ts_vault_new(r->a->store, r->c->mks, r->c->nmks, NULL, NULL, "bootstrap", &r->v);
	if (rc == TS_OK)
		rc = ts_store_batch_begin(r->a->store);
	if (rc != TS_OK)
		goto out;
	for (i = 0; rc == TS_OK && i < json_array_size(tenants); i++)
		rc = apply_tenant(r, json_array_get(tenants, i), out);
	erc = ts_store_batch_end(r->a->store, rc == TS_OK);
	rc = rc != TS_OK ? rc : erc;
	for (i = 0; rc == TS_OK && i < json_array_size(r->fetch); i++) {
		const json_t *f = json_array_get(r->fetch, i);
		ts_vault_connection_fetch_first(r->v, json_string_value(json_array_get(f, 0)),
						json_string_value(json_array_get(f, 1)));
	}
out:
	if (rc != TS_OK && r->err[0] == '\0')
		snprintf(r->err, r->cap, "could not apply the file (%s)", ts_rc_str(rc));
	return rc;
}

int ts_cmd_bootstrap(struct ts_config *c, int argc, char **argv)
{
	static const char *const known[] = {"print-secrets", NULL};
	struct ts_opts o;
	struct ts_store *st = NULL;
	struct ts_admin a;
	struct ts_keypool pool = {0};
	struct ts_pwmemo memo = {0};
	struct run run = {0};
	json_error_t je;
	json_t *doc = NULL, *tenants, *out = NULL;
	char err[ERR_MAX] = "";
	int exit_code = TS_EXIT_FAIL;

	if (!ts_opts_parse(argc, argv, NULL, &o) || !ts_opts_only(&o, known) || o.npos != 1) {
		ts_cli_error("usage: tessera bootstrap FILE [--print-secrets] [--json]");
		return TS_EXIT_USAGE;
	}
	doc = json_load_file(o.pos[0], JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (doc == NULL) {
		char why[sizeof(je.text) + 64];
		ts_cli_error("cannot read %s: %s", o.pos[0],
			     ts_cli_json_error_text(&je, why, sizeof(why)));
		goto out;
	}
	if (validate(doc, err, sizeof(err)) != TS_OK) {
		ts_cli_error("%s: %s", o.pos[0], err);
		goto out;
	}
	if (!c->have_mk) {
		ts_cli_error("TESSERA_MASTER_KEY is not set; it seals the signing keys");
		goto out;
	}
	if (ts_cli_open_store(c, &st) != TS_OK)
		goto out;
	memset(&a, 0, sizeof(a));
	a.store = st;
	a.mk = &c->mk;
	a.public_url = c->public_url;
	a.actor = "bootstrap";
	a.rsa_pool = &pool;
	a.pw_memo = &memo;
	tenants = json_object_get(doc, "tenants");
	out = json_array();
	run.c = c;
	run.a = &a;
	run.print = ts_opts_has(&o, "print-secrets") || c->print_secrets;
	run.fetch = json_array();
	run.err = err;
	run.cap = sizeof(err);
	if (apply_all(&run, tenants, out) != TS_OK) {
		ts_cli_error("%s", err);
		goto out;
	}
	/* The result is always JSON: it is the record of what the file did. */
	c->json = true;
	ts_cli_print(c, json_pack("{s:O}", "tenants", out));
	exit_code = TS_EXIT_OK;
out:
	ts_vault_free(run.v);
	json_decref(run.fetch);
	ts_keypool_clear(&pool);
	ts_pwmemo_clear(&memo);
	json_decref(out);
	json_decref(doc);
	ts_store_close(st);
	return exit_code;
}
