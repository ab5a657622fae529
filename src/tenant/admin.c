/* admin.c: validation and create/update of tenants and clients, and the
 * signing-key life cycle (ensure, rotate, expire). Shared by the CLI and the
 * bootstrap file, so both accept exactly the same input. */
#include "tenant.h"

#include "compat/compat.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TTL_MAX (400 * TS_SECONDS_PER_DAY)
#define LIST_MAX 256
#define STR_MAX 2048


int ts_admin_fail(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, cap, fmt, ap);
	va_end(ap);
	return TS_EINVAL;
}

void ts_admin_audit(struct ts_admin *a, const char *tenant, const char *type, const char *subject,
		    json_t *detail)
{
	struct ts_audit_rec r;

	memset(&r, 0, sizeof(r));
	r.tenant = (char *)tenant;
	r.time = ts_now();
	r.type = (char *)type;
	r.actor = (char *)(a->actor ? a->actor : "cli");
	r.subject = (char *)subject;
	r.detail = detail ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (ts_store_audit_append(a->store, &r, 1) != TS_OK)
		ts_log_warn("could not record audit event %s", type);
	free(r.detail);
	json_decref(detail);
}

int ts_admin_check_known(const json_t *obj, const char *const *known, const char *what,
			 char *err, size_t cap)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)obj, k, v) {
		size_t i;
		bool ok = false;
		(void)v;
		for (i = 0; known[i]; i++)
			if (strcmp(known[i], k) == 0)
				ok = true;
		if (!ok)
			return ts_admin_fail(err, cap, "unknown field \"%s\" in %s", k, what);
	}
	return TS_OK;
}

bool ts_admin_printable(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0, i;

	if (n == 0 || n > max)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ) */
static bool scope_token_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 128)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e)
			return false;
	}
	return true;
}

/* Copies an optional array of strings into dst[key], each checked by ok. */
static int copy_strings(json_t *dst, const json_t *src, const char *key, const char *what,
			bool (*ok)(const char *), char *err, size_t cap)
{
	const json_t *a = json_object_get(src, key);
	json_t *out;
	size_t i;

	if (a == NULL)
		return TS_OK;
	if (!json_is_array(a) || json_array_size(a) > LIST_MAX)
		return ts_admin_fail(err, cap, "%s: \"%s\" must be an array of strings", what, key);
	out = json_array();
	for (i = 0; i < json_array_size(a); i++) {
		const char *s = json_string_value(json_array_get(a, i));
		if (s == NULL || !ts_admin_printable(s, STR_MAX) || (ok && !ok(s))) {
			json_decref(out);
			return ts_admin_fail(err, cap, "%s: \"%s\" has an invalid entry%s%s", what, key,
				    s ? ": " : "", s && strlen(s) < 200 ? s : "");
		}
		json_array_append_new(out, json_string(s));
	}
	json_object_set_new(dst, key, out);
	return TS_OK;
}

static int copy_string(json_t *dst, const json_t *src, const char *key, const char *what,
		       char *err, size_t cap)
{
	const json_t *v = json_object_get(src, key);

	if (v == NULL || json_is_null(v))
		return TS_OK;
	if (!json_is_string(v) || !ts_admin_printable(json_string_value(v), STR_MAX))
		return ts_admin_fail(err, cap, "%s: \"%s\" must be a non-empty string", what, key);
	json_object_set_new(dst, key, json_string(json_string_value(v)));
	return TS_OK;
}

static int copy_bool(json_t *dst, const json_t *src, const char *key, const char *what,
		     char *err, size_t cap)
{
	const json_t *v = json_object_get(src, key);

	if (v == NULL)
		return TS_OK;
	if (!json_is_boolean(v))
		return ts_admin_fail(err, cap, "%s: \"%s\" must be true or false", what, key);
	json_object_set_new(dst, key, json_boolean(json_is_true(v)));
	return TS_OK;
}

