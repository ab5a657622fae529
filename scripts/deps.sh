#!/usr/bin/env bash
# deps.sh: installs the Debian 12 packages that the build, the tests, the
# fuzzers and the benchmark need, and only those that are missing. Runs
# `apt-get update` at most once, and only when something must be installed.
# Uses sudo only when not already root. With --tests it also installs what
# only the test suite needs: Chromium for the browser tests, the PostgreSQL
# server for the store suites run against PostgreSQL, nginx for the tests
# behind a reverse proxy, and Node.js if the
# machine has none (the browser and openid-client tests run on it).
set -euo pipefail

PACKAGES=(
	# build
	build-essential cmake pkg-config
	clang libclang-rt-14-dev # clang 14 with the libFuzzer and sanitizer runtimes
	libmicrohttpd-dev libjansson-dev libssl-dev libsqlite3-dev libargon2-dev
	libcurl4-openssl-dev libpq-dev libsystemd-dev
	# Debian packages (scripts/package.sh) and their checks
	dpkg-dev adduser systemd
	# tests
	libcmocka-dev sqlite3 python3 python3-pytest python3-requests python3-authlib
	python3-jwcrypto python3-argon2
	# demo and benchmark
	wrk openssl curl
)
if [ "${1:-}" = "--tests" ]; then
	PACKAGES+=(chromium postgresql nginx) # nginx: the reverse-proxy tests
	# Node.js 20 ships with the machine image; Debian's own is the fallback.
	command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs npm)
fi

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
	echo "deps.sh: this script needs a Debian-based system (dpkg-query and apt-get)" >&2
	exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	if [ "$status" != "installed" ]; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps.sh: all ${#PACKAGES[@]} packages are installed"
	exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "deps.sh: missing packages (${missing[*]}) and not root; install sudo or run as root" >&2
		exit 1
	fi
	SUDO=(sudo)
fi

echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "deps.sh: done"
