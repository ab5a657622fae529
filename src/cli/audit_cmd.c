/* audit_cmd.c: `tessera audit --tenant T [--since TIME] [--limit N]`: the
 * audit trail of a tenant, oldest first. */
#include "cmd.h"

#include "store/store_config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define AUDIT_DEFAULT_LIMIT 1000
#define AUDIT_MAX_LIMIT 100000

/* --since: Unix seconds, an ISO 8601 UTC time (YYYY-MM-DDTHH:MM:SSZ), or a
 * duration back from now ("15m", "2h", "7d"). */
static bool parse_since(const char *s, int64_t *out)
{
	char *end;
	long long v;
	struct tm tm;

	if (s == NULL) {
		*out = 0;
		return true;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (end && (*end == '\0' || strcmp(end, "Z") == 0)) {
		*out = (int64_t)timegm(&tm);
		return true;
	}
	v = strtoll(s, &end, 10);
	if (end == s || v < 0)
		return false;
	if (*end == '\0')
		*out = v;
	else if (strcmp(end, "s") == 0)
		*out = ts_now() - v;
	else if (strcmp(end, "m") == 0)
		*out = ts_now() - v * TS_SECONDS_PER_MINUTE;
	else if (strcmp(end, "h") == 0)
		*out = ts_now() - v * TS_SECONDS_PER_HOUR;
	else if (strcmp(end, "d") == 0)
		*out = ts_now() - v * TS_SECONDS_PER_DAY;
	else
		return false;
	return true;
}

/* Whether a tenant of that name is stored; *rc a storage failure. */
static bool tenant_known(struct ts_cli_session *s, const char *name, int *rc)
{
	struct ts_tenant_rec *t = NULL;
	int r = ts_store_tenant_get(s->st, name, &t);

	ts_tenant_rec_free(t);
	*rc = r == TS_ENOTFOUND ? TS_OK : r;
	return r == TS_OK;
}

int ts_cmd_audit(struct ts_config *c, int argc, char **argv)
{
	static const char *const known[] = {"tenant", "since", "limit", NULL};
	struct ts_opts o;
	struct ts_cli_session s;
	struct ts_audit_rec **v = NULL;
	const char *lim;
	int64_t since;
	long long limit = AUDIT_DEFAULT_LIMIT;
	size_t n = 0, i;
	int rc, exit_code = TS_EXIT_FAIL;

	if (!ts_opts_parse(argc, argv, NULL, &o) || !ts_opts_only(&o, known) || o.npos != 0 ||
	    ts_opts_get(&o, "tenant") == NULL) {
		ts_cli_error("usage: tessera audit --tenant T [--since TIME|DURATION] [--limit N] [--json]");
		return TS_EXIT_USAGE;
	}
	if (!parse_since(ts_opts_get(&o, "since"), &since)) {
		ts_cli_error("--since must be Unix seconds, YYYY-MM-DDTHH:MM:SSZ or a duration such as 15m");
		return TS_EXIT_USAGE;
	}
	if ((lim = ts_opts_get(&o, "limit")) != NULL) {
		char *end;
		limit = strtoll(lim, &end, 10);
		if (*lim == '\0' || *end || limit < 1 || limit > AUDIT_MAX_LIMIT) {
			ts_cli_error("--limit must be between 1 and %d", AUDIT_MAX_LIMIT);
			return TS_EXIT_USAGE;
		}
	}
	if (ts_cli_session_open(c, &s, "cli") != TS_OK)
		return TS_EXIT_FAIL;
	rc = ts_store_audit_query(s.st, ts_opts_get(&o, "tenant"), since, (size_t)limit, &v, &n);
	/* A deleted tenant's trail stays readable; a name that was never a
	 * tenant's (nothing stored, nothing recorded) is a mistake. */
	if (rc == TS_OK && n == 0 && !tenant_known(&s, ts_opts_get(&o, "tenant"), &rc)) {
		if (rc == TS_OK) {
			ts_cli_error_code("not_found", "no tenant named \"%s\"",
					  ts_opts_get(&o, "tenant"));
			goto out;
		}
	}
	if (rc == TS_OK) {
		json_t *a = json_array();
		for (i = 0; i < n; i++) {
			json_t *e = json_pack("{s:I,s:I,s:s}", "id", (json_int_t)v[i]->id, "time",
					      (json_int_t)v[i]->time, "type", v[i]->type);
			if (v[i]->tenant)
				json_object_set_new(e, "tenant", json_string(v[i]->tenant));
			if (v[i]->actor)
				json_object_set_new(e, "actor", json_string(v[i]->actor));
			if (v[i]->subject)
				json_object_set_new(e, "subject", json_string(v[i]->subject));
			if (v[i]->request_id)
				json_object_set_new(e, "request_id", json_string(v[i]->request_id));
			if (v[i]->detail) {
				json_t *d = json_loads(v[i]->detail, 0, NULL);
				if (d)
					json_object_set_new(e, "detail", d);
			}
			json_array_append_new(a, e);
		}
		ts_cli_print(c, json_pack("{s:s,s:o}", "tenant", ts_opts_get(&o, "tenant"), "events", a));
		exit_code = TS_EXIT_OK;
	} else {
		exit_code = ts_cli_fail_store_quiet(rc);
	}
out:
	ts_audit_recs_free(v, n);
	ts_cli_session_close(&s);
	return exit_code;
}
