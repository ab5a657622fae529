/* jwks.c: the JWK Set endpoint (RFC 7517 §5): the tenant's public keys,
 * current, next and retired, prebuilt with the snapshot, so answering is a
 * copy. Public: any origin may read it. */
#include "oidc.h"

void ts_oidc_jwks(void *ctx, struct ts_http_req *req, struct ts_http_resp *resp)
{
	struct ts_rctx *rc = ctx;

	(void)req;
	ts_http_resp_text(resp, 200, "application/jwk-set+json", rc->tenant->jwks_json,
			  rc->tenant->jwks_len);
	ts_http_resp_header(resp, "Cache-Control", "public, max-age=300");
}
