/* pg.c: the PostgreSQL driver (drv.h): what of its URL may be shown or
 * logged, opening and checking libpq connections (txn.c pools them: at
 * most TS_POOL_MAX, each used by one thread at a time), READ COMMITTED
 * write transactions (run by txn.c), prepared statements, error mapping,
 * migration scripts, and reading a database's schema version without
 * opening it as a store. A connection that fails at the connection level
 * is closed and replaced by the next taker, so the store recovers by
 * itself once the server is back. There is no group commit: each write is
 * its own transaction.
 *
 * Each connection prepares a statement of the SQL table the first time it
 * runs it (PQprepare, named by its id) and runs it by name afterwards
 * (PQexecPrepared), so the server parses and plans it once per connection;
 * a connection opened after a cut starts with none prepared. Every
 * statement is parameterised (text format; integers are written in
 * decimal) and fixed text, never built from data. Times are BIGINT Unix
 * seconds and flags INTEGER 0/1, as in the SQLite schema, so that records
 * read the same from both. The SQL is in sql_table.h, the schema in schema.c. */
#include "store/drv.h"
#include "store/schema.h"

#include <libpq-fe.h>

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Set unless the URL sets them: a server that does not answer costs a
 * connection attempt at most CONNECT_TIMEOUT_S; a server or network that
 * goes silent under an open connection is noticed by TCP keepalives (idle
 * for KEEPALIVE_IDLE_S, then KEEPALIVE_COUNT probes KEEPALIVE_INTERVAL_S
 * apart) or, with a request unanswered, after TCP_USER_TIMEOUT_MS, instead
 * of the kernel's quarter of an hour; the server's activity views name us. */
#define CONNECT_TIMEOUT_S "5"
#define KEEPALIVE_IDLE_S "30"
#define KEEPALIVE_INTERVAL_S "10"
#define KEEPALIVE_COUNT "3"
#define TCP_USER_TIMEOUT_MS "30000"
#define APPLICATION_NAME "tessera"
/* Records are UTF-8 text, whatever the database's default client encoding. */
#define CLIENT_ENCODING "UTF8"
#define SQLSTATE_UNIQUE "23505"
#define SQLSTATE_FOREIGN_KEY "23503"
#define SQLSTATE_UNDEFINED_TABLE "42P01"
#define GENERIC_PLANS_SQL "SET plan_cache_mode = force_generic_plan"
/* Longest error text kept in a log line. */
#define ERR_MAX 300
/* A prepared statement is prepared again (and so planned again) after this
 * many runs on its connection, or at its first run this many seconds after
 * it was prepared. */
#define PLAN_RUNS 100
#define PLAN_AGE_S 60
/* The most parameters one statement of the table takes. */
#define ARGS_MAX 32
/* "s" and a statement id. */
#define NAME_MAX_LEN 16
/* A 64-bit integer in decimal, with its sign and NUL. */
#define I64_BUF 24

/* What of a connection URL may be shown, and libpq's messages made fit to
 * log. A URL may carry a password in its user information or its query; a
 * password with a '/' or '?' in it makes libpq read part of it as a host,
 * port or database name; and libpq's messages quote the values they read.
 * So only a scheme, host, port and database name that look like one are
 * ever shown, and every quoted value in a libpq message that is not one of
 * those (nor a connection keyword) is replaced. */

/* The parts of a connection URL that may be shown (each empty when absent
 * or not plausibly what it claims to be), and the password, kept only to
 * scrub it from messages. */
struct ts_pg_url {
	char scheme[16];
	char host[256];
	char port[64];
	char dbname[128];
	char user[128];
	char *password; /* owned, wiped by url_clear; NULL if none */
};

#define HIDDEN "..."

/* Copies v into out when every byte is in allowed (and v fits); else
 * leaves out empty. */
