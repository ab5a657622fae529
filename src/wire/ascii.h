/* ascii.h: ASCII character classes, independent of the locale (the <ctype.h>
 * functions follow setlocale and are undefined for negative chars). Every
 * protocol grammar we parse is ASCII: RFC 5234 core rules (ALPHA, DIGIT,
 * HEXDIG, VCHAR, CTL), RFC 9110 tchar and OWS, RFC 3986 unreserved and
 * scheme, RFC 6750 b64token, RFC 4648 §5 base64url, RFC 6749 NQCHAR. This
 * header depends on nothing, so every module (core/ included) may use it. */
#ifndef TS_WIRE_ASCII_H
#define TS_WIRE_ASCII_H

#include <stdbool.h>

static inline bool ts_is_upper(unsigned char c)
{
	return c >= 'A' && c <= 'Z';
}

static inline bool ts_is_lower(unsigned char c)
{
	return c >= 'a' && c <= 'z';
}

/* RFC 5234 ALPHA */
static inline bool ts_is_alpha(unsigned char c)
{
	return ts_is_upper(c) || ts_is_lower(c);
}

/* RFC 5234 DIGIT */
static inline bool ts_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static inline bool ts_is_alnum(unsigned char c)
{
	return ts_is_alpha(c) || ts_is_digit(c);
}

/* RFC 5234 HEXDIG, either case. */
static inline bool ts_is_xdigit(unsigned char c)
{
	return ts_is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A lowercase hex digit, as ts_hex_encode writes them. */
static inline bool ts_is_xdigit_lower(unsigned char c)
{
	return ts_is_digit(c) || (c >= 'a' && c <= 'f');
}

/* RFC 9110 §5.6.3 OWS: space or horizontal tab. */
static inline bool ts_is_ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 5234 VCHAR: visible characters, 0x21 to 0x7e. */
static inline bool ts_is_vchar(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e;
}

/* Printable ASCII: VCHAR and the space. */
static inline bool ts_is_print(unsigned char c)
{
	return c >= 0x20 && c <= 0x7e;
}

/* RFC 5234 CTL: 0x00 to 0x1f and DEL. */
static inline bool ts_is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* RFC 3986 §2.3 unreserved: ALPHA / DIGIT / "-" / "." / "_" / "~". */
static inline bool ts_is_unreserved(unsigned char c)
{
	return ts_is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* RFC 6750 §2.1 b64token characters before the "=" padding:
 * ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/". */
static inline bool ts_is_b64token(unsigned char c)
{
	return ts_is_unreserved(c) || c == '+' || c == '/';
}

/* RFC 4648 §5 base64url alphabet: ALPHA / DIGIT / "-" / "_". */
static inline bool ts_is_b64url(unsigned char c)
{
	return ts_is_alnum(c) || c == '-' || c == '_';
}

/* RFC 9110 §5.6.2 tchar: the characters of a token (header names, methods,
 * auth schemes). */
static inline bool ts_is_tchar(unsigned char c)
{
	switch (c) {
	case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
	case '-': case '.': case '^': case '_': case '`': case '|': case '~':
		return true;
	default:
		return ts_is_alnum(c);
	}
}

/* RFC 6749 Appendix A NQCHAR, the characters of a scope-token:
 * %x21 / %x23-5B / %x5D-7E (VCHAR without '"' and '\\'). */
static inline bool ts_is_nqchar(unsigned char c)
{
	return ts_is_vchar(c) && c != '"' && c != '\\';
}

/* RFC 3986 §3.1: the characters of a URI scheme after its first, which is
 * ALPHA: ALPHA / DIGIT / "+" / "-" / ".". */
static inline bool ts_is_scheme_char(unsigned char c)
{
	return ts_is_alnum(c) || c == '+' || c == '-' || c == '.';
}

/* CTL or the space: what a name or URL that may hold UTF-8 (bytes 0x80 and
 * up pass) must not contain. */
static inline bool ts_is_ctl_or_space(unsigned char c)
{
	return ts_is_ctl(c) || c == ' ';
}

static inline unsigned char ts_to_lower(unsigned char c)
{
	return ts_is_upper(c) ? (unsigned char)(c - 'A' + 'a') : c;
}

static inline unsigned char ts_to_upper(unsigned char c)
{
	return ts_is_lower(c) ? (unsigned char)(c - 'a' + 'A') : c;
}

#endif
