/* team.c: GET /team. The service token comes from tessera_token_client
 * (client credentials, cached and renewed by libtessera); the members come
 * from Tessera over this example's small HTTP client; the reduced answer is
 * cached for --team-cache seconds. */
#include "team.h"

#include "app.h"
#include "authz.h"
#include "httpc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TEAM_BODY_MAX (1024 * 1024) /* bytes of Tessera's answer */
#define TEAM_TIMEOUT_MS 5000L
#define TEAM_MEMBERS_MAX 10000
#define URL_MAX 2048

struct ta_team {
	char *url;                /* {issuer}/api/groups/{id}/members */
	tessera_token_client *tc; /* borrowed */
	int64_t ttl_ms;
	pthread_mutex_t lock;     /* held during a fetch: one at a time */
	json_t *cached;           /* the last good answer, or NULL */
	int64_t cached_at;        /* monotonic ms */
};

static int64_t mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int ta_team_new(const char *issuer, const char *group_id, tessera_token_client *tc, int cache_s,
		struct ta_team **out)
{
	struct ta_team *t;
	char url[URL_MAX];
	int n;

	*out = NULL;
	n = snprintf(url, sizeof(url), "%s/api/groups/%s/members", issuer, group_id);
	if (n < 0 || (size_t)n >= sizeof(url))
		return TA_EINVAL;
	t = ta_xcalloc(1, sizeof(*t));
	t->url = ta_xstrdup(url);
	t->tc = tc;
	t->ttl_ms = (int64_t)cache_s * 1000;
	pthread_mutex_init(&t->lock, NULL);
	*out = t;
	return TA_OK;
}

void ta_team_free(struct ta_team *t)
{
	if (t == NULL)
		return;
	json_decref(t->cached);
	pthread_mutex_destroy(&t->lock);
	free(t->url);
	free(t);
}

static void copy_str(json_t *dst, const json_t *src, const char *key)
{
	const char *s = json_string_value(json_object_get(src, key));

	if (s)
		json_object_set_new(dst, key, json_string(s));
}

int ta_team_from_tessera(const char *text, size_t len, json_t **out)
{
	json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL), *members, *m, *a;
	size_t i;
	int rc = TA_EINVAL;

	*out = NULL;
	members = json_object_get(doc, "members");
	if (!json_is_object(doc) || !json_is_array(members) ||
	    !json_is_string(json_object_get(doc, "id")) ||
	    json_array_size(members) > TEAM_MEMBERS_MAX)
		goto out;
	a = json_array();
	json_array_foreach(members, i, m) {
		json_t *o;
		if (!json_is_string(json_object_get(m, "id")) ||
		    !json_is_string(json_object_get(m, "username"))) {
			json_decref(a);
			goto out;
		}
		o = json_object();
		copy_str(o, m, "id");
		copy_str(o, m, "username");
		copy_str(o, m, "name");
		copy_str(o, m, "email");
		json_array_append_new(a, o);
	}
	*out = json_object();
	json_object_set_new(*out, "group", json_object());
	copy_str(json_object_get(*out, "group"), doc, "id");
	copy_str(json_object_get(*out, "group"), doc, "name");
	json_object_set_new(*out, "members", a);
	rc = TA_OK;
out:
	json_decref(doc);
	return rc;
}

static int fail(struct ta_team_err *err, int status, const char *error, const char *desc)
{
	err->status = status;
	err->error = error;
	snprintf(err->desc, sizeof(err->desc), "%s", desc);
	return TA_EIO;
}

/* What Tessera's status means for our caller. */
static int upstream_status(int status, struct ta_team_err *err)
{
	switch (status) {
	case 401:
		return fail(err, 502, "bad_gateway", "Tessera refused the API's service token");
	case 403:
		return fail(err, 502, "bad_gateway",
			    "the API's service client lacks the scope members:read");
	case 404:
		return fail(err, 502, "bad_gateway", "the configured team group does not exist");
	default:
		if (status >= 500)
			return fail(err, 503, "temporarily_unavailable", "Tessera is unavailable");
		return fail(err, 502, "bad_gateway", "Tessera answered unexpectedly");
	}
}

static int fetch(struct ta_team *t, json_t **out, struct ta_team_err *err)
{
	struct tessera_error te;
	struct ta_http_resp resp = {0};
	char *token = NULL;
	int rc;

	memset(&te, 0, sizeof(te));
	rc = tessera_token_client_get(t->tc, &token, &te);
	if (rc != TESSERA_OK) {
		/* libtessera says 503 for both a Tessera that cannot be reached
		 * and one that refuses our client: either way our callers can
		 * only retry later, and the reason goes to the log. */
		char desc[200];
		ta_log_warn("no service token (%d): %s %s", rc, te.error, te.description);
		snprintf(desc, sizeof(desc), "no service token from Tessera: %.150s",
			 te.description[0] ? te.description : te.error);
		return fail(err, 503, "temporarily_unavailable", desc);
	}
	rc = ta_http_get(t->url, token, TEAM_TIMEOUT_MS, TEAM_BODY_MAX, &resp);
	/* The token is a credential: wipe our copy before freeing it. */
	memset(token, 0, strlen(token));
	free(token);
	if (rc == TA_EINVAL) {
		return fail(err, 502, "bad_gateway",
			    "GET /team needs an http:// issuer (this example has no TLS client)");
	}
	if (rc != TA_OK)
		return fail(err, 503, "temporarily_unavailable", "Tessera could not be reached");
	if (resp.status != 200) {
		ta_log_warn("GET %s answered %d", t->url, resp.status);
		rc = upstream_status(resp.status, err);
	} else if (ta_team_from_tessera(resp.body, resp.len, out) != TA_OK) {
		rc = fail(err, 502, "bad_gateway", "Tessera's answer was not a group");
	}
	ta_http_resp_clear(&resp);
	return rc;
}

int ta_team_get(struct ta_team *t, json_t **out, struct ta_team_err *err)
{
	json_t *fresh = NULL;
	int rc = TA_OK;

	*out = NULL;
	pthread_mutex_lock(&t->lock);
	if (t->cached == NULL || mono_ms() - t->cached_at >= t->ttl_ms) {
		rc = fetch(t, &fresh, err);
		if (rc == TA_OK) {
			json_decref(t->cached);
			t->cached = fresh;
			t->cached_at = mono_ms();
		}
	}
	if (rc == TA_OK)
		*out = json_deep_copy(t->cached);
	pthread_mutex_unlock(&t->lock);
	return rc;
}

void ta_team_handle(struct ta_app *app, struct ta_req *r, const struct ta_caller *c)
{
	struct ta_team_err err;
	json_t *o = NULL;

	(void)c;
	if (ta_req_query(r, NULL, 0, NULL, err.desc, sizeof(err.desc)) != TA_OK) {
		ta_resp_bad_request(r, err.desc);
		return;
	}
	if (app->team == NULL) {
		ta_resp_error(r, 404, "not_found", "no team group is configured (--team-group)", NULL,
			      NULL);
		return;
	}
	if (ta_team_get(app->team, &o, &err) != TA_OK) {
		ta_resp_error(r, err.status, err.error, err.desc,
			      err.status == 503 ? "Retry-After" : NULL, "5");
		return;
	}
	ta_resp_json(r, 200, o);
	json_decref(o);
}
