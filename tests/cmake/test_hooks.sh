#!/bin/sh
# Test hooks (TS_TEST_HOOKS: a skewed key-rotation clock read from the
# environment) exist only in Debug builds: a Release build configured with
# TS_TESTS=ON compiles none, and asking for them in a Release build fails
# at configure time. Usage: test_hooks.sh SOURCE_DIR C_COMPILER
set -eu
src=$1
cc=$2
dir=$(mktemp -d "${TMPDIR:-/tmp}/ts-hooks-XXXXXX")
trap 'rm -rf "$dir"' EXIT

cmake -S "$src" -B "$dir/rel" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Release \
	-DTS_TESTS=ON -DTS_FUZZ=OFF -DTS_SANITIZE= >"$dir/rel.log" 2>&1 || {
	cat "$dir/rel.log"
	echo "FAIL: a Release build with TS_TESTS=ON did not configure"
	exit 1
}
if grep -q 'TS_TEST_HOOKS' "$dir/rel/compile_commands.json"; then
	echo "FAIL: a Release build compiles the test hooks in"
	exit 1
fi
if cmake -S "$src" -B "$dir/relhooks" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Release \
	-DTS_TESTS=ON -DTS_TEST_HOOKS=ON -DTS_FUZZ=OFF -DTS_SANITIZE= >"$dir/relhooks.log" 2>&1; then
	echo "FAIL: TS_TEST_HOOKS=ON was accepted in a Release build"
	exit 1
fi
grep -q 'TS_TEST_HOOKS' "$dir/relhooks.log" || {
	cat "$dir/relhooks.log"
	echo "FAIL: the refusal does not name TS_TEST_HOOKS"
	exit 1
}
cmake -S "$src" -B "$dir/dbg" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Debug \
	-DTS_TESTS=ON -DTS_FUZZ=OFF -DTS_SANITIZE= >"$dir/dbg.log" 2>&1 || {
	cat "$dir/dbg.log"
	echo "FAIL: a Debug build with TS_TESTS=ON did not configure"
	exit 1
}
grep -q 'TS_TEST_HOOKS' "$dir/dbg/compile_commands.json" || {
	echo "FAIL: a Debug test build has no test hooks"
	exit 1
}
echo "ok"
