/* main.c: argv, configuration and start-up only: picks the subcommand and
 * hands it the configuration. */
#include "cli/cli.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	int (*fn)(struct ts_config *c, int argc, char **argv);
} commands[] = {
	{"serve", ts_cmd_serve},   {"bootstrap", ts_cmd_bootstrap}, {"tenant", ts_cmd_tenant},
	{"client", ts_cmd_client}, {"keys", ts_cmd_keys},           {"audit", ts_cmd_audit},
	{"user", ts_cmd_user},     {"group", ts_cmd_group},
	{"apikey", ts_cmd_apikey},
	{"provider", ts_cmd_provider}, {"connection", ts_cmd_connection},
	{"version", ts_cmd_version},   {"backup", ts_cmd_backup},
	{"migrate", ts_cmd_migrate},
};

/* Flags of single commands that are not in ts_global_flags, so that the
 * global pass below does not take the next word as their value. */
static const char *const command_flags[] = {"password-stdin", "check", NULL};

/* Only the commands that create what a new installation needs may create
 * a missing SQLite file; every other command refuses it, so that a
 * mistyped --db is an error instead of a new empty database. */
static bool may_create_db(const char *cmd, int argc, char **argv, int cmd_at)
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

static void usage(FILE *f)
{
	fputs("usage: tessera [--db URL] [--public-url URL] [--listen ADDR] [--config FILE] [--json]\n"
	      "               [--log-level debug|info|warn|error] [--master-key-file FILE]\n"
	      "               COMMAND ...\n"
	      "       tessera --version | version | help | --help | COMMAND --help\n"
	      "commands:\n"
	      "  serve [--threads N] [--trusted-proxies CIDR,...] [--metrics-listen ADDR]\n"
	      "                                  run the server (SIGHUP reloads the config file)\n"
	      "  bootstrap FILE [--print-secrets] apply a declarative file\n"
	      "  tenant create|update|list|show|delete\n"
	      "  client create|update|list|show|delete|disable|enable|rotate-secret --tenant T\n"
	      "  user create|update|list|show|delete|disable|enable|set-password|\n"
	      "       set-app-password|reset-device --tenant T [USERNAME]\n"
	      "  group create|list|show|delete|members|add-member|remove-member --tenant T\n"
	      "  apikey create|list|revoke --tenant T --user USERNAME [KEY]\n"
	      "  keys list|rotate --tenant T [--alg ALG]; keys rekey-vault\n"
	      "  provider create|update|list|show|delete --tenant T [NAME] [--profile P] ...\n"
	      "  connection list|show|delete --tenant T [ID]\n"
	      "  audit --tenant T [--since TIME] [--limit N]\n"
	      "  backup FILE                     consistent copy of a (running) SQLite database\n"
	      "  migrate [--check]               apply (or only report) pending schema changes\n"
	      "  version                         the version and the libraries it runs with\n"
	      "environment: TESSERA_DB, TESSERA_PUBLIC_URL, TESSERA_LISTEN, TESSERA_MASTER_KEY,\n"
	      "             TESSERA_MASTER_KEY_FILE, TESSERA_MASTER_KEY_OLD, TESSERA_CONFIG,\n"
	      "             TESSERA_LOG_LEVEL, TESSERA_THREADS, TESSERA_TRUSTED_PROXIES,\n"
	      "             TESSERA_METRICS_LISTEN, TESSERA_ACCESS_LOG, TESSERA_VAULT_TICK_MS\n"
	      "config file (--config, JSON): the options above by name, e.g.\n"
	      "             {\"db\": \"sqlite:/var/lib/tessera/tessera.db\", \"access-log\": true}\n",
	      f);
}

int main(int argc, char **argv)
{
	struct ts_config cfg;
	struct ts_opts all;
	const char *cmd = NULL;
	int i, cmd_at = -1, rc;
	bool json = false;
	size_t k;

	for (i = 1; i < argc; i++)
		json = json || strcmp(argv[i], "--json") == 0;
	ts_cli_json_errors(json);
	/* The command is the first positional word; global options may stand
	 * before or after it. */
	for (i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--", 2) != 0) {
			cmd = argv[i];
			cmd_at = i;
			break;
		}
		if (strchr(argv[i], '=') == NULL && strcmp(argv[i], "--json") != 0 &&
		    strcmp(argv[i], "--help") != 0)
			i++; /* skip the option's value */
	}
	for (i = 1; i < argc && (cmd_at < 0 || i < cmd_at); i++)
		if (strcmp(argv[i], "--version") == 0)
			cmd = "version";
	if (cmd != NULL && strcmp(cmd, "version") == 0) {
		struct ts_config bare = {0};
		for (i = 1; i < argc; i++)
			if (strcmp(argv[i], "--json") == 0)
				bare.json = true;
		return ts_cmd_version(&bare, 0, NULL);
	}
	/* help, --help anywhere, and COMMAND --help print usage and do
	 * nothing else (serve --help never starts a server). */
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 ||
		    (i == cmd_at && strcmp(argv[i], "help") == 0)) {
			usage(stdout);
			return TS_EXIT_OK;
		}
	if (cmd == NULL) {
		if (json)
			ts_cli_error("usage: tessera [OPTIONS] COMMAND ... (no command given)");
		else
			usage(stderr);
		return TS_EXIT_USAGE;
	}
	if (!ts_opts_parse(argc - 1, argv + 1, command_flags, &all))
		return TS_EXIT_USAGE;
	if (!ts_config_load(&cfg, &all)) {
		ts_config_clear(&cfg);
		return TS_EXIT_USAGE;
	}
	cfg.opts = &all;
	rc = -1;
	for (k = 0; k < TS_ARRAY_LEN(commands); k++) {
		if (strcmp(commands[k].name, cmd) == 0) {
			/* Everything but the command word, so that global options
			 * given before it are seen (and accepted) by the command. */
			char *rest[256];
			int n = 0, j;
			for (j = 1; j < argc && n < 255; j++)
				if (j != cmd_at)
					rest[n++] = argv[j];
			cfg.db_may_create = may_create_db(cmd, argc, argv, cmd_at);
			rc = commands[k].fn(&cfg, n, rest);
			break;
		}
	}
	if (rc == -1) {
		ts_cli_error_code("usage", "unknown command \"%s\"", cmd);
		if (!json)
			usage(stderr);
		rc = TS_EXIT_USAGE;
	}
	ts_config_clear(&cfg);
	return rc;
}
