/* server.c: libmicrohttpd glue. A pool of event-loop threads each runs its
 * own epoll loop; requests are read into a per-request arena with every
 * limit checked before bytes are buffered, then handed to the dispatch
 * callback. A request that may block (the application says which: storage
 * writes, password hashing, outbound calls) is dispatched on a separate
 * pool of blocking threads instead: its connection is suspended, the
 * blocking thread fills the response and resumes the connection, and the
 * event loop sends it. The event loops never wait for a disk, so cheap
 * requests keep flowing, and many blocking requests can wait at once (which
 * lets storage commit them together). Shutdown stops accepting, lets
 * in-flight requests finish, then stops. */
#include "internal.h"
#include "params.h"

#include "wire/ascii.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define BLOCKING_THREADS_DEFAULT 16
#define BLOCKING_THREADS_MAX 256
#define FD_RESERVE 256 /* descriptors kept for storage, logs and the listeners */

struct reqstate;

/* One blocking thread. Idle threads wait on their own condition variable
 * in a stack, and new work wakes the one that went idle last: its stack,
 * its malloc arena (an Argon2id hash takes 19 MiB) and its caches are the
 * warmest, and under light load the same few threads do all the work. */
struct blocking_worker {
	struct ts_http_server *s;
	pthread_t thread;
	pthread_cond_t cv;
	bool idle;                        /* on the idle stack */
	struct blocking_worker *next_idle;
};

/* The blocking pool: a FIFO of suspended requests and the threads that
 * dispatch them. Everything here is guarded by mu. */
struct blocking_pool {
	pthread_mutex_t mu;
	struct reqstate *head, *tail;     /* queued, not yet taken */
	struct blocking_worker *idle;     /* top of the idle stack */
	bool stop;                        /* set at shutdown: no more queueing */
	struct blocking_worker *workers;
	unsigned nthreads;                /* started */
};

struct ts_http_server {
	struct MHD_Daemon *d;
	struct ts_http_config cfg;
	atomic_int inflight;  /* requests between URI log and completion */
	atomic_bool stopping; /* set once shutdown begins: answer Connection: close */
	unsigned port;
	struct blocking_pool pool;
	struct ts_conn_guard *guard; /* per-address cap and request deadlines */
};

/* Per-request state; req must stay the first member. */
struct reqstate {
	struct ts_http_req req;
	struct ts_buf body;
	bool started;    /* the first access-handler call has happened */
	bool body_over;  /* the body passed TS_HTTP_MAX_BODY: discard, answer 413 */
	size_t drained;  /* body bytes discarded since */
	int64_t over_at_ms; /* when body_over was set (ts_mono_ms) */
	bool must_close; /* answer with Connection: close */
	int status;      /* status sent, for the completion callback */
	/* Dispatched on the blocking pool: the connection is suspended from
	 * the moment deferred is set until a blocking thread has filled resp
	 * and resumed it; the event loop then sends resp. */
	bool deferred;
	struct ts_http_resp resp;
	struct reqstate *next; /* in the pool's queue */
};

/* The request id and client address of what this thread now works on, for
 * every log line and audit event (NULL: none). */
static void log_context(const struct ts_http_req *req)
{
	ts_log_set_request_id(req ? req->request_id : NULL);
	ts_log_set_client(req ? req->remote_addr : NULL);
}

static int64_t mono_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* Called by libmicrohttpd with the raw request target before headers are
 * parsed: the earliest point to create our per-request state. */
static void *uri_logger(void *cls, const char *uri, struct MHD_Connection *con)
{
	struct ts_http_server *s = cls;
	struct reqstate *rs = ts_xcalloc(1, sizeof(*rs));

	rs->req.arena = ts_arena_new();
	rs->req.start_us = mono_us();
	rs->req.raw_target = ts_arena_strndup(rs->req.arena, uri, strnlen(uri, TS_HTTP_MAX_URL + 1));
	rs->req.conn = con;
	ts_buf_init(&rs->body, TS_HTTP_MAX_BODY);
	atomic_fetch_add(&s->inflight, 1);
	return rs;
}

