/* backup_cmd.c: `tessera backup FILE`: a consistent copy of a running
 * SQLite database through SQLite's online backup API. The copy is one
 * read transaction of the source (in WAL mode writers go on meanwhile), so
 * it holds exactly the commits made before it started. It is written to
 * FILE.tmp and renamed into place only when complete. PostgreSQL databases
 * are backed up with pg_dump instead. */
#include "cli/cli.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SQLITE_PREFIX "sqlite:"
#define BUSY_TIMEOUT_MS 10000

/* Copies src (a database file) into dst; returns an SQLite result code and
 * a sentence in err. */
static int copy_db(const char *src, const char *dst, char *err, size_t cap)
{
	sqlite3 *in = NULL, *out = NULL;
	sqlite3_backup *b = NULL;
	int rc;

	rc = sqlite3_open_v2(src, &in, SQLITE_OPEN_READONLY, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(in, BUSY_TIMEOUT_MS);
	if (rc != SQLITE_OK) {
		snprintf(err, cap, "cannot open the database: %s", sqlite3_errstr(rc));
		goto out;
	}
	rc = sqlite3_open_v2(dst, &out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, cap, "cannot create the copy: %s", sqlite3_errstr(rc));
		goto out;
	}
	b = sqlite3_backup_init(out, "main", in, "main");
	if (b == NULL) {
		rc = sqlite3_errcode(out);
		snprintf(err, cap, "cannot start the copy: %s", sqlite3_errmsg(out));
		goto out;
	}
	/* All pages in one step: one read transaction, so one consistent state. */
	do {
		rc = sqlite3_backup_step(b, -1);
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
			sqlite3_sleep(50);
	} while (rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		snprintf(err, cap, "the copy failed: %s", sqlite3_errstr(rc));
		goto out;
	}
	/* The copy is a plain rollback-journal file: one file to move around. */
	rc = sqlite3_exec(out, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		snprintf(err, cap, "cannot finish the copy: %s", sqlite3_errmsg(out));
out:
	sqlite3_close(out);
	sqlite3_close(in);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int ts_cmd_backup(struct ts_config *c, int argc, char **argv)
{
	static const char *const known[] = {NULL};
	struct ts_opts o;
	char tmp[4096], err[256] = "";
	const char *src, *dst;
	struct stat sb;

	if (!ts_opts_parse(argc, argv, NULL, &o) || !ts_opts_only(&o, known) || o.npos != 1) {
		ts_cli_error("usage: tessera backup FILE");
		return TS_EXIT_USAGE;
	}
	dst = o.pos[0];
	if (strncmp(c->db, SQLITE_PREFIX, strlen(SQLITE_PREFIX)) != 0) {
		ts_cli_error("tessera backup copies SQLite databases; back up PostgreSQL with "
			     "pg_dump (docs/OPERATIONS.md)");
		return TS_EXIT_FAIL;
	}
	src = c->db + strlen(SQLITE_PREFIX);
	if (stat(src, &sb) != 0) {
		ts_cli_error_code("not_found", "the database %s does not exist", c->db);
		return TS_EXIT_FAIL;
	}
	if (stat(dst, &sb) == 0 || errno != ENOENT) {
		ts_cli_error_code("already_exists", "%s already exists; a backup never overwrites a file",
				  dst);
		return TS_EXIT_FAIL;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", dst) >= sizeof(tmp)) {
		ts_cli_error("the file name is too long");
		return TS_EXIT_USAGE;
	}
	unlink(tmp);
	if (copy_db(src, tmp, err, sizeof(err)) != SQLITE_OK || rename(tmp, dst) != 0) {
		unlink(tmp);
		ts_cli_error("backup of %s failed: %s", c->db, err[0] ? err : strerror(errno));
		return TS_EXIT_FAIL;
	}
	chmod(dst, S_IRUSR | S_IWUSR);
	ts_cli_print(c, json_pack("{s:s, s:s, s:I}", "backup", dst, "db", c->db,
				  "bytes", (json_int_t)(stat(dst, &sb) == 0 ? sb.st_size : 0)));
	return TS_EXIT_OK;
}
