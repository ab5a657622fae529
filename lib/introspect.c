/* introspect.c: asking Tessera about API keys, sessions and users' access
 * tokens through its introspection endpoint (RFC 7662 §2), authenticated
 * as the resource server's own confidential client with client_secret_basic.
 * Answers, active or not, are cached for introspection_cache_s under the
 * SHA-256 of the credential, so a burst of requests with one credential (or
 * with a wrong one) costs Tessera one request. */
#include "internal.h"

#include <openssl/crypto.h>
#include <string.h>

#define FORM_MAX (TS_LIB_AUTH_MAX * 3 + 16) /* "token=" and a %-encoded credential */

int ts_lib_cache_key(const char *kind, const char *cred, unsigned char out[TS_SHA256_LEN])
{
	struct ts_buf b;
	int rc;

	ts_buf_init(&b, FORM_MAX);
	rc = ts_buf_appends(&b, kind);
	if (rc == TS_OK)
		rc = ts_buf_append(&b, "", 1);
	if (rc == TS_OK)
		rc = ts_buf_appends(&b, cred);
	/* A failed buffer is empty: no key at all, never one that another
	 * credential could share. */
	if (rc == TS_OK)
		ts_sha256(b.p, b.len, out);
	ts_buf_clear_secret(&b);
	return rc;
}

/* One request to the endpoint. TS_OK with *out, TS_ENOMEM, TS_EIO. */
static int ask(struct tessera_verifier *v, const char *endpoint, const char *cred,
	       struct ts_lib_intro **out)
{
	struct ts_buf form, body;
	long status = 0;
	int rc;

	ts_buf_init(&form, FORM_MAX);
	rc = ts_buf_appends(&form, "token=");
	if (rc == TS_OK)
		rc = ts_lib_form_escape(&form, cred);
	if (rc != TS_OK) {
		ts_buf_clear_secret(&form);
		return rc == TS_ENOMEM ? rc : TS_EIO;
	}
	rc = ts_lib_http(endpoint, form.p, form.len, v->client_id, v->client_secret,
			 v->timeout_ms, &status, &body);
	ts_buf_clear_secret(&form);
	if (rc != TS_OK)
		return rc == TS_ENOMEM ? rc : TS_EIO;
	if (status != 200) {
		/* 401 means our own client is refused: a configuration error
		 * on this side that no request can fix; say so in the log. */
		ts_log_warn("introspection at %s answered %ld%s", endpoint, status,
			    status == 401 ? " (check client_id and client_secret)" : "");
		rc = TS_EIO;
	} else if ((rc = ts_lib_intro_parse(body.p, body.len, out)) != TS_OK && rc != TS_ENOMEM) {
		ts_log_warn("introspection at %s answered something else than RFC 7662 JSON",
			    endpoint);
		rc = TS_EIO;
	}
	ts_buf_clear_secret(&body);
	return rc;
}

int ts_lib_introspect(struct tessera_verifier *v, const char *kind, const char *cred,
		      struct ts_lib_intro **out)
{
	unsigned char key[TS_SHA256_LEN];
	struct ts_lib_meta *m = NULL;
	int rc;

	*out = NULL;
	if (v->client_id == NULL)
		return TS_EINVAL;
	rc = ts_lib_cache_key(kind, cred, key);
	if (rc != TS_OK)
		return rc == TS_ENOMEM ? rc : TS_EIO;
	rc = ts_lib_cache_get(v->cache, key, v->mono_ms(), out);
	if (rc == TS_OK || rc == TS_ENOMEM)
		return rc;
	/* Tessera just failed to answer: do not pile up requests on it. */
	pthread_mutex_lock(&v->lock);
	rc = v->intro_failed_at != 0 && v->mono_ms() - v->intro_failed_at < TS_LIB_RETRY_MS
		     ? TS_EIO
		     : TS_OK;
	pthread_mutex_unlock(&v->lock);
	if (rc == TS_OK)
		rc = ts_lib_verifier_meta(v, &m);
	if (rc != TS_OK)
		return rc == TS_ENOMEM ? rc : TS_EIO;
	if (m->introspection_endpoint == NULL) {
		ts_log_warn("discovery of %s names no introspection_endpoint", v->issuer);
		rc = TS_EIO;
	} else {
		rc = ask(v, m->introspection_endpoint, cred, out);
	}
	ts_lib_meta_unref(m);
	/* Running out of memory here says nothing about Tessera. */
	if (rc != TS_ENOMEM) {
		pthread_mutex_lock(&v->lock);
		v->intro_failed_at = rc == TS_OK ? 0 : v->mono_ms();
		pthread_mutex_unlock(&v->lock);
	}
	if (rc == TS_OK)
		ts_lib_cache_put(v->cache, key, v->mono_ms(), *out);
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}
