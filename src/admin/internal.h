/* internal.h: what the object kinds of src/admin share (spec.c); not for
 * other modules. */
#ifndef TS_ADMIN_INTERNAL_H
#define TS_ADMIN_INTERNAL_H

#include "admin.h"

#define TS_ADMIN_LIST_MAX 256 /* entries of a list member */
#define TS_ADMIN_STR_MAX 2048 /* bytes of a string member or list entry */

/* RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), at most
 * 128 bytes. */
bool ts_admin_scope_token_ok(const char *s);
/* Copies an optional array of strings into dst[key], each printable and
 * checked by ok (may be NULL); what names the object in the error. */
int ts_admin_copy_strings(json_t *dst, const json_t *src, const char *key, const char *what,
			  bool (*ok)(const char *), char *err, size_t cap);
/* Copies an optional non-empty printable string member into dst[key]. */
int ts_admin_copy_string(json_t *dst, const json_t *src, const char *key, const char *what,
			 char *err, size_t cap);
/* The compatibility settings of a tenant spec (tenant_compat.c): "compat"
 * (distinct profile names, in the order given), "login_client" and
 * "mobile_login_method", checked and copied into cfg. TS_EINVAL with one
 * sentence in err (naming an unknown profile). */
int ts_admin_tenant_compat(json_t *cfg, const json_t *spec, char *err, size_t cap);
/* The hash to store for a secret (pwmemo.c): the old one when no secret
 * is given or the given one still matches it at the current cost, else a
 * new Argon2id hash; *changed when it differs from old. m (may be NULL)
 * answers from what it picked earlier for the same who (whose secret
 * this is: tenant, user and which secret) and records what it picks. */
int ts_admin_pick_hash(struct ts_pwmemo *m, const char *who, const char *old, const char *secret,
		       char **out, bool *changed);

#endif
