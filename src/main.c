/* main.c: argv, configuration and start-up only: picks the subcommand and
 * hands it the configuration. */
#include "cli/cli.h"

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
};

/* Flags of single commands that are not in ts_global_flags, so that the
 * global pass below does not take the next word as their value. */
static const char *const command_flags[] = {"password-stdin", NULL};

static void usage(FILE *f)
{
	fputs("usage: tessera [--db URL] [--public-url URL] [--listen ADDR] [--config FILE] [--json]\n"
	      "               COMMAND ...\n"
	      "commands:\n"
	      "  serve [--trusted-proxies CIDR,...] [--metrics-listen ADDR]  run the server\n"
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
	      "environment: TESSERA_DB, TESSERA_PUBLIC_URL, TESSERA_LISTEN, TESSERA_MASTER_KEY,\n"
	      "             TESSERA_MASTER_KEY_FILE, TESSERA_MASTER_KEY_OLD, TESSERA_CONFIG,\n"
	      "             TESSERA_LOG_LEVEL, TESSERA_THREADS, TESSERA_VAULT_TICK_MS,\n"
	      "             TESSERA_TRUSTED_PROXIES, TESSERA_METRICS_LISTEN\n",
	      f);
}

int main(int argc, char **argv)
{
	struct ts_config cfg;
	struct ts_opts all;
	const char *cmd = NULL;
	int i, cmd_at = -1, rc;
	size_t k;

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
	if (cmd == NULL) {
		usage(argc > 1 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
		return argc > 1 && strcmp(argv[1], "--help") == 0 ? TS_EXIT_OK : TS_EXIT_USAGE;
	}
	if (!ts_opts_parse(argc - 1, argv + 1, command_flags, &all))
		return TS_EXIT_USAGE;
	if (!ts_config_load(&cfg, &all)) {
		ts_config_clear(&cfg);
		return TS_EXIT_USAGE;
	}
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
			rc = commands[k].fn(&cfg, n, rest);
			break;
		}
	}
	if (rc == -1) {
		ts_cli_error("unknown command \"%s\"", cmd);
		usage(stderr);
		rc = TS_EXIT_USAGE;
	}
	ts_config_clear(&cfg);
	return rc;
}
