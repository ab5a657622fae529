/* core.h: the small pieces every module uses: return codes, memory, strings,
 * growable buffers, per-request arenas, logging, constant-time comparison,
 * randomness, base64url, hex and SHA-256. Nothing here knows about HTTP,
 * OAuth or storage. */
#ifndef TS_CORE_H
#define TS_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Unit tests reach file-local functions through TS_STATIC, which is empty
 * in test builds (TS_TESTING) and `static` otherwise. */
#ifdef TS_TESTING
#define TS_STATIC
#else
#define TS_STATIC static
#endif

#define TS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define TS_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define TS_SECONDS_PER_MINUTE 60
#define TS_SECONDS_PER_HOUR 3600
#define TS_SECONDS_PER_DAY 86400

/* Every fallible function returns one of these. */
enum ts_rc {
	TS_OK = 0,
	TS_ENOMEM,    /* allocation failed (only where we do not abort) */
	TS_EINVAL,    /* malformed or unacceptable input */
	TS_ETOOBIG,   /* input or output exceeds a hard cap */
	TS_ENOTFOUND, /* no such object */
	TS_EEXIST,    /* object already exists */
	TS_ESTORE,    /* storage unavailable or failed: answer 503 */
	TS_ECRYPTO,   /* a cryptographic operation failed */
	TS_EIO,       /* file or network I/O failed */
	TS_EDENIED,   /* authentication or authorization refused */
	TS_ECONFLICT, /* concurrent update lost; caller may retry */
};

/* A short, stable name for a return code ("ok", "store", ...). Static string. */
const char *ts_rc_str(int rc);

/* A byte string that carries its length. Borrowed: never freed through it. */
struct ts_str {
	const char *p;
	size_t len;
};
#define TS_STR(lit) ((struct ts_str){(lit), sizeof(lit) - 1})
struct ts_str ts_str_c(const char *s); /* NULL gives {NULL, 0} */
/* Byte-exact comparison of a ts_str with a C string; NULL never matches. */
bool ts_str_eq(struct ts_str a, const char *b);

/* Fallible allocation: NULL when memory runs out. Code that libtessera
 * compiles in (core/, jose/, wire/) uses these and returns TS_ENOMEM, since
 * a library must not abort its host process. */
void *ts_malloc(size_t n);
void *ts_calloc(size_t n, size_t size);
void *ts_realloc(void *p, size_t n);
char *ts_strndup(const char *s, size_t n); /* copies n bytes and adds a NUL */
/* *out = a copy of s (NULL gives NULL and TS_OK); TS_ENOMEM. */
int ts_strdup_to(const char *s, char **out);
#ifdef TS_TESTING
/* Test hook: the n-th next allocation through the fallible functions above
 * (0: the very next) fails, once; negative turns the hook off. */
void ts_mem_fail_after(long n);
/* Whether that failure has happened since the last ts_mem_fail_after. */
bool ts_mem_fail_fired(void);
#endif
/* Allocation that aborts with a message on failure, for the server's own
 * code: we are an application, and capped inputs keep exhaustion out of an
 * attacker's reach. */
void *ts_xmalloc(size_t n);
void *ts_xcalloc(size_t n, size_t size);
void *ts_xrealloc(void *p, size_t n);
char *ts_xstrdup(const char *s);          /* NULL gives NULL */
char *ts_xstrndup(const char *s, size_t n); /* copies n bytes and adds a NUL */
/* Wipes then frees a NUL-terminated secret; NULL is a no-op. */
void ts_free_secret(char *s);

/* One growable byte buffer, always NUL-terminated, with a hard maximum fixed
 * at init. An append that would pass the maximum frees the buffer and
 * returns TS_ETOOBIG (TS_ENOMEM when memory runs out, the bytes wiped), so
 * a failed buffer is always empty. */
struct ts_buf {
	char *p;    /* owned; NULL until the first append */
	size_t len; /* bytes used, excluding the NUL */
	size_t cap; /* bytes allocated, including the NUL */
	size_t max; /* hard maximum of len */
};
void ts_buf_init(struct ts_buf *b, size_t max);
int ts_buf_append(struct ts_buf *b, const void *p, size_t len);
int ts_buf_appends(struct ts_buf *b, const char *s);
int ts_buf_appendf(struct ts_buf *b, const char *fmt, ...) TS_PRINTF(2, 3);
/* Appends s as the contents of a JSON string (without the quotes). */
int ts_buf_append_json_escaped(struct ts_buf *b, const char *s, size_t len);
/* Gives the caller the NUL-terminated contents (never NULL: an empty buffer
 * yields ""); the buffer is reset. Caller frees. */
