/* session.c: resolving a browser session id to its live session and enabled
 * user (the id is stored only as its SHA-256). Sessions end after
 * TS_SESSION_IDLE_S without use or TS_SESSION_ABSOLUTE_S after sign-in;
 * the cookie that carries the id is web/'s. */
#include "identity.h"

#include "store/store_people.h"
#include "store/store_state.h"

#include <string.h>

/* A session's last use is written at most this often. */
#define TOUCH_INTERVAL_S 60

int ts_session_resolve(struct ts_store *st, const char *tenant_id, const char *raw, int64_t now,
		       struct ts_session_rec **sess, struct ts_user_rec **user)
{
	struct ts_session_rec *s = NULL;
	struct ts_user_rec *u = NULL;
	char h[2 * TS_SHA256_LEN + 1];
	int r;

	*sess = NULL;
	*user = NULL;
	if (raw == NULL || strlen(raw) < 16 || strlen(raw) > 128)
		return TS_ENOTFOUND;
	ts_sha256_hex(raw, strlen(raw), h);
	r = ts_store_session_get(st, h, &s);
	if (r != TS_OK)
		return r;
	if (strcmp(s->tenant_id, tenant_id) != 0 || s->expires_at <= now ||
	    s->last_seen + TS_SESSION_IDLE_S <= now) {
		r = TS_ENOTFOUND;
		goto out;
	}
	r = ts_store_user_get(st, s->tenant_id, s->user_id, &u);
	if (r != TS_OK)
		goto out;
	if (u->disabled) {
		r = TS_ENOTFOUND;
		goto out;
	}
	if (s->last_seen + TOUCH_INTERVAL_S <= now) {
		r = ts_store_session_touch(st, h, now);
		if (r != TS_OK)
			goto out;
		s->last_seen = now;
	}
	*sess = s;
	*user = u;
	return TS_OK;
out:
	ts_session_rec_free(s);
	ts_user_rec_free(u);
	return r;
}
