/* keys.c: the signing-key life cycle of a tenant: which algorithms it
 * serves, a current and a published next key for each (ensure), rotation,
 * and the removal of retired keys whose tokens have all expired. RSA keys,
 * slow to generate, exist only where something signs with RS256: an
 * RS256 (or PS256) access-token algorithm, or a client through which a
 * person can get an ID token signed RS256 (the default). */
#include "admin.h"

#include "store/store_config.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID_TOKEN_TTL TS_SECONDS_PER_HOUR
#define KEY_RETENTION_SLACK 300
#define MAX_SERVED_ALGS 4
#define LEASE_OWNER_RANDOM 16
#define LEASE_OWNER_CAP 80
#define LEASE_WAIT_MS 10000 /* a rotation under way ends well within this */

/* Grants through which a person signs in, and so may get an ID token (a
 * refresh token carries a person's grant on). */
static const char *const person_grants[] = {
	"authorization_code", "password", "refresh_token",
	"urn:ietf:params:oauth:grant-type:device_code",
};

static enum ts_jws_alg access_alg(const json_t *tcfg)
{
	return ts_jws_alg_parse(json_string_value(json_object_get(tcfg, "access_token_alg")));
}

/* The RSA algorithms a client (its stored configuration) needs keys of
 * for its ID tokens (TS_ADMIN_NEED_*): none unless it has a grant through
 * which a person signs in; then RS256 (the default) or PS256, as its
 * ID-token algorithm says. */
static unsigned client_needs(const json_t *ccfg)
{
	const json_t *grants = json_object_get(ccfg, "grant_types");
	enum ts_jws_alg id_alg = ts_jws_alg_parse(
		json_string_value(json_object_get(ccfg, "id_token_signed_response_alg")));
	bool person = false;
	size_t i, j;

	for (i = 0; i < json_array_size(grants); i++)
		for (j = 0; j < TS_ARRAY_LEN(person_grants); j++)
			person = person || ts_str_eq(ts_str_c(json_string_value(json_array_get(grants, i))),
						     person_grants[j]);
	if (!person)
		return 0;
	if (id_alg == TS_ALG_PS256)
		return TS_ADMIN_NEED_PS256;
	return id_alg == TS_ALG_NONE || id_alg == TS_ALG_RS256 ? TS_ADMIN_NEED_RS256 : 0;
}

unsigned ts_admin_client_key_needs(const char *client_config)
{
	json_t *c = json_loads(client_config, 0, NULL);
	unsigned r = c ? client_needs(c) : 0;

	json_decref(c);
	return r;
}

bool ts_admin_tenant_spec_needs_rsa(const json_t *tenant_spec)
{
	const json_t *clients = json_object_get(tenant_spec, "clients");
	enum ts_jws_alg at = access_alg(tenant_spec);
	size_t i;

	if (at == TS_ALG_RS256)
		return true;
	for (i = 0; i < json_array_size(clients); i++) {
		const json_t *c = json_array_get(clients, i);
		bool pub = ts_str_eq(ts_str_c(json_string_value(json_object_get(c, "type"))), "public");
		json_t *cfg = json_pack("{s:O?,s:O?}", "grant_types", json_object_get(c, "grant_types"),
					"id_token_signed_response_alg",
					json_object_get(c, "id_token_signed_response_alg"));
		bool need;

		/* The default grants of client_apply. */
		if (json_object_get(cfg, "grant_types") == NULL || json_is_null(json_object_get(cfg, "grant_types")))
			json_object_set_new(cfg, "grant_types",
					    pub ? json_pack("[ss]", "authorization_code", "refresh_token")
						: json_pack("[s]", "client_credentials"));
		need = (client_needs(cfg) & TS_ADMIN_NEED_RS256) != 0;
		json_decref(cfg);
		if (need)
			return true;
	}
	return false;
}

static bool has_current(struct ts_key_rec *const *keys, size_t n, enum ts_jws_alg alg)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ts_jws_alg_parse(keys[i]->alg) == alg && strcmp(keys[i]->state, "current") == 0)
			return true;
	return false;
}

/* The algorithms a tenant serves: ES256 and EdDSA always, its access-token
 * algorithm, and RS256 and PS256 where need says so (a client needs them
 * for ID tokens, or the tenant has such keys already, which keep their
 * life cycle). */
