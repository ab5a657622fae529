/* store_core.h: the storage contract's core: the store handle, opening
 * and closing it, the generation and write batches, and the conventions
 * every operation of the family headers (store_config.h, store_people.h,
 * store_tokens.h, store_state.h, store_vault.h) keeps. Everything above
 * these headers is backend neutral: it sees records and return codes,
 * never SQL. The driver (SQLite, or PostgreSQL in pg/) is selected by URL
 * in ts_store_open.
 *
 * Conventions for every operation:
 * - returns TS_OK, TS_ENOTFOUND (no such row; for a write, also no such
 *   parent tenant), TS_EEXIST (unique conflict), TS_EINVAL (bad arguments)
 *   or TS_ESTORE (the backend failed: the caller answers 503 and never
 *   turns it into a credential error);
 * - a write that fails changes nothing (generation included);
 * - string arguments are borrowed for the duration of the call;
 * - records returned through out-parameters are owned by the caller and
 *   released with the matching _free function (which accepts NULL); an
 *   empty list comes back as NULL with n == 0;
 * - every operation is safe to call from many threads at once;
 * - every write is durable when the call returns TS_OK.
 *
 * Configuration objects (tenants, clients) carry their settings as a JSON
 * text in `config`; the store persists it verbatim and never interprets it.
 * Every write to tenants, clients or keys increments the store's generation,
 * which running servers poll to reload their in-memory snapshot. */
#ifndef TS_STORE_CORE_H
#define TS_STORE_CORE_H

#include "core/core.h"

struct ts_store;

/* What callers may know of the backend behind a store. */
struct ts_store_ops {
	const char *name; /* "sqlite" or "postgres" */
	/* Several servers may share this store (PostgreSQL): state that must
	 * hold across all of them, such as throttling, is kept in it too. */
	bool shared;
};

struct ts_revcache;
struct ts_drv;
struct ts_store {
	const struct ts_store_ops *ops; /* the driver's (drv.h) */
	const struct ts_drv *drv; /* the driver every operation runs on (drv.h) */
	void *impl; /* backend state */
	struct ts_revcache *revcache; /* revocation answers in memory (revcache.h), or NULL */
};

/* Opens the store named by url, "sqlite:PATH" or a PostgreSQL URL
 * ("postgres://..." or "postgresql://...", as libpq reads it), creating and
 * migrating the schema as needed. PATH is a file name, taken relative to the
 * working directory unless absolute, and created (mode 0600) if missing;
 * ":memory:" is refused. The PostgreSQL database must exist; its tables are
 * created on first use. On TS_OK *out is owned by the caller (ts_store_close,
 * once no other call on it is running). TS_EINVAL for an unknown scheme, an
 * empty path or a URL libpq cannot parse, TS_ESTORE when the database cannot
 * be opened or migrated (a missing directory, a file that is not a database,
 * a server that cannot be reached, a schema newer than this binary). The URL
 * may hold a password: it is never logged. */
int ts_store_open(const char *url, struct ts_store **out);

/* What of a store URL may be shown (in messages, never the password): a
 * SQLite URL whole; of a PostgreSQL URL only the scheme, host, port and
 * database name (none of them when the URL cannot be read safely); of
 * anything else nothing. Written into buf (capacity cap); returns buf. */
const char *ts_store_url_shown(const char *url, char *buf, size_t cap);
void ts_store_close(struct ts_store *st); /* NULL is a no-op */

/* The schema version of the database at url and the newest this binary
 * knows, without changing anything (a database without tables is version
 * 0). TS_ENOTFOUND for a SQLite file that does not exist, TS_ESTORE when
 * the database cannot be read, TS_EINVAL for an unknown scheme. */
int ts_store_schema_status(const char *url, int64_t *current, int64_t *latest);

/* Backend constructors, used by ts_store_open (which checks the arguments
 * and sets *out NULL first). The PostgreSQL one takes the whole URL. */
int ts_store_sqlite_open(const char *path, struct ts_store **out);
int ts_store_pg_open(const char *url, struct ts_store **out);
int ts_store_sqlite_schema_status(const char *path, int64_t *current, int64_t *latest);
int ts_store_pg_schema_status(const char *url, int64_t *current, int64_t *latest);
int ts_store_pg_url_shown(const char *url, char *buf, size_t cap);

/* The operations; see the conventions above. */
int ts_store_ping(struct ts_store *st);

/* A number that increases with every write to tenants, clients or keys. */
int ts_store_generation(struct ts_store *st, int64_t *out);

/* Write batches. Between ts_store_batch_begin and ts_store_batch_end, every
 * operation the calling thread runs on st (reads too, so they see the
 * batch's writes) uses one connection inside one transaction, so that many
 * small writes share one commit. Each write still succeeds or fails alone:
 * a failed one is undone (a savepoint) and its error returned, the others
 * stand. ts_store_batch_end with commit true commits them all (TS_OK only
 * if the commit succeeded; otherwise none is kept), moving the generation
 * once if any of them moves it, with commit false rolls them all back.
 * The write lock is held from begin to end, so other writers wait: keep
 * batches short (well under a second). Batches do not nest; begin while
 * the thread has one open is TS_EINVAL. */
int ts_store_batch_begin(struct ts_store *st);
int ts_store_batch_end(struct ts_store *st, bool commit);

#endif
