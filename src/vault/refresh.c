/* refresh.c: getting a connection a fresh token, one refresher at a time.
 * The refresher takes the connection's lease in storage (one conditional
 * UPDATE, so two servers on one database never both win), re-reads the
 * row, asks the provider, and writes the outcome with a statement fenced
 * by the lease that also releases it: a rotated refresh token replaces the
 * old one together with the new access token, in one write. Outcomes:
 * a new token reschedules the next refresh inside the window;
 * a network or server failure keeps the connection active and retries
 * with exponential backoff; a provider refusing the refresh token makes it
 * needs_reauth. */
#include "vault_int.h"

#include "store/store_vault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LEASE_POLL_MS 50

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

int ts_vault_lease(struct ts_vault *v, const char *tenant_id, const char *id, int64_t wait_ms,
		   char owner[TS_VAULT_LEASE_ID_MAX])
{
	int64_t deadline = ts_mono_ms() + wait_ms;
	int rc;

	ts_vault_lease_id(owner);
	for (;;) {
		int64_t now = ts_now();
		rc = ts_store_connection_lease(v->store, tenant_id, id, owner, now + TS_VAULT_LEASE_S,
					       now);
		if (rc != TS_ECONFLICT || ts_mono_ms() >= deadline)
			return rc;
		sleep_ms(LEASE_POLL_MS);
	}
}

static unsigned jitter_permille(void)
{
	unsigned char r[2] = {0, 0};

	ts_rand_bytes(r, sizeof(r));
	return ((unsigned)r[0] << 8 | r[1]) % 1001;
}

static void set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = ts_xstrdup(v);
}

