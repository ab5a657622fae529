/* user.c: the user object shared by the bootstrap file and the CLI:
 * validation, and create/update with Argon2id password hashes. The public
 * view of a user is identity/user_view.c. */
#include "internal.h"

#include "identity/identity.h"
#include "store/store_config.h"
#include "store/store_people.h"
#include "store/store_state.h"
#include "wire/ascii.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USERNAME_MAX 254
#define PASSWORD_MIN 8 /* characters */
#define DEVICE_ID_MAX 128
#define EMAIL_MAX 254
#define DISPLAY_NAME_MAX 256
#define ROLE_NAME_MAX 128
#define ROLES_MAX 256
#define ATTRIBUTES_MAX 32      /* attributes of one user */
#define ATTRIBUTE_NAME_MAX 64
#define ATTRIBUTE_VALUE_MAX 256

/* Profile members this file manages; others in a stored profile are kept. */
static const char *const profile_keys[] = {"email", "name", "roles", "mobile_access", "attributes",
					   NULL};

/* A validated user spec. Strings are borrowed from the spec (or, for
 * *_env secrets, from the environment) and live as long as it does. */
struct user_spec {
	const char *username;
	const char *password;     /* NULL: keep the stored hash */
	const char *app_password; /* NULL: keep the stored hash */
	const char *device_id;    /* NULL: see device_given */
	bool device_given;        /* "device_id" present: NULL unbinds */
	bool disabled;
	json_t *profile;          /* owned: the managed profile members */
};

bool ts_username_ok(const char *s)
{
	size_t n;

	if (!ts_admin_printable(s, USERNAME_MAX))
		return false;
	n = strlen(s);
	return s[0] != ' ' && s[n - 1] != ' ';
}

/* Characters (UTF-8 code points) of a valid UTF-8 string. */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* Reads the secret named key, or the environment variable named by
 * key_env, into *out (borrowed; NULL when neither is given). */
static int get_secret(const json_t *spec, const char *key, const char *key_env,
		      const char *user, const char **out, char *err, size_t cap)
{
	const json_t *v = json_object_get(spec, key), *ev = json_object_get(spec, key_env);
	const char *s = NULL;

	*out = NULL;
	if (v && ev)
		return ts_admin_fail(err, cap, "user %s: give \"%s\" or \"%s\", not both", user, key, key_env);
	if (v) {
		if (!json_is_string(v))
			return ts_admin_fail(err, cap, "user %s: \"%s\" must be a string", user, key);
		s = json_string_value(v);
	} else if (ev) {
		const char *name = json_string_value(ev);
		if (name == NULL || name[0] == '\0')
			return ts_admin_fail(err, cap, "user %s: \"%s\" must name an environment variable",
				    user, key_env);
		s = getenv(name);
		if (s == NULL || s[0] == '\0')
			return ts_admin_fail(err, cap, "user %s: environment variable %s is not set", user,
				    name);
	} else {
		return TS_OK;
	}
	if (utf8_chars(s) < PASSWORD_MIN)
		return ts_admin_fail(err, cap, "user %s: \"%s\" needs at least %d characters", user, key,
			    PASSWORD_MIN);
	if (strlen(s) > TS_PASSWORD_MAX)
		return ts_admin_fail(err, cap, "user %s: \"%s\" has at most %d bytes", user, key,
			    TS_PASSWORD_MAX);
	*out = s;
	return TS_OK;
}

/* Copies an optional string member into the profile after checking it. */
static int opt_string(json_t *prof, const json_t *spec, const char *key, size_t max,
		      bool (*extra)(const char *), const char *user, char *err, size_t cap)
{
	const json_t *v = json_object_get(spec, key);
	const char *s = json_string_value(v);

	if (v == NULL || json_is_null(v))
		return TS_OK;
	if (!ts_admin_printable(s, max) || (extra && !extra(s)))
		return ts_admin_fail(err, cap, "user %s: \"%s\" must be a string of 1 to %zu characters%s",
			    user, key, max, extra ? " that looks like an e-mail address" : "");
	json_object_set_new(prof, key, json_string(s));
	return TS_OK;
}

