/* bearer.c: JWT access tokens (RFC 9068 §4) checked locally. The order is
 * the cheap, safe one: size, parse (ts_jws_parse refuses "none", unknown
 * algorithms, "crit" and embedded or remote keys), typ, kid, the key from
 * the tenant's JWKS, the signature with the key's own algorithm, then the
 * claims. A user's token (sub is not the client) is also introspected, for
 * the roles and username the JWT does not carry and to honour revocation
 * and disabled users. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static bool typ_ok(const char *typ)
{
	/* RFC 9068 §4: "at+jwt" or "application/at+jwt". */
	return typ != NULL &&
	       (strcmp(typ, TS_LIB_TYP_AT_JWT) == 0 || strcmp(typ, TS_LIB_TYP_AT_JWT_LONG) == 0);
}

/* RFC 7519 §4.1.3: aud is one string or an array of strings. */
static bool aud_has(const json_t *aud, const char *want)
{
	size_t i;

	if (json_is_string(aud))
		return ts_str_eq(ts_str_c(json_string_value(aud)), want);
	for (i = 0; i < json_array_size(aud); i++)
		if (ts_str_eq(ts_str_c(json_string_value(json_array_get(aud, i))), want))
			return true;
	return false;
}

/* A NumericDate member (RFC 7519 §2): false if present but not a number. */
static bool date(const json_t *claims, const char *name, bool *present, double *out)
{
	const json_t *v = json_object_get(claims, name);

	*present = v != NULL;
	*out = 0;
	if (v == NULL)
		return true;
	if (!json_is_number(v))
		return false;
	*out = json_number_value(v);
	return true;
}

static bool nonempty(const json_t *claims, const char *name)
{
	const char *s = json_string_value(json_object_get(claims, name));

	return s != NULL && s[0] != '\0';
}

int ts_lib_claims_check(const json_t *claims, const char *issuer, const char *audience,
			int64_t now, int64_t leeway_s, const char **why)
{
	const json_t *scope;
	bool has_exp, has_nbf, has_iat;
	double exp, nbf, iat;

	if (!json_is_object(claims)) {
		*why = "the token's claims are not a JSON object";
		return TS_EDENIED;
	}
	/* RFC 9068 §4 item 3: iss must be exactly the issuer. */
	if (!ts_str_eq(ts_str_c(json_string_value(json_object_get(claims, "iss"))), issuer)) {
		*why = "the token is from another issuer";
		return TS_EDENIED;
	}
	/* RFC 9068 §4 item 4: aud must name this resource server. */
	if (!aud_has(json_object_get(claims, "aud"), audience)) {
		*why = "the token is not meant for this server";
		return TS_EDENIED;
	}
	if (!date(claims, "exp", &has_exp, &exp) || !date(claims, "nbf", &has_nbf, &nbf) ||
	    !date(claims, "iat", &has_iat, &iat) || !has_exp) {
		*why = "the token's dates are malformed";
		return TS_EDENIED;
	}
	/* RFC 9068 §4 item 7, RFC 7519 §4.1.4: now must be before exp (give or
	 * take the leeway). */
	if (!(exp > (double)(now - leeway_s))) {
		*why = "the token has expired";
		return TS_EDENIED;
	}
	/* RFC 7519 §4.1.5: not before nbf; a token issued in the future is
	 * refused the same way. */
	if ((has_nbf && nbf > (double)(now + leeway_s)) || (has_iat && iat > (double)(now + leeway_s))) {
		*why = "the token is not valid yet";
		return TS_EDENIED;
	}
	/* RFC 9068 §2.2: sub and client_id are required. */
	if (!nonempty(claims, "sub") || !nonempty(claims, "client_id")) {
		*why = "the token has no sub or client_id";
		return TS_EDENIED;
	}
	scope = json_object_get(claims, "scope");
	if (scope != NULL && !json_is_string(scope)) {
		*why = "the token's scope is malformed";
		return TS_EDENIED;
	}
	return TS_OK;
}

/* RFC 6749 §3.3: scope is a space-delimited list. Counts its first
 * TS_LIB_SCOPES_MAX tokens and, when p is not NULL, appends them to
 * p->scopes (which has room for them); stops early when a copy fails, with
 * *nomem set. */
static size_t scope_tokens(const char *s, struct tessera_principal *p, bool *nomem)
{
	size_t n = 0;

	while (s != NULL && *s && n < TS_LIB_SCOPES_MAX) {
		const char *e = strchr(s, ' ');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		if (len) {
			if (p != NULL) {
				p->scopes[p->nscopes] = ts_strndup(s, len);
				if (p->scopes[p->nscopes] == NULL) {
					*nomem = true;
					break;
				}
				p->nscopes++;
			}
			n++;
		}
		s += len + (e ? 1 : 0);
	}
	return n;
}

int ts_lib_principal_scopes(struct tessera_principal *p, const char *s)
{
	bool nomem = false;
	size_t n = scope_tokens(s, NULL, &nomem);

	if (n == 0)
		return TS_OK;
	p->scopes = ts_calloc(n, sizeof(*p->scopes));
	if (p->scopes == NULL)
		return TS_ENOMEM;
	scope_tokens(s, p, &nomem);
	return nomem ? TS_ENOMEM : TS_OK;
}

/* The user's roles and username, from introspection of the same token. */
static int user_details(struct tessera_verifier *v, const char *token,
			struct tessera_principal *p, struct tessera_error *err)
{
	struct ts_lib_intro *r = NULL;
	int rc = ts_lib_introspect(v, "bearer", token, &r);

