/* buf.c: the one growable buffer (NUL-terminated, hard maximum). */
#include "core.h"

#include "wire/ascii.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ts_buf_init(struct ts_buf *b, size_t max)
{
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void ts_buf_clear(struct ts_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
}

void ts_buf_clear_secret(struct ts_buf *b)
{
	if (b->p)
		OPENSSL_cleanse(b->p, b->cap);
	ts_buf_clear(b);
}

/* Makes room for n more bytes plus the NUL, or fails (and empties b):
 * TS_ETOOBIG past the maximum, TS_ENOMEM when memory runs out. */
static int reserve(struct ts_buf *b, size_t n)
{
	size_t need, cap;
	char *p;

	if (n > b->max || b->len > b->max - n) {
		ts_buf_clear(b);
		return TS_ETOOBIG;
	}
	need = b->len + n + 1;
	if (need <= b->cap)
		return TS_OK;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	p = ts_realloc(b->p, cap);
	if (p == NULL) {
		/* The bytes may be a secret: wipe them as they go. */
		ts_buf_clear_secret(b);
		return TS_ENOMEM;
	}
	b->p = p;
	b->cap = cap;
	return TS_OK;
}

int ts_buf_append(struct ts_buf *b, const void *p, size_t len)
{
	int rc = reserve(b, len);
	if (rc != TS_OK)
		return rc;
	if (len)
		memcpy(b->p + b->len, p, len);
	b->len += len;
	b->p[b->len] = '\0';
	return TS_OK;
}

int ts_buf_appends(struct ts_buf *b, const char *s)
{
	return ts_buf_append(b, s, strlen(s));
}

int ts_buf_appendf(struct ts_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	int rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return TS_EINVAL;
	rc = reserve(b, (size_t)n);
	if (rc != TS_OK)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return TS_OK;
}

int ts_buf_append_json_escaped(struct ts_buf *b, const char *s, size_t len)
{
	static const char hexd[] = "0123456789abcdef";
	size_t i, start = 0;
	int rc;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7];
		size_t elen = 2;

		if (!ts_is_ctl(c) && c != '"' && c != '\\')
			continue;
		rc = ts_buf_append(b, s + start, i - start);
		if (rc != TS_OK)
			return rc;
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hexd[c >> 4];
			esc[5] = hexd[c & 15];
			elen = 6;
		}
		rc = ts_buf_append(b, esc, elen);
		if (rc != TS_OK)
			return rc;
		start = i + 1;
	}
	return ts_buf_append(b, s + start, len - start);
}

char *ts_buf_take(struct ts_buf *b)
{
	char *p = b->p;
	if (p == NULL)
		p = ts_xstrdup("");
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}
