/* sql.h: every statement the operations run, by id, with its text in
 * each dialect (the table is sql_table.h). Private to src/store. */
#ifndef TS_STORE_SQL_H
#define TS_STORE_SQL_H

enum ts_dialect { TS_DIALECT_SQLITE, TS_DIALECT_PG };

/* The statements' ids, TS_SQL_<NAME>, in the order of the table. */
#define TS_STMT(id, text) TS_SQL_##id,
#define TS_STMT2(id, sqlite, pg) TS_SQL_##id,
enum ts_sql {
#include "sql_table.h"
	TS_SQL_COUNT
};
#undef TS_STMT
#undef TS_STMT2

/* The text of statement id in dialect d, or NULL if d has no such
 * statement. For PostgreSQL it may still hold ?N parameters: the driver
 * rewrites them once (ts_sql_pg_dup). */
const char *ts_sql_text(enum ts_dialect d, enum ts_sql id);
/* A copy of sql with every ?N parameter written $N, owned by the caller
 * (NULL for NULL). The SQL table holds no ? elsewhere. */
char *ts_sql_pg_dup(const char *sql);

#endif
