/* provider.c: the provider object of the token vault, shared by the CLI
 * and the bootstrap file: validation of a provider spec, the ready-made
 * profiles (Salesforce, HubSpot, Google, Microsoft, SMART on FHIR, Shopee)
 * that fill URLs and defaults, and create/update, which stores the
 * resolved settings through the vault (vault/provider_load.c seals the
 * secret). A profile only fills what the spec leaves out; the stored
 * settings are the resolved ones, so a running server never depends on
 * profile tables. */
#include "admin.h"

#include "http/params.h"
#include "vault/shopee.h"
#include "vault/vault.h"
#include "wire/ascii.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROVIDER_NAME_MAX 64
#define CLIENT_ID_MAX 512
#define SECRET_MAX 4096
#define SCOPES_MAX 64
#define SCOPE_MAX 256
#define EXTRA_MAX 32
#define EXTRA_VALUE_MAX 1024
#define LIFETIME_MAX (400LL * TS_SECONDS_PER_DAY)
#define PARTNER_ID_MAX 9007199254740991LL /* 2^53 - 1: exact in every JSON reader */
#define MS_TENANT_MAX 64

static const char *const oauth2_fields[] = {
	"name", "kind", "profile", "authorize_url", "token_url", "revoke_url", "client_id",
	"client_secret", "client_secret_env", "scopes", "pkce", "auth_method",
	"extra_authorize_params", "token_lifetime", "grant", "fhir_base_url", "microsoft_tenant",
	NULL,
};
static const char *const shopee_fields[] = {
	"name", "kind", "profile", "partner_id", "partner_key", "partner_key_env", "base_url", NULL,
};
/* Authorization request parameters Tessera sets itself. */
static const char *const reserved_params[] = {
	TS_P_RESPONSE_TYPE, TS_P_CLIENT_ID, TS_P_REDIRECT_URI, TS_P_STATE, TS_P_SCOPE,
	TS_P_CODE_CHALLENGE, TS_P_CODE_CHALLENGE_METHOD, NULL,
};

/* A profile: defaults for fields the spec leaves out. NULL members fill
 * nothing. */
struct profile {
	const char *name;
	const char *kind;
	const char *authorize_url; /* "{tenant}" stands for microsoft_tenant */
	const char *token_url;
	const char *revoke_url;
	const char *auth_method;
	int pkce;                  /* -1: no default */
	int64_t token_lifetime;    /* 0: no default */
	const char *const *scopes;
	const char *const *extra;  /* name, value, name, value, ..., NULL */
};

static const char *const sf_scopes[] = {"api", "refresh_token", NULL};
static const char *const hs_scopes[] = {"oauth", NULL};
static const char *const google_scopes[] = {"openid", "email", NULL};
static const char *const google_extra[] = {"access_type", "offline", "prompt", "consent", NULL};
static const char *const ms_scopes[] = {"offline_access", "User.Read", NULL};
static const char *const smart_scopes[] = {"openid", "fhirUser", "offline_access",
					   "launch/patient", "patient/*.read", NULL};

static const struct profile profiles[] = {
	/* Salesforce answers without expires_in; its session timeout defaults
	 * to two hours. */
	{"salesforce", "oauth2", "https://login.salesforce.com/services/oauth2/authorize",
	 "https://login.salesforce.com/services/oauth2/token",
	 "https://login.salesforce.com/services/oauth2/revoke", "client_secret_post", 1, 7200,
	 sf_scopes, NULL},
	{"hubspot", "oauth2", "https://app.hubspot.com/oauth/authorize",
	 "https://api.hubapi.com/oauth/v1/token", NULL, "client_secret_post", 0, 0, hs_scopes, NULL},
	{"google", "oauth2", "https://accounts.google.com/o/oauth2/v2/auth",
	 "https://oauth2.googleapis.com/token", "https://oauth2.googleapis.com/revoke",
	 "client_secret_post", 1, 0, google_scopes, google_extra},
	{"microsoft", "oauth2", "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize",
	 "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token", NULL, "client_secret_post",
	 1, 0, ms_scopes, NULL},
	/* Endpoints come from {fhir_base_url}/.well-known/smart-configuration
	 * at connect time. */
	{"smart-on-fhir", "oauth2", NULL, NULL, NULL, "client_secret_basic", 1, 0, smart_scopes,
	 NULL},
	{"shopee", "shopee", NULL, NULL, NULL, NULL, -1, 0, NULL, NULL},
};

