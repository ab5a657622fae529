#!/usr/bin/env bash
# demo.sh: builds Tessera (Release, in build/), prepares a local state
# directory (.tessera/: master key, demo client secret, SQLite database),
# applies examples/demo/bootstrap.json and runs `tessera serve` in the
# foreground on 127.0.0.1:$PORT (default 8080). Safe to run again: existing
# keys and secrets are kept and the bootstrap file is applied idempotently.
#
# Environment: PORT (default 8080); BUILD_DIR (default build) and
# TESSERA_STATE_DIR (default .tessera) for running beside another checkout.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-8080}
BUILD_DIR=${BUILD_DIR:-build}
STATE_DIR=${TESSERA_STATE_DIR:-.tessera}
HOST=127.0.0.1
BASE_URL="http://$HOST:$PORT"
TENANT=demo
CLIENT_ID=demo-service
BOOTSTRAP=examples/demo/bootstrap.json

die() {
	echo "demo.sh: $*" >&2
	exit 1
}

case "$PORT" in
'' | *[!0-9]*) die "PORT must be a number, not \"$PORT\"" ;;
esac
[ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ] || die "PORT must be between 1 and 65535"

./scripts/deps.sh

echo "demo.sh: building Release in $BUILD_DIR/"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DTS_SANITIZE= -DTS_FUZZ=OFF >/dev/null
cmake --build "$BUILD_DIR" --target tessera -j"$(nproc)" >/dev/null ||
	die "the build failed; run: cmake --build $BUILD_DIR --target tessera"
TESSERA="$BUILD_DIR/tessera"

# Everything in the state directory is private to this user.
umask 077
mkdir -p "$STATE_DIR"
chmod 700 "$STATE_DIR"
MASTER_KEY_FILE="$STATE_DIR/master.key"
SECRET_FILE="$STATE_DIR/demo-secret"
DB="sqlite:$STATE_DIR/tessera.db"

if [ ! -s "$MASTER_KEY_FILE" ]; then
	openssl rand -hex 32 >"$MASTER_KEY_FILE.tmp"
	mv "$MASTER_KEY_FILE.tmp" "$MASTER_KEY_FILE"
	echo "demo.sh: created a new master key in $MASTER_KEY_FILE (keep it: it seals the signing keys)"
fi
chmod 600 "$MASTER_KEY_FILE"
if [ ! -s "$SECRET_FILE" ]; then
	# 32 random bytes as unpadded base64url: 43 characters.
	openssl rand -base64 32 | tr '+/' '-_' | tr -d '=\n' >"$SECRET_FILE.tmp"
	mv "$SECRET_FILE.tmp" "$SECRET_FILE"
	echo "demo.sh: created the demo client secret in $SECRET_FILE"
fi
chmod 600 "$SECRET_FILE"
SECRET=$(cat "$SECRET_FILE")

# The demo's own settings win over anything in the caller's environment.
unset TESSERA_MASTER_KEY TESSERA_CONFIG TESSERA_DB TESSERA_LISTEN TESSERA_PUBLIC_URL
export TESSERA_MASTER_KEY_FILE="$MASTER_KEY_FILE"

echo "demo.sh: applying $BOOTSTRAP to $DB"
TESSERA_DEMO_SECRET="$SECRET" "$TESSERA" --db "$DB" --public-url "$BASE_URL" \
	bootstrap "$BOOTSTRAP" || die "applying $BOOTSTRAP failed"

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
Stop the server with Ctrl-C.

EOF
exec "$TESSERA" --db "$DB" --listen "$HOST:$PORT" --public-url "$BASE_URL" serve
