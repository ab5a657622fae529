/* serve.c: `tessera serve`: resolves the configuration, opens the store,
 * starts the server (app/serve.c wires it: configuration snapshot polling,
 * audit writer, key maintenance, the listeners), and stops cleanly on
 * SIGTERM or SIGINT, letting in-flight requests finish. */
#include "cli.h"

#include "app/app.h"
#include "http/http.h"

#include <pthread.h>
#include <signal.h>
#include <systemd/sd-daemon.h>
#include <stdio.h>
#include <string.h>

#define SHUTDOWN_GRACE_MS 10000
#define SERVE_USAGE                                                                      \
	"tessera serve [--db URL] [--listen ADDR] [--public-url URL] "                    \
	"[--trusted-proxies CIDR[,CIDR...]] [--metrics-listen ADDR] [--access-log on|off]"

/* SIGHUP: reads the configuration (file, environment, options) again and
 * applies what can change while running: the log level and the access
 * log. Listen addresses, storage, threads, trusted proxies and the master
 * key need a restart. A file that no longer loads changes nothing. */
static void reload(const struct ts_config *c, struct ts_app_server *srv)
{
	struct ts_config fresh;
	char usec[64];

	snprintf(usec, sizeof(usec), "RELOADING=1\nMONOTONIC_USEC=%lld",
		 (long long)ts_mono_ms() * 1000);
	sd_notify(0, usec);
	if (c->opts != NULL && ts_config_load(&fresh, c->opts)) {
		ts_app_server_set_access_log(srv, fresh.access_log);
		ts_log_info("SIGHUP: configuration reloaded (log level %s, access log %s)",
			    fresh.log_level, fresh.access_log ? "on" : "off");
	} else {
		ts_log_err("SIGHUP: the configuration does not load; nothing changed");
	}
	ts_config_clear(&fresh);
	sd_notify(0, "READY=1");
}

int ts_cmd_serve(struct ts_config *c, int argc, char **argv)
{
	/* Its options (--trusted-proxies, --metrics-listen, --access-log) are
	 * global ones: the configuration reads them. */
	static const char *const known[] = {NULL};
	struct ts_opts o;
	struct ts_app_config ac;
	struct ts_app_server *srv = NULL;
	struct ts_store *store = NULL;
	struct ts_cidr_list trusted;
	sigset_t sigs;
	char err[256];
	int sig = 0;

	if (!ts_opts_parse(argc, argv, NULL, &o) || !ts_opts_only(&o, known) || o.npos) {
		ts_cli_error("usage: %s", SERVE_USAGE);
		return TS_EXIT_USAGE;
	}
	if (ts_opts_has(&o, "help")) {
		printf("usage: %s\n", SERVE_USAGE);
		return TS_EXIT_OK;
	}
	if (ts_cidr_list_parse(c->trusted_proxies, &trusted) != TS_OK) {
		ts_cli_error("trusted proxies must be IPv4 or IPv6 addresses or CIDR ranges "
			     "(host bits zero), separated by commas, at most %d",
			     TS_HTTP_MAX_CIDRS);
		return TS_EXIT_USAGE;
	}
	if (!c->have_mk) {
		ts_cli_error("TESSERA_MASTER_KEY is not set; it seals the signing keys (64 hex characters)");
		return TS_EXIT_FAIL;
	}
	if (!ts_app_public_url_ok(c->public_url)) {
		ts_cli_error("the public URL must be an http or https URL without query or fragment");
		return TS_EXIT_FAIL;
	}
	/* Signals go to the main thread only: block them before any thread
	 * starts, then wait for them below. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (ts_cli_open_store(c, &store) != TS_OK)
		return TS_EXIT_FAIL;
	memset(&ac, 0, sizeof(ac));
	ac.public_url = c->public_url;
	ac.listen = c->listen;
	ac.metrics_listen = c->metrics_listen;
	ac.threads = c->threads;
	ac.reload_ms = c->reload_ms;
	ac.access_log = c->access_log;
	ac.trusted = &trusted;
	ac.mks = c->mks;
	ac.nmks = c->nmks;
	ac.version = ts_version();
	ac.commit = ts_version_commit();
	if (ts_app_server_start(&ac, store, &srv, err, sizeof(err)) != TS_OK) {
		if (err[0])
			ts_cli_error("%s", err);
		ts_app_server_stop(srv, 0);
		return TS_EXIT_FAIL;
	}
	sd_notify(0, "READY=1");
	while (sigwait(&sigs, &sig) == 0 && sig == SIGHUP)
		reload(c, srv);
	sd_notify(0, "STOPPING=1");
	ts_log_info("signal %d: shutting down", sig);
	ts_app_server_stop(srv, SHUTDOWN_GRACE_MS);
	return TS_EXIT_OK;
}