static void keep_if(const char *v, const char *allowed, char *out, size_t cap)
{
	size_t n = v ? strlen(v) : 0;

	out[0] = '\0';
	if (n == 0 || n >= cap || strspn(v, allowed) != n)
		return;
	memcpy(out, v, n + 1);
}

#define ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

/* The value of option key in opts (NULL when unset). */
static const char *opt(const PQconninfoOption *o, const char *key)
{
	for (; o->keyword; o++)
		if (strcmp(o->keyword, key) == 0)
			return o->val;
	return NULL;
}

/* Parses url (never logging it) into out; unparseable: only the scheme is
 * kept. */
static void url_parse(const char *url, struct ts_pg_url *out)
{
	PQconninfoOption *opts;
	const char *user, *pw;
	char *parts[] = {out->host, out->port, out->dbname, out->user};
	char *err = NULL;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (url == NULL)
		return;
	keep_if(strncmp(url, "postgresql://", 13) == 0 ? "postgresql" : "postgres", ALNUM,
		out->scheme, sizeof(out->scheme));
	/* libpq's parse error may quote the URL: it is never kept. */
	opts = PQconninfoParse(url, &err);
	PQfreemem(err);
	if (opts == NULL)
		return;
	user = opt(opts, "user");
	pw = opt(opts, "password");
	if (pw && pw[0])
		out->password = ts_xstrdup(pw);
	/* User information that libpq did not read as such ("user:pa/ss@h"
	 * parses as host "user", port "pa"): nothing of it is shown. */
	if (strchr(url, '@') == NULL || user != NULL) {
		keep_if(opt(opts, "host"), ALNUM ".-_:,[]%/", out->host, sizeof(out->host));
		keep_if(opt(opts, "port"), "0123456789,", out->port, sizeof(out->port));
		keep_if(opt(opts, "dbname"), ALNUM "._-$", out->dbname, sizeof(out->dbname));
		keep_if(user, ALNUM "._-$", out->user, sizeof(out->user));
	}
	/* A password that happens to look like a host is never shown. */
	for (i = 0; out->password && i < TS_ARRAY_LEN(parts); i++)
		if (parts[i][0] && strstr(out->password, parts[i]))
			parts[i][0] = '\0';
	PQconninfoFree(opts);
}

static void url_clear(struct ts_pg_url *u)
{
	ts_free_secret(u->password);
	memset(u, 0, sizeof(*u));
}

/* Whether a quoted value may stay: one of the parts that may be shown, or
 * the name of a connection option (libpq's own word, never a secret). */
static bool quote_ok(const struct ts_pg_url *u, const char *v, size_t n)
{
	const char *shown[] = {u->host, u->port, u->dbname, u->user};
	PQconninfoOption *opts, *o;
	bool ok = false;
	size_t i;

	if (n == 0)
		return true;
	for (i = 0; i < TS_ARRAY_LEN(shown); i++)
		if (strlen(shown[i]) == n && memcmp(shown[i], v, n) == 0)
			return true;
	opts = PQconndefaults();
	for (o = opts; o && o->keyword && !ok; o++)
		ok = strlen(o->keyword) == n && memcmp(o->keyword, v, n) == 0;
	PQconninfoFree(opts);
	return ok;
}

/* libpq's message (or a server's) as one line in buf, with every quoted
 * value that is not a shown part of u or a connection keyword replaced by
 * "...", and the password masked wherever it appears. Returns buf. */
