/* audience.c: the aud of a JWT's payload (audience.h). */
#include "audience.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define PAYLOAD_MAX 8192

/* base64url (RFC 4648 §5, unpadded) of len bytes into a new NUL-ended
 * buffer; NULL when it is not base64url or too long. */
static char *b64url_decode(const char *p, size_t len, size_t *outlen)
{
	char std[PAYLOAD_MAX + 4];
	unsigned char *out;
	size_t i, n;
	int dec;

	if (len == 0 || len > PAYLOAD_MAX || len % 4 == 1)
		return NULL;
	for (i = 0; i < len; i++) {
		char c = p[i];
		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
		else if (c == '+' || c == '/' || c == '=')
			return NULL;
		std[i] = c;
	}
	for (n = len; n % 4 != 0; n++)
		std[n] = '=';
	out = malloc(n / 4 * 3 + 1);
	if (out == NULL)
		return NULL;
	dec = EVP_DecodeBlock(out, (const unsigned char *)std, (int)n);
	if (dec < 0) {
		free(out);
		return NULL;
	}
	/* EVP_DecodeBlock counts the padding's zero bytes too. */
	*outlen = (size_t)dec - (n - len);
	out[*outlen] = '\0';
	return (char *)out;
}

int ta_audience_of_token(const char *token, char **out)
{
	const char *dot1, *dot2;
	const json_t *aud;
	json_t *claims;
	char *payload;
	size_t n = 0;

	*out = NULL;
	dot1 = token ? strchr(token, '.') : NULL;
	dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	if (dot2 == NULL)
		return TA_EINVAL;
	payload = b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), &n);
	if (payload == NULL)
		return TA_EINVAL;
	claims = json_loadb(payload, n, 0, NULL);
	free(payload);
	aud = json_object_get(claims, "aud");
	if (json_is_array(aud))
		aud = json_array_get(aud, 0);
	if (json_is_string(aud) && json_string_length(aud) > 0)
		*out = strdup(json_string_value(aud));
	json_decref(claims);
	return *out != NULL ? TA_OK : TA_EINVAL;
}
