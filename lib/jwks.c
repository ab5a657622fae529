/* jwks.c: the tenant's signing keys (RFC 7517 §5), fetched from the
 * jwks_uri of discovery and cached. The set is refetched when older than
 * jwks_max_age_s; an unknown kid refetches it at most once per
 * jwks_min_refresh_s, so a flood of made-up kids costs Tessera nothing;
 * while Tessera cannot be reached the last set stays in use for up to
 * another jwks_max_age_s. Every key carries its one algorithm (the JWK's
 * "alg"): verification never takes it from the token. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static void keys_free(struct ts_lib_keys *ks)
{
	size_t i;

	for (i = 0; i < ks->n; i++)
		ts_jwk_free(ks->k[i]);
	free(ks->k);
	free(ks);
}

struct ts_lib_keys *ts_lib_keys_ref(struct ts_lib_keys *ks)
{
	if (ks != NULL)
		atomic_fetch_add(&ks->refs, 1);
	return ks;
}

void ts_lib_keys_unref(struct ts_lib_keys *ks)
{
	if (ks != NULL && atomic_fetch_sub(&ks->refs, 1) == 1)
		keys_free(ks);
}

const struct ts_jwk *ts_lib_keys_find(const struct ts_lib_keys *ks, const char *kid)
{
	size_t i;

	if (ks == NULL || kid == NULL)
		return NULL;
	for (i = 0; i < ks->n; i++)
		if (strcmp(ts_jwk_kid(ks->k[i]), kid) == 0)
			return ks->k[i];
	return NULL;
}

int ts_lib_keys_parse(const char *text, size_t len, struct ts_lib_keys **out)
{
	json_t *doc = ts_lib_json_object(text, len);
	const json_t *arr = json_object_get(doc, "keys");
	struct ts_lib_keys *ks = NULL;
	size_t i;
	int rc = TS_EINVAL;

	*out = NULL;
	if (!json_is_array(arr))
		goto out;
	rc = TS_ENOMEM;
	ks = ts_calloc(1, sizeof(*ks));
	if (ks == NULL)
		goto out;
	atomic_init(&ks->refs, 1);
	ks->k = ts_calloc(TS_LIB_JWKS_KEYS_MAX, sizeof(*ks->k));
	if (ks->k == NULL)
		goto out;
	for (i = 0; i < json_array_size(arr) && ks->n < TS_LIB_JWKS_KEYS_MAX; i++) {
		struct ts_jwk *k = NULL;
		/* The key's own "alg" decides; a key without one is unusable
		 * (RFC 8725 §3.1: never guess the algorithm). */
		rc = ts_jwk_from_json(json_array_get(arr, i), TS_ALG_NONE, &k);
		if (rc == TS_ENOMEM)
			goto out; /* not a bad key: the set would silently lack it */
		if (rc != TS_OK)
			continue;
		/* A repeated kid would make the choice of key ambiguous. */
		if (ts_lib_keys_find(ks, ts_jwk_kid(k)) != NULL) {
			ts_jwk_free(k);
			continue;
		}
		ks->k[ks->n++] = k;
	}
	*out = ks;
	ks = NULL;
	rc = TS_OK;
out:
	ts_lib_keys_unref(ks);
	json_decref(doc);
	return rc;
}

static int keys_fetch(const char *uri, long timeout_ms, struct ts_lib_keys **out)
{
	struct ts_buf body;
	long status = 0;
	int rc;

	rc = ts_lib_http(uri, NULL, 0, NULL, NULL, timeout_ms, &status, &body);
	if (rc == TS_OK && status != 200) {
		ts_log_warn("JWKS at %s answered %ld", uri, status);
		rc = TS_EIO;
	}
	if (rc == TS_OK)
		rc = ts_lib_keys_parse(body.p, body.len, out);
	if (rc != TS_OK && rc != TS_ENOMEM)
		rc = TS_EIO;
	ts_buf_clear(&body);
	return rc;
}

/* A consistent view of the cached set. */
struct view {
	struct ts_lib_keys *ks; /* a reference, or NULL */
	int64_t age;            /* ms since it was fetched */
	uint64_t gen;
	bool may_refetch;       /* an unknown kid may refetch now */
	bool pinned;
};

static void view_get(struct tessera_verifier *v, int64_t now, struct view *w)
{
	pthread_mutex_lock(&v->lock);
	w->ks = ts_lib_keys_ref(v->keys);
	w->age = now - v->keys_at;
	w->gen = v->keys_gen;
	w->may_refetch = v->keys_tried_at == 0 || now - v->keys_tried_at >= v->min_refresh_ms;
	w->pinned = v->keys_pinned;
	pthread_mutex_unlock(&v->lock);
}

