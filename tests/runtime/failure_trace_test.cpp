// The failure trace: which nested calls a failed transaction's revert came
// through (vm::ExecResult::calls, Receipt::calls), its bounds, its receipt
// encoding (a trailing section that old receipts do not have) and its JSON.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "writ/compiler/compiler.hpp"
#include "writ/runtime/chain.hpp"
#include "writ/runtime/node.hpp"
#include "writ/vm/abi.hpp"

namespace writ::runtime {
namespace {

using vm::Status;
using vm::ValType;
using vm::Value;

// Outer -> Mid -> Inner, each by address; Inner traps or reverts, Mid passes
// the failure on, catches it, or calls back into Outer (a refused re-entry).
// Deep calls itself `n` times and traps at the bottom.
const char* kSource = R"(
error Low(x: u64);
error Caught();
interface IInner {
  fn inner(x: u64) -> u64;
  fn inner_revert(x: u64) -> u64;
}
interface IMid {
  fn mid(inner: address, x: u64) -> u64;
  fn mid_revert(inner: address, x: u64) -> u64;
  fn mid_caught(inner: address, x: u64) -> u64;
  fn mid_back(outer: address) -> u64;
}
interface IOuter {
  fn poke() -> u64;
}
interface IDeep {
  fn down(n: u64) -> u64;
}
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
  pub fn mid(inner: address, x: u64) -> u64 { return IInner(inner).inner(x) + 1; }
  pub fn mid_revert(inner: address, x: u64) -> u64 { return IInner(inner).inner_revert(x); }
  pub fn mid_caught(inner: address, x: u64) -> u64 {
    let ok = try IInner(inner).inner(x);
    require(ok, Caught());
    return 1;
  }
  pub fn mid_back(outer: address) -> u64 { return IOuter(outer).poke(); }
}
contract Outer {
  pub fn run(mid: address, inner: address, x: u64) -> u64 { return IMid(mid).mid(inner, x); }
  pub fn run_revert(mid: address, inner: address, x: u64) -> u64 {
    return IMid(mid).mid_revert(inner, x);
  }
  pub fn run_caught(mid: address, inner: address, x: u64) -> u64 {
    return IMid(mid).mid_caught(inner, x);
  }
  pub fn run_back(mid: address) -> u64 { return IMid(mid).mid_back(self_address()); }
  pub fn own_error(mid: address, inner: address, x: u64) -> u64 {
    let ok = try IMid(mid).mid(inner, x);
    require(ok, Low(x));
    return 0;
  }
  pub fn same_error(mid: address, inner: address, x: u64) -> u64 {
    let ok = try IMid(mid).mid_revert(inner, x);
    require(ok, Low(x));
    return 0;
  }
  pub fn poke() -> u64 { return 7; }
}
contract Deep {
  pub reentrant fn down(n: u64) -> u64 {
    if n == 0 {
      let y = n - 1;
      return y;
    }
    return IDeep(self_address()).down(n - 1);
  }
}
)";

Bytes call_data(const std::string& name, std::vector<ValType> types, std::vector<Value> args) {
  return vm::call_input(vm::selector_of(name, types), args);
}

struct Fixture {
  Keypair alice = keypair_from_seed({1});
  std::unique_ptr<Chain> chain;
  uint64_t time = 1'700'000'000;
  uint64_t nonce = 0;
  compiler::CompileOutput out = compiler::compile_source("trace.writ", kSource, {});
  Address inner, mid, outer, deep;

