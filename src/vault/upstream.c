/* upstream.c: HTTP requests to providers with libcurl: only http and
 * https, redirects never followed, connect and total timeouts, answers
 * capped before they are buffered, plain http only to loopback hosts (test
 * doubles). Bodies may hold tokens: they are wiped when cleared, and
 * nothing of a request or answer body is ever logged. */
#include "vault_int.h"
#include "ts_version.h"

#include "http/http.h"
#include "wire/ascii.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CONNECT_TIMEOUT_MS 5000
#define URL_MAX 4096
#define USER_AGENT "tessera/" TS_VERSION " (token vault)"
#define CT_MAX 128
#define BASIC_MAX 8192

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static bool curl_ready;

static void curl_init_once(void)
{
	curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
	if (!curl_ready)
		ts_log_err("libcurl could not be initialized");
}

static bool loopback_host(const char *h)
{
	/* CURLU gives IPv6 literals with their brackets. */
	if (strcasecmp(h, "localhost") == 0 || strcmp(h, "[::1]") == 0)
		return true;
	if (strncmp(h, "127.", 4) == 0) {
		const char *p = h + 4;
		int dots = 0;
		for (; *p; p++) {
			if (*p == '.')
				dots++;
			else if (!ts_is_digit((unsigned char)*p))
				return false;
		}
		return dots == 2;
	}
	return false;
}

bool ts_upstream_url_ok(const char *url)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL, *user = NULL, *frag = NULL;
	bool ok = false;
	size_t i;

	if (url == NULL || url[0] == '\0' || strlen(url) > URL_MAX)
		return false;
	for (i = 0; url[i]; i++)
		if (ts_is_ctl_or_space((unsigned char)url[i]))
			return false;
	if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
		return false;
	pthread_once(&curl_once, curl_init_once);
	u = curl_url();
	if (u == NULL)
		return false;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto out;
	/* Credentials in a URL would end up in logs and Referer headers. */
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK && user != NULL)
		goto out;
	if (curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0) == CURLUE_OK && frag != NULL)
		goto out;
	if (host == NULL || host[0] == '\0')
		goto out;
	if (strcasecmp(scheme, "https") == 0)
		ok = true;
	else if (strcasecmp(scheme, "http") == 0)
		ok = loopback_host(host);
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_free(frag);
	curl_url_cleanup(u);
	return ok;
}

struct sink {
	struct ts_buf b;
	bool too_big;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t len = size * n;

	if (ts_buf_append(&s->b, p, len) != TS_OK) {
		s->too_big = true;
		return 0; /* aborts the transfer */
	}
	return len;
}

/* RFC 6749 §2.3.1: client_id and secret are form-encoded, then joined with
 * a colon and base64-encoded. */
static char *basic_header(const char *user, const char *pass)
{
	struct ts_buf raw, hdr;
	char *b64 = NULL, *out = NULL;
	size_t cap;

	ts_buf_init(&raw, BASIC_MAX);
	if (ts_buf_append_urlencoded(&raw, user) != TS_OK || ts_buf_appends(&raw, ":") != TS_OK ||
	    ts_buf_append_urlencoded(&raw, pass) != TS_OK)
		goto out;
	cap = (raw.len + 2) / 3 * 4 + 1;
	b64 = ts_xmalloc(cap);
	if (ts_b64_encode(raw.p, raw.len, b64, cap) == 0)
		goto out;
	ts_buf_init(&hdr, cap + 32);
	if (ts_buf_appends(&hdr, "Authorization: Basic ") != TS_OK || ts_buf_appends(&hdr, b64) != TS_OK)
		goto out;
	out = ts_buf_take(&hdr);
out:
	ts_buf_clear_secret(&raw);
	if (b64) {
		OPENSSL_cleanse(b64, strlen(b64));
		free(b64);
	}
	return out;
}

/* err = what + detail (either may be ""). */
static void set_err(char *err, size_t cap, const char *what, const char *detail)
{
	if (err && cap)
		snprintf(err, cap, "%s%s", what, detail);
}

