/* opts.c: argument parsing, configuration loading and output helpers shared
 * by every subcommand. */
#include "cli.h"

#include "store/store_config.h"
#include "store/store_core.h"
#include "wire/ascii.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_FILE_MAX (1u << 20)
#define THREADS_MAX 256
#define RELOAD_MS_MIN 1
#define RELOAD_MS_MAX 60000

const char *const ts_global_opts[] = {"db", "public-url", "listen", "config", "json",
				      "log-level", "threads", "master-key-file", "help",
				      "trusted-proxies", "metrics-listen", "access-log", NULL};
const char *const ts_global_flags[] = {"json", "help", "print-secrets", "skip-consent",
				       "disabled", "enabled", "dpop-bound-access-tokens",
				       "require-pushed-authorization-requests",
				       "no-require-pushed-authorization-requests", NULL};

static bool json_errors;
/* With JSON errors, stderr holds one JSON object: the first error, which
 * names the reason (a usage line that follows it adds nothing). */
static bool json_error_written;

void ts_cli_json_errors(bool on)
{
	json_errors = on;
}

static void error_out(const char *code, const char *fmt, va_list ap) TS_PRINTF(2, 0);

static void error_out(const char *code, const char *fmt, va_list ap)
{
	char msg[1024];
	json_t *o;
	char *text;

	if (!json_errors) {
		fputs("tessera: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		return;
	}
	if (json_error_written)
		return;
	json_error_written = true;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (code == NULL)
		code = strncmp(msg, "usage:", strlen("usage:")) == 0 ? "usage" : "failed";
	o = json_pack("{s:s, s:s}", "error", code, "message", msg);
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (text == NULL) {
		fprintf(stderr, "{\"error\":\"%s\",\"message\":\"\"}\n", code);
	} else {
		fprintf(stderr, "%s\n", text);
		free(text);
	}
	json_decref(o);
}

void ts_cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_out(NULL, fmt, ap);
	va_end(ap);
}

void ts_cli_json_default(json_t *v, const char *key, json_t *value)
{
	if (json_object_get(v, key) == NULL)
		json_object_set_new(v, key, value);
	else
		json_decref(value);
}

void ts_cli_warning(const struct ts_config *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->json) {
		json_t *o = json_pack("{s:s}", "warning", msg);
		char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
		if (text)
			fprintf(stderr, "%s\n", text);
		free(text);
		json_decref(o);
		return;
	}
	fprintf(stderr, "tessera: warning: %s\n", msg);
}

void ts_cli_error_code(const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_out(code, fmt, ap);
	va_end(ap);
}

static bool in_list(const char *const *list, const char *s, size_t n)
{
	size_t i;

	for (i = 0; list && list[i]; i++)
		if (strlen(list[i]) == n && strncmp(list[i], s, n) == 0)
			return true;
	return false;
}

bool ts_opts_parse(int argc, char **argv, const char *const *flags, struct ts_opts *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	for (i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
			if (o->npos == TS_OPTS_MAX) {
				ts_cli_error_code("usage", "too many arguments");
				return false;
			}
			o->pos[o->npos++] = a;
			continue;
		}
		if (o->nopt == TS_OPTS_MAX) {
			ts_cli_error_code("usage", "too many options");
			return false;
		}
		a += 2;
		{
			const char *eq = strchr(a, '=');
			size_t n = eq ? (size_t)(eq - a) : strlen(a);
			bool is_flag = in_list(flags, a, n) || in_list(ts_global_flags, a, n);
			const char *name = a; /* NUL-terminated in argv unless "=" follows */
			if (eq) {
				if (n >= TS_OPT_NAME_MAX) {
					ts_cli_error_code("usage", "unknown option --%.*s", (int)n, a);
					return false;
				}
				memcpy(o->names[o->nopt], a, n);
				o->names[o->nopt][n] = '\0';
				name = o->names[o->nopt];
			}
			o->opt[o->nopt].name = name;
			if (eq) {
				o->opt[o->nopt].value = eq + 1;
			} else if (!is_flag) {
				if (i + 1 >= argc) {
					ts_cli_error_code("usage", "option --%s needs a value", name);
					return false;
				}
				o->opt[o->nopt].value = argv[++i];
			}
			o->nopt++;
		}
	}
	return true;
}