char *ts_buf_take(struct ts_buf *b);
void ts_buf_clear(struct ts_buf *b);
/* Like ts_buf_clear, but wipes the bytes first. */
void ts_buf_clear_secret(struct ts_buf *b);

/* A per-request arena: many small allocations, freed together. */
struct ts_arena;
struct ts_arena *ts_arena_new(void);
void ts_arena_free(struct ts_arena *a); /* NULL is a no-op */
void *ts_arena_alloc(struct ts_arena *a, size_t n);  /* zeroed, 16-aligned */
char *ts_arena_strndup(struct ts_arena *a, const char *s, size_t n);
char *ts_arena_strdup(struct ts_arena *a, const char *s); /* NULL gives NULL */
char *ts_arena_printf(struct ts_arena *a, const char *fmt, ...) TS_PRINTF(2, 3);

/* Logging: one JSON object per line on stderr, with level, time, function,
 * the current thread's request id (if any) and the message. Messages must
 * never contain secrets. */
enum ts_log_level { TS_LOG_DEBUG, TS_LOG_INFO, TS_LOG_WARN, TS_LOG_ERR,
		    TS_LOG_OFF /* a level only: nothing is written */ };
void ts_log_set_level(enum ts_log_level lvl);
enum ts_log_level ts_log_get_level(void);
void ts_log_write(enum ts_log_level lvl, const char *file, int line, const char *func,
		  const char *fmt, ...) TS_PRINTF(5, 6);
/* The message of the calling thread's latest error-level log call, whether
 * or not the level let it be written ("" when none since the last clear):
 * what a command tells its user of a failure that was only logged. Valid
 * until the thread's next log call. */
const char *ts_log_last_error(void);
void ts_log_clear_last_error(void);
/* Writes a caller-built JSON object (without trailing newline) as one line. */
void ts_log_json_line(const char *json, size_t len);
/* The time of every log line: UTC, ISO 8601 with milliseconds
 * ("2026-12-06T11:21:35.055Z"), written into out. */
#define TS_LOG_TIME_MAX 40
void ts_log_time(char out[TS_LOG_TIME_MAX]);
/* Request id of the calling thread, shown in every log line; NULL clears.
 * The string is copied (up to 64 bytes). */
void ts_log_set_request_id(const char *rid);
const char *ts_log_request_id(void);
/* Client address of the calling thread's request, for audit lines; NULL
 * clears. Copied (up to 45 bytes). */
void ts_log_set_client(const char *addr);
const char *ts_log_client(void);
#define ts_log_debug(...) \
	do { if (ts_log_get_level() <= TS_LOG_DEBUG) ts_log_write(TS_LOG_DEBUG, __FILE__, __LINE__, __func__, __VA_ARGS__); } while (0)
#define ts_log_info(...) ts_log_write(TS_LOG_INFO, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define ts_log_warn(...) ts_log_write(TS_LOG_WARN, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define ts_log_err(...) ts_log_write(TS_LOG_ERR, __FILE__, __LINE__, __func__, __VA_ARGS__)
/* Logs the OpenSSL error queue (and clears it) as one error line. */
#define ts_log_openssl(what) ts_log_openssl_at(__FILE__, __LINE__, __func__, (what))
void ts_log_openssl_at(const char *file, int line, const char *func, const char *what);

/* Constant-time equality of two secret-derived values. Both sides are hashed
 * to SHA-256 first, so neither content nor length leaks through timing.
 * NULL on either side never matches. */
bool ts_ct_equal(const void *a, size_t alen, const void *b, size_t blen);
/* Constant-time equality of two buffers of the same, public length. */
bool ts_ct_equal_fixed(const void *a, const void *b, size_t len);

/* Randomness, only from the OS CSPRNG through OpenSSL's RAND_bytes. */
int ts_rand_bytes(void *out, size_t n);
/* Writes the base64url form of nbytes random bytes into out (capacity cap,
 * including the NUL). TS_ETOOBIG if it does not fit. */
int ts_rand_token(char *out, size_t cap, size_t nbytes);
/* A random RFC 4122 version 4 UUID in its 36-character text form. */
int ts_rand_uuid(char out[37]);

/* base64url without padding (RFC 7515 §2) and standard base64. Encoders
 * return the length written (excluding the NUL) or 0 if cap is too small.
 * Decoders take (p, len), ignore nothing, and return TS_EINVAL on a bad
 * character or TS_ETOOBIG if the output does not fit in cap bytes. */
size_t ts_b64url_encoded_len(size_t n); /* excluding the NUL */
size_t ts_b64url_encode(const void *in, size_t n, char *out, size_t cap);
int ts_b64url_decode(const char *p, size_t len, unsigned char *out, size_t cap, size_t *outlen);
/* Standard base64 with padding (RFC 4648 §4), as in HTTP Basic and CSP
 * hash sources. Returns the length written, or 0 if cap is too small. */
