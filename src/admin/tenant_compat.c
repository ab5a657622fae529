/* tenant_compat.c: the validation of a tenant spec's "compat",
 * "mobile_login_method" and "login_client" settings, the part of the
 * tenant object (tenant.c) that the compatibility profiles read (the
 * profile names and bits are the tenant's, tenant/profile.c). */
#include "internal.h"

#include "wire/ascii.h"

#include <string.h>

#define METHOD_MAX 200       /* a Frappe method path */

/* A Frappe method path: dotted identifiers ([A-Za-z0-9_], dots between). */
static bool method_ok(const char *s)
{
	size_t i, n = s ? strlen(s) : 0;

	if (n == 0 || n > METHOD_MAX || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];
		bool word = ts_is_alnum((unsigned char)c) || c == '_';
		if (!word && !(c == '.' && s[i + 1] != '.'))
			return false;
	}
	return true;
}

/* Whether a method name is one the frappe profile serves itself (the
 * mobile login method must not hide one of them). */
static bool frappe_method_taken(const char *s)
{
	static const char *const taken[] = {"login", "logout"};
	static const char oauth2[] = "frappe.integrations.oauth2.";
	size_t i;

	if (strncmp(s, oauth2, sizeof(oauth2) - 1) == 0)
		return true;
	for (i = 0; i < TS_ARRAY_LEN(taken); i++)
		if (strcmp(s, taken[i]) == 0)
			return true;
	return false;
}

/* Whether s can name a client ("login_client"): 1 to TS_CLIENT_ID_MAX
 * printable bytes without spaces. */
static bool login_client_ok(const char *s)
{
	size_t i, n = s ? strlen(s) : 0;

	if (n == 0 || n > TS_CLIENT_ID_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (ts_is_ctl_or_space((unsigned char)s[i]))
			return false;
	return true;
}

/* "compat": an array of distinct profile names, kept in the order given. */
static int compat_list(json_t *cfg, const json_t *v, char *err, size_t cap)
{
	json_t *out;
	unsigned seen = 0, bit;
	size_t i;

	if (!json_is_array(v))
		return ts_admin_fail(err, cap, "tenant: \"compat\" must be an array of profile names");
	out = json_array();
	for (i = 0; i < json_array_size(v); i++) {
		const char *name = json_string_value(json_array_get(v, i));
		if (name == NULL) {
			json_decref(out);
			return ts_admin_fail(err, cap, "tenant: \"compat\" must be an array of profile names");
		}
		bit = ts_compat_bit(name);
		if (bit == 0) {
			json_decref(out);
			return ts_admin_fail(err, cap, "tenant: \"%.64s\" is not a compatibility profile "
					     "(frappe, activity, integrations)", name);
		}
		if (!(seen & bit))
			json_array_append_new(out, json_string(name));
		seen |= bit;
	}
	if (json_array_size(out))
		json_object_set_new(cfg, "compat", out);
	else
		json_decref(out);
	return TS_OK;
}

int ts_admin_tenant_compat(json_t *cfg, const json_t *spec, char *err, size_t cap)
{
	const json_t *v = json_object_get(spec, "compat");
	int rc;

	if (v && !json_is_null(v)) {
		rc = compat_list(cfg, v, err, cap);
		if (rc != TS_OK)
			return rc;
	}
	v = json_object_get(spec, "login_client");
	if (v && !json_is_null(v)) {
		if (!login_client_ok(json_string_value(v)))
			return ts_admin_fail(err, cap, "tenant: \"login_client\" must be a client_id");
		json_object_set_new(cfg, "login_client", json_string(json_string_value(v)));
	}
	v = json_object_get(spec, "mobile_login_method");
	if (v == NULL || json_is_null(v))
		return TS_OK;
	if (!method_ok(json_string_value(v)))
		return ts_admin_fail(err, cap, "tenant: \"mobile_login_method\" must be a dotted method "
				     "name of letters, digits and underscores (at most %d characters)",
				     METHOD_MAX);
	if (frappe_method_taken(json_string_value(v)))
		return ts_admin_fail(err, cap, "tenant: \"mobile_login_method\" \"%s\" is a method the "
				     "frappe profile already serves", json_string_value(v));
	json_object_set_new(cfg, "mobile_login_method", json_string(json_string_value(v)));
	return TS_OK;
}
