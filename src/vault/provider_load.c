/* provider_load.c: a provider of the token vault at run time: storing
 * resolved settings with the secret sealed (AAD: tenant id, provider
 * name, field), the view the CLI prints, and loading a provider with its
 * secret opened for use. What a provider spec may say, its profiles and
 * its resolution to settings are src/admin/provider.c. */
#include "vault_int.h"

#include "tenant/tenant.h"
#include "store/store_config.h"
#include "store/store_vault.h"

#include <stdlib.h>
#include <string.h>

/* Whether the stored sealed secret opens to exactly secret. */
static bool same_secret(struct ts_vault *v, const char *aad, const char *sealed,
			const char *secret)
{
	char *old = NULL;
	bool same;

	if (sealed == NULL || secret == NULL)
		return sealed == NULL && secret == NULL;
	if (ts_vault_unseal_aad(v, aad, sealed, &old) != TS_OK)
		return false;
	same = ts_ct_equal(old, strlen(old), secret, strlen(secret));
	ts_free_secret(old);
	return same;
}

int ts_vault_provider_put(struct ts_vault *v, const char *tenant, const json_t *spec,
			  const json_t *cfg, const char *secret, bool keep_secret,
			  const char **result, char *err, size_t cap)
{
	struct ts_tenant_rec *t = NULL;
	struct ts_provider_rec *old = NULL, rec;
	json_t *oldcfg = NULL;
	const char *method;
	char *aad = NULL, *sealed = NULL;
	bool same_cfg, keep;
	int rc;

	memset(&rec, 0, sizeof(rec));
	*result = NULL;
	rc = ts_store_tenant_get(v->store, tenant, &t);
	if (rc == TS_ENOTFOUND) {
		rc = ts_admin_fail(err, cap, "no tenant named \"%s\"", tenant);
		goto out;
	}
	if (rc != TS_OK)
		goto out;
	rec.tenant_id = t->id;
	rec.name = (char *)json_string_value(json_object_get(spec, "name"));
	rec.kind = (char *)json_string_value(json_object_get(cfg, "kind"));
	rc = ts_store_provider_get(v->store, t->id, rec.name, &old);
	if (rc != TS_OK && rc != TS_ENOTFOUND)
		goto out;
	rc = TS_OK;
	aad = ts_vault_provider_aad(t->id, rec.name, ts_vault_secret_field(rec.kind));
	if (aad == NULL) {
		rc = TS_ETOOBIG;
		goto out;
	}
	/* A spec without a secret keeps the stored one (CLI update) only when
	 * the kind, and so the secret's field, stays the same. */
	keep = keep_secret && secret == NULL && old && strcmp(old->kind, rec.kind) == 0 &&
	       old->sealed_secret != NULL;
	method = json_string_value(json_object_get(cfg, "auth_method"));
	if (!keep && secret == NULL && !ts_str_eq(ts_str_c(method), "none")) {
		rc = ts_admin_fail(err, cap, "provider %s: a %s is required", rec.name,
				   ts_vault_secret_field(rec.kind));
		goto out;
	}
	rec.config = json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS);
	if (old) {
		oldcfg = json_loads(old->config, 0, NULL);
		same_cfg = oldcfg && json_equal(oldcfg, cfg);
		if (same_cfg && (keep || same_secret(v, aad, old->sealed_secret, secret))) {
			*result = "unchanged";
			goto out;
		}
		*result = "updated";
		rec.created_at = old->created_at;
	} else {
		*result = "created";
		rec.created_at = ts_now();
	}
	if (keep) {
		rec.sealed_secret = old->sealed_secret;
	} else if (secret) {
		rc = ts_seal(&v->mks[0], aad, secret, strlen(secret), &sealed);
		if (rc != TS_OK)
			goto out;
		rec.sealed_secret = sealed;
	}
	rec.updated_at = ts_now();
	rc = ts_store_provider_put(v->store, &rec);
	if (rc == TS_OK)
		ts_vault_audit(v, tenant, old ? "vault.provider_updated" : "vault.provider_created",
			       v->actor, rec.name, json_pack("{s:s}", "kind", rec.kind));
