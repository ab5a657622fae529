/* cli.h: the `tessera` command line: global configuration (flags, the
 * TESSERA_* environment, an optional JSON config file) and the subcommands.
 * Exit status: 0 success, 1 failure, 2 usage error. */
#ifndef TS_CLI_H
#define TS_CLI_H

#include "core/core.h"
#include "admin/admin.h"
#include "tenant/tenant.h"

#include <jansson.h>
#include <stdio.h>

struct ts_store;

#define TS_EXIT_OK 0
#define TS_EXIT_FAIL 1
#define TS_EXIT_USAGE 2
#define TS_OPTS_MAX 64
#define TS_OPT_NAME_MAX 64
#define TS_MASTER_KEYS_MAX 8 /* the current key and up to 7 old ones */

/* Parsed arguments: positionals and --name[=value] options in order. Names
 * and values point into argv, or into names[] for the --name=value form, so
 * they live as long as both argv and the struct. */
struct ts_opt {
	const char *name;  /* without the leading dashes */
	const char *value; /* NULL for a flag */
};
struct ts_opts {
	const char *pos[TS_OPTS_MAX];
	size_t npos;
	struct ts_opt opt[TS_OPTS_MAX];
	size_t nopt;
	char names[TS_OPTS_MAX][TS_OPT_NAME_MAX]; /* names given as --name=value */
};

/* Settings shared by every command. Strings are owned (freed by
 * ts_config_clear). */
struct ts_config {
	char *db;          /* "sqlite:tessera.db" */
	char *public_url;  /* "http://127.0.0.1:8080" */
	char *listen;      /* "127.0.0.1:8080" */
	char *log_level;   /* "info" */
	bool log_level_given; /* by --log-level or TESSERA_LOG_LEVEL */
	char *trusted_proxies; /* serve: "CIDR[,CIDR...]", or NULL */
	char *metrics_listen;  /* serve: a second address for /metrics, or NULL */
	char *master_key;  /* 64 hex characters, or NULL */
	unsigned threads;  /* 0: one per core */
	int reload_ms;     /* configuration poll interval */
	bool json;         /* --json output */
	bool db_may_create; /* this command may create a missing SQLite file */
	const struct ts_opts *opts; /* the options it was loaded from (for a reload) */
	bool access_log;   /* one log line per request */
	bool print_secrets; /* bootstrap: echo the secrets the file supplied */
	bool have_mk;
	struct ts_master_key mk;
	/* Every key that may open sealed values: mks[0] is mk, then the old
	 * keys of TESSERA_MASTER_KEY_OLD (comma-separated) while a key change
	 * runs. nmks is 0 without a master key. */
	struct ts_master_key mks[TS_MASTER_KEYS_MAX];
	size_t nmks;
};

/* Parses argv (after the subcommand words) into o. Options listed in
 * flags (NULL-terminated) take no value; all others take one (`--x v` or
 * `--x=v`). Returns false, with a message on stderr, on a usage error. */
bool ts_opts_parse(int argc, char **argv, const char *const *flags, struct ts_opts *o);
/* The last value of option name, or NULL. */
const char *ts_opts_get(const struct ts_opts *o, const char *name);
bool ts_opts_has(const struct ts_opts *o, const char *name);
/* Checks that every option is in known (NULL-terminated); prints the first
 * unknown one. */
bool ts_opts_only(const struct ts_opts *o, const char *const *known);

/* An on/off value: "1", "true", "on", "yes" or "0", "false", "off", "no"
 * into *out; false for anything else. */
bool ts_cli_bool_parse(const char *s, bool *out);
/* Why jansson could not load a file, as one phrase ("REASON (line L,
 * column C)"), written into buf (capacity cap) and returned. */
const char *ts_cli_json_error_text(const json_error_t *e, char *buf, size_t cap);
/* The JSON type of v as a phrase ("an array", "a string", …). */
const char *ts_cli_json_kind(const json_t *v);
/* Loads defaults, then the config file, then TESSERA_* variables, then the
 * global options in o. Returns false with a message on a bad value. */
bool ts_config_load(struct ts_config *c, const struct ts_opts *o);
void ts_config_clear(struct ts_config *c);
/* Opens the configured store, printing a sentence on failure. A SQLite
 * file it creates is remembered for ts_cli_new_db_end. */
int ts_cli_open_store(const struct ts_config *c, struct ts_store **out);
/* Once the command is over and its store closed: when it failed, removes
 * the SQLite database (with its -wal, -shm and -journal files) that
 * ts_cli_open_store created, if no tenant is in it, so that a failed
 * command leaves no new database behind. */
