/* wire.h: request syntax that the server and libtessera both read, written
 * once and compiled into both: the Authorization header (RFC 7235 §2.1),
 * the Cookie header (RFC 6265 §5.4) and percent-encoding (RFC 3986 §2.1).
 * Parsers take (ptr, len), never trust a NUL and allocate nothing: results
 * are slices of the input, and each side applies its own policy to them.
 * Character classes are in wire/ascii.h. */
#ifndef TS_WIRE_H
#define TS_WIRE_H

#include "core/core.h"
#include "wire/ascii.h"

/* What an Authorization header value holds, by its first word. */
enum ts_wire_authz_kind {
	TS_WIRE_AUTHZ_ABSENT,     /* no header at all (a NULL value) */
	TS_WIRE_AUTHZ_TOOBIG,     /* longer than the caller's cap */
	TS_WIRE_AUTHZ_MALFORMED,  /* a NUL byte inside the value */
	TS_WIRE_AUTHZ_NOCRED,     /* no space after the scheme ("Bearer", "") */
	TS_WIRE_AUTHZ_UNKNOWN,    /* a scheme other than those below */
	TS_WIRE_AUTHZ_BASIC,      /* RFC 7617: cred is the base64 text */
	TS_WIRE_AUTHZ_BEARER,     /* RFC 6750 §2.1: cred is a b64token */
	TS_WIRE_AUTHZ_BADBEARER,  /* Bearer or DPoP, but cred is not a b64token */
	TS_WIRE_AUTHZ_TOKEN,      /* "token key:secret": cred is the pair */
	TS_WIRE_AUTHZ_DPOP,       /* RFC 9449 §7.1: cred is a b64token */
};
struct ts_wire_authz {
	enum ts_wire_authz_kind kind;
	struct ts_str cred; /* borrowed from the input; set from UNKNOWN on */
};
/* Splits an Authorization value of len bytes (p NULL: ABSENT) into its
 * scheme, matched without regard to case (RFC 7235 §2.1), and credentials:
 * everything after the first space, with spaces around it dropped
 * (RFC 7235: 1*SP). Values over max bytes are TOOBIG before anything else
 * is read. Never fails; the outcome is out->kind. */
void ts_wire_authz_parse(const char *p, size_t len, size_t max, struct ts_wire_authz *out);
/* RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" /
 * "+" / "/" ) *"=". */
bool ts_wire_b64token_ok(const char *p, size_t len);
/* Splits "left:right" at the first colon. False when there is no colon or
 * left is empty; right may be empty (the caller decides). */
bool ts_wire_pair_split(struct ts_str s, struct ts_str *left, struct ts_str *right);

/* Finds cookie name in a Cookie header value of len bytes (p NULL: not
 * found), parsed leniently as browsers send it (RFC 6265 §5.4): pairs split
 * by ';', spaces or tabs around names and values dropped, a value in double
 * quotes unquoted, a pair without '=' ignored, the first match wins. TS_OK
 * with *val a slice of p, TS_ENOTFOUND, TS_EINVAL for a NUL byte, TS_ETOOBIG
 * past max bytes. */
int ts_wire_cookie_find(const char *p, size_t len, size_t max, const char *name,
			struct ts_str *val);

/* Appends the percent-encoded form of the NUL-terminated s to b: RFC 3986
 * §2.3 unreserved characters as they are, every other byte as %XX with
 * uppercase hex (§2.1). Suits a query or application/x-www-form-urlencoded
 * value and the form-encoded client credentials of RFC 6749 §2.3.1. TS_OK,
 * or the ts_buf error (TS_ETOOBIG past b's cap, TS_ENOMEM). */
int ts_wire_urlencode(struct ts_buf *b, const char *s);

#endif