  static Genesis genesis_of(const Keypair& k) {
    Genesis g;
    g.chain_id = 7;
    g.timestamp = 1'700'000'000;
    g.accounts.push_back({address_of(k.pub), U256::from_u64(1'000'000'000)});
    return g;
  }
  Fixture() {
    auto c = Chain::open(open_memory_store(), genesis_of(alice));
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().to_string());
    chain = std::move(c.value());
    EXPECT_TRUE(out.ok) << out.diagnostics;
    std::vector<Transaction> deploys;
    for (const char* name : {"Inner", "Mid", "Outer", "Deep"}) {
      Transaction t = tx(Transaction::Kind::Deploy, Address{}, {});
      for (const auto& k : out.contracts)
        if (k.name == name) t.code = k.bytecode;
      t.sign_with(alice);
      deploys.push_back(t);
    }
    auto r = block(deploys);
    for (const Receipt& rc : r.receipts) EXPECT_EQ(rc.status, Status::Ok) << rc.detail;
    inner = r.receipts.at(0).contract;
    mid = r.receipts.at(1).contract;
    outer = r.receipts.at(2).contract;
    deep = r.receipts.at(3).contract;
  }
  Transaction tx(Transaction::Kind kind, Address to, Bytes data) {
    Transaction t;
    t.kind = kind;
    t.chain_id = 7;
    t.nonce = nonce++;
    t.gas_limit = 5'000'000;
    t.gas_price = U256::from_u64(1);
    t.to = to;
    t.data = std::move(data);
    t.sign_with(alice);
    return t;
  }
  Chain::BlockResult block(std::vector<Transaction> txs) {
    time += 5;
    auto r = chain->produce_block(txs, time);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
    return r.ok() ? r.value() : Chain::BlockResult{};
  }
  // Outer.`fn`(mid, inner, x) as a transaction; its receipt.
  Receipt run(const std::string& fn, uint64_t x) {
    auto r = block(
        {tx(Transaction::Kind::Call, outer,
            call_data(fn, {ValType::U256, ValType::U256, ValType::U64},
                      {Value::u256(mid.to_u256()), Value::u256(inner.to_u256()), Value::u64(x)}))});
    return r.receipts.empty() ? Receipt{} : r.receipts[0];
  }
  Receipt call(const Address& to, Bytes data) {
    auto r = block({tx(Transaction::Kind::Call, to, std::move(data))});
    return r.receipts.empty() ? Receipt{} : r.receipts[0];
  }
};

uint32_t sel(const std::string& name, std::vector<ValType> types) {
  return vm::selector_of(name, types);
}

TEST(FailureTrace, ATrapTwoCallsDownIsTracedWithEachFrameThatPassedItOn) {
  Fixture f;
  // Where Inner.inner traps when called directly: the trace must say the same.
  Receipt direct = f.call(f.inner, call_data("inner", {ValType::U64}, {Value::u64(3)}));
  ASSERT_EQ(direct.status, Status::Overflow);
  EXPECT_TRUE(direct.calls.empty());

  Receipt r = f.run("run", 3);
  ASSERT_EQ(r.status, Status::Revert);
  EXPECT_EQ(r.output, vm::call_failed_data(f.inner.to_u256(), 3));
  ASSERT_EQ(r.calls.size(), 2u);
  EXPECT_EQ(r.calls_omitted, 0u);
  const vm::FailedCall& c0 = r.calls[0];  // innermost: the trap
  EXPECT_EQ(c0.callee, f.inner.to_u256());
  EXPECT_EQ(c0.selector, sel("inner", {ValType::U64}));
  EXPECT_EQ(c0.status, Status::Overflow);
  EXPECT_EQ(c0.func, direct.trap_func);
  EXPECT_EQ(c0.pc, direct.trap_pc);
  EXPECT_GT(c0.pc, 0u);
  const vm::FailedCall& c1 = r.calls[1];  // Mid, reverting with CallFailed(inner, Overflow)
  EXPECT_EQ(c1.callee, f.mid.to_u256());
  EXPECT_EQ(c1.selector, sel("mid", {ValType::U256, ValType::U64}));
  EXPECT_EQ(c1.status, Status::Revert);
  // The outermost frame is the receipt's own: Outer's revert, at its pc.
  EXPECT_GT(r.trap_pc, 0u);

  // The receipt round-trips through its encoding, trace included.
  auto back = Receipt::decode(r.encode());
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(back.value(), r);
  // ... and is what the chain stored.
  auto stored = f.chain->receipt(r.tx_hash);
  ASSERT_TRUE(stored.ok() && stored.value());
  EXPECT_EQ(*stored.value(), r);
}

TEST(FailureTrace, ARevertPassedUpUnchangedIsTracedToItsOrigin) {
  Fixture f;
  Receipt r = f.run("run_revert", 3);
  ASSERT_EQ(r.status, Status::Revert);
  EXPECT_EQ(r.output, call_data("Low", {ValType::U64}, {Value::u64(3)}));
  ASSERT_EQ(r.calls.size(), 2u);
  EXPECT_EQ(r.calls[0].callee, f.inner.to_u256());
  EXPECT_EQ(r.calls[0].status, Status::Revert);
  EXPECT_EQ(r.calls[0].detail, "Low");
  EXPECT_EQ(r.calls[1].callee, f.mid.to_u256());
  EXPECT_EQ(r.calls[1].status, Status::Revert);
}

TEST(FailureTrace, ACaughtFailureIsNotPartOfTheChain) {
  Fixture f;
  // Mid catches Inner's trap and throws its own error: the chain starts at Mid.
  Receipt r = f.run("run_caught", 3);
  ASSERT_EQ(r.status, Status::Revert);
  EXPECT_EQ(r.output, call_data("Caught", {}, {}));
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].callee, f.mid.to_u256());
  EXPECT_EQ(r.calls[0].detail, "Caught");
  // Outer catches Mid's failure and reverts with data of its own: no trace.
  r = f.run("own_error", 3);
  ASSERT_EQ(r.status, Status::Revert);
  EXPECT_EQ(r.output, call_data("Low", {ValType::U64}, {Value::u64(3)}));
  EXPECT_TRUE(r.calls.empty());
  // Outer catches a failure and reverts with an error of its own whose data
  // equals the failure's (Low(3) both): its own decision, no trace.
  r = f.run("same_error", 3);
  ASSERT_EQ(r.status, Status::Revert);
  EXPECT_EQ(r.output, call_data("Low", {ValType::U64}, {Value::u64(3)}));
  EXPECT_TRUE(r.calls.empty()) << r.calls.size() << " calls";
  // Success: no trace.
  r = f.run("run", 30);
  ASSERT_EQ(r.status, Status::Ok) << r.detail;
  EXPECT_TRUE(r.calls.empty());
}