static const char *scrub(const struct ts_pg_url *u, const char *msg, char *buf, size_t cap)
{
	size_t n = 0, i, len;
	bool space;

	if (msg == NULL)
		msg = "";
	for (i = 0; msg[i] != '\0' && n + 1 < cap; i++) {
		if (msg[i] == '"') {
			const char *end = strchr(msg + i + 1, '"');
			const char *v = msg + i + 1;
			len = end ? (size_t)(end - v) : strlen(v);
			if (!quote_ok(u, v, len)) {
				v = HIDDEN;
				len = strlen(HIDDEN);
			}
			if (n + len + 2 >= cap)
				break;
			buf[n++] = '"';
			memcpy(buf + n, v, len);
			n += len;
			buf[n++] = '"';
			i = end ? (size_t)(end - msg) : strlen(msg) - 1;
			continue;
		}
		/* One line: each run of white space becomes one space. */
		space = msg[i] == ' ' || msg[i] == '\n' || msg[i] == '\r' || msg[i] == '\t';
		if (space && (n == 0 || buf[n - 1] == ' '))
			continue;
		buf[n++] = space ? ' ' : msg[i];
	}
	while (n > 0 && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
	/* The password itself, wherever libpq put it, unquoted too. */
	if (u->password && u->password[0]) {
		char *p;
		len = strlen(u->password);
		while ((p = strstr(buf, u->password)) != NULL)
			memset(p, '*', len);
	}
	return buf;
}

/* "scheme://host[:port]/dbname", with "..." for a part that may not be
 * shown. */
int ts_store_pg_url_shown(const char *url, char *buf, size_t cap)
{
	struct ts_pg_url u;

	url_parse(url, &u);
	snprintf(buf, cap, "%s://%s%s%s/%s", u.scheme[0] ? u.scheme : "postgres",
		 u.host[0] ? u.host : HIDDEN, u.port[0] ? ":" : "", u.port,
		 u.dbname[0] ? u.dbname : HIDDEN);
	url_clear(&u);
	return TS_OK;
}

/* One pooled connection, used by one thread at a time. */
struct ts_pg_conn {
	PGconn *db;
	const struct ts_pg_url *url; /* the store's, for scrubbing messages */
	char *const *sql;        /* the store's SQL table in $N form, by statement id */
	bool prepared[TS_SQL_COUNT]; /* prepared on this connection (PQprepare) */
	unsigned runs[TS_SQL_COUNT]; /* runs since it was prepared */
	int64_t prepared_at[TS_SQL_COUNT]; /* when (Unix seconds) */
	bool broken;             /* a query failed at the connection level: closed on put */
};

/* The backend state behind ts_store.impl. */
struct ts_pg {
	struct ts_pool pool; /* the connections (first, for txn.c) */
	char *url;          /* the connection URL; may hold a password, never logged */
	struct ts_pg_url shown; /* what of it may be shown, for scrubbing messages */
	char *sql[TS_SQL_COUNT]; /* the SQL table in $N form (NULL: not in this dialect) */
};

static struct ts_pg_conn *pc(struct ts_drv_conn *c)
{
	return (struct ts_pg_conn *)c;
}

static void notice(void *arg, const char *msg)
{
	char line[ERR_MAX];

	ts_log_debug("postgres: %s", scrub(arg, msg, line, sizeof(line)));
}

static void conn_close(struct ts_drv_conn *c)
{
	if (c == NULL)
		return;
	PQfinish(pc(c)->db);
	free(c);
}

/* Each statement runs from one plan made without the values (a generic
 * plan), so that a run costs no planning; it is prepared again after
 * PLAN_RUNS runs or PLAN_AGE_S seconds, so a plan made while a table was
 * small does not outlive the table's growth. A server older than 12 has no
 * such setting: it chooses between the two kinds of plan by itself. */
static void generic_plans(struct ts_pg_conn *c)
{
	PGresult *r = PQexec(c->db, GENERIC_PLANS_SQL);

	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		ts_log_warn("postgres: plan_cache_mode cannot be set; the server chooses the plans "
			    "of prepared statements");
	PQclear(r);
}

/* Opens one connection to st's URL. On TS_OK *out is owned by the caller
 * (conn_close). TS_ESTORE with a log line otherwise: libpq's message,
 * scrubbed of every value it quotes from the URL but the shown parts. */
static int conn_open(struct ts_store *st, struct ts_drv_conn **out)
{
	struct ts_pg *pg = st->impl;
	const char *url = pg->url;
	/* Keywords before dbname are defaults the URL may override; those
	 * after it win over the URL. */
	static const char *const keys[] = {
		"connect_timeout",  "keepalives_idle", "keepalives_interval", "keepalives_count",
		"tcp_user_timeout", "application_name", "dbname", "client_encoding", NULL};
	const char *vals[] = {CONNECT_TIMEOUT_S, KEEPALIVE_IDLE_S, KEEPALIVE_INTERVAL_S,
			      KEEPALIVE_COUNT,   TCP_USER_TIMEOUT_MS, APPLICATION_NAME,
			      url,               CLIENT_ENCODING, NULL};
	struct ts_pg_conn *c = ts_xcalloc(1, sizeof(*c));
	char err[ERR_MAX];

	*out = NULL;
	c->db = PQconnectdbParams(keys, vals, 1);
	if (c->db == NULL) {
		ts_log_err("postgres: cannot connect: out of memory");
		free(c);
		return TS_ESTORE;
	}
	if (PQstatus(c->db) != CONNECTION_OK) {
		ts_log_err("postgres: cannot connect: %s",
			   scrub(&pg->shown, PQerrorMessage(c->db), err, sizeof(err)));
		conn_close((struct ts_drv_conn *)c);
		return TS_ESTORE;
	}
	c->url = &pg->shown;
	c->sql = pg->sql;
	PQsetNoticeProcessor(c->db, notice, (void *)&pg->shown);
	generic_plans(c);
	*out = (struct ts_drv_conn *)c;
	return TS_OK;
}

/* An idle connection may have been cut while it sat in the pool (a server
 * restart, an administrator's pg_terminate_backend). Reading what is
 * pending, without blocking, shows that before a caller's statement fails
 * on it. A server that ends a connection first sends why, then closes it:
 * the first read takes the message, the second meets the end. */
static bool alive(struct ts_drv_conn *dc)
{
	struct ts_pg_conn *c = pc(dc);
	int i;

	for (i = 0; i < 2; i++)
		if (PQstatus(c->db) != CONNECTION_OK || !PQconsumeInput(c->db))
			return false;
	return PQstatus(c->db) == CONNECTION_OK;
}

/* A broken connection, or one in any state but idle, is closed. */
static bool fit(struct ts_drv_conn *dc)
{
	struct ts_pg_conn *c = pc(dc);

	return !c->broken && PQstatus(c->db) == CONNECTION_OK &&
	       PQtransactionStatus(c->db) == PQTRANS_IDLE;
}

/* Maps a failed result r on c (may be NULL) to a return code and logs it
 * with what: unique violation TS_EEXIST, foreign-key violation
 * TS_ENOTFOUND (both at debug level, as expected outcomes), anything else
 * TS_ESTORE; a lost connection also marks c broken. The log carries the
 * SQLSTATE and the primary message, which name constraints and columns;
 * the DETAIL line, which may quote a key's value (a digest, a username),
 * is left out. */
static int fail(struct ts_pg_conn *c, const PGresult *r, const char *what)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	char err[ERR_MAX];

	if (PQstatus(c->db) != CONNECTION_OK) {
		c->broken = true;
		ts_log_err("postgres %s: connection lost: %s", what,
			   scrub(c->url, PQerrorMessage(c->db), err, sizeof(err)));
		return TS_ESTORE;
	}
	if (msg == NULL)
		msg = PQerrorMessage(c->db);
	scrub(c->url, msg, err, sizeof(err));
	if (state != NULL && strcmp(state, SQLSTATE_UNIQUE) == 0) {
		ts_log_debug("postgres %s: %s", what, err);
		return TS_EEXIST;
	}
	if (state != NULL && strcmp(state, SQLSTATE_FOREIGN_KEY) == 0) {
		/* The parent row (tenant, user, grant, ...) does not exist. */
		ts_log_debug("postgres %s: %s", what, err);
		return TS_ENOTFOUND;
	}
	ts_log_err("postgres %s: %s (%s)", what, err, state ? state : "no SQLSTATE");
	return TS_ESTORE;
}

