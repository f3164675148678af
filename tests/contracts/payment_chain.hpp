// The test chain of the system contracts' tests: the default genesis with a
// one-feature risk model, signed transactions from the development keys,
// and the gas tables of docs/contracts/*.md.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "writ/contracts/system.hpp"
#include "writ/runtime/chain.hpp"
#include "writ/vm/abi.hpp"

namespace writ::contracts::testing {

using runtime::Address;
using runtime::Bytes;
using runtime::Chain;
using runtime::Transaction;
using vm::U256;
using vm::ValType;
using vm::Value;

inline const U256 kWad = U256::from_u64(1'000'000'000'000'000'000ull);

inline Bytes input(const std::string& fn, std::vector<ValType> types, std::vector<Value> args) {
  return vm::call_input(vm::selector_of(fn, types), args);
}

// A chain of the default genesis where the risk model is replaced by one
// that depends on a single feature, so these tests do not move with the
// default model: a payment to a new counterparty scores 730 (held), to a
// known one 0 (settled); a sanctioned party 999 (refused).
struct PaymentChain {
  std::unique_ptr<Chain> chain;
  uint64_t time = kDevGenesisTime;
  std::map<std::string, uint64_t> nonces;
  const Address risk = Address::from_u256(U256::from_u64(kRiskEngineAddress));
  const Address holds = Address::from_u256(U256::from_u64(kPaymentHoldsAddress));
  const U256 unit = kWad;

  PaymentChain() {
    runtime::Genesis g = default_genesis();
    const Address gov = runtime::address_of(dev_key(DevKey::Governance).pub);
    std::vector<uint8_t> w(kRiskFeatures * 32, 0);
    vm::to_be_bytes(vm::mul(U256::from_u64(11), kWad),
                    w.data() + 3 * 32);  // new counterparty: 11.0
    g.calls.push_back({gov, risk,
                       input("install_model", {ValType::U64, ValType::U256, ValType::Buf},
                             {Value::u64(2),
                              Value::u256(vm::sub(U256::zero(), vm::mul(U256::from_u64(10), kWad))),
                              Value::buf(w)})});
    auto c = Chain::open(runtime::open_memory_store(), g);
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().to_string());
    chain = std::move(c.value());
  }
  Address addr(DevKey k) const { return runtime::address_of(dev_key(k).pub); }
  U256 balance(const Address& a) const { return chain->balance(a).value(); }
  runtime::Receipt send(DevKey who, const Address& to, const U256& value, Bytes data = {},
                        uint64_t advance = 5) {
    Transaction t;
    t.kind = Transaction::Kind::Call;
    t.chain_id = kDevChainId;
    t.nonce = nonces[std::string(dev_key_name(who))]++;
    t.gas_limit = 2'000'000;
    t.gas_price = U256::from_u64(1);
    t.value = value;
    t.to = to;
    t.data = std::move(data);
    t.sign_with(dev_key(who));
    time += advance;
    auto b = chain->produce_block({t}, time);
    EXPECT_TRUE(b.ok() && b->receipts.size() == 1);
    return b.ok() && b->receipts.size() == 1 ? b->receipts[0] : runtime::Receipt{};
  }
  runtime::Receipt pay(DevKey who, const Address& to, uint64_t units) {
    return send(who, to, vm::mul(U256::from_u64(units), unit));
  }
  runtime::Receipt holds_call(DevKey who, const std::string& fn, uint64_t id,
                              uint64_t advance = 5) {
    return send(who, holds, U256::zero(), input(fn, {ValType::U64}, {Value::u64(id)}), advance);
  }
  // A view call to `contract` against the head, its result decoded as `out`.
  std::vector<Value> view(const Address& contract, const std::string& fn,
                          std::vector<ValType> types, std::vector<Value> args,
                          const std::vector<ValType>& out) const {
    auto r =
        chain->call(contract, contract, input(fn, std::move(types), std::move(args)), 10'000'000);
    EXPECT_TRUE(r.ok() && r->status == vm::Status::Ok) << fn;
    auto d = vm::abi_decode(out, r.ok() ? r->output : Bytes{});
    EXPECT_TRUE(d.ok()) << fn;
    return d.ok() ? d.value() : std::vector<Value>(out.size(), Value::u64(0));
  }
  U256 held_total() const {
    auto r = chain->call(holds, holds, input("held_total", {}, {}), 1'000'000);
    return vm::abi_decode(std::vector<ValType>{ValType::U256}, r->output)->at(0).word;
  }
};

inline std::string revert_name(const runtime::Receipt& r, const std::string& error,
                               std::vector<ValType> fields) {
  if (r.output.size() < 4) return "";
  const uint32_t sel = (uint32_t{r.output[0]} << 24) | (uint32_t{r.output[1]} << 16) |
                       (uint32_t{r.output[2]} << 8) | r.output[3];
  return sel == vm::selector_of(error, fields) ? error : "other";
}

// The gas table of a page of docs/contracts/ (its "## Gas" section, rows
// "| `operation` | ... | gas |"): each operation's gas, measured by the
// tests as the transaction's gas used (its base gas and input bytes
// included), must be within 10% of the table's figure, so the table is
// updated whenever the contract's cost moves.
inline std::map<std::string, uint64_t> gas_table(const std::string& page) {
  std::ifstream in(std::string(WRIT_SOURCE_DIR) + "/docs/contracts/" + page);
  std::map<std::string, uint64_t> table;
  std::string line;
  bool in_table = false;
  while (std::getline(in, line)) {
    if (line.rfind("## Gas", 0) == 0)
      in_table = true;
    else if (line.rfind("## ", 0) == 0)
      in_table = false;
    if (!in_table || line.rfind("| `", 0) != 0) continue;
    const size_t a = line.find('`') + 1, b = line.find('`', a);
    const size_t c = line.rfind('|', line.size() - 2);
    std::string num;
    for (char ch : line.substr(c))
      if (ch >= '0' && ch <= '9') num += ch;
    if (b != std::string::npos && !num.empty()) table[line.substr(a, b - a)] = std::stoull(num);
  }
  return table;
}

// Gas measured per operation by a test, checked against the gas table of
// a page of docs/contracts/ (gas_table above): every operation measured has
// a row, within 10% of it.
class PageGas {
 public:
  explicit PageGas(std::string page) : page_(std::move(page)), table_(gas_table(page_)) {
    EXPECT_FALSE(table_.empty()) << "no gas table in docs/contracts/" << page_;
  }
  // Records a transaction's gas used under `name`; it must have succeeded.
  void record(const std::string& name, const runtime::Receipt& r) {
    EXPECT_EQ(r.status, vm::Status::Ok) << name << ": " << r.detail;
    measured_[name] = r.gas_used;
  }
  uint64_t measured(const std::string& name) const { return measured_.at(name); }
  void check() const {
    for (const auto& [name, gas] : measured_) {
      auto it = table_.find(name);
      EXPECT_NE(it, table_.end()) << "docs/contracts/" << page_ << " has no gas row for `" << name
                                  << "` (measured " << gas << ")";
      if (it == table_.end()) continue;
      EXPECT_LE(gas * 10, it->second * 11)
          << name << ": " << gas << " gas, the page says " << it->second;
      EXPECT_GE(gas * 10, it->second * 9)
          << name << ": " << gas << " gas, the page says " << it->second;
    }
  }

 private:
  std::string page_;
  std::map<std::string, uint64_t> table_;
  std::map<std::string, uint64_t> measured_;
};

}  // namespace writ::contracts::testing
