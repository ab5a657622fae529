/* par.c: pushed authorization requests (RFC 9126). A client authenticates
 * as at the token endpoint and pushes the parameters of an authorization
 * request, which are validated exactly as a direct request would be; the
 * answer names them by a request_uri that the authorization endpoint uses
 * up once, for that client only, within PAR_TTL_S. */
#include "oauth.h"

#include "http/members.h"
#include "store/store_state.h"

#include <stdlib.h>
#include <string.h>

#define PAR_TTL_S 60
#define PAR_KIND "par"
#define PAR_URI_PREFIX "urn:ietf:params:oauth:request_uri:"
#define PAR_ID_BYTES 32
#define PAR_URI_MAX 128

static const char *const multi_params[] = {TS_P_RESOURCE, NULL};

/* Client authentication is not part of the request that is kept. */
static bool kept(const char *name)
{
	return strcmp(name, TS_P_CLIENT_ID) != 0 && strcmp(name, TS_P_CLIENT_SECRET) != 0 &&
	       strcmp(name, TS_P_CLIENT_ASSERTION) != 0 &&
	       strcmp(name, TS_P_CLIENT_ASSERTION_TYPE) != 0;
}

/* The pushed request as stored: {"client_id": …, "params": [[name, value], …]},
 * with dpop_jkt added when jkt is not NULL. */
static char *par_data(const struct ts_client *c, const struct ts_param *v, size_t n,
		      const char *jkt)
{
	json_t *params = json_array();
	json_t *o;
	char *data;
	size_t i;

	for (i = 0; i < n; i++)
		if (kept(v[i].name))
			json_array_append_new(params, json_pack("[ss]", v[i].name, v[i].value));
	if (jkt != NULL)
		json_array_append_new(params, json_pack("[ss]", TS_P_DPOP_JKT, jkt));
	o = json_pack("{s:s,s:o}", "client_id", c->client_id, "params", params);
	data = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return data;
}

/* Validates the pushed request; false with e filled. */
static bool par_check(struct ts_rctx *rc, struct ts_http_req *req, const struct ts_client *c,
		      struct ts_oauth_err *e)
{
	struct ts_authz_req ar;

	if (ts_params_get(req->form, req->nform, TS_P_REQUEST_URI, NULL)) {
		ts_oauth_err_set(e, 400, TS_ERR_INVALID_REQUEST,
				 "a pushed request cannot name a request_uri");
		return false;
	}
	/* RFC 9126 §2.3: every error is JSON here, the redirect URI's too. */
	return ts_authz_validate(rc, req, c, req->form, req->nform, true, &ar, e) == TS_OK;
}

/* RFC 9449 §10.1: a DPoP proof sent with the push binds the code to its
 * key, as dpop_jkt does; sent together, both must name the same key. true
 * with *add set to the key's thumbprint when the pushed request must gain
 * a dpop_jkt (NULL otherwise); false with e filled. */
static bool par_dpop(struct ts_rctx *rc, struct ts_http_req *req, const struct ts_client *c,
		     const char **add, struct ts_oauth_err *e)
{
	const char *named = ts_params_get(req->form, req->nform, TS_P_DPOP_JKT, NULL);
	char jkt[44];

	*add = NULL;
	if (ts_http_header(req, TS_DPOP_HEADER) == NULL)
		return true;
	if (ts_dpop_verify(rc, req, NULL, c->dpop_bound_access_tokens, jkt, e) != TS_OK)
		return false;
	if (named != NULL && strcmp(named, jkt) != 0) {
		ts_oauth_err_set(e, 400, TS_ERR_INVALID_DPOP_PROOF,
				 "dpop_jkt does not name the DPoP proof's key");
		return false;
	}
	if (named == NULL)
		*add = ts_arena_strdup(req->arena, jkt);
	return true;
}