static int copy_ttl(json_t *dst, const json_t *src, const char *key, const char *what,
		    char *err, size_t cap)
{
	const json_t *v = json_object_get(src, key);

	if (v == NULL)
		return TS_OK;
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > TTL_MAX)
		return ts_admin_fail(err, cap, "%s: \"%s\" must be a number of seconds between 1 and %d", what,
			    key, TTL_MAX);
	json_object_set_new(dst, key, json_integer(json_integer_value(v)));
	return TS_OK;
}

static bool domain_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
			return false;
	}
	return i > 0 && i <= 253;
}

static bool role_ok(const char *s)
{
	return strlen(s) <= 128;
}

/* Builds the canonical tenant configuration from a spec. */
static int tenant_config(const json_t *spec, json_t **out, char *err, size_t cap)
{
	static const char *const known[] = {
		"name", "display_name", "domains", "audience", "access_token_ttl",
		"refresh_token_ttl", "code_ttl", "access_token_alg", "roles", "api_key_roles",
		"scopes", "compat", "mobile_login_method", "login_client", NULL,
	};
	static const char *const scope_known[] = {"name", "includes", "description", NULL};
	const char *name = json_string_value(json_object_get(spec, "name"));
	json_t *cfg = json_object(), *scopes;
	const json_t *v;
	int rc;

	*out = NULL;
	if (!json_is_object(spec)) {
		json_decref(cfg);
		return ts_admin_fail(err, cap, "a tenant must be a JSON object");
	}
	rc = ts_admin_check_known(spec, known, "tenant", err, cap);
	if (rc == TS_OK && !ts_tenant_name_ok(name))
		rc = ts_admin_fail(err, cap, "tenant \"name\" must match [a-z0-9-]{1,63}");
	if (rc == TS_OK)
		rc = copy_string(cfg, spec, "display_name", "tenant", err, cap);
	if (rc == TS_OK)
		rc = copy_strings(cfg, spec, "domains", "tenant", domain_ok, err, cap);
	if (rc == TS_OK)
		rc = copy_string(cfg, spec, "audience", "tenant", err, cap);
	if (rc == TS_OK)
		rc = copy_ttl(cfg, spec, "access_token_ttl", "tenant", err, cap);
	if (rc == TS_OK)
		rc = copy_ttl(cfg, spec, "refresh_token_ttl", "tenant", err, cap);
	if (rc == TS_OK)
		rc = copy_ttl(cfg, spec, "code_ttl", "tenant", err, cap);
	if (rc == TS_OK && (v = json_object_get(spec, "access_token_alg")) != NULL) {
		if (ts_jws_alg_parse(json_string_value(v)) == TS_ALG_NONE)
			rc = ts_admin_fail(err, cap, "tenant: \"access_token_alg\" must be ES256, RS256, EdDSA or PS256");
		else
			json_object_set_new(cfg, "access_token_alg", json_string(json_string_value(v)));
	}
	if (rc == TS_OK)
		rc = ts_compat_config(cfg, spec, err, cap);
	if (rc == TS_OK)
		rc = copy_strings(cfg, spec, "roles", "tenant", role_ok, err, cap);
	if (rc == TS_OK)
		rc = copy_strings(cfg, spec, "api_key_roles", "tenant", role_ok, err, cap);
	v = json_object_get(spec, "scopes");
	if (rc == TS_OK && v) {
		size_t i;
		if (!json_is_array(v) || json_array_size(v) > LIST_MAX)
			rc = ts_admin_fail(err, cap, "tenant: \"scopes\" must be an array of objects");
		scopes = json_array();
		for (i = 0; rc == TS_OK && i < json_array_size(v); i++) {
			const json_t *s = json_array_get(v, i);
			json_t *o = json_object();
			const char *sn = json_string_value(json_object_get(s, "name"));
			if (!json_is_object(s)) {
				rc = ts_admin_fail(err, cap, "tenant: each scope must be an object");
			} else if ((rc = ts_admin_check_known(s, scope_known, "scope", err, cap)) != TS_OK) {
			} else if (sn == NULL || !scope_token_ok(sn)) {
				rc = ts_admin_fail(err, cap, "scope: \"name\" must be a valid scope token");
			} else {
				json_object_set_new(o, "name", json_string(sn));
				rc = copy_strings(o, s, "includes", "scope", scope_token_ok, err, cap);
				if (rc == TS_OK)
					rc = copy_string(o, s, "description", "scope", err, cap);
			}
			if (rc == TS_OK)
				json_array_append(scopes, o);
			json_decref(o);
		}
		json_object_set_new(cfg, "scopes", scopes);
	}
	if (rc != TS_OK) {
		json_decref(cfg);
		return rc;
	}
	*out = cfg;
	return TS_OK;
}

