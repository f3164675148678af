// The JIT tier against the interpreter (vm/jit): the same status, function,
// pc, gas left, output and detail on every call, over the benchmark
// workloads at every gas limit that runs out somewhere different, hand
// written traps, and randomly generated programs of every opcode the JIT
// compiles (branches, loops, calls, recursion to the depth limit).
#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <pthread.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <thread>
#include <sstream>
#include <tuple>

#include "random_program.hpp"
#include "test_util.hpp"
#include "writ/vm/gas.hpp"
#include "writ/vm/jit.hpp"

namespace writ::vm::test {
namespace {

jit::Compiler& compiler() {
  static std::unique_ptr<jit::Compiler> c = [] {
    std::string err;
    auto made = jit::Compiler::create(&err);
    EXPECT_NE(made, nullptr) << err;
    return made;
  }();
  return *c;
}

std::string read_text(const std::string& path) {
  std::ifstream in(std::string(WRIT_SOURCE_DIR) + "/" + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Both : Fixture {
  std::shared_ptr<const jit::CompiledModule> code;
  std::string why;
  MemoryHost host_b;  // the JIT's host: the same contract, the same state to start
  std::shared_ptr<const VerifiedModule> module_b;
  explicit Both(const std::string& text) : Fixture(text) {
    if (!module) return;
    code = compiler().compile(*module, &why);
    auto v = host_b.deploy(kContract, assemble_bytes(text));
    if (v.ok()) module_b = v.value();
  }
  // Runs `name` on both tiers; every field of the results must agree.
  ExecResult run(const std::string& name, const std::vector<Value>& args, int64_t gas,
                 const std::string& where = "") {
    auto in = input(name, args);
    Message msg;
    msg.caller = kCaller;
    msg.self = kContract;
    msg.input = in;
    msg.gas = gas;
    ExecResult a = execute(*module, host, msg);
    ExecResult b = jit::execute(*code, *module, host_b, msg);
    EXPECT_EQ(status_name(a.status), status_name(b.status)) << where << " gas " << gas;
    EXPECT_EQ(a.func, b.func) << where << " gas " << gas;
    EXPECT_EQ(a.pc, b.pc) << where << " gas " << gas;
    EXPECT_EQ(a.gas_left, b.gas_left) << where << " gas " << gas;
    EXPECT_EQ(a.output, b.output) << where << " gas " << gas;
    EXPECT_EQ(a.detail, b.detail) << where << " gas " << gas;
    // The same effects: storage, logs.
    EXPECT_EQ(host.storage_size(), host_b.storage_size()) << where << " gas " << gas;
    for (uint64_t k = 0; k < 8; ++k)
      EXPECT_EQ(host.sload(kContract, U256::from_u64(k)),
                host_b.sload(kContract, U256::from_u64(k)))
          << where << " slot " << k;
    EXPECT_EQ(host.logs().size(), host_b.logs().size()) << where;
    for (size_t i = 0; i < std::min(host.logs().size(), host_b.logs().size()); ++i) {
      EXPECT_EQ(host.logs()[i].topics, host_b.logs()[i].topics) << where;
      EXPECT_EQ(host.logs()[i].data, host_b.logs()[i].data) << where;
    }
    return b;
  }
};

TEST(Jit, CompilesEveryWorkload) {
  for (const char* w : {"fib_rec", "fib_u256", "modexp", "sha256", "sort", "token"}) {
    Both t(read_text(std::string("bench/workloads/") + w + ".wsm"));
    EXPECT_NE(t.code, nullptr) << w << ": " << t.why;
  }
}

// Code compiled without metering (for measuring what metering costs) gives
// the unmetered interpreter's results: no gas charged, none left over.
TEST(Jit, UnmeteredCodeAgreesWithTheUnmeteredInterpreter) {
  const std::vector<std::tuple<const char*, const char*, std::vector<Value>>> calls = {
      {"fib_rec", "fib", {Value::u64(12)}},
      {"fib_u256", "fib", {Value::u64(200)}},
      {"sha256", "chain", {Value::buf(std::vector<uint8_t>(64, 3)), Value::u64(2)}},
      {"sort", "sort", {Value::u64(30), Value::u64(5)}}};
  for (const auto& [w, fn, args] : calls) {
    Both t(read_text(std::string("bench/workloads/") + w + ".wsm"));
    std::string why;
    auto code = compiler().compile(*t.module, &why, {.metered = false});
    ASSERT_NE(code, nullptr) << w << ": " << why;
    const auto input = t.input(fn, args);
    Message msg;
    msg.caller = kCaller;
    msg.self = kContract;
    msg.input = input;
    msg.gas = 100;  // far too little for metered runs
    ExecResult a = execute_unmetered(*t.module, t.host, msg);
    ExecResult b = jit::execute_unmetered(*code, *t.module, t.host_b, msg);
    EXPECT_EQ(a.status, Status::Ok) << w;
    EXPECT_EQ(status_name(a.status), status_name(b.status)) << w;
    EXPECT_EQ(a.output, b.output) << w;
    EXPECT_EQ(b.gas_left, msg.gas) << w;
    EXPECT_EQ(execute(*t.module, t.host, msg).status, Status::OutOfGas) << w;
  }
}

// The on-disk code cache: a second compiler (a restart) loads what the
// first compiled; a damaged file is compiled again and replaced; code
// compiled another way (unmetered) has a file of its own.
TEST(Jit, CompiledCodeIsCachedOnDisk) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("writ_jit_cache_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  auto files = [&] {
    std::vector<std::filesystem::path> out;
    if (std::filesystem::exists(dir))
      for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path());
    return out;
  };
  Both t(read_text("bench/workloads/fib_rec.wsm"));
  auto compile_with_new_compiler = [&](jit::CompileOptions options = {}) {
    std::string err;
    auto c = jit::Compiler::create(&err, {.cache_dir = dir.string()});
    EXPECT_NE(c, nullptr) << err;
    auto code = c->compile(*t.module, &err, options);
    EXPECT_NE(code, nullptr) << err;
    return code;
  };
  auto agrees = [&](const jit::CompiledModule& code) {
    const auto input = t.input("fib", {Value::u64(15)});
    Message msg;
    msg.caller = kCaller;
    msg.self = kContract;
    msg.input = input;
    msg.gas = 1'000'000;
    ExecResult a = execute(*t.module, t.host, msg);
    ExecResult b = jit::execute(code, *t.module, t.host_b, msg);
    EXPECT_EQ(a.status, Status::Ok);
    EXPECT_EQ(a.output, b.output);
    EXPECT_EQ(a.gas_left, b.gas_left);
    EXPECT_EQ(a.pc, b.pc);
  };

  auto first = compile_with_new_compiler();
  ASSERT_NE(first, nullptr);
  EXPECT_FALSE(jit::loaded_from_cache(*first));
  ASSERT_EQ(files().size(), 1u);
  agrees(*first);

  auto second = compile_with_new_compiler();
  ASSERT_NE(second, nullptr);
  EXPECT_TRUE(jit::loaded_from_cache(*second));
  agrees(*second);

  // Damage the object's last byte: detected by its digest, compiled again.
  const auto file = files().at(0);
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(-1, std::ios::end);
    const char last = static_cast<char>(f.get());
    f.seekp(-1, std::ios::end);
    f.put(static_cast<char>(last ^ 0x5a));
  }
  auto third = compile_with_new_compiler();
  ASSERT_NE(third, nullptr);
  EXPECT_FALSE(jit::loaded_from_cache(*third));
  agrees(*third);
  auto fourth = compile_with_new_compiler();  // the file was replaced whole
  ASSERT_NE(fourth, nullptr);
  EXPECT_TRUE(jit::loaded_from_cache(*fourth));
  agrees(*fourth);

