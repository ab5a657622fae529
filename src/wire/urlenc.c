/* urlenc.c: percent-encoding (RFC 3986 §2.1) of query and form values. */
#include "wire.h"

#define HEX_UPPER "0123456789ABCDEF"

int ts_wire_urlencode(struct ts_buf *b, const char *s)
{
	static const char hexd[] = HEX_UPPER;
	int rc = TS_OK;

	for (; *s && rc == TS_OK; s++) {
		unsigned char c = (unsigned char)*s;

		/* RFC 3986 §2.3: unreserved characters pass as they are. */
		if (ts_is_unreserved(c)) {
			rc = ts_buf_append(b, s, 1);
		} else {
			char esc[3] = {'%', hexd[c >> 4], hexd[c & 15]};
			rc = ts_buf_append(b, esc, sizeof(esc));
		}
	}
	return rc;
}
