/* oauth2.c: Tessera as an OAuth 2.0 client of a provider: the
 * authorization request (RFC 6749 §4.1.1 with PKCE S256, RFC 7636), the
 * code exchange (§4.1.3), refresh (§6), client credentials (§4.4),
 * revocation (RFC 7009) and SMART App Launch discovery
 * ({fhir}/.well-known/smart-configuration). Client authentication is
 * client_secret_basic (§2.3.1), client_secret_post, or none (public). */
#include "vault_int.h"

#include "http/http.h"
#include "http/members.h"
#include "wire/ascii.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FORM_MAX (64 * 1024)
#define INFO_FIELDS_MAX 32
#define INFO_VALUE_MAX 2048
#define EXPIRES_MAX (400LL * TS_SECONDS_PER_DAY)
#define FORM_PARAMS_MAX 64

/* The token response members kept as the connection's provider_data: the
 * standard ones (RFC 6749 §5.1) and those of the ready-made profiles
 * (Salesforce: instance_url, id, issued_at; SMART App Launch: patient,
 * encounter, need_patient_banner, smart_style_url, intent, tenant;
 * HubSpot: hub_id, hub_domain, user_id). Anything else a provider sends is
 * dropped: it could be a secret under an unexpected name. */
static const char *const kept_members[] = {
	TS_P_SCOPE, TS_J_TOKEN_TYPE, "instance_url", "id", "issued_at", "patient", "encounter",
	"need_patient_banner", "smart_style_url", "intent", "tenant", "hub_id", "hub_domain",
	"user_id", NULL,
};

bool ts_vault_kept_member(const char *k)
{
	size_t i;

	for (i = 0; kept_members[i]; i++)
		if (strcmp(kept_members[i], k) == 0)
			return true;
	return false;
}

void ts_vault_oauth2_endpoints(const struct ts_vault_provider *p, const json_t *meta,
			       const char **authorize, const char **token, const char **revoke)
{
	const json_t *smart = json_object_get(meta, "smart");

	*authorize = p->authorize_url;
	*token = p->token_url;
	*revoke = p->revoke_url;
	if (p->fhir_base_url && json_is_object(smart)) {
		if (*authorize == NULL)
			*authorize = json_string_value(json_object_get(smart, "authorization_endpoint"));
		if (*token == NULL)
			*token = json_string_value(json_object_get(smart, "token_endpoint"));
		if (*revoke == NULL)
			*revoke = json_string_value(json_object_get(smart, "revocation_endpoint"));
	}
}

static int append_param(struct ts_buf *b, bool *first, const char *name, const char *value)
{
	int rc = ts_buf_appends(b, *first ? "" : "&");

	*first = false;
	if (rc == TS_OK)
		rc = ts_buf_append_urlencoded(b, name);
	if (rc == TS_OK)
		rc = ts_buf_appends(b, "=");
	if (rc == TS_OK)
		rc = ts_buf_append_urlencoded(b, value);
	return rc;
}

/* The provider's scopes, space-separated, into b (nothing if none). */
static int append_scopes(struct ts_buf *b, const struct ts_vault_provider *p, bool *any)
{
	const json_t *scopes = json_object_get(p->cfg, "scopes");
	size_t i;
	int rc = TS_OK;

	*any = false;
	for (i = 0; rc == TS_OK && i < json_array_size(scopes); i++) {
		const char *s = json_string_value(json_array_get(scopes, i));
		if (s == NULL)
			continue;
		rc = ts_buf_appends(b, *any ? " " : "");
		if (rc == TS_OK)
			rc = ts_buf_appends(b, s);
		*any = true;
	}
	return rc;
}

