/* admin.h: configuration as objects: the validation and the
 * create/update of tenants, clients, signing keys, users, groups and
 * token-vault providers, each from a JSON spec, one file per kind. The
 * CLI and the bootstrap file both go through here (as should any API that
 * changes configuration), so they accept exactly the same input and write
 * the same audit events. Validation (the _validate calls) needs no
 * storage, so a whole bootstrap file is checked before anything is
 * written.
 *
 * Every call that can refuse its input writes one sentence into err
 * (capacity errcap or cap) and returns TS_EINVAL; a storage failure is
 * its return code with a sentence as well ("could not save user (…)"). */
#ifndef TS_ADMIN_H
#define TS_ADMIN_H

#include "core/core.h"
#include "jose/jose.h"
#include "tenant/tenant.h"

#include <jansson.h>

struct ts_key_rec;
struct ts_store;
struct ts_tenant_rec;

struct ts_vault;

/* ---- tenants, clients and signing keys ---- */

/* RSA keys generated ahead of need (RSA generation is slow): filled on
 * one thread per CPU, taken one at a time by the thread that creates
 * tenants. Zero-initialised; owned by its user, cleared with
 * ts_keypool_clear. Not shared between threads. */
struct ts_keypool {
	struct ts_jwk **keys; /* RS256 private keys, owned */
	size_t n, cap;
};
/* Generates RS256 keys until the pool holds want (none if it does). The
 * first generation failure is returned; the keys made stay. */
int ts_keypool_fill(struct ts_keypool *p, size_t want);
/* One key, owned by the caller from then on, or NULL when empty. */
struct ts_jwk *ts_keypool_take(struct ts_keypool *p);
void ts_keypool_clear(struct ts_keypool *p); /* NULL is a no-op */

/* Password hashes picked ahead of a write batch (pwmemo.c): Argon2id is
 * slow, and a batch holds the database's write lock. Zero-initialised,
 * owned by its user, cleared with ts_pwmemo_clear. Not shared between
 * threads. */
struct ts_pwmemo_ent;
struct ts_pwmemo {
	struct ts_pwmemo_ent *v;
	size_t n, cap;
};
void ts_pwmemo_clear(struct ts_pwmemo *m); /* NULL is a no-op */

/* The context of administrative operations. */
struct ts_admin {
	struct ts_store *store;
	const struct ts_master_key *mk; /* seals new private keys; NULL: cannot create keys */
	const char *public_url;
	const char *actor;              /* for audit: "cli", "bootstrap" */
	struct ts_keypool *rsa_pool;    /* RS256 keys to use before generating any, or NULL */
	struct ts_pwmemo *pw_memo;      /* password hashes picked ahead, or NULL */
};

/* Validates a tenant spec object (the bootstrap file's tenant without its
 * users/groups/clients/providers/connections members) and creates or updates
 * the tenant. *result gets "created", "updated" or "unchanged". Unknown
 * members are TS_EINVAL with err naming the field. Keys for every served
 * algorithm are ensured. err (capacity errcap) receives one sentence. */
int ts_admin_tenant_apply(struct ts_admin *a, const json_t *spec, const char **result,
			  char *err, size_t errcap);
/* Validates and creates or updates a client of a tenant. If the spec gives
 * no secret and a confidential client is created, a 256-bit secret is
 * generated and returned in *new_secret (caller frees with ts_free_secret). */
int ts_admin_client_apply(struct ts_admin *a, const char *tenant, const json_t *spec,
			  const char **result, char **new_secret, char *err, size_t errcap);
/* As ts_admin_client_apply, but only for a client that exists: it is
 * changed by a write that creates nothing, so TS_ENOTFOUND (err says so)
 * when there is no such client, also when a delete removed it after it
 * was read. */
int ts_admin_client_update(struct ts_admin *a, const char *tenant, const json_t *spec,
			   const char **result, char **new_secret, char *err, size_t errcap);
/* Whether s may be a client's redirect URI (absolute, no fragment, no
 * dangerous scheme, printable): the rule every client spec is held to. */
bool ts_admin_redirect_uri_ok(const char *s);
/* Appends one audit record of a change (detail, which may be NULL, is
 * stolen). The validators' shared checks (ts_admin_fail,
 * ts_admin_check_known, ts_admin_printable) are in tenant/tenant.h. */
void ts_admin_audit(struct ts_admin *a, const char *tenant, const char *type, const char *subject,
		    json_t *detail);

/* Validation only, without storage: the same checks as the _apply calls,
 * so a bootstrap file can be checked whole before anything is written. */
int ts_admin_tenant_validate(const json_t *spec, char *err, size_t errcap);
int ts_admin_client_validate(const json_t *spec, char *err, size_t errcap);
/* Issues a fresh secret for a confidential client. */
int ts_admin_client_rotate_secret(struct ts_admin *a, const char *tenant, const char *client_id,
				  char **new_secret, char *err, size_t errcap);
/* RSA algorithms a tenant serves only where a client needs them. */
#define TS_ADMIN_NEED_RS256 1u
#define TS_ADMIN_NEED_PS256 2u