static void completed(void *cls, struct MHD_Connection *con, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct ts_http_server *s = cls;
	struct reqstate *rs = *con_cls;

	(void)toe;
	if (rs == NULL)
		return;
	ts_guard_request_done(con);
	if (rs->started && s->cfg.done)
		s->cfg.done(s->cfg.ctx, &rs->req, rs->status, mono_us() - rs->req.start_us);
	json_decref(rs->req.json);
	ts_buf_clear_secret(&rs->body);
	ts_arena_free(rs->req.arena);
	free(rs);
	*con_cls = NULL;
	atomic_fetch_sub(&s->inflight, 1);
}

/* A request id is kept only if it is short and harmless in logs. */
static bool request_id_ok(const char *v)
{
	size_t i, n = strlen(v);

	if (n == 0 || n > TS_HTTP_REQUEST_ID_MAX)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (!(ts_is_alnum(c) || c == '-' || c == '_' || c == '.' || c == ':'))
			return false;
	}
	return true;
}

static enum MHD_Result send_resp(struct ts_http_server *s, struct reqstate *rs,
				 struct ts_http_resp *resp)
{
	struct MHD_Response *r;
	size_t len = resp->body.len, i;
	char *body = ts_buf_take(&resp->body);
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(body);
		return MHD_NO;
	}
	if (resp->content_type)
		MHD_add_response_header(r, "Content-Type", resp->content_type);
	MHD_add_response_header(r, "X-Request-ID", rs->req.request_id);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	for (i = 0; i < resp->nheaders; i++)
		MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
	if (atomic_load(&s->stopping) || rs->must_close)
		MHD_add_response_header(r, "Connection", "close");
	rs->status = resp->status;
	ret = MHD_queue_response(rs->req.conn, (unsigned)resp->status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_error(struct ts_http_server *s, struct reqstate *rs, int status,
				  const char *code, const char *desc)
{
	struct ts_http_resp resp;
	enum MHD_Result ret;

	memset(&resp, 0, sizeof(resp));
	resp.arena = rs->req.arena;
	ts_buf_init(&resp.body, 0);
	ts_http_resp_error(&resp, status, code, desc);
	ret = send_resp(s, rs, &resp);
	ts_buf_clear(&resp.body);
	return ret;
}

/* Lowercased media type without parameters, or NULL. */
static const char *media_type(struct ts_arena *a, const char *ct)
{
	size_t n = 0;
	char *m;

	if (ct == NULL)
		return NULL;
	while (ct[n] && ct[n] != ';' && ct[n] != ' ')
		n++;
	m = ts_arena_strndup(a, ct, n);
	for (n = 0; m[n]; n++)
		m[n] = (char)ts_to_lower((unsigned char)m[n]);
	return m;
}

static const char *host_of(struct ts_arena *a, const char *h)
{
	size_t n = 0;
	char *m;

	if (h == NULL)
		return "";
	if (h[0] == '[') { /* an IPv6 literal keeps its brackets */
		const char *e = strchr(h, ']');
		n = e ? (size_t)(e - h) + 1 : strlen(h);
	} else {
		while (h[n] && h[n] != ':')
			n++;
	}
	m = ts_arena_strndup(a, h, n);
	for (n = 0; m[n]; n++)
		m[n] = (char)ts_to_lower((unsigned char)m[n]);
	return m;
}

/* Every value of the headers that framing and forwarding depend on. A
 * header may come as several lines, and libmicrohttpd's lookup shows only
 * the first. */
struct head_scan {
	struct ts_arena *arena;
	unsigned n_cl, n_te, n_authz;
	const char *cl;        /* the first Content-Length value */
	bool cl_differ;        /* another Content-Length value differs */
	const char *te;        /* the first Transfer-Encoding value */
	struct ts_buf xff, fwd; /* all X-Forwarded-For / Forwarded lines, comma-joined */
	bool xff_over, fwd_over; /* that header passed TS_HTTP_MAX_FORWARDED */
};

/* Past its cap the buffer frees itself and the header counts as too long
 * (ts_client_addr then keeps the peer's address). */
static void join(struct ts_buf *b, bool *over, const char *v)
{
	if (*over)
		return;
	if ((b->len && ts_buf_append(b, ",", 1) != TS_OK) ||
	    ts_buf_append(b, v, strlen(v)) != TS_OK)
		*over = true;
}

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	struct head_scan *h = cls;

	(void)kind;
	if (value == NULL)
		return MHD_YES;
	if (strcasecmp(key, "Content-Length") == 0) {
		/* RFC 9112 §6.3: a list of one repeated value is one value. */
		const char *p = value;
		while (*p) {
			size_t n = strcspn(p, ",");
			const char *v = p;
			while (n && ts_is_ows((unsigned char)*v)) {
				v++;
				n--;
			}
			while (n && ts_is_ows((unsigned char)v[n - 1]))
				n--;
			if (h->cl == NULL)
				h->cl = ts_arena_strndup(h->arena, v, n);
			else if (strlen(h->cl) != n || memcmp(h->cl, v, n) != 0)
				h->cl_differ = true;
			h->n_cl++;
			p += strcspn(p, ",");
			if (*p)
				p++;
		}
		if (*value == '\0')
			h->cl_differ = true;
	} else if (strcasecmp(key, "Transfer-Encoding") == 0) {
		if (h->n_te++ == 0)
			h->te = value;
	} else if (strcasecmp(key, "Authorization") == 0) {
		h->n_authz++;
	} else if (strcasecmp(key, "X-Forwarded-For") == 0) {
		join(&h->xff, &h->xff_over, value);
	} else if (strcasecmp(key, "Forwarded") == 0) {
		join(&h->fwd, &h->fwd_over, value);
	}
	return MHD_YES;
}

