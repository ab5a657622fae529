/* token_client.c: service tokens with the client credentials grant
 * (RFC 6749 §4.4), authenticated with client_secret_basic (§2.3.1) at the
 * token endpoint named by discovery. The token is cached and renewed once
 * 80% of its lifetime has passed. However many threads ask, one request is
 * in flight: the others wait for it, or keep using the cached token while
 * it is still valid; when that one request fails, the threads that waited
 * for it share its answer instead of each asking again. */
#include "internal.h"

#include "wire/wire.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RENEW_PERCENT 80              /* renewed at 80% of lifetime */
#define SAFETY_MS_MAX 5000            /* a token this close to expiry is not handed out */
#define DEFAULT_EXPIRES_IN_S 60       /* RFC 6749 §5.1 makes expires_in optional */
#define FORM_BASE_MAX 4096

struct tessera_token_client {
	char *issuer, *client_id, *scope; /* owned; scope may be NULL */
	char *client_secret;              /* owned, wiped on free */
	long timeout_ms;

	pthread_mutex_t lock;     /* guards everything below */
	pthread_cond_t done;      /* signalled when a fetch ends */
	bool fetching;            /* a fetch is in flight */
	uint64_t fetches;         /* counts finished fetches */
	int last_rc;              /* outcome of the last fetch (TESSERA_*) */
	struct tessera_error last_err;
	char *token;              /* owned, wiped; NULL until the first success */
	int64_t renew_at;         /* mono ms: fetch a new token from here on */
	int64_t valid_until;      /* mono ms: hand the token out until here */

	/* Touched only by the one thread that fetches (the fetching flag). */
	char *token_endpoint;     /* from discovery; owned */

	ts_lib_token_fetch_fn fetch; /* test hook; the real one by default */
	void *fetch_ctx;
	int64_t (*mono_ms)(void);
};

static int64_t mono_ms(void)
{
	return ts_mono_ms();
}

/* Copies an OAuth error member (RFC 6749 §5.2: printable ASCII without
 * '"' and '\'), so it can go into headers and logs unescaped. */
static void copy_clean(char *dst, size_t cap, const char *src, const char *dflt)
{
	size_t i = 0;

	if (src == NULL || *src == '\0')
		src = dflt;
	for (; *src && i + 1 < cap; src++) {
		unsigned char c = (unsigned char)*src;
		dst[i++] = (ts_is_print(c) && c != '"' && c != '\\') ? (char)c : '_';
	}
	dst[i] = '\0';
}

static int unavailable(struct tessera_error *err, const char *desc)
{
	return ts_lib_err_unavailable(err, desc);
}

/* A 4xx from the token endpoint: Tessera refused this client. */
static int refused(struct tessera_error *err, const struct ts_buf *body, long status)
{
	json_t *o = ts_lib_json_object(body->p, body->len);

	/* Our own caller cannot fix our credentials: to it this is 503. */
	err->status = 503;
	copy_clean(err->error, sizeof(err->error), json_string_value(json_object_get(o, "error")),
		   "invalid_client");
	/* The endpoint's own words are outside text that may echo what we
	 * sent (our secret): they never go on to our callers. */
	snprintf(err->description, sizeof(err->description),
		 "the token endpoint refused this client");
	ts_log_warn("the token endpoint answered %ld (%s)", status, err->error);
	json_decref(o);
	return TESSERA_EDENIED;
}

/* RFC 6749 §5.1: access_token, token_type Bearer (case-insensitive, §7.1),
 * expires_in. */
static int read_token(const struct ts_buf *body, struct ts_lib_token *out,
		      struct tessera_error *err)
{
	json_t *o = ts_lib_json_object(body->p, body->len);
	const char *at = json_string_value(json_object_get(o, "access_token"));
	const char *tt = json_string_value(json_object_get(o, "token_type"));
	const json_t *ei = json_object_get(o, "expires_in");
	int rc = TESSERA_OK;