static bool email_ok(const char *s)
{
	const char *at = strchr(s, '@');

	return at && at != s && at[1] != '\0' && strchr(s, ' ') == NULL;
}

static bool attribute_name_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!(ts_is_alnum((unsigned char)s[i]) || s[i] == '_'))
			return false;
	return i > 0 && i <= ATTRIBUTE_NAME_MAX;
}

/* "attributes": an object of named strings (such as an employee id) kept
 * with the user and shown with it. */
static int parse_attributes(json_t *prof, const json_t *spec, const char *user, char *err,
			    size_t cap)
{
	const json_t *v = json_object_get(spec, "attributes"), *x;
	json_t *out;
	const char *k;

	if (v == NULL || json_is_null(v))
		return TS_OK;
	if (!json_is_object(v) || json_object_size(v) > ATTRIBUTES_MAX)
		return ts_admin_fail(err, cap, "user %s: \"attributes\" must be an object of at most %d "
				     "strings", user, ATTRIBUTES_MAX);
	json_object_foreach((json_t *)v, k, x) {
		if (!attribute_name_ok(k))
			return ts_admin_fail(err, cap, "user %s: attribute names are 1 to %d letters, digits "
					     "or underscores", user, ATTRIBUTE_NAME_MAX);
		if (!ts_admin_printable(json_string_value(x), ATTRIBUTE_VALUE_MAX))
			return ts_admin_fail(err, cap, "user %s: attribute \"%s\" must be a string of 1 to "
					     "%d characters", user, k, ATTRIBUTE_VALUE_MAX);
	}
	out = json_deep_copy(v);
	if (json_object_size(out))
		json_object_set_new(prof, "attributes", out);
	else
		json_decref(out);
	return TS_OK;
}

static int opt_bool(const json_t *spec, const char *key, bool *out, const char *user, char *err,
		    size_t cap)
{
	const json_t *v = json_object_get(spec, key);

	*out = false;
	if (v == NULL)
		return TS_OK;
	if (!json_is_boolean(v))
		return ts_admin_fail(err, cap, "user %s: \"%s\" must be true or false", user, key);
	*out = json_is_true(v);
	return TS_OK;
}

static int parse_roles(json_t *prof, const json_t *spec, const char *user, char *err, size_t cap)
{
	const json_t *v = json_object_get(spec, "roles");
	json_t *roles = json_array();
	size_t i, j;

	json_object_set_new(prof, "roles", roles);
	if (v == NULL || json_is_null(v))
		return TS_OK;
	if (!json_is_array(v) || json_array_size(v) > ROLES_MAX)
		return ts_admin_fail(err, cap, "user %s: \"roles\" must be an array of at most %d strings",
			    user, ROLES_MAX);
	for (i = 0; i < json_array_size(v); i++) {
		const char *r = json_string_value(json_array_get(v, i));
		if (!ts_admin_printable(r, ROLE_NAME_MAX))
			return ts_admin_fail(err, cap, "user %s: \"roles\" has an invalid entry", user);
		for (j = 0; j < i; j++)
			if (strcmp(json_string_value(json_array_get(v, j)), r) == 0)
				return ts_admin_fail(err, cap, "user %s: role \"%s\" is listed twice", user, r);
		json_array_append_new(roles, json_string(r));
	}
	return TS_OK;
}

/* Checks a user spec and fills u (u->profile owned by the caller, also on
 * failure). */
