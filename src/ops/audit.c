/* audit.c: the audit trail. Request threads push events onto a lock-free
 * stack (one compare-and-swap); a writer thread takes the whole stack with
 * one exchange every flush interval and appends it to storage in one
 * transaction. Events that fail to store are kept and retried. */
#include "ops.h"

#include "store/store_config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define AUDIT_PENDING_MAX 100000

struct node {
	struct ts_audit_rec rec;
	struct node *next;
};

struct ts_audit {
	struct ts_store *store;
	_Atomic(struct node *) head;
	atomic_int pending;
	atomic_bool stop;
	pthread_t thread;
	pthread_mutex_t write_lock; /* one writer at a time: thread or flush() */
	struct node *retry;         /* under write_lock: oldest first */
	int flush_ms;
};

static void node_free(struct node *n)
{
	free(n->rec.tenant);
	free(n->rec.type);
	free(n->rec.actor);
	free(n->rec.subject);
	free(n->rec.request_id);
	free(n->rec.detail);
	free(n);
}

void ts_audit_emit(struct ts_audit *a, const char *tenant, const char *type, const char *actor,
		   const char *subject, const char *detail)
{
	struct node *n;
	struct ts_buf line;
	const char *rid = ts_log_request_id(), *client = ts_log_client();

	char when[TS_LOG_TIME_MAX];

	ts_log_time(when);
	ts_buf_init(&line, 4096);
	ts_buf_appendf(&line, "{\"time\":\"%s\",\"level\":\"info\",\"audit\":\"", when);
	ts_buf_append_json_escaped(&line, type, strlen(type));
	if (tenant) {
		ts_buf_appends(&line, "\",\"tenant\":\"");
		ts_buf_append_json_escaped(&line, tenant, strlen(tenant));
	}
	if (actor) {
		ts_buf_appends(&line, "\",\"actor\":\"");
		ts_buf_append_json_escaped(&line, actor, strlen(actor));
	}
	if (subject) {
		ts_buf_appends(&line, "\",\"subject\":\"");
		ts_buf_append_json_escaped(&line, subject, strlen(subject));
	}
	if (rid) {
		ts_buf_appends(&line, "\",\"request_id\":\"");
		ts_buf_append_json_escaped(&line, rid, strlen(rid));
	}
	if (client) {
		ts_buf_appends(&line, "\",\"remote\":\"");
		ts_buf_append_json_escaped(&line, client, strlen(client));
	}
	ts_buf_appends(&line, "\"}");
	if (line.p && ts_log_get_level() <= TS_LOG_INFO)
		ts_log_json_line(line.p, line.len);
	ts_buf_clear(&line);
	if (a == NULL)
		return;
	if (atomic_fetch_add(&a->pending, 1) >= AUDIT_PENDING_MAX) {
		atomic_fetch_sub(&a->pending, 1);
		ts_log_warn("audit queue full; dropped event %s", type);
		return;
	}
	n = ts_xcalloc(1, sizeof(*n));
	n->rec.tenant = ts_xstrdup(tenant);
	n->rec.time = ts_now();
	n->rec.type = ts_xstrdup(type);
	n->rec.actor = ts_xstrdup(actor);
	n->rec.subject = ts_xstrdup(subject);
	n->rec.request_id = ts_xstrdup(rid);
	n->rec.detail = ts_xstrdup(detail);
	n->next = atomic_load_explicit(&a->head, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(&a->head, &n->next, n, memory_order_release,
						      memory_order_relaxed))
		;
}

void ts_audit_flush(struct ts_audit *a)
{
	struct node *taken, *n, *next, *ordered = NULL, **tail;
	struct ts_audit_rec *recs;
	size_t count = 0, i;

	pthread_mutex_lock(&a->write_lock);
	taken = atomic_exchange_explicit(&a->head, NULL, memory_order_acquire);
	/* The stack is newest first: reverse it, behind the retries. */
	for (n = taken; n; n = next) {
		next = n->next;
		n->next = ordered;
		ordered = n;
	}
	for (tail = &a->retry; *tail; tail = &(*tail)->next)
		;
	*tail = ordered;
	for (n = a->retry; n; n = n->next)
		count++;
	if (count == 0)
		goto out;
	recs = ts_xcalloc(count, sizeof(*recs));
	for (i = 0, n = a->retry; n; n = n->next)
		recs[i++] = n->rec;
	if (ts_store_audit_append(a->store, recs, count) == TS_OK) {
		for (n = a->retry; n; n = next) {
			next = n->next;
			node_free(n);
		}
		a->retry = NULL;
		atomic_fetch_sub(&a->pending, (int)count);
	}
	free(recs);
out:
	pthread_mutex_unlock(&a->write_lock);
}

static void *writer(void *arg)
{
	struct ts_audit *a = arg;

	while (!atomic_load(&a->stop)) {
		struct timespec t = {a->flush_ms / 1000, (long)(a->flush_ms % 1000) * 1000000};
		nanosleep(&t, NULL);
		ts_audit_flush(a);
	}
	return NULL;
}

int ts_audit_new(struct ts_store *st, int flush_ms, struct ts_audit **out)
{
	struct ts_audit *a = ts_xcalloc(1, sizeof(*a));

	a->store = st;
	a->flush_ms = flush_ms > 0 ? flush_ms : 200;
	atomic_init(&a->head, NULL);
	pthread_mutex_init(&a->write_lock, NULL);
	if (pthread_create(&a->thread, NULL, writer, a) != 0) {
		pthread_mutex_destroy(&a->write_lock);
		free(a);
		*out = NULL;
		return TS_EIO;
	}
	*out = a;
	return TS_OK;
}

void ts_audit_free(struct ts_audit *a)
{
	struct node *n, *next;

	if (a == NULL)
		return;
	atomic_store(&a->stop, true);
	pthread_join(a->thread, NULL);
	ts_audit_flush(a);
	for (n = a->retry; n; n = next) {
		next = n->next;
		node_free(n);
	}
	for (n = atomic_load(&a->head); n; n = next) {
		next = n->next;
		node_free(n);
	}
	pthread_mutex_destroy(&a->write_lock);
	free(a);
}
