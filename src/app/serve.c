/* serve.c: the running server, wired together: the application state on an
 * open store (configuration registry, audit writer, throttle, CSRF key,
 * metrics, token vault), key and storage maintenance in the background, and
 * the HTTP listeners (the main one and the optional --metrics-listen one).
 * The command line (cli/serve.c) resolves the configuration, handles
 * signals and calls these. */
#include "app.h"

#include "admin/admin.h"
#include "vault/vault.h"
#include "store/store_state.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPS_MAX_CONNECTIONS 128   /* the --metrics-listen listener serves scrapers only */
#define OPS_MAX_CONN_PER_ADDR 32
#define OPS_BLOCKING_THREADS 2
#define OPS_THREADS 2 /* libmicrohttpd warns about a pool of one */
#define MAINTENANCE_INTERVAL_S 60
#define AUDIT_BATCH 200

struct maint {
	struct ts_admin admin;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
};

struct ts_app_server {
	struct ts_app app;
	struct ts_http_server *http; /* the main listener */
	struct ts_http_server *ops;  /* --metrics-listen, or NULL */
	struct maint m;
	pthread_t mt;
	bool mt_started;
	struct ts_key_rotation *rotation; /* automatic key rotation */
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

bool ts_app_public_url_ok(const char *url)
{
	struct ts_app app;
	int r;

	memset(&app, 0, sizeof(app));
	r = ts_web_init_urls(&app, url);
	ts_web_clear_urls(&app);
	return r == TS_OK;
}

/* The application state on the open store: every piece the handlers reach
 * through struct ts_app. A sentence in err when there is one to say. */
static int app_init(struct ts_app_server *s, const struct ts_app_config *cfg, char *err,
		    size_t cap)
{
	struct ts_app *app = &s->app;
	const char *const *routes;
	size_t nroutes;

	/* Old master keys still open what they sealed while a key change runs. */
	if (ts_registry_new(app->store, app->public_url, cfg->mks, cfg->nmks, &app->reg) != TS_OK) {
		snprintf(err, cap, "cannot load the configuration from the database");
		return TS_ESTORE;
	}
	if (ts_registry_start(app->reg, cfg->reload_ms) != TS_OK ||
	    ts_audit_new(app->store, AUDIT_BATCH, &app->audit) != TS_OK)
		return TS_EIO;
	app->throttle = ts_throttle_new();
	ts_password_set_concurrency(0);
	/* CSRF tokens are HMACs under a key derived from the master key, so
	 * every process of a deployment agrees on them. */
	{
		unsigned char buf[TS_MASTER_KEY_LEN + 32];
		memcpy(buf, cfg->mks[0].key, TS_MASTER_KEY_LEN);
		memcpy(buf + TS_MASTER_KEY_LEN, "tessera-csrf-key-v1.............", 32);
		ts_sha256(buf, sizeof(buf), app->csrf_key);
		OPENSSL_cleanse(buf, sizeof(buf));
	}
	routes = ts_app_route_names(&nroutes);
	app->metrics = ts_metrics_new(routes, nroutes);
	ts_metrics_set_build(app->metrics, cfg->version, cfg->commit);
	app->access_log = cfg->access_log;
	/* The token vault and its refresh scheduler. */
	if (ts_vault_new(app->store, cfg->mks, cfg->nmks, app->audit, app->metrics, "server",
			 &app->vault) != TS_OK ||
	    ts_vault_start(app->vault) != TS_OK) {
		snprintf(err, cap, "cannot start the token vault");
		return TS_EIO;
	}
	return TS_OK;
}

/* The main listener and, with cfg->metrics_listen, the second one. */
static int listen_all(struct ts_app_server *s, const struct ts_app_config *cfg, char *err,
		      size_t cap)
{
	struct ts_http_config hc, oc;

	memset(&hc, 0, sizeof(hc));
	hc.listen = cfg->listen;
	hc.threads = cfg->threads;
	hc.dispatch = ts_app_dispatch;
	hc.blocking = ts_app_blocking;
	hc.done = ts_app_done;
	hc.ctx = &s->app;
	hc.trusted = cfg->trusted;
	if (ts_http_server_start(&hc, &s->http) != TS_OK) {
		snprintf(err, cap, "cannot listen on %s", cfg->listen);
		return TS_EIO;
	}
	if (cfg->metrics_listen && cfg->metrics_listen[0]) {
		oc = hc;
		oc.listen = cfg->metrics_listen;
		oc.threads = OPS_THREADS;
		oc.blocking_threads = OPS_BLOCKING_THREADS;
		oc.dispatch = ts_app_dispatch_ops;
		oc.max_connections = OPS_MAX_CONNECTIONS;
		oc.max_conn_per_addr = OPS_MAX_CONN_PER_ADDR;
		if (ts_http_server_start(&oc, &s->ops) != TS_OK) {
			snprintf(err, cap, "cannot listen on %s (--metrics-listen)", cfg->metrics_listen);
			return TS_EIO;
		}
		ts_log_info("metrics, health and readiness on %s (port %u)", cfg->metrics_listen,
			    ts_http_server_port(s->ops));
	}
	if (cfg->trusted->n)
		ts_log_info("client addresses from forwarding headers of %zu trusted proxy ranges",
			    cfg->trusted->n);
	ts_log_info("listening on %s (port %u), public URL %s, storage %s", cfg->listen,
		    ts_http_server_port(s->http), s->app.public_url, s->app.store->ops->name);
	return TS_OK;
}

int ts_app_server_start(const struct ts_app_config *cfg, struct ts_store *store,
			struct ts_app_server **out, char *err, size_t cap)
{
	struct ts_app_server *s = ts_xcalloc(1, sizeof(*s));
	int r;

