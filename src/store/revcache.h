/* revcache.h: what storage last said about access-token ids, kept in memory
 * so that checking a token does not need a database round trip each time.
 *
 * Two kinds of entry, keyed by (tenant id, jti):
 * - revoked: recorded by every revocation made through this process (at
 *   once, after the write committed) and by every check that found one;
 *   never replaced by a "not revoked" answer while it lasts;
 * - not revoked: a check's answer, trusted for TS_REVCACHE_FRESH_MS, so a
 *   revocation made by another server sharing the database is seen within
 *   that time. It is also dropped when the epoch moves: a write that may
 *   deny ids this process cannot name one by one (a grant's tokens, a
 *   deleted user's tokens) moves it, and an answer read before that write
 *   is never stored after it.
 * The table has a fixed size (memory is bounded); a full bucket forgets its
 * oldest "not revoked" answer, and a revocation that finds no room moves
 * the epoch instead. Safe to use from many threads at once. */
#ifndef TS_REVCACHE_H
#define TS_REVCACHE_H

#include "core/core.h"

#define TS_REVCACHE_FRESH_MS 1000

struct ts_revcache;

struct ts_revcache *ts_revcache_new(void);
void ts_revcache_free(struct ts_revcache *c);
/* TS_OK with *revoked when the answer is known at now_ms; TS_ENOTFOUND. */
int ts_revcache_get(struct ts_revcache *c, const char *tenant_id, const char *jti, int64_t now_ms,
		    bool *revoked);
/* The epoch to read before asking storage (see ts_revcache_put_checked). */
uint64_t ts_revcache_epoch(struct ts_revcache *c);
/* Records storage's answer to a check that began at epoch, at now_ms. A
 * "not revoked" answer is ignored if the epoch moved meanwhile or the id is
 * known revoked. */
void ts_revcache_put_checked(struct ts_revcache *c, const char *tenant_id, const char *jti,
			     uint64_t epoch, int64_t now_ms, bool revoked);
/* Records a committed revocation, kept until expires_ms at least. */
void ts_revcache_put_revoked(struct ts_revcache *c, const char *tenant_id, const char *jti,
			     int64_t now_ms, int64_t expires_ms);
/* Forgets every "not revoked" answer. */
void ts_revcache_bump(struct ts_revcache *c);
/* Forgets everything (storage forgot revocations: a purge, a tenant
 * deleted). */
void ts_revcache_clear(struct ts_revcache *c);

#endif
