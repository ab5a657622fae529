/* errors.c: rendering of RFC 6749 §5.2 error responses, and the parameter
 * rules every OAuth endpoint shares. */
#include "oauth.h"
#include "internal.h"

#include <string.h>

void ts_oauth_no_store(struct ts_http_resp *resp)
{
	ts_http_resp_header(resp, "Cache-Control", "no-store");
	ts_http_resp_header(resp, "Pragma", "no-cache");
}

void ts_oauth_err_set(struct ts_oauth_err *e, int status, const char *code, const char *desc)
{
	e->status = status;
	e->code = code;
	e->desc = desc;
}

void ts_oauth_err_unavailable(struct ts_oauth_err *e)
{
	ts_oauth_err_set(e, 503, TS_ERR_TEMPORARILY_UNAVAILABLE, TS_STORE_UNAVAILABLE_DESC);
}

void ts_oauth_err_send(const struct ts_rctx *rc, struct ts_http_resp *resp,
		       const struct ts_oauth_err *e)
{
	ts_http_resp_error(resp, e->status, e->code, e->desc);
	ts_oauth_no_store(resp);
	/* RFC 6749 §5.2: a client that authenticated (or tried) through the
	 * Authorization header gets 401 with a challenge for that scheme. */
	if (e->status == 503)
		ts_http_resp_header(resp, "Retry-After", "2");
	if (e->retry_after > 0)
		ts_http_resp_header(resp, "Retry-After",
				    ts_arena_printf(resp->arena, "%d", e->retry_after));
	if (e->status == 401) {
		ts_http_resp_header(resp, "WWW-Authenticate",
				    ts_arena_printf(resp->arena, "Basic realm=\"%s\"",
						    rc && rc->tenant ? rc->tenant->name : "tessera"));
	}
}

bool ts_oauth_params_unique(const struct ts_param *v, size_t n, const char *const *multi,
			    struct ts_oauth_err *err)
{
	size_t i, j, k;

	for (i = 0; i < n; i++) {
		bool allowed = false;
		for (k = 0; multi && multi[k]; k++)
			allowed = allowed || strcmp(v[i].name, multi[k]) == 0;
		if (allowed)
			continue;
		for (j = i + 1; j < n; j++) {
			if (strcmp(v[i].name, v[j].name) == 0) {
				/* RFC 6749 §3.1: parameters MUST NOT be included more than once. */
				err->status = 400;
				err->code = TS_ERR_INVALID_REQUEST;
				err->desc = "a parameter was repeated";
				return false;
			}
		}
	}
	return true;
}
bool ts_oauth_form_ok(const struct ts_rctx *rc, struct ts_http_req *req, struct ts_oauth_err *e)
{
	if (req->content_type == NULL ||
	    strcmp(req->content_type, "application/x-www-form-urlencoded") != 0) {
		e->status = 400;
		e->code = TS_ERR_INVALID_REQUEST;
		e->desc = "the body must be application/x-www-form-urlencoded";
		return false;
	}
	(void)rc;
	return ts_oauth_params_unique(req->form, req->nform, NULL, e);
}
