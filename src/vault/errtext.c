/* errtext.c: what the vault keeps of a provider's error answer. A
 * provider's error text is outside text that may echo the request it
 * answers (a client secret, a code, a refresh token), so it never reaches
 * an API caller, and what logs, last_error and audit events keep of it is
 * bounded and scrubbed: the error code, then the description with every
 * secret of the request replaced, every long run of token characters that
 * holds a digit replaced too (a secret echoed in another encoding), and
 * every byte outside printable ASCII turned into '?'. */
#include "vault_int.h"

#include "wire/ascii.h"

#include <stdio.h>
#include <string.h>

#define CODE_MAX 64        /* bytes of a provider's error code kept */
#define DESC_MAX 120       /* bytes of a provider's description kept */
#define SECRET_MIN 4       /* shorter values are not worth hiding (and would hide words) */
#define TOKEN_RUN_MIN 16   /* a run of token characters this long that holds a digit */
#define REDACTED "[redacted]"

static bool token_char(unsigned char c)
{
	return ts_is_b64token(c) || c == '=' || c == '%';
}

/* The length of the secret that starts at s, if any. */
static size_t secret_at(const char *s, const char *const *secrets, size_t n)
{
	size_t i, best = 0;

	for (i = 0; i < n; i++) {
		size_t l = secrets[i] ? strlen(secrets[i]) : 0;
		if (l >= SECRET_MIN && l > best && strncmp(s, secrets[i], l) == 0)
			best = l;
	}
	return best;
}

/* The length of a long run of token characters with a digit at s, or 0. */
static size_t token_run_at(const char *s)
{
	size_t n = 0;
	bool digit = false;

	while (token_char((unsigned char)s[n])) {
		digit = digit || ts_is_digit((unsigned char)s[n]);
		n++;
	}
	return n >= TOKEN_RUN_MIN && digit ? n : 0;
}

void ts_vault_scrub(const char *text, size_t max, const char *const *secrets, size_t nsecrets,
		    struct ts_buf *out)
{
	size_t kept = 0;
	const char *s = text;

	while (s && *s && kept < max) {
		size_t skip = secret_at(s, secrets, nsecrets);
		/* Only a run that starts a word: the middle of one is the same run. */
		if (skip == 0 && (s == text || !token_char((unsigned char)s[-1])))
			skip = token_run_at(s);
		if (skip) {
			ts_buf_appends(out, REDACTED);
			s += skip;
			kept += skip;
			continue;
		}
		ts_buf_append(out, ts_is_print((unsigned char)*s) ? s : "?", 1);
		s++;
		kept++;
	}
	if (s && *s)
		ts_buf_appends(out, "...");
}

void ts_vault_error_text(char *err, size_t cap, const char *who, const char *code,
			 const char *desc, long status, const char *const *secrets,
			 size_t nsecrets)
{
	struct ts_buf b;

	ts_buf_init(&b, 4 * TS_VAULT_ERR_MAX);
	ts_buf_appendf(&b, "%s answered ", who);
	if (code) {
		ts_vault_scrub(code, CODE_MAX, secrets, nsecrets, &b);
		ts_buf_appends(&b, " ");
	}
	ts_buf_appendf(&b, "(HTTP %ld)", status);
	if (desc && desc[0]) {
		ts_buf_appends(&b, ": ");
		ts_vault_scrub(desc, DESC_MAX, secrets, nsecrets, &b);
	}
	snprintf(err, cap, "%s", b.p ? b.p : "the provider answered with an error");
	ts_buf_clear(&b);
}