int ts_admin_tenant_apply(struct ts_admin *a, const json_t *spec, const char **result,
			  char *err, size_t errcap)
{
	struct ts_tenant_rec *old = NULL, rec;
	json_t *cfg = NULL, *oldcfg = NULL;
	char id[37];
	int rc;

	memset(&rec, 0, sizeof(rec));
	*result = NULL;
	rc = tenant_config(spec, &cfg, err, errcap);
	if (rc != TS_OK)
		return rc;
	rec.name = (char *)json_string_value(json_object_get(spec, "name"));
	rc = ts_store_tenant_get(a->store, rec.name, &old);
	if (rc != TS_OK && rc != TS_ENOTFOUND)
		goto out;
	rec.config = json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS);
	if (old) {
		oldcfg = json_loads(old->config, 0, NULL);
		rec.id = old->id;
		rec.created_at = old->created_at;
		*result = oldcfg && json_equal(oldcfg, cfg) ? "unchanged" : "updated";
	} else {
		/* A tenant that cannot get its signing keys is not created. */
		if (a->mk == NULL) {
			rc = TS_ECRYPTO;
			ts_admin_fail(err, errcap, "TESSERA_MASTER_KEY is not set; it seals the "
				      "signing keys of tenant %s", rec.name);
			goto out;
		}
		rc = ts_rand_uuid(id);
		if (rc != TS_OK)
			goto out;
		rec.id = id;
		rec.created_at = ts_now();
		*result = "created";
	}
	rec.updated_at = ts_now();
	if (strcmp(*result, "unchanged") != 0) {
		rc = ts_store_tenant_put(a->store, &rec);
		if (rc != TS_OK)
			goto out;
		ts_admin_audit(a, rec.name, old ? "tenant.updated" : "tenant.created", rec.name, NULL);
	}
	rc = ts_admin_keys_ensure(a, &rec);
	if (rc != TS_OK && old == NULL && *result != NULL) {
		/* Undo the new tenant, so that a command that fails changes
		 * nothing and its retry is not told "already exists". */
		if (ts_store_tenant_delete(a->store, rec.name) != TS_OK)
			ts_log_err("tenant %s was created without signing keys and could not be "
				   "removed again", rec.name);
	}
out:
	if (rc != TS_OK && err[0] == '\0')
		ts_admin_fail(err, errcap, "could not save tenant (%s)", ts_rc_str(rc));
	free(rec.config);
	json_decref(cfg);
	json_decref(oldcfg);
	ts_tenant_rec_free(old);
	return rc;
}

bool ts_redirect_scheme_refused(const char *uri)
{
	static const char *const refused[] = {"javascript", "data", "vbscript", "file"};
	size_t i, len = strcspn(uri, ":");

	for (i = 0; i < TS_ARRAY_LEN(refused); i++)
		if (strlen(refused[i]) == len && strncasecmp(uri, refused[i], len) == 0)
			return true;
	return false;
}