const char *ts_opts_get(const struct ts_opts *o, const char *name)
{
	const char *v = NULL;
	size_t i;

	for (i = 0; i < o->nopt; i++)
		if (strcmp(o->opt[i].name, name) == 0)
			v = o->opt[i].value ? o->opt[i].value : "";
	return v;
}

bool ts_opts_has(const struct ts_opts *o, const char *name)
{
	return ts_opts_get(o, name) != NULL;
}

/* Whether opt ("name" or "name=value") is in list. */
static bool opt_listed(const char *const *list, const char *opt)
{
	return in_list(list, opt, strcspn(opt, "="));
}

bool ts_opts_global(const char *opt)
{
	return opt_listed(ts_global_opts, opt);
}

bool ts_opts_global_flag(const char *opt)
{
	return opt_listed(ts_global_flags, opt);
}

bool ts_opts_only(const struct ts_opts *o, const char *const *known)
{
	size_t i;

	for (i = 0; i < o->nopt; i++) {
		const char *n = o->opt[i].name;
		if (!in_list(known, n, strlen(n)) && !in_list(ts_global_opts, n, strlen(n))) {
			ts_cli_error_code("usage", "unknown option --%s", n);
			return false;
		}
	}
	return true;
}

static void set(char **dst, const char *v)
{
	if (v == NULL)
		return;
	free(*dst);
	*dst = ts_xstrdup(v);
}

static bool read_key_file(struct ts_config *c, const char *path)
{
	char *key = NULL;
	size_t n;

	if (ts_read_file(path, 1024, &key, &n) != TS_OK) {
		ts_cli_error("cannot read the master key file %s", path);
		return false;
	}
	while (n && (key[n - 1] == '\n' || key[n - 1] == '\r' || key[n - 1] == ' '))
		key[--n] = '\0';
	ts_free_secret(c->master_key);
	c->master_key = key;
	return true;
}

/* The config file's keys: the names of the command-line options (with
 * '_' accepted for '-'), each of one JSON type. */
enum cfg_type { CFG_STRING, CFG_UINT, CFG_BOOL };
static const struct {
	const char *key;
	enum cfg_type type;
} cfg_keys[] = {
	{"db", CFG_STRING},           {"public-url", CFG_STRING},
	{"listen", CFG_STRING},       {"log-level", CFG_STRING},
	{"threads", CFG_UINT},        {"master-key-file", CFG_STRING},
	{"access-log", CFG_BOOL},     {"trusted-proxies", CFG_STRING},
	{"metrics-listen", CFG_STRING}, {"json", CFG_BOOL},
	{"print-secrets", CFG_BOOL},
};
static const char *const cfg_type_name[] = {"a string", "a whole number", "true or false"};

/* The index of key in cfg_keys ('_' matching '-'), or -1. */
static int cfg_key_index(const char *key)
{
	char norm[TS_OPT_NAME_MAX];
	size_t i, n = strlen(key);

	if (n >= sizeof(norm))
		return -1;
	for (i = 0; i <= n; i++)
		norm[i] = key[i] == '_' ? '-' : key[i];
	for (i = 0; i < TS_ARRAY_LEN(cfg_keys); i++)
		if (strcmp(cfg_keys[i].key, norm) == 0)
			return (int)i;
	return -1;
}

static bool cfg_type_ok(const json_t *v, enum cfg_type t)
{
	switch (t) {
	case CFG_STRING:
		return json_is_string(v);
	case CFG_UINT:
		return json_is_integer(v) && json_integer_value(v) >= 0 &&
		       json_integer_value(v) <= THREADS_MAX;
	case CFG_BOOL:
		return json_is_boolean(v);
	}
	return false;
}

