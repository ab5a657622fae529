/* b64.c: base64url (RFC 4648 §5, unpadded as in RFC 7515 §2), standard
 * base64 (§4) and hex. Decoders are strict: any stray byte is an error. */
#include "core.h"

#include "wire/ascii.h"

#include <string.h>
#include <time.h>

static const char b64url_alpha[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t ts_b64url_encoded_len(size_t n)
{
	return (n / 3) * 4 + (n % 3 ? n % 3 + 1 : 0);
}

size_t ts_b64url_encode(const void *in, size_t n, char *out, size_t cap)
{
	const unsigned char *s = in;
	size_t olen = ts_b64url_encoded_len(n), i, o = 0;

	if (olen + 1 > cap)
		return 0;
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		out[o++] = b64url_alpha[v >> 18 & 63];
		out[o++] = b64url_alpha[v >> 12 & 63];
		out[o++] = b64url_alpha[v >> 6 & 63];
		out[o++] = b64url_alpha[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)s[i] << 16;
		out[o++] = b64url_alpha[v >> 18 & 63];
		out[o++] = b64url_alpha[v >> 12 & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
		out[o++] = b64url_alpha[v >> 18 & 63];
		out[o++] = b64url_alpha[v >> 12 & 63];
		out[o++] = b64url_alpha[v >> 6 & 63];
	}
	out[o] = '\0';
	return o;
}

size_t ts_b64_encode(const void *in, size_t n, char *out, size_t cap)
{
	size_t len = ts_b64url_encoded_len(n), i;

	if ((n + 2) / 3 * 4 + 1 > cap || ts_b64url_encode(in, n, out, cap) != len)
		return 0;
	for (i = 0; i < len; i++) {
		if (out[i] == '-')
			out[i] = '+';
		else if (out[i] == '_')
			out[i] = '/';
	}
	while (len % 4)
		out[len++] = '=';
	out[len] = '\0';
	return len;
}

static int val(unsigned char c, bool url)
{
	if (ts_is_upper(c))
		return c - 'A';
	if (ts_is_lower(c))
		return c - 'a' + 26;
	if (ts_is_digit(c))
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

static int decode(const char *p, size_t len, unsigned char *out, size_t cap, size_t *outlen,
		  bool url)
{
	size_t i, o = 0, need;
	uint32_t acc = 0;
	int bits = 0;

	if (len % 4 == 1)
		return TS_EINVAL;
	need = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
	if (need > cap)
		return TS_ETOOBIG;
	for (i = 0; i < len; i++) {
		int v = val((unsigned char)p[i], url);
		if (v < 0)
			return TS_EINVAL;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* Leftover bits must be zero (canonical encoding). */
	if (acc != 0)
		return TS_EINVAL;
	*outlen = o;
	return TS_OK;
}

int ts_b64url_decode(const char *p, size_t len, unsigned char *out, size_t cap, size_t *outlen)
{
	return decode(p, len, out, cap, outlen, true);
}

int ts_b64_decode(const char *p, size_t len, unsigned char *out, size_t cap, size_t *outlen)
{
	size_t pad = 0;

	if (len % 4 != 0)
		return TS_EINVAL;
	while (pad < 2 && len > 0 && p[len - 1] == '=') {
		len--;
		pad++;
	}
	return decode(p, len, out, cap, outlen, false);
}

void ts_hex_encode(const void *in, size_t n, char *out)
{
	static const char hexd[] = "0123456789abcdef";
	const unsigned char *s = in;
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hexd[s[i] >> 4];
		out[2 * i + 1] = hexd[s[i] & 15];
	}
	out[2 * n] = '\0';
}

int ts_hex_val(unsigned char c)
{
	if (ts_is_digit(c))
		return c - '0';
	if (!ts_is_xdigit(c))
		return -1;
	return ts_to_lower(c) - 'a' + 10;
}

int ts_hex_decode(const char *p, size_t len, unsigned char *out, size_t cap, size_t *outlen)
{
	size_t i;

	if (len % 2)
		return TS_EINVAL;
	if (len / 2 > cap)
		return TS_ETOOBIG;
	for (i = 0; i < len; i += 2) {
		int hi = ts_hex_val((unsigned char)p[i]), lo = ts_hex_val((unsigned char)p[i + 1]);
		if (hi < 0 || lo < 0)
			return TS_EINVAL;
		out[i / 2] = (unsigned char)(hi << 4 | lo);
	}
	*outlen = len / 2;
	return TS_OK;
}

int64_t ts_now(void)
{
	/* Not time(): it reads the coarse clock, which can lag a few
	 * milliseconds behind the clock every client compares against. */
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec;
}

int64_t ts_now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int64_t ts_mono_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}
