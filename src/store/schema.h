/* schema.h: the schema of both dialects as migration steps (schema.c).
 * Private to src/store. */
#ifndef TS_STORE_SCHEMA_H
#define TS_STORE_SCHEMA_H

#include "sql.h"

#include <stddef.h>

/* The migration steps of dialect d, oldest first: step i takes a database
 * from version i to i + 1 (one script of statements, fixed text). *n gets
 * their number, which is the newest version. */
const char *const *ts_schema_steps(enum ts_dialect d, size_t *n);

#endif