/* RFC 9112 §6: one way to find the body's end, or the request is refused
 * and the connection closed (a proxy that framed it differently would
 * read the rest as another request). */
static enum MHD_Result framing_check(struct ts_http_server *s, struct reqstate *rs,
				     const struct head_scan *h, bool *answered)
{
	const char *te = h->te;
	size_t n;

	*answered = true;
	if (h->n_te && h->n_cl) {
		rs->must_close = true;
		return send_error(s, rs, 400, TS_ERR_INVALID_REQUEST,
				  "both Content-Length and Transfer-Encoding");
	}
	if (h->cl_differ) {
		rs->must_close = true;
		return send_error(s, rs, 400, TS_ERR_INVALID_REQUEST, "conflicting Content-Length values");
	}
	if (h->n_te) {
		while (ts_is_ows((unsigned char)*te))
			te++;
		n = strlen(te);
		while (n && ts_is_ows((unsigned char)te[n - 1]))
			n--;
		if (h->n_te > 1 || n != 7 || strncasecmp(te, "chunked", 7) != 0) {
			rs->must_close = true;
			return send_error(s, rs, 501, TS_ERR_INVALID_REQUEST,
					  "only the chunked transfer coding is supported");
		}
	}
	*answered = false;
	return MHD_YES;
}

/* The peer's address and, through trusted proxies, the client's. */
static void client_of(struct ts_http_server *s, struct reqstate *rs, struct head_scan *h)
{
	struct ts_http_req *req = &rs->req;
	const union MHD_ConnectionInfo *ci;
	struct ts_ip peer, client;
	char ab[TS_IP_TEXT_CAP];
	const char *xff = h->xff.p, *fwd = h->fwd.p;
	size_t xlen = h->xff.len, flen = h->fwd.len;
	int rc;

	ci = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	ts_ip_from_sockaddr(ci ? ci->client_addr : NULL, &peer);
	if (h->xff_over) {
		xff = "";
		xlen = TS_HTTP_MAX_FORWARDED + 1;
	}
	if (h->fwd_over) {
		fwd = "";
		flen = TS_HTTP_MAX_FORWARDED + 1;
	}
	rc = ts_client_addr(s->cfg.trusted, &peer, xff, xlen, fwd, flen, &client);
	if (rc != TS_OK)
		ts_log_debug("a trusted proxy forwarded an unusable client address");
	ts_ip_format(&peer, ab, sizeof(ab));
	req->peer_addr = ts_arena_strdup(req->arena, ab);
	ts_ip_format(&client, ab, sizeof(ab));
	req->remote_addr = ts_arena_strdup(req->arena, ab);
	/* The derived client, as logs and throttles see it: forwarding headers
	 * from an untrusted peer were ignored, and a trusted proxy that could
	 * not name its client does not make that client this machine. */
	req->local = rc == TS_OK && ts_ip_is_loopback(&client);
}

