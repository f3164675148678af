// The verifier: runs once per module (cached by code hash) and proves what the
// interpreter then relies on without checking:
//   1. every instruction decodes, and the code ends in a terminator;
//   2. every register operand exists and has the type its opcode requires;
//   3. every jump target is the start of an instruction of the same function;
//   4. constant, function, event and error indices exist and are of the kind
//      the opcode needs; call arguments and results match the callee's
//      signature, `ret` the function's results, `emit`/`throw` their fields;
//   5. immediates are in range where the opcode restricts them (fits.*);
//   6. each basic block's static gas is computed (interpreter charges it once).
// It also lowers the code into the interpreter's pre-decoded form (Program).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <span>

#include "writ/vm/host.hpp"
#include "writ/vm/module.hpp"
#include "writ/vm/result.hpp"

namespace writ::vm {

struct Program;  // pre-decoded code; vm/program.hpp

// A module that passed verification, with its lowered code. Immutable and
// shareable between threads and executions.
class VerifiedModule {
 public:
  ~VerifiedModule();
  const Module& module() const { return module_; }
  const CodeHash& hash() const { return hash_; }
  const Program& program() const { return *program_; }

 private:
  friend Result<std::shared_ptr<const VerifiedModule>> verify(Module m, const CodeHash& hash);
  VerifiedModule() = default;
  Module module_;
  CodeHash hash_{};
  std::unique_ptr<Program> program_;
};

// Verifies a decoded module. Errors name the function and the byte offset of
// the instruction within that function's code.
Result<std::shared_ptr<const VerifiedModule>> verify(Module m, const CodeHash& hash);

// Decodes and verifies untrusted bytes in one step.
Result<std::shared_ptr<const VerifiedModule>> load_module(std::span<const uint8_t> bytes);

// Another implementation of execute(): the LLVM JIT (vm/jit, docs/jit.md).
// It must give exactly the interpreter's result, gas and effects; it may
// run a module on the interpreter until it has compiled it, and may keep
// the module (compiled code refers to it) for as long as it keeps the code.
// Thread-safe.
class ExecutionTier {
 public:
  virtual ~ExecutionTier() = default;
  virtual ExecResult execute(const std::shared_ptr<const VerifiedModule>& module, Host& host,
                             const Message& msg) = 0;
  // A module has just been verified (deployed, or first loaded since the
  // process started): a tier that compiles at deploy starts here.
  virtual void verified(const std::shared_ptr<const VerifiedModule>&) {}
};

// Verified modules by code hash, so a module is verified once however often it
// runs. Thread-safe. Failed verifications are not cached.
class ModuleCache {
 public:
  // The tier that runs the cached modules (none: the interpreter). Set
  // before the cache is shared between threads.
  // The modules already cached are announced to it as verified.
  void set_tier(std::shared_ptr<ExecutionTier> tier);
  ExecutionTier* tier() const { return tier_.get(); }
  Result<std::shared_ptr<const VerifiedModule>> get(std::span<const uint8_t> bytes);
  // The module whose bytes hash to `hash`, if it was verified before; null
  // otherwise. Saves hashing the code again when its hash is known (an
  // account's code hash is the hash of its code).
  std::shared_ptr<const VerifiedModule> find(const CodeHash& hash) const;
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::map<CodeHash, std::shared_ptr<const VerifiedModule>> by_hash_;
  std::shared_ptr<ExecutionTier> tier_;
};

}  // namespace writ::vm
