// Interpreter semantics: results, traps with code and pc, gas, memory,
// host calls, static mode, reentrancy, and agreement of the two dispatchers.
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "program.hpp"
#include "test_util.hpp"
#include "writ/vm/gas.hpp"

namespace writ::vm::test {
namespace {

std::string read_example(const char* name) {
  std::ifstream f(std::string(WRIT_SOURCE_DIR) + "/examples/" + name);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(Interpreter, IterativeFibonacciOverU256) {
  Fixture fx(read_example("fib.wsm"));
  EXPECT_EQ(to_dec_string(fx.call_w("fib", {u64(100)})), "354224848179261915075");
  EXPECT_EQ(fx.call_w("fib", {u64(0)}), U256::zero());
  // fib(370) exceeds 2^256 and wraps: compare with the wrapping u256 library.
  U256 a = U256::zero(), b = U256::from_u64(1);
  for (int i = 0; i < 370; ++i) {
    U256 t = add(a, b);
    a = b;
    b = t;
  }
  EXPECT_EQ(fx.call_w("fib", {u64(370)}), a);
}

TEST(Interpreter, CheckedAddTrapsWithPcAndConsumesAllGas) {
  Fixture fx(read_example("fib.wsm"));
  // The loop computes one term ahead, so fib(93) (which fits) overflows on fib(94).
  EXPECT_EQ(fx.call_u64("fib64", {u64(92)}), 7540113804746346429ull);
  auto r = fx.call("fib64", {u64(93)});
  EXPECT_EQ(r.status, Status::Overflow);
  EXPECT_EQ(r.pc, 31u);  // the add.cu
  EXPECT_EQ(fx.module->module().functions[r.func].name, "fib64");
  EXPECT_EQ(r.gas_left, 0);
}

TEST(Interpreter, StraightLineGasIsTheSumOfBaseGas) {
  Fixture fx(R"(
.func f(u64) -> (u64) export
  .regs u64
  addi r1, r0, 7
  mul r1, r1, r1
  ret r1
.end)");
  auto r = fx.call("f", {u64(3)}, 1000);
  ASSERT_EQ(r.status, Status::Ok);
  EXPECT_EQ(fx.results("f", r)[0].word.low64(), 100u);
  EXPECT_EQ(1000 - r.gas_left, int64_t(gas_of(Op::ADDI) + gas_of(Op::MUL) + gas_of(Op::RET)));
}

// A call pays for the slots it writes into the callee's frame: the
// parameters it copies and the registers the callee may read before writing
// (which it zeroes), one unit per 16 slots, rounded up, and 2 more when it
// zeroes any. Registers the callee
// always writes first cost nothing, however many.
TEST(Interpreter, CallGasCountsTheSlotsTheCallWritesNotTheFrameSize) {
  // `written` and `zeroed` have the same frame (one u64 parameter, then n
  // u256 registers); `written` stores 9 in its last register, `zeroed` reads
  // it unwritten, so the call must zero it, whatever the previous call left.
  for (int n : {2, 64}) {
    std::string regs;
    for (int i = 0; i < n; ++i) regs += "u256 ";
    const std::string last = "r" + std::to_string(n);
    Fixture fx(R"(
.func written(u64) -> (u64)
  .regs )" + regs +
               R"(
  wconsti )" + last +
               R"(, 9
  ret r0
.end
.func zeroed(u64) -> (u256)
  .regs )" + regs +
               R"(
  ret )" + last +
               R"(
.end
.func call_written(u64) -> (u64) export
  .regs u64
  call written, r0, r1
  ret r1
.end
.func both(u64) -> (u256) export
  .regs u64 u256
  call written, r0, r1
  call zeroed, r0, r2
  ret r2
.end)");
    const int64_t call_ret = gas_of(Op::CALL) + 2 * gas_of(Op::RET);
    auto r = fx.call("call_written", {u64(5)}, 1000);
    ASSERT_EQ(r.status, Status::Ok) << "n=" << n;
    EXPECT_EQ(fx.results("call_written", r)[0].word.low64(), 5u);
    // One parameter slot written; the u256 registers are not, however many.
    EXPECT_EQ(1000 - r.gas_left, call_ret + gas_of(Op::WCONSTI) + 1) << "n=" << n;
    auto z = fx.call("both", {u64(5)}, 1000);
    ASSERT_EQ(z.status, Status::Ok) << "n=" << n;
    EXPECT_EQ(fx.results("both", z)[0].word, U256::zero()) << "n=" << n;
    // The second call writes the parameter and zeroes every register up to
    // the last: 1 + 4n slots.
    const int64_t zeroed_gas = (1 + 4 * n + 15) / 16 + 2;
    EXPECT_EQ(1000 - z.gas_left,
              2 * gas_of(Op::CALL) + 3 * gas_of(Op::RET) + gas_of(Op::WCONSTI) + 1 + zeroed_gas)
        << "n=" << n;
  }
}

const char* kLoop = R"(
.func count(u64) -> (u64) export
  .regs u64
  const r1, 0
  bge.u r1, r0, done
loop:
  addi r1, r1, 1
  blt.u r1, r0, loop
done:
  ret r1
.end)";

TEST(Interpreter, LoopGasIsChargedOncePerBlockEntry) {
  Fixture fx(kLoop);
  const int64_t entry = gas_of(Op::CONST) + gas_of(Op::BGE_U);
  const int64_t body = gas_of(Op::ADDI) + gas_of(Op::BLT_U);
  const int64_t exit = gas_of(Op::RET);
  for (uint64_t n : {0ull, 1ull, 5ull, 1000ull}) {
    auto r = fx.call("count", {u64(n)}, 1'000'000);
    ASSERT_EQ(r.status, Status::Ok);
    EXPECT_EQ(fx.results("count", r)[0].word.low64(), n);
    EXPECT_EQ(1'000'000 - r.gas_left, entry + int64_t(n) * body + exit) << "n=" << n;
  }
}

TEST(Interpreter, OutOfGasAtExactBoundary) {
  Fixture fx(kLoop);
  const int64_t cost = gas_of(Op::CONST) + gas_of(Op::BGE_U) +
                       10 * (gas_of(Op::ADDI) + gas_of(Op::BLT_U)) + gas_of(Op::RET);
  auto ok = fx.call("count", {u64(10)}, cost);
  EXPECT_EQ(ok.status, Status::Ok);
  EXPECT_EQ(ok.gas_left, 0);
  auto r = fx.call("count", {u64(10)}, cost - 1);
  EXPECT_EQ(r.status, Status::OutOfGas);
  EXPECT_EQ(r.gas_left, 0);
  EXPECT_EQ(r.pc, 42u);  // the ret block could not be paid for
}

TEST(Interpreter, GasLimitZeroTrapsBeforeAnyInstruction) {
  Fixture fx(kLoop);
  auto r = fx.call("count", {u64(3)}, 0);
  EXPECT_EQ(r.status, Status::OutOfGas);
  EXPECT_EQ(r.pc, 0u);
  EXPECT_EQ(r.gas_left, 0);
}

TEST(Interpreter, InfiniteLoopEndsOutOfGas) {
  Fixture fx(".func spin() export\nl:\n  jmp l\n.end\n");
  auto r = fx.call("spin", {}, 1'000'000);
  EXPECT_EQ(r.status, Status::OutOfGas);
}

TEST(Interpreter, DivisionTraps) {
  Fixture fx(R"(
.func div(u64, u64) -> (u64) export
  .regs u64
  div.u r2, r0, r1
  ret r2
.end
.func sdiv(u64, u64) -> (u64) export
  .regs u64
  div.s r2, r0, r1
  ret r2
.end
.func wdiv(u256, u256) -> (u256) export
  .regs u256
  wdiv.u r2, r0, r1
  ret r2
.end
.func wsdiv(u256, u256) -> (u256) export
  .regs u256
  wdiv.s r2, r0, r1
  ret r2
.end)");
  EXPECT_EQ(fx.call_u64("div", {u64(17), u64(5)}), 3u);
  auto r = fx.call("div", {u64(17), u64(0)});
  EXPECT_EQ(r.status, Status::DivisionByZero);
  EXPECT_EQ(r.pc, 0u);
  EXPECT_EQ(fx.call("sdiv", {u64(1ull << 63), u64(~0ull)}).status, Status::Overflow);
  EXPECT_EQ(fx.call_u64("sdiv", {u64(static_cast<uint64_t>(-7)), u64(2)}),
            static_cast<uint64_t>(-3));
  EXPECT_EQ(fx.call("wdiv", {w(1), w(0)}).status, Status::DivisionByZero);
  EXPECT_EQ(fx.call("wsdiv", {Value::u256(U256::signed_min()), Value::u256(U256::max())}).status,
            Status::Overflow);
}

