/* test_http_guard.c: the HTTP server's per-address connection cap over
 * real sockets (a peer at its cap is refused at once, a trusted proxy is
 * exempt, a closed connection frees its place), and the client address a
 * request is given (forwarding headers only from a trusted proxy). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "http/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define CAP 2
#define TRUSTED "127.0.0.2"
#define STRANGER "127.0.0.3"
#define MANY 6

struct fixture {
	struct ts_cidr_list trusted;
	struct ts_http_server *srv;
};

/* Answers with the addresses the request was given. */
static void dispatch(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	char body[256];

	(void)ctx;
	snprintf(body, sizeof(body), "{\"remote\":\"%s\",\"peer\":\"%s\",\"local\":%s}",
		 req->remote_addr, req->peer_addr, req->local ? "true" : "false");
	ts_http_resp_text(resp, 200, "application/json", body, strlen(body));
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct ts_http_config cfg;

	if (f == NULL || ts_cidr_list_parse(TRUSTED, &f->trusted) != TS_OK)
		return -1;
	memset(&cfg, 0, sizeof(cfg));
	cfg.listen = "127.0.0.1:0";
	/* One event loop: connections are accepted in the order they were
	 * made, so the connection past the cap is always the last one. */
	cfg.threads = 1;
	cfg.dispatch = dispatch;
	cfg.ctx = f;
	cfg.trusted = &f->trusted;
	cfg.max_conn_per_addr = CAP;
	if (ts_http_server_start(&cfg, &f->srv) != TS_OK)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ts_http_server_stop(f->srv, 2000);
	free(f);
	return 0;
}

/* A connection from source to the server, with a read timeout of ms. */
static int dial(struct fixture *f, const char *source, int ms)
{
	struct sockaddr_in a, src;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, source, &src.sin_addr), 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&src, sizeof(src)), 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)ts_http_server_port(f->srv));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* true if the server closed fd (EOF or reset) within its read timeout. */
static bool closed_by_server(int fd)
{
	char c;
	ssize_t n = read(fd, &c, 1);

	return n == 0 || (n < 0 && errno == ECONNRESET);
}

/* Sends a GET with an extra header line (or none); returns the body. */
static void get(int fd, const char *extra, char *body, size_t cap)
{
	char req[512], buf[4096];
	size_t len = 0;
	ssize_t n;
	int k = snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: x\r\n%s%sConnection: close\r\n\r\n",
			 extra ? extra : "", extra ? "\r\n" : "");
	char *b;

	assert_int_equal(write(fd, req, (size_t)k), k);
	while (len + 1 < sizeof(buf) && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	assert_non_null(strstr(buf, "HTTP/1.1 200"));
	b = strstr(buf, "\r\n\r\n");
	assert_non_null(b);
	snprintf(body, cap, "%s", b + 4);
}

static void test_a_peer_at_its_cap_is_refused(void **state)
{
	struct fixture *f = *state;
	int held[CAP], extra, again, i;
	char body[256];

	for (i = 0; i < CAP; i++)
		held[i] = dial(f, STRANGER, 300);
	usleep(200 * 1000); /* accepted and counted before the next one */
	extra = dial(f, STRANGER, 2000);
	assert_true(closed_by_server(extra));
	close(extra);
	for (i = 0; i < CAP; i++)
		assert_false(closed_by_server(held[i])); /* still open: timed out */
	/* A closed connection frees its place. */
	close(held[0]);
	usleep(200 * 1000);
	again = dial(f, STRANGER, 2000);
	get(again, NULL, body, sizeof(body));
	assert_non_null(strstr(body, "\"remote\":\"" STRANGER "\""));
	close(again);
	close(held[1]);
}

static void test_a_trusted_proxy_is_exempt(void **state)
{
	struct fixture *f = *state;
	int fds[MANY], i;
	char body[256];

	for (i = 0; i < MANY; i++)
		fds[i] = dial(f, TRUSTED, 300);
	for (i = 0; i < MANY - 1; i++)
		assert_false(closed_by_server(fds[i]));
	get(fds[MANY - 1], "X-Forwarded-For: 198.51.100.4", body, sizeof(body));
	assert_non_null(strstr(body, "\"remote\":\"198.51.100.4\""));
	assert_non_null(strstr(body, "\"peer\":\"" TRUSTED "\""));
	assert_non_null(strstr(body, "\"local\":false"));
	for (i = 0; i < MANY; i++)
		close(fds[i]);
}

static void test_forwarding_headers_only_from_a_trusted_proxy(void **state)
{
	struct fixture *f = *state;
	char body[256];
	int fd;

	fd = dial(f, STRANGER, 2000);
	get(fd, "X-Forwarded-For: 198.51.100.4", body, sizeof(body));
	assert_non_null(strstr(body, "\"remote\":\"" STRANGER "\""));
	/* An untrusted peer's forwarding header is ignored: the loopback
	 * peer is the client, and this machine. */
	assert_non_null(strstr(body, "\"local\":true"));
	close(fd);
	fd = dial(f, STRANGER, 2000);
	get(fd, NULL, body, sizeof(body));
	assert_non_null(strstr(body, "\"local\":true"));
	close(fd);
	/* Several header lines are one list: the rightmost untrusted wins. */
	fd = dial(f, TRUSTED, 2000);
	get(fd, "X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-For: 198.51.100.5, " TRUSTED, body,
	    sizeof(body));
	assert_non_null(strstr(body, "\"remote\":\"198.51.100.5\""));
	close(fd);
	fd = dial(f, TRUSTED, 2000);
	get(fd, "Forwarded: for=\"[2001:db8::9]:80\"", body, sizeof(body));
	assert_non_null(strstr(body, "\"remote\":\"2001:db8::9\""));
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_peer_at_its_cap_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_trusted_proxy_is_exempt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forwarding_headers_only_from_a_trusted_proxy,
						setup, teardown),
	};
	return cmocka_run_group_tests_name("http_guard", tests, NULL, NULL);
}
