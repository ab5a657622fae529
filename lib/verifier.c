/* verifier.c: the public verifier API. tessera_verify picks the credential
 * (Authorization first, then the session cookie), hands it to bearer.c or
 * to introspection, and turns every refusal into an answer ready to send:
 * RFC 6750 §3 challenges for 401 and 400, 403 for a missing CSRF token or
 * scope, 503 when Tessera cannot be reached (never a credential error). */
#include "internal.h"

#include "wire/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- errors ---- */

static void err_set(struct tessera_error *err, int status, const char *error, const char *desc)
{
	if (err == NULL)
		return;
	memset(err, 0, sizeof(*err));
	err->status = status;
	snprintf(err->error, sizeof(err->error), "%s", error);
	snprintf(err->description, sizeof(err->description), "%s", desc);
}

/* RFC 6750 §3: Bearer realm="..."[, error="...", error_description="..."].
 * Our descriptions are constants without quotes or backslashes. */
static void challenge(const struct tessera_verifier *v, struct tessera_error *err,
		      const char *error, const char *desc)
{
	if (err == NULL)
		return;
	if (error == NULL)
		snprintf(err->www_authenticate, sizeof(err->www_authenticate), "Bearer realm=\"%s\"",
			 v->realm);
	else
		snprintf(err->www_authenticate, sizeof(err->www_authenticate),
			 "Bearer realm=\"%s\", error=\"%s\", error_description=\"%s\"", v->realm,
			 error, desc);
}

int ts_lib_err_missing(const struct tessera_verifier *v, struct tessera_error *err,
		       const char *desc)
{
	/* RFC 6750 §3.1: a request without credentials gets no error code in
	 * the challenge; the body may still say "unauthorized". */
	err_set(err, 401, "unauthorized", desc);
	challenge(v, err, NULL, NULL);
	return TESSERA_EDENIED;
}

int ts_lib_err_token(const struct tessera_verifier *v, struct tessera_error *err,
		     const char *desc)
{
	err_set(err, 401, "invalid_token", desc);
	challenge(v, err, "invalid_token", desc);
	return TESSERA_EDENIED;
}

int ts_lib_err_dpop(const struct tessera_verifier *v, struct tessera_error *err,
		    const char *error, const char *desc)
{
	err_set(err, 401, error, desc);
	if (err != NULL)
		snprintf(err->www_authenticate, sizeof(err->www_authenticate),
			 "DPoP realm=\"%s\", algs=\"%s\", error=\"%s\", error_description=\"%s\"",
			 v->realm, TS_LIB_DPOP_ALGS, error, desc);
	return TESSERA_EDENIED;
}

int ts_lib_err_request(const struct tessera_verifier *v, struct tessera_error *err,
		       const char *desc)
{
	err_set(err, 400, "invalid_request", desc);
	challenge(v, err, "invalid_request", desc);
	return TESSERA_EDENIED;
}

int ts_lib_err_unavailable(struct tessera_error *err, const char *desc)
{
	err_set(err, 503, "temporarily_unavailable", desc);
	return TESSERA_EUNAVAILABLE;
}

int ts_lib_err_nomem(struct tessera_error *err)
{
	/* Nothing is wrong with the request: like an unreachable Tessera, a
	 * passing shortage is 503 to the caller. */
	err_set(err, 503, "temporarily_unavailable", "the server is out of memory");
	return TESSERA_ENOMEM;
}

int ts_lib_err_cross_site(struct tessera_error *err)
{
	err_set(err, 403, "cross_site_request",
		"a request from another site may not use the session cookie");
	return TESSERA_EDENIED;
}

int ts_lib_err_csrf(struct tessera_error *err)
{
	err_set(err, 403, "csrf_failed",
		"a state-changing request with the session cookie needs the X-CSRF-Token header");
	return TESSERA_EDENIED;
}

/* RFC 6750 §3: scope-token characters, which need no escaping. */
static bool scope_token_ok(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (!ts_is_vchar(c) || c == '"' || c == '\\')
			return false;
	}
	return true;
}

void tessera_error_insufficient_scope(tessera_verifier *v, const char *scope,
				      struct tessera_error *err)
{
	char desc[sizeof(err->description)];