/* Applies one checked value of the config file. */
static bool cfg_apply(struct ts_config *c, const char *key, const json_t *v)
{
	const char *s = json_string_value(v);

	if (strcmp(key, "db") == 0)
		set(&c->db, s);
	else if (strcmp(key, "public-url") == 0)
		set(&c->public_url, s);
	else if (strcmp(key, "listen") == 0)
		set(&c->listen, s);
	else if (strcmp(key, "log-level") == 0)
		set(&c->log_level, s);
	else if (strcmp(key, "trusted-proxies") == 0)
		set(&c->trusted_proxies, s);
	else if (strcmp(key, "metrics-listen") == 0)
		set(&c->metrics_listen, s);
	else if (strcmp(key, "threads") == 0)
		c->threads = (unsigned)json_integer_value(v);
	else if (strcmp(key, "access-log") == 0)
		c->access_log = json_is_true(v);
	else if (strcmp(key, "json") == 0)
		c->json = json_is_true(v);
	else if (strcmp(key, "print-secrets") == 0)
		c->print_secrets = json_is_true(v);
	else if (strcmp(key, "master-key-file") == 0)
		return read_key_file(c, s);
	return true;
}

static bool load_file(struct ts_config *c, const char *path)
{
	json_error_t e;
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &e);
	const char *k;
	json_t *v;
	bool ok = true;

	if (j == NULL) {
		char why[sizeof(e.text) + 64];
		ts_cli_error_code("usage", "cannot read config file %s: %s", path,
				  ts_cli_json_error_text(&e, why, sizeof(why)));
		return false;
	}
	if (!json_is_object(j)) {
		ts_cli_error_code("usage", "config file %s: the top level must be a JSON object "
				  "of settings, not %s", path, ts_cli_json_kind(j));
		json_decref(j);
		return false;
	}
	json_object_foreach(j, k, v) {
		int i = cfg_key_index(k);
		if (i < 0) {
			ts_cli_error_code("usage", "unknown key \"%s\" in config file %s", k, path);
			ok = false;
			break;
		}
		if (!cfg_type_ok(v, cfg_keys[i].type)) {
			ts_cli_error_code("usage", "key \"%s\" in config file %s has the wrong type: it must be %s", k, path,
					  cfg_type_name[cfg_keys[i].type]);
			ok = false;
			break;
		}
	}
	json_object_foreach(j, k, v) {
		if (!ok)
			break;
		ok = cfg_apply(c, cfg_keys[cfg_key_index(k)].key, v);
	}
	json_decref(j);
	return ok;
}

const char *ts_cli_json_error_text(const json_error_t *e, char *buf, size_t cap)
{
	const char *text = e->text[0] ? e->text : "not valid JSON";

	/* A file that could not be opened has no position (line -1). */
	if (e->line > 0)
		snprintf(buf, cap, "%s (line %d, column %d)", text, e->line, e->column);
	else
		snprintf(buf, cap, "%s", text);
	return buf;
}

const char *ts_cli_json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "true or false";
	case JSON_NULL:
		break;
	}
	return "null";
}

static bool parse_threads(const char *s, unsigned *out)
{
	char *end;
	long v;

	if (s == NULL)
		return true;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end || v < 0 || v > THREADS_MAX) {
		ts_cli_error("threads must be a number between 0 and %d", THREADS_MAX);
		return false;
	}
	*out = (unsigned)v;
	return true;
}

bool ts_cli_bool_parse(const char *s, bool *out)
{
	static const char *const yes[] = {"1", "true", "on", "yes", NULL};
	static const char *const no[] = {"0", "false", "off", "no", NULL};
	size_t i;

	for (i = 0; yes[i]; i++)
		if (strcmp(s, yes[i]) == 0) {
			*out = true;
			return true;
		}
	for (i = 0; no[i]; i++)
		if (strcmp(s, no[i]) == 0) {
			*out = false;
			return true;
		}
	return false;
}

/* An on/off variable of the environment into *out, when it is set. */
static bool env_bool(const char *var, bool *out)
{
	const char *v = getenv(var);

	if (v != NULL && !ts_cli_bool_parse(v, out)) {
		ts_cli_error_code("usage", "%s must be 1 or 0 (true or false, on or off)", var);
		return false;
	}
	return true;
}

