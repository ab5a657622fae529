/* user_view.c: a user as others see it: the public view (never a hash)
 * and the role lookup on a parsed profile. Creating and changing users is
 * src/admin/user.c. */
#include "identity.h"

#include "store/store_people.h"

#include <string.h>

json_t *ts_user_view(const struct ts_user_rec *u)
{
	json_t *prof = u->profile ? json_loads(u->profile, 0, NULL) : NULL, *v, *roles;
	const json_t *x;

	v = json_object();
	json_object_set_new(v, "id", json_string(u->id));
	json_object_set_new(v, "username", json_string(u->username));
	x = json_object_get(prof, "email");
	json_object_set_new(v, "email", json_is_string(x) ? json_copy((json_t *)x) : json_null());
	x = json_object_get(prof, "name");
	json_object_set_new(v, "name", json_is_string(x) ? json_copy((json_t *)x) : json_null());
	x = json_object_get(prof, "roles");
	roles = json_is_array(x) ? json_deep_copy(x) : json_array();
	json_object_set_new(v, "roles", roles);
	json_object_set_new(v, "disabled", json_boolean(u->disabled));
	json_object_set_new(v, "mobile_access",
			    json_boolean(json_is_true(json_object_get(prof, "mobile_access"))));
	json_object_set_new(v, "device_bound", json_boolean(u->device_id != NULL));
	x = json_object_get(prof, "attributes");
	if (json_is_object(x) && json_object_size(x))
		json_object_set_new(v, "attributes", json_deep_copy(x));
	json_object_set_new(v, "created_at", json_integer((json_int_t)u->created_at));
	json_decref(prof);
	return v;
}

bool ts_user_has_role(const json_t *profile, const char *role)
{
	const json_t *roles = json_object_get(profile, "roles");
	size_t i;

	for (i = 0; i < json_array_size(roles); i++)
		if (ts_str_eq(ts_str_c(json_string_value(json_array_get(roles, i))), role))
			return true;
	return false;
}
