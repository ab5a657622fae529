/* resources.c: GET /api/me, the groups endpoints and the API keys
 * endpoints. Reading a group or its members needs the scope groups:read /
 * members:read (or one that includes it) or membership of the group;
 * changing groups needs groups:write; a user creates and revokes API keys
 * for itself when it holds one of the tenant's api_key_roles, acting
 * directly (API key, session) or through a Bearer token with the scope
 * apikeys:write: an API key is never minted from a lesser token. */
#include "api.h"

#include "identity/identity.h"
#include "oauth/oauth.h"
#include "store/store_people.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

static void error(struct ts_http_resp *resp, int status, const char *code, const char *desc)
{
	ts_http_resp_error(resp, status, code, desc);
	ts_http_resp_header(resp, "Cache-Control", "no-store");
}

static void forbidden(const struct ts_rctx *rc, struct ts_http_resp *resp, const char *scope)
{
	error(resp, 403, TS_ERR_INSUFFICIENT_SCOPE, "the credential does not allow this request");
	if (scope)
		ts_http_resp_header(resp, "WWW-Authenticate",
				    ts_arena_printf(resp->arena,
						    "Bearer realm=\"%s\", error=\"insufficient_scope\", scope=\"%s\"",
						    rc->tenant->name, scope));
}

void ts_api_me(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = ctx;
	struct ts_principal p;
	json_t *o;

	if (ts_api_authenticate(rc, req, resp, &p) != TS_OK)
		return;
	o = ts_principal_json(rc, &p);
	ts_http_resp_json(resp, 200, o);
	ts_http_resp_header(resp, "Cache-Control", "no-store");
	json_decref(o);
	ts_principal_clear(&p);
}

/* Loads the group of the route; answers 404 or 503 itself. */
static int load_group(const struct ts_rctx *rc, struct ts_http_req *req, struct ts_http_resp *resp,
		      struct ts_group_rec **g)
{
	int r = ts_store_group_get(rc->app->store, rc->tenant->id, req->route_params[0], g);

	if (r == TS_ENOTFOUND || r == TS_EINVAL)
		error(resp, 404, "not_found", "no such group");
	else if (r != TS_OK)
		ts_web_store_unavailable(resp);
	return r;
}

/* Service scope, or a user who is a member of the group. */
static int may_read(const struct ts_rctx *rc, const struct ts_principal *p, const char *group_id,
		    const char *scope, bool *ok)
{
	*ok = ts_principal_has_scope(rc, p, scope);
	if (*ok || !p->is_user)
		return TS_OK;
	return ts_store_member_check(rc->app->store, rc->tenant->id, group_id, p->sub, ok);
}

static json_t *group_json(const struct ts_group_rec *g)
{
	return json_pack("{s:s,s:s,s:I,s:s?}", "id", g->id, "name", g->name, "created_at",
			 (json_int_t)g->created_at, "org_id", g->org_id);
}

static json_t *member_json(const struct ts_user_rec *u)
{
	json_t *profile = u->profile ? json_loads(u->profile, 0, NULL) : NULL;
	json_t *o = json_pack("{s:s,s:s}", "id", u->id, "username", u->username);

	if (json_string_value(json_object_get(profile, "name")))
		json_object_set(o, "name", json_object_get(profile, "name"));
	if (json_string_value(json_object_get(profile, "email")))
		json_object_set(o, "email", json_object_get(profile, "email"));
	json_decref(profile);
	return o;
}

/* A member with when and by whom it was added (null for memberships
 * recorded before that was kept). */
static json_t *membership_json(const struct ts_member_rec *m)
{
	json_t *o = member_json(m->user);

	json_object_set_new(o, "added_at", m->added_at > 0 ? json_integer(m->added_at) : json_null());
	json_object_set_new(o, "added_by", m->added_by ? json_string(m->added_by) : json_null());
	return o;
}

/* Who adds a member: the person's username or the service's client_id. */
static const char *actor_name(const struct ts_principal *p)
{
	if (p->is_user && p->username)
		return p->username;
	return p->client_id ? p->client_id : p->sub;
}

