#!/usr/bin/env bash
# bench/people.sh: the grants that act for people. Measures, on a fresh
# installation (SQLite unless BENCH_DB says otherwise):
#   - refresh-token grants per second (each request rotates its token, so a
#     small C load generator, bench/loadgen.c, chains them; 16 and 64
#     concurrent grants), with p50/p99 latency;
#   - complete browser sign-ins per second (authorization request, login
#     page, form post with the password, code exchange with PKCE), which
#     are bound by Argon2id by design, next to the cost of one hash.
# Environment: DURATION (seconds per refresh run, default 10), FLOWS (sign-ins
# to run, default 60), RESULTS (default /tmp/tessera-bench/people.txt),
# BENCH_DB (sqlite, the default, or postgres: a private cluster started by
# tests/pg/cluster.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

DURATION=${DURATION:-10}
FLOWS=${FLOWS:-60}
RESULTS=${RESULTS:-/tmp/tessera-bench/people.txt}
for tool in gcc openssl curl python3 cmake; do
	command -v "$tool" >/dev/null || die "$tool is missing (run scripts/deps.sh)"
done

bench_build
gcc -O2 -Wall -Wextra -Werror -pthread -o build-bench/loadgen bench/loadgen.c || die "loadgen did not build"

BOOT=$(mktemp /tmp/tessera-bench-boot.XXXXXX.json)
cat >"$BOOT" <<'JSON'
{"tenants": [{
  "name": "bench", "display_name": "Benchmark",
  "users": [{"username": "user@bench.test", "password": "bench password 1"}],
  "clients": [{"client_id": "app", "type": "public",
               "redirect_uris": ["http://127.0.0.1/cb"],
               "grant_types": ["authorization_code", "refresh_token", "password"],
               "scopes": ["openid", "offline_access", "api"], "skip_consent": true}]
}]}
JSON
bench_install "$BOOT"
if [ "${BENCH_DB:-sqlite}" = postgres ]; then
	STORE="PostgreSQL $(pg_config --version 2>/dev/null | cut -d' ' -f2 || echo '?') on the same cores, fsync on"
else
	STORE="SQLite, synchronous=FULL"
fi
rm -f "$BOOT"
TOKEN_URL="$BASE/t/bench/oauth2/token"

# One grant (one refresh-token chain) per connection, from the password grant.
grants() {
	local n=$1 i
	for i in $(seq 1 "$n"); do
		curl -sf -d grant_type=password -d client_id=app -d username=user@bench.test \
			--data-urlencode 'password=bench password 1' -d 'scope=api' "$TOKEN_URL" |
			python3 -c 'import json, sys; print(json.load(sys.stdin)["refresh_token"])'
	done
}

declare -A LINE
for c in ${CHAINS:-16 64}; do
	echo "bench: refresh grants, $c concurrent chains, ${DURATION}s"
	grants "$c" >"$WORK/tokens-$c"
	LINE[$c]=$(build-bench/loadgen 127.0.0.1 "$PORT" /t/bench/oauth2/token app "$DURATION" \
		<"$WORK/tokens-$c") || die "refresh load failed: ${LINE[$c]:-}"
done

echo "bench: $FLOWS complete sign-ins (2 at a time)"
FLOW_LINE=$(python3 bench/login_flows.py "$BASE/t/bench" "$FLOWS") || die "sign-in flows failed"
bench_stop

mkdir -p "$(dirname "$RESULTS")"
{
	echo "Tessera people grants benchmark ($(date -u +%Y-%m-%dT%H:%MZ))"
	echo "host: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) CPUs; $STORE"
	for c in ${CHAINS:-16 64}; do
		echo "refresh_token grant: ${LINE[$c]}"
	done
	echo "sign-in flows: $FLOW_LINE"
} | tee "$RESULTS"
echo "bench: summary written to $RESULTS"
