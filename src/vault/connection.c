/* connection.c: connections as the API and CLI see them (metadata and
 * status, never a token), their deletion with upstream revocation (RFC
 * 7009, best effort), and connections declared in the bootstrap file
 * (tenant-owned, client-credentials providers only: nothing else can be
 * connected without a person at a browser). */
#include "vault_int.h"

#include "tenant/tenant.h"
#include "store/store_config.h"
#include "store/store_vault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const spec_fields[] = {"provider", "name", NULL};

/* What an API caller learns of a failure: its kind, not the provider's text. */
static const char *generic_error(const struct ts_connection_rec *c)
{
	if (c->last_error == NULL)
		return NULL;
	if (c->status != NULL && strcmp(c->status, "needs_reauth") == 0)
		return "the provider refused the refresh; the connection must be authorized again";
	return "the last refresh failed; it is retried with backoff";
}

json_t *ts_vault_connection_view(const struct ts_connection_rec *c, int64_t now, bool admin)
{
	json_t *meta = json_loads(c->metadata, 0, NULL), *o;
	const char *status = c->status;

	/* A refresh in progress shows as "refreshing". */
	if (strcmp(status, "active") == 0 && c->lease_owner != NULL && c->lease_until >= now)
		status = "refreshing";
	o = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I}", "id", c->id, "name", c->name, "provider",
		      c->provider, "status", status, "created_at", (json_int_t)c->created_at,
		      "updated_at", (json_int_t)c->updated_at, "failures", (json_int_t)c->failures);
	json_object_set_new(o, "owner", c->owner ? json_string(c->owner) : json_null());
	json_object_set_new(o, "created_by", c->created_by ? json_string(c->created_by) : json_null());
	json_object_set_new(o, "expires_at", c->expires_at ? json_integer(c->expires_at) : json_null());
	json_object_set_new(o, "refreshed_at", c->issued_at ? json_integer(c->issued_at) : json_null());
	json_object_set_new(o, "refresh_expires_at",
			    c->refresh_expires_at ? json_integer(c->refresh_expires_at) : json_null());
	json_object_set_new(o, "next_refresh_at",
			    c->next_refresh_at ? json_integer(c->next_refresh_at) : json_null());
	json_object_set_new(o, "has_refresh_token", json_boolean(c->refresh_token != NULL));
	{
		const char *err = admin ? c->last_error : generic_error(c);
		json_object_set_new(o, "last_error", err ? json_string(err) : json_null());
	}
	json_object_set_new(o, "metadata", json_is_object(meta) ? meta : json_object());
	if (!json_is_object(meta))
		json_decref(meta);
	return o;
}

int ts_vault_connection_spec_validate(const json_t *spec, char *err, size_t cap)
{
	const char *p = json_string_value(json_object_get(spec, "provider"));
	const char *n = json_string_value(json_object_get(spec, "name"));
	int rc;

	if (!json_is_object(spec))
		return ts_admin_fail(err, cap, "a connection must be a JSON object");
	rc = ts_admin_check_known(spec, spec_fields, "connection", err, cap);
	if (rc != TS_OK)
		return rc;
	if (!ts_vault_printable(n, TS_VAULT_NAME_MAX))
		return ts_admin_fail(err, cap, "connection: \"name\" must be a non-empty string");
	if (!ts_vault_printable(p, 64))
		return ts_admin_fail(err, cap, "connection %s: \"provider\" must name a provider", n);
	return TS_OK;
}

int ts_vault_connection_declare(struct ts_vault *v, const char *tenant, const json_t *spec,
				const char **result, char **id, char *err, size_t cap)
{
	const char *pname = json_string_value(json_object_get(spec, "provider"));
	const char *name = json_string_value(json_object_get(spec, "name"));
	struct ts_tenant_rec *t = NULL;
	struct ts_vault_provider *p = NULL;
	struct ts_connection_rec *c = NULL, rec;
	char uuid[37];
	int64_t now = ts_now();
	int rc;

	*result = NULL;
	*id = NULL;
	memset(&rec, 0, sizeof(rec));
	rc = ts_vault_connection_spec_validate(spec, err, cap);
	if (rc != TS_OK)
		return rc;
	rc = ts_store_tenant_get(v->store, tenant, &t);
	if (rc == TS_ENOTFOUND)
		rc = ts_admin_fail(err, cap, "no tenant named \"%s\"", tenant);
	if (rc != TS_OK)
		goto out;
	rc = ts_vault_provider_load(v, t->id, pname, &p);
	if (rc == TS_ENOTFOUND)
		rc = ts_admin_fail(err, cap, "connection %s: tenant \"%s\" has no provider \"%s\"",
				   name, tenant, pname);
	if (rc != TS_OK)
		goto out;
	if (p->kind != TS_VAULT_OAUTH2 || !p->client_credentials) {
		rc = ts_admin_fail(err, cap, "connection %s: provider \"%s\" needs a person to "
				   "authorize it; connect it with POST /api/connections", name, pname);
		goto out;
	}
	rc = ts_store_connection_find(v->store, t->id, NULL, name, &c);
	if (rc == TS_OK) {
		if (strcmp(c->provider, pname) != 0) {
			rc = ts_admin_fail(err, cap, "connection %s already exists for provider \"%s\"",
					   name, c->provider);
			goto out;
		}
		*result = "unchanged";
		*id = ts_xstrdup(c->id);
		goto out;
	}
	if (rc != TS_ENOTFOUND)
		goto out;
	rc = ts_rand_uuid(uuid);
	if (rc != TS_OK)
		goto out;
	rec.id = uuid;
	rec.tenant_id = t->id;
	rec.provider = (char *)pname;
	rec.name = (char *)name;
	rec.created_by = (char *)v->actor;
	rec.status = "pending";
	rec.metadata = "{}";
	/* Due at once: the scheduler fetches it if the attempt below fails. */
	rec.next_refresh_at = now;
	rec.created_at = now;
	rec.updated_at = now;
	rc = ts_store_connection_insert(v->store, &rec);
	if (rc != TS_OK)
		goto out;
	*result = "created";
	*id = ts_xstrdup(uuid);
	ts_vault_audit(v, tenant, "vault.connection_created", v->actor, uuid,
		       json_pack("{s:s,s:s}", "connection", name, "provider", pname));
out:
	if (rc != TS_OK && err[0] == '\0')
		ts_admin_fail(err, cap, "could not save connection %s (%s)", name ? name : "",
			      ts_rc_str(rc));
	ts_connection_rec_free(c);
	ts_vault_provider_free(p);
	ts_tenant_rec_free(t);
	return rc;
}