TEST(Interpreter, U256OpsMatchTheLibrary) {
  Fixture fx(R"(
.func mm(u256, u256, u256) -> (u256) export
  .regs u256
  wmulmod r3, r0, r1, r2
  ret r3
.end
.func am(u256, u256, u256) -> (u256) export
  .regs u256
  waddmod r3, r0, r1, r2
  ret r3
.end
.func ex(u256, u256) -> (u256) export
  .regs u256
  wexp r2, r0, r1
  ret r2
.end
.func excu(u256, u256) -> (u256) export
  .regs u256
  wexp.cu r2, r0, r1
  ret r2
.end
.func sx(u256, u64) -> (u256) export
  .regs u256
  wsignext r2, r0, r1
  ret r2
.end)");
  U256 a = *parse_u256("0xfedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210");
  U256 b = *parse_u256("0x123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  U256 m =
      *parse_u256("115792089237316195423570985008687907853269984665640564039457584007913129639747");
  EXPECT_EQ(fx.call_w("mm", {Value::u256(a), Value::u256(b), Value::u256(m)}), mulmod(a, b, m));
  EXPECT_EQ(fx.call_w("am", {Value::u256(a), Value::u256(b), Value::u256(m)}), addmod(a, b, m));
  EXPECT_EQ(fx.call_w("ex", {w(3), w(200)}), exp(U256::from_u64(3), U256::from_u64(200)));
  EXPECT_EQ(fx.call("excu", {w(2), w(256)}).status, Status::Overflow);
  EXPECT_EQ(fx.call_w("excu", {w(2), w(255)}), shl(U256::from_u64(1), 255));
  EXPECT_EQ(fx.call_w("sx", {w(0xff), u64(0)}), U256::max());
  EXPECT_EQ(fx.call("mm", {w(1), w(1), w(0)}).status, Status::DivisionByZero);
}

TEST(Interpreter, ExpChargesPerExponentByte) {
  Fixture fx(
      ".func ex(u256, u256) -> (u256) export\n .regs u256\n wexp r2, r0, r1\n ret r2\n.end\n");
  auto small = fx.call("ex", {w(3), w(5)}, 100000);
  auto large = fx.call("ex", {w(3), Value::u256(U256::max())}, 100000);
  ASSERT_EQ(small.status, Status::Ok);
  ASSERT_EQ(large.status, Status::Ok);
  EXPECT_EQ(small.gas_left - large.gas_left, 31 * kGasExpByte);
}

TEST(Interpreter, NarrowingAndRangeChecks) {
  Fixture fx(R"(
.func nu(u256) -> (u64) export
  .regs u64
  narrow.u r1, r0
  ret r1
.end
.func ns(u256) -> (u64) export
  .regs u64
  narrow.s r1, r0
  ret r1
.end
.func u8(u64) -> (u64) export
  fits.u r0, 8
  ret r0
.end
.func i8(u64) -> (u64) export
  fits.s r0, 8
  ret r0
.end
.func sel(u64, u64, u64) -> (u64) export
  .regs u64
  select r3, r0, r1, r2
  ret r3
.end)");
  EXPECT_EQ(fx.call_u64("nu", {Value::u256(U256::from_u64(~0ull))}), ~0ull);
  EXPECT_EQ(fx.call("nu", {Value::u256(shl(U256::from_u64(1), 64))}).status, Status::Overflow);
  EXPECT_EQ(fx.call_u64("ns", {Value::u256(U256::max())}), ~0ull);  // -1 fits i64
  EXPECT_EQ(fx.call("ns", {Value::u256(U256::from_u64(1ull << 63))}).status, Status::Overflow);
  EXPECT_EQ(fx.call_u64("u8", {u64(255)}), 255u);
  EXPECT_EQ(fx.call("u8", {u64(256)}).status, Status::Overflow);
  EXPECT_EQ(fx.call_u64("i8", {u64(static_cast<uint64_t>(-128))}), static_cast<uint64_t>(-128));
  EXPECT_EQ(fx.call("i8", {u64(128)}).status, Status::Overflow);
  EXPECT_EQ(fx.call_u64("sel", {u64(1), u64(10), u64(20)}), 10u);
  EXPECT_EQ(fx.call_u64("sel", {u64(0), u64(10), u64(20)}), 20u);
}

const char* kBuffers = R"(
.func vec(u64, u64) -> (u64) export
  .regs buf u64 u64
  bnew r2, r0          ; r0 bytes
  const r3, 0
  const r4, 99
  st64 r2, r3, r4      ; element 0 := 99
  ld64 r3, r2, r1      ; element r1
  ret r3
.end
.func words(u256) -> (u256, u64) export
  .regs buf u64 u256 u64
  const r2, 40
  bnew r1, r2
  const r2, 8
  stw r1, r2, r0       ; bytes 8..40 := r0 big-endian
  ldw r3, r1, r2
  ld8 r4, r1, r2       ; most significant byte
  wxor r3, r3, r0      ; zero if the round trip held
  ret r3
.end
.func copy(buf) -> (buf) export
  .regs buf u64 u64
  blen r2, r0
  bnew r1, r2
  const r3, 0
  bcopy r1, r3, r0, r3, r2
  ret r1
.end
.func grow(u64) -> (u64) export
  .regs buf u64
  bnew r1, r0
  bresize r1, r0
  const r2, 1
  bnew r1, r2
  bresize r1, r0
  blen r2, r1
  ret r2
.end
)";

TEST(Interpreter, BuffersAreBoundsChecked) {
  Fixture fx(kBuffers);
  EXPECT_EQ(fx.call_u64("vec", {u64(16), u64(0)}), 99u);
  EXPECT_EQ(fx.call_u64("vec", {u64(16), u64(1)}), 0u);
  auto r = fx.call("vec", {u64(16), u64(2)});
  EXPECT_EQ(r.status, Status::OutOfBounds);
  EXPECT_EQ(r.pc, 34u);  // the ld64
  EXPECT_NE(r.detail.find("ld64 element 2 in a buffer of 16 bytes"), std::string::npos) << r.detail;
  EXPECT_EQ(fx.call("vec", {u64(16), u64(~0ull)}).status, Status::OutOfBounds);
  EXPECT_EQ(fx.call("vec", {u64(7), u64(0)}).status, Status::OutOfBounds);  // st64 on 7 bytes
}

TEST(Interpreter, WordStoresAreBigEndianAndRoundTrip) {
  Fixture fx(kBuffers);
  U256 v = *parse_u256("0xab00000000000000000000000000000000000000000000000000000000000001");
  auto r = fx.call("words", {Value::u256(v)});
  ASSERT_EQ(r.status, Status::Ok);
  auto res = fx.results("words", r);
  EXPECT_EQ(res[0].word, U256::zero());
}

TEST(Interpreter, BufferCopyAndBufferArgumentsAndResults) {
  Fixture fx(kBuffers);
  auto r = fx.call("copy", {Value::buf({1, 2, 3, 4, 5})});
  ASSERT_EQ(r.status, Status::Ok);
  EXPECT_EQ(fx.results("copy", r)[0].bytes, std::vector<uint8_t>({1, 2, 3, 4, 5}));
  EXPECT_EQ(fx.call_u64("grow", {u64(100)}), 100u);
}

// A copy costs a gas per 64 bytes besides its 8, its buffers' memory a gas
// per 32-byte word (docs/gas.md). The copy of 4,096 bytes against one of
// 32: 127 more words of the argument's memory at entry, 127 more of bnew's,
// and 63 more gas of bcopy.
TEST(Interpreter, ACopyAndItsBuffersArePaidBySize) {
  Fixture fx(kBuffers);
  const ExecResult small = fx.call("copy", {Value::buf(std::vector<uint8_t>(32, 1))});
  const ExecResult large = fx.call("copy", {Value::buf(std::vector<uint8_t>(4096, 1))});
  ASSERT_EQ(small.status, Status::Ok) << small.detail;
  ASSERT_EQ(large.status, Status::Ok) << large.detail;
  EXPECT_EQ(fx.results("copy", large)[0].bytes, std::vector<uint8_t>(4096, 1));
  EXPECT_EQ(small.gas_left - large.gas_left, 2 * kGasMemoryWord * 127 + 63);
}

TEST(Interpreter, ResizingTheEmptyHandleTraps) {
  Fixture fx(".func f(u64) export\n .regs buf\n bresize r1, r0\n ret r0\n.end\n");
  EXPECT_EQ(fx.call("f", {u64(8)}).status, Status::OutOfBounds);
}

TEST(Interpreter, MemoryIsBounded) {
  Fixture fx(
      ".func f(u64) -> (u64) export\n .regs buf\n bnew r1, r0\n blen r0, r1\n ret r0\n.end\n");
  EXPECT_EQ(fx.call_u64("f", {u64(1000)}), 1000u);
  auto r = fx.call("f", {u64(kMaxMemory + 1)}, 1ll << 40);
  EXPECT_EQ(r.status, Status::MemoryLimit);
  // Allocation is paid for before it happens: a big buffer with little gas is out of gas.
  EXPECT_EQ(fx.call("f", {u64(1 << 20)}, 1000).status, Status::OutOfGas);
}

TEST(Interpreter, UnboundedRecursionTrapsCallDepth) {
  Fixture fx(R"(
.func down(u64) -> (u64) export
  .regs u64
  addi r0, r0, 1
  call down, r0, r1
  ret r1
.end)");
  auto r = fx.call("down", {u64(0)}, 1ll << 40);
  EXPECT_EQ(r.status, Status::CallDepth);
  EXPECT_EQ(r.gas_left, 0);
}

// Recursive Fibonacci: two internal calls per node, one-slot arguments and results.
const std::string kFibRec = R"(
.func fib(u64) -> (u64) export
  .regs u64 u64 u64
  lti.u r1, r0, 2
  br_if r1, base
  addi r1, r0, -1
  call fib, r1, r2
  addi r1, r0, -2
  call fib, r1, r3
  add r2, r2, r3
  ret r2
base:
  ret r0
.end
)";

TEST(Interpreter, InternalCallsPassArgumentsAndResults) {
  Fixture fx(kFibRec + R"(
.func pair(u256, u64) -> (u64, u256) export
  .regs u64 u256
  call swap, r0, r2
  ret r2
.end
.func swap(u256, u64) -> (u64, u256)
  .regs u64 u256
  mov r2, r1
  wmov r3, r0
  ret r2
.end)");
  EXPECT_EQ(fx.call_u64("fib", {u64(20)}), 6765u);
  auto r = fx.call("pair", {w(77), u64(5)});
  ASSERT_EQ(r.status, Status::Ok);
  auto res = fx.results("pair", r);
  ASSERT_EQ(res.size(), 2u);
  EXPECT_EQ(res[0].word.low64(), 5u);
  EXPECT_EQ(res[1].word, U256::from_u64(77));
}

const char* kToken = R"(
.event Transfer(u256 indexed, u256 indexed, u256)
.error Insufficient(u256, u256)
.func mint(u256, u256) export
  .regs u256 u256
  wconsti r2, 0
  hash2 r2, r0, r2      ; slot of balances[r0]
  sload r3, r2
  wadd.cu r3, r3, r1
  sstore r2, r3
  ret r0
