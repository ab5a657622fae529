# bench/lib.sh: what every benchmark shares: a Release build, a fresh
# installation (temporary database and master key), and a server started on
# a free loopback port and stopped at exit. Source it; it sets TESSERA,
# WORK, BASE and SERVER_PID, and defines die, bench_build, bench_install
# and bench_stop.

die() {
	echo "bench: $*" >&2
	exit 1
}

# Builds the server (Release) into build-bench/.
bench_build() {
	echo "bench: building Release in build-bench/"
	cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DTS_TESTS=OFF -DTS_FUZZ=OFF \
		-DTS_EXAMPLES=OFF -DTS_SANITIZE= >/dev/null
	cmake --build build-bench --target tessera -j"${JOBS:-2}" >/dev/null || die "the build failed"
	TESSERA="$PWD/build-bench/tessera"
}

bench_cleanup() {
	if [ -n "${SERVER_PID:-}" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -TERM "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	if [ -n "${PG_DIR:-}" ]; then
		tests/pg/cluster.sh stop "$PG_DIR" >/dev/null 2>&1 || true
		rm -rf "$PG_DIR"
	fi
	[ -n "${WORK:-}" ] && rm -rf "$WORK"
}

# Applies bootstrap file $1 (with the environment given by the caller) to a
# fresh database (BENCH_DB: sqlite or postgres) and starts the server; waits
# for /healthz.
bench_install() {
	WORK=$(mktemp -d /tmp/tessera-bench.XXXXXX)
	trap bench_cleanup EXIT
	(umask 077 && openssl rand -hex 32 >"$WORK/master.key")
	PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	BASE="http://127.0.0.1:$PORT"
	unset TESSERA_MASTER_KEY TESSERA_CONFIG TESSERA_DB
	# The database: a fresh SQLite file, or with BENCH_DB=postgres a private
	# PostgreSQL cluster (tests/pg/cluster.sh), stopped and removed at exit.
	if [ "${BENCH_DB:-sqlite}" = postgres ]; then
		PG_DIR=$(mktemp -d /tmp/tessera-bench-pg.XXXXXX)
		TESSERA_DB=$(tests/pg/cluster.sh start "$PG_DIR") ||
			die "cannot start PostgreSQL (scripts/deps.sh --tests installs it)"
	else
		TESSERA_DB="sqlite:$WORK/tessera.db"
	fi
	export TESSERA_MASTER_KEY_FILE="$WORK/master.key" TESSERA_DB
	export TESSERA_LOG_LEVEL=warn TESSERA_PUBLIC_URL="$BASE" TESSERA_LISTEN="127.0.0.1:$PORT"
	"$TESSERA" bootstrap "$1" >"$WORK/bootstrap.out" 2>&1 ||
		{ cat "$WORK/bootstrap.out" >&2; die "bootstrap failed"; }
	"$TESSERA" serve >"$WORK/server.log" 2>&1 &
	SERVER_PID=$!
	for _ in $(seq 1 100); do
		curl -sf "$BASE/healthz" >/dev/null 2>&1 && return 0
		kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; die "the server exited"; }
		sleep 0.1
	done
	die "the server did not become healthy on $BASE"
}

# Stops the server and checks that it exited cleanly.
bench_stop() {
	local rc=0
	kill -TERM "$SERVER_PID"
	wait "$SERVER_PID" || rc=$?
	SERVER_PID=""
	[ "$rc" -eq 0 ] || { tail -n 20 "$WORK/server.log" >&2; die "the server exited with status $rc"; }
}
