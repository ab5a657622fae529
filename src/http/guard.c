/* guard.c: connection limits that libmicrohttpd has no option for.
 *
 * Per address: MHD_OPTION_PER_IP_CONNECTION_LIMIT would count a trusted
 * proxy like anyone else, so the count is kept here instead: the accept
 * policy refuses a peer at its cap, and the connection notifications count
 * up and down (only connections that libmicrohttpd really started, so a
 * connection it drops after our policy said yes is never counted).
 *
 * Deadlines: libmicrohttpd's timeout restarts at every byte, so a client
 * that trickles a header byte every few seconds would keep a connection
 * forever. Each tracked connection has a deadline for the request it is
 * receiving; a reaper thread shuts down the socket of one past it, and
 * libmicrohttpd, seeing the connection fail, closes it on its own thread.
 * The reaper touches a socket only while holding mu and only while the
 * connection is tracked; the close notification, which libmicrohttpd sends
 * before it closes the socket, takes mu to untrack it, so the reaper never
 * shuts down a descriptor that was closed and reused. */
#include "internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define ADDR_BUCKETS 4096
#define REAP_INTERVAL_MS 500

/* The count of one peer address. */
struct addr_count {
	struct ts_ip ip;
	unsigned n;
	struct addr_count *next;
};

/* One connection, from its start notification to its close notification. */
struct tracked {
	struct ts_conn_guard *g;
	int fd;
	struct ts_ip ip;
	_Atomic int64_t deadline_ms; /* monotonic; 0: none */
	struct tracked *prev, *next;
};

struct ts_conn_guard {
	const struct ts_cidr_list *trusted;
	unsigned per_addr;
	pthread_mutex_t mu;              /* guards everything below */
	pthread_cond_t cv;
	bool stop;
	struct addr_count *bucket[ADDR_BUCKETS];
	struct tracked *conns;           /* every tracked connection */
	pthread_t reaper;
	bool reaper_started;
};

static size_t bucket_of(const struct ts_ip *ip)
{
	uint32_t h = 2166136261u; /* FNV-1a: peer addresses pick no secrets */
	size_t i;

	for (i = 0; i < sizeof(ip->b); i++)
		h = (h ^ ip->b[i]) * 16777619u;
	return h % ADDR_BUCKETS;
}

static struct addr_count **find(struct ts_conn_guard *g, const struct ts_ip *ip)
{
	struct addr_count **pp = &g->bucket[bucket_of(ip)];

	while (*pp && memcmp((*pp)->ip.b, ip->b, sizeof(ip->b)) != 0)
		pp = &(*pp)->next;
	return pp;
}

static void reap(struct ts_conn_guard *g)
{
	int64_t now = ts_mono_ms();
	struct tracked *t;
	unsigned closed = 0;

	for (t = g->conns; t; t = t->next) {
		int64_t d = atomic_load_explicit(&t->deadline_ms, memory_order_relaxed);
		if (d == 0 || now < d)
			continue;
		atomic_store_explicit(&t->deadline_ms, 0, memory_order_relaxed);
		shutdown(t->fd, SHUT_RDWR);
		closed++;
	}
	if (closed)
		ts_log_info("closed %u connections that did not send a request in time", closed);
}

