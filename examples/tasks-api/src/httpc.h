/* httpc.h: the smallest HTTP/1.1 client that GET /team needs to call
 * Tessera's identity API: plain http only (run the API next to Tessera or
 * behind a local TLS proxy), one request per connection, every byte
 * capped and every wait bounded by one deadline. */
#ifndef TA_HTTPC_H
#define TA_HTTPC_H

#include "util.h"

#define TA_HTTP_HEAD_MAX (16 * 1024) /* bytes of a response's status line and headers */
#define TA_HTTP_HOST_MAX 256
#define TA_HTTP_PORT_MAX 6

/* A response. body is owned (NUL-terminated for convenience). */
struct ta_http_resp {
	int status;
	char *body;
	size_t len;
};
void ta_http_resp_clear(struct ta_http_resp *r);

/* GETs url (http:// only) with "Authorization: Bearer bearer" when bearer
 * is not NULL, within timeout_ms in all, accepting at most max_body bytes
 * of body. TA_OK with *out filled (any status); TA_EINVAL for a URL we do
 * not handle; TA_EIO when no complete answer came; TA_ETOOBIG. */
int ta_http_get(const char *url, const char *bearer, long timeout_ms, size_t max_body,
		struct ta_http_resp *out);

/* Splits "http://host[:port]/path": host (brackets removed for IPv6) and
 * port into the buffers, *path points into url ("/" when absent). */
int ta_url_split(const char *url, char host[TA_HTTP_HOST_MAX], char port[TA_HTTP_PORT_MAX],
		 const char **path);

/* Parses the len bytes received so far. *complete is false while more
 * bytes are needed (eof: the peer has closed). TA_OK with *complete and
 * out filled (body dechunked, owned); TA_EIO for a malformed response;
 * TA_ETOOBIG for a body over max_body. */
int ta_http_parse(const char *buf, size_t len, bool eof, size_t max_body, bool *complete,
		  struct ta_http_resp *out);

#endif
