/* test_client_addr.c: IP addresses and CIDR ranges (IPv4 kept as
 * IPv4-mapped IPv6), and the client address behind trusted proxies from
 * X-Forwarded-For or RFC 7239 Forwarded (rightmost address that is not a
 * trusted proxy; headers ignored from any other peer). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "http/http.h"

static struct ts_ip ip(const char *s)
{
	struct ts_ip a;

	assert_int_equal(ts_ip_parse(s, strlen(s), &a), TS_OK);
	return a;
}

static const char *text(const struct ts_ip *a, char *buf)
{
	ts_ip_format(a, buf, TS_IP_TEXT_CAP);
	return buf;
}

static bool loopback(const char *s)
{
	struct ts_ip a = ip(s);

	return ts_ip_is_loopback(&a);
}

static void test_ip_parse_and_format(void **state)
{
	static const char *const bad[] = {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4:80",
					  "[::1]", "::1%lo", "fe80::1%eth0", "unknown", "_hidden",
					  " 1.2.3.4", "01.2.3.4x", "::g"};
	char buf[TS_IP_TEXT_CAP];
	struct ts_ip a;
	size_t i;

	(void)state;
	a = ip("192.0.2.7");
	assert_true(ts_ip_is_v4(&a));
	assert_string_equal(text(&a, buf), "192.0.2.7");
	a = ip("::ffff:192.0.2.7"); /* the mapped form is the same address */
	assert_true(ts_ip_is_v4(&a));
	assert_string_equal(text(&a, buf), "192.0.2.7");
	a = ip("2001:DB8::1");
	assert_false(ts_ip_is_v4(&a));
	assert_string_equal(text(&a, buf), "2001:db8::1");
	assert_true(loopback("127.9.8.7"));
	assert_true(loopback("::1"));
	assert_false(loopback("::2"));
	assert_false(loopback("128.0.0.1"));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ts_ip_parse(bad[i], strlen(bad[i]), &a), TS_EINVAL);
	/* a NUL inside the length is refused, not cut short */
	assert_int_equal(ts_ip_parse("1.2.3.4\0garbage", 15, &a), TS_EINVAL);
	/* a buffer too small gets "" */
	a = ip("::1");
	ts_ip_format(&a, buf, 4);
	assert_string_equal(buf, "");
}

static void test_cidr_lists(void **state)
{
	struct ts_cidr_list l;
	struct ts_ip a;

	(void)state;
	assert_int_equal(ts_cidr_list_parse("10.0.0.0/8, 192.0.2.1,2001:db8::/32 ,::1", &l), TS_OK);
	assert_int_equal(l.n, 4);
	a = ip("10.200.3.4");
	assert_true(ts_cidr_list_contains(&l, &a));
	a = ip("11.0.0.1");
	assert_false(ts_cidr_list_contains(&l, &a));
	a = ip("192.0.2.1");
	assert_true(ts_cidr_list_contains(&l, &a));
	a = ip("192.0.2.2");
	assert_false(ts_cidr_list_contains(&l, &a));
	a = ip("2001:db8:ffff::9");
	assert_true(ts_cidr_list_contains(&l, &a));
	a = ip("2001:db9::1");
	assert_false(ts_cidr_list_contains(&l, &a));
	a = ip("::1");
	assert_true(ts_cidr_list_contains(&l, &a));
	/* an IPv4 range never matches IPv6 outside the mapped block */
	assert_int_equal(ts_cidr_list_parse("0.0.0.0/0", &l), TS_OK);
	a = ip("2001:db8::1");
	assert_false(ts_cidr_list_contains(&l, &a));
	a = ip("203.0.113.1");
	assert_true(ts_cidr_list_contains(&l, &a));
	/* odd prefix lengths */
	assert_int_equal(ts_cidr_list_parse("172.16.0.0/12", &l), TS_OK);
	a = ip("172.31.255.255");
	assert_true(ts_cidr_list_contains(&l, &a));
	a = ip("172.32.0.0");
	assert_false(ts_cidr_list_contains(&l, &a));
	/* empty */
	assert_int_equal(ts_cidr_list_parse(NULL, &l), TS_OK);
	assert_int_equal(l.n, 0);
	assert_int_equal(ts_cidr_list_parse("", &l), TS_OK);
	assert_int_equal(l.n, 0);
	assert_false(ts_cidr_list_contains(NULL, &a));
	/* malformed */
	assert_int_equal(ts_cidr_list_parse("10.0.0.0/33", &l), TS_EINVAL);
	assert_int_equal(ts_cidr_list_parse("10.1.2.3/8", &l), TS_EINVAL); /* host bits */
	assert_int_equal(ts_cidr_list_parse("::/129", &l), TS_EINVAL);
	assert_int_equal(ts_cidr_list_parse("10.0.0.0/", &l), TS_EINVAL);
	assert_int_equal(ts_cidr_list_parse("10.0.0.0/-1", &l), TS_EINVAL);
	assert_int_equal(ts_cidr_list_parse("10.0.0.0/0008", &l), TS_EINVAL);
	assert_int_equal(ts_cidr_list_parse("10.0.0.0/8,", &l), TS_EINVAL);
	assert_int_equal(ts_cidr_list_parse(",10.0.0.0/8", &l), TS_EINVAL);
	assert_int_equal(ts_cidr_list_parse("10.0.0.0/8,,::1", &l), TS_EINVAL);
	assert_int_equal(ts_cidr_list_parse("localhost", &l), TS_EINVAL);
}

