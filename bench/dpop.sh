#!/usr/bin/env bash
# bench/dpop.sh: what a DPoP proof costs at the token endpoint. Starts a
# Release server as bench/run.sh does, with one confidential
# client_credentials client, and drives POST /oauth2/token with wrk at
# CONNECTIONS connections twice: plain client credentials, then the same
# with a fresh DPoP proof (ES256, its own jti) on every request, so every
# token is bound (cnf.jkt) and every proof is checked and recorded once.
# The proofs are signed beforehand (bench/dpop_proofs.py) and each is sent
# once; they must be used within the proof's 60 s iat window, so the pool
# is sized for a short run. Any non-2xx answer fails the run.
#
# Environment: DURATION (seconds per run, default 5), CONNECTIONS (default
# 16), PROOFS (proofs signed beforehand, default 60000), RESULTS (summary
# file, default /tmp/tessera-bench/dpop.txt), JOBS (build parallelism).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-5}
CONNECTIONS=${CONNECTIONS:-16}
PROOFS=${PROOFS:-60000}
RESULTS=${RESULTS:-/tmp/tessera-bench/dpop.txt}
JOBS=${JOBS:-2}
WRK_THREADS=2
WARMUP_S=2
TENANT=bench
CLIENT_ID=bench-service

. bench/lib.sh
for tool in wrk openssl curl python3 cmake; do
	command -v "$tool" >/dev/null || die "$tool is missing (run scripts/deps.sh)"
done
bench_build

SECRET=$(openssl rand -base64 32 | tr '+/' '-_' | tr -d '=\n')
BOOT=$(mktemp /tmp/tessera-bench-boot.XXXXXX.json)
cat >"$BOOT" <<JSON
{"tenants": [{
  "name": "$TENANT", "display_name": "Benchmark",
  "scopes": [{"name": "bench:read"}],
  "clients": [{"client_id": "$CLIENT_ID", "type": "confidential",
               "secret_env": "BENCH_SECRET", "grant_types": ["client_credentials"],
               "scopes": ["bench:read"]}]
}]}
JSON
BENCH_SECRET="$SECRET" bench_install "$BOOT"
rm -f "$BOOT"
URL="$BASE/t/$TENANT/oauth2/token"
BASIC=$(printf '%s:%s' "$CLIENT_ID" "$SECRET" | base64 -w0)

cat >"$WORK/plain.lua" <<LUA
wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $BASIC"
LUA
# Each wrk thread takes every WRK_THREADS-th proof, so none is sent twice.
cat >"$WORK/dpop.lua" <<LUA
local n = 0
function setup(thread)
	thread:set("tid", n)
	n = n + 1
end
function init(args)
	proofs, idx = {}, 0
	local i = 0
	for line in io.lines("$WORK/proofs.txt") do
		if i % $WRK_THREADS == tid then proofs[#proofs + 1] = line end
		i = i + 1
	end
end
function request()
	idx = idx + 1
	return wrk.format("POST", nil, {
		["Content-Type"] = "application/x-www-form-urlencoded",
		["Authorization"] = "Basic $BASIC",
		["DPoP"] = proofs[idx]}, "grant_type=client_credentials")
end
LUA

to_ms() {
	awk -v v="$1" 'BEGIN {
		n = v + 0
		if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000
		printf "%.2f", n }'
}

# Runs wrk script $1 for $2 seconds; prints "tokens/s p50_ms p99_ms requests".
run_wrk() {
	local out="$WORK/wrk-$1-$2.txt"
	wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${2}s" --latency -s "$WORK/$1.lua" "$URL" >"$out" 2>&1 ||
		{ cat "$out" >&2; die "wrk failed"; }
	if grep -q -e 'Non-2xx or 3xx responses' -e 'Socket errors' "$out"; then
		cat "$out" >&2
		tail -n 5 "$WORK/server.log" >&2
		die "errors in the $1 run"
	fi
	printf '%s %s %s %s\n' "$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$out")" \
		"$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")" \
		"$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")" \
		"$(awk '/requests in/ {print $1}' "$out")"
}

# The answer to one proof: a bound token.
python3 bench/dpop_proofs.py "$URL" 1 "$WORK/proofs.txt"
curl -s -u "$CLIENT_ID:$SECRET" -H "DPoP: $(cat "$WORK/proofs.txt")" -d grant_type=client_credentials \
	"$URL" | grep -q '"token_type":"DPoP"' || die "a DPoP token request failed"

echo "bench: warming up (${WARMUP_S}s)"
run_wrk plain "$WARMUP_S" >/dev/null
echo "bench: plain client credentials, $CONNECTIONS connections for ${DURATION}s"
read -r P_RPS P_P50 P_P99 P_REQ < <(run_wrk plain "$DURATION")
echo "bench: signing $PROOFS DPoP proofs"
python3 bench/dpop_proofs.py "$URL" "$PROOFS" "$WORK/proofs.txt"
echo "bench: DPoP-bound client credentials, $CONNECTIONS connections for ${DURATION}s"
read -r D_RPS D_P50 D_P99 D_REQ < <(run_wrk dpop "$DURATION")
[ "$D_REQ" -le "$PROOFS" ] || die "the run used more requests ($D_REQ) than proofs; raise PROOFS"
bench_stop

mkdir -p "$(dirname "$RESULTS")"
{
	echo "Tessera DPoP benchmark ($(date -u +%Y-%m-%dT%H:%MZ))"
	echo "host: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) CPUs; $(openssl version | cut -d' ' -f1-2)"
	echo "load: wrk -t$WRK_THREADS -c$CONNECTIONS, ${DURATION}s per run, keep-alive, POST client_credentials with HTTP Basic, ES256 access tokens, SQLite; server and wrk share the machine"
	echo
	printf '%-28s %10s %10s %10s %10s\n' run tokens/s p50_ms p99_ms requests
	printf '%-28s %10s %10s %10s %10s\n' "plain" "$P_RPS" "$P_P50" "$P_P99" "$P_REQ"
	printf '%-28s %10s %10s %10s %10s\n' "DPoP, fresh ES256 proof" "$D_RPS" "$D_P50" "$D_P99" "$D_REQ"
	awk -v p="$P_RPS" -v d="$D_RPS" 'BEGIN {printf "DPoP / plain: %.2f\n", d / p}'
	echo "non-2xx responses: 0; socket errors: 0"
} | tee "$RESULTS"
echo "bench: summary written to $RESULTS"