/* The media type of a Content-Type header, lowercased, or NULL. */
static char *media_type(CURL *h)
{
	char *ct = NULL, *out;
	size_t i, n;

	if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct) != CURLE_OK || ct == NULL)
		return NULL;
	n = strcspn(ct, "; \t");
	if (n == 0 || n > CT_MAX)
		return NULL;
	out = ts_xstrndup(ct, n);
	for (i = 0; i < n; i++)
		out[i] = (char)ts_to_lower((unsigned char)out[i]);
	return out;
}

/* libcurl's progress callback: a non-zero answer ends the transfer. */
static int on_progress(void *p, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	const atomic_bool *cancel = p;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return cancel != NULL && atomic_load(cancel) ? 1 : 0;
}

/* Every option of one request: only http(s), no redirects, timeouts, a
 * capped answer, TLS verified, an end at shutdown. */
static void set_options(CURL *h, const struct ts_upstream_req *rq, struct curl_slist *hdrs,
			struct sink *sink)
{
	curl_easy_setopt(h, CURLOPT_URL, rq->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)rq->timeout_ms);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE, (long)TS_UPSTREAM_BODY_MAX);
	curl_easy_setopt(h, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (rq->cancel != NULL) {
		curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)rq->cancel);
		curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	}
	if (strcmp(rq->method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)(rq->body ? rq->body_len : 0));
	} else {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	}
}

int ts_upstream_fetch(const struct ts_upstream_req *rq, struct ts_upstream_resp *out, char *err,
		      size_t cap)
{
	struct curl_slist *hdrs = NULL;
	struct sink sink;
	char *auth = NULL, *ctype = NULL;
	CURL *h = NULL;
	CURLcode cc;
	int rc = TS_EIO;

	memset(out, 0, sizeof(*out));
	memset(&sink, 0, sizeof(sink));
	ts_buf_init(&sink.b, TS_UPSTREAM_BODY_MAX);
	if (!ts_upstream_url_ok(rq->url)) {
		set_err(err, cap, "the provider URL is not allowed (https, or http to loopback)", "");
		return TS_EINVAL;
	}
	pthread_once(&curl_once, curl_init_once);
	if (!curl_ready || (h = curl_easy_init()) == NULL) {
		set_err(err, cap, "the HTTP client is unavailable", "");
		return TS_EIO;
	}
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	if (rq->content_type) {
		ctype = ts_xmalloc(strlen(rq->content_type) + 16);
		memcpy(ctype, "Content-Type: ", 14);
		memcpy(ctype + 14, rq->content_type, strlen(rq->content_type) + 1);
		hdrs = curl_slist_append(hdrs, ctype);
	}
	/* libcurl adds "Expect: 100-continue" to larger POSTs; providers do not
	 * need the round trip. */
	hdrs = curl_slist_append(hdrs, "Expect:");
	if (rq->basic_user) {
		auth = basic_header(rq->basic_user, rq->basic_pass ? rq->basic_pass : "");
		if (auth == NULL) {
			set_err(err, cap, "client credentials too long", "");
			goto out;
		}
		hdrs = curl_slist_append(hdrs, auth);
	}
	if (hdrs == NULL) {
		set_err(err, cap, "out of memory", "");
		goto out;
	}
	set_options(h, rq, hdrs, &sink);
	cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		if (sink.too_big || cc == CURLE_FILESIZE_EXCEEDED)
			set_err(err, cap, "the provider's answer is too large", "");
		else
			set_err(err, cap, "provider unreachable: ", curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
	out->content_type = media_type(h);
	out->len = sink.b.len;
	out->body = ts_buf_take(&sink.b);
	rc = TS_OK;
out:
	ts_buf_clear_secret(&sink.b);
	if (auth) {
		OPENSSL_cleanse(auth, strlen(auth));
		free(auth);
	}
	free(ctype);
	curl_slist_free_all(hdrs);
	if (h)
		curl_easy_cleanup(h);
	return rc;
}

void ts_upstream_resp_clear(struct ts_upstream_resp *r)
{
	if (r == NULL)
		return;
	if (r->body) {
		OPENSSL_cleanse(r->body, r->len);
		free(r->body);
	}
	free(r->content_type);
	memset(r, 0, sizeof(*r));
}
