// The sandbox that `writ test` runs tests in: sessions start from the
// genesis state and do not see each other, failed calls change nothing,
// deploys land where a deploy transaction would, the environment is the
// owner's, and hooks see and change every call.
#include <gtest/gtest.h>

#include "test_token.hpp"
#include "writ/compiler/compiler.hpp"
#include "writ/runtime/sandbox.hpp"
#include "writ/vm/abi.hpp"

namespace writ::runtime {
namespace {

using vm::Value;

Bytes token_code() {
  auto out = compiler::compile_source("token.writ", fixtures::test_token_source(), {});
  EXPECT_TRUE(out.ok) << out.diagnostics;
  return out.ok ? out.contracts[0].bytecode : Bytes{};
}

Bytes input(const char* name, std::vector<Value> args) {
  std::vector<vm::ValType> types;
  for (const Value& v : args) types.push_back(v.type);
  return vm::call_input(vm::selector_of(name, types), args);
}

struct Box {
  Address alice = Address::from_u256(U256::from_u64(0xA11CE));
  Address bob = Address::from_u256(U256::from_u64(0xB0B));
  std::unique_ptr<Sandbox> box;
  Box() {
    Genesis g;
    g.chain_id = 9;
    g.timestamp = 1'700'000'000;
    g.accounts.push_back({alice, U256::from_u64(5'000)});
    auto b = Sandbox::create(g);
    EXPECT_TRUE(b.ok());
    if (b.ok()) box = std::move(b.value());
  }
  // A session with the token deployed by alice, supply 1,000.
  std::unique_ptr<Sandbox::Session> with_token(Address& token) {
    auto s = box->session();
    vm::ExecResult r;
    auto at = s->deploy(alice, token_code(), input("$init", {Value::u256(U256::from_u64(1000))}),
                        1'000'000, r);
    EXPECT_TRUE(at.ok()) << (at.ok() ? "" : at.error().to_string());
    if (at.ok()) token = at.value();
    return s;
  }
  U256 balance_of(Sandbox::Session& s, const Address& token, const Address& who) {
    auto r = s.call(alice, token, input("balance_of", {Value::u256(who.to_u256())}), 100'000);
    EXPECT_EQ(r.status, vm::Status::Ok);
    const vm::ValType types[] = {vm::ValType::U256};
    auto v = vm::abi_decode(types, r.output);
    return v.ok() ? v.value()[0].word : U256::zero();
  }
};

TEST(Sandbox, SessionsStartFromTheGenesisAndDoNotSeeEachOther) {
  Box b;
  Address token;
  auto s1 = b.with_token(token);
  EXPECT_EQ(token, contract_address(b.alice, 0));  // where alice's first deploy tx would put it
  EXPECT_EQ(s1->nonce(b.alice), 1u);
  EXPECT_EQ(s1->block().chain_id, 9u);
  EXPECT_EQ(s1->block().timestamp, 1'700'000'000u);
  std::vector<Log> logs;
  auto r =
      s1->call(b.alice, token,
               input("transfer", {Value::u256(b.bob.to_u256()), Value::u256(U256::from_u64(40))}),
               200'000, U256::zero(), &logs);
  ASSERT_EQ(r.status, vm::Status::Ok) << r.detail;
  EXPECT_EQ(logs.size(), 1u);
  EXPECT_EQ(b.balance_of(*s1, token, b.bob), U256::from_u64(40));
  s1->set_balance(b.bob, U256::from_u64(77));
  EXPECT_EQ(s1->balance(b.bob), U256::from_u64(77));

  auto s2 = b.box->session();
  EXPECT_EQ(s2->nonce(b.alice), 0u);
  EXPECT_EQ(s2->balance(b.bob), U256::zero());
  EXPECT_EQ(s2->balance(b.alice), U256::from_u64(5'000));
  auto none =
      s2->call(b.alice, token, input("balance_of", {Value::u256(b.bob.to_u256())}), 100'000);
  EXPECT_EQ(none.status, vm::Status::NoCode);
}

TEST(Sandbox, AFailedCallChangesNothing) {
  Box b;
  Address token;
  auto s = b.with_token(token);
  std::vector<Log> logs{Log{}};
  auto r =
      s->call(b.bob, token,
              input("transfer", {Value::u256(b.alice.to_u256()), Value::u256(U256::from_u64(1))}),
              200'000, U256::zero(), &logs);
  EXPECT_EQ(r.status, vm::Status::Revert);
  EXPECT_TRUE(logs.empty());
  EXPECT_EQ(b.balance_of(*s, token, b.alice), U256::from_u64(1000));
  // A constructor that fails leaves no contract, but the nonce advanced.
  vm::ExecResult cr;
  auto at = s->deploy(b.alice, token_code(), Bytes{1, 2, 3}, 1'000'000, cr);
  EXPECT_FALSE(at.ok());
  EXPECT_NE(cr.status, vm::Status::Ok);
  EXPECT_EQ(s->nonce(b.alice), 2u);
  auto gone = s->call(b.alice, contract_address(b.alice, 1),
                      input("balance_of", {Value::u256(b.bob.to_u256())}), 100'000);
  EXPECT_EQ(gone.status, vm::Status::NoCode);
}

// A hook that makes every call to the token come from bob and answers calls
// to 0x7e57 itself; it counts what it saw.
struct Hooks : CallHooks {
  Address token, bob;
  int before_calls = 0, after_calls = 0;
  std::optional<vm::ExecResult> before(vm::Message& msg) override {
    ++before_calls;
    if (msg.self == U256::from_u64(0x7e57)) {
      vm::ExecResult r;
      r.status = vm::Status::Ok;
      r.gas_left = msg.gas - 10;
      return r;
    }
    if (msg.self == token.to_u256()) msg.caller = bob.to_u256();
    return std::nullopt;
  }
  void after(const vm::Message&, vm::ExecResult& r) override {
    ++after_calls;
    if (r.status == vm::Status::Revert) r.detail = "seen by the hook";
  }
};

TEST(Sandbox, HooksSeeAndChangeEveryCall) {
  Box b;
  Address token;
  auto s = b.with_token(token);
  Hooks h;
  h.token = token;
  h.bob = b.bob;
  s->set_hooks(&h);
  // As bob, who has nothing: the transfer reverts, and the hook saw it.
  auto r = s->call(
      b.alice, token,
      input("transfer", {Value::u256(b.bob.to_u256()), Value::u256(U256::from_u64(1))}), 200'000);
  EXPECT_EQ(r.status, vm::Status::Revert);
  EXPECT_EQ(r.detail, "seen by the hook");
  auto answered = s->call(b.alice, Address::from_u256(U256::from_u64(0x7e57)), Bytes{}, 1'000);
  EXPECT_EQ(answered.status, vm::Status::Ok);
  EXPECT_EQ(answered.gas_left, 990);
  EXPECT_EQ(h.before_calls, 2);
  EXPECT_EQ(h.after_calls, 1);
  s->set_hooks(nullptr);
  EXPECT_EQ(b.balance_of(*s, token, b.alice), U256::from_u64(1000));
  s->set_timestamp(1'800'000'000);
  s->set_block_number(42);
  EXPECT_EQ(s->block().timestamp, 1'800'000'000u);
  EXPECT_EQ(s->block().number, 42u);
}

}  // namespace
}  // namespace writ::runtime
