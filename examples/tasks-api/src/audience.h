/* audience.h: the aud a token carries, read without checking it: what
 * tasks-api expects of Bearer tokens when no --audience is given is the
 * aud of its own client-credentials token (the tenant's audience when it
 * has one, else its issuer). */
#ifndef TA_AUDIENCE_H
#define TA_AUDIENCE_H

#include "util.h"

/* The aud of the JWT token (a string, or the first string of an array) as
 * a new string in *out (the caller frees it with free()). TA_EINVAL when
 * token is not a JWT whose payload is a JSON object with such an aud. The
 * signature is not checked: this only reads what the issuer wrote into a
 * token it has just handed over. */
int ta_audience_of_token(const char *token, char **out);

#endif