int ts_vault_store_tokens(struct ts_vault *v, struct ts_connection_rec *c,
			  const struct ts_vault_provider *p, const struct ts_vault_tokens *t,
			  int64_t now)
{
	char *at = NULL, *rt = NULL, *meta_text;
	json_t *meta, *pd;
	int64_t life = t->expires_in > 0 ? t->expires_in : p->token_lifetime;
	int rc;

	rc = ts_vault_seal(v, c->tenant_id, c->id, "access_token", t->access_token, &at);
	if (rc == TS_OK && t->refresh_token)
		rc = ts_vault_seal(v, c->tenant_id, c->id, "refresh_token", t->refresh_token, &rt);
	if (rc != TS_OK) {
		free(at);
		return rc;
	}
	free(c->access_token);
	c->access_token = at;
	if (rt) {
		/* Rotation: the new refresh token replaces the old one in the
		 * same write as the new access token. */
		free(c->refresh_token);
		c->refresh_token = rt;
		c->refresh_expires_at = t->refresh_expires_in ? now + t->refresh_expires_in : 0;
		c->expiry_warned = false;
	} else if (t->refresh_expires_in) {
		c->refresh_expires_at = now + t->refresh_expires_in;
	}
	/* Client credentials keep no refresh token: a new token is fetched. */
	if (p->client_credentials) {
		free(c->refresh_token);
		c->refresh_token = NULL;
	}
	c->issued_at = now;
	c->expires_at = now + life;
	c->next_refresh_at = ts_vault_refresh_jittered(now, c->expires_at, TS_VAULT_REFRESH_LEAD_S,
						       jitter_permille());
	c->failures = 0;
	set_str(&c->last_error, NULL);
	set_str(&c->status, "active");
	c->updated_at = now;
	meta = json_loads(c->metadata, 0, NULL);
	if (!json_is_object(meta)) {
		json_decref(meta);
		meta = json_object();
	}
	if (t->info && p->kind == TS_VAULT_SHOPEE) {
		json_object_update(meta, t->info);
	} else if (t->info) {
		pd = json_object_get(meta, "provider_data");
		if (json_is_object(pd))
			json_object_update(pd, t->info);
		else
			json_object_set(meta, "provider_data", t->info);
	}
	/* Members kept before the allow-list existed go with the next token. */
	pd = json_object_get(meta, "provider_data");
	if (p->kind == TS_VAULT_OAUTH2 && json_is_object(pd)) {
		const char *k;
		json_t *val;
		void *tmp;
		json_object_foreach_safe(pd, tmp, k, val) {
			if (!ts_vault_kept_member(k))
				json_object_del(pd, k);
		}
	}
	meta_text = json_dumps(meta, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(meta);
	if (meta_text) {
		free(c->metadata);
		c->metadata = meta_text;
	}
	return TS_OK;
}

int ts_vault_fetch(struct ts_vault *v, const struct ts_vault_provider *p,
		   const struct ts_connection_rec *c, const char *refresh_token,
		   struct ts_vault_tokens *t, char *err, size_t cap)
{
	const char *authz, *token, *revoke;
	json_t *meta;
	int rc;

	memset(t, 0, sizeof(*t));
	if (p->kind == TS_VAULT_OAUTH2 && p->client_credentials)
		return ts_vault_oauth2_client_credentials(v, p, t, err, cap);
	if (refresh_token == NULL) {
		snprintf(err, cap, "the provider gave no refresh token; the connection must be "
			 "authorized again");
		return TS_EDENIED;
	}
	meta = json_loads(c->metadata, 0, NULL);
	if (p->kind == TS_VAULT_SHOPEE) {
		rc = ts_vault_shopee_refresh(v, p, meta, refresh_token, t, err, cap);
	} else {
		ts_vault_oauth2_endpoints(p, meta, &authz, &token, &revoke);
		rc = ts_vault_oauth2_refresh(v, p, token, refresh_token, t, err, cap);
	}
	json_decref(meta);
	return rc;
}

/* Whether the connection should be refreshed now. */
static bool due(const struct ts_connection_rec *c, enum ts_vault_why why, int64_t now)
{
	if (strcmp(c->status, "needs_reauth") == 0)
		return false;
	/* A pending connection waits for its callback, unless it is a
	 * declared client-credentials one (scheduled at once). */
	if (c->access_token == NULL && c->next_refresh_at == 0)
		return false;
	if (why == TS_VAULT_SCHEDULED)
		return c->next_refresh_at != 0 && c->next_refresh_at <= now;
	if (c->access_token == NULL || c->expires_at <= now)
		return true;
	/* While retrying after failures, a request that still has a valid
	 * token waits for the backoff like the scheduler does. */
	if (c->failures > 0 && c->next_refresh_at > now)
		return false;
	return now >= ts_vault_refresh_at(c->issued_at, c->expires_at, TS_VAULT_REFRESH_LEAD_S);
}

static json_t *event_detail(const struct ts_connection_rec *c, const char *error)
{
	json_t *d = json_pack("{s:s,s:s}", "connection", c->name, "provider", c->provider);

	if (error)
		json_object_set_new(d, "error", json_string(error));
	return d;
}

/* Announces, once, that the refresh token (or Shopee authorization) is
 * close to its end. */
static void maybe_warn(struct ts_vault *v, struct ts_connection_rec *c,
		       const struct ts_vault_provider *p, int64_t now, const char *actor)
{
	json_t *d;

	if (c->refresh_expires_at == 0 || c->expiry_warned || strcmp(c->status, "active") != 0 ||
	    c->refresh_expires_at - now > v->set.warn_s)
		return;
	c->expiry_warned = true;
	d = event_detail(c, NULL);
	json_object_set_new(d, "expires_at", json_integer(c->refresh_expires_at));
	ts_log_warn("vault connection %s of tenant %s: the %s ends at %lld", c->id, c->tenant_name,
		    p && p->kind == TS_VAULT_SHOPEE ? "Shopee authorization" : "refresh token",
		    (long long)c->refresh_expires_at);
	ts_vault_audit(v, c->tenant_name,
		       p && p->kind == TS_VAULT_SHOPEE ? "vault.authorization_expiring"
						       : "vault.refresh_token_expiring",
		       actor, c->id, d);
}

/* Records a failed attempt: needs_reauth when refused, else backoff. */
static void failed(struct ts_vault *v, struct ts_connection_rec *c, int rc, const char *err,
		   int64_t now, const char *actor)
{
	int64_t delay_ms;

	c->failures++;
	set_str(&c->last_error, err);
	c->updated_at = now;
	if (rc == TS_EDENIED) {
		set_str(&c->status, "needs_reauth");
		c->next_refresh_at = 0;
		ts_log_warn("vault connection %s of tenant %s needs to be authorized again: %s", c->id,
			    c->tenant_name, err);
		ts_vault_audit(v, c->tenant_name, "vault.needs_reauth", actor, c->id,
			       event_detail(c, err));
		ts_vault_count(v, c->tenant_name, "needs_reauth");
		return;
	}
	delay_ms = ts_vault_backoff_ms(c->failures, v->set.backoff_base_ms, v->set.backoff_max_ms);
	/* A little jitter, so that connections failing together spread out. */
	delay_ms += delay_ms * (int64_t)jitter_permille() / 10000;
	c->next_refresh_at = now + (delay_ms + 999) / 1000;
	ts_log_warn("vault connection %s of tenant %s: refresh failed (attempt %lld, next in %lld ms): %s",
		    c->id, c->tenant_name, (long long)c->failures, (long long)delay_ms, err);
	ts_vault_audit(v, c->tenant_name, "vault.refresh_failed", actor, c->id,
		       event_detail(c, err));
	ts_vault_count(v, c->tenant_name, "error");
}

/* Asks the provider and updates c (under the caller's lease). */
static void refresh_locked(struct ts_vault *v, struct ts_connection_rec *c, const char *actor)
{
	struct ts_vault_provider *p = NULL;
	struct ts_vault_tokens t;
	char err[TS_VAULT_ERR_MAX] = "";
	char *rt = NULL;
	bool was_pending = strcmp(c->status, "pending") == 0, rotated;
	int64_t now = ts_now();
	int rc;

	memset(&t, 0, sizeof(t));
	rc = ts_vault_provider_load(v, c->tenant_id, c->provider, &p);
	if (rc != TS_OK) {
		snprintf(err, sizeof(err), "the provider's settings or secret cannot be used (%s)",
			 ts_rc_str(rc));
		failed(v, c, TS_EIO, err, now, actor);
		goto out;
	}
	/* Without a refresh token there is nothing to do until the token
	 * expires; then the connection needs a new authorization. */
	if (c->refresh_token == NULL && !(p->kind == TS_VAULT_OAUTH2 && p->client_credentials) &&
	    c->access_token != NULL && c->expires_at > now) {
		c->next_refresh_at = c->expires_at;
		goto out;
	}
	if (c->refresh_token) {
		rc = ts_vault_unseal(v, c->tenant_id, c->id, "refresh_token", c->refresh_token, &rt);
		if (rc != TS_OK) {
			/* A record sealed elsewhere (or tampered with) can never
			 * open: only a new authorization helps. A missing master
			 * key can be configured: retry. */
			snprintf(err, sizeof(err), "the stored refresh token cannot be opened (%s)",
				 ts_rc_str(rc));
			failed(v, c, rc == TS_ECRYPTO ? TS_EDENIED : TS_EIO, err, now, actor);
			goto out;
		}
	}
	rc = ts_vault_fetch(v, p, c, rt, &t, err, sizeof(err));
	now = ts_now();
	if (rc != TS_OK) {
		failed(v, c, rc, err[0] ? err : "the provider did not answer", now, actor);
		goto out;
	}
	rotated = t.refresh_token != NULL && c->refresh_token != NULL;
	rc = ts_vault_store_tokens(v, c, p, &t, now);
	if (rc != TS_OK) {
		failed(v, c, TS_EIO, "the new token could not be sealed", now, actor);
		goto out;
	}
	{
		json_t *d = event_detail(c, NULL);
		json_object_set_new(d, "expires_at", json_integer(c->expires_at));
		json_object_set_new(d, "rotated", json_boolean(rotated));
		ts_vault_audit(v, c->tenant_name, was_pending ? "vault.connected" : "vault.refreshed",
			       actor, c->id, d);
	}
	ts_vault_count(v, c->tenant_name, "ok");
out:
	maybe_warn(v, c, p, now, actor);
	ts_free_secret(rt);
	ts_vault_tokens_clear(&t);
	ts_vault_provider_free(p);
}

bool ts_vault_awaits_callback(const struct ts_connection_rec *c)
{
	return strcmp(c->status, "pending") == 0 && c->access_token == NULL &&
	       c->next_refresh_at == 0;
}

static bool same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Whether a manual refresh of the connection the request saw still has
 * work to do: not when nothing can be refreshed, nor when its token was
 * obtained moments ago (requests sent together, or a double click, ask the
 * provider once), nor when another refresher wrote an outcome since (a new
 * sealed token, which never repeats, or another failure count or
 * status). */
static bool manual_due(const struct ts_connection_rec *c, const struct ts_connection_rec *seen)
{
	if (strcmp(c->status, "needs_reauth") == 0 || ts_vault_awaits_callback(c))
		return false;
	if (c->access_token != NULL && c->failures == 0 &&
	    ts_now() - c->issued_at < TS_VAULT_MANUAL_MIN_S)
		return false;
	return same_str(c->access_token, seen->access_token) && c->failures == seen->failures &&
	       strcmp(c->status, seen->status) == 0;
}

static int refresh_when(struct ts_vault *v, const char *tenant_id, const char *id,
			enum ts_vault_why why, const struct ts_connection_rec *seen,
			const char *actor, struct ts_connection_rec **out)
{
	struct ts_connection_rec *c = NULL;
	char owner[TS_VAULT_LEASE_ID_MAX];
	int rc;

	*out = NULL;
	rc = ts_vault_lease(v, tenant_id, id, 0, owner);
	if (rc != TS_OK)
		return rc;
	/* Read after taking the lease: another refresher may have just
	 * finished, and then there is nothing left to do. */
	rc = ts_store_connection_get(v->store, tenant_id, id, &c);
	if (rc != TS_OK) {
		ts_store_connection_release(v->store, tenant_id, id, owner);
		return rc;
	}
	if (seen != NULL ? !manual_due(c, seen) : !due(c, why, ts_now())) {
		ts_store_connection_release(v->store, tenant_id, id, owner);
		free(c->lease_owner);
		c->lease_owner = NULL;
		c->lease_until = 0;
		*out = c;
		return TS_OK;
	}
	refresh_locked(v, c, actor);
	rc = ts_store_connection_save(v->store, c, owner);
	if (rc == TS_ECONFLICT)
		ts_log_warn("vault connection %s: the refresh lease was lost; result dropped", id);
	if (rc != TS_OK) {
		ts_connection_rec_free(c);
		return rc;
	}
	free(c->lease_owner);
	c->lease_owner = NULL;
	c->lease_until = 0;
	*out = c;
	return TS_OK;
}

int ts_vault_refresh(struct ts_vault *v, const char *tenant_id, const char *id,
		     enum ts_vault_why why, const char *actor, struct ts_connection_rec **out)
{
	return refresh_when(v, tenant_id, id, why, NULL, actor, out);
}

int ts_vault_refresh_manual(struct ts_vault *v, const struct ts_connection_rec *seen,
			    const char *actor, struct ts_connection_rec **out)
{
	return refresh_when(v, seen->tenant_id, seen->id, TS_VAULT_ON_DEMAND, seen, actor, out);
}
