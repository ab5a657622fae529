/* client_addr.c: IP addresses, CIDR ranges and the client address of a
 * request that came through trusted proxies (RFC 7239 `Forwarded`, and the
 * de-facto `X-Forwarded-For`). Every address is kept in the 16-byte IPv6
 * form, IPv4 as IPv4-mapped (RFC 4291 §2.5.5.2), so one comparison serves
 * both families and an IPv4 client of a dual-stack socket matches an IPv4
 * range. The parsers take (pointer, length) and never read past it. */
#include "http.h"

#include "wire/ascii.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define V4_MAPPED_PREFIX_BITS 96
#define V6_BITS 128
#define V4_BITS 32
#define IPV6_TEXT_MAX 45 /* longest textual IPv6 address, IPv4 tail included */
#define PORT_DIGITS_MAX 5

static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static void trim(const char **p, size_t *len)
{
	while (*len && ts_is_ows((unsigned char)**p)) {
		(*p)++;
		(*len)--;
	}
	while (*len && ts_is_ows((unsigned char)(*p)[*len - 1]))
		(*len)--;
}

static bool all_digits(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!ts_is_digit((unsigned char)p[i]))
			return false;
	return len > 0;
}

int ts_ip_parse(const char *p, size_t len, struct ts_ip *out)
{
	char buf[IPV6_TEXT_MAX + 1];
	unsigned char v4[4];

	memset(out, 0, sizeof(*out));
	if (len == 0 || len > IPV6_TEXT_MAX || memchr(p, '\0', len))
		return TS_EINVAL;
	memcpy(buf, p, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, v4) == 1) {
		memcpy(out->b, v4_mapped, sizeof(v4_mapped));
		memcpy(out->b + sizeof(v4_mapped), v4, sizeof(v4));
		return TS_OK;
	}
	/* A zone index ("fe80::1%eth0") names a link, not a client: refused. */
	if (inet_pton(AF_INET6, buf, out->b) == 1)
		return TS_OK;
	return TS_EINVAL;
}

void ts_ip_from_sockaddr(const struct sockaddr *sa, struct ts_ip *out)
{
	memset(out, 0, sizeof(*out));
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		memcpy(out->b, v4_mapped, sizeof(v4_mapped));
		memcpy(out->b + sizeof(v4_mapped), &in->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		memcpy(out->b, &in6->sin6_addr, sizeof(out->b));
	}
}

bool ts_ip_is_v4(const struct ts_ip *ip)
{
	return memcmp(ip->b, v4_mapped, sizeof(v4_mapped)) == 0;
}

void ts_ip_format(const struct ts_ip *ip, char *buf, size_t cap)
{
	if (cap < TS_IP_TEXT_CAP) {
		if (cap)
			buf[0] = '\0';
		return;
	}
	if (ts_ip_is_v4(ip))
		inet_ntop(AF_INET, ip->b + sizeof(v4_mapped), buf, (socklen_t)cap);
	else
		inet_ntop(AF_INET6, ip->b, buf, (socklen_t)cap);
}

bool ts_ip_is_loopback(const struct ts_ip *ip)
{
	static const unsigned char v6_loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0,
						      0, 0, 0, 0, 0, 0, 0, 1};

	if (ts_ip_is_v4(ip))
		return ip->b[12] == 127;
	return memcmp(ip->b, v6_loopback, sizeof(v6_loopback)) == 0;
}