.end
.func balance(u256) -> (u256) export view
  .regs u256
  wconsti r1, 0
  hash2 r1, r0, r1
  sload r1, r1
  ret r1
.end
.func transfer(u256, u256) -> (u64) export
  ; r2 from, r3 to, r4 amount (the event's fields), r5/r6 sender slot and
  ; balance, r7/r8 recipient slot and balance, r9 flag
  .regs u256 u256 u256 u256 u256 u256 u256 u64
  caller r2
  wmov r3, r0
  wmov r4, r1
  wconsti r5, 0
  hash2 r5, r2, r5
  sload r6, r5
  wlt.u r9, r6, r4
  br_if r9, short
  wsub r6, r6, r4
  sstore r5, r6
  wconsti r7, 0
  hash2 r7, r3, r7
  sload r8, r7
  wadd.cu r8, r8, r4
  sstore r7, r8
  emit Transfer, r2
  const r9, 1
  ret r9
short:
  wmov r7, r4
  throw Insufficient, r6   ; (balance, amount)
.end
.func sneaky(u256) export view
  .regs u256
  wconsti r1, 1
  sstore r0, r1
  ret r0
.end
.func deposit() -> (u256) export payable
  .regs u256
  callvalue r0
  ret r0
.end
)";

TEST(Interpreter, StorageEventsAndCustomErrors) {
  Fixture fx(kToken);
  U256 alice = kCaller, bob = U256::from_u64(0xB0B);
  ASSERT_EQ(fx.call("mint", {Value::u256(alice), w(100)}).status, Status::Ok);
  EXPECT_EQ(fx.call_w("balance", {Value::u256(alice)}), U256::from_u64(100));

  auto r = fx.call("transfer", {Value::u256(bob), w(30)});
  ASSERT_EQ(r.status, Status::Ok) << r.detail;
  EXPECT_EQ(fx.call_w("balance", {Value::u256(alice)}), U256::from_u64(70));
  EXPECT_EQ(fx.call_w("balance", {Value::u256(bob)}), U256::from_u64(30));
  ASSERT_EQ(fx.host.logs().size(), 1u);
  const auto& log = fx.host.logs()[0];
  ASSERT_EQ(log.topics.size(), 3u);
  EXPECT_EQ(log.topics[0], event_topic(fx.module->module().events[0]));
  EXPECT_EQ(log.topics[1], alice);
  EXPECT_EQ(log.topics[2], bob);
  EXPECT_EQ(log.data, abi_encode(std::vector<Value>{w(30)}));

  // Too much: reverts with Insufficient(balance, amount) and keeps unused gas.
  r = fx.call("transfer", {Value::u256(bob), w(500)}, 100000);
  EXPECT_EQ(r.status, Status::Revert);
  EXPECT_GT(r.gas_left, 0);
  std::vector<ValType> fields = {ValType::U256, ValType::U256};
  EXPECT_EQ(r.output,
            call_input(selector_of("Insufficient", fields), std::vector<Value>{w(70), w(500)}));
  EXPECT_EQ(fx.call_w("balance", {Value::u256(alice)}), U256::from_u64(70));
  EXPECT_EQ(fx.host.logs().size(), 1u);
}

TEST(Interpreter, StorageGasDependsOnTheChange) {
  Fixture fx(kToken);
  auto first = fx.call("mint", {w(1), w(5)}, 1'000'000);
  auto second = fx.call("mint", {w(1), w(5)}, 1'000'000);
  ASSERT_EQ(first.status, Status::Ok);
  ASSERT_EQ(second.status, Status::Ok);
  EXPECT_EQ(second.gas_left - first.gas_left, kGasStorageAdded - kGasStorageModified);
}

TEST(Interpreter, ViewFunctionsCannotWrite) {
  Fixture fx(kToken);
  auto r = fx.call("sneaky", {w(1)});
  EXPECT_EQ(r.status, Status::StaticViolation);
  EXPECT_EQ(fx.host.storage_size(), 0u);
}

TEST(Interpreter, ValueRequiresPayable) {
  Fixture fx(kToken);
  fx.host.set_balance(kCaller, U256::from_u64(1000));
  auto r = fx.call("mint", {w(1), w(1)}, 100000, U256::from_u64(5));
  EXPECT_EQ(r.status, Status::NotPayable);
  EXPECT_EQ(fx.host.balance(kCaller), U256::from_u64(1000));
  r = fx.call("deposit", {}, 100000, U256::from_u64(5));
  ASSERT_EQ(r.status, Status::Ok);
  EXPECT_EQ(fx.results("deposit", r)[0].word, U256::from_u64(5));
  EXPECT_EQ(fx.host.balance(kCaller), U256::from_u64(995));
  EXPECT_EQ(fx.host.balance(kContract), U256::from_u64(5));
  r = fx.call("deposit", {}, 100000, U256::from_u64(5000));
  EXPECT_EQ(r.status, Status::InsufficientBalance);
}

TEST(Interpreter, BadInputIsRejectedNotExecuted) {
  Fixture fx(kToken);
  Message msg;
  msg.self = kContract;
  msg.gas = 1000;
  std::vector<uint8_t> in = {1, 2};
  msg.input = in;
  auto r = fx.host.call(msg);
  EXPECT_EQ(r.status, Status::InvalidInput);
  EXPECT_NE(r.detail.find("no 4-byte selector"), std::string::npos);
  in = {0xde, 0xad, 0xbe, 0xef};
  msg.input = in;
  r = fx.host.call(msg);
  EXPECT_EQ(r.status, Status::InvalidInput);
  EXPECT_NE(r.detail.find("0xdeadbeef"), std::string::npos);
  auto good = fx.input("balance", {w(1)});
  good.resize(20);  // arguments cut short
  msg.input = good;
  r = fx.host.call(msg);
  EXPECT_EQ(r.status, Status::InvalidInput);
  EXPECT_NE(r.detail.find("arguments of balance"), std::string::npos) << r.detail;
}

// An input is checked whole before any buffer argument is copied, and its
// buffers are paid for before they are: abi_check says what abi_decode
// would, and counts the words the buffers take (overlapping ones each time).
// Copying first let a call whose last argument did not fit copy 31
// arguments pointing at one megabyte, on every call, for a refusal that
// gave all its gas back.
TEST(Abi, InputsAreCheckedWholeBeforeAnythingIsCopied) {
  const std::vector<ValType> types = {ValType::Buf, ValType::Buf, ValType::U64};
  // Both buffers point at one 100-byte region after the head; the u64 fits.
  std::vector<uint8_t> in(32 * 3 + 32 + 100, 0);
  in[31] = 96;
  in[63] = 96;
  in[95] = 5;
  in[96 + 31] = 100;
  auto words = abi_check(types, in);
  ASSERT_TRUE(words.ok()) << words.error().message;
  EXPECT_EQ(words.value(), 8u);  // 4 words each, counted twice
  auto values = abi_decode(types, in);
  ASSERT_TRUE(values.ok());
  EXPECT_EQ(values->at(0).bytes.size(), 100u);
  EXPECT_EQ(values->at(2).word.low64(), 5u);
  // A call's entry reads them as views of the input (each buffer copied
  // once, into the callee's memory; a copy on the heap between made an
  // 8 MB argument cost 10 ns per gas): the same values, no bytes copied.
  auto views = abi_decode_views(types, in);
  ASSERT_TRUE(views.ok());
  ASSERT_EQ(views->size(), 3u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(views->at(i).type, ValType::Buf);
    EXPECT_EQ(views->at(i).bytes.data(), in.data() + 128);
    EXPECT_EQ(views->at(i).bytes.size(), 100u);
  }
  EXPECT_EQ(views->at(2).word.low64(), 5u);
  // The last argument does not fit u64: all three refuse it at its word.
  in[64] = 1;
  auto bad = abi_check(types, in);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().offset, 64u);
  EXPECT_EQ(bad.error().message, abi_decode(types, in).error().message);
  EXPECT_EQ(bad.error().message, abi_decode_views(types, in).error().message);

  // Through a call: the refusal keeps all the gas; buffers that need more
  // gas than the call has fail OutOfGas before they are made.
  Fixture fx(R"(
.func take(buf, buf, u64) -> (u64) export
  .regs u64
  blen r3, r0
  ret r3
.end)");
  ASSERT_NE(fx.module, nullptr);
  std::vector<uint8_t> call(4);
  const uint32_t sel = fx.module->module().find_export("take")->selector;
  for (int i = 0; i < 4; ++i) call[i] = static_cast<uint8_t>(sel >> (24 - 8 * i));
  call.insert(call.end(), in.begin(), in.end());
  Message msg;
  msg.caller = kCaller;
  msg.self = kContract;
  msg.input = call;
  msg.gas = 5;
  ExecResult r = fx.host.call(msg);
  EXPECT_EQ(r.status, Status::InvalidInput);
  EXPECT_EQ(r.gas_left, 5);
  call[4 + 64] = 0;  // the u64 fits: 8 words of buffers need more than 5 gas
  msg.input = call;
  r = fx.host.call(msg);
  EXPECT_EQ(r.status, Status::OutOfGas);
  EXPECT_EQ(r.gas_left, 0);
  msg.gas = 100;
  r = fx.host.call(msg);
  ASSERT_EQ(r.status, Status::Ok) << r.detail;
  EXPECT_LE(r.gas_left, 100 - 8);
}

