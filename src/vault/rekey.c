/* rekey.c: `tessera keys rekey-vault`: moves every provider secret and
 * connection token to the current master key (mks[0]), record by record,
 * each in its own transaction, while servers keep running: a provider
 * secret is swapped only if it is still the value read (compare and swap);
 * a connection is re-sealed under its refresh lease, so no refresh can
 * write in between. The tenants' private signing keys, sealed under the
 * same master key, are moved too (compare and swap), so that the old key
 * can be dropped afterwards. Values already under the current key are left
 * alone, so a second run finds nothing to do. */
#include "vault_int.h"

#include "store/store_config.h"
#include "store/store_vault.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESEAL_TRIES 5
#define FAILED_IDS_MAX 20

struct tally {
	int64_t total, resealed, current, failed;
	json_t *failures; /* [{id, error}] (first FAILED_IDS_MAX) */
};

static void note_failure(struct tally *t, const char *what, const char *id, int rc)
{
	const char *why = rc == TS_ECRYPTO || rc == TS_ENOTFOUND
				  ? "no configured master key opens it" : ts_rc_str(rc);

	t->failed++;
	if (json_array_size(t->failures) < FAILED_IDS_MAX)
		json_array_append_new(t->failures, json_pack("{s:s,s:s,s:s}", "type", what, "id", id,
							     "error", why));
	ts_log_warn("rekey: %s %s cannot be re-sealed: %s", what, id, why);
}

static bool is_current(const struct ts_vault *v, const char *sealed)
{
	char kid[17];

	return sealed == NULL ||
	       (ts_sealed_kid(sealed, kid) == TS_OK && strcmp(kid, v->mks[0].kid) == 0);
}

/* One provider: re-read, open with any key, seal under the current one,
 * swap if unchanged. */
static int reseal_provider(struct ts_vault *v, const struct ts_provider_rec *p0)
{
	struct ts_provider_rec *p = NULL;
	char *aad = NULL, *plain = NULL, *sealed = NULL;
	int tries, rc = TS_OK;

	for (tries = 0; tries < RESEAL_TRIES; tries++) {
		ts_provider_rec_free(p);
		p = NULL;
		free(sealed);
		sealed = NULL;
		ts_free_secret(plain);
		plain = NULL;
		free(aad);
		aad = NULL;
		rc = ts_store_provider_get(v->store, p0->tenant_id, p0->name, &p);
		if (rc != TS_OK || is_current(v, p->sealed_secret))
			break;
		aad = ts_vault_provider_aad(p->tenant_id, p->name, ts_vault_secret_field(p->kind));
		rc = aad ? ts_vault_unseal_aad(v, aad, p->sealed_secret, &plain) : TS_ETOOBIG;
		if (rc == TS_OK)
			rc = ts_seal(&v->mks[0], aad, plain, strlen(plain), &sealed);
		if (rc == TS_OK)
			rc = ts_store_provider_reseal(v->store, p->tenant_id, p->name, p->sealed_secret,
						      sealed);
		if (rc != TS_ECONFLICT)
			break;
	}
	ts_provider_rec_free(p);
	free(sealed);
	ts_free_secret(plain);
	free(aad);
	return rc;
}

/* One sealed field of c, re-sealed in place (NULL stays NULL). */
static int reseal_field(struct ts_vault *v, struct ts_connection_rec *c, const char *field,
			char **value)
{
	char *plain = NULL, *sealed = NULL;
	int rc;

	if (*value == NULL || is_current(v, *value))
		return TS_OK;
	/* No key opens it (TS_ENOTFOUND from ts_unseal), or it is damaged. */
	if (ts_vault_unseal(v, c->tenant_id, c->id, field, *value, &plain) != TS_OK)
		return TS_ECRYPTO;
	rc = ts_vault_seal(v, c->tenant_id, c->id, field, plain, &sealed);
	ts_free_secret(plain);
	if (rc == TS_OK) {
		free(*value);
		*value = sealed;
	}
	return rc;
}

static int reseal_connection(struct ts_vault *v, const struct ts_connection_rec *c0)
{
	struct ts_connection_rec *c = NULL;
	char owner[TS_VAULT_LEASE_ID_MAX];
	int rc;

	/* A refresh holds the lease for at most a few seconds. */
	rc = ts_vault_lease(v, c0->tenant_id, c0->id, 2 * TS_VAULT_LEASE_S * 1000, owner);
	if (rc != TS_OK)
		return rc;
	rc = ts_store_connection_get(v->store, c0->tenant_id, c0->id, &c);
	if (rc == TS_OK)
		rc = reseal_field(v, c, "access_token", &c->access_token);
	if (rc == TS_OK)
		rc = reseal_field(v, c, "refresh_token", &c->refresh_token);
	if (rc == TS_OK)
		rc = ts_store_connection_save(v->store, c, owner);
	else
		ts_store_connection_release(v->store, c0->tenant_id, c0->id, owner);
	ts_connection_rec_free(c);
	return rc;
}

