/* snapshot_load.c: builds snapshots from the store's records. An update
 * reads the tenants' versions, shares every tenant whose version did not
 * move with the previous snapshot, and reads and builds only the others:
 * with three queries each when they are few, with three list queries and
 * on several threads when they are many (a server's first load). A tenant
 * is reference counted by the snapshots that hold it (ts_tenant.refs),
 * which only the registry's thread creates and frees. */
#include "tenant.h"

#include "store/store_config.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* From this many tenants to build, read every tenant, client and key with
 * one list query each instead of three queries per tenant. */
#define BULK_MIN 32
/* From this many tenants to build, build on several threads. */
#define PARALLEL_MIN 64
#define BUILD_THREADS_MAX 8
#define AAD_MAX 256

static void strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Copies a JSON array of strings (missing: empty). */
static char **strv_from_json(const json_t *a, size_t *n)
{
	char **v;
	size_t i;

	*n = json_is_array(a) ? json_array_size(a) : 0;
	v = ts_xcalloc(*n + 1, sizeof(char *));
	for (i = 0; i < *n; i++) {
		const char *s = json_string_value(json_array_get(a, i));
		v[i] = ts_xstrdup(s ? s : "");
	}
	return v;
}


static bool strv_has(char *const *v, size_t n, const char *s)
{
	size_t i;

	if (s == NULL)
		return false;
	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}
