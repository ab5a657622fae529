/* shopee_glue.c: the vault's use of Shopee Open Platform v2: the pure
 * request builders and parsers of shopee.c, sent with upstream.c. A shop
 * authorization is one shop (shop_id); a main-account authorization brings
 * lists of shops and merchants, all kept in the connection's metadata, and
 * calls are signed for whichever of them the caller names. */
#include "vault_int.h"

#include "shopee.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_MAX 4096

int ts_vault_shopee_auth_url(const struct ts_vault_provider *p, const char *redirect,
			     struct ts_buf *out)
{
	return ts_shopee_auth_url(p->base_url, p->partner_id, p->secret, redirect, ts_now(), out);
}

/* Sends a built request and parses the token answer. */
static int send_request(struct ts_vault *v, const struct ts_vault_provider *p,
			const char *grant, struct ts_shopee_request *sr, struct ts_shopee_tokens *st,
			char *err, size_t cap)
{
	struct ts_upstream_req rq;
	struct ts_upstream_resp r;
	char *body = json_dumps(sr->body, JSON_COMPACT);
	int rc;

	memset(&rq, 0, sizeof(rq));
	if (body == NULL) {
		snprintf(err, cap, "the Shopee request could not be built");
		return TS_EIO;
	}
	rq.method = "POST";
	rq.url = sr->url;
	rq.content_type = "application/json";
	rq.body = body;
	rq.body_len = strlen(body);
	rq.timeout_ms = v->set.http_timeout_ms;
	rq.cancel = &v->halt;
	rc = ts_upstream_fetch(&rq, &r, err, cap);
	ts_free_secret(body);
	if (rc != TS_OK)
		return TS_EIO;
	if (r.status >= 500) {
		snprintf(err, cap, "Shopee answered HTTP %ld", r.status);
		rc = TS_EIO;
	} else {
		char msg[TS_VAULT_ERR_MAX];
		rc = ts_shopee_parse_tokens(r.body ? r.body : "", r.len, st, msg, sizeof(msg));
		if (rc != TS_OK) {
			/* Shopee's message is outside text that may echo the
			 * request: kept scrubbed, for logs and last_error only. */
			const char *secrets[] = {p->secret, grant};
			ts_vault_error_text(err, cap, "Shopee", NULL, msg[0] ? msg : "a bad answer",
					    r.status, secrets, TS_ARRAY_LEN(secrets));
			if (rc != TS_EDENIED)
				rc = TS_EIO;
		}
	}
	ts_upstream_resp_clear(&r);
	return rc;
}

/* Moves parsed Shopee tokens into vault tokens. */
static void take_tokens(struct ts_shopee_tokens *st, struct ts_vault_tokens *t)
{
	t->access_token = st->access_token;
	t->refresh_token = st->refresh_token;
	st->access_token = NULL;
	st->refresh_token = NULL;
	t->expires_in = st->expire_in;
	/* Shopee: a refresh token lives 30 days and every refresh brings a new one. */
	t->refresh_expires_in = TS_VAULT_SHOPEE_REFRESH_LIFETIME;
}

int ts_vault_shopee_exchange(struct ts_vault *v, const struct ts_vault_provider *p,
			     const char *code, const char *shop_id, const char *main_account_id,
			     struct ts_vault_tokens *t, char *err, size_t cap)
{
	struct ts_shopee_request sr;
	struct ts_shopee_tokens st;
	int rc;

	memset(&sr, 0, sizeof(sr));
	memset(&st, 0, sizeof(st));
	memset(t, 0, sizeof(*t));
	rc = ts_shopee_token_request(p->base_url, p->partner_id, p->secret, code, shop_id,
				     main_account_id, ts_now(), &sr);
	if (rc != TS_OK) {
		snprintf(err, cap, "the callback's code, shop_id or main_account_id is malformed");
		return TS_EINVAL;
	}
	rc = send_request(v, p, code, &sr, &st, err, cap);
	if (rc == TS_OK) {
		t->info = json_object();
		if (shop_id)
			json_object_set_new(t->info, "shop_id", json_string(shop_id));
		if (main_account_id)
			json_object_set_new(t->info, "main_account_id", json_string(main_account_id));
		if (st.shop_ids)
			json_object_set(t->info, "shop_id_list", st.shop_ids);
		if (st.merchant_ids)
			json_object_set(t->info, "merchant_id_list", st.merchant_ids);
		take_tokens(&st, t);
	}
	ts_shopee_tokens_clear(&st);
	ts_shopee_request_clear(&sr);
	return rc;
}

/* The id a connection acts as by default: its shop, else its first
 * merchant, else its first listed shop. */