/* A declared body past the cap: up to TS_HTTP_DRAIN_MAX it is read and
 * dropped before the 413 goes out, so the client, still sending, sees the
 * answer instead of a reset; a larger one is answered at once. */
static enum MHD_Result check_length(struct ts_http_server *s, struct reqstate *rs, const char *cl,
				    bool *answered)
{
	char *end;
	unsigned long long v;

	*answered = true;
	errno = 0;
	v = strtoull(cl, &end, 10);
	if (errno || end == cl || *end || !ts_is_digit((unsigned char)cl[0])) {
		rs->must_close = true;
		return send_error(s, rs, 400, TS_ERR_INVALID_REQUEST, "bad Content-Length");
	}
	if (v > TS_HTTP_DRAIN_MAX) {
		rs->must_close = true;
		return send_error(s, rs, 413, TS_ERR_INVALID_REQUEST, "request body too large");
	}
	if (v > TS_HTTP_MAX_BODY) {
		ts_buf_clear(&rs->body);
		rs->body_over = true;
		rs->over_at_ms = ts_mono_ms();
	}
	*answered = false;
	return MHD_YES;
}

/* First call: everything we can check from the request line and headers. */
static enum MHD_Result start_request(struct ts_http_server *s, struct reqstate *rs,
				     const char *url, const char *method)
{
	struct ts_http_req *req = &rs->req;
	const char *rid, *q, *authz;
	struct head_scan h;
	enum MHD_Result ret = MHD_YES;
	bool answered = false;
	int rc;

	rs->started = true;
	ts_guard_head_done(req->conn);
	req->method = ts_arena_strdup(req->arena, method);
	req->path = ts_arena_strdup(req->arena, url);
	rid = ts_http_header(req, "X-Request-ID");
	if (rid && request_id_ok(rid)) {
		memcpy(req->request_id, rid, strlen(rid) + 1);
	} else if (ts_rand_token(req->request_id, sizeof(req->request_id), 12) != TS_OK) {
		memcpy(req->request_id, "-", 2);
	}
	log_context(req);
	req->host = host_of(req->arena, ts_http_header(req, "Host"));
	req->content_type = media_type(req->arena, ts_http_header(req, "Content-Type"));
	memset(&h, 0, sizeof(h));
	h.arena = req->arena;
	ts_buf_init(&h.xff, TS_HTTP_MAX_FORWARDED + 1);
	ts_buf_init(&h.fwd, TS_HTTP_MAX_FORWARDED + 1);
	MHD_get_connection_values(req->conn, MHD_HEADER_KIND, scan_header, &h);
	client_of(s, rs, &h);
	log_context(req);
	ts_buf_clear(&h.xff);
	ts_buf_clear(&h.fwd);
	ret = framing_check(s, rs, &h, &answered);
	if (answered)
		return ret;
	/* RFC 6750 §3.1: one credential per request; which of two the
	 * sender meant is not guessed. */
	if (h.n_authz > 1)
		return send_error(s, rs, 400, TS_ERR_INVALID_REQUEST, "more than one Authorization header");
	if (strlen(req->raw_target) > TS_HTTP_MAX_URL)
		return send_error(s, rs, 414, TS_ERR_INVALID_REQUEST, "request target too long");
	q = strchr(req->raw_target, '?');
	if (q) {
		rc = ts_form_parse(req->arena, q + 1, strlen(q + 1), TS_HTTP_MAX_PARAMS, &req->query,
				   &req->nquery);
		if (rc != TS_OK)
			return send_error(s, rs, 400, TS_ERR_INVALID_REQUEST, "malformed query string");
	}
	if (h.cl) {
		ret = check_length(s, rs, h.cl, &answered);
		if (answered)
			return ret;
	}
	authz = ts_http_header(req, "Authorization");
	ts_http_auth_parse(req->arena, authz, authz ? strlen(authz) : 0, &req->auth);
	return MHD_YES;
}

/* Runs the application on a request; resp is initialised here. */
static void dispatch(struct ts_http_server *s, struct reqstate *rs, struct ts_http_resp *resp)
{
	memset(resp, 0, sizeof(*resp));
	resp->arena = rs->req.arena;
	ts_buf_init(&resp->body, 0);
	s->cfg.dispatch(s->cfg.ctx, &rs->req, resp);
	if (resp->status == 0 && !resp->retry_blocking)
		ts_http_resp_error(resp, 500, TS_ERR_SERVER_ERROR, NULL);
}

