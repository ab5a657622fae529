/* opts.c: the command line: --name VALUE or --name=VALUE, every value
 * checked here so that start-up fails with one clear sentence. */
#include "opts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEEWAY_MAX 300
#define TEAM_CACHE_MAX 3600
#define THREADS_MAX 64

static const char usage[] =
	"usage: tasks-api --issuer URL --db sqlite:PATH --client-id ID --client-secret SECRET\n"
	"                 [--listen HOST:PORT] [--team-group GROUP_ID] [--audience AUD]\n"
	"                 [--leeway SECONDS] [--team-cache SECONDS] [--threads N]\n"
	"                 [--public-url URL]\n"
	"\n"
	"  --listen      address to serve on (default " TA_DEFAULT_LISTEN ")\n"
	"  --issuer      the Tessera tenant's issuer, e.g. http://127.0.0.1:8080/t/acme\n"
	"  --db          the API's own SQLite file, sqlite:PATH\n"
	"  --client-id   the API's confidential client (introspection and service tokens)\n"
	"  --client-secret  its secret; or set " TA_SECRET_ENV "\n"
	"  --team-group  the Tessera group whose members GET /team lists\n"
	"  --audience    the aud Bearer tokens must carry (default: the aud of this\n"
	"                service's own client-credentials token, the tenant's audience)\n"
	"  --leeway      clock leeway for token times in seconds (default: libtessera's, 60)\n"
	"  --team-cache  seconds a GET /team answer is reused (default 30)\n"
	"  --threads     HTTP worker threads (default 8)\n"
	"  --public-url  the URL clients call the API at, which DPoP proofs name\n"
	"                (default: http://LISTEN)\n";

const char *ta_opts_usage(void)
{
	return usage;
}

static bool int_arg(const char *s, int min, int max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return false;
	*out = (int)v;
	return true;
}

