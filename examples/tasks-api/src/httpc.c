/* httpc.c: a bounded HTTP/1.1 GET over a plain TCP socket (RFC 9112):
 * non-blocking connect with a deadline, "Connection: close", and a parser
 * for Content-Length, chunked and close-delimited bodies (§6.3). */
#include "httpc.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SCHEME "http://"
#define REQ_MAX 8192
#define READ_CHUNK 4096

void ta_http_resp_clear(struct ta_http_resp *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

int ta_url_split(const char *url, char host[TA_HTTP_HOST_MAX], char port[TA_HTTP_PORT_MAX],
		 const char **path)
{
	const char *h, *end, *p;
	size_t hl;

	if (url == NULL || strncmp(url, SCHEME, strlen(SCHEME)) != 0)
		return TA_EINVAL;
	for (p = url; *p; p++) {
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return TA_EINVAL;
	}
	h = url + strlen(SCHEME);
	*path = strchr(h, '/');
	end = *path ? *path : h + strlen(h);
	if (memchr(h, '@', (size_t)(end - h)) || memchr(h, '?', (size_t)(end - h)) ||
	    memchr(h, '#', (size_t)(end - h)))
		return TA_EINVAL;
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(end - h));
		if (rb == NULL)
			return TA_EINVAL;
		hl = (size_t)(rb - h - 1);
		memcpy(host, h + 1, hl < TA_HTTP_HOST_MAX ? hl : 0);
		p = rb + 1;
	} else {
		p = memchr(h, ':', (size_t)(end - h));
		if (p == NULL)
			p = end;
		hl = (size_t)(p - h);
		memcpy(host, h, hl < TA_HTTP_HOST_MAX ? hl : 0);
	}
	if (hl == 0 || hl >= TA_HTTP_HOST_MAX)
		return TA_EINVAL;
	host[hl] = '\0';
	if (p < end && *p == ':') {
		size_t pl = (size_t)(end - p - 1), i;
		if (pl == 0 || pl >= TA_HTTP_PORT_MAX)
			return TA_EINVAL;
		for (i = 0; i < pl; i++) {
			if (p[1 + i] < '0' || p[1 + i] > '9')
				return TA_EINVAL;
		}
		memcpy(port, p + 1, pl);
		port[pl] = '\0';
	} else if (p != end) {
		return TA_EINVAL;
	} else {
		snprintf(port, TA_HTTP_PORT_MAX, "80");
	}
	if (*path == NULL)
		*path = "/";
	return TA_OK;
}

static int64_t mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Waits for events on fd until the deadline. True when they came. */
static bool wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	int64_t left;
	int r;

	for (;;) {
		left = deadline - mono_ms();
		if (left <= 0)
			return false;
		r = poll(&pfd, 1, (int)(left > 60000 ? 60000 : left));
		if (r > 0)
			return true;
		if (r < 0 && errno != EINTR)
			return false;
	}
}

static int connect_to(const char *host, const char *port, int64_t deadline)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL, *a;
	int fd = -1, err;
	socklen_t el;

	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -1;
	for (a = res; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		err = 0;
		el = sizeof(err);
		if (errno == EINPROGRESS && wait_fd(fd, POLLOUT, deadline) &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static int send_all(int fd, const char *p, size_t n, int64_t deadline)
{
	ssize_t w;

	while (n > 0) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
			return TA_EIO;
		} else if (!wait_fd(fd, POLLOUT, deadline)) {
			return TA_EIO;
		}
	}
	return TA_OK;
}

/* Reads until the response is complete, the peer closes, the cap or the
 * deadline. */
static int receive(int fd, size_t max_body, int64_t deadline, struct ta_http_resp *out)
{
	size_t cap = TA_HTTP_HEAD_MAX + max_body, len = 0;
	char *buf = ta_xmalloc(cap + 1);
	bool complete = false, eof = false;
	int rc = TA_EIO;
	ssize_t r;

	while (!complete) {
		if (len == cap) {
			rc = TA_ETOOBIG;
			break;
		}
		r = recv(fd, buf + len, cap - len < READ_CHUNK ? cap - len : READ_CHUNK, 0);
		if (r > 0) {
			len += (size_t)r;
		} else if (r == 0) {
			eof = true;
		} else if ((errno == EAGAIN || errno == EINTR) && wait_fd(fd, POLLIN, deadline)) {
			continue;
		} else {
			rc = TA_EIO;
			break;
		}
		rc = ta_http_parse(buf, len, eof, max_body, &complete, out);
		if (rc != TA_OK || (!complete && eof)) {
			rc = rc == TA_OK ? TA_EIO : rc;
			break;
		}
	}
	free(buf);
	return rc;
}

