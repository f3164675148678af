#!/usr/bin/env bash
# `writ init` and `writ test` end to end: a new project's tests pass; the
# runner's verdicts, messages, filters, JSON and exit codes on a file of
# tests that fail in known ways (tests/fixtures/workbench).
# usage: workbench_cli_test.sh WRIT_BINARY SOURCE_DIR
set -u
WRIT="$1"
SRC="$2"
source "$(dirname "$0")/lib.sh"

cd "$TMP"
expect init 0 "made project demo" -- "$WRIT" init demo
check init-layout test -f demo/writ.json -a -f demo/src/counter.writ -a -f demo/test/counter_test.writ
expect init-refuses-existing 2 "already exists" -- "$WRIT" init demo
cd demo
expect test-new-project 0 "^5 passed, 0 failed" -- "$WRIT" test
expect test-line-per-test 0 "  ok    test_only_the_owner_resets +gas [0-9,]+" -- "$WRIT" test
# From a subdirectory: the project is found above.
expect test-from-subdir 0 "5 passed, 0 failed" -- bash -c "cd src && \"$WRIT\" test"

cp "$SRC/tests/fixtures/workbench/expectations_test.writ" test/
expect test-failures-exit-1 1 "^5 passed, 11 failed" -- "$WRIT" test test/expectations_test.writ
expect test-missing-revert 1 "expected the call to revert with NotOwner, but it succeeded" -- \
  "$WRIT" test test/expectations_test.writ --match expected_revert_missing
expect test-assert-source 1 "expectations_test.writ:[0-9]+:5: assert\(ICounter\(counter\).value\(\) == 5\);" -- \
  "$WRIT" test test/expectations_test.writ --match assert_fails
expect test-revert-decoded 1 "reverted: NotOwner\(caller: 0xbad\)" -- \
  "$WRIT" test test/expectations_test.writ --match unexpected_revert
expect test-revert-callee-line 1 "src/counter.writ:[0-9]+:5: require\(caller\(\) == owner" -- \
  "$WRIT" test test/expectations_test.writ --match unexpected_revert
expect test-missing-event 1 "expected the call to emit Incremented, but it did not" -- \
  "$WRIT" test test/expectations_test.writ --match event_missing
expect test-never-ends 1 "OutOfGas \(the function did not finish within 1,000,000 gas" -- \
  "$WRIT" test test/expectations_test.writ --match never_ends --gas 1000000
expect test-wrong-error 1 "expected the call to revert with SomethingElse, but it reverted with NotOwner" -- \
  "$WRIT" test test/expectations_test.writ --match wrong_error
expect test-deploy-unknown 1 "no contract Nope in the project \(known: Counter, ExpectationsTest\)" -- \
  "$WRIT" test test/expectations_test.writ --match deploy_unknown
expect test-property-runs 0 "  ok    test_add_adds +gas [0-9,]+ \(mean of 256 runs\)" -- "$WRIT" test test/counter_test.writ
expect test-property-runs-option 0 "test_add_adds +gas [0-9,]+ \(mean of 7 runs\)" -- "$WRIT" test test/counter_test.writ --runs 7
expect test-property-shrinks 1 "with \(x: 1000, flag: true\) \(shrunk in [0-9]+ tries; replay: writ test --seed 0x5 --match 'ExpectationsTest.test_property_shrinks" -- \
  "$WRIT" test test/expectations_test.writ --match property_shrinks --seed 5
expect test-property-wide 0 "test_property_passes .*mean of 256 runs" -- \
  "$WRIT" test test/expectations_test.writ --match property_passes
expect test-invariant-passes 0 "  ok    invariant_the_owner_never_changes +runs 32 x 16 calls, [0-9]+% reverted" -- \
  "$WRIT" test test/counter_test.writ
expect test-invariant-options 0 "invariant_the_owner_never_changes +runs 3 x 5 calls" -- \
  "$WRIT" test test/counter_test.writ --invariant-runs 3 --depth 5
expect test-invariant-broken 1 "broken on run [0-9]+ after 1 call \(shrunk from [0-9]+; replay: writ test --seed 0x0" -- \
  "$WRIT" test test/expectations_test.writ --match invariant_value_stays
expect test-property-shrinks-i128 1 "with \(a: -1000\) \(shrunk in" -- \
  "$WRIT" test test/expectations_test.writ --match property_shrinks_i128
expect test-property-shrinks-i64 1 "with \(a: -1000\) \(shrunk in" -- \
  "$WRIT" test test/expectations_test.writ --match property_shrinks_i64
# The replay line repeats the options that change what runs.
expect test-property-replay-options 1 "replay: writ test --seed 0x5 --gas 5000000 --runs 40 --match 'ExpectationsTest.test_property_shrinks\\$'" -- \
  "$WRIT" test test/expectations_test.writ --match property_shrinks --seed 5 --gas 5000000 --runs 40
