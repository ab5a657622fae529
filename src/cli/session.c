/* session.c: what the command files share to reach storage: a session
 * (the store, the administration context and, for commands on one
 * tenant, the tenant), the vault for the vault's commands, the reports of
 * a storage failure, and the audit record a command writes itself. */
#include "cmd.h"

#include "vault/vault.h"
#include "store/store_config.h"

#include <stdlib.h>
#include <string.h>

int ts_cli_session_open(struct ts_config *c, struct ts_cli_session *s, const char *actor)
{
	memset(s, 0, sizeof(*s));
	if (ts_cli_open_store(c, &s->st) != TS_OK)
		return TS_ESTORE;
	s->a.store = s->st;
	s->a.mk = c->have_mk ? &c->mk : NULL;
	s->a.public_url = c->public_url;
	s->a.actor = actor;
	return TS_OK;
}

int ts_cli_session_tenant(struct ts_config *c, struct ts_cli_session *s, const char *tenant)
{
	int rc;

	if (ts_cli_session_open(c, s, "cli") != TS_OK)
		return TS_ESTORE;
	rc = ts_store_tenant_get(s->st, tenant, &s->t);
	if (rc == TS_ENOTFOUND)
		ts_cli_error_code("not_found", "no tenant named \"%s\"", tenant);
	else if (rc != TS_OK)
		ts_cli_error("the database failed (%s)", ts_rc_str(rc));
	return rc;
}

void ts_cli_session_close(struct ts_cli_session *s)
{
	ts_tenant_rec_free(s->t);
	ts_store_close(s->st);
}

int ts_cli_fail_store(int rc)
{
	ts_cli_error("the database failed (%s)%s", ts_rc_str(rc), ts_cli_store_reason());
	return TS_EXIT_FAIL;
}

int ts_cli_fail_store_quiet(int rc)
{
	if (rc == TS_ENOTFOUND)
		return TS_EXIT_FAIL;
	ts_cli_error("the database failed (%s)%s", ts_rc_str(rc), ts_cli_store_reason());
	return TS_EXIT_FAIL;
}

void ts_cli_audit(struct ts_cli_session *s, const char *type, const char *subject,
		  const char *detail_key, const char *detail_value)
{
	struct ts_audit_rec r;
	json_t *d = detail_key ? json_pack("{s:s?}", detail_key, detail_value) : NULL;

	memset(&r, 0, sizeof(r));
	r.tenant = s->t->name;
	r.time = ts_now();
	r.type = (char *)type;
	r.actor = "cli";
	r.subject = (char *)subject;
	r.detail = d ? json_dumps(d, JSON_COMPACT) : NULL;
	if (ts_store_audit_append(s->st, &r, 1) != TS_OK)
		ts_log_warn("could not record audit event %s", type);
	free(r.detail);
	json_decref(d);
}

int ts_cli_open_vault(struct ts_config *c, struct ts_store **st, struct ts_vault **v,
		      const char *actor)
{
	*st = NULL;
	*v = NULL;
	if (!c->have_mk) {
		ts_cli_error("TESSERA_MASTER_KEY is not set; it seals the vault's secrets");
		return TS_EINVAL;
	}
	if (ts_cli_open_store(c, st) != TS_OK)
		return TS_ESTORE;
	if (ts_vault_new(*st, c->mks, c->nmks, NULL, NULL, actor, v) != TS_OK) {
		ts_store_close(*st);
		*st = NULL;
		return TS_EINVAL;
	}
	return TS_OK;
}

int ts_cli_tenant_get(struct ts_store *st, const char *tenant, struct ts_tenant_rec **t)
{
	int rc = ts_store_tenant_get(st, tenant, t);

	if (rc == TS_ENOTFOUND)
		ts_cli_error_code("not_found", "no tenant named \"%s\"", tenant);
	else if (rc != TS_OK)
		ts_cli_error("the database failed (%s)", ts_rc_str(rc));
	return rc;
}