static size_t served_algs(const json_t *cfg, unsigned need, enum ts_jws_alg out[MAX_SERVED_ALGS])
{
	enum ts_jws_alg at = access_alg(cfg);
	size_t n = 0;

	out[n++] = TS_ALG_ES256;
	out[n++] = TS_ALG_EDDSA;
	if ((need & TS_ADMIN_NEED_RS256) || at == TS_ALG_RS256)
		out[n++] = TS_ALG_RS256;
	if ((need & TS_ADMIN_NEED_PS256) || at == TS_ALG_PS256)
		out[n++] = TS_ALG_PS256;
	return n;
}

/* The RSA algorithms keys already serve: they keep their life cycle. */
static unsigned keys_have(struct ts_key_rec *const *keys, size_t n)
{
	return (has_current(keys, n, TS_ALG_RS256) ? TS_ADMIN_NEED_RS256 : 0) |
	       (has_current(keys, n, TS_ALG_PS256) ? TS_ADMIN_NEED_PS256 : 0);
}

int64_t ts_admin_key_retention(const json_t *cfg)
{
	const json_t *v = json_object_get(cfg, "access_token_ttl");
	int64_t ttl = json_is_integer(v) ? (int64_t)json_integer_value(v)
					 : ts_compat_default_access_ttl(cfg);

	return (ttl > ID_TOKEN_TTL ? ttl : ID_TOKEN_TTL) + KEY_RETENTION_SLACK;
}

/* Frees what key_make allocated in rec. */
static void key_rec_clear(struct ts_key_rec *rec)
{
	free(rec->sealed_private);
	free(rec->public_jwk);
	free(rec->kid);
	memset(rec, 0, sizeof(*rec));
}

/* A new key of alg for t in state, sealed under the master key, into rec
 * (key_rec_clear), not yet stored. */
static int key_make(struct ts_admin *a, const struct ts_tenant_rec *t, enum ts_jws_alg alg,
		    const char *state, int64_t now, struct ts_key_rec *rec)
{
	struct ts_jwk *k = NULL;
	unsigned char *der = NULL;
	size_t derlen = 0;
	json_t *pub = NULL;
	char aad[256];
	int rc;

	memset(rec, 0, sizeof(*rec));
	if (a->mk == NULL) {
		ts_log_err("TESSERA_MASTER_KEY is needed to create signing keys");
		return TS_ECRYPTO;
	}
	/* A key generated ahead of need, if there is one (tessera bootstrap). */
	if (alg == TS_ALG_RS256 && (k = ts_keypool_take(a->rsa_pool)) != NULL)
		rc = TS_OK;
	else
		rc = ts_jwk_generate(alg, &k);
	if (rc != TS_OK)
		goto out;
	rc = ts_jwk_to_pkcs8(k, &der, &derlen);
	if (rc != TS_OK)
		goto out;
	snprintf(aad, sizeof(aad), "tessera:signing-key:%s:%s", t->id, ts_jwk_kid(k));
	rc = ts_seal(a->mk, aad, der, derlen, &rec->sealed_private);
	if (rc != TS_OK)
		goto out;
	pub = ts_jwk_public_json(k);
	rec->public_jwk = json_dumps(pub, JSON_COMPACT | JSON_SORT_KEYS);
	rec->tenant_id = t->id;
	rec->kid = ts_xstrdup(ts_jwk_kid(k));
	rec->alg = (char *)ts_jws_alg_name(alg);
	rec->state = (char *)state;
	rec->created_at = now;
	rec->activated_at = strcmp(state, "current") == 0 ? rec->created_at : 0;
out:
	if (der) {
		OPENSSL_cleanse(der, derlen);
		free(der);
	}
	if (rc != TS_OK)
		key_rec_clear(rec);
	json_decref(pub);
	ts_jwk_free(k);
	return rc;
}

static int key_store_new(struct ts_admin *a, const struct ts_tenant_rec *t,
			 const struct ts_key_rec *rec)
{
	int rc = ts_store_key_put(a->store, rec);

	if (rc == TS_OK)
		ts_admin_audit(a, t->name, "key.created", rec->kid, NULL);
	return rc;
}

static int key_create(struct ts_admin *a, const struct ts_tenant_rec *t, enum ts_jws_alg alg,
		      const char *state, int64_t now)
{
	struct ts_key_rec rec;
	int rc = key_make(a, t, alg, state, now, &rec);

	if (rc == TS_OK)
		rc = key_store_new(a, t, &rec);
	key_rec_clear(&rec);
	return rc;
}