void ts_cli_new_db_end(bool failed);

/* Prints a result: JSON with --json, else a readable rendering. Steals obj. */
void ts_cli_print(const struct ts_config *c, json_t *obj);
/* Prints "tessera: <sentence>" on stderr, or with --json (see
 * ts_cli_json_errors) {"error": CODE, "message": SENTENCE} as one line.
 * ts_cli_error's code is "usage" for a sentence starting "usage:" and
 * "failed" otherwise; ts_cli_error_code names it ("not_found",
 * "already_exists", ...). */
void ts_cli_error(const char *fmt, ...) TS_PRINTF(1, 2);
void ts_cli_error_code(const char *code, const char *fmt, ...) TS_PRINTF(2, 3);
/* Sets v[key] to value (a new reference, taken) unless v has that key:
 * a view's default, so that every object of a kind has the same shape. */
void ts_cli_json_default(json_t *v, const char *key, json_t *value);
/* A warning on stderr: {"warning": "..."} with --json, else one line. */
void ts_cli_warning(const struct ts_config *c, const char *fmt, ...) TS_PRINTF(2, 3);
/* Why the store just failed, as its log said (": REASON"), or "" when
 * nothing was logged: commands other than serve log nothing by default,
 * so their error sentence carries the reason. Valid until the next log call. */
const char *ts_cli_store_reason(void);
/* Turns JSON errors on (set once, from --json, before any command runs). */
void ts_cli_json_errors(bool on);

/* Subcommands, one file per noun (tenant_cmd.c, client_cmd.c, …);
 * argc/argv start after the command word. */
int ts_cmd_serve(struct ts_config *c, int argc, char **argv);
int ts_cmd_bootstrap(struct ts_config *c, int argc, char **argv);
int ts_cmd_tenant(struct ts_config *c, int argc, char **argv);
int ts_cmd_client(struct ts_config *c, int argc, char **argv);
int ts_cmd_user(struct ts_config *c, int argc, char **argv);
int ts_cmd_group(struct ts_config *c, int argc, char **argv);
/* `apikey create|list|revoke`. */
int ts_cmd_apikey(struct ts_config *c, int argc, char **argv);
/* `keys list|rotate` and `keys rekey-vault`. */
int ts_cmd_keys(struct ts_config *c, int argc, char **argv);
int ts_cmd_provider(struct ts_config *c, int argc, char **argv);
int ts_cmd_connection(struct ts_config *c, int argc, char **argv);
int ts_cmd_audit(struct ts_config *c, int argc, char **argv);
/* `tessera migrate [--check]`: apply, or only report, pending schema changes. */
int ts_cmd_migrate(struct ts_config *c, int argc, char **argv);
/* `tessera backup FILE`: an online, consistent copy of a SQLite database. */
int ts_cmd_backup(struct ts_config *c, int argc, char **argv);
/* `tessera --version`: version, commit, library versions (JSON with
 * --json; c may be NULL before the configuration is loaded). */
int ts_cmd_version(struct ts_config *c, int argc, char **argv);

/* The command table (commands.c): a command by name, or NULL. */
struct ts_cli_command {
	const char *name;
	int (*fn)(struct ts_config *c, int argc, char **argv);
	const char *help; /* its lines of the usage text, without the indent */
};
const struct ts_cli_command *ts_cli_command_find(const char *name);
/* The usage text: global options, every command's help, the environment. */
void ts_cli_usage(FILE *f);
/* Flags (no value) of single commands that are not in ts_global_flags,
 * so that the global pass does not take the next word as their value. */
extern const char *const ts_cli_command_flags[];
/* Whether command cmd (at argv[cmd_at]) may create a missing SQLite file:
 * serve, bootstrap and tenant create; every other command refuses it, so
 * that a mistyped --db is an error instead of a new empty database. */
bool ts_cli_may_create_db(const char *cmd, int argc, char **argv, int cmd_at);
/* The version string ("0.1.0") and the commit the binary was built from. */
const char *ts_version(void);
const char *ts_version_commit(void);

/* The global options every command accepts (for ts_opts_only). */
extern const char *const ts_global_opts[];
/* Flags (no value) understood everywhere. */
extern const char *const ts_global_flags[];
/* Whether opt (an option's name, with "=value" or not) is a global option
 * (what the configuration reads, so it may stand before the command), and
 * whether it is a flag. */
bool ts_opts_global(const char *opt);
bool ts_opts_global_flag(const char *opt);

#endif
