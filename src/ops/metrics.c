/* metrics.c: request counters by route and status, a latency histogram by
 * route, and per-tenant token and authentication counters, all updated with
 * relaxed atomics and rendered on scrape. */
#include "ops.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define STATUS_MIN 100
#define STATUS_SPAN 500 /* 100..599 */

/* Histogram bucket upper bounds in microseconds. */
static const int64_t bucket_us[] = {250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000,
				    250000, 500000, 1000000, 2500000};
#define NBUCKETS (sizeof(bucket_us) / sizeof(bucket_us[0]))

struct route_stats {
	atomic_ullong status[STATUS_SPAN];
	atomic_ullong bucket[NBUCKETS + 1]; /* last: +Inf */
	atomic_ullong sum_us;
	atomic_ullong count;
};

/* One (tenant, result) counter of vault refreshes. */
struct vault_count {
	char *tenant;
	char *result;
	unsigned long long n;
	struct vault_count *next;
};

struct ts_metrics {
	const char *const *routes;
	size_t nroutes;
	struct route_stats *rs; /* nroutes + 1: the last is "other" */
	pthread_mutex_t vault_mu; /* guards vault and rotations */
	struct vault_count *vault;
	struct vault_count *rotations; /* result: the algorithm */
	struct vault_count *rotation_failures; /* result: unused ("") */
	const char *version, *commit; /* borrowed, static */
};

void ts_metrics_set_build(struct ts_metrics *m, const char *version, const char *commit)
{
	m->version = version;
	m->commit = commit;
}

struct ts_metrics *ts_metrics_new(const char *const *routes, size_t n)
{
	struct ts_metrics *m = ts_xcalloc(1, sizeof(*m));

	m->routes = routes;
	m->nroutes = n;
	m->rs = ts_xcalloc(n + 1, sizeof(*m->rs));
	pthread_mutex_init(&m->vault_mu, NULL);
	return m;
}

static void counts_free(struct vault_count *c)
{
	struct vault_count *next;

	for (; c; c = next) {
		next = c->next;
		free(c->tenant);
		free(c->result);
		free(c);
	}
}

void ts_metrics_free(struct ts_metrics *m)
{
	if (m == NULL)
		return;
	counts_free(m->vault);
	counts_free(m->rotations);
	counts_free(m->rotation_failures);
	pthread_mutex_destroy(&m->vault_mu);
	free(m->rs);
	free(m);
}

/* Adds one to the (tenant, result) counter of list *head. */
static void count(struct ts_metrics *m, struct vault_count **head, const char *tenant,
		  const char *result)
{
	struct vault_count *c;

	if (tenant == NULL || result == NULL)
		return;
	pthread_mutex_lock(&m->vault_mu);
	for (c = *head; c; c = c->next)
		if (strcmp(c->tenant, tenant) == 0 && strcmp(c->result, result) == 0)
			break;
	if (c == NULL) {
		c = ts_xcalloc(1, sizeof(*c));
		c->tenant = ts_xstrdup(tenant);
		c->result = ts_xstrdup(result);
		c->next = *head;
		*head = c;
	}
	c->n++;
	pthread_mutex_unlock(&m->vault_mu);
}

void ts_metrics_vault_refresh(struct ts_metrics *m, const char *tenant, const char *result)
{
	if (m != NULL)
		count(m, &m->vault, tenant, result);
}

void ts_metrics_key_rotation(struct ts_metrics *m, const char *tenant, const char *alg)
{
	if (m != NULL)
		count(m, &m->rotations, tenant, alg);
}

void ts_metrics_key_rotation_failed(struct ts_metrics *m, const char *tenant)
{
	if (m != NULL)
		count(m, &m->rotation_failures, tenant, "");
}

static size_t route_index(const struct ts_metrics *m, const char *route)
{
	size_t i;

	if (route == NULL)
		return m->nroutes;
	for (i = 0; i < m->nroutes; i++)
		if (m->routes[i] == route)
			return i;
	for (i = 0; i < m->nroutes; i++)
		if (strcmp(m->routes[i], route) == 0)
			return i;
	return m->nroutes;
}

