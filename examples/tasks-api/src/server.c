/* server.c: libmicrohttpd in thread-pool mode on a socket we bind
 * ourselves (so the error is ours to word). The body is gathered into a
 * buffer with a hard cap: a Content-Length over it is answered 413 before
 * any byte is read, a chunked body that grows past it is discarded and
 * answered 413 at the end. */
#include "server.h"

#include "task.h"

_Static_assert(TA_BODY_MAX == 65536, "TOO_BIG names the cap");

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CONN_TIMEOUT_S 30
#define CONN_LIMIT 512
#define LISTEN_BACKLOG 128
#define HOST_MAX 256
#define COOKIE_MAX 16384
#define MAX_THREADS 64
#define TOO_BIG "the body is larger than 64 KiB (65536 bytes)"

struct ta_server {
	struct MHD_Daemon *d;
	int fd;
	unsigned port;
	struct ta_server_config cfg;
};

/* Per-request state; req must stay the first member. */
struct reqstate {
	struct ta_req req;
	size_t cap;        /* allocated bytes of req.body */
	char *cookie;      /* joined Cookie headers (owned) */
	int64_t start_ms;
	bool started;
};

static int64_t mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* ---- answers ---- */

static void queue(struct ta_req *r, int status, const char *ctype, const char *body, size_t len,
		  const char *hname, const char *hvalue)
{
	struct MHD_Response *resp;

	if (r->status != 0)
		return;
	resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return;
	if (ctype)
		MHD_add_response_header(resp, "Content-Type", ctype);
	/* Task data is per user: never let a shared cache keep it. */
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (hname && hvalue && hvalue[0])
		MHD_add_response_header(resp, hname, hvalue);
	if (MHD_queue_response(r->conn, (unsigned)status, resp) == MHD_YES)
		r->status = status;
	MHD_destroy_response(resp);
}

static void send_json(struct ta_req *r, int status, const json_t *body, const char *hname,
		      const char *hvalue)
{
	char *text = json_dumps(body, JSON_COMPACT);

	if (text == NULL) {
		static const char oops[] = "{\"error\":\"server_error\"}";
		queue(r, 500, "application/json", oops, sizeof(oops) - 1, NULL, NULL);
		return;
	}
	queue(r, status, "application/json", text, strlen(text), hname, hvalue);
	free(text);
}

void ta_resp_json(struct ta_req *r, int status, const json_t *body)
{
	send_json(r, status, body, NULL, NULL);
}

void ta_resp_json_header(struct ta_req *r, int status, const json_t *body, const char *hname,
			 const char *hvalue)
{
	send_json(r, status, body, hname, hvalue);
}

void ta_resp_empty(struct ta_req *r, int status)
{
	queue(r, status, NULL, "", 0, NULL, NULL);
}

void ta_resp_error(struct ta_req *r, int status, const char *error, const char *desc,
		   const char *hname, const char *hvalue)
{
	json_t *o = json_object();

	json_object_set_new(o, "error", json_string(error));
	if (desc && desc[0]) {
		/* json_string refuses invalid UTF-8; every description we make
		 * is valid, but say something rather than nothing if not. */
		json_t *d = json_string(desc);
		json_object_set_new(o, "error_description", d ? d : json_string("(unprintable)"));
	}
	send_json(r, status, o, hname, hvalue);
	json_decref(o);
}

/* ---- request accessors ---- */

struct header_find {
	const char *name;
	const char *value;
	int count;
};

static enum MHD_Result header_cb(void *cls, enum MHD_ValueKind kind, const char *key,
				 const char *value)
{
	struct header_find *h = cls;

	(void)kind;
	if (strcasecmp(key, h->name) == 0) {
		if (h->count++ == 0)
			h->value = value;
	}
	return MHD_YES;
}

const char *ta_req_header(struct ta_req *r, const char *name, bool *dup)
{
	struct header_find h = {.name = name};

	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, header_cb, &h);
	if (dup)
		*dup = h.count > 1;
	return h.value;
}

struct cookie_join {
	char buf[COOKIE_MAX];
	size_t len;
	bool over;
};

