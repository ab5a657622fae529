/* fuzz_forwarded.c: libFuzzer target for the client address behind trusted
 * proxies: X-Forwarded-For and RFC 7239 Forwarded values, and the CIDR
 * list of --trusted-proxies. The first byte picks the header (even:
 * X-Forwarded-For, odd: Forwarded); the rest is its value, never
 * NUL-terminated. Checks: a known return code, and a client address whose
 * text parses back to the same address. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char trusted[] = "127.0.0.0/8,10.0.0.0/8,::1,fd00::/8";
	struct ts_cidr_list l, fuzzed;
	struct ts_ip peer, out, back;
	char text[TS_IP_TEXT_CAP], *copy;
	const char *v;
	size_t n;
	int rc;

	if (size == 0)
		return 0;
	if (ts_cidr_list_parse(trusted, &l) != TS_OK ||
	    ts_ip_parse("127.0.0.1", 9, &peer) != TS_OK)
		abort();
	v = (const char *)data + 1;
	n = size - 1;
	/* The value as the server sees it: its own heap copy, exactly n bytes. */
	copy = malloc(n ? n : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, v, n);
	if (data[0] % 2 == 0)
		rc = ts_client_addr(&l, &peer, copy, n, NULL, 0, &out);
	else
		rc = ts_client_addr(&l, &peer, NULL, 0, copy, n, &out);
	if (rc != TS_OK && rc != TS_EINVAL && rc != TS_ETOOBIG)
		abort();
	ts_ip_format(&out, text, sizeof(text));
	if (ts_ip_parse(text, strlen(text), &back) != TS_OK || memcmp(back.b, out.b, 16) != 0)
		abort();
	/* The same bytes as a --trusted-proxies value (NUL-terminated). */
	free(copy);
	copy = malloc(n + 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, v, n);
	copy[n] = '\0';
	rc = ts_cidr_list_parse(copy, &fuzzed);
	if (rc != TS_OK && rc != TS_EINVAL && rc != TS_ETOOBIG)
		abort();
	if (rc == TS_OK && fuzzed.n > TS_HTTP_MAX_CIDRS)
		abort();
	free(copy);
	return 0;
}
