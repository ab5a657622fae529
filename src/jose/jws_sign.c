/* jws_sign.c: compact JWS signing (RFC 7515 §5.1, §7.1), the hot path of the
 * token endpoint, and the per-thread caches verification shares with it.
 * Each thread keeps a few signing and verification contexts, keyed by the
 * key's process-unique serial (never its address, which a freed key's
 * successor may reuse), so a signature costs the hash and the signature
 * itself; and a small table of the signatures it has verified for Tessera's
 * own keys, so a token introspected again costs one hash. Everything is
 * freed at thread exit by a pthread key destructor. */
#include "jose/internal.h"

#include <openssl/err.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_SLOTS 8
#define SEEN_SLOTS 512 /* verified signatures remembered per thread */
#define SIGN_SCRATCH 4096 /* on-stack signing buffer; larger tokens use the heap */
#define TYP_MAX 128
#define ES256_DER_SIG_MAX 72

struct sign_slot {
	uint64_t serial;       /* the key's serial; 0 when empty */
	uint64_t used;         /* cache tick of the last use, for eviction */
	bool verify;           /* a verification context, not a signing one */
	EVP_PKEY_CTX *pctx;    /* ECDSA and RSA: EVP_PKEY_sign/verify over a SHA-256 */
	EVP_MD_CTX *mctx;      /* Ed25519 signing: one-shot EVP_DigestSign (PureEdDSA) */
};

/* One verified signature: its ts_jws_seen id and the key's serial. */
struct seen_slot {
	unsigned char id[TS_SHA256_LEN];
	uint64_t serial; /* 0 when empty */
};

struct sign_cache {
	struct sign_slot slot[CACHE_SLOTS];
	uint64_t tick;
	struct seen_slot seen[SEEN_SLOTS]; /* direct-mapped by the id's first bytes */
};

static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static pthread_key_t cache_key;
static bool cache_key_ok;
/* A fast path to the same pointer pthread_getspecific would return. */
static _Thread_local struct sign_cache *thread_cache;

static void slot_clear(struct sign_slot *s)
{
	EVP_PKEY_CTX_free(s->pctx);
	EVP_MD_CTX_free(s->mctx);
	memset(s, 0, sizeof(*s));
}

static void cache_destroy(void *p)
{
	struct sign_cache *c = p;
	size_t i;

	for (i = 0; i < CACHE_SLOTS; i++)
		slot_clear(&c->slot[i]);
	free(c);
	thread_cache = NULL;
}

static void cache_key_init(void)
{
	cache_key_ok = pthread_key_create(&cache_key, cache_destroy) == 0;
}

/* This thread's cache, created on first use; NULL if it cannot be
 * registered for cleanup, in which case callers sign without caching. */
static struct sign_cache *cache_get(void)
{
	struct sign_cache *c = thread_cache;

	if (c != NULL)
		return c;
	pthread_once(&cache_once, cache_key_init);
	if (!cache_key_ok)
		return NULL;
	c = ts_xcalloc(1, sizeof(*c));
	if (pthread_setspecific(cache_key, c) != 0) {
		free(c);
		return NULL;
	}
	thread_cache = c;
	return c;
}

void ts_jws_cache_forget(uint64_t serial)
{
	struct sign_cache *c = thread_cache;
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < CACHE_SLOTS; i++) {
		if (c->slot[i].serial == serial)
			slot_clear(&c->slot[i]);
	}
	for (i = 0; i < SEEN_SLOTS; i++) {
		if (c->seen[i].serial == serial)
			memset(&c->seen[i], 0, sizeof(c->seen[i]));
	}
}

/* A verification context: EVP_PKEY_verify over a SHA-256 (ES256, RS256,
 * PS256; Ed25519 verifies the message itself and is not cached). */
static int slot_init_verify(struct sign_slot *s, const struct ts_jwk *k)
{
	if (k->alg == TS_ALG_EDDSA)
		return TS_EINVAL;
	s->pctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
	if (s->pctx == NULL || EVP_PKEY_verify_init(s->pctx) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(s->pctx, EVP_sha256()) != 1 ||
	    (k->alg != TS_ALG_ES256 && ts_jws_rsa_padding(s->pctx, k->alg) != TS_OK)) {
		ts_log_openssl("verification context");
		slot_clear(s);
		return TS_ECRYPTO;
	}
	s->serial = k->serial;
	s->verify = true;
	return TS_OK;
}

static int slot_init(struct sign_slot *s, const struct ts_jwk *k, bool verify)
{
	if (verify)
		return slot_init_verify(s, k);
	if (k->alg == TS_ALG_EDDSA) {
		/* RFC 8037 §3.1: Ed25519 signs the message itself (no prehash), so
		 * it goes through EVP_DigestSign with no digest. */
		s->mctx = EVP_MD_CTX_new();
		if (s->mctx == NULL ||
		    EVP_DigestSignInit_ex(s->mctx, NULL, NULL, NULL, NULL, k->pkey, NULL) != 1)
			goto fail;
	} else {
		s->pctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
		if (s->pctx == NULL || EVP_PKEY_sign_init(s->pctx) != 1 ||
		    EVP_PKEY_CTX_set_signature_md(s->pctx, EVP_sha256()) != 1)
			goto fail;
		if (k->alg != TS_ALG_ES256 && ts_jws_rsa_padding(s->pctx, k->alg) != TS_OK)
			goto fail;
	}
	s->serial = k->serial;
	return TS_OK;
fail:
	ts_log_openssl("signing context");
	slot_clear(s);
	return TS_ECRYPTO;
}

