/* libtessera_probe.c: a tiny resource server without HTTP, for
 * tests/e2e/test_libtessera.py. It uses only the public API
 * (<tessera/tessera.h>) of the shared library.
 *
 * stdin, first line:  ISSUER CLIENT_ID CLIENT_SECRET [audience=URL]
 *                     [leeway=S] [min_refresh=S] [cache=S] [scope=S]
 *   ("-" as CLIENT_ID: no introspection; scope is the token client's)
 * then one request per line:
 *   METHOD|AUTHORIZATION|COOKIE|CSRF[|SCOPE[|URI|DPOP[|ORIGIN|SEC_FETCH_SITE]]]
 *   (an empty field is absent; with any of the last four,
 *   tessera_verify_request) → one JSON line on stdout:
 *   {"ok":true,"auth":..,"is_user":..,"tenant":..,"sub":..,"username":..,
 *    "client_id":..,"scopes":[..],"roles":[..][,"has_scope":bool]}
 *   or {"ok":false,"rc":N,"status":N,"error":..,"description":..,
 *       "www_authenticate":..}
 * or "!token" → {"ok":true,"token":..} from the token client, or an error. */
#include <tessera/tessera.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELDS 9

static void json_str(const char *s)
{
	if (s == NULL) {
		fputs("null", stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void json_strv(char **v, size_t n)
{
	size_t i;

	putchar('[');
	for (i = 0; i < n; i++) {
		if (i)
			putchar(',');
		json_str(v[i]);
	}
	putchar(']');
}

static void print_error(int rc, const struct tessera_error *e)
{
	printf("{\"ok\":false,\"rc\":%d,\"status\":%d,\"error\":", rc, e->status);
	json_str(e->error);
	fputs(",\"description\":", stdout);
	json_str(e->description);
	fputs(",\"www_authenticate\":", stdout);
	json_str(e->www_authenticate);
	puts("}");
}

static void print_principal(tessera_verifier *v, const struct tessera_principal *p,
			    const char *scope)
{
	static const char *const auth[] = {"", "bearer", "api_key", "session", "dpop"};

	printf("{\"ok\":true,\"auth\":\"%s\",\"is_user\":%s,\"tenant\":", auth[p->auth],
	       p->is_user ? "true" : "false");
	json_str(p->tenant);
	fputs(",\"sub\":", stdout);
	json_str(p->sub);
	fputs(",\"username\":", stdout);
	json_str(p->username);
	fputs(",\"client_id\":", stdout);
	json_str(p->client_id);
	fputs(",\"scopes\":", stdout);
	json_strv(p->scopes, p->nscopes);
	fputs(",\"roles\":", stdout);
	json_strv(p->roles, p->nroles);
	if (scope != NULL)
		printf(",\"has_scope\":%s", tessera_principal_has_scope(v, p, scope) ? "true" : "false");
	puts("}");
}

/* Splits line at '|' into at most FIELDS fields; empty ones are NULL. */
static void split(char *line, char *f[FIELDS])
{
	size_t i;

	for (i = 0; i < FIELDS; i++) {
		char *bar = line ? strchr(line, '|') : NULL;
		if (bar)
			*bar = '\0';
		f[i] = line && *line ? line : NULL;
		line = bar ? bar + 1 : NULL;
	}
}

static void request(tessera_verifier *v, char *line)
{
	struct tessera_principal *p = NULL;
	struct tessera_error e;
	char *f[FIELDS];
	int rc;

	split(line, f);
	if (f[5] != NULL || f[6] != NULL || f[7] != NULL || f[8] != NULL) {
		struct tessera_request r = {.method = f[0], .uri = f[5], .authorization = f[1],
					    .dpop = f[6], .cookie = f[2], .csrf = f[3],
					    .origin = f[7], .sec_fetch_site = f[8]};
		rc = tessera_verify_request(v, &r, &p, &e);
	} else {
		rc = tessera_verify(v, f[1], f[2], f[0], f[3], &p, &e);
	}
	if (rc == TESSERA_OK)
		print_principal(v, p, f[4]);
	else
		print_error(rc, &e);
	tessera_principal_free(p);
}

static void token(tessera_token_client *c)
{
	struct tessera_error e;
	char *t = NULL;
	int rc = tessera_token_client_get(c, &t, &e);

	if (rc != TESSERA_OK) {
		print_error(rc, &e);
		return;
	}
	fputs("{\"ok\":true,\"token\":", stdout);
	json_str(t);
	puts("}");
	free(t);
}

static const char *option(char *words[], int n, const char *name)
{
	size_t len = strlen(name);
	int i;

	for (i = 3; i < n; i++)
		if (strncmp(words[i], name, len) == 0 && words[i][len] == '=')
			return words[i] + len + 1;
	return NULL;
}

int main(void)
{
	struct tessera_verifier_config cfg;
	tessera_token_client *tc = NULL;
	tessera_verifier *v = NULL;
	char *line = NULL, *words[16], *save = NULL, *w;
	size_t cap = 0;
	ssize_t n;
	int nw = 0, rc = 1;
	const char *opt;

	if (getline(&line, &cap, stdin) <= 0)
		goto out;
	line[strcspn(line, "\r\n")] = '\0';
	for (w = strtok_r(line, " ", &save); w && nw < 16; w = strtok_r(NULL, " ", &save))
		words[nw++] = w;
	if (nw < 3) {
		fprintf(stderr, "libtessera_probe: first line: ISSUER CLIENT_ID CLIENT_SECRET ...\n");
		goto out;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.issuer = words[0];
	if (strcmp(words[1], "-") != 0) {
		cfg.client_id = words[1];
		cfg.client_secret = words[2];
	}
	cfg.audience = option(words, nw, "audience");
	if ((opt = option(words, nw, "leeway")) != NULL)
		cfg.leeway_s = (int)strtol(opt, NULL, 10);
	if ((opt = option(words, nw, "min_refresh")) != NULL)
		cfg.jwks_min_refresh_s = (int)strtol(opt, NULL, 10);
	if ((opt = option(words, nw, "cache")) != NULL)
		cfg.introspection_cache_s = (int)strtol(opt, NULL, 10);
	if (tessera_verifier_new(&cfg, &v) != TESSERA_OK) {
		fprintf(stderr, "libtessera_probe: tessera_verifier_new failed\n");
		goto out;
	}
	if (cfg.client_id != NULL &&
	    tessera_token_client_new(words[0], words[1], words[2], option(words, nw, "scope"),
				     &tc) != TESSERA_OK) {
		fprintf(stderr, "libtessera_probe: tessera_token_client_new failed\n");
		goto out;
	}
	/* Both objects copied the strings of the first line: line is free
	 * for the requests. */
	while ((n = getline(&line, &cap, stdin)) > 0) {
		line[strcspn(line, "\r\n")] = '\0';
		if (strcmp(line, "!token") == 0 && tc != NULL)
			token(tc);
		else if (line[0] != '\0')
			request(v, line);
		fflush(stdout);
	}
	rc = 0;
out:
	tessera_token_client_free(tc);
	tessera_verifier_free(v);
	free(line);
	return rc;
}
