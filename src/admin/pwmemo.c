/* pwmemo.c: password hashes picked ahead of a write batch. Argon2id costs
 * tens of milliseconds a secret, to hash and to verify; a bootstrap file
 * with hundreds of users would spend seconds on it inside its batch,
 * holding SQLite's write lock while a running server's writes wait. The
 * bootstrap command picks every user's hashes first (outside the batch),
 * and the apply inside the batch finds them here. An entry is keyed by
 * whose secret it is (tenant, user, which secret), the stored hash it
 * replaces and the secret's SHA-256: never shared between two secrets,
 * so two people with the same password still get hashes of their own
 * salts, and a user changed between the two steps is worked out again. */
#include "internal.h"

#include "identity/identity.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

struct ts_pwmemo_ent {
	char *who;                          /* whose secret: tenant, user, which */
	char *old;                          /* the stored hash it replaces, or NULL */
	unsigned char secret[TS_SHA256_LEN]; /* SHA-256 of the secret */
	char *hash;                         /* what to store */
	bool changed;                       /* hash differs from old */
};

static bool same_old(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static const struct ts_pwmemo_ent *find(const struct ts_pwmemo *m, const char *who,
					const char *old, const unsigned char secret[TS_SHA256_LEN])
{
	size_t i;

	for (i = 0; m && i < m->n; i++)
		if (strcmp(m->v[i].who, who) == 0 && same_old(m->v[i].old, old) &&
		    ts_ct_equal_fixed(m->v[i].secret, secret, TS_SHA256_LEN))
			return &m->v[i];
	return NULL;
}

static void remember(struct ts_pwmemo *m, const char *who, const char *old,
		     const unsigned char secret[TS_SHA256_LEN], const char *hash, bool changed)
{
	struct ts_pwmemo_ent *e;

	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 16;
		m->v = ts_xrealloc(m->v, m->cap * sizeof(*m->v));
	}
	e = &m->v[m->n++];
	e->who = ts_xstrdup(who);
	e->old = old ? ts_xstrdup(old) : NULL;
	memcpy(e->secret, secret, TS_SHA256_LEN);
	e->hash = ts_xstrdup(hash);
	e->changed = changed;
}

int ts_admin_pick_hash(struct ts_pwmemo *m, const char *who, const char *old, const char *secret,
		       char **out, bool *changed)
{
	unsigned char digest[TS_SHA256_LEN];
	const struct ts_pwmemo_ent *e;
	bool rehash = false;
	int rc = TS_OK;

	*changed = false;
	*out = NULL;
	if (secret == NULL) {
		*out = old ? ts_xstrdup(old) : NULL;
		return TS_OK;
	}
	ts_sha256(secret, strlen(secret), digest);
	e = find(m, who, old, digest);
	if (e) {
		*out = ts_xstrdup(e->hash);
		*changed = e->changed;
	} else if (old && ts_password_verify(old, secret, &rehash) == TS_OK && !rehash) {
		*out = ts_xstrdup(old);
	} else {
		*changed = true;
		rc = ts_password_hash(secret, out);
	}
	if (rc == TS_OK && m && e == NULL)
		remember(m, who, old, digest, *out, *changed);
	OPENSSL_cleanse(digest, sizeof(digest));
	return rc;
}

void ts_pwmemo_clear(struct ts_pwmemo *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++) {
		free(m->v[i].who);
		ts_free_secret(m->v[i].old);
		ts_free_secret(m->v[i].hash);
		OPENSSL_cleanse(m->v[i].secret, TS_SHA256_LEN);
	}
	free(m->v);
	memset(m, 0, sizeof(*m));
}