static int user_parse(const json_t *spec, struct user_spec *u, char *err, size_t cap)
{
	static const char *const known[] = {
		"username", "password", "password_env", "email", "name", "roles", "disabled",
		"mobile_access", "app_password", "app_password_env", "device_id", "attributes", NULL,
	};
	const json_t *dev;
	const char *name;
	bool mobile = false;
	int rc;

	memset(u, 0, sizeof(*u));
	u->profile = json_object();
	if (!json_is_object(spec))
		return ts_admin_fail(err, cap, "a user must be a JSON object");
	rc = ts_admin_check_known(spec, known, "user", err, cap);
	if (rc != TS_OK)
		return rc;
	u->username = json_string_value(json_object_get(spec, "username"));
	if (!ts_username_ok(u->username))
		return ts_admin_fail(err, cap, "user: \"username\" must be 1 to %d printable characters "
			    "without spaces at either end", USERNAME_MAX);
	name = u->username;
	rc = get_secret(spec, "password", "password_env", name, &u->password, err, cap);
	if (rc == TS_OK)
		rc = get_secret(spec, "app_password", "app_password_env", name, &u->app_password,
				err, cap);
	if (rc == TS_OK)
		rc = opt_string(u->profile, spec, "email", EMAIL_MAX, email_ok, name, err, cap);
	if (rc == TS_OK)
		rc = opt_string(u->profile, spec, "name", DISPLAY_NAME_MAX, NULL, name, err, cap);
	if (rc == TS_OK)
		rc = parse_roles(u->profile, spec, name, err, cap);
	if (rc == TS_OK)
		rc = parse_attributes(u->profile, spec, name, err, cap);
	if (rc == TS_OK)
		rc = opt_bool(spec, "disabled", &u->disabled, name, err, cap);
	if (rc == TS_OK)
		rc = opt_bool(spec, "mobile_access", &mobile, name, err, cap);
	if (rc != TS_OK)
		return rc;
	json_object_set_new(u->profile, "mobile_access", json_boolean(mobile));
	dev = json_object_get(spec, "device_id");
	u->device_given = dev != NULL;
	if (dev && !json_is_null(dev)) {
		u->device_id = json_string_value(dev);
		if (!ts_admin_printable(u->device_id, DEVICE_ID_MAX))
			return ts_admin_fail(err, cap, "user %s: \"device_id\" must be 1 to %d printable "
				    "characters", name, DEVICE_ID_MAX);
	}
	return TS_OK;
}

int ts_admin_user_validate(const json_t *spec, char *err, size_t errcap)
{
	struct user_spec u;
	int rc;

	if (errcap)
		err[0] = '\0';
	rc = user_parse(spec, &u, err, errcap);
	json_decref(u.profile);
	return rc;
}

/* Every role of the profile must be one of the tenant's roles. */
static int check_roles(const struct ts_tenant_rec *t, const json_t *profile, const char *user,
		       char *err, size_t cap)
{
	json_t *cfg = json_loads(t->config, 0, NULL);
	const json_t *have = json_object_get(cfg, "roles"), *want = json_object_get(profile, "roles");
	size_t i, j;
	int rc = TS_OK;

	for (i = 0; rc == TS_OK && i < json_array_size(want); i++) {
		const char *r = json_string_value(json_array_get(want, i));
		bool found = false;
		for (j = 0; j < json_array_size(have) && !found; j++)
			found = ts_str_eq(ts_str_c(json_string_value(json_array_get(have, j))), r);
		if (!found)
			rc = ts_admin_fail(err, cap, "user %s: \"%s\" is not a role of tenant \"%s\"",
				  user, r, t->name);
	}
	json_decref(cfg);
	return rc;
}

static bool str_same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* The profile to store: the stored one (keeping members other modules own)
 * with the managed members replaced. Appends changed member names. */
static json_t *merge_profile(const struct ts_user_rec *old, const json_t *managed, json_t *changes)
{
	json_t *prof = old && old->profile ? json_loads(old->profile, 0, NULL) : NULL;
	size_t i;

	if (!json_is_object(prof)) {
		json_decref(prof);
		prof = json_object();
	}
	for (i = 0; profile_keys[i]; i++) {
		const json_t *was = json_object_get(prof, profile_keys[i]);
		json_t *now = json_object_get(managed, profile_keys[i]);
		if (!(was == NULL && now == NULL) && !(was && now && json_equal((json_t *)was, now)))
			json_array_append_new(changes, json_string(profile_keys[i]));
		if (now)
			json_object_set(prof, profile_keys[i], now);
		else
			json_object_del(prof, profile_keys[i]);
	}
	return prof;
}

