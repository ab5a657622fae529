/* grant_token_exchange.c: token exchange (RFC 8693) for confidential
 * clients that list the grant. The subject token is an active access token
 * of a person of this tenant. The answer is either a narrower Tessera
 * token for another audience, with an act claim naming the exchanging
 * client (RFC 8693 §4.1), or, when the one audience names a vault
 * provider of the tenant, that person's own token at the provider. */
#include "oauth.h"
#include "internal.h"

#include "http/members.h"
#include "vault/vault.h"
#include "store/store_people.h"
#include "store/store_vault.h"

#include <stdlib.h>
#include <string.h>

/* How many actors one token may name (act nested in act): a bound on the
 * claims' size. */
#define ACT_DEPTH_MAX 8
/* The vault refresher's name in audit events. */
#define VAULT_ACTOR "token_exchange"
#define RETRY_AFTER_S 5
#define RESP_MAX 16384

/* The verified subject token and its person. */
struct subject {
	struct ts_access_token at; /* claims owned */
	struct ts_user_rec *user;  /* owned */
	const char *scope;         /* borrowed from the claims; "" when none */
};

static const char *param(const struct ts_http_req *req, const char *name)
{
	return ts_params_get(req->form, req->nform, name, NULL);
}

/* The parameters every exchange needs (RFC 8693 §2.1). */
static bool request_ok(const struct ts_http_req *req, struct ts_oauth_err *e)
{
	const char *token = param(req, TS_P_SUBJECT_TOKEN);
	const char *type = param(req, TS_P_SUBJECT_TOKEN_TYPE);
	const char *want = param(req, TS_P_REQUESTED_TOKEN_TYPE);

	if (token == NULL || token[0] == '\0' || type == NULL || type[0] == '\0') {
		ts_oauth_err_set(e, 400, TS_ERR_INVALID_REQUEST,
				 "subject_token and subject_token_type are required");
		return false;
	}
	/* RFC 8693 §2.2.2: a subject token of a type the server does not
	 * take is unsupported_token_type. */
	if (strcmp(type, TS_TOKEN_TYPE_ACCESS_TOKEN) != 0) {
		ts_oauth_err_set(e, 400, TS_ERR_UNSUPPORTED_TOKEN_TYPE,
				 "subject_token_type must be urn:ietf:params:oauth:token-type:access_token");
		return false;
	}
	if (param(req, TS_P_ACTOR_TOKEN) || param(req, TS_P_ACTOR_TOKEN_TYPE)) {
		ts_oauth_err_set(e, 400, TS_ERR_INVALID_REQUEST,
				 "actor_token is not accepted: the authenticated client is the actor");
		return false;
	}
	if (want && strcmp(want, TS_TOKEN_TYPE_ACCESS_TOKEN) != 0) {
		ts_oauth_err_set(e, 400, TS_ERR_INVALID_REQUEST,
				 "requested_token_type must be urn:ietf:params:oauth:token-type:access_token");
		return false;
	}
	return true;
}

/* Verifies the subject token in full: signature with this tenant's keys,
 * typ, issuer, expiry, revocation, its client still enabled, its person
 * still there and enabled, and, for a sender-constrained token, a proof of
 * the request by its key (RFC 9449 §7.1: without the key a bound token is
 * worth nothing, here as at a resource). false with e filled otherwise. */
static bool subject_load(struct ts_rctx *rc, const char *token, struct subject *s,
			 struct ts_oauth_err *e)
{
	const char *sub, *bound;
	int r = ts_oauth_access_token_check(rc, token, &s->at);

	if (r == TS_ESTORE) {
		ts_oauth_err_unavailable(e);
		return false;
	}
	if (r != TS_OK) {
		ts_oauth_err_set(e, 400, TS_ERR_INVALID_GRANT, "the subject token is not an active access token");
		return false;
	}
	sub = json_string_value(json_object_get(s->at.claims, "sub"));
	/* A client's own token has no person to act for. */
	if (sub == NULL || s->at.client_id == NULL || strcmp(sub, s->at.client_id) == 0) {
		ts_oauth_err_set(e, 400, TS_ERR_INVALID_GRANT, "the subject token must be a person's");
		return false;
	}
	r = ts_store_user_get(rc->app->store, rc->tenant->id, sub, &s->user);
	if (r == TS_ESTORE) {
		ts_oauth_err_unavailable(e);
		return false;
	}
	if (r != TS_OK || s->user->disabled) {
		ts_oauth_err_set(e, 400, TS_ERR_INVALID_GRANT, "the subject token's user is not active");
		return false;
	}
	bound = json_string_value(json_object_get(json_object_get(s->at.claims, "cnf"), "jkt"));
	if (bound != NULL && (rc->dpop_jkt == NULL || strcmp(rc->dpop_jkt, bound) != 0)) {
		ts_oauth_err_set(e, 400, TS_ERR_INVALID_GRANT,
				 "the subject token is DPoP-bound: the request needs a proof by its key");
		return false;
	}
	s->scope = json_string_value(json_object_get(s->at.claims, "scope"));
	if (s->scope == NULL)
		s->scope = "";
	return true;
}

