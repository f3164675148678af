// Helpers shared by the benchmark binaries: assemble a program through the
// real pipeline (assemble -> encode -> load_module, i.e. decoded and verified
// like any deployed module) and call an export with ABI input.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "writ/vm/abi.hpp"
#include "writ/vm/assembler.hpp"
#include "writ/vm/interpreter.hpp"
#include "writ/vm/memory_host.hpp"
#include "writ/vm/verifier.hpp"

namespace writ::bench {

using vm::ExecResult;
using vm::Host;
using vm::Message;
using vm::U256;
using vm::VerifiedModule;

inline const U256 kContract = U256::from_u64(0xC0DE);
inline const U256 kCaller = U256::from_u64(0xCA11E2);
// Enough for every workload: the VM must never run out here.
inline constexpr int64_t kBenchGas = int64_t{1} << 60;

[[noreturn]] inline void die(const std::string& what) {
  std::fprintf(stderr, "writ_bench: %s\n", what.c_str());
  std::exit(1);
}

// A verified module and the ABI input of one call of one of its exports.
struct Program {
  std::shared_ptr<const VerifiedModule> module;
  std::vector<uint8_t> input;
  std::string label;  // for messages
};

inline Program load_program(const std::string& source, const std::string& label,
                            const std::string& export_name, const std::vector<vm::Value>& args) {
  auto m = vm::assemble(source);
  if (!m.ok()) die(label + ": assembly failed: " + m.error().to_string());
  std::vector<uint8_t> bytes = vm::encode_module(m.value());
  auto v = vm::load_module(bytes);
  if (!v.ok()) die(label + ": load_module failed: " + v.error().to_string());
  Program p;
  p.module = v.value();
  p.label = label;
  const vm::Export* ex = p.module->module().find_export(export_name);
  if (!ex) die(label + ": no export " + export_name);
  p.input = vm::call_input(ex->selector, args);
  return p;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) die("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline Message make_message(const Program& p, int64_t gas = kBenchGas) {
  Message msg;
  msg.caller = kCaller;
  msg.self = kContract;
  msg.input = p.input;
  msg.gas = gas;
  return msg;
}

// The three interpreter entry points measured against each other.
using ExecFn = ExecResult (*)(const VerifiedModule&, Host&, const Message&);
inline ExecResult run_metered(const VerifiedModule& m, Host& h, const Message& msg) {
  return vm::execute(m, h, msg);
}
inline ExecResult run_unmetered(const VerifiedModule& m, Host& h, const Message& msg) {
  return vm::execute_unmetered(m, h, msg);
}
inline ExecResult run_switch(const VerifiedModule& m, Host& h, const Message& msg) {
  return vm::execute_switch_dispatch(m, h, msg);
}

}  // namespace writ::bench