  // A truncated file: the same.
  std::filesystem::resize_file(file, 20);
  auto fifth = compile_with_new_compiler();
  ASSERT_NE(fifth, nullptr);
  EXPECT_FALSE(jit::loaded_from_cache(*fifth));
  agrees(*fifth);

  auto unmetered = compile_with_new_compiler({.metered = false});
  ASSERT_NE(unmetered, nullptr);
  EXPECT_FALSE(jit::loaded_from_cache(*unmetered));
  EXPECT_EQ(files().size(), 2u);

  // Another module's file (the unmetered code, whole and with its own
  // digest) renamed to this one's name: refused by the key inside it,
  // compiled again and replaced (it was loaded, failed to link, and kept).
  auto read_bytes = [](const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  };
  auto write_bytes = [](const std::filesystem::path& p, const std::string& b) {
    std::ofstream(p, std::ios::binary | std::ios::trunc) << b;
    std::filesystem::permissions(
        p, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  };
  Both other(read_text("bench/workloads/sort.wsm"));
  const auto before = files();
  {
    std::string err;
    auto c = jit::Compiler::create(&err, {.cache_dir = dir.string()});
    ASSERT_NE(c, nullptr) << err;
    ASSERT_NE(c->compile(*other.module, &err), nullptr) << err;
  }
  std::filesystem::path other_file;
  for (const auto& f : files())
    if (std::find(before.begin(), before.end(), f) == before.end()) other_file = f;
  ASSERT_FALSE(other_file.empty());
  const std::string theirs = read_bytes(other_file);
  write_bytes(file, theirs);
  auto sixth = compile_with_new_compiler();
  ASSERT_NE(sixth, nullptr);
  EXPECT_FALSE(jit::loaded_from_cache(*sixth));
  agrees(*sixth);
  EXPECT_TRUE(read_bytes(file) != theirs);
  auto seventh = compile_with_new_compiler();
  ASSERT_NE(seventh, nullptr);
  EXPECT_TRUE(jit::loaded_from_cache(*seventh));
  agrees(*seventh);

  // A file with this module's key and a matching digest whose object lacks
  // the module's functions (the other module's object): it fails to link, is
  // compiled again and replaced.
  const std::string ours = read_bytes(file);
  std::string forged = ours.substr(0, 40);  // the magic and this module's key
  const std::string object = theirs.substr(72);
  std::string keyed = ours.substr(8, 32) + object;
  unsigned char digest[32];
  SHA256(reinterpret_cast<const unsigned char*>(keyed.data()), keyed.size(), digest);
  forged.append(reinterpret_cast<const char*>(digest), sizeof digest);
  forged += object;
  write_bytes(file, forged);
  auto eighth = compile_with_new_compiler();
  ASSERT_NE(eighth, nullptr);
  EXPECT_FALSE(jit::loaded_from_cache(*eighth));
  agrees(*eighth);
  EXPECT_TRUE(read_bytes(file) == ours);

  // A file past the size limit is not read, but compiled again and replaced.
  std::filesystem::resize_file(file, (size_t{256} << 20) + 1);
  auto ninth = compile_with_new_compiler();
  ASSERT_NE(ninth, nullptr);
  EXPECT_FALSE(jit::loaded_from_cache(*ninth));
  EXPECT_EQ(std::filesystem::file_size(file), ours.size());
  std::filesystem::remove_all(dir);
}

// The cache runs what it loads as machine code, so it only trusts a
// directory and files of the process's own user that no other user can
// write: it makes the directory 0700 and its files 0600, and compiles anew
// rather than load from a directory or file that others could have written.
TEST(Jit, CodeCacheTrustsOnlyItsOwnFiles) {
  const std::filesystem::path top =
      std::filesystem::temp_directory_path() / ("writ_jit_trust_" + std::to_string(getpid()));
  const std::filesystem::path dir = top / "data" / "jit-cache";
  std::filesystem::remove_all(top);
  Both t(read_text("bench/workloads/fib_rec.wsm"));
  auto mode = [](const std::filesystem::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_mode & 07777;
  };
  auto cache_files = [&] {
    std::vector<std::filesystem::path> out;
    for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path());
    return out;
  };
  // Compiles fib_rec with a new compiler on `cache`; true when it was loaded.
  auto loaded = [&](const std::filesystem::path& cache) {
    std::string err;
    auto c = jit::Compiler::create(&err, {.cache_dir = cache.string()});
    EXPECT_NE(c, nullptr) << err;
    if (!c) return false;
    auto code = c->compile(*t.module, &err);
    EXPECT_NE(code, nullptr) << err;
    return code != nullptr && jit::loaded_from_cache(*code);
  };

