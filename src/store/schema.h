/* schema.h: the schema of both dialects as migration steps (schema.c).
 * Private to src/store. */
#ifndef TS_STORE_SCHEMA_H
#define TS_STORE_SCHEMA_H

#include "drv.h"

#include <stddef.h>

/* The migration steps of dialect d, oldest first: step i takes a database
 * from version i to i + 1 (one script of statements, fixed text). *n gets
 * their number, which is the newest version. */
const char *const *ts_schema_steps(enum ts_dialect d, size_t *n);

/* Brings the database on c (a fresh connection of st, outside any
 * transaction) up to the newest version, one step per write transaction
 * (the driver's, with the dialect's migration lock), so that servers
 * opening one database at once apply each step exactly once. TS_OK, or
 * TS_ESTORE (logged) if a step fails or the database's schema is newer
 * than this binary. */
int ts_schema_migrate(struct ts_store *st, struct ts_drv_conn *c);

#endif
