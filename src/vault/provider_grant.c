/* provider_grant.c: which grant a provider uses, for callers outside the
 * vault that route a request by it (the integrations profile). */
#include "vault_int.h"

int ts_vault_provider_client_credentials(struct ts_vault *v, const char *tenant_id,
					 const char *name, bool *client_credentials)
{
	struct ts_vault_provider *p = NULL;
	int rc;

	*client_credentials = false;
	rc = ts_vault_provider_load(v, tenant_id, name, &p);
	if (rc == TS_OK)
		*client_credentials = p->kind == TS_VAULT_OAUTH2 && p->client_credentials;
	ts_vault_provider_free(p);
	return rc;
}
