#!/usr/bin/env bash
# bench/tenants.sh: many tenants on one server. Builds Release in
# build-bench/, then:
#   1. one tenant: bootstraps it on a fresh database, starts the server and
#      drives client-credentials tokens at it with wrk (the baseline);
#   2. N tenants (default 10,000), each with one confidential client, from
#      one bootstrap file on a fresh database: the time to create them;
#   3. starts the server on them: the time until /readyz answers 200, and
#      the resident memory (RSS) once ready;
#   4. gives one tenant picked at random a new scope (CLI, while the server
#      runs): the time until its discovery document lists it (polled without
#      credentials, so no failure throttling gets in the way), and the server
#      CPU the reload cost (its log line's own time, and the process's CPU
#      time over the change);
#   5. drives tokens at a tenant picked at random, with wrk, as in 1.
# Any non-2xx answer or socket error fails the run.
#
# Environment: TENANTS (default 10000), DURATION (seconds per wrk run,
# default 10), CONNECTIONS (default 64), BENCH_DB (sqlite, the default, or
# postgres: a private cluster, see bench/lib.sh), RESULTS (summary file,
# default /tmp/tessera-bench/tenants.txt), JOBS (build parallelism).
set -euo pipefail
cd "$(dirname "$0")/.."

TENANTS=${TENANTS:-10000}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
RESULTS=${RESULTS:-/tmp/tessera-bench/tenants.txt}
JOBS=${JOBS:-2}
WRK_THREADS=2
WARMUP_S=3
READY_TIMEOUT_S=120
export TESSERA_ACCESS_LOG=0
VISIBLE_TIMEOUT_S=30
CLIENT_ID=svc

. bench/lib.sh
for tool in wrk openssl curl python3 cmake; do
	command -v "$tool" >/dev/null || die "$tool is missing (run scripts/deps.sh)"
done
bench_build
SECRET=$(openssl rand -base64 32 | tr '+/' '-_' | tr -d '=\n')
export BENCH_SECRET="$SECRET"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b - a}'; }
# utime + stime of a process, in seconds.
cpu_s() {
	awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f", ($14 + $15) / hz}' "/proc/$1/stat"
}
rss_mb() { awk '/^VmRSS:/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }

# Writes a bootstrap file of $2 tenants named $3NNNNN (one confidential
# client each) to $1.
write_file() {
	python3 - "$1" "$2" "$3" <<'EOF'
import json, sys
path, n, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
doc = {"tenants": [{"name": "%s%05d" % (prefix, i),
                    "clients": [{"client_id": "svc", "secret_env": "BENCH_SECRET",
                                 "grant_types": ["client_credentials"]}]}
                   for i in range(n)]}
with open(path, "w") as f:
    json.dump(doc, f)
EOF
}

# A fresh installation (database, master key, port), as bench_install does,
# without starting the server; sets WORK, BASE, PORT and the environment.
fresh() {
	bench_cleanup || true
	trap - EXIT
	WORK=$(mktemp -d /tmp/tessera-bench.XXXXXX)
	trap bench_cleanup EXIT
	(umask 077 && openssl rand -hex 32 >"$WORK/master.key")
	PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	BASE="http://127.0.0.1:$PORT"
	unset TESSERA_MASTER_KEY TESSERA_CONFIG TESSERA_DB PG_DIR
	if [ "${BENCH_DB:-sqlite}" = postgres ]; then
		PG_DIR=$(mktemp -d /tmp/tessera-bench-pg.XXXXXX)
		TESSERA_DB=$(tests/pg/cluster.sh start "$PG_DIR") ||
			die "cannot start PostgreSQL (scripts/deps.sh --tests installs it)"
	else
		TESSERA_DB="sqlite:$WORK/tessera.db"
	fi
	export TESSERA_MASTER_KEY_FILE="$WORK/master.key" TESSERA_DB
	export TESSERA_PUBLIC_URL="$BASE" TESSERA_LISTEN="127.0.0.1:$PORT"
}

# Starts the server with log level $1 (info shows its reloads; the token
# runs use warn, as bench/run.sh does); sets SERVER_PID and READY_S (seconds
# until /readyz answered 200).
serve() {
	local t0 t1
	t0=$(now)
	TESSERA_LOG_LEVEL=$1 "$TESSERA" serve >>"$WORK/server.log" 2>&1 &
	SERVER_PID=$!
	for _ in $(seq 1 $((READY_TIMEOUT_S * 50))); do
		if [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/readyz" 2>/dev/null)" = 200 ]; then
			t1=$(now)
			READY_S=$(elapsed "$t0" "$t1")
			return 0
		fi
		kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; die "the server exited"; }
		sleep 0.02
	done
	die "the server was not ready within ${READY_TIMEOUT_S}s"
}

token_status() {
	curl -s -o /dev/null -w '%{http_code}' -u "$2:$SECRET" -d grant_type=client_credentials \
		"$BASE/t/$1/oauth2/token"
}

# wrk at CONNECTIONS against tenant $1; sets RPS, P99.
drive() {
	local url="$BASE/t/$1/oauth2/token" out="$WORK/wrk-$1.txt" basic
	[ "$(token_status "$1" "$CLIENT_ID")" = 200 ] || die "tenant $1 does not issue tokens"
	basic=$(printf '%s:%s' "$CLIENT_ID" "$SECRET" | base64 -w0)
	cat >"$WORK/token.lua" <<EOF
wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $basic"
EOF
	wrk -t"$WRK_THREADS" -c16 -d"${WARMUP_S}s" -s "$WORK/token.lua" "$url" >/dev/null 2>&1 ||
		die "wrk failed"
	wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$WORK/token.lua" \
		"$url" >"$out" 2>&1 || { cat "$out" >&2; die "wrk failed"; }
	if grep -qE 'Non-2xx or 3xx responses|Socket errors' "$out"; then
		cat "$out" >&2
		die "errors under load"
	fi
	RPS=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$out")
	P99=$(awk '$1 == "99%" {print $2}' "$out")
}

