/* claims.c: a user's claims for a granted scope (OpenID Connect Core §5.4),
 * as the ID token carries them and UserInfo answers them. */
#include "oauth.h"

#include "store/store_people.h"

#include <string.h>

json_t *ts_oauth_user_claims(const struct ts_user_rec *u, const char *scope)
{
	json_t *c = json_pack("{s:s}", "sub", u->id);
	json_t *profile = u->profile ? json_loads(u->profile, 0, NULL) : NULL;

	if (ts_scope_has(scope, "profile")) {
		json_object_set_new(c, "preferred_username", json_string(u->username));
		if (json_string_value(json_object_get(profile, "name")))
			json_object_set(c, "name", json_object_get(profile, "name"));
		json_object_set_new(c, "updated_at", json_integer(u->updated_at));
	}
	if (ts_scope_has(scope, "email") && json_string_value(json_object_get(profile, "email")))
		json_object_set(c, "email", json_object_get(profile, "email"));
	json_decref(profile);
	return c;
}