/* TESSERA_RELOAD_INTERVAL_MS, when set: how often a server looks for
 * configuration changes, 1 ms to a minute. */
static bool reload_interval(struct ts_config *c)
{
	const char *v = getenv("TESSERA_RELOAD_INTERVAL_MS");
	char *end = NULL;
	long ms;

	if (v == NULL || v[0] == '\0')
		return true;
	errno = 0;
	ms = strtol(v, &end, 10);
	if (errno || *end != '\0' || !ts_is_digit((unsigned char)v[0]) || ms < RELOAD_MS_MIN ||
	    ms > RELOAD_MS_MAX) {
		ts_cli_error_code("usage", "TESSERA_RELOAD_INTERVAL_MS must be a whole number of "
				  "milliseconds from %d to %d", RELOAD_MS_MIN, RELOAD_MS_MAX);
		return false;
	}
	c->reload_ms = (int)ms;
	return true;
}

/* An on/off option (--opt on|off) into *out, when it is given. */
static bool opt_bool(const struct ts_opts *o, const char *opt, bool *out)
{
	const char *v = ts_opts_get(o, opt);

	if (v != NULL && !ts_cli_bool_parse(v, out)) {
		ts_cli_error_code("usage", "--%s must be on or off", opt);
		return false;
	}
	return true;
}

/* TESSERA_MASTER_KEY_OLD: comma-separated keys that still open values
 * sealed before a key change (the current key is skipped if listed). */
static bool load_old_keys(struct ts_config *c, const char *list)
{
	const char *p = list;

	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		char hex[2 * TS_MASTER_KEY_LEN + 1];
		struct ts_master_key k;
		bool ok;
		if (n == 2 * TS_MASTER_KEY_LEN) {
			memcpy(hex, p, n);
			hex[n] = '\0';
		}
		ok = n == 2 * TS_MASTER_KEY_LEN && ts_master_key_parse(hex, &k) == TS_OK;
		OPENSSL_cleanse(hex, sizeof(hex));
		if (!ok) {
			ts_cli_error("TESSERA_MASTER_KEY_OLD must be keys of 64 hexadecimal characters, "
				     "separated by commas");
			return false;
		}
		if (strcmp(k.kid, c->mk.kid) != 0) {
			if (c->nmks == TS_MASTER_KEYS_MAX) {
				ts_cli_error("TESSERA_MASTER_KEY_OLD lists too many keys (at most %d)",
					     TS_MASTER_KEYS_MAX - 1);
				return false;
			}
			c->mks[c->nmks++] = k;
		}
		OPENSSL_cleanse(&k, sizeof(k));
		p += n + (comma ? 1 : 0);
	}
	return true;
}

