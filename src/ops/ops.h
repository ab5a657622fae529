/* ops.h: operations: Prometheus metrics and the audit trail. Both are fed
 * from request threads without locks (atomics, a lock-free queue) and do
 * their slow work elsewhere: rendering on scrape, storage writes in a
 * background batch writer. */
#ifndef TS_OPS_H
#define TS_OPS_H

#include "core/core.h"
#include "tenant/tenant.h"

struct ts_store;

struct ts_metrics;
/* routes: the route names requests are labelled with (borrowed, static;
 * matched by pointer first, then by content). */
struct ts_metrics *ts_metrics_new(const char *const *routes, size_t n);
void ts_metrics_free(struct ts_metrics *m); /* NULL is a no-op */
/* Counts one finished request. route may be NULL ("other"). */
void ts_metrics_request(struct ts_metrics *m, const char *route, int status, int64_t duration_us);
/* Counts one token-vault refresh of a tenant's connection by result
 * ("ok", "error", "needs_reauth"): tessera_vault_refreshes_total. Rare
 * enough for a mutex; strings are copied. */
void ts_metrics_vault_refresh(struct ts_metrics *m, const char *tenant, const char *result);
/* Counts one automatic signing-key rotation of a tenant's algorithm by
 * this server: tessera_key_rotations_total. */
void ts_metrics_key_rotation(struct ts_metrics *m, const char *tenant, const char *alg);
/* Counts one failed automatic rotation of a tenant's keys by this server:
 * tessera_key_rotation_failures_total. */
void ts_metrics_key_rotation_failed(struct ts_metrics *m, const char *tenant);
/* The version and commit shown by tessera_build_info (borrowed: static
 * strings). */
void ts_metrics_set_build(struct ts_metrics *m, const char *version, const char *commit);
/* Renders the Prometheus text exposition format (version 0.0.4) into out;
 * ready is the tessera_ready gauge (1 when /readyz would answer 200). */
int ts_metrics_render(struct ts_metrics *m, const struct ts_tenant_stats *stats, bool ready,
		      struct ts_buf *out);

struct ts_audit;
/* Starts the batch writer (flushes every flush_ms). On TS_OK *out is owned
 * by the caller (ts_audit_free). */
int ts_audit_new(struct ts_store *st, int flush_ms, struct ts_audit **out);
/* Records an event: copies the strings (any may be NULL except type),
 * adds the time and the calling thread's request id, logs it as a JSON line
 * and queues it for storage. Never blocks on storage. detail is a JSON
 * object text or NULL. */
void ts_audit_emit(struct ts_audit *a, const char *tenant, const char *type, const char *actor,
		   const char *subject, const char *detail);
/* Writes everything queued so far (used at shutdown and by tests). */
void ts_audit_flush(struct ts_audit *a);
/* Flushes, stops the writer and frees. NULL is a no-op. */
void ts_audit_free(struct ts_audit *a);

#endif