	if (err == NULL)
		return;
	if (!scope_token_ok(scope) || strlen(scope) > 128)
		scope = NULL;
	if (scope != NULL)
		snprintf(desc, sizeof(desc), "the request needs the scope %s", scope);
	else
		snprintf(desc, sizeof(desc), "the request needs a scope the token does not have");
	err_set(err, 403, "insufficient_scope", desc);
	if (v == NULL)
		return;
	/* RFC 6750 §3.1: insufficient_scope names the scope needed. */
	snprintf(err->www_authenticate, sizeof(err->www_authenticate),
		 "Bearer realm=\"%s\", error=\"insufficient_scope\", error_description=\"%s\"%s%s%s",
		 v->realm, desc, scope ? ", scope=\"" : "", scope ? scope : "", scope ? "\"" : "");
}

/* ---- principals ---- */

struct tessera_principal *ts_lib_principal_new(enum tessera_auth auth)
{
	struct tessera_principal *p = ts_calloc(1, sizeof(*p));

	if (p != NULL)
		p->auth = auth;
	return p;
}

int ts_lib_principal_take_intro(struct tessera_principal *p, const struct ts_lib_intro *r)
{
	size_t i;

	free(p->username);
	free(p->tenant);
	p->username = p->tenant = NULL;
	for (i = 0; i < p->nroles; i++)
		free(p->roles[i]);
	free(p->roles);
	p->roles = NULL;
	p->nroles = 0;
	if (ts_strdup_to(r->username, &p->username) != TS_OK ||
	    ts_strdup_to(r->tenant, &p->tenant) != TS_OK)
		return TS_ENOMEM;
	if (r->nroles == 0)
		return TS_OK;
	p->roles = ts_calloc(r->nroles, sizeof(*p->roles));
	if (p->roles == NULL)
		return TS_ENOMEM;
	/* nroles counts the copies made, so the principal frees cleanly
	 * whenever a copy fails. */
	for (i = 0; i < r->nroles; i++) {
		if (ts_strdup_to(r->roles[i], &p->roles[i]) != TS_OK)
			return TS_ENOMEM;
		p->nroles++;
	}
	return TS_OK;
}

void tessera_principal_free(struct tessera_principal *p)
{
	size_t i;

	if (p == NULL)
		return;
	free(p->tenant);
	free(p->sub);
	free(p->username);
	free(p->client_id);
	for (i = 0; i < p->nscopes; i++)
		free(p->scopes[i]);
	free(p->scopes);
	for (i = 0; i < p->nroles; i++)
		free(p->roles[i]);
	free(p->roles);
	free(p);
}

int tessera_principal_has_role(const struct tessera_principal *p, const char *role)
{
	size_t i;

	if (p == NULL || role == NULL)
		return 0;
	for (i = 0; i < p->nroles; i++)
		if (strcmp(p->roles[i], role) == 0)
			return 1;
	return 0;
}

int tessera_principal_has_scope(tessera_verifier *v, const struct tessera_principal *p,
				const char *scope)
{
	struct ts_lib_meta *m = NULL;
	size_t i;
	int yes = 0;

	if (p == NULL || scope == NULL)
		return 0;
	/* One rule for every credential: the principal's own scopes. */
	if (v != NULL) {
		pthread_mutex_lock(&v->lock);
		m = ts_lib_meta_ref(v->meta);
		pthread_mutex_unlock(&v->lock);
	}
	for (i = 0; i < p->nscopes && !yes; i++)
		yes = ts_lib_meta_includes(m, p->scopes[i], scope);
	ts_lib_meta_unref(m);
	return yes;
}

/* ---- the verifier ---- */

static int64_t mono_ms(void)
{
	return ts_mono_ms();
}

/* A configured number of seconds: 0 is the default, negative is refused. */
static bool seconds(int cfg, int def, int64_t *out)
{
	if (cfg < 0)
		return false;
	*out = cfg ? cfg : def;
	return true;
}

/* The issuer without what cannot stand inside a quoted-string unescaped;
 * NULL when memory runs out. */
static char *realm_of(const char *issuer)
{
	char *r = ts_strndup(issuer, strlen(issuer)), *p;

	for (p = r; p != NULL && *p; p++)
		if (*p == '"' || *p == '\\')
			*p = '_';
	return r;
}

static bool cookie_name_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > TS_LIB_COOKIE_NAME_MAX)
		return false;
	for (i = 0; i < n; i++) {
		if (!ts_is_b64url((unsigned char)s[i]))
			return false;
	}
	return true;
}

