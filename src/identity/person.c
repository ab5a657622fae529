/* person.c: a person acting directly, with an API key or a browser session
 * rather than through a client: the API key's user, the user's roles, and
 * the scopes such a credential holds. It is never more than the user could
 * be given through a client of the tenant, so it holds exactly the scopes
 * that a client with a person's grant (authorization code, password,
 * device code) may request: a scope that only services are allowed is
 * never a person's. */
#include "identity.h"

#include "http/params.h"
#include "store/store_people.h"

#include <stdlib.h>
#include <string.h>

#define PERSON_SCOPES_MAX 256

static const char *const person_grants[] = {TS_GRANT_AUTHORIZATION_CODE_S, TS_GRANT_PASSWORD_S,
					    TS_GRANT_DEVICE_CODE_S};

static bool person_client(const struct ts_client *c)
{
	size_t i;

	if (c->disabled)
		return false;
	for (i = 0; i < TS_ARRAY_LEN(person_grants); i++)
		if (ts_client_has_grant(c, person_grants[i]))
			return true;
	return false;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char *ts_person_scope(const struct ts_tenant *t, struct ts_arena *a)
{
	const char *v[PERSON_SCOPES_MAX];
	size_t n = 0, i, j, k, len = 0;
	char *out, *w;

	for (i = 0; i < t->nclients; i++) {
		const struct ts_client *c = t->clients[i];
		if (!person_client(c))
			continue;
		for (j = 0; j < c->nscopes && n < PERSON_SCOPES_MAX; j++) {
			for (k = 0; k < n && strcmp(v[k], c->scopes[j]) != 0; k++)
				;
			if (k == n)
				v[n++] = c->scopes[j];
		}
	}
	qsort(v, n, sizeof(v[0]), by_name);
	for (i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	out = ts_arena_alloc(a, len + 1);
	w = out;
	for (i = 0; i < n; i++) {
		size_t l = strlen(v[i]);
		if (i)
			*w++ = ' ';
		memcpy(w, v[i], l);
		w += l;
	}
	*w = '\0';
	return out;
}

json_t *ts_user_roles(const struct ts_user_rec *u)
{
	json_t *profile = u->profile ? json_loads(u->profile, 0, NULL) : NULL;
	json_t *r = json_object_get(profile, "roles");

	r = json_is_array(r) ? json_incref(r) : json_array();
	json_decref(profile);
	return r;
}

int ts_apikey_user(struct ts_store *st, const char *tenant_id, const char *key, const char *secret,
		   struct ts_user_rec **out)
{
	struct ts_apikey_rec *k = NULL;
	struct ts_user_rec *u = NULL;
	char h[2 * TS_SHA256_LEN + 1];
	json_t *profile = NULL;
	int r;

	*out = NULL;
	if (key == NULL || secret == NULL || strlen(key) > 128 || strlen(secret) > 256)
		return TS_EDENIED;
	ts_sha256_hex(secret, strlen(secret), h);
	r = ts_store_apikey_get(st, key, &k);
	if (r == TS_ENOTFOUND)
		return TS_EDENIED;
	if (r != TS_OK)
		return r;
	r = TS_EDENIED;
	if (strcmp(k->tenant_id, tenant_id) != 0 ||
	    !ts_ct_equal(h, strlen(h), k->secret_hash, strlen(k->secret_hash)))
		goto out;
	r = ts_store_user_get(st, k->tenant_id, k->user_id, &u);
	if (r == TS_ENOTFOUND)
		r = TS_EDENIED;
	if (r != TS_OK)
		goto out;
	r = TS_EDENIED;
	if (u->disabled)
		goto out;
	/* A device key dies with mobile access. */
	profile = u->profile ? json_loads(u->profile, 0, NULL) : NULL;
	if (strcmp(k->kind, "device") == 0 && !json_is_true(json_object_get(profile, "mobile_access")))
		goto out;
	*out = u;
	u = NULL;
	r = TS_OK;
out:
	json_decref(profile);
	ts_user_rec_free(u);
	ts_apikey_rec_free(k);
	return r;
}
