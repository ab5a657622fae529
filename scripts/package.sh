#!/usr/bin/env bash
# package.sh: builds the Debian packages tessera_VERSION_ARCH.deb and
# libtessera-dev_VERSION_ARCH.deb into build-pkg/ (a Release build installed
# under /usr, with the systemd unit and /etc/tessera). Prints their paths.
# Environment: JOBS (default 2), BUILD_DIR (default build-pkg).
set -euo pipefail
cd "$(dirname "$0")/.."

JOBS=${JOBS:-2}
BUILD_DIR=${BUILD_DIR:-build-pkg}

./scripts/deps.sh >/dev/null
for tool in cpack dpkg-deb dpkg-shlibdeps; do
	command -v "$tool" >/dev/null || {
		echo "package.sh: $tool not found (dpkg-dev and cmake provide them)" >&2
		exit 1
	}
done
mkdir -p "$BUILD_DIR"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
	-DTS_INSTALL_SYSTEM=ON -DTS_TESTS=OFF -DTS_FUZZ=OFF -DTS_EXAMPLES=OFF -DTS_SANITIZE= \
	>"$BUILD_DIR/configure.log" 2>&1 || {
	cat "$BUILD_DIR/configure.log" >&2
	exit 1
}
cmake --build "$BUILD_DIR" -j"$JOBS" --target tessera tessera_lib >/dev/null
(cd "$BUILD_DIR" && rm -f ./*.deb && cpack -G DEB >cpack.log 2>&1) || {
	cat "$BUILD_DIR/cpack.log" >&2
	exit 1
}
ls "$PWD/$BUILD_DIR"/*.deb
