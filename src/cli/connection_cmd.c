/* connection_cmd.c: `tessera connection list|show|delete`: the token
 * vault's connections as an operator sees them (status and the recorded
 * cause of a failure, never a token); delete revokes the grant at the
 * provider where it can. */
#include "cmd.h"

#include "vault/vault.h"
#include "store/store_config.h"
#include "store/store_vault.h"

#include <string.h>

int ts_cmd_connection(struct ts_config *c, int argc, char **argv)
{
	static const char *const known[] = {"tenant", NULL};
	struct ts_opts o;
	struct ts_store *st = NULL;
	struct ts_vault *v = NULL;
	struct ts_tenant_rec *t = NULL;
	struct ts_connection_rec *conn = NULL;
	const char *verb, *tenant;
	int rc, exit_code = TS_EXIT_FAIL;

	if (!ts_opts_parse(argc, argv, NULL, &o) || !ts_opts_only(&o, known) || o.npos < 1 ||
	    (tenant = ts_opts_get(&o, "tenant")) == NULL)
		goto usage;
	verb = o.pos[0];
	if (strcmp(verb, "list") == 0 ? o.npos != 1
	    : (strcmp(verb, "show") != 0 && strcmp(verb, "delete") != 0) || o.npos != 2)
		goto usage;
	if (strcmp(verb, "delete") == 0 ? ts_cli_open_vault(c, &st, &v, "cli") != TS_OK
					: ts_cli_open_store(c, &st) != TS_OK)
		return TS_EXIT_FAIL;
	if (ts_cli_tenant_get(st, tenant, &t) != TS_OK)
		goto out;
	if (strcmp(verb, "list") == 0) {
		struct ts_connection_rec **cs = NULL;
		size_t n = 0, i;
		rc = ts_store_connection_list(st, t->id, &cs, &n);
		if (rc == TS_OK) {
			json_t *a = json_array();
			for (i = 0; i < n; i++)
				json_array_append_new(a, ts_vault_connection_view(cs[i], ts_now(), true));
			ts_cli_print(c, json_pack("{s:s,s:o}", "tenant", tenant, "connections", a));
			exit_code = TS_EXIT_OK;
		} else {
			ts_cli_error("the database failed (%s)", ts_rc_str(rc));
		}
		ts_connection_recs_free(cs, n);
		goto out;
	}
	rc = ts_store_connection_get(st, t->id, o.pos[1], &conn);
	if (rc == TS_OK && strcmp(verb, "show") == 0) {
		ts_cli_print(c, ts_vault_connection_view(conn, ts_now(), true));
		exit_code = TS_EXIT_OK;
	} else if (rc == TS_OK) {
		bool revoked = false;
		rc = ts_vault_connection_delete(v, conn, "cli", &revoked);
		if (rc == TS_OK) {
			ts_cli_print(c, json_pack("{s:s,s:b,s:b}", "id", conn->id, "deleted", 1,
						  "revoked", revoked));
			exit_code = TS_EXIT_OK;
		}
	}
	if (rc == TS_ENOTFOUND || rc == TS_EINVAL)
		ts_cli_error_code("not_found", "no connection \"%s\" in tenant \"%s\"", o.pos[1], tenant);
	else if (rc != TS_OK)
		ts_cli_error("the database failed (%s)", ts_rc_str(rc));
out:
	ts_connection_rec_free(conn);
	ts_tenant_rec_free(t);
	ts_vault_free(v);
	ts_store_close(st);
	return exit_code;
usage:
	ts_cli_error("usage: tessera connection list --tenant T; tessera connection show|delete "
		     "--tenant T ID");
	return TS_EXIT_USAGE;
}
