/* token.c: the token endpoint (RFC 6749 §3.2, §4.4) and access tokens as
 * JWTs (RFC 9068). This is the hot path: everything it reads comes from the
 * in-memory snapshot, the only real work is one signature, and the audit
 * record is queued for the background writer. */
#include "oauth.h"

#include <stdlib.h>
#include <string.h>

#define CLAIMS_MAX 8192
#define JWT_MAX 16384
#define RESP_MAX 20480
#define JTI_BYTES 16

static const char *const multi_params[] = {TS_P_RESOURCE, NULL};

static void oerr(struct ts_oauth_err *e, int status, const char *code, const char *desc)
{
	e->status = status;
	e->code = code;
	e->desc = desc;
}

/* RFC 6749 §3.3: splits, validates and de-duplicates a scope string into
 * arena strings. Returns false on a malformed string. */
static bool scope_split(struct ts_arena *a, const char *s, const char ***out, size_t *n)
{
	const char **v = ts_arena_alloc(a, TS_SCOPES_MAX * sizeof(char *));
	size_t count = 0, i;
	const char *p = s;

	if (strlen(s) > TS_SCOPE_MAX)
		return false;
	while (*p) {
		const char *e = strchr(p, ' ');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		const char *tok;
		bool dup = false;

		if (len == 0)
			return false; /* leading, trailing or double space */
		for (i = 0; i < len; i++) {
			unsigned char c = (unsigned char)p[i];
			if (c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e)
				return false;
		}
		tok = ts_arena_strndup(a, p, len);
		for (i = 0; i < count; i++)
			dup = dup || strcmp(v[i], tok) == 0;
		if (!dup) {
			if (count == TS_SCOPES_MAX)
				return false;
			v[count++] = tok;
		}
		p += len;
		if (*p == ' ') {
			p++;
			if (*p == '\0')
				return false;
		}
	}
	*out = v;
	*n = count;
	return true;
}

/* RFC 8707 §2: an absolute URI without a fragment. */
static bool resource_ok(const char *r)
{
	const char *colon = strchr(r, ':');
	size_t i;

	if (colon == NULL || colon == r || strchr(r, '#') || strlen(r) > 2048)
		return false;
	for (i = 0; r + i < colon; i++)
		if (!((r[i] >= 'a' && r[i] <= 'z') || (r[i] >= 'A' && r[i] <= 'Z') ||
		      (i && ((r[i] >= '0' && r[i] <= '9') || r[i] == '+' || r[i] == '-' || r[i] == '.'))))
			return false;
	for (i = 0; r[i]; i++)
		if ((unsigned char)r[i] <= 0x20 || r[i] == 0x7f)
			return false;
	return true;
}

static int append_str(struct ts_buf *b, const char *key, const char *val)
{
	int rc = ts_buf_appendf(b, ",\"%s\":\"", key);
	if (rc == TS_OK)
		rc = ts_buf_append_json_escaped(b, val, strlen(val));
	if (rc == TS_OK)
		rc = ts_buf_append(b, "\"", 1);
	return rc;
}

