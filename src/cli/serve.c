/* serve.c: `tessera serve`: opens the store, loads the configuration
 * snapshot, starts the HTTP server and the background work (snapshot
 * polling, audit writer, key maintenance), and stops cleanly on SIGTERM or
 * SIGINT, letting in-flight requests finish. */
#include "cli.h"

#include "app/app.h"
#include "http/http.h"
#include "ops/ops.h"
#include "vault/vault.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <signal.h>
#include <systemd/sd-daemon.h>
#include <stdio.h>
#include <string.h>

#define SHUTDOWN_GRACE_MS 10000
#define SERVE_USAGE                                                                      \
	"tessera serve [--db URL] [--listen ADDR] [--public-url URL] "                    \
	"[--trusted-proxies CIDR[,CIDR...]] [--metrics-listen ADDR]"
#define OPS_MAX_CONNECTIONS 128   /* the --metrics-listen listener serves scrapers only */
#define OPS_MAX_CONN_PER_ADDR 32
#define OPS_BLOCKING_THREADS 2
#define OPS_THREADS 2 /* libmicrohttpd warns about a pool of one */
#define MAINTENANCE_INTERVAL_S 60

struct maint {
	struct ts_admin admin;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
};

/* Keys: ensure current+next for every tenant and drop expired retired
 * keys; storage: forget expired sessions, codes, pending state, refresh
 * tokens and revocations past their token's expiry. */
static void maintain(struct maint *m)
{
	if (ts_admin_keys_maintain(&m->admin) != TS_OK)
		ts_log_warn("could not list tenants for key maintenance");
	if (ts_store_purge_expired(m->admin.store, ts_now()) != TS_OK)
		ts_log_warn("could not purge expired state");
}

