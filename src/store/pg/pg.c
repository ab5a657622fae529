/* pg.c: the PostgreSQL store backend's engine room: opening, a small pool
 * of libpq connections (opened lazily, at most TS_POOL_MAX, each used by one
 * thread at a time), the statements of transactions and batches (which
 * txn.c runs), and the error mapping the driver (drv_pg.c) shares. A connection that fails at the
 * connection level is closed and replaced by the next taker, so the store
 * recovers by itself once the server is back. The SQL is in sql.c, the
 * schema in schema.c. */
#include "pg_int.h"
#include "store/schema.h"

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
#define GENERIC_PLANS_SQL "SET plan_cache_mode = force_generic_plan"
/* Longest error text kept in a log line. */
#define ERR_MAX 300


/* The backend state behind ts_store.impl. */
struct ts_pg {
	char *url;          /* the connection URL; may hold a password, never logged */
	struct ts_pg_url shown; /* what of it may be shown, for scrubbing messages */
	struct ts_pool pool; /* the connections */
	char *sql[TS_SQL_COUNT]; /* the SQL table in $N form (NULL: not in this dialect) */
};

static struct ts_pg *impl(struct ts_store *st)
{
	return st->impl;
}

static void notice(void *arg, const char *msg)
{
	char line[ERR_MAX];

	ts_log_debug("postgres: %s", ts_pg_scrub(arg, msg, line, sizeof(line)));
}

static void conn_close(struct ts_pg_conn *c)
{
	if (c == NULL)
		return;
	PQfinish(c->db);
	free(c);
}

/* The driver prepares its statements on each connection (drv_pg.c) and
 * runs each from one plan made without the values (a generic plan), so
 * that a run costs no planning; the driver prepares a statement again
 * after TS_PG_PLAN_RUNS runs or TS_PG_PLAN_AGE_S seconds, so a plan made
 * while a table was small does not outlive the table's growth. A server older than 12 has no such
 * setting: it chooses between the two kinds of plan by itself. */
static void generic_plans(struct ts_pg_conn *c)
{
	PGresult *r = PQexec(c->db, GENERIC_PLANS_SQL);

	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		ts_log_warn("postgres: plan_cache_mode cannot be set; the server chooses the plans "
			    "of prepared statements");
	PQclear(r);
}

/* Opens one connection to pg's URL. On TS_OK *out is owned by the caller
 * (conn_close). TS_ESTORE with a log line otherwise: libpq's message,
 * scrubbed of every value it quotes from the URL but the shown parts. */
static int conn_open(struct ts_pg *pg, struct ts_pg_conn **out)
{
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
			   ts_pg_scrub(&pg->shown, PQerrorMessage(c->db), err, sizeof(err)));
		conn_close(c);
		return TS_ESTORE;
	}
	c->url = &pg->shown;
	c->sql = pg->sql;
	PQsetNoticeProcessor(c->db, notice, (void *)&pg->shown);
	generic_plans(c);
	*out = c;
	return TS_OK;
}

/* An idle connection may have been cut while it sat in the pool (a server
 * restart, an administrator's pg_terminate_backend). Reading what is
 * pending, without blocking, shows that before a caller's statement fails
 * on it. A server that ends a connection first sends why, then closes it:
 * the first read takes the message, the second meets the end. */
static bool conn_alive(struct ts_pg_conn *c)
{
	int i;

	for (i = 0; i < 2; i++)
		if (PQstatus(c->db) != CONNECTION_OK || !PQconsumeInput(c->db))
			return false;
	return PQstatus(c->db) == CONNECTION_OK;
}

int ts_pg_pool_get(struct ts_store *st, struct ts_drv_conn **out)
{
	struct ts_pg *pg = impl(st);
	struct ts_pg_conn **c = (struct ts_pg_conn **)out;
	int rc;

	ts_pool_take(&pg->pool, out);
	if (*c != NULL && conn_alive(*c))
		return TS_OK;
	if (*c != NULL) {
		/* Replaced in the same slot: the slot stays reserved. */
		ts_log_info("postgres: replacing a pooled connection the server closed");
		conn_close(*c);
	}
	/* Connecting takes round trips: outside the pool's lock. */
	rc = conn_open(pg, c);
	if (rc != TS_OK) {
		ts_pool_put(&pg->pool, NULL);
		return rc;
	}
	ts_log_debug("postgres: opened a pooled connection");
	return TS_OK;
}

/* The next user must never inherit someone else's half-done transaction,
 * so one still open is rolled back, and the connection closed (freeing its
 * slot) if even that fails or it is broken. */
void ts_pg_pool_put(struct ts_store *st, struct ts_drv_conn *dc)
{
	struct ts_pg *pg = impl(st);
	struct ts_pg_conn *c = (struct ts_pg_conn *)dc;
	PGTransactionStatusType ts;
	PGresult *r;

	if (c == NULL)
		return;
	if (!c->broken && PQstatus(c->db) == CONNECTION_OK) {
		ts = PQtransactionStatus(c->db);
		if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) {
			r = PQexec(c->db, "ROLLBACK");
			PQclear(r);
			ts = PQtransactionStatus(c->db);
		}
		if (ts != PQTRANS_IDLE) {
			ts_log_err("postgres: dropping a connection stuck in a transaction");
			c->broken = true;
		}
	} else {
		c->broken = true;
	}
	if (c->broken) {
		conn_close(c);
		c = NULL;
	}
	ts_pool_put(&pg->pool, (struct ts_drv_conn *)c);
}

/* Maps a failed result to a return code and logs it. The log carries the
 * SQLSTATE and the primary message, which name constraints and columns;
 * the DETAIL line, which may quote a key's value (a digest, a username),
 * is left out. */
