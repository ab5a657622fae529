/* members.h: the member names of the JSON answers of OAuth 2.0 endpoints:
 * the token response (RFC 6749 §5.1, RFC 8693 §2.2.1), the error response
 * (RFC 6749 §5.2), introspection (RFC 7662 §2.2), device authorization
 * (RFC 8628 §3.2) and pushed authorization (RFC 9126 §2.2). A member that
 * has the name of a request parameter keeps its TS_P_* name from params.h
 * (access_token, refresh_token, scope, client_id, username, error,
 * error_description, device_code, user_code, request_uri); the others are
 * here. Tessera's own answers use them, and so does the vault where it reads
 * a provider's token response. */
#ifndef TS_HTTP_MEMBERS_H
#define TS_HTTP_MEMBERS_H

#include "params.h"

#define TS_J_ACTIVE "active"
#define TS_J_EXPIRES_IN "expires_in"
#define TS_J_ID_TOKEN "id_token"
#define TS_J_INTERVAL "interval"
#define TS_J_ISSUED_TOKEN_TYPE "issued_token_type"
#define TS_J_TOKEN_TYPE "token_type"
#define TS_J_VERIFICATION_URI "verification_uri"
#define TS_J_VERIFICATION_URI_COMPLETE "verification_uri_complete"

#endif