void ts_oauth_par(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = ctx;
	struct ts_oauth_err e = {0};
	const struct ts_client *c = NULL;
	char raw[64], h[2 * TS_SHA256_LEN + 1];
	const char *uri, *jkt = NULL;
	char *data = NULL;
	json_t *body;
	int r;

	if (req->content_type == NULL ||
	    strcmp(req->content_type, "application/x-www-form-urlencoded") != 0) {
		ts_oauth_err_set(&e, 400, TS_ERR_INVALID_REQUEST,
				 "the body must be application/x-www-form-urlencoded");
		goto fail;
	}
	if (!ts_oauth_params_unique(req->form, req->nform, multi_params, &e))
		goto fail;
	if (ts_oauth_client_auth(rc, req, true, &c, &e) != TS_OK)
		goto fail;
	if (!par_check(rc, req, c, &e) || !par_dpop(rc, req, c, &jkt, &e))
		goto fail;
	r = ts_rand_token(raw, sizeof(raw), PAR_ID_BYTES);
	if (r != TS_OK) {
		ts_oauth_err_unavailable(&e);
		goto fail;
	}
	uri = ts_arena_printf(req->arena, PAR_URI_PREFIX "%s", raw);
	ts_sha256_hex(uri, strlen(uri), h);
	data = par_data(c, req->form, req->nform, jkt);
	r = data ? ts_store_pending_put(rc->app->store, rc->tenant->id, h, PAR_KIND, data,
					ts_now() + PAR_TTL_S)
		 : TS_ENOMEM;
	free(data);
	if (r != TS_OK) {
		ts_oauth_err_unavailable(&e);
		goto fail;
	}
	body = json_pack("{s:s,s:i}", TS_P_REQUEST_URI, uri, TS_J_EXPIRES_IN, PAR_TTL_S);
	ts_oauth_no_store(resp);
	ts_http_resp_json(resp, 201, body);
	json_decref(body);
	ts_audit_emit(rc->app->audit, rc->tenant->name, "authorization.pushed", NULL, c->client_id,
		      NULL);
	goto nonce;
fail:
	ts_oauth_err_send(rc, resp, &e);
nonce:
	/* As at the token endpoint (RFC 9449 §8): a client that must use
	 * nonces gets the current one with every answer. */
	if (c && c->dpop_bound_access_tokens)
		ts_http_resp_header(resp, TS_DPOP_NONCE_HEADER, ts_dpop_nonce(rc, req->arena));
}

/* The stored parameters, with the client's id, as a parameter list in the
 * request arena; false if the data is not what par_data wrote. */
static bool par_params(struct ts_http_req *req, const json_t *o, const struct ts_client *c,
		       const struct ts_param **v, size_t *n)
{
	const json_t *params = json_object_get(o, "params");
	struct ts_param *p;
	size_t i, k = 0;

	if (!json_is_array(params))
		return false;
	p = ts_arena_alloc(req->arena, (json_array_size(params) + 1) * sizeof(*p));
	for (i = 0; i < json_array_size(params); i++) {
		const json_t *nv = json_array_get(params, i);
		const char *name = json_string_value(json_array_get(nv, 0));
		const char *value = json_string_value(json_array_get(nv, 1));
		if (name == NULL || value == NULL)
			return false;
		p[k].name = ts_arena_strdup(req->arena, name);
		p[k++].value = ts_arena_strdup(req->arena, value);
	}
	p[k].name = TS_P_CLIENT_ID;
	p[k++].value = c->client_id;
	*v = p;
	*n = k;
	return true;
}

/* Reads the pushed request: TS_OK with *o its data; TS_ENOTFOUND if it is
 * unknown, expired or not a pushed request of this tenant; TS_ESTORE. */
static int par_load(const struct ts_rctx *rc, const char *hash, json_t **o)
{
	char *tenant = NULL, *kind = NULL, *data = NULL;
	int64_t exp = 0;
	int r;

	*o = NULL;
	r = ts_store_pending_get(rc->app->store, hash, &tenant, &kind, &data, &exp);
	if (r == TS_OK && (strcmp(tenant, rc->tenant->id) != 0 || strcmp(kind, PAR_KIND) != 0 ||
			   exp <= ts_now()))
		r = TS_ENOTFOUND;
	if (r == TS_OK) {
		*o = json_loads(data, 0, NULL);
		if (!json_is_object(*o))
			r = TS_ENOTFOUND;
	}
	free(tenant);
	free(kind);
	free(data);
	return r == TS_OK || r == TS_ENOTFOUND ? r : TS_ESTORE;
}

bool ts_par_take(struct ts_rctx *rc, struct ts_http_req *req, struct ts_http_resp *resp,
		 const struct ts_client *c, const char *request_uri, const struct ts_param **v,
		 size_t *n)
{
	char h[2 * TS_SHA256_LEN + 1];
	json_t *o = NULL;
	bool ok = false;
	int r = TS_ENOTFOUND;

	if (strncmp(request_uri, PAR_URI_PREFIX, strlen(PAR_URI_PREFIX)) == 0 &&
	    strlen(request_uri) <= PAR_URI_MAX) {
		ts_sha256_hex(request_uri, strlen(request_uri), h);
		r = par_load(rc, h, &o);
	}
	if (r == TS_OK && !ts_str_eq(ts_str_c(json_string_value(json_object_get(o, "client_id"))),
				     c->client_id)) {
		/* Another client's request is refused and left alone. */
		ts_page_error(rc, resp, 400, "Invalid request",
			      "This request_uri was not pushed by this application.");
		goto out;
	}
	/* Of any number of concurrent uses, only the one whose delete
	 * succeeds goes on. */
	if (r == TS_OK)
		r = ts_store_pending_delete(rc->app->store, h);
	if (r == TS_OK && !par_params(req, o, c, v, n))
		r = TS_ENOTFOUND;
	if (r == TS_ENOTFOUND) {
		ts_authz_used_page(rc, resp);
	} else if (r != TS_OK) {
		ts_page_unavailable(rc, resp);
		ts_http_resp_header(resp, "Retry-After", "2");
	}
	ok = r == TS_OK;
out:
	json_decref(o);
	return ok;
}