int ta_http_get(const char *url, const char *bearer, long timeout_ms, size_t max_body,
		struct ta_http_resp *out)
{
	char host[TA_HTTP_HOST_MAX], port[TA_HTTP_PORT_MAX], req[REQ_MAX];
	int64_t deadline = mono_ms() + timeout_ms;
	const char *path;
	int fd = -1, n, rc;

	memset(out, 0, sizeof(*out));
	rc = ta_url_split(url, host, port, &path);
	if (rc != TA_OK)
		return rc;
	if (bearer && strpbrk(bearer, "\r\n"))
		return TA_EINVAL;
	n = snprintf(req, sizeof(req),
		     "GET %s HTTP/1.1\r\nHost: %s%s%s%s%s\r\n%s%s%sAccept: application/json\r\n"
		     "User-Agent: tasks-api\r\nConnection: close\r\n\r\n",
		     path, strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "",
		     strcmp(port, "80") ? ":" : "", strcmp(port, "80") ? port : "",
		     bearer ? "Authorization: Bearer " : "", bearer ? bearer : "", bearer ? "\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(req))
		return TA_EINVAL;
	fd = connect_to(host, port, deadline);
	if (fd < 0)
		return TA_EIO;
	rc = send_all(fd, req, (size_t)n, deadline);
	if (rc == TA_OK)
		rc = receive(fd, max_body, deadline, out);
	/* The request carried a bearer token: wipe our copy. */
	memset(req, 0, sizeof(req));
	close(fd);
	if (rc != TA_OK)
		ta_http_resp_clear(out);
	return rc;
}

/* ---- response parsing ---- */

static const char *find(const char *p, size_t n, const char *needle)
{
	size_t nl = strlen(needle), i;

	for (i = 0; i + nl <= n; i++) {
		if (memcmp(p + i, needle, nl) == 0)
			return p + i;
	}
	return NULL;
}

/* Parses a decimal (cl) or hexadecimal (chunk size) number of n bytes. */
static bool number(const char *p, size_t n, int base, size_t limit, size_t *out)
{
	size_t v = 0, i, d;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		char c = p[i];
		if (c >= '0' && c <= '9')
			d = (size_t)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (size_t)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (size_t)(c - 'A' + 10);
		else
			return false;
		v = v * (size_t)base + d;
		if (v > limit)
			return false;
	}
	*out = v;
	return true;
}

/* What the header section says about the body. */
struct framing {
	int status;
	bool chunked;
	bool has_length;
	size_t length;
};

static int parse_head(const char *p, size_t n, size_t max_body, struct framing *f)
{
	const char *eol = find(p, n, "\r\n"), *line, *colon, *v;
	size_t vl;

	memset(f, 0, sizeof(*f));
	if (eol == NULL)
		eol = p + n;
	/* RFC 9112 §4: HTTP-version SP 3DIGIT SP [reason]; a missing final
	 * SP is tolerated. */
	if (eol - p < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ' ||
	    (eol - p > 12 && p[12] != ' ') || p[9] < '1' || p[9] > '5' || p[10] < '0' ||
	    p[10] > '9' || p[11] < '0' || p[11] > '9')
		return TA_EIO;
	f->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	for (line = eol + 2; line < p + n; line = eol + 2) {
		eol = find(line, (size_t)(p + n - line), "\r\n");
		if (eol == NULL)
			eol = p + n;
		colon = memchr(line, ':', (size_t)(eol - line));
		if (colon == NULL)
			return TA_EIO;
		for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		vl = (size_t)(eol - v);
		while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
			vl--;
		if ((size_t)(colon - line) == 17 && strncasecmp(line, "transfer-encoding", 17) == 0) {
			if (vl < 7 || strncasecmp(v + vl - 7, "chunked", 7) != 0)
				return TA_EIO; /* §6.3: only chunked is understood */
			f->chunked = true;
		} else if ((size_t)(colon - line) == 14 &&
			   strncasecmp(line, "content-length", 14) == 0) {
			size_t l;
			if (!number(v, vl, 10, max_body, &l)) {
				/* Either not a number, or more than we accept. */
				return number(v, vl, 10, (size_t)-1 / 16, &l) ? TA_ETOOBIG : TA_EIO;
			}
			if (f->has_length && l != f->length)
				return TA_EIO;
			f->has_length = true;
			f->length = l;
		}
	}
	/* §6.3: with both, Transfer-Encoding wins; a sender that does this
	 * may be smuggling, and we only talk to Tessera, so refuse it. */
	if (f->chunked && f->has_length)
		return TA_EIO;
	return TA_OK;
}