# ---- 1. one tenant ----
fresh
write_file "$WORK/one.json" 1 one
"$TESSERA" bootstrap "$WORK/one.json" >"$WORK/bootstrap.out" 2>&1 ||
	{ cat "$WORK/bootstrap.out" >&2; die "bootstrap failed"; }
serve warn
echo "bench: one tenant, $CONNECTIONS connections for ${DURATION}s"
drive one00000
RPS_ONE=$RPS
P99_ONE=$P99
bench_stop

# ---- 2. N tenants ----
fresh
write_file "$WORK/many.json" "$TENANTS" t
echo "bench: creating $TENANTS tenants from one bootstrap file"
t0=$(now)
"$TESSERA" bootstrap "$WORK/many.json" >"$WORK/bootstrap.out" 2>"$WORK/bootstrap.err" ||
	{ tail -n 20 "$WORK/bootstrap.err" >&2; die "bootstrap failed"; }
CREATE_S=$(elapsed "$t0" "$(now)")

# ---- 3. start ----
echo "bench: starting the server on $TENANTS tenants"
serve info
READY1_S=$READY_S
RSS_READY=$(rss_mb "$SERVER_PID")

# ---- 4. a change to one tenant ----
pick=$(printf 't%05d' $(((RANDOM * 32768 + RANDOM) % TENANTS)))
sleep 2 # let the start-up settle: the CPU measured below is the change's
reloads_before=$(grep -c 'loaded configuration generation' "$WORK/server.log" || true)
cpu0=$(cpu_s "$SERVER_PID")
t0=$(now)
"$TESSERA" tenant update "$pick" --scope bench:changed >/dev/null 2>"$WORK/cli.err" ||
	{ cat "$WORK/cli.err" >&2; die "tenant update failed"; }
t_cli=$(now)
visible=""
for _ in $(seq 1 $((VISIBLE_TIMEOUT_S * 100))); do
	if curl -s "$BASE/t/$pick/.well-known/openid-configuration" | grep -q '"bench:changed"'; then
		visible=$(now)
		break
	fi
	sleep 0.01
done
[ -n "$visible" ] || die "the change to $pick was not visible within ${VISIBLE_TIMEOUT_S}s"
cpu1=$(cpu_s "$SERVER_PID")
VISIBLE_S=$(elapsed "$t_cli" "$visible")
CLI_S=$(elapsed "$t0" "$t_cli")
CHANGE_CPU_MS=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN {printf "%.0f", (b - a) * 1000}')
RELOAD_LINE=$(grep 'loaded configuration generation' "$WORK/server.log" | tail -n +$((reloads_before + 1)) | head -n 1)
RELOAD_MS=$(sed -n 's/.*rebuilt, \([0-9]*\) ms.*/\1/p' <<<"$RELOAD_LINE")
REBUILT=$(sed -n 's/.*tenants, \([0-9]*\) rebuilt.*/\1/p' <<<"$RELOAD_LINE")

# ---- 5. tokens at one tenant of many ----
bench_stop
serve warn
READY2_S=$READY_S
pick2=$(printf 't%05d' $(((RANDOM * 32768 + RANDOM) % TENANTS)))
echo "bench: tenant $pick2 of $TENANTS, $CONNECTIONS connections for ${DURATION}s"
drive "$pick2"
RPS_MANY=$RPS
P99_MANY=$P99
RSS_LOADED=$(rss_mb "$SERVER_PID")
bench_stop

mkdir -p "$(dirname "$RESULTS")"
{
	echo "Tessera many-tenant benchmark ($(date -u +%Y-%m-%dT%H:%MZ))"
	echo "host: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) CPUs; $(openssl version | cut -d' ' -f1-2); storage ${BENCH_DB:-sqlite}"
	echo
	printf '%-44s %s\n' "tenants" "$TENANTS (one confidential client each)"
	printf '%-44s %s s\n' "created from one bootstrap file" "$CREATE_S"
	printf '%-44s %s s (a second start: %s s)\n' "server start to /readyz 200" "$READY1_S" "$READY2_S"
	printf '%-44s %s MB (%s MB after the token run)\n' "RSS when ready" "$RSS_READY" "$RSS_LOADED"
	printf '%-44s %s s after the CLI returned (CLI %s s)\n' "a new scope of $pick in its discovery" "$VISIBLE_S" "$CLI_S"
	printf '%-44s %s tenant(s) rebuilt in %s ms; server CPU over the change %s ms\n' \
		"the reload it caused" "${REBUILT:-?}" "${RELOAD_MS:-?}" "$CHANGE_CPU_MS"
	printf '%-44s %s tokens/s, p99 %s\n' "tokens, 1 tenant, $CONNECTIONS connections" "$RPS_ONE" "$P99_ONE"
	printf '%-44s %s tokens/s, p99 %s\n' "tokens, $pick2 of $TENANTS, $CONNECTIONS connections" "$RPS_MANY" "$P99_MANY"
	awk -v a="$RPS_MANY" -v b="$RPS_ONE" 'BEGIN {printf "%-44s %.1f%%\n", "many / one", 100 * a / b}'
	echo "non-2xx responses: 0; socket errors: 0"
} | tee "$RESULTS"
echo "bench: summary written to $RESULTS"
