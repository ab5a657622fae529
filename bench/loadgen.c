/* loadgen.c: a small closed-loop load generator for the refresh-token
 * grant, which wrk cannot drive: every request must carry the refresh token
 * that the previous response returned (rotation). Each thread owns one
 * grant and one keep-alive connection, and chains its refresh tokens for
 * the given duration. Prints requests per second and latency percentiles.
 *
 * usage: loadgen HOST PORT PATH CLIENT_ID SECONDS < tokens
 * (one initial refresh token per line: one thread each) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 256
#define BUF_MAX 65536
#define TOKEN_MAX 256
#define LAT_CAP 250000 /* latencies kept per thread */

struct worker {
	pthread_t thread;
	char token[TOKEN_MAX];
	long ok, failed;
	double *lat; /* milliseconds */
	long nlat;
};

static const char *host, *path, *client_id;
static int port;
static double deadline;

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int connect_to(void)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads one response; returns its status and leaves the body in buf. */
static int read_response(int fd, char *buf, size_t cap, char **body)
{
	size_t have = 0, need = 0;
	char *hdr_end = NULL;

	for (;;) {
		ssize_t r;
		if (hdr_end && have >= need)
			break;
		if (have + 1 >= cap)
			return -1;
		r = read(fd, buf + have, cap - have - 1);
		if (r <= 0)
			return -1;
		have += (size_t)r;
		buf[have] = '\0';
		if (hdr_end == NULL && (hdr_end = strstr(buf, "\r\n\r\n")) != NULL) {
			const char *cl = strcasestr(buf, "\r\nContent-Length:");
			if (cl == NULL || cl > hdr_end)
				return -1;
			need = (size_t)(hdr_end + 4 - buf) + strtoul(cl + 17, NULL, 10);
		}
	}
	*body = hdr_end + 4;
	return (int)strtol(buf + 9, NULL, 10);
}

static void *run(void *arg)
{
	struct worker *w = arg;
	char *buf = malloc(BUF_MAX), req[2048], form[1024];
	int fd = connect_to();

	while (fd >= 0 && now_s() < deadline && w->nlat < LAT_CAP) {
		char *body, *p, *e;
		double t0 = now_s();
		int n = snprintf(form, sizeof(form), "grant_type=refresh_token&client_id=%s&refresh_token=%s",
				 client_id, w->token);
		int m = snprintf(req, sizeof(req),
				 "POST %s HTTP/1.1\r\nHost: %s:%d\r\n"
				 "Content-Type: application/x-www-form-urlencoded\r\n"
				 "Content-Length: %d\r\n\r\n%s",
				 path, host, port, n, form);
		int status;

		if (send_all(fd, req, (size_t)m) != 0)
			break;
		status = read_response(fd, buf, BUF_MAX, &body);
		if (status != 200) {
			w->failed++;
			break; /* the chain is broken: this thread stops */
		}
		p = strstr(body, "\"refresh_token\":\"");
		if (p == NULL || (e = strchr(p + 17, '"')) == NULL || e - (p + 17) >= TOKEN_MAX) {
			w->failed++;
			break;
		}
		memcpy(w->token, p + 17, (size_t)(e - (p + 17)));
		w->token[e - (p + 17)] = '\0';
		w->lat[w->nlat++] = (now_s() - t0) * 1000.0;
		w->ok++;
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static struct worker workers[MAX_THREADS];
	char line[TOKEN_MAX];
	int n = 0, i;
	long ok = 0, failed = 0, total = 0, k = 0;
	double secs, start, *all;

	if (argc != 6) {
		fprintf(stderr, "usage: loadgen HOST PORT PATH CLIENT_ID SECONDS < tokens\n");
		return 2;
	}
	host = argv[1];
	port = atoi(argv[2]);
	path = argv[3];
	client_id = argv[4];
	secs = atof(argv[5]);
	while (n < MAX_THREADS && fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0')
			continue;
		memcpy(workers[n].token, line, strlen(line) + 1);
		workers[n].lat = malloc(sizeof(double) * LAT_CAP);
		n++;
	}
	if (n == 0)
		return 2;
	start = now_s();
	deadline = start + secs;
	for (i = 0; i < n; i++)
		pthread_create(&workers[i].thread, NULL, run, &workers[i]);
	for (i = 0; i < n; i++)
		pthread_join(workers[i].thread, NULL);
	secs = now_s() - start;
	for (i = 0; i < n; i++) {
		ok += workers[i].ok;
		failed += workers[i].failed;
		total += workers[i].nlat;
	}
	all = malloc(sizeof(double) * (size_t)(total ? total : 1));
	for (i = 0; i < n; i++) {
		memcpy(all + k, workers[i].lat, sizeof(double) * (size_t)workers[i].nlat);
		k += workers[i].nlat;
	}
	qsort(all, (size_t)total, sizeof(double), cmp);
	printf("connections=%d requests=%ld failed=%ld seconds=%.2f rps=%.0f p50_ms=%.2f p99_ms=%.2f\n", n,
	       ok, failed, secs, (double)ok / secs, total ? all[total / 2] : 0.0,
	       total ? all[(long)((double)total * 0.99)] : 0.0);
	return failed ? 1 : 0;
}
