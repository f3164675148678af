// The LLVM JIT tier: a verified module's functions compiled to native code
// that runs exactly as the interpreter does (vm/interpreter_loop.inc is the
// reference): the same results, the same traps at the same function and pc,
// the same gas charged at the same points (docs/jit.md).
//
//   auto jit = writ::vm::jit::Compiler::create();           // one per process
//   auto code = jit->compile(verified_module);             // nullptr + reason when not
//   ExecResult r = writ::vm::jit::execute(*code, verified_module, host, msg);
//
// Coverage: a module is compiled only when every instruction of every
// function is one the lowering supports (jit_lower.cpp, `supported`); any
// other module runs on the interpreter, which stays the reference. No C++
// exception crosses compiled frames: everything the compiled code calls
// returns a status.
//
// Thread-safety: a Compiler compiles one module at a time (compile is
// serialized by a mutex); compiled code is immutable and may run on any
// number of threads at once.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "writ/vm/interpreter.hpp"
#include "writ/vm/verifier.hpp"

namespace writ::vm::jit {

// Modules with a function larger than kMaxFunctionInsns pre-decoded
// instructions, or larger than kMaxModuleInsns in all, are not compiled:
// the interpreter runs them. LLVM's time grows faster than linearly with a
// function's size (a function of 4,000 instructions in 570 branching
// diamonds over 4,096 registers takes about 3 s; 2,500 diamonds took 155 s),
// while the largest function of the system contracts has 240 instructions
// and the largest of them 2,161 in all (docs/jit.md).
inline constexpr size_t kMaxFunctionInsns = 4'000;
inline constexpr size_t kMaxModuleInsns = 20'000;
// A module with a function larger than kOptimizedFunctionInsns, or larger
// than kOptimizedModuleInsns in all, is compiled for bounded time rather
// than speed: its basic blocks cut to at most kLargeBlockInsns LLVM
// instructions and code generation at level 0 (fast instruction selection
// and register allocation), whose time grows about linearly. At level 2 a
// straight run of 2,000 256-bit sign extensions took 4.6 s to compile and
// five functions of 3,990 took 152 s (the register allocator and the
// instruction selector of one long block grow with its square).
inline constexpr size_t kOptimizedFunctionInsns = 1'000;
inline constexpr size_t kOptimizedModuleInsns = 8'000;
inline constexpr size_t kLargeBlockInsns = 64;
// A function that calls itself and has at most kMaxUnrolledInsns
// instructions is compiled with its recursion unrolled up to
// kRecursionCopies levels (copies of it inlined at its own call sites;
// docs/jit.md), as many as keep the copies within kMaxUnrolledInsns * 8
// instructions (k self-calls make 1 + k + k^2 bodies for two levels). Two
// levels measured fastest on recursive Fibonacci (one: 0.26 ms, two: 0.20,
// three: 0.20 with twice the code). The last level calls the function
// through a guard that runs its base case inline (docs/jit.md).
inline constexpr size_t kMaxUnrolledInsns = 64;
inline constexpr unsigned kRecursionCopies = 2;

class CompiledModule;

struct CompileOptions {
  // false: no gas is charged (for measuring what metering costs; such code
  // runs only through execute_unmetered).
  bool metered = true;
  // Compile as a large module (kOptimizedFunctionInsns) whatever its size:
  // the differential tests run both ways of compiling on small programs.
  bool large = false;
};

struct CompilerOptions {
  // Where compiled objects are kept between runs (none when empty): one
  // file per module, named by the SHA-256 of its lowered IR and the target
  // (LLVM's version, triple, CPU, features), so a restart loads instead of
  // compiling and any change of the lowering compiles anew. A damaged file
  // is compiled again and replaced. The directory is created with mode 0700;
  // one (or a file in it) that is not the process's own user's, or that
  // other users can write, is not used (said on stderr): its objects would
  // run as machine code.
  std::string cache_dir;
  // LLVM's IR pipeline (1-3: O1-O3) and code generation level (0-3: none,
  // less, default, aggressive). The defaults are chosen by measurement
  // (docs/jit.md, "The pipeline"); results never depend on them.
  unsigned opt_level = 1;
  unsigned codegen_level = 2;
};

class Compiler {
 public:
  // nullptr with the reason in `error` when LLVM cannot create a JIT for this host.
  static std::unique_ptr<Compiler> create(std::string* error = nullptr,
                                          CompilerOptions options = {});
  ~Compiler();
  Compiler(const Compiler&) = delete;
  Compiler& operator=(const Compiler&) = delete;

