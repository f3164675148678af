// Shared helpers for VM tests: assemble text, deploy into a MemoryHost, call.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "writ/vm/abi.hpp"
#include "writ/vm/assembler.hpp"
#include "writ/vm/interpreter.hpp"
#include "writ/vm/memory_host.hpp"
#include "writ/vm/opcodes.hpp"
#include "writ/vm/verifier.hpp"

namespace writ::vm::test {

inline std::vector<uint8_t> assemble_bytes(const std::string& text) {
  auto m = assemble(text);
  if (!m.ok()) {
    ADD_FAILURE() << "assembly failed: " << m.error().to_string();
    return {};
  }
  return encode_module(m.value());
}

inline const U256 kContract = U256::from_u64(0xC0DE);
inline const U256 kCaller = U256::from_u64(0xCA11E2);

// A MemoryHost with one contract deployed at kContract.
struct Fixture {
  MemoryHost host;
  std::shared_ptr<const VerifiedModule> module;

  explicit Fixture(const std::string& text) {
    auto bytes = assemble_bytes(text);
    auto v = host.deploy(kContract, bytes);
    if (!v.ok()) {
      ADD_FAILURE() << "deploy failed: " << v.error().to_string();
      return;
    }
    module = v.value();
  }

  std::vector<uint8_t> input(const std::string& name, const std::vector<Value>& args) const {
    const Export* ex = module->module().find_export(name);
    EXPECT_NE(ex, nullptr) << "no export " << name;
    return call_input(ex ? ex->selector : 0, args);
  }

  ExecResult call(const std::string& name, const std::vector<Value>& args = {},
                  int64_t gas = 10'000'000, U256 value = U256::zero()) {
    auto in = input(name, args);
    Message msg;
    msg.caller = kCaller;
    msg.self = kContract;
    msg.value = value;
    msg.input = in;
    msg.gas = gas;
    return host.call(msg);
  }

  // Decoded results of a successful call.
  std::vector<Value> results(const std::string& name, const ExecResult& r) const {
    const Export* ex = module->module().find_export(name);
    auto d = abi_decode(module->module().functions[ex->func].results, r.output);
    EXPECT_TRUE(d.ok());
    return d.ok() ? d.value() : std::vector<Value>{};
  }

  uint64_t call_u64(const std::string& name, const std::vector<Value>& args = {}) {
    auto r = call(name, args);
    EXPECT_EQ(r.status, Status::Ok) << status_name(r.status) << " " << r.detail;
    auto v = results(name, r);
    return v.empty() ? ~0ull : v[0].word.low64();
  }
  U256 call_w(const std::string& name, const std::vector<Value>& args = {}) {
    auto r = call(name, args);
    EXPECT_EQ(r.status, Status::Ok) << status_name(r.status) << " " << r.detail;
    auto v = results(name, r);
    return v.empty() ? U256::max() : v[0].word;
  }
};

inline Value u64(uint64_t v) {
  return Value::u64(v);
}
inline Value w(uint64_t v) {
  return Value::u256(U256::from_u64(v));
}

inline uint32_t gas_of(Op op) {
  return info(op).base_gas;
}

}  // namespace writ::vm::test