static enum MHD_Result cookie_cb(void *cls, enum MHD_ValueKind kind, const char *key,
				 const char *value)
{
	struct cookie_join *j = cls;
	int n;

	(void)kind;
	if (strcasecmp(key, "Cookie") != 0 || value == NULL)
		return MHD_YES;
	n = snprintf(j->buf + j->len, sizeof(j->buf) - j->len, "%s%s", j->len ? "; " : "", value);
	if (n < 0 || (size_t)n >= sizeof(j->buf) - j->len)
		j->over = true;
	else
		j->len += (size_t)n;
	return j->over ? MHD_NO : MHD_YES;
}

const char *ta_req_cookie(struct ta_req *r)
{
	struct reqstate *rs = (struct reqstate *)r;
	struct cookie_join *j;

	if (rs->cookie)
		return rs->cookie;
	j = ta_xcalloc(1, sizeof(*j));
	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, cookie_cb, j);
	/* An oversized Cookie header is treated as absent: the credential
	 * check then fails closed with 401. */
	if (j->len > 0 && !j->over)
		rs->cookie = ta_xstrndup(j->buf, j->len);
	free(j);
	return rs->cookie;
}

struct query_read {
	const char *const *names;
	size_t n;
	const char **values;
	bool *seen;
	char *err;
	size_t errlen;
	bool bad;
};

static enum MHD_Result query_cb(void *cls, enum MHD_ValueKind kind, const char *key,
				const char *value)
{
	struct query_read *q = cls;
	size_t i;

	(void)kind;
	for (i = 0; i < q->n; i++) {
		if (strcmp(q->names[i], key) != 0)
			continue;
		if (q->seen[i]) {
			snprintf(q->err, q->errlen, "the query parameter \"%s\" is repeated", key);
			q->bad = true;
			return MHD_NO;
		}
		q->seen[i] = true;
		q->values[i] = value ? value : "";
		return MHD_YES;
	}
	snprintf(q->err, q->errlen, "unknown query parameter \"%.64s\"", key);
	q->bad = true;
	return MHD_NO;
}

int ta_req_query(struct ta_req *r, const char *const *names, size_t n, const char **values,
		 char *err, size_t errlen)
{
	bool seen[16] = {false};
	struct query_read q = {names, n, values, seen, err, errlen, false};
	size_t i;

	if (n > sizeof(seen) / sizeof(seen[0]))
		return TA_EINVAL;
	for (i = 0; i < n; i++)
		values[i] = NULL;
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, query_cb, &q);
	return q.bad ? TA_EINVAL : TA_OK;
}

struct args_walk {
	ta_arg_fn fn;
	void *ctx;
	int rc;
};

static enum MHD_Result args_cb(void *cls, enum MHD_ValueKind kind, const char *key,
			       const char *value)
{
	struct args_walk *w = cls;

	(void)kind;
	w->rc = w->fn(w->ctx, key, value ? value : "", value ? strlen(value) : 0);
	return w->rc == TA_OK ? MHD_YES : MHD_NO;
}

int ta_req_args(struct ta_req *r, ta_arg_fn fn, void *ctx)
{
	struct args_walk w = {fn, ctx, TA_OK};

	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, args_cb, &w);
	return w.rc;
}

/* A multipart field arrives in pieces; it is gathered here and handed on
 * when the next field starts or the body ends. */
struct multipart_walk {
	ta_arg_fn fn;
	void *ctx;
	int rc;
	char *name;   /* the field being gathered (owned), NULL before the first */
	char *value;  /* its bytes so far (owned), NUL-terminated */
	size_t len;
};

static void multipart_flush(struct multipart_walk *w)
{
	if (w->name && w->rc == TA_OK)
		w->rc = w->fn(w->ctx, w->name, w->value ? w->value : "", w->len);
	free(w->name);
	free(w->value);
	w->name = w->value = NULL;
	w->len = 0;
}

static enum MHD_Result multipart_cb(void *cls, enum MHD_ValueKind kind, const char *key,
				    const char *filename, const char *content_type,
				    const char *transfer_encoding, const char *data, uint64_t off,
				    size_t size)
{
	struct multipart_walk *w = cls;
	char *nv;

	(void)kind;
	(void)content_type;
	(void)transfer_encoding;
	if (filename != NULL)
		return MHD_YES;
	if (off == 0 || w->name == NULL || strcmp(w->name, key) != 0) {
		multipart_flush(w);
		if (w->rc != TA_OK)
			return MHD_NO;
		w->name = ta_xstrdup(key);
	}
	/* The body is capped at TA_BODY_MAX, and so is every field. */
	nv = realloc(w->value, w->len + size + 1);
	if (nv == NULL) {
		w->rc = TA_ENOMEM;
		return MHD_NO;
	}
	w->value = nv;
	memcpy(w->value + w->len, data, size);
	w->len += size;
	w->value[w->len] = '\0';
	return MHD_YES;
}