static bool config_ok(const struct tessera_verifier_config *cfg)
{
	if (!ts_lib_url_ok(cfg->issuer))
		return false;
	if (cfg->audience != NULL && (cfg->audience[0] == '\0' || strlen(cfg->audience) > TS_LIB_URL_MAX))
		return false;
	/* Introspection needs both halves of the client's credentials. */
	if ((cfg->client_id == NULL) != (cfg->client_secret == NULL))
		return false;
	if (cfg->client_id != NULL &&
	    (cfg->client_id[0] == '\0' || strlen(cfg->client_id) > TS_LIB_URL_MAX ||
	     strlen(cfg->client_secret) > TS_LIB_SECRET_MAX))
		return false;
	if (cfg->alt_session_cookie != NULL && !cookie_name_ok(cfg->alt_session_cookie))
		return false;
	return cfg->http_timeout_ms >= 0;
}

int tessera_verifier_new(const struct tessera_verifier_config *cfg, tessera_verifier **out)
{
	struct tessera_verifier *v;
	int64_t min_refresh, max_age, cache_s, leeway;

	if (out == NULL)
		return TESSERA_EINVAL;
	*out = NULL;
	if (cfg == NULL || !config_ok(cfg) ||
	    !seconds(cfg->jwks_min_refresh_s, TS_LIB_DEF_JWKS_MIN_REFRESH_S, &min_refresh) ||
	    !seconds(cfg->jwks_max_age_s, TS_LIB_DEF_JWKS_MAX_AGE_S, &max_age) ||
	    !seconds(cfg->introspection_cache_s, TS_LIB_DEF_INTROSPECTION_CACHE_S, &cache_s) ||
	    !seconds(cfg->leeway_s, TS_LIB_DEF_LEEWAY_S, &leeway))
		return TESSERA_EINVAL;
	v = ts_calloc(1, sizeof(*v));
	if (v == NULL)
		return TESSERA_ENOMEM;
	pthread_mutex_init(&v->lock, NULL);
	pthread_mutex_init(&v->fetch_lock, NULL);
	pthread_mutex_init(&v->meta_lock, NULL);
	v->realm = realm_of(cfg->issuer);
	v->cache = ts_lib_cache_new(TS_LIB_CACHE_ENTRIES, cache_s * 1000);
	v->replay = ts_lib_replay_new();
	if (v->realm == NULL || v->cache == NULL || v->replay == NULL || ts_strdup_to(cfg->issuer, &v->issuer) != TS_OK ||
	    ts_strdup_to(cfg->audience ? cfg->audience : cfg->issuer, &v->audience) != TS_OK ||
	    ts_strdup_to(cfg->client_id, &v->client_id) != TS_OK ||
	    ts_strdup_to(cfg->client_secret, &v->client_secret) != TS_OK ||
	    ts_strdup_to(cfg->alt_session_cookie, &v->alt_cookie) != TS_OK) {
		tessera_verifier_free(v);
		return TESSERA_ENOMEM;
	}
	v->min_refresh_ms = min_refresh * 1000;
	v->max_age_ms = max_age * 1000;
	v->leeway_s = leeway;
	v->dpop_past_s = TS_LIB_DPOP_PAST_S;
	v->timeout_ms = cfg->http_timeout_ms ? cfg->http_timeout_ms : TS_LIB_DEF_HTTP_TIMEOUT_MS;
	v->now = ts_now;
	v->mono_ms = mono_ms;
	*out = v;
	return TESSERA_OK;
}

void tessera_verifier_free(tessera_verifier *v)
{
	if (v == NULL)
		return;
	free(v->issuer);
	free(v->audience);
	free(v->client_id);
	ts_free_secret(v->client_secret);
	free(v->alt_cookie);
	free(v->realm);
	ts_lib_cache_free(v->cache);
	ts_lib_replay_free(v->replay);
	ts_lib_meta_unref(v->meta);
	ts_lib_keys_unref(v->keys);
	pthread_mutex_destroy(&v->lock);
	pthread_mutex_destroy(&v->fetch_lock);
	pthread_mutex_destroy(&v->meta_lock);
	free(v);
}

/* RFC 9110 §9.2.1: the safe methods change nothing, so need no CSRF token.
 * An unknown (NULL) method is treated as unsafe. */
static bool safe_method(const char *m)
{
	return m != NULL && (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 ||
			     strcmp(m, "OPTIONS") == 0);
}

/* The principal an introspection answer describes: TS_OK with *out new,
 * or TS_ENOMEM. */
static int from_intro(enum tessera_auth auth, const struct ts_lib_intro *r,
		      struct tessera_principal **out)
{
	struct tessera_principal *p = ts_lib_principal_new(auth);
	int rc = TS_ENOMEM;

