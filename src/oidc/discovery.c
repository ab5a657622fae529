/* discovery.c: the provider metadata (OpenID Connect Discovery 1.0 §3,
 * RFC 8414 §2). Every field describes what the server actually does: an
 * endpoint or method is listed only once it is served. */
#include "oidc.h"

#include "http/params.h"

#include <string.h>

static json_t *strings(const char *const *v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

void ts_oidc_discovery(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	static const char *const grants[] = {TS_GRANT_AUTHORIZATION_CODE_S, TS_GRANT_REFRESH_TOKEN_S,
					     TS_GRANT_CLIENT_CREDENTIALS_S, TS_GRANT_PASSWORD_S,
					     TS_GRANT_DEVICE_CODE_S,
					     TS_GRANT_TOKEN_EXCHANGE_S};
	static const char *const auth_methods[] = {"client_secret_basic", "client_secret_post",
						   "private_key_jwt", "none"};
	static const char *const introspect_methods[] = {"client_secret_basic",
							 "client_secret_post", "private_key_jwt"};
	static const char *const subject_types[] = {"public"};
	static const char *const id_algs[] = {"RS256", "ES256", "EdDSA", "PS256"};
	static const char *const response_types[] = {"code"};
	static const char *const response_modes[] = {"query"};
	static const char *const pkce[] = {"S256"};
	static const char *const prompts[] = {"none", "login", "consent"};
	static const char *const std_scopes[] = {"openid", "profile", "email", "offline_access"};
	static const char *const claims[] = {"sub", "iss", "aud", "exp", "iat", "auth_time",
					     "nonce", "at_hash", "azp", "name",
					     "preferred_username", "email", "updated_at"};
	struct ts_rctx *rc = ctx;
	const struct ts_tenant *t = rc->tenant;
	struct ts_arena *a = req->arena;
	const char *iss = rc->issuer;
	json_t *doc, *scopes = strings(std_scopes, TS_ARRAY_LEN(std_scopes));
	size_t i;

	for (i = 0; i < t->nscopes; i++)
		json_array_append_new(scopes, json_string(t->scopes[i].name));
	doc = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}",
			"issuer", iss,
			"authorization_endpoint", ts_arena_printf(a, "%s/oauth2/authorize", iss),
			"token_endpoint", ts_arena_printf(a, "%s/oauth2/token", iss),
			"userinfo_endpoint", ts_arena_printf(a, "%s/oauth2/userinfo", iss),
			"jwks_uri", ts_arena_printf(a, "%s/oauth2/jwks", iss),
			"introspection_endpoint", ts_arena_printf(a, "%s/oauth2/introspect", iss),
			"revocation_endpoint", ts_arena_printf(a, "%s/oauth2/revoke", iss),
			"end_session_endpoint", ts_arena_printf(a, "%s/logout", iss));
	json_object_set_new(doc, "device_authorization_endpoint",
			    json_string(ts_arena_printf(a, "%s/oauth2/device_authorization", iss)));
	json_object_set_new(doc, "grant_types_supported", strings(grants, TS_ARRAY_LEN(grants)));
	json_object_set_new(doc, "response_types_supported", strings(response_types, TS_ARRAY_LEN(response_types)));
	json_object_set_new(doc, "response_modes_supported", strings(response_modes, TS_ARRAY_LEN(response_modes)));
	json_object_set_new(doc, "code_challenge_methods_supported", strings(pkce, TS_ARRAY_LEN(pkce)));
	json_object_set_new(doc, "token_endpoint_auth_methods_supported", strings(auth_methods, TS_ARRAY_LEN(auth_methods)));
	json_object_set_new(doc, "introspection_endpoint_auth_methods_supported", strings(introspect_methods, TS_ARRAY_LEN(introspect_methods)));
	json_object_set_new(doc, "revocation_endpoint_auth_methods_supported", strings(auth_methods, TS_ARRAY_LEN(auth_methods)));
	json_object_set_new(doc, "token_endpoint_auth_signing_alg_values_supported",
			    strings(id_algs, TS_ARRAY_LEN(id_algs)));
	/* RFC 8414 §2: required wherever private_key_jwt is listed. */
	json_object_set_new(doc, "introspection_endpoint_auth_signing_alg_values_supported",
			    strings(id_algs, TS_ARRAY_LEN(id_algs)));
	json_object_set_new(doc, "revocation_endpoint_auth_signing_alg_values_supported",
			    strings(id_algs, TS_ARRAY_LEN(id_algs)));
	json_object_set_new(doc, "subject_types_supported", strings(subject_types, TS_ARRAY_LEN(subject_types)));
	json_object_set_new(doc, "id_token_signing_alg_values_supported", strings(id_algs, TS_ARRAY_LEN(id_algs)));
	json_object_set_new(doc, "prompt_values_supported", strings(prompts, TS_ARRAY_LEN(prompts)));
	json_object_set_new(doc, "claims_supported", strings(claims, TS_ARRAY_LEN(claims)));
	json_object_set_new(doc, "scopes_supported", scopes);
	/* Not registered metadata: the tenant's scope hierarchy, so that
	 * resource servers (libtessera) can honour "includes" too. */
	{
		json_t *inc = json_object();
		for (i = 0; i < t->nscopes; i++) {
			json_t *arr = json_array();
			size_t j;
			for (j = 0; j < t->scopes[i].nincludes; j++)
				json_array_append_new(arr, json_string(t->scopes[i].includes[j]));
			json_object_set_new(inc, t->scopes[i].name, arr);
		}
		json_object_set_new(doc, "tessera_scope_includes", inc);
	}
	json_object_set_new(doc, "authorization_response_iss_parameter_supported", json_true());
	json_object_set_new(doc, "request_parameter_supported", json_false());
	json_object_set_new(doc, "request_uri_parameter_supported", json_false());
	json_object_set_new(doc, "access_token_signing_alg_values_supported",
			    json_pack("[s]", ts_jws_alg_name(t->access_token_alg)));
	/* RFC 9449 §5.1: the algorithms a DPoP proof may be signed with. */
	json_object_set_new(doc, "dpop_signing_alg_values_supported",
			    json_pack("[ssss]", "ES256", "EdDSA", "RS256", "PS256"));
	/* RFC 9126 §5: pushing is open to every client, required per client. */
	json_object_set_new(doc, "pushed_authorization_request_endpoint",
			    json_string(ts_arena_printf(a, "%s/oauth2/par", iss)));
	json_object_set_new(doc, "require_pushed_authorization_requests", json_false());
	if (t->dynamic_registration)
		json_object_set_new(doc, "registration_endpoint",
				    json_string(ts_arena_printf(a, "%s/oauth2/register", iss)));
	ts_http_resp_json(resp, 200, doc);
	ts_http_resp_header(resp, "Cache-Control", "public, max-age=300");
	json_decref(doc);
}
