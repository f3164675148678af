// The JIT tier (docs/jit.md): the compiler (ORC's LLJIT), the on-disk code
// cache, running compiled code in place of the interpreter's dispatch loop,
// and tiering. The lowering to LLVM IR is jit_lower.cpp, its IR passes
// jit_passes.cpp, the helpers compiled code calls jit_helpers.cpp, and the
// stack compiled code runs on stack.cpp.
#include "writ/vm/jit.hpp"

#include <fcntl.h>
#include <llvm/Bitcode/BitcodeWriter.h>
#include <llvm/Config/llvm-config.h>
#include <llvm/ExecutionEngine/Orc/CompileUtils.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "jit_lower.hpp"
#include "jit_state.hpp"
#include "machine.hpp"
#include "program.hpp"
#include "sha256.hpp"
#include "stack.hpp"

namespace writ::vm::jit {

namespace {

thread_local const CompiledModule* tl_code = nullptr;

}  // namespace

class CompiledModule {
 public:
  std::shared_ptr<llvm::orc::LLJIT> jit;  // keeps the code's memory alive
  llvm::orc::JITDylib* dylib = nullptr;   // the module's code, alone in its library
  std::vector<JitFn> fns;
  bool metered = true;
  bool from_cache = false;
  ~CompiledModule() {
    if (dylib) llvm::consumeError(jit->getExecutionSession().removeJITDylib(*dylib));
  }
};


namespace {

// The code cache's files: kCacheMagic, the key the file is named by, the
// SHA-256 of the key and the object, the object (an ELF relocatable file as
// LLVM emits it). The key inside ties a file to its name: another module's
// file renamed to it is damaged, not loaded. At most kMaxCacheFile bytes.
constexpr char kCacheMagic[8] = {'W', 'R', 'I', 'T', 'J', 'I', 'T', '2'};
constexpr size_t kMaxCacheFile = size_t{256} << 20;
using CacheKey = std::array<uint8_t, 32>;

// SHA-256 of the key and the object.
CacheKey cache_digest(const CacheKey& key, const char* object, size_t size) {
  std::string text(reinterpret_cast<const char*>(key.data()), key.size());
  text.append(object, size);
  CacheKey d;
  sha256_digest(reinterpret_cast<const uint8_t*>(text.data()), text.size(), d.data());
  return d;
}

std::string hex(const uint8_t* p, size_t n) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += kDigits[p[i] >> 4];
    out += kDigits[p[i] & 15];
  }
  return out;
}

// Why `st` (a cache directory's or file's) cannot be trusted, or empty: the
// node runs the objects it loads as machine code, so what another user could
// have written is never loaded (docs/jit.md, "The cache").
std::string untrusted(const struct stat& st) {
  char why[96];
  if (st.st_uid != geteuid()) {
    std::snprintf(why, sizeof why, "owned by user %u, not %u", static_cast<unsigned>(st.st_uid),
                  static_cast<unsigned>(geteuid()));
    return why;
  }
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    std::snprintf(why, sizeof why, "writable by other users (mode %04o)",
                  static_cast<unsigned>(st.st_mode & 07777));
    return why;
  }
  return {};
}

// Creates the cache directory (mode 0700) if it is missing; an error when it
// cannot be made or is not the node's own (then no cache is used).
std::string prepare_cache_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  if (dir.has_parent_path()) std::filesystem::create_directories(dir.parent_path(), ec);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return "cannot create it: " + std::string(std::strerror(errno));
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return std::strerror(errno);
  if (!S_ISDIR(st.st_mode)) return "not a directory";
  return untrusted(st);
}

