/* store_people.h: the storage contract for people: users, groups, memberships
 * and API keys (people.c), under the conventions of store_core.h. */
#ifndef TS_STORE_PEOPLE_H
#define TS_STORE_PEOPLE_H

#include "store_core.h"

/* A person of a tenant. username is unique within the tenant without regard
 * to ASCII case; id is a stable UUID (the "sub" of their tokens). */
struct ts_user_rec {
	char *tenant_id;
	char *id;
	char *username;          /* as given; lookups fold ASCII case */
	char *password_hash;     /* Argon2id PHC string, or NULL (no password login) */
	char *app_password_hash; /* Argon2id PHC string of the mobile app password, or NULL */
	char *device_id;         /* bound mobile device, or NULL */
	char *profile;           /* JSON object text: email, name, roles, mobile_access, ... */
	bool disabled;
	int64_t created_at;
	int64_t updated_at;
};

struct ts_group_rec {
	char *tenant_id;
	char *id;   /* stable UUID */
	char *name; /* unique within the tenant */
	int64_t created_at;
	char *org_id; /* the organization it belongs to, or NULL */
};

/* One membership of a group: the member, and when and by whom it was
 * added (a username, a client_id, "bootstrap" or "cli"; added_at 0 and
 * added_by NULL for memberships older than this record). */
struct ts_member_rec {
	struct ts_user_rec *user;
	int64_t added_at;
	char *added_by;
};

/* An API key: a public id ("tk_...") and a secret stored as its SHA-256.
 * A key belongs to a user and acts with that user's roles. Kind "user" is
 * created by the user; kind "device" is the one key of a user's bound
 * mobile device, whose secret is replaced at every mobile login. */
struct ts_apikey_rec {
	char *key;         /* unique across all tenants */
	char *tenant_id;
	char *user_id;
	char *secret_hash; /* hex SHA-256 of the secret */
	char *kind;        /* "user" or "device" */
	char *device_id;   /* device keys: the bound device; else NULL */
	int64_t created_at;
};

/* Inserts or replaces a user by (tenant_id, id). TS_EEXIST if another user
 * of the tenant has the same username (ASCII case folded). Not a
 * configuration write: the generation does not move. */
int ts_store_user_put(struct ts_store *st, const struct ts_user_rec *rec);
int ts_store_user_get(struct ts_store *st, const char *tenant_id, const char *id,
		      struct ts_user_rec **out);

/* What ts_store_user_put_revoke takes from the user with the write. */
#define TS_USER_REVOKE_DEVICE_KEY 1u /* their device key (mobile_access turned off) */
#define TS_USER_REVOKE_ALL 2u        /* every credential (the user disabled) */
/* ts_store_user_put, and in the same transaction: with TS_USER_REVOKE_ALL
 * the access tokens recorded with the user's grants are denied (as
 * revoke_put), their grants and refresh tokens revoked, their unredeemed
 * codes used up, and their sessions and API keys (device key included)
 * deleted; with TS_USER_REVOKE_DEVICE_KEY only their device key is
 * deleted. The account itself, its memberships and consents stay, so
 * enabling it again gives back none of the old credentials. TS_EINVAL
 * for no or unknown flags; otherwise as ts_store_user_put. */
int ts_store_user_put_revoke(struct ts_store *st, const struct ts_user_rec *rec, unsigned what);

/* Binds a user that has no device yet to device_id (and sets updated_at
 * to now), writing nothing else: one conditional update, so of any number
 * of concurrent first logins exactly one binds. TS_ENOTFOUND when there is
 * no such user or it is bound already (the caller re-reads it). */
int ts_store_user_bind_device(struct ts_store *st, const char *tenant_id, const char *id,
			      const char *device_id, int64_t now);

/* Replaces a user's password hash old_hash by new_hash (a rehash with new
 * parameters at login), writing nothing else, and only while the stored
 * hash is still old_hash: a password set or a user changed meanwhile by an
 * administrator is never overwritten. TS_ENOTFOUND when there is no such
 * user or its hash changed. */
