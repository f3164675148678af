#!/usr/bin/env bash
# End-to-end tests of the `writ` command: outputs and exit codes.
# usage: cli_test.sh WRIT_BINARY SOURCE_DIR
set -u
WRIT="$1"
SRC="$2"
source "$(dirname "$0")/lib.sh"

expect asm-ok 0 "fib.wbc: [0-9]+ bytes, 2 functions, 2 exports, code hash [0-9a-f]{64}" -- \
  "$WRIT" asm "$SRC/examples/fib.wsm" -o "$TMP/fib.wbc"
expect exec-fib 0 "result 0 \(u256\): 354224848179261915075" -- \
  "$WRIT" exec "$TMP/fib.wbc" --call fib --arg 100
expect exec-text-module 0 "result 0 \(u256\): 55$" -- \
  "$WRIT" exec "$SRC/examples/fib.wsm" --call fib --arg 10
expect exec-json-trap 1 '"status":"Overflow".*"pc":31' -- \
  "$WRIT" exec "$TMP/fib.wbc" --call fib64 --arg 100 --json
expect exec-json-ok 0 '^\{"status":"Ok","function":"fib64","results":\["55"\],"gas_limit":1000,"gas_used":[0-9]+' -- \
  "$WRIT" exec "$TMP/fib.wbc" --call fib64 --arg 10 --gas 1000 --json
expect exec-gas-zero 1 "trap: OutOfGas \(code 2\) at fib pc 0" -- \
  "$WRIT" exec "$TMP/fib.wbc" --call fib --arg 5 --gas 0
expect exec-unknown-fn 2 "exports no function 'nope' \(exports: " -- \
  "$WRIT" exec "$TMP/fib.wbc" --call nope
expect exec-bad-arg 2 "argument 1: bad u64 value" -- \
  "$WRIT" exec "$TMP/fib.wbc" --call fib --arg -1x
expect exec-arg-count 2 "fib takes 1 arguments \(fib\(u64\)\), got 0" -- \
  "$WRIT" exec "$TMP/fib.wbc" --call fib
expect exec-missing-file 3 "cannot open" -- \
  "$WRIT" exec "$TMP/none.wbc" --call fib
# Inputs that are not files, or never end, are errors, never a hang.
expect disasm-directory 3 "is a directory" -- "$WRIT" disasm "$TMP"
expect disasm-endless 3 "larger than 64 MiB" -- "$WRIT" disasm /dev/zero
expect build-directory 3 "error: is a directory" -- "$WRIT" build "$TMP"
expect build-endless 3 "error: source larger than 4 MiB" -- "$WRIT" build /dev/zero
# Stray bytes in a source: every error shown, a NUL or an escape byte as
# \xNN (printed raw, a NUL cut the rest of the report and an escape drives
# the terminal), the caret under it; a binary file shows its first 50 errors.
printf 'contract A {\n  pub fn f() -> u64 { return 1; } \000\n  pub fn g() -> u64 { \033[31m return 2; }\n}\n' \
  > "$TMP/stray.writ"
"$WRIT" build "$TMP/stray.writ" -o "$TMP/stray" > "$TMP/stray.out" 2>&1
check build-stray-bytes-all-shown grep -q "stray.writ:3:23: error: unexpected control character 0x1b" "$TMP/stray.out"
check build-stray-bytes-escaped grep -qF -- '  pub fn f() -> u64 { return 1; } \x00' "$TMP/stray.out"
check build-stray-caret-under grep -qx -- '                                    ^~~~' "$TMP/stray.out"
control_bytes() { LC_ALL=C tr -d '\t\n\040-\176\200-\377' < "$1" | wc -c; }
check build-stray-no-raw-control test "$(control_bytes "$TMP/stray.out")" = 0
printf 'contract A {\n  \033[2J\n}\n' > "$TMP/escape.writ"
"$WRIT" build "$TMP/escape.writ" -o "$TMP/stray" > "$TMP/escape.out" 2>&1
check build-escape-byte-not-sent test "$(control_bytes "$TMP/escape.out")" = 0 -a -s "$TMP/escape.out"
printf 'contract A {}\n' > "$TMP/binary.writ"
for i in $(seq 1 110); do printf '\001 ' >> "$TMP/binary.writ"; done
expect build-error-limit 3 "^\(60 more errors not shown: the first 50 are above\)$" -- \
  "$WRIT" build "$TMP/binary.writ" -o "$TMP/binary"
