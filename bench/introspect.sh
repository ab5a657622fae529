#!/usr/bin/env bash
# bench/introspect.sh: introspection throughput and its server CPU cost.
# Builds Release in build-bench/, starts `tessera serve` with a fresh
# database, bootstraps one confidential client (client_credentials, ES256
# access tokens), takes one access token and drives POST /oauth2/introspect
# (HTTP Basic, keep-alive) with wrk. The server's CPU time (utime + stime
# from /proc/PID/stat) before and after each run, divided by the requests
# served, is the CPU per request; the voluntary context switches of its
# threads per request show whether a request waited (a thread hand-off, the
# database). Any non-2xx answer or socket error, or a
# token answered inactive, fails the run.
#
# With CALLGRIND=1 the server runs under valgrind --tool=callgrind instead,
# REQUESTS (default 2000) introspections are sent on one keep-alive
# connection after the counters are zeroed, and the instructions per
# request are reported: a figure that does not depend on the machine's load.
# CG_KEEP=FILE keeps the profile.
#
# Environment: DURATION (seconds per run, default 10), CONNECTIONS
# (default "16 64"), TOKENS (distinct access tokens introspected in turn,
# default 1: one resource server checking the same token; a large number
# such as 5000 makes nearly every introspection verify a signature its
# thread has not seen), RESULTS (summary file, default
# /tmp/tessera-bench/introspect.txt), JOBS (build parallelism, default 2),
# BENCH_DB (sqlite or postgres).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-"16 64"}
RESULTS=${RESULTS:-/tmp/tessera-bench/introspect.txt}
REQUESTS=${REQUESTS:-2000}
TOKENS=${TOKENS:-1}
JOBS=${JOBS:-2}
WRK_THREADS=2
WARMUP_S=3
TENANT=bench
CLIENT_ID=bench-service
CLK_TCK=$(getconf CLK_TCK)

. bench/lib.sh
for tool in wrk openssl curl python3 cmake; do
	command -v "$tool" >/dev/null || die "$tool is missing (run scripts/deps.sh)"
done
bench_build
if [ "${CALLGRIND:-0}" = 1 ]; then
	command -v valgrind >/dev/null || die "valgrind is missing"
	REAL_TESSERA=$TESSERA
	WRAP=$(mktemp /tmp/tessera-bench-cg.XXXXXX)
	CG_OUT=$(mktemp -u /tmp/tessera-bench-cg.out.XXXXXX)
	# bench_install runs "$TESSERA bootstrap" and "$TESSERA serve": only the
	# server runs under callgrind, with collection of its start-up included
	# (zeroed before the measured requests).
	cat >"$WRAP" <<W
#!/bin/sh
if [ "\$1" = serve ]; then
	exec valgrind --tool=callgrind --callgrind-out-file=$CG_OUT "$REAL_TESSERA" "\$@"
fi
exec "$REAL_TESSERA" "\$@"
W
	chmod +x "$WRAP"
	TESSERA=$WRAP
fi

SECRET=$(openssl rand -base64 32 | tr '+/' '-_' | tr -d '=\n')
BOOT=$(mktemp /tmp/tessera-bench-boot.XXXXXX.json)
cat >"$BOOT" <<B
{"tenants": [{
  "name": "$TENANT", "display_name": "Benchmark",
  "scopes": [{"name": "bench:read"}],
  "clients": [{"client_id": "$CLIENT_ID", "type": "confidential",
               "secret_env": "BENCH_SECRET", "grant_types": ["client_credentials"],
               "scopes": ["bench:read"]}]
}]}
B
BENCH_SECRET="$SECRET" bench_install "$BOOT"
rm -f "$BOOT" "${WRAP:-}"
TOKEN=$(curl -sf -u "$CLIENT_ID:$SECRET" -d grant_type=client_credentials \
	"$BASE/t/$TENANT/oauth2/token" | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])') ||
	die "no access token"
URL="$BASE/t/$TENANT/oauth2/introspect"
active=$(curl -sf -u "$CLIENT_ID:$SECRET" -d "token=$TOKEN" "$URL")
case $active in *'"active": true'* | *'"active":true'*) ;; *) die "the token is not active: $active" ;; esac

BASIC=$(printf '%s:%s' "$CLIENT_ID" "$SECRET" | base64 -w0)
# The tokens, one per line; each wrk thread walks them from its own start.
echo "$TOKEN" >"$WORK/tokens"
python3 - "$BASE/t/$TENANT/oauth2/token" "$CLIENT_ID" "$SECRET" "$TOKENS" >>"$WORK/tokens" <<'P' ||
import requests, sys
url, cid, secret, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
s = requests.Session()
for _ in range(n - 1):
    r = s.post(url, data={"grant_type": "client_credentials"}, auth=(cid, secret))
    r.raise_for_status()
    print(r.json()["access_token"])
P
	die "no access tokens"