	if (p == NULL)
		goto out;
	p->is_user = !ts_str_eq(ts_str_c(r->principal_type), "service");
	rc = ts_strdup_to(r->sub, &p->sub);
	if (rc == TS_OK)
		rc = ts_lib_principal_take_intro(p, r);
	/* A person acting directly holds the person scopes Tessera reports. */
	if (rc == TS_OK)
		rc = ts_lib_principal_scopes(p, r->scope);
	if (rc != TS_OK)
		goto out;
	*out = p;
	p = NULL;
out:
	tessera_principal_free(p);
	return rc;
}

static int via_apikey(struct tessera_verifier *v, const struct ts_lib_auth *a,
		      struct tessera_principal **out, struct tessera_error *err)
{
	struct ts_lib_intro *r = NULL;
	struct ts_buf cred;
	int rc;

	if (v->client_id == NULL)
		return ts_lib_err_token(v, err, "API keys are not accepted by this server");
	ts_buf_init(&cred, TS_LIB_APIKEY_MAX + TS_LIB_APISECRET_MAX + 2);
	rc = ts_buf_appendf(&cred, "%s:%s", a->key, a->secret);
	if (rc == TS_ENOMEM)
		return ts_lib_err_nomem(err);
	if (rc != TS_OK)
		return ts_lib_err_request(v, err, "the API key is malformed");
	rc = ts_lib_introspect(v, TS_LIB_TT_API_KEY, cred.p, &r);
	ts_buf_clear_secret(&cred);
	if (rc == TS_ENOMEM)
		return ts_lib_err_nomem(err);
	if (rc != TS_OK)
		return ts_lib_err_unavailable(err, "Tessera cannot be reached to check the API key");
	if (!r->active || !ts_str_eq(ts_str_c(r->token_type), TS_LIB_TT_API_KEY) || r->sub == NULL)
		rc = ts_lib_err_token(v, err, "the API key is invalid");
	else if (from_intro(TESSERA_AUTH_API_KEY, r, out) != TS_OK)
		rc = ts_lib_err_nomem(err);
	else
		rc = TESSERA_OK;
	ts_lib_intro_free(r);
	return rc;
}

/* Whether url's origin (scheme "://" authority) is origin, byte for
 * byte: both are as browsers and configurations write them, lower case. */
static bool origin_is(const char *url, const char *origin)
{
	const char *auth = url ? strstr(url, "://") : NULL;
	size_t n;

	if (auth == NULL)
		return false;
	n = strcspn(auth + 3, "/?#") + (size_t)(auth + 3 - url);
	return strlen(origin) == n && strncmp(url, origin, n) == 0;
}

/* Fetch Metadata and Origin: a browser marks another site's request
 * cross-site whatever Origin it names, and names its page's origin on
 * every cross-origin request; the cookie is Tessera's (the issuer's
 * pages) or this server's own. */
static bool same_site(const struct tessera_verifier *v, const struct tessera_request *req)
{
	if (req->sec_fetch_site != NULL && strcmp(req->sec_fetch_site, "cross-site") == 0)
		return false;
	return req->origin == NULL || origin_is(v->issuer, req->origin) ||
	       origin_is(req->uri, req->origin);
}

static int via_session(struct tessera_verifier *v, const struct tessera_request *req,
		       struct tessera_principal **out, struct tessera_error *err)
{
	const char *cookie = req->cookie, *method = req->method, *csrf = req->csrf;
	struct ts_lib_intro *r = NULL;
	char *sid = NULL;
	int rc;