/* TS_OK with r in *out (the caller PQclears it) when r is a success; else
 * r is cleared, *out is NULL and the failure is mapped and logged (fail). */
static int result(struct ts_pg_conn *c, PGresult *r, PGresult **out, const char *what)
{
	ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	int rc;

	*out = NULL;
	if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
		*out = r;
		return TS_OK;
	}
	rc = fail(c, r, what);
	PQclear(r);
	return rc;
}

/* Well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
 * above U+10FFFF), which is all a UTF8 database accepts. */
static bool utf8_ok(const char *p)
{
	const unsigned char *s = (const unsigned char *)p;

	while (*s) {
		unsigned c = *s, need, cp, i;
		if (c < 0x80) {
			s++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		for (i = 1; i <= need; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i] & 0x3f);
		}
		if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (need == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		s += need + 1;
	}
	return true;
}

/* The transaction statements (drv.h), by enum ts_tx_stmt. Transactions
 * run at READ COMMITTED: single-use steps rely on conditional UPDATEs and
 * row locks, not on isolation. */
static const char *const tx_sql[TS_TX_COUNT] = {
	[TS_TX_BEGIN] = "BEGIN ISOLATION LEVEL READ COMMITTED",
	[TS_TX_COMMIT] = "COMMIT",
	[TS_TX_ROLLBACK] = "ROLLBACK",
	[TS_TX_SAVEPOINT] = "SAVEPOINT job",
	[TS_TX_RELEASE] = "RELEASE SAVEPOINT job",
	[TS_TX_ROLLBACK_TO] = "ROLLBACK TO SAVEPOINT job",
	[TS_TX_GEN_BUMP] = "UPDATE meta SET value = value + 1 WHERE name = 'generation'",
};

