/* discovery.c: the issuer's metadata (OpenID Connect Discovery 1.0 §4,
 * RFC 8414 §3): jwks_uri, the introspection and token endpoints and
 * Tessera's "tessera_scope_includes". The "issuer" member must be the
 * configured issuer exactly (Discovery §4.3), so a document served for
 * another tenant or origin is never used. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static void meta_free(struct ts_lib_meta *m)
{
	free(m->jwks_uri);
	free(m->introspection_endpoint);
	free(m->token_endpoint);
	json_decref(m->scope_includes);
	free(m);
}

struct ts_lib_meta *ts_lib_meta_ref(struct ts_lib_meta *m)
{
	if (m != NULL)
		atomic_fetch_add(&m->refs, 1);
	return m;
}

void ts_lib_meta_unref(struct ts_lib_meta *m)
{
	if (m != NULL && atomic_fetch_sub(&m->refs, 1) == 1)
		meta_free(m);
}

/* An optional endpoint: absent is NULL, present must be an http(s) URL. */
static int endpoint(const json_t *doc, const char *name, char **out)
{
	const json_t *v = json_object_get(doc, name);

	*out = NULL;
	if (v == NULL)
		return TS_OK;
	if (!ts_lib_url_ok(json_string_value(v)))
		return TS_EINVAL;
	return ts_strdup_to(json_string_value(v), out);
}

int ts_lib_meta_parse(const char *issuer, const char *doc, size_t len, struct ts_lib_meta **out)
{
	json_t *o = ts_lib_json_object(doc, len), *inc;
	struct ts_lib_meta *m = NULL;
	int rc = TS_EINVAL;

	*out = NULL;
	if (o == NULL)
		goto out;
	/* Discovery §4.3: the issuer must be identical to the one we use. */
	if (!ts_str_eq(ts_str_c(json_string_value(json_object_get(o, "issuer"))), issuer)) {
		ts_log_warn("discovery names another issuer than %s", issuer);
		goto out;
	}
	rc = TS_ENOMEM;
	m = ts_calloc(1, sizeof(*m));
	if (m == NULL)
		goto out;
	atomic_init(&m->refs, 1);
	rc = endpoint(o, "jwks_uri", &m->jwks_uri);
	if (rc == TS_OK && m->jwks_uri == NULL)
		rc = TS_EINVAL;
	if (rc == TS_OK)
		rc = endpoint(o, "introspection_endpoint", &m->introspection_endpoint);
	if (rc == TS_OK)
		rc = endpoint(o, "token_endpoint", &m->token_endpoint);
	if (rc != TS_OK)
		goto out;
	inc = json_object_get(o, "tessera_scope_includes");
	if (json_is_object(inc))
		m->scope_includes = json_incref(inc);
	*out = m;
	m = NULL;
	rc = TS_OK;
out:
	if (m != NULL)
		meta_free(m);
	json_decref(o);
	return rc;
}

int ts_lib_meta_fetch(const char *issuer, long timeout_ms, struct ts_lib_meta **out)
{
	struct ts_buf url, body;
	size_t n = strlen(issuer);
	long status = 0;
	int rc;

	*out = NULL;
	/* Discovery §4.1: a trailing "/" of the issuer is removed first. */
	if (n && issuer[n - 1] == '/')
		n--;
	ts_buf_init(&url, TS_LIB_URL_MAX);
	rc = ts_buf_append(&url, issuer, n);
	if (rc == TS_OK)
		rc = ts_buf_appends(&url, TS_LIB_WELL_KNOWN);
	if (rc != TS_OK)
		return rc == TS_ENOMEM ? rc : TS_EINVAL;
	rc = ts_lib_http(url.p, NULL, 0, NULL, NULL, timeout_ms, &status, &body);
	if (rc == TS_OK && status != 200) {
		ts_log_warn("discovery at %s answered %ld", url.p, status);
		rc = TS_EIO;
	}
	if (rc == TS_OK)
		rc = ts_lib_meta_parse(issuer, body.p, body.len, out);
	else if (rc != TS_EINVAL && rc != TS_ENOMEM)
		rc = TS_EIO;
	ts_buf_clear(&url);
	ts_buf_clear(&body);
	return rc;
}

bool ts_lib_meta_includes(const struct ts_lib_meta *m, const char *granted, const char *needed)
{
	const json_t *inc;
	size_t i;

	if (granted == NULL || needed == NULL)
		return false;
	if (strcmp(granted, needed) == 0)
		return true;
	if (m == NULL)
		return false;
	/* Reading an object nobody modifies is safe from many threads. */
	inc = json_object_get(m->scope_includes, granted);
	for (i = 0; i < json_array_size(inc); i++)
		if (ts_str_eq(ts_str_c(json_string_value(json_array_get(inc, i))), needed))
			return true;
	return false;
}

/* Installs m (a new reference) as v's discovery. */
static void meta_install(struct tessera_verifier *v, struct ts_lib_meta *m, int64_t now)
{
	struct ts_lib_meta *old;

	pthread_mutex_lock(&v->lock);
	old = v->meta;
	v->meta = m;
	v->meta_at = now;
	v->meta_failed_at = 0;
	pthread_mutex_unlock(&v->lock);
	ts_lib_meta_unref(old);
}

/* The current discovery (a new reference, or NULL) and whether it should
 * be fetched again. */
static struct ts_lib_meta *meta_current(struct tessera_verifier *v, int64_t now, bool *stale,
					bool *backoff)
{
	struct ts_lib_meta *m;

	pthread_mutex_lock(&v->lock);
	m = ts_lib_meta_ref(v->meta);
	*stale = m == NULL || (now - v->meta_at > v->max_age_ms && !v->meta_pinned);
	*backoff = v->meta_failed_at != 0 && now - v->meta_failed_at < TS_LIB_RETRY_MS;
	pthread_mutex_unlock(&v->lock);
	return m;
}

int ts_lib_verifier_meta(struct tessera_verifier *v, struct ts_lib_meta **out)
{
	struct ts_lib_meta *m, *fresh = NULL;
	bool stale, backoff;
	int rc;

	*out = NULL;
	m = meta_current(v, v->mono_ms(), &stale, &backoff);
	if (!stale || (backoff && m != NULL)) {
		*out = m;
		return TS_OK;
	}
	if (backoff) {
		ts_lib_meta_unref(m);
		return TS_EIO;
	}
	/* One discovery fetch at a time; whoever waited finds it done. A
	 * thread that has a document, even an old one, does not wait. */
	if (m != NULL) {
		if (pthread_mutex_trylock(&v->meta_lock) != 0) {
			*out = m;
			return TS_OK;
		}
	} else {
		pthread_mutex_lock(&v->meta_lock);
	}
	ts_lib_meta_unref(m);
	m = meta_current(v, v->mono_ms(), &stale, &backoff);
	if (!stale || backoff) {
		pthread_mutex_unlock(&v->meta_lock);
		*out = m;
		return m ? TS_OK : TS_EIO;
	}
	rc = ts_lib_meta_fetch(v->issuer, v->timeout_ms, &fresh);
	if (rc == TS_OK) {
		meta_install(v, ts_lib_meta_ref(fresh), v->mono_ms());
		ts_lib_meta_unref(m);
		m = fresh;
	} else {
		pthread_mutex_lock(&v->lock);
		v->meta_failed_at = v->mono_ms();
		pthread_mutex_unlock(&v->lock);
	}
	pthread_mutex_unlock(&v->meta_lock);
	/* While Tessera cannot be reached, the last document still serves. */
	*out = m;
	return m ? TS_OK : rc;
}
