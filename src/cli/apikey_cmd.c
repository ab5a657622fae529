/* apikey_cmd.c: `tessera apikey create|list|revoke --tenant T --user U
 * [KEY]`: an administrator's view of a user's API keys. create makes a key
 * of kind "user" exactly as POST /api/apikeys does (id "tk_" + 12 random
 * bytes base64url, a 256-bit secret stored only as its SHA-256) and prints
 * the secret once; the user must exist, be enabled and hold one of the
 * tenant's api_key_roles. list never shows secrets. revoke deletes one key
 * of that user. */
#include "cmd.h"

#include "api/api.h"
#include "identity/identity.h"
#include "store/store_config.h"
#include "store/store_people.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A session on one tenant (cmd.h) and the user the command is about. */
struct ak_session {
	struct ts_cli_session cs;
	struct ts_user_rec *u;
};

/* Opens the store, finds the tenant and the user. An exit code. */
static int ak_open(struct ts_config *c, struct ak_session *s, const char *tenant,
		   const char *username)
{
	int rc;

	memset(s, 0, sizeof(*s));
	if (ts_cli_session_tenant(c, &s->cs, tenant) != TS_OK)
		return TS_EXIT_FAIL;
	rc = ts_store_user_find(s->cs.st, s->cs.t->id, username, &s->u);
	if (rc == TS_ENOTFOUND) {
		ts_cli_error_code("not_found", "no user \"%s\" in tenant \"%s\"", username,
				  s->cs.t->name);
		return TS_EXIT_FAIL;
	}
	if (rc != TS_OK)
		return ts_cli_fail_store(rc);
	return TS_EXIT_OK;
}

static void ak_close(struct ak_session *s)
{
	ts_user_rec_free(s->u);
	ts_cli_session_close(&s->cs);
}

/* The same rule as POST /api/apikeys: one of the user's roles is one of
 * the tenant's api_key_roles. */
static bool holds_api_key_role(const struct ak_session *s)
{
	json_t *cfg = json_loads(s->cs.t->config ? s->cs.t->config : "{}", 0, NULL);
	json_t *profile = json_loads(s->u->profile ? s->u->profile : "{}", 0, NULL);
	const json_t *allowed = json_object_get(cfg, "api_key_roles");
	bool ok = false;
	size_t i;

	for (i = 0; !ok && i < json_array_size(allowed); i++) {
		const char *r = json_string_value(json_array_get(allowed, i));
		ok = r != NULL && ts_user_has_role(profile, r);
	}
	json_decref(cfg);
	json_decref(profile);
	return ok;
}

static int apikey_create(struct ts_config *c, struct ak_session *s)
{
	struct ts_apikey_rec rec;
	char id[32], key[40], secret[64] = "", h[2 * TS_SHA256_LEN + 1];
	int rc;

	if (s->u->disabled) {
		ts_cli_error("user \"%s\" is disabled", s->u->username);
		return TS_EXIT_FAIL;
	}
	if (!holds_api_key_role(s)) {
		ts_cli_error("user \"%s\" holds none of the api_key_roles of tenant \"%s\"",
			     s->u->username, s->cs.t->name);
		return TS_EXIT_FAIL;
	}
	if (ts_rand_token(id, sizeof(id), TS_APIKEY_ID_BYTES) != TS_OK ||
	    ts_rand_token(secret, sizeof(secret), TS_APIKEY_SECRET_BYTES) != TS_OK) {
		ts_cli_error("no random numbers are available");
		return TS_EXIT_FAIL;
	}
	snprintf(key, sizeof(key), "%s%s", TS_APIKEY_PREFIX, id);
	ts_sha256_hex(secret, strlen(secret), h);
	memset(&rec, 0, sizeof(rec));
	rec.key = key;
	rec.tenant_id = s->cs.t->id;
	rec.user_id = s->u->id;
	rec.secret_hash = h;
	rec.kind = "user";
	rec.created_at = ts_now();
	rc = ts_store_apikey_put(s->cs.st, &rec);
	if (rc != TS_OK) {
		OPENSSL_cleanse(secret, sizeof(secret));
		return ts_cli_fail_store(rc);
	}
	ts_admin_audit(&s->cs.a, s->cs.t->name, "apikey.created", key,
		       json_pack("{s:s,s:s}", "username", s->u->username, "kind", "user"));
	ts_cli_print(c, json_pack("{s:s,s:s,s:s,s:s,s:s,s:I}", "api_key", key, "api_secret", secret,
				  "tenant", s->cs.t->name, "username", s->u->username, "kind", "user",
				  "created_at", (json_int_t)rec.created_at));
	OPENSSL_cleanse(secret, sizeof(secret));
	return TS_EXIT_OK;
}