/* Ensures a current and a next key for every algorithm t serves (given its
 * keys and the RSA algorithms its clients need), and drops retired keys
 * whose tokens have all expired. */
static int keys_ensure_with(struct ts_admin *a, const struct ts_tenant_rec *t, const json_t *cfg,
			    struct ts_key_rec *const *keys, size_t nkeys, unsigned need)
{
	enum ts_jws_alg algs[MAX_SERVED_ALGS];
	size_t nalg, i, j;
	int64_t now = ts_now(), keep = ts_admin_key_retention(cfg);
	int rc = TS_OK;

	nalg = served_algs(cfg, need | keys_have(keys, nkeys), algs);
	for (i = 0; rc == TS_OK && i < nalg; i++) {
		bool cur = false, next = false;
		for (j = 0; j < nkeys; j++) {
			if (ts_jws_alg_parse(keys[j]->alg) != algs[i])
				continue;
			cur = cur || strcmp(keys[j]->state, "current") == 0;
			next = next || strcmp(keys[j]->state, "next") == 0;
		}
		/* Never sign with a key no verifier has: a published next key
		 * becomes current (and a new one is published) when there is
		 * one; a current key is created only when there is none. */
		if (!cur && next) {
			rc = ts_admin_keys_promote(a, t, keys, nkeys, algs[i], now);
			continue;
		}
		if (!cur)
			rc = key_create(a, t, algs[i], "current", now);
		if (rc == TS_OK && !next)
			rc = key_create(a, t, algs[i], "next", now);
	}
	/* A retired key leaves JWKS once every token it signed has expired. */
	for (j = 0; rc == TS_OK && j < nkeys; j++) {
		if (strcmp(keys[j]->state, "retired") == 0 && keys[j]->retired_at + keep < now) {
			rc = ts_store_key_delete_in_state(a->store, t->id, keys[j]->kid, "retired");
			if (rc == TS_OK)
				ts_admin_audit(a, t->name, "key.removed", keys[j]->kid, NULL);
			else if (rc == TS_ENOTFOUND)
				rc = TS_OK; /* removed by another server already */
		}
	}
	return rc;
}

static unsigned clients_need(struct ts_client_rec *const *c, size_t n)
{
	size_t i;
	unsigned r = 0;

	for (i = 0; i < n; i++) {
		json_t *cc = json_loads(c[i]->config, 0, NULL);
		r |= cc ? client_needs(cc) : 0;
		json_decref(cc);
	}
	return r;
}

int ts_admin_keys_ensure_for(struct ts_admin *a, const struct ts_tenant_rec *t, unsigned need)
{
	struct ts_key_rec **keys = NULL;
	struct ts_client_rec **clients = NULL;
	json_t *cfg = json_loads(t->config, 0, NULL);
	size_t nkeys = 0, nclients = 0;
	int rc;

	if (cfg == NULL)
		return TS_EINVAL;
	rc = ts_store_key_list(a->store, t->id, &keys, &nkeys);
	if (rc == TS_OK && need == 0) {
		rc = ts_store_client_list(a->store, t->id, &clients, &nclients);
		need = clients_need(clients, nclients);
	}
	if (rc == TS_OK)
		rc = keys_ensure_with(a, t, cfg, keys, nkeys, need);
	ts_client_recs_free(clients, nclients);
	ts_key_recs_free(keys, nkeys);
	json_decref(cfg);
	return rc;
}

int ts_admin_keys_ensure(struct ts_admin *a, const struct ts_tenant_rec *t)
{
	return ts_admin_keys_ensure_for(a, t, 0);
}

/* The run of records of tenant id in a list ordered by tenant id, from *at
 * on (advanced past it). */
static size_t run_of(void *const *v, size_t n, size_t *at, const char *id,
		     const char *(*tenant_of)(const void *))
{
	size_t start;

	while (*at < n && strcmp(tenant_of(v[*at]), id) < 0)
		(*at)++;
	for (start = *at; *at < n && strcmp(tenant_of(v[*at]), id) == 0; (*at)++)
		;
	return *at - start;
}

static const char *key_tenant(const void *k)
{
	return ((const struct ts_key_rec *)k)->tenant_id;
}

static const char *client_tenant(const void *c)
{
	return ((const struct ts_client_rec *)c)->tenant_id;
}

