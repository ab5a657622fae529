/* refresh_api.c: POST /api/connections/{id}/refresh, an operator's
 * "refresh now". The same rules as the rest of the vault API (vault:write;
 * a person only their own connections, never the tenant's
 * client-credentials ones), the same lease as the scheduler, so concurrent
 * requests and the scheduler ask the provider once: a request that finds
 * the lease taken waits for that refresher and answers with its outcome
 * rather than refreshing again.
 * The answer is the connection's metadata with its new expiry, never a
 * token. */
#include "vault_int.h"

#include "api/api.h"
#include "web/web.h"
#include "store/store_vault.h"

#include <stdatomic.h>
#include <string.h>
#include <time.h>

#define REFRESH_POLL_MS 100
/* At most this many requests wait for another refresher at once, in the
 * whole server: each holds a blocking thread, so more would let one caller
 * with a connection of its own starve sign-ins. The rest are answered 409
 * at once. */
#define REFRESH_WAITERS_MAX 4

static atomic_int waiters;
#define REFRESH_RETRY_AFTER "2"

static void api_error(struct ts_http_resp *resp, int status, const char *code, const char *desc)
{
	ts_http_resp_error(resp, status, code, desc);
	ts_http_resp_header(resp, "Cache-Control", "no-store");
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* 409 for a connection that cannot be refreshed; false when it can. */
static bool refused_state(struct ts_http_resp *resp, const struct ts_connection_rec *c)
{
	if (ts_vault_awaits_callback(c)) {
		api_error(resp, 409, "connection_pending", "the connection has not been authorized yet");
		return true;
	}
	if (strcmp(c->status, "needs_reauth") == 0) {
		api_error(resp, 409, "needs_reauth",
			  "the provider refused the connection's grant; authorize it again");
		return true;
	}
	return false;
}

/* Refreshes under the lease, waiting for another refresher when needed.
 * TS_OK with *out, or the answer is in resp. */
static int refresh_now(const struct ts_rctx *rc, struct ts_http_resp *resp,
		       const struct ts_connection_rec *seen, const char *actor,
		       struct ts_connection_rec **out)
{
	int64_t deadline = ts_mono_ms() + TS_VAULT_LEASE_WAIT_MS;
	bool waiting = false;
	int r;

	for (;;) {
		r = ts_vault_refresh_manual(rc->app->vault, seen, actor, out);
		if (r != TS_ECONFLICT)
			break;
		if (!waiting && atomic_fetch_add(&waiters, 1) >= REFRESH_WAITERS_MAX)
			deadline = 0; /* too many waiting already: answer now */
		waiting = true;
		if (ts_mono_ms() >= deadline) {
			atomic_fetch_sub(&waiters, 1);
			api_error(resp, 409, "refresh_in_progress",
				  "another refresh of this connection is still running; retry shortly");
			ts_http_resp_header(resp, "Retry-After", REFRESH_RETRY_AFTER);
			return r;
		}
		sleep_ms(REFRESH_POLL_MS);
	}
	if (waiting)
		atomic_fetch_sub(&waiters, 1);
	if (r == TS_ENOTFOUND)
		api_error(resp, 404, "not_found", "no such connection");
	else if (r != TS_OK)
		ts_web_store_unavailable(resp);
	return r;
}

void ts_vault_api_refresh(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = ctx;
	struct ts_connection_rec *c = NULL, *after = NULL;
	struct ts_principal p;

	if (ts_vault_principal(rc, req, resp, TS_VAULT_SCOPE_WRITE, &p) != TS_OK)
		return;
	if (ts_vault_load_visible(rc, req, resp, &p, &c) != TS_OK)
		goto out;
	if (ts_vault_person_may_use(rc, resp, &p, c) != TS_OK || refused_state(resp, c))
		goto out;
	if (refresh_now(rc, resp, c, p.sub, &after) != TS_OK)
		goto out;
	if (refused_state(resp, after))
		goto out;
	if (after->failures > 0) {
		/* The provider's own words stay in the log, the audit trail and
		 * the operator's `tessera connection show`. */
		api_error(resp, 502, "upstream_unavailable",
			  "the provider did not give a new token; the connection keeps its current one");
		ts_http_resp_header(resp, "Retry-After", REFRESH_RETRY_AFTER);
		goto out;
	}
	{
		json_t *o = ts_vault_connection_view(after, ts_now(), false);
		ts_http_resp_json(resp, 200, o);
		ts_http_resp_header(resp, "Cache-Control", "no-store");
		json_decref(o);
	}
out:
	ts_connection_rec_free(after);
	ts_connection_rec_free(c);
	ts_principal_clear(&p);
}
