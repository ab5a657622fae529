/* password.c: human passwords as Argon2id PHC strings (RFC 9106 §4, second
 * recommended option scaled to OWASP's minimum: m=19 MiB, t=2, p=1), with a
 * counting semaphore so that a burst of logins cannot take more than a
 * bounded amount of memory and cores, and a dummy hash so that unknown users
 * cost the same as known ones. */
#include "identity.h"

#include "wire/ascii.h"

#include <argon2.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SALT_LEN 16
#define HASH_LEN 32
/* Hashes read back from storage are ours, but a corrupted or hand-edited row
 * must not make one verification allocate gigabytes or run for minutes. */
#define VERIFY_M_KIB_MAX (1024u * 1024u)
#define VERIFY_T_MAX 64u
#define VERIFY_P_MAX 16u

/* The semaphore: at most `limit` hashes run at once; 0 until first use,
 * when it becomes the number of online cores. */
static pthread_mutex_t sem_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sem_cv = PTHREAD_COND_INITIALIZER;
static unsigned sem_limit;
static unsigned sem_running;

static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char *dummy_phc; /* set once, never freed: process lifetime */

static unsigned online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1u : n > (long)UINT_MAX ? UINT_MAX : (unsigned)n;
}

void ts_password_set_concurrency(unsigned n)
{
	pthread_mutex_lock(&sem_mu);
	sem_limit = n ? n : online_cpus();
	/* Waiters re-check against the new limit. */
	pthread_cond_broadcast(&sem_cv);
	pthread_mutex_unlock(&sem_mu);
}

static void sem_acquire(void)
{
	pthread_mutex_lock(&sem_mu);
	if (sem_limit == 0)
		sem_limit = online_cpus();
	while (sem_running >= sem_limit)
		pthread_cond_wait(&sem_cv, &sem_mu);
	sem_running++;
	pthread_mutex_unlock(&sem_mu);
}

static void sem_release(void)
{
	pthread_mutex_lock(&sem_mu);
	sem_running--;
	pthread_cond_signal(&sem_cv);
	pthread_mutex_unlock(&sem_mu);
}

/* Hashes pwd (len bytes) with the current parameters under the semaphore. */
static int hash_encoded(const void *pwd, size_t len, char **out)
{
	unsigned char salt[SALT_LEN];
	size_t cap = argon2_encodedlen(TS_ARGON2_T, TS_ARGON2_M_KIB, TS_ARGON2_P, SALT_LEN,
				       HASH_LEN, Argon2_id);
	char *enc;
	int rc, arc;

	*out = NULL;
	rc = ts_rand_bytes(salt, sizeof(salt));
	if (rc != TS_OK)
		return rc;
	enc = ts_xmalloc(cap);
	sem_acquire();
	arc = argon2id_hash_encoded(TS_ARGON2_T, TS_ARGON2_M_KIB, TS_ARGON2_P, pwd, len, salt,
				    sizeof(salt), HASH_LEN, enc, cap);
	sem_release();
	if (arc != ARGON2_OK) {
		ts_log_err("argon2id_hash_encoded failed: %s", argon2_error_message(arc));
		free(enc);
		return arc == ARGON2_MEMORY_ALLOCATION_ERROR ? TS_ENOMEM : TS_ECRYPTO;
	}
	*out = enc;
	return TS_OK;
}

int ts_password_hash(const char *password, char **out)
{
	size_t len;

	*out = NULL;
	if (password == NULL)
		return TS_EINVAL;
	len = strlen(password);
	if (len == 0 || len > TS_PASSWORD_MAX)
		return TS_EINVAL;
	return hash_encoded(password, len, out);
}

/* A hash of a random password, so that checking it costs what checking a
 * real user's hash costs and never matches anything a client can send. */
static void dummy_init(void)
{
	unsigned char pw[32];

	/* On failure dummy_phc stays NULL and unknown users are refused at once. */
	if (ts_rand_bytes(pw, sizeof(pw)) == TS_OK)
		(void)hash_encoded(pw, sizeof(pw), &dummy_phc);
	OPENSSL_cleanse(pw, sizeof(pw));
}

/* Reads "<name>=<digits>" at *p (ending at ',' or '$'); advances *p. */
static bool param(const char **p, const char *name, unsigned long *out)
{
	size_t n = strlen(name);
	unsigned long v = 0;
	const char *s = *p;

	if (strncmp(s, name, n) != 0 || s[n] != '=')
		return false;
	s += n + 1;
	if (!ts_is_digit((unsigned char)*s))
		return false;
	while (ts_is_digit((unsigned char)*s)) {
		if (v > (ULONG_MAX - 9) / 10)
			return false;
		v = v * 10 + (unsigned long)(*s++ - '0');
	}
	*out = v;
	*p = s;
	return true;
}

/* Parses the head of an Argon2id PHC string: "$argon2id$v=19$m=M,t=T,p=P$".
 * false for anything else (another variant or version, a malformed head). */
static bool phc_params(const char *phc, unsigned long *m, unsigned long *t, unsigned long *p)
{
	static const char prefix[] = "$argon2id$";
	const char *s = phc;
	unsigned long v;

	if (s == NULL || strncmp(s, prefix, sizeof(prefix) - 1) != 0)
		return false;
	s += sizeof(prefix) - 1;
	if (!param(&s, "v", &v) || v != ARGON2_VERSION_13 || *s++ != '$')
		return false;
	if (!param(&s, "m", m) || *s++ != ',' || !param(&s, "t", t) || *s++ != ',' ||
	    !param(&s, "p", p) || *s != '$')
		return false;
	return true;
}

int ts_password_verify(const char *phc, const char *password, bool *needs_rehash)
{
	unsigned long m = 0, t = 0, p = 0;
	const char *pw = password ? password : "";
	size_t len = strlen(pw);
	bool dummy = phc == NULL, usable;
	int arc;

	if (needs_rehash)
		*needs_rehash = false;
	pthread_once(&dummy_once, dummy_init);
	usable = phc_params(phc, &m, &t, &p) && m <= VERIFY_M_KIB_MAX && t <= VERIFY_T_MAX &&
		 p <= VERIFY_P_MAX;
	if (phc && !usable) {
		ts_log_err("stored password hash is not a usable Argon2id string");
		dummy = true;
	}
	if (usable && needs_rehash)
		*needs_rehash = m != TS_ARGON2_M_KIB || t != TS_ARGON2_T || p != TS_ARGON2_P;
	/* An oversized password is refused, after the same work as any other. */
	if (len > TS_PASSWORD_MAX) {
		dummy = true;
		len = 0;
	}
	if (dummy) {
		if (dummy_phc == NULL)
			return TS_EDENIED;
		sem_acquire();
		(void)argon2id_verify(dummy_phc, pw, len);
		sem_release();
		return TS_EDENIED;
	}
	sem_acquire();
	/* argon2id_verify recomputes the hash and compares it in constant time. */
	arc = argon2id_verify(phc, pw, len);
	sem_release();
	if (arc != ARGON2_OK) {
		if (arc != ARGON2_VERIFY_MISMATCH)
			ts_log_warn("argon2id_verify failed: %s", argon2_error_message(arc));
		return TS_EDENIED;
	}
	return TS_OK;
}