static void test_cidr_list_cap(void **state)
{
	char buf[TS_HTTP_MAX_CIDRS * 16 + 32] = "";
	struct ts_cidr_list l;
	size_t i, n = 0;

	(void)state;
	for (i = 0; i <= TS_HTTP_MAX_CIDRS; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s10.0.%zu.0/24", i ? "," : "", i);
	assert_int_equal(ts_cidr_list_parse(buf, &l), TS_ETOOBIG);
}

/* The client address for a peer, trusted list and headers. */
static const char *client(const char *trusted, const char *peer, const char *xff,
			  const char *fwd, int want_rc, char *buf)
{
	struct ts_cidr_list l;
	struct ts_ip p = ip(peer), out;

	assert_int_equal(ts_cidr_list_parse(trusted, &l), TS_OK);
	assert_int_equal(ts_client_addr(&l, &p, xff, xff ? strlen(xff) : 0, fwd,
					fwd ? strlen(fwd) : 0, &out),
			 want_rc);
	return text(&out, buf);
}

static void test_forwarded_for(void **state)
{
	const char *tr = "127.0.0.1,10.0.0.0/8";
	char b[TS_IP_TEXT_CAP];

	(void)state;
	/* An untrusted peer: the headers change nothing. */
	assert_string_equal(client(tr, "203.0.113.5", "198.51.100.1", NULL, TS_OK, b), "203.0.113.5");
	assert_string_equal(client("", "127.0.0.1", "198.51.100.1", NULL, TS_OK, b), "127.0.0.1");
	/* A trusted peer: the rightmost untrusted address. */
	assert_string_equal(client(tr, "127.0.0.1", "198.51.100.1", NULL, TS_OK, b), "198.51.100.1");
	assert_string_equal(client(tr, "127.0.0.1", "6.6.6.6, 198.51.100.1, 10.1.1.1", NULL, TS_OK, b),
			    "198.51.100.1");
	/* Spoofed entries to the left of the first untrusted hop are ignored. */
	assert_string_equal(client(tr, "127.0.0.1", "10.9.9.9, 198.51.100.1", NULL, TS_OK, b),
			    "198.51.100.1");
	/* Every hop trusted: the leftmost. */
	assert_string_equal(client(tr, "127.0.0.1", "10.2.2.2,10.1.1.1", NULL, TS_OK, b), "10.2.2.2");
	/* No header: the peer. */
	assert_string_equal(client(tr, "127.0.0.1", NULL, NULL, TS_OK, b), "127.0.0.1");
	/* IPv6, bracketed with a port, IPv4 with a port. */
	assert_string_equal(client(tr, "127.0.0.1", "2001:db8::7", NULL, TS_OK, b), "2001:db8::7");
	assert_string_equal(client(tr, "127.0.0.1", "[2001:db8::7]:4711", NULL, TS_OK, b),
			    "2001:db8::7");
	assert_string_equal(client(tr, "127.0.0.1", "198.51.100.1:80", NULL, TS_OK, b),
			    "198.51.100.1");
	/* Garbage from a trusted proxy: the last address vouched for. */
	assert_string_equal(client(tr, "127.0.0.1", "unknown", NULL, TS_EINVAL, b), "127.0.0.1");
	assert_string_equal(client(tr, "127.0.0.1", "198.51.100.1, garbage, 10.1.1.1", NULL,
				   TS_EINVAL, b),
			    "10.1.1.1");
	assert_string_equal(client(tr, "127.0.0.1", "", NULL, TS_OK, b), "127.0.0.1");
	assert_string_equal(client(tr, "127.0.0.1", "198.51.100.1,", NULL, TS_EINVAL, b), "127.0.0.1");
	assert_string_equal(client(tr, "127.0.0.1", "[::1", NULL, TS_EINVAL, b), "127.0.0.1");
	assert_string_equal(client(tr, "127.0.0.1", "[1.2.3.4]", NULL, TS_EINVAL, b), "127.0.0.1");
	assert_string_equal(client(tr, "127.0.0.1", "1.2.3.4:123456", NULL, TS_EINVAL, b),
			    "127.0.0.1");
}

static void test_forwarded_rfc7239(void **state)
{
	const char *tr = "127.0.0.1,10.0.0.0/8";
	char b[TS_IP_TEXT_CAP];

	(void)state;
	assert_string_equal(client(tr, "127.0.0.1", NULL, "for=198.51.100.1", TS_OK, b),
			    "198.51.100.1");
	assert_string_equal(client(tr, "127.0.0.1", NULL,
				   "for=192.0.2.60;proto=http;by=203.0.113.43", TS_OK, b),
			    "192.0.2.60");
	assert_string_equal(client(tr, "127.0.0.1", NULL,
				   "For=\"[2001:db8:cafe::17]:4711\", for=10.3.3.3", TS_OK, b),
			    "2001:db8:cafe::17");
	assert_string_equal(client(tr, "127.0.0.1", NULL, "for=\"198.51.100.1:80\"", TS_OK, b),
			    "198.51.100.1");
	/* A quoted comma does not split elements. */
	assert_string_equal(client(tr, "127.0.0.1", NULL,
				   "for=6.6.6.6;x=\"a,b\", for=198.51.100.2", TS_OK, b),
			    "198.51.100.2");
	/* Obfuscated or unknown nodes, no for=, a repeated for=, bad syntax. */
	assert_string_equal(client(tr, "127.0.0.1", NULL, "for=unknown", TS_EINVAL, b), "127.0.0.1");
	assert_string_equal(client(tr, "127.0.0.1", NULL, "for=_hidden", TS_EINVAL, b), "127.0.0.1");
	assert_string_equal(client(tr, "127.0.0.1", NULL, "proto=https", TS_EINVAL, b), "127.0.0.1");
	assert_string_equal(client(tr, "127.0.0.1", NULL, "for=1.2.3.4;for=5.6.7.8", TS_EINVAL, b),
			    "127.0.0.1");
	assert_string_equal(client(tr, "127.0.0.1", NULL, "for=\"1.2.3.4", TS_EINVAL, b),
			    "127.0.0.1");
	assert_string_equal(client(tr, "127.0.0.1", NULL, "for=\"1.2.\\3.4\"", TS_EINVAL, b),
			    "127.0.0.1");
	assert_string_equal(client(tr, "127.0.0.1", NULL, "for", TS_EINVAL, b), "127.0.0.1");
	/* X-Forwarded-For wins when both are present. */
	assert_string_equal(client(tr, "127.0.0.1", "198.51.100.9", "for=6.6.6.6", TS_OK, b),
			    "198.51.100.9");
}

static void test_forwarded_limits(void **state)
{
	char hdr[TS_HTTP_MAX_FORWARDED + 64];
	char b[TS_IP_TEXT_CAP];
	size_t n = 0;
	int i;

	(void)state;
	/* More hops than allowed, all trusted: stops at the cap. */
	for (i = 0; i < TS_HTTP_MAX_HOPS + 2; i++)
		n += (size_t)snprintf(hdr + n, sizeof(hdr) - n, "%s10.0.0.%d", i ? "," : "", i + 1);
	assert_string_equal(client("10.0.0.0/8,127.0.0.1", "127.0.0.1", hdr, NULL, TS_ETOOBIG, b),
			    "10.0.0.3");
	/* A header longer than the cap is not read. */
	memset(hdr, '1', sizeof(hdr) - 1);
	hdr[sizeof(hdr) - 1] = '\0';
	assert_string_equal(client("127.0.0.1", "127.0.0.1", hdr, NULL, TS_ETOOBIG, b), "127.0.0.1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ip_parse_and_format),
		cmocka_unit_test(test_cidr_lists),
		cmocka_unit_test(test_cidr_list_cap),
		cmocka_unit_test(test_forwarded_for),
		cmocka_unit_test(test_forwarded_rfc7239),
		cmocka_unit_test(test_forwarded_limits),
	};
	return cmocka_run_group_tests_name("client_addr", tests, NULL, NULL);
}