expect test-invariant-replay-options 1 "replay: writ test --seed 0x0 --invariant-runs 8 --depth 4 --match 'ExpectationsTest.invariant_value_stays_below_100\\$'" -- \
  "$WRIT" test test/expectations_test.writ --match invariant_value_stays --invariant-runs 8 --depth 4
expect test-invariant-shrunk-call 1 "^ +1\. Counter\.add\(n: 100\) from 0x[0-9a-f]+$" -- \
  "$WRIT" test test/expectations_test.writ --match invariant_value_stays
expect test-invariant-readable 0 "invariant_value_readable +runs 32 x 16" -- \
  "$WRIT" test test/expectations_test.writ --match invariant_value_readable
expect test-bad-depth 2 "--depth 0 is not a whole number from 1 to 10000" -- "$WRIT" test --depth 0
expect test-bad-runs 2 "--runs 0 is not a whole number from 1 to 100000" -- "$WRIT" test --runs 0
expect test-gas-report 0 "^    increment +[0-9,]+ +[0-9,]+ +[0-9,]+ +[0-9,]+ +[0-9,]+$" -- \
  "$WRIT" test test/counter_test.writ --gas-report
# The invariants' calls count too (owner is called by the invariant only).
expect test-gas-report-invariant-calls 0 "^    owner +[0-9,]+ +43 +43 +43 +43$" -- \
  "$WRIT" test test/counter_test.writ --gas-report
expect test-gas-report-json 0 '"gas_report":\{"Counter":\{.*"increment":\{"calls":[0-9]+,"min":[0-9]+,"mean":[0-9]+,"median":[0-9]+,"max":[0-9]+\}' -- \
  "$WRIT" test test/counter_test.writ --gas-report --json
expect test-gas-profile 0 "^gas profile: [0-9]+ stacks, [0-9]+ source files -> prof \(gas.folded, FILE.gas\)$" -- \
  "$WRIT" test test/counter_test.writ --gas-profile prof
check gas-profile-folded grep -Eq "^CounterTest.test_increment_counts_up;Counter.increment;.*/src/counter.writ:11 [0-9]+$" prof/gas.folded
check gas-profile-annotated grep -Eq "^ +[0-9]+ +11      count \+= 1;$" prof/counter.writ.gas
check gas-profile-untouched-line grep -Eq "^ +18      return count;$" prof/counter.writ.gas
expect test-snapshot-check-missing 1 "make it with --snapshot" -- "$WRIT" test test/counter_test.writ --snapshot-check
expect test-snapshot-write 0 "gas snapshot: 4 tests written to .*/demo/.gas-snapshot" -- \
  "$WRIT" test test/counter_test.writ --snapshot
check snapshot-lines grep -Eq "^CounterTest.test_increment_counts_up [0-9]+$" .gas-snapshot
expect test-snapshot-check-same 0 "5 passed, 0 failed" -- "$WRIT" test test/counter_test.writ --snapshot-check
# An invariant has no gas of its own: no line. --match compares and writes
# the tests it runs only, the others' lines left as they are.
check snapshot-no-invariant bash -c '! grep -q invariant_ .gas-snapshot'
expect test-snapshot-check-match 0 "^2 passed, 0 failed" -- \
  "$WRIT" test --match increment --snapshot-check
expect test-snapshot-write-match 0 "gas snapshot: 4 tests written" -- \
  "$WRIT" test --match increment --snapshot
check snapshot-match-keeps-others grep -Eq "^CounterTest.test_add_adds [0-9]+$" .gas-snapshot
cp src/counter.writ counter.writ.orig
sed -i 's/count += 1;/count += 1;\n    count += 0;/' src/counter.writ
expect test-snapshot-check-differs 1 "CounterTest.test_increment_counts_up: [0-9,]+ -> [0-9,]+ \(\+[0-9,]+, \+[0-9.]+%\)" -- \
  "$WRIT" test test/counter_test.writ --snapshot-check
# Of --snapshot and --snapshot-check the last given counts, with its own file.
expect test-snapshot-last-counts 0 "gas snapshot: 4 tests written to other.gas-snapshot" -- \
  "$WRIT" test test/counter_test.writ --snapshot-check --snapshot other.gas-snapshot
expect test-snapshot-last-counts-own-file 1 "CounterTest.test_increment_counts_up: [0-9,]+ -> [0-9,]+" -- \
  "$WRIT" test test/counter_test.writ --snapshot other.gas-snapshot --snapshot-check
mv counter.writ.orig src/counter.writ
expect test-helpers-pass 0 "^3 passed, 0 failed" -- \
  "$WRIT" test test/expectations_test.writ --match 'environment|sticky|genesis'