// A cached object, or null when there is none, when it is damaged or when it
// is not the node's own file (both said on stderr).
std::unique_ptr<llvm::MemoryBuffer> read_cached(const std::filesystem::path& file,
                                                const CacheKey& key) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ELOOP)
      std::fprintf(stderr, "writ jit: not loading %s: a symbolic link; compiling again\n",
                   file.c_str());
    else if (errno != ENOENT)
      std::fprintf(stderr, "writ jit: cannot read %s: %s; compiling again\n", file.c_str(),
                   std::strerror(errno));
    return nullptr;
  }
  struct stat st {};
  std::string why = ::fstat(fd, &st) != 0  ? std::string(std::strerror(errno))
                    : !S_ISREG(st.st_mode) ? std::string("not a regular file")
                    : static_cast<uint64_t>(st.st_size) > kMaxCacheFile
                        ? "larger than " + std::to_string(kMaxCacheFile >> 20) + " MiB"
                        : untrusted(st);
  std::string bytes;
  if (why.empty()) {
    char chunk[1 << 16];
    for (;;) {
      const ssize_t n = ::read(fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) why = std::strerror(errno);
      if (n <= 0) break;
      bytes.append(chunk, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  if (!why.empty()) {
    std::fprintf(stderr, "writ jit: not loading %s: %s; compiling again\n", file.c_str(),
                 why.c_str());
    return nullptr;
  }
  constexpr size_t kHeader = sizeof kCacheMagic + 2 * sizeof(CacheKey);
  if (bytes.size() > kHeader && std::memcmp(bytes.data(), kCacheMagic, sizeof kCacheMagic) == 0 &&
      std::memcmp(bytes.data() + sizeof kCacheMagic, key.data(), key.size()) == 0) {
    const char* object = bytes.data() + kHeader;
    const size_t size = bytes.size() - kHeader;
    const CacheKey digest = cache_digest(key, object, size);
    if (std::memcmp(digest.data(), bytes.data() + sizeof kCacheMagic + key.size(), digest.size()) ==
        0)
      return llvm::MemoryBuffer::getMemBufferCopy(llvm::StringRef(object, size),
                                                  file.filename().string());
  }
  std::fprintf(stderr, "writ jit: %s is damaged; compiling again\n", file.string().c_str());
  return nullptr;
}

// Writes a cache file (mode 0600) whole or not at all (a temporary file,
// then a rename); a failure only costs a compilation later (said on stderr).
void write_cached(const std::filesystem::path& file, const CacheKey& key,
                  const llvm::MemoryBuffer& object) {
  static std::atomic<uint64_t> counter{0};
  const std::filesystem::path tmp =
      file.string() + ".tmp" + std::to_string(getpid()) + "_" + std::to_string(counter++);
  const CacheKey digest = cache_digest(key, object.getBufferStart(), object.getBufferSize());
  std::string bytes(kCacheMagic, sizeof kCacheMagic);
  bytes.append(reinterpret_cast<const char*>(key.data()), key.size());
  bytes.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  bytes.append(object.getBufferStart(), object.getBufferSize());
  std::error_code ec;
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  int err = fd < 0 ? errno : 0;
  for (size_t done = 0; err == 0 && done < bytes.size();) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) err = n < 0 ? errno : EIO;
    if (n > 0) done += static_cast<size_t>(n);
  }
  if (fd >= 0 && ::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) {
    std::fprintf(stderr, "writ jit: cannot write %s: %s\n", tmp.c_str(), std::strerror(err));
    if (fd >= 0) std::filesystem::remove(tmp, ec);
    return;
  }
  std::filesystem::rename(tmp, file, ec);
  if (ec) {
    std::fprintf(stderr, "writ jit: cannot write %s: %s\n", file.string().c_str(),
                 ec.message().c_str());
    std::filesystem::remove(tmp, ec);
  }
}

}  // namespace

bool loaded_from_cache(const CompiledModule& code) {
  return code.from_cache;
}

struct Compiler::Impl {
  std::shared_ptr<llvm::orc::LLJIT> jit;
  std::unique_ptr<llvm::TargetMachine> tm;
  std::unique_ptr<llvm::TargetMachine> tm_large;  // code generation level 0, for large modules
  std::string target_id;  // LLVM's version, the target triple, CPU and features
  std::filesystem::path cache_dir;
  unsigned opt_level = 1;
  std::mutex mu;
  uint64_t next_dylib = 0;
};

Compiler::Compiler() : impl_(std::make_unique<Impl>()) {}
Compiler::~Compiler() = default;