# A line of thousands of columns (generated source) is shown as a window
# around the error, cut with "...", the caret still under the name.
printf 'contract A { pub fn f() -> u64 { let s = "%s"; return zz; } }\n' \
  "$(head -c 3000 /dev/zero | tr '\0' y)" > "$TMP/longline.writ"
"$WRIT" build "$TMP/longline.writ" -o "$TMP/longline" > "$TMP/longline.out" 2>&1
check build-long-line-located grep -q "longline.writ:1:3053: error: unknown name 'zz'" "$TMP/longline.out"
check build-long-line-window grep -qE '^  \.\.\.y{40,80}"; return zz; } }$' "$TMP/longline.out"
check build-long-line-short test "$(awk '{ if (length($0) > m) m = length($0) } END { print m }' "$TMP/longline.out")" -le 170
check build-long-line-caret test "$(sed -n 2p "$TMP/longline.out" | awk '{ print index($0, "zz") }')" = \
  "$(sed -n 3p "$TMP/longline.out" | awk '{ print index($0, "^~") }')"
# A generated function with 5,000 distinct constants (more than the registers
# a function has): the constants past the hoisting limit are loaded where they
# are read, and the function compiles and computes what awk computes.
awk 'BEGIN {
  print "contract Many {\n  pub fn f(a: u64) -> u64 {\n    let s = a;"
  for (i = 0; i < 5000; i++)
    printf "    if s > %d { s = s - %d; } else { s = s + %d; }\n", 1000003 + 7 * i, 1 + i % 5, 2 + i % 3
  print "    let w: u256 = a as u256;\n    for j in 0..3 { w = w + 18446744073709551617; }"
  print "    for j in 0..10 { s = s + 12345678901; }\n    return s + (w / 18446744073709551617) as u64;\n  }\n}"
}' > "$TMP/many.writ"
many_expected() {
  awk -v a="$1" 'BEGIN { s = a; for (i = 0; i < 5000; i++) { if (s > 1000003 + 7 * i) s -= 1 + i % 5; else s += 2 + i % 3 }
    printf "%.0f\n", s + 10 * 12345678901 + 3 }'
}
expect run-many-constants-low 0 "^result 0 \(u64\): $(many_expected 5)$" -- \
  "$WRIT" run "$TMP/many.writ" --call f --arg 5
expect run-many-constants-high 0 "^result 0 \(u64\): $(many_expected 5000000)$" -- \
  "$WRIT" run "$TMP/many.writ" --call f --arg 5000000

"$WRIT" disasm "$TMP/fib.wbc" > "$TMP/fib2.wsm"
expect disasm-roundtrip 0 "" -- "$WRIT" asm "$TMP/fib2.wsm" -o "$TMP/fib2.wbc"
expect disasm-identical-bytes 0 "" -- cmp "$TMP/fib.wbc" "$TMP/fib2.wbc"

head -c 40 "$TMP/fib.wbc" > "$TMP/cut.wbc"
expect disasm-truncated 3 "cut.wbc: byte 0x9: section 2 size [0-9]+ runs past the end" -- "$WRIT" disasm "$TMP/cut.wbc"
printf 'NOPE\001\000\000\000' > "$TMP/magic.wbc"
expect disasm-bad-magic 3 "byte 0x0: bad magic" -- "$WRIT" disasm "$TMP/magic.wbc"
expect exec-bad-module 3 "byte 0x[0-9a-f]+" -- "$WRIT" exec "$TMP/cut.wbc" --call fib