int ts_vault_oauth2_authorize_url(const struct ts_vault_provider *p, const char *endpoint,
				  const char *redirect_uri, const char *state,
				  const char *challenge, const char *launch, struct ts_buf *out)
{
	const json_t *extra = json_object_get(p->cfg, "extra_authorize_params");
	struct ts_buf scope;
	const char *k;
	json_t *val;
	bool first = false, any = false;
	int rc;

	ts_buf_init(&scope, FORM_MAX);
	rc = ts_buf_appends(out, endpoint);
	/* An authorization URL may carry its own query (RFC 6749 §3.1). */
	if (rc == TS_OK)
		rc = ts_buf_appends(out, strchr(endpoint, '?') ? "&" : "?");
	first = true;
	if (rc == TS_OK)
		rc = append_param(out, &first, TS_P_RESPONSE_TYPE, "code");
	if (rc == TS_OK)
		rc = append_param(out, &first, TS_P_CLIENT_ID, p->client_id);
	if (rc == TS_OK)
		rc = append_param(out, &first, TS_P_REDIRECT_URI, redirect_uri);
	if (rc == TS_OK)
		rc = append_param(out, &first, TS_P_STATE, state);
	if (rc == TS_OK)
		rc = append_scopes(&scope, p, &any);
	if (rc == TS_OK && any)
		rc = append_param(out, &first, TS_P_SCOPE, scope.p);
	if (rc == TS_OK && challenge) {
		rc = append_param(out, &first, TS_P_CODE_CHALLENGE, challenge);
		if (rc == TS_OK)
			rc = append_param(out, &first, TS_P_CODE_CHALLENGE_METHOD, "S256");
	}
	/* SMART App Launch §2.0.5: aud names the FHIR server the token is for. */
	if (rc == TS_OK && p->fhir_base_url)
		rc = append_param(out, &first, "aud", p->fhir_base_url);
	if (rc == TS_OK && launch)
		rc = append_param(out, &first, "launch", launch);
	json_object_foreach((json_t *)extra, k, val) {
		if (rc == TS_OK && json_is_string(val))
			rc = append_param(out, &first, k, json_string_value(val));
	}
	ts_buf_clear(&scope);
	return rc;
}

/* A positive number of seconds given as a JSON integer or a decimal
 * string (some providers send strings); 0 if absent or unusable. */
static int64_t seconds_member(const json_t *o, const char *name)
{
	const json_t *v = json_object_get(o, name);
	long long n = 0;

	if (json_is_integer(v)) {
		n = json_integer_value(v);
	} else if (json_is_string(v)) {
		char *end;
		const char *s = json_string_value(v);
		n = strtoll(s, &end, 10);
		if (*s == '\0' || *end != '\0')
			n = 0;
	} else if (json_is_real(v)) {
		n = (long long)json_real_value(v);
	}
	return n > 0 && n <= EXPIRES_MAX ? (int64_t)n : 0;
}

/* A form-encoded answer (GitHub-style providers) as a JSON object of
 * strings. New reference, or NULL. */
static json_t *form_to_json(const char *body, size_t len)
{
	struct ts_arena *a = ts_arena_new();
	struct ts_param *v = NULL;
	size_t n = 0, i;
	json_t *o = NULL;

	if (ts_form_parse(a, body, len, FORM_PARAMS_MAX, &v, &n) == TS_OK) {
		o = json_object();
		for (i = 0; i < n; i++)
			json_object_set_new(o, v[i].name, json_string(v[i].value));
	}
	ts_arena_free(a);
	return o;
}

/* Wipes the string members of a parsed answer (they may be tokens). */
static void wipe_json(json_t *o)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v) {
		if (json_is_string(v))
			OPENSSL_cleanse((char *)json_string_value(v), json_string_length(v));
	}
}

/* Copies the known members of a token answer that are printable, short
 * scalars. */
static json_t *info_of(const json_t *o)
{
	json_t *info = json_object(), *v;
	const char *k;
	size_t n = 0;

	json_object_foreach((json_t *)o, k, v) {
		if (n >= INFO_FIELDS_MAX || !ts_vault_kept_member(k))
			continue;
		if (json_is_string(v) && ts_vault_printable(json_string_value(v), INFO_VALUE_MAX))
			json_object_set_new(info, k, json_string(json_string_value(v)));
		else if (json_is_integer(v) || json_is_boolean(v))
			json_object_set(info, k, v);
		else
			continue;
		n++;
	}
	return info;
}