// Value sent by `transfer` to an account with no record creates it, and
// pays for it as for a new storage slot; to an account that exists, the
// operation's own price only. (It was 60 gas either way: 700,000 new
// accounts in one block took 52 s to commit.)
TEST(Interpreter, ATransferThatCreatesAnAccountPaysForIt) {
  Fixture fx(R"(
.func pay(u256, u256) -> (u64) export
  .regs u64
  transfer r2, r0, r1
  ret r2
.end)");
  ASSERT_NE(fx.module, nullptr);
  fx.host.set_balance(kContract, U256::from_u64(100));
  const U256 known = U256::from_u64(0xA11CE), fresh = U256::from_u64(0xF4E5);
  fx.host.set_balance(known, U256::from_u64(1));
  const auto gas_of = [&](const U256& to, uint64_t amount) {
    auto r = fx.call("pay", {Value::u256(to), w(amount)});
    EXPECT_EQ(r.status, Status::Ok) << r.detail;
    return 10'000'000 - r.gas_left;
  };
  const int64_t to_known = gas_of(known, 1);
  EXPECT_FALSE(fx.host.account_exists(fresh));
  const int64_t to_fresh = gas_of(fresh, 1);
  EXPECT_EQ(to_fresh - to_known, kGasStorageAdded);
  EXPECT_TRUE(fx.host.account_exists(fresh));
  EXPECT_EQ(gas_of(fresh, 1), to_known);                // it exists now
  EXPECT_EQ(gas_of(U256::from_u64(0xE), 0), to_known);  // nothing sent, nothing created
  // Without the gas for it, the transfer traps and nothing moves.
  auto r = fx.call("pay", {w(0xF00D), w(1)}, to_known + 10);
  EXPECT_EQ(r.status, Status::OutOfGas);
  EXPECT_TRUE(fx.host.balance(U256::from_u64(0xF00D)).is_zero());
}

// The first access to a slot or an account in a block pays for reading it
// from the chain's store (docs/gas.md, "First access"); a later one, and
// the running contract and its caller, do not. On a MemoryHost each top
// call is a transaction alone in its block.
TEST(Interpreter, TheFirstAccessToASlotOrAnAccountPaysForItsRead) {
  Fixture fx(R"(
.func two_loads(u256, u256) -> (u64) export
  .regs u256 u64
  sload r2, r0
  sload r2, r1
  const r3, 0
  ret r3
.end
.func load_store(u256, u256) -> (u64) export
  .regs u256 u64
  sload r2, r0
  wconsti r2, 0
  sstore r1, r2
  const r3, 0
  ret r3
.end
.func store_between(u256, u256) -> (u64) export
  .regs u256 u64
  sload r2, r0
  wconsti r2, 0
  sstore r1, r2
  sstore r0, r2
  sstore r1, r2
  const r3, 0
  ret r3
.end
.func two_balances(u256, u256) -> (u64) export
  .regs u256 u64
  balance r2, r0
  balance r2, r1
  const r3, 0
  ret r3
.end)");
  ASSERT_NE(fx.module, nullptr);
  const auto gas_of = [&](const char* f, uint64_t a, uint64_t b) {
    auto r = fx.call(f, {w(a), w(b)});
    EXPECT_EQ(r.status, Status::Ok) << f << " " << r.detail;
    return 10'000'000 - r.gas_left;
  };
  const int64_t same_slot = gas_of("two_loads", 7, 7);
  EXPECT_EQ(gas_of("two_loads", 7, 8) - same_slot, kGasSlotFirstAccess);
  EXPECT_EQ(gas_of("two_loads", 7, 7), same_slot);  // a new top call pays again
  EXPECT_GT(same_slot, kGasSlotFirstAccess);
  // A write after a read of the same slot pays for the read once.
  EXPECT_EQ(gas_of("load_store", 7, 8) - gas_of("load_store", 7, 7), kGasSlotFirstAccess);
  // A write to another slot than the one reached last pays for its own,
  // once; writes back and forth between the two pay nothing more.
  EXPECT_EQ(gas_of("store_between", 7, 8) - gas_of("store_between", 7, 7), kGasSlotFirstAccess);
  EXPECT_EQ(gas_of("store_between", 7, 8) - gas_of("load_store", 7, 8),
            gas_of("store_between", 7, 7) - gas_of("load_store", 7, 7));
  const uint64_t other = 0xB0B, another = 0xB0C;
  const int64_t same_account = gas_of("two_balances", other, other);
  EXPECT_EQ(gas_of("two_balances", other, another) - same_account, kGasAccountFirstAccess);
  // The running contract and its caller were reached already.
  const uint64_t self = kContract.low64(), caller = kCaller.low64();
  EXPECT_EQ(gas_of("two_balances", self, self) + kGasAccountFirstAccess, same_account);
  EXPECT_EQ(gas_of("two_balances", caller, caller) + kGasAccountFirstAccess, same_account);
  // Out of gas at the first access: the read's price is charged before it.
  auto r = fx.call("two_loads", {w(7), w(8)}, same_slot + kGasSlotFirstAccess - 1);
  EXPECT_EQ(r.status, Status::OutOfGas);
}

// A contract that writes storage and then returns or reverts.
const char* kCallee = R"(
.func poke(u64) -> (u64) export
  .regs u256 u256 buf
  wconsti r1, 7
  wconsti r2, 42
  sstore r1, r2
  br_if r0, fail
  ret r0
fail:
  revert r3
.end
)";

TEST(Interpreter, NestedCallFailureRevertsOnlyTheCallee) {
  Fixture fx(kCallee);
  const U256 caller_addr = U256::from_u64(0xA);
  std::string caller_src = R"(
.func run(u256, buf) -> (u64) export
  .regs u64 buf u256 u256 u256
  wconsti r4, 0
  xcall r2, r3, r0, r4, r1
  wconsti r5, 1
  sstore r5, r5
  ret r2
.end)";
  auto bytes = assemble_bytes(caller_src);
  auto v = fx.host.deploy(caller_addr, bytes);
  ASSERT_TRUE(v.ok());
  auto poke_sel = fx.module->module().find_export("poke")->selector;
  for (uint64_t fail : {0ull, 1ull}) {
    auto input = call_input(poke_sel, std::vector<Value>{u64(fail)});
    auto run_in = call_input(v.value()->module().find_export("run")->selector,
                             std::vector<Value>{Value::u256(kContract), Value::buf(input)});
    Message msg;
    msg.caller = kCaller;
    msg.self = caller_addr;
    msg.input = run_in;
    msg.gas = 1'000'000;
    auto r = fx.host.call(msg);
    ASSERT_EQ(r.status, Status::Ok) << r.detail;
    auto ok = abi_decode(std::vector<ValType>{ValType::U64}, r.output);
    ASSERT_TRUE(ok.ok());
    EXPECT_EQ(ok.value()[0].word.low64(), fail ? 0u : 1u);
    EXPECT_EQ(fx.host.sload(kContract, U256::from_u64(7)),
              fail ? U256::zero() : U256::from_u64(42));
    EXPECT_EQ(fx.host.sload(caller_addr, U256::from_u64(1)), U256::from_u64(1));
    fx.host.sstore(kContract, U256::from_u64(7), U256::zero());
  }
}

TEST(Interpreter, ReentrancyIsRefusedUnlessTheFunctionOptsIn) {
  // A.start calls B.relay, which calls back into A and returns whether that
  // inner call succeeded; A.start returns B's answer.
  MemoryHost host;
  const U256 a = U256::from_u64(0xA), b = U256::from_u64(0xB);
  std::string src_a = R"(
.func start(u256, buf) -> (u64) export
  .regs u64 buf u256 u64 u256 u64
  wconsti r4, 0
  xcall r2, r3, r0, r4, r1
  assert r2
  const r5, 0
  ldw r6, r3, r5
  trunc r7, r6
  ret r7
.end
.func entered() -> (u64) export
  .regs u64
  const r0, 1
  ret r0
.end
.func open() -> (u64) export reentrant
  .regs u64
  const r0, 1
  ret r0
.end)";
  std::string src_b = R"(
.func relay(u256, buf) -> (u64) export
  .regs u64 buf u256
  wconsti r4, 0
  xcall r2, r3, r0, r4, r1
  ret r2
.end)";
  auto ma = host.deploy(a, assemble_bytes(src_a));
  auto mb = host.deploy(b, assemble_bytes(src_b));
  ASSERT_TRUE(ma.ok() && mb.ok());
  auto sel = [&](const auto& m, const char* n) {
    return m.value()->module().find_export(n)->selector;
  };
  std::map<std::string, int64_t> used;
  for (const char* target : {"entered", "open"}) {
    auto inner = call_input(sel(ma, target), std::vector<Value>{});
    auto relay =
        call_input(sel(mb, "relay"), std::vector<Value>{Value::u256(a), Value::buf(inner)});
    auto start =
        call_input(sel(ma, "start"), std::vector<Value>{Value::u256(b), Value::buf(relay)});
    Message msg;
    msg.caller = kCaller;
    msg.self = a;
    msg.input = start;
    msg.gas = 1'000'000;
    auto r = host.call(msg);
    ASSERT_EQ(r.status, Status::Ok) << r.detail;
    auto out = abi_decode(std::vector<ValType>{ValType::U64}, r.output);
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(out.value()[0].word.low64(), std::string(target) == "open" ? 1u : 0u) << target;
    used[target] = msg.gas - r.gas_left;
  }
  // A refused re-entry is a refusal (host.hpp): it costs no more than the
  // call that is let in, instead of burning the 63/64 forwarded to it.
  EXPECT_LE(used["entered"], used["open"]);
  EXPECT_LT(used["entered"], 2'000 + kGasAccountFirstAccess);  // (b is called first)
}