printf '.func f() export\n  jmp @3\n.end\n' > "$TMP/bad.wsm"
expect asm-unverifiable 3 "bad.wsm:2:3: verification failed: function 0 \(f\) at code offset 0: jump target 3 is not the start" -- \
  "$WRIT" asm "$TMP/bad.wsm" -o "$TMP/bad.wbc"
# The verifier's function and code offset, said at the line that wrote them.
printf '.func f(u64) -> (u64) export\n  ret r0\n.end\n.func g(u64) -> (u64) export\n  .regs u64\n  addi r1, r0, 1\n  ; a register past the frame\n    add r1, r0, r5\n  ret r1\n.end\n' > "$TMP/bad2.wsm"
expect asm-unverifiable-line 3 "bad2.wsm:8:5: verification failed: function 1 \(g\) at code offset [0-9]+: add operand 3: register r5 does not exist" -- \
  "$WRIT" asm "$TMP/bad2.wsm" -o "$TMP/bad2.wbc"
printf '.func f() export\n  bogus r1\n.end\n' > "$TMP/syntax.wsm"
expect asm-syntax 3 "syntax.wsm:2:3: unknown instruction 'bogus'" -- \
  "$WRIT" asm "$TMP/syntax.wsm" -o "$TMP/syntax.wbc"

expect help 0 "usage: writ <command>" -- "$WRIT" help
expect help-exec 0 "usage: writ exec MODULE" -- "$WRIT" exec --help
expect unknown-command 2 "unknown command 'frob'" -- "$WRIT" frob
expect no-args 2 "usage: writ" -- "$WRIT"
expect opcodes-md 0 "^\| 0x50 \| \`wadd\` \| \`Www\` \|" -- "$WRIT" opcodes --markdown

# writ run: a trap names its source line from the debug info.
cat > "$TMP/trap.writ" <<'WRIT'
error TooSmall(x: u64);
contract T {
  pub fn f(x: u64) -> u64 {
    let y = x - 10;
    return y;
  }
  pub fn g(x: u64) -> u64 {
    require(x > 5, TooSmall(x));
    return x;
  }
}
WRIT
expect run-ok 0 "result 0 \(u64\): 2$" -- "$WRIT" run "$TMP/trap.writ" --call f --arg 12
expect run-trap-source 1 "at .*trap.writ:4:13: let y = x - 10;" -- "$WRIT" run "$TMP/trap.writ" --call f --arg 3
expect run-trap-json 1 '"trap":\{"code":"Overflow","function":"f","pc":[0-9]+,"source":"[^"]*trap.writ:4:13"' -- \
  "$WRIT" run "$TMP/trap.writ" --call f --arg 3 --json
expect run-revert-source 1 "at .*trap.writ:8:5: require\(x > 5, TooSmall\(x\)\);" -- \
  "$WRIT" run "$TMP/trap.writ" --call g --arg 3
expect run-revert-decoded 1 "revert: TooSmall\(x: 3\)" -- "$WRIT" run "$TMP/trap.writ" --call g --arg 3
# A call refused before it ran (value to a function that is not payable) is
# at the function called (it was at the contract's first function, f).
expect run-refused-at-the-function 1 "trap: NotPayable at g, before it ran: g is not payable" -- \
  "$WRIT" run "$TMP/trap.writ" --call g --arg 3 --value 5
expect run-refused-json 1 '"trap":\{"code":"NotPayable","function":"g"' -- \
  "$WRIT" run "$TMP/trap.writ" --call g --arg 3 --value 5 --json