bool ts_config_load(struct ts_config *c, const struct ts_opts *o)
{
	const char *cfgfile = ts_opts_get(o, "config");
	const char *v;

	memset(c, 0, sizeof(*c));
	c->db = ts_xstrdup("sqlite:tessera.db");
	c->public_url = ts_xstrdup("http://127.0.0.1:8080");
	c->listen = ts_xstrdup("127.0.0.1:8080");
	c->log_level = ts_xstrdup("info");
	c->reload_ms = TS_RELOAD_INTERVAL_MS;
	c->access_log = true;
	if (cfgfile == NULL)
		cfgfile = getenv("TESSERA_CONFIG");
	if (cfgfile && !load_file(c, cfgfile))
		return false;
	set(&c->db, getenv("TESSERA_DB"));
	set(&c->public_url, getenv("TESSERA_PUBLIC_URL"));
	set(&c->listen, getenv("TESSERA_LISTEN"));
	set(&c->log_level, getenv("TESSERA_LOG_LEVEL"));
	set(&c->trusted_proxies, getenv("TESSERA_TRUSTED_PROXIES"));
	set(&c->metrics_listen, getenv("TESSERA_METRICS_LISTEN"));
	if (!parse_threads(getenv("TESSERA_THREADS"), &c->threads))
		return false;
	if (!env_bool("TESSERA_ACCESS_LOG", &c->access_log) ||
	    !env_bool("TESSERA_PRINT_SECRETS", &c->print_secrets))
		return false;
	if (!reload_interval(c))
		return false;
	if ((v = getenv("TESSERA_MASTER_KEY_FILE")) != NULL && !read_key_file(c, v))
		return false;
	if ((v = getenv("TESSERA_MASTER_KEY")) != NULL && v[0]) {
		ts_free_secret(c->master_key);
		c->master_key = ts_xstrdup(v);
	}
	c->log_level_given = getenv("TESSERA_LOG_LEVEL") != NULL || ts_opts_has(o, "log-level");
	set(&c->db, ts_opts_get(o, "db"));
	set(&c->public_url, ts_opts_get(o, "public-url"));
	set(&c->listen, ts_opts_get(o, "listen"));
	set(&c->log_level, ts_opts_get(o, "log-level"));
	set(&c->trusted_proxies, ts_opts_get(o, "trusted-proxies"));
	set(&c->metrics_listen, ts_opts_get(o, "metrics-listen"));
	if (!parse_threads(ts_opts_get(o, "threads"), &c->threads))
		return false;
	if ((v = ts_opts_get(o, "master-key-file")) != NULL && !read_key_file(c, v))
		return false;
	if (!env_bool("TESSERA_JSON", &c->json))
		return false;
	/* --json is a flag: it turns JSON on, whatever else said off. */
	c->json = c->json || ts_opts_has(o, "json");
	if (!opt_bool(o, "access-log", &c->access_log))
		return false;
	if (strcmp(c->log_level, "debug") == 0)
		ts_log_set_level(TS_LOG_DEBUG);
	else if (strcmp(c->log_level, "info") == 0)
		ts_log_set_level(TS_LOG_INFO);
	else if (strcmp(c->log_level, "warn") == 0)
		ts_log_set_level(TS_LOG_WARN);
	else if (strcmp(c->log_level, "error") == 0)
		ts_log_set_level(TS_LOG_ERR);
	else {
		ts_cli_error("log level must be debug, info, warn or error");
		return false;
	}
	if (c->master_key) {
		if (ts_master_key_parse(c->master_key, &c->mk) != TS_OK) {
			ts_cli_error_code("usage",
					  "TESSERA_MASTER_KEY must be 64 hexadecimal characters (32 bytes)");
			return false;
		}
		c->have_mk = true;
		c->mks[0] = c->mk;
		c->nmks = 1;
		if (!load_old_keys(c, getenv("TESSERA_MASTER_KEY_OLD")))
			return false;
	}
	return true;
}

void ts_config_clear(struct ts_config *c)
{
	free(c->db);
	free(c->public_url);
	free(c->listen);
	free(c->log_level);
	free(c->trusted_proxies);
	free(c->metrics_listen);
	ts_free_secret(c->master_key);
	OPENSSL_cleanse(&c->mk, sizeof(c->mk));
	OPENSSL_cleanse(c->mks, sizeof(c->mks));
	memset(c, 0, sizeof(*c));
}

/* The file of a SQLite URL, or NULL for another database or a special
 * name (":memory:"). Borrowed from db. */
static const char *sqlite_path(const char *db)
{
	const char *path;

	if (strncmp(db, "sqlite:", strlen("sqlite:")) != 0)
		return NULL;
	path = db + strlen("sqlite:");
	return *path == '\0' || *path == ':' ? NULL : path;
}

/* True when c->db names a SQLite file that does not exist. */
static bool sqlite_file_missing(const char *db)
{
	const char *path = sqlite_path(db);
	struct stat sb;

	return path != NULL && stat(path, &sb) != 0 && errno == ENOENT;
}

/* The SQLite database this process created (its URL, owned), so that a
 * command that fails can take it away again. */
static char *created_db;

/* The files SQLite keeps beside a database. */
static const char *const sqlite_suffixes[] = {"", "-wal", "-shm", "-journal"};

