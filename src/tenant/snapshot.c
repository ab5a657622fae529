/* snapshot.c: lookups on the immutable in-memory view of tenants, clients
 * and keys (built by snapshot_load.c), scope arithmetic, and client
 * secrets. */
#include "tenant.h"

#include "wire/ascii.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

static const char *const grant_names[TS_GRANT_KINDS] = {
	"client_credentials", "authorization_code", "refresh_token", "password", "device_code",
	"token_exchange",
};

const char *ts_grant_kind_name(enum ts_grant_kind g)
{
	return (unsigned)g < TS_GRANT_KINDS ? grant_names[g] : "unknown";
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
	size_t lo = 0, hi = s->ndomains;

	if (host == NULL || host[0] == '\0')
		return NULL;
	/* The first entry for host: the index is sorted by domain, then by
	 * tenant name, so a domain claimed twice goes to the first name. */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (strcmp(s->domains[mid].domain, host) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->ndomains && strcmp(s->domains[lo].domain, host) == 0)
		return s->domains[lo].tenant;
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
		if (!(ts_is_lower((unsigned char)name[i]) || ts_is_digit((unsigned char)name[i]) ||
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