static int rec_by_id(const void *a, const void *b)
{
	return strcmp((*(struct ts_tenant_rec *const *)a)->id, (*(struct ts_tenant_rec *const *)b)->id);
}

int ts_admin_keys_maintain(struct ts_admin *a)
{
	struct ts_tenant_rec **ts = NULL;
	struct ts_client_rec **cs = NULL;
	struct ts_key_rec **ks = NULL;
	size_t nt = 0, nc = 0, nk = 0, i, ci = 0, ki = 0;
	int rc;

	/* Three list queries for all tenants, not three per tenant. */
	rc = ts_store_tenant_list(a->store, &ts, &nt);
	if (rc == TS_OK)
		rc = ts_store_client_list(a->store, NULL, &cs, &nc);
	if (rc == TS_OK)
		rc = ts_store_key_list(a->store, NULL, &ks, &nk);
	if (rc != TS_OK)
		goto out;
	if (nt > 1) /* ts is NULL when there is no tenant */
		qsort(ts, nt, sizeof(*ts), rec_by_id);
	for (i = 0; i < nt; i++) {
		size_t c0, k0, nci, nki;
		json_t *cfg = json_loads(ts[i]->config, 0, NULL);

		nci = run_of((void *const *)cs, nc, &ci, ts[i]->id, client_tenant);
		nki = run_of((void *const *)ks, nk, &ki, ts[i]->id, key_tenant);
		c0 = ci - nci;
		k0 = ki - nki;
		if (cfg == NULL ||
		    keys_ensure_with(a, ts[i], cfg, nki ? ks + k0 : NULL, nki,
				     clients_need(nci ? cs + c0 : NULL, nci)) != TS_OK)
			ts_log_warn("key maintenance failed for tenant %s", ts[i]->name);
		json_decref(cfg);
	}
out:
	ts_tenant_recs_free(ts, nt);
	ts_client_recs_free(cs, nc);
	ts_key_recs_free(ks, nk);
	return rc;
}

/* Whether the master key opens key k of tenant t. */
static bool opens(const struct ts_admin *a, const struct ts_tenant_rec *t,
		  const struct ts_key_rec *k)
{
	unsigned char *der = NULL;
	size_t len = 0;
	char aad[256];

	if (a->mk == NULL)
		return false;
	snprintf(aad, sizeof(aad), "tessera:signing-key:%s:%s", t->id, k->kid);
	if (ts_unseal(a->mk, 1, aad, k->sealed_private, &der, &len) != TS_OK)
		return false;
	OPENSSL_cleanse(der, len);
	free(der);
	return true;
}

/* Of alg's next keys among keys: the oldest, which is promoted, and the
 * newest other one that the master key opens, which stays next (there is
 * more than one only after an interrupted rotation). */
static void next_keys(const struct ts_admin *a, const struct ts_tenant_rec *t,
		      struct ts_key_rec *const *keys, size_t nkeys, enum ts_jws_alg alg,
		      struct ts_key_rec **oldest, struct ts_key_rec **keep)
{
	size_t j;

	*oldest = *keep = NULL;
	for (j = 0; j < nkeys; j++) {
		if (ts_jws_alg_parse(keys[j]->alg) != alg || strcmp(keys[j]->state, "next") != 0)
			continue;
		if (*oldest == NULL)
			*oldest = keys[j]; /* listed by created_at */
		else if (opens(a, t, keys[j]))
			*keep = keys[j];
	}
}

/* Moves k to state, from the state it was read in: TS_ECONFLICT when
 * another rotation has changed it since. Its key material is not written,
 * so a concurrent re-seal (tessera keys rekey-vault) stands. */
static int key_set_state(struct ts_admin *a, struct ts_key_rec *k, const char *state,
			 int64_t now)
{
	int64_t activated = strcmp(state, "current") == 0 ? now : k->activated_at;
	int64_t retired = strcmp(state, "retired") == 0 ? now : k->retired_at;
	int rc = ts_store_key_set_state(a->store, k->tenant_id, k->kid, k->state, state, activated,
					retired);

	if (rc == TS_ENOTFOUND)
		return TS_ECONFLICT;
	if (rc == TS_OK) {
		free(k->state);
		k->state = ts_xstrdup(state);
		k->activated_at = activated;
		k->retired_at = retired;
	}
	return rc;
}

