/* server.h: the libmicrohttpd glue of the tasks API. A pool of worker
 * threads reads each request (body capped at TA_BODY_MAX, checked before
 * anything is buffered), calls one handler, and sends JSON answers. */
#ifndef TA_SERVER_H
#define TA_SERVER_H

#include "util.h"

#include <jansson.h>
#include <stdbool.h>

struct MHD_Connection;

/* One request, valid for the duration of the handler call. */
struct ta_req {
	struct MHD_Connection *conn;
	const char *method;  /* borrowed from libmicrohttpd */
	const char *path;    /* the decoded path, without the query */
	char *body;          /* the body, NUL-terminated (owned by the server) */
	size_t body_len;
	bool body_too_big;   /* more than TA_BODY_MAX bytes arrived (body is empty) */
	int status;          /* the status answered, 0 before */
};

/* A header of the request, or NULL; *dup is set when it came more than
 * once (an ambiguous request). Borrowed for the request. */
const char *ta_req_header(struct ta_req *r, const char *name, bool *dup);
/* The Cookie header; several are joined with "; " as RFC 6265 §5.4 says
 * user agents send one. Borrowed for the request, NULL if none. */
const char *ta_req_cookie(struct ta_req *r);

/* Reads the query string: values[i] receives the value of names[i] (NULL
 * when absent; "" for "?name"). TA_EINVAL with a message in err for an
 * unknown or repeated parameter. Values are borrowed for the request. */
int ta_req_query(struct ta_req *r, const char *const *names, size_t n, const char **values,
		 char *err, size_t errlen);

/* Receives one name=value pair (value len bytes, NUL-terminated, may hold
 * NUL bytes); anything but TA_OK stops the walk and is returned. */
typedef int (*ta_arg_fn)(void *ctx, const char *name, const char *value, size_t len);
/* Every query parameter, in order, repeated ones included. */
int ta_req_args(struct ta_req *r, ta_arg_fn fn, void *ctx);
/* Every field of a multipart/form-data body (parts that carry a file
 * are skipped). TA_EINVAL when the body is not well-formed multipart;
 * else TA_OK or what fn returned. */
int ta_req_multipart(struct ta_req *r, ta_arg_fn fn, void *ctx);

/* Answers. Each queues exactly one response; later calls are ignored. */
void ta_resp_json(struct ta_req *r, int status, const json_t *body);
/* The same with one extra header (e.g. Location). */
void ta_resp_json_header(struct ta_req *r, int status, const json_t *body, const char *hname,
			 const char *hvalue);
void ta_resp_empty(struct ta_req *r, int status);
/* {error, error_description}, with an optional extra header (name NULL:
 * none), e.g. WWW-Authenticate or Allow. */
void ta_resp_error(struct ta_req *r, int status, const char *error, const char *desc,
		   const char *hname, const char *hvalue);

typedef void (*ta_handler_fn)(void *ctx, struct ta_req *r);

struct ta_server_config {
	const char *listen;    /* "HOST:PORT", "[V6]:PORT" or ":PORT" */
	int threads;           /* worker threads */
	ta_handler_fn handler;
	void *ctx;             /* passed to handler */
};

struct ta_server;

/* Binds and starts serving. TA_OK with *out; TA_EINVAL for a bad address,
 * TA_EIO when it cannot listen (the reason is logged). */
int ta_server_start(const struct ta_server_config *cfg, struct ta_server **out);
/* The bound port (useful with port 0). */
unsigned ta_server_port(const struct ta_server *s);
/* Stops accepting, finishes the requests in progress, frees s. */
void ta_server_stop(struct ta_server *s);

#endif