/* The vault provider the request names: its only audience, without a
 * resource, when a provider of the tenant has that name. *out NULL when
 * the request is for a Tessera token. false with e filled on a storage
 * failure. */
static bool vault_audience(struct ts_rctx *rc, const struct ts_http_req *req, const char **out,
			   struct ts_oauth_err *e)
{
	struct ts_provider_rec *p = NULL;
	const char *aud = NULL;
	size_t i, naud = 0;
	int r;

	*out = NULL;
	for (i = 0; i < req->nform; i++) {
		if (strcmp(req->form[i].name, TS_P_RESOURCE) == 0)
			return true;
		if (strcmp(req->form[i].name, TS_P_AUDIENCE) == 0) {
			aud = req->form[i].value;
			naud++;
		}
	}
	if (naud != 1 || aud[0] == '\0' || ts_oauth_resource_ok(aud))
		return true;
	r = ts_store_provider_get(rc->app->store, rc->tenant->id, aud, &p);
	ts_provider_rec_free(p);
	if (r == TS_ESTORE) {
		ts_oauth_err_unavailable(e);
		return false;
	}
	if (r == TS_OK)
		*out = aud;
	return true;
}

/* RFC 8693 §4.1: the act claim naming the exchanging client, with the
 * subject token's own act (a delegation chain) nested inside. Arena JSON
 * text, or NULL with e filled. */
static const char *act_claim(struct ts_http_req *req, const struct ts_client *c,
			     const json_t *claims, struct ts_oauth_err *e)
{
	const json_t *prior = json_object_get(claims, "act"), *p;
	json_t *act;
	char *text;
	const char *out;
	size_t depth = 1;

	for (p = prior; json_is_object(p); p = json_object_get(p, "act"))
		depth++;
	if (depth > ACT_DEPTH_MAX) {
		ts_oauth_err_set(e, 400, TS_ERR_INVALID_REQUEST, "the subject token's delegation chain is too long");
		return NULL;
	}
	act = json_pack("{s:s}", "sub", c->client_id);
	if (act && json_is_object(prior))
		json_object_set(act, "act", (json_t *)prior);
	text = act ? json_dumps(act, JSON_COMPACT) : NULL;
	json_decref(act);
	if (text == NULL) {
		ts_oauth_err_set(e, 500, TS_ERR_SERVER_ERROR, NULL);
		return NULL;
	}
	out = ts_arena_strdup(req->arena, text);
	free(text);
	return out;
}

/* The audiences of the new token: every resource (RFC 8707) and every
 * audience, each the tenant's own audience or an absolute URI without a
 * fragment. None: the tenant's audience. */
static bool audiences(struct ts_rctx *rc, struct ts_http_req *req, struct ts_issue *is,
		      struct ts_oauth_err *e)
{
	const char *own = rc->tenant->audience ? rc->tenant->audience : rc->issuer;
	const char **aud = ts_arena_alloc(req->arena, (req->nform + 1) * sizeof(char *));
	size_t i, n = 0;

	for (i = 0; i < req->nform; i++) {
		const char *v = req->form[i].value;
		if (strcmp(req->form[i].name, TS_P_RESOURCE) != 0 &&
		    strcmp(req->form[i].name, TS_P_AUDIENCE) != 0)
			continue;
		if (strcmp(v, own) != 0 && !ts_oauth_resource_ok(v)) {
			ts_oauth_err_set(e, 400, TS_ERR_INVALID_TARGET,
					 "an audience or resource must be the tenant's audience or an absolute URI");
			return false;
		}
		aud[n++] = v;
	}
	is->aud = aud;
	is->naud = n;
	return true;
}

/* The scope of the new token: within the subject token's scope and the
 * exchanging client's allowed scopes; omitted, their intersection. */