static int64_t int_or(const json_t *o, const char *k, int64_t dflt)
{
	const json_t *v = json_object_get(o, k);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

static char *str_or_null(const json_t *o, const char *k)
{
	return ts_xstrdup(json_string_value(json_object_get(o, k)));
}

static void client_free(struct ts_client *c)
{
	if (c == NULL)
		return;
	free(c->client_id);
	free(c->name);
	free(c->secret_hash);
	strv_free(c->redirect_uris, c->nredirect_uris);
	strv_free(c->grant_types, c->ngrant_types);
	strv_free(c->scopes, c->nscopes);
	strv_free(c->cors_origins, c->ncors_origins);
	strv_free(c->post_logout_redirect_uris, c->npost_logout_redirect_uris);
	for (size_t i = 0; i < c->njwks; i++)
		ts_jwk_free(c->jwks[i]);
	free(c->jwks);
	free(c);
}

static struct ts_client *client_build(const struct ts_client_rec *rec)
{
	struct ts_client *c;
	json_t *cfg = json_loads(rec->config, 0, NULL);

	if (cfg == NULL) {
		ts_log_err("client %s has an unreadable configuration", rec->client_id);
		return NULL;
	}
	c = ts_xcalloc(1, sizeof(*c));
	c->client_id = ts_xstrdup(rec->client_id);
	c->name = str_or_null(cfg, "name");
	c->confidential = ts_str_eq(ts_str_c(json_string_value(json_object_get(cfg, "type"))),
				    "confidential");
	c->disabled = json_is_true(json_object_get(cfg, "disabled"));
	c->tokens_after = json_integer_value(json_object_get(cfg, TS_CLIENT_TOKENS_AFTER));
	if (c->tokens_after < rec->created_at)
		c->tokens_after = rec->created_at;
	c->secret_hash = ts_xstrdup(rec->secret_hash);
	c->redirect_uris = strv_from_json(json_object_get(cfg, "redirect_uris"), &c->nredirect_uris);
	c->grant_types = strv_from_json(json_object_get(cfg, "grant_types"), &c->ngrant_types);
	c->scopes = strv_from_json(json_object_get(cfg, "scopes"), &c->nscopes);
	c->cors_origins = strv_from_json(json_object_get(cfg, "allowed_cors_origins"),
					 &c->ncors_origins);
	c->post_logout_redirect_uris = strv_from_json(json_object_get(cfg, "post_logout_redirect_uris"),
						      &c->npost_logout_redirect_uris);
	c->id_token_alg = ts_jws_alg_parse(json_string_value(json_object_get(cfg, "id_token_signed_response_alg")));
	if (c->id_token_alg == TS_ALG_NONE)
		c->id_token_alg = TS_ALG_RS256;
	c->skip_consent = json_is_true(json_object_get(cfg, "skip_consent"));
	c->refresh_reuse_grace = json_is_integer(json_object_get(cfg, "refresh_reuse_grace"))
					 ? json_integer_value(json_object_get(cfg, "refresh_reuse_grace"))
					 : TS_REFRESH_REUSE_GRACE_DEFAULT;
	c->dpop_bound_access_tokens = json_is_true(json_object_get(cfg, "dpop_bound_access_tokens"));
	c->require_par = json_is_true(json_object_get(cfg, "require_pushed_authorization_requests"));
	c->private_key_jwt = ts_str_eq(ts_str_c(json_string_value(json_object_get(cfg, "token_endpoint_auth_method"))),
				       "private_key_jwt");
	{
		const json_t *keys = json_object_get(json_object_get(cfg, "jwks"), "keys");
		size_t i;
		c->jwks = ts_xcalloc(json_array_size(keys) + 1, sizeof(*c->jwks));
		for (i = 0; i < json_array_size(keys); i++) {
			const json_t *k = json_array_get(keys, i);
			if (ts_jwk_from_json(k, ts_client_jwk_alg(k), &c->jwks[c->njwks]) == TS_OK)
				c->njwks++;
		}
	}
	json_decref(cfg);
	return c;
}

static int client_cmp(const void *a, const void *b)
{
	return strcmp((*(struct ts_client *const *)a)->client_id,
		      (*(struct ts_client *const *)b)->client_id);
}

static void tenant_free(struct ts_tenant *t)
{
	size_t i;

	if (t == NULL)
		return;
	free(t->id);
	free(t->name);
	free(t->display_name);
	free(t->issuer);
	strv_free(t->domains, t->ndomains);
	free(t->audience);
	free(t->mobile_login_method);
	free(t->login_client);
	strv_free(t->roles, t->nroles);
	strv_free(t->api_key_roles, t->napi_key_roles);
	for (i = 0; i < t->nscopes; i++) {
		free(t->scopes[i].name);
		strv_free(t->scopes[i].includes, t->scopes[i].nincludes);
		free(t->scopes[i].description);
	}
	free(t->scopes);
	for (i = 0; i < t->nclients; i++)
		client_free(t->clients[i]);
	free(t->clients);
	for (i = 0; i < t->nkeys; i++) {
		free(t->keys[i].kid);
		free(t->keys[i].state);
		ts_jwk_free(t->keys[i].jwk);
	}
	free(t->keys);
	free(t->jwks_json);
	free(t);
}

/* Expands each scope's includes transitively (the definitions are small:
 * a fixed-point loop is clearer than a graph walk). */
static void scopes_build(struct ts_tenant *t, const json_t *arr)
{
	size_t i, j, k;
	bool grew = true;

	t->nscopes = json_is_array(arr) ? json_array_size(arr) : 0;
	t->scopes = ts_xcalloc(t->nscopes + 1, sizeof(*t->scopes));
	for (i = 0; i < t->nscopes; i++) {
		const json_t *s = json_array_get(arr, i);
		t->scopes[i].name = str_or_null(s, "name");
		t->scopes[i].description = str_or_null(s, "description");
		t->scopes[i].includes = strv_from_json(json_object_get(s, "includes"),
						       &t->scopes[i].nincludes);
	}
	while (grew) {
		grew = false;
		for (i = 0; i < t->nscopes; i++) {
			struct ts_scope_def *d = &t->scopes[i];
			for (j = 0; j < d->nincludes; j++) {
				const struct ts_scope_def *inc = ts_tenant_scope(t, d->includes[j]);
				for (k = 0; inc && k < inc->nincludes; k++) {
					if (strv_has(d->includes, d->nincludes, inc->includes[k]) ||
					    strcmp(inc->includes[k], d->name) == 0)
						continue;
					d->includes = ts_xrealloc(d->includes,
								  (d->nincludes + 2) * sizeof(char *));
					d->includes[d->nincludes++] = ts_xstrdup(inc->includes[k]);
					d->includes[d->nincludes] = NULL;
					grew = true;
				}
			}
		}
	}
}

/* One key of t for verification and, when priv is set and the master
 * keys open it, signing: the private half through dec (no pairwise check:
 * it was checked when generated and the seal authenticates it), else the
 * stored public half. */
static int key_build(const struct ts_tenant *t, const struct ts_key_rec *rec, enum ts_jws_alg alg,
		     bool priv, const struct ts_snapshot_src *src, struct ts_jwk_decoder *dec,
		     struct ts_jwk **out)
{
	unsigned char *der = NULL;
	size_t derlen = 0;
	char aad[AAD_MAX];
	int rc;

	if (priv) {
		snprintf(aad, sizeof(aad), "tessera:signing-key:%s:%s", t->id, rec->kid);
		rc = src->nmk && rec->sealed_private
			     ? ts_unseal(src->mks, src->nmk, aad, rec->sealed_private, &der, &derlen)
			     : TS_ENOTFOUND;
		if (rc == TS_OK) {
			rc = ts_jwk_decoder_pkcs8(dec, alg, der, derlen, out);
			OPENSSL_cleanse(der, derlen);
			free(der);
			if (rc == TS_OK)
				return TS_OK;
		}
		{
			char why[200];
			ts_log_err("tenant %s: cannot open signing key %s: %s", t->name, rec->kid,
				   ts_unseal_cause(rc, rec->sealed_private, src->mks, src->nmk, why,
						   sizeof(why)));
		}
	}
	return ts_jwk_from_json_text_trusted(rec->public_jwk, strlen(rec->public_jwk), alg, out);
}

/* The algorithms t signs with: its access-token algorithm, and the ID-token
 * algorithm of every client that can get ID tokens (RS256 as well where a
 * client asks for PS256, which falls back to RS256 without a PS256 key). */
static void signing_algs(const struct ts_tenant *t, bool need[TS_ALG_EDDSA + 1])
{
	static const char *const person_grants[] = {
		"authorization_code", "password", "refresh_token",
		"urn:ietf:params:oauth:grant-type:device_code",
	};
	size_t i, j;

	need[t->access_token_alg] = true;
	for (i = 0; i < t->nclients; i++) {
		const struct ts_client *c = t->clients[i];
		bool person = false;
		for (j = 0; j < TS_ARRAY_LEN(person_grants); j++)
			person = person || ts_client_has_grant(c, person_grants[j]);
		if (!person)
			continue;
		need[c->id_token_alg] = true;
		if (c->id_token_alg == TS_ALG_PS256)
			need[TS_ALG_RS256] = true;
	}
}

/* The keys of t from their records (t's clients are built already). Every
 * key is published in the JWKS document, from its stored public JWK. A
 * "next" key has never signed anything: it is published only. A current
 * or retired key is kept for verification, and a current key of an
 * algorithm t signs with is opened with its private half. */
/* Puts pub, a key retired at at, into retired (whose keys were retired at
 * the times in when, latest first) before every key retired earlier or at
 * the same time: with keys taken oldest first, the newest comes first. */
static void retired_insert(json_t *retired, int64_t *when, int64_t at, json_t *pub)
{
	size_t n = json_array_size(retired), p = 0;

	while (p < n && when[p] > at)
		p++;
	memmove(when + p + 1, when + p, (n - p) * sizeof(*when));
	when[p] = at;
	json_array_insert_new(retired, p, pub);
}

static void keys_build(struct ts_tenant *t, struct ts_key_rec *const *recs, size_t n,
		       const struct ts_snapshot_src *src, struct ts_jwk_decoder *dec)
{
	/* JWKS lists current keys, then next keys, then retired keys, each
	 * newest first: a verifier that keeps only the first keys of a long
	 * set keeps those that sign. */
	json_t *cur = json_array(), *next = json_array(), *retired = json_array(), *doc;
	int64_t *retired_at = ts_xcalloc(n + 1, sizeof(*retired_at));
	bool need[TS_ALG_EDDSA + 1] = {false};
	size_t i;

	signing_algs(t, need);
	t->keys = ts_xcalloc(n + 1, sizeof(*t->keys));
	for (i = 0; i < n; i++) {
		struct ts_signing_key *k = &t->keys[t->nkeys];
		enum ts_jws_alg alg = ts_jws_alg_parse(recs[i]->alg);
		bool current = strcmp(recs[i]->state, "current") == 0;
		json_t *pub = json_loads(recs[i]->public_jwk, 0, NULL);

		if (alg == TS_ALG_NONE || !json_is_object(pub)) {
			json_decref(pub);
			continue;
		}
		if (strcmp(recs[i]->state, "next") == 0) {
			json_array_insert_new(next, 0, pub); /* recs are oldest first */
			continue;
		}
		if (key_build(t, recs[i], alg, current && need[alg], src, dec, &k->jwk) != TS_OK) {
			json_decref(pub);
			continue;
		}
		if (current)
			json_array_insert_new(cur, 0, pub);
		else
			retired_insert(retired, retired_at, recs[i]->retired_at, pub);
		k->alg = alg;
		k->kid = ts_xstrdup(recs[i]->kid);
		k->state = ts_xstrdup(recs[i]->state);
		k->retired_at = recs[i]->retired_at;
		t->nkeys++;
		if (current && ts_jwk_is_private(k->jwk))
			t->signer[alg] = k->jwk;
	}
	free(retired_at);
	json_array_extend(cur, next);
	json_array_extend(cur, retired);
	json_decref(next);
	json_decref(retired);
	doc = json_pack("{s:o}", "keys", cur);
	t->jwks_json = json_dumps(doc, JSON_COMPACT);
	t->jwks_len = strlen(t->jwks_json);
	json_decref(doc);
}

static struct ts_tenant *tenant_build(const struct ts_tenant_rec *rec, const char *public_url)
{
	struct ts_tenant *t;
	json_t *cfg = json_loads(rec->config, 0, NULL);

	if (cfg == NULL) {
		ts_log_err("tenant %s has an unreadable configuration", rec->name);
		return NULL;
	}
	t = ts_xcalloc(1, sizeof(*t));
	t->id = ts_xstrdup(rec->id);
	t->name = ts_xstrdup(rec->name);
	t->display_name = str_or_null(cfg, "display_name");
	if (t->display_name == NULL)
		t->display_name = ts_xstrdup(rec->name);
	t->issuer = ts_tenant_issuer(public_url, rec->name);
	t->domains = strv_from_json(json_object_get(cfg, "domains"), &t->ndomains);
	t->audience = str_or_null(cfg, "audience");
	t->access_token_ttl = int_or(cfg, "access_token_ttl", ts_compat_default_access_ttl(cfg));
	t->refresh_token_ttl = int_or(cfg, "refresh_token_ttl", TS_DEFAULT_REFRESH_TTL);
	t->code_ttl = int_or(cfg, "code_ttl", TS_DEFAULT_CODE_TTL);
	t->access_token_alg = ts_jws_alg_parse(json_string_value(json_object_get(cfg, "access_token_alg")));
	if (t->access_token_alg == TS_ALG_NONE)
		t->access_token_alg = TS_ALG_ES256;
	t->roles = strv_from_json(json_object_get(cfg, "roles"), &t->nroles);
	t->api_key_roles = strv_from_json(json_object_get(cfg, "api_key_roles"), &t->napi_key_roles);
	scopes_build(t, json_object_get(cfg, "scopes"));
	t->compat = ts_compat_bits(json_object_get(cfg, "compat"));
	t->refresh_without_offline_access = (t->compat & TS_COMPAT_FRAPPE) != 0;
	t->mobile_login_method = str_or_null(cfg, "mobile_login_method");
	t->login_client = str_or_null(cfg, "login_client");
	t->dynamic_registration = json_is_true(json_object_get(cfg, "dynamic_registration"));
	json_decref(cfg);
	return t;
}

static int tenant_cmp(const void *a, const void *b)
{
	return strcmp((*(struct ts_tenant *const *)a)->name, (*(struct ts_tenant *const *)b)->name);
}

/* One tenant to build, with its records (borrowed). */
struct build_job {
	const struct ts_tenant_rec *rec;
	struct ts_client_rec *const *crecs;
	size_t nc;
	struct ts_key_rec *const *krecs;
	size_t nk;
	size_t c_off, k_off;   /* where its runs start in struct recs, while loading */
	struct ts_tenant *out; /* NULL if its configuration is unreadable */
};

/* The records a build reads, owned here and freed by recs_clear. */
struct recs {
	struct ts_tenant_rec **t;
	size_t nt;
	struct ts_client_rec **c;
	size_t nc;
	struct ts_key_rec **k;
	size_t nk;
};

static void recs_clear(struct recs *r)
{
	ts_tenant_recs_free(r->t, r->nt);
	ts_client_recs_free(r->c, r->nc);
	ts_key_recs_free(r->k, r->nk);
	memset(r, 0, sizeof(*r));
}

struct build_ctx {
	const struct ts_snapshot_src *src;
	struct build_job *jobs;
	size_t njobs;
	_Atomic size_t next; /* the next job to take */
};

static void job_run(const struct ts_snapshot_src *src, struct ts_jwk_decoder *dec,
		    struct build_job *j)
{
	struct ts_tenant *t = tenant_build(j->rec, src->public_url);
	size_t i;

	if (t == NULL)
		return;
	t->version = j->rec->version;
	atomic_init(&t->refs, 1);
	t->clients = ts_xcalloc(j->nc + 1, sizeof(*t->clients));
	for (i = 0; i < j->nc; i++) {
		struct ts_client *c = client_build(j->crecs[i]);
		if (c)
			t->clients[t->nclients++] = c;
	}
	/* qsort's array may not be NULL, even for no elements. */
	if (t->nclients > 1)
		qsort(t->clients, t->nclients, sizeof(*t->clients), client_cmp);
	keys_build(t, j->krecs, j->nk, src, dec);
	j->out = t;
}

static void *build_worker(void *arg)
{
	struct build_ctx *ctx = arg;
	struct ts_jwk_decoder *dec = ts_jwk_decoder_new();
	size_t i;

	while ((i = atomic_fetch_add(&ctx->next, 1)) < ctx->njobs)
		job_run(ctx->src, dec, &ctx->jobs[i]);
	ts_jwk_decoder_free(dec);
	return NULL;
}

/* Runs every job, on up to one thread per online CPU when there are many
 * (the calling thread is one of them). Key decoding is most of the work
 * and OpenSSL's decoders run in parallel. */
static void build_all(const struct ts_snapshot_src *src, struct build_job *jobs, size_t n)
{
	struct build_ctx ctx = {.src = src, .jobs = jobs, .njobs = n};
	pthread_t th[BUILD_THREADS_MAX];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nth = 0, want, i;

	atomic_init(&ctx.next, 0);
	want = n >= PARALLEL_MIN && cpus > 1 ? (size_t)cpus - 1 : 0;
	if (want > BUILD_THREADS_MAX)
		want = BUILD_THREADS_MAX;
	for (i = 0; i < want; i++)
		if (pthread_create(&th[nth], NULL, build_worker, &ctx) == 0)
			nth++;
	build_worker(&ctx);
	for (i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
}

static int job_by_id(const void *a, const void *b)
{
	return strcmp(((const struct build_job *)a)->rec->id, ((const struct build_job *)b)->rec->id);
}

/* Gives each job its run of the lists (ordered by tenant id) in one pass:
 * jobs is sorted by tenant id first. */
static void jobs_assign(struct build_job *jobs, size_t n, const struct recs *r)
{
	size_t i, ci = 0, ki = 0;

	if (n > 1)
		qsort(jobs, n, sizeof(*jobs), job_by_id);
	for (i = 0; i < n; i++) {
		const char *id = jobs[i].rec->id;
		while (ci < r->nc && strcmp(r->c[ci]->tenant_id, id) < 0)
			ci++;
		jobs[i].crecs = r->c ? r->c + ci : NULL;
		for (jobs[i].nc = 0; ci < r->nc && strcmp(r->c[ci]->tenant_id, id) == 0; ci++)
			jobs[i].nc++;
		while (ki < r->nk && strcmp(r->k[ki]->tenant_id, id) < 0)
			ki++;
		jobs[i].krecs = r->k ? r->k + ki : NULL;
		for (jobs[i].nk = 0; ki < r->nk && strcmp(r->k[ki]->tenant_id, id) == 0; ki++)
			jobs[i].nk++;
	}
}

/* Reads the records of the tenants named by need (entries of vers, in
 * name order) into r and makes one job each; a tenant deleted since vers
 * was read gets none. Many: three list queries; few: three queries each
 * (r then holds every tenant's records one after the other). */
static int jobs_load(struct ts_store *st, struct ts_tenant_ver *const *need, size_t nneed,
		     struct recs *r, struct build_job **jobs, size_t *njobs)
{
	size_t i, j = 0;
	int rc;

	*jobs = ts_xcalloc(nneed + 1, sizeof(**jobs));
	*njobs = 0;
	if (nneed >= BULK_MIN) {
		rc = ts_store_tenant_list(st, &r->t, &r->nt);
		if (rc == TS_OK)
			rc = ts_store_client_list(st, NULL, &r->c, &r->nc);
		if (rc == TS_OK)
			rc = ts_store_key_list(st, NULL, &r->k, &r->nk);
		if (rc != TS_OK)
			return rc;
		/* Both are in name order: a merge picks the needed ones. */
		for (i = 0; i < r->nt && j < nneed; i++) {
			while (j < nneed && strcmp(need[j]->name, r->t[i]->name) < 0)
				j++;
			if (j < nneed && strcmp(need[j]->name, r->t[i]->name) == 0)
				(*jobs)[(*njobs)++].rec = r->t[i];
		}
		jobs_assign(*jobs, *njobs, r);
		return TS_OK;
	}
	r->t = ts_xcalloc(nneed + 1, sizeof(*r->t));
	for (i = 0; i < nneed; i++) {
		struct ts_client_rec **c = NULL;
		struct ts_key_rec **k = NULL;
		size_t nc = 0, nk = 0;
		struct build_job *jb;

		rc = ts_store_tenant_get(st, need[i]->name, &r->t[r->nt]);
		if (rc == TS_ENOTFOUND)
			continue;
		if (rc == TS_OK)
			rc = ts_store_client_list(st, r->t[r->nt]->id, &c, &nc);
		if (rc == TS_OK)
			rc = ts_store_key_list(st, r->t[r->nt]->id, &k, &nk);
		if (rc != TS_OK) {
			ts_client_recs_free(c, nc);
			r->nt++;
			return rc;
		}
		/* Append this tenant's records to r, which owns them all. */
		r->c = ts_xrealloc(r->c, (r->nc + nc + 1) * sizeof(*r->c));
		if (nc) /* c is NULL when there are none */
			memcpy(r->c + r->nc, c, nc * sizeof(*c));
		r->k = ts_xrealloc(r->k, (r->nk + nk + 1) * sizeof(*r->k));
		if (nk)
			memcpy(r->k + r->nk, k, nk * sizeof(*k));
		jb = &(*jobs)[(*njobs)++];
		jb->rec = r->t[r->nt++];
		jb->c_off = r->nc;
		jb->nc = nc;
		jb->k_off = r->nk;
		jb->nk = nk;
		r->nc += nc;
		r->nk += nk;
		free(c);
		free(k);
	}
	/* r->c and r->k have stopped moving: point the jobs into them. */
	for (i = 0; i < *njobs; i++) {
		(*jobs)[i].crecs = r->c ? r->c + (*jobs)[i].c_off : NULL;
		(*jobs)[i].krecs = r->k ? r->k + (*jobs)[i].k_off : NULL;
	}
	return TS_OK;
}

static int domain_cmp(const void *a, const void *b)
{
	const struct ts_domain_ent *x = a, *y = b;
	int c = strcmp(x->domain, y->domain);

	return c ? c : strcmp(x->tenant->name, y->tenant->name);
}

/* Sorts the tenants by name and indexes their domains. */
static void snapshot_index(struct ts_snapshot *s)
{
	size_t i, j, n = 0;

	if (s->ntenants > 1)
		qsort(s->tenants, s->ntenants, sizeof(*s->tenants), tenant_cmp);
	for (i = 0; i < s->ntenants; i++)
		n += s->tenants[i]->ndomains;
	s->domains = ts_xcalloc(n + 1, sizeof(*s->domains));
	for (i = 0; i < s->ntenants; i++) {
		for (j = 0; j < s->tenants[i]->ndomains; j++) {
			s->domains[s->ndomains].domain = s->tenants[i]->domains[j];
			s->domains[s->ndomains++].tenant = s->tenants[i];
		}
	}
	if (s->ndomains > 1)
		qsort(s->domains, s->ndomains, sizeof(*s->domains), domain_cmp);
}

/* Splits vers into the tenants of prev that can be shared (held once more
 * and put into s) and those to build (need, in name order). Both lists are
 * in name order, so one merge does it. */
static void share_unchanged(const struct ts_snapshot *prev, struct ts_tenant_ver *const *vers,
			    size_t nv, struct ts_snapshot *s, struct ts_tenant_ver **need,
			    size_t *nneed)
{
	size_t i, j = 0;

	*nneed = 0;
	for (i = 0; i < nv; i++) {
		struct ts_tenant *old = NULL;
		while (prev && j < prev->ntenants && strcmp(prev->tenants[j]->name, vers[i]->name) < 0)
			j++;
		if (prev && j < prev->ntenants && strcmp(prev->tenants[j]->name, vers[i]->name) == 0)
			old = prev->tenants[j];
		if (old && strcmp(old->id, vers[i]->id) == 0 && old->version == vers[i]->version) {
			atomic_fetch_add(&old->refs, 1);
			s->tenants[s->ntenants++] = old;
		} else {
			need[(*nneed)++] = vers[i];
		}
	}
}

int ts_snapshot_update(const struct ts_snapshot_src *src, const struct ts_snapshot *prev,
		       struct ts_snapshot **out, size_t *rebuilt)
{
	struct ts_tenant_ver **vers = NULL, **need = NULL;
	struct build_job *jobs = NULL;
	struct recs r;
	struct ts_snapshot *s = NULL;
	size_t nv = 0, nneed = 0, njobs = 0, i, built = 0;
	int64_t gen = 0;
	int rc;

	*out = NULL;
	memset(&r, 0, sizeof(r));
	/* The generation is read first: a write racing with the load moves it
	 * again, so the next poll reloads; each tenant keeps the version read
	 * with its row, before its clients and keys, so a change to those in
	 * between makes the next poll rebuild it. */
	rc = ts_store_generation(src->store, &gen);
	if (rc == TS_OK)
		rc = ts_store_tenant_versions(src->store, &vers, &nv);
	if (rc != TS_OK)
		goto out;
	s = ts_xcalloc(1, sizeof(*s));
	s->generation = gen;
	s->tenants = ts_xcalloc(nv + 1, sizeof(*s->tenants));
	need = ts_xcalloc(nv + 1, sizeof(*need));
	share_unchanged(prev, vers, nv, s, need, &nneed);
	rc = jobs_load(src->store, need, nneed, &r, &jobs, &njobs);
	if (rc != TS_OK)
		goto out;
	build_all(src, jobs, njobs);
	for (i = 0; i < njobs; i++) {
		struct ts_tenant *t = jobs[i].out;
		if (t == NULL)
			continue;
		t->stats = src->stats_for ? src->stats_for(src->stats_ctx, t->name) : NULL;
		s->tenants[s->ntenants++] = t;
		jobs[i].out = NULL;
		built++;
	}
	snapshot_index(s);
	*out = s;
	s = NULL;
	if (rebuilt)
		*rebuilt = built;
out:
	for (i = 0; jobs && i < njobs; i++)
		tenant_free(jobs[i].out);
	free(jobs);
	recs_clear(&r);
	free(need);
	ts_tenant_vers_free(vers, nv);
	ts_snapshot_free(s);
	return rc;
}

int ts_snapshot_load(struct ts_store *st, const char *public_url, const struct ts_master_key *mks,
		     size_t nmk, struct ts_tenant_stats *(*stats_for)(void *, const char *),
		     void *stats_ctx, struct ts_snapshot **out)
{
	struct ts_snapshot_src src = {
		.store = st, .public_url = public_url, .mks = mks, .nmk = nmk,
		.stats_for = stats_for, .stats_ctx = stats_ctx,
	};

	return ts_snapshot_update(&src, NULL, out, NULL);
}

void ts_snapshot_free(struct ts_snapshot *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->ntenants; i++)
		if (atomic_fetch_sub(&s->tenants[i]->refs, 1) == 1)
			tenant_free(s->tenants[i]);
	free(s->tenants);
	free(s->domains);
	free(s);
}