static void *maint_thread(void *arg)
{
	struct maint *m = arg;

	pthread_mutex_lock(&m->lock);
	while (!m->stop) {
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_sec += MAINTENANCE_INTERVAL_S;
		pthread_cond_timedwait(&m->cond, &m->lock, &t);
		if (m->stop)
			break;
		pthread_mutex_unlock(&m->lock);
		maintain(m);
		pthread_mutex_lock(&m->lock);
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

/* SIGHUP: reads the configuration (file, environment, options) again and
 * applies what can change while running: the log level and the access
 * log. Listen addresses, storage, threads, trusted proxies and the master
 * key need a restart. A file that no longer loads changes nothing. */
static void reload(const struct ts_config *c, struct ts_app *app)
{
	struct ts_config fresh;
	char usec[64];

	snprintf(usec, sizeof(usec), "RELOADING=1\nMONOTONIC_USEC=%lld",
		 (long long)ts_mono_ms() * 1000);
	sd_notify(0, usec);
	if (c->opts != NULL && ts_config_load(&fresh, c->opts)) {
		atomic_store(&app->access_log, fresh.access_log);
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
	static const char *const known[] = {"trusted-proxies", "metrics-listen", NULL};
	struct ts_opts o;
	struct ts_app app;
	struct ts_http_config hc, oc;
	struct ts_http_server *http = NULL, *ops = NULL;
	struct ts_cidr_list trusted;
	struct maint m;
	pthread_t mt;
	bool mt_started = false;
	sigset_t sigs;
	const char *const *routes;
	size_t nroutes;
	int sig = 0, exit_code = TS_EXIT_FAIL;

	memset(&app, 0, sizeof(app));
	memset(&m, 0, sizeof(m));
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
	if (ts_web_init_urls(&app, c->public_url) != TS_OK) {
		ts_cli_error("the public URL must be an http or https URL without query or fragment");
		goto out;
	}
	/* Signals go to the main thread only: block them before any thread
	 * starts, then wait for them below. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (ts_cli_open_store(c, &app.store) != TS_OK)
		goto out;
	m.admin.store = app.store;
	m.admin.mk = &c->mk;
	m.admin.public_url = c->public_url;
	m.admin.actor = "server";
	maintain(&m);
	/* Old master keys (TESSERA_MASTER_KEY_OLD) still open what they sealed
	 * while a key change runs. */
	if (ts_registry_new(app.store, app.public_url, c->mks, c->nmks, &app.reg) != TS_OK) {
		ts_cli_error("cannot load the configuration from the database");
		goto out;
	}
	if (ts_registry_start(app.reg, c->reload_ms) != TS_OK || ts_audit_new(app.store, 200, &app.audit) != TS_OK)
		goto out;
	app.throttle = ts_throttle_new();
	ts_password_set_concurrency(0);
	/* CSRF tokens are HMACs under a key derived from the master key, so
	 * every process of a deployment agrees on them. */
	{
		unsigned char buf[TS_MASTER_KEY_LEN + 32];
		memcpy(buf, c->mk.key, TS_MASTER_KEY_LEN);
		memcpy(buf + TS_MASTER_KEY_LEN, "tessera-csrf-key-v1.............", 32);
		ts_sha256(buf, sizeof(buf), app.csrf_key);
		OPENSSL_cleanse(buf, sizeof(buf));
	}
	routes = ts_app_route_names(&nroutes);
	app.metrics = ts_metrics_new(routes, nroutes);
	ts_metrics_set_build(app.metrics, ts_version(), ts_version_commit());
	app.access_log = c->access_log;
	/* The token vault and its refresh scheduler. */
	if (ts_vault_new(app.store, c->mks, c->nmks, app.audit, app.metrics, "server", &app.vault) != TS_OK ||
	    ts_vault_start(app.vault) != TS_OK) {
		ts_cli_error("cannot start the token vault");
		goto out;
	}
	pthread_mutex_init(&m.lock, NULL);
	pthread_cond_init(&m.cond, NULL);
	mt_started = pthread_create(&mt, NULL, maint_thread, &m) == 0;
	memset(&hc, 0, sizeof(hc));
	hc.listen = c->listen;
	hc.threads = c->threads;
	hc.dispatch = ts_app_dispatch;
	hc.blocking = ts_app_blocking;
	hc.done = ts_app_done;
	hc.ctx = &app;
	hc.trusted = &trusted;
	if (ts_http_server_start(&hc, &http) != TS_OK) {
		ts_cli_error("cannot listen on %s", c->listen);
		goto out;
	}
	if (c->metrics_listen && c->metrics_listen[0]) {
		oc = hc;
		oc.listen = c->metrics_listen;
		oc.threads = OPS_THREADS;
		oc.blocking_threads = OPS_BLOCKING_THREADS;
		oc.dispatch = ts_app_dispatch_ops;
		oc.max_connections = OPS_MAX_CONNECTIONS;
		oc.max_conn_per_addr = OPS_MAX_CONN_PER_ADDR;
		if (ts_http_server_start(&oc, &ops) != TS_OK) {
			ts_cli_error("cannot listen on %s (--metrics-listen)", c->metrics_listen);
			goto out;
		}
		ts_log_info("metrics, health and readiness on %s (port %u)", c->metrics_listen,
			    ts_http_server_port(ops));
	}
	if (trusted.n)
		ts_log_info("client addresses from forwarding headers of %zu trusted proxy ranges",
			    trusted.n);
	ts_log_info("listening on %s (port %u), public URL %s, storage %s", c->listen,
		    ts_http_server_port(http), app.public_url, app.store->ops->name);
	sd_notify(0, "READY=1");
	while (sigwait(&sigs, &sig) == 0 && sig == SIGHUP)
		reload(c, &app);
	sd_notify(0, "STOPPING=1");
	ts_log_info("signal %d: shutting down", sig);
	ts_http_server_stop(http, SHUTDOWN_GRACE_MS);
	http = NULL;
	exit_code = TS_EXIT_OK;
out:
	ts_http_server_stop(http, 0);
	ts_http_server_stop(ops, 0);
	if (mt_started) {
		pthread_mutex_lock(&m.lock);
		m.stop = true;
		pthread_cond_signal(&m.cond);
		pthread_mutex_unlock(&m.lock);
		pthread_join(mt, NULL);
		pthread_mutex_destroy(&m.lock);
		pthread_cond_destroy(&m.cond);
	}
	ts_vault_free(app.vault);
	ts_audit_free(app.audit);
	ts_registry_free(app.reg);
	ts_metrics_free(app.metrics);
	ts_throttle_free(app.throttle);
	OPENSSL_cleanse(app.csrf_key, sizeof(app.csrf_key));
	ts_store_close(app.store);
	ts_web_clear_urls(&app);
	return exit_code;
}