static bool narrowed_scope(struct ts_rctx *rc, struct ts_http_req *req, const struct ts_client *c,
			   const struct subject *s, const char **out, struct ts_oauth_err *e)
{
	const char *want = param(req, TS_P_SCOPE);
	const char *granted = NULL;

	if (want == NULL || want[0] == '\0') {
		*out = ts_scope_client_narrow(rc->tenant, c, s->scope, req->arena);
		if ((*out)[0] != '\0')
			return true;
		ts_oauth_err_set(e, 400, TS_ERR_INVALID_SCOPE,
				 "the client may have none of the subject token's scopes");
		return false;
	}
	if (!ts_oauth_scope_grant(rc->tenant, c, want, req->arena, &granted) ||
	    !ts_scope_covers(rc->tenant, s->scope, granted)) {
		ts_oauth_err_set(e, 400, TS_ERR_INVALID_SCOPE,
				 "a requested scope is not in the subject token or not allowed for this client");
		return false;
	}
	*out = granted;
	return true;
}

/* The audit event of one exchange: who (the client), for whom (the
 * person), and which audience or provider. */
static void audit_exchange(struct ts_rctx *rc, const struct ts_client *c, const struct subject *s,
			   const char *kind, const char *target)
{
	json_t *d = json_pack("{s:s,s:s,s:s}", "kind", kind, "subject_client", s->at.client_id,
			      "audience", target);
	char *text = d ? json_dumps(d, JSON_COMPACT) : NULL;

	ts_audit_emit(rc->app->audit, rc->tenant->name, "token.exchanged", c->client_id,
		      s->user->id, text);
	free(text);
	json_decref(d);
}

/* (a) A narrower Tessera token for the person, with the client as actor. */
static void exchange_narrow(struct ts_rctx *rc, struct ts_http_req *req,
			    struct ts_http_resp *resp, const struct ts_client *c,
			    const struct subject *s, struct ts_oauth_err *e)
{
	const json_t *at = json_object_get(s->at.claims, "auth_time");
	struct ts_issue is;
	char gid[37];
	size_t i;

	memset(&is, 0, sizeof(is));
	if (!audiences(rc, req, &is, e) || !narrowed_scope(rc, req, c, s, &is.scope, e))
		return;
	is.act_json = act_claim(req, c, s->at.claims, e);
	if (is.act_json == NULL)
		return;
	is.client = c;
	is.user = s->user;
	is.kind = TS_GRANT_TOKEN_EXCHANGE;
	is.auth_time = json_is_integer(at) ? (int64_t)json_integer_value(at) : 0;
	/* Recorded under a grant of its own, as every person's token is, so
	 * that whatever revokes the person's grants (disabling them) denies
	 * it too. */
	if (ts_rand_uuid(gid) != TS_OK) {
		ts_oauth_err_set(e, 500, TS_ERR_SERVER_ERROR, NULL);
		return;
	}
	if (ts_grant_record(rc, gid, c, s->user, is.scope, is.auth_time) != TS_OK) {
		ts_oauth_err_unavailable(e);
		return;
	}
	is.grant_id = gid;
	is.exp_max = s->at.exp;
	is.issued_token_type = TS_TOKEN_TYPE_ACCESS_TOKEN;
	if (ts_oauth_issue(rc, req, resp, &is, e) != TS_OK)
		return;
	if (is.naud == 0) {
		audit_exchange(rc, c, s, "tessera",
			       rc->tenant->audience ? rc->tenant->audience : rc->issuer);
		return;
	}
	for (i = 0; i < is.naud; i++)
		audit_exchange(rc, c, s, "tessera", is.aud[i]);
}

/* The answer to a vault hand-out that failed; the provider's own words
 * never reach the client. */
static void vault_error(int r, struct ts_oauth_err *e)
{
	switch (r) {
	case TS_ENOTFOUND:
		ts_oauth_err_set(e, 400, TS_ERR_INVALID_TARGET,
				 "the user has no connection to this provider");
		break;
	case TS_EDENIED:
		ts_oauth_err_set(e, 400, TS_ERR_INVALID_TARGET,
				 "this provider's tokens are not handed out for a person");
		break;
	case TS_EINVAL:
		ts_oauth_err_set(e, 400, TS_ERR_INVALID_GRANT,
				 "the user's connection to this provider must be authorized again");
		break;
	case TS_EIO:
		ts_oauth_err_set(e, 503, TS_ERR_TEMPORARILY_UNAVAILABLE,
				 "the provider's token could not be refreshed; retry shortly");
		e->retry_after = RETRY_AFTER_S;
		break;
	case TS_ESTORE:
		ts_oauth_err_unavailable(e);
		break;
	default:
		ts_oauth_err_set(e, 500, TS_ERR_SERVER_ERROR, NULL);
		break;
	}
}

/* Whether one of the space-separated scopes satisfies needed (itself or
 * a scope that includes it). */