std::unique_ptr<Compiler> Compiler::create(std::string* error, CompilerOptions options) {
  static const bool kTargetReady = [] {
    return !llvm::InitializeNativeTarget() && !llvm::InitializeNativeTargetAsmPrinter();
  }();
  auto fail = [&](std::string why) -> std::unique_ptr<Compiler> {
    if (error) *error = std::move(why);
    return nullptr;
  };
  if (!kTargetReady) return fail("LLVM has no native target for this host");
  auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!jtmb) return fail(llvm::toString(jtmb.takeError()));
  const llvm::CodeGenOpt::Level codegen[] = {llvm::CodeGenOpt::None, llvm::CodeGenOpt::Less,
                                             llvm::CodeGenOpt::Default,
                                             llvm::CodeGenOpt::Aggressive};
  jtmb->setCodeGenOptLevel(codegen[std::min(options.codegen_level, 3u)]);
  auto tm = jtmb->createTargetMachine();
  if (!tm) return fail(llvm::toString(tm.takeError()));
  llvm::orc::JITTargetMachineBuilder large_jtmb = *jtmb;
  large_jtmb.setCodeGenOptLevel(llvm::CodeGenOpt::None);
  auto tm_large = large_jtmb.createTargetMachine();
  if (!tm_large) return fail(llvm::toString(tm_large.takeError()));
  auto jit = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(*jtmb).create();
  if (!jit) return fail(llvm::toString(jit.takeError()));
  // The C library's memset and memcpy, which LLVM emits for runs of stores.
  auto process = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      (*jit)->getDataLayout().getGlobalPrefix());
  if (!process) return fail(llvm::toString(process.takeError()));
  auto& main = (*jit)->getMainJITDylib();
  main.addGenerator(std::move(*process));
  llvm::orc::SymbolMap helpers;
  for (const HelperSymbol& h : helper_symbols())
    helpers[(*jit)->mangleAndIntern(h.name)] = llvm::JITEvaluatedSymbol(
        llvm::pointerToJITTargetAddress(h.address), llvm::JITSymbolFlags::Exported);
  if (auto err = main.define(llvm::orc::absoluteSymbols(std::move(helpers))))
    return fail(llvm::toString(std::move(err)));
  std::unique_ptr<Compiler> c(new Compiler());
  c->impl_->jit = std::shared_ptr<llvm::orc::LLJIT>(std::move(*jit));
  c->impl_->tm = std::move(*tm);
  c->impl_->tm_large = std::move(*tm_large);
  c->impl_->target_id =
      std::string("LLVM ") + LLVM_VERSION_STRING + " " + c->impl_->tm->getTargetTriple().str() +
      " " + c->impl_->tm->getTargetCPU().str() + " " + c->impl_->tm->getTargetFeatureString().str();
  if (!options.cache_dir.empty()) {
    const std::string why = prepare_cache_dir(options.cache_dir);
    if (why.empty())
      c->impl_->cache_dir = options.cache_dir;
    else
      std::fprintf(stderr, "writ jit: not using the code cache %s: %s\n", options.cache_dir.c_str(),
                   why.c_str());
  }
  c->impl_->opt_level = options.opt_level;
  c->impl_->target_id += " O" + std::to_string(options.opt_level) + " CG" +
                         std::to_string(options.codegen_level) + " pipeline " +
                         std::to_string(kPipelineVersion);
  return c;
}