int ts_store_user_rehash(struct ts_store *st, const char *tenant_id, const char *id,
			 const char *old_hash, const char *new_hash, int64_t now);

/* By username, ASCII case folded. */
int ts_store_user_find(struct ts_store *st, const char *tenant_id, const char *username,
		       struct ts_user_rec **out);

/* Users of a tenant ordered by username (ASCII case folded). */
int ts_store_user_list(struct ts_store *st, const char *tenant_id, struct ts_user_rec ***out,
		       size_t *n);

/* Deletes the user with their sessions, memberships, consents, codes,
 * grants and refresh tokens; the access-token jtis recorded with their
 * grants are denied first (as revoke_put), in the same transaction. */
int ts_store_user_delete(struct ts_store *st, const char *tenant_id, const char *id);

/* Groups: put by (tenant_id, id); TS_EEXIST for a duplicate name. */
int ts_store_group_put(struct ts_store *st, const struct ts_group_rec *rec);
int ts_store_group_get(struct ts_store *st, const char *tenant_id, const char *id,
		       struct ts_group_rec **out);
int ts_store_group_find(struct ts_store *st, const char *tenant_id, const char *name,
			struct ts_group_rec **out);
int ts_store_group_list(struct ts_store *st, const char *tenant_id, struct ts_group_rec ***out,
			size_t *n);
int ts_store_group_delete(struct ts_store *st, const char *tenant_id, const char *id);

/* Membership; add is idempotent and keeps the first added_at and
 * added_by (TS_ENOTFOUND if the group or user does not exist), remove of
 * a non-member is TS_ENOTFOUND. added_by is who adds: a username, a
 * client_id, "bootstrap" or "cli". */
int ts_store_member_add(struct ts_store *st, const char *tenant_id, const char *group_id,
			const char *user_id, const char *added_by, int64_t added_at);
int ts_store_member_remove(struct ts_store *st, const char *tenant_id, const char *group_id,
			   const char *user_id);

/* Members as user records ordered by username (ASCII case folded). */
int ts_store_member_list(struct ts_store *st, const char *tenant_id, const char *group_id,
			 struct ts_user_rec ***out, size_t *n);

/* *is_member is false on any error. */
int ts_store_member_check(struct ts_store *st, const char *tenant_id, const char *group_id,
			  const char *user_id, bool *is_member);

/* The memberships with their users, in member_list's order. */
int ts_store_member_records(struct ts_store *st, const char *tenant_id, const char *group_id,
			    struct ts_member_rec ***out, size_t *n);

/* Inserts or replaces (by key) an API key; replacing a device key's secret
 * makes the previous secret fail from this write on. TS_ENOTFOUND if the
 * user does not exist. */
int ts_store_apikey_put(struct ts_store *st, const struct ts_apikey_rec *rec);
int ts_store_apikey_get(struct ts_store *st, const char *key, struct ts_apikey_rec **out);

/* The user's device key; TS_ENOTFOUND if none. */
int ts_store_apikey_find_device(struct ts_store *st, const char *tenant_id, const char *user_id,
				struct ts_apikey_rec **out);

/* Keys of a user ordered by creation. */
int ts_store_apikey_list(struct ts_store *st, const char *tenant_id, const char *user_id,
			 struct ts_apikey_rec ***out, size_t *n);
int ts_store_apikey_delete(struct ts_store *st, const char *tenant_id, const char *key);

/* Every key of a user (TS_OK also when there was none). */
int ts_store_apikey_delete_user(struct ts_store *st, const char *tenant_id, const char *user_id);
void ts_apikey_rec_free(struct ts_apikey_rec *r);
void ts_apikey_recs_free(struct ts_apikey_rec **v, size_t n);
void ts_user_rec_free(struct ts_user_rec *r);
void ts_group_rec_free(struct ts_group_rec *r);
void ts_user_recs_free(struct ts_user_rec **v, size_t n);
void ts_group_recs_free(struct ts_group_rec **v, size_t n);
void ts_member_recs_free(struct ts_member_rec **v, size_t n);

#endif
