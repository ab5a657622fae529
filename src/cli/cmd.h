/* cmd.h: what the command files (one per noun: tenant_cmd.c, user_cmd.c,
 * …) share: a storage session, the vault, failure reports and options
 * turned into spec members (session.c, spec_opts.c). Not for other
 * modules; the commands themselves are declared in cli.h and listed in
 * commands.c. */
#ifndef TS_CLI_CMD_H
#define TS_CLI_CMD_H

#include "cli.h"

#define TS_CLI_ERR_MAX 512 /* one error sentence of src/admin */

struct ts_vault;

/* The store, the administration context on it (actor as given), and the
 * tenant of a command on one tenant (NULL otherwise); all owned. */
struct ts_cli_session {
	struct ts_store *st;
	struct ts_admin a;
	struct ts_tenant_rec *t;
};
/* Opens the configured store (printing why it cannot). TS_ESTORE on
 * failure, with nothing to close. */
int ts_cli_session_open(struct ts_config *c, struct ts_cli_session *s, const char *actor);
/* The same with actor "cli", then looks the tenant up into s->t, printing
 * "no tenant named …" or the storage failure. Close it whatever it
 * returns (closing a session that did not open is harmless). */
int ts_cli_session_tenant(struct ts_config *c, struct ts_cli_session *s, const char *tenant);
void ts_cli_session_close(struct ts_cli_session *s);
/* Prints "the database failed (…)" and returns TS_EXIT_FAIL;
 * ts_cli_fail_store_quiet prints nothing for TS_ENOTFOUND, which its
 * callers have reported in their own words. */
int ts_cli_fail_store(int rc);
int ts_cli_fail_store_quiet(int rc);
/* One audit record of s's tenant by "cli"; detail_key/detail_value (may
 * be NULL) become its detail object. Never secrets. */
void ts_cli_audit(struct ts_cli_session *s, const char *type, const char *subject,
		  const char *detail_key, const char *detail_value);
/* Opens the store and the vault on it (actor for its audit events); needs
 * the master key. On TS_OK the caller frees both (ts_vault_free, then
 * ts_store_close); otherwise both are NULL and the reason is printed. */
int ts_cli_open_vault(struct ts_config *c, struct ts_store **st, struct ts_vault **v,
		      const char *actor);
/* ts_store_tenant_get printing "no tenant named …" or the storage
 * failure. */
int ts_cli_tenant_get(struct ts_store *st, const char *tenant, struct ts_tenant_rec **t);

/* Options into spec members: every value of a repeated option as a JSON
 * array (new reference); a whole number (false, with a message, if it is
 * not one); a string; a list (set only when the option is given). */
json_t *ts_cli_opt_array(const struct ts_opts *o, const char *name);
bool ts_cli_set_int(json_t *spec, const struct ts_opts *o, const char *opt, const char *key);
void ts_cli_set_str(json_t *spec, const struct ts_opts *o, const char *opt, const char *key);
void ts_cli_set_list(json_t *spec, const struct ts_opts *o, const char *opt, const char *key);

/* How one option becomes a spec member. */
enum ts_cli_spec_kind {
	TS_CLI_SPEC_STR,    /* --opt V: the string V */
	TS_CLI_SPEC_LIST,   /* --opt V...: the array of every V (set only when given) */
	TS_CLI_SPEC_INT,    /* --opt N: the whole number N; anything else is a usage error */
	TS_CLI_SPEC_NUMBER, /* --opt N: a whole number as one, anything else as the text,
			     * which the validation refuses with its own message */
	TS_CLI_SPEC_TRUE,   /* --opt: true */
	TS_CLI_SPEC_DEL,    /* --opt: the member removed */
	TS_CLI_SPEC_ON_OFF, /* --opt on|off: true, or the member removed */
	TS_CLI_SPEC_FN,     /* the command's own function */
};

/* One line of a command's option table. */
struct ts_cli_spec_opt {
	const char *opt; /* the option, without "--" */
	const char *key; /* the spec member (unused by TS_CLI_SPEC_FN) */
	enum ts_cli_spec_kind kind;
	/* TS_CLI_SPEC_FN: sets what it likes; false after printing why */
	bool (*fn)(json_t *spec, const struct ts_opts *o);
};

/* Applies the options of a table to spec, line by line in table order.
 * false (the reason printed) at the first usage error: the command exits
 * with TS_EXIT_USAGE. */
bool ts_cli_spec_from_opts(json_t *spec, const struct ts_opts *o,
			   const struct ts_cli_spec_opt *table, size_t n);

#endif