/* COMMIT of a transaction that failed earlier answers with a ROLLBACK and
 * no error, so the transaction's state is checked before and the command's
 * tag after; the generation row must be there to bump. */
static int run_tx(struct ts_drv_conn *dc, enum ts_tx_stmt id, const char *what)
{
	struct ts_pg_conn *c = pc(dc);
	PGresult *r = NULL;
	int rc;

	if (id == TS_TX_COMMIT && PQtransactionStatus(c->db) != PQTRANS_INTRANS) {
		ts_log_err("postgres: a write transaction failed but was about to commit");
		return TS_ESTORE;
	}
	rc = result(c, PQexecParams(c->db, tx_sql[id], 0, NULL, NULL, NULL, NULL, 0), &r, what);
	if (rc != TS_OK)
		return rc;
	if (id == TS_TX_COMMIT && strcmp(PQcmdStatus(r), "COMMIT") != 0) {
		ts_log_err("postgres: commit answered \"%s\"", PQcmdStatus(r));
		rc = TS_ESTORE;
	} else if (id == TS_TX_GEN_BUMP && strcmp(PQcmdTuples(r), "1") != 0) {
		ts_log_err("postgres: the generation row is missing");
		rc = TS_ESTORE;
	}
	PQclear(r);
	return rc;
}

static bool tx_open(struct ts_drv_conn *dc)
{
	struct ts_pg_conn *c = pc(dc);
	PGTransactionStatusType ts;

	if (c->broken)
		return false;
	ts = PQtransactionStatus(c->db);
	return ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR;
}

/* Prepares statement id on c unless it is already, and again once its
 * plan has served PLAN_RUNS runs or PLAN_AGE_S seconds. */
