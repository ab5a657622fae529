/* identity.h: people: password hashing (Argon2id, RFC 9106), throttling of
 * failed password and client checks, the public view of a user, and what
 * group names may be. Creating and changing users and groups is
 * src/admin/. */
#ifndef TS_IDENTITY_H
#define TS_IDENTITY_H

#include "core/core.h"
#include "tenant/tenant.h"

#include <jansson.h>

struct ts_session_rec;
struct ts_store;
struct ts_user_rec;

/* Argon2id parameters for new hashes (OWASP minimum: 19 MiB, 2 passes, 1 lane). */
#define TS_ARGON2_M_KIB 19456
#define TS_ARGON2_T 2
#define TS_ARGON2_P 1
#define TS_PASSWORD_MAX 1024

/* Bounds how many hashes run at once (each takes 19 MiB and a core).
 * 0 means one per core. Call once at start-up; without it the bound is the
 * number of cores. */
void ts_password_set_concurrency(unsigned n);
/* Hashes a password into a PHC string ("$argon2id$v=19$m=...,t=...,p=...$salt$hash")
 * that the caller frees. TS_EINVAL for an empty or oversized password. */
int ts_password_hash(const char *password, char **out);
/* Checks password against a PHC string in constant time with respect to
 * the password. With phc NULL (unknown user, no password set) a dummy hash
 * of the same cost is checked, so timing does not reveal whether the user
 * exists, and the answer is TS_EDENIED. *needs_rehash (may be NULL) is set
 * when the hash's parameters differ from the current ones.
 * TS_OK on a match, TS_EDENIED otherwise. */
int ts_password_verify(const char *phc, const char *password, bool *needs_rehash);

/* Throttling of failures, by key (e.g. "acme/user:alice@acme.test",
 * "acme/ip:127.0.0.1", "acme/client:svc/ip:127.0.0.1"). A fixed table of
 * atomic counters, so checks take no lock. Within a window of 15 minutes,
 * after a policy's free failures each new attempt must wait a growing
 * delay, and after its max failures every attempt is refused until the
 * window ends. The state is per process. */
#define TS_THROTTLE_WINDOW_S (15 * TS_SECONDS_PER_MINUTE)
#define TS_THROTTLE_FREE 5       /* per account: free failures */
#define TS_THROTTLE_MAX 20       /* per account: refused from here on */
#define TS_THROTTLE_ADDR_MAX 100 /* per client address across accounts */
#define TS_THROTTLE_COUNT_MAX 127 /* counts saturate here */

/* How a kind of key is throttled. */
struct ts_throttle_policy {
	unsigned free; /* failures before any delay */
	unsigned max;  /* failures after which every attempt is refused */
};
/* One account (a username, known or not; a client at one address): five
 * failures free, then 1, 2, 4 ... 60 s delays, refused after 20. */
extern const struct ts_throttle_policy ts_throttle_account;
/* One client address across every account: no delay, refused after 100, so
 * that the typos of many people behind one NAT or proxy lock nobody out. */
extern const struct ts_throttle_policy ts_throttle_address;

struct ts_throttle;
/* A new, empty table (owned by the caller; ts_throttle_free). NULL if the
 * random key that spreads keys over it cannot be drawn. */
struct ts_throttle *ts_throttle_new(void);
void ts_throttle_free(struct ts_throttle *t); /* NULL is a no-op */
/* The rule itself, for a window kept anywhere (this table, or a store
 * that several servers share): a window that began at start holds
 * failures, the latest of them in second last. TS_OK if an attempt may be
 * made now; TS_EDENIED with *retry_after (seconds, >= 1; may be NULL)
 * otherwise. A window that has ended allows anything. */
int ts_throttle_decide(const struct ts_throttle_policy *p, int64_t start, unsigned failures,
		       int64_t last, int64_t now, int *retry_after);
/* With the account policy: TS_OK if an attempt may be made now; TS_EDENIED
 * with *retry_after (seconds, >= 1) otherwise. */
int ts_throttle_check(struct ts_throttle *t, const char *key, int64_t now, int *retry_after);
void ts_throttle_fail(struct ts_throttle *t, const char *key, int64_t now);
/* Decides and counts in one atomic step: if p allows an attempt now, it is
 * counted as a failure at once (TS_OK) so that attempts running in
 * parallel each see the others; otherwise TS_EDENIED with *retry_after,
 * and nothing is counted. A success then takes the count back
 * (ts_throttle_reset or ts_throttle_release). */
int ts_throttle_reserve(struct ts_throttle *t, const char *key, const struct ts_throttle_policy *p,
			int64_t now, int *retry_after);
/* Takes one counted failure of the key back (a reservation that
 * succeeded), if its window is still the live one. */
void ts_throttle_release(struct ts_throttle *t, const char *key, int64_t now);
/* Clears a key's failures (after a success). */
void ts_throttle_reset(struct ts_throttle *t, const char *key);

/* The public view of a user (no hashes): {id, username, email, name,
 * roles, disabled, mobile_access, device_bound, created_at}. New reference. */
json_t *ts_user_view(const struct ts_user_rec *u);
/* The user's roles (borrowed from a parsed profile) and a few profile
 * lookups, on a parsed profile object. */
bool ts_user_has_role(const json_t *profile, const char *role);

/* A group name: 1 to TS_GROUP_NAME_MAX printable characters, no space at
 * either end. */
#define TS_GROUP_NAME_MAX 128
bool ts_group_name_ok(const char *s);
/* A group's organization id: 1 to TS_GROUP_ORG_MAX printable bytes
 * without spaces. */
#define TS_GROUP_ORG_MAX 128
bool ts_group_org_ok(const char *s);

/* ---- a person acting directly (person.c) ---- */
/* The user of API key "key:secret" of the tenant: TS_OK with *out (owned)
 * when the key exists, its secret matches (compared in constant time) and
 * its user is enabled (a device key also needs the user's mobile access).
 * TS_EDENIED if anything is off, the same for an unknown key and a wrong
 * secret. TS_ESTORE. */
int ts_apikey_user(struct ts_store *st, const char *tenant_id, const char *key, const char *secret,
		   struct ts_user_rec **out);
/* The user's roles (its profile's "roles"), a new array reference. */
json_t *ts_user_roles(const struct ts_user_rec *u);
/* The scopes a person acting directly (API key, session) holds: every
 * scope that an enabled client with a person's grant (authorization_code,
 * password, device code) lists. Space-separated, sorted, arena string. */
const char *ts_person_scope(const struct ts_tenant *t, struct ts_arena *a);

/* ---- browser sessions (session.c) ---- */
#define TS_SESSION_IDLE_S (30 * TS_SECONDS_PER_MINUTE)
#define TS_SESSION_ABSOLUTE_S (12 * TS_SECONDS_PER_HOUR)
/* The live session whose id is raw, of tenant tenant_id, and its user:
 * TS_OK with *sess and *user owned by the caller, the session's last use
 * moved to now (written at most once a minute). TS_ENOTFOUND when raw is
 * not a session id's shape, is unknown, another tenant's, past its
 * absolute or idle end, or its user is gone or disabled. TS_ESTORE. */
int ts_session_resolve(struct ts_store *st, const char *tenant_id, const char *raw, int64_t now,
		       struct ts_session_rec **sess, struct ts_user_rec **user);

#endif
