/* store.c: opening a store (the driver by URL) and closing it; the write
 * batches are in txn.c. The operations live by record family in config.c,
 * people.c, tokens.c, state.c and vault.c, over the driver (drv.h). */
#include "drv.h"
#include "revcache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SQLITE_SCHEME "sqlite:"
#define PG_SCHEME "postgres://"
#define PG_SCHEME_LONG "postgresql://"

static int opened(int r, struct ts_store **out)
{
	if (r == TS_OK)
		(*out)->revcache = ts_revcache_new();
	return r;
}

int ts_store_open(const char *url, struct ts_store **out)
{
	if (out == NULL)
		return TS_EINVAL;
	*out = NULL;
	if (url == NULL)
		return TS_EINVAL;
	if (strncmp(url, SQLITE_SCHEME, strlen(SQLITE_SCHEME)) == 0)
		return opened(ts_store_sqlite_open(url + strlen(SQLITE_SCHEME), out), out);
	if (strncmp(url, PG_SCHEME, strlen(PG_SCHEME)) == 0 ||
	    strncmp(url, PG_SCHEME_LONG, strlen(PG_SCHEME_LONG)) == 0)
		return opened(ts_store_pg_open(url, out), out);
	/* The URL may carry a password (postgres://user:pw@...), so only the
	 * fact of the failure is logged, never the URL itself. */
	ts_log_err("unsupported store URL scheme (expected \"sqlite:PATH\" or "
		   "\"postgres://...\")");
	return TS_EINVAL;
}

const char *ts_store_url_shown(const char *url, char *buf, size_t cap)
{
	if (url && strncmp(url, SQLITE_SCHEME, strlen(SQLITE_SCHEME)) == 0)
		snprintf(buf, cap, "%s", url);
	else if (url && (strncmp(url, PG_SCHEME, strlen(PG_SCHEME)) == 0 ||
			 strncmp(url, PG_SCHEME_LONG, strlen(PG_SCHEME_LONG)) == 0))
		ts_store_pg_url_shown(url, buf, cap);
	else
		snprintf(buf, cap, "of an unknown kind");
	return buf;
}

int ts_store_schema_status(const char *url, int64_t *current, int64_t *latest)
{
	if (url == NULL || current == NULL || latest == NULL)
		return TS_EINVAL;
	if (strncmp(url, SQLITE_SCHEME, strlen(SQLITE_SCHEME)) == 0)
		return ts_store_sqlite_schema_status(url + strlen(SQLITE_SCHEME), current, latest);
	if (strncmp(url, PG_SCHEME, strlen(PG_SCHEME)) == 0 ||
	    strncmp(url, PG_SCHEME_LONG, strlen(PG_SCHEME_LONG)) == 0)
		return ts_store_pg_schema_status(url, current, latest);
	return TS_EINVAL;
}

void ts_store_close(struct ts_store *st)
{
	if (st == NULL)
		return;
	ts_revcache_free(st->revcache);
	ts_pool_drain(st);
	st->drv->close(st);
	free(st);
}
