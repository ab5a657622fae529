/* http.h: the HTTP layer. libmicrohttpd glue (thread pool, keep-alive,
 * limits enforced before buffering), requests and responses with a
 * per-request arena, the form/query parser, the Authorization header parser
 * and a small pattern router. Nothing here knows about tenants or OAuth. */
#ifndef TS_HTTP_H
#define TS_HTTP_H

#include "core/core.h"

#include <jansson.h>

/* Hard caps, checked before anything is buffered. */
#define TS_HTTP_MAX_URL 8192           /* request target bytes -> 414 */
#define TS_HTTP_MAX_HEADERS_MEM 32768  /* per-connection header memory -> 431 */
#define TS_HTTP_MAX_BODY 65536         /* body bytes -> 413 */
#define TS_HTTP_MAX_PARAMS 64          /* form or query parameters -> 400 */
#define TS_HTTP_MAX_JSON_DEPTH 32      /* nesting of a JSON body -> 400 */
#define TS_HTTP_MAX_RESP_HEADERS 16
#define TS_HTTP_MAX_ROUTE_PARAMS 4
#define TS_HTTP_REQUEST_ID_MAX 64
#define TS_HTTP_MAX_CIDRS 64           /* trusted proxy ranges */
#define TS_HTTP_MAX_FORWARDED 4096     /* Forwarded / X-Forwarded-For bytes read */
#define TS_HTTP_MAX_HOPS 32            /* proxies named in one of them */

/* Connection limits (docs/BEHAVIOUR.md gives the reasoning). */
#define TS_HTTP_MAX_CONNECTIONS 10000      /* all connections of a listener */
#define TS_HTTP_MAX_CONN_PER_ADDR 256      /* concurrent connections of one peer address */
#define TS_HTTP_HEAD_DEADLINE_S 10         /* a new connection's first request head */
#define TS_HTTP_BODY_DEADLINE_S 30         /* the rest of a request, once its head is in */
#define TS_HTTP_IDLE_TIMEOUT_S 30          /* keep-alive: the next request head, whole */
#define TS_HTTP_DRAIN_MAX (1024 * 1024)    /* declared body bytes read and dropped for a 413 */
/* A chunked body past the cap is read and dropped until it ends, for at
 * most this long and this much, so that its sender sees the 413. */
#define TS_HTTP_DRAIN_MS 5000
#define TS_HTTP_DRAIN_CHUNKED_MAX (64 * 1024 * 1024)

/* One decoded name=value pair. Both are NUL-terminated arena strings that
 * never contain a NUL byte. */
struct ts_param {
	const char *name;
	const char *value;
};

/* Parses application/x-www-form-urlencoded bytes (also a URL query).
 * '+' is a space, %XX is decoded; a bad escape, a decoded NUL or more than
 * max_params pairs is TS_EINVAL / TS_ETOOBIG. Empty pairs ("a&&b") are
 * skipped. Strings are allocated in the arena. */
int ts_form_parse(struct ts_arena *a, const char *p, size_t len, size_t max_params,
		  struct ts_param **out, size_t *n);
/* Form-decodes one component p[0..len) ('+' is a space, %XX an octet) into
 * a new arena string; '&' and '=' are ordinary characters. TS_EINVAL on a
 * bad escape or a decoded NUL. */
int ts_form_decode(struct ts_arena *a, const char *p, size_t len, const char **out);
/* The value of name, or NULL. If dup is not NULL it is set when the name
 * appears more than once (RFC 6749 §3.1: such a request is refused). */
const char *ts_params_get(const struct ts_param *v, size_t n, const char *name, bool *dup);
/* Percent-encodes s for a query or form value and appends it to b: the
 * server's name for ts_wire_urlencode (wire/wire.h). */
int ts_buf_append_urlencoded(struct ts_buf *b, const char *s);

/* Parses an application/json request body of len bytes (jansson: an
 * object or an array). TS_OK with *out a new reference, TS_ETOOBIG when
 * nested deeper than TS_HTTP_MAX_JSON_DEPTH (checked before parsing),
 * TS_EINVAL when malformed or a member name repeats. */
int ts_http_json_parse(const char *p, size_t len, json_t **out);

/* A parsed Authorization header. */
enum ts_auth_scheme {
	TS_AUTH_NONE = 0, /* no header */
	TS_AUTH_BASIC,    /* user and secret set (RFC 7617, decoded per RFC 6749 §2.3.1) */
	TS_AUTH_BEARER,   /* token set (RFC 6750 §2.1) */
	TS_AUTH_TOKEN,    /* "token key:secret": user and secret set */
	TS_AUTH_OTHER,    /* an unsupported scheme */
	TS_AUTH_INVALID,  /* a supported scheme with malformed credentials */
	TS_AUTH_DPOP,     /* token set (RFC 9449 §7.1); the proof is the DPoP header */
};
struct ts_http_auth {
	enum ts_auth_scheme scheme;
	const char *user;   /* arena strings; NULL when not applicable */
	const char *secret;
	const char *token;
};
/* Parses an Authorization header value of length len (NULL: TS_AUTH_NONE).
 * Never fails: malformed input gives TS_AUTH_INVALID. Caps: 8 KiB. */