static void group_read(struct ts_rctx *rc, struct ts_http_req *req, struct ts_http_resp *resp,
		       bool members)
{
	const char *scope = members ? "members:read" : "groups:read";
	struct ts_group_rec *g = NULL;
	struct ts_member_rec **v = NULL;
	struct ts_principal p;
	size_t n = 0, i;
	bool ok = false;
	json_t *o;

	if (ts_api_authenticate(rc, req, resp, &p) != TS_OK)
		return;
	if (load_group(rc, req, resp, &g) != TS_OK)
		goto out;
	if (may_read(rc, &p, g->id, scope, &ok) != TS_OK) {
		ts_web_store_unavailable(resp);
		goto out;
	}
	if (!ok) {
		forbidden(rc, resp, scope);
		goto out;
	}
	o = group_json(g);
	if (members) {
		json_t *a = json_array();
		if (ts_store_member_records(rc->app->store, rc->tenant->id, g->id, &v, &n) != TS_OK) {
			json_decref(a);
			json_decref(o);
			ts_web_store_unavailable(resp);
			goto out;
		}
		for (i = 0; i < n; i++)
			json_array_append_new(a, membership_json(v[i]));
		json_object_set_new(o, "members", a);
	}
	ts_http_resp_json(resp, 200, o);
	ts_http_resp_header(resp, "Cache-Control", "no-store");
	json_decref(o);
out:
	ts_member_recs_free(v, n);
	ts_group_rec_free(g);
	ts_principal_clear(&p);
}

void ts_api_group_get(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	group_read(ctx, req, resp, false);
}

void ts_api_group_members(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	group_read(ctx, req, resp, true);
}

/* Authenticates and requires groups:write. */
static bool writer(struct ts_rctx *rc, struct ts_http_req *req, struct ts_http_resp *resp,
		   struct ts_principal *p)
{
	if (ts_api_authenticate(rc, req, resp, p) != TS_OK)
		return false;
	if (!ts_principal_has_scope(rc, p, "groups:write")) {
		forbidden(rc, resp, "groups:write");
		ts_principal_clear(p);
		return false;
	}
	return true;
}

void ts_api_group_create(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = ctx;
	const char *name = json_string_value(json_object_get(req->json, "name"));
	const json_t *org = json_object_get(req->json, "org_id");
	struct ts_group_rec g;
	struct ts_principal p;
	char id[37];
	json_t *o;
	int r;

	if (!writer(rc, req, resp, &p))
		return;
	if (name == NULL || name[0] == '\0' || strlen(name) > 200) {
		error(resp, 400, TS_ERR_INVALID_REQUEST, "a JSON body with a non-empty \"name\" is required");
		goto out;
	}
	if (org != NULL && !json_is_null(org) && !ts_group_org_ok(json_string_value(org))) {
		error(resp, 400, TS_ERR_INVALID_REQUEST,
		      ts_arena_printf(resp->arena, "\"org_id\" must be 1 to %d printable characters "
				      "without spaces", TS_GROUP_ORG_MAX));
		goto out;
	}
	if (ts_rand_uuid(id) != TS_OK) {
		error(resp, 500, TS_ERR_SERVER_ERROR, NULL);
		goto out;
	}
	memset(&g, 0, sizeof(g));
	g.tenant_id = rc->tenant->id;
	g.id = id;
	g.name = (char *)name;
	g.created_at = ts_now();
	g.org_id = (char *)json_string_value(org);
	r = ts_store_group_put(rc->app->store, &g);
	if (r == TS_EEXIST) {
		error(resp, 409, "conflict", "a group with this name exists");
		goto out;
	}
	if (r != TS_OK) {
		ts_web_store_unavailable(resp);
		goto out;
	}
	ts_audit_emit(rc->app->audit, rc->tenant->name, "group.created", p.sub, id, NULL);
	o = group_json(&g);
	ts_http_resp_json(resp, 201, o);
	/* RFC 9110 §15.3.2: where the new group is read. */
	ts_http_resp_header(resp, "Location", ts_arena_printf(resp->arena, "%s/api/groups/%s",
							      rc->issuer, id));
	json_decref(o);
out:
	ts_principal_clear(&p);
}

static void member_change(struct ts_rctx *rc, struct ts_http_req *req, struct ts_http_resp *resp,
			  const char *username, bool add)
{
	struct ts_group_rec *g = NULL;
	struct ts_user_rec *u = NULL;
	struct ts_principal p;
	int r;

	if (!writer(rc, req, resp, &p))
		return;
	if (username == NULL || username[0] == '\0') {
		error(resp, 400, TS_ERR_INVALID_REQUEST, "a \"username\" is required");
		goto out;
	}
	if (load_group(rc, req, resp, &g) != TS_OK)
		goto out;
	r = ts_store_user_find(rc->app->store, rc->tenant->id, username, &u);
	if (r == TS_ENOTFOUND) {
		error(resp, 404, "not_found", "no such user");
		goto out;
	}
	if (r != TS_OK) {
		ts_web_store_unavailable(resp);
		goto out;
	}
	r = add ? ts_store_member_add(rc->app->store, rc->tenant->id, g->id, u->id, actor_name(&p),
				      ts_now())
		: ts_store_member_remove(rc->app->store, rc->tenant->id, g->id, u->id);
	if (r == TS_ENOTFOUND) {
		error(resp, 404, "not_found", "the user is not a member of the group");
		goto out;
	}
	if (r != TS_OK) {
		ts_web_store_unavailable(resp);
		goto out;
	}
	ts_audit_emit(rc->app->audit, rc->tenant->name, add ? "group.member_added" : "group.member_removed",
		      p.sub, g->id, NULL);
	if (add) {
		json_t *o = json_pack("{s:s,s:o}", "group_id", g->id, "member", member_json(u));
		ts_http_resp_json(resp, 201, o);
		json_decref(o);
	} else {
		ts_http_resp_text(resp, 204, NULL, "", 0);
	}
out:
	ts_user_rec_free(u);
	ts_group_rec_free(g);
	ts_principal_clear(&p);
}

