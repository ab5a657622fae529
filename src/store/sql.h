/* sql.h: every statement the operations run, by id. Each has one text
 * that both dialects run (?N parameters; the PostgreSQL driver writes them
 * $N), or, for the few that really differ, a text per dialect; a statement
 * one dialect has no use for is NULL there (sql.c). Private to src/store. */
#ifndef TS_STORE_SQL_H
#define TS_STORE_SQL_H

enum ts_dialect { TS_DIALECT_SQLITE, TS_DIALECT_PG };

enum ts_sql {
	/* configuration: the generation, tenants, clients, keys */
	TS_SQL_GEN_GET,
	TS_SQL_TENANT_PUT,
	TS_SQL_TENANT_GET,
	TS_SQL_TENANT_LIST,
	TS_SQL_TENANT_VERSIONS,
	TS_SQL_TENANT_DELETE,
	TS_SQL_CLIENT_PUT,
	TS_SQL_CLIENT_GET,
	TS_SQL_CLIENT_LIST,
	TS_SQL_CLIENT_LIST_ALL,
	TS_SQL_CLIENT_DELETE,
	TS_SQL_KEY_PUT,
	TS_SQL_KEY_LIST,
	TS_SQL_KEY_LIST_ALL,
	TS_SQL_KEY_DELETE,
	/* the audit log */
	TS_SQL_AUDIT_APPEND,
	TS_SQL_AUDIT_QUERY,
	TS_SQL_AUDIT_QUERY_ALL,
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
	/* authorization codes, grants, refresh tokens */
	TS_SQL_CODE_PUT,
	TS_SQL_CODE_TAKE,
	TS_SQL_CODE_LOCK,
	TS_SQL_CODE_USE,
	TS_SQL_GRANT_PUT,
	TS_SQL_GRANT_GET,
	TS_SQL_GRANT_LOCK,
	TS_SQL_GRANT_TOKEN_ADD,
	TS_SQL_GRANT_REVOKE,
	TS_SQL_GRANT_REVOKE_REFRESH,
	TS_SQL_GRANT_REVOKE_CODES,
	TS_SQL_GRANT_DENY_TOKENS,
	TS_SQL_REFRESH_PUT,
	TS_SQL_REFRESH_GET,
	TS_SQL_REFRESH_SPEND,
	TS_SQL_REFRESH_STATE,
	TS_SQL_REFRESH_USE,
	TS_SQL_REFRESH_ROTATE_ONE,
	/* users, groups, memberships, API keys */
	TS_SQL_USER_PUT,
	TS_SQL_USER_GET,
	TS_SQL_USER_BIND_DEVICE,
	TS_SQL_USER_REHASH,
	TS_SQL_USER_FIND,
	TS_SQL_USER_LIST,
	TS_SQL_USER_LOCK_GRANTS,
	TS_SQL_USER_LOCK,
	TS_SQL_USER_DENY_TOKENS,
	TS_SQL_USER_DELETE,
	TS_SQL_GROUP_PUT,
	TS_SQL_GROUP_GET,
	TS_SQL_GROUP_FIND,
	TS_SQL_GROUP_LIST,
	TS_SQL_GROUP_DELETE,
	TS_SQL_MEMBER_ADD,
	TS_SQL_MEMBER_REMOVE,
	TS_SQL_MEMBER_LIST,
	TS_SQL_MEMBER_CHECK,
	TS_SQL_MEMBER_RECORDS,
	TS_SQL_APIKEY_PUT,
	TS_SQL_APIKEY_GET,
	TS_SQL_APIKEY_FIND_DEVICE,
	TS_SQL_APIKEY_LIST,
	TS_SQL_APIKEY_DELETE,
	TS_SQL_APIKEY_DELETE_USER,
	/* the token vault */
	TS_SQL_PROVIDER_PUT,
	TS_SQL_PROVIDER_GET,
	TS_SQL_PROVIDER_LIST,
	TS_SQL_PROVIDER_LIST_ALL,
	TS_SQL_PROVIDER_LOCK,
	TS_SQL_PROVIDER_IN_USE,
	TS_SQL_PROVIDER_DELETE,
	TS_SQL_PROVIDER_RESEAL,
	TS_SQL_KEY_RESEAL,
	TS_SQL_CONN_INSERT,
	TS_SQL_CONN_GET,
	TS_SQL_CONN_FIND,
	TS_SQL_CONN_LIST,
	TS_SQL_CONN_LIST_ALL,
	TS_SQL_CONN_DUE,
	TS_SQL_CONN_EXISTS,
	TS_SQL_CONN_LEASE,
	TS_SQL_CONN_SAVE,
	TS_SQL_CONN_RELEASE,
	TS_SQL_CONN_DELETE,
	/* revocations */
	TS_SQL_REVOKE_PUT,
	TS_SQL_REVOKE_CHECK,
	TS_SQL_JTI_USE,
	TS_SQL_COUNT
};

/* Statement flags. */
/* Planned for each run's values, never from a generic plan: PostgreSQL
 * runs it unprepared. */
#define TS_SQL_PLAN_EACH_RUN 1u
/* The flags of statement id. */
unsigned ts_sql_flags(enum ts_sql id);

/* The text of statement id in dialect d, or NULL if d has no such
 * statement. For PostgreSQL it may still hold ?N parameters: the driver
 * rewrites them once (ts_sql_pg_dup). */
const char *ts_sql_text(enum ts_dialect d, enum ts_sql id);
/* A copy of sql with every ?N parameter written $N, owned by the caller
 * (NULL for NULL). The SQL table holds no ? elsewhere. */
char *ts_sql_pg_dup(const char *sql);

#endif
