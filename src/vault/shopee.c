/* shopee.c: Shopee Open Platform v2 as pure functions (no I/O): the HMAC-SHA256
 * request signature, the authorization link, the token and refresh requests,
 * the parsing of their responses, and the check of a configured base URL.
 * Hosts and paths are in shopee.h; docs/VAULT.md describes them. */
#include "vault/shopee.h"

#include "http/http.h"
#include "wire/ascii.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * What we confirmed in Shopee's public documentation, and where (read through
 * the `search` tool; the developer guide is a single-page app, so the text was
 * read in faithful quotations of it, cited here by Shopee's own page names):
 *
 * - Signature (developer guide 16 "API calls" and guide 20 "Authorization and
 *   Authentication", open.shopee.com/developer-guide/16 and /20): the base
 *   string is partner_id + api_path + timestamp (Public APIs), + access_token +
 *   shop_id (Shop APIs) or + access_token + merchant_id (Merchant APIs), with
 *   no separators and the path without host; sign = HMAC-SHA256 keyed with the
 *   partner key, "hexadecimal all-lowercase". Guide 16's worked shop example:
 *   "2001887/api/v2/shop/get_shop_info165571443159777174636562737266615546704c6d14701711".
 *   The token APIs are Public (no access_token/shop_id in the base string).
 * - Every request must be made within 5 minutes of its timestamp (Unix
 *   seconds); the authorization link expires with it (guides 16 and 20).
 * - Common parameters (partner_id, timestamp, sign, and access_token +
 *   shop_id|merchant_id) always travel in the query string; a POST carries its
 *   request parameters as a JSON body, Content-Type application/json (guide 16).
 * - Authorization link (guide 20 code samples; lianlianpay's Shopee v2 guide):
 *   GET {host}/api/v2/shop/auth_partner?partner_id&timestamp&sign&redirect,
 *   signed as a Public API over "/api/v2/shop/auth_partner". The redirect comes
 *   back with code and shop_id (shop account) or code and main_account_id
 *   (main account); code is "valid for only once and expires after 10 minutes".
 * - Token (v2.public.get_access_token): POST /api/v2/auth/token/get, body
 *   {code, partner_id, shop_id | main_account_id}, ids as int64 (partner_id is
 *   in both query and body; guide 20 sample body
 *   {"shop_id":54804,"code":"...","partner_id":1000016}). Response: access_token,
 *   refresh_token, expire_in, request_id, error, message, and for a main
 *   account merchant_id_list and shop_id_list (int64 arrays).
 * - Refresh (v2.public.refresh_access_token): POST /api/v2/auth/access_token/get,
 *   body {refresh_token, partner_id, shop_id | merchant_id}; the response
 *   repeats partner_id and shop_id|merchant_id and carries a NEW refresh_token:
 *   "Refresh_token can be used once only ... Please use the new refresh_token
 *   for the next RefreshAccessToken call". access_token lives 4 hours
 *   (expire_in 14400 in the samples), refresh_token 30 days.
 * - Errors are data: a non-empty "error" with "message" and "request_id"
 *   (common table: error_sign "Wrong sign.", error_param "Invalid timestamp",
 *   "There is no sign in query.", error_auth "Invalid access_token."). Refused
 *   refresh tokens: error_auth "Invalid refresh_token." (the API's error
 *   example), error_shop_refresh_token, error_merchant_refresh_token,
 *   refresh_token_expired, shop_access_expired, merchant_access_expired,
 *   shop_no_linked, merchant_no_linked, shop_banned; refused codes:
 *   invalid_code ("The code is expired or used or invalid"), invalid_shop_id,
 *   invalid_main_acount_id (sic). Expired access tokens are answered in the
 *   wild with "invalid_acceess_token" (sic), which SDKs match literally.
 * Not settled by the documentation: one reference sample shows expire_in as an
 * absolute timestamp while every guide sample is a duration; we read seconds.
 */

#define PARTNER_KEY_MAX 1024 /* bytes of a partner key (they are 64 in practice) */
#define TOKEN_MAX 1024       /* bytes of a code, access or refresh token */
#define PATH_MAX_LEN 512     /* bytes of an API path */
#define REDIRECT_MAX 2048    /* bytes of a redirect URL before encoding */
#define BASE_URL_MAX 2048    /* bytes of a configured base URL */
#define URL_MAX 8192         /* bytes of a built URL */
#define BASE_STRING_MAX 4096 /* bytes of a signature base string */
#define RESP_MAX 65536       /* bytes of a token response */
#define ID_LIST_MAX 10000    /* entries of shop_id_list / merchant_id_list */
#define ID_DIGITS_MAX 19     /* INT64_MAX has 19 digits */
#define DEC_BUF 24           /* an int64 in decimal, with sign and NUL */
#define HOSTNAME_MAX 253
#define PORT_MAX 65535

#define P_PARTNER_ID "partner_id"
#define P_TIMESTAMP "timestamp"
#define P_SIGN "sign"
#define P_REDIRECT "redirect"
#define P_CODE "code"
#define P_SHOP_ID "shop_id"
#define P_MAIN_ACCOUNT_ID "main_account_id"
#define P_MERCHANT_ID "merchant_id"
#define P_ACCESS_TOKEN "access_token"
#define P_REFRESH_TOKEN "refresh_token"
#define P_EXPIRE_IN "expire_in"
#define P_SHOP_ID_LIST "shop_id_list"
#define P_MERCHANT_ID_LIST "merchant_id_list"
#define P_ERROR "error"
#define P_MESSAGE "message"

/* Error codes that mean Shopee refused the code or the refresh token (or the
 * authorization behind it): only the seller can fix that by authorizing
 * again, so the caller marks the connection needs_reauth. */
static const char *const refused_codes[] = {
	"error_auth",                  /* "Invalid refresh_token." */
	"error_shop_refresh_token",    /* spent or wrong refresh token (shop) */
	"error_merchant_refresh_token",
	"error_supplier_refresh_token",
	"refresh_token_expired",       /* 30 days passed */
	"shop_access_expired",         /* the authorization itself lapsed */
	"merchant_access_expired",
	"supplier_access_expired",
	"shop_no_linked",
	"merchant_no_linked",
	"supplier_no_linked",
	"partner_shop_no_link",
	"shop_banned",
	"invalid_code",                /* "The code is expired or used or invalid" */
	"invalid_shop_id",
	"invalid_main_acount_id",      /* sic, as Shopee spells it */
	"invalid_main_account_id",
	"invalid_acceess_token",       /* sic, as Shopee spells it */
	"invalid_access_token",
};

/* ---- small helpers ---- */

/* A strictly decimal, positive int64: digits only, no sign, no leading zero,
 * no overflow. */
static bool parse_id(const char *s, int64_t *out)
{
	int64_t v = 0;
	size_t i, n;

	if (s == NULL)
		return false;
	n = strlen(s);
	if (n == 0 || n > ID_DIGITS_MAX || s[0] == '0')
		return false;
	for (i = 0; i < n; i++) {
		int d;
		if (!ts_is_digit((unsigned char)s[i]))
			return false;
		d = s[i] - '0';
		if (v > (INT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* A code, token or key we are willing to put into a base string or body:
 * 1..max bytes of visible ASCII (no space, no control, no 8-bit). */
static bool token_ok(const char *s, size_t max)
{
	size_t i, n;

	if (s == NULL)
		return false;
	n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (i = 0; i < n; i++)
		if (!ts_is_vchar((unsigned char)s[i]))
			return false;
	return true;
}

/* An API path: "/" then visible ASCII without '?', '#', '%' or '\\', and
 * no empty, "." or ".." segment (a path that a server would rewrite before
 * routing could reach another API than the one signed for). */
static bool path_ok(const char *p)
{
	size_t i, n, seg = 0;

	if (p == NULL || p[0] != '/')
		return false;
	n = strlen(p);
	if (n > PATH_MAX_LEN)
		return false;
	for (i = 1; i <= n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '/' || c == '\0') {
			size_t len = i - seg - 1;
			if ((len == 0 && c == '/') || (len == 1 && p[seg + 1] == '.') ||
			    (len == 2 && p[seg + 1] == '.' && p[seg + 2] == '.'))
				return false;
			seg = i;
			continue;
		}
		if (!ts_is_vchar(c) || c == '?' || c == '#' || c == '%' || c == '\\')
			return false;
	}
	return true;
}

static bool lower_eq(const char *a, size_t alen, const char *lit)
{
	size_t i;

	if (alen != strlen(lit))
		return false;
	for (i = 0; i < alen; i++) {
		if ((char)ts_to_lower((unsigned char)a[i]) != lit[i])
			return false;
	}
	return true;
}

/* Case-insensitive search of an ASCII needle in s. */
static bool ci_contains(const char *s, const char *needle)
{
	size_t n = strlen(needle), i;

	for (; s && *s; s++) {
		for (i = 0; i < n && s[i]; i++) {
			if ((char)ts_to_lower((unsigned char)s[i]) != needle[i])
				break;
		}
		if (i == n)
			return true;
	}
	return false;
}

/* ---- base URL ---- */

/* 1*3DIGIT "." x4, each 0..255 without leading zeros: exactly a dotted quad,
 * so "127.0.0.1.evil.com" is not one. On success *first is the first octet. */
static bool ipv4_strict(const char *h, size_t n, int *first)
{
	size_t i = 0;
	int part;

	for (part = 0; part < 4; part++) {
		size_t start = i;
		int v = 0;

		if (part > 0) {
			if (i >= n || h[i] != '.')
				return false;
			start = ++i;
		}
		while (i < n && ts_is_digit((unsigned char)h[i]) && i - start < 3)
			v = v * 10 + (h[i++] - '0');
		if (i == start || v > 255 || (h[start] == '0' && i - start > 1))
			return false;
		if (part == 0)
			*first = v;
	}
	return i == n;
}

/* RFC 1123 host name: dot-separated labels of letters, digits and '-', none
 * empty, none starting or ending with '-'. */
static bool hostname_ok(const char *h, size_t n)
{
	size_t i, label = 0;

	if (n == 0 || n > HOSTNAME_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = h[i];
		if (c == '.') {
			if (label == 0 || h[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!(ts_is_alnum((unsigned char)c) || c == '-'))
			return false;
		if (c == '-' && label == 0)
			return false;
		label++;
	}
	return label > 0 && h[n - 1] != '-';
}

/* ":" 1*5DIGIT with a value in 1..65535, or nothing. */
static bool port_ok(const char *p, size_t n)
{
	size_t i;
	long v = 0;

	if (n == 0)
		return true;
	if (p[0] != ':' || n < 2 || n > 6)
		return false;
	for (i = 1; i < n; i++) {
		if (!ts_is_digit((unsigned char)p[i]))
			return false;
		v = v * 10 + (p[i] - '0');
	}
	return v >= 1 && v <= PORT_MAX;
}

bool ts_shopee_base_url_ok(const char *base_url)
{
	const char *auth, *end, *hend;
	char v6[64];
	unsigned char addr[16];
	size_t i, n;
	bool https;
	int first = -1;

	if (base_url == NULL)
		return false;
	n = strlen(base_url);
	if (n > BASE_URL_MAX)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)base_url[i];
		/* No whitespace, controls, 8-bit bytes, escapes or backslashes: each
		 * is a way to make two URL parsers disagree about the host. */
		if (!ts_is_vchar(c) || c == '%' || c == '\\')
			return false;
	}
	if (n > 8 && lower_eq(base_url, 8, "https://")) {
		https = true;
		auth = base_url + 8;
	} else if (n > 7 && lower_eq(base_url, 7, "http://")) {
		https = false;
		auth = base_url + 7;
	} else {
		return false;
	}
	end = auth + strcspn(auth, "/?#");
	/* Only scheme://authority, optionally followed by one "/": Shopee signs the
	 * API path without host, so a path prefix could never be signed right. */
	if (!(*end == '\0' || (end[0] == '/' && end[1] == '\0')))
		return false;
	if (memchr(auth, '@', (size_t)(end - auth)))
		return false; /* userinfo: http://127.0.0.1@evil.com is evil.com */
	if (auth[0] == '[') {
		const char *rb = memchr(auth, ']', (size_t)(end - auth));
		size_t hl;
		if (rb == NULL)
			return false;
		hl = (size_t)(rb - auth - 1);
		if (hl == 0 || hl >= sizeof(v6))
			return false;
		memcpy(v6, auth + 1, hl);
		v6[hl] = '\0';
		if (inet_pton(AF_INET6, v6, addr) != 1)
			return false;
		if (!port_ok(rb + 1, (size_t)(end - rb - 1)))
			return false;
		if (https)
			return true;
		/* ::1 only (not v4-mapped forms: keep plain http to the obvious cases). */
		for (i = 0; i < 15; i++)
			if (addr[i] != 0)
				return false;
		return addr[15] == 1;
	}
	hend = memchr(auth, ':', (size_t)(end - auth));
	if (hend == NULL)
		hend = end;
	if (!port_ok(hend, (size_t)(end - hend)))
		return false;
	if (ipv4_strict(auth, (size_t)(hend - auth), &first))
		return https || first == 127; /* 127.0.0.0/8 */
	if (!hostname_ok(auth, (size_t)(hend - auth)))
		return false;
	return https || lower_eq(auth, (size_t)(hend - auth), "localhost");
}

/* Appends base_url without its trailing "/" (already checked by
 * ts_shopee_base_url_ok). */
static int append_base(struct ts_buf *b, const char *base_url)
{
	size_t n = strlen(base_url);

	if (n > 0 && base_url[n - 1] == '/')
		n--;
	return ts_buf_append(b, base_url, n);
}

/* ---- signature ---- */

int ts_shopee_sign(const char *partner_key, int64_t partner_id, const char *api_path,
		   int64_t timestamp, enum ts_shopee_scope scope, const char *access_token,
		   const char *id, char out[TS_SHOPEE_SIGN_LEN + 1])
{
	struct ts_buf base;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	int64_t idv;
	int rc;

	out[0] = '\0';
	ts_buf_init(&base, BASE_STRING_MAX);
	if (!token_ok(partner_key, PARTNER_KEY_MAX) || partner_id <= 0 || timestamp <= 0 ||
	    !path_ok(api_path)) {
		rc = TS_EINVAL;
		goto out;
	}
	if (scope != TS_SHOPEE_PUBLIC && scope != TS_SHOPEE_SHOP && scope != TS_SHOPEE_MERCHANT) {
		rc = TS_EINVAL;
		goto out;
	}
	if (scope != TS_SHOPEE_PUBLIC && (!token_ok(access_token, TOKEN_MAX) || !parse_id(id, &idv))) {
		rc = TS_EINVAL;
		goto out;
	}
	/* Guide 16: partner_id + api_path + timestamp [+ access_token + shop_id |
	 * merchant_id], concatenated without separators. */
	rc = ts_buf_appendf(&base, "%" PRId64 "%s%" PRId64, partner_id, api_path, timestamp);
	if (rc == TS_OK && scope != TS_SHOPEE_PUBLIC)
		rc = ts_buf_appendf(&base, "%s%s", access_token, id);
	if (rc != TS_OK)
		goto out;
	if (HMAC(EVP_sha256(), partner_key, (int)strlen(partner_key), (const unsigned char *)base.p,
		 base.len, mac, &maclen) == NULL ||
	    maclen != TS_SHOPEE_SIGN_LEN / 2) {
		ts_log_openssl("HMAC-SHA256");
		rc = TS_ECRYPTO;
		goto out;
	}
	/* Guide 20: "hexadecimal all-lowercase". */
	ts_hex_encode(mac, maclen, out);
out:
	OPENSSL_cleanse(mac, sizeof(mac));
	ts_buf_clear_secret(&base); /* it holds the access token */
	return rc;
}

/* Appends "?partner_id=..&timestamp=..&sign=.." for a Public API. */
static int append_public_query(struct ts_buf *b, int64_t partner_id, const char *partner_key,
			       const char *api_path, int64_t timestamp)
{
	char sign[TS_SHOPEE_SIGN_LEN + 1];
	int rc;

	rc = ts_shopee_sign(partner_key, partner_id, api_path, timestamp, TS_SHOPEE_PUBLIC, NULL,
			    NULL, sign);
	if (rc != TS_OK)
		return rc;
	return ts_buf_appendf(b, "?" P_PARTNER_ID "=%" PRId64 "&" P_TIMESTAMP "=%" PRId64
				 "&" P_SIGN "=%s",
			      partner_id, timestamp, sign);
}

/* ---- authorization link ---- */

int ts_shopee_auth_url(const char *base_url, int64_t partner_id, const char *partner_key,
		       const char *redirect, int64_t timestamp, struct ts_buf *out)
{
	int rc;

	if (!ts_shopee_base_url_ok(base_url) || redirect == NULL || redirect[0] == '\0' ||
	    strlen(redirect) > REDIRECT_MAX)
		return TS_EINVAL;
	rc = append_base(out, base_url);
	if (rc == TS_OK)
		rc = ts_buf_appends(out, TS_SHOPEE_PATH_AUTH);
	if (rc == TS_OK)
		rc = append_public_query(out, partner_id, partner_key, TS_SHOPEE_PATH_AUTH, timestamp);
	/* The redirect is a whole URL inside a query value: percent-encode it, so
	 * that Tessera's own "?state=..&.." stays inside it. */
	if (rc == TS_OK)
		rc = ts_buf_appends(out, "&" P_REDIRECT "=");
	if (rc == TS_OK)
		rc = ts_buf_append_urlencoded(out, redirect);
	return rc;
}

/* ---- token and refresh requests ---- */

void ts_shopee_request_clear(struct ts_shopee_request *r)
{
	const char *k;
	json_t *v;

	if (r == NULL)
		return;
	free(r->url);
	if (r->body) {
		/* The body carries a code or refresh token: wipe jansson's copies
		 * before they go back to the allocator. */
		json_object_foreach(r->body, k, v) {
			if (json_is_string(v))
				OPENSSL_cleanse((char *)json_string_value(v), json_string_length(v));
		}
		json_decref(r->body);
	}
	r->url = NULL;
	r->body = NULL;
}

/* Builds {secret_name: secret, partner_id, id_name: id} and the signed URL of
 * api_path. Exactly one of id_a / id_b (named name_a / name_b) is given. */
static int build_request(const char *base_url, int64_t partner_id, const char *partner_key,
			 const char *api_path, const char *secret_name, const char *secret,
			 const char *name_a, const char *id_a, const char *name_b,
			 const char *id_b, int64_t timestamp, struct ts_shopee_request *out)
{
	struct ts_buf url;
	json_t *body = NULL;
	const char *id_name, *id;
	int64_t idv;
	int rc;

	out->url = NULL;
	out->body = NULL;
	ts_buf_init(&url, URL_MAX);
	if ((id_a == NULL) == (id_b == NULL)) {
		rc = TS_EINVAL; /* exactly one identity */
		goto out;
	}
	id_name = id_a ? name_a : name_b;
	id = id_a ? id_a : id_b;
	if (!ts_shopee_base_url_ok(base_url) || !token_ok(secret, TOKEN_MAX) ||
	    !parse_id(id, &idv) || partner_id <= 0) {
		rc = TS_EINVAL;
		goto out;
	}
	rc = append_base(&url, base_url);
	if (rc == TS_OK)
		rc = ts_buf_appends(&url, api_path);
	if (rc == TS_OK)
		rc = append_public_query(&url, partner_id, partner_key, api_path, timestamp);
	if (rc != TS_OK)
		goto out;
	/* Ids are int64 in Shopee's request tables; partner_id goes in the body
	 * too, not only in the query (guide 20). */
	body = json_object();
	if (body == NULL || json_object_set_new(body, secret_name, json_string(secret)) != 0 ||
	    json_object_set_new(body, P_PARTNER_ID, json_integer(partner_id)) != 0 ||
	    json_object_set_new(body, id_name, json_integer(idv)) != 0) {
		rc = TS_ENOMEM;
		goto out;
	}
	out->url = ts_buf_take(&url);
	out->body = body;
	body = NULL;
out:
	json_decref(body);
	ts_buf_clear(&url);
	return rc;
}

int ts_shopee_token_request(const char *base_url, int64_t partner_id, const char *partner_key,
			    const char *code, const char *shop_id, const char *main_account_id,
			    int64_t timestamp, struct ts_shopee_request *out)
{
	return build_request(base_url, partner_id, partner_key, TS_SHOPEE_PATH_TOKEN, P_CODE, code,
			     P_SHOP_ID, shop_id, P_MAIN_ACCOUNT_ID, main_account_id, timestamp,
			     out);
}

int ts_shopee_refresh_request(const char *base_url, int64_t partner_id, const char *partner_key,
			      const char *refresh_token, const char *shop_id,
			      const char *merchant_id, int64_t timestamp,
			      struct ts_shopee_request *out)
{
	return build_request(base_url, partner_id, partner_key, TS_SHOPEE_PATH_REFRESH,
			     P_REFRESH_TOKEN, refresh_token, P_SHOP_ID, shop_id, P_MERCHANT_ID,
			     merchant_id, timestamp, out);
}

/* ---- responses ---- */

void ts_shopee_tokens_clear(struct ts_shopee_tokens *t)
{
	if (t == NULL)
		return;
	ts_free_secret(t->access_token);
	ts_free_secret(t->refresh_token);
	json_decref(t->shop_ids);
	json_decref(t->merchant_ids);
	memset(t, 0, sizeof(*t));
}

/* Copies "<what>" or "<what>: <detail>" into errmsg, with every byte outside
 * visible ASCII replaced by '?', since it is provider text bound for logs. */
static void set_errmsg(char *errmsg, size_t cap, const char *what, const char *detail)
{
	size_t o = 0;
	const char *parts[3] = {what, detail && *detail ? ": " : NULL, detail};
	size_t k;

	if (errmsg == NULL || cap == 0)
		return;
	for (k = 0; k < TS_ARRAY_LEN(parts); k++) {
		const char *s = parts[k];
		for (; s && *s && o + 1 < cap; s++)
			errmsg[o++] = ts_is_print((unsigned char)*s) ? *s : '?';
	}
	errmsg[o] = '\0';
}

static bool refused(const char *error, const char *message)
{
	size_t i;

	for (i = 0; i < TS_ARRAY_LEN(refused_codes); i++)
		if (strcmp(error, refused_codes[i]) == 0)
			return true;
	/* error_param mostly means a request we built wrong or a clock off by
	 * more than 5 minutes ("Invalid timestamp", "Wrong sign."'s cousins):
	 * authorizing again cannot fix those. Only when the message blames the
	 * code or refresh token is it a refusal. */
	return strcmp(error, "error_param") == 0 && message != NULL &&
	       (ci_contains(message, "refresh_token") || ci_contains(message, "refresh token") ||
		ci_contains(message, "code"));
}

/* shop_id_list / merchant_id_list: an array of positive int64 (or strict
 * decimal strings) becomes a new array of decimal strings in *out. Absent or
 * null leaves *out NULL. */
static int id_list(json_t *root, const char *name, json_t **out)
{
	json_t *in = json_object_get(root, name), *arr = NULL, *v;
	size_t i;
	int rc = TS_EIO;

	*out = NULL;
	if (in == NULL || json_is_null(in))
		return TS_OK;
	if (!json_is_array(in) || json_array_size(in) > ID_LIST_MAX)
		return TS_EIO;
	arr = json_array();
	if (arr == NULL)
		return TS_ENOMEM;
	json_array_foreach(in, i, v) {
		char dec[DEC_BUF];
		int64_t id;

		if (json_is_integer(v) && json_integer_value(v) > 0) {
			snprintf(dec, sizeof(dec), "%" PRId64, (int64_t)json_integer_value(v));
		} else if (json_is_string(v) && parse_id(json_string_value(v), &id)) {
			snprintf(dec, sizeof(dec), "%" PRId64, id);
		} else {
			goto out;
		}
		if (json_array_append_new(arr, json_string(dec)) != 0) {
			rc = TS_ENOMEM;
			goto out;
		}
	}
	*out = arr;
	arr = NULL;
	rc = TS_OK;
out:
	json_decref(arr);
	return rc;
}

int ts_shopee_parse_tokens(const char *body, size_t len, struct ts_shopee_tokens *out,
			   char *errmsg, size_t cap)
{
	json_t *root = NULL, *v;
	json_error_t jerr;
	const char *at, *rt, *error = NULL, *message = NULL;
	int rc = TS_EIO;

	memset(out, 0, sizeof(*out));
	set_errmsg(errmsg, cap, "", NULL);
	if (body == NULL)
		return TS_EINVAL;
	if (len > RESP_MAX) {
		set_errmsg(errmsg, cap, "response too large", NULL);
		return TS_ETOOBIG;
	}
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(root)) {
		set_errmsg(errmsg, cap, "response is not a JSON object", NULL);
		goto out;
	}
	v = json_object_get(root, P_ERROR);
	if (v != NULL && !json_is_string(v) && !json_is_null(v)) {
		set_errmsg(errmsg, cap, "response has a non-string error", NULL);
		goto out;
	}
	error = json_string_value(v);
	message = json_string_value(json_object_get(root, P_MESSAGE));
	if (error != NULL && error[0] != '\0') {
		/* Shopee answers errors as data: {error, message, request_id}. */
		set_errmsg(errmsg, cap, error, message);
		rc = refused(error, message) ? TS_EDENIED : TS_EIO;
		goto out;
	}
	at = json_string_value(json_object_get(root, P_ACCESS_TOKEN));
	rt = json_string_value(json_object_get(root, P_REFRESH_TOKEN));
	v = json_object_get(root, P_EXPIRE_IN);
	if (!token_ok(at, TOKEN_MAX) || !token_ok(rt, TOKEN_MAX)) {
		set_errmsg(errmsg, cap, "response lacks a well-formed access_token and refresh_token",
			   NULL);
		goto out;
	}
	if (!json_is_integer(v) || json_integer_value(v) <= 0) {
		set_errmsg(errmsg, cap, "response lacks a positive integer expire_in", NULL);
		goto out;
	}
	rc = id_list(root, P_SHOP_ID_LIST, &out->shop_ids);
	if (rc == TS_OK)
		rc = id_list(root, P_MERCHANT_ID_LIST, &out->merchant_ids);
	if (rc != TS_OK) {
		set_errmsg(errmsg, cap, "response has a malformed id list", NULL);
		goto out;
	}
	out->access_token = ts_xstrdup(at);
	out->refresh_token = ts_xstrdup(rt);
	out->expire_in = (int64_t)json_integer_value(v);
out:
	if (rc != TS_OK)
		ts_shopee_tokens_clear(out);
	if (root) {
		/* Wipe the tokens jansson copied out of the body. */
		const char *k;
		json_object_foreach(root, k, v) {
			if (json_is_string(v))
				OPENSSL_cleanse((char *)json_string_value(v), json_string_length(v));
		}
	}
	json_decref(root);
	return rc;
}

/* ---- /api/connections/{id}/sign ---- */

json_t *ts_shopee_common_params(int64_t partner_id, const char *partner_key,
				const char *api_path, int64_t timestamp,
				enum ts_shopee_scope scope, const char *access_token,
				const char *id)
{
	char sign[TS_SHOPEE_SIGN_LEN + 1];
	json_t *o = NULL;
	int64_t idv = 0;

	if (ts_shopee_sign(partner_key, partner_id, api_path, timestamp, scope, access_token, id,
			   sign) != TS_OK)
		return NULL;
	if (scope != TS_SHOPEE_PUBLIC && !parse_id(id, &idv))
		return NULL; /* unreachable: ts_shopee_sign checked it */
	o = json_pack("{s:I, s:I, s:s}", P_PARTNER_ID, (json_int_t)partner_id, P_TIMESTAMP,
		      (json_int_t)timestamp, P_SIGN, sign);
	if (o == NULL)
		return NULL;
	if (scope != TS_SHOPEE_PUBLIC &&
	    (json_object_set_new(o, P_ACCESS_TOKEN, json_string(access_token)) != 0 ||
	     json_object_set_new(o, scope == TS_SHOPEE_SHOP ? P_SHOP_ID : P_MERCHANT_ID,
				 json_integer(idv)) != 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}