std::shared_ptr<const CompiledModule> Compiler::compile(const VerifiedModule& module,
                                                        std::string* error,
                                                        CompileOptions options) {
  auto fail = [&](std::string why) -> std::shared_ptr<const CompiledModule> {
    if (error) *error = std::move(why);
    return nullptr;
  };
  const Program& prog = module.program();
  for (size_t f = 0; f < prog.funcs.size(); ++f) {
    const auto& code = prog.funcs[f].code;
    if (code.size() > kMaxFunctionInsns)
      return fail("function " + std::to_string(f) + " has " + std::to_string(code.size()) +
                  " instructions, past the JIT's limit of " + std::to_string(kMaxFunctionInsns));
    for (const Insn& in : code)
      if (!supported(in.op))
        return fail("function " + std::to_string(f) + " uses " +
                    (in.op < kOpcodeCount ? std::string(kOpInfo[in.op].mnemonic)
                                          : std::string("a pseudo-instruction")) +
                    ", which the JIT does not compile yet");
  }
  size_t total = 0, longest = 0;
  for (const auto& f : prog.funcs) {
    total += f.code.size();
    longest = std::max(longest, f.code.size());
  }
  if (total > kMaxModuleInsns)
    return fail("the module has " + std::to_string(total) +
                " instructions, past the JIT's limit of " + std::to_string(kMaxModuleInsns));
  const bool large =
      options.large || longest > kOptimizedFunctionInsns || total > kOptimizedModuleInsns;

  std::lock_guard<std::mutex> lock(impl_->mu);
  auto ctx = std::make_unique<llvm::LLVMContext>();
  auto mod = std::make_unique<llvm::Module>("writ", *ctx);
  mod->setDataLayout(impl_->jit->getDataLayout());
  mod->setTargetTriple(impl_->tm->getTargetTriple().str());
  const std::string prefix = "writ_" + module.hash().hex() + "_";
  lower_module(*ctx, *mod, module, prefix, options.metered);
  std::string verify_errors;
  llvm::raw_string_ostream os(verify_errors);
  if (llvm::verifyModule(*mod, &os)) return fail("the lowering produced invalid IR: " + os.str());

  // The cache key: the lowered IR itself (so any change of the lowering or
  // of the module changes it) and the target it is compiled for.
  std::filesystem::path file;
  CacheKey key{};
  if (!impl_->cache_dir.empty()) {
    llvm::SmallVector<char, 0> bitcode;
    llvm::raw_svector_ostream bc(bitcode);
    llvm::WriteBitcodeToFile(*mod, bc);
    std::string key_text = impl_->target_id + (large ? " large" : "") + "\n";
    key_text.append(bitcode.data(), bitcode.size());
    sha256_digest(reinterpret_cast<const uint8_t*>(key_text.data()), key_text.size(), key.data());
    file = impl_->cache_dir / (hex(key.data(), key.size()) + ".o");
  }

  std::unique_ptr<llvm::MemoryBuffer> object;
  bool from_cache = false;
  if (!file.empty()) {
    object = read_cached(file, key);
    from_cache = object != nullptr;
  }
  // Compiles the module into `object` (and the cache); the reason on failure.
  auto compile_object = [&]() -> std::string {
    const auto t0 = std::chrono::steady_clock::now();
    optimize(*mod, impl_->opt_level, large);
    if (large) split_long_blocks(*mod, kLargeBlockInsns);
    const auto t1 = std::chrono::steady_clock::now();
    if (std::getenv("WRIT_JIT_DUMP_IR")) mod->print(llvm::errs(), nullptr);  // to read the lowering
    llvm::orc::SimpleCompiler compiler(large ? *impl_->tm_large : *impl_->tm);
    auto compiled = compiler(*mod);
    if (!compiled) return "LLVM: " + llvm::toString(compiled.takeError());
    object = std::move(*compiled);
    if (const char* d = std::getenv("WRIT_JIT_DUMP_OBJ")) {  // to read the machine code
      std::ofstream(std::string(d) + std::to_string(impl_->next_dylib) + ".o", std::ios::binary)
          .write(object->getBufferStart(), static_cast<std::streamsize>(object->getBufferSize()));
    }
    if (std::getenv("WRIT_JIT_TIMES"))
      std::fprintf(
          stderr, "writ jit: optimize %.1f ms, code generation %.1f ms\n",
          std::chrono::duration<double, std::milli>(t1 - t0).count(),
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t1).count());
    if (!file.empty()) write_cached(file, key, *object);
    return "";
  };
  // Links `object` into a library of its own and finds its functions.
  auto link = [&](std::string& why) -> std::shared_ptr<CompiledModule> {
    auto out = std::make_shared<CompiledModule>();
    out->metered = options.metered;
    out->jit = impl_->jit;
    auto dylib = impl_->jit->createJITDylib("writ" + std::to_string(impl_->next_dylib++));
    if (!dylib) {
      why = "LLVM: " + llvm::toString(dylib.takeError());
      return nullptr;
    }
    out->dylib = &*dylib;
    out->dylib->addToLinkOrder(impl_->jit->getMainJITDylib());
    if (auto err = impl_->jit->addObjectFile(*out->dylib, std::move(object))) {
      why = "LLVM: " + llvm::toString(std::move(err));
      return nullptr;
    }
    for (size_t f = 0; f < prog.funcs.size(); ++f) {
      auto sym = impl_->jit->lookup(*out->dylib, entry_name(prefix, f));
      if (!sym) {
        why = "LLVM: " + llvm::toString(sym.takeError());
        return nullptr;
      }
      out->fns.push_back(reinterpret_cast<JitFn>(sym->getAddress()));
    }
    return out;
  };
  if (!object)
    if (std::string why = compile_object(); !why.empty()) return fail(why);
  std::string why;
  std::shared_ptr<CompiledModule> out = link(why);
  if (!out && from_cache) {
    // A cached object that does not link (or lacks a function) is damaged
    // too: compiled again, and the file replaced.
    std::fprintf(stderr, "writ jit: %s could not be loaded (%s); compiling again\n",
                 file.string().c_str(), why.c_str());
    from_cache = false;
    if (std::string e = compile_object(); !e.empty()) return fail(e);
    out = link(why);
  }
  if (!out) return fail(why);
  out->from_cache = from_cache;
  return out;
}