static bool redirect_uri_ok(const char *s)
{
	const char *colon = strchr(s, ':');
	size_t i;

	/* RFC 6749 §3.1.2: absolute URI without a fragment; RFC 8252 §7.1 allows
	 * private-use schemes such as app.acme:/ for native apps. */
	if (colon == NULL || colon == s || strchr(s, '#') || strlen(s) > 2000 ||
	    ts_redirect_scheme_refused(s))
		return false;
	for (i = 0; s + i < colon; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i && ((c >= '0' && c <= '9') ||
		      c == '+' || c == '-' || c == '.'))))
			return false;
	}
	for (i = 0; s[i]; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static bool origin_ok(const char *s)
{
	/* scheme "://" host [":" port], nothing after */
	const char *p = strstr(s, "://");
	return p && p != s && strchr(p + 3, '/') == NULL && p[3] != '\0';
}

static bool grant_ok(const char *s)
{
	static const char *const g[] = {
		"authorization_code", "refresh_token", "client_credentials", "password",
		"urn:ietf:params:oauth:grant-type:device_code",
	};
	size_t i;

	for (i = 0; i < TS_ARRAY_LEN(g); i++)
		if (strcmp(g[i], s) == 0)
			return true;
	return false;
}

static bool client_id_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > TS_CLIENT_ID_MAX)
		return false;
	for (i = 0; i < n; i++) /* RFC 6749 Appendix A.1 VSCHAR, minus ':' for Basic */
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e || s[i] == ':')
			return false;
	return true;
}

static bool has_string(const json_t *arr, const char *s)
{
	size_t i;

	for (i = 0; i < json_array_size(arr); i++)
		if (ts_str_eq(ts_str_c(json_string_value(json_array_get(arr, i))), s))
			return true;
	return false;
}

/* Builds the canonical client configuration; *secret receives the supplied
 * secret (borrowed from spec or the environment) or NULL. */