void ts_cli_new_db_end(bool failed)
{
	struct ts_store *st = NULL;
	struct ts_tenant_rec **v = NULL;
	size_t n = 0, i;
	bool empty = false;
	char path[4096];

	if (created_db == NULL)
		return;
	/* Only a database still without tenants goes: another command may
	 * have started using it meanwhile. */
	if (failed && ts_store_open(created_db, &st) == TS_OK &&
	    ts_store_tenant_list(st, &v, &n) == TS_OK) {
		empty = n == 0;
		ts_tenant_recs_free(v, n);
	}
	ts_store_close(st);
	for (i = 0; empty && i < TS_ARRAY_LEN(sqlite_suffixes); i++)
		if ((size_t)snprintf(path, sizeof(path), "%s%s", sqlite_path(created_db),
				     sqlite_suffixes[i]) < sizeof(path))
			(void)unlink(path);
	free(created_db);
	created_db = NULL;
}

int ts_cli_open_store(const struct ts_config *c, struct ts_store **out)
{
	char shown[512];
	bool missing;
	int rc;

	*out = NULL;
	if (!c->db_may_create && sqlite_file_missing(c->db)) {
		ts_cli_error_code("not_found", "the database %s does not exist (tessera bootstrap or tessera tenant "
			     "create makes a new one)", ts_store_url_shown(c->db, shown, sizeof(shown)));
		return TS_ENOTFOUND;
	}
	missing = created_db == NULL && sqlite_file_missing(c->db);
	ts_log_clear_last_error();
	rc = ts_store_open(c->db, out);
	if (rc == TS_OK && missing)
		created_db = ts_xstrdup(c->db);
	if (rc == TS_EINVAL)
		ts_cli_error("unsupported or malformed database URL %s (use sqlite:PATH or "
			     "postgres://HOST/DB)", ts_store_url_shown(c->db, shown, sizeof(shown)));
	else if (rc != TS_OK)
		ts_cli_error("cannot open the database %s%s",
			     ts_store_url_shown(c->db, shown, sizeof(shown)), ts_cli_store_reason());
	return rc;
}

const char *ts_cli_store_reason(void)
{
	static _Thread_local char reason[1024];
	const char *e = ts_log_last_error();

	if (e[0] == '\0')
		return "";
	snprintf(reason, sizeof(reason), ": %s", e);
	return reason;
}

static void print_value(const json_t *v, int indent);

static void print_object(const json_t *o, int indent)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)o, k, v) {
		printf("%*s%s:", indent, "", k);
		if (json_is_object(v) || (json_is_array(v) && json_array_size(v) &&
					  !json_is_string(json_array_get(v, 0)))) {
			putchar('\n');
			print_value(v, indent + 2);
		} else {
			putchar(' ');
			print_value(v, 0);
			putchar('\n');
		}
	}
}

static void print_value(const json_t *v, int indent)
{
	size_t i;

	if (json_is_object(v)) {
		print_object(v, indent);
	} else if (json_is_array(v)) {
		if (json_array_size(v) && !json_is_string(json_array_get(v, 0))) {
			for (i = 0; i < json_array_size(v); i++) {
				print_value(json_array_get(v, i), indent);
				if (i + 1 < json_array_size(v))
					putchar('\n');
			}
			return;
		}
		for (i = 0; i < json_array_size(v); i++)
			printf("%s%s", i ? ", " : "", json_string_value(json_array_get(v, i)));
	} else if (json_is_string(v)) {
		fputs(json_string_value(v), stdout);
	} else {
		char *s = json_dumps(v, JSON_ENCODE_ANY);
		fputs(s ? s : "", stdout);
		free(s);
	}
}

void ts_cli_print(const struct ts_config *c, json_t *obj)
{
	if (c->json) {
		char *s = json_dumps(obj, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (s)
			puts(s);
		free(s);
	} else {
		print_value(obj, 0);
		if (!json_is_object(obj))
			putchar('\n');
	}
	json_decref(obj);
}
