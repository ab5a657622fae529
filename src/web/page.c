/* page.c: the small server-rendered HTML pages: one layout, every
 * user-supplied string escaped, strict security headers. The only style is
 * an inline block allowed by its hash in the Content-Security-Policy; there
 * is no script at all. */
#include "web.h"

#include "http/params.h"

#include <string.h>

#define PAGE_MAX (256 * 1024)

static const char page_style[] =
	"body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#1d2330;margin:0}"
	"main{max-width:26rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;"
	"box-shadow:0 1px 4px rgba(0,0,0,.12)}"
	"h1{font-size:1.3rem;margin:0 0 .3rem}p.sub{color:#5b6474;margin:0 0 1.5rem}"
	"label{display:block;margin:.8rem 0 .3rem;font-weight:600}"
	"input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.6rem;"
	"border:1px solid #c4c9d2;border-radius:4px;font-size:1rem}"
	"button{margin-top:1.2rem;padding:.6rem 1.2rem;font-size:1rem;border:0;border-radius:4px;"
	"background:#2b59c3;color:#fff;cursor:pointer}button.secondary{background:#e3e6eb;color:#1d2330}"
	".error{background:#fdecea;color:#8a1c12;padding:.6rem;border-radius:4px}"
	"ul{padding-left:1.2rem}";

void ts_html_escape(struct ts_buf *b, const char *s)
{
	size_t i, start = 0, n = s ? strlen(s) : 0;

	for (i = 0; i < n; i++) {
		const char *e = NULL;
		switch (s[i]) {
		case '&': e = "&amp;"; break;
		case '<': e = "&lt;"; break;
		case '>': e = "&gt;"; break;
		case '"': e = "&quot;"; break;
		case '\'': e = "&#39;"; break;
		default: continue;
		}
		ts_buf_append(b, s + start, i - start);
		ts_buf_appends(b, e);
		start = i + 1;
	}
	ts_buf_append(b, s + start, n - start);
}

void ts_page_begin(const struct ts_rctx *rc, struct ts_http_resp *resp, struct ts_buf *b,
		   const char *title)
{
	unsigned char h[TS_SHA256_LEN];
	char hb64[64];

	/* CSP hash sources are standard base64 with padding. */
	ts_sha256(page_style, sizeof(page_style) - 1, h);
	ts_b64_encode(h, sizeof(h), hb64, sizeof(hb64));
	ts_http_resp_header(resp, "Content-Security-Policy",
			    ts_arena_printf(resp->arena,
					    "default-src 'none'; style-src 'sha256-%s'; img-src 'self'; "
					    "frame-ancestors 'none'; base-uri 'none'",
					    hb64));
	ts_http_resp_header(resp, "X-Frame-Options", "DENY");
	/* No page address leaves this site; within it, a form's POST names
	 * its origin (under no-referrer browsers send "Origin: null"), which
	 * the cross-site check of the forms reads. */
	ts_http_resp_header(resp, "Referrer-Policy", "same-origin");
	ts_http_resp_header(resp, "Cache-Control", "no-store");
	ts_buf_init(b, PAGE_MAX);
	ts_buf_appends(b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			  "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>");
	ts_html_escape(b, title);
	ts_buf_appends(b, " · ");
	ts_html_escape(b, rc->tenant ? rc->tenant->display_name : "Tessera");
	ts_buf_appends(b, "</title><style>");
	ts_buf_appends(b, page_style);
	ts_buf_appends(b, "</style></head><body><main><h1>");
	ts_html_escape(b, title);
	ts_buf_appends(b, "</h1><p class=\"sub\">");
	ts_html_escape(b, rc->tenant ? rc->tenant->display_name : "Tessera");
	ts_buf_appends(b, "</p>\n");
}

void ts_page_end(struct ts_http_resp *resp, struct ts_buf *b, int status)
{
	ts_buf_appends(b, "\n</main></body></html>\n");
	if (b->p == NULL) {
		ts_http_resp_error(resp, 500, TS_ERR_SERVER_ERROR, "page too large");
		return;
	}
	ts_http_resp_text(resp, status, "text/html; charset=utf-8", b->p, b->len);
	ts_buf_clear(b);
}

void ts_page_error(const struct ts_rctx *rc, struct ts_http_resp *resp, int status,
		   const char *title, const char *message)
{
	struct ts_buf b;

	ts_page_begin(rc, resp, &b, title);
	ts_buf_appends(&b, "<p class=\"error\">");
	ts_html_escape(&b, message);
	ts_buf_appends(&b, "</p>");
	ts_page_end(resp, &b, status);
}

void ts_page_unavailable(const struct ts_rctx *rc, struct ts_http_resp *resp)
{
	ts_page_error(rc, resp, 503, "Temporarily unavailable", "Please try again shortly.");
}