static int client_config(const json_t *spec, json_t **out, const char **secret, char *err,
			 size_t cap)
{
	static const char *const known[] = {
		"client_id", "name", "type", "secret", "secret_env", "redirect_uris",
		"post_logout_redirect_uris", "grant_types", "scopes", "skip_consent",
		"allowed_cors_origins", "disabled", "id_token_signed_response_alg",
		"token_endpoint_auth_method", "jwks", NULL,
	};
	const char *id = json_string_value(json_object_get(spec, "client_id"));
	const char *type = json_string_value(json_object_get(spec, "type"));
	const char *senv = json_string_value(json_object_get(spec, "secret_env"));
	json_t *cfg = json_object();
	const json_t *grants;
	int rc;

	*out = NULL;
	*secret = json_string_value(json_object_get(spec, "secret"));
	rc = json_is_object(spec) ? ts_admin_check_known(spec, known, "client", err, cap)
				  : ts_admin_fail(err, cap, "a client must be a JSON object");
	if (rc == TS_OK && (id == NULL || !client_id_ok(id)))
		rc = ts_admin_fail(err, cap, "client: \"client_id\" must be 1 to 128 visible characters without ':'");
	if (rc == TS_OK && json_object_get(spec, "type") && type == NULL)
		rc = ts_admin_fail(err, cap, "client %s: \"type\" must be \"public\" or \"confidential\"", id);
	if (type == NULL)
		type = "confidential";
	if (rc == TS_OK && strcmp(type, "public") != 0 && strcmp(type, "confidential") != 0)
		rc = ts_admin_fail(err, cap, "client %s: \"type\" must be \"public\" or \"confidential\"", id);
	if (rc == TS_OK && json_object_get(spec, "secret") && *secret == NULL)
		rc = ts_admin_fail(err, cap, "client %s: \"secret\" must be a string", id);
	if (rc == TS_OK && *secret && senv)
		rc = ts_admin_fail(err, cap, "client %s: give \"secret\" or \"secret_env\", not both", id);
	if (rc == TS_OK && senv) {
		*secret = getenv(senv);
		if (*secret == NULL || (*secret)[0] == '\0')
			rc = ts_admin_fail(err, cap, "client %s: environment variable %s is not set", id, senv);
	}
	if (rc == TS_OK && *secret && strcmp(type, "public") == 0)
		rc = ts_admin_fail(err, cap, "client %s: a public client has no secret", id);
	if (rc == TS_OK && *secret && strlen(*secret) < TS_CLIENT_SECRET_MIN)
		rc = ts_admin_fail(err, cap, "client %s: a client secret needs at least %d characters", id,
			  TS_CLIENT_SECRET_MIN);
	if (rc == TS_OK && *secret && strlen(*secret) > 512)
		rc = ts_admin_fail(err, cap, "client %s: a client secret has at most 512 characters", id);
	json_object_set_new(cfg, "type", json_string(type));
	if (rc == TS_OK)
		rc = copy_string(cfg, spec, "name", "client", err, cap);
	if (rc == TS_OK)
		rc = copy_strings(cfg, spec, "redirect_uris", "client", redirect_uri_ok, err, cap);
	if (rc == TS_OK)
		rc = copy_strings(cfg, spec, "post_logout_redirect_uris", "client", redirect_uri_ok,
				  err, cap);
	if (rc == TS_OK)
		rc = copy_strings(cfg, spec, "grant_types", "client", grant_ok, err, cap);
	if (rc == TS_OK && json_object_get(cfg, "grant_types") == NULL)
		json_object_set_new(cfg, "grant_types",
				    strcmp(type, "public") == 0
					    ? json_pack("[ss]", "authorization_code", "refresh_token")
					    : json_pack("[s]", "client_credentials"));
	if (rc == TS_OK)
		rc = copy_strings(cfg, spec, "scopes", "client", scope_token_ok, err, cap);
	if (rc == TS_OK)
		rc = copy_bool(cfg, spec, "skip_consent", "client", err, cap);
	if (rc == TS_OK)
		rc = copy_strings(cfg, spec, "allowed_cors_origins", "client", origin_ok, err, cap);
	if (rc == TS_OK)
		rc = copy_bool(cfg, spec, "disabled", "client", err, cap);
	if (rc == TS_OK && json_object_get(spec, "id_token_signed_response_alg")) {
		const char *alg = json_string_value(json_object_get(spec, "id_token_signed_response_alg"));
		if (ts_jws_alg_parse(alg) == TS_ALG_NONE)
			rc = ts_admin_fail(err, cap, "client %s: unsupported id_token_signed_response_alg", id);
		else
			json_object_set_new(cfg, "id_token_signed_response_alg", json_string(alg));
	}
	if (rc == TS_OK && json_object_get(spec, "token_endpoint_auth_method")) {
		const char *m = json_string_value(json_object_get(spec, "token_endpoint_auth_method"));
		static const char *const methods[] = {"client_secret_basic", "client_secret_post",
						      "private_key_jwt", "none"};
		bool ok = false;
		size_t i;
		for (i = 0; m && i < TS_ARRAY_LEN(methods); i++)
			ok = ok || strcmp(m, methods[i]) == 0;
		if (!ok)
			rc = ts_admin_fail(err, cap, "client %s: unsupported token_endpoint_auth_method", id);
		else if ((strcmp(m, "none") == 0) != (strcmp(type, "public") == 0))
			rc = ts_admin_fail(err, cap, "client %s: \"none\" is the method of public clients only", id);
		else
			json_object_set_new(cfg, "token_endpoint_auth_method", json_string(m));
	}
	if (rc == TS_OK && json_object_get(spec, "jwks")) {
		const json_t *keys = json_object_get(json_object_get(spec, "jwks"), "keys");
		size_t i;
		if (!json_is_array(keys) || json_array_size(keys) == 0 || json_array_size(keys) > 16)
			rc = ts_admin_fail(err, cap, "client %s: \"jwks\" must be {\"keys\": [1 to 16 public JWKs]}", id);
		for (i = 0; rc == TS_OK && i < json_array_size(keys); i++) {
			const json_t *k = json_array_get(keys, i);
			struct ts_jwk *jk = NULL;
			if (json_object_get(k, "d") ||
			    ts_jwk_from_json(k, ts_client_jwk_alg(k), &jk) != TS_OK)
				rc = ts_admin_fail(err, cap, "client %s: jwks key %zu is not a usable public key", id, i);
			ts_jwk_free(jk);
		}
		if (rc == TS_OK)
			json_object_set(cfg, "jwks", json_object_get(spec, "jwks"));
	}
	if (rc == TS_OK && ts_str_eq(ts_str_c(json_string_value(json_object_get(cfg, "token_endpoint_auth_method"))),
				     "private_key_jwt") && json_object_get(cfg, "jwks") == NULL)
		rc = ts_admin_fail(err, cap, "client %s: private_key_jwt needs \"jwks\"", id);
	grants = json_object_get(cfg, "grant_types");
	if (rc == TS_OK && strcmp(type, "public") == 0 && has_string(grants, "client_credentials"))
		rc = ts_admin_fail(err, cap, "client %s: a public client cannot use client_credentials", id);
	if (rc == TS_OK && has_string(grants, "authorization_code") &&
	    json_array_size(json_object_get(cfg, "redirect_uris")) == 0)
		rc = ts_admin_fail(err, cap, "client %s: authorization_code needs at least one redirect_uri", id);
	if (rc != TS_OK) {
		json_decref(cfg);
		return rc;
	}
	*out = cfg;
	return TS_OK;
}

