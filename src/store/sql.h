/* sql.h: every statement the operations run, by id. Each has one text
 * that both dialects run (?N parameters; the PostgreSQL driver writes them
 * $N), or, for the few that really differ, a text per dialect; a statement
 * one dialect has no use for is NULL there (sql.c). Private to src/store. */
#ifndef TS_STORE_SQL_H
#define TS_STORE_SQL_H

enum ts_dialect { TS_DIALECT_SQLITE, TS_DIALECT_PG };

enum ts_sql {
	/* sessions, consent, pending state, throttling, purging */
	TS_SQL_SESSION_PUT,
	TS_SQL_SESSION_GET,
	TS_SQL_SESSION_TOUCH,
	TS_SQL_SESSION_DELETE,
	TS_SQL_SESSION_DELETE_USER,
	TS_SQL_CONSENT_GET,
	TS_SQL_CONSENT_PUT,
	TS_SQL_PENDING_PUT,
	TS_SQL_PENDING_GET,
	TS_SQL_PENDING_DELETE,
	TS_SQL_PENDING_UPDATE,
	TS_SQL_PURGE_SESSIONS,
	TS_SQL_PURGE_CODES,
	TS_SQL_PURGE_PENDING,
	TS_SQL_PURGE_REVOCATIONS,
	TS_SQL_PURGE_REFRESH,
	TS_SQL_PURGE_GRANT_TOKENS,
	TS_SQL_PURGE_THROTTLE,
	TS_SQL_THROTTLE_GET,
	TS_SQL_THROTTLE_FAIL,
	TS_SQL_THROTTLE_RESET,
	TS_SQL_THROTTLE_CAS_NEW,
	TS_SQL_THROTTLE_CAS,
	TS_SQL_COUNT
};

/* The text of statement id in dialect d, or NULL if d has no such
 * statement. For PostgreSQL it may still hold ?N parameters: the driver
 * rewrites them once (ts_sql_pg_dup). */
const char *ts_sql_text(enum ts_dialect d, enum ts_sql id);
/* A copy of sql with every ?N parameter written $N, owned by the caller
 * (NULL for NULL). The SQL table holds no ? elsewhere. */
char *ts_sql_pg_dup(const char *sql);

#endif
