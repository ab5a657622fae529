/* pg_int.h: what of a PostgreSQL connection URL may be shown, and scrubbing
 * libpq's messages (pg_url.c), for the driver (pg.c). Nothing outside
 * src/store/pg includes it. */
#ifndef TS_STORE_PG_INT_H
#define TS_STORE_PG_INT_H

#include "store/drv.h"

#include <libpq-fe.h>

/* The parts of a connection URL that may be shown (each empty when absent
 * or not plausibly what it claims to be), and the password, kept only to
 * scrub it from messages. */
struct ts_pg_url {
	char scheme[16];
	char host[256];
	char port[64];
	char dbname[128];
	char user[128];
	char *password; /* owned, wiped by ts_pg_url_clear; NULL if none */
};
/* Parses url (never logging it); unparseable: only the scheme is kept. */
void ts_pg_url_parse(const char *url, struct ts_pg_url *out);
void ts_pg_url_clear(struct ts_pg_url *u);
/* libpq's message (or a server's) as one line in buf, with every quoted
 * value that is not a shown part of u or a connection keyword replaced by
 * "...", and the password masked wherever it appears. Returns buf. */
const char *ts_pg_scrub(const struct ts_pg_url *u, const char *msg, char *buf, size_t cap);

#endif
