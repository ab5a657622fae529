#!/usr/bin/env bash
# demo.sh: builds Tessera (Release, in build/), prepares a local state
# directory (.tessera/: master key, client secrets, the demo user's password,
# SQLite database), applies examples/demo/bootstrap.json, sets the demo
# user's password and runs `tessera serve` in the foreground on
# 127.0.0.1:$PORT (default 8080). Safe to run again: existing keys, secrets
# and the password are kept and the bootstrap file is applied idempotently.
#
# Environment: PORT (default 8080); BUILD_DIR (default build) and
# TESSERA_STATE_DIR (default .tessera) for running beside another checkout;
# TESSERA_BIN, the path of a tessera binary built already, to use it as it
# is (no package check, no build).
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-8080}
BUILD_DIR=${BUILD_DIR:-build}
STATE_DIR=${TESSERA_STATE_DIR:-.tessera}
HOST=127.0.0.1
BASE_URL="http://$HOST:$PORT"
TENANT=demo
CLIENT_ID=demo-service
DEMO_USER=demo@demo.test
BOOTSTRAP=examples/demo/bootstrap.json

die() {
	echo "demo.sh: $*" >&2
	exit 1
}

case "$PORT" in
'' | *[!0-9]*) die "PORT must be a number, not \"$PORT\"" ;;
esac
if [ "$PORT" -lt 1 ] || [ "$PORT" -gt 65535 ]; then
	die "PORT must be between 1 and 65535"
fi

if [ -n "${TESSERA_BIN:-}" ]; then
	[ -x "$TESSERA_BIN" ] || die "TESSERA_BIN=$TESSERA_BIN is not an executable file"
	TESSERA=$TESSERA_BIN
else
	./scripts/deps.sh

	echo "demo.sh: building Release in $BUILD_DIR/"
	cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DTS_SANITIZE= -DTS_FUZZ=OFF >/dev/null
	cmake --build "$BUILD_DIR" --target tessera -j"$(nproc)" >/dev/null ||
		die "the build failed; run: cmake --build $BUILD_DIR --target tessera"
	TESSERA="$BUILD_DIR/tessera"
fi

# Everything in the state directory is private to this user.
umask 077
mkdir -p "$STATE_DIR"
chmod 700 "$STATE_DIR"
MASTER_KEY_FILE="$STATE_DIR/master.key"
SECRET_FILE="$STATE_DIR/demo-secret"
WEB_SECRET_FILE="$STATE_DIR/demo-web-secret"
PASSWORD_FILE="$STATE_DIR/demo-password"
DB="sqlite:$STATE_DIR/tessera.db"

# Writes a new random secret (32 bytes as unpadded base64url: 43 characters)
# to file $1 unless it has one already; $2 says what it is.
make_secret() {
	if [ ! -s "$1" ]; then
		openssl rand -base64 32 | tr '+/' '-_' | tr -d '=\n' >"$1.tmp"
		mv "$1.tmp" "$1"
		echo "demo.sh: created $2 in $1"
	fi
	chmod 600 "$1"
}

if [ ! -s "$MASTER_KEY_FILE" ]; then
	openssl rand -hex 32 >"$MASTER_KEY_FILE.tmp"
	mv "$MASTER_KEY_FILE.tmp" "$MASTER_KEY_FILE"
	echo "demo.sh: created a new master key in $MASTER_KEY_FILE (keep it: it seals the signing keys)"
fi
chmod 600 "$MASTER_KEY_FILE"
make_secret "$SECRET_FILE" "the secret of client demo-service"
make_secret "$WEB_SECRET_FILE" "the secret of client demo-web"
make_secret "$PASSWORD_FILE" "the password of $DEMO_USER"
SECRET=$(cat "$SECRET_FILE")

# The demo's own settings win over anything in the caller's environment.
unset TESSERA_MASTER_KEY TESSERA_CONFIG TESSERA_DB TESSERA_LISTEN TESSERA_PUBLIC_URL
export TESSERA_MASTER_KEY_FILE="$MASTER_KEY_FILE"

echo "demo.sh: applying $BOOTSTRAP to $DB"
TESSERA_DEMO_SECRET="$SECRET" TESSERA_DEMO_WEB_SECRET=$(cat "$WEB_SECRET_FILE") \
	"$TESSERA" --db "$DB" --public-url "$BASE_URL" bootstrap "$BOOTSTRAP" ||
	die "applying $BOOTSTRAP failed"
# The password stays out of the repository and off the command line. Setting
# the same password again changes nothing, so a rerun keeps the user's
# sessions.
"$TESSERA" --db "$DB" user set-password --tenant "$TENANT" "$DEMO_USER" --password-stdin \
	<"$PASSWORD_FILE" >/dev/null || die "setting the password of $DEMO_USER failed"

# A friendlier message than "cannot listen" when the port is taken.
if (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; then
	die "something already listens on $HOST:$PORT; stop it or run PORT=8081 $0"
fi

cat <<EOF

Tessera is starting on $BASE_URL (tenant "$TENANT"). In another terminal:

  # get an access token (client credentials)
  curl -s -u $CLIENT_ID:$SECRET -d grant_type=client_credentials $BASE_URL/t/$TENANT/oauth2/token

  # the tenant's public signing keys (JWKS) and discovery document
  curl -s $BASE_URL/t/$TENANT/oauth2/jwks
  curl -s $BASE_URL/t/$TENANT/.well-known/openid-configuration

JWKS URL: $BASE_URL/t/$TENANT/oauth2/jwks

People sign in as $DEMO_USER (password in $PASSWORD_FILE) through the
apps demo-mobile (public, PKCE) and demo-web (confidential, secret in
$WEB_SECRET_FILE); README.md, "Signing people in", shows both with curl.

Stop the server with Ctrl-C.

EOF
exec "$TESSERA" --db "$DB" --listen "$HOST:$PORT" --public-url "$BASE_URL" serve