std::vector<uint8_t> hex_bytes(std::string_view hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

// ed25519: the strict rule (vm/ed25519.hpp) on RFC 8032 section 7.1 TEST 2,
// its static price, and the dynamic price per 128-byte block that SHA-512
// hashes (R || A || message, padding included).
TEST(Interpreter, Ed25519VerifiesUnderTheStrictRuleAndChargesPerBlock) {
  Fixture fx(R"(
.func verify(u256, buf, buf) -> (u64) export
  .regs u64
  ed25519 r3, r0, r1, r2
  ret r3
.end)");
  const U256 key =
      *parse_u256("0x3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c");
  const auto sig = hex_bytes(
      "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
      "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00");
  auto run = [&](const U256& k, std::vector<uint8_t> msg, std::vector<uint8_t> s) {
    return fx.call("verify", {Value::u256(k), Value::buf(std::move(msg)), Value::buf(std::move(s))},
                   1'000'000);
  };
  auto result = [&](const ExecResult& r) { return fx.results("verify", r)[0].word.low64(); };
  ExecResult ok = run(key, {0x72}, sig);
  ASSERT_EQ(ok.status, Status::Ok) << ok.detail;
  EXPECT_EQ(result(ok), 1u);
  EXPECT_EQ(result(run(key, {0x73}, sig)), 0u) << "another message";
  auto bent = sig;
  bent[63] ^= 1;
  EXPECT_EQ(result(run(key, {0x72}, bent)), 0u) << "another signature";
  EXPECT_EQ(result(run(key, {0x72}, std::vector<uint8_t>(sig.begin(), sig.end() - 1))), 0u)
      << "63 bytes";
  std::vector<uint8_t> forged(64, 0);
  forged[0] = 1;
  EXPECT_EQ(result(run(shl(U256::from_u64(1), 248), {0x72}, forged)), 0u)
      << "identity key, R = identity, S = 0: the small-order forgery";
  // Gas: the same code for every input, so the difference between a 1-byte
  // and a 300-byte message (and the buffer argument's memory) is the blocks.
  auto blocks = [](size_t n) { return static_cast<int64_t>((n + 64 + 16) / 128 + 1); };
  const ExecResult longer = run(key, std::vector<uint8_t>(300, 7), sig);
  const int64_t used_short = 1'000'000 - ok.gas_left, used_long = 1'000'000 - longer.gas_left;
  const int64_t memory_diff = kGasMemoryWord * ((300 + 31) / 32 - 1);
  EXPECT_EQ(used_long - used_short, kGasEd25519Block * (blocks(300) - blocks(1)) + memory_diff);
  EXPECT_GE(used_short, 100'000 + kGasEd25519Block);
}

// A host that runs out of memory (here: its sstore throws std::bad_alloc
// from the third write on) gives a MemoryLimit trap, never an abort, and the
// call's writes are undone as for any trap.
TEST(Interpreter, HostMemoryExhaustionIsAMemoryLimitTrapNotAnAbort) {
  struct ExhaustedHost final : MemoryHost {
    int writes = 0;
    StorageChange sstore(const U256& account, const U256& key, const U256& value) override {
      if (++writes > 2) throw std::bad_alloc();
      return MemoryHost::sstore(account, key, value);
    }
  };
  ExhaustedHost host;
  auto v = host.deploy(kContract, assemble_bytes(R"(
.func fill(u64) -> (u64) export
  .regs u256 u256 u64
  wconsti r1, 0
  wconsti r2, 7
loop:
  sstore r1, r2
  wconsti r2, 8
  wadd r1, r1, r2
  addi r3, r3, 1
  blt.u r3, r0, loop
  ret r3
.end)"));
  ASSERT_TRUE(v.ok()) << v.error().to_string();
  const std::vector<Value> args = {Value::u64(10)};
  auto in = call_input(v.value()->module().find_export("fill")->selector, args);
  Message msg;
  msg.caller = kCaller;
  msg.self = kContract;
  msg.input = in;
  msg.gas = 1'000'000;
  ExecResult r = host.call(msg);
  EXPECT_EQ(r.status, Status::MemoryLimit);
  EXPECT_EQ(r.detail, "out of memory");
  EXPECT_EQ(r.gas_left, 0);
  EXPECT_EQ(host.storage_size(), 0u) << "the two writes before it are undone";
}

// Refusals come back with the call's gas; traps in running code consume it.
TEST(Interpreter, RefusalsKeepTheCallsGasAndTrapsConsumeIt) {
  Fixture fx(kToken);
  fx.host.set_balance(kCaller, U256::from_u64(1000));
  auto r = fx.call("mint", {w(1), w(1)}, 100000, U256::from_u64(5));
  ASSERT_EQ(r.status, Status::NotPayable);
  EXPECT_EQ(r.gas_left, 100000);
  r = fx.call("deposit", {}, 100000, U256::from_u64(5000));
  ASSERT_EQ(r.status, Status::InsufficientBalance);
  EXPECT_EQ(r.gas_left, 100000);
  Message msg;
  msg.self = kContract;
  msg.gas = 1000;
  std::vector<uint8_t> in = {0xde, 0xad, 0xbe, 0xef};
  msg.input = in;
  r = fx.host.call(msg);
  ASSERT_EQ(r.status, Status::InvalidInput);
  EXPECT_EQ(r.gas_left, 1000);
  msg.self = U256::from_u64(0xC0DE1E55);
  r = fx.host.call(msg);
  ASSERT_EQ(r.status, Status::NoCode);
  EXPECT_EQ(r.gas_left, 1000);
  r = fx.call("sneaky", {w(1)}, 100000);
  ASSERT_EQ(r.status, Status::StaticViolation);
  EXPECT_EQ(r.gas_left, 0) << "a trap in running code is not a refusal";
  for (Status s : {Status::Reentrancy, Status::InvalidInput, Status::NotPayable, Status::NoCode,
                   Status::InvalidCode, Status::InsufficientBalance})
    EXPECT_TRUE(is_refusal(s)) << status_name(s);
  for (Status s : {Status::Ok, Status::Revert, Status::OutOfGas, Status::Overflow,
                   Status::CallDepth, Status::StaticViolation, Status::MemoryLimit})
    EXPECT_FALSE(is_refusal(s)) << status_name(s);
}

// History words (Host::history_word): only the host's risk engine may touch
// them; writes are journaled like storage, refused in static calls, and
// charged kGasStorageModified when the word changes.
TEST(Interpreter, HistoryWordsBelongToTheRiskEngineOnly) {
  Fixture fx(R"(
.func get(u256) -> (u256) export view
  .regs u256
  hload r1, r0, 1
  ret r1
.end
.func set(u256, u256) export
  hstore r0, 1, r1
  ret r0
.end
.func set_then_fail(u256, u256) export
  hstore r0, 0, r1
  unreachable
.end
.func set_in_view(u256, u256) export view
  hstore r0, 0, r1
  ret r0
.end)");
  auto r = fx.call("get", {w(7)});
  EXPECT_EQ(r.status, Status::NotPermitted) << "no risk engine named";
  EXPECT_EQ(r.gas_left, 0) << "a trap, not a refusal";
  EXPECT_EQ(fx.call("set", {w(7), w(5)}).status, Status::NotPermitted);
  fx.host.set_risk_engine(U256::from_u64(0xE1));
  EXPECT_EQ(fx.call("get", {w(7)}).status, Status::NotPermitted) << "another contract";
  fx.host.set_risk_engine(kContract);
  EXPECT_EQ(fx.call_w("get", {w(7)}), U256::zero());
  auto set = fx.call("set", {w(7), w(5)}, 100000);
  ASSERT_EQ(set.status, Status::Ok);
  EXPECT_EQ(fx.call_w("get", {w(7)}), U256::from_u64(5));
  EXPECT_EQ(fx.call_w("get", {w(8)}), U256::zero()) << "per account";
  auto same = fx.call("set", {w(7), w(5)}, 100000);
  ASSERT_EQ(same.status, Status::Ok);
  EXPECT_EQ(same.gas_left - set.gas_left, kGasStorageModified) << "an unchanged word costs less";
  EXPECT_EQ(fx.call("set_then_fail", {w(7), w(9)}).status, Status::Unreachable);
  EXPECT_EQ(fx.call("set_in_view", {w(7), w(9)}).status, Status::StaticViolation);
  U256 word;
  EXPECT_TRUE(fx.host.history_word(kContract, U256::from_u64(7), 0, word));
  EXPECT_EQ(word, U256::zero()) << "the failed call's write was undone";
  EXPECT_TRUE(fx.host.history_word(kContract, U256::from_u64(7), 1, word));
  EXPECT_EQ(word, U256::from_u64(5));
  EXPECT_FALSE(fx.host.history_word(kContract, U256::from_u64(7), kHistoryWords, word));
}

TEST(Interpreter, CallToAddressWithoutCodeFailsCleanly) {
  Fixture fx(R"(
.func run(u256) -> (u64) export
  .regs u64 buf u256 buf
  wconsti r3, 0
  xcall r1, r2, r0, r3, r4
  ret r1
.end)");
  EXPECT_EQ(fx.call_u64("run", {w(0xDEAD)}), 0u);
}

TEST(Interpreter, UnmeteredRunLeavesGasUntouched) {
  Fixture fx(kLoop);
  auto in = fx.input("count", {u64(50)});
  Message msg;
  msg.self = kContract;
  msg.input = in;
  msg.gas = 5;  // far too little if metered
  auto r = execute_unmetered(*fx.module, fx.host, msg);
  ASSERT_EQ(r.status, Status::Ok);
  EXPECT_EQ(r.gas_left, 5);
  EXPECT_EQ(execute(*fx.module, fx.host, msg).status, Status::OutOfGas);
}

struct RecordingTracer : Tracer {
  std::vector<std::pair<uint32_t, uint32_t>> steps;  // (func, pc)
  std::vector<int64_t> gas, static_gas;
  void on_step(const TraceStep& s) override {
    steps.emplace_back(s.func, s.pc);
    gas.push_back(s.gas_left);
    static_gas.push_back(s.static_gas);
  }
};

TEST(Interpreter, TracerSeesEveryInstructionInOrder) {
  Fixture fx(kLoop);
  auto in = fx.input("count", {u64(2)});
  Message msg;
  msg.self = kContract;
  msg.input = in;
  msg.gas = 10000;
  RecordingTracer t;
  auto r = execute(*fx.module, fx.host, msg, t);
  ASSERT_EQ(r.status, Status::Ok);
  // const, bge.u, (addi, blt.u) x2, ret
  std::vector<uint32_t> pcs;
  for (auto& s : t.steps) pcs.push_back(s.second);
  EXPECT_EQ(pcs, (std::vector<uint32_t>{0, 11, 20, 33, 20, 33, 42}));
  EXPECT_EQ(t.gas.back(), r.gas_left + 0);  // ret's block gas was charged before it ran
  // Tracing does not change the outcome.
  auto plain = execute(*fx.module, fx.host, msg);
  EXPECT_EQ(plain.gas_left, r.gas_left);
  EXPECT_EQ(plain.output, r.output);
}

// The gas a trace reports adds up: each block's static gas at its first
// step (the entry block's at the first), nothing inside a block, and what is
// left of each fall in gas_left is the step's dynamic gas, never negative.
TEST(Interpreter, TracedStaticGasIsReportedWhereEachBlockStarts) {
  Fixture fx(kLoop);
  auto in = fx.input("count", {u64(2)});
  Message msg;
  msg.self = kContract;
  msg.input = in;
  msg.gas = 10000;
  RecordingTracer t;
  auto r = execute(*fx.module, fx.host, msg, t);
  ASSERT_EQ(r.status, Status::Ok);
  ASSERT_EQ(t.steps.size(), 7u);  // pcs 0, 11, 20, 33, 20, 33, 42
  EXPECT_EQ(t.static_gas[0], msg.gas - t.gas[0]);
  const bool starts_block[] = {true, false, true, false, true, false, true};
  int64_t static_sum = 0, dynamic_sum = 0;
  for (size_t i = 0; i < t.steps.size(); ++i) {
    EXPECT_EQ(t.static_gas[i] > 0, starts_block[i]) << "step " << i;
    static_sum += t.static_gas[i];
    const int64_t next = i + 1 < t.steps.size() ? t.gas[i + 1] + t.static_gas[i + 1] : r.gas_left;
    EXPECT_GE(t.gas[i] - next, 0) << "step " << i;
    dynamic_sum += t.gas[i] - next;
  }
  EXPECT_EQ(static_sum + dynamic_sum, msg.gas - r.gas_left);
  EXPECT_EQ(dynamic_sum, 0);  // this loop has no dynamic gas
}

TEST(Interpreter, SwitchAndComputedGotoDispatchAgree) {
  struct Case {
    const char* src;
    const char* fn;
    std::vector<Value> args;
  };
  std::vector<Case> cases = {
      {kLoop, "count", {u64(100)}},
      {kBuffers, "vec", {u64(16), u64(5)}},
      {kBuffers, "copy", {Value::buf({9, 8, 7})}},
      {kToken, "transfer", {w(5), w(1)}},
      {kToken, "sneaky", {w(5)}},
  };
  std::string fib = read_example("fib.wsm");
  cases.push_back({fib.c_str(), "fib", {u64(300)}});
  cases.push_back({fib.c_str(), "fib64", {u64(100)}});
  for (const Case& c : cases) {
    for (int64_t gas : {int64_t{50}, int64_t{10'000'000}}) {
      Fixture a(c.src), b(c.src);
      auto in = a.input(c.fn, c.args);
      Message msg;
      msg.caller = kCaller;
      msg.self = kContract;
      msg.input = in;
      msg.gas = gas;
      auto ra = execute(*a.module, a.host, msg);
      auto rb = execute_switch_dispatch(*b.module, b.host, msg);
      EXPECT_EQ(ra.status, rb.status) << c.fn;
      EXPECT_EQ(ra.gas_left, rb.gas_left) << c.fn;
      EXPECT_EQ(ra.output, rb.output) << c.fn;
      EXPECT_EQ(ra.pc, rb.pc) << c.fn;
    }
  }
}

TEST(Interpreter, BlockContextReads) {
  Fixture fx(R"(
.func ctx() -> (u64, u64, u64, u256, u256) export
  .regs u64 u64 u64 u256 u256
  blocknum r0
  timestamp r1
  chainid r2
  caller r3
  self r4
  ret r0
.end)");
  fx.host.block_context().number = 12;
  fx.host.block_context().timestamp = 1700000000;
  fx.host.block_context().chain_id = 7;
  auto r = fx.call("ctx");
  ASSERT_EQ(r.status, Status::Ok);
  auto v = fx.results("ctx", r);
  EXPECT_EQ(v[0].word.low64(), 12u);
  EXPECT_EQ(v[1].word.low64(), 1700000000u);
  EXPECT_EQ(v[2].word.low64(), 7u);
  EXPECT_EQ(v[3].word, kCaller);
  EXPECT_EQ(v[4].word, kContract);
}

}  // namespace
}  // namespace writ::vm::test

namespace writ::vm::test {
namespace {

TEST(Interpreter, WideRangeChecksAndMulDiv) {
  Fixture fx(R"(
.func u128(u256) -> (u256) export
  wfits.u r0, 128
  ret r0
.end
.func i128(u256) -> (u256) export
  wfits.s r0, 128
  ret r0
.end
.func md(u256, u256, u256) -> (u256) export
  .regs u256
  wmuldiv r3, r0, r1, r2
  ret r3
.end
.func mdu(u256, u256, u256) -> (u256) export
  .regs u256
  wmuldiv.up r3, r0, r1, r2
  ret r3
.end
.func below(u64) -> (u64) export
  below r0, 3
  ret r0
.end)");
  U256 two128 = shl(U256::from_u64(1), 128);
  EXPECT_EQ(fx.call_w("u128", {Value::u256(sub(two128, U256::from_u64(1)))}),
            sub(two128, U256::from_u64(1)));
  EXPECT_EQ(fx.call("u128", {Value::u256(two128)}).status, Status::Overflow);
  U256 min128 = neg(shl(U256::from_u64(1), 127));
  EXPECT_EQ(fx.call_w("i128", {Value::u256(min128)}), min128);
  EXPECT_EQ(fx.call("i128", {Value::u256(sub(min128, U256::from_u64(1)))}).status,
            Status::Overflow);
  EXPECT_EQ(fx.call("i128", {Value::u256(shl(U256::from_u64(1), 127))}).status, Status::Overflow);
  // (2^255 * 6) / 4 needs the 512-bit product: 3 * 2^254.
  U256 big = shl(U256::from_u64(1), 255);
  EXPECT_EQ(fx.call_w("md", {Value::u256(big), w(6), w(4)}),
            mul(U256::from_u64(3), shl(U256::from_u64(1), 254)));
  EXPECT_EQ(fx.call("md", {Value::u256(big), w(4), w(1)}).status, Status::Overflow);
  EXPECT_EQ(fx.call("md", {w(1), w(1), w(0)}).status, Status::DivisionByZero);
  EXPECT_EQ(fx.call_w("md", {w(10), w(10), w(3)}), U256::from_u64(33));
  EXPECT_EQ(fx.call_w("mdu", {w(10), w(10), w(3)}), U256::from_u64(34));
  EXPECT_EQ(fx.call_w("mdu", {w(10), w(9), w(3)}), U256::from_u64(30));
  EXPECT_EQ(fx.call_u64("below", {u64(2)}), 2u);
  EXPECT_EQ(fx.call("below", {u64(3)}).status, Status::Overflow);
}

}  // namespace
}  // namespace writ::vm::test

namespace writ::vm::test {
namespace {

TEST(Interpreter, ConstructorRunsOnlyAtDeployAndDeployRunsOnlyTheConstructor) {
  Fixture fx(R"(
.func $init(u256) export
  .regs u256
  wconsti r1, 1
  sstore r1, r0
  ret r0
.end
.func get() -> (u256) export view
  .regs u256
  wconsti r0, 1
  sload r0, r0
  ret r0
.end)");
  auto init_in = fx.input("$init", {w(7)});
  Message msg;
  msg.caller = kCaller;
  msg.self = kContract;
  msg.input = init_in;
  msg.gas = 100000;
  auto r = fx.host.call(msg);  // not a deploy: refused
  EXPECT_EQ(r.status, Status::InvalidInput);
  EXPECT_NE(r.detail.find("only when the contract is deployed"), std::string::npos);
  EXPECT_EQ(fx.call_w("get"), U256::zero());
  msg.is_deploy = true;
  ASSERT_EQ(fx.host.call(msg).status, Status::Ok);
  EXPECT_EQ(fx.call_w("get"), U256::from_u64(7));
  auto get_in = fx.input("get", {});
  msg.input = get_in;  // a deploy that names another function
  EXPECT_EQ(fx.host.call(msg).status, Status::InvalidInput);
}

// Registers start at zero (docs/bytecode.md). A call zeroes only the slots
// that some path may read before writing (program.hpp, invariant 6), so a
// register read unwritten must still read zero after an earlier callee left
// its own values in the same stack slots.
constexpr const char* kReadBeforeWrite = R"(
.func dirty(u64) -> (u64)
  .regs u64 u64 u64 u64
  const r1, 111
  const r2, 222
  const r3, 333
  ret r0
.end
.func maybe(u64) -> (u64)
  .regs u64
  br_if r0, skip
  const r1, 7
skip:
  ret r1
.end
.func loop_read(u64) -> (u64)
  .regs u64 u64
  const r1, 0
top:
  add r1, r1, r2
  const r2, 5
  addi r0, r0, -1
  br_if r0, top
  ret r1
.end
.func written(u64) -> (u64)
  .regs u64 u64
  const r1, 9
  br_if r0, skip
  addi r1, r1, 1
skip:
  add r2, r1, r0
  ret r2
.end
.func main(u64) -> (u64, u64, u64) export
  .regs u64 u64 u64 u64
  call dirty, r0, r1
  call maybe, r0, r1
  call dirty, r0, r2
  call loop_read, r0, r2
  call dirty, r0, r3
  call written, r0, r3
  ret r1
.end
)";

TEST(Interpreter, RegistersReadBeforeWrittenStartAtZeroAfterOtherCalls) {
  Fixture fx(kReadBeforeWrite);
  auto r = fx.call("main", {u64(2)});
  ASSERT_EQ(r.status, Status::Ok) << r.detail;
  auto v = fx.results("main", r);
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].word.low64(), 0u);   // maybe(2): r1 never written: 0, not dirty's 111
  EXPECT_EQ(v[1].word.low64(), 5u);   // loop_read(2): 0 + r2 (0 the first time round) + 5
  EXPECT_EQ(v[2].word.low64(), 11u);  // written(2): 9 + 2
}