# writ run: every contract of the file is deployed (contract k at 0xC0D0 + k);
# a failure that comes through nested calls prints the chain of calls, each
# frame with its contract, function, error and source line; events of every
# contract are decoded.
cat > "$TMP/nested.writ" <<'WRIT'
error Low(x: u64);
event Seen(who: address indexed, x: u64);
interface IInner { fn inner(x: u64) -> u64; fn inner_revert(x: u64) -> u64; }
interface IMid { fn mid(x: u64) -> u64; fn mid_revert(x: u64) -> u64; }
contract Inner {
  pub fn inner(x: u64) -> u64 {
    let y = x - 10;
    return y;
  }
  pub fn inner_revert(x: u64) -> u64 {
    require(x > 5, Low(x));
    return x;
  }
}
contract Mid {
  pub fn mid(x: u64) -> u64 {
    emit Seen(caller(), x);
    return IInner(address(0xC0D0)).inner(x) + 1;
  }
  pub fn mid_revert(x: u64) -> u64 { return IInner(address(0xC0D0)).inner_revert(x); }
}
contract Outer {
  pub fn run(x: u64) -> u64 { return IMid(address(0xC0D1)).mid(x); }
  pub fn run_revert(x: u64) -> u64 { return IMid(address(0xC0D1)).mid_revert(x); }
}
WRIT
expect run-nested-ok 0 "result 0 \(u64\): 21$" -- "$WRIT" run "$TMP/nested.writ" --call run --arg 30
expect run-nested-event-of-callee 0 "^event: Seen\(who: 0xc0d2, x: 30\) from Mid at 0xc0d1$" -- echo "$LAST"
expect run-nested-revert 1 "^revert: CallFailed\(callee: 0xc0d0, status: 3 \(Overflow\)\)$" -- \
  "$WRIT" run "$TMP/nested.writ" --call run --arg 3
expect run-chain-outer 0 "^  0: Outer.run at 0xc0d2: Revert: CallFailed\(callee: 0xc0d0, status: 3 \(Overflow\)\)$" -- echo "$LAST"
expect run-chain-mid 0 "^  1: Mid.mid at 0xc0d1: Revert: CallFailed\(callee: 0xc0d0, status: 3 \(Overflow\)\)$" -- echo "$LAST"
expect run-chain-mid-source 0 "^     at mid pc [0-9]+, .*nested.writ:18:12: return IInner\(address\(0xC0D0\)\).inner\(x\) \+ 1;$" -- echo "$LAST"
expect run-chain-inner 0 "^  2: Inner.inner at 0xc0d0: Overflow$" -- echo "$LAST"
expect run-chain-inner-source 0 "^     at inner pc [0-9]+, .*nested.writ:7:13: let y = x - 10;$" -- echo "$LAST"
expect run-chain-revert-origin 1 "^  2: Inner.inner_revert at 0xc0d0: Revert: Low\(x: 3\)$" -- \
  "$WRIT" run "$TMP/nested.writ" --call run_revert --arg 3
expect run-chain-revert-origin-source 0 "at inner_revert pc [0-9]+, .*nested.writ:11:5: require\(x > 5, Low\(x\)\);$" -- echo "$LAST"
expect run-chain-json 1 '"calls":\[\{"address":"0xc0d0","contract":"Inner","function":"inner","selector":"0x[0-9a-f]{8}","status":"Overflow","at":"inner","pc":[0-9]+,"source":"[^"]*nested.writ:7:13","line":"let y = x - 10;","detail":""\},\{"address":"0xc0d1","contract":"Mid","function":"mid",[^}]*"status":"Revert","revert":"CallFailed\(callee: 0xc0d0, status: 3 \(Overflow\)\)"' -- \
  "$WRIT" run "$TMP/nested.writ" --call run --arg 3 --json
expect run-no-chain-for-a-direct-trap 1 "^trap: Overflow" -- "$WRIT" run "$TMP/nested.writ" --contract Inner --call inner --arg 3
if grep -q "call chain" <<<"$LAST"; then echo "FAIL run-no-chain-for-a-direct-trap: a chain printed"; fail=$((fail + 1)); else echo "ok   run-no-chain-printed"; pass=$((pass + 1)); fi

# A chain deeper than the trace keeps (16 nested calls) says how many it left out.
cat > "$TMP/deep.writ" <<'WRIT'
interface IDeep { fn down(n: u64) -> u64; }
contract Deep {
  pub reentrant fn down(n: u64) -> u64 {
    if n == 0 {
      let y = n - 1;
      return y;
    }
    return IDeep(self_address()).down(n - 1);
  }
}
WRIT
expect run-chain-omitted 1 "^  \.\.\. 4 more calls not recorded$" -- "$WRIT" run "$TMP/deep.writ" --call down --arg 20
expect run-chain-omitted-innermost 0 "^  16: Deep.down at 0xc0d0: Overflow$" -- echo "$LAST"

