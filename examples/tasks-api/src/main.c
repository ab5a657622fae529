/* main.c: tasks-api start-up and shutdown. Parses the command line, opens
 * the store, creates the libtessera verifier and token client, serves until
 * SIGTERM or SIGINT, then stops cleanly (exit 0). Exit 1 when it cannot
 * start, 2 for a usage error. */
#include "app.h"
#include "audience.h"
#include "authz.h"
#include "team.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_USAGE 2
#define ERR_MAX 256
#define AUDIENCE_TRIES 20        /* asking Tessera while it may still be starting */
#define AUDIENCE_WAIT_US 250000

/* Blocks the stop signals in every thread (the ones libmicrohttpd starts
 * inherit the mask), so that main alone takes them with sigwait. */
static void block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Without --audience, the aud its Bearer tokens carry is learned from the
 * aud of this service's own client-credentials token: the tenant's
 * audience when it has one, else its issuer. *aud is NULL (the issuer,
 * with a warning) when no token can be had. */
static void learn_audience(const struct ta_opts *o, char **aud)
{
	tessera_token_client *tc = NULL;
	struct tessera_error e;
	char *tok = NULL;
	int i, r = TESSERA_EINVAL;

	*aud = NULL;
	if (tessera_token_client_new(o->issuer, o->client_id, o->client_secret, NULL, &tc) ==
	    TESSERA_OK) {
		for (i = 0; i < AUDIENCE_TRIES; i++) {
			memset(&e, 0, sizeof(e));
			r = tessera_token_client_get(tc, &tok, &e);
			if (r != TESSERA_EUNAVAILABLE)
				break;
			usleep(AUDIENCE_WAIT_US);
		}
	}
	if (r == TESSERA_OK && ta_audience_of_token(tok, aud) == TA_OK)
		ta_log_info("Bearer tokens must carry aud %s (that of this service's own token)",
			    *aud);
	else
		ta_log_warn("could not learn the tenant's audience (no client-credentials token: %s);"
			    " Bearer tokens must carry aud %s; pass --audience to choose",
			    e.error[0] ? e.error : "no answer", o->issuer);
	free(tok);
	tessera_token_client_free(tc);
}

static int make_verifier(const struct ta_opts *o, const char *audience,
			 tessera_verifier **out)
{
	struct tessera_verifier_config vc;
	int rc;

	memset(&vc, 0, sizeof(vc));
	vc.issuer = o->issuer;
	vc.audience = audience;
	vc.client_id = o->client_id;
	vc.client_secret = o->client_secret;
	vc.leeway_s = o->leeway_s;
	/* The CRM app's Frappe methods may carry Frappe's session cookie. */
	vc.alt_session_cookie = TA_FRAPPE_SESSION_COOKIE;
	rc = tessera_verifier_new(&vc, out);
	if (rc != TESSERA_OK)
		ta_log_err("libtessera refused the verifier configuration (%d)", rc);
	return rc == TESSERA_OK ? TA_OK : TA_EINVAL;
}

/* Opens everything the app needs; on failure what was opened is left in
 * app and tc for the caller to release. */
static int start(const struct ta_opts *o, struct ta_app *app, tessera_token_client **tc)
{
	char *learned = NULL;
	int rc;

	app->opts = o;
	rc = ta_tenant_from_issuer(o->issuer, app->tenant, sizeof(app->tenant));
	if (rc == TA_OK)
		rc = ta_db_open(o->db_path, &app->db);
	if (rc == TA_OK && o->audience == NULL)
		learn_audience(o, &learned);
	if (rc == TA_OK)
		rc = make_verifier(o, o->audience ? o->audience : learned, &app->verifier);
	free(learned); /* the verifier copies its strings */
	if (rc != TA_OK || o->team_group == NULL)
		return rc;
	if (tessera_token_client_new(o->issuer, o->client_id, o->client_secret, TA_TEAM_SCOPE, tc) !=
	    TESSERA_OK) {
		ta_log_err("libtessera refused the token client configuration");
		return TA_EINVAL;
	}
	return ta_team_new(o->issuer, o->team_group, *tc, o->team_cache_s, &app->team);
}

int main(int argc, char **argv)
{
	struct ta_opts o;
	struct ta_app app;
	struct ta_server *srv = NULL;
	struct ta_server_config sc;
	tessera_token_client *tc = NULL;
	char err[ERR_MAX];
	sigset_t stop;
	int sig = 0, status = EXIT_FAILURE;

	if (ta_opts_parse(argc, argv, &o, err, sizeof(err)) != TA_OK) {
		fprintf(stderr, "tasks-api: %s\n%s", err, ta_opts_usage());
		return EXIT_USAGE;
	}
	if (o.help) {
		fputs(ta_opts_usage(), stdout);
		return EXIT_SUCCESS;
	}
	block_signals(&stop);
	memset(&app, 0, sizeof(app));
	if (start(&o, &app, &tc) != TA_OK)
		goto out;
	sc = (struct ta_server_config){.listen = o.listen, .threads = o.threads,
				       .handler = ta_app_handle, .ctx = &app};
	if (ta_server_start(&sc, &srv) != TA_OK)
		goto out;
	ta_log_info("listening on %s (port %u) for tenant %s of %s", o.listen, ta_server_port(srv),
		    app.tenant, o.issuer);
	while (sigwait(&stop, &sig) != 0)
		;
	ta_log_info("signal %d: stopping", sig);
	status = EXIT_SUCCESS;
out:
	ta_server_stop(srv);
	ta_team_free(app.team);
	tessera_token_client_free(tc);
	tessera_verifier_free(app.verifier);
	ta_db_close(app.db);
	if (status == EXIT_SUCCESS)
		ta_log_info("stopped");
	return status;
}