static int prepare(struct ts_pg_conn *c, enum ts_sql id, const char *name, const char *what)
{
	char drop[NAME_MAX_LEN + sizeof("DEALLOCATE ")];
	PGresult *r;
	int rc;

	if (c->prepared[id] && ++c->runs[id] < PLAN_RUNS &&
	    ts_now() - c->prepared_at[id] < PLAN_AGE_S)
		return TS_OK;
	if (c->prepared[id]) {
		snprintf(drop, sizeof(drop), "DEALLOCATE %s", name);
		rc = result(c, PQexec(c->db, drop), &r, what);
		PQclear(r);
		if (rc != TS_OK)
			return rc;
		c->prepared[id] = false;
	}
	c->runs[id] = 0;
	c->prepared_at[id] = ts_now();
	assert(c->sql[id] != NULL);
	rc = result(c, PQprepare(c->db, name, c->sql[id], 0, NULL), &r, what);
	PQclear(r);
	c->prepared[id] = rc == TS_OK;
	return rc;
}

/* Runs statement id with args on c; TS_OK with the result in *out (the
 * caller PQclears it). A text argument that is not UTF-8 (a form value is
 * not checked before it gets here) cannot be in the database: it matches
 * nothing, TS_ENOTFOUND without running anything, as on SQLite, rather
 * than a server error. */
static int run(struct ts_pg_conn *c, enum ts_sql id, const struct ts_arg *args, int n,
	       PGresult **out, const char *what)
{
	char name[NAME_MAX_LEN], nums[ARGS_MAX][I64_BUF];
	const char *vals[ARGS_MAX];
	int i, rc;

	assert(n <= ARGS_MAX);
	*out = NULL;
	for (i = 0; i < n; i++) {
		if (args[i].kind == TS_ARG_I64) {
			snprintf(nums[i], sizeof(nums[i]), "%" PRId64, args[i].i);
			vals[i] = nums[i];
		} else {
			vals[i] = args[i].s;
			if (vals[i] != NULL && !utf8_ok(vals[i])) {
				ts_log_debug("postgres %s: a parameter is not UTF-8", what);
				return TS_ENOTFOUND;
			}
		}
	}
	snprintf(name, sizeof(name), "s%d", (int)id);
	rc = prepare(c, id, name, what);
	if (rc != TS_OK)
		return rc;
	return result(c, PQexecPrepared(c->db, name, n, vals, NULL, NULL, 0), out, what);
}

static int exec(struct ts_drv_conn *dc, enum ts_sql id, const struct ts_arg *args, int n,
		int *changed, const char *what)
{
	PGresult *r = NULL;
	const char *tuples;
	int rc;

	rc = run(pc(dc), id, args, n, &r, what);
	if (rc != TS_OK)
		return rc;
	if (changed != NULL) {
		tuples = PQcmdTuples(r);
		*changed = tuples[0] != '\0' ? (int)strtol(tuples, NULL, 10) : 0;
	}
	PQclear(r);
	return TS_OK;
}

static int query(struct ts_drv_conn *dc, enum ts_sql id, const struct ts_arg *args, int n,
		 struct ts_cur *cur, const char *what)
{
	PGresult *r = NULL;
	int rc;

	cur->c = dc;
	cur->h = NULL;
	cur->row = -1;
	cur->nrows = 0;
	rc = run(pc(dc), id, args, n, &r, what);
	if (rc != TS_OK)
		return rc;
	cur->h = r;
	cur->nrows = PQntuples(r);
	return TS_OK;
}

static int next(struct ts_cur *cur, const char *what)
{
	(void)what;
	if (cur->row + 1 >= cur->nrows)
		return TS_ENOTFOUND;
	cur->row++;
	return TS_OK;
}

static const char *text(struct ts_cur *cur, int j)
{
	if (PQgetisnull(cur->h, cur->row, j))
		return NULL;
	return PQgetvalue(cur->h, cur->row, j);
}

static int64_t i64(struct ts_cur *cur, int j)
{
	const char *v = text(cur, j);

	return v != NULL ? (int64_t)strtoll(v, NULL, 10) : 0;
}

static void done(struct ts_cur *cur)
{
	PQclear(cur->h);
	cur->h = NULL;
}