// What the analysis concludes, function by function: slots a call must zero.
TEST(Verifier, CallsZeroOnlyTheRegistersSomePathReadsUnwritten) {
  auto m = assemble(kReadBeforeWrite);
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  auto v = verify(m.value(), CodeHash{});
  ASSERT_TRUE(v.ok()) << v.error().message;
  const Program& p = v.value()->program();
  const auto zero_end = [&](const char* name) {
    for (size_t f = 0; f < p.funcs.size(); ++f)
      if (v.value()->module().functions[f].name == name) return p.funcs[f].zero_end;
    ADD_FAILURE() << "no function " << name;
    return 0u;
  };
  EXPECT_EQ(zero_end("dirty"), 1u);      // every register written before it is read
  EXPECT_EQ(zero_end("maybe"), 2u);      // r1 read unwritten when the branch is taken
  EXPECT_EQ(zero_end("loop_read"), 3u);  // r2 read unwritten on the first iteration
  EXPECT_EQ(zero_end("written"), 1u);    // r1 written on both paths, r2 before its read
  EXPECT_EQ(zero_end("main"), 1u);       // results are written by the calls
}

// The analysis's cost is bounded by the code's size (deploy pays per byte):
// a chain of backward jumps, each block reached only from the one after it
// in the code, carried its facts one block per pass when blocks were visited
// in code order, and past 64 passes the analysis gave up (the whole frame
// zeroed, and a module of such functions took 31 times the verification time
// per unit of deploy gas that ordinary code takes to run). In reverse
// post-order one pass carries them along the whole chain, and the result is
// exact: r1 is read unwritten, r2 is not.
TEST(Verifier, ALongChainOfBackwardJumpsIsAnalysedExactly) {
  for (const size_t regs : {3, 4096}) {
    SCOPED_TRACE(regs);
    constexpr int kBlocks = 300;
    std::string text = ".func chain() -> (u64) export\n";
    for (size_t r = 0; r < regs; r += 64) {
      text += "  .regs";
      for (size_t k = r; k < std::min(regs, r + 64); ++k) text += " u64";
      text += "\n";
    }
    text += "  const r0, 1\n  jmp L" + std::to_string(kBlocks - 1) + "\nL0:\n";
    text += "  add r2, r0, r1\n  ret r2\n";
    for (int k = 1; k < kBlocks; ++k)
      text += "L" + std::to_string(k) + ":\n  jmp L" + std::to_string(k - 1) + "\n";
    text += ".end\n";
    auto m = assemble(text);
    ASSERT_TRUE(m.ok()) << m.error().to_string();
    auto v = verify(m.value(), CodeHash{});
    ASSERT_TRUE(v.ok()) << v.error().message;
    const FuncCode& f = v.value()->program().funcs[0];
    EXPECT_EQ(f.zero_end, 2u);  // r1's slot and those before it; not the whole frame
    EXPECT_EQ(f.frame_slots, regs);
  }
}