void ts_http_auth_parse(struct ts_arena *a, const char *hdr, size_t len,
			struct ts_http_auth *out);

/* An IP address in 16-byte form; IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d). */
struct ts_ip {
	unsigned char b[16];
};
#define TS_IP_TEXT_CAP 46 /* INET6_ADDRSTRLEN */
/* Parses a textual IPv4 or IPv6 address (no brackets, port or zone).
 * TS_EINVAL if it is none. */
int ts_ip_parse(const char *p, size_t len, struct ts_ip *out);
/* The address of an AF_INET or AF_INET6 sockaddr (zero for others). */
struct sockaddr;
void ts_ip_from_sockaddr(const struct sockaddr *sa, struct ts_ip *out);
bool ts_ip_is_v4(const struct ts_ip *ip);
bool ts_ip_is_loopback(const struct ts_ip *ip); /* 127.0.0.0/8 or ::1 */
/* Writes the address as text (dotted IPv4 for a mapped one) into buf of
 * capacity cap >= TS_IP_TEXT_CAP ("" if smaller). */
void ts_ip_format(const struct ts_ip *ip, char *buf, size_t cap);

/* A set of address ranges, such as the trusted proxies. */
struct ts_cidr {
	struct ts_ip net; /* host bits zero */
	unsigned bits;    /* prefix length over the 16-byte form */
};
struct ts_cidr_list {
	struct ts_cidr v[TS_HTTP_MAX_CIDRS];
	size_t n;
};
/* Parses "CIDR[,CIDR...]" (IPv4 or IPv6, "/BITS" optional: a single
 * address; spaces around items allowed). NULL or "" is the empty list.
 * TS_EINVAL for anything malformed (host bits set too), TS_ETOOBIG past
 * TS_HTTP_MAX_CIDRS. */
int ts_cidr_list_parse(const char *s, struct ts_cidr_list *out);
bool ts_cidr_list_contains(const struct ts_cidr_list *l, const struct ts_ip *ip); /* NULL: false */
/* The client address of a request from peer. Only for a peer in trusted
 * is a forwarding header read: X-Forwarded-For if present (xff, xff_len),
 * else RFC 7239 Forwarded (fwd, fwd_len) (either may be NULL). The client
 * is the rightmost address that is not itself in trusted; when every
 * address is trusted, the leftmost. On TS_OK *out is that address. A hop
 * that names no address (malformed, "unknown", obfuscated) gives TS_EINVAL,
 * and too long a header or too many hops TS_ETOOBIG; *out is then the last
 * address that a trusted proxy vouched for (at least the peer). */
int ts_client_addr(const struct ts_cidr_list *trusted, const struct ts_ip *peer,
		   const char *xff, size_t xff_len, const char *fwd, size_t fwd_len,
		   struct ts_ip *out);

/* A request header or cookie that may also arrive under another name. */
struct ts_http_alias {
	const char *name;  /* the name the application asks for */
	const char *alias; /* looked up when name is absent */
};

struct ts_http_req {
	struct ts_arena *arena;  /* owned by the request; freed at completion */
	const char *method;      /* "GET", "POST", ... */
	const char *path;        /* decoded path without query */
	const char *raw_target;  /* the request target as received */
	const char *host;        /* Host without port, lowercased; "" if absent */
	const char *content_type; /* media type only, lowercased; NULL if absent */
	const char *remote_addr; /* the client address as text (ts_client_addr) */
	const char *peer_addr;   /* the connection's own peer address as text */
	bool local;              /* the client is this machine: remote_addr is a
				  * loopback address (an untrusted peer's forwarding
				  * headers ignored) */
	char request_id[TS_HTTP_REQUEST_ID_MAX + 1];
	struct ts_param *query;  /* parsed query string */
	size_t nquery;
	struct ts_param *form;   /* parsed urlencoded body, if that was the content type */
	size_t nform;
	json_t *json;            /* parsed JSON body (object), owned by the request */
	const char *body;        /* raw body bytes (NUL-terminated), NULL if none */
	size_t body_len;
	struct ts_http_auth auth; /* parsed Authorization header */
	/* Filled by the router: the captured {placeholders} of the pattern. */
	const char *route_params[TS_HTTP_MAX_ROUTE_PARAMS];
	const char *route_name;  /* the matched route's name, for metrics */
	void *conn;              /* libmicrohttpd connection, for header lookup */
	int64_t start_us;        /* monotonic start time */
	void *app;               /* the application's per-request data, if any */
	const struct ts_http_alias *aliases; /* set by the application; NULL: none */
	size_t naliases;
	bool on_event_loop;      /* dispatched on an event loop that could hand the
				  * request to a blocking thread (see retry_blocking) */
};

/* Value of a request header (case-insensitive name), or NULL. Borrowed,
 * valid for the request's lifetime. Headers and cookies absent under their
 * name are looked up under the request's alias for it, if any. */
