#!/usr/bin/env bash
# run_store_suites.sh SUITE...: runs the store contract suites (the test
# binaries given as arguments) against a private PostgreSQL cluster, one
# after the other on one database, as TS_STORE_URL names it. The cluster is
# started in a temporary directory and stopped and removed at the end, on
# failure too. Exit status: 0 when every suite passed, 1 when any failed,
# 77 (skipped) when no PostgreSQL server is installed.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
[ $# -gt 0 ] || {
	echo "usage: run_store_suites.sh SUITE..." >&2
	exit 2
}

DIR=$(mktemp -d "${TMPDIR:-/tmp}/tessera-pg.XXXXXX")
STARTED=0
cleanup() {
	if [ "$STARTED" -eq 1 ]; then
		"$HERE/cluster.sh" stop "$DIR" || echo "run_store_suites.sh: stopping the cluster failed" >&2
	fi
	rm -rf "$DIR"
}
trap cleanup EXIT

rc=0
URL=$("$HERE/cluster.sh" start "$DIR") || rc=$?
if [ "$rc" -ne 0 ]; then
	[ "$rc" -eq 77 ] && echo "run_store_suites.sh: no PostgreSQL server; skipped" >&2
	exit "$rc"
fi
STARTED=1
export TS_STORE_URL=$URL

failed=()
for suite in "$@"; do
	echo "==> $(basename "$suite") against PostgreSQL"
	if ! "$suite"; then
		failed+=("$(basename "$suite")")
	fi
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "run_store_suites.sh: failed against PostgreSQL: ${failed[*]}" >&2
	exit 1
fi
echo "run_store_suites.sh: all $# suites passed against PostgreSQL"
