/* snapshot.c: builds the immutable in-memory view of tenants, clients and
 * keys from the store's records, and answers lookups on it. */
#include "tenant.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

static const char *const grant_names[TS_GRANT_KINDS] = {
	"client_credentials", "authorization_code", "refresh_token", "password", "device_code",
};

const char *ts_grant_kind_name(enum ts_grant_kind g)
{
	return (unsigned)g < TS_GRANT_KINDS ? grant_names[g] : "unknown";
}

static void strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Copies a JSON array of strings (missing: empty). */
static char **strv_from_json(const json_t *a, size_t *n)
{
	char **v;
	size_t i;

	*n = json_is_array(a) ? json_array_size(a) : 0;
	v = ts_xcalloc(*n + 1, sizeof(char *));
	for (i = 0; i < *n; i++) {
		const char *s = json_string_value(json_array_get(a, i));
		v[i] = ts_xstrdup(s ? s : "");
	}
	return v;
}

static bool strv_has(char *const *v, size_t n, const char *s)
{
	size_t i;

	if (s == NULL)
		return false;
	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

static int64_t int_or(const json_t *o, const char *k, int64_t dflt)
{
	const json_t *v = json_object_get(o, k);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

static char *str_or_null(const json_t *o, const char *k)
{
	return ts_xstrdup(json_string_value(json_object_get(o, k)));
}

static void client_free(struct ts_client *c)
{
	if (c == NULL)
		return;
	free(c->client_id);
	free(c->name);
	free(c->secret_hash);
	strv_free(c->redirect_uris, c->nredirect_uris);
	strv_free(c->grant_types, c->ngrant_types);
	strv_free(c->scopes, c->nscopes);
	strv_free(c->cors_origins, c->ncors_origins);
	strv_free(c->post_logout_redirect_uris, c->npost_logout_redirect_uris);
	for (size_t i = 0; i < c->njwks; i++)
		ts_jwk_free(c->jwks[i]);
	free(c->jwks);
	free(c);
}

static struct ts_client *client_build(const struct ts_client_rec *rec)
{
	struct ts_client *c;
	json_t *cfg = json_loads(rec->config, 0, NULL);

	if (cfg == NULL) {
		ts_log_err("client %s has an unreadable configuration", rec->client_id);
		return NULL;
	}
	c = ts_xcalloc(1, sizeof(*c));
	c->client_id = ts_xstrdup(rec->client_id);
	c->name = str_or_null(cfg, "name");
	c->confidential = ts_str_eq(ts_str_c(json_string_value(json_object_get(cfg, "type"))),
				    "confidential");
	c->disabled = json_is_true(json_object_get(cfg, "disabled"));
	c->secret_hash = ts_xstrdup(rec->secret_hash);
	c->redirect_uris = strv_from_json(json_object_get(cfg, "redirect_uris"), &c->nredirect_uris);
	c->grant_types = strv_from_json(json_object_get(cfg, "grant_types"), &c->ngrant_types);
	c->scopes = strv_from_json(json_object_get(cfg, "scopes"), &c->nscopes);
	c->cors_origins = strv_from_json(json_object_get(cfg, "allowed_cors_origins"),
					 &c->ncors_origins);
	c->post_logout_redirect_uris = strv_from_json(json_object_get(cfg, "post_logout_redirect_uris"),
						      &c->npost_logout_redirect_uris);
	c->id_token_alg = ts_jws_alg_parse(json_string_value(json_object_get(cfg, "id_token_signed_response_alg")));
	if (c->id_token_alg == TS_ALG_NONE)
		c->id_token_alg = TS_ALG_RS256;
	c->skip_consent = json_is_true(json_object_get(cfg, "skip_consent"));
	c->private_key_jwt = ts_str_eq(ts_str_c(json_string_value(json_object_get(cfg, "token_endpoint_auth_method"))),
				       "private_key_jwt");
	{
		const json_t *keys = json_object_get(json_object_get(cfg, "jwks"), "keys");
		size_t i;
		c->jwks = ts_xcalloc(json_array_size(keys) + 1, sizeof(*c->jwks));
		for (i = 0; i < json_array_size(keys); i++) {
			const json_t *k = json_array_get(keys, i);
			if (ts_jwk_from_json(k, ts_client_jwk_alg(k), &c->jwks[c->njwks]) == TS_OK)
				c->njwks++;
		}
	}
	json_decref(cfg);
	return c;
}

static int client_cmp(const void *a, const void *b)
{
	return strcmp((*(struct ts_client *const *)a)->client_id,
		      (*(struct ts_client *const *)b)->client_id);
}

static void tenant_free(struct ts_tenant *t)
{
	size_t i;

	if (t == NULL)
		return;
	free(t->id);
	free(t->name);
	free(t->display_name);
	free(t->issuer);
	strv_free(t->domains, t->ndomains);
	free(t->audience);
	strv_free(t->roles, t->nroles);
	strv_free(t->api_key_roles, t->napi_key_roles);
	for (i = 0; i < t->nscopes; i++) {
		free(t->scopes[i].name);
		strv_free(t->scopes[i].includes, t->scopes[i].nincludes);
		free(t->scopes[i].description);
	}
	free(t->scopes);
	for (i = 0; i < t->nclients; i++)
		client_free(t->clients[i]);
	free(t->clients);
	for (i = 0; i < t->nkeys; i++) {
		free(t->keys[i].kid);
		free(t->keys[i].state);
		ts_jwk_free(t->keys[i].jwk);
	}
	free(t->keys);
	free(t->jwks_json);
	free(t);
}

/* Expands each scope's includes transitively (the definitions are small:
 * a fixed-point loop is clearer than a graph walk). */
static void scopes_build(struct ts_tenant *t, const json_t *arr)
{
	size_t i, j, k;
	bool grew = true;

	t->nscopes = json_is_array(arr) ? json_array_size(arr) : 0;
	t->scopes = ts_xcalloc(t->nscopes + 1, sizeof(*t->scopes));
	for (i = 0; i < t->nscopes; i++) {
		const json_t *s = json_array_get(arr, i);
		t->scopes[i].name = str_or_null(s, "name");
		t->scopes[i].description = str_or_null(s, "description");
		t->scopes[i].includes = strv_from_json(json_object_get(s, "includes"),
						       &t->scopes[i].nincludes);
	}
	while (grew) {
		grew = false;
		for (i = 0; i < t->nscopes; i++) {
			struct ts_scope_def *d = &t->scopes[i];
			for (j = 0; j < d->nincludes; j++) {
				const struct ts_scope_def *inc = ts_tenant_scope(t, d->includes[j]);
				for (k = 0; inc && k < inc->nincludes; k++) {
					if (strv_has(d->includes, d->nincludes, inc->includes[k]) ||
					    strcmp(inc->includes[k], d->name) == 0)
						continue;
					d->includes = ts_xrealloc(d->includes,
								  (d->nincludes + 2) * sizeof(char *));
					d->includes[d->nincludes++] = ts_xstrdup(inc->includes[k]);
					d->includes[d->nincludes] = NULL;
					grew = true;
				}
			}
		}
	}
}

static int keys_build(struct ts_tenant *t, struct ts_key_rec **recs, size_t n,
		      const struct ts_master_key *mks, size_t nmk)
{
	json_t *jwks = json_array(), *doc;
	size_t i;

	t->keys = ts_xcalloc(n + 1, sizeof(*t->keys));
	for (i = 0; i < n; i++) {
		struct ts_signing_key *k = &t->keys[t->nkeys];
		enum ts_jws_alg alg = ts_jws_alg_parse(recs[i]->alg);
		unsigned char *der = NULL;
		size_t derlen = 0;
		char aad[256];
		int rc;

		if (alg == TS_ALG_NONE)
			continue;
		k->alg = alg;
		k->kid = ts_xstrdup(recs[i]->kid);
		k->state = ts_xstrdup(recs[i]->state);
		k->retired_at = recs[i]->retired_at;
		snprintf(aad, sizeof(aad), "tessera:signing-key:%s:%s", t->id, recs[i]->kid);
		rc = TS_ENOTFOUND;
		if (nmk && recs[i]->sealed_private)
			rc = ts_unseal(mks, nmk, aad, recs[i]->sealed_private, &der, &derlen);
		if (rc == TS_OK) {
			rc = ts_jwk_from_pkcs8(alg, der, derlen, &k->jwk);
			OPENSSL_cleanse(der, derlen);
			free(der);
		} else {
			char why[200];
			if (strcmp(k->state, "current") == 0)
				ts_log_err("tenant %s: cannot open signing key %s: %s", t->name, k->kid,
					   ts_unseal_cause(rc, recs[i]->sealed_private, mks, nmk, why,
							   sizeof(why)));
			rc = ts_jwk_from_json_text(recs[i]->public_jwk, strlen(recs[i]->public_jwk), alg,
						   &k->jwk);
		}
		if (rc != TS_OK) {
			free(k->kid);
			free(k->state);
			continue;
		}
		t->nkeys++;
		json_array_append_new(jwks, ts_jwk_public_json(k->jwk));
		if (strcmp(k->state, "current") == 0 && ts_jwk_is_private(k->jwk))
			t->signer[alg] = k->jwk;
	}
	doc = json_pack("{s:o}", "keys", jwks);
	t->jwks_json = json_dumps(doc, JSON_COMPACT);
	t->jwks_len = strlen(t->jwks_json);
	json_decref(doc);
	return TS_OK;
}

static struct ts_tenant *tenant_build(const struct ts_tenant_rec *rec, const char *public_url)
{
	struct ts_tenant *t;
	json_t *cfg = json_loads(rec->config, 0, NULL);

	if (cfg == NULL) {
		ts_log_err("tenant %s has an unreadable configuration", rec->name);
		return NULL;
	}
	t = ts_xcalloc(1, sizeof(*t));
	t->id = ts_xstrdup(rec->id);
	t->name = ts_xstrdup(rec->name);
	t->display_name = str_or_null(cfg, "display_name");
	if (t->display_name == NULL)
		t->display_name = ts_xstrdup(rec->name);
	t->issuer = ts_tenant_issuer(public_url, rec->name);
	t->domains = strv_from_json(json_object_get(cfg, "domains"), &t->ndomains);
	t->audience = str_or_null(cfg, "audience");
	t->access_token_ttl = int_or(cfg, "access_token_ttl", TS_DEFAULT_ACCESS_TTL);
	t->refresh_token_ttl = int_or(cfg, "refresh_token_ttl", TS_DEFAULT_REFRESH_TTL);
	t->code_ttl = int_or(cfg, "code_ttl", TS_DEFAULT_CODE_TTL);
	t->access_token_alg = ts_jws_alg_parse(json_string_value(json_object_get(cfg, "access_token_alg")));
	if (t->access_token_alg == TS_ALG_NONE)
		t->access_token_alg = TS_ALG_ES256;
	t->roles = strv_from_json(json_object_get(cfg, "roles"), &t->nroles);
	t->api_key_roles = strv_from_json(json_object_get(cfg, "api_key_roles"), &t->napi_key_roles);
	scopes_build(t, json_object_get(cfg, "scopes"));
	json_decref(cfg);
	return t;
}

static int tenant_cmp(const void *a, const void *b)
{
	return strcmp((*(struct ts_tenant *const *)a)->name, (*(struct ts_tenant *const *)b)->name);
}

int ts_snapshot_load(struct ts_store *st, const char *public_url, const struct ts_master_key *mks,
		     size_t nmk, struct ts_tenant_stats *(*stats_for)(void *, const char *),
		     void *stats_ctx, struct ts_snapshot **out)
{
	struct ts_tenant_rec **trecs = NULL;
	struct ts_client_rec **crecs = NULL;
	struct ts_key_rec **krecs = NULL;
	struct ts_snapshot *s = NULL;
	size_t nt = 0, nc = 0, nk = 0, i, ci = 0, ki = 0;
	int64_t gen = 0;
	int rc;

	*out = NULL;
	/* The generation is read first: a write racing with the load moves it
	 * again, so the next poll reloads. */
	rc = ts_store_generation(st, &gen);
	if (rc == TS_OK)
		rc = ts_store_tenant_list(st, &trecs, &nt);
	if (rc == TS_OK)
		rc = ts_store_client_list(st, NULL, &crecs, &nc);
	if (rc == TS_OK)
		rc = ts_store_key_list(st, NULL, &krecs, &nk);
	if (rc != TS_OK)
		goto out;
	s = ts_xcalloc(1, sizeof(*s));
	s->generation = gen;
	s->tenants = ts_xcalloc(nt + 1, sizeof(*s->tenants));
	for (i = 0; i < nt; i++) {
		struct ts_tenant *t = tenant_build(trecs[i], public_url);
		size_t c0, k0;

		if (t == NULL)
			continue;
		t->stats = stats_for ? stats_for(stats_ctx, t->name) : NULL;
		/* Clients and keys come ordered by tenant_id; take this tenant's run. */
		for (ci = 0; ci < nc && strcmp(crecs[ci]->tenant_id, t->id) != 0; ci++)
			;
		for (c0 = ci; ci < nc && strcmp(crecs[ci]->tenant_id, t->id) == 0; ci++)
			;
		t->clients = ts_xcalloc(ci - c0 + 1, sizeof(*t->clients));
		for (; c0 < ci; c0++) {
			struct ts_client *c = client_build(crecs[c0]);
			if (c)
				t->clients[t->nclients++] = c;
		}
		qsort(t->clients, t->nclients, sizeof(*t->clients), client_cmp);
		for (ki = 0; ki < nk && strcmp(krecs[ki]->tenant_id, t->id) != 0; ki++)
			;
		for (k0 = ki; ki < nk && strcmp(krecs[ki]->tenant_id, t->id) == 0; ki++)
			;
		/* No key at all yet (a tenant is stored before its keys): krecs
		 * may be NULL, and NULL + 0 is not a pointer. */
		keys_build(t, ki > k0 ? krecs + k0 : NULL, ki - k0, mks, nmk);
		s->tenants[s->ntenants++] = t;
	}
	qsort(s->tenants, s->ntenants, sizeof(*s->tenants), tenant_cmp);
	*out = s;
	s = NULL;
out:
	ts_tenant_recs_free(trecs, nt);
	ts_client_recs_free(crecs, nc);
	ts_key_recs_free(krecs, nk);
	ts_snapshot_free(s);
	return rc;
}

void ts_snapshot_free(struct ts_snapshot *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->ntenants; i++)
		tenant_free(s->tenants[i]);
	free(s->tenants);
	free(s);
}

const struct ts_tenant *ts_snapshot_tenant(const struct ts_snapshot *s, const char *name)
{
	size_t lo = 0, hi = s->ntenants;

	if (name == NULL)
		return NULL;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(name, s->tenants[mid]->name);
		if (c == 0)
			return s->tenants[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const struct ts_tenant *ts_snapshot_tenant_by_domain(const struct ts_snapshot *s,
						     const char *host)
{
	size_t i;

	if (host == NULL || host[0] == '\0')
		return NULL;
	for (i = 0; i < s->ntenants; i++)
		if (strv_has(s->tenants[i]->domains, s->tenants[i]->ndomains, host))
			return s->tenants[i];
	return NULL;
}

const struct ts_client *ts_tenant_client(const struct ts_tenant *t, const char *client_id)
{
	size_t lo = 0, hi = t->nclients;

	if (client_id == NULL)
		return NULL;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(client_id, t->clients[mid]->client_id);
		if (c == 0)
			return t->clients[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const struct ts_scope_def *ts_tenant_scope(const struct ts_tenant *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->nscopes; i++)
		if (t->scopes[i].name && strcmp(t->scopes[i].name, name) == 0)
			return &t->scopes[i];
	return NULL;
}

const struct ts_signing_key *ts_tenant_key(const struct ts_tenant *t, const char *kid)
{
	size_t i;

	if (kid == NULL)
		return NULL;
	for (i = 0; i < t->nkeys; i++)
		if (strcmp(t->keys[i].kid, kid) == 0)
			return &t->keys[i];
	return NULL;
}

bool ts_client_has_grant(const struct ts_client *c, const char *grant)
{
	return strv_has(c->grant_types, c->ngrant_types, grant);
}

bool ts_client_allows_origin(const struct ts_client *c, const char *origin)
{
	return strv_has(c->cors_origins, c->ncors_origins, origin);
}

bool ts_tenant_allows_origin(const struct ts_tenant *t, const char *origin)
{
	size_t i;

	for (i = 0; i < t->nclients; i++)
		if (!t->clients[i]->disabled && ts_client_allows_origin(t->clients[i], origin))
			return true;
	return false;
}

bool ts_scope_satisfies(const struct ts_tenant *t, const char *granted, const char *needed)
{
	const struct ts_scope_def *d;

	if (strcmp(granted, needed) == 0)
		return true;
	d = ts_tenant_scope(t, granted);
	return d && strv_has(d->includes, d->nincludes, needed);
}

bool ts_client_scope_allowed(const struct ts_tenant *t, const struct ts_client *c,
			     const char *s)
{
	size_t i;

	for (i = 0; i < c->nscopes; i++)
		if (ts_scope_satisfies(t, c->scopes[i], s))
			return true;
	return false;
}

/* Stored form: "sha256$<32-byte salt hex>$<SHA-256(salt || secret) hex>".
 * Secrets are high-entropy (generated 256-bit, or supplied with at least 32
 * characters), so a salted SHA-256 is the right cost: a slow KDF would put
 * a deliberate delay on the token endpoint's hot path for no gain. */
#define SALT_LEN 16

static void secret_digest(const unsigned char *salt, const char *secret, size_t len,
			  unsigned char out[TS_SHA256_LEN])
{
	unsigned char *buf = ts_xmalloc(SALT_LEN + len);

	memcpy(buf, salt, SALT_LEN);
	memcpy(buf + SALT_LEN, secret, len);
	ts_sha256(buf, SALT_LEN + len, out);
	OPENSSL_cleanse(buf, SALT_LEN + len);
	free(buf);
}

int ts_client_secret_hash(const char *secret, char **out)
{
	unsigned char salt[SALT_LEN], d[TS_SHA256_LEN];
	char salthex[2 * SALT_LEN + 1], dhex[2 * TS_SHA256_LEN + 1];
	struct ts_buf b;
	int rc;

	rc = ts_rand_bytes(salt, sizeof(salt));
	if (rc != TS_OK)
		return rc;
	secret_digest(salt, secret, strlen(secret), d);
	ts_hex_encode(salt, sizeof(salt), salthex);
	ts_hex_encode(d, sizeof(d), dhex);
	ts_buf_init(&b, 256);
	rc = ts_buf_appendf(&b, "sha256$%s$%s", salthex, dhex);
	if (rc == TS_OK)
		*out = ts_buf_take(&b);
	return rc;
}

bool ts_client_secret_ok(const struct ts_client *c, const char *secret, size_t len)
{
	unsigned char salt[SALT_LEN], want[TS_SHA256_LEN], got[TS_SHA256_LEN];
	const char *h = c->secret_hash;
	size_t n;

	if (h == NULL || secret == NULL || strncmp(h, "sha256$", 7) != 0 ||
	    strlen(h) != 7 + 2 * SALT_LEN + 1 + 2 * TS_SHA256_LEN)
		return false;
	if (ts_hex_decode(h + 7, 2 * SALT_LEN, salt, sizeof(salt), &n) != TS_OK ||
	    ts_hex_decode(h + 8 + 2 * SALT_LEN, 2 * TS_SHA256_LEN, want, sizeof(want), &n) != TS_OK)
		return false;
	secret_digest(salt, secret, len, got);
	return ts_ct_equal_fixed(got, want, sizeof(got));
}

char *ts_tenant_issuer(const char *public_url, const char *name)
{
	struct ts_buf b;
	size_t n = strlen(public_url);

	while (n && public_url[n - 1] == '/')
		n--;
	ts_buf_init(&b, 4096);
	ts_buf_appendf(&b, "%.*s/t/%s", (int)n, public_url, name);
	return ts_buf_take(&b);
}

bool ts_tenant_name_ok(const char *name)
{
	size_t i, n = name ? strlen(name) : 0;

	if (n == 0 || n > TS_TENANT_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '-'))
			return false;
	return true;
}

enum ts_jws_alg ts_client_jwk_alg(const json_t *jwk)
{
	const char *alg = json_string_value(json_object_get(jwk, "alg"));
	const char *kty = json_string_value(json_object_get(jwk, "kty"));
	const char *crv = json_string_value(json_object_get(jwk, "crv"));

	if (alg)
		return ts_jws_alg_parse(alg);
	if (ts_str_eq(ts_str_c(kty), "EC") && ts_str_eq(ts_str_c(crv), "P-256"))
		return TS_ALG_ES256;
	if (ts_str_eq(ts_str_c(kty), "OKP") && ts_str_eq(ts_str_c(crv), "Ed25519"))
		return TS_ALG_EDDSA;
	if (ts_str_eq(ts_str_c(kty), "RSA"))
		return TS_ALG_RS256;
	return TS_ALG_NONE;
}