#define MULTIPART_BUFFER 1024

int ta_req_multipart(struct ta_req *r, ta_arg_fn fn, void *ctx)
{
	struct multipart_walk w = {fn, ctx, TA_OK, NULL, NULL, 0};
	struct MHD_PostProcessor *pp;
	enum MHD_Result ok;

	pp = MHD_create_post_processor(r->conn, MULTIPART_BUFFER, multipart_cb, &w);
	if (pp == NULL)
		return TA_EINVAL;
	ok = MHD_post_process(pp, r->body ? r->body : "", r->body_len);
	if (MHD_destroy_post_processor(pp) != MHD_YES)
		ok = MHD_NO;
	if (w.rc == TA_OK)
		multipart_flush(&w);
	free(w.name);
	free(w.value);
	if (w.rc != TA_OK)
		return w.rc;
	return ok == MHD_YES ? TA_OK : TA_EINVAL;
}

/* ---- the libmicrohttpd callbacks ---- */

/* Content-Length, when present and valid: more than the cap is refused
 * before a byte of the body is read. */
static bool declared_too_big(struct MHD_Connection *c)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
	char *end;
	unsigned long long v;

	if (cl == NULL)
		return false;
	errno = 0;
	v = strtoull(cl, &end, 10);
	return errno != 0 || end == cl || v > TA_BODY_MAX;
}

/* RFC 9112 §6: a body is framed by chunked or by Content-Length, never
 * both; another transfer coding cannot be read (libmicrohttpd would wait
 * for the connection to close), so it is answered at once. */