/* The cached slot for k, or a new one evicting the least recently used. */
static struct sign_slot *slot_get(struct sign_cache *c, const struct ts_jwk *k, bool verify)
{
	struct sign_slot *victim = &c->slot[0];
	size_t i;

	c->tick++;
	for (i = 0; i < CACHE_SLOTS; i++) {
		struct sign_slot *s = &c->slot[i];
		if (s->serial == k->serial && s->verify == verify) {
			s->used = c->tick;
			return s;
		}
		if (s->used < victim->used)
			victim = s;
	}
	slot_clear(victim);
	if (slot_init(victim, k, verify) != TS_OK)
		return NULL;
	victim->used = c->tick;
	return victim;
}

static int sign_with(struct sign_slot *s, const struct ts_jwk *k, const void *in, size_t len,
		     unsigned char *sig, size_t *siglen)
{
	unsigned char md[SHA256_DIGEST_LENGTH], der[ES256_DER_SIG_MAX];
	size_t n;

	if (k->alg == TS_ALG_EDDSA) {
		n = TS_JWS_SIG_MAX;
		if (EVP_DigestSign(s->mctx, sig, &n, in, len) != 1 || n != TS_JWS_ED25519_SIG_LEN)
			return TS_ECRYPTO;
		*siglen = n;
		return TS_OK;
	}
	SHA256(in, len, md);
	if (k->alg == TS_ALG_ES256) {
		/* RFC 7518 §3.4: the JWS form is R || S, not OpenSSL's DER. */
		n = sizeof(der);
		if (EVP_PKEY_sign(s->pctx, der, &n, md, sizeof(md)) != 1 ||
		    ts_jws_ecdsa_der_to_raw(der, n, sig) != TS_OK)
			return TS_ECRYPTO;
		ts_jws_ecdsa_normalize(sig); /* verifiers accept only low S */
		*siglen = TS_JWS_ES256_SIG_LEN;
		return TS_OK;
	}
	n = TS_JWS_SIG_MAX;
	if (EVP_PKEY_sign(s->pctx, sig, &n, md, sizeof(md)) != 1)
		return TS_ECRYPTO;
	*siglen = n;
	return TS_OK;
}

int ts_jws_sign_input(const struct ts_jwk *k, const void *in, size_t len, unsigned char *sig,
		      size_t *siglen)
{
	struct sign_cache *c;
	struct sign_slot tmp, *s;
	int rc;

	if (k == NULL || !k->priv || (in == NULL && len > 0))
		return TS_EINVAL;
	c = cache_get();
	if (c == NULL) {
		memset(&tmp, 0, sizeof(tmp));
		s = slot_init(&tmp, k, false) == TS_OK ? &tmp : NULL;
	} else {
		s = slot_get(c, k, false);
	}
	if (s == NULL)
		return TS_ECRYPTO;
	rc = sign_with(s, k, in, len, sig, siglen);
	if (rc != TS_OK) {
		ts_log_openssl("JWS sign");
		/* Do not keep a context in an unknown state. */
		slot_clear(s);
	}
	if (s == &tmp)
		slot_clear(&tmp);
	return rc;
}

int ts_jws_verify_digest(const struct ts_jwk *k, const unsigned char md[TS_SHA256_LEN],
			 const unsigned char *sig, size_t siglen)
{
	struct sign_cache *c;
	struct sign_slot tmp, *s;
	int r;

	if (k == NULL || k->alg == TS_ALG_EDDSA)
		return TS_EINVAL;
	c = cache_get();
	if (c == NULL) {
		memset(&tmp, 0, sizeof(tmp));
		s = slot_init(&tmp, k, true) == TS_OK ? &tmp : NULL;
	} else {
		s = slot_get(c, k, true);
	}
	if (s == NULL)
		return TS_ECRYPTO;
	r = EVP_PKEY_verify(s->pctx, sig, siglen, md, TS_SHA256_LEN);
	/* Anything but 1 is a refusal; a malformed signature is not our error. */
	ERR_clear_error();
	if (s == &tmp)
		slot_clear(&tmp);
	return r == 1 ? TS_OK : TS_EDENIED;
}

static struct seen_slot *seen_slot_of(struct sign_cache *c, const unsigned char id[TS_SHA256_LEN])
{
	size_t h = ((size_t)id[0] << 8) | id[1];

	return &c->seen[h % SEEN_SLOTS];
}

bool ts_jws_seen(const struct ts_jwk *k, const unsigned char id[TS_SHA256_LEN])
{
	struct sign_cache *c = thread_cache;
	const struct seen_slot *e;

	if (c == NULL || k == NULL)
		return false;
	e = seen_slot_of(c, id);
	return e->serial == k->serial && memcmp(e->id, id, TS_SHA256_LEN) == 0;
}