  const mode_t old_umask = ::umask(0);  // what the cache makes must not depend on it
  EXPECT_FALSE(loaded(dir));
  ::umask(old_umask);
  EXPECT_EQ(mode(dir), 0700u);
  ASSERT_EQ(cache_files().size(), 1u);
  const std::filesystem::path file = cache_files().at(0);
  EXPECT_EQ(mode(file), 0600u);
  EXPECT_TRUE(loaded(dir));

  // A file others could have written is not loaded: compiled again, replaced by one of mode 0600.
  ASSERT_EQ(::chmod(file.c_str(), 0666), 0);
  EXPECT_FALSE(loaded(dir));
  EXPECT_EQ(mode(file), 0600u);
  EXPECT_TRUE(loaded(dir));

  // A directory others can write is not used at all: nothing loaded, nothing written.
  ASSERT_EQ(::chmod(dir.c_str(), 0775), 0);
  std::filesystem::remove(file);
  EXPECT_FALSE(loaded(dir));
  EXPECT_TRUE(cache_files().empty());
  ASSERT_EQ(::chmod(dir.c_str(), 0700), 0);
  EXPECT_FALSE(loaded(dir));  // usable again: written
  EXPECT_TRUE(loaded(dir));

  // A symbolic link in place of an object is not followed.
  const std::filesystem::path elsewhere = top / "planted.o";
  std::filesystem::rename(file, elsewhere);
  std::filesystem::create_symlink(elsewhere, file);
  EXPECT_FALSE(loaded(dir));
  EXPECT_FALSE(std::filesystem::is_symlink(file));  // replaced by a file of its own
  EXPECT_TRUE(loaded(dir));

  // A file of another user is not loaded (root alone can give a file away).
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown(file.c_str(), 65534, 65534), 0);
    EXPECT_FALSE(loaded(dir));
    EXPECT_TRUE(loaded(dir));
  }

  // A cache path that is not a directory: compiled, never loaded.
  std::ofstream(top / "not-a-dir") << "x";
  EXPECT_FALSE(loaded(top / "not-a-dir"));
  EXPECT_FALSE(loaded(top / "not-a-dir"));
  std::filesystem::remove_all(top);
}

// The tier compiles a module once its interpreted calls have used
// threshold_gas_per_kb for each KB (begun) of its code, and not before.
TEST(Jit, TierThresholdScalesWithCodeSize) {
  Both t(read_text("bench/workloads/fib_rec.wsm"));
  std::atomic<uint64_t> compiled_calls{0};
  jit::TierOptions o;
  o.synchronous = true;
  o.threshold_gas = 0;
  o.threshold_gas_per_kb = 300'000;
  o.compiled_calls = &compiled_calls;
  std::string err;
  auto tier = jit::make_tier(o, &err);
  ASSERT_NE(tier, nullptr) << err;
  size_t bytes = 0;
  for (const auto& f : t.module->module().functions) bytes += f.code.size();
  const int64_t threshold = 300'000 * static_cast<int64_t>((bytes + 1023) / 1024);
  const auto input = t.input("fib", {Value::u64(12)});
  Message msg;
  msg.caller = kCaller;
  msg.self = kContract;
  msg.input = input;
  msg.gas = 10'000'000;
  int64_t interpreted = 0;
  ExecResult first = execute(*t.module, t.host, msg);
  ASSERT_EQ(first.status, Status::Ok);
  for (int call = 0; call < 1000 && compiled_calls.load() == 0; ++call) {
    ExecResult r = tier->execute(t.module, t.host, msg);
    EXPECT_EQ(r.output, first.output);
    EXPECT_EQ(r.gas_left, first.gas_left);
    if (compiled_calls.load() == 0) interpreted += msg.gas - r.gas_left;
  }
  EXPECT_EQ(compiled_calls.load(), 1u);
  EXPECT_GE(interpreted, threshold);
  EXPECT_LT(interpreted, threshold + (msg.gas - first.gas_left));
}

