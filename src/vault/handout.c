/* handout.c: handing out a connection's access token, refreshed first when
 * it is inside its refresh window (through the refresh lease, waiting
 * briefly for another refresher), for the connections API and for token
 * exchange into the vault (RFC 8693), which looks up a person's own
 * connection to a provider. */
#include "vault_int.h"

#include "http/members.h"
#include "store/store_vault.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WAIT_POLL_MS 100
#define DEFAULT_TOKEN_TYPE "Bearer"

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Whether c's access token can be handed out as it is. */
static bool fresh(const struct ts_connection_rec *c, int64_t now)
{
	return strcmp(c->status, "active") == 0 && c->access_token != NULL &&
	       now < ts_vault_refresh_at(c->issued_at, c->expires_at, TS_VAULT_REFRESH_LEAD_S) &&
	       c->expires_at > now;
}

static bool waits_for_person(const struct ts_connection_rec *c)
{
	return strcmp(c->status, "needs_reauth") == 0 || strcmp(c->status, "pending") == 0;
}

int ts_vault_fresh_token(struct ts_vault *v, const char *actor, struct ts_connection_rec **c,
			 char **token)
{
	struct ts_connection_rec *after = NULL;
	int64_t deadline = ts_mono_ms() + TS_VAULT_LEASE_WAIT_MS;
	int r;

	*token = NULL;
	while (!fresh(*c, ts_now()) && !waits_for_person(*c)) {
		r = ts_vault_refresh(v, (*c)->tenant_id, (*c)->id, TS_VAULT_ON_DEMAND, actor, &after);
		if (r == TS_OK) {
			ts_connection_rec_free(*c);
			*c = after;
			break;
		}
		if (r == TS_ENOTFOUND)
			return r;
		if (r != TS_ECONFLICT || ts_mono_ms() >= deadline)
			break;
		/* Someone else is refreshing it. A token that is still valid is
		 * handed out at once; an expired one waits for the refresher. */
		if ((*c)->access_token != NULL && (*c)->expires_at > ts_now())
			break;
		sleep_ms(WAIT_POLL_MS);
		r = ts_store_connection_get(v->store, (*c)->tenant_id, (*c)->id, &after);
		if (r != TS_OK)
			return r == TS_ENOTFOUND ? TS_ENOTFOUND : TS_ESTORE;
		ts_connection_rec_free(*c);
		*c = after;
	}
	if (waits_for_person(*c))
		return TS_EINVAL;
	/* A token that is still valid is handed out even when its refresh
	 * failed: the scheduler keeps retrying. */
	if ((*c)->access_token == NULL || (*c)->expires_at <= ts_now())
		return TS_EIO;
	r = ts_vault_unseal(v, (*c)->tenant_id, (*c)->id, "access_token", (*c)->access_token, token);
	if (r != TS_OK) {
		ts_log_err("vault connection %s: the stored access token cannot be opened (%s)",
			   (*c)->id, ts_rc_str(r));
		return TS_ECRYPTO;
	}
	return TS_OK;
}

void ts_vault_user_token_clear(struct ts_vault_user_token *t)
{
	ts_free_secret(t->access_token);
	free(t->token_type);
	free(t->connection_id);
	memset(t, 0, sizeof(*t));
}

/* The connection of the user's that is handed out: the oldest active one,
 * else the oldest (whose state then decides the answer). */
static struct ts_connection_rec *pick(struct ts_connection_rec **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i]->status, "active") == 0)
			return v[i];
	return n ? v[0] : NULL;
}

/* The provider's token_type from the connection's provider data, or
 * Bearer. Caller frees. */
static char *token_type_of(const struct ts_connection_rec *c)
{
	json_t *meta = c->metadata ? json_loads(c->metadata, 0, NULL) : NULL;
	const char *tt = json_string_value(
		json_object_get(json_object_get(meta, "provider_data"), TS_J_TOKEN_TYPE));
	char *out = ts_xstrdup(tt && ts_vault_printable(tt, 64) ? tt : DEFAULT_TOKEN_TYPE);

	json_decref(meta);
	return out;
}

/* Loads the provider and tells whether a person may hold its tokens:
 * TS_OK for an OAuth 2.0 provider of people's connections; TS_EDENIED for
 * a client-credentials provider (the tenant's machine token) or a Shopee
 * provider (its token is used through signed parameters, not as a
 * bearer token). */
static int provider_for_person(struct ts_vault *v, const char *tenant_id, const char *name)
{
	struct ts_vault_provider *p = NULL;
	int r = ts_vault_provider_load(v, tenant_id, name, &p);

	if (r == TS_OK && (p->kind != TS_VAULT_OAUTH2 || p->client_credentials))
		r = TS_EDENIED;
	else if (r == TS_ECRYPTO)
		r = TS_OK; /* the provider exists; its secret matters only to a refresh */
	ts_vault_provider_free(p);
	return r;
}

int ts_vault_user_token(struct ts_vault *v, const char *tenant_id, const char *user_id,
			const char *provider, const char *actor, struct ts_vault_user_token *out)
{
	struct ts_connection_rec **list = NULL, *c = NULL;
	size_t n = 0, i;
	int r;

	memset(out, 0, sizeof(*out));
	if (v == NULL || tenant_id == NULL || user_id == NULL || provider == NULL)
		return TS_EINVAL;
	r = provider_for_person(v, tenant_id, provider);
	if (r != TS_OK)
		return r;
	r = ts_store_connection_owned(v->store, tenant_id, user_id, provider, &list, &n);
	if (r != TS_OK)
		return r == TS_ESTORE ? TS_ESTORE : TS_ENOTFOUND;
	c = pick(list, n);
	/* Take the chosen record out of the list: fresh_token replaces it. */
	for (i = 0; c && i < n; i++)
		if (list[i] == c)
			list[i] = NULL;
	ts_connection_recs_free(list, n);
	if (c == NULL)
		return TS_ENOTFOUND;
	/* Only ever the user's own connection (the query says so; this says
	 * it again where the token leaves). */
	if (c->owner == NULL || strcmp(c->owner, user_id) != 0) {
		ts_connection_rec_free(c);
		return TS_ENOTFOUND;
	}
	r = ts_vault_fresh_token(v, actor, &c, &out->access_token);
	if (r == TS_OK) {
		out->token_type = token_type_of(c);
		out->expires_at = c->expires_at;
		out->connection_id = ts_xstrdup(c->id);
	}
	ts_connection_rec_free(c);
	return r;
}
