/* version.c: `tessera --version`: the version, the commit it was built
 * from and the versions of the libraries it runs with (which may differ
 * from the ones it was built against). */
#include "cli/cli.h"
#include "ts_version.h"

#include <curl/curl.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <stdio.h>

const char *ts_version(void)
{
	return TS_VERSION;
}

const char *ts_version_commit(void)
{
	return TS_COMMIT;
}

int ts_cmd_version(struct ts_config *c, int argc, char **argv)
{
	char pq[32];
	int pqv = PQlibVersion();
	json_t *o;

	(void)argc;
	(void)argv;
	/* libpq 10 and later: major * 10000 + minor. */
	snprintf(pq, sizeof(pq), "%d.%d", pqv / 10000, pqv % 10000);
	if (c == NULL || !c->json) {
		printf("tessera %s (commit %s)\n", TS_VERSION, TS_COMMIT);
		printf("  %s, SQLite %s, libpq %s, libmicrohttpd %s, jansson %s, libcurl %s\n",
		       OpenSSL_version(OPENSSL_VERSION), sqlite3_libversion(), pq,
		       MHD_get_version(), JANSSON_VERSION, curl_version_info(CURLVERSION_NOW)->version);
		return TS_EXIT_OK;
	}
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "version", TS_VERSION,
		      "commit", TS_COMMIT, "openssl", OpenSSL_version(OPENSSL_VERSION), "sqlite",
		      sqlite3_libversion(), "libpq", pq, "libmicrohttpd", MHD_get_version(),
		      "jansson", JANSSON_VERSION, "libcurl",
		      curl_version_info(CURLVERSION_NOW)->version);
	ts_cli_print(c, o);
	return TS_EXIT_OK;
}