static bool token_ok(const char *s)
{
	size_t i, n = s ? strlen(s) : 0;

	if (n == 0 || n > TS_VAULT_TOKEN_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!ts_is_vchar((unsigned char)s[i]))
			return false;
	return true;
}

/* The secrets a token request sent: the client secret and up to three
 * grant values (code, code_verifier, refresh_token). */
#define SENT_MAX 4
struct sent {
	const char *v[SENT_MAX];
	size_t n;
};

/* Parses a token endpoint answer (RFC 6749 §5.1, §5.2). */
static int parse_tokens(const struct ts_upstream_resp *r, const struct sent *sent,
			struct ts_vault_tokens *t, char *err, size_t cap)
{
	json_t *o = NULL;
	const char *at, *rt;
	int rc = TS_EIO;

	memset(t, 0, sizeof(*t));
	if (r->content_type && strcmp(r->content_type, "application/x-www-form-urlencoded") == 0)
		o = form_to_json(r->body, r->len);
	else
		o = json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, NULL);
	if (r->status >= 200 && r->status < 300) {
		at = json_string_value(json_object_get(o, TS_P_ACCESS_TOKEN));
		rt = json_string_value(json_object_get(o, TS_P_REFRESH_TOKEN));
		if (!json_is_object(o) || !token_ok(at) || (rt != NULL && !token_ok(rt))) {
			snprintf(err, cap, "the provider's token answer has no usable access_token");
			goto out;
		}
		t->access_token = ts_xstrdup(at);
		t->refresh_token = ts_xstrdup(rt);
		t->expires_in = seconds_member(o, TS_J_EXPIRES_IN);
		t->refresh_expires_in = seconds_member(o, "refresh_token_expires_in");
		if (t->refresh_expires_in == 0)
			t->refresh_expires_in = seconds_member(o, "refresh_expires_in");
		t->info = info_of(o);
		rc = TS_OK;
		goto out;
	}
	/* RFC 6749 §5.2: the error code and a scrubbed, bounded description. */
	ts_vault_error_text(err, cap, "the provider",
			    json_string_value(json_object_get(o, TS_P_ERROR)),
			    json_string_value(json_object_get(o, TS_P_ERROR_DESCRIPTION)), r->status,
			    sent->v, sent->n);
	/* RFC 6749 §5.2: invalid_grant is the refusal of the code or refresh
	 * token itself; anything else may pass (or is the operator's to fix). */
	if (r->status >= 400 && r->status < 500 &&
	    ts_str_eq(ts_str_c(json_string_value(json_object_get(o, TS_P_ERROR))), TS_ERR_INVALID_GRANT))
		rc = TS_EDENIED;
out:
	if (o) {
		wipe_json(o);
		json_decref(o);
	}
	return rc;
}

/* POSTs form (adding client authentication) to token_url. */
static int token_request(struct ts_vault *v, const struct ts_vault_provider *p,
			 const char *token_url, struct ts_buf *form, struct sent *sent,
			 struct ts_vault_tokens *t, char *err, size_t cap)
{
	struct ts_upstream_req rq;
	struct ts_upstream_resp r;
	bool first = form->len == 0;
	int rc = TS_OK;

	if (sent->n < SENT_MAX)
		sent->v[sent->n++] = p->secret;

	memset(&rq, 0, sizeof(rq));
	memset(t, 0, sizeof(*t));
	if (token_url == NULL) {
		snprintf(err, cap, "the provider has no token endpoint");
		return TS_EIO;
	}
	if (strcmp(p->auth_method, "client_secret_basic") == 0) {
		rq.basic_user = p->client_id;
		rq.basic_pass = p->secret ? p->secret : "";
	} else {
		rc = append_param(form, &first, TS_P_CLIENT_ID, p->client_id);
		if (rc == TS_OK && strcmp(p->auth_method, "client_secret_post") == 0)
			rc = append_param(form, &first, TS_P_CLIENT_SECRET, p->secret ? p->secret : "");
	}
	if (rc != TS_OK) {
		snprintf(err, cap, "the token request is too large");
		return TS_EIO;
	}
	rq.method = "POST";
	rq.url = token_url;
	rq.content_type = "application/x-www-form-urlencoded";
	rq.body = form->p;
	rq.body_len = form->len;
	rq.timeout_ms = v->set.http_timeout_ms;
	rq.cancel = &v->halt;
	rc = ts_upstream_fetch(&rq, &r, err, cap);
	if (rc != TS_OK)
		return rc == TS_EINVAL ? TS_EIO : rc;
	rc = parse_tokens(&r, sent, t, err, cap);
	ts_upstream_resp_clear(&r);
	return rc;
}