static int framing_status(struct MHD_Connection *c)
{
	const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding");

	if (te == NULL)
		return 0;
	if (MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length") != NULL)
		return 400;
	return strcasecmp(te, "chunked") == 0 ? 0 : 501;
}

static void append_body(struct reqstate *rs, const char *data, size_t n)
{
	struct ta_req *r = &rs->req;

	if (r->body_too_big)
		return;
	if (r->body_len + n > TA_BODY_MAX) {
		r->body_too_big = true;
		free(r->body);
		r->body = NULL;
		r->body_len = 0;
		return;
	}
	if (r->body_len + n + 1 > rs->cap) {
		size_t cap = rs->cap ? rs->cap : 1024;
		char *nb;
		while (cap < r->body_len + n + 1)
			cap *= 2;
		nb = realloc(r->body, cap);
		if (nb == NULL) {
			/* Treated like an oversized body: refused, never half-read. */
			r->body_too_big = true;
			free(r->body);
			r->body = NULL;
			r->body_len = 0;
			return;
		}
		r->body = nb;
		rs->cap = cap;
	}
	memcpy(r->body + r->body_len, data, n);
	r->body_len += n;
	r->body[r->body_len] = '\0';
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct ta_server *s = cls;
	struct reqstate *rs = *con_cls;

	(void)version;
	if (rs == NULL) {
		rs = ta_xcalloc(1, sizeof(*rs));
		rs->req.conn = c;
		rs->req.method = method;
		rs->req.path = url;
		rs->start_ms = mono_ms();
		*con_cls = rs;
		int framing = framing_status(c);
		if (framing != 0) {
			rs->req.body_too_big = true; /* the body is never read */
			ta_resp_error(&rs->req, framing, "invalid_request",
				      framing == 400 ? "Content-Length and Transfer-Encoding together"
						     : "only the chunked transfer coding is supported",
				      NULL, NULL);
		} else if (declared_too_big(c)) {
			rs->req.body_too_big = true;
			ta_resp_error(&rs->req, 413, "invalid_request", TOO_BIG, NULL, NULL);
		}
		return MHD_YES;
	}
	if (*upload_size > 0) {
		append_body(rs, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (rs->started || rs->req.status != 0)
		return MHD_YES;
	rs->started = true;
	if (rs->req.body_too_big) {
		ta_resp_error(&rs->req, 413, "invalid_request", TOO_BIG, NULL, NULL);
		return MHD_YES;
	}
	s->cfg.handler(s->cfg.ctx, &rs->req);
	if (rs->req.status == 0)
		ta_resp_error(&rs->req, 500, "server_error", "no answer was produced", NULL, NULL);
	return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct reqstate *rs = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (rs == NULL)
		return;
	/* The path only: queries may hold search terms, and headers hold
	 * credentials; neither belongs in a log. */
	if (rs->req.status)
		ta_log_info("%s %.200s %d %lldms", rs->req.method, rs->req.path, rs->req.status,
			    (long long)(mono_ms() - rs->start_ms));
	free(rs->req.body);
	free(rs->cookie);
	free(rs);
	*con_cls = NULL;
}

/* ---- start and stop ---- */

/* Splits "host:port", "[v6]:port" or ":port". */
static int split_listen(const char *addr, char host[HOST_MAX], const char **port)
{
	const char *colon;
	size_t hl;

	if (addr[0] == '[') {
		const char *rb = strchr(addr, ']');
		if (rb == NULL || rb[1] != ':')
			return TA_EINVAL;
		hl = (size_t)(rb - addr - 1);
		if (hl == 0 || hl >= HOST_MAX)
			return TA_EINVAL;
		memcpy(host, addr + 1, hl);
		*port = rb + 2;
	} else {
		colon = strrchr(addr, ':');
		if (colon == NULL)
			return TA_EINVAL;
		hl = (size_t)(colon - addr);
		if (hl >= HOST_MAX)
			return TA_EINVAL;
		memcpy(host, addr, hl);
		*port = colon + 1;
	}
	host[hl] = '\0';
	return **port ? TA_OK : TA_EINVAL;
}

static int bind_listen(const char *addr, int *fd_out, unsigned *port_out)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *res = NULL, *a;
	char host[HOST_MAX];
	const char *port;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd = -1, one = 1, e;

	if (split_listen(addr, host, &port) != TA_OK)
		return TA_EINVAL;
	e = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (e != 0) {
		ta_log_err("cannot listen on %s: %s", addr, gai_strerror(e));
		return TA_EINVAL;
	}
	for (a = res; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, LISTEN_BACKLOG) == 0)
			break;
		e = errno;
		close(fd);
		fd = -1;
		errno = e;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		ta_log_err("cannot listen on %s: %s", addr, strerror(errno));
		return TA_EIO;
	}
	*port_out = 0;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		char serv[16];
		if (getnameinfo((struct sockaddr *)&ss, sl, NULL, 0, serv, sizeof(serv),
				NI_NUMERICSERV) == 0)
			*port_out = (unsigned)strtoul(serv, NULL, 10);
	}
	*fd_out = fd;
	return TA_OK;
}

int ta_server_start(const struct ta_server_config *cfg, struct ta_server **out)
{
	struct ta_server *s = ta_xcalloc(1, sizeof(*s));
	unsigned threads;
	int rc;

	*out = NULL;
	s->cfg = *cfg;
	s->fd = -1;
	rc = bind_listen(cfg->listen, &s->fd, &s->port);
	if (rc != TA_OK) {
		free(s);
		return rc;
	}
	threads = cfg->threads < 1 ? 1 : cfg->threads > MAX_THREADS ? MAX_THREADS : (unsigned)cfg->threads;
	s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC |
				    MHD_USE_ERROR_LOG,
				0, NULL, NULL, on_request, s, MHD_OPTION_LISTEN_SOCKET, s->fd,
				MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_TIMEOUT,
				(unsigned)CONN_TIMEOUT_S, MHD_OPTION_CONNECTION_LIMIT,
				(unsigned)CONN_LIMIT, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				MHD_OPTION_END);
	if (s->d == NULL) {
		ta_log_err("libmicrohttpd did not start on %s", cfg->listen);
		close(s->fd);
		free(s);
		return TA_EIO;
	}
	*out = s;
	return TA_OK;
}

unsigned ta_server_port(const struct ta_server *s)
{
	return s->port;
}

void ta_server_stop(struct ta_server *s)
{
	if (s == NULL)
		return;
	/* Stop accepting first; libmicrohttpd then waits for its threads,
	 * and with them for the requests they are running. */
	MHD_socket fd = MHD_quiesce_daemon(s->d);

	MHD_stop_daemon(s->d);
	/* After quiescing, the listening socket is ours again to close. */
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	free(s);
}
