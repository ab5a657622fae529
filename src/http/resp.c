/* resp.c: building responses and reading request headers and cookies. */
#include "http.h"
#include "params.h"

#include <microhttpd.h>
#include <string.h>
#include <strings.h>

/* The answer when the JSON body of an answer cannot be made. */
#define OOM_ANSWER "{\"" TS_P_ERROR "\":\"" TS_ERR_SERVER_ERROR "\"}"

#define RESP_BODY_MAX (4u << 20)

void ts_http_resp_header(struct ts_http_resp *r, const char *name, const char *value)
{
	size_t i;

	for (i = 0; i < r->nheaders; i++) {
		if (strcasecmp(r->headers[i].name, name) == 0) {
			r->headers[i].value = ts_arena_strdup(r->arena, value);
			return;
		}
	}
	if (r->nheaders == TS_HTTP_MAX_RESP_HEADERS) {
		ts_log_err("too many response headers; dropped %s", name);
		return;
	}
	r->headers[r->nheaders].name = ts_arena_strdup(r->arena, name);
	r->headers[r->nheaders].value = ts_arena_strdup(r->arena, value);
	r->nheaders++;
}

void ts_http_resp_text(struct ts_http_resp *r, int status, const char *content_type,
		       const char *text, size_t len)
{
	ts_buf_clear(&r->body);
	ts_buf_init(&r->body, RESP_BODY_MAX);
	r->status = status;
	r->content_type = content_type;
	if (ts_buf_append(&r->body, text, len) != TS_OK) {
		ts_log_err("response body too large");
		r->status = 500;
	}
}

void ts_http_resp_json(struct ts_http_resp *r, int status, const json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT);

	if (s == NULL) {
		ts_http_resp_text(r, 500, "application/json", OOM_ANSWER, sizeof(OOM_ANSWER) - 1);
		return;
	}
	ts_http_resp_text(r, status, "application/json", s, strlen(s));
	free(s);
}

void ts_http_resp_error(struct ts_http_resp *r, int status, const char *code, const char *desc)
{
	json_t *o = json_pack("{s:s}", TS_P_ERROR, code);

	if (desc)
		json_object_set_new(o, TS_P_ERROR_DESCRIPTION, json_string(desc));
	ts_http_resp_json(r, status, o);
	json_decref(o);
}

/* A header or cookie by name, else by the request's alias of that name. */
static const char *lookup(const struct ts_http_req *req, enum MHD_ValueKind kind, const char *name)
{
	const char *v;
	size_t i;

	if (req->conn == NULL)
		return NULL;
	v = MHD_lookup_connection_value(req->conn, kind, name);
	for (i = 0; v == NULL && i < req->naliases; i++)
		if (strcasecmp(req->aliases[i].name, name) == 0)
			v = MHD_lookup_connection_value(req->conn, kind, req->aliases[i].alias);
	return v;
}

const char *ts_http_header(const struct ts_http_req *req, const char *name)
{
	return lookup(req, MHD_HEADER_KIND, name);
}

struct header_count {
	const char *name;
	size_t n;
};

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	struct header_count *c = cls;

	(void)kind;
	(void)value;
	if (key != NULL && strcasecmp(key, c->name) == 0)
		c->n++;
	return MHD_YES;
}

size_t ts_http_header_count(const struct ts_http_req *req, const char *name)
{
	struct header_count c = {name, 0};

	if (req->conn != NULL)
		MHD_get_connection_values(req->conn, MHD_HEADER_KIND, count_header, &c);
	return c.n;
}

const char *ts_http_cookie(const struct ts_http_req *req, const char *name)
{
	return lookup(req, MHD_COOKIE_KIND, name);
}
