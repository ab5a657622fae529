/* proto.h: the pure protocol steps of oauth/, functions of their
 * arguments only (no request, no storage): scope strings (RFC 6749 §3.3),
 * RFC 8707 resources, PKCE (RFC 7636) and redirect-URI matching (RFC 6749
 * §3.1.2.3, RFC 8252 §7.3). Included by oauth.h; a file that needs only
 * these includes this header alone. */
#ifndef TS_OAUTH_PROTO_H
#define TS_OAUTH_PROTO_H

#include "core/core.h"

struct ts_tenant;
struct ts_client;

#define TS_SCOPE_MAX 2048
#define TS_SCOPES_MAX 64

/* ---- scopes (scope.c, RFC 6749 §3.3) ---- */
/* Resolves a requested scope string to the granted one (arena string,
 * space-separated, duplicates dropped). NULL requested means all the
 * client's allowed scopes. false if malformed or a scope is not allowed
 * (allowed directly or included by an allowed scope). */
bool ts_oauth_scope_grant(const struct ts_tenant *t, const struct ts_client *c,
			  const char *requested, struct ts_arena *a, const char **out);
/* The scopes of a stored grant that the client is still allowed now (an
 * arena string, possibly empty): what a code, a device code or a refresh
 * token may still yield after the client's scopes were cut. */
const char *ts_scope_client_narrow(const struct ts_tenant *t, const struct ts_client *c,
				   const char *scope, struct ts_arena *a);
/* Whether a space-separated scope string contains s. */
bool ts_scope_has(const char *scope, const char *s);
/* Whether every scope of want is satisfied by have (both space-separated):
 * named there, or, with a tenant t (may be NULL), included by a scope
 * there. */
bool ts_scope_covers(const struct ts_tenant *t, const char *have, const char *want);
/* Narrowing (RFC 6749 §6): every scope requested must be satisfied by
 * granted (ts_scope_covers); *out is requested normalized, or granted when
 * requested is NULL. */
bool ts_scope_narrow(const struct ts_tenant *t, const char *granted, const char *requested,
		     struct ts_arena *a, const char **out);

/* The one check of an RFC 8707 resource, at the authorization endpoint as
 * at the token endpoint: an absolute URI of printable ASCII (0x21-0x7e),
 * without a fragment, at most TS_RESOURCE_MAX bytes. NULL is refused. */
#define TS_RESOURCE_MAX 2048
bool ts_oauth_resource_ok(const char *r);

/* ---- PKCE (pkce.c, RFC 7636) ---- */
/* A code_challenge for S256 is the 43-character base64url SHA-256. */
bool ts_pkce_challenge_ok(const char *challenge);
/* RFC 7636 §4.1 verifier syntax and §4.6 S256 check, in constant time. */
bool ts_pkce_verify(const char *verifier, const char *challenge);

/* ---- redirect URIs (redirect_uri.c) ---- */
/* Exact match against the client's registered URIs; for a registered
 * loopback IP literal (127.0.0.1 or [::1]) with http, any port matches
 * (RFC 8252 §7.3). Returns the registered URI matched, or NULL. */
const char *ts_redirect_uri_match(const struct ts_client *c, const char *uri);

#endif