void ts_metrics_request(struct ts_metrics *m, const char *route, int status, int64_t duration_us)
{
	struct route_stats *r = &m->rs[route_index(m, route)];
	size_t b = 0;

	if (status >= STATUS_MIN && status < STATUS_MIN + STATUS_SPAN)
		atomic_fetch_add_explicit(&r->status[status - STATUS_MIN], 1, memory_order_relaxed);
	while (b < NBUCKETS && duration_us > bucket_us[b])
		b++;
	atomic_fetch_add_explicit(&r->bucket[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->sum_us, (unsigned long long)(duration_us > 0 ? duration_us : 0),
				  memory_order_relaxed);
	atomic_fetch_add_explicit(&r->count, 1, memory_order_relaxed);
}

static unsigned long long ld(atomic_ullong *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

/* The key-rotation counters, under vault_mu (held by the caller). */
static int render_rotations(const struct ts_metrics *m, struct ts_buf *out)
{
	const struct vault_count *c;
	int rc;

	rc = ts_buf_appends(out, "# HELP tessera_key_rotations_total Automatic signing-key rotations by tenant and algorithm.\n"
				 "# TYPE tessera_key_rotations_total counter\n");
	for (c = m->rotations; rc == TS_OK && c; c = c->next)
		rc = ts_buf_appendf(out, "tessera_key_rotations_total{tenant=\"%s\",alg=\"%s\"} %llu\n",
				    c->tenant, c->result, c->n);
	if (rc == TS_OK)
		rc = ts_buf_appends(out, "# HELP tessera_key_rotation_failures_total Failed automatic signing-key rotations by tenant.\n"
					 "# TYPE tessera_key_rotation_failures_total counter\n");
	for (c = m->rotation_failures; rc == TS_OK && c; c = c->next)
		rc = ts_buf_appendf(out, "tessera_key_rotation_failures_total{tenant=\"%s\"} %llu\n",
				    c->tenant, c->n);
	return rc;
}

int ts_metrics_render(struct ts_metrics *m, const struct ts_tenant_stats *stats, bool ready,
		      struct ts_buf *out)
{
	const struct ts_tenant_stats *t;
	size_t i, s, b;
	int rc = TS_OK;

	rc = ts_buf_appendf(out,
			    "# HELP tessera_build_info The running version (always 1).\n"
			    "# TYPE tessera_build_info gauge\n"
			    "tessera_build_info{version=\"%s\",commit=\"%s\"} 1\n"
			    "# HELP tessera_ready 1 when storage answers and every tenant can sign.\n"
			    "# TYPE tessera_ready gauge\n"
			    "tessera_ready %d\n",
			    m->version ? m->version : "unknown", m->commit ? m->commit : "unknown",
			    ready ? 1 : 0);
	if (rc == TS_OK)
		rc = ts_buf_appends(out, "# HELP tessera_http_requests_total HTTP requests by route and status.\n"
				 "# TYPE tessera_http_requests_total counter\n");
	for (i = 0; rc == TS_OK && i <= m->nroutes; i++) {
		const char *name = i < m->nroutes ? m->routes[i] : "other";
		for (s = 0; rc == TS_OK && s < STATUS_SPAN; s++) {
			unsigned long long v = ld(&m->rs[i].status[s]);
			if (v)
				rc = ts_buf_appendf(out, "tessera_http_requests_total{route=\"%s\",code=\"%zu\"} %llu\n",
						    name, s + STATUS_MIN, v);
		}
	}
	if (rc == TS_OK)
		rc = ts_buf_appends(out, "# HELP tessera_http_request_duration_seconds Request latency by route.\n"
					 "# TYPE tessera_http_request_duration_seconds histogram\n");
	for (i = 0; rc == TS_OK && i <= m->nroutes; i++) {
		const char *name = i < m->nroutes ? m->routes[i] : "other";
		unsigned long long cum = 0, count = ld(&m->rs[i].count);
		if (count == 0)
			continue;
		for (b = 0; rc == TS_OK && b < NBUCKETS; b++) {
			cum += ld(&m->rs[i].bucket[b]);
			rc = ts_buf_appendf(out, "tessera_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
					    name, (double)bucket_us[b] / 1e6, cum);
		}
		cum += ld(&m->rs[i].bucket[NBUCKETS]);
		if (rc == TS_OK)
			rc = ts_buf_appendf(out,
					    "tessera_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n"
					    "tessera_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
					    "tessera_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
					    name, cum, name, (double)ld(&m->rs[i].sum_us) / 1e6, name, count);
	}
	if (rc == TS_OK)
		rc = ts_buf_appends(out, "# HELP tessera_tokens_issued_total Tokens issued by grant and tenant.\n"
					 "# TYPE tessera_tokens_issued_total counter\n");
	for (t = stats; rc == TS_OK && t; t = t->next)
		for (s = 0; rc == TS_OK && s < TS_GRANT_KINDS; s++)
			rc = ts_buf_appendf(out, "tessera_tokens_issued_total{tenant=\"%s\",grant=\"%s\"} %llu\n",
					    t->tenant_name, ts_grant_kind_name((enum ts_grant_kind)s),
					    ld((atomic_ullong *)&t->tokens_issued[s]));
	if (rc == TS_OK)
		rc = ts_buf_appends(out, "# HELP tessera_client_auth_failures_total Failed client authentications by tenant.\n"
					 "# TYPE tessera_client_auth_failures_total counter\n");
	for (t = stats; rc == TS_OK && t; t = t->next)
		rc = ts_buf_appendf(out, "tessera_client_auth_failures_total{tenant=\"%s\"} %llu\n",
				    t->tenant_name, ld((atomic_ullong *)&t->client_auth_failures));
	if (rc == TS_OK)
		rc = ts_buf_appends(out, "# HELP tessera_tokens_revoked_total Tokens revoked by tenant.\n"
					 "# TYPE tessera_tokens_revoked_total counter\n");
	for (t = stats; rc == TS_OK && t; t = t->next)
		rc = ts_buf_appendf(out, "tessera_tokens_revoked_total{tenant=\"%s\"} %llu\n",
				    t->tenant_name, ld((atomic_ullong *)&t->tokens_revoked));
	if (rc == TS_OK)
		rc = ts_buf_appends(out, "# HELP tessera_login_failures_total Failed password checks by tenant.\n"
					 "# TYPE tessera_login_failures_total counter\n");
	for (t = stats; rc == TS_OK && t; t = t->next)
		rc = ts_buf_appendf(out, "tessera_login_failures_total{tenant=\"%s\"} %llu\n",
				    t->tenant_name, ld((atomic_ullong *)&t->login_failures));
	if (rc == TS_OK)
		rc = ts_buf_appends(out, "# HELP tessera_vault_refreshes_total Token vault refreshes by tenant and result.\n"
					 "# TYPE tessera_vault_refreshes_total counter\n");
	pthread_mutex_lock(&m->vault_mu);
	{
		const struct vault_count *c;
		for (c = m->vault; rc == TS_OK && c; c = c->next)
			rc = ts_buf_appendf(out, "tessera_vault_refreshes_total{tenant=\"%s\",result=\"%s\"} %llu\n",
					    c->tenant, c->result, c->n);
	}
	if (rc == TS_OK)
		rc = render_rotations(m, out);
	pthread_mutex_unlock(&m->vault_mu);
	return rc;
}