# writ build: the ABI file carries struct fields and enum variants.
cat > "$TMP/typed.writ" <<'WRIT'
enum Side { Buy, Sell }
struct Order { side: Side, amount: u64 }
contract Book {
  pub fn echo(o: Order) -> Order { return o; }
}
WRIT
expect build-typed 0 "Book: " -- "$WRIT" build "$TMP/typed.writ" -o "$TMP/typed"
expect build-abi-fields 0 '"fields":\[\{"name":"side","type":"Side","abi":\["u64"\],"variants":\["Buy","Sell"\]\},\{"name":"amount","type":"u64","abi":\["u64"\]\}\]' -- \
  cat "$TMP/typed/Book.abi.json"

# writ run: arguments by their Writ types.
cat > "$TMP/args.writ" <<'WRIT'
contract A {
  pub fn w(x: wad) -> wad { return x; }
  pub fn d(x: duration) -> u64 { return x.seconds(); }
  pub fn v(xs: vec<u64>) -> u64 { let s: u64 = 0; for i in 0..xs.len() { s += xs[i]; } return s; }
  pub fn vwad(xs: vec<wad>) -> wad { return xs[0] + xs[1]; }
  pub fn arr(xs: [u64; 3]) -> u64 { return xs[2]; }
  pub fn h(x: u8) -> u8 { return x; }
  pub fn n(x: u64) -> u64 { return x; }
  pub fn big(x: u256) -> u256 { return x; }
  pub fn s(x: i64) -> i64 { return x; }
  pub fn u128v(x: u128) -> u128 { return x; }
  pub fn i128v(x: i128) -> i128 { return x; }
}
WRIT
expect arg-wad-decimal 0 "result 0 \(wad\): 1.5$" -- "$WRIT" run "$TMP/args.writ" --call w --arg 1.5
expect arg-wad-bare-refused 2 "write 5.0 for 5, or raw:5 for 5 raw units of 10\^-18" -- \
  "$WRIT" run "$TMP/args.writ" --call w --arg 5
expect arg-wad-raw 0 "result 0 \(wad\): 0.000000000000000005$" -- "$WRIT" run "$TMP/args.writ" --call w --arg raw:5
expect arg-duration-unit 0 "result 0 \(u64\): 172800$" -- "$WRIT" run "$TMP/args.writ" --call d --arg 2d
expect arg-duration-seconds 0 "result 0 \(u64\): 90$" -- "$WRIT" run "$TMP/args.writ" --call d --arg 90
expect arg-vec 0 "result 0 \(u64\): 6$" -- "$WRIT" run "$TMP/args.writ" --call v --arg "[1, 2, 3]"
expect arg-vec-wad 0 "result 0 \(wad\): 3.75$" -- "$WRIT" run "$TMP/args.writ" --call vwad --arg "[1.5,2.25]"
expect arg-array-length 2 "expected 3 elements, got 2" -- "$WRIT" run "$TMP/args.writ" --call arr --arg "[1,2]"
expect arg-hex-u8 0 "result 0 \(u8\): 255$" -- "$WRIT" run "$TMP/args.writ" --call h --arg 0xff
expect arg-hex-u8-range 2 "0x100 does not fit u8" -- "$WRIT" run "$TMP/args.writ" --call h --arg 0x100
# A minus sign on an unsigned type is refused: two's complement would make
# -1 the largest value (an amount of 2^256 - 1), silently.
expect arg-negative-u64 2 "parameter x \(u64\): -1 is negative, and u64 is unsigned" -- \
  "$WRIT" run "$TMP/args.writ" --call n --arg -1
