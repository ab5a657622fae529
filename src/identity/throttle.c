/* throttle.c: slows and then refuses repeated failures per key
 * (docs/BEHAVIOUR.md "Throttling"), without a lock on the login path.
 *
 * Design. A fixed table of TABLE_SLOTS 64-bit words, each updated only by
 * atomic compare-and-swap, so a check is one load and a failure one short
 * CAS loop. A key picks its slot by HMAC-SHA-256 under a random per-table
 * key, so nobody outside the process can aim two keys at the same slot.
 * One word holds a whole slot, so it is always self-consistent:
 *
 *   bits 63..32  window start (Unix seconds; the first failure of the window)
 *   bits 31..17  fingerprint (15 more bits of the HMAC; 0 marks a free slot)
 *   bits 16..7   seconds from the window start to the latest failure
 *   bits  6..0   failures in the window (saturates at TS_THROTTLE_COUNT_MAX)
 *
 * A collision fails closed: a key whose slot holds another key's live
 * window is judged by that window (it shares the slot), and a failure adds
 * to it; a slot whose window has ended is taken over by the next failure.
 * Only a matching fingerprint may reset a slot, so one account's successful
 * login never clears another's failures. The table forgets nothing but
 * windows that have ended, and costs TABLE_SLOTS * 8 bytes. The HMAC is
 * keyed once, when the table is made; each lookup copies that context
 * (OpenSSL's one-shot HMAC() looks the algorithms up by name every call). */
#include "identity.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_BITS 16
#define TABLE_SLOTS (1u << TABLE_BITS)
#define HMAC_KEY_LEN 32
#define DELAY_MAX_S 60

#define COUNT_BITS 7
#define OFF_BITS 10
#define FP_BITS 15
#define COUNT_SHIFT 0
#define OFF_SHIFT COUNT_BITS
#define FP_SHIFT (OFF_SHIFT + OFF_BITS)
#define START_SHIFT 32
#define FIELD(w, shift, bits) (((w) >> (shift)) & ((UINT64_C(1) << (bits)) - 1))

_Static_assert(TS_THROTTLE_COUNT_MAX < (1 << COUNT_BITS), "failure count must fit its field");
_Static_assert(TS_THROTTLE_ADDR_MAX <= TS_THROTTLE_COUNT_MAX, "every limit must be countable");
_Static_assert(TS_THROTTLE_WINDOW_S < (1 << OFF_BITS), "window offsets must fit their field");
_Static_assert(FP_SHIFT + FP_BITS == START_SHIFT, "fields must tile the word");

const struct ts_throttle_policy ts_throttle_account = {TS_THROTTLE_FREE, TS_THROTTLE_MAX};
const struct ts_throttle_policy ts_throttle_address = {TS_THROTTLE_ADDR_MAX, TS_THROTTLE_ADDR_MAX};

struct ts_throttle {
	EVP_MAC_CTX *mac; /* HMAC-SHA-256 under a random per-table key; only copied */
	_Atomic uint64_t slot[TABLE_SLOTS];
};

/* The slot index and fingerprint (never 0) of a key. */
static void locate(const struct ts_throttle *t, const char *key, size_t *idx, uint64_t *fp)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(t->mac);
	size_t maclen = 0, i;
	uint64_t h = 0;

	/* Without a context (no memory) every key shares slot 0: the table
	 * then fails closed, never open. */
	if (ctx == NULL || EVP_MAC_update(ctx, (const unsigned char *)key, strlen(key)) != 1 ||
	    EVP_MAC_final(ctx, mac, &maclen, sizeof(mac)) != 1)
		maclen = 0;
	EVP_MAC_CTX_free(ctx);
	for (i = 0; i < sizeof(h) && i < maclen; i++)
		h = (h << 8) | mac[i];
	*idx = (size_t)(h & (TABLE_SLOTS - 1));
	*fp = FIELD(h, TABLE_BITS, FP_BITS);
	if (*fp == 0)
		*fp = 1;
}

static uint64_t pack(int64_t start, uint64_t fp, int64_t off, uint64_t count)
{
	return ((uint64_t)(uint32_t)start << START_SHIFT) | (fp << FP_SHIFT) |
	       ((uint64_t)off << OFF_SHIFT) | (count << COUNT_SHIFT);
}

/* Seconds since the epoch as stored (32 bits, clamped). */
static int64_t clamp_now(int64_t now)
{
	return now < 0 ? 0 : now > (int64_t)UINT32_MAX ? (int64_t)UINT32_MAX : now;
}

static bool live(uint64_t w, int64_t now)
{
	return FIELD(w, FP_SHIFT, FP_BITS) != 0 &&
	       now < (int64_t)FIELD(w, START_SHIFT, 32) + TS_THROTTLE_WINDOW_S;
}

struct ts_throttle *ts_throttle_new(void)
{
	struct ts_throttle *t = ts_xcalloc(1, sizeof(*t));
	unsigned char key[HMAC_KEY_LEN];
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	size_t i;

	t->mac = hmac != NULL ? EVP_MAC_CTX_new(hmac) : NULL;
	EVP_MAC_free(hmac); /* the context holds its own reference */
	if (t->mac == NULL || ts_rand_bytes(key, sizeof(key)) != TS_OK ||
	    EVP_MAC_init(t->mac, key, sizeof(key), params) != 1) {
		OPENSSL_cleanse(key, sizeof(key));
		ts_throttle_free(t);
		return NULL;
	}
	OPENSSL_cleanse(key, sizeof(key));
	for (i = 0; i < TABLE_SLOTS; i++)
		atomic_init(&t->slot[i], 0);
	return t;
}