out:
	if (rc != TS_OK && err[0] == '\0')
		ts_admin_fail(err, cap, "could not save provider (%s)", ts_rc_str(rc));
	free(sealed);
	free(aad);
	free(rec.config);
	json_decref(oldcfg);
	ts_provider_rec_free(old);
	ts_tenant_rec_free(t);
	return rc;
}

json_t *ts_vault_provider_view(const struct ts_provider_rec *p)
{
	json_t *cfg = json_loads(p->config, 0, NULL), *v;

	v = json_pack("{s:s,s:s,s:b,s:I,s:I}", "name", p->name, "kind", p->kind, "has_secret",
		      p->sealed_secret != NULL, "created_at", (json_int_t)p->created_at,
		      "updated_at", (json_int_t)p->updated_at);
	if (cfg)
		json_object_update_missing(v, cfg);
	json_decref(cfg);
	return v;
}

int ts_vault_provider_load(struct ts_vault *v, const char *tenant_id, const char *name,
			   struct ts_vault_provider **out)
{
	struct ts_provider_rec *rec = NULL;
	struct ts_vault_provider *p = NULL;
	char *aad = NULL;
	const json_t *lt;
	int rc;

	*out = NULL;
	rc = ts_store_provider_get(v->store, tenant_id, name, &rec);
	if (rc != TS_OK)
		return rc;
	p = ts_xcalloc(1, sizeof(*p));
	p->tenant_id = ts_xstrdup(tenant_id);
	p->name = ts_xstrdup(name);
	p->kind = strcmp(rec->kind, "shopee") == 0 ? TS_VAULT_SHOPEE : TS_VAULT_OAUTH2;
	p->cfg = json_loads(rec->config, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(p->cfg)) {
		ts_log_err("provider %s of tenant %s has unreadable settings", name, tenant_id);
		rc = TS_ESTORE;
		goto out;
	}
	if (rec->sealed_secret) {
		aad = ts_vault_provider_aad(tenant_id, name, ts_vault_secret_field(rec->kind));
		rc = aad ? ts_vault_unseal_aad(v, aad, rec->sealed_secret, &p->secret) : TS_ETOOBIG;
		if (rc != TS_OK) {
			ts_log_err("the secret of provider %s of tenant %s cannot be opened (%s)", name,
				   tenant_id, ts_rc_str(rc));
			rc = TS_ECRYPTO;
			goto out;
		}
	}
	p->authorize_url = json_string_value(json_object_get(p->cfg, "authorize_url"));
	p->token_url = json_string_value(json_object_get(p->cfg, "token_url"));
	p->revoke_url = json_string_value(json_object_get(p->cfg, "revoke_url"));
	p->client_id = json_string_value(json_object_get(p->cfg, "client_id"));
	p->auth_method = json_string_value(json_object_get(p->cfg, "auth_method"));
	if (p->auth_method == NULL)
		p->auth_method = "client_secret_basic";
	p->fhir_base_url = json_string_value(json_object_get(p->cfg, "fhir_base_url"));
	p->pkce = json_is_true(json_object_get(p->cfg, "pkce"));
	p->client_credentials = ts_str_eq(ts_str_c(json_string_value(json_object_get(p->cfg, "grant"))),
					  "client_credentials");
	lt = json_object_get(p->cfg, "token_lifetime");
	p->token_lifetime = json_is_integer(lt) && json_integer_value(lt) > 0
				    ? (int64_t)json_integer_value(lt) : TS_VAULT_DEFAULT_LIFETIME;
	p->partner_id = (int64_t)json_integer_value(json_object_get(p->cfg, "partner_id"));
	p->base_url = json_string_value(json_object_get(p->cfg, "base_url"));
	if (p->kind == TS_VAULT_OAUTH2 && p->client_id == NULL) {
		rc = TS_ESTORE;
		goto out;
	}
	if (p->kind == TS_VAULT_SHOPEE && (p->base_url == NULL || p->partner_id <= 0 ||
					   p->secret == NULL)) {
		rc = TS_ESTORE;
		goto out;
	}
	*out = p;
	p = NULL;
out:
	free(aad);
	ts_vault_provider_free(p);
	ts_provider_rec_free(rec);
	return rc;
}

void ts_vault_provider_free(struct ts_vault_provider *p)
{
	if (p == NULL)
		return;
	free(p->tenant_id);
	free(p->name);
	json_decref(p->cfg);
	ts_free_secret(p->secret);
	free(p);
}
