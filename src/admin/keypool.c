/* keypool.c: RSA signing keys generated ahead of need, on one thread per
 * CPU, for a command that is about to create many tenants that need them
 * (tessera bootstrap): RSA key generation costs tens to hundreds of
 * milliseconds a key, which this spreads over the cores and keeps out of
 * the write transactions. */
#include "admin.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#define POOL_THREADS_MAX 8

struct fill {
	struct ts_keypool *p;
	pthread_mutex_t mu;
	size_t want; /* keys still to make */
	int rc;      /* the first failure, or TS_OK */
};

static void *fill_worker(void *arg)
{
	struct fill *f = arg;

	for (;;) {
		struct ts_jwk *k = NULL;
		int rc;

		pthread_mutex_lock(&f->mu);
		if (f->want == 0 || f->rc != TS_OK) {
			pthread_mutex_unlock(&f->mu);
			return NULL;
		}
		f->want--;
		pthread_mutex_unlock(&f->mu);
		rc = ts_jwk_generate(TS_ALG_RS256, &k);
		pthread_mutex_lock(&f->mu);
		if (rc == TS_OK)
			f->p->keys[f->p->n++] = k;
		else if (f->rc == TS_OK)
			f->rc = rc;
		pthread_mutex_unlock(&f->mu);
	}
}

int ts_keypool_fill(struct ts_keypool *p, size_t want)
{
	struct fill f = {.p = p, .rc = TS_OK};
	pthread_t th[POOL_THREADS_MAX];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nth = 0, i, max;

	if (p->n >= want)
		return TS_OK;
	f.want = want - p->n;
	if (p->cap < want) {
		p->keys = ts_xrealloc(p->keys, want * sizeof(*p->keys));
		p->cap = want;
	}
	pthread_mutex_init(&f.mu, NULL);
	max = cpus > 1 ? (size_t)cpus : 1;
	if (max > POOL_THREADS_MAX)
		max = POOL_THREADS_MAX;
	/* The calling thread is one of the workers. */
	for (i = 1; i < max && i < f.want; i++)
		if (pthread_create(&th[nth], NULL, fill_worker, &f) == 0)
			nth++;
	fill_worker(&f);
	for (i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&f.mu);
	return f.rc;
}

struct ts_jwk *ts_keypool_take(struct ts_keypool *p)
{
	if (p == NULL || p->n == 0)
		return NULL;
	return p->keys[--p->n];
}

void ts_keypool_clear(struct ts_keypool *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++)
		ts_jwk_free(p->keys[i]);
	free(p->keys);
	p->keys = NULL;
	p->n = p->cap = 0;
}
