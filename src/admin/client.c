/* client.c: the client object shared by the CLI and the bootstrap file:
 * validation into its canonical configuration (type, redirect URIs,
 * grants, scopes, authentication method, public keys), create/update with
 * its secret hashed (or generated), and secret rotation. */
#include "internal.h"

#include "store/store_config.h"
#include "wire/ascii.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

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

static bool redirect_uri_ok(const char *s)
{
	const char *colon = strchr(s, ':'), *rest;
	size_t i, he;

	/* RFC 6749 §3.1.2: absolute URI without a fragment; RFC 8252 §7.1 allows
	 * private-use schemes such as app.acme:/ for native apps. */
	if (colon == NULL || colon == s || strchr(s, '#') || strlen(s) > 2000 ||
	    ts_redirect_scheme_refused(s) || ts_redirect_loopback(s, &he, &rest) == TS_BAD_PORT)
		return false;
	for (i = 0; s + i < colon; i++)
		if (!(i ? ts_is_scheme_char((unsigned char)s[i]) : ts_is_alpha((unsigned char)s[i])))
			return false;
	for (i = 0; s[i]; i++)
		if (ts_is_ctl_or_space((unsigned char)s[i]))
			return false;
	return true;
}

bool ts_admin_redirect_uri_ok(const char *s)
{
	return s && redirect_uri_ok(s);
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
		"urn:ietf:params:oauth:grant-type:token-exchange",
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
		if (!ts_is_vchar((unsigned char)s[i]) || s[i] == ':')
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

/* refresh_reuse_grace, when given: whole seconds, 0 to
 * TS_REFRESH_REUSE_GRACE_MAX. */
static int copy_grace(json_t *cfg, const json_t *spec, const char *id, char *err, size_t cap)
{
	const json_t *v = json_object_get(spec, "refresh_reuse_grace");

	if (v == NULL)
		return TS_OK;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > TS_REFRESH_REUSE_GRACE_MAX)
		return ts_admin_fail(err, cap,
				     "client %s: \"refresh_reuse_grace\" must be whole seconds from 0 to %d",
				     id, TS_REFRESH_REUSE_GRACE_MAX);
	json_object_set(cfg, "refresh_reuse_grace", (json_t *)v);
	return TS_OK;
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
		"token_endpoint_auth_method", "jwks", "refresh_reuse_grace", "dpop_bound_access_tokens",
		"require_pushed_authorization_requests", "registration_access_token_sha256", NULL,
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
		rc = ts_admin_copy_string(cfg, spec, "name", "client", err, cap);
	if (rc == TS_OK)
		rc = ts_admin_copy_strings(cfg, spec, "redirect_uris", "client", redirect_uri_ok, err,
					   cap);
	if (rc == TS_OK)
		rc = ts_admin_copy_strings(cfg, spec, "post_logout_redirect_uris", "client",
					   redirect_uri_ok, err, cap);
	if (rc == TS_OK)
		rc = ts_admin_copy_strings(cfg, spec, "grant_types", "client", grant_ok, err, cap);
	if (rc == TS_OK && json_object_get(cfg, "grant_types") == NULL)
		json_object_set_new(cfg, "grant_types",
				    strcmp(type, "public") == 0
					    ? json_pack("[ss]", "authorization_code", "refresh_token")
					    : json_pack("[s]", "client_credentials"));
	if (rc == TS_OK)
		rc = ts_admin_copy_strings(cfg, spec, "scopes", "client", ts_admin_scope_token_ok, err,
					   cap);
	if (rc == TS_OK)
		rc = copy_bool(cfg, spec, "skip_consent", "client", err, cap);
	if (rc == TS_OK)
		rc = ts_admin_copy_strings(cfg, spec, "allowed_cors_origins", "client", origin_ok, err,
					   cap);
	if (rc == TS_OK)
		rc = copy_bool(cfg, spec, "disabled", "client", err, cap);
	if (rc == TS_OK)
		rc = copy_grace(cfg, spec, id, err, cap);
	if (rc == TS_OK)
		rc = copy_bool(cfg, spec, "dpop_bound_access_tokens", "client", err, cap);
	if (rc == TS_OK)
		rc = copy_bool(cfg, spec, "require_pushed_authorization_requests", "client", err, cap);
	if (rc == TS_OK && json_object_get(spec, "registration_access_token_sha256")) {
		const char *h = json_string_value(json_object_get(spec, "registration_access_token_sha256"));
		if (h == NULL || strlen(h) != 2 * TS_SHA256_LEN || strspn(h, "0123456789abcdef") != strlen(h))
			rc = ts_admin_fail(err, cap, "client %s: \"registration_access_token_sha256\" must be 64 hex digits", id);
		else
			json_object_set_new(cfg, "registration_access_token_sha256", json_string(h));
	}
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
	if (rc == TS_OK && strcmp(type, "public") == 0 &&
	    has_string(grants, "urn:ietf:params:oauth:grant-type:token-exchange"))
		rc = ts_admin_fail(err, cap, "client %s: a public client cannot use token exchange", id);
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

/* Decides a client's secret_hash, into *hash (owned by the caller; NULL
 * for a public client or one with keys only), from the secret its spec
 * gives (or NULL) and its old record (or NULL); a secret generated for it
 * goes to *new_secret. *changed is set when the hash differs from the old
 * one. */
static int client_secret(const json_t *cfg, const char *secret,
			 const struct ts_client_rec *old, char **hash, char **new_secret,
			 bool *changed)
{
	bool confidential = strcmp(json_string_value(json_object_get(cfg, "type")),
				   "confidential") == 0;
	char gen[64];
	int rc = TS_OK;

	*hash = NULL;
	if (!confidential) {
		*changed = *changed || (old && old->secret_hash);
	} else if (secret && old && old->secret_hash && secret_matches(old->secret_hash, secret)) {
		*hash = ts_xstrdup(old->secret_hash);
	} else if (secret) {
		rc = ts_client_secret_hash(secret, hash);
		*changed = true;
	} else if (old && old->secret_hash) {
		*hash = ts_xstrdup(old->secret_hash);
	} else if (json_object_get(cfg, "jwks") == NULL) {
		/* (A client with jwks authenticates with its keys: private_key_jwt.) */
		rc = ts_rand_token(gen, sizeof(gen), TS_CLIENT_SECRET_BYTES);
		if (rc == TS_OK)
			rc = ts_client_secret_hash(gen, hash);
		if (rc == TS_OK)
			*new_secret = ts_xstrdup(gen);
		OPENSSL_cleanse(gen, sizeof(gen));
		*changed = true;
	}
	return rc;
}

/* From when the client's tokens count (TS_CLIENT_TOKENS_AFTER), carried
 * from its stored configuration oldcfg (NULL for a new client) into cfg.
 * Disabling it moves that past this second, so that every token issued
 * until then stays inactive once it is enabled again. Tokens carry their
 * time in whole seconds: enabling it within the second it was disabled
 * takes that second back, so that the tokens it issues from then on work
 * (and those of that second before the disabling with them). */
static void carry_tokens_after(json_t *cfg, const json_t *oldcfg)
{
	bool was_off = json_is_true(json_object_get(oldcfg, "disabled"));
	bool off = json_is_true(json_object_get(cfg, "disabled"));
	json_int_t after = json_integer_value(json_object_get(oldcfg, TS_CLIENT_TOKENS_AFTER));
	json_int_t now = (json_int_t)ts_now();

	if (oldcfg && off && !was_off)
		after = now + 1;
	else if (was_off && !off && after > now)
		after = now;
	if (after > 0)
		json_object_set_new(cfg, TS_CLIENT_TOKENS_AFTER, json_integer(after));
}

/* ts_admin_client_apply, and with update_only ts_admin_client_update. */
static int client_save(struct ts_admin *a, const char *tenant, const json_t *spec,
		       bool update_only, const char **result, char **new_secret, char *err,
		       size_t errcap)
{
	struct ts_tenant_rec *t = NULL;
	struct ts_client_rec *old = NULL, rec;
	json_t *cfg = NULL, *oldcfg = NULL;
	const char *secret = NULL;
	bool changed;
	int rc;

	memset(&rec, 0, sizeof(rec));
	*result = NULL;
	*new_secret = NULL;
	rc = client_config(spec, &cfg, &secret, err, errcap);
	if (rc != TS_OK)
		return rc;
	rc = ts_store_tenant_get(a->store, tenant, &t);
	if (rc == TS_ENOTFOUND)
		rc = ts_admin_fail(err, errcap, "no tenant named \"%s\"", tenant);
	if (rc != TS_OK)
		goto out;
	rec.tenant_id = t->id;
	rec.client_id = (char *)json_string_value(json_object_get(spec, "client_id"));
	rc = ts_store_client_get(a->store, t->id, rec.client_id, &old);
	if (rc == TS_ENOTFOUND && !update_only)
		rc = TS_OK; /* a new client */
	if (rc != TS_OK)
		goto out;
	if (old)
		oldcfg = json_loads(old->config, 0, NULL);
	carry_tokens_after(cfg, oldcfg);
	rec.config = json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS);
	changed = old == NULL || oldcfg == NULL || !json_equal(oldcfg, cfg);
	rc = client_secret(cfg, secret, old, &rec.secret_hash, new_secret, &changed);
	if (rc != TS_OK)
		goto out;
	*result = old == NULL ? "created" : changed ? "updated" : "unchanged";
	/* Its keys first: a client that is visible can sign at once. */
	if (changed && ts_admin_client_key_needs(rec.config) != 0)
		rc = ts_admin_keys_ensure_for(a, t, ts_admin_client_key_needs(rec.config));
	if (rc == TS_OK && changed) {
		rec.created_at = old ? old->created_at : ts_now();
		rec.updated_at = ts_now();
		/* An update never creates: a client deleted since it was read
		 * stays deleted (TS_ENOTFOUND). */
		rc = update_only ? ts_store_client_update(a->store, &rec)
				 : ts_store_client_put(a->store, &rec);
		if (rc == TS_OK)
			ts_admin_audit(a, tenant, old ? "client.updated" : "client.created", rec.client_id, NULL);
	}
out:
	if (rc != TS_OK) {
		ts_free_secret(*new_secret);
		*new_secret = NULL;
		if (err[0] == '\0' && rc == TS_ENOTFOUND)
			ts_admin_fail(err, errcap, "no client \"%s\" in tenant \"%s\"",
				      rec.client_id, tenant);
		else if (err[0] == '\0')
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

int ts_admin_client_apply(struct ts_admin *a, const char *tenant, const json_t *spec,
			  const char **result, char **new_secret, char *err, size_t errcap)
{
	return client_save(a, tenant, spec, false, result, new_secret, err, errcap);
}

int ts_admin_client_update(struct ts_admin *a, const char *tenant, const json_t *spec,
			   const char **result, char **new_secret, char *err, size_t errcap)
{
	return client_save(a, tenant, spec, true, result, new_secret, err, errcap);
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
		ts_admin_fail(err, errcap, "no tenant named \"%s\"", tenant);
	if (rc == TS_OK) {
		rc = ts_store_client_get(a->store, t->id, client_id, &c);
		if (rc == TS_ENOTFOUND)
			ts_admin_fail(err, errcap, "no client \"%s\" in tenant \"%s\"", client_id,
				      tenant);
	}
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

int ts_admin_client_validate(const json_t *spec, char *err, size_t errcap)
{
	json_t *cfg = NULL;
	const char *secret;
	int rc = client_config(spec, &cfg, &secret, err, errcap);

	json_decref(cfg);
	return rc;
}