expect test-match-none 0 "no tests match --match" -- "$WRIT" test --match nothing_is_called_this
expect test-json 1 '^\{"tests":\[.*"name":"test_environment","status":"pass","gas":[0-9]+\}.*"passed":5,"failed":11\}$' -- \
  "$WRIT" test test/expectations_test.writ --json
expect test-bad-regex 2 "is not a regular expression" -- "$WRIT" test --match '('
expect test-bad-gas 2 "is not a gas amount" -- "$WRIT" test --gas 0

# writ build in a project: out/, then nothing to do, then only what an edit reaches.
rm -f test/expectations_test.writ
expect build-project 0 "^built 2 files, 0 up to date -> .*/demo/out$" -- "$WRIT" build
check build-outputs test -f out/Counter.wbc -a -f out/Counter.abi.json -a -f out/Counter.debug.json
expect build-up-to-date 0 "^built 0 files, 2 up to date" -- "$WRIT" build
expect build-up-to-date-line 0 "^src/counter.writ: up to date$" -- "$WRIT" build
echo "// an edit" >> src/counter_api.writ
expect build-import-changed 0 "^built 2 files, 0 up to date" -- "$WRIT" build
echo "// an edit" >> src/counter.writ
expect build-one-changed 0 "^built 1 file, 1 up to date" -- "$WRIT" build
rm out/Counter.debug.json
expect build-output-missing 0 "^built 1 file, 1 up to date" -- "$WRIT" build
expect build-force 0 "^built 2 files, 0 up to date" -- "$WRIT" build --force
cp src/counter.writ counter.writ.orig
echo "contract Broken { pub fn f() -> u64 { return true; } }" >> src/counter.writ
expect build-project-error 3 "counter.writ:[0-9]+:[0-9]+: error: " -- "$WRIT" build
mv counter.writ.orig src/counter.writ
expect build-after-fix 0 "^built 1 file, 1 up to date" -- "$WRIT" build
cp "$SRC/tests/fixtures/workbench/expectations_test.writ" test/

# Bad input: a test file that does not compile, a missing path, a manifest
# that does not parse or names another compiler, no project at all.
printf 'contract X { pub fn test_a() { let x: u64 = true; } }\n' > test/broken_test.writ
expect test-compile-error 3 "broken_test.writ:1:[0-9]+: error: expected u64, found bool" -- "$WRIT" test
rm test/broken_test.writ
expect test-missing-path 3 "no such file or directory" -- "$WRIT" test test/none.writ
cp writ.json writ.json.orig
printf '{"name": "demo", "compiler": "writc 9.9"}\n' > writ.json
expect test-other-compiler 3 'writ.json: compiler: the project asks for "writc 9.9"' -- "$WRIT" test
printf '[1, 2]\n' > writ.json
expect test-bad-manifest 3 "writ.json: not a JSON object" -- "$WRIT" test
mv writ.json.orig writ.json
# A project whose sources are its whole directory, tests included: each
# file is compiled once, a test file as a test (its error shown once).
mkdir -p "$TMP/flat/test" && cd "$TMP/flat"
printf '{"name": "flat", "src": ".", "test": "test"}\n' > writ.json
printf 'contract X { pub fn test_a() { let x: u64 = true; } }\n' > test/broken_test.writ
expect test-src-holds-tests 3 "^writ test: 1 error$" -- "$WRIT" test
check test-src-holds-tests-once test "$(grep -c 'error: expected u64' <<<"$LAST")" = 1
expect test-src-holds-tests-by-path 3 "^writ test: 1 error$" -- "$WRIT" test test/broken_test.writ
# Two test files, each with its own Helper and a test contract of one name:
# each runs its own, and t().deploy finds the file's own Helper.
mkdir -p "$TMP/twins/src" "$TMP/twins/test" && cd "$TMP/twins"
printf '{"name": "twins", "src": "src", "test": "test"}\n' > writ.json
cat > test/a_test.writ <<'EOF2'
import "test";
contract Helper { pub fn which() -> u64 { return 1; } }
interface IHelperA { fn which() -> u64; }
contract Twin {
  pub fn test_a_own_helper() { let h = t().deploy("Helper", new_bytes(0)); assert(IHelperA(h).which() == 1); }
}
EOF2
cat > test/b_test.writ <<'EOF2'
import "test";
contract Helper { pub fn other() -> u64 { return 2; } }
interface IHelperB { fn other() -> u64; }
contract Twin {
  pub fn test_b_own_helper() { let h = t().deploy("Helper", new_bytes(0)); assert(IHelperB(h).other() == 2); }
}
EOF2
expect test-same-names-in-two-files 0 "^2 passed, 0 failed" -- "$WRIT" test
cd "$TMP"
expect test-no-project 2 "no test files given and no writ.json" -- "$WRIT" test
finish