expect arg-negative-u256 2 "-1 is negative, and u256 is unsigned" -- "$WRIT" run "$TMP/args.writ" --call big --arg -1
expect arg-negative-wad 2 "-1.5 is negative, and wad is unsigned" -- "$WRIT" run "$TMP/args.writ" --call w --arg -1.5
expect arg-negative-wad-raw 2 "raw:-5 is negative, and wad is unsigned" -- "$WRIT" run "$TMP/args.writ" --call w --arg raw:-5
expect arg-negative-duration 2 "-5 is negative, and duration is unsigned" -- "$WRIT" run "$TMP/args.writ" --call d --arg -5
expect arg-negative-vec-element 2 "parameter xs\[1\] \(u64\): -2 is negative" -- \
  "$WRIT" run "$TMP/args.writ" --call v --arg "[1, -2]"
expect arg-negative-i64 0 "result 0 \(i64\): -1$" -- "$WRIT" run "$TMP/args.writ" --call s --arg -1
# A string result is printed as a literal writes it (a NUL cut it short).
printf 'contract S {\n  pub fn s() -> string { return "a\\"b\\0cd\\\\e\\x01\\nz"; }\n}\n' > "$TMP/str.writ"
expect run-string-escaped 0 'result 0 \(string\): "a\\"b\\0cd\\\\e\\x01\\nz"$' -- "$WRIT" run "$TMP/str.writ" --call s
# A signed argument's sign is the text's: 2^64 - 1 is not an i64's -1, and -0 is 0.
expect arg-i64-above-range 2 "18446744073709551615 does not fit i64" -- \
  "$WRIT" run "$TMP/args.writ" --call s --arg 18446744073709551615
expect arg-i64-minus-zero 0 "result 0 \(i64\): 0$" -- "$WRIT" run "$TMP/args.writ" --call s --arg -0
expect arg-wad-not-decimal 2 "1e5 is not a decimal number \(write 1.5, or raw:N" -- \
  "$WRIT" run "$TMP/args.writ" --call w --arg 1e5
# An argument is written as a literal is in source: separators between digits, digits on both
# sides of the point, decimals past the type's only if zeros, weeks; a signed type's own range.
expect arg-wad-separators 0 "result 0 \(wad\): 1000.5$" -- "$WRIT" run "$TMP/args.writ" --call w --arg 1_000.5
expect arg-wad-bad-separator 2 "1_.5: '_' stands between two digits" -- "$WRIT" run "$TMP/args.writ" --call w --arg 1_.5
expect arg-wad-no-integer-part 2 "write 0.5, with digits on both sides of the point" -- \
  "$WRIT" run "$TMP/args.writ" --call w --arg .5
expect arg-wad-zeros-past-scale 0 "result 0 \(wad\): 1.0$" -- \
  "$WRIT" run "$TMP/args.writ" --call w --arg 1.0000000000000000000
expect arg-wad-inexact 2 "1.0000000000000000001 has more than 18 decimals: it is not exactly a wad" -- \
  "$WRIT" run "$TMP/args.writ" --call w --arg 1.0000000000000000001
expect arg-duration-weeks 0 "result 0 \(u64\): 1209600$" -- "$WRIT" run "$TMP/args.writ" --call d --arg 2w
expect arg-i64-below-range 2 "parameter x: -9223372036854775809 does not fit i64" -- \
  "$WRIT" run "$TMP/args.writ" --call s --arg -9223372036854775809
expect arg-u128-range 2 "340282366920938463463374607431768211456 does not fit u128" -- \
  "$WRIT" run "$TMP/args.writ" --call u128v --arg 340282366920938463463374607431768211456
expect arg-i128-range 2 "170141183460469231731687303715884105728 does not fit i128" -- \
  "$WRIT" run "$TMP/args.writ" --call i128v --arg 170141183460469231731687303715884105728
expect arg-i128-min 0 "result 0 \(i128\): -170141183460469231731687303715884105728$" -- \
  "$WRIT" run "$TMP/args.writ" --call i128v --arg -170141183460469231731687303715884105728