namespace {

// The LoopFn run_call drives: the compiled function in place of the dispatch loop.
void jit_loop(Machine& m, uint32_t func, Tracer*) {
  std::string detail;
  JitState st{};
  st.gas = m.gas;
  st.stack_end = m.stack.get() + kMaxStackSlots;
  st.m = &m;
  st.detail = &detail;
  st.heap = &m.heap;
  st.metered = tl_code->metered;
  struct Run {
    JitFn fn;
    JitState* st;
    uint64_t* regs;
    uint32_t status;
  } run{tl_code->fns[func], &st, m.stack.get(), 0};
  run_on_stack(
      [](void* p) {
        auto* r = static_cast<Run*>(p);
        r->status = r->fn(r->st, r->regs);
      },
      &run);
  const uint32_t status = run.status;
  if (st.out_of_memory) {  // as run_call reports an allocation failure
    m.result = ExecResult{};
    m.result.status = Status::MemoryLimit;
    m.result.detail = "out of memory";
    m.result.func = func;
    return;
  }
  m.gas = st.gas;
  if (status == 0) {
    m.result.status = Status::Ok;
    m.result.func = func;
    m.result.pc = st.trap_pc;
    m.ret_slot = 0;  // RET stored the results in the frame's first slots
  } else {
    m.result.status = static_cast<Status>(status);
    m.result.func = st.trap_func;
    m.result.pc = st.trap_pc;
    m.result.detail = std::move(detail);
  }
}

}  // namespace

namespace {
std::atomic<uint64_t> g_reruns{0}, g_disagreements{0};
}  // namespace

RerunCounts rerun_counts() {
  return {g_reruns.load(std::memory_order_relaxed), g_disagreements.load(std::memory_order_relaxed)};
}

ExecResult execute(const CompiledModule& code, const VerifiedModule& module, Host& host,
                   const Message& msg) {
  if (!code.metered) return vm::execute(module, host, msg);  // not for this code
  if (!reserve_stack()) return vm::execute(module, host, msg);
  Host::Snapshot mark;
  if (!host.snapshot(mark)) return vm::execute(module, host, msg);
  const CompiledModule* outer = tl_code;
  tl_code = &code;
  ExecResult r = run_call(module, host, msg, true, &jit_loop, nullptr);
  tl_code = outer;
  if (r.status == Status::OutOfGas && r.pc == kUnplacedPc) {
    // A charge ran the gas out before a test found it: everything since
    // ran on registers alone, and the interpreter, from the same state,
    // stops at that charge.
    host.restore(mark);
    r = vm::execute(module, host, msg);
    g_reruns.fetch_add(1, std::memory_order_relaxed);
    if (r.status != Status::OutOfGas) g_disagreements.fetch_add(1, std::memory_order_relaxed);
  }
  host.release(mark);
  return r;
}

ExecResult execute_unmetered(const CompiledModule& code, const VerifiedModule& module, Host& host,
                             const Message& msg) {
  if (code.metered) return vm::execute_unmetered(module, host, msg);  // not for this code
  if (!reserve_stack()) return vm::execute_unmetered(module, host, msg);
  const CompiledModule* outer = tl_code;
  tl_code = &code;
  ExecResult r = run_call(module, host, msg, false, &jit_loop, nullptr);
  tl_code = outer;
  return r;
}

namespace {

class Tier final : public ExecutionTier {
 public:
  Tier(std::unique_ptr<Compiler> compiler, TierOptions options)
      : compiler_(std::move(compiler)), options_(options) {
    if (!options_.synchronous) worker_ = std::thread([this] { work(); });
  }
  ~Tier() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (worker_.joinable()) worker_.join();
  }

