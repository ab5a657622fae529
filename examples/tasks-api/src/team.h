/* team.h: the members of the configured team group, fetched from Tessera's
 * identity API (GET {issuer}/api/groups/{id}/members) with a
 * service token from libtessera's token client, and kept for a short
 * while so that a busy app does not ask Tessera on every screen. */
#ifndef TA_TEAM_H
#define TA_TEAM_H

#include "util.h"

#include <jansson.h>
#include <tessera/tessera.h>

#define TA_TEAM_SCOPE "members:read"

struct ta_team;

/* tc is borrowed and must outlive the team. TA_OK with *out
 * (ta_team_free); TA_EINVAL for an issuer or group id we cannot use. */
int ta_team_new(const char *issuer, const char *group_id, tessera_token_client *tc, int cache_s,
		struct ta_team **out);
void ta_team_free(struct ta_team *t); /* NULL is a no-op */

/* Why the team could not be had, ready to send. */
struct ta_team_err {
	int status;        /* 502 or 503 */
	const char *error; /* static */
	char desc[256];
};

/* The team: {group: {id, name}, members: [{id, username, name?, email?}]},
 * from the cache while it is fresh. One fetch at a time: concurrent callers
 * wait for it and share its answer. TA_OK with *out a new reference;
 * otherwise err says why. */
int ta_team_get(struct ta_team *t, json_t **out, struct ta_team_err *err);

/* Reduces Tessera's answer (a JSON text) to the shape above. TA_OK with
 * *out a new reference, TA_EINVAL for an unexpected document. */
int ta_team_from_tessera(const char *text, size_t len, json_t **out);

#endif