/* Ensures a current and a next key for every algorithm the tenant serves,
 * and drops retired keys whose tokens have all expired. A tenant serves
 * ES256 and EdDSA, its access-token algorithm, and RS256 or PS256 where a
 * client of it needs them for ID tokens (ts_admin_client_key_needs) or it
 * has such keys already. ts_admin_keys_ensure_for with need (TS_ADMIN_NEED_*
 * bits, not 0) ensures those as well, without reading the clients (for a
 * client about to be stored). */
int ts_admin_keys_ensure(struct ts_admin *a, const struct ts_tenant_rec *t);
int ts_admin_keys_ensure_for(struct ts_admin *a, const struct ts_tenant_rec *t, unsigned need);
/* The RSA algorithms (TS_ADMIN_NEED_* bits) a client, its stored
 * configuration JSON, needs keys of for its ID tokens: none unless it has
 * a grant through which a person signs in; then its ID-token algorithm,
 * RS256 by default, or PS256. */
unsigned ts_admin_client_key_needs(const char *client_config);
/* The same for a tenant spec of a bootstrap file, before anything is
 * stored: whether creating it makes RS256 keys (its access-token algorithm,
 * or a client spec that needs them, the client defaults applied). */
bool ts_admin_tenant_spec_needs_rsa(const json_t *tenant_spec);
/* ts_admin_keys_ensure for every tenant, with three list queries in all
 * (the server's periodic maintenance). A tenant that fails is logged and
 * the others go on; the return code is that of the listing. */
int ts_admin_keys_maintain(struct ts_admin *a);
/* Rotation: for alg (or every served alg when TS_ALG_NONE) the next key
 * (already published) becomes current, the current one is retired, and a
 * new next key is generated and published. A next key published for
 * less than TS_JWKS_MAX_AGE_S is promoted too (verifiers with a cached
 * JWKS may refuse its tokens until their cache ends): on TS_OK err then
 * holds a warning of one sentence, unless force; otherwise it is empty. */
int ts_admin_keys_rotate(struct ts_admin *a, const char *tenant, enum ts_jws_alg alg, bool force,
			 char *err, size_t errcap);
/* One rotation step of tenant t for alg at time now, in one transaction:
 * the oldest next key among keys (t's keys, as listed; the states of those
 * kept are updated in place) becomes current, every current one is
 * retired, the newest other next key stays next (or a new one is
 * published) and any further next key is deleted. TS_ENOTFOUND when alg
 * has no next key. */
int ts_admin_keys_promote(struct ts_admin *a, const struct ts_tenant_rec *t,
			  struct ts_key_rec *const *keys, size_t nkeys, enum ts_jws_alg alg,
			  int64_t now);

/* ---- automatic signing-key rotation (key_rotation.c) ---- */

/* A tenant's "key_rotation": whole seconds between rotations, 0 for
 * manual rotation only; the default, and its bounds. */
#define TS_KEY_ROTATION_DEFAULT_S (90 * TS_SECONDS_PER_DAY)
#define TS_KEY_ROTATION_MIN_S TS_SECONDS_PER_HOUR
#define TS_KEY_ROTATION_MAX_S (3650 * TS_SECONDS_PER_DAY)
/* How long a retired key stays in JWKS under tenant configuration cfg:
 * max(access-token TTL, ID-token TTL) + 300 s. A key_rotation other than
 * 0 must be at least that, so JWKS holds few retired keys. */
int64_t ts_admin_key_retention(const json_t *cfg);
/* How long a next key must have been published before it may sign: the
 * JWKS answer's max-age (300 s) and the 2 s a change takes to reach every
 * server, so no verifier's cached key set can lack it. */
#define TS_JWKS_MAX_AGE_S 300
#define TS_KEY_PUBLISH_LEAD_S (TS_JWKS_MAX_AGE_S + 2)

/* The tenant's key-rotation lease, for owner (unique to its process),
 * which every rotation of the tenant's keys holds, automatic or by hand:
 * TS_OK once taken, TS_ECONFLICT if another holder still has it after
 * wait_ms. ts_admin_keys_release gives it back. */
int ts_admin_keys_lease(struct ts_admin *a, const char *tenant_id, const char *owner,
			int64_t wait_ms);
void ts_admin_keys_release(struct ts_admin *a, const char *tenant_id, const char *owner);
/* The key_rotation of a tenant configuration (the default when absent). */
int64_t ts_admin_key_rotation(const json_t *tenant_cfg);
/* Told of every automatic rotation: tenant name, algorithm, and TS_OK;
 * or of a failed one: tenant name, TS_ALG_NONE and the failure's code. */
typedef void (*ts_admin_rotated_fn)(void *arg, const char *tenant, enum ts_jws_alg alg, int rc);
/* Whether the caller is stopping (asked between tenants). */
typedef bool (*ts_admin_stopping_fn)(void *arg);
/* Whether a due tenant (its name) is to be left for now: one whose
 * rotations keep failing, backing off. */
