#!/usr/bin/env bash
# test.sh: everything CI checks, in order, stopping at the first failure:
#   1. the banned-function grep over src/ (STYLE.md §5), cheapest first;
#   2. gcc Debug build in build-test/ and its unit tests (ctest -L unit);
#   3. the Debian packages (scripts/package.sh into build-pkg/), installed
#      on this machine when run as root, checked and purged
#      (tests/package/test_package.py);
#   4. clang build with ASan+UBSan in build-asan/, the whole ctest suite:
#      unit and end-to-end tests. The end-to-end suite runs once, here,
#      where a memory or undefined-behaviour error in any request path
#      fails it; TS_E2E_GCC=1 runs it in the gcc build as well;
#   5. clang libFuzzer build in build-fuzz/, each fuzz target run for
#      FUZZ_SECONDS over its seed corpus and dictionary.
# Environment: JOBS (default 2), FUZZ_SECONDS (default 5; longer runs are for
# dedicated fuzzing sessions, CI keeps the whole suite under 20 minutes),
# TS_E2E_GCC (1: the end-to-end suite in the gcc build too).
set -euo pipefail
cd "$(dirname "$0")/.."

JOBS=${JOBS:-2}
FUZZ_SECONDS=${FUZZ_SECONDS:-5}
START=$(date +%s)
STAGE="setup"

elapsed() { echo "$(($(date +%s) - START))s"; }
stage() {
	STAGE=$1
	echo
	echo "==> [$(elapsed)] $STAGE"
}
fail() {
	echo >&2
	echo "test.sh: FAILED in stage \"$STAGE\": $*" >&2
	echo "test.sh: FAIL after $(elapsed)" >&2
	exit 1
}

stage "dependencies"
./scripts/deps.sh --tests || fail "scripts/deps.sh could not install the build dependencies"
GCC=$(command -v gcc) || fail "gcc not found"
CLANG=$(command -v clang) || fail "clang not found"

# ---- 1. banned functions (STYLE.md §5; curl checksrc list) ----
stage "banned-function grep over src/"
BANNED='strcpy|strcat|sprintf|vsprintf|strncpy|strncat|strtok|atoi|gets|sscanf|rand'
# A word-boundary match followed by "(": snprintf, fgets, strtok_r, srand and
# RAND_bytes are different words; prose in comments that merely names a
# function without a parenthesis is not a use.
rc=0
hits=$(grep -rnE --include='*.c' --include='*.h' "\\<($BANNED)[[:space:]]*\\(" src/) || rc=$?
case $rc in
0)
	echo "$hits" >&2
	fail "banned functions in src/ (use snprintf, ts_buf, strtol, RAND_bytes via ts_rand_*)"
	;;
1) echo "no banned functions" ;;
*) fail "grep could not read src/" ;;
esac

# Runs the ctest suite of build dir $1 (further ctest arguments after it).
# The end-to-end test is excluded only while tests/e2e has no test files at
# all; once it has, pytest's exit 5 ("no tests collected") is a failure like
# any other.
run_ctest() {
	local dir=$1 exclude=()
	shift
	if ! compgen -G 'tests/e2e/test_*.py' >/dev/null; then
		echo "WARNING: tests/e2e has no test_*.py files; skipping the e2e test" >&2
		exclude=(-E '^e2e$')
	fi
	ctest --test-dir "$dir" --output-on-failure --no-tests=error "${exclude[@]}" "$@"
}

# Configures build dir $1 with compiler $2 and extra cache settings.
configure() {
	local dir=$1 cc=$2
	shift 2
	mkdir -p "$dir"
	cmake -S . -B "$dir" -DCMAKE_C_COMPILER="$cc" "$@" >"$dir/configure.log" 2>&1 || {
		cat "$dir/configure.log" >&2
		return 1
	}
}

# ---- 2. gcc Debug: unit (and e2e with TS_E2E_GCC=1) ----
stage "gcc Debug build (build-test/)"
configure build-test "$GCC" -DCMAKE_BUILD_TYPE=Debug -DTS_TESTS=ON -DTS_FUZZ=OFF -DTS_SANITIZE= \
	-DTS_WERROR=ON -DTS_TEST_HOOKS=ON ||
	fail "cmake configure failed for build-test/"
cmake --build build-test -j"$JOBS" || fail "the gcc Debug build failed"
if [ "${TS_E2E_GCC:-0}" = 1 ]; then
	stage "unit and e2e tests (gcc Debug)"
	run_ctest build-test || fail "tests failed in the gcc Debug build (see the output above)"
else
	stage "unit tests (gcc Debug)"
	run_ctest build-test -L unit || fail "unit tests failed in the gcc Debug build (see the output above)"
fi

# ---- 3. the Debian packages ----
stage "Debian packages (build-pkg/)"
/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/package ||
	fail "the Debian package tests failed (see the output above)"

# ---- 4. clang ASan + UBSan: unit + e2e ----
stage "clang ASan+UBSan build (build-asan/)"
configure build-asan "$CLANG" -DCMAKE_BUILD_TYPE=Debug -DTS_TESTS=ON -DTS_FUZZ=OFF \
	-DTS_SANITIZE=address,undefined -DTS_WERROR=ON -DTS_TEST_HOOKS=ON ||
	fail "cmake configure failed for build-asan/"
cmake --build build-asan -j"$JOBS" || fail "the clang ASan+UBSan build failed"
stage "unit and e2e tests under ASan+UBSan"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_ctest build-asan || fail "tests failed under ASan/UBSan (see the sanitizer report above)"

# ---- 5. fuzzing ----
stage "clang libFuzzer build (build-fuzz/)"
configure build-fuzz "$CLANG" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTS_TESTS=OFF -DTS_FUZZ=ON \
	-DTS_SANITIZE= -DTS_WERROR=ON || fail "cmake configure failed for build-fuzz/"
cmake --build build-fuzz --target fuzz -j"$JOBS" || fail "the fuzz targets did not build"

nfuzz=0
for src in tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	short=${name#fuzz_}
	bin=build-fuzz/tests/fuzz/$name
	seeds=tests/fuzz/corpus/$short
	work=build-fuzz/fuzz-work/$short # new inputs go here, never into the seeds
	log=build-fuzz/fuzz-$short.log
	stage "fuzz $short for ${FUZZ_SECONDS}s"
	[ -x "$bin" ] || fail "$bin was not built"
	[ -d "$seeds" ] || fail "$name has no seed corpus $seeds/"
	mkdir -p "$work" build-fuzz/fuzz-artifacts
	dict=()
	[ -f "tests/fuzz/$short.dict" ] && dict=(-dict="tests/fuzz/$short.dict")
	if ! "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="build-fuzz/fuzz-artifacts/$short-" \
		"${dict[@]}" "$work" "$seeds" >"$log" 2>&1; then
		tail -n 60 "$log" >&2
		fail "$name found a problem; full log $log, reproducer in build-fuzz/fuzz-artifacts/ (run: $bin FILE)"
	fi
	grep -E '^#[0-9]+[[:space:]]+DONE' "$log" || tail -n 1 "$log"
	nfuzz=$((nfuzz + 1))
done
[ "$nfuzz" -gt 0 ] || fail "no fuzz targets found in tests/fuzz/"

echo
gcc_tests="unit"
[ "${TS_E2E_GCC:-0}" = 1 ] && gcc_tests="unit+e2e"
echo "test.sh: PASS in $(elapsed): banned-function grep, $gcc_tests (gcc Debug), Debian packages, unit+e2e (clang ASan+UBSan), $nfuzz fuzz targets x ${FUZZ_SECONDS}s"
