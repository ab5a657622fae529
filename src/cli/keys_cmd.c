/* keys_cmd.c: `tessera keys list|rotate` (the signing keys of a tenant,
 * or of every tenant, with their rotation schedule: admin/keys.c and
 * admin/key_rotation.c) and `tessera keys rekey-vault` (the vault's
 * secrets and tokens re-sealed under a new master key). */
#include "cmd.h"

#include "vault/vault.h"
#include "store/store_config.h"

#include <stdio.h>
#include <string.h>

/* `keys rekey-vault`: every sealed vault secret and token under the
 * current master key. */
static int rekey_vault(struct ts_config *c, int argc, char **argv)
{
	static const char *const known[] = {NULL};
	struct ts_opts o;
	struct ts_store *st = NULL;
	struct ts_vault *v = NULL;
	json_t *summary = NULL;
	int rc;

	if (!ts_opts_parse(argc, argv, NULL, &o) || !ts_opts_only(&o, known) || o.npos != 1) {
		ts_cli_error("usage: tessera keys rekey-vault (TESSERA_MASTER_KEY: the new key; "
			     "TESSERA_MASTER_KEY_OLD: the old ones)");
		return TS_EXIT_USAGE;
	}
	if (ts_cli_open_vault(c, &st, &v, "cli") != TS_OK)
		return TS_EXIT_FAIL;
	rc = ts_vault_rekey(v, &summary);
	if (summary) {
		/* The summary is always JSON: it is the record of the move. */
		c->json = true;
		ts_cli_print(c, summary);
	}
	if (rc != TS_OK && summary)
		ts_cli_error("some records could not be re-sealed; is every old key in "
			     "TESSERA_MASTER_KEY_OLD?");
	else if (rc != TS_OK)
		ts_cli_error("the database failed (%s)", ts_rc_str(rc));
	ts_vault_free(v);
	ts_store_close(st);
	return rc == TS_OK ? TS_EXIT_OK : TS_EXIT_FAIL;
}

/* One tenant's keys (of alg, or all when TS_ALG_NONE) and its rotation
 * schedule: {tenant, key_rotation, schedule, keys}, or NULL with *rc set. */
static json_t *tenant_keys(struct ts_store *st, const struct ts_tenant_rec *t,
			   enum ts_jws_alg alg, int *rc)
{
	struct ts_key_rec **v = NULL;
	json_t *out = NULL, *a, *sched;
	size_t n = 0, i;

	*rc = ts_store_key_list(st, t->id, &v, &n);
	if (*rc != TS_OK)
		return NULL;
	a = json_array();
	for (i = 0; i < n; i++) {
		if (alg != TS_ALG_NONE && ts_jws_alg_parse(v[i]->alg) != alg)
			continue;
		json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:I,s:I,s:I}", "kid", v[i]->kid,
						   "alg", v[i]->alg, "state", v[i]->state,
						   "created_at", (json_int_t)v[i]->created_at,
						   "activated_at", (json_int_t)v[i]->activated_at,
						   "retired_at", (json_int_t)v[i]->retired_at));
	}
	out = json_pack("{s:s}", "tenant", t->name);
	json_object_update(out, sched = ts_admin_key_schedule(t, v, n));
	json_decref(sched);
	sched = json_object_get(out, "schedule");
	for (i = json_array_size(sched); alg != TS_ALG_NONE && i-- > 0;)
		if (ts_jws_alg_parse(json_string_value(
			    json_object_get(json_array_get(sched, i), "alg"))) != alg)
			json_array_remove(sched, i);
	json_object_set_new(out, "keys", a);
	ts_key_recs_free(v, n);
	return out;
}