/* Fills rec from the spec and the stored user (NULL when new); changes
 * receives the names of what differs. */
/* Whose secret which is, for the hashes picked ahead (pwmemo.c). */
#define WHO_MAX (2 * TS_ADMIN_STR_MAX)
static const char *who(char *buf, const char *tenant, const char *user, const char *which)
{
	snprintf(buf, WHO_MAX, "%s\n%s\n%s", tenant, user, which);
	return buf;
}

/* The user's two hashes into rec, picked as pwmemo.c does. */
static int user_hashes(struct ts_pwmemo *m, const char *tenant, const struct user_spec *u,
		       const struct ts_user_rec *old, struct ts_user_rec *rec, bool *ch_pw,
		       bool *ch_app)
{
	char buf[WHO_MAX];
	int rc;

	rc = ts_admin_pick_hash(m, who(buf, tenant, u->username, "password"),
				old ? old->password_hash : NULL, u->password, &rec->password_hash,
				ch_pw);
	if (rc == TS_OK)
		rc = ts_admin_pick_hash(m, who(buf, tenant, u->username, "app_password"),
					old ? old->app_password_hash : NULL, u->app_password,
					&rec->app_password_hash, ch_app);
	return rc;
}

static int user_build(struct ts_pwmemo *m, const char *tenant, const struct user_spec *u,
		      const struct ts_user_rec *old, struct ts_user_rec *rec, json_t *changes)
{
	json_t *prof;
	bool ch, ch_app;
	int rc;

	rc = user_hashes(m, tenant, u, old, rec, &ch, &ch_app);
	if (rc != TS_OK)
		return rc;
	if (ch)
		json_array_append_new(changes, json_string("password"));
	if (ch_app)
		json_array_append_new(changes, json_string("app_password"));
	/* A user with no bound device is bound by their first mobile login, so
	 * leaving device_id out keeps whatever is bound. */
	rec->device_id = ts_xstrdup(u->device_given ? u->device_id : old ? old->device_id : NULL);
	if (old && !str_same(rec->device_id, old->device_id))
		json_array_append_new(changes, json_string("device_id"));
	if (old && strcmp(old->username, u->username) != 0)
		json_array_append_new(changes, json_string("username"));
	rec->disabled = u->disabled;
	if (old && old->disabled != u->disabled)
		json_array_append_new(changes, json_string("disabled"));
	prof = merge_profile(old, u->profile, changes);
	rec->profile = json_dumps(prof, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(prof);
	return TS_OK;
}

static bool has_change(const json_t *changes, const char *what)
{
	size_t i;

	for (i = 0; i < json_array_size(changes); i++)
		if (strcmp(json_string_value(json_array_get(changes, i)), what) == 0)
			return true;
	return false;
}

/* What the write of rec over old takes away from the user with it: every
 * credential when it disables them, the device key when it turns
 * mobile_access off, resets or moves the bound device or sets a new app
 * password; so enabling them again, or turning mobile_access back on,
 * gives back none of the old credentials. 0 for nothing. */
static unsigned revoking(const struct user_spec *u, const struct ts_user_rec *old,
			 const struct ts_user_rec *rec, const json_t *changes)
{
	unsigned what = 0;

	if (old == NULL)
		return 0;
	if (rec->disabled && !old->disabled)
		what |= TS_USER_REVOKE_ALL;
	if (has_change(changes, "mobile_access") &&
	    !json_is_true(json_object_get(u->profile, "mobile_access")))
		what |= TS_USER_REVOKE_DEVICE_KEY;
	/* Resetting or moving the bound device, or a new app password, locks
	 * the device that logged in before out: its key goes with the change. */
	if (has_change(changes, "device_id") || has_change(changes, "app_password"))
		what |= TS_USER_REVOKE_DEVICE_KEY;
	return what;
}

/* Room for the sentence of a spec that ts_admin_user_hash_ahead skips. */
#define HASH_AHEAD_ERR_MAX 512

void ts_admin_user_hash_ahead(struct ts_admin *a, const char *tenant, const json_t *spec)
{
	struct user_spec u;
	struct ts_tenant_rec *t = NULL;
	struct ts_user_rec *old = NULL;
	struct ts_user_rec rec;
	char err[HASH_AHEAD_ERR_MAX];
	bool ch_pw, ch_app;

	if (a->pw_memo == NULL)
		return;
	/* A spec the apply will refuse is left to it to report. */
	if (user_parse(spec, &u, err, sizeof(err)) != TS_OK)
		goto out;
	/* A tenant or user the file creates has no stored hash yet. */
	if (ts_store_tenant_get(a->store, tenant, &t) == TS_OK &&
	    ts_store_user_find(a->store, t->id, u.username, &old) != TS_OK)
		old = NULL;
	memset(&rec, 0, sizeof(rec));
	user_hashes(a->pw_memo, tenant, &u, old, &rec, &ch_pw, &ch_app);
	ts_free_secret(rec.password_hash);
	ts_free_secret(rec.app_password_hash);
out:
	json_decref(u.profile);
	ts_user_rec_free(old);
	ts_tenant_rec_free(t);
}

int ts_admin_user_apply(struct ts_admin *a, const char *tenant, const json_t *spec,
			const char **result, char *err, size_t errcap)
{
	struct user_spec u;
	struct ts_tenant_rec *t = NULL;
	struct ts_user_rec *old = NULL, rec;
	json_t *changes = json_array();
	unsigned revoke;
	char id[37];
	int rc;

	memset(&rec, 0, sizeof(rec));
	*result = NULL;
	if (errcap)
		err[0] = '\0';
	rc = user_parse(spec, &u, err, errcap);
	if (rc != TS_OK)
		goto out;
	rc = ts_store_tenant_get(a->store, tenant, &t);
	if (rc == TS_ENOTFOUND)
		rc = ts_admin_fail(err, errcap, "no tenant named \"%s\"", tenant);
	if (rc == TS_OK)
		rc = check_roles(t, u.profile, u.username, err, errcap);
	if (rc == TS_OK)
		rc = ts_store_user_find(a->store, t->id, u.username, &old);
	if (rc == TS_ENOTFOUND)
		rc = TS_OK;
	if (rc == TS_OK && old == NULL)
		rc = ts_rand_uuid(id);
	if (rc == TS_OK)
		rc = user_build(a->pw_memo, tenant, &u, old, &rec, changes);
	if (rc != TS_OK)
		goto out;
	rec.tenant_id = t->id;
	rec.id = old ? old->id : id;
	rec.username = (char *)u.username;
	rec.created_at = old ? old->created_at : ts_now();
	rec.updated_at = ts_now();
	*result = old == NULL ? "created" : json_array_size(changes) ? "updated" : "unchanged";
	if (strcmp(*result, "unchanged") == 0)
		goto out;
	revoke = revoking(&u, old, &rec, changes);
	rc = revoke ? ts_store_user_put_revoke(a->store, &rec, revoke)
		    : ts_store_user_put(a->store, &rec);
	if (rc == TS_EEXIST)
		rc = ts_admin_fail(err, errcap, "user %s: the username is taken", u.username);
	if (rc != TS_OK)
		goto out;
	ts_admin_audit(a, tenant, old ? "user.updated" : "user.created", u.username,
	      json_pack("{s:s,s:O}", "id", rec.id, "changes", changes));
	/* Changing a password ends the user's sessions (disabling them ended
	 * them with the write). */
	if (old && !rec.disabled && has_change(changes, "password"))
		rc = ts_store_session_delete_user(a->store, t->id, rec.id);
out:
	if (rc != TS_OK) {
		*result = NULL;
		if (err[0] == '\0')
			ts_admin_fail(err, errcap, "could not save user (%s)", ts_rc_str(rc));
	}
	free(rec.password_hash);
	free(rec.app_password_hash);
	free(rec.device_id);
	free(rec.profile);
	json_decref(u.profile);
	json_decref(changes);
	ts_user_rec_free(old);
	ts_tenant_rec_free(t);
	return rc;
}