void ts_jws_seen_add(const struct ts_jwk *k, const unsigned char id[TS_SHA256_LEN])
{
	struct sign_cache *c = cache_get();
	struct seen_slot *e;

	if (c == NULL || k == NULL)
		return;
	e = seen_slot_of(c, id);
	memcpy(e->id, id, TS_SHA256_LEN);
	e->serial = k->serial;
}

int ts_jws_header_encode(const struct ts_jwk *k, const char *typ, char **out, size_t *len)
{
	struct ts_buf b;
	size_t cap;
	int rc;

	*out = NULL;
	*len = 0;
	if (typ != NULL && strlen(typ) > TYP_MAX)
		return TS_EINVAL;
	ts_buf_init(&b, TS_JWS_HEADER_MAX);
	/* RFC 7515 §4.1.1, §4.1.4, §4.1.9. The kid of a key we sign with is
	 * its thumbprint, but escape it anyway: it is not ours to trust. */
	rc = ts_buf_appendf(&b, "{\"alg\":\"%s\",\"kid\":\"", ts_jws_alg_name(k->alg));
	if (rc == TS_OK)
		rc = ts_buf_append_json_escaped(&b, k->kid, strlen(k->kid));
	if (rc == TS_OK && typ != NULL) {
		rc = ts_buf_appends(&b, "\",\"typ\":\"");
		if (rc == TS_OK)
			rc = ts_buf_append_json_escaped(&b, typ, strlen(typ));
	}
	if (rc == TS_OK)
		rc = ts_buf_appends(&b, "\"}");
	if (rc != TS_OK)
		goto out;
	cap = ts_b64url_encoded_len(b.len) + 1;
	*out = ts_xmalloc(cap);
	*len = ts_b64url_encode(b.p, b.len, *out, cap);
out:
	ts_buf_clear(&b);
	return rc;
}

/* The precomputed header for typ, or NULL if typ is not one of them. */
static const char *cached_header(const struct ts_jwk *k, const char *typ, size_t *len)
{
	enum ts_jws_typ_slot i;

	if (typ == NULL)
		i = TS_JWS_TYP_NONE;
	else if (strcmp(typ, "JWT") == 0)
		i = TS_JWS_TYP_JWT;
	else if (strcmp(typ, "at+jwt") == 0)
		i = TS_JWS_TYP_AT_JWT;
	else
		return NULL;
	*len = k->hdr_len[i];
	return k->hdr[i];
}

/* The length of k's JWS signatures: fixed for ES256 and Ed25519, the
 * modulus size for RSA (RFC 8017 §8.1.1, §8.2.1). */
static size_t sig_len_of(const struct ts_jwk *k)
{
	if (k->alg == TS_ALG_ES256)
		return TS_JWS_ES256_SIG_LEN;
	if (k->alg == TS_ALG_EDDSA)
		return TS_JWS_ED25519_SIG_LEN;
	return (size_t)EVP_PKEY_get_size(k->pkey);
}

int ts_jws_sign(const struct ts_jwk *k, const char *typ, const void *payload, size_t len,
		struct ts_buf *out)
{
	char stack[SIGN_SCRATCH], *scratch = stack, *own_hdr = NULL;
	unsigned char sig[TS_JWS_SIG_MAX];
	const char *hdr;
	size_t hlen = 0, total, n, siglen = 0;
	int rc;

	if (k == NULL || out == NULL || (payload == NULL && len > 0) || !k->priv)
		return TS_EINVAL;
	hdr = cached_header(k, typ, &hlen);
	if (hdr == NULL) {
		rc = ts_jws_header_encode(k, typ, &own_hdr, &hlen);
		if (rc != TS_OK)
			return rc;
		hdr = own_hdr;
	}
	/* Check the size before doing the expensive part. Like ts_buf_append,
	 * an overflow empties the buffer. */
	total = len > out->max ? SIZE_MAX
			       : hlen + 1 + ts_b64url_encoded_len(len) + 1 +
					 ts_b64url_encoded_len(sig_len_of(k));
	if (out->len > out->max || total > out->max - out->len) {
		ts_buf_clear(out);
		rc = TS_ETOOBIG;
		goto out;
	}
	if (total + 1 > sizeof(stack))
		scratch = ts_xmalloc(total + 1);
	/* RFC 7515 §5.1 step 5: ASCII(BASE64URL(header) || '.' || BASE64URL(payload)). */
	memcpy(scratch, hdr, hlen);
	n = hlen;
	scratch[n++] = '.';
	n += ts_b64url_encode(payload, len, scratch + n, total + 1 - n);
	rc = ts_jws_sign_input(k, scratch, n, sig, &siglen);
	if (rc != TS_OK)
		goto out;
	scratch[n++] = '.';
	n += ts_b64url_encode(sig, siglen, scratch + n, total + 1 - n);
	rc = ts_buf_append(out, scratch, n);
out:
	if (scratch != stack)
		free(scratch);
	free(own_hdr);
	return rc;
}