void ts_throttle_free(struct ts_throttle *t)
{
	if (t == NULL)
		return;
	EVP_MAC_CTX_free(t->mac);
	free(t);
}

int ts_throttle_decide(const struct ts_throttle_policy *p, int64_t start, unsigned failures,
		       int64_t last, int64_t now, int *retry_after)
{
	int64_t end = start + TS_THROTTLE_WINDOW_S, until, delay;

	if (retry_after)
		*retry_after = 0;
	if (now >= end || failures < p->free)
		return TS_OK;
	if (failures >= p->max) {
		until = end;
	} else {
		/* The k-th delayed attempt waits 2^(k-1) seconds, at most a minute. */
		delay = failures - p->free >= 6 ? DELAY_MAX_S : (int64_t)1 << (failures - p->free);
		/* last is a whole second and the failure came somewhere in it:
		 * the wait runs from that second's end, so it is never shorter
		 * than delay (from its start it could be almost nothing). */
		until = last + 1 + delay;
		if (until > end)
			until = end;
	}
	if (now >= until)
		return TS_OK;
	if (retry_after)
		*retry_after = (int)(until - now);
	return TS_EDENIED;
}

/* The decision on a live slot word. */
static int decide_word(const struct ts_throttle_policy *p, uint64_t w, int64_t now,
		       int *retry_after)
{
	int64_t start = (int64_t)FIELD(w, START_SHIFT, 32);

	return ts_throttle_decide(p, start, (unsigned)FIELD(w, COUNT_SHIFT, COUNT_BITS),
				  start + (int64_t)FIELD(w, OFF_SHIFT, OFF_BITS), now, retry_after);
}

/* The word after one more failure at now. */
static uint64_t counted(uint64_t w, uint64_t fp, int64_t now)
{
	int64_t start, off;
	uint64_t n;

	if (!live(w, now))
		return pack(now, fp, 0, 1); /* free, or a window that has ended */
	start = (int64_t)FIELD(w, START_SHIFT, 32);
	off = now - start;
	/* A clock that stepped back keeps the latest failure where it was. */
	if (off < (int64_t)FIELD(w, OFF_SHIFT, OFF_BITS))
		off = (int64_t)FIELD(w, OFF_SHIFT, OFF_BITS);
	n = FIELD(w, COUNT_SHIFT, COUNT_BITS);
	if (n < TS_THROTTLE_COUNT_MAX)
		n++;
	return pack(start, FIELD(w, FP_SHIFT, FP_BITS), off, n);
}

int ts_throttle_reserve(struct ts_throttle *t, const char *key, const struct ts_throttle_policy *p,
			int64_t now, int *retry_after)
{
	uint64_t w, fp;
	size_t idx;

	if (retry_after)
		*retry_after = 0;
	now = clamp_now(now);
	locate(t, key, &idx, &fp);
	w = atomic_load_explicit(&t->slot[idx], memory_order_acquire);
	do {
		/* Decided on the word the swap replaces: a parallel attempt
		 * that counted first is seen, or the swap fails and we look
		 * again. */
		if (live(w, now) && decide_word(p, w, now, retry_after) != TS_OK)
			return TS_EDENIED;
	} while (!atomic_compare_exchange_weak_explicit(&t->slot[idx], &w, counted(w, fp, now),
							 memory_order_acq_rel,
							 memory_order_acquire));
	return TS_OK;
}

void ts_throttle_release(struct ts_throttle *t, const char *key, int64_t now)
{
	uint64_t w, fp;
	size_t idx;

	now = clamp_now(now);
	locate(t, key, &idx, &fp);
	w = atomic_load_explicit(&t->slot[idx], memory_order_acquire);
	while (FIELD(w, FP_SHIFT, FP_BITS) == fp && live(w, now) &&
	       FIELD(w, COUNT_SHIFT, COUNT_BITS) > 0) {
		if (atomic_compare_exchange_weak_explicit(&t->slot[idx], &w, w - (UINT64_C(1) << COUNT_SHIFT),
							  memory_order_acq_rel,
							  memory_order_acquire))
			break;
	}
}

int ts_throttle_check(struct ts_throttle *t, const char *key, int64_t now, int *retry_after)
{
	uint64_t w, fp;
	size_t idx;

	if (retry_after)
		*retry_after = 0;
	now = clamp_now(now);
	locate(t, key, &idx, &fp);
	w = atomic_load_explicit(&t->slot[idx], memory_order_acquire);
	if (!live(w, now))
		return TS_OK;
	return decide_word(&ts_throttle_account, w, now, retry_after);
}

void ts_throttle_fail(struct ts_throttle *t, const char *key, int64_t now)
{
	uint64_t w, fp;
	size_t idx;

	now = clamp_now(now);
	locate(t, key, &idx, &fp);
	w = atomic_load_explicit(&t->slot[idx], memory_order_acquire);
	while (!atomic_compare_exchange_weak_explicit(&t->slot[idx], &w, counted(w, fp, now),
						      memory_order_acq_rel, memory_order_acquire))
		;
}

void ts_throttle_reset(struct ts_throttle *t, const char *key)
{
	uint64_t w, fp;
	size_t idx;

	locate(t, key, &idx, &fp);
	w = atomic_load_explicit(&t->slot[idx], memory_order_acquire);
	while (FIELD(w, FP_SHIFT, FP_BITS) == fp) {
		if (atomic_compare_exchange_weak_explicit(&t->slot[idx], &w, 0,
							  memory_order_acq_rel,
							  memory_order_acquire))
			break;
	}
}