void ts_vault_connection_fetch_first(struct ts_vault *v, const char *tenant, const char *id)
{
	struct ts_tenant_rec *t = NULL;
	struct ts_connection_rec *after = NULL;
	int rc;

	rc = ts_store_tenant_get(v->store, tenant, &t);
	/* Best effort; a provider that is down now is retried with backoff. */
	if (rc == TS_OK)
		rc = ts_vault_refresh(v, t->id, id, TS_VAULT_ON_DEMAND, v->actor, &after);
	if (rc != TS_OK)
		ts_log_warn("connection %s of tenant %s: the first token could not be fetched yet",
			    id, tenant);
	ts_connection_rec_free(after);
	ts_tenant_rec_free(t);
}

/* RFC 7009 at the provider: the refresh token (which ends the whole grant
 * at most providers), else the access token. */
static int revoke_upstream(struct ts_vault *v, const struct ts_connection_rec *c, char *err,
			   size_t cap)
{
	struct ts_vault_provider *p = NULL;
	const char *authz, *token, *revoke, *field;
	char *plain = NULL;
	json_t *meta = NULL;
	int rc;

	rc = ts_vault_provider_load(v, c->tenant_id, c->provider, &p);
	if (rc != TS_OK) {
		snprintf(err, cap, "the provider cannot be used (%s)", ts_rc_str(rc));
		return rc;
	}
	meta = json_loads(c->metadata, 0, NULL);
	rc = TS_ENOTFOUND;
	if (p->kind != TS_VAULT_OAUTH2)
		goto out;
	ts_vault_oauth2_endpoints(p, meta, &authz, &token, &revoke);
	if (revoke == NULL || (c->refresh_token == NULL && c->access_token == NULL))
		goto out;
	field = c->refresh_token ? "refresh_token" : "access_token";
	rc = ts_vault_unseal(v, c->tenant_id, c->id, field,
			     c->refresh_token ? c->refresh_token : c->access_token, &plain);
	if (rc != TS_OK) {
		snprintf(err, cap, "the stored token cannot be opened (%s)", ts_rc_str(rc));
		goto out;
	}
	rc = ts_vault_oauth2_revoke(v, p, revoke, plain, field, err, cap);
out:
	ts_free_secret(plain);
	json_decref(meta);
	ts_vault_provider_free(p);
	return rc;
}

int ts_vault_connection_delete(struct ts_vault *v, const struct ts_connection_rec *c,
			       const char *actor, bool *revoked)
{
	struct ts_connection_rec *cur = NULL;
	char owner[TS_VAULT_LEASE_ID_MAX], err[TS_VAULT_ERR_MAX] = "";
	json_t *d;
	int rc, rrc;

	if (revoked)
		*revoked = false;
	/* Let a refresh in flight finish first, so that the token revoked is
	 * the current one; proceed anyway if it does not. */
	rc = ts_vault_lease(v, c->tenant_id, c->id, TS_VAULT_LEASE_WAIT_MS, owner);
	if (rc == TS_ENOTFOUND || rc == TS_ESTORE)
		return rc;
	rc = ts_store_connection_get(v->store, c->tenant_id, c->id, &cur);
	if (rc != TS_OK)
		return rc;
	rrc = revoke_upstream(v, cur, err, sizeof(err));
	if (rrc != TS_OK && rrc != TS_ENOTFOUND)
		ts_log_warn("vault connection %s: upstream revocation failed: %s", c->id, err);
	rc = ts_store_connection_delete(v->store, c->tenant_id, c->id);
	if (rc == TS_OK) {
		d = json_pack("{s:s,s:s,s:b}", "connection", cur->name, "provider", cur->provider,
			      "revoked", rrc == TS_OK);
		if (rrc != TS_OK && rrc != TS_ENOTFOUND)
			json_object_set_new(d, "revoke_error", json_string(err));
		ts_vault_audit(v, cur->tenant_name, "vault.deleted", actor, c->id, d);
		if (revoked)
			*revoked = rrc == TS_OK;
	}
	ts_connection_rec_free(cur);
	return rc;
}
