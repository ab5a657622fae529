/* discovery.c: the provider metadata (OpenID Connect Discovery 1.0 §3,
 * RFC 8414 §2). Every field describes what the server actually does: an
 * endpoint or method is listed only once it is served. */
#include "oidc.h"

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
	static const char *const grants[] = {"client_credentials"};
	static const char *const auth_methods[] = {"client_secret_basic", "client_secret_post"};
	static const char *const revoke_methods[] = {"client_secret_basic", "client_secret_post",
						     "none"};
	static const char *const subject_types[] = {"public"};
	static const char *const id_algs[] = {"RS256", "ES256", "EdDSA"};
	struct ts_rctx *rc = ctx;
	const struct ts_tenant *t = rc->tenant;
	struct ts_arena *a = req->arena;
	const char *iss = rc->issuer;
	const char *at_alg = ts_jws_alg_name(t->access_token_alg);
	json_t *doc, *scopes = json_array();
	size_t i;

	for (i = 0; i < t->nscopes; i++)
		json_array_append_new(scopes, json_string(t->scopes[i].name));
	doc = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:[s]}",
			"issuer", iss,
			"token_endpoint", ts_arena_printf(a, "%s/oauth2/token", iss),
			"jwks_uri", ts_arena_printf(a, "%s/oauth2/jwks", iss),
			"introspection_endpoint", ts_arena_printf(a, "%s/oauth2/introspect", iss),
			"revocation_endpoint", ts_arena_printf(a, "%s/oauth2/revoke", iss),
			"grant_types_supported", strings(grants, TS_ARRAY_LEN(grants)),
			"response_types_supported", json_array(),
			"token_endpoint_auth_methods_supported", strings(auth_methods, TS_ARRAY_LEN(auth_methods)),
			"introspection_endpoint_auth_methods_supported", strings(auth_methods, TS_ARRAY_LEN(auth_methods)),
			"revocation_endpoint_auth_methods_supported", strings(revoke_methods, TS_ARRAY_LEN(revoke_methods)),
			"subject_types_supported", strings(subject_types, TS_ARRAY_LEN(subject_types)),
			"id_token_signing_alg_values_supported", strings(id_algs, TS_ARRAY_LEN(id_algs)),
			"scopes_supported", scopes,
			"access_token_signing_alg_values_supported", at_alg);
	ts_http_resp_json(resp, 200, doc);
	ts_http_resp_header(resp, "Cache-Control", "public, max-age=300");
	json_decref(doc);
}

void ts_oidc_jwks(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = ctx;

	(void)req;
	ts_http_resp_text(resp, 200, "application/jwk-set+json", rc->tenant->jwks_json,
			  rc->tenant->jwks_len);
	ts_http_resp_header(resp, "Cache-Control", "public, max-age=300");
}