int ts_vault_oauth2_exchange(struct ts_vault *v, const struct ts_vault_provider *p,
			     const char *token_url, const char *code, const char *redirect_uri,
			     const char *verifier, struct ts_vault_tokens *t, char *err, size_t cap)
{
	struct sent sent = {{code, verifier}, 2};
	struct ts_buf form;
	bool first = true;
	int rc;

	ts_buf_init(&form, FORM_MAX);
	rc = append_param(&form, &first, TS_P_GRANT_TYPE, TS_GRANT_AUTHORIZATION_CODE_S);
	if (rc == TS_OK)
		rc = append_param(&form, &first, TS_P_CODE, code);
	if (rc == TS_OK)
		rc = append_param(&form, &first, TS_P_REDIRECT_URI, redirect_uri);
	if (rc == TS_OK && verifier)
		rc = append_param(&form, &first, TS_P_CODE_VERIFIER, verifier);
	if (rc == TS_OK)
		rc = token_request(v, p, token_url, &form, &sent, t, err, cap);
	else
		snprintf(err, cap, "the token request is too large");
	ts_buf_clear_secret(&form);
	return rc;
}

int ts_vault_oauth2_refresh(struct ts_vault *v, const struct ts_vault_provider *p,
			    const char *token_url, const char *refresh_token,
			    struct ts_vault_tokens *t, char *err, size_t cap)
{
	struct sent sent = {{refresh_token}, 1};
	struct ts_buf form;
	bool first = true;
	int rc;

	ts_buf_init(&form, FORM_MAX);
	rc = append_param(&form, &first, TS_P_GRANT_TYPE, TS_GRANT_REFRESH_TOKEN_S);
	if (rc == TS_OK)
		rc = append_param(&form, &first, TS_P_REFRESH_TOKEN, refresh_token);
	if (rc == TS_OK)
		rc = token_request(v, p, token_url, &form, &sent, t, err, cap);
	else
		snprintf(err, cap, "the refresh request is too large");
	ts_buf_clear_secret(&form);
	return rc;
}

int ts_vault_oauth2_client_credentials(struct ts_vault *v, const struct ts_vault_provider *p,
				       struct ts_vault_tokens *t, char *err, size_t cap)
{
	struct sent sent = {{NULL}, 0};
	struct ts_buf form, scope;
	bool first = true, any = false;
	int rc;

	ts_buf_init(&form, FORM_MAX);
	ts_buf_init(&scope, FORM_MAX);
	rc = append_param(&form, &first, TS_P_GRANT_TYPE, TS_GRANT_CLIENT_CREDENTIALS_S);
	if (rc == TS_OK)
		rc = append_scopes(&scope, p, &any);
	if (rc == TS_OK && any)
		rc = append_param(&form, &first, TS_P_SCOPE, scope.p);
	if (rc == TS_OK)
		rc = token_request(v, p, p->token_url, &form, &sent, t, err, cap);
	else
		snprintf(err, cap, "the token request is too large");
	ts_buf_clear(&scope);
	ts_buf_clear_secret(&form);
	return rc;
}

