/* vault.c: the vault context (settings, master keys), sealing of
 * connection fields bound to tenant, connection and field, audit and
 * metrics helpers, and the refresh-window arithmetic. */
#include "vault_int.h"

#include "ops/ops.h"
#include "store/store_config.h"
#include "wire/ascii.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TICK_MS 1000
#define DEFAULT_BACKOFF_MS 2000
#define DEFAULT_BACKOFF_MAX_MS 300000
#define DEFAULT_HTTP_TIMEOUT_MS 15000
#define DEFAULT_WARN_S (7 * TS_SECONDS_PER_DAY)
#define SETTING_MAX_MS (24LL * TS_SECONDS_PER_HOUR * 1000)
#define JITTER_SHARE_PERMILLE 50 /* jitter spans at most 5% of a lifetime */
#define JITTER_MAX_S 30
#define BACKOFF_SHIFT_MAX 30

/* A positive integer setting from the environment, or def. */
static int64_t env_int(const char *name, int64_t def, int64_t max)
{
	int64_t v = def;

	(void)ts_env_int(name, 1, max, &v);
	return v;
}

int ts_vault_new(struct ts_store *st, const struct ts_master_key *mks, size_t nmk,
		 struct ts_audit *audit, struct ts_metrics *metrics, const char *actor,
		 struct ts_vault **out)
{
	struct ts_vault *v;

	if (out == NULL)
		return TS_EINVAL;
	*out = NULL;
	if (st == NULL || mks == NULL || nmk == 0)
		return TS_EINVAL;
	v = ts_xcalloc(1, sizeof(*v));
	v->store = st;
	v->mks = ts_xcalloc(nmk, sizeof(*mks));
	memcpy(v->mks, mks, nmk * sizeof(*mks));
	v->nmk = nmk;
	v->audit = audit;
	v->metrics = metrics;
	v->actor = actor ? actor : "server";
	v->set.tick_ms = env_int("TESSERA_VAULT_TICK_MS", DEFAULT_TICK_MS, SETTING_MAX_MS);
	v->set.backoff_base_ms = env_int("TESSERA_VAULT_BACKOFF_MS", DEFAULT_BACKOFF_MS,
					 SETTING_MAX_MS);
	v->set.backoff_max_ms = env_int("TESSERA_VAULT_BACKOFF_MAX_MS", DEFAULT_BACKOFF_MAX_MS,
					SETTING_MAX_MS);
	v->set.http_timeout_ms = env_int("TESSERA_VAULT_HTTP_TIMEOUT_MS", DEFAULT_HTTP_TIMEOUT_MS,
					 (TS_VAULT_LEASE_S / 3) * 1000);
	v->set.warn_s = env_int("TESSERA_VAULT_WARN_S", DEFAULT_WARN_S, 365LL * TS_SECONDS_PER_DAY);
	pthread_mutex_init(&v->mu, NULL);
	pthread_cond_init(&v->cv, NULL);
	*out = v;
	return TS_OK;
}

void ts_vault_free(struct ts_vault *v)
{
	if (v == NULL)
		return;
	if (v->started) {
		atomic_store(&v->halt, true);
		pthread_mutex_lock(&v->mu);
		v->stop = true;
		pthread_cond_broadcast(&v->cv);
		pthread_mutex_unlock(&v->mu);
		pthread_join(v->thread, NULL);
	}
	pthread_cond_destroy(&v->cv);
	pthread_mutex_destroy(&v->mu);
	OPENSSL_cleanse(v->mks, v->nmk * sizeof(*v->mks));
	free(v->mks);
	free(v);
}

/* ---- sealing ---- */

static char *conn_aad(const char *tenant_id, const char *conn_id, const char *field)
{
	struct ts_buf b;

	ts_buf_init(&b, 1024);
	ts_buf_appendf(&b, "tessera:vault:%s:%s:%s", tenant_id, conn_id, field);
	return b.p ? ts_buf_take(&b) : NULL;
}

char *ts_vault_provider_aad(const char *tenant_id, const char *name, const char *field)
{
	struct ts_buf b;

	ts_buf_init(&b, 1024);
	ts_buf_appendf(&b, "tessera:vault-provider:%s:%s:%s", tenant_id, name, field);
	return b.p ? ts_buf_take(&b) : NULL;
}

const char *ts_vault_secret_field(const char *kind)
{
	return kind && strcmp(kind, "shopee") == 0 ? "partner_key" : "client_secret";
}

int ts_vault_seal(struct ts_vault *v, const char *tenant_id, const char *conn_id,
		  const char *field, const char *value, char **out)
{
	char *aad = conn_aad(tenant_id, conn_id, field);
	int rc;

	*out = NULL;
	if (aad == NULL)
		return TS_ETOOBIG;
	rc = ts_seal(&v->mks[0], aad, value, strlen(value), out);
	free(aad);
	return rc;
}