static void fetch_failed(struct tessera_verifier *v)
{
	pthread_mutex_lock(&v->lock);
	v->keys_failed_at = v->mono_ms();
	pthread_mutex_unlock(&v->lock);
}

/* Fetches the set unless another thread did since generation seen.
 * TS_OK when a set newer than seen is installed, TS_ENOMEM when memory ran
 * out on the way, TS_EIO otherwise. When
 * another thread is fetching, waits for it, or (wait false) returns
 * TS_ECONFLICT at once. */
static int refresh(struct tessera_verifier *v, uint64_t seen, bool wait)
{
	struct ts_lib_meta *m = NULL;
	struct ts_lib_keys *ks = NULL, *old = NULL;
	int64_t now;
	int rc;

	if (!wait) {
		if (pthread_mutex_trylock(&v->fetch_lock) != 0)
			return TS_ECONFLICT;
	} else {
		pthread_mutex_lock(&v->fetch_lock);
	}
	pthread_mutex_lock(&v->lock);
	now = v->mono_ms();
	if (v->keys_gen != seen) {
		pthread_mutex_unlock(&v->lock);
		pthread_mutex_unlock(&v->fetch_lock);
		return TS_OK;
	}
	if (v->keys_failed_at != 0 && now - v->keys_failed_at < TS_LIB_RETRY_MS) {
		pthread_mutex_unlock(&v->lock);
		pthread_mutex_unlock(&v->fetch_lock);
		return TS_EIO;
	}
	v->keys_tried_at = now;
	pthread_mutex_unlock(&v->lock);

	rc = ts_lib_verifier_meta(v, &m);
	if (rc == TS_OK)
		rc = keys_fetch(m->jwks_uri, v->timeout_ms, &ks);
	ts_lib_meta_unref(m);
	if (rc != TS_OK) {
		fetch_failed(v);
		pthread_mutex_unlock(&v->fetch_lock);
		return rc == TS_ENOMEM ? rc : TS_EIO;
	}
	pthread_mutex_lock(&v->lock);
	old = v->keys;
	v->keys = ks;
	v->keys_at = v->mono_ms();
	v->keys_failed_at = 0;
	v->keys_gen++;
	pthread_mutex_unlock(&v->lock);
	pthread_mutex_unlock(&v->fetch_lock);
	ts_lib_keys_unref(old);
	return TS_OK;
}

/* Looks kid up in w's set; on success moves the reference to *ks. */
static int found(struct view *w, const char *kid, struct ts_lib_keys **ks,
		 const struct ts_jwk **key)
{
	*key = ts_lib_keys_find(w->ks, kid);
	if (*key == NULL)
		return TS_ENOTFOUND;
	*ks = w->ks;
	w->ks = NULL;
	return TS_OK;
}

int ts_lib_verifier_key(struct tessera_verifier *v, const char *kid, struct ts_lib_keys **ks,
			const struct ts_jwk **key)
{
	struct view w;
	bool old;
	int rc;

	*ks = NULL;
	*key = NULL;
	view_get(v, v->mono_ms(), &w);
	if (w.ks != NULL && (w.pinned || w.age <= v->max_age_ms)) {
		rc = found(&w, kid, ks, key);
		/* RFC 7517 §5: a kid we do not know may be a key published since
		 * we fetched; refetch, but not more than once per interval. */
		if (rc == TS_OK || w.pinned || !w.may_refetch)
			goto out;
	}
	/* A set that is merely due for a refresh still serves while another
	 * thread refreshes it: only one waits on Tessera. */
	old = w.ks != NULL && w.age > v->max_age_ms && w.age <= 2 * v->max_age_ms;
	rc = refresh(v, w.gen, !old);
	if (rc == TS_ENOMEM)
		goto out;
	if (rc == TS_OK) {
		ts_lib_keys_unref(w.ks);
		view_get(v, v->mono_ms(), &w);
		rc = found(&w, kid, ks, key);
		goto out;
	}
	/* Tessera is unreachable: a set not too far past its age still
	 * serves the kids it knows. */
	if (w.ks != NULL && w.age <= 2 * v->max_age_ms) {
		rc = found(&w, kid, ks, key);
		if (rc == TS_OK)
			goto out;
	}
	rc = TS_EIO;
out:
	ts_lib_keys_unref(w.ks);
	return rc;
}