/* Suspends the connection and queues the request; false (nothing done)
 * once shutdown has stopped the pool, and the caller dispatches inline.
 * Suspending comes before queueing: a blocking thread may only resume what
 * is suspended. */
static bool defer(struct ts_http_server *s, struct reqstate *rs)
{
	struct blocking_pool *p = &s->pool;

	pthread_mutex_lock(&p->mu);
	if (p->stop) {
		pthread_mutex_unlock(&p->mu);
		return false;
	}
	rs->deferred = true;
	rs->next = NULL;
	MHD_suspend_connection(rs->req.conn);
	if (p->tail)
		p->tail->next = rs;
	else
		p->head = rs;
	p->tail = rs;
	if (p->idle) {
		struct blocking_worker *w = p->idle;
		p->idle = w->next_idle;
		w->idle = false;
		pthread_cond_signal(&w->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return true;
}

/* Takes w off the idle stack (it woke up without being popped). */
static void unidle(struct blocking_pool *p, struct blocking_worker *w)
{
	struct blocking_worker **pp = &p->idle;

	while (*pp && *pp != w)
		pp = &(*pp)->next_idle;
	if (*pp)
		*pp = w->next_idle;
	w->idle = false;
}

/* A blocking thread: takes queued requests in order until shutdown has
 * emptied the queue. After MHD_resume_connection the request belongs to
 * the event loop again (it may complete and free it at once), so that call
 * is the last use of rs. */
static void *blocking_main(void *arg)
{
	struct blocking_worker *w = arg;
	struct ts_http_server *s = w->s;
	struct blocking_pool *p = &s->pool;
	struct reqstate *rs;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (p->head == NULL && !p->stop) {
			if (!w->idle) {
				w->idle = true;
				w->next_idle = p->idle;
				p->idle = w;
			}
			pthread_cond_wait(&w->cv, &p->mu);
		}
		if (w->idle)
			unidle(p, w);
		rs = p->head;
		if (rs) {
			p->head = rs->next;
			if (p->head == NULL)
				p->tail = NULL;
		}
		pthread_mutex_unlock(&p->mu);
		if (rs == NULL)
			return NULL;
		log_context(&rs->req);
		dispatch(s, rs, &rs->resp);
		log_context(NULL);
		MHD_resume_connection(rs->req.conn);
	}
}

static void pool_start(struct ts_http_server *s, unsigned n)
{
	struct blocking_pool *p = &s->pool;
	unsigned i;

	pthread_mutex_init(&p->mu, NULL);
	p->workers = ts_xcalloc(n ? n : 1, sizeof(*p->workers));
	for (i = 0; i < n; i++) {
		struct blocking_worker *w = &p->workers[i];
		w->s = s;
		pthread_cond_init(&w->cv, NULL);
		if (pthread_create(&w->thread, NULL, blocking_main, w) != 0) {
			pthread_cond_destroy(&w->cv);
			ts_log_warn("started %u of %u blocking threads", i, n);
			break;
		}
	}
	p->nthreads = i;
}

/* Runs what is still queued, then joins the threads; from here on the
 * event loops dispatch everything inline. Called before the daemon stops,
 * so that no connection is left suspended. */
static void pool_stop(struct ts_http_server *s)
{
	struct blocking_pool *p = &s->pool;
	unsigned i;

	pthread_mutex_lock(&p->mu);
	p->stop = true;
	for (i = 0; i < p->nthreads; i++)
		pthread_cond_signal(&p->workers[i].cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->nthreads; i++) {
		pthread_join(p->workers[i].thread, NULL);
		pthread_cond_destroy(&p->workers[i].cv);
	}
	free(p->workers);
	pthread_mutex_destroy(&p->mu);
}

/* Last call: parse the body by media type, then dispatch. */
static enum MHD_Result finish_request(struct ts_http_server *s, struct reqstate *rs)
{
	struct ts_http_req *req = &rs->req;
	struct ts_http_resp resp;
	enum MHD_Result ret;
	int rc;

	ts_guard_request_in(req->conn);
	if (rs->body_over) {
		rs->must_close = true;
		return send_error(s, rs, 413, TS_ERR_INVALID_REQUEST, "request body too large");
	}
	if (rs->body.len) {
		req->body = rs->body.p;
		req->body_len = rs->body.len;
	}
	if (req->body && req->content_type &&
	    strcmp(req->content_type, "application/x-www-form-urlencoded") == 0) {
		rc = ts_form_parse(req->arena, req->body, req->body_len, TS_HTTP_MAX_PARAMS,
				   &req->form, &req->nform);
		if (rc != TS_OK)
			return send_error(s, rs, 400, TS_ERR_INVALID_REQUEST, "malformed form body");
	} else if (req->body && req->content_type &&
		   strcmp(req->content_type, "application/json") == 0) {
		rc = ts_http_json_parse(req->body, req->body_len, &req->json);
		if (rc == TS_ETOOBIG)
			return send_error(s, rs, 400, TS_ERR_INVALID_REQUEST, "JSON body nested too deeply");
		if (rc != TS_OK)
			return send_error(s, rs, 400, TS_ERR_INVALID_REQUEST, "malformed JSON body");
	}
	if (s->pool.nthreads && s->cfg.blocking && s->cfg.blocking(s->cfg.ctx, req) &&
	    defer(s, rs)) {
		log_context(NULL);
		return MHD_YES;
	}
	req->on_event_loop = s->pool.nthreads > 0;
	dispatch(s, rs, &resp);
	req->on_event_loop = false;
	if (resp.retry_blocking) {
		ts_buf_clear(&resp.body);
		if (defer(s, rs)) {
			log_context(NULL);
			return MHD_YES;
		}
		dispatch(s, rs, &resp);
	}
	ret = send_resp(s, rs, &resp);
	ts_buf_clear(&resp.body);
	log_context(NULL);
	return ret;
}

/* The event loop's second look at a deferred request, after the blocking
 * thread resumed it: send what it prepared. */
static enum MHD_Result finish_deferred(struct ts_http_server *s, struct reqstate *rs)
{
	enum MHD_Result ret = send_resp(s, rs, &rs->resp);

	ts_buf_clear(&rs->resp.body);
	log_context(NULL);
	return ret;
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *con, const char *url,
				      const char *method, const char *version,
				      const char *upload_data, size_t *upload_data_size,
				      void **con_cls)
{
	struct ts_http_server *s = cls;
	struct reqstate *rs = *con_cls;

	(void)con;
	(void)version;
	if (rs == NULL)
		return MHD_NO; /* no URI logger call: cannot happen */
	if (!rs->started)
		return start_request(s, rs, url, method);
	if (rs->deferred)
		return finish_deferred(s, rs);
	if (*upload_data_size) {
		log_context(&rs->req);
		if (rs->body_over) {
			/* The answer can only go out once the body has ended
			 * (libmicrohttpd takes no answer in the middle of one),
			 * so a body of unknown length is read and dropped for a
			 * while; one that goes on past that is not worth reading
			 * to the end, and the connection is dropped. */
			rs->drained += *upload_data_size;
			if (rs->drained > TS_HTTP_DRAIN_CHUNKED_MAX ||
			    ts_mono_ms() - rs->over_at_ms > TS_HTTP_DRAIN_MS)
				return MHD_NO;
		} else if (ts_buf_append(&rs->body, upload_data, *upload_data_size) != TS_OK) {
			rs->body_over = true; /* the buffer freed itself; drain the rest */
			rs->over_at_ms = ts_mono_ms();
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	log_context(&rs->req);
	return finish_request(s, rs);
}

static int parse_listen(const char *listen, struct sockaddr_storage *ss, bool *v6)
{
	struct addrinfo hints, *res = NULL;
	const char *colon;
	char host[256];
	size_t hlen;
	int rc;

	if (listen[0] == '[') {
		const char *e = strchr(listen, ']');
		if (e == NULL || e[1] != ':')
			return TS_EINVAL;
		hlen = (size_t)(e - listen - 1);
		if (hlen >= sizeof(host))
			return TS_EINVAL;
		memcpy(host, listen + 1, hlen);
		colon = e + 1;
	} else {
		colon = strrchr(listen, ':');
		if (colon == NULL)
			return TS_EINVAL;
		hlen = (size_t)(colon - listen);
		if (hlen >= sizeof(host))
			return TS_EINVAL;
		memcpy(host, listen, hlen);
	}
	host[hlen] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	rc = getaddrinfo(hlen ? host : NULL, colon + 1, &hints, &res);
	if (rc != 0 || res == NULL)
		return TS_EINVAL;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*v6 = res->ai_family == AF_INET6;
	freeaddrinfo(res);
	return TS_OK;
}

/* The connection cap this process can hold: raises the descriptor limit
 * to its hard maximum when needed, and keeps FD_RESERVE for the rest. */
static unsigned connection_cap(unsigned want)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)want + FD_RESERVE;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return want;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0 && getrlimit(RLIMIT_NOFILE, &rl) != 0)
			return want;
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		unsigned cap = rl.rlim_cur > 2 * FD_RESERVE ? (unsigned)(rl.rlim_cur - FD_RESERVE)
							    : (unsigned)(rl.rlim_cur / 2);
		ts_log_warn("the descriptor limit (%llu) allows %u connections, not %u",
			    (unsigned long long)rl.rlim_cur, cap, want);
		return cap;
	}
	return want;
}