int ts_pg_fail(struct ts_pg_conn *c, const PGresult *r, const char *what)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	char err[ERR_MAX];

	if (PQstatus(c->db) != CONNECTION_OK) {
		c->broken = true;
		ts_log_err("postgres %s: connection lost: %s", what,
			   ts_pg_scrub(c->url, PQerrorMessage(c->db), err, sizeof(err)));
		return TS_ESTORE;
	}
	if (msg == NULL)
		msg = PQerrorMessage(c->db);
	ts_pg_scrub(c->url, msg, err, sizeof(err));
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

/* Well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
 * above U+10FFFF), which is all a UTF8 database accepts. */
bool ts_pg_utf8_ok(const char *p)
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

int ts_pg_query(struct ts_pg_conn *c, const char *sql, const char *const *args, int n,
		PGresult **out, const char *what)
{
	PGresult *r;
	ExecStatusType s;
	int rc, i;

	if (out != NULL)
		*out = NULL;
	/* Bytes that are not UTF-8 (a form value is not checked before it
	 * gets here) cannot be in the database: nothing matches them, as on
	 * SQLite, rather than a server error. */
	for (i = 0; i < n; i++) {
		if (args[i] != NULL && !ts_pg_utf8_ok(args[i])) {
			ts_log_debug("postgres %s: a parameter is not UTF-8", what);
			return TS_ENOTFOUND;
		}
	}
	r = PQexecParams(c->db, sql, n, NULL, args, NULL, NULL, 0);
	s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
		rc = ts_pg_fail(c, r, what);
		PQclear(r);
		return rc;
	}
	if (out != NULL)
		*out = r;
	else
		PQclear(r);
	return TS_OK;
}

int ts_pg_exec(struct ts_pg_conn *c, const char *sql, const char *const *args, int n,
	       int *changed, const char *what)
{
	PGresult *r = NULL;
	const char *tuples;
	int rc;

	rc = ts_pg_query(c, sql, args, n, &r, what);
	if (rc != TS_OK)
		return rc;
	if (changed != NULL) {
		tuples = PQcmdTuples(r);
		*changed = tuples[0] != '\0' ? (int)strtol(tuples, NULL, 10) : 0;
	}
	PQclear(r);
	return TS_OK;
}

/* The transaction statements (drv.h), by enum ts_tx_stmt. */
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
int ts_pg_run(struct ts_drv_conn *dc, enum ts_tx_stmt id, const char *what)
{
	struct ts_pg_conn *c = (struct ts_pg_conn *)dc;
	PGresult *r = NULL;
	int rc;

	if (id == TS_TX_COMMIT && PQtransactionStatus(c->db) != PQTRANS_INTRANS) {
		ts_log_err("postgres: a write transaction failed but was about to commit");
		return TS_ESTORE;
	}
	rc = ts_pg_query(c, tx_sql[id], NULL, 0, &r, what);
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

bool ts_pg_open(struct ts_drv_conn *dc)
{
	struct ts_pg_conn *c = (struct ts_pg_conn *)dc;
	PGTransactionStatusType ts;

	if (c->broken)
		return false;
	ts = PQtransactionStatus(c->db);
	return ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR;
}

int64_t ts_pg_col_i64(const PGresult *r, int i, int j)
{
	if (PQgetisnull(r, i, j))
		return 0;
	return (int64_t)strtoll(PQgetvalue(r, i, j), NULL, 10);
}

const char *ts_pg_i64(char buf[TS_PG_I64_BUF], int64_t v)
{
	snprintf(buf, TS_PG_I64_BUF, "%" PRId64, v);
	return buf;
}

/* Every connection must be back by now: closing under a running call is a
 * caller bug, logged rather than hidden. */
static void close_pooled(struct ts_drv_conn *c)
{
	conn_close((struct ts_pg_conn *)c);
}

void ts_pg_close(struct ts_store *st)
{
	struct ts_pg *pg = impl(st);
	unsigned lent = ts_pool_drain(&pg->pool, close_pooled);
	size_t i;

	if (lent != 0)
		ts_log_err("postgres: closed with %u connections still in use", lent);
	for (i = 0; i < TS_SQL_COUNT; i++)
		free(pg->sql[i]);
	ts_free_secret(pg->url);
	ts_pg_url_clear(&pg->shown);
	free(pg);
	free(st);
}

int ts_store_pg_open(const char *url, struct ts_store **out)
{
	struct ts_store *st = NULL;
	struct ts_pg *pg;
	struct ts_pg_conn *c = NULL;
	PQconninfoOption *opts;
	char *err = NULL;
	size_t i;
	int rc;

	if (out == NULL)
		return TS_EINVAL;
	*out = NULL;
	if (url == NULL)
		return TS_EINVAL;
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
	ts_pg_url_parse(url, &pg->shown);
	ts_pool_init(&pg->pool);
	for (i = 0; i < TS_SQL_COUNT; i++)
		pg->sql[i] = ts_sql_pg_dup(ts_sql_text(TS_DIALECT_PG, (enum ts_sql)i));
	st = ts_xcalloc(1, sizeof(*st));
	st->drv = &ts_drv_pg;
	st->ops = &ts_drv_pg.ops;
	st->impl = pg;

	rc = conn_open(pg, &c);
	if (rc != TS_OK)
		goto out;
	rc = ts_schema_migrate(st, (struct ts_drv_conn *)c);
	if (rc != TS_OK)
		goto out;
	/* The migrating connection becomes the pool's first. */
	pg->pool.nopen = 1;
	ts_pg_pool_put(st, (struct ts_drv_conn *)c);
	c = NULL;
	*out = st;
	st = NULL;
out:
	conn_close(c);
	ts_store_close(st);
	return rc;
}
