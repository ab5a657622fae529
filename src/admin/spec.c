/* spec.c: what the object kinds of src/admin share: the audit record of a
 * change, scope tokens, and the canonical copies of string and list
 * members of a spec. */
#include "internal.h"

#include "store/store_config.h"
#include "wire/ascii.h"

#include <stdlib.h>
#include <string.h>

void ts_admin_audit(struct ts_admin *a, const char *tenant, const char *type, const char *subject,
		    json_t *detail)
{
	struct ts_audit_rec r;

	memset(&r, 0, sizeof(r));
	r.tenant = (char *)tenant;
	r.time = ts_now();
	r.type = (char *)type;
	r.actor = (char *)(a->actor ? a->actor : "cli");
	r.subject = (char *)subject;
	r.detail = detail ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (ts_store_audit_append(a->store, &r, 1) != TS_OK)
		ts_log_warn("could not record audit event %s", type);
	free(r.detail);
	json_decref(detail);
}

bool ts_admin_scope_token_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 128)
		return false;
	for (i = 0; i < n; i++)
		if (!ts_is_nqchar((unsigned char)s[i]))
			return false;
	return true;
}

int ts_admin_copy_strings(json_t *dst, const json_t *src, const char *key, const char *what,
			  bool (*ok)(const char *), char *err, size_t cap)
{
	const json_t *a = json_object_get(src, key);
	json_t *out;
	size_t i;

	if (a == NULL)
		return TS_OK;
	if (!json_is_array(a) || json_array_size(a) > TS_ADMIN_LIST_MAX)
		return ts_admin_fail(err, cap, "%s: \"%s\" must be an array of strings", what, key);
	out = json_array();
	for (i = 0; i < json_array_size(a); i++) {
		const char *s = json_string_value(json_array_get(a, i));
		if (s == NULL || !ts_admin_printable(s, TS_ADMIN_STR_MAX) || (ok && !ok(s))) {
			json_decref(out);
			return ts_admin_fail(err, cap, "%s: \"%s\" has an invalid entry%s%s", what, key,
				    s ? ": " : "", s && strlen(s) < 200 ? s : "");
		}
		json_array_append_new(out, json_string(s));
	}
	json_object_set_new(dst, key, out);
	return TS_OK;
}

int ts_admin_copy_string(json_t *dst, const json_t *src, const char *key, const char *what,
			 char *err, size_t cap)
{
	const json_t *v = json_object_get(src, key);

	if (v == NULL || json_is_null(v))
		return TS_OK;
	if (!json_is_string(v) || !ts_admin_printable(json_string_value(v), TS_ADMIN_STR_MAX))
		return ts_admin_fail(err, cap, "%s: \"%s\" must be a non-empty string", what, key);
	json_object_set_new(dst, key, json_string(json_string_value(v)));
	return TS_OK;
}