int ts_vault_oauth2_revoke(struct ts_vault *v, const struct ts_vault_provider *p,
			   const char *revoke_url, const char *token, const char *hint, char *err,
			   size_t cap)
{
	struct ts_upstream_req rq;
	struct ts_upstream_resp r;
	struct ts_buf form;
	bool first = true;
	int rc;

	memset(&rq, 0, sizeof(rq));
	ts_buf_init(&form, FORM_MAX);
	rc = append_param(&form, &first, TS_P_TOKEN, token);
	if (rc == TS_OK)
		rc = append_param(&form, &first, TS_P_TOKEN_TYPE_HINT, hint);
	if (rc == TS_OK && strcmp(p->auth_method, "client_secret_basic") == 0) {
		rq.basic_user = p->client_id;
		rq.basic_pass = p->secret ? p->secret : "";
	} else if (rc == TS_OK) {
		rc = append_param(&form, &first, TS_P_CLIENT_ID, p->client_id);
		if (rc == TS_OK && strcmp(p->auth_method, "client_secret_post") == 0)
			rc = append_param(&form, &first, TS_P_CLIENT_SECRET, p->secret ? p->secret : "");
	}
	if (rc != TS_OK) {
		snprintf(err, cap, "the revocation request is too large");
		goto out;
	}
	rq.method = "POST";
	rq.url = revoke_url;
	rq.content_type = "application/x-www-form-urlencoded";
	rq.body = form.p;
	rq.body_len = form.len;
	rq.timeout_ms = v->set.http_timeout_ms;
	rq.cancel = &v->halt;
	rc = ts_upstream_fetch(&rq, &r, err, cap);
	if (rc == TS_OK) {
		/* RFC 7009 §2.2: 200 whether or not the token was valid. */
		if (r.status != 200) {
			snprintf(err, cap, "the provider answered HTTP %ld", r.status);
			rc = TS_EIO;
		}
		ts_upstream_resp_clear(&r);
	}
out:
	ts_buf_clear_secret(&form);
	return rc;
}

int ts_vault_smart_discover(struct ts_vault *v, const struct ts_vault_provider *p, json_t **out,
			    char *err, size_t cap)
{
	static const char *const members[] = {"authorization_endpoint", "token_endpoint",
					      "revocation_endpoint"};
	struct ts_upstream_req rq;
	struct ts_upstream_resp r;
	struct ts_buf url;
	json_t *doc = NULL, *smart = NULL;
	size_t i, n;
	int rc;

	*out = NULL;
	memset(&rq, 0, sizeof(rq));
	ts_buf_init(&url, 4096);
	n = strlen(p->fhir_base_url);
	while (n && p->fhir_base_url[n - 1] == '/')
		n--;
	if (ts_buf_append(&url, p->fhir_base_url, n) != TS_OK ||
	    ts_buf_appends(&url, "/.well-known/smart-configuration") != TS_OK) {
		snprintf(err, cap, "the FHIR base URL is too long");
		return TS_EIO;
	}
	rq.method = "GET";
	rq.url = url.p;
	rq.timeout_ms = v->set.http_timeout_ms;
	rq.cancel = &v->halt;
	rc = ts_upstream_fetch(&rq, &r, err, cap);
	ts_buf_clear(&url);
	if (rc != TS_OK)
		return TS_EIO;
	rc = TS_EIO;
	if (r.status != 200) {
		snprintf(err, cap, "SMART configuration: the FHIR server answered HTTP %ld", r.status);
		goto out;
	}
	doc = json_loadb(r.body, r.len, JSON_REJECT_DUPLICATES, NULL);
	smart = json_object();
	for (i = 0; i < TS_ARRAY_LEN(members); i++) {
		const char *u = json_string_value(json_object_get(doc, members[i]));
		if (u == NULL)
			continue;
		if (!ts_upstream_url_ok(u)) {
			snprintf(err, cap, "SMART configuration: %s is not an allowed URL", members[i]);
			goto out;
		}
		json_object_set_new(smart, members[i], json_string(u));
	}
	if (json_object_get(smart, "authorization_endpoint") == NULL ||
	    json_object_get(smart, "token_endpoint") == NULL) {
		snprintf(err, cap, "SMART configuration lacks authorization_endpoint or token_endpoint");
		goto out;
	}
	*out = smart;
	smart = NULL;
	rc = TS_OK;
out:
	json_decref(smart);
	json_decref(doc);
	ts_upstream_resp_clear(&r);
	return rc;
}