size_t ts_b64_encode(const void *in, size_t n, char *out, size_t cap);
int ts_b64_decode(const char *p, size_t len, unsigned char *out, size_t cap, size_t *outlen);
/* Lowercase hex; out must hold 2n+1 bytes. */
void ts_hex_encode(const void *in, size_t n, char *out);
int ts_hex_decode(const char *p, size_t len, unsigned char *out, size_t cap, size_t *outlen);
/* The value of one hex digit (either case), or -1. */
int ts_hex_val(unsigned char c);

#define TS_SHA256_LEN 32
void ts_sha256(const void *p, size_t n, unsigned char out[TS_SHA256_LEN]);
/* SHA-256 of p as lowercase hex (65 bytes with NUL). */
void ts_sha256_hex(const void *p, size_t n, char out[2 * TS_SHA256_LEN + 1]);

/* Clocks. ts_now is wall-clock Unix seconds; ts_mono_ms a monotonic clock. */
int64_t ts_now(void);
int64_t ts_now_ms(void);
int64_t ts_mono_ms(void);

/* Reads a whole file (at most max bytes) into a NUL-terminated buffer the
 * caller frees. TS_EIO, TS_ETOOBIG. */
int ts_read_file(const char *path, size_t max, char **out, size_t *outlen);

/* An integer setting from environment variable name (env.c): TS_OK with
 * *out set when it holds a whole decimal number (an optional '-', then
 * digits, nothing else) from min to max; TS_ENOTFOUND when it is unset or
 * empty; TS_EINVAL, logged as a warning naming the variable and the
 * bounds, for anything else (and for a NULL name or out, or min > max).
 * *out is left as it was unless TS_OK, so the caller sets its default
 * first. */
int ts_env_int(const char *name, int64_t min, int64_t max, int64_t *out);

/* AES-256-GCM sealing under a master key (TESSERA_MASTER_KEY: 64 hex chars).
 * A sealed value is the text "v1.<key id>.<base64url(nonce || ciphertext ||
 * tag)>" with a random 96-bit nonce and the full 16-byte tag. The associated
 * data binds the value to where it belongs (tenant, record, field), so a
 * value copied elsewhere fails to open. */
#define TS_MASTER_KEY_LEN 32
struct ts_master_key {
	unsigned char key[TS_MASTER_KEY_LEN];
	char kid[17]; /* first 16 hex chars of SHA-256("tessera-master-key-id" || key) */
};
/* Parses 64 hex characters. TS_EINVAL otherwise. */
int ts_master_key_parse(const char *hex, struct ts_master_key *out);
/* On TS_OK *out is a NUL-terminated string the caller frees. */
int ts_seal(const struct ts_master_key *mk, const char *aad, const void *pt, size_t ptlen,
	    char **out);
/* Opens a sealed value with whichever of the nkeys keys has its key id.
 * On TS_OK *pt (ptlen bytes, plus a NUL not counted) is owned by the caller,
 * who wipes it (OPENSSL_cleanse) before freeing. TS_ENOTFOUND if no key
 * matches the key id, TS_ECRYPTO if the tag, AAD or key do not match. */
int ts_unseal(const struct ts_master_key *keys, size_t nkeys, const char *aad,
	      const char *sealed, unsigned char **pt, size_t *ptlen);
/* The key id a sealed value names (borrowed into out, 17 bytes). */
int ts_sealed_kid(const char *sealed, char out[17]);
/* Why ts_unseal answered rc for sealed with keys[0..nkeys): one sentence
 * for a log (no secret: key ids only), written into buf of capacity cap. */
const char *ts_unseal_cause(int rc, const char *sealed, const struct ts_master_key *keys,
			    size_t nkeys, char *buf, size_t cap);
/* Raw AES-256-GCM, used by the above and checked against NIST vectors.
 * tag is 16 bytes. decrypt returns TS_ECRYPTO on a tag mismatch. */
int ts_aes256gcm_encrypt(const unsigned char key[32], const unsigned char *iv, size_t ivlen,
			 const unsigned char *aad, size_t aadlen, const unsigned char *pt,
			 size_t ptlen, unsigned char *ct, unsigned char tag[16]);
int ts_aes256gcm_decrypt(const unsigned char key[32], const unsigned char *iv, size_t ivlen,
			 const unsigned char *aad, size_t aadlen, const unsigned char *ct,
			 size_t ctlen, const unsigned char tag[16], unsigned char *pt);

#endif