// A background compilation must not take CPU time from the blocks being
// executed (on two cores, compiling the risk engine, 1.5 s of LLVM, made
// scored payments 7% slower): the tier's compile thread runs at the lowest
// priority. Found by its name among this process's threads.
TEST(Jit, BackgroundCompilationRunsAtTheLowestPriority) {
  namespace fs = std::filesystem;
  const auto compile_threads = [] {
    std::vector<pid_t> tids;
    for (const auto& task : fs::directory_iterator("/proc/self/task")) {
      std::ifstream comm(task.path() / "comm");
      std::string name;
      std::getline(comm, name);
      if (name == jit::kCompileThreadName) tids.push_back(std::stoi(task.path().filename()));
    }
    return tids;
  };
  ASSERT_TRUE(compile_threads().empty());
  const int mine = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
  std::string err;
  auto tier = jit::make_tier({}, &err);
  ASSERT_NE(tier, nullptr) << err;
  // The thread names itself and lowers its priority as it starts.
  std::vector<pid_t> tids;
  int nice = 0;
  for (int wait = 0; wait < 500; ++wait) {
    tids = compile_threads();
    if (tids.size() == 1) {
      errno = 0;
      nice = getpriority(PRIO_PROCESS, static_cast<id_t>(tids[0]));
      if (errno == 0 && nice == jit::kCompileThreadNice) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(tids.size(), 1u);
  EXPECT_EQ(nice, 19);
  // The thread that made the tier keeps its own priority.
  EXPECT_EQ(getpriority(PRIO_PROCESS, static_cast<id_t>(gettid())), mine);
  tier.reset();
  EXPECT_TRUE(compile_threads().empty());
}

// Frames larger than kMaxStackSlots / kMaxFrames: the register stack runs
// out before the depth limit, on both tiers, with the same trap.
TEST(Jit, RegisterStackExhaustionAgrees) {
  std::string text = ".func big(u64) -> (u64) export\n  .regs u64";
  for (int k = 0; k < 300; ++k) text += " u256";
  text += "\n  addi r1, r0, 1\n  zext r2, r1\n  call big, r1, r1\n  ret r1\n.end\n";
  Both t(text);
  ASSERT_NE(t.code, nullptr) << t.why;
  auto r = t.run("big", {Value::u64(0)}, 1'000'000'000, "big");
  EXPECT_EQ(r.status, Status::CallDepth);
  EXPECT_EQ(r.detail, "register stack exhausted");
}

// Modules that verify but are hard to compile: a function past the
// instruction limit stays on the interpreter (the tier gives the
// interpreter's result); the largest register file with thousands of
// blocks compiles and agrees.
TEST(Jit, PathologicalModulesCompileOrStayOnTheInterpreter) {
  std::string longest = ".func long(u64) -> (u64) export\n";
  for (size_t k = 0; k <= jit::kMaxFunctionInsns; ++k) longest += "  addi r0, r0, 3\n";
  longest += "  ret r0\n.end\n";
  Fixture lf(longest);
  ASSERT_NE(lf.module, nullptr);
  std::string why;
  EXPECT_EQ(compiler().compile(*lf.module, &why), nullptr);
  EXPECT_NE(why.find("past the JIT's limit of 4000"), std::string::npos) << why;
  jit::TierOptions o;
  o.synchronous = true;
  o.threshold_gas = 0;
  o.threshold_gas_per_kb = 0;
  std::atomic<uint64_t> compiled{0};
  o.compiled_calls = &compiled;
  auto tier = jit::make_tier(o, &why);
  ASSERT_NE(tier, nullptr) << why;
  const auto input = lf.input("long", {Value::u64(5)});
  Message msg;
  msg.caller = kCaller;
  msg.self = kContract;
  msg.input = input;
  msg.gas = 1'000'000;
  ExecResult a = execute(*lf.module, lf.host, msg);
  ExecResult b = tier->execute(lf.module, lf.host, msg);
  EXPECT_EQ(a.status, Status::Ok);
  EXPECT_EQ(a.output, b.output);
  EXPECT_EQ(a.gas_left, b.gas_left);
  EXPECT_EQ(compiled.load(), 0u);

  // Functions each under the limit, more than kMaxModuleInsns in all.
  std::string many;
  for (int f = 0; f < 6; ++f) {
    many += ".func f" + std::to_string(f) + "(u64) -> (u64) export\n";
    for (int k = 0; k < 3500; ++k) many += "  addi r0, r0, 1\n";
    many += "  ret r0\n.end\n";
  }
  Fixture mf(many);
  ASSERT_NE(mf.module, nullptr);
  EXPECT_EQ(compiler().compile(*mf.module, &why), nullptr);
  EXPECT_NE(why.find("the module has 21006 instructions, past the JIT's limit of 20000"),
            std::string::npos)
      << why;

  // 4,096 registers (4,000 of them u256) and 500 diamonds of blocks.
  std::string wide = ".func wide(u64, u256) -> (u256) export\n  .regs u64 u64";
  for (int k = 0; k < 4000; ++k) wide += " u256";
  for (int k = 0; k < 92; ++k) wide += " u64";
  wide += "\n";
  for (int k = 0; k < 500; ++k) {
    const std::string w = "r" + std::to_string(4 + k % 4000);
    const std::string next = "r" + std::to_string(4 + (k + 1) % 4000);
    wide += "  andi r2, r0, " + std::to_string(1 << (k % 7)) + "\n  br_if r2, a" +
            std::to_string(k) + "\n  wadd " + next + ", " + w + ", r1\n  jmp b" +
            std::to_string(k) + "\na" + std::to_string(k) + ":\n  wxor " + next + ", " + w +
            ", r1\nb" + std::to_string(k) + ":\n  addi r0, r0, 7\n";
  }
  wide += "  ret r" + std::to_string(4 + 500 % 4000) + "\n.end\n";
  Both t(wide);
  ASSERT_NE(t.code, nullptr) << t.why;
  for (int64_t gas : {1'000'000, 20'000, 5'000})
    t.run("wide", {Value::u64(11), Value::u256(U256::from_u64(0x1234567))}, gas, "wide");
}

// Unrolling a recursion copies the function into itself at each of its own
// call sites, twice over: a function with many of them would multiply its
// code by their count squared. Such a function is unrolled less or not at
// all (the JIT's budget), compiles, and agrees with the interpreter.
TEST(Jit, RecursionWithManyCallSitesCompilesAndAgrees) {
  std::string text =
      ".func many(u64) -> (u64) export\n  .regs u64 u64 u64\n"
      "  br_ifnot r0, base\n  addi r1, r0, -1\n";
  for (int k = 0; k < 29; ++k) text += "  call many, r1, r2\n  add r3, r3, r2\n";
  text += "  ret r3\nbase:\n  const r3, 1\n  ret r3\n.end\n";
  Both t(text);
  ASSERT_NE(t.code, nullptr) << t.why;
  for (uint64_t n : {0, 1, 2, 3}) {
    const ExecResult r = t.run("many", {Value::u64(n)}, 100'000'000, "n " + std::to_string(n));
    EXPECT_EQ(r.status, Status::Ok);
  }
  for (int64_t gas : {0, 50, 700, 5'000, 60'000}) t.run("many", {Value::u64(3)}, gas, "out of gas");
}

// Buffers and storage: insertion sort in a buffer and token transfers in a
// storage map, the same results and effects at every gas limit.
TEST(Jit, BufferAndStorageWorkloadsAgree) {
  Both sort(read_text("bench/workloads/sort.wsm"));
  ASSERT_NE(sort.code, nullptr) << sort.why;
  for (uint64_t n : {0, 1, 2, 10, 100})
    sort.run("sort", {Value::u64(n), Value::u64(42)}, 10'000'000, "sort");
  for (int64_t gas = 0; gas < 20'000; gas += 97)
    sort.run("sort", {Value::u64(40), Value::u64(7)}, gas, "sort");
  Both sha(read_text("bench/workloads/sha256.wsm"));
  ASSERT_NE(sha.code, nullptr) << sha.why;
  std::vector<uint8_t> block(64, 0);
  block[0] = 0x80;
  for (uint64_t n : {0, 1, 3})
    sha.run("chain", {Value::buf(block), Value::u64(n)}, 10'000'000, "sha256");
  sha.run("chain", {Value::buf(std::vector<uint8_t>(63, 1)), Value::u64(1)}, 10'000'000,
          "sha256 short block");
  for (int64_t gas = 0; gas < 5'000; gas += 61)
    sha.run("chain", {Value::buf(block), Value::u64(2)}, gas, "sha256");
}

// A ledger in storage with events and errors: random mints, transfers
// (some short: the error, its data), burns to zero (storage deleted) and
// balance reads, from random callers, each tier on its own host; the same
// results, storage and logs after every call.
TEST(Jit, StorageEventsAndErrorsAgree) {
  Both t(R"(
.event Moved(u256 indexed, u256 indexed, u256)
.error Short(u256, u256)
.func mint(u256, u256) export
  .regs u256 u256
  wconsti r2, 0
  hash2 r2, r0, r2
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
.func move(u256, u256) -> (u64) export
  .regs u256 u256 u256 u256 u256 u256 u256 u64 u64
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
  emit Moved, r2
  timestamp r10
  ret r10
short:
  wmov r3, r6
  throw Short, r3
.end
)");
  ASSERT_NE(t.code, nullptr) << t.why;
  std::mt19937_64 rng(7);
  const U256 accounts[] = {kCaller, U256::from_u64(0xA), U256::from_u64(0xB)};
  for (int i = 0; i < 300; ++i) {
    const U256 who = accounts[rng() % 3];
    const U256 amount = U256::from_u64(rng() % 50);
    const int64_t gas = rng() % 4 == 0 ? static_cast<int64_t>(rng() % 2'000) : 1'000'000;
    switch (rng() % 3) {
      case 0:
        t.run("mint", {Value::u256(who), Value::u256(amount)}, gas, "mint");
        break;
      case 1:
        t.run("move", {Value::u256(who), Value::u256(amount)}, gas, "move");
        break;
      default:
        t.run("balance", {Value::u256(who)}, gas, "balance");
        break;
    }
    if (::testing::Test::HasFailure()) return;
  }
  EXPECT_GT(t.host.logs().size(), 10u);
}

// Compiled code tests the gas late: out of gas found after the charge that
// ran it out has the interpreter run the call again (jit::execute), from
// the host as it was, first accesses included. Here a call reads slots
// (one with a value, one without) and an account, each first access paying
// more, then loops on registers: at every limit around its cost the JIT's
// result is the interpreter's, and so is what a second call then pays (the
// accesses the first left). Were the accesses left marked for the second
// run, it would pay less for them and get further.
TEST(Jit, OutOfGasFoundLateRunsAgainFromTheSameFirstAccesses) {
  const std::string text = R"(
.func f(u64) -> (u64) export
  .regs u256 u256 u64
  wconsti r1, 1
  sload r2, r1
  wconsti r1, 2
  sload r2, r1
  balance r2, r1
again:
  eqz r3, r0
  br_if r3, done
  addi r0, r0, -1
  jmp again
done:
  ret r0
.end
)";
  Both t(text);
  ASSERT_NE(t.code, nullptr) << t.why;
  const std::vector<uint8_t> bytes = assemble_bytes(text);
  const std::vector<uint8_t> in = t.input("f", {Value::u64(40)});
  auto run = [&](MemoryHost& h, bool compiled, int64_t gas) {
    Message msg;
    msg.caller = kCaller;
    msg.self = kContract;
    msg.input = in;
    msg.gas = gas;
    return compiled ? jit::execute(*t.code, *t.module, h, msg) : execute(*t.module, h, msg);
  };
  auto fresh = [&](MemoryHost& h) {
    ASSERT_TRUE(h.deploy(kContract, bytes).ok());
    h.sstore(kContract, U256::from_u64(1), U256::from_u64(5));  // a slot with a value
  };
  int64_t needed = 0;
  {
    MemoryHost h;
    fresh(h);
    const ExecResult r = run(h, false, 1'000'000);
    ASSERT_EQ(r.status, Status::Ok);
    needed = 1'000'000 - r.gas_left;
  }
  const uint64_t reruns_before = jit::rerun_counts().reruns;
  for (int64_t gas = needed - 300; gas <= needed + 1; ++gas) {
    MemoryHost ha, hb;
    fresh(ha);
    fresh(hb);
    const ExecResult a = run(ha, false, gas), b = run(hb, true, gas);
    ASSERT_EQ(status_name(a.status), status_name(b.status)) << "gas " << gas;
    ASSERT_EQ(a.pc, b.pc) << "gas " << gas;
    ASSERT_EQ(a.gas_left, b.gas_left) << "gas " << gas;
    const ExecResult a2 = run(ha, false, 1'000'000), b2 = run(hb, false, 1'000'000);
    ASSERT_EQ(a2.gas_left, b2.gas_left) << "the second call, after gas " << gas;
  }
  EXPECT_GT(jit::rerun_counts().reruns, reruns_before + 100);
  EXPECT_EQ(jit::rerun_counts().disagreements, 0u);
}

// Recursive Fibonacci: the results, and out of gas at every limit from the
// first block to past the end (each limit stops it at a different call).
TEST(Jit, RecursiveFibonacciAgreesAtEveryGasLimit) {
  Both t(read_text("bench/workloads/fib_rec.wsm"));
  ASSERT_NE(t.code, nullptr) << t.why;
  auto r = t.run("fib", {Value::u64(20)}, 10'000'000);
  ASSERT_EQ(r.status, Status::Ok);
  EXPECT_EQ(t.results("fib", r)[0].word, U256::from_u64(6765));
  const int64_t needed = 10'000'000 - r.gas_left;
  for (int64_t gas = 0; gas <= needed + 2; gas += 1 + gas / 50) t.run("fib", {Value::u64(12)}, gas);
  for (int64_t gas = needed - 40; gas <= needed + 2; ++gas) t.run("fib", {Value::u64(20)}, gas);
}

// Where a recursion's unrolled levels end, each call goes through a guard
// (jit.cpp, lower_guard) that runs the callee's entry block and base case
// in the caller and calls the function only for the rest. Base cases on
// the branch taken and on the fall-through, with computation before the
// return, two results (returned in memory), a 256-bit result, and a linear
// recursion to the call-depth limit: the same results, traps and gas at
// every gas limit.
TEST(Jit, RecursionGuardsAgreeAtEveryGasLimit) {
  Both t(R"(
.func down(u64) -> (u64) export
  .regs u64 u64
  eqz r1, r0
  br_ifnot r1, more
  const r2, 7
  add r2, r2, r0
  ret r2
more:
  addi r1, r0, -1
  call down, r1, r2
  addi r2, r2, 3
  ret r2
.end
.func pair(u64) -> (u64, u64)
  .regs u64 u64 u64 u64 u64
  lti.u r1, r0, 2
  br_if r1, base
  addi r1, r0, -1
  call pair, r1, r2
  addi r1, r0, -2
  call pair, r1, r4
  add r2, r2, r4
  xor r3, r3, r5
  addi r3, r3, 1
  ret r2
base:
  mov r2, r0
  const r3, 5
  ret r2
.end
.func pair_mix(u64) -> (u64) export
  .regs u64 u64
  call pair, r0, r1
  xor r1, r1, r2
  ret r1
.end
.func wfib(u64) -> (u256) export
  .regs u64 u256 u256
  lti.u r1, r0, 2
  br_if r1, base
  addi r1, r0, -1
  call wfib, r1, r2
  addi r1, r0, -2
  call wfib, r1, r3
  wadd r2, r2, r3
  ret r2
base:
  zext r2, r0
  ret r2
.end
)");
  ASSERT_NE(t.code, nullptr) << t.why;
  for (const char* f : {"down", "pair_mix", "wfib"}) {
    for (uint64_t n : {0, 1, 2, 3, 4, 5, 6, 7, 11})
      EXPECT_EQ(t.run(f, {Value::u64(n)}, 10'000'000, f).status, Status::Ok) << f << " " << n;
    const ExecResult r = t.run(f, {Value::u64(9)}, 10'000'000, f);
    ASSERT_EQ(r.status, Status::Ok) << f;
    const int64_t needed = 10'000'000 - r.gas_left;
    for (int64_t gas = 0; gas <= needed + 2; ++gas) {
      t.run(f, {Value::u64(9)}, gas, f);
      if (::testing::Test::HasFailure()) return;
    }
  }
  EXPECT_EQ(t.results("down", t.run("down", {Value::u64(10)}, 10'000'000))[0].word,
            U256::from_u64(37));
  EXPECT_EQ(t.results("wfib", t.run("wfib", {Value::u64(20)}, 10'000'000))[0].word,
            U256::from_u64(6765));
  // Deeper than the call-depth limit: the trap at the same call, with the same gas.
  EXPECT_EQ(t.run("down", {Value::u64(5'000)}, 10'000'000, "deep").status, Status::CallDepth);
  EXPECT_EQ(t.run("down", {Value::u64(1'000)}, 10'000'000, "deep").status, Status::Ok);
}

// Charges that meet where a loop leaves its unchecked copies: `walk`'s loop
// exits to a block that calls `big`, whose entry (65 instructions, charged
// with its entry branch) costs more than the loop's guard keeps in hand,
// and big(0) returns at once; `outer` (it reads storage) calls `walk`;
// `deep` recurses past the call-depth limit. At every gas limit, results,
// traps and gas are the interpreter's.
TEST(Jit, LoopExitsIntoCostlyCallsAgreeAtEveryGasLimit) {
  Both t(R"(
.func sq(u64) -> (u64)
  .regs u64
  mul r1, r0, r0
  ret r1
.end
.func big(u64) -> (u64)
  .regs u64 u64
  addi r1, r0, 0
)" + [] {
    std::string adds;  // 64 instructions of the entry block
    for (int k = 0; k < 64; ++k) adds += "  addi r1, r1, 1\n";
    return adds;
  }() + R"(
  lti.u r2, r0, 1
  br_if r2, done
  addi r2, r0, -1
  call big, r2, r2
  add r1, r1, r2
done:
  ret r1
.end
.func walk(u64, u64) -> (u64) export
  .regs u64 u64 u64 u64
  lti.u r4, r0, 2
  br_if r4, leaf
  call sq, r0, r2
  mov r3, r1
loop:
  eqz r4, r3
  br_if r4, out
  addi r3, r3, -1
  jmp loop
out:
  const r4, 0
  call big, r4, r3
  add r2, r2, r3
  ret r2
leaf:
  mov r2, r0
  ret r2
.end
.func outer(u64, u64) -> (u64) export
  .regs u256 u256 u64
  wconsti r2, 0
  sload r3, r2
  call walk, r0, r4
  ret r4
.end
.func deep(u64) -> (u64) export
  .regs u64
  call big, r0, r1
  ret r1
.end
)");
  ASSERT_NE(t.code, nullptr) << t.why;
  for (const char* f : {"walk", "outer"}) {
    for (uint64_t n : {0, 1, 2, 3}) {
      for (uint64_t m : {0, 1, 7, 8, 9, 15, 16, 17}) {
        const std::vector<Value> args = {Value::u64(n), Value::u64(m)};
        const ExecResult r = t.run(f, args, 10'000'000, f);
        ASSERT_EQ(r.status, Status::Ok) << f;
        const int64_t needed = 10'000'000 - r.gas_left;
        for (int64_t gas = 0; gas <= needed + 2; ++gas) {
          t.run(f, args, gas, f);
          if (::testing::Test::HasFailure()) return;
        }
      }
    }
  }
  // Past the call-depth limit.
  EXPECT_EQ(t.run("deep", {Value::u64(2'000)}, 10'000'000, "deep").status, Status::CallDepth);
  // walk(n, m) = n^2 + big(0) for n >= 2; big(n) = n + 64 + big(n - 1).
  EXPECT_EQ(t.results("walk", t.run("walk", {Value::u64(5), Value::u64(3)}, 10'000'000))[0].word,
            U256::from_u64(25 + 64));
  EXPECT_EQ(t.results("deep", t.run("deep", {Value::u64(2)}, 10'000'000))[0].word,
            U256::from_u64(2 + 64 + 1 + 64 + 64));
}

// An instruction whose gas depends on what it does (here `transfer`, which
// pays for the account it creates) keeps its loop out of the unchecked
// copies: a guard that covers the body's fixed charges does not cover them
// once a dynamic charge has been paid, and the fixed charges after it must
// still trap where the interpreter's do.
TEST(Jit, LoopsWithDynamicChargesAgreeAtEveryGasLimit) {
  Both t(R"(
.func pay(u64, u64) -> (u64) export
  .regs u256 u256 u64 u64
  wconsti r3, 1
loop:
  eqz r5, r1
  br_if r5, out
  zext r2, r0
  transfer r4, r2, r3
  addi r0, r0, 1
  addi r1, r1, -1
  addi r4, r4, 1
  addi r4, r4, 1
  addi r4, r4, 1
  addi r4, r4, 1
  addi r4, r4, 1
  addi r4, r4, 1
  addi r4, r4, 1
  addi r4, r4, 1
  jmp loop
out:
  ret r1
.end
)");
  ASSERT_NE(t.code, nullptr) << t.why;
  for (MemoryHost* h : {&t.host, &t.host_b}) h->set_balance(kContract, shl(U256::from_u64(1), 100));
  // Every run pays fresh accounts: from 2^32 * (its gas + 1) on.
  const auto base = [](int64_t gas) { return static_cast<uint64_t>(gas + 1) << 32; };
  const auto r = t.run("pay", {Value::u64(base(10'000'000)), Value::u64(3)}, 10'000'000);
  ASSERT_EQ(r.status, Status::Ok) << r.detail;
  const int64_t needed = 10'000'000 - r.gas_left;
  ASSERT_GT(needed, 3 * kGasStorageAdded);
  for (int64_t gas = 0; gas <= needed + 2; ++gas) {
    t.run("pay", {Value::u64(base(gas)), Value::u64(3)}, gas);
    if (::testing::Test::HasFailure()) return;
  }
}

// Tight loops run as several unchecked copies of their body between gas
// guards (jit.cpp, loop versioning): insertion sort's three loops, one with
// an exit in the middle of its body, out of gas at every limit from the
// first block to past the end, so that the gas runs out in every copy, at
// every guard and in the tested code after a guard fails.
TEST(Jit, TightLoopsAgreeAtEveryGasLimit) {
  Both t(read_text("bench/workloads/sort.wsm"));
  ASSERT_NE(t.code, nullptr) << t.why;
  auto r = t.run("sort", {Value::u64(24), Value::u64(7)}, 10'000'000);
  ASSERT_EQ(r.status, Status::Ok);
  const int64_t needed = 10'000'000 - r.gas_left;
  ASSERT_GT(needed, 1000);  // hundreds of iterations: every copy is reached
  for (int64_t gas = 0; gas <= needed + 2; ++gas) {
    t.run("sort", {Value::u64(24), Value::u64(7)}, gas);
    if (::testing::Test::HasFailure()) return;
  }
}

TEST(Jit, U256WorkloadsAgree) {
  Both fib(read_text("bench/workloads/fib_u256.wsm"));
  ASSERT_NE(fib.code, nullptr) << fib.why;
  for (uint64_t n : {0, 1, 2, 93, 94, 300, 370, 371, 1000})
    fib.run("fib", {Value::u64(n)}, 10'000'000, "fib_u256");
  for (int64_t gas = 0; gas < 3'000; gas += 7) fib.run("fib", {Value::u64(100)}, gas, "fib_u256");
  Both mx(read_text("bench/workloads/modexp.wsm"));
  ASSERT_NE(mx.code, nullptr) << mx.why;
  const U256 m = U256::max();  // odd: a full-width modulus
  auto r = mx.run("modexp",
                  {Value::u64(3), Value::u256(U256::from_u64(7)),
                   Value::u256(U256::from_u64(65537)), Value::u256(sub(m, U256::from_u64(58)))},
                  10'000'000, "modexp");
  EXPECT_EQ(r.status, Status::Ok);
  mx.run("modexp",
         {Value::u64(1), Value::u256(U256::from_u64(7)), Value::u256(U256::from_u64(5)),
          Value::u256(U256::zero())},
         10'000'000, "modexp by zero");
}

// Traps at their pcs: checked arithmetic, division by zero, narrowing,
// asserts, unreachable, the internal call depth.
TEST(Jit, TrapsAgree) {
  Both t(R"(
.func over(u64, u64) -> (u64) export
  .regs u64
  add.cu r2, r0, r1
  mul.cs r2, r2, r1
  div.s r2, r2, r1
  rem.s r2, r2, r0
  ret r2
.end
.func wide(u256, u256, u64) -> (u64) export
  .regs u256 u64
  wadd.cu r3, r0, r1
  wmul.cu r3, r3, r1
  wdiv.u r3, r3, r1
  wexp.cu r3, r0, r1
  wshl r3, r3, r2
  narrow.u r4, r3
  ret r4
.end
.func checks(u64) -> (u64) export
  .regs u64
  fits.u r0, 16
  below r0, 1000
  assert r0
  lti.u r1, r0, 7
  br_if r1, stop
  ret r0
stop:
  unreachable
.end
.func deep(u64) -> (u64) export
  .regs u64
  addi r1, r0, 1
  call deep, r1, r1
  ret r1
.end
)");
  ASSERT_NE(t.code, nullptr) << t.why;
  const uint64_t big = ~uint64_t{0};
  for (auto [x, y] : std::vector<std::pair<uint64_t, uint64_t>>{
           {1, 2}, {big, 1}, {1u << 31, 1u << 31}, {5, 0}, {uint64_t{1} << 63, big}, {7, big}})
    t.run("over", {Value::u64(x), Value::u64(y)}, 1'000'000, "over");
  for (auto [x, y, s] :
       std::vector<std::tuple<U256, U256, uint64_t>>{{U256::from_u64(3), U256::from_u64(5), 0},
                                                     {U256::max(), U256::from_u64(1), 0},
                                                     {U256::from_u64(2), U256::from_u64(200), 3},
                                                     {U256::from_u64(2), U256::zero(), 0},
                                                     {U256::from_u64(9), U256::from_u64(3), 300},
                                                     {U256::from_u64(1), U256::from_u64(1), 70}})
    t.run("wide", {Value::u256(x), Value::u256(y), Value::u64(s)}, 1'000'000, "wide");
  for (uint64_t x : {0ull, 3ull, 6ull, 7ull, 999ull, 1000ull, 70000ull})
    t.run("checks", {Value::u64(x)}, 1'000'000, "checks");
  auto r = t.run("deep", {Value::u64(0)}, 100'000'000, "deep");
  EXPECT_EQ(r.status, Status::CallDepth);
  for (int64_t gas = 0; gas < 400; gas += 3) t.run("deep", {Value::u64(0)}, gas, "deep");
}

// Runs f on a new thread whose stack is `bytes` long.
void on_small_stack(size_t bytes, const std::function<void()>& f) {
  pthread_attr_t attr;
  ASSERT_EQ(pthread_attr_init(&attr), 0);
  ASSERT_EQ(pthread_attr_setstacksize(&attr, bytes), 0);
  pthread_t t;
  auto run = [](void* p) -> void* {
    (*static_cast<const std::function<void()>*>(p))();
    return nullptr;
  };
  ASSERT_EQ(pthread_create(&t, &attr, run, const_cast<std::function<void()>*>(&f)), 0);
  pthread_join(t, nullptr);
  pthread_attr_destroy(&attr);
}

// Recursion as deep as the interpreter allows, each frame keeping a
// thousand registers alive across its call: compiled code needs about as
// much native stack as the interpreter's register stack (8 MiB), more than a
// thread has. Compiled code runs on a stack of its own, so the result is
// the interpreter's on any thread.
TEST(Jit, DeepRecursionWithLargeFramesRunsOnAnyThread) {
  constexpr int kLive = 1000;
  std::string text = ".func fat(u64, u64) -> (u64) export\n  .regs u64";
  for (int k = 0; k < kLive + 1; ++k) text += " u64";
  text += "\n";
  // r2 = n - 1, r3.. = a chain from the seed; fat(n - 1, last); the sum of all after it.
  text += "  mov r3, r1\n";
  for (int k = 1; k < kLive; ++k)
    text += "  mul r" + std::to_string(3 + k) + ", r" + std::to_string(2 + k) + ", r" +
            std::to_string(2 + k) + "\n  addi r" + std::to_string(3 + k) + ", r" +
            std::to_string(3 + k) + ", " + std::to_string(k) + "\n";
  const std::string last = "r" + std::to_string(2 + kLive);
  text += "  br_ifnot r0, done\n  addi r2, r0, -1\n  call fat, r2, r2\n";
  for (int k = 0; k < kLive; ++k) text += "  add r2, r2, r" + std::to_string(3 + k) + "\n";
  text += "  ret r2\ndone:\n  ret " + last + "\n.end\n";
  Both t(text);
  ASSERT_NE(t.code, nullptr) << t.why;
  on_small_stack(1 << 20, [&] {
    auto r = t.run("fat", {Value::u64(1000), Value::u64(7)}, 1'000'000'000, "fat 1000");
    EXPECT_EQ(r.status, Status::Ok);
    t.run("fat", {Value::u64(5000), Value::u64(7)}, 1'000'000'000, "fat 5000");
  });
}

TEST(Jit, RandomProgramsAgree) {
  std::mt19937_64 rng(20261204);
  RandomProgram g([&rng] { return rng(); });
  int compiled = 0, calls = 0;
  std::map<std::string, int> statuses;
  for (int p = 0; p < 300; ++p) {
    const std::string text = g.program(10 + static_cast<int>(g.pick(60)));
    Both t(text);
    if (!t.module) continue;  // the generator wrote something the verifier refuses
    ASSERT_NE(t.code, nullptr) << t.why << "\n" << text;
    ++compiled;
    for (int k = 0; k < 6; ++k) {
      auto word = [&] {
        switch (g.pick(4)) {
          case 0:
            return U256::from_u64(g.pick(10));
          case 1:
            return U256{{g.rng(), g.rng(), g.rng(), g.rng()}};
          case 2:
            return sub(U256::zero(), U256::from_u64(g.pick(3)));
          default:
            return U256::from_u64(g.rng());
        }
      };
      const int64_t gas = k == 0 ? 50'000 : static_cast<int64_t>(g.pick(3'000));
      auto r = t.run("f",
                     {Value::u64(g.pick(3) ? g.pick(100) : g.rng()), Value::u64(g.rng() % 5),
                      Value::u256(word()), Value::u256(word())},
                     gas, "program " + std::to_string(p));
      ++statuses[std::string(status_name(r.status))];
      ++calls;
      if (::testing::Test::HasFailure()) {
        ADD_FAILURE() << text;
        return;
      }
    }
  }
  EXPECT_GT(compiled, 250);
  for (const auto& [s, n] : statuses) std::printf("%s: %d\n", s.c_str(), n);
  EXPECT_GT(statuses["Ok"], 50);
  EXPECT_GT(statuses["OutOfGas"], 50);
  EXPECT_GT(statuses["Overflow"], 10);
  EXPECT_GT(statuses["DivisionByZero"], 5);
}

}  // namespace
}  // namespace writ::vm::test