  ExecResult execute(const std::shared_ptr<const VerifiedModule>& module, Host& host,
                     const Message& msg) override {
    std::shared_ptr<const CompiledModule> code;
    bool compile_now = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      Entry& e = entry(*module);
      code = e.code;
      if (!code && options_.synchronous && !e.failed && e.gas >= e.threshold) {
        compile_now = true;
        e.failed = true;  // until it succeeds: one attempt
      }
    }
    if (compile_now) code = compile(module);
    if (code) {
      if (options_.compiled_calls) ++*options_.compiled_calls;
      return jit::execute(*code, *module, host, msg);
    }
    ExecResult r = vm::execute(*module, host, msg);
    std::lock_guard<std::mutex> lock(mu_);
    Entry& e = entry(*module);
    e.gas += std::max<int64_t>(0, msg.gas - r.gas_left);
    if (!options_.synchronous && !e.queued && !e.code && e.gas >= e.threshold) {
      e.queued = true;
      queue_.push_back(module);
      cv_.notify_one();
    }
    return r;
  }

  void verified(const std::shared_ptr<const VerifiedModule>& module) override {
    if (!options_.compile_at_deploy) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      Entry& e = entries_[module->hash()];
      if (e.code || e.queued || e.failed) return;
      e.queued = true;
      if (!options_.synchronous) {
        queue_.push_back(module);
        cv_.notify_one();
        return;
      }
    }
    compile(module);
  }

 private:
  // Per code hash. The compiled code refers to the module it was compiled
  // from (its instructions' addresses), so the entry keeps that module:
  // code compiled from one chain's module runs another chain's module of the
  // same hash (the same instructions) safely after the first chain is gone.
  struct Entry {
    int64_t gas = 0;         // used by the module's calls on the interpreter
    int64_t threshold = -1;  // the gas after which it is compiled (TierOptions)
    bool queued = false;
    bool failed = false;
    std::shared_ptr<const VerifiedModule> module;
    std::shared_ptr<const CompiledModule> code;
  };

  std::shared_ptr<const CompiledModule> compile(
      const std::shared_ptr<const VerifiedModule>& module) {
    std::string why;
    auto code = compiler_->compile(*module, &why);
    std::lock_guard<std::mutex> lock(mu_);
    Entry& e = entries_[module->hash()];
    if (code) {
      e.module = module;
      e.code = code;
      e.failed = false;
      if (options_.compiled_modules) ++*options_.compiled_modules;
      if (options_.cached_modules && loaded_from_cache(*code)) ++*options_.cached_modules;
    } else {
      e.failed = true;
      std::fprintf(stderr, "writ jit: module %s stays on the interpreter: %s\n",
                   module->hash().hex().c_str(), why.c_str());
    }
    return code;
  }

  // REQUIRES: mu_ held.
  Entry& entry(const VerifiedModule& module) {
    Entry& e = entries_[module.hash()];
    if (e.threshold < 0) {
      size_t bytes = 0;
      for (const auto& f : module.module().functions) bytes += f.code.size();
      const auto kb = static_cast<int64_t>((bytes + 1023) / 1024);
      const int64_t per_kb = options_.threshold_gas_per_kb;
      e.threshold = std::max(options_.threshold_gas,
                             per_kb > 0 && kb > INT64_MAX / per_kb ? INT64_MAX : per_kb * kb);
    }
    return e;
  }

  void work() {
    // Compiling only makes later calls faster: the thread takes the CPU time
    // that the node's own work leaves (nice 19), so that a compilation never
    // slows the blocks being executed (docs/jit.md, "Tiering"). Named for
    // `top -H` and the test that checks it.
    (void)pthread_setname_np(pthread_self(), kCompileThreadName);
    (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kCompileThreadNice);
    for (;;) {
      std::shared_ptr<const VerifiedModule> next;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
        if (stop_) return;
        next = queue_.front();
        queue_.pop_front();
      }
      compile(next);
    }
  }

  std::unique_ptr<Compiler> compiler_;
  TierOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<CodeHash, Entry> entries_;
  std::deque<std::shared_ptr<const VerifiedModule>> queue_;
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace

std::shared_ptr<ExecutionTier> make_tier(TierOptions options, std::string* error) {
  auto compiler = Compiler::create(error, {.cache_dir = options.cache_dir});
  if (!compiler) return nullptr;
  return std::make_shared<Tier>(std::move(compiler), options);
}

}  // namespace writ::vm::jit