/* The writes of a promotion, in the order that keeps a key to sign with
 * that verifiers already have should they not share one transaction:
 * publish, promote, retire the current keys, drop surplus next keys. */
static int promote_writes(struct ts_admin *a, const struct ts_tenant_rec *t,
			  struct ts_key_rec *const *keys, size_t nkeys, enum ts_jws_alg alg,
			  struct ts_key_rec *next, const struct ts_key_rec *keep,
			  const struct ts_key_rec *fresh, int64_t now)
{
	size_t j;
	int rc = fresh ? key_store_new(a, t, fresh) : TS_OK;

	if (rc == TS_OK)
		rc = key_set_state(a, next, "current", now);
	if (rc == TS_OK)
		ts_admin_audit(a, t->name, "key.activated", next->kid, NULL);
	for (j = 0; rc == TS_OK && j < nkeys; j++) {
		struct ts_key_rec *k = keys[j];
		if (k == next || k == keep || ts_jws_alg_parse(k->alg) != alg)
			continue;
		if (strcmp(k->state, "current") == 0) {
			rc = key_set_state(a, k, "retired", now);
		} else if (strcmp(k->state, "next") == 0) {
			/* Published but never used: it signed nothing. */
			rc = ts_store_key_delete_in_state(a->store, t->id, k->kid, "next");
			if (rc == TS_ENOTFOUND)
				rc = TS_ECONFLICT;
			if (rc == TS_OK)
				ts_admin_audit(a, t->name, "key.removed", k->kid, NULL);
		}
	}
	return rc;
}

int ts_admin_keys_promote(struct ts_admin *a, const struct ts_tenant_rec *t,
			  struct ts_key_rec *const *keys, size_t nkeys, enum ts_jws_alg alg,
			  int64_t now)
{
	struct ts_key_rec *next, *keep, fresh;
	bool batch;
	int rc = TS_OK;

	memset(&fresh, 0, sizeof(fresh));
	next_keys(a, t, keys, nkeys, alg, &next, &keep);
	if (next == NULL)
		return TS_ENOTFOUND;
	/* A master key other than the deployment's (a server or command
	 * started with the wrong one) must neither promote a key it cannot
	 * open nor seal new keys that the others cannot open. */
	if (!opens(a, t, next)) {
		ts_log_err("tenant %s: the master key does not open the next %s key %s; not rotating",
			   t->name, next->alg, next->kid);
		return TS_ECRYPTO;
	}
	/* The key after next: a surplus next key already published, or a
	 * new one, generated before the transaction (RSA takes a while). */
	if (keep == NULL)
		rc = key_make(a, t, alg, "next", now, &fresh);
	if (rc != TS_OK)
		return rc;
	/* One transaction, so that no snapshot sees half a rotation; inside
	 * a caller's write batch the writes join it. */
	batch = ts_store_batch_begin(a->store) == TS_OK;
	rc = promote_writes(a, t, keys, nkeys, alg, next, keep, keep ? NULL : &fresh, now);
	if (batch) {
		int erc = ts_store_batch_end(a->store, rc == TS_OK);
		rc = rc != TS_OK ? rc : erc;
	}
	key_rec_clear(&fresh);
	return rc;
}

/* A lease owner unique to this rotation: the actor and random bytes. */
static int lease_owner(const struct ts_admin *a, char owner[LEASE_OWNER_CAP])
{
	unsigned char rnd[LEASE_OWNER_RANDOM];
	char hex[2 * LEASE_OWNER_RANDOM + 1];
	int rc = ts_rand_bytes(rnd, sizeof(rnd));

	if (rc != TS_OK)
		return rc;
	ts_hex_encode(rnd, sizeof(rnd), hex);
	snprintf(owner, LEASE_OWNER_CAP, "%.32s-%s", a->actor ? a->actor : "cli", hex);
	return TS_OK;
}

/* Room for the warning of a rotation by hand. */
#define KEY_WARN_CAP 256

/* Under the lease, before anything is rotated: an error unless every
 * algorithm to rotate (alg, or all of algs when TS_ALG_NONE) is served.
 * A next key that has been in JWKS for less than a cache lifetime is
 * promoted all the same (the operator asked for it), with a warning in
 * warn unless force. A key the master key cannot open is left to
 * ts_admin_keys_promote to refuse. */