static bool stale(struct ts_drv_conn *c)
{
	return pc(c)->broken;
}

/* Runs a migration step's script (one or more statements, no parameters,
 * never built from data; schema.c applies the steps) through the simple
 * query protocol, which the parameterised one does not allow for more
 * than one statement. */
static int script(struct ts_drv_conn *dc, const char *sql, const char *what)
{
	struct ts_pg_conn *c = pc(dc);
	PGresult *r = PQexec(c->db, sql);
	ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	const char *state, *msg;
	int rc = TS_OK;

	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
		state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
		msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
		if (PQstatus(c->db) != CONNECTION_OK)
			c->broken = true;
		ts_log_err("postgres: %s failed: %s (%s)", what,
			   msg ? msg : "connection lost", state ? state : "no SQLSTATE");
		rc = TS_ESTORE;
	}
	PQclear(r);
	return rc;
}

static void store_close(struct ts_store *st)
{
	struct ts_pg *pg = st->impl;
	size_t i;

	for (i = 0; i < TS_SQL_COUNT; i++)
		free(pg->sql[i]);
	ts_free_secret(pg->url);
	url_clear(&pg->shown);
	free(pg);
}

int ts_store_pg_open(const char *url, struct ts_store **out)
{
	struct ts_pg *pg;
	PQconninfoOption *opts;
	char *err = NULL;
	size_t i;

	/* libpq's parse error may quote a piece of the URL, password
	 * included, so only the fact is logged. */
	opts = PQconninfoParse(url, &err);
	PQconninfoFree(opts);
	if (opts == NULL) {
		PQfreemem(err);
		ts_log_err("postgres: the store URL cannot be parsed");
		return TS_EINVAL;
	}
	if (!PQisthreadsafe()) {
		ts_log_err("postgres: the libpq library was built without thread support");
		return TS_ESTORE;
	}
	pg = ts_xcalloc(1, sizeof(*pg));
	pg->url = ts_xstrdup(url);
	url_parse(url, &pg->shown);
	for (i = 0; i < TS_SQL_COUNT; i++)
		pg->sql[i] = ts_sql_pg_dup(ts_sql_text(TS_DIALECT_PG, (enum ts_sql)i));
	return ts_pool_start(&ts_drv_pg, pg, out);
}

int ts_store_pg_schema_status(const char *url, int64_t *current, int64_t *latest)
{
	PGconn *db;
	PGresult *r = NULL;
	const char *state;
	size_t n;
	int rc = TS_ESTORE;

	ts_schema_steps(TS_DIALECT_PG, &n);
	*latest = (int64_t)n;
	*current = 0;
	db = PQconnectdb(url);
	if (db == NULL || PQstatus(db) != CONNECTION_OK) {
		/* libpq's message may quote the URL's options: not logged. */
		ts_log_err("postgres: cannot connect to read the schema version");
		goto out;
	}
	r = PQexec(db, "SELECT version FROM schema_version WHERE id = 1");
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)) {
		*current = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		rc = TS_OK;
	} else if ((state = PQresultErrorField(r, PG_DIAG_SQLSTATE)) != NULL &&
		   strcmp(state, SQLSTATE_UNDEFINED_TABLE) == 0) {
		rc = TS_OK; /* no tables yet */
	} else {
		ts_log_err("postgres: reading the schema version failed");
	}
out:
	PQclear(r);
	PQfinish(db);
	return rc;
}

const struct ts_drv ts_drv_pg = {
	.ops = {.name = "postgres", .shared = true},
	.dialect = TS_DIALECT_PG,
	.exec = exec,
	.query = query,
	.next = next,
	.text = text,
	.i64 = i64,
	.done = done,
	.stale = stale,
	.close = store_close,
	.conn_open = conn_open,
	.conn_close = conn_close,
	.alive = alive,
	.fit = fit,
	.run = run_tx,
	.open = tx_open,
	.script = script,
};