	err[0] = '\0';
	*out = s;
	s->app.store = store;
	if (ts_web_init_urls(&s->app, cfg->public_url) != TS_OK) {
		snprintf(err, cap, "the public URL must be an http or https URL without query or "
				   "fragment");
		return TS_EINVAL;
	}
	s->m.admin.store = store;
	s->m.admin.mk = &cfg->mks[0];
	s->m.admin.public_url = cfg->public_url;
	s->m.admin.actor = "server";
	maintain(&s->m);
	r = app_init(s, cfg, err, cap);
	if (r != TS_OK)
		return r;
	pthread_mutex_init(&s->m.lock, NULL);
	pthread_cond_init(&s->m.cond, NULL);
	s->mt_started = pthread_create(&s->mt, NULL, maint_thread, &s->m) == 0;
	if (ts_key_rotation_start(store, &cfg->mks[0], s->app.public_url, s->app.metrics,
				  &s->rotation) != TS_OK) {
		snprintf(err, cap, "cannot start automatic key rotation");
		return TS_EIO;
	}
	return listen_all(s, cfg, err, cap);
}

void ts_app_server_set_access_log(struct ts_app_server *s, bool on)
{
	atomic_store(&s->app.access_log, on);
}

void ts_app_server_stop(struct ts_app_server *s, int grace_ms)
{
	if (s == NULL)
		return;
	ts_http_server_stop(s->http, grace_ms);
	ts_http_server_stop(s->ops, 0);
	if (s->mt_started) {
		pthread_mutex_lock(&s->m.lock);
		s->m.stop = true;
		pthread_cond_signal(&s->m.cond);
		pthread_mutex_unlock(&s->m.lock);
		pthread_join(s->mt, NULL);
		pthread_mutex_destroy(&s->m.lock);
		pthread_cond_destroy(&s->m.cond);
	}
	ts_key_rotation_stop(s->rotation);
	ts_vault_free(s->app.vault);
	ts_audit_free(s->app.audit);
	ts_registry_free(s->app.reg);
	ts_metrics_free(s->app.metrics);
	ts_throttle_free(s->app.throttle);
	OPENSSL_cleanse(s->app.csrf_key, sizeof(s->app.csrf_key));
	ts_store_close(s->app.store);
	ts_web_clear_urls(&s->app);
	free(s);
}
