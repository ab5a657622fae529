/* opts.h: the command line of tasks-api. Parsing is separate from start-up
 * so that it can be unit-tested. */
#ifndef TA_OPTS_H
#define TA_OPTS_H

#include "util.h"

#define TA_DEFAULT_LISTEN "127.0.0.1:8081"
#define TA_DEFAULT_TEAM_CACHE_S 30
#define TA_DEFAULT_THREADS 8
#define TA_SECRET_ENV "TASKS_API_CLIENT_SECRET"
#define TA_DB_SCHEME "sqlite:"

/* Strings point into argv or the environment. */
struct ta_opts {
	const char *listen;        /* HOST:PORT */
	const char *issuer;        /* the tenant's issuer URL */
	const char *db_path;       /* the SQLite file (after "sqlite:") */
	const char *client_id;     /* the service identity of the API */
	const char *client_secret; /* its secret (--client-secret or $TASKS_API_CLIENT_SECRET) */
	const char *team_group;    /* group id for GET /team, or NULL */
	const char *audience;      /* required aud of Bearer tokens; NULL: learned (main.c) */
	const char *public_url;    /* the URL clients address the API at (DPoP proofs name
				    * it); NULL: http://LISTEN */
	int leeway_s;              /* clock leeway for token times; 0: libtessera's default */
	int team_cache_s;          /* how long GET /team answers are reused */
	int threads;               /* HTTP worker threads */
	bool help;                 /* --help was given */
};

/* Parses argv (after the program name: argc counts from argv[0]) into o,
 * falling back to getenv for the secret. TA_OK, or TA_EINVAL with one
 * clear sentence in err. */
int ta_opts_parse(int argc, char **argv, struct ta_opts *o, char *err, size_t errlen);
/* The usage text. */
const char *ta_opts_usage(void);

/* The tenant's name for an issuer: NAME of ".../t/NAME", else the host of
 * the URL. Writes at most cap bytes with the NUL; TA_EINVAL if the URL is
 * not http(s) or the name does not fit. */
int ta_tenant_from_issuer(const char *issuer, char *out, size_t cap);

#endif