	if (rc == TS_EINVAL)
		return TESSERA_OK; /* not configured: no roles */
	if (rc == TS_ENOMEM)
		return ts_lib_err_nomem(err);
	if (rc != TS_OK)
		return ts_lib_err_unavailable(err, "Tessera cannot be reached to check the token");
	if (!r->active || !ts_str_eq(ts_str_c(r->sub), p->sub)) {
		ts_lib_intro_free(r);
		return ts_lib_err_token(v, err, "the token is revoked or its user is not active");
	}
	rc = ts_lib_principal_take_intro(p, r);
	ts_lib_intro_free(r);
	return rc == TS_OK ? TESSERA_OK : ts_lib_err_nomem(err);
}

/* Parses and verifies the JWS; on TESSERA_OK *claims is a new reference. */
static int signed_claims(struct tessera_verifier *v, const char *token, json_t **claims,
			 struct tessera_error *err)
{
	struct ts_lib_keys *ks = NULL;
	const struct ts_jwk *key = NULL;
	const unsigned char *payload;
	struct ts_jws *j = NULL;
	size_t len = strlen(token), plen;
	int rc;

	*claims = NULL;
	if (len > TS_JWS_MAX)
		return ts_lib_err_token(v, err, "the token is too large");
	rc = ts_jws_parse(token, len, &j);
	if (rc == TS_ENOMEM) {
		rc = ts_lib_err_nomem(err);
		goto out;
	}
	if (rc != TS_OK) {
		rc = ts_lib_err_token(v, err, "the token is malformed or uses a refused algorithm or header");
		goto out;
	}
	if (!typ_ok(ts_jws_typ(j))) {
		rc = ts_lib_err_token(v, err, "the token is not a JWT access token (typ)");
		goto out;
	}
	if (ts_jws_kid(j) == NULL) {
		rc = ts_lib_err_token(v, err, "the token names no key (kid)");
		goto out;
	}
	rc = ts_lib_verifier_key(v, ts_jws_kid(j), &ks, &key);
	if (rc == TS_ENOTFOUND) {
		rc = ts_lib_err_token(v, err, "the token's key is unknown");
		goto out;
	}
	if (rc == TS_ENOMEM) {
		rc = ts_lib_err_nomem(err);
		goto out;
	}
	if (rc != TS_OK) {
		rc = ts_lib_err_unavailable(err, "Tessera's signing keys cannot be fetched");
		goto out;
	}
	/* The key decides the algorithm; a header naming another is refused. */
	if (ts_jws_verify(j, key) != TS_OK) {
		rc = ts_lib_err_token(v, err, "the token's signature is invalid");
		goto out;
	}
	payload = ts_jws_payload(j, &plen);
	*claims = json_loadb((const char *)payload, plen, JSON_REJECT_DUPLICATES, NULL);
	rc = TESSERA_OK;
out:
	ts_lib_keys_unref(ks);
	ts_jws_free(j);
	return rc;
}

/* RFC 9449 §7.1: a bound token only with its proof; an unbound one only
 * as a Bearer token. */
static int binding(struct tessera_verifier *v, const json_t *claims, const char *token,
		   const struct tessera_request *dpop, struct tessera_error *err)
{
	const char *jkt = json_string_value(json_object_get(json_object_get(claims, "cnf"), "jkt"));

	if (dpop == NULL && jkt != NULL)
		return ts_lib_err_dpop(v, err, "invalid_token",
				       "the access token is DPoP-bound: present it with the DPoP scheme and a proof");
	if (dpop == NULL)
		return TESSERA_OK;
	if (jkt == NULL)
		return ts_lib_err_dpop(v, err, "invalid_token", "the access token is not DPoP-bound");
	return ts_lib_dpop_check(v, dpop, token, jkt, err);
}

int ts_lib_bearer(struct tessera_verifier *v, const char *token,
		  const struct tessera_request *dpop, struct tessera_principal **out,
		  struct tessera_error *err)
{
	struct tessera_principal *p = NULL;
	json_t *claims = NULL;
	const char *why = NULL;
	int rc;

	rc = signed_claims(v, token, &claims, err);
	if (rc != TESSERA_OK)
		goto out;
	if (ts_lib_claims_check(claims, v->issuer, v->audience, v->now(), v->leeway_s, &why) !=
	    TS_OK) {
		rc = ts_lib_err_token(v, err, why);
		goto out;
	}
	rc = binding(v, claims, token, dpop, err);
	if (rc != TESSERA_OK)
		goto out;
	p = ts_lib_principal_new(dpop ? TESSERA_AUTH_DPOP : TESSERA_AUTH_BEARER);
	if (p == NULL ||
	    ts_strdup_to(json_string_value(json_object_get(claims, "sub")), &p->sub) != TS_OK ||
	    ts_strdup_to(json_string_value(json_object_get(claims, "client_id")), &p->client_id) !=
		    TS_OK ||
	    ts_lib_principal_scopes(p, json_string_value(json_object_get(claims, "scope"))) !=
		    TS_OK) {
		rc = ts_lib_err_nomem(err);
		goto out;
	}
	/* A client acting for itself (client credentials) is its own subject. */
	p->is_user = strcmp(p->sub, p->client_id) != 0;
	if (p->is_user) {
		rc = user_details(v, token, p, err);
		if (rc != TESSERA_OK)
			goto out;
	}
	*out = p;
	p = NULL;
	rc = TESSERA_OK;
out:
	tessera_principal_free(p);
	json_decref(claims);
	return rc;
}
