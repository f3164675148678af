// One differential case of the JIT against the interpreter, shared by the
// fuzzer (fuzz/fuzz_jit.cpp) and the long-run driver (tests/vm/jit_diff.cpp):
// a random program (random_program.hpp) is assembled, deployed on two hosts,
// compiled, and called a few times with random arguments and gas limits on
// both tiers; status, function, pc, gas left, output, detail, storage and
// logs must agree after every call. Compiled code that finds the gas out
// late has the interpreter run the call again (jit::execute); such a call
// counts as a rerun, and one the interpreter then ends otherwise than out
// of gas is a mismatch.
#pragma once

#include <array>
#include <memory>
#include <string>

#include "random_program.hpp"
#include "writ/vm/abi.hpp"
#include "writ/vm/assembler.hpp"
#include "writ/vm/interpreter.hpp"
#include "writ/vm/jit.hpp"
#include "writ/vm/memory_host.hpp"

namespace writ::vm::test {

struct DiffOutcome {
  bool verified = false;  // false: the verifier refused the program (rare; skipped)
  int calls = 0;          // calls compared
  std::string
      mismatch;  // empty when every call agreed, else what differed, both results and the program
  std::array<uint32_t, 32> statuses{};  // calls by the interpreter's status
  int reruns = 0;                       // calls the interpreter ran again after compiled code
};

inline std::string describe(const char* what, const std::string& text, const ExecResult& a,
                            const ExecResult& b) {
  auto one = [](const ExecResult& r) {
    return std::string(status_name(r.status)) + " func " + std::to_string(r.func) + " pc " +
           std::to_string(r.pc) + " gas " + std::to_string(r.gas_left) + " " + r.detail;
  };
  return std::string("JIT and interpreter differ in ") + what + "\n" + text +
         "\ninterpreter: " + one(a) + "\njit: " + one(b) + "\n";
}

// A random program deployed on two hosts, before it is compiled.
struct DiffCase {
  std::string text;
  MemoryHost ha, hb;
  std::shared_ptr<const VerifiedModule> module;  // null: the verifier refused it
  static constexpr uint64_t kSelf = 0xC0DE;

  explicit DiffCase(RandomProgram& gen) {
    text = gen.program(5 + static_cast<int>(gen.pick(60)));
    auto mod = assemble(text);
    if (!mod.ok()) return;
    const std::vector<uint8_t> bytes = encode_module(mod.value());
    auto va = ha.deploy(U256::from_u64(kSelf), bytes);
    auto vb = hb.deploy(U256::from_u64(kSelf), bytes);
    if (va.ok() && vb.ok()) module = va.value();
  }

  // Calls f a few times on both tiers, `code` being the module's compiled code.
  DiffOutcome run(const jit::CompiledModule* code, const std::string& why, RandomProgram& gen) {
    DiffOutcome out;
    if (!module) return out;
    out.verified = true;
    if (!code) {
      out.mismatch = "the JIT did not compile a verified module: " + why + "\n" + text;
      return out;
    }
    const U256 self = U256::from_u64(kSelf);
    const Export* ex = module->module().find_export("f");
    if (!ex) return out;
    for (int k = 0; k < 4; ++k) {
      auto word = [&] {
        switch (gen.pick(4)) {
          case 0:
            return U256::from_u64(gen.pick(10));
          case 1:
            return U256{{gen.rng(), gen.rng(), gen.rng(), gen.rng()}};
          case 2:
            return sub(U256::zero(), U256::from_u64(gen.pick(3)));
          default:
            return U256::from_u64(gen.rng());
        }
      };
      std::vector<Value> args = {Value::u64(gen.pick(3) ? gen.pick(100) : gen.rng()),
                                 Value::u64(gen.rng() % 5), Value::u256(word()),
                                 Value::u256(word())};
      const std::vector<uint8_t> input = call_input(ex->selector, args);
      Message msg;
      msg.caller = U256::from_u64(0xCA11E2);
      msg.self = self;
      msg.input = input;
      msg.gas = k == 0 ? 50'000 : static_cast<int64_t>(gen.pick(3'000));
      ExecResult a = execute(*module, ha, msg);
      const jit::RerunCounts before = jit::rerun_counts();
      ExecResult b = jit::execute(*code, *module, hb, msg);
      const jit::RerunCounts after = jit::rerun_counts();
      ++out.calls;
      ++out.statuses[static_cast<size_t>(a.status) % out.statuses.size()];
      out.reruns += static_cast<int>(after.reruns - before.reruns);
      const char* what = nullptr;
      if (after.disagreements != before.disagreements)
        what = "status (compiled code found the gas out, the interpreter did not)";
      else if (a.status != b.status)
        what = "status";
      else if (a.func != b.func || a.pc != b.pc)
        what = "trap location";
      else if (a.gas_left != b.gas_left)
        what = "gas";
      else if (a.output != b.output)
        what = "output";
      else if (a.detail != b.detail)
        what = "detail";
      else if (ha.storage_size() != hb.storage_size())
        what = "storage";
      for (uint64_t key = 0; !what && key < 8; ++key)
        if (ha.sload(self, U256::from_u64(key)) != hb.sload(self, U256::from_u64(key)))
          what = "storage";
      if (!what && ha.logs().size() != hb.logs().size()) what = "logs";
      for (size_t i = 0; !what && i < ha.logs().size(); ++i)
        if (ha.logs()[i].topics != hb.logs()[i].topics || ha.logs()[i].data != hb.logs()[i].data)
          what = "logs";
      if (what) {
        out.mismatch = describe(what, text, a, b);
        return out;
      }
    }
    return out;
  }
};

inline DiffOutcome compare_random_program(jit::Compiler& compiler, RandomProgram& gen,
                                          const jit::CompileOptions& options = {}) {
  DiffCase c(gen);
  if (!c.module) return {};
  std::string why;
  auto code = compiler.compile(*c.module, &why, options);
  return c.run(code.get(), why, gen);
}

}  // namespace writ::vm::test