static void *reaper_main(void *arg)
{
	struct ts_conn_guard *g = arg;

	pthread_mutex_lock(&g->mu);
	while (!g->stop) {
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		t.tv_nsec += (long)REAP_INTERVAL_MS * 1000000L;
		if (t.tv_nsec >= 1000000000L) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&g->cv, &g->mu, &t);
		if (!g->stop)
			reap(g);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

struct ts_conn_guard *ts_guard_new(const struct ts_cidr_list *trusted, unsigned per_addr)
{
	struct ts_conn_guard *g = ts_xcalloc(1, sizeof(*g));
	pthread_condattr_t ca;

	g->trusted = trusted;
	g->per_addr = per_addr;
	pthread_mutex_init(&g->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g->cv, &ca);
	pthread_condattr_destroy(&ca);
	g->reaper_started = pthread_create(&g->reaper, NULL, reaper_main, g) == 0;
	if (!g->reaper_started)
		ts_log_warn("cannot start the connection reaper: no request deadlines");
	return g;
}

void ts_guard_free(struct ts_conn_guard *g)
{
	size_t i;

	if (g == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	g->stop = true;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
	if (g->reaper_started)
		pthread_join(g->reaper, NULL);
	for (i = 0; i < ADDR_BUCKETS; i++) {
		while (g->bucket[i]) {
			struct addr_count *a = g->bucket[i];
			g->bucket[i] = a->next;
			free(a);
		}
	}
	while (g->conns) {
		struct tracked *t = g->conns;
		g->conns = t->next;
		free(t);
	}
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

enum MHD_Result ts_guard_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct ts_conn_guard *g = cls;
	struct addr_count *a;
	struct ts_ip ip;
	bool ok;

	(void)addrlen;
	ts_ip_from_sockaddr(addr, &ip);
	if (ts_cidr_list_contains(g->trusted, &ip))
		return MHD_YES;
	pthread_mutex_lock(&g->mu);
	a = *find(g, &ip);
	ok = a == NULL || a->n < g->per_addr;
	pthread_mutex_unlock(&g->mu);
	return ok ? MHD_YES : MHD_NO;
}

static void started(struct ts_conn_guard *g, struct MHD_Connection *c, void **socket_context)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const union MHD_ConnectionInfo *fi = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct tracked *t = ts_xcalloc(1, sizeof(*t));
	struct addr_count **pp, *a;

	t->g = g;
	t->fd = fi ? fi->connect_fd : -1;
	ts_ip_from_sockaddr(ci ? ci->client_addr : NULL, &t->ip);
	atomic_init(&t->deadline_ms, t->fd >= 0 ? ts_mono_ms() + TS_HTTP_HEAD_DEADLINE_S * 1000 : 0);
	pthread_mutex_lock(&g->mu);
	pp = find(g, &t->ip);
	if (*pp == NULL) {
		a = ts_xcalloc(1, sizeof(*a));
		a->ip = t->ip;
		*pp = a;
	}
	(*pp)->n++;
	t->next = g->conns;
	if (g->conns)
		g->conns->prev = t;
	g->conns = t;
	pthread_mutex_unlock(&g->mu);
	*socket_context = t;
}

static void closed(struct ts_conn_guard *g, struct tracked *t)
{
	struct addr_count **pp, *a;

	pthread_mutex_lock(&g->mu);
	pp = find(g, &t->ip);
	a = *pp;
	if (a && --a->n == 0) {
		*pp = a->next;
		free(a);
	}
	if (t->prev)
		t->prev->next = t->next;
	else
		g->conns = t->next;
	if (t->next)
		t->next->prev = t->prev;
	pthread_mutex_unlock(&g->mu);
	free(t);
}

void ts_guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
		     enum MHD_ConnectionNotificationCode code)
{
	struct ts_conn_guard *g = cls;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		started(g, c, socket_context);
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
		closed(g, *socket_context);
		*socket_context = NULL;
	}
}

static void set_deadline(struct MHD_Connection *c, int64_t ms)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct tracked *t = ci ? ci->socket_context : NULL;

	if (t && t->fd >= 0)
		atomic_store_explicit(&t->deadline_ms, ms ? ts_mono_ms() + ms : 0, memory_order_relaxed);
}

void ts_guard_head_done(struct MHD_Connection *c)
{
	set_deadline(c, TS_HTTP_BODY_DEADLINE_S * 1000);
}

void ts_guard_request_in(struct MHD_Connection *c)
{
	set_deadline(c, 0);
}

void ts_guard_request_done(struct MHD_Connection *c)
{
	set_deadline(c, TS_HTTP_IDLE_TIMEOUT_S * 1000);
}
