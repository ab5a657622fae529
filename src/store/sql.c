/* sql.c: the texts of the SQL table (sql_table.h), indexed by enum
 * ts_sql. */
#include "sql.h"

#include "store.h"

#include "wire/ascii.h"

struct ts_sql_def {
	const char *sqlite; /* SQLite's text, or NULL */
	const char *pg;     /* PostgreSQL's text, or NULL */
};

#define TS_STMT(id, text) [TS_SQL_##id] = {(text), (text)},
#define TS_STMT2(id, sqlite, pg) [TS_SQL_##id] = {(sqlite), (pg)},
static const struct ts_sql_def table[TS_SQL_COUNT] = {
#include "sql_table.h"
};
#undef TS_STMT
#undef TS_STMT2

const char *ts_sql_text(enum ts_dialect d, enum ts_sql id)
{
	if ((unsigned)id >= TS_SQL_COUNT)
		return NULL;
	return d == TS_DIALECT_PG ? table[id].pg : table[id].sqlite;
}

char *ts_sql_pg_dup(const char *sql)
{
	char *out;
	size_t i;

	if (sql == NULL)
		return NULL;
	out = ts_xstrdup(sql);
	for (i = 0; out[i] != '\0'; i++)
		if (out[i] == '?' && ts_is_digit((unsigned char)out[i + 1]))
			out[i] = '$';
	return out;
}