	/* Without introspection a cookie means nothing here (it may well be
	 * Tessera's own, sent along by a browser). */
	if (cookie == NULL || v->client_id == NULL)
		return ts_lib_err_missing(v, err, "authentication is required");
	rc = ts_lib_cookie_get(cookie, strlen(cookie), TS_LIB_SESSION_COOKIE, &sid);
	if (rc == TS_ENOTFOUND && v->alt_cookie != NULL)
		rc = ts_lib_cookie_get(cookie, strlen(cookie), v->alt_cookie, &sid);
	if (rc == TS_ENOTFOUND)
		return ts_lib_err_missing(v, err, "authentication is required");
	if (rc == TS_ENOMEM)
		return ts_lib_err_nomem(err);
	if (rc != TS_OK)
		return ts_lib_err_request(v, err, "the Cookie header is malformed");
	if (!same_site(v, req)) {
		rc = ts_lib_err_cross_site(err);
		goto out;
	}
	if (!ts_lib_session_id_ok(sid)) {
		rc = ts_lib_err_missing(v, err, "the session is not valid");
		goto out;
	}
	rc = ts_lib_introspect(v, TS_LIB_TT_SESSION, sid, &r);
	if (rc == TS_ENOMEM) {
		rc = ts_lib_err_nomem(err);
		goto out;
	}
	if (rc != TS_OK) {
		rc = ts_lib_err_unavailable(err, "Tessera cannot be reached to check the session");
		goto out;
	}
	if (!r->active || !ts_str_eq(ts_str_c(r->token_type), TS_LIB_TT_SESSION) || r->sub == NULL) {
		rc = ts_lib_err_missing(v, err, "the session is not valid");
		goto out;
	}
	/* A browser sends the cookie on cross-site requests too: a request
	 * that changes state must prove it comes from our own pages. */
	if (!safe_method(method) &&
	    (csrf == NULL || r->csrf_token == NULL ||
	     !ts_ct_equal(csrf, strlen(csrf), r->csrf_token, strlen(r->csrf_token)))) {
		rc = ts_lib_err_csrf(err);
		goto out;
	}
	rc = from_intro(TESSERA_AUTH_SESSION, r, out) == TS_OK ? TESSERA_OK : ts_lib_err_nomem(err);
out:
	ts_lib_intro_free(r);
	ts_free_secret(sid);
	return rc;
}

int tessera_verify(tessera_verifier *v, const char *authorization, const char *cookie,
		   const char *method, const char *csrf, struct tessera_principal **out,
		   struct tessera_error *err)
{
	struct tessera_request r = {0};

	r.method = method;
	r.authorization = authorization;
	r.cookie = cookie;
	r.csrf = csrf;
	return tessera_verify_request(v, &r, out, err);
}

int tessera_verify_request(tessera_verifier *v, const struct tessera_request *req,
			   struct tessera_principal **out, struct tessera_error *err)
{
	const char *authorization = req ? req->authorization : NULL;
	struct ts_lib_auth a;
	int rc;

	if (err != NULL)
		memset(err, 0, sizeof(*err));
	if (out == NULL)
		return TESSERA_EINVAL;
	*out = NULL;
	if (v == NULL || req == NULL)
		return TESSERA_EINVAL;
	if (ts_lib_auth_parse(authorization, authorization ? strlen(authorization) : 0, &a) ==
	    TS_ENOMEM) {
		ts_lib_auth_clear(&a);
		return ts_lib_err_nomem(err);
	}
	switch (a.scheme) {
	case TS_LIB_AUTH_BEARER:
		rc = ts_lib_bearer(v, a.token, NULL, out, err);
		break;
	case TS_LIB_AUTH_DPOP:
		rc = ts_lib_bearer(v, a.token, req, out, err);
		break;
	case TS_LIB_AUTH_APIKEY:
		rc = via_apikey(v, &a, out, err);
		break;
	case TS_LIB_AUTH_NONE:
		rc = via_session(v, req, out, err);
		break;
	case TS_LIB_AUTH_INVALID:
	default:
		rc = ts_lib_err_request(v, err, a.why ? a.why : "the Authorization header is malformed");
		break;
	}
	ts_lib_auth_clear(&a);
	return rc;
}

/* ---- test hooks ---- */

int ts_lib_verifier_set_keys(struct tessera_verifier *v, const char *jwks)
{
	struct ts_lib_keys *ks = NULL, *old;
	int rc = ts_lib_keys_parse(jwks, strlen(jwks), &ks);

	if (rc != TS_OK)
		return rc;
	pthread_mutex_lock(&v->lock);
	old = v->keys;
	v->keys = ks;
	v->keys_at = v->mono_ms();
	v->keys_gen++;
	v->keys_pinned = true;
	pthread_mutex_unlock(&v->lock);
	ts_lib_keys_unref(old);
	return TS_OK;
}

int ts_lib_verifier_set_discovery(struct tessera_verifier *v, const char *doc)
{
	struct ts_lib_meta *m = NULL, *old;
	int rc = ts_lib_meta_parse(v->issuer, doc, strlen(doc), &m);

	if (rc != TS_OK)
		return rc;
	pthread_mutex_lock(&v->lock);
	old = v->meta;
	v->meta = m;
	v->meta_at = v->mono_ms();
	v->meta_pinned = true;
	pthread_mutex_unlock(&v->lock);
	ts_lib_meta_unref(old);
	return TS_OK;
}

void ts_lib_verifier_set_clocks(struct tessera_verifier *v, int64_t (*now)(void),
				int64_t (*mono)(void))
{
	if (now != NULL)
		v->now = now;
	if (mono != NULL)
		v->mono_ms = mono;
}
