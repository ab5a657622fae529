/* migrate_cmd.c: `tessera migrate [--check]`: applies pending schema
 * changes as a deliberate step of an upgrade, or (with --check) only says
 * whether there are any: exit 0 when the schema is current, 1 when changes
 * are pending or the database is newer than this binary. */
#include "cli/cli.h"
#include "store/store_core.h"

#include <stdio.h>

int ts_cmd_migrate(struct ts_config *c, int argc, char **argv)
{
	static const char *const known[] = {"check", NULL};
	static const char *const flags[] = {"check", NULL};
	struct ts_opts o;
	struct ts_store *st = NULL;
	int64_t before = 0, latest = 0, after = 0;
	char shown[512];
	bool check;
	int rc;

	if (!ts_opts_parse(argc, argv, flags, &o) || !ts_opts_only(&o, known) || o.npos != 0) {
		ts_cli_error("usage: tessera migrate [--check]");
		return TS_EXIT_USAGE;
	}
	check = ts_opts_has(&o, "check");
	ts_store_url_shown(c->db, shown, sizeof(shown));
	rc = ts_store_schema_status(c->db, &before, &latest);
	if (rc == TS_ENOTFOUND) {
		ts_cli_error_code("not_found", "the database %s does not exist", shown);
		return TS_EXIT_FAIL;
	}
	if (rc != TS_OK) {
		ts_cli_error("cannot read the schema version of %s", shown);
		return TS_EXIT_FAIL;
	}
	if (before > latest) {
		ts_cli_error("the schema of %s (version %lld) is newer than this binary's (%lld); "
			     "upgrade tessera", shown, (long long)before, (long long)latest);
		return TS_EXIT_FAIL;
	}
	after = before;
	if (!check && before < latest) {
		if (ts_cli_open_store(c, &st) != TS_OK)
			return TS_EXIT_FAIL;
		ts_store_close(st);
		if (ts_store_schema_status(c->db, &after, &latest) != TS_OK) {
			ts_cli_error("cannot read the schema version of %s", shown);
			return TS_EXIT_FAIL;
		}
	}
	ts_cli_print(c, json_pack("{s:s, s:I, s:I, s:I, s:I}", "db", shown, "version_before",
				  (json_int_t)before, "version", (json_int_t)after, "latest",
				  (json_int_t)latest, "pending", (json_int_t)(latest - after)));
	return check && before < latest ? TS_EXIT_FAIL : TS_EXIT_OK;
}
