/* test_http_server.c: the HTTP server with its blocking pool, over real
 * sockets: a blocking request runs off the event loop (which keeps serving
 * others meanwhile), every deferred request gets its own answer, a
 * request its handler hands on from the event loop is answered once, from
 * a blocking thread, and shutdown answers what is still waiting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "http/http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define SLOW_MAX 32

/* What the dispatch callback shares with the test. */
struct fixture {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool release;        /* slow requests may answer */
	int waiting;         /* slow requests inside dispatch */
	int classified;      /* slow requests read whole and handed to the pool */
	pthread_t loop_thread; /* the thread that ran the last /fast request */
	bool slow_on_loop;   /* a /slow request ran on that same thread */
	int retried;         /* /retry requests handed on by their handler */
	int retry_answered;  /* /retry requests answered */
	bool retry_on_loop;  /* a /retry request was answered on an event loop */
	struct ts_http_server *srv;
};

static bool is_slow(void *ctx, const struct ts_http_req *req)
{
	struct fixture *f = ctx;

	if (strncmp(req->path, "/slow", 5) != 0)
		return false;
	pthread_mutex_lock(&f->mu);
	f->classified++;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	return true;
}

static void dispatch(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct fixture *f = ctx;
	char body[128];

	if (strncmp(req->path, "/retry", 6) == 0) {
		pthread_mutex_lock(&f->mu);
		if (req->on_event_loop) {
			f->retried++;
			pthread_mutex_unlock(&f->mu);
			/* Half an answer that must not be sent. */
			ts_http_resp_text(resp, 0, "text/plain", "partial", 7);
			resp->retry_blocking = true;
			return;
		}
		f->retry_answered++;
		if (pthread_equal(pthread_self(), f->loop_thread))
			f->retry_on_loop = true;
		pthread_mutex_unlock(&f->mu);
	} else if (strncmp(req->path, "/slow", 5) == 0) {
		pthread_mutex_lock(&f->mu);
		if (pthread_equal(pthread_self(), f->loop_thread))
			f->slow_on_loop = true;
		f->waiting++;
		pthread_cond_broadcast(&f->cv);
		while (!f->release)
			pthread_cond_wait(&f->cv, &f->mu);
		f->waiting--;
		pthread_mutex_unlock(&f->mu);
	} else {
		pthread_mutex_lock(&f->mu);
		f->loop_thread = pthread_self();
		pthread_mutex_unlock(&f->mu);
	}
	/* The answer names the request, so that a mixed-up response shows. */
	snprintf(body, sizeof(body), "{\"path\":\"%s\"}", req->path);
	ts_http_resp_text(resp, 200, "application/json", body, strlen(body));
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct ts_http_config cfg;

	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	memset(&cfg, 0, sizeof(cfg));
	cfg.listen = "127.0.0.1:0";
	cfg.threads = 1;
	cfg.dispatch = dispatch;
	cfg.blocking = is_slow;
	cfg.blocking_threads = 4;
	cfg.ctx = f;
	if (ts_http_server_start(&cfg, &f->srv) != TS_OK)
		return -1;
	*state = f;
	return 0;
}

static void release_all(struct fixture *f)
{
	pthread_mutex_lock(&f->mu);
	f->release = true;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	release_all(f);
	ts_http_server_stop(f->srv, 2000);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	free(f);
	return 0;
}

