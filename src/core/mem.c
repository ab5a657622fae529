/* mem.c: allocation, either fallible (ts_malloc and friends, for the code
 * libtessera compiles in: a library never aborts its host) or aborting with
 * a message (ts_x*, for the server alone), and small string helpers. */
#include "core.h"

#include <openssl/crypto.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
	fprintf(stderr, "{\"level\":\"fatal\",\"msg\":\"out of memory allocating %zu bytes\"}\n", n);
	abort();
}

#ifdef TS_TESTING
/* Allocations through the fallible functions below still to succeed
 * before one fails; negative: none fails. */
static _Atomic long fail_countdown = -1;
static atomic_bool fail_fired;

void ts_mem_fail_after(long n)
{
	atomic_store(&fail_fired, false);
	atomic_store(&fail_countdown, n);
}

bool ts_mem_fail_fired(void)
{
	return atomic_load(&fail_fired);
}

/* True when the test hook says this allocation fails (only that one). */
static bool injected_failure(void)
{
	long left = atomic_load(&fail_countdown);

	while (left >= 0) {
		if (atomic_compare_exchange_weak(&fail_countdown, &left, left - 1)) {
			if (left != 0)
				return false;
			atomic_store(&fail_fired, true);
			return true;
		}
	}
	return false;
}
#else
static bool injected_failure(void)
{
	return false;
}
#endif

void *ts_malloc(size_t n)
{
	if (injected_failure())
		return NULL;
	return malloc(n ? n : 1);
}

void *ts_calloc(size_t n, size_t size)
{
	if (injected_failure())
		return NULL;
	return calloc(n ? n : 1, size ? size : 1);
}

void *ts_realloc(void *p, size_t n)
{
	if (injected_failure())
		return NULL;
	return realloc(p, n ? n : 1);
}

char *ts_strndup(const char *s, size_t n)
{
	char *p = ts_malloc(n + 1);

	if (p == NULL)
		return NULL;
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

int ts_strdup_to(const char *s, char **out)
{
	*out = NULL;
	if (s == NULL)
		return TS_OK;
	*out = ts_strndup(s, strlen(s));
	return *out ? TS_OK : TS_ENOMEM;
}

void *ts_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		oom(n);
	return p;
}

void *ts_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (p == NULL)
		oom(n * size);
	return p;
}

void *ts_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (q == NULL)
		oom(n);
	return q;
}

char *ts_xstrdup(const char *s)
{
	if (s == NULL)
		return NULL;
	return ts_xstrndup(s, strlen(s));
}

char *ts_xstrndup(const char *s, size_t n)
{
	char *p = ts_xmalloc(n + 1);
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void ts_free_secret(char *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

struct ts_str ts_str_c(const char *s)
{
	struct ts_str r = {s, s ? strlen(s) : 0};
	return r;
}

bool ts_str_eq(struct ts_str a, const char *b)
{
	if (a.p == NULL || b == NULL)
		return false;
	return strlen(b) == a.len && memcmp(a.p, b, a.len) == 0;
}

const char *ts_rc_str(int rc)
{
	static const char *const names[] = {
		[TS_OK] = "ok",          [TS_ENOMEM] = "nomem",     [TS_EINVAL] = "invalid",
		[TS_ETOOBIG] = "toobig", [TS_ENOTFOUND] = "notfound", [TS_EEXIST] = "exists",
		[TS_ESTORE] = "store",   [TS_ECRYPTO] = "crypto",   [TS_EIO] = "io",
		[TS_EDENIED] = "denied", [TS_ECONFLICT] = "conflict",
	};
	if (rc < 0 || (size_t)rc >= TS_ARRAY_LEN(names) || names[rc] == NULL)
		return "unknown";
	return names[rc];
}

int ts_read_file(const char *path, size_t max, char **out, size_t *outlen)
{
	FILE *f = NULL;
	struct ts_buf b;
	char chunk[4096];
	size_t n;
	int rc = TS_OK;

	*out = NULL;
	ts_buf_init(&b, max);
	f = fopen(path, "rb");
	if (f == NULL)
		return TS_EIO;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		rc = ts_buf_append(&b, chunk, n);
		if (rc != TS_OK)
			goto out;
	}
	if (ferror(f)) {
		rc = TS_EIO;
		goto out;
	}
	if (outlen)
		*outlen = b.len;
	*out = ts_buf_take(&b);
out:
	OPENSSL_cleanse(chunk, sizeof(chunk));
	ts_buf_clear_secret(&b);
	fclose(f);
	return rc;
}