int ts_vault_unseal_aad(struct ts_vault *v, const char *aad, const char *sealed, char **out)
{
	unsigned char *pt = NULL;
	size_t ptlen = 0;
	int rc;

	*out = NULL;
	rc = ts_unseal(v->mks, v->nmk, aad, sealed, &pt, &ptlen);
	if (rc != TS_OK)
		return rc;
	/* Every vault value is text: a NUL inside means it is not ours. */
	if (memchr(pt, '\0', ptlen) != NULL) {
		OPENSSL_cleanse(pt, ptlen);
		free(pt);
		return TS_ECRYPTO;
	}
	*out = (char *)pt;
	return TS_OK;
}

int ts_vault_unseal(struct ts_vault *v, const char *tenant_id, const char *conn_id,
		    const char *field, const char *sealed, char **out)
{
	char *aad = conn_aad(tenant_id, conn_id, field);
	int rc;

	*out = NULL;
	if (aad == NULL)
		return TS_ETOOBIG;
	rc = ts_vault_unseal_aad(v, aad, sealed, out);
	free(aad);
	return rc;
}

void ts_vault_tokens_clear(struct ts_vault_tokens *t)
{
	if (t == NULL)
		return;
	ts_free_secret(t->access_token);
	ts_free_secret(t->refresh_token);
	json_decref(t->info);
	memset(t, 0, sizeof(*t));
}

/* ---- audit and metrics ---- */

void ts_vault_audit(struct ts_vault *v, const char *tenant, const char *type, const char *actor,
		    const char *subject, json_t *detail)
{
	char *text = detail ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	if (v->audit != NULL) {
		ts_audit_emit(v->audit, tenant, type, actor, subject, text);
	} else {
		struct ts_audit_rec r;
		memset(&r, 0, sizeof(r));
		r.tenant = (char *)tenant;
		r.time = ts_now();
		r.type = (char *)type;
		r.actor = (char *)actor;
		r.subject = (char *)subject;
		r.detail = text;
		if (ts_store_audit_append(v->store, &r, 1) != TS_OK)
			ts_log_warn("could not record audit event %s", type);
	}
	free(text);
	json_decref(detail);
}

void ts_vault_count(struct ts_vault *v, const char *tenant, const char *result)
{
	if (v->metrics != NULL)
		ts_metrics_vault_refresh(v->metrics, tenant, result);
}

void ts_vault_lease_id(char out[TS_VAULT_LEASE_ID_MAX])
{
	if (ts_rand_token(out, TS_VAULT_LEASE_ID_MAX, 16) != TS_OK)
		snprintf(out, TS_VAULT_LEASE_ID_MAX, "lease-%lld", (long long)ts_mono_ms());
}

bool ts_vault_printable(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0, i;

	if (n == 0 || n > max)
		return false;
	for (i = 0; i < n; i++)
		if (ts_is_ctl((unsigned char)s[i]))
			return false;
	return true;
}

/* ---- the refresh window ---- */

int64_t ts_vault_refresh_at(int64_t issued_at, int64_t expires_at, int64_t lead_s)
{
	int64_t life = expires_at - issued_at, at, half;

	if (life <= 0)
		return expires_at;
	/* The earlier of lead_s before expiry and 80% of the lifetime ... */
	at = expires_at - lead_s;
	if (issued_at + life * 4 / 5 < at)
		at = issued_at + life * 4 / 5;
	/* ... but never before half of the lifetime has passed. */
	half = issued_at + life / 2;
	return at > half ? at : half;
}

int64_t ts_vault_refresh_jittered(int64_t issued_at, int64_t expires_at, int64_t lead_s,
				  unsigned jitter_permille)
{
	int64_t at = ts_vault_refresh_at(issued_at, expires_at, lead_s);
	int64_t life = expires_at - issued_at, span, half;

	if (life <= 0)
		return at;
	span = life * JITTER_SHARE_PERMILLE / 1000;
	if (span > JITTER_MAX_S)
		span = JITTER_MAX_S;
	if (jitter_permille > 1000)
		jitter_permille = 1000;
	at -= span * (int64_t)jitter_permille / 1000;
	half = issued_at + life / 2;
	return at > half ? at : half;
}

int64_t ts_vault_backoff_ms(int64_t failures, int64_t base_ms, int64_t max_ms)
{
	int64_t d = base_ms;
	int64_t i;

	if (failures < 1)
		failures = 1;
	for (i = 1; i < failures && i < BACKOFF_SHIFT_MAX && d < max_ms; i++)
		d *= 2;
	return d < max_ms ? d : max_ms;
}