// Superinstructions (a comparison fused with the br_if / br_ifnot testing
// it) run only untraced; the traced run steps through the plain code. Both,
// and the switch dispatcher, must agree on every result, trap, pc and unit
// of gas, for every comparison and both branches, at every gas limit.
TEST(Interpreter, FusedCompareAndBranchAgreeWithThePlainCode) {
  // r0, r1: the arguments x, y; r6, r7: them sign-extended to 256 bits.
  const auto wide = [](uint64_t v) {
    const uint64_t hi = (v >> 63) ? ~uint64_t{0} : 0;
    return U256{{v, hi, hi, hi}};
  };
  const auto s64 = [](uint64_t v) { return static_cast<int64_t>(v); };
  struct Cmp {
    std::string code;  // writes r2
    std::function<bool(uint64_t, uint64_t)> f;
  };
  const std::vector<Cmp> cmps = {
      {"eq r2, r0, r1", [](uint64_t x, uint64_t y) { return x == y; }},
      {"ne r2, r0, r1", [](uint64_t x, uint64_t y) { return x != y; }},
      {"lt.u r2, r0, r1", [](uint64_t x, uint64_t y) { return x < y; }},
      {"le.u r2, r0, r1", [](uint64_t x, uint64_t y) { return x <= y; }},
      {"lt.s r2, r0, r1", [&](uint64_t x, uint64_t y) { return s64(x) < s64(y); }},
      {"le.s r2, r0, r1", [&](uint64_t x, uint64_t y) { return s64(x) <= s64(y); }},
      {"eqz r2, r0", [](uint64_t x, uint64_t) { return x == 0; }},
      {"eqi r2, r0, 7", [](uint64_t x, uint64_t) { return x == 7; }},
      {"lti.u r2, r0, 7", [](uint64_t x, uint64_t) { return x < 7; }},
      {"weq r2, r6, r7", [&](uint64_t x, uint64_t y) { return wide(x) == wide(y); }},
      {"wne r2, r6, r7", [&](uint64_t x, uint64_t y) { return wide(x) != wide(y); }},
      {"wlt.u r2, r6, r7", [&](uint64_t x, uint64_t y) { return lt(wide(x), wide(y)); }},
      {"wle.u r2, r6, r7", [&](uint64_t x, uint64_t y) { return le(wide(x), wide(y)); }},
      {"wlt.s r2, r6, r7", [&](uint64_t x, uint64_t y) { return slt(wide(x), wide(y)); }},
      {"wle.s r2, r6, r7", [&](uint64_t x, uint64_t y) { return sle(wide(x), wide(y)); }},
      {"weqz r2, r6", [&](uint64_t x, uint64_t) { return wide(x).is_zero(); }},
  };
  // const r5, 7, then a branch on two registers (one of them the const's).
  const std::vector<Cmp> const_branches = {
      {"beq r0, r5", [](uint64_t x, uint64_t) { return x == 7; }},
      {"bne r5, r0", [](uint64_t x, uint64_t) { return x != 7; }},
      {"blt.u r0, r5", [](uint64_t x, uint64_t) { return x < 7; }},
      {"bge.u r0, r5", [](uint64_t x, uint64_t) { return x >= 7; }},
      {"blt.s r5, r0", [&](uint64_t x, uint64_t) { return 7 < s64(x); }},
      {"bge.s r0, r5", [&](uint64_t x, uint64_t) { return s64(x) >= 7; }},
  };
  // Block k skips `r3 += 2^k` when its branch is taken. Comparisons: br_if
  // for even k, br_ifnot for odd, and r4 sums what they wrote; const
  // branches: r4 sums the const too (the fused form must write it).
  std::string src =
      ".func all(u64, u64) -> (u64, u64) export\n  .regs u64 u64 u64 u64 u256 u256\n"
      "  const r3, 0\n  sext r6, r0\n  sext r7, r1\n";
  size_t k = 0;
  for (size_t i = 0; i < cmps.size() * 2; ++i, ++k) {
    const std::string label = "l" + std::to_string(k);
    src += "  " + cmps[i / 2].code + "\n";
    src += std::string(i % 2 ? "  br_ifnot" : "  br_if") + " r2, " + label + "\n";
    src += "  addi r3, r3, " + std::to_string(uint64_t{1} << k) + "\n";
    src += label + ":\n  add r4, r4, r2\n";
  }
  for (const Cmp& c : const_branches) {
    const std::string label = "l" + std::to_string(k);
    src += "  const r5, 7\n  " + c.code + ", " + label + "\n";
    src += "  addi r3, r3, " + std::to_string(uint64_t{1} << k) + "\n";
    src += label + ":\n  add r4, r4, r5\n";
    ++k;
  }
  src += "  ret r3\n.end\n";

  const uint64_t values[] = {0, 1, 7, 8, ~uint64_t{0}, uint64_t{1} << 63};
  for (uint64_t x : values) {
    for (uint64_t y : {uint64_t{0}, uint64_t{7}, ~uint64_t{0}, x}) {
      uint64_t want = 0, seen = 0;
      size_t bit = 0;
      for (size_t i = 0; i < cmps.size() * 2; ++i, ++bit) {
        const bool c = cmps[i / 2].f(x, y);
        if ((i % 2 == 0) != c) want += uint64_t{1} << bit;  // fell through: not taken
        seen += c;
      }
      for (const Cmp& c : const_branches) {
        if (!c.f(x, y)) want += uint64_t{1} << bit;
        seen += 7;
        ++bit;
      }
      Fixture fx(src);
      ASSERT_NE(fx.module, nullptr);
      auto r = fx.call("all", {u64(x), u64(y)});
      ASSERT_EQ(r.status, Status::Ok) << r.detail;
      auto v = fx.results("all", r);
      EXPECT_EQ(v[0].word.low64(), want) << x << " " << y;
      EXPECT_EQ(v[1].word.low64(), seen) << x << " " << y;
      const int64_t used = 10'000'000 - r.gas_left;
      const std::vector<uint8_t> input = fx.input("all", {u64(x), u64(y)});
      for (int64_t gas = 0; gas <= used; ++gas) {
        Message msg;
        msg.caller = kCaller;
        msg.self = kContract;
        msg.input = input;
        msg.gas = gas;
        RecordingTracer t;
        const ExecResult plain = execute(*fx.module, fx.host, msg, t);
        for (const ExecResult& o : {execute(*fx.module, fx.host, msg),
                                    execute_switch_dispatch(*fx.module, fx.host, msg)}) {
          ASSERT_EQ(o.status, plain.status) << "gas " << gas;
          ASSERT_EQ(o.pc, plain.pc) << "gas " << gas;
          ASSERT_EQ(o.func, plain.func) << "gas " << gas;
          ASSERT_EQ(o.gas_left, plain.gas_left) << "gas " << gas;
          ASSERT_EQ(o.output, plain.output) << "gas " << gas;
        }
        ASSERT_EQ(plain.status, gas == used ? Status::Ok : Status::OutOfGas) << "gas " << gas;
      }
    }
  }
}