static bool secret_matches(const char *hash, const char *secret)
{
	struct ts_client c;

	memset(&c, 0, sizeof(c));
	c.secret_hash = (char *)hash;
	return ts_client_secret_ok(&c, secret, strlen(secret));
}

int ts_admin_client_apply(struct ts_admin *a, const char *tenant, const json_t *spec,
			  const char **result, char **new_secret, char *err, size_t errcap)
{
	struct ts_tenant_rec *t = NULL;
	struct ts_client_rec *old = NULL, rec;
	json_t *cfg = NULL, *oldcfg = NULL;
	const char *secret = NULL;
	char gen[64];
	bool confidential, changed;
	int rc;

	memset(&rec, 0, sizeof(rec));
	*result = NULL;
	*new_secret = NULL;
	rc = client_config(spec, &cfg, &secret, err, errcap);
	if (rc != TS_OK)
		return rc;
	confidential = strcmp(json_string_value(json_object_get(cfg, "type")), "confidential") == 0;
	rc = ts_store_tenant_get(a->store, tenant, &t);
	if (rc == TS_ENOTFOUND)
		rc = ts_admin_fail(err, errcap, "no tenant named \"%s\"", tenant);
	if (rc != TS_OK)
		goto out;
	rec.tenant_id = t->id;
	rec.client_id = (char *)json_string_value(json_object_get(spec, "client_id"));
	rc = ts_store_client_get(a->store, t->id, rec.client_id, &old);
	if (rc != TS_OK && rc != TS_ENOTFOUND)
		goto out;
	rc = TS_OK;
	rec.config = json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS);
	if (old)
		oldcfg = json_loads(old->config, 0, NULL);
	changed = old == NULL || oldcfg == NULL || !json_equal(oldcfg, cfg);
	if (!confidential) {
		rec.secret_hash = NULL;
		changed = changed || (old && old->secret_hash);
	} else if (secret && old && old->secret_hash && secret_matches(old->secret_hash, secret)) {
		rec.secret_hash = ts_xstrdup(old->secret_hash);
	} else if (secret) {
		rc = ts_client_secret_hash(secret, &rec.secret_hash);
		changed = true;
	} else if (old && old->secret_hash) {
		rec.secret_hash = ts_xstrdup(old->secret_hash);
	} else if (json_object_get(cfg, "jwks")) {
		rec.secret_hash = NULL; /* authenticates with its keys (private_key_jwt) */
	} else {
		rc = ts_rand_token(gen, sizeof(gen), TS_CLIENT_SECRET_BYTES);
		if (rc == TS_OK)
			rc = ts_client_secret_hash(gen, &rec.secret_hash);
		if (rc == TS_OK)
			*new_secret = ts_xstrdup(gen);
		OPENSSL_cleanse(gen, sizeof(gen));
		changed = true;
	}
	if (rc != TS_OK)
		goto out;
	*result = old == NULL ? "created" : changed ? "updated" : "unchanged";
	/* Its keys first: a client that is visible can sign at once. */
	if (changed && ts_admin_client_needs_rsa(rec.config, t->config))
		rc = ts_admin_keys_ensure_rsa(a, t, true);
	if (rc == TS_OK && changed) {
		rec.created_at = old ? old->created_at : ts_now();
		rec.updated_at = ts_now();
		rc = ts_store_client_put(a->store, &rec);
		if (rc == TS_OK)
			ts_admin_audit(a, tenant, old ? "client.updated" : "client.created", rec.client_id, NULL);
	}