static int rotate_allowed(struct ts_admin *a, const struct ts_tenant_rec *t,
			  struct ts_key_rec *const *keys, size_t nkeys, const enum ts_jws_alg *algs,
			  size_t nalg, enum ts_jws_alg alg, bool force, int64_t now, char *warn,
			  size_t warncap, char *err, size_t errcap)
{
	struct ts_key_rec *next, *keep;
	bool served = alg == TS_ALG_NONE;
	size_t i;

	for (i = 0; i < nalg; i++)
		served = served || algs[i] == alg;
	if (!served)
		return ts_admin_fail(err, errcap, "tenant \"%s\" does not serve %s", t->name,
				     ts_jws_alg_name(alg));
	for (i = 0; !force && i < nalg; i++) {
		if (alg != TS_ALG_NONE && algs[i] != alg)
			continue;
		next_keys(a, t, keys, nkeys, algs[i], &next, &keep);
		if (next == NULL || !opens(a, t, next) || now - next->created_at >= TS_JWKS_MAX_AGE_S)
			continue;
		snprintf(warn, warncap, "the next %s key of tenant \"%s\" was published %lld s ago, and "
			 "verifiers may cache JWKS for %d s: some may refuse its tokens until then "
			 "(--force: no warning)", next->alg, t->name,
			 (long long)(now - next->created_at), TS_JWKS_MAX_AGE_S);
		break;
	}
	return TS_OK;
}

int ts_admin_keys_rotate(struct ts_admin *a, const char *tenant, enum ts_jws_alg alg, bool force,
			 char *err, size_t errcap)
{
	struct ts_tenant_rec *t = NULL;
	struct ts_key_rec **keys = NULL;
	enum ts_jws_alg algs[MAX_SERVED_ALGS];
	json_t *cfg = NULL;
	char owner[LEASE_OWNER_CAP], warn[KEY_WARN_CAP] = "";
	bool leased = false;
	size_t nkeys = 0, nalg, i;
	int64_t now;
	int rc;

	rc = ts_store_tenant_get(a->store, tenant, &t);
	if (rc == TS_ENOTFOUND) {
		ts_admin_fail(err, errcap, "no tenant named \"%s\"", tenant);
		goto out;
	}
	if (rc != TS_OK)
		goto out;
	/* One rotation of a tenant at a time, by hand or automatic. */
	rc = lease_owner(a, owner);
	if (rc == TS_OK)
		rc = ts_admin_keys_lease(a, t->id, owner, LEASE_WAIT_MS);
	if (rc == TS_ECONFLICT) {
		rc = ts_admin_fail(err, errcap, "another rotation of tenant \"%s\" is under way; "
				   "try again", tenant);
		goto out;
	}
	if (rc != TS_OK)
		goto out;
	leased = true;
	now = ts_now();
	/* Make sure a published next key exists, then read the keys again
	 * under the lease: a rotation just before this one changed them. */
	rc = ts_admin_keys_ensure(a, t);
	if (rc == TS_OK)
		rc = ts_store_key_list(a->store, t->id, &keys, &nkeys);
	if (rc != TS_OK)
		goto out;
	cfg = json_loads(t->config, 0, NULL);
	nalg = served_algs(cfg, keys_have(keys, nkeys), algs);
	rc = rotate_allowed(a, t, keys, nkeys, algs, nalg, alg, force, now, warn, sizeof(warn), err,
			    errcap);
	for (i = 0; rc == TS_OK && i < nalg; i++)
		if (alg == TS_ALG_NONE || algs[i] == alg)
			rc = ts_admin_keys_promote(a, t, keys, nkeys, algs[i], now);
	if (rc == TS_OK)
		snprintf(err, errcap, "%s", warn);
out:
	if (leased)
		ts_admin_keys_release(a, t->id, owner);
	if (rc == TS_ECRYPTO && err[0] == '\0')
		ts_admin_fail(err, errcap, "the master key does not open the signing keys of tenant "
			      "\"%s\"; is TESSERA_MASTER_KEY the deployment's?", tenant);
	if (rc != TS_OK && rc != TS_EINVAL && err[0] == '\0')
		ts_admin_fail(err, errcap, "key rotation failed (%s)", ts_rc_str(rc));
	if (rc == TS_EINVAL && err[0] == '\0')
		ts_admin_fail(err, errcap, "key rotation failed");
	ts_key_recs_free(keys, nkeys);
	ts_tenant_rec_free(t);
	json_decref(cfg);
	return rc;
}