static void default_ids(const json_t *meta, const char **shop, const char **merchant)
{
	*shop = json_string_value(json_object_get(meta, "shop_id"));
	*merchant = NULL;
	if (*shop)
		return;
	*merchant = json_string_value(json_array_get(json_object_get(meta, "merchant_id_list"), 0));
	if (*merchant)
		return;
	*shop = json_string_value(json_array_get(json_object_get(meta, "shop_id_list"), 0));
}

int ts_vault_shopee_refresh(struct ts_vault *v, const struct ts_vault_provider *p,
			    const json_t *meta, const char *refresh_token,
			    struct ts_vault_tokens *t, char *err, size_t cap)
{
	struct ts_shopee_request sr;
	struct ts_shopee_tokens st;
	const char *shop, *merchant;
	int rc;

	memset(&sr, 0, sizeof(sr));
	memset(&st, 0, sizeof(st));
	memset(t, 0, sizeof(*t));
	default_ids(meta, &shop, &merchant);
	rc = ts_shopee_refresh_request(p->base_url, p->partner_id, p->secret, refresh_token, shop,
				       merchant, ts_now(), &sr);
	if (rc != TS_OK) {
		snprintf(err, cap, "the connection has no shop or merchant to refresh for");
		return TS_EIO;
	}
	rc = send_request(v, p, refresh_token, &sr, &st, err, cap);
	if (rc == TS_OK)
		take_tokens(&st, t);
	ts_shopee_tokens_clear(&st);
	ts_shopee_request_clear(&sr);
	return rc;
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Which identity a Shopee API path needs: public (the partner alone),
 * merchant, or else shop. */
static enum ts_shopee_scope path_scope(const char *path)
{
	if (starts_with(path, "/api/v2/public/") || starts_with(path, "/api/v2/auth/") ||
	    strcmp(path, TS_SHOPEE_PATH_AUTH) == 0 ||
	    strcmp(path, "/api/v2/shop/cancel_auth_partner") == 0)
		return TS_SHOPEE_PUBLIC;
	if (starts_with(path, "/api/v2/merchant/") || starts_with(path, "/api/v2/global_product/"))
		return TS_SHOPEE_MERCHANT;
	return TS_SHOPEE_SHOP;
}

static bool list_has(const json_t *list, const char *id)
{
	size_t i;

	for (i = 0; i < json_array_size(list); i++)
		if (ts_str_eq(ts_str_c(json_string_value(json_array_get(list, i))), id))
			return true;
	return false;
}

json_t *ts_vault_shopee_sign(const struct ts_vault_provider *p, const json_t *meta,
			     const char *access_token, const char *path, const char *shop_id,
			     const char *merchant_id, char *err, size_t cap)
{
	enum ts_shopee_scope scope = path_scope(path);
	const char *id = NULL;
	json_t *o;

	/* Only calls made as the connection's own shop or merchant are
	 * signed: a public API signed with the partner key would act for the
	 * tenant's partner account, not for this connection. */
	if (scope == TS_SHOPEE_PUBLIC) {
		snprintf(err, cap, "only shop and merchant API paths are signed");
		return NULL;
	}
	if (shop_id && merchant_id) {
		snprintf(err, cap, "give shop_id or merchant_id, not both");
		return NULL;
	}
	if (shop_id) {
		if (!ts_str_eq(ts_str_c(json_string_value(json_object_get(meta, "shop_id"))), shop_id) &&
		    !list_has(json_object_get(meta, "shop_id_list"), shop_id)) {
			snprintf(err, cap, "shop_id is not a shop of this connection");
			return NULL;
		}
		scope = TS_SHOPEE_SHOP;
		id = shop_id;
	} else if (merchant_id) {
		if (!list_has(json_object_get(meta, "merchant_id_list"), merchant_id)) {
			snprintf(err, cap, "merchant_id is not a merchant of this connection");
			return NULL;
		}
		scope = TS_SHOPEE_MERCHANT;
		id = merchant_id;
	} else if (scope == TS_SHOPEE_SHOP) {
		id = json_string_value(json_object_get(meta, "shop_id"));
		if (id == NULL)
			id = json_string_value(json_array_get(json_object_get(meta, "shop_id_list"), 0));
	} else {
		id = json_string_value(json_array_get(json_object_get(meta, "merchant_id_list"), 0));
	}
	if (id == NULL) {
		snprintf(err, cap, "the connection has no %s for this path",
			 scope == TS_SHOPEE_SHOP ? "shop" : "merchant");
		return NULL;
	}
	o = ts_shopee_common_params(p->partner_id, p->secret, path, ts_now(), scope, access_token,
				    id);
	if (o == NULL)
		snprintf(err, cap, "path must be a Shopee API path such as /api/v2/shop/get_shop_info");
	return o;
}