out:
	if (rc != TS_OK) {
		ts_free_secret(*new_secret);
		*new_secret = NULL;
		if (err[0] == '\0')
			ts_admin_fail(err, errcap, "could not save client (%s)", ts_rc_str(rc));
	}
	free(rec.config);
	free(rec.secret_hash);
	json_decref(cfg);
	json_decref(oldcfg);
	ts_client_rec_free(old);
	ts_tenant_rec_free(t);
	return rc;
}

int ts_admin_client_rotate_secret(struct ts_admin *a, const char *tenant, const char *client_id,
				  char **new_secret, char *err, size_t errcap)
{
	struct ts_tenant_rec *t = NULL;
	struct ts_client_rec *c = NULL;
	char gen[64];
	char *hash = NULL;
	int rc;

	*new_secret = NULL;
	rc = ts_store_tenant_get(a->store, tenant, &t);
	if (rc == TS_ENOTFOUND)
		rc = ts_admin_fail(err, errcap, "no tenant named \"%s\"", tenant);
	if (rc == TS_OK)
		rc = ts_store_client_get(a->store, t->id, client_id, &c);
	if (rc == TS_ENOTFOUND)
		rc = ts_admin_fail(err, errcap, "no client \"%s\" in tenant \"%s\"", client_id, tenant);
	if (rc != TS_OK)
		goto out;
	if (c->secret_hash == NULL) {
		rc = ts_admin_fail(err, errcap, "client \"%s\" is public and has no secret", client_id);
		goto out;
	}
	rc = ts_rand_token(gen, sizeof(gen), TS_CLIENT_SECRET_BYTES);
	if (rc == TS_OK)
		rc = ts_client_secret_hash(gen, &hash);
	if (rc != TS_OK)
		goto out;
	free(c->secret_hash);
	c->secret_hash = hash;
	c->updated_at = ts_now();
	rc = ts_store_client_put(a->store, c);
	if (rc == TS_OK) {
		*new_secret = ts_xstrdup(gen);
		ts_admin_audit(a, tenant, "client.secret_rotated", client_id, NULL);
	}
out:
	OPENSSL_cleanse(gen, sizeof(gen));
	if (rc != TS_OK && err[0] == '\0')
		ts_admin_fail(err, errcap, "could not rotate the secret (%s)", ts_rc_str(rc));
	ts_client_rec_free(c);
	ts_tenant_rec_free(t);
	return rc;
}

int ts_admin_tenant_validate(const json_t *spec, char *err, size_t errcap)
{
	json_t *cfg = NULL;
	int rc = tenant_config(spec, &cfg, err, errcap);

	json_decref(cfg);
	return rc;
}

int ts_admin_client_validate(const json_t *spec, char *err, size_t errcap)
{
	json_t *cfg = NULL;
	const char *secret;
	int rc = client_config(spec, &cfg, &secret, err, errcap);

	json_decref(cfg);
	return rc;
}
