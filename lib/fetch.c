/* fetch.c: the HTTP requests libtessera makes to Tessera (discovery, JWKS,
 * introspection, token), through libcurl with one easy handle per request.
 * Only http and https, no redirects, a timeout and a cap on the body;
 * client_secret_basic per RFC 6749 §2.3.1 (form-encoded id and secret). */
#include "internal.h"

#include "wire/wire.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

#define BASIC_MAX 4096 /* bytes of the Authorization header we build */
#define BASIC_PREFIX "Authorization: Basic "

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init(void)
{
	/* curl_global_init is not thread-safe on older libcurl, and the
	 * application may not call it: do it exactly once, and never clean up,
	 * since the application may use libcurl too. */
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

bool ts_lib_url_ok(const char *url)
{
	size_t i, n;

	if (url == NULL)
		return false;
	n = strlen(url);
	if (n > TS_LIB_URL_MAX)
		return false;
	if (!(n > 7 && strncasecmp(url, "http://", 7) == 0) &&
	    !(n > 8 && strncasecmp(url, "https://", 8) == 0))
		return false;
	for (i = 0; i < n; i++) {
		if (!ts_is_vchar((unsigned char)url[i]))
			return false;
	}
	return true;
}

int ts_lib_form_escape(struct ts_buf *b, const char *s)
{
	return ts_wire_urlencode(b, s);
}

json_t *ts_lib_json_object(const char *p, size_t len)
{
	json_t *o;

	if (p == NULL)
		return NULL;
	o = json_loadb(p, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

struct sink {
	struct ts_buf *body;
	int rc; /* TS_ETOOBIG or TS_ENOMEM once an append failed */
};

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
	struct sink *s = ctx;
	int rc = ts_buf_append(s->body, p, size * n);

	if (rc != TS_OK) {
		/* Returning less than was given makes libcurl stop the transfer. */
		s->rc = rc;
		return 0;
	}
	return size * n;
}

/* "Authorization: Basic base64(form(user) ':' form(pass))". */
static int basic_header(const char *user, const char *pass, struct curl_slist **hdrs)
{
	struct curl_slist *added;
	struct ts_buf pair;
	char out[BASIC_MAX];
	size_t n;
	int rc;

	ts_buf_init(&pair, BASIC_MAX / 2);
	rc = ts_lib_form_escape(&pair, user);
	if (rc == TS_OK)
		rc = ts_buf_append(&pair, ":", 1);
	if (rc == TS_OK)
		rc = ts_lib_form_escape(&pair, pass);
	if (rc != TS_OK)
		goto out;
	memcpy(out, BASIC_PREFIX, sizeof(BASIC_PREFIX) - 1);
	n = ts_b64_encode(pair.p, pair.len, out + sizeof(BASIC_PREFIX) - 1,
			  sizeof(out) - sizeof(BASIC_PREFIX) + 1);
	if (n == 0) {
		rc = TS_ETOOBIG;
		goto out;
	}
	/* On failure curl_slist_append returns NULL and leaves the list as it
	 * was, still the caller's to free. */
	added = curl_slist_append(*hdrs, out);
	if (added != NULL)
		*hdrs = added;
	rc = added ? TS_OK : TS_ENOMEM;
out:
	OPENSSL_cleanse(out, sizeof(out));
	ts_buf_clear_secret(&pair);
	return rc;
}

/* Wipes and frees a header list that may hold a secret. */
static void headers_free(struct curl_slist *h)
{
	struct curl_slist *i;

	for (i = h; i != NULL; i = i->next)
		OPENSSL_cleanse(i->data, strlen(i->data));
	curl_slist_free_all(h);
}

static int setup(CURL *c, const char *url, long timeout_ms, struct sink *sink)
{
	int e = CURLE_OK;

	e |= (int)curl_easy_setopt(c, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85.0 */
	e |= (int)curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	e |= (int)curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	/* A redirect is never followed: the issuer's endpoints are exact. */
	e |= (int)curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	/* Signals are the application's; timeouts must not use them. */
	e |= (int)curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	e |= (int)curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	e |= (int)curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	e |= (int)curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)TS_LIB_HTTP_BODY_MAX);
	e |= (int)curl_easy_setopt(c, CURLOPT_USERAGENT, TS_LIB_USER_AGENT);
	e |= (int)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	e |= (int)curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
	return e == CURLE_OK ? TS_OK : TS_EINVAL;
}

int ts_lib_http(const char *url, const char *form, size_t len, const char *user,
		const char *pass, long timeout_ms, long *status, struct ts_buf *body)
{
	struct sink sink = {body, TS_OK};
	struct curl_slist *hdrs = NULL;
	CURL *c = NULL;
	CURLcode e;
	int rc;

	*status = 0;
	ts_buf_init(body, TS_LIB_HTTP_BODY_MAX);
	if (!ts_lib_url_ok(url))
		return TS_EINVAL;
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK)
		return TS_ENOMEM;
	c = curl_easy_init();
	if (c == NULL)
		return TS_ENOMEM;
	rc = setup(c, url, timeout_ms, &sink);
	if (rc != TS_OK)
		goto out;
	hdrs = curl_slist_append(NULL, "Accept: application/json");
	if (hdrs == NULL) {
		rc = TS_ENOMEM;
		goto out;
	}
	if (user != NULL) {
		rc = basic_header(user, pass ? pass : "", &hdrs);
		if (rc != TS_OK)
			goto out;
	}
	if (form != NULL) {
		/* POSTFIELDS does not copy: the caller's buffer (which may hold a
		 * credential) stays the only copy, and the caller wipes it. */
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	e = curl_easy_perform(c);
	if (sink.rc != TS_OK || e == CURLE_FILESIZE_EXCEEDED) {
		rc = sink.rc != TS_OK ? sink.rc : TS_ETOOBIG;
		goto out;
	}
	if (e == CURLE_OUT_OF_MEMORY) {
		rc = TS_ENOMEM;
		goto out;
	}
	if (e != CURLE_OK) {
		ts_log_warn("%s: %s", url, curl_easy_strerror(e));
		rc = TS_EIO;
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	rc = TS_OK;
out:
	if (rc != TS_OK)
		ts_buf_clear(body);
	curl_easy_cleanup(c);
	headers_free(hdrs);
	return rc;
}