/* Dechunks body (n bytes). TA_OK with *complete; out->body filled when
 * complete. */
static int dechunk(const char *p, size_t n, size_t max_body, bool *complete,
		   struct ta_http_resp *out)
{
	char *dst = ta_xmalloc(n + 1);
	size_t pos = 0, len = 0, size;
	const char *eol, *semi;

	*complete = false;
	for (;;) {
		eol = find(p + pos, n - pos, "\r\n");
		if (eol == NULL)
			goto more;
		semi = memchr(p + pos, ';', (size_t)(eol - (p + pos)));
		if (!number(p + pos, (size_t)((semi ? semi : eol) - (p + pos)), 16, max_body, &size)) {
			free(dst);
			return TA_EIO;
		}
		pos = (size_t)(eol - p) + 2;
		if (size == 0)
			break;
		if (len + size > max_body) {
			free(dst);
			return TA_ETOOBIG;
		}
		if (n - pos < size + 2)
			goto more;
		if (memcmp(p + pos + size, "\r\n", 2) != 0) {
			free(dst);
			return TA_EIO;
		}
		memcpy(dst + len, p + pos, size);
		len += size;
		pos += size + 2;
	}
	/* Trailer fields, then the empty line (RFC 9112 §7.1). */
	for (;;) {
		eol = find(p + pos, n - pos, "\r\n");
		if (eol == NULL)
			goto more;
		if (eol == p + pos)
			break;
		pos = (size_t)(eol - p) + 2;
	}
	dst[len] = '\0';
	out->body = dst;
	out->len = len;
	*complete = true;
	return TA_OK;
more:
	free(dst);
	return TA_OK;
}

int ta_http_parse(const char *buf, size_t len, bool eof, size_t max_body, bool *complete,
		  struct ta_http_resp *out)
{
	const char *end = find(buf, len, "\r\n\r\n"), *body;
	struct framing f;
	size_t avail;
	int rc;

	*complete = false;
	memset(out, 0, sizeof(*out));
	if (end == NULL)
		return len > TA_HTTP_HEAD_MAX ? TA_EIO : TA_OK;
	if ((size_t)(end - buf) > TA_HTTP_HEAD_MAX)
		return TA_EIO;
	rc = parse_head(buf, (size_t)(end - buf), max_body, &f);
	if (rc != TA_OK)
		return rc;
	body = end + 4;
	avail = len - (size_t)(body - buf);
	out->status = f.status;
	/* RFC 9112 §6.3: 1xx, 204 and 304 answers have no body. */
	if (f.status < 200 || f.status == 204 || f.status == 304) {
		out->body = ta_xstrdup("");
		*complete = true;
		return TA_OK;
	}
	if (f.chunked) {
		rc = dechunk(body, avail, max_body, complete, out);
		if (rc != TA_OK || !*complete)
			out->status = 0;
		return rc;
	}
	if (f.has_length) {
		if (avail < f.length) {
			out->status = 0;
			return TA_OK;
		}
		avail = f.length;
	} else if (!eof) {
		out->status = 0;
		return avail > max_body ? TA_ETOOBIG : TA_OK;
	}
	if (avail > max_body)
		return TA_ETOOBIG;
	out->body = ta_xstrndup(body, avail);
	out->len = avail;
	*complete = true;
	return TA_OK;
}
