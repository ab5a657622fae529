/* fuzz_bootstrap.c: libFuzzer target for the bootstrap file and
 * the administrative validators behind it. The input is parsed as JSON the
 * way `tessera bootstrap` reads it (duplicate keys rejected); every tenant
 * object, stripped of its sections as src/cli/bootstrap.c does, goes
 * through ts_admin_tenant_validate and every client object through
 * ts_admin_client_validate. The top-level value is also validated as a
 * tenant and as a client so that small seeds reach both directly. A refusal
 * must come with a one-sentence message that fits the buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "admin/admin.h"
#include "tenant/tenant.h"

#define FUZZ_MAX_INPUT (256 * 1024)
#define ERR_CAP 512
/* A client's "secret_env" may name this variable; the dictionary has it. */
#define FUZZ_SECRET_ENV "TS_FUZZ_SECRET"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Members of a tenant that are not tenant settings (as in bootstrap.c). */
static const char *const sections[] = {"clients", "users", "groups", "providers",
				       "connections", NULL};

static void check(int rc, const char *err)
{
	size_t len = strnlen(err, ERR_CAP);

	if (len == ERR_CAP)
		abort(); /* not terminated inside the buffer */
	if (rc != TS_OK && (rc != TS_EINVAL || len == 0))
		abort(); /* a refusal without a sentence, or an unexpected code */
}

static void validate_tenant(const json_t *t)
{
	char err[ERR_CAP] = "";
	json_t *settings;
	const char *k;
	json_t *v;
	size_t i;

	if (!json_is_object(t))
		return;
	settings = json_object();
	json_object_foreach((json_t *)t, k, v) {
		bool section = false;
		for (i = 0; sections[i]; i++)
			section = section || strcmp(sections[i], k) == 0;
		if (!section)
			json_object_set(settings, k, v);
	}
	check(ts_admin_tenant_validate(settings, err, sizeof(err)), err);
	json_decref(settings);

	v = json_object_get(t, "clients");
	for (i = 0; i < json_array_size(v); i++) {
		err[0] = '\0';
		check(ts_admin_client_validate(json_array_get(v, i), err, sizeof(err)), err);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv(FUZZ_SECRET_ENV, "fuzz-secret-0123456789-abcdefghijklmnopqrstuvwxyz", 1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[ERR_CAP] = "";
	json_error_t je;
	json_t *doc, *tenants;
	size_t i;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
	if (doc == NULL)
		return 0;
	check(ts_admin_tenant_validate(doc, err, sizeof(err)), err);
	err[0] = '\0';
	check(ts_admin_client_validate(doc, err, sizeof(err)), err);
	tenants = json_object_get(doc, "tenants");
	for (i = 0; i < json_array_size(tenants); i++)
		validate_tenant(json_array_get(tenants, i));
	json_decref(doc);
	return 0;
}