	if (at == NULL || at[0] == '\0' || tt == NULL || strcasecmp(tt, "Bearer") != 0 ||
	    (ei != NULL && !json_is_integer(ei))) {
		rc = unavailable(err, "the token endpoint's answer is malformed");
		goto out;
	}
	out->access_token = ts_strndup(at, strlen(at));
	if (out->access_token == NULL) {
		rc = ts_lib_err_nomem(err);
		goto out;
	}
	out->expires_in_s = ei ? json_integer_value(ei) : DEFAULT_EXPIRES_IN_S;
	/* A lifetime beyond a day is not believed (and cannot overflow). */
	if (out->expires_in_s > TS_SECONDS_PER_DAY)
		out->expires_in_s = TS_SECONDS_PER_DAY;
out:
	json_decref(o);
	return rc;
}

static int endpoint(struct tessera_token_client *c, struct tessera_error *err)
{
	struct ts_lib_meta *m = NULL;
	int rc;

	if (c->token_endpoint != NULL)
		return TESSERA_OK;
	rc = ts_lib_meta_fetch(c->issuer, c->timeout_ms, &m);
	if (rc == TS_ENOMEM)
		return ts_lib_err_nomem(err);
	if (rc != TS_OK)
		return unavailable(err, "Tessera's discovery document cannot be fetched");
	if (m->token_endpoint == NULL) {
		ts_lib_meta_unref(m);
		return unavailable(err, "Tessera's discovery names no token endpoint");
	}
	rc = ts_strdup_to(m->token_endpoint, &c->token_endpoint);
	ts_lib_meta_unref(m);
	return rc == TS_OK ? TESSERA_OK : ts_lib_err_nomem(err);
}

/* The real fetcher: discovery (once), then the client credentials grant. */
static int fetch_real(void *ctx, struct ts_lib_token *out, struct tessera_error *err)
{
	struct tessera_token_client *c = ctx;
	struct ts_buf form, body;
	long status = 0;
	int rc;

	rc = endpoint(c, err);
	if (rc != TESSERA_OK)
		return rc;
	ts_buf_init(&form, FORM_BASE_MAX);
	rc = ts_buf_appends(&form, "grant_type=client_credentials");
	if (rc == TS_OK && c->scope != NULL) {
		rc = ts_buf_appends(&form, "&scope=");
		if (rc == TS_OK)
			rc = ts_lib_form_escape(&form, c->scope);
	}
	if (rc == TS_ENOMEM)
		return ts_lib_err_nomem(err);
	if (rc != TS_OK)
		return unavailable(err, "the scope is too long");
	rc = ts_lib_http(c->token_endpoint, form.p, form.len, c->client_id, c->client_secret,
			 c->timeout_ms, &status, &body);
	ts_buf_clear(&form);
	if (rc == TS_ENOMEM) {
		rc = ts_lib_err_nomem(err);
	} else if (rc != TS_OK || status == 0 || status >= 500) {
		rc = unavailable(err, "Tessera's token endpoint cannot be reached");
	} else if (status != 200) {
		rc = refused(err, &body, status);
	} else {
		rc = read_token(&body, out, err);
	}
	ts_buf_clear_secret(&body);
	return rc;
}

int tessera_token_client_new(const char *issuer, const char *client_id,
			     const char *client_secret, const char *scope,
			     tessera_token_client **out)
{
	struct tessera_token_client *c;

	if (out == NULL)
		return TESSERA_EINVAL;
	*out = NULL;
	if (!ts_lib_url_ok(issuer) || client_id == NULL || client_id[0] == '\0' ||
	    strlen(client_id) > TS_LIB_URL_MAX || client_secret == NULL ||
	    strlen(client_secret) > TS_LIB_SECRET_MAX ||
	    (scope != NULL && strlen(scope) > FORM_BASE_MAX / 4))
		return TESSERA_EINVAL;
	c = ts_calloc(1, sizeof(*c));
	if (c == NULL)
		return TESSERA_ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->done, NULL);
	if (ts_strdup_to(issuer, &c->issuer) != TS_OK ||
	    ts_strdup_to(client_id, &c->client_id) != TS_OK ||
	    ts_strdup_to(client_secret, &c->client_secret) != TS_OK ||
	    ts_strdup_to(scope && scope[0] ? scope : NULL, &c->scope) != TS_OK) {
		tessera_token_client_free(c);
		return TESSERA_ENOMEM;
	}
	c->timeout_ms = TS_LIB_DEF_HTTP_TIMEOUT_MS;
	c->fetch = fetch_real;
	c->fetch_ctx = c;
	c->mono_ms = mono_ms;
	*out = c;
	return TESSERA_OK;
}

