/* pg_url.c: what of a PostgreSQL connection URL may be shown, and libpq's
 * messages made fit to log. A URL may carry a password in its user
 * information or its query; a password with a '/' or '?' in it makes libpq
 * read part of it as a host, port or database name; and libpq's messages
 * quote the values they read. So only a scheme, host, port and database
 * name that look like one are ever shown, and every quoted value in a libpq
 * message that is not one of those (nor a connection keyword) is replaced. */
#include "pg_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HIDDEN "..."

/* Copies v into out when every byte is in allowed (and v fits); else
 * leaves out empty. */
static void keep_if(const char *v, const char *allowed, char *out, size_t cap)
{
	size_t n = v ? strlen(v) : 0;

	out[0] = '\0';
	if (n == 0 || n >= cap || strspn(v, allowed) != n)
		return;
	memcpy(out, v, n + 1);
}

#define ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

/* The value of option key in opts (NULL when unset). */
static const char *opt(const PQconninfoOption *o, const char *key)
{
	for (; o->keyword; o++)
		if (strcmp(o->keyword, key) == 0)
			return o->val;
	return NULL;
}

void ts_pg_url_parse(const char *url, struct ts_pg_url *out)
{
	PQconninfoOption *opts;
	const char *user, *pw;
	char *parts[] = {out->host, out->port, out->dbname, out->user};
	char *err = NULL;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (url == NULL)
		return;
	keep_if(strncmp(url, "postgresql://", 13) == 0 ? "postgresql" : "postgres", ALNUM,
		out->scheme, sizeof(out->scheme));
	/* libpq's parse error may quote the URL: it is never kept. */
	opts = PQconninfoParse(url, &err);
	PQfreemem(err);
	if (opts == NULL)
		return;
	user = opt(opts, "user");
	pw = opt(opts, "password");
	if (pw && pw[0])
		out->password = ts_xstrdup(pw);
	/* User information that libpq did not read as such ("user:pa/ss@h"
	 * parses as host "user", port "pa"): nothing of it is shown. */
	if (strchr(url, '@') == NULL || user != NULL) {
		keep_if(opt(opts, "host"), ALNUM ".-_:,[]%/", out->host, sizeof(out->host));
		keep_if(opt(opts, "port"), "0123456789,", out->port, sizeof(out->port));
		keep_if(opt(opts, "dbname"), ALNUM "._-$", out->dbname, sizeof(out->dbname));
		keep_if(user, ALNUM "._-$", out->user, sizeof(out->user));
	}
	/* A password that happens to look like a host is never shown. */
	for (i = 0; out->password && i < TS_ARRAY_LEN(parts); i++)
		if (parts[i][0] && strstr(out->password, parts[i]))
			parts[i][0] = '\0';
	PQconninfoFree(opts);
}

void ts_pg_url_clear(struct ts_pg_url *u)
{
	ts_free_secret(u->password);
	memset(u, 0, sizeof(*u));
}

/* "scheme://host[:port]/dbname" into buf (capacity cap); "..." for a
 * part that may not be shown. */
static void url_show(const struct ts_pg_url *u, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s://%s%s%s/%s", u->scheme[0] ? u->scheme : "postgres",
		 u->host[0] ? u->host : HIDDEN, u->port[0] ? ":" : "", u->port,
		 u->dbname[0] ? u->dbname : HIDDEN);
}

/* Whether a quoted value may stay: one of the parts that may be shown, or
 * the name of a connection option (libpq's own word, never a secret). */
static bool quote_ok(const struct ts_pg_url *u, const char *v, size_t n)
{
	const char *shown[] = {u->host, u->port, u->dbname, u->user};
	PQconninfoOption *opts, *o;
	bool ok = false;
	size_t i;

	if (n == 0)
		return true;
	for (i = 0; i < TS_ARRAY_LEN(shown); i++)
		if (strlen(shown[i]) == n && memcmp(shown[i], v, n) == 0)
			return true;
	opts = PQconndefaults();
	for (o = opts; o && o->keyword && !ok; o++)
		ok = strlen(o->keyword) == n && memcmp(o->keyword, v, n) == 0;
	PQconninfoFree(opts);
	return ok;
}

const char *ts_pg_scrub(const struct ts_pg_url *u, const char *msg, char *buf, size_t cap)
{
	size_t n = 0, i, len;
	bool space;

	if (msg == NULL)
		msg = "";
	for (i = 0; msg[i] != '\0' && n + 1 < cap; i++) {
		if (msg[i] == '"') {
			const char *end = strchr(msg + i + 1, '"');
			const char *v = msg + i + 1;
			len = end ? (size_t)(end - v) : strlen(v);
			if (!quote_ok(u, v, len)) {
				v = HIDDEN;
				len = strlen(HIDDEN);
			}
			if (n + len + 2 >= cap)
				break;
			buf[n++] = '"';
			memcpy(buf + n, v, len);
			n += len;
			buf[n++] = '"';
			i = end ? (size_t)(end - msg) : strlen(msg) - 1;
			continue;
		}
		/* One line: each run of white space becomes one space. */
		space = msg[i] == ' ' || msg[i] == '\n' || msg[i] == '\r' || msg[i] == '\t';
		if (space && (n == 0 || buf[n - 1] == ' '))
			continue;
		buf[n++] = space ? ' ' : msg[i];
	}
	while (n > 0 && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
	/* The password itself, wherever libpq put it, unquoted too. */
	if (u->password && u->password[0]) {
		char *p;
		len = strlen(u->password);
		while ((p = strstr(buf, u->password)) != NULL)
			memset(p, '*', len);
	}
	return buf;
}

int ts_store_pg_url_shown(const char *url, char *buf, size_t cap)
{
	struct ts_pg_url u;

	ts_pg_url_parse(url, &u);
	url_show(&u, buf, cap);
	ts_pg_url_clear(&u);
	return TS_OK;
}