static int apikey_list(struct ts_config *c, struct ak_session *s)
{
	struct ts_apikey_rec **v = NULL;
	size_t n = 0, i;
	json_t *a;
	int rc = ts_store_apikey_list(s->cs.st, s->cs.t->id, s->u->id, &v, &n);

	if (rc != TS_OK)
		return ts_cli_fail_store(rc);
	a = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s,s:s,s:s?,s:I}", "api_key", v[i]->key, "kind",
						   v[i]->kind, "device_id", v[i]->device_id,
						   "created_at", (json_int_t)v[i]->created_at));
	ts_apikey_recs_free(v, n);
	ts_cli_print(c, json_pack("{s:s,s:s,s:o}", "tenant", s->cs.t->name, "username", s->u->username,
				  "api_keys", a));
	return TS_EXIT_OK;
}

static int apikey_revoke(struct ts_config *c, struct ak_session *s, const char *key)
{
	struct ts_apikey_rec *k = NULL;
	int rc = ts_store_apikey_get(s->cs.st, key, &k);

	if (rc != TS_OK && rc != TS_ENOTFOUND && rc != TS_EINVAL)
		return ts_cli_fail_store(rc);
	/* Another tenant's or another user's key is answered as unknown. */
	if (rc != TS_OK || strcmp(k->tenant_id, s->cs.t->id) != 0 || strcmp(k->user_id, s->u->id) != 0) {
		ts_apikey_rec_free(k);
		ts_cli_error_code("not_found", "user \"%s\" of tenant \"%s\" has no API key \"%s\"", s->u->username,
			     s->cs.t->name, key);
		return TS_EXIT_FAIL;
	}
	rc = ts_store_apikey_delete(s->cs.st, s->cs.t->id, k->key);
	if (rc != TS_OK && rc != TS_ENOTFOUND) {
		ts_apikey_rec_free(k);
		return ts_cli_fail_store(rc);
	}
	ts_admin_audit(&s->cs.a, s->cs.t->name, "apikey.revoked", k->key,
		       json_pack("{s:s,s:s}", "username", s->u->username, "kind", k->kind));
	ts_cli_print(c, json_pack("{s:s,s:s,s:s,s:b}", "api_key", k->key, "tenant", s->cs.t->name,
				  "username", s->u->username, "revoked", 1));
	ts_apikey_rec_free(k);
	return TS_EXIT_OK;
}

int ts_cmd_apikey(struct ts_config *c, int argc, char **argv)
{
	static const char *const known[] = {"tenant", "user", NULL};
	struct ts_opts o;
	struct ak_session s;
	const char *verb, *tenant, *user;
	size_t want;
	int exit_code;

	if (!ts_opts_parse(argc, argv, NULL, &o) || !ts_opts_only(&o, known) || o.npos < 1)
		goto usage;
	verb = o.pos[0];
	if (strcmp(verb, "create") == 0 || strcmp(verb, "list") == 0)
		want = 1;
	else if (strcmp(verb, "revoke") == 0)
		want = 2;
	else
		goto usage;
	tenant = ts_opts_get(&o, "tenant");
	user = ts_opts_get(&o, "user");
	if (tenant == NULL || tenant[0] == '\0' || user == NULL || user[0] == '\0' || o.npos != want)
		goto usage;
	exit_code = ak_open(c, &s, tenant, user);
	if (exit_code == TS_EXIT_OK) {
		if (verb[0] == 'c')
			exit_code = apikey_create(c, &s);
		else if (verb[0] == 'l')
			exit_code = apikey_list(c, &s);
		else
			exit_code = apikey_revoke(c, &s, o.pos[1]);
	}
	ak_close(&s);
	return exit_code;
usage:
	ts_cli_error("usage: tessera apikey create|list --tenant T --user USERNAME; "
		     "tessera apikey revoke --tenant T --user USERNAME KEY");
	return TS_EXIT_USAGE;
}