void tessera_token_client_free(tessera_token_client *c)
{
	if (c == NULL)
		return;
	free(c->issuer);
	free(c->client_id);
	free(c->scope);
	ts_free_secret(c->client_secret);
	ts_free_secret(c->token);
	free(c->token_endpoint);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->done);
	free(c);
}

/* With the lock held: whether the cached token may still be handed out. */
static bool usable(const struct tessera_token_client *c, int64_t now)
{
	return c->token != NULL && now < c->valid_until;
}

/* With the lock held: installs a token fetched at started (mono ms). */
static void install(struct tessera_token_client *c, struct ts_lib_token *t, int64_t started)
{
	int64_t life = (t->expires_in_s > 0 ? t->expires_in_s : 1) * 1000;
	int64_t safety = life / 10 < SAFETY_MS_MAX ? life / 10 : SAFETY_MS_MAX;

	ts_free_secret(c->token);
	c->token = t->access_token;
	t->access_token = NULL;
	/* The lifetime counts from when we asked, which is never later than
	 * when Tessera issued it. */
	c->renew_at = started + life * RENEW_PERCENT / 100;
	c->valid_until = started + life - safety;
}

/* With the lock held: fetches a token (dropping the lock meanwhile). */
static int fetch_locked(struct tessera_token_client *c, struct tessera_error *err)
{
	struct ts_lib_token t = {NULL, 0};
	struct tessera_error e;
	int64_t started = c->mono_ms();
	int rc;

	c->fetching = true;
	pthread_mutex_unlock(&c->lock);
	memset(&e, 0, sizeof(e));
	rc = c->fetch(c->fetch_ctx, &t, &e);
	pthread_mutex_lock(&c->lock);
	c->fetching = false;
	c->fetches++;
	c->last_rc = rc;
	c->last_err = e;
	if (rc == TESSERA_OK)
		install(c, &t, started);
	ts_free_secret(t.access_token);
	pthread_cond_broadcast(&c->done);
	if (rc != TESSERA_OK && err != NULL)
		*err = e;
	return rc;
}

int tessera_token_client_get(tessera_token_client *c, char **token, struct tessera_error *err)
{
	int rc = TESSERA_OK;
	int64_t now;

	if (err != NULL)
		memset(err, 0, sizeof(*err));
	if (token == NULL)
		return TESSERA_EINVAL;
	*token = NULL;
	if (c == NULL)
		return TESSERA_EINVAL;
	pthread_mutex_lock(&c->lock);
	for (;;) {
		uint64_t seen;

		now = c->mono_ms();
		if (c->token != NULL && now < c->renew_at)
			break;
		if (!c->fetching) {
			rc = fetch_locked(c, err);
			/* A failed renewal leaves a still valid token usable. */
			if (rc != TESSERA_OK && usable(c, c->mono_ms())) {
				rc = TESSERA_OK;
				if (err != NULL)
					memset(err, 0, sizeof(*err));
			}
			break;
		}
		/* Someone is fetching: a token that is still valid will do. */
		if (usable(c, now))
			break;
		seen = c->fetches;
		while (c->fetching && c->fetches == seen)
			pthread_cond_wait(&c->done, &c->lock);
		if (c->fetches != seen && c->last_rc != TESSERA_OK && !usable(c, c->mono_ms())) {
			rc = c->last_rc;
			if (err != NULL)
				*err = c->last_err;
			break;
		}
	}
	if (rc == TESSERA_OK && ts_strdup_to(c->token, token) != TS_OK)
		rc = ts_lib_err_nomem(err);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/* ---- test hooks ---- */

void ts_lib_token_client_set_fetch(tessera_token_client *c, ts_lib_token_fetch_fn fn, void *ctx)
{
	pthread_mutex_lock(&c->lock);
	c->fetch = fn ? fn : fetch_real;
	c->fetch_ctx = fn ? ctx : c;
	pthread_mutex_unlock(&c->lock);
}

void ts_lib_token_client_set_clock(tessera_token_client *c, int64_t (*mono)(void))
{
	pthread_mutex_lock(&c->lock);
	c->mono_ms = mono ? mono : mono_ms;
	pthread_mutex_unlock(&c->lock);
}
