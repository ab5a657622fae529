#!/usr/bin/env bash
# cluster.sh: a private, throw-away PostgreSQL cluster for the store tests.
#   cluster.sh start DIR   initialises a cluster in DIR/data, starts it on a
#                          free port of 127.0.0.1 (its unix socket in DIR),
#                          creates the database "tessera" owned by the role
#                          "tessera" (trust authentication) and prints its
#                          URL on stdout;
#   cluster.sh stop DIR    stops it (DIR itself is the caller's to remove).
# Run as root, the server's binaries run as the "postgres" user, which the
# server requires; as anyone else, as that user. The binaries are those of
# the newest /usr/lib/postgresql/*/bin (or PG_BINDIR); exit 77 when there
# are none, so that a test can be skipped. fsync stays on: durability is
# part of what the tests rely on.
set -euo pipefail

ROLE=tessera
DB=tessera
TRIES=20

die() {
	echo "cluster.sh: $*" >&2
	exit 1
}

find_bindir() {
	local d
	if [ -n "${PG_BINDIR:-}" ]; then
		echo "$PG_BINDIR"
		return 0
	fi
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

BINDIR=$(find_bindir) || {
	echo "cluster.sh: no PostgreSQL server binaries in /usr/lib/postgresql/*/bin" >&2
	exit 77
}

# Runs a server binary as the user that owns the cluster.
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# True when something already listens on 127.0.0.1:$1.
port_busy() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
	local dir=$1 port i
	[ -d "$dir" ] || die "no such directory: $dir"
	dir=$(cd "$dir" && pwd)
	if [ "$(id -u)" -eq 0 ]; then
		id postgres >/dev/null 2>&1 || die "running as root needs a \"postgres\" user"
		chown postgres "$dir"
		runuser -u postgres -- test -w "$dir" ||
			die "the postgres user cannot reach $dir (set TMPDIR to a directory it can)"
	fi
	# --no-sync spares initdb's own flush of a cluster that is thrown
	# away anyway; the running server keeps fsync on.
	as_owner "$BINDIR/initdb" -D "$dir/data" -A trust -U "$ROLE" -E UTF8 --no-sync \
		>"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2
		die "initdb failed"
	}
	# A random free port; another cluster may take it between the check
	# and the start, so a failed start is retried on another one.
	for ((i = 0; i < TRIES; i++)); do
		port=$((20000 + RANDOM % 40000))
		port_busy "$port" && continue
		if as_owner "$BINDIR/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
			-o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c shared_buffers=32MB" \
			start >/dev/null 2>&1; then
			echo "$port" >"$dir/port"
			as_owner "$BINDIR/createdb" -h 127.0.0.1 -p "$port" -U "$ROLE" "$DB" ||
				die "createdb failed"
			echo "postgres://$ROLE@127.0.0.1:$port/$DB"
			return 0
		fi
	done
	cat "$dir/log" >&2 2>/dev/null || true
	die "could not start a cluster in $dir"
}

stop() {
	local dir=$1
	[ -d "$dir/data" ] || die "no cluster in $dir"
	as_owner "$BINDIR/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
}

case "${1:-}" in
start | stop)
	[ $# -eq 2 ] || die "usage: cluster.sh start|stop DIR"
	"$1" "$2"
	;;
*)
	die "usage: cluster.sh start|stop DIR"
	;;
esac