void ts_api_group_member_add(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	member_change(ctx, req, resp, json_string_value(json_object_get(req->json, "username")), true);
}

void ts_api_group_member_remove(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	member_change(ctx, req, resp, req->route_params[1], false);
}

/* Authenticates an API-key request: the user acting directly, or a Bearer
 * token that carries apikeys:write; otherwise answers 403 itself. */
static bool apikey_principal(struct ts_rctx *rc, struct ts_http_req *req,
			     struct ts_http_resp *resp, struct ts_principal *p)
{
	if (ts_api_authenticate(rc, req, resp, p) != TS_OK)
		return false;
	if (p->via == TS_VIA_BEARER && !ts_principal_has_scope(rc, p, TS_SCOPE_APIKEYS_WRITE)) {
		forbidden(rc, resp, TS_SCOPE_APIKEYS_WRITE);
		ts_principal_clear(p);
		return false;
	}
	return true;
}

void ts_api_apikey_create(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = ctx;
	const struct ts_tenant *t = rc->tenant;
	struct ts_apikey_rec rec;
	struct ts_principal p;
	char id[32], key[40], secret[64] = "", h[2 * TS_SHA256_LEN + 1];
	bool allowed = false;
	size_t i;
	json_t *o;

	if (!apikey_principal(rc, req, resp, &p))
		return;
	for (i = 0; i < t->napi_key_roles; i++)
		allowed = allowed || ts_principal_has_role(&p, t->api_key_roles[i]);
	if (!p.is_user || !allowed) {
		error(resp, 403, "forbidden", "only users holding an API-key role may create API keys");
		goto out;
	}
	if (ts_rand_token(id, sizeof(id), TS_APIKEY_ID_BYTES) != TS_OK ||
	    ts_rand_token(secret, sizeof(secret), TS_APIKEY_SECRET_BYTES) != TS_OK) {
		error(resp, 500, TS_ERR_SERVER_ERROR, NULL);
		goto out;
	}
	snprintf(key, sizeof(key), "%s%s", TS_APIKEY_PREFIX, id);
	ts_sha256_hex(secret, strlen(secret), h);
	memset(&rec, 0, sizeof(rec));
	rec.key = key;
	rec.tenant_id = t->id;
	rec.user_id = (char *)p.sub;
	rec.secret_hash = h;
	rec.kind = "user";
	rec.created_at = ts_now();
	if (ts_store_apikey_put(rc->app->store, &rec) != TS_OK) {
		ts_web_store_unavailable(resp);
		goto out;
	}
	ts_audit_emit(rc->app->audit, t->name, "apikey.created", p.sub, key, NULL);
	o = json_pack("{s:s,s:s}", "api_key", key, "api_secret", secret);
	ts_http_resp_json(resp, 201, o);
	ts_http_resp_header(resp, "Cache-Control", "no-store");
	json_decref(o);
out:
	OPENSSL_cleanse(secret, sizeof(secret));
	ts_principal_clear(&p);
}

void ts_api_apikey_delete(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = ctx;
	struct ts_apikey_rec *k = NULL;
	struct ts_principal p;
	int r;

	if (!apikey_principal(rc, req, resp, &p))
		return;
	r = ts_store_apikey_get(rc->app->store, req->route_params[0], &k);
	if (r != TS_OK && r != TS_ENOTFOUND && r != TS_EINVAL) {
		ts_web_store_unavailable(resp);
		goto out;
	}
	/* Another user's key is answered as unknown. */
	if (r != TS_OK || !p.is_user || strcmp(k->tenant_id, rc->tenant->id) != 0 ||
	    strcmp(k->user_id, p.sub) != 0) {
		error(resp, 404, "not_found", "no such API key");
		goto out;
	}
	r = ts_store_apikey_delete(rc->app->store, rc->tenant->id, k->key);
	if (r != TS_OK && r != TS_ENOTFOUND) {
		ts_web_store_unavailable(resp);
		goto out;
	}
	ts_audit_emit(rc->app->audit, rc->tenant->name, "apikey.revoked", p.sub, k->key, NULL);
	ts_http_resp_text(resp, 204, NULL, "", 0);
out:
	ts_apikey_rec_free(k);
	ts_principal_clear(&p);
}