cat >"$WORK/introspect.lua" <<L
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $BASIC"
local bodies = {}
for line in io.lines("$WORK/tokens") do bodies[#bodies + 1] = "token=" .. line end
local i = math.random(#bodies)
request = function()
	i = i % #bodies + 1
	return wrk.format(nil, nil, nil, bodies[i])
end
L

if [ "${CALLGRIND:-0}" = 1 ]; then
	# One keep-alive connection; the counters cover exactly these requests.
	callgrind_control -z "$SERVER_PID" >/dev/null
	python3 - "$PORT" "$TENANT" "$BASIC" "$TOKEN" "$REQUESTS" <<'P'
import http.client, sys
port, tenant, basic, token, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
c = http.client.HTTPConnection("127.0.0.1", int(port))
body = "token=" + token
hdr = {"Authorization": "Basic " + basic, "Content-Type": "application/x-www-form-urlencoded"}
for _ in range(n):
    c.request("POST", "/t/%s/oauth2/introspect" % tenant, body, hdr)
    r = c.getresponse()
    data = r.read()
    if r.status != 200 or b'"active": true' not in data and b'"active":true' not in data:
        sys.exit("bad answer %d %r" % (r.status, data))
P
	callgrind_control -d "$SERVER_PID" >/dev/null
	sleep 1
	IR=$(for f in "$CG_OUT"*; do sed -n 's/^summary: //p' "$f"; done | sort -n | tail -n 1)
	bench_stop
	[ -n "$IR" ] || die "no callgrind summary"
	mkdir -p "$(dirname "$RESULTS")"
	{
		echo "Tessera introspection under callgrind ($(date -u +%Y-%m-%dT%H:%MZ)), ${BENCH_DB:-sqlite}"
		echo "requests: $REQUESTS on one keep-alive connection, counters zeroed before them"
		awk -v ir="$IR" -v n="$REQUESTS" 'BEGIN {printf "instructions per request: %.0f\n", ir / n}'
	} | tee "$RESULTS"
	if [ -n "${CG_KEEP:-}" ]; then
		cp "$(ls -S "$CG_OUT"* | head -n 1)" "$CG_KEEP"
		echo "callgrind profile: $CG_KEEP (callgrind_annotate --inclusive=yes $CG_KEEP)"
	fi
	rm -f "$CG_OUT"*
	exit 0
fi

# CPU seconds (user + system) the server has used so far.
server_cpu() {
	awk -v hz="$CLK_TCK" '{printf "%.4f", ($14 + $15) / hz}' "/proc/$SERVER_PID/stat"
}

# Voluntary context switches of all the server's threads so far: a thread
# that waits (for a hand-off, a lock, the database) switches out.
server_switches() {
	cat /proc/"$SERVER_PID"/task/*/status 2>/dev/null |
		awk '/^voluntary_ctxt_switches/ {n += $2} END {print n + 0}'
}

run_wrk() {
	local c=$1 d=$2 out="$WORK/wrk-$1-$2.txt"
	wrk -t"$WRK_THREADS" -c"$c" -d"${d}s" -s "$WORK/introspect.lua" "$URL" >"$out" 2>&1 ||
		{ cat "$out" >&2; die "wrk failed"; }
	if grep -q -e 'Non-2xx or 3xx responses' -e 'Socket errors' "$out"; then
		cat "$out" >&2
		die "errors at $c connections"
	fi
	echo "$out"
}

echo "bench: warming up (${WARMUP_S}s)"
run_wrk 16 "$WARMUP_S" >/dev/null
declare -A RPS REQS USPR SWPR
for c in $CONNECTIONS; do
	echo "bench: $c connections for ${DURATION}s"
	before=$(server_cpu)
	sw_before=$(server_switches)
	out=$(run_wrk "$c" "$DURATION")
	after=$(server_cpu)
	sw_after=$(server_switches)
	RPS[$c]=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$out")
	REQS[$c]=$(awk '/requests in/ {print $1}' "$out")
	[ -n "${RPS[$c]}" ] || { cat "$out" >&2; die "could not read wrk's output"; }
	USPR[$c]=$(awk -v a="$before" -v b="$after" -v n="${REQS[$c]}" 'BEGIN {printf "%.1f", (b - a) * 1e6 / n}')
	SWPR[$c]=$(awk -v a="$sw_before" -v b="$sw_after" -v n="${REQS[$c]}" 'BEGIN {printf "%.2f", (b - a) / n}')
done
# The answer is still "active" after the load.
active=$(curl -sf -u "$CLIENT_ID:$SECRET" -d "token=$TOKEN" "$URL")
case $active in *'"active": true'* | *'"active":true'*) ;; *) die "the token is not active: $active" ;; esac
bench_stop

mkdir -p "$(dirname "$RESULTS")"
{
	echo "Tessera introspection benchmark ($(date -u +%Y-%m-%dT%H:%MZ)), ${BENCH_DB:-sqlite}"
	echo "host: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "load: wrk -t$WRK_THREADS, ${DURATION}s per run, keep-alive, POST /oauth2/introspect of $TOKENS ES256 access token(s) in turn with HTTP Basic; server and wrk share the machine"
	echo
	printf '%-12s %12s %16s %16s %10s\n' connections requests/s server_us/req switches/req requests
	for c in $CONNECTIONS; do
		printf '%-12s %12s %16s %16s %10s\n' "$c" "${RPS[$c]}" "${USPR[$c]}" "${SWPR[$c]}" "${REQS[$c]}"
	done
} | tee "$RESULTS"
echo "bench: summary written to $RESULTS"