/* One signing key: open the PKCS#8 bytes with any key, seal them under the
 * current one (AAD as admin/keys.c seals them), swap if unchanged. */
static int reseal_key(struct ts_vault *v, const struct ts_key_rec *k)
{
	unsigned char *der = NULL;
	size_t derlen = 0;
	char aad[256], *sealed = NULL;
	int rc;

	snprintf(aad, sizeof(aad), "tessera:signing-key:%s:%s", k->tenant_id, k->kid);
	rc = ts_unseal(v->mks, v->nmk, aad, k->sealed_private, &der, &derlen);
	if (rc == TS_OK)
		rc = ts_seal(&v->mks[0], aad, der, derlen, &sealed);
	if (der) {
		OPENSSL_cleanse(der, derlen);
		free(der);
	}
	if (rc == TS_OK)
		rc = ts_store_key_reseal(v->store, k->tenant_id, k->kid, k->sealed_private, sealed);
	free(sealed);
	return rc;
}

static json_t *tally_json(const struct tally *t)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:O}", "total", (json_int_t)t->total, "resealed",
			 (json_int_t)t->resealed, "already_current", (json_int_t)t->current,
			 "failed", (json_int_t)t->failed, "failures", t->failures);
}

int ts_vault_rekey(struct ts_vault *v, json_t **summary)
{
	struct ts_provider_rec **ps = NULL;
	struct ts_connection_rec **cs = NULL;
	struct ts_key_rec **ks = NULL;
	struct tally tp = {0, 0, 0, 0, json_array()}, tc = {0, 0, 0, 0, json_array()};
	struct tally tk = {0, 0, 0, 0, json_array()};
	size_t np = 0, nc = 0, nk = 0, i;
	int rc;

	*summary = NULL;
	rc = ts_store_provider_list(v->store, NULL, &ps, &np);
	if (rc == TS_OK)
		rc = ts_store_connection_list(v->store, NULL, &cs, &nc);
	if (rc == TS_OK)
		rc = ts_store_key_list(v->store, NULL, &ks, &nk);
	if (rc != TS_OK)
		goto out;
	for (i = 0; i < nk; i++) {
		tk.total++;
		if (is_current(v, ks[i]->sealed_private)) {
			tk.current++;
			continue;
		}
		/* A key changed meanwhile (rotation) was sealed by its writer. */
		rc = reseal_key(v, ks[i]);
		if (rc == TS_OK)
			tk.resealed++;
		else if (rc != TS_ECONFLICT)
			note_failure(&tk, "signing key", ks[i]->kid, rc);
	}
	for (i = 0; i < np; i++) {
		if (ps[i]->sealed_secret == NULL)
			continue;
		tp.total++;
		if (is_current(v, ps[i]->sealed_secret)) {
			tp.current++;
			continue;
		}
		rc = reseal_provider(v, ps[i]);
		if (rc == TS_OK)
			tp.resealed++;
		else
			note_failure(&tp, "provider", ps[i]->name, rc);
	}
	for (i = 0; i < nc; i++) {
		if (cs[i]->access_token == NULL && cs[i]->refresh_token == NULL)
			continue;
		tc.total++;
		if (is_current(v, cs[i]->access_token) && is_current(v, cs[i]->refresh_token)) {
			tc.current++;
			continue;
		}
		rc = reseal_connection(v, cs[i]);
		if (rc == TS_OK || rc == TS_ENOTFOUND)
			tc.resealed += rc == TS_OK;
		else
			note_failure(&tc, "connection", cs[i]->id, rc);
	}
	*summary = json_pack("{s:s,s:o,s:o,s:o}", "key_id", v->mks[0].kid, "providers",
			     tally_json(&tp), "connections", tally_json(&tc), "signing_keys",
			     tally_json(&tk));
	rc = tp.failed || tc.failed || tk.failed ? TS_ECRYPTO : TS_OK;
	if (rc == TS_OK)
		ts_vault_audit(v, NULL, "vault.rekeyed", v->actor, v->mks[0].kid,
			       json_pack("{s:I,s:I,s:I}", "providers", (json_int_t)tp.resealed,
					 "connections", (json_int_t)tc.resealed, "signing_keys",
					 (json_int_t)tk.resealed));
out:
	json_decref(tp.failures);
	json_decref(tc.failures);
	json_decref(tk.failures);
	ts_key_recs_free(ks, nk);
	ts_provider_recs_free(ps, np);
	ts_connection_recs_free(cs, nc);
	return rc;
}