typedef bool (*ts_admin_waiting_fn)(void *arg, const char *tenant);
/* Rotates, at time now, every algorithm of every tenant that is due: its
 * current key was promoted key_rotation or more ago and its next key has
 * been published TS_KEY_PUBLISH_LEAD_S or more (otherwise it waits). The
 * due tenants come from one query; each is rotated under a storage lease
 * held by owner (a server's unique id) and checked again under it, so of
 * the servers sharing a store one rotates and the others find nothing to
 * do. Each tenant is rotated at now plus the time since the call began.
 * Audited under a->actor; rotated (may be NULL) is called for each
 * rotation and each tenant that failed. A tenant that fails is logged and the others go on; the return
 * code is that of the query. stopping (may be NULL) is asked before each
 * tenant, and no further tenant is rotated once it says true; waiting (may
 * be NULL) is asked of each due tenant, and one it says true of is left
 * alone this time. */
int ts_admin_keys_rotate_due(struct ts_admin *a, int64_t now, const char *owner,
			     ts_admin_rotated_fn rotated, ts_admin_stopping_fn stopping,
			     ts_admin_waiting_fn waiting, void *arg);
/* The rotation schedule of a tenant (its record and its keys, as listed)
 * at time now: {"key_rotation": N, "schedule": [{"alg", "current",
 * "promoted_at", "next", "next_published_at", "next_rotation_at"}]}, one
 * entry per algorithm with a current key; next_rotation_at is null when
 * key_rotation is 0. A new reference. */
json_t *ts_admin_key_schedule(const struct ts_tenant_rec *t, struct ts_key_rec *const *keys,
			      size_t nkeys);

/* ---- users and groups ---- */

/* A username: 1 to 254 bytes of printable characters (no control
 * characters), without a space at either end. */
bool ts_username_ok(const char *s);
/* Validation only (no storage): the bootstrap file's user object:
 * username, password, email, name, roles, disabled,
 * mobile_access, app_password, device_id (plus password_env,
 * app_password_env). Unknown fields are TS_EINVAL naming the field.
 * Passwords and app passwords have 8 to TS_PASSWORD_MAX bytes' worth of
 * characters; email, name and roles go to the profile. err (capacity
 * errcap > 0) receives one sentence. */
int ts_admin_user_validate(const json_t *spec, char *err, size_t errcap);
/* Creates or updates a user of tenant from spec. Roles must be roles of
 * the tenant. Supplied passwords are hashed with Argon2id; re-applying the
 * same password leaves the user unchanged. *result: created, updated,
 * unchanged. Disabling a user ends their sessions.
 * An existing user keeps id and created_at; the spec's email, name, roles,
 * mobile_access and disabled replace the stored ones (omitted: none/false),
 * while an omitted password or app password keeps the stored hash, an
 * omitted device_id keeps the bound device and "device_id": null unbinds
 * it (the next mobile login binds). Changing the password also ends the
 * user's sessions. Writes a user.created/user.updated audit event. */
/* Picks into a->pw_memo (nothing when NULL) the password and app password
 * hashes that ts_admin_user_apply of the same spec would, outside any
 * write batch, so that the apply in the batch spends no time on Argon2id.
 * Best effort: a spec or storage failure is left to the apply to report. */
void ts_admin_user_hash_ahead(struct ts_admin *a, const char *tenant, const json_t *spec);
int ts_admin_user_apply(struct ts_admin *a, const char *tenant, const json_t *spec,
			const char **result, char *err, size_t errcap);
/* Group object: {name, members: [usernames]}. Creates the group if needed
 * and makes its membership exactly the list given (without "members" the
 * membership is left as it is). Every member must be an existing user of
 * the tenant; all are resolved before anything is written. *result:
 * created, updated (membership changed), unchanged. *group_id (caller
 * frees) gets its id. Writes group.created and group.member_added/_removed
 * audit events. */
int ts_admin_group_validate(const json_t *spec, char *err, size_t errcap);
int ts_admin_group_apply(struct ts_admin *a, const char *tenant, const json_t *spec,
			 const char **result, char **group_id, char *err, size_t errcap);

/* ---- providers of the token vault ---- */

/* Validates a provider spec (the bootstrap file's object, or what the CLI
 * built) without storage: kind, profile, URLs, credentials, every field
 * known (an unknown field is an error naming it). When require_secret is
 * false a missing client_secret/partner_key is accepted (an update that
 * keeps the stored one). err (capacity cap) receives one sentence. */
int ts_admin_provider_validate(const json_t *spec, bool require_secret, char *err, size_t cap);
/* Validates and creates or updates a provider of tenant (by name). The
 * secret is sealed under mks[0]; with keep_secret, a spec without one
 * keeps the stored secret. *result: "created", "updated" or "unchanged".
 * v is the vault context (vault/vault.h), which seals and stores it. */
int ts_admin_provider_apply(struct ts_vault *v, const char *tenant, const json_t *spec,
			    bool keep_secret, const char **result, char *err, size_t cap);

#endif