int ts_http_server_start(const struct ts_http_config *cfg, struct ts_http_server **out)
{
	struct ts_http_server *s;
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *di;
	unsigned threads = cfg->threads;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
			 MHD_USE_TURBO | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	unsigned blocking = cfg->blocking_threads ? cfg->blocking_threads : BLOCKING_THREADS_DEFAULT;
	bool v6 = false;
	int rc;

	*out = NULL;
	rc = parse_listen(cfg->listen, &ss, &v6);
	if (rc != TS_OK) {
		ts_log_err("cannot parse listen address %s", cfg->listen);
		return rc;
	}
	if (v6)
		flags |= MHD_USE_IPv6;
	if (threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		threads = n > 0 ? (unsigned)n : 2;
	}
	s = ts_xcalloc(1, sizeof(*s));
	s->cfg = *cfg;
	if (blocking > BLOCKING_THREADS_MAX)
		blocking = BLOCKING_THREADS_MAX;
	pool_start(s, cfg->blocking ? blocking : 0);
	s->guard = ts_guard_new(cfg->trusted,
				cfg->max_conn_per_addr ? cfg->max_conn_per_addr : TS_HTTP_MAX_CONN_PER_ADDR);
	s->d = MHD_start_daemon(flags, 0, ts_guard_accept, s->guard, access_handler, s,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				MHD_OPTION_THREAD_POOL_SIZE, threads,
				MHD_OPTION_URI_LOG_CALLBACK, uri_logger, s,
				MHD_OPTION_NOTIFY_COMPLETED, completed, s,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)TS_HTTP_MAX_HEADERS_MEM,
				MHD_OPTION_NOTIFY_CONNECTION, ts_guard_notify, s->guard,
				MHD_OPTION_CONNECTION_LIMIT,
				connection_cap(cfg->max_connections ? cfg->max_connections
								    : TS_HTTP_MAX_CONNECTIONS),
				MHD_OPTION_CONNECTION_TIMEOUT,
				cfg->conn_timeout_s ? cfg->conn_timeout_s : (unsigned)TS_HTTP_IDLE_TIMEOUT_S,
				MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
				MHD_OPTION_END);
	if (s->d == NULL) {
		ts_log_err("cannot listen on %s", cfg->listen);
		pool_stop(s);
		ts_guard_free(s->guard);
		free(s);
		return TS_EIO;
	}
	di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = di ? di->port : 0;
	*out = s;
	return TS_OK;
}

unsigned ts_http_server_port(const struct ts_http_server *s)
{
	return s->port;
}

void ts_http_server_stop(struct ts_http_server *s, int grace_ms)
{
	int64_t deadline;
	MHD_socket ls;

	if (s == NULL)
		return;
	atomic_store(&s->stopping, true);
	ls = MHD_quiesce_daemon(s->d);
	if (ls != MHD_INVALID_SOCKET)
		close(ls);
	deadline = ts_mono_ms() + grace_ms;
	while (atomic_load(&s->inflight) > 0 && ts_mono_ms() < deadline) {
		struct timespec t = {0, 10 * 1000 * 1000};
		nanosleep(&t, NULL);
	}
	pool_stop(s);
	MHD_stop_daemon(s->d);
	ts_guard_free(s->guard);
	free(s);
}