const char *ts_http_header(const struct ts_http_req *req, const char *name);
/* How many times the header name (case-insensitive) came, without aliases. */
size_t ts_http_header_count(const struct ts_http_req *req, const char *name);
/* Value of a cookie, or NULL. Arena string. */
const char *ts_http_cookie(const struct ts_http_req *req, const char *name);

struct ts_http_header {
	const char *name;  /* arena or static strings */
	const char *value;
};

struct ts_http_resp {
	int status;               /* 0 until set; dispatch must set it */
	const char *content_type; /* static or arena string */
	struct ts_buf body;       /* owned; handed to libmicrohttpd on send */
	struct ts_http_header headers[TS_HTTP_MAX_RESP_HEADERS];
	size_t nheaders;
	struct ts_arena *arena;   /* the request's arena, for header values */
	/* Set by a handler running with req->on_event_loop that finds it must
	 * wait for storage after all: nothing is sent, and the request is
	 * dispatched again on a blocking thread. The handler must have done
	 * nothing that cannot be done twice. */
	bool retry_blocking;
};

/* Adds a response header; the value is copied into the arena. Extra
 * headers past TS_HTTP_MAX_RESP_HEADERS are dropped with an error log. */
void ts_http_resp_header(struct ts_http_resp *r, const char *name, const char *value);
/* Sets status, Content-Type application/json and the body to obj's
 * compact encoding. obj is borrowed (not decref'd). */
void ts_http_resp_json(struct ts_http_resp *r, int status, const json_t *obj);
/* Sets a body from text with the given content type. */
void ts_http_resp_text(struct ts_http_resp *r, int status, const char *content_type,
		       const char *text, size_t len);
/* A JSON error body {"error": code, "error_description": desc} (desc may be
 * NULL). Used for RFC 6749 §5.2 errors and every other API error. */
void ts_http_resp_error(struct ts_http_resp *r, int status, const char *code,
			const char *desc);

/* The application's entry point: called once per request after the body has
 * been read, parsed and checked against the limits. */
typedef void (*ts_http_dispatch_fn)(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
/* Called after the response has been sent (or the connection dropped), with
 * the final status (0 if none was sent) and duration. */
typedef void (*ts_http_done_fn)(void *ctx, const struct ts_http_req *req, int status,
				int64_t duration_us);

/* Called on the event-loop thread once the body is parsed: true if the
 * request may block (storage writes, password hashing, outbound HTTP) and
 * should be dispatched on a blocking thread. Must itself be cheap and must
 * not block. */
typedef bool (*ts_http_blocking_fn)(void *ctx, const struct ts_http_req *req);

struct ts_http_config {
	const char *listen;        /* "HOST:PORT" or "[V6]:PORT"; port 0 picks one */
	unsigned threads;          /* event-loop threads; 0 picks one per core */
	ts_http_blocking_fn blocking; /* NULL: every request is dispatched inline */
	unsigned blocking_threads; /* 0 picks 16 */
	unsigned conn_timeout_s;   /* idle keep-alive timeout */
	const struct ts_cidr_list *trusted; /* trusted proxies (NULL: none); borrowed
					     * for the server's lifetime */
	unsigned max_connections;   /* 0: TS_HTTP_MAX_CONNECTIONS */
	unsigned max_conn_per_addr; /* 0: TS_HTTP_MAX_CONN_PER_ADDR */
	ts_http_dispatch_fn dispatch;
	ts_http_done_fn done;
	void *ctx;
};

struct ts_http_server;
/* Starts listening and serving. On TS_OK *out is owned by the caller
 * (ts_http_server_stop). TS_EINVAL for a bad address, TS_EIO if it cannot
 * listen. */
int ts_http_server_start(const struct ts_http_config *cfg, struct ts_http_server **out);
/* The port actually bound (useful with port 0). */
unsigned ts_http_server_port(const struct ts_http_server *s);
/* Stops accepting, lets in-flight requests finish (up to grace_ms), then
 * closes every connection and frees the server. NULL is a no-op. */
void ts_http_server_stop(struct ts_http_server *s, int grace_ms);

/* Route table: patterns are literal segments and "{name}" placeholders that
 * match one non-empty segment. */
typedef void (*ts_route_fn)(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp);
struct ts_route {
	const char *method;  /* "GET", "POST", ...; "*" for any */
	const char *pattern; /* e.g. "/api/groups/{id}/members" */
	ts_route_fn fn;
	const char *name;    /* stable label for metrics, e.g. "token" */
};
/* Finds the route for (method, path). TS_OK: *out set and the placeholders
 * stored in req->route_params. TS_ENOTFOUND: no pattern matches (404).
 * TS_EINVAL: a pattern matches but not the method (405); *allow then names
 * the allowed methods as "GET, POST" (arena string). */
int ts_router_match(const struct ts_route *routes, size_t n, struct ts_http_req *req,
		    const char *path, const struct ts_route **out, const char **allow);

#endif