# A vector or array from outside holds whole elements (a vector) or exactly
# N (an array): a vec<u256> of 33 bytes was taken, a push then wrote at byte
# 33 while xs[i] read at 32 x i (the pushed 1000 read back as 3), a
# vec<u128> read back a value past 2^128, and [u256; 2] took four words. A
# callee's result is held to the same: 3 bytes for a vec<u128> trapped
# nothing. Each traps Overflow now.
cat > "$TMP/lengths.writ" <<'WRIT'
interface IPrices { fn prices() -> vec<u128>; }
contract Evil {
  pub fn prices() -> bytes {
    let b = new_bytes(3);
    b[0] = 0xff;
    return b;
  }
}
contract Lengths {
  pub fn push_u256(xs: vec<u256>, fee: u256) -> (u64, u256) {
    xs.push(fee);
    return xs.len(), xs[xs.len() - 1];
  }
  pub fn push_u128(xs: vec<u128>, fee: u128) -> u128 {
    xs.push(fee);
    return xs[xs.len() - 1];
  }
  pub fn pair(a: [u256; 2]) -> u256 { return a[0] + a[1]; }
  pub fn small(xs: vec<u64>) -> u64 { return xs.len(); }
  pub fn from_callee(at: address) -> u64 { return IPrices(at).prices().len(); }
}
WRIT
W5=0000000000000000000000000000000000000000000000000000000000000005
expect vec-wide-odd-length 1 "trap: Overflow" -- "$WRIT" run "$TMP/lengths.writ" --contract Lengths --call push_u256 --arg "0x${W5}ff" --arg 1000
expect vec-wide-whole 0 "result 1 \(u256\): 1000$" -- "$WRIT" run "$TMP/lengths.writ" --contract Lengths --call push_u256 --arg "0x${W5}" --arg 1000
expect vec-u128-odd-length 1 "trap: Overflow" -- "$WRIT" run "$TMP/lengths.writ" --contract Lengths --call push_u128 --arg 0xffffff --arg 1
expect vec-u64-odd-length 1 "trap: Overflow" -- "$WRIT" run "$TMP/lengths.writ" --contract Lengths --call small --arg 0x0102030405060708ff
expect vec-u64-whole 0 "result 0 \(u64\): 1$" -- "$WRIT" run "$TMP/lengths.writ" --contract Lengths --call small --arg 0x0102030405060708
expect array-too-long 1 "trap: Overflow" -- "$WRIT" run "$TMP/lengths.writ" --contract Lengths --call pair --arg "0x${W5}${W5}${W5}${W5}"
expect array-too-short 1 "trap: Overflow" -- "$WRIT" run "$TMP/lengths.writ" --contract Lengths --call pair --arg "0x${W5}"
expect array-exact 0 "result 0 \(u256\): 10$" -- "$WRIT" run "$TMP/lengths.writ" --contract Lengths --call pair --arg "0x${W5}${W5}"
expect vec-result-odd-length 1 "Overflow" -- "$WRIT" run "$TMP/lengths.writ" --contract Lengths --call from_callee --arg 0xC0D0

# The default genesis: the system contracts at their addresses, configured.
expect genesis-json 0 '' -- "$WRIT" genesis -o "$TMP/genesis.json"
expect genesis-json-file 0 '"chain_id": 1337' -- cat "$TMP/genesis.json"
expect genesis-json-stdout 0 '"calls": \[' -- "$WRIT" genesis
expect genesis-oracle-feeds 0 "result 0 \(u64\): 3$" -- \
  "$WRIT" call --data "$TMP/devchain" --init --genesis "$TMP/genesis.json" --to 0x101 \
  --source "$SRC/contracts/oracle/oracle.writ" --call feeds_count
expect genesis-oracle-no-price 1 "revert: NoPrice\(feed: 1\)" -- \
  "$WRIT" call --data "$TMP/devchain" --to 0x101 --source "$SRC/contracts/oracle/oracle.writ" \
  --call price --arg 1 --arg 1h
expect genesis-bad-arg 2 "unexpected argument" -- "$WRIT" genesis --nope

finish
