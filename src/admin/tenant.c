/* tenant.c: the tenant object shared by the CLI and the bootstrap file:
 * validation into its canonical configuration (lifetimes, domains, roles,
 * scopes, compatibility profiles) and create/update with its signing
 * keys ensured. */
#include "internal.h"

#include "store/store_config.h"
#include "wire/ascii.h"

#include <stdlib.h>
#include <string.h>

#define TTL_MAX (400 * TS_SECONDS_PER_DAY)

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

/* "key_rotation": whole seconds between automatic rotations of the
 * signing keys, or 0 for rotation by hand only. One other than 0 is at
 * least as long as a retired key stays in JWKS, so that a tenant's JWKS
 * holds one or two retired keys per algorithm however long its tokens
 * live; dst is the rest of the new configuration (lifetimes and profiles
 * already copied), so a longer access_token_ttl is checked too, and the
 * message states this tenant's own shortest value. */
static int copy_key_rotation(json_t *dst, const json_t *src, char *err, size_t cap)
{
	const json_t *v = json_object_get(src, "key_rotation");
	json_int_t n = json_integer_value(v);
	int64_t min = ts_admin_key_retention(dst);

	if (v == NULL)
		return TS_OK;
	if (min < TS_KEY_ROTATION_MIN_S)
		min = TS_KEY_ROTATION_MIN_S;
	if (!json_is_integer(v) || (n != 0 && (n < min || n > TS_KEY_ROTATION_MAX_S)))
		return ts_admin_fail(err, cap, "tenant: \"key_rotation\" must be 0 (rotation by hand "
				     "only) or a number of seconds between %lld and %d: a retired key "
				     "stays in JWKS for \"access_token_ttl\" (at least %d s) plus %d s",
				     (long long)min, TS_KEY_ROTATION_MAX_S, TS_SECONDS_PER_HOUR,
				     TS_JWKS_MAX_AGE_S);
	json_object_set_new(dst, "key_rotation", json_integer(n));
	return TS_OK;
}

static bool domain_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(ts_is_lower(c) || ts_is_digit(c) || c == '-' || c == '.'))
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
		"scopes", "compat", "mobile_login_method", "login_client", "dynamic_registration",
		"key_rotation", NULL,
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
		rc = ts_admin_copy_string(cfg, spec, "display_name", "tenant", err, cap);
	if (rc == TS_OK)
		rc = ts_admin_copy_strings(cfg, spec, "domains", "tenant", domain_ok, err, cap);
	if (rc == TS_OK)
		rc = ts_admin_copy_string(cfg, spec, "audience", "tenant", err, cap);
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
		rc = ts_admin_tenant_compat(cfg, spec, err, cap);
	if (rc == TS_OK && (v = json_object_get(spec, "dynamic_registration")) != NULL) {
		if (!json_is_boolean(v))
			rc = ts_admin_fail(err, cap, "tenant: \"dynamic_registration\" must be true or false");
		else if (json_is_true(v))
			json_object_set_new(cfg, "dynamic_registration", json_true());
	}
	if (rc == TS_OK)
		rc = copy_key_rotation(cfg, spec, err, cap);
	if (rc == TS_OK)
		rc = ts_admin_copy_strings(cfg, spec, "roles", "tenant", role_ok, err, cap);
	if (rc == TS_OK)
		rc = ts_admin_copy_strings(cfg, spec, "api_key_roles", "tenant", role_ok, err, cap);
	v = json_object_get(spec, "scopes");
	if (rc == TS_OK && v) {
		size_t i;
		if (!json_is_array(v) || json_array_size(v) > TS_ADMIN_LIST_MAX)
			rc = ts_admin_fail(err, cap, "tenant: \"scopes\" must be an array of objects");
		scopes = json_array();
		for (i = 0; rc == TS_OK && i < json_array_size(v); i++) {
			const json_t *s = json_array_get(v, i);
			json_t *o = json_object();
			const char *sn = json_string_value(json_object_get(s, "name"));
			if (!json_is_object(s)) {
				rc = ts_admin_fail(err, cap, "tenant: each scope must be an object");
			} else if ((rc = ts_admin_check_known(s, scope_known, "scope", err, cap)) != TS_OK) {
			} else if (sn == NULL || !ts_admin_scope_token_ok(sn)) {
				rc = ts_admin_fail(err, cap, "scope: \"name\" must be a valid scope token");
			} else {
				json_object_set_new(o, "name", json_string(sn));
				rc = ts_admin_copy_strings(o, s, "includes", "scope", ts_admin_scope_token_ok,
							   err, cap);
				if (rc == TS_OK)
					rc = ts_admin_copy_string(o, s, "description", "scope", err, cap);
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

int ts_admin_tenant_validate(const json_t *spec, char *err, size_t errcap)
{
	json_t *cfg = NULL;
	int rc = tenant_config(spec, &cfg, err, errcap);

	json_decref(cfg);
	return rc;
}