static const struct profile *find_profile(const char *name)
{
	size_t i;

	for (i = 0; name && i < TS_ARRAY_LEN(profiles); i++)
		if (strcmp(profiles[i].name, name) == 0)
			return &profiles[i];
	return NULL;
}

static bool in_list(const char *const *list, const char *s)
{
	size_t i;

	for (i = 0; list[i]; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

static bool provider_name_ok(const char *s)
{
	size_t i, n = s ? strlen(s) : 0;

	if (n == 0 || n > PROVIDER_NAME_MAX)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(ts_is_alnum(c) || c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

/* RFC 6749 §3.3 scope-token. */
static bool scope_token_ok(const char *s)
{
	size_t i, n = s ? strlen(s) : 0;

	if (n == 0 || n > SCOPE_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!ts_is_nqchar((unsigned char)s[i]))
			return false;
	return true;
}

static bool ms_tenant_ok(const char *s)
{
	size_t i, n = s ? strlen(s) : 0;

	if (n == 0 || n > MS_TENANT_MAX)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(ts_is_alnum(c) || c == '-' || c == '.'))
			return false;
	}
	return true;
}

/* A spec string member: absent (NULL, TS_OK) or a printable string. */
static int get_str(const json_t *spec, const char *key, size_t max, const char **out,
		   char *err, size_t cap)
{
	const json_t *v = json_object_get(spec, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return TS_OK;
	if (!json_is_string(v) || !ts_admin_printable(json_string_value(v), max))
		return ts_admin_fail(err, cap, "provider: \"%s\" must be a non-empty string", key);
	*out = json_string_value(v);
	return TS_OK;
}

static int get_url(const json_t *spec, const char *key, const char **out, char *err, size_t cap)
{
	int rc = get_str(spec, key, 2048, out, err, cap);

	if (rc == TS_OK && *out && !ts_upstream_url_ok(*out))
		return ts_admin_fail(err, cap, "provider: \"%s\" must be an https URL (plain http only "
				     "on a loopback address)", key);
	return rc;
}

/* The secret from the spec: literal, or read from the named environment
 * variable now. *out borrowed (spec or environment); NULL if neither. */
static int get_secret(const json_t *spec, const char *lit, const char *env, const char **out,
		      char *err, size_t cap)
{
	const char *s = NULL, *e = NULL;
	int rc;

	*out = NULL;
	rc = get_str(spec, lit, SECRET_MAX, &s, err, cap);
	if (rc == TS_OK)
		rc = get_str(spec, env, 256, &e, err, cap);
	if (rc != TS_OK)
		return rc;
	if (s && e)
		return ts_admin_fail(err, cap, "provider: give \"%s\" or \"%s\", not both", lit, env);
	if (e) {
		s = getenv(e);
		if (s == NULL || s[0] == '\0')
			return ts_admin_fail(err, cap, "provider: environment variable %s (\"%s\") is "
					     "not set", e, env);
		if (!ts_admin_printable(s, SECRET_MAX))
			return ts_admin_fail(err, cap, "provider: environment variable %s holds an "
					     "unusable secret", e);
	}
	*out = s;
	return TS_OK;
}

/* Fills {tenant} in a Microsoft URL. Caller frees. */
static char *ms_url(const char *tmpl, const char *tenant)
{
	const char *at = strstr(tmpl, "{tenant}");
	struct ts_buf b;

	ts_buf_init(&b, 4096);
	if (at == NULL)
		return ts_xstrdup(tmpl);
	ts_buf_append(&b, tmpl, (size_t)(at - tmpl));
	ts_buf_appends(&b, tenant);
	ts_buf_appends(&b, at + strlen("{tenant}"));
	return b.p ? ts_buf_take(&b) : NULL;
}

static int set_url(json_t *cfg, const json_t *spec, const char *key, const char *def,
		   const char *ms_tenant, char *err, size_t cap)
{
	const char *u = NULL;
	int rc = get_url(spec, key, &u, err, cap);

	if (rc != TS_OK)
		return rc;
	if (u) {
		json_object_set_new(cfg, key, json_string(u));
	} else if (def) {
		char *filled = ms_url(def, ms_tenant ? ms_tenant : "common");
		json_object_set_new(cfg, key, json_string(filled));
		free(filled);
	}
	return TS_OK;
}

static int oauth2_scopes(json_t *cfg, const json_t *spec, const struct profile *pr, char *err,
			 size_t cap)
{
	const json_t *a = json_object_get(spec, "scopes");
	json_t *out = json_array();
	size_t i;

	if (a == NULL && pr && pr->scopes) {
		for (i = 0; pr->scopes[i]; i++)
			json_array_append_new(out, json_string(pr->scopes[i]));
	} else if (a != NULL) {
		if (!json_is_array(a) || json_array_size(a) > SCOPES_MAX) {
			json_decref(out);
			return ts_admin_fail(err, cap, "provider: \"scopes\" must be an array of scope "
					     "names");
		}
		for (i = 0; i < json_array_size(a); i++) {
			const char *s = json_string_value(json_array_get(a, i));
			if (!scope_token_ok(s)) {
				json_decref(out);
				return ts_admin_fail(err, cap, "provider: \"scopes\" has an invalid "
						     "entry%s%s", s ? ": " : "", s && strlen(s) < 100 ? s : "");
			}
			json_array_append_new(out, json_string(s));
		}
	}
	json_object_set_new(cfg, "scopes", out);
	return TS_OK;
}

static int oauth2_extra(json_t *cfg, const json_t *spec, const struct profile *pr, char *err,
			size_t cap)
{
	const json_t *x = json_object_get(spec, "extra_authorize_params");
	json_t *out = json_object(), *v;
	const char *k;
	size_t i;

	if (x == NULL && pr && pr->extra) {
		for (i = 0; pr->extra[i]; i += 2)
			json_object_set_new(out, pr->extra[i], json_string(pr->extra[i + 1]));
	} else if (x != NULL) {
		if (!json_is_object(x) || json_object_size(x) > EXTRA_MAX) {
			json_decref(out);
			return ts_admin_fail(err, cap, "provider: \"extra_authorize_params\" must be an "
					     "object of strings");
		}
		json_object_foreach((json_t *)x, k, v) {
			if (!ts_admin_printable(k, 64) || !json_is_string(v) ||
			    !ts_admin_printable(json_string_value(v), EXTRA_VALUE_MAX)) {
				json_decref(out);
				return ts_admin_fail(err, cap, "provider: \"extra_authorize_params\" "
						     "must be an object of non-empty strings");
			}
			if (in_list(reserved_params, k)) {
				json_decref(out);
				return ts_admin_fail(err, cap, "provider: \"extra_authorize_params\" "
						     "cannot set \"%s\"; Tessera sets it", k);
			}
			json_object_set_new(out, k, json_string(json_string_value(v)));
		}
	}
	json_object_set_new(cfg, "extra_authorize_params", out);
	return TS_OK;
}

/* The resolved settings of an oauth2 provider. */
/* The grant, the Microsoft directory, the FHIR server and the endpoint
 * URLs of an oauth2 provider. */
static int oauth2_endpoints(const json_t *spec, const struct profile *pr, json_t *cfg,
			    char *err, size_t cap)
{
	const char *grant = NULL, *fhir = NULL, *mst = NULL;
	bool smart = pr && strcmp(pr->name, "smart-on-fhir") == 0;
	int rc;

	rc = get_str(spec, "grant", 64, &grant, err, cap);
	if (rc != TS_OK)
		return rc;
	if (grant == NULL)
		grant = "authorization_code";
	if (strcmp(grant, "authorization_code") != 0 && strcmp(grant, "client_credentials") != 0)
		return ts_admin_fail(err, cap, "provider: \"grant\" must be authorization_code or "
				     "client_credentials");
	json_object_set_new(cfg, "grant", json_string(grant));
	rc = get_str(spec, "microsoft_tenant", MS_TENANT_MAX, &mst, err, cap);
	if (rc != TS_OK)
		return rc;
	if (mst && (pr == NULL || strcmp(pr->name, "microsoft") != 0))
		return ts_admin_fail(err, cap, "provider: \"microsoft_tenant\" needs \"profile\": "
				     "\"microsoft\"");
	if (mst && !ms_tenant_ok(mst))
		return ts_admin_fail(err, cap, "provider: \"microsoft_tenant\" must be a directory id "
				     "or domain, \"common\", \"organizations\" or \"consumers\"");
	if (mst)
		json_object_set_new(cfg, "microsoft_tenant", json_string(mst));
	rc = get_url(spec, "fhir_base_url", &fhir, err, cap);
	if (rc != TS_OK)
		return rc;
	if (fhir && !smart)
		return ts_admin_fail(err, cap, "provider: \"fhir_base_url\" needs \"profile\": "
				     "\"smart-on-fhir\"");
	if (smart && fhir == NULL)
		return ts_admin_fail(err, cap, "provider: the smart-on-fhir profile needs "
				     "\"fhir_base_url\"");
	if (fhir)
		json_object_set_new(cfg, "fhir_base_url", json_string(fhir));
	rc = set_url(cfg, spec, "authorize_url", pr ? pr->authorize_url : NULL, mst, err, cap);
	if (rc == TS_OK)
		rc = set_url(cfg, spec, "token_url", pr ? pr->token_url : NULL, mst, err, cap);
	if (rc == TS_OK)
		rc = set_url(cfg, spec, "revoke_url", pr ? pr->revoke_url : NULL, mst, err, cap);
	if (rc != TS_OK)
		return rc;
	/* SMART's endpoints are discovered when a connection starts. */
	if (!smart && json_object_get(cfg, "token_url") == NULL)
		return ts_admin_fail(err, cap, "provider: \"token_url\" is required");
	if (!smart && strcmp(grant, "authorization_code") == 0 &&
	    json_object_get(cfg, "authorize_url") == NULL)
		return ts_admin_fail(err, cap, "provider: \"authorize_url\" is required for the "
				     "authorization_code grant");
	return TS_OK;
}

/* The client: id, authentication method and secret, PKCE, the assumed
 * token lifetime. */
static int oauth2_client(const json_t *spec, const struct profile *pr, bool require_secret,
			 json_t *cfg, const char **secret, char *err, size_t cap)
{
	const char *s = NULL, *method = NULL;
	bool cc = ts_str_eq(ts_str_c(json_string_value(json_object_get(cfg, "grant"))),
			    "client_credentials");
	const json_t *v;
	int rc;

	rc = get_str(spec, "client_id", CLIENT_ID_MAX, &s, err, cap);
	if (rc != TS_OK)
		return rc;
	if (s == NULL)
		return ts_admin_fail(err, cap, "provider: \"client_id\" is required");
	json_object_set_new(cfg, "client_id", json_string(s));
	rc = get_str(spec, "auth_method", 64, &method, err, cap);
	if (rc != TS_OK)
		return rc;
	if (method == NULL)
		method = pr && pr->auth_method ? pr->auth_method : "client_secret_basic";
	if (strcmp(method, "client_secret_basic") != 0 && strcmp(method, "client_secret_post") != 0 &&
	    strcmp(method, "none") != 0)
		return ts_admin_fail(err, cap, "provider: \"auth_method\" must be client_secret_basic, "
				     "client_secret_post or none");
	json_object_set_new(cfg, "auth_method", json_string(method));
	rc = get_secret(spec, "client_secret", "client_secret_env", secret, err, cap);
	if (rc != TS_OK)
		return rc;
	if (strcmp(method, "none") == 0 && *secret)
		return ts_admin_fail(err, cap, "provider: auth_method \"none\" (a public client) takes "
				     "no client_secret");
	if (strcmp(method, "none") == 0 && cc)
		return ts_admin_fail(err, cap, "provider: the client_credentials grant needs a "
				     "client_secret");
	if (strcmp(method, "none") != 0 && *secret == NULL && require_secret)
		return ts_admin_fail(err, cap, "provider: \"client_secret\" or \"client_secret_env\" "
				     "is required");
	v = json_object_get(spec, "pkce");
	if (v && !json_is_boolean(v))
		return ts_admin_fail(err, cap, "provider: \"pkce\" must be true or false");
	json_object_set_new(cfg, "pkce", json_boolean(v ? json_is_true(v)
						       : pr && pr->pkce >= 0 ? pr->pkce == 1 : true));
	if (strcmp(method, "none") == 0 && !json_is_true(json_object_get(cfg, "pkce")))
		return ts_admin_fail(err, cap, "provider: a public client (auth_method \"none\") needs "
				     "\"pkce\": true");
	v = json_object_get(spec, "token_lifetime");
	if (v && (!json_is_integer(v) || json_integer_value(v) < 1 ||
		  json_integer_value(v) > LIFETIME_MAX))
		return ts_admin_fail(err, cap, "provider: \"token_lifetime\" must be a number of "
				     "seconds between 1 and %lld", (long long)LIFETIME_MAX);
	json_object_set_new(cfg, "token_lifetime",
			    json_integer(v ? json_integer_value(v)
					   : pr && pr->token_lifetime ? pr->token_lifetime
								      : TS_VAULT_DEFAULT_LIFETIME));
	return TS_OK;
}

/* The resolved settings of an oauth2 provider. */
static int oauth2_config(const json_t *spec, const struct profile *pr, bool require_secret,
			 json_t *cfg, const char **secret, char *err, size_t cap)
{
	int rc = ts_admin_check_known(spec, oauth2_fields, "provider", err, cap);

	if (rc == TS_OK)
		rc = oauth2_endpoints(spec, pr, cfg, err, cap);
	if (rc == TS_OK)
		rc = oauth2_client(spec, pr, require_secret, cfg, secret, err, cap);
	if (rc == TS_OK)
		rc = oauth2_scopes(cfg, spec, pr, err, cap);
	if (rc == TS_OK)
		rc = oauth2_extra(cfg, spec, pr, err, cap);
	return rc;
}

/* "live", "sandbox", "cn", "cn-sandbox" or a URL. */
static const char *shopee_base(const char *s)
{
	if (s == NULL || strcmp(s, "live") == 0)
		return TS_SHOPEE_HOST_LIVE;
	if (strcmp(s, "sandbox") == 0)
		return TS_SHOPEE_HOST_SANDBOX;
	if (strcmp(s, "cn") == 0)
		return TS_SHOPEE_HOST_CN;
	if (strcmp(s, "cn-sandbox") == 0)
		return TS_SHOPEE_HOST_CN_SANDBOX;
	return s;
}

static int shopee_config(const json_t *spec, bool require_secret, json_t *cfg,
			 const char **secret, char *err, size_t cap)
{
	const json_t *pid = json_object_get(spec, "partner_id");
	const char *base = NULL;
	long long id = 0;
	int rc;

	rc = ts_admin_check_known(spec, shopee_fields, "provider", err, cap);
	if (rc != TS_OK)
		return rc;
	if (json_is_integer(pid)) {
		id = json_integer_value(pid);
	} else if (json_is_string(pid)) {
		char *end;
		const char *s = json_string_value(pid);
		id = strtoll(s, &end, 10);
		if (*s == '\0' || *end != '\0' || s[0] == '0' || s[0] == '+' || s[0] == '-')
			id = 0;
	}
	if (id < 1 || id > PARTNER_ID_MAX)
		return ts_admin_fail(err, cap, "provider: \"partner_id\" must be a positive integer");
	json_object_set_new(cfg, "partner_id", json_integer(id));
	rc = get_str(spec, "base_url", 2048, &base, err, cap);
	if (rc != TS_OK)
		return rc;
	base = shopee_base(base);
	if (!ts_shopee_base_url_ok(base))
		return ts_admin_fail(err, cap, "provider: \"base_url\" must be live, sandbox, cn, "
				     "cn-sandbox or an https URL (plain http only on a loopback address)");
	json_object_set_new(cfg, "base_url", json_string(base));
	rc = get_secret(spec, "partner_key", "partner_key_env", secret, err, cap);
	if (rc == TS_OK && *secret == NULL && require_secret)
		rc = ts_admin_fail(err, cap, "provider: \"partner_key\" or \"partner_key_env\" is "
				   "required");
	return rc;
}

/* Resolves a spec to its stored settings (new reference in *cfg) and its
 * secret (borrowed from spec or the environment; NULL if none given). */
static int resolve(const json_t *spec, bool require_secret, json_t **cfg, const char **secret,
		   char *err, size_t cap)
{
	const char *name = NULL, *kind = NULL, *pname = NULL;
	const struct profile *pr = NULL;
	json_t *c;
	int rc;

	*cfg = NULL;
	*secret = NULL;
	if (!json_is_object(spec))
		return ts_admin_fail(err, cap, "a provider must be a JSON object");
	rc = get_str(spec, "name", PROVIDER_NAME_MAX, &name, err, cap);
	if (rc == TS_OK && !provider_name_ok(name))
		rc = ts_admin_fail(err, cap, "provider \"name\" must match [A-Za-z0-9._-]{1,64}");
	if (rc == TS_OK)
		rc = get_str(spec, "kind", 32, &kind, err, cap);
	if (rc == TS_OK)
		rc = get_str(spec, "profile", 32, &pname, err, cap);
	if (rc != TS_OK)
		return rc;
	if (pname && (pr = find_profile(pname)) == NULL)
		return ts_admin_fail(err, cap, "provider %s: unknown profile \"%s\" (salesforce, "
				     "hubspot, google, microsoft, smart-on-fhir, shopee)", name, pname);
	if (kind == NULL)
		kind = pr ? pr->kind : "oauth2";
	if (strcmp(kind, "oauth2") != 0 && strcmp(kind, "shopee") != 0)
		return ts_admin_fail(err, cap, "provider %s: \"kind\" must be oauth2 or shopee", name);
	if (pr && strcmp(pr->kind, kind) != 0)
		return ts_admin_fail(err, cap, "provider %s: profile \"%s\" is of kind %s", name,
				     pname, pr->kind);
	c = json_pack("{s:s}", "kind", kind);
	if (pname)
		json_object_set_new(c, "profile", json_string(pname));
	if (strcmp(kind, "oauth2") == 0)
		rc = oauth2_config(spec, pr, require_secret, c, secret, err, cap);
	else
		rc = shopee_config(spec, require_secret, c, secret, err, cap);
	if (rc != TS_OK) {
		/* Name the provider in the sentence when the check did not. */
		if (strncmp(err, "provider: ", 10) == 0) {
			char tmp[TS_VAULT_ERR_MAX * 2];
			snprintf(tmp, sizeof(tmp), "provider %s: %s", name, err + 10);
			snprintf(err, cap, "%s", tmp);
		}
		json_decref(c);
		return rc;
	}
	*cfg = c;
	return TS_OK;
}

int ts_admin_provider_validate(const json_t *spec, bool require_secret, char *err, size_t cap)
{
	const char *secret;
	json_t *cfg = NULL;
	int rc = resolve(spec, require_secret, &cfg, &secret, err, cap);

	json_decref(cfg);
	return rc;
}

int ts_admin_provider_apply(struct ts_vault *v, const char *tenant, const json_t *spec,
			    bool keep_secret, const char **result, char *err, size_t cap)
{
	const char *secret = NULL;
	json_t *cfg = NULL;
	int rc;

	*result = NULL;
	rc = resolve(spec, !keep_secret, &cfg, &secret, err, cap);
	if (rc != TS_OK)
		return rc;
	rc = ts_vault_provider_put(v, tenant, spec, cfg, secret, keep_secret, result, err, cap);
	json_decref(cfg);
	return rc;
}