/* `keys list` without --tenant: every tenant's keys and schedule. */
static int list_all(struct ts_config *c, struct ts_cli_session *s, enum ts_jws_alg alg)
{
	struct ts_tenant_rec **v = NULL;
	json_t *a;
	size_t n = 0, i;
	int rc;

	rc = ts_store_tenant_list(s->st, &v, &n);
	a = json_array();
	for (i = 0; rc == TS_OK && i < n; i++) {
		json_t *one = tenant_keys(s->st, v[i], alg, &rc);
		if (one)
			json_array_append_new(a, one);
	}
	ts_tenant_recs_free(v, n);
	if (rc != TS_OK) {
		json_decref(a);
		return ts_cli_fail_store_quiet(rc);
	}
	ts_cli_print(c, json_pack("{s:o}", "tenants", a));
	return TS_EXIT_OK;
}

int ts_cmd_keys(struct ts_config *c, int argc, char **argv)
{
	static const char *const known[] = {"tenant", "alg", "force", NULL};
	static const char *const flags[] = {"force", NULL};
	struct ts_opts o;
	struct ts_cli_session s;
	struct ts_tenant_rec *t = NULL;
	const char *tenant, *alg_s;
	enum ts_jws_alg alg = TS_ALG_NONE;
	int rc, exit_code = TS_EXIT_FAIL;

	if (!ts_opts_parse(argc, argv, flags, &o))
		goto usage;
	if (o.npos >= 1 && strcmp(o.pos[0], "rekey-vault") == 0)
		return rekey_vault(c, argc, argv);
	if (!ts_opts_only(&o, known) || o.npos != 1 ||
	    (ts_opts_has(&o, "force") && strcmp(o.pos[0], "rotate") != 0))
		goto usage;
	tenant = ts_opts_get(&o, "tenant");
	if (tenant == NULL && strcmp(o.pos[0], "list") != 0)
		goto usage;
	alg_s = ts_opts_get(&o, "alg");
	if (alg_s && (alg = ts_jws_alg_parse(alg_s)) == TS_ALG_NONE) {
		ts_cli_error("--alg must be ES256, RS256, EdDSA or PS256");
		return TS_EXIT_USAGE;
	}
	if (strcmp(o.pos[0], "rotate") == 0) {
		char err[TS_CLI_ERR_MAX] = "";
		if (!c->have_mk) {
			ts_cli_error("TESSERA_MASTER_KEY is not set; it seals the new key");
			return TS_EXIT_FAIL;
		}
		if (ts_cli_session_open(c, &s, "cli") != TS_OK)
			return TS_EXIT_FAIL;
		rc = ts_admin_keys_rotate(&s.a, tenant, alg, ts_opts_has(&o, "force"), err,
					  sizeof(err));
		if (rc != TS_OK) {
			ts_cli_error_code(rc == TS_ENOTFOUND ? "not_found" : NULL, "%s", err);
			ts_cli_session_close(&s);
			return TS_EXIT_FAIL;
		}
		if (err[0])
			ts_cli_warning(c, "%s", err);
	} else if (strcmp(o.pos[0], "list") == 0) {
		if (ts_cli_session_open(c, &s, "cli") != TS_OK)
			return TS_EXIT_FAIL;
		if (tenant == NULL) {
			exit_code = list_all(c, &s, alg);
			ts_cli_session_close(&s);
			return exit_code;
		}
	} else {
		goto usage;
	}
	rc = ts_store_tenant_get(s.st, tenant, &t);
	if (rc == TS_OK) {
		json_t *one = tenant_keys(s.st, t, alg, &rc);
		if (one) {
			ts_cli_print(c, one);
			exit_code = TS_EXIT_OK;
		} else {
			exit_code = ts_cli_fail_store_quiet(rc);
		}
	} else if (rc == TS_ENOTFOUND) {
		ts_cli_error_code("not_found", "no tenant named \"%s\"", tenant);
	} else {
		exit_code = ts_cli_fail_store_quiet(rc);
	}
	ts_tenant_rec_free(t);
	ts_cli_session_close(&s);
	return exit_code;
usage:
	ts_cli_error("usage: tessera keys list [--tenant T] [--alg ALG]; "
		     "tessera keys rotate --tenant T [--alg ALG] [--force]; "
		     "tessera keys rekey-vault");
	return TS_EXIT_USAGE;
}
