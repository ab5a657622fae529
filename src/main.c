/* main.c: argv, configuration and start-up only: picks the subcommand
 * (from the table in cli/commands.c) and hands it the configuration. */
#include "cli/cli.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	struct ts_config cfg;
	struct ts_opts all;
	const char *cmd = NULL, *env_json;
	int i, cmd_at = -1, rc;
	bool json = false;
	const struct ts_cli_command *command;

	for (i = 1; i < argc; i++)
		json = json || strcmp(argv[i], "--json") == 0;
	/* TESSERA_JSON too, before the configuration (whose own errors are
	 * then JSON); a bad value is reported by the configuration. */
	env_json = getenv("TESSERA_JSON");
	if (!json && env_json != NULL && !ts_cli_bool_parse(env_json, &json))
		json = false;
	ts_cli_json_errors(json);
	/* The command is the first positional word; global options may stand
	 * before or after it. Before it, only they may: another option's
	 * value could not be told from the command. */
	for (i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--", 2) != 0) {
			cmd = argv[i];
			cmd_at = i;
			break;
		}
		if (!ts_opts_global(argv[i] + 2) && strcmp(argv[i], "--version") != 0) {
			ts_cli_error_code("usage", "unknown option \"%s\" before the command", argv[i]);
			return TS_EXIT_USAGE;
		}
		if (strchr(argv[i], '=') == NULL && !ts_opts_global_flag(argv[i] + 2) &&
		    strcmp(argv[i], "--version") != 0)
			i++; /* skip the option's value */
	}
	for (i = 1; i < argc && (cmd_at < 0 || i < cmd_at); i++)
		if (strcmp(argv[i], "--version") == 0)
			cmd = "version";
	if (cmd != NULL && strcmp(cmd, "version") == 0) {
		struct ts_config bare = {0};
		bare.json = json;
		return ts_cmd_version(&bare, 0, NULL);
	}
	/* help, --help anywhere, and COMMAND --help print usage and do
	 * nothing else (serve --help never starts a server). */
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 ||
		    (i == cmd_at && strcmp(argv[i], "help") == 0)) {
			ts_cli_usage(stdout);
			return TS_EXIT_OK;
		}
	if (cmd == NULL) {
		if (json)
			ts_cli_error("usage: tessera [OPTIONS] COMMAND ... (no command given)");
		else
			ts_cli_usage(stderr);
		return TS_EXIT_USAGE;
	}
	if (!ts_opts_parse(argc - 1, argv + 1, ts_cli_command_flags, &all))
		return TS_EXIT_USAGE;
	if (!ts_config_load(&cfg, &all)) {
		ts_config_clear(&cfg);
		return TS_EXIT_USAGE;
	}
	cfg.opts = &all;
	/* The config file may have turned JSON on. */
	ts_cli_json_errors(cfg.json);
	/* Only the server logs unless told to: a command's stderr holds its
	 * error alone (one JSON object with --json), which names the reason. */
	if (strcmp(cmd, "serve") != 0 && !cfg.log_level_given)
		ts_log_set_level(TS_LOG_OFF);
	rc = -1;
	command = ts_cli_command_find(cmd);
	if (command != NULL) {
		/* Everything but the command word, so that global options
		 * given before it are seen (and accepted) by the command. */
		char *rest[256];
		int n = 0, j;
		for (j = 1; j < argc && n < 255; j++)
			if (j != cmd_at)
				rest[n++] = argv[j];
		cfg.db_may_create = ts_cli_may_create_db(cmd, argc, argv, cmd_at);
		rc = command->fn(&cfg, n, rest);
	}
	if (rc == -1) {
		ts_cli_error_code("usage", "unknown command \"%s\"", cmd);
		if (!json)
			ts_cli_usage(stderr);
		rc = TS_EXIT_USAGE;
	}
	ts_cli_new_db_end(rc != TS_EXIT_OK);
	ts_config_clear(&cfg);
	return rc;
}
