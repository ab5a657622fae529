#!/usr/bin/env bash
# bench/run.sh: token endpoint throughput. Builds Release in build-bench/,
# starts `tessera serve` on a free loopback port with a fresh database and
# master key, bootstraps one confidential client_credentials client, warms
# up, then drives POST /oauth2/token (HTTP Basic, keep-alive) with wrk at 16
# and 64 connections. Any non-2xx answer or socket error fails the run.
# The ES256 signature is the per-token floor, so the summary sets tokens/s
# beside `openssl speed ecdsap256` sign/s on one core.
#
# Environment: DURATION (seconds per run, default 10), CONNECTIONS
# (default "16 64"), RESULTS (summary file, default
# /tmp/tessera-bench/latest.txt), JOBS (build parallelism, default 2).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-"16 64"}
RESULTS=${RESULTS:-/tmp/tessera-bench/latest.txt}
JOBS=${JOBS:-2}
WRK_THREADS=2
WARMUP_S=3
TENANT=bench
CLIENT_ID=bench-service

. bench/lib.sh
for tool in wrk openssl curl taskset python3 cmake; do
	command -v "$tool" >/dev/null || die "$tool is missing (run scripts/deps.sh)"
done
bench_build

# ---- a fresh installation ----
SECRET=$(openssl rand -base64 32 | tr '+/' '-_' | tr -d '=\n')
BOOT=$(mktemp /tmp/tessera-bench-boot.XXXXXX.json)
cat >"$BOOT" <<EOF
{"tenants": [{
  "name": "$TENANT", "display_name": "Benchmark",
  "scopes": [{"name": "bench:read"}, {"name": "bench:write"}],
  "clients": [{"client_id": "$CLIENT_ID", "type": "confidential",
               "secret_env": "BENCH_SECRET", "grant_types": ["client_credentials"],
               "scopes": ["bench:read", "bench:write"]}]
}]}
EOF
BENCH_SECRET="$SECRET" bench_install "$BOOT"
rm -f "$BOOT"
URL="$BASE/t/$TENANT/oauth2/token"
status=$(curl -s -o "$WORK/token.json" -w '%{http_code}' -u "$CLIENT_ID:$SECRET" \
	-d grant_type=client_credentials "$URL")
[ "$status" = 200 ] || { cat "$WORK/token.json" >&2; die "a token request answered $status"; }

# ---- load ----
BASIC=$(printf '%s:%s' "$CLIENT_ID" "$SECRET" | base64 -w0)
cat >"$WORK/token.lua" <<EOF
wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $BASIC"
EOF

# Latency from wrk's "--latency" table ("50%  1.23ms") in milliseconds.
to_ms() {
	awk -v v="$1" 'BEGIN {
		n = v + 0
		if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000
		printf "%.2f", n }'
}

# Runs wrk with $1 connections for $2 seconds; checks for errors.
run_wrk() {
	local c=$1 d=$2 out="$WORK/wrk-$1-$2.txt"
	wrk -t"$WRK_THREADS" -c"$c" -d"${d}s" --latency -s "$WORK/token.lua" "$URL" >"$out" 2>&1 ||
		{ cat "$out" >&2; die "wrk failed"; }
	if grep -q 'Non-2xx or 3xx responses' "$out"; then
		cat "$out" >&2
		tail -n 5 "$WORK/server.log" >&2
		die "non-2xx answers at $c connections: $(grep 'Non-2xx' "$out")"
	fi
	if grep -q 'Socket errors' "$out"; then
		cat "$out" >&2
		die "socket errors at $c connections: $(grep 'Socket errors' "$out")"
	fi
	echo "$out"
}

echo "bench: warming up (${WARMUP_S}s)"
run_wrk 16 "$WARMUP_S" >/dev/null

declare -A RPS P50 P99 REQS
for c in $CONNECTIONS; do
	echo "bench: $c connections for ${DURATION}s"
	out=$(run_wrk "$c" "$DURATION")
	RPS[$c]=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$out")
	REQS[$c]=$(awk '/requests in/ {print $1}' "$out")
	P50[$c]=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
	P99[$c]=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
	[ -n "${RPS[$c]}" ] || { cat "$out" >&2; die "could not read wrk's output"; }
done

bench_stop

echo "bench: openssl speed ecdsap256 on CPU 0 (3 s)"
taskset -c 0 openssl speed -seconds 3 ecdsap256 >"$WORK/speed.txt" 2>&1 ||
	{ cat "$WORK/speed.txt" >&2; die "openssl speed failed"; }
SIGN=$(awk '/ecdsa \(nistp256\)/ {printf "%.0f", $(NF - 1)}' "$WORK/speed.txt")
[ -n "$SIGN" ] || { cat "$WORK/speed.txt" >&2; die "could not read openssl speed's output"; }

last=${CONNECTIONS##* }
mkdir -p "$(dirname "$RESULTS")"
{
	echo "Tessera token endpoint benchmark ($(date -u +%Y-%m-%dT%H:%MZ))"
	echo "host: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) CPUs; $(openssl version | cut -d' ' -f1-2)"
	echo "load: wrk -t$WRK_THREADS, ${DURATION}s per run, keep-alive, POST client_credentials with HTTP Basic, ES256 access tokens; server and wrk share the machine"
	echo
	printf '%-12s %10s %10s %10s %10s\n' connections tokens/s p50_ms p99_ms requests
	for c in $CONNECTIONS; do
		printf '%-12s %10s %10s %10s %10s\n' "$c" "${RPS[$c]}" "${P50[$c]}" "${P99[$c]}" "${REQS[$c]}"
	done
	echo
	echo "openssl speed ecdsap256, 1 core: $SIGN sign/s"
	awk -v t="${RPS[$last]}" -v s="$SIGN" -v c="$last" \
		'BEGIN {printf "ratio tokens/s(%s) / sign/s: %.2f\n", c, t / s}'
	echo "non-2xx responses: 0; socket errors: 0"
} | tee "$RESULTS"
echo "bench: summary written to $RESULTS"