TEST(FailureTrace, ARefusedCallIsTracedWithoutALocation) {
  Fixture f;
  Receipt r =
      f.call(f.outer, call_data("run_back", {ValType::U256}, {Value::u256(f.mid.to_u256())}));
  ASSERT_EQ(r.status, Status::Revert);
  EXPECT_EQ(r.output, vm::call_failed_data(f.outer.to_u256(), 11));
  ASSERT_EQ(r.calls.size(), 2u);
  EXPECT_EQ(r.calls[0].callee, f.outer.to_u256());
  EXPECT_EQ(r.calls[0].selector, sel("poke", {}));
  EXPECT_EQ(r.calls[0].status, Status::Reentrancy);
  EXPECT_EQ(r.calls[0].func, 0u);
  EXPECT_EQ(r.calls[0].pc, 0u);
  EXPECT_NE(r.calls[0].detail.find("already on the call stack"), std::string::npos);
  EXPECT_EQ(r.calls[1].callee, f.mid.to_u256());
}

TEST(FailureTrace, ADeepChainKeepsItsInnermostCallsAndCountsTheRest) {
  Fixture f;
  Receipt r = f.call(f.deep, call_data("down", {ValType::U64}, {Value::u64(30)}));
  ASSERT_EQ(r.status, Status::Revert) << r.detail;
  // 30 nested calls: the innermost kMaxFailedCalls are kept.
  ASSERT_EQ(r.calls.size(), vm::kMaxFailedCalls);
  EXPECT_EQ(r.calls_omitted, 30u - vm::kMaxFailedCalls);
  EXPECT_EQ(r.calls[0].status, Status::Overflow);
  for (size_t i = 1; i < r.calls.size(); ++i) EXPECT_EQ(r.calls[i].status, Status::Revert);
  auto back = Receipt::decode(r.encode());
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(back.value(), r);
}