/* The granted scope as one space-separated string (arena). */
static const char *scope_join(struct ts_arena *a, const char *const *v, size_t n)
{
	size_t len = 0, i;
	char *s, *p;

	for (i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	s = p = ts_arena_alloc(a, len + 1);
	for (i = 0; i < n; i++) {
		size_t l = strlen(v[i]);
		if (i)
			*p++ = ' ';
		memcpy(p, v[i], l);
		p += l;
	}
	*p = '\0';
	return s;
}

/* Builds and signs an RFC 9068 access token into out. */
static int access_token_sign(const struct ts_rctx *rc, const char *sub, const char *client_id,
			     const char *scope, const char *const *aud, size_t naud,
			     int64_t now, int64_t ttl, const char *jti, struct ts_buf *out)
{
	const struct ts_tenant *t = rc->tenant;
	const struct ts_jwk *key = t->signer[t->access_token_alg];
	struct ts_buf c;
	size_t i;
	int r;

	if (key == NULL) {
		ts_log_err("tenant %s has no usable %s signing key", t->name,
			   ts_jws_alg_name(t->access_token_alg));
		return TS_ECRYPTO;
	}
	ts_buf_init(&c, CLAIMS_MAX);
	r = ts_buf_append(&c, "{\"iss\":\"", 8);
	if (r == TS_OK)
		r = ts_buf_append_json_escaped(&c, rc->issuer, strlen(rc->issuer));
	if (r == TS_OK)
		r = ts_buf_append(&c, "\"", 1);
	if (r == TS_OK)
		r = append_str(&c, "sub", sub);
	if (r == TS_OK && naud == 1) {
		r = append_str(&c, "aud", aud[0]);
	} else if (r == TS_OK) {
		r = ts_buf_appends(&c, ",\"aud\":[");
		for (i = 0; r == TS_OK && i < naud; i++) {
			r = ts_buf_appends(&c, i ? ",\"" : "\"");
			if (r == TS_OK)
				r = ts_buf_append_json_escaped(&c, aud[i], strlen(aud[i]));
			if (r == TS_OK)
				r = ts_buf_append(&c, "\"", 1);
		}
		if (r == TS_OK)
			r = ts_buf_append(&c, "]", 1);
	}
	if (r == TS_OK)
		r = ts_buf_appendf(&c, ",\"exp\":%lld,\"iat\":%lld,\"nbf\":%lld", (long long)(now + ttl),
				   (long long)now, (long long)now);
	if (r == TS_OK)
		r = append_str(&c, "jti", jti);
	if (r == TS_OK)
		r = append_str(&c, "client_id", client_id);
	if (r == TS_OK && scope[0])
		r = append_str(&c, "scope", scope);
	if (r == TS_OK)
		r = ts_buf_append(&c, "}", 1);
	if (r == TS_OK)
		r = ts_jws_sign(key, "at+jwt", c.p, c.len, out);
	ts_buf_clear(&c);
	return r;
}

static void client_credentials(struct ts_rctx *rc, struct ts_http_req *req,
			       struct ts_http_resp *resp, const struct ts_client *c)
{
	const struct ts_tenant *t = rc->tenant;
	struct ts_oauth_err e = {0};
	const char *scope_param = ts_params_get(req->form, req->nform, TS_P_SCOPE, NULL);
	const char **scopes = NULL, **aud;
	const char *scope;
	size_t nscopes = 0, naud = 0, i;
	char jti[32];
	struct ts_buf tok, body;
	int64_t now = ts_now();
	int r;

	if (!c->confidential || !ts_client_has_grant(c, TS_GRANT_CLIENT_CREDENTIALS_S)) {
		oerr(&e, 400, "unauthorized_client", "the client may not use this grant type");
		goto fail;
	}
	if (scope_param) {
		if (!scope_split(req->arena, scope_param, &scopes, &nscopes)) {
			oerr(&e, 400, "invalid_scope", "malformed scope");
			goto fail;
		}
		for (i = 0; i < nscopes; i++) {
			if (!ts_client_scope_allowed(t, c, scopes[i])) {
				oerr(&e, 400, "invalid_scope", "a requested scope is not allowed for this client");
				goto fail;
			}
		}
		scope = scope_join(req->arena, scopes, nscopes);
	} else {
		scope = scope_join(req->arena, (const char *const *)c->scopes, c->nscopes);
	}
	aud = ts_arena_alloc(req->arena, (req->nform + 1) * sizeof(char *));
	for (i = 0; i < req->nform; i++) {
		if (strcmp(req->form[i].name, TS_P_RESOURCE) != 0)
			continue;
		if (!resource_ok(req->form[i].value)) {
			oerr(&e, 400, "invalid_target", "resource must be an absolute URI without a fragment");
			goto fail;
		}
		aud[naud++] = req->form[i].value;
	}
	if (naud == 0)
		aud[naud++] = t->audience ? t->audience : rc->issuer;
	if (ts_rand_token(jti, sizeof(jti), JTI_BYTES) != TS_OK) {
		oerr(&e, 500, "server_error", NULL);
		goto fail;
	}
	ts_buf_init(&tok, JWT_MAX);
	r = access_token_sign(rc, c->client_id, c->client_id, scope, aud, naud, now,
			      t->access_token_ttl, jti, &tok);
	if (r != TS_OK) {
		ts_buf_clear(&tok);
		oerr(&e, 500, "server_error", NULL);
		goto fail;
	}
	ts_buf_init(&body, RESP_MAX);
	r = ts_buf_appendf(&body, "{\"access_token\":\"%s\",\"token_type\":\"Bearer\",\"expires_in\":%lld",
			   tok.p, (long long)t->access_token_ttl);
	if (r == TS_OK && scope[0])
		r = append_str(&body, "scope", scope);
	if (r == TS_OK)
		r = ts_buf_append(&body, "}", 1);
	ts_buf_clear_secret(&tok);
	if (r != TS_OK) {
		ts_buf_clear(&body);
		oerr(&e, 500, "server_error", NULL);
		goto fail;
	}
	ts_buf_clear(&resp->body);
	resp->body = body;
	resp->status = 200;
	resp->content_type = "application/json";
	ts_oauth_no_store(resp);
	if (t->stats)
		atomic_fetch_add_explicit(&t->stats->tokens_issued[TS_GRANT_CLIENT_CREDENTIALS], 1,
					  memory_order_relaxed);
	ts_audit_emit(rc->app->audit, t->name, "token.issued", c->client_id, jti,
		      "{\"grant_type\":\"client_credentials\"}");
	return;
fail:
	ts_oauth_err_send(rc, resp, &e);
}

void ts_oauth_token(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = ctx;
	struct ts_oauth_err e = {0};
	const struct ts_client *c = NULL;
	const char *grant;

	if (req->content_type == NULL ||
	    strcmp(req->content_type, "application/x-www-form-urlencoded") != 0) {
		oerr(&e, 400, "invalid_request",
		     "the body must be application/x-www-form-urlencoded");
		goto fail;
	}
	if (!ts_oauth_params_unique(req->form, req->nform, multi_params, &e))
		goto fail;
	grant = ts_params_get(req->form, req->nform, TS_P_GRANT_TYPE, NULL);
	if (ts_oauth_client_auth(rc, req, true, &c, &e) != TS_OK)
		goto fail;
	if (grant == NULL || grant[0] == '\0') {
		oerr(&e, 400, "invalid_request", "grant_type is required");
		goto fail;
	}
	if (strcmp(grant, TS_GRANT_CLIENT_CREDENTIALS_S) == 0) {
		client_credentials(rc, req, resp, c);
		return;
	}
	oerr(&e, 400, "unsupported_grant_type", "this grant type is not supported");
fail:
	ts_oauth_err_send(rc, resp, &e);
}
