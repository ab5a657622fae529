/* commands.c: the one list of `tessera` commands: each noun's entry
 * point (one file per noun: tenant_cmd.c, client_cmd.c, user_cmd.c, …)
 * with its line of the usage text, the flags of single commands, and which
 * commands may create a missing SQLite file. main.c looks commands up
 * here; adding a command is one file and one row. */
#include "cli.h"

#include <string.h>

static const struct ts_cli_command commands[] = {
	{"serve", ts_cmd_serve,
	 "serve [--threads N] [--trusted-proxies CIDR,...] [--metrics-listen ADDR]\n"
	 "        [--access-log on|off]\n"
	 "                                  run the server (SIGHUP reloads the config file)"},
	{"bootstrap", ts_cmd_bootstrap, "bootstrap FILE [--print-secrets] apply a declarative file"},
	{"tenant", ts_cmd_tenant, "tenant create|update|list|show|delete"},
	{"client", ts_cmd_client,
	 "client create|update|list|show|delete|disable|enable|rotate-secret --tenant T"},
	{"user", ts_cmd_user,
	 "user create|update|list|show|delete|disable|enable|set-password|\n"
	 "       set-app-password|reset-device --tenant T [USERNAME]"},
	{"group", ts_cmd_group,
	 "group create|list|show|delete|members|add-member|remove-member --tenant T"},
	{"apikey", ts_cmd_apikey, "apikey create|list|revoke --tenant T --user USERNAME [KEY]"},
	{"keys", ts_cmd_keys,
	 "keys list [--tenant T] [--alg ALG]; keys rotate --tenant T [--alg ALG];\n"
	 "       keys rekey-vault"},
	{"provider", ts_cmd_provider,
	 "provider create|update|list|show|delete --tenant T [NAME] [--profile P] ..."},
	{"connection", ts_cmd_connection, "connection list|show|delete --tenant T [ID]"},
	{"audit", ts_cmd_audit, "audit --tenant T [--since TIME] [--limit N]"},
	{"backup", ts_cmd_backup,
	 "backup FILE                     consistent copy of a (running) SQLite database"},
	{"migrate", ts_cmd_migrate,
	 "migrate [--check]               apply (or only report) pending schema changes"},
	{"version", ts_cmd_version,
	 "version                         the version and the libraries it runs with"},
};

const char *const ts_cli_command_flags[] = {"password-stdin", "check", "force", NULL};

const struct ts_cli_command *ts_cli_command_find(const char *name)
{
	size_t i;

	for (i = 0; i < TS_ARRAY_LEN(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

bool ts_cli_may_create_db(const char *cmd, int argc, char **argv, int cmd_at)
{
	int i;

	if (strcmp(cmd, "serve") == 0 || strcmp(cmd, "bootstrap") == 0)
		return true;
	if (strcmp(cmd, "tenant") != 0)
		return false;
	for (i = cmd_at + 1; i < argc; i++)
		if (strncmp(argv[i], "--", 2) != 0)
			return strcmp(argv[i], "create") == 0;
	return false;
}

void ts_cli_usage(FILE *f)
{
	size_t i;

	fputs("usage: tessera [--db URL] [--public-url URL] [--listen ADDR] [--config FILE] [--json]\n"
	      "               [--log-level debug|info|warn|error] [--master-key-file FILE]\n"
	      "               COMMAND ...\n"
	      "       tessera --version | version | help | --help | COMMAND --help\n"
	      "commands:\n",
	      f);
	for (i = 0; i < TS_ARRAY_LEN(commands); i++)
		fprintf(f, "  %s\n", commands[i].help);
	fputs("environment: TESSERA_DB, TESSERA_PUBLIC_URL, TESSERA_LISTEN, TESSERA_MASTER_KEY,\n"
	      "             TESSERA_MASTER_KEY_FILE, TESSERA_MASTER_KEY_OLD, TESSERA_CONFIG,\n"
	      "             TESSERA_LOG_LEVEL, TESSERA_THREADS, TESSERA_TRUSTED_PROXIES,\n"
	      "             TESSERA_METRICS_LISTEN, TESSERA_ACCESS_LOG, TESSERA_JSON,\n"
	      "             TESSERA_PRINT_SECRETS, TESSERA_VAULT_TICK_MS\n"
	      "config file (--config, JSON): the options above by name, e.g.\n"
	      "             {\"db\": \"sqlite:/var/lib/tessera/tessera.db\", \"access-log\": true}\n",
	      f);
}