/* Whether the first bits of a and b agree. */
static bool prefix_eq(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;
	unsigned char mask;

	if (memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (unsigned char)(0xffu << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

/* One range, "ADDR" or "ADDR/BITS". Host bits must be zero: a range that
 * says 10.1.2.3/8 is more likely a typo than a wish for 10.0.0.0/8. */
static int cidr_parse(const char *p, size_t len, struct ts_cidr *out)
{
	const char *slash = memchr(p, '/', len);
	size_t alen = slash ? (size_t)(slash - p) : len;
	unsigned long bits;
	unsigned max;

	if (ts_ip_parse(p, alen, &out->net) != TS_OK)
		return TS_EINVAL;
	max = ts_ip_is_v4(&out->net) ? V4_BITS : V6_BITS;
	bits = max;
	if (slash) {
		size_t blen = len - alen - 1;
		if (!all_digits(slash + 1, blen) || blen > 3)
			return TS_EINVAL;
		bits = 0;
		for (size_t i = 0; i < blen; i++)
			bits = bits * 10 + (unsigned long)(slash[1 + i] - '0');
		if (bits > max)
			return TS_EINVAL;
	}
	out->bits = (unsigned)bits + (max == V4_BITS ? V4_MAPPED_PREFIX_BITS : 0);
	/* Every bit past the prefix must be zero. */
	for (unsigned i = out->bits; i < V6_BITS; i++)
		if (out->net.b[i / 8] & (0x80u >> (i % 8)))
			return TS_EINVAL;
	return TS_OK;
}

int ts_cidr_list_parse(const char *s, struct ts_cidr_list *out)
{
	const char *p = s;

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return TS_OK;
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		const char *item = p;
		size_t ilen = n;

		trim(&item, &ilen);
		if (ilen == 0)
			return TS_EINVAL;
		if (out->n == TS_HTTP_MAX_CIDRS)
			return TS_ETOOBIG;
		if (cidr_parse(item, ilen, &out->v[out->n]) != TS_OK)
			return TS_EINVAL;
		out->n++;
		p += n;
		if (comma) {
			p++;
			if (*p == '\0')
				return TS_EINVAL; /* a trailing comma */
		}
	}
	return TS_OK;
}

bool ts_cidr_list_contains(const struct ts_cidr_list *l, const struct ts_ip *ip)
{
	size_t i;

	if (l == NULL)
		return false;
	for (i = 0; i < l->n; i++)
		if (prefix_eq(l->v[i].net.b, ip->b, l->v[i].bits))
			return true;
	return false;
}

/* One node of a forwarding header: an address, with an optional port
 * ("1.2.3.4:80", "[::1]", "[::1]:443"); anything else ("unknown", an
 * obfuscated "_hidden", garbage) is TS_EINVAL. */
static int node_parse(const char *p, size_t len, struct ts_ip *out)
{
	const char *colon;

	trim(&p, &len);
	if (len && p[0] == '[') {
		const char *close = memchr(p, ']', len);
		size_t rest;
		if (close == NULL)
			return TS_EINVAL;
		rest = len - (size_t)(close - p) - 1;
		if (rest && (close[1] != ':' || !all_digits(close + 2, rest - 1) ||
			     rest - 1 > PORT_DIGITS_MAX))
			return TS_EINVAL;
		if (ts_ip_parse(p + 1, (size_t)(close - p) - 1, out) != TS_OK || ts_ip_is_v4(out))
			return TS_EINVAL;
		return TS_OK;
	}
	colon = memchr(p, ':', len);
	if (colon && memchr(colon + 1, ':', len - (size_t)(colon - p) - 1) == NULL) {
		/* Exactly one colon: IPv4 with a port. */
		size_t plen = len - (size_t)(colon - p) - 1;
		if (!all_digits(colon + 1, plen) || plen > PORT_DIGITS_MAX)
			return TS_EINVAL;
		if (ts_ip_parse(p, (size_t)(colon - p), out) != TS_OK || !ts_ip_is_v4(out))
			return TS_EINVAL;
		return TS_OK;
	}
	return ts_ip_parse(p, len, out);
}

/* The for= value of one Forwarded element (RFC 7239 §4: pairs separated by
 * ';', each token=token or token=quoted-string). TS_ENOTFOUND if it names
 * none, TS_EINVAL if malformed. */
static int element_for(const char *p, size_t len, const char **v, size_t *vlen)
{
	size_t i = 0;
	int found = TS_ENOTFOUND;

	while (i < len) {
		size_t ns, ne, vs, ve;
		while (i < len && ts_is_ows((unsigned char)p[i]))
			i++;
		ns = i;
		while (i < len && p[i] != '=' && p[i] != ';')
			i++;
		if (i == len || p[i] != '=')
			return TS_EINVAL;
		ne = i++;
		while (ne > ns && ts_is_ows((unsigned char)p[ne - 1]))
			ne--;
		if (i < len && p[i] == '"') {
			vs = ++i;
			while (i < len && p[i] != '"') {
				if (p[i] == '\\')
					return TS_EINVAL; /* no address needs an escape */
				i++;
			}
			if (i == len)
				return TS_EINVAL;
			ve = i++;
		} else {
			vs = i;
			while (i < len && p[i] != ';' && !ts_is_ows((unsigned char)p[i]))
				i++;
			ve = i;
		}
		while (i < len && ts_is_ows((unsigned char)p[i]))
			i++;
		if (i < len && p[i++] != ';')
			return TS_EINVAL;
		if (ne - ns == 3 && strncasecmp(p + ns, "for", 3) == 0) {
			if (found == TS_OK)
				return TS_EINVAL; /* a parameter appears once per element */
			*v = p + vs;
			*vlen = ve - vs;
			found = TS_OK;
		}
	}
	return found;
}

/* The comma-separated elements of a header, right to left: sets *e and *elen
 * to the element ending before *end and moves *end before its comma.
 * Commas inside a quoted string do not separate. false when none is left. */
static bool prev_element(const char *h, size_t *end, const char **e, size_t *elen)
{
	size_t i = *end, start;
	bool quoted = false;

	if (i == 0)
		return false;
	/* Find the element's start, scanning left, quotes respected. A quote
	 * preceded by a backslash has already been refused by element_for. */
	start = i;
	while (start > 0) {
		char c = h[start - 1];
		if (c == '"')
			quoted = !quoted;
		else if (c == ',' && !quoted)
			break;
		start--;
	}
	*e = h + start;
	*elen = i - start;
	*end = start ? start - 1 : 0; /* before the comma; 0 ends the walk */
	return true;
}

/* The address a hop of the chosen header names, or TS_EINVAL. */
static int hop_addr(bool forwarded, const char *e, size_t elen, struct ts_ip *out)
{
	const char *v;
	size_t vlen;

	if (!forwarded)
		return node_parse(e, elen, out);
	if (element_for(e, elen, &v, &vlen) != TS_OK)
		return TS_EINVAL;
	return node_parse(v, vlen, out);
}

int ts_client_addr(const struct ts_cidr_list *trusted, const struct ts_ip *peer,
		   const char *xff, size_t xff_len, const char *fwd, size_t fwd_len,
		   struct ts_ip *out)
{
	const char *h = xff ? xff : fwd;
	size_t end = xff ? xff_len : fwd_len, elen, hops = 0;
	bool forwarded = xff == NULL;
	const char *e;

	*out = *peer;
	if (!ts_cidr_list_contains(trusted, peer) || h == NULL)
		return TS_OK;
	if (end > TS_HTTP_MAX_FORWARDED)
		return TS_ETOOBIG; /* the peer's own address stands */
	/* Right to left: each trusted hop vouches for the one before it; the
	 * first address that is not a trusted proxy is the client. A hop that
	 * names no usable address ends the walk at the last address vouched
	 * for, so a proxy that reports "unknown" is the client. */
	while (prev_element(h, &end, &e, &elen)) {
		struct ts_ip a;
		if (++hops > TS_HTTP_MAX_HOPS)
			return TS_ETOOBIG;
		if (hop_addr(forwarded, e, elen, &a) != TS_OK)
			return TS_EINVAL;
		*out = a;
		if (!ts_cidr_list_contains(trusted, &a))
			return TS_OK;
		if (e == h)
			break;
	}
	return TS_OK;
}