  // Compiles every function of `module`; nullptr when an instruction is
  // outside the supported set, a function is past kMaxFunctionInsns or the
  // module past kMaxModuleInsns, or LLVM
  // fails (the reason in `error`). REQUIRES: `module` outlives the result.
  std::shared_ptr<const CompiledModule> compile(const VerifiedModule& module,
                                                std::string* error = nullptr,
                                                CompileOptions options = {});

 private:
  Compiler();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Whether `code` was loaded from the cache directory rather than compiled.
bool loaded_from_cache(const CompiledModule& code);

// Runs the call `msg` on compiled code, metered, as execute() does on the
// interpreter. REQUIRES: `code` was compiled from `module`.
// Compiled code tests the gas late (docs/jit.md): when it finds that a
// charge ran the gas out, the host is put back (Host::snapshot) and the
// call runs again on the interpreter, which reports where. A host that
// cannot be put back runs the call on the interpreter alone.
ExecResult execute(const CompiledModule& code, const VerifiedModule& module, Host& host,
                   const Message& msg);
// Calls of execute() in this process that compiled code found out of gas
// and the interpreter ran again (`reruns`), and those of them the
// interpreter did not end out of gas (`disagreements`: a fault of the JIT,
// whose result the interpreter's replaced). For tests and the differential
// checker.
struct RerunCounts {
  uint64_t reruns = 0, disagreements = 0;
};
RerunCounts rerun_counts();
// As vm::execute_unmetered does on the interpreter: no gas charged, the
// result's gas_left is msg.gas. REQUIRES: `code` compiled with metered = false.
ExecResult execute_unmetered(const CompiledModule& code, const VerifiedModule& module, Host& host,
                             const Message& msg);

// Whether the lowering supports opcode `op` (a pre-decoded opcode: kOpGas included).
bool supported(uint16_t op);

// The JIT as a chain's execution tier (Chain::set_execution_tier): each
// module runs on the interpreter until its calls have used `threshold_gas`
// in all; then it is compiled on a background thread (the call that crossed
// the threshold is not delayed) and its calls run the compiled code from
// then on. With `synchronous`, a module that reaches the threshold is
// compiled before the call runs: threshold 0 and synchronous is the JIT
// forced on for every module (the chain-determinism tests). A module LLVM
// fails to compile stays on the interpreter, with a line on stderr.
struct TierOptions {
  // A module is compiled once its calls on the interpreter have used
  // max(threshold_gas, threshold_gas_per_kb x its code's size in KB): the
  // break-even measured by writ_bench (compiling takes 40-90 ms per KB of
  // code; the interpreter runs about a gas per ns; compiled code saves up to
  // 90% of that on compute), so compiling costs about what interpreting the
  // module has already cost (docs/jit.md, "Tiering").
  int64_t threshold_gas = 1'000'000;
  int64_t threshold_gas_per_kb = 50'000'000;
  bool synchronous = false;
  // Compile every module when it is verified (deployed, or first loaded
  // after a restart), in the background, whatever its gas.
  bool compile_at_deploy = false;
  // CompilerOptions::cache_dir: compiled code kept between runs.
  std::string cache_dir;
  // Counts the calls run on compiled code and the modules compiled (optional).
  std::atomic<uint64_t>* compiled_calls = nullptr;
  std::atomic<uint64_t>* compiled_modules = nullptr;  // compiled or loaded from the cache
  std::atomic<uint64_t>* cached_modules = nullptr;    // of those, loaded from the cache
};
// The background compilations of a tier run on one thread of this name, at
// this nice value (the lowest priority): the chain's work goes first.
inline constexpr const char* kCompileThreadName = "writ-jit";
inline constexpr int kCompileThreadNice = 19;
// nullptr when LLVM cannot create a JIT for this host (the reason in `error`).
std::shared_ptr<ExecutionTier> make_tier(TierOptions options = {}, std::string* error = nullptr);

}  // namespace writ::vm::jit