// Pairs of register computations, element loads and stores run as one
// instruction untraced (program.hpp, WRIT_PAIRABLE_OPS). Every pair is laid
// out once, each followed by two instructions that no pair takes (so every
// pair is the one that runs),
// all working on r3 and each pair's result summed into r4: the fused code,
// the plain code the tracer steps through and the switch dispatcher must
// agree on both, on every trap, pc and unit of gas, at every gas limit. An
// element index out of bounds traps in the first pair with a load or store
// (in its second place); `lead` and `lead_store` trap in the first place.
TEST(Interpreter, PairedInstructionsAgreeWithThePlainCode) {
  const std::map<std::string, std::string> ops = {
      {"MOV", "mov r3, r1"},         {"CONST", "const r3, 0x9e3779b97f4a7c15"},
      {"ADD", "add r3, r3, r1"},     {"SUB", "sub r3, r3, r1"},
      {"MUL", "mul r3, r3, r1"},     {"ADDI", "addi r3, r3, -3"},
      {"AND", "and r3, r3, r1"},     {"OR", "or r3, r3, r1"},
      {"XOR", "xor r3, r3, r1"},     {"ANDI", "andi r3, r3, 0xff00ff"},
      {"SHLI", "shli r3, r3, 5"},    {"SHRI", "shri r3, r3, 7"},
      {"ADD32", "add32 r3, r3, r1"}, {"ROTRI32", "rotri32 r3, r3, 11"},
      {"LD64", "ld64 r3, r7, r2"},   {"ST64", "st64 r7, r2, r3"},
  };
  std::vector<std::string> names;
#define NAME_OF(unused, name) names.push_back(#name);
  WRIT_PAIRABLE_OPS(NAME_OF, )
#undef NAME_OF
  ASSERT_EQ(names.size(), ops.size());
  // all(x, y, i): r3 the running value, r4 the sum, r5 the branches' bits,
  // r7 a buffer of 8 elements indexed by i.
  std::string src =
      ".func all(u64, u64, u64) -> (u64, u256, u64) export\n"
      "  .regs u64 u256 u64 u256 buf u64\n"
      "  const r8, 64\n  bnew r7, r8\n  mov r3, r0\n  zext r6, r3\n";
  for (const std::string& f : names)
    for (const std::string& s : names)
      src += "  " + ops.at(f) + "\n  " + ops.at(s) + "\n  zext r6, r3\n  wadd r4, r4, r6\n";
  // Branches after a pair: block k skips `r5 += 2^k` when taken.
  const std::vector<std::string> branches = {"beq r3, r1",   "bne r1, r3",   "blt.u r3, r1",
                                             "bge.u r3, r1", "blt.s r1, r3", "bge.s r3, r1"};
  for (size_t k = 0; k < branches.size(); ++k) {
    const std::string label = "l" + std::to_string(k);
    src += "  xor r3, r3, r1\n  addi r3, r3, 0x4000000000000001\n  " + branches[k] + ", " + label +
           "\n";
    src += "  addi r5, r5, " + std::to_string(uint64_t{1} << k) + "\n" + label + ":\n";
  }
  src += "  ret r3\n.end\n";
  src +=
      ".func lead(u64) -> (u64) export\n  .regs buf u64 u64\n"
      "  const r2, 8\n  bnew r1, r2\n  ld64 r3, r1, r0\n  add r3, r3, r3\n  ret r3\n.end\n"
      ".func lead_store(u64) -> (u64) export\n  .regs buf u64 u64\n"
      "  const r2, 8\n  bnew r1, r2\n  st64 r1, r0, r2\n  mov r3, r2\n  ret r3\n.end\n";

  Fixture fx(src);
  ASSERT_NE(fx.module, nullptr);
  // Every pair became one instruction (the last six before the branches).
  size_t pairs = 0;
  for (const Insn& in : fx.module->program().funcs[0].fused)
    pairs += in.op >= kOpFirstPair && in.op < kInternalOpCount;
  EXPECT_EQ(pairs, names.size() * names.size() + branches.size());
  for (size_t f = 1; f < 3; ++f)
    EXPECT_GE(fx.module->program().funcs[f].fused[2].op, kOpFirstPair) << f;

  // Runs `name` at every gas limit up to its cost (every 7th below the last
  // 40), the three ways: out of gas below it, then `status` (a trap ends the
  // call at the first limit that reaches it).
  const auto agree = [&](const std::string& name, const std::vector<Value>& args, Status status) {
    const std::vector<uint8_t> input = fx.input(name, args);
    Message msg;
    msg.caller = kCaller;
    msg.self = kContract;
    msg.input = input;
    msg.gas = 10'000'000;
    RecordingTracer full;
    const ExecResult whole = execute(*fx.module, fx.host, msg, full);
    ASSERT_EQ(whole.status, status) << name << " " << whole.detail;
    const int64_t used = msg.gas - whole.gas_left;
    for (int64_t gas = 0; gas <= used; gas += (gas < used - 40 ? 7 : 1)) {
      msg.gas = gas;
      RecordingTracer t;
      const ExecResult plain = execute(*fx.module, fx.host, msg, t);
      for (const ExecResult& o :
           {execute(*fx.module, fx.host, msg), execute_switch_dispatch(*fx.module, fx.host, msg)}) {
        ASSERT_EQ(o.status, plain.status) << name << " gas " << gas;
        ASSERT_EQ(o.pc, plain.pc) << name << " gas " << gas;
        ASSERT_EQ(o.func, plain.func) << name << " gas " << gas;
        ASSERT_EQ(o.gas_left, plain.gas_left) << name << " gas " << gas;
        ASSERT_EQ(o.detail, plain.detail) << name << " gas " << gas;
        ASSERT_EQ(o.output, plain.output) << name << " gas " << gas;
      }
      if (plain.status == status && status != Status::Ok) {
        EXPECT_EQ(plain.pc, whole.pc) << name;
        return;
      }
      ASSERT_EQ(plain.status, gas == used ? status : Status::OutOfGas) << name << " gas " << gas;
    }
  };
  const uint64_t values[] = {0, 1, 7, 0x8000000000000000, ~uint64_t{0}, 0x0123456789abcdef};
  for (uint64_t x : values)
    for (uint64_t y : {uint64_t{3}, ~uint64_t{0}, x, uint64_t{0xfedcba9876543210}})
      agree("all", {u64(x), u64(y), u64(x % 8)}, Status::Ok);
  agree("all", {u64(5), u64(9), u64(8)}, Status::OutOfBounds);
  agree("lead", {u64(0)}, Status::Ok);
  agree("lead", {u64(1)}, Status::OutOfBounds);
  agree("lead_store", {u64(0)}, Status::Ok);
  agree("lead_store", {u64(1)}, Status::OutOfBounds);
}

// Calls and returns of one slot have their own forms in the untraced
// interpreter's code (program.hpp): they must agree with the plain CALL and
// RET that the traced run steps through, at every gas limit, and on the
// call-depth trap.
TEST(Interpreter, OneSlotCallsAndReturnsAgreeWithThePlainCode) {
  Fixture fx(kFibRec + R"(
.func mix(u64, u256) -> (u64, u256) export
  .regs u64 u256 u64
  call twice, r0, r2
  call wide, r0, r3
  call pick, r0, r4
  ret r2
.end
.func twice(u64) -> (u64)
  .regs u64
  add r1, r0, r0
  ret r1
.end
.func wide(u64) -> (u256)
  .regs u256
  zext r1, r0
  wadd r1, r1, r1
  ret r1
.end
.func pick(u64, u256) -> (u64)
  .regs u64
  ret r2
.end
.func down(u64) -> (u64) export
  .regs u64
  addi r0, r0, 1
  call down, r0, r1
  ret r1
.end)");
  struct Case {
    const char* fn;
    std::vector<Value> args;
  };
  const std::vector<Case> cases = {{"fib", {u64(7)}}, {"mix", {u64(21), w(9)}}, {"down", {u64(0)}}};
  for (const Case& c : cases) {
    const std::vector<uint8_t> input = fx.input(c.fn, c.args);
    Message msg;
    msg.caller = kCaller;
    msg.self = kContract;
    msg.input = input;
    msg.gas = 10'000'000;
    const int64_t used = msg.gas - execute(*fx.module, fx.host, msg).gas_left;
    // down traps at depth 1024 (all its gas gone): its limits up to past that.
    const int64_t last = std::min<int64_t>(used, 40'000);
    for (int64_t gas = 0; gas <= last; gas += (std::string(c.fn) == "down" ? 3 : 1)) {
      msg.gas = gas;
      RecordingTracer t;
      const ExecResult plain = execute(*fx.module, fx.host, msg, t);
      const ExecResult fused = execute(*fx.module, fx.host, msg);
      ASSERT_EQ(fused.status, plain.status) << c.fn << " gas " << gas;
      ASSERT_EQ(fused.func, plain.func) << c.fn << " gas " << gas;
      ASSERT_EQ(fused.pc, plain.pc) << c.fn << " gas " << gas;
      ASSERT_EQ(fused.gas_left, plain.gas_left) << c.fn << " gas " << gas;
      ASSERT_EQ(fused.output, plain.output) << c.fn << " gas " << gas;
    }
  }
  EXPECT_EQ(fx.call_u64("fib", {u64(7)}), 13u);
  auto r = fx.call("mix", {u64(21), w(9)});
  ASSERT_EQ(r.status, Status::Ok);
  auto v = fx.results("mix", r);
  EXPECT_EQ(v[0].word.low64(), 42u);
  EXPECT_EQ(v[1].word, U256::from_u64(42));
  EXPECT_EQ(fx.call("down", {u64(0)}, 1ll << 40).status, Status::CallDepth);
}

}  // namespace
}  // namespace writ::vm::test