static bool http_url(const char *s)
{
	return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

/* Stores one option's value. */
static int set(struct ta_opts *o, const char *name, const char *v, char *err, size_t errlen)
{
	if (strcmp(name, "listen") == 0) {
		o->listen = v;
	} else if (strcmp(name, "issuer") == 0) {
		o->issuer = v;
	} else if (strcmp(name, "db") == 0) {
		if (strncmp(v, TA_DB_SCHEME, strlen(TA_DB_SCHEME)) != 0 || v[strlen(TA_DB_SCHEME)] == '\0') {
			snprintf(err, errlen, "--db must be sqlite:PATH");
			return TA_EINVAL;
		}
		o->db_path = v + strlen(TA_DB_SCHEME);
	} else if (strcmp(name, "client-id") == 0) {
		o->client_id = v;
	} else if (strcmp(name, "client-secret") == 0) {
		o->client_secret = v;
	} else if (strcmp(name, "team-group") == 0) {
		o->team_group = v;
	} else if (strcmp(name, "audience") == 0) {
		o->audience = v;
	} else if (strcmp(name, "public-url") == 0) {
		if (!http_url(v) || v[strlen(v) - 1] == '/' || strpbrk(v, "?#") != NULL) {
			snprintf(err, errlen, "--public-url must be an http(s) URL without a trailing "
					      "slash, query or fragment");
			return TA_EINVAL;
		}
		o->public_url = v;
	} else if (strcmp(name, "leeway") == 0) {
		if (!int_arg(v, 1, LEEWAY_MAX, &o->leeway_s)) {
			snprintf(err, errlen, "--leeway must be a number of seconds from 1 to %d", LEEWAY_MAX);
			return TA_EINVAL;
		}
	} else if (strcmp(name, "team-cache") == 0) {
		if (!int_arg(v, 1, TEAM_CACHE_MAX, &o->team_cache_s)) {
			snprintf(err, errlen, "--team-cache must be a number of seconds from 1 to %d",
				 TEAM_CACHE_MAX);
			return TA_EINVAL;
		}
	} else if (strcmp(name, "threads") == 0) {
		if (!int_arg(v, 1, THREADS_MAX, &o->threads)) {
			snprintf(err, errlen, "--threads must be a number from 1 to %d", THREADS_MAX);
			return TA_EINVAL;
		}
	} else {
		snprintf(err, errlen, "unknown option --%.64s", name);
		return TA_EINVAL;
	}
	return TA_OK;
}

static int check(struct ta_opts *o, char *err, size_t errlen)
{
	char tenant[128];
	size_t n;

	if (o->issuer == NULL || o->db_path == NULL || o->client_id == NULL) {
		snprintf(err, errlen, "--%s is required",
			 o->issuer == NULL ? "issuer" : o->db_path == NULL ? "db" : "client-id");
		return TA_EINVAL;
	}
	if (o->client_secret == NULL || o->client_secret[0] == '\0') {
		snprintf(err, errlen, "--client-secret (or $%s) is required", TA_SECRET_ENV);
		return TA_EINVAL;
	}
	n = strlen(o->issuer);
	if (!http_url(o->issuer) || o->issuer[n - 1] == '/' ||
	    ta_tenant_from_issuer(o->issuer, tenant, sizeof(tenant)) != TA_OK) {
		snprintf(err, errlen, "--issuer must be the tenant's issuer URL, http(s)://HOST/t/NAME "
				      "or http(s)://DOMAIN, without a trailing slash");
		return TA_EINVAL;
	}
	if (o->team_group && !(o->team_group[0] && strspn(o->team_group,
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == strlen(o->team_group))) {
		snprintf(err, errlen, "--team-group must be a group id (letters, digits, - and _)");
		return TA_EINVAL;
	}
	return TA_OK;
}

int ta_opts_parse(int argc, char **argv, struct ta_opts *o, char *err, size_t errlen)
{
	int i, rc;

	memset(o, 0, sizeof(*o));
	o->listen = TA_DEFAULT_LISTEN;
	o->team_cache_s = TA_DEFAULT_TEAM_CACHE_S;
	o->threads = TA_DEFAULT_THREADS;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *eq, *v;
		char name[32];
		size_t nl;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			o->help = true;
			return TA_OK;
		}
		if (strncmp(a, "--", 2) != 0) {
			snprintf(err, errlen, "unexpected argument \"%.64s\"", a);
			return TA_EINVAL;
		}
		eq = strchr(a, '=');
		nl = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
		if (nl == 0 || nl >= sizeof(name)) {
			snprintf(err, errlen, "unknown option %.64s", a);
			return TA_EINVAL;
		}
		memcpy(name, a + 2, nl);
		name[nl] = '\0';
		if (eq) {
			v = eq + 1;
		} else if (i + 1 < argc) {
			v = argv[++i];
		} else {
			snprintf(err, errlen, "--%s needs a value", name);
			return TA_EINVAL;
		}
		rc = set(o, name, v, err, errlen);
		if (rc != TA_OK)
			return rc;
	}
	if (o->client_secret == NULL)
		o->client_secret = getenv(TA_SECRET_ENV);
	return check(o, err, errlen);
}

int ta_tenant_from_issuer(const char *issuer, char *out, size_t cap)
{
	const char *host, *path, *name;
	size_t n;

	if (strncmp(issuer, "http://", 7) == 0)
		host = issuer + 7;
	else if (strncmp(issuer, "https://", 8) == 0)
		host = issuer + 8;
	else
		return TA_EINVAL;
	path = strchr(host, '/');
	if (path == NULL) {
		/* A host-based tenant: its name is not in the URL, so the host
		 * (without a port) stands for it. */
		n = strcspn(host, ":");
		name = host;
	} else {
		/* {public_url}/t/{name}; the public URL may itself have
		 * a path, so the last "/t/" segment is the one. */
		const char *t = NULL, *p;
		for (p = path; (p = strstr(p, "/t/")) != NULL; p++)
			t = p;
		if (t == NULL || strchr(t + 3, '/') != NULL)
			return TA_EINVAL;
		name = t + 3;
		n = strlen(name);
	}
	if (n == 0 || n >= cap)
		return TA_EINVAL;
	memcpy(out, name, n);
	out[n] = '\0';
	return TA_OK;
}