TEST(FailureTrace, AFollowerComputesTheSameTraceAndReceiptsRoot) {
  Fixture f;
  auto mid_data =
      call_data("run", {ValType::U256, ValType::U256, ValType::U64},
                {Value::u256(f.mid.to_u256()), Value::u256(f.inner.to_u256()), Value::u64(3)});
  auto produced = f.block({f.tx(Transaction::Kind::Call, f.outer, mid_data)});
  ASSERT_EQ(produced.receipts.at(0).calls.size(), 2u);
  // A second chain from the same genesis applies the same blocks: the
  // receipts root (which hashes the traces) must match.
  auto c = Chain::open(open_memory_store(), Fixture::genesis_of(f.alice));
  ASSERT_TRUE(c.ok());
  for (uint64_t h = 1; h <= f.chain->head().height; ++h) {
    auto b = f.chain->block(h);
    ASSERT_TRUE(b.ok() && b.value());
    auto applied = c.value()->apply_block(*b.value());
    ASSERT_TRUE(applied.ok()) << applied.error().to_string();
  }
  EXPECT_EQ(c.value()->head().receipts_root, f.chain->head().receipts_root);
}

Receipt sample_receipt() {
  Receipt r;
  r.tx_hash = sha256(std::string_view("tx"), {});
  r.height = 9;
  r.index = 2;
  r.status = Status::Revert;
  r.gas_used = 1234;
  r.output = vm::call_failed_data(U256::from_u64(0xC0D2), 3);
  r.trap_func = 1;
  r.trap_pc = 40;
  return r;
}

TEST(FailureTrace, AReceiptWithoutATraceEncodesAsBeforeAndOneWithATraceAppendsIt) {
  Receipt plain = sample_receipt();
  const std::string e = plain.encode();
  // The layout that receipts had before traces: nothing after `detail`.
  EXPECT_EQ(e.size(), 32u + 8 + 4 + 1 + 8 + (4 + plain.output.size()) + 4 + 32 + 4 + 4 + 4);
  Receipt traced = plain;
  traced.calls.push_back({U256::from_u64(0xC0D2), 0x11223344, Status::Overflow, 0, 7, ""});
  traced.calls.push_back({U256::from_u64(0xC0D1), 0x55667788, Status::Revert, 2, 19, "x"});
  traced.calls_omitted = 3;
  const std::string t = traced.encode();
  EXPECT_EQ(t.substr(0, e.size()), e);
  // The trace section: its tag (1), the count, the calls, the omitted count.
  EXPECT_EQ(t.size(), e.size() + 1 + 4 + 2 * (32 + 4 + 1 + 4 + 4 + 4) + 1 + 4);
  EXPECT_EQ(t[e.size()], '\x01');
  EXPECT_NE(traced.hash(), plain.hash());
  auto back = Receipt::decode(t);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(back.value(), traced);
  auto old = Receipt::decode(e);
  ASSERT_TRUE(old.ok());
  EXPECT_TRUE(old->calls.empty());
}

TEST(FailureTrace, AMalformedTraceIsAnErrorNamingTheField) {
  Receipt traced = sample_receipt();
  traced.calls.push_back({U256::from_u64(0xC0D2), 1, Status::Overflow, 0, 7, "why"});
  const std::string good = traced.encode();
  const size_t base = sample_receipt().encode().size();
  auto error_of = [](const std::string& bytes) {
    auto r = Receipt::decode(bytes);
    return r.ok() ? std::string("decoded") : r.error().to_string();
  };
  // A count of 0 (an empty trace is encoded by its absence) and one past the
  // bound; the section starts with its tag byte.
  std::string zero = good.substr(0, base) + std::string("\x01\0\0\0\0", 5);
  EXPECT_NE(error_of(zero).find("call count: 0"), std::string::npos) << error_of(zero);
  std::string many = good;
  many[base + 1 + 3] = static_cast<char>(vm::kMaxFailedCalls + 1);
  EXPECT_NE(error_of(many).find("call count: 17"), std::string::npos) << error_of(many);
  // A status that is not a failure.
  std::string ok_status = good;
  ok_status[base + 1 + 4 + 32 + 4] = 0;
  EXPECT_NE(error_of(ok_status).find("call status: 0"), std::string::npos);
  std::string bad_status = good;
  bad_status[base + 1 + 4 + 32 + 4] = 17;
  EXPECT_NE(error_of(bad_status).find("call status: 17"), std::string::npos);
  // Truncated anywhere in the trace, and an unknown section after it.
  for (size_t cut = base + 2; cut < good.size(); ++cut)
    EXPECT_NE(error_of(good.substr(0, cut)).find("truncated"), std::string::npos) << cut;
  EXPECT_NE(error_of(good + "x").find("section tag: 120 is unknown"), std::string::npos)
      << error_of(good + "x");
  // The same section twice, or sections out of order.
  const std::string section = good.substr(base);
  EXPECT_NE(error_of(good + section).find("section tag: 1 out of order"), std::string::npos);
  // A detail longer than the bound.
  Receipt long_detail = sample_receipt();
  long_detail.calls.push_back({U256::from_u64(1), 1, Status::Overflow, 0, 0,
                               std::string(vm::kMaxFailedCallDetail + 1, 'a')});
  EXPECT_NE(error_of(long_detail.encode()).find("call detail"), std::string::npos);
}