/* Opens a connection and sends "GET path" (the server closes after it). */
static int send_get(unsigned port, const char *path)
{
	struct sockaddr_in a;
	struct timeval tv = {10, 0};
	char req[256];
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int n;

	assert_true(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
	assert_int_equal(write(fd, req, (size_t)n), n);
	return fd;
}

/* Reads the whole answer; returns its length (0 on timeout or error). */
static size_t read_all(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	ssize_t n;

	while (len + 1 < cap && (n = read(fd, buf + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(fd);
	return len;
}

static void expect_answer(int fd, const char *path)
{
	char buf[4096], want[160];

	assert_true(read_all(fd, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "HTTP/1.1 200"));
	snprintf(want, sizeof(want), "{\"path\":\"%s\"}", path);
	assert_non_null(strstr(buf, want));
}

static void wait_for_waiting(struct fixture *f, int n)
{
	pthread_mutex_lock(&f->mu);
	while (f->waiting < n)
		pthread_cond_wait(&f->cv, &f->mu);
	pthread_mutex_unlock(&f->mu);
}

/* Waits until n slow requests have been read whole by the server: a
 * connection still in the kernel's accept queue when the listening socket
 * closes is never seen by the server at all. */
static void wait_for_classified(struct fixture *f, int n)
{
	pthread_mutex_lock(&f->mu);
	while (f->classified < n)
		pthread_cond_wait(&f->cv, &f->mu);
	pthread_mutex_unlock(&f->mu);
}

/* Four blocking threads, eight slow requests: four wait inside dispatch,
 * four in the queue, and the single event loop still answers /fast. */
static void test_blocking_requests_leave_the_loop_free(void **state)
{
	struct fixture *f = *state;
	unsigned port = ts_http_server_port(f->srv);
	int slow[8], fast, i;
	char path[32];

	fast = send_get(port, "/fast");
	expect_answer(fast, "/fast");
	for (i = 0; i < 8; i++) {
		snprintf(path, sizeof(path), "/slow/%d", i);
		slow[i] = send_get(port, path);
	}
	wait_for_waiting(f, 4);
	fast = send_get(port, "/fast/again");
	expect_answer(fast, "/fast/again");
	release_all(f);
	for (i = 0; i < 8; i++) {
		snprintf(path, sizeof(path), "/slow/%d", i);
		expect_answer(slow[i], path);
	}
	assert_false(f->slow_on_loop);
}

/* Many deferred requests at once, each answered with its own response. */
static void test_each_deferred_request_gets_its_answer(void **state)
{
	struct fixture *f = *state;
	unsigned port = ts_http_server_port(f->srv);
	int fds[SLOW_MAX], i;
	char path[32];

	release_all(f);
	for (i = 0; i < SLOW_MAX; i++) {
		snprintf(path, sizeof(path), "/slow/%d", i);
		fds[i] = send_get(port, path);
	}
	for (i = 0; i < SLOW_MAX; i++) {
		snprintf(path, sizeof(path), "/slow/%d", i);
		expect_answer(fds[i], path);
	}
}

/* A handler on the event loop that finds it must block hands its request
 * on: each is answered once, by a blocking thread, with its own answer. */
static void test_a_handler_hands_its_request_to_a_blocking_thread(void **state)
{
	struct fixture *f = *state;
	unsigned port = ts_http_server_port(f->srv);
	int fds[SLOW_MAX], i;
	char path[32];

	expect_answer(send_get(port, "/fast"), "/fast");
	for (i = 0; i < SLOW_MAX; i++) {
		snprintf(path, sizeof(path), "/retry/%d", i);
		fds[i] = send_get(port, path);
	}
	for (i = 0; i < SLOW_MAX; i++) {
		snprintf(path, sizeof(path), "/retry/%d", i);
		expect_answer(fds[i], path);
	}
	pthread_mutex_lock(&f->mu);
	assert_int_equal(f->retried, SLOW_MAX);
	assert_int_equal(f->retry_answered, SLOW_MAX);
	assert_false(f->retry_on_loop);
	pthread_mutex_unlock(&f->mu);
}

struct releaser {
	struct fixture *f;
};

static void *release_later(void *arg)
{
	struct releaser *r = arg;
	struct timespec t = {0, 200 * 1000 * 1000};

	nanosleep(&t, NULL);
	release_all(r->f);
	return NULL;
}

/* Shutdown while requests wait in dispatch and in the queue: they are
 * still answered, and the server stops cleanly (no connection is left
 * suspended). */
static void test_shutdown_answers_waiting_requests(void **state)
{
	struct fixture *f = *state;
	unsigned port = ts_http_server_port(f->srv);
	struct releaser r = {f};
	pthread_t t;
	int fds[6], i;
	char path[32];

	for (i = 0; i < 6; i++) {
		snprintf(path, sizeof(path), "/slow/%d", i);
		fds[i] = send_get(port, path);
	}
	wait_for_waiting(f, 4);
	wait_for_classified(f, 6);
	assert_int_equal(pthread_create(&t, NULL, release_later, &r), 0);
	ts_http_server_stop(f->srv, 5000);
	f->srv = NULL;
	pthread_join(t, NULL);
	for (i = 0; i < 6; i++) {
		snprintf(path, sizeof(path), "/slow/%d", i);
		expect_answer(fds[i], path);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_blocking_requests_leave_the_loop_free, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_each_deferred_request_gets_its_answer, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_handler_hands_its_request_to_a_blocking_thread,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_answers_waiting_requests, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