static bool scopes_satisfy(const struct ts_tenant *t, const char *scopes, const char *needed)
{
	char one[TS_SCOPE_MAX + 1];
	const char *p = scopes;

	while (p && *p) {
		const char *e = strchr(p, ' ');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len < sizeof(one)) {
			memcpy(one, p, len);
			one[len] = '\0';
			if (ts_scope_satisfies(t, one, needed))
				return true;
		}
		p = e ? e + 1 : NULL;
	}
	return false;
}

/* Whether the vault may be reached: the client is allowed vault:read and
 * the person's token carries it. */
static bool vault_allowed(struct ts_rctx *rc, const struct ts_http_req *req,
			  const struct ts_client *c, const struct subject *s, struct ts_oauth_err *e)
{
	if (param(req, TS_P_SCOPE)) {
		ts_oauth_err_set(e, 400, TS_ERR_INVALID_REQUEST,
				 "scope does not apply to a provider's token");
		return false;
	}
	if (!ts_client_scope_allowed(rc->tenant, c, TS_VAULT_SCOPE_READ) ||
	    !scopes_satisfy(rc->tenant, s->scope, TS_VAULT_SCOPE_READ)) {
		ts_oauth_err_set(e, 400, TS_ERR_INVALID_SCOPE,
				 "a provider's token needs vault:read for the client and in the subject token");
		return false;
	}
	return true;
}

/* The token response of a vault hand-out into body (RFC 8693 §2.2.1). */
static int vault_body(const struct ts_vault_user_token *ut, int64_t now, struct ts_buf *body)
{
	int r = ts_buf_appends(body, "{\"" TS_P_ACCESS_TOKEN "\":\"");

	if (r == TS_OK)
		r = ts_buf_append_json_escaped(body, ut->access_token, strlen(ut->access_token));
	if (r == TS_OK)
		r = ts_buf_appends(body, "\",\"" TS_J_ISSUED_TOKEN_TYPE "\":\"" TS_TOKEN_TYPE_ACCESS_TOKEN
					 "\",\"" TS_J_TOKEN_TYPE "\":\"");
	if (r == TS_OK)
		r = ts_buf_append_json_escaped(body, ut->token_type, strlen(ut->token_type));
	if (r == TS_OK)
		r = ts_buf_appendf(body, "\",\"" TS_J_EXPIRES_IN "\":%lld}",
				   (long long)(ut->expires_at > now ? ut->expires_at - now : 0));
	return r;
}

/* (b) The person's own token at the vault provider. */
static void exchange_vault(struct ts_rctx *rc, struct ts_http_req *req,
			   struct ts_http_resp *resp, const struct ts_client *c,
			   const struct subject *s, const char *provider, struct ts_oauth_err *e)
{
	struct ts_vault_user_token ut;
	struct ts_buf body;
	int r;

	memset(&ut, 0, sizeof(ut));
	ts_buf_init(&body, RESP_MAX);
	if (!vault_allowed(rc, req, c, s, e))
		goto out;
	r = ts_vault_user_token(rc->app->vault, rc->tenant->id, s->user->id, provider, VAULT_ACTOR,
				&ut);
	if (r != TS_OK) {
		vault_error(r, e);
		goto out;
	}
	if (vault_body(&ut, ts_now(), &body) != TS_OK) {
		ts_oauth_err_set(e, 500, TS_ERR_SERVER_ERROR, NULL);
		goto out;
	}
	ts_buf_clear(&resp->body);
	resp->body = body;
	ts_buf_init(&body, 0);
	resp->status = 200;
	resp->content_type = "application/json";
	ts_oauth_no_store(resp);
	if (rc->tenant->stats)
		atomic_fetch_add_explicit(&rc->tenant->stats->tokens_issued[TS_GRANT_TOKEN_EXCHANGE], 1,
					  memory_order_relaxed);
	audit_exchange(rc, c, s, "vault", provider);
out:
	ts_buf_clear_secret(&body);
	ts_vault_user_token_clear(&ut);
}

void ts_grant_token_exchange(struct ts_rctx *rc, struct ts_http_req *req,
			     struct ts_http_resp *resp, const struct ts_client *c)
{
	struct ts_oauth_err e = {0};
	struct subject s;
	const char *provider = NULL;

	memset(&s, 0, sizeof(s));
	if (!request_ok(req, &e) || !subject_load(rc, param(req, TS_P_SUBJECT_TOKEN), &s, &e) ||
	    !vault_audience(rc, req, &provider, &e))
		goto fail;
	if (provider)
		exchange_vault(rc, req, resp, c, &s, provider, &e);
	else
		exchange_narrow(rc, req, resp, c, &s, &e);
	if (e.code == NULL)
		goto out;
fail:
	ts_oauth_err_send(rc, resp, &e);
out:
	ts_access_token_clear(&s.at);
	ts_user_rec_free(s.user);
}