TEST(FailureTrace, RpcReceiptsAndCallsCarryTheTrace) {
  Fixture f;
  Receipt r = f.run("run", 3);
  ASSERT_EQ(r.calls.size(), 2u);
  RpcHandler rpc(*f.chain);
  auto result = [&](const std::string& method, nlohmann::json params) {
    nlohmann::json req = {{"jsonrpc", "2.0"}, {"id", 1}, {"method", method}, {"params", params}};
    nlohmann::json reply = nlohmann::json::parse(rpc.handle(req.dump()));
    EXPECT_FALSE(reply.contains("error")) << reply.dump();
    return reply["result"];
  };
  const std::string hash = "0x" + r.tx_hash.hex();
  nlohmann::json rc = result("writ_getReceipt", {hash});
  ASSERT_TRUE(rc.contains("calls")) << rc.dump();
  ASSERT_EQ(rc["calls"].size(), 2u);
  EXPECT_EQ(rc["calls"][0]["callee"], "0x" + f.inner.hex());
  EXPECT_EQ(rc["calls"][0]["status"], "Overflow");
  EXPECT_EQ(rc["calls"][0]["status_code"], 3);
  EXPECT_EQ(rc["calls"][0]["pc"], r.calls[0].pc);
  char s[11];
  std::snprintf(s, sizeof s, "0x%08x", sel("inner", {ValType::U64}));
  EXPECT_EQ(rc["calls"][0]["selector"], s);
  EXPECT_EQ(rc["calls"][1]["status"], "Revert");
  EXPECT_FALSE(rc.contains("calls_omitted"));
  // A receipt without a trace has no "calls".
  Receipt ok = f.run("run", 30);
  EXPECT_FALSE(result("writ_getReceipt", {"0x" + ok.tx_hash.hex()}).contains("calls"));
  // writ_call: the same trace, without committing.
  nlohmann::json call =
      result("writ_call",
             {{{"to", "0x" + f.outer.hex()},
               {"data", to_hex(call_data("run", {ValType::U256, ValType::U256, ValType::U64},
                                         {Value::u256(f.mid.to_u256()),
                                          Value::u256(f.inner.to_u256()), Value::u64(3)}))}}});
  ASSERT_TRUE(call.contains("calls")) << call.dump();
  EXPECT_EQ(call["calls"][0]["status"], "Overflow");
  // writ_getTransaction: the transaction a receipt belongs to.
  nlohmann::json t = result("writ_getTransaction", {hash});
  EXPECT_EQ(t["to"], "0x" + f.outer.hex());
  EXPECT_EQ(t["kind"], "call");
  EXPECT_EQ(t["from"], "0x" + address_of(f.alice.pub).hex());
  EXPECT_EQ(t["height"], r.height);
  char run_sel[11];
  std::snprintf(run_sel, sizeof run_sel, "0x%08x",
                sel("run", {ValType::U256, ValType::U256, ValType::U64}));
  EXPECT_EQ(t["data"].get<std::string>().substr(0, 10), run_sel);
  EXPECT_TRUE(
      result("writ_getTransaction", {"0x" + sha256(std::string_view("no"), {}).hex()}).is_null());
  nlohmann::json d =
      result("writ_getTransaction", {"0x" + f.chain->block(1).value()->txs[0].hash().hex()});
  EXPECT_EQ(d["kind"], "deploy");
  EXPECT_TRUE(d["to"].is_null());
  EXPECT_EQ(d["code_hash"].get<std::string>().size(), 66u);
}

}  // namespace
}  // namespace writ::runtime
