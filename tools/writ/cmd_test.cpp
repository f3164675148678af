// `writ test`: tests written in Writ (docs/testing.md). A test contract is a
// contract with public `test_*` functions; each test runs in a session of
// its own over the genesis state (runtime::Sandbox): the test contract is
// deployed, its `setup()` runs if it has one, then the test function. A test
// passes when its function returns and every expectation it set was met.
// The helpers of stdlib/test.writ (`t().deploy`, `prank`, `warp`, ...) are
// calls to kHelpers that the runner answers (TestHooks).
#include <regex.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "args.hpp"
#include "commands.hpp"
#include "decode.hpp"
#include "project.hpp"
#include "test_world.hpp"
#include "writ/compiler/abi_format.hpp"
#include "writ/compiler/compiler.hpp"
#include "writ/contracts/system.hpp"
#include "writ/runtime/sandbox.hpp"
#include "writ/vm/abi.hpp"

namespace writ::cli {

const char* kTestHelp =
    "usage: writ test [PATH...] [--match REGEX] [--gas N] [--runs N] [--seed S]\n"
    "                 [--gas-report] [--snapshot [FILE] | --snapshot-check [FILE]] [--json]\n"
    "Runs the tests written in Writ: every public test_* function of every\n"
    "contract in the test files (with parameters: a property test, run on\n"
    "generated values), and every invariant_* function (checked after each call\n"
    "of random call sequences to the contracts the test deployed), each\n"
    "test in a fresh in-memory chain made from the genesis (the system contracts\n"
    "included). PATH is a test file or a directory of them; by default the\n"
    "project's test directory (writ.json, found from the current directory up).\n"
    "The contracts of the project's sources are deployed by tests with\n"
    "t().deploy(\"Name\", init) (stdlib/test.writ).\n"
    "  --match REGEX  only the tests whose Contract.test_name matches\n"
    "  --gas N        gas for each test function (default: the block gas limit)\n"
    "  --runs N       runs of each property test (a test_* with parameters; 256)\n"
    "  --seed S       the seed of the generated arguments and call sequences (0)\n"
    "  --invariant-runs N, --depth N\n"
    "                 sequences per invariant_* function (32), calls per sequence (16)\n"
    "  --gas-report   gas of every call the tests made, per contract and function\n"
    "  --gas-profile DIR\n"
    "                 gas per source line over the tests (run traced): DIR/gas.folded\n"
    "                 (call stacks, for flame-graph tools) and DIR/FILE.gas per source\n"
    "  --snapshot     write the gas of each test to .gas-snapshot (at the project's\n"
    "                 root), printing what changed; --snapshot-check fails instead\n"
    "                 when any test's gas differs from the file\n"
    "  --json         one JSON object: every test, its result and gas\n"
    "Prints one line per test with its gas, the reason and source line of each\n"
    "failure, then `N passed, N failed`. Exit status: 0 when every test\n"
    "passed, 1 when one failed, 2 for usage, 3 when a file does not compile.\n";

namespace {

using compiler::AbiEntry;
using compiler::ContractOutput;
using runtime::Address;
using vm::Status;
using vm::U256;
using vm::ValType;
using vm::Value;

// Where the helpers of stdlib/test.writ answer, and who deploys the tests.
const U256 kHelpers = U256::from_u64(0x7e57);
const Address kTestSender = Address::from_u256(U256::from_u64(0x7e575e4d));
constexpr int64_t kHelperGas = 100;  // what a helper call costs the test

// A helper call's signature, by the VM values of its parameters.
uint32_t helper_selector(const char* name, std::initializer_list<ValType> params) {
  return vm::selector_of(name, std::vector<ValType>(params));
}

std::string text_of(const Value& v) {
  return std::string(v.bytes.begin(), v.bytes.end());
}

// The error or event named by revert data / a log, by every known ABI.
std::string error_name(const ContractBook& book, const std::vector<uint8_t>& data) {
  if (data.size() < 4) return "";
  const uint32_t sel =
      (uint32_t{data[0]} << 24) | (uint32_t{data[1]} << 16) | (uint32_t{data[2]} << 8) | data[3];
  for (const auto& e : book.entries())
    for (const AbiEntry& err : e.contract.errors)
      if (err.selector == sel) return err.name;
  return "";
}

// --gas-report: gas used by each call, by contract and function name.
using GasReport = std::map<std::string, std::map<std::string, std::vector<uint64_t>>>;

class TestHooks final : public runtime::CallHooks {
 public:
  TestHooks(runtime::Sandbox::Session& s, ContractBook& book,
            const std::map<std::string, const ContractOutput*>& deployable)
      : s_(s), book_(book), deployable_(deployable) {}

  U256 test_contract{};
  std::string failure;          // the first broken expectation or helper misuse
  GasReport* report = nullptr;  // --gas-report: every call to a project contract
  std::vector<U256> targets;    // t().target(c): what invariant tests call
  std::vector<U256> deployed;   // t().deploy: the targets when none is named

  std::optional<vm::ExecResult> before(vm::Message& msg) override {
    if (msg.self == kHelpers) return helper(msg);
    if (!(msg.caller == test_contract)) return std::nullopt;
    // A call the test contract makes: the expectations and pranks apply.
    if (expect_revert_) {
      revert_call_ = &msg;
      revert_name_ = *expect_revert_;
      expect_revert_.reset();
    }
    if (expect_emit_) {
      emit_call_ = &msg;
      emit_name_ = *expect_emit_;
      emit_from_ = s_.log_count();
      expect_emit_.reset();
    }
    if (prank_) {
      msg.caller = *prank_;
      if (!prank_sticky_) prank_.reset();
    }
    return std::nullopt;
  }

  void after(const vm::Message& msg, vm::ExecResult& r) override {
    if (report && !(msg.self == test_contract) && msg.input.size() >= 4) {
      const ContractOutput* c = book_.at(msg.self);
      const uint32_t sel = (uint32_t{msg.input[0]} << 24) | (uint32_t{msg.input[1]} << 16) |
                           (uint32_t{msg.input[2]} << 8) | msg.input[3];
      const AbiEntry* f = c ? book_.function_of(*c, sel) : nullptr;
      const ContractBook::Entry* e = c ? book_.entry_of(c) : nullptr;
      if (f && e && !e->system && f->name.rfind("test_", 0) != 0 && f->name != "setup")
        (*report)[c->name][f->name].push_back(
            static_cast<uint64_t>(msg.gas - (r.gas_left < 0 ? 0 : r.gas_left)));
    }
    if (&msg == revert_call_) {
      revert_call_ = nullptr;
      const std::string got = r.status == Status::Revert ? error_name(book_, r.output) : "";
      if (r.status == Status::Revert && (revert_name_.empty() || got == revert_name_)) {
        r.status = Status::Ok;  // as the test expected; the VM already undid its effects
        r.output.clear();
        r.calls.clear();
        r.detail.clear();
      } else {
        fail("expected the call to revert" +
             (revert_name_.empty() ? std::string() : " with " + revert_name_) + ", but it " +
             (r.status == Status::Ok       ? std::string("succeeded")
              : r.status == Status::Revert ? "reverted with " + (got.empty() ? "unknown data" : got)
                                           : "trapped " + std::string(vm::status_name(r.status))));
      }
    }
    if (&msg == emit_call_) {
      emit_call_ = nullptr;
      bool seen = false;
      if (r.status == Status::Ok)
        for (const runtime::Log& l : s_.logs_from(emit_from_))
          for (const auto& e : book_.entries())
            for (const AbiEntry& ev : e.contract.events)
              if (!l.topics.empty() && event_topic_of(e.contract, ev) == l.topics[0].to_u256() &&
                  ev.name == emit_name_)
                seen = true;
      if (!seen) fail("expected the call to emit " + emit_name_ + ", but it did not");
    }
  }

  // Expectations set but never reached by a call: the test ends with them.
  void finish() {
    if (expect_revert_)
      fail("expect_revert(\"" + *expect_revert_ + "\") was not followed by a call");
    if (expect_emit_) fail("expect_emit(\"" + *expect_emit_ + "\") was not followed by a call");
  }

 private:
  void fail(std::string why) {
    if (failure.empty()) failure = std::move(why);
  }

  static U256 event_topic_of(const ContractOutput& c, const AbiEntry& ev) {
    for (size_t i = 0; i < c.module.events.size(); ++i)
      if (c.module.events[i].name == ev.name) return vm::event_topic(c.module.events[i]);
    return U256::zero();
  }

  vm::ExecResult answer(const vm::Message& msg, std::vector<Value> results = {}) {
    vm::ExecResult r;
    r.gas_left = msg.gas - kHelperGas;
    if (r.gas_left < 0) {
      r.status = Status::OutOfGas;
      r.gas_left = 0;
      return r;
    }
    r.output = vm::abi_encode(results);
    return r;
  }
  vm::ExecResult refuse(const vm::Message& msg, std::string why) {
    fail(why);
    vm::ExecResult r;
    r.status = Status::Revert;
    r.gas_left = msg.gas;
    r.detail = std::move(why);
    return r;
  }

  vm::ExecResult helper(const vm::Message& msg) {
    if (msg.input.size() < 4) return refuse(msg, "a call to the test helpers without a selector");
    const uint32_t sel = (uint32_t{msg.input[0]} << 24) | (uint32_t{msg.input[1]} << 16) |
                         (uint32_t{msg.input[2]} << 8) | msg.input[3];
    const auto args = msg.input.subspan(4);
    auto decode = [&](std::initializer_list<ValType> types) {
      return vm::abi_decode(std::vector<ValType>(types), args);
    };
    using enum ValType;
    if (sel == helper_selector("prank", {U256}) || sel == helper_selector("start_prank", {U256})) {
      auto a = decode({U256});
      if (!a.ok()) return refuse(msg, "prank: " + a.error().message);
      prank_ = a.value()[0].word;
      prank_sticky_ = sel == helper_selector("start_prank", {U256});
      return answer(msg);
    }
    if (sel == helper_selector("stop_prank", {})) {
      prank_.reset();
      return answer(msg);
    }
    if (sel == helper_selector("warp", {U64})) {
      auto a = decode({U64});
      if (!a.ok()) return refuse(msg, "warp: " + a.error().message);
      s_.set_timestamp(a.value()[0].word.low64());
      return answer(msg);
    }
    if (sel == helper_selector("roll", {U64})) {
      auto a = decode({U64});
      if (!a.ok()) return refuse(msg, "roll: " + a.error().message);
      s_.set_block_number(a.value()[0].word.low64());
      return answer(msg);
    }
    if (sel == helper_selector("deal", {U256, U256})) {
      auto a = decode({U256, U256});
      if (!a.ok()) return refuse(msg, "deal: " + a.error().message);
      s_.set_balance(Address::from_u256(a.value()[0].word), a.value()[1].word);
      return answer(msg);
    }
    if (sel == helper_selector("expect_revert", {Buf})) {
      auto a = decode({Buf});
      if (!a.ok()) return refuse(msg, "expect_revert: " + a.error().message);
      expect_revert_ = text_of(a.value()[0]);
      return answer(msg);
    }
    if (sel == helper_selector("expect_emit", {Buf})) {
      auto a = decode({Buf});
      if (!a.ok()) return refuse(msg, "expect_emit: " + a.error().message);
      expect_emit_ = text_of(a.value()[0]);
      return answer(msg);
    }
    if (sel == helper_selector("target", {U256})) {
      auto a = decode({U256});
      if (!a.ok()) return refuse(msg, "target: " + a.error().message);
      targets.push_back(a.value()[0].word);
      return answer(msg);
    }
    if (sel == helper_selector("deploy", {Buf, Buf})) {
      auto a = decode({Buf, Buf});
      if (!a.ok()) return refuse(msg, "deploy: " + a.error().message);
      return deploy(msg, text_of(a.value()[0]), a.value()[1].bytes);
    }
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08x", sel);
    return refuse(msg, std::string("no test helper has selector ") + buf);
  }

  vm::ExecResult deploy(const vm::Message& msg, const std::string& name,
                        std::vector<uint8_t> init) {
    auto it = deployable_.find(name);
    if (it == deployable_.end()) {
      std::string known;
      for (const auto& [n, c] : deployable_) known += (known.empty() ? "" : ", ") + n;
      return refuse(msg, "deploy: no contract " + name +
                             " in the project (known: " + (known.empty() ? "none" : known) + ")");
    }
    const ContractOutput& c = *it->second;
    const AbiEntry* ctor = nullptr;
    for (const AbiEntry& f : c.functions)
      if (f.constructor) ctor = &f;
    if (ctor && init.empty()) {
      if (!ctor->inputs.empty())
        return refuse(msg, "deploy: the constructor of " + name + " takes " +
                               std::to_string(ctor->inputs.size()) +
                               " arguments: pass call_data(\"$init(...)\", ...)");
      init = vm::call_input(ctor->selector, std::vector<Value>{});
    }
    vm::ExecResult r;
    const int64_t gas = msg.gas - kHelperGas;
    // Bound before the constructor runs, so that a trace of it is placed.
    const Address from = Address::from_u256(msg.caller);
    book_.bind(runtime::contract_address(from, s_.nonce(from)).to_u256(), &c);
    auto at = s_.deploy(Address::from_u256(msg.caller), c.bytecode, init,
                        gas > 0 ? static_cast<uint64_t>(gas) : 0, r);
    if (!at.ok()) {
      vm::ExecResult f = refuse(msg, "deploy " + name + ": " + at.error().message +
                                         (r.status == Status::Revert && !r.output.empty()
                                              ? " " + book_.revert(&c, r.output)
                                              : std::string()));
      f.gas_left = r.gas_left;
      return f;
    }
    book_.bind(at.value().to_u256(), &c);
    deployed.push_back(at.value().to_u256());
    vm::ExecResult ok = answer(msg, {Value::u256(at.value().to_u256())});
    ok.gas_left = r.gas_left - kHelperGas;
    if (ok.gas_left < 0) ok.gas_left = 0;
    return ok;
  }

  runtime::Sandbox::Session& s_;
  ContractBook& book_;
  const std::map<std::string, const ContractOutput*>& deployable_;
  std::optional<U256> prank_;
  bool prank_sticky_ = false;
  std::optional<std::string> expect_revert_, expect_emit_;
  const vm::Message* revert_call_ = nullptr;
  const vm::Message* emit_call_ = nullptr;
  std::string revert_name_, emit_name_;
  size_t emit_from_ = 0;
};

struct TestResult {
  std::string file, contract, name;
  bool passed = false;
  uint64_t gas = 0;    // property tests: the mean over their runs
  unsigned runs = 0;   // property tests: how many runs passed
  std::string note;    // invariant tests: what ran
  std::string reason;  // failures: what went wrong, then where (several lines)
};

std::string with_commas(uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

// ---- the gas profile ---------------------------------------------------------------
// --gas-profile DIR: every test runs traced (on the interpreter), and each
// unit of gas goes to the source line whose instruction spent it: a block's
// static gas to the step that enters it, a step's dynamic gas (what
// gas_left fell by beyond the next step's static charge) to that step, less
// what a call it made used inside the callee (the callee's lines have it).
// Written as DIR/gas.folded (call stack;file:line gas, the format flame-graph
// tools read) and DIR/FILE.gas (each source line with its gas).

class GasProfiler final : public runtime::CallTracer {
 public:
  explicit GasProfiler(const ContractBook& book) : book_(book) {}

  std::map<std::string, uint64_t> folded;                       // stack;file:line -> gas
  std::map<std::string, std::map<uint32_t, uint64_t>> by_line;  // file -> line -> gas

  void enter(const vm::Message& msg) override {
    Frame f;
    f.contract = book_.at(msg.self);
    if (f.contract) f.lines = table(f.contract);
    frames_.push_back(std::move(f));
  }
  void leave(const vm::Message& msg, const vm::ExecResult& r) override {
    if (frames_.empty()) return;
    Frame& f = frames_.back();
    if (f.has_last) spend(f, f.last_gas - (r.gas_left < 0 ? 0 : r.gas_left) - f.child_gas);
    const int64_t used = msg.gas - (r.gas_left < 0 ? 0 : r.gas_left);
    frames_.pop_back();
    if (!frames_.empty()) frames_.back().child_gas += used;
  }
  void on_step(const vm::TraceStep& s) override {
    if (frames_.empty()) return;
    Frame& f = frames_.back();
    if (f.has_last) spend(f, f.last_gas - (s.gas_left + s.static_gas) - f.child_gas);
    f.child_gas = 0;
    // The call stack inside the contract, by internal frame depth.
    if (f.stack.size() != s.frame_depth + 1) f.stack.resize(s.frame_depth + 1);
    f.stack[s.frame_depth] = s.func;
    f.last_gas = s.gas_left;
    f.last_func = s.func;
    f.last_pc = s.pc;
    f.has_last = true;
    spend(f, s.static_gas);
  }

 private:
  struct Frame {
    const ContractOutput* contract = nullptr;
    const LineTable* lines = nullptr;
    std::vector<uint32_t> stack;  // function indices, outermost first
    int64_t last_gas = 0, child_gas = 0;
    uint32_t last_func = 0, last_pc = 0;
    bool has_last = false;
  };

  const LineTable* table(const ContractOutput* c) {
    auto it = tables_.find(c);
    if (it == tables_.end()) it = tables_.emplace(c, std::make_unique<LineTable>(*c)).first;
    return it->second.get();
  }

  void spend(const Frame& f, int64_t gas) {
    if (gas <= 0 || !f.has_last) return;
    std::string stack;
    for (const Frame& outer : frames_) {
      const std::string name = outer.contract ? outer.contract->name : "?";
      for (uint32_t fn : outer.stack)
        stack +=
            name + "." + (outer.lines ? outer.lines->function_name(fn) : std::to_string(fn)) + ";";
      if (&outer == &f) break;
    }
    std::pair<std::string, uint32_t> where =
        f.lines ? f.lines->at(f.last_func, f.last_pc) : std::pair<std::string, uint32_t>{"", 0};
    const std::string leaf = where.first.empty() ? "pc " + std::to_string(f.last_pc)
                                                 : where.first + ":" + std::to_string(where.second);
    folded[stack + leaf] += static_cast<uint64_t>(gas);
    if (!where.first.empty()) by_line[where.first][where.second] += static_cast<uint64_t>(gas);
  }

  const ContractBook& book_;
  std::vector<Frame> frames_;
  std::map<const ContractOutput*, std::unique_ptr<LineTable>> tables_;
};

// Writes DIR/gas.folded and DIR/<file>.gas; false with `err`.
bool write_profile(const GasProfiler& prof, const std::string& dir, std::string& err) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return (err = dir + ": " + ec.message()), false;
  {
    std::ofstream out(std::filesystem::path(dir) / "gas.folded");
    for (const auto& [stack, gas] : prof.folded) out << stack << " " << gas << "\n";
    if (!out) return (err = dir + "/gas.folded: cannot write"), false;
  }
  for (const auto& [file, lines] : prof.by_line) {
    std::ifstream in(file);
    const std::filesystem::path target =
        std::filesystem::path(dir) / (std::filesystem::path(file).filename().string() + ".gas");
    std::ofstream out(target);
    out << "// gas per line of " << file << " over the tests run (writ test --gas-profile)\n";
    std::string text;
    for (uint32_t n = 1; std::getline(in, text); ++n) {
      auto it = lines.find(n);
      char g[24] = "";
      if (it != lines.end())
        std::snprintf(g, sizeof g, "%llu", static_cast<unsigned long long>(it->second));
      char num[16];
      std::snprintf(num, sizeof num, "%4u", n);
      out << std::string(12 - std::min<size_t>(12, std::strlen(g)), ' ') << g << "  " << num << "  "
          << text << "\n";
    }
    if (!out) return (err = target.string() + ": cannot write"), false;
  }
  return true;
}

// --gas-profile: the profiler every session traces into (one thread runs the tests).
GasProfiler* t_profiler = nullptr;

// A test contract deployed in a fresh session, its setup() run.
struct Prepared {
  std::unique_ptr<runtime::Sandbox::Session> s;
  std::unique_ptr<TestHooks> hooks;
  Address self;
  std::string error;  // non-empty: it could not be prepared
};

// What a failed call of `f` on the test contract says: the status or the
// decoded revert, a broken expectation, and the call chain with its source lines.
std::string explain(const ContractBook& book, const ContractOutput& c, const Prepared& p,
                    const AbiEntry& f, const vm::ExecResult& res, uint64_t gas) {
  std::string why = std::string(vm::status_name(res.status));
  if (res.status == Status::Revert && !res.output.empty())
    why = "reverted: " + book.revert(&c, res.output);
  else if (!res.detail.empty())
    why += ": " + res.detail;
  if (res.status == Status::OutOfGas)
    why += " (the function did not finish within " + with_commas(gas) + " gas; --gas sets it)";
  if (!p.hooks->failure.empty()) why += "\n" + p.hooks->failure;
  Frame top;
  top.address = p.self.to_u256();
  top.selector = f.selector;
  top.selector_known = true;
  top.status = res.status;
  top.func = res.func;
  top.pc = res.pc;
  top.detail = res.detail;
  std::string chain = format_chain(book, top, res.calls, res.calls_omitted, res.output);
  while (!chain.empty() && chain.back() == '\n') chain.pop_back();
  return why + (chain.empty() ? "" : "\n" + chain);
}

Prepared prepare(const runtime::Sandbox& box, ContractBook& book,
                 const std::map<std::string, const ContractOutput*>& deployable,
                 const ContractOutput& c, uint64_t gas, GasReport* report) {
  Prepared p;
  p.s = box.session();
  p.hooks = std::make_unique<TestHooks>(*p.s, book, deployable);
  p.hooks->report = report;
  p.s->set_hooks(p.hooks.get());
  if (t_profiler) p.s->set_tracer(t_profiler);
  vm::ExecResult r;
  book.bind(runtime::contract_address(kTestSender, p.s->nonce(kTestSender)).to_u256(), &c);
  auto at = p.s->deploy(kTestSender, c.bytecode, {}, gas, r);
  if (!at.ok()) {
    p.error = "the test contract did not deploy: " + at.error().message;
    return p;
  }
  p.self = at.value();
  p.hooks->test_contract = p.self.to_u256();
  book.bind(p.self.to_u256(), &c);
  for (const AbiEntry& f : c.functions) {
    if (f.name != "setup" || !f.inputs.empty()) continue;
    vm::ExecResult sr =
        p.s->call(kTestSender, p.self, vm::call_input(f.selector, std::vector<Value>{}), gas);
    if (sr.status != Status::Ok || !p.hooks->failure.empty())
      p.error = "setup() failed: " + explain(book, c, p, f, sr, gas);
  }
  return p;
}

// Runs one test function in a fresh session.
TestResult run_test(const runtime::Sandbox& box, ContractBook& book,
                    const std::map<std::string, const ContractOutput*>& deployable,
                    const std::string& file, const ContractOutput& c, const AbiEntry& fn,
                    uint64_t gas, const std::vector<Value>& args = {},
                    GasReport* report = nullptr) {
  TestResult t;
  t.file = file;
  t.contract = c.name;
  t.name = fn.name;
  Prepared p = prepare(box, book, deployable, c, gas, report);
  if (!p.error.empty()) {
    t.reason = p.error;
    return t;
  }
  vm::ExecResult tr = p.s->call(kTestSender, p.self, vm::call_input(fn.selector, args), gas);
  p.hooks->finish();
  t.gas = gas - static_cast<uint64_t>(tr.gas_left < 0 ? 0 : tr.gas_left);
  if (tr.status == Status::Ok && p.hooks->failure.empty()) {
    t.passed = true;
    return t;
  }
  t.reason = tr.status == Status::Ok ? p.hooks->failure : explain(book, c, p, fn, tr, gas);
  return t;
}

// ---- property tests ---------------------------------------------------------------
// A test function with parameters runs `runs` times on generated arguments
// (fresh session, setup() and all, each time). A failure is shrunk: each
// argument in turn to the smallest value that still fails (bisection). The seed is derived from
// --seed and the test's name, so runs are reproducible and a failure's line says how to replay it.

constexpr unsigned kMaxShrinkTries = 600;  // enough to bisect a few 256-bit arguments

struct Rng {
  uint64_t s;
  uint64_t next() {  // splitmix64
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t n) { return n ? next() % n : 0; }
};

// A value of at most `bits` bits: edge cases a quarter of the time, else of
// a random magnitude (small values are as likely as large ones).
U256 some_value(Rng& rng, unsigned bits) {
  const U256 max = bits >= 256 ? vm::sub(U256::zero(), U256::from_u64(1))
                               : vm::sub(vm::shl(U256::from_u64(1), bits), U256::from_u64(1));
  if (rng.below(4) == 0) {
    switch (rng.below(5)) {
      case 0:
        return U256::zero();
      case 1:
        return U256::from_u64(1);
      case 2:
        return max;
      case 3:
        return vm::sub(max, U256::from_u64(1));
      default:
        return vm::shl(U256::from_u64(1), bits - 1);
    }
  }
  const unsigned width = 1 + static_cast<unsigned>(rng.below(bits));
  U256 v{{rng.next(), rng.next(), rng.next(), rng.next()}};
  return width >= 256
             ? v
             : vm::bit_and(v, vm::sub(vm::shl(U256::from_u64(1), width), U256::from_u64(1)));
}

// Sign-extends the low `bits` of v (a signed type's value in its register).
U256 as_signed(const U256& v, unsigned bits) {
  if (bits >= 256) return v;
  const bool negative = !vm::bit_and(vm::shr(v, bits - 1), U256::from_u64(1)).is_zero();
  const U256 low = vm::bit_and(v, vm::sub(vm::shl(U256::from_u64(1), bits), U256::from_u64(1)));
  return negative ? vm::bit_or(low, vm::shl(vm::sub(U256::zero(), U256::from_u64(1)), bits)) : low;
}

// Appends a generated value of `p` (its VM values) to `out`; false with the
// reason for a type property tests do not generate (buffers).
bool generate(const compiler::AbiParam& p, Rng& rng, std::vector<Value>& out, std::string& err) {
  if (!p.fields.empty()) {
    for (const compiler::AbiParam& f : p.fields)
      if (!generate(f, rng, out, err)) return false;
    return true;
  }
  if (p.flat.size() != 1 || p.flat[0] == ValType::Buf) {
    err = "parameter " + p.name + " of type " + p.type +
          ": property tests generate scalars, enums and structs of them";
    return false;
  }
  const std::string& t = p.type;
  auto u64 = [&](uint64_t v) { out.push_back(Value::u64(v)); };
  auto u256 = [&](const U256& v) { out.push_back(Value::u256(v)); };
  if (!p.variants.empty()) return u64(rng.below(p.variants.size())), true;
  if (t == "bool") return u64(rng.below(2)), true;
  if (t == "u8") return u64(some_value(rng, 8).low64()), true;
  if (t == "u16") return u64(some_value(rng, 16).low64()), true;
  if (t == "u32") return u64(some_value(rng, 32).low64()), true;
  if (t == "u64") return u64(some_value(rng, 64).low64()), true;
  if (t == "i64") return u64(some_value(rng, 64).low64()), true;
  if (t == "timestamp" || t == "duration") return u64(some_value(rng, 40).low64()), true;
  if (t == "u128") return u256(some_value(rng, 128)), true;
  if (t == "i128") return u256(as_signed(some_value(rng, 128), 128)), true;
  if (p.flat[0] == ValType::U256)
    return u256(some_value(rng, 256)), true;  // u256, i256, words, money, addresses
  err = "parameter " + p.name + " of type " + t + ": property tests do not generate it";
  return false;
}

// For each VM value generate() makes of `p`: N for a signed integer iN (its
// values negative when bit N - 1 is set), 0 for anything else.
void signed_widths(const compiler::AbiParam& p, std::vector<unsigned>& out) {
  if (!p.fields.empty()) {
    for (const compiler::AbiParam& f : p.fields) signed_widths(f, out);
    return;
  }
  out.push_back(p.variants.empty() ? compiler::signed_bits(p.type) : 0u);
}

// What a failure is, for shrinking: its first word (the status or
// "reverted:") and the innermost place it names. A smaller argument must
// fail the same way: not, say, trap Overflow at the entry because it is out
// of its type's range.
std::string failure_kind(const std::string& reason) {
  std::string kind = reason.substr(0, reason.find_first_of(" \n("));
  size_t at = reason.rfind("\n     at ");
  if (at != std::string::npos) kind += reason.substr(at, reason.find('\n', at + 1) - at);
  return kind;
}

// The arguments, shown by their Writ types: "(a: 5, b: 0x10)".
std::string show_args(const AbiEntry& fn, const std::vector<Value>& args) {
  std::string s = "(";
  size_t i = 0;
  for (size_t k = 0; k < fn.inputs.size(); ++k)
    s += (k ? ", " : "") + fn.inputs[k].name + ": " + compiler::format_param(fn.inputs[k], args, i);
  return s + ")";
}

uint64_t name_hash(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

constexpr uint64_t kDefaultRuns = 256, kDefaultInvariantRuns = 32, kDefaultDepth = 16;

// The command that runs one test again as it ran: its seed, and every
// option that changes what runs (those left at their defaults left out).
std::string replay_command(uint64_t seed, uint64_t gas, const std::string& options,
                           const std::string& test) {
  char seed_text[24];
  std::snprintf(seed_text, sizeof seed_text, "0x%llx", static_cast<unsigned long long>(seed));
  return std::string("writ test --seed ") + seed_text +
         (gas == runtime::kBlockGasLimit ? "" : " --gas " + std::to_string(gas)) + options +
         " --match '" + test + "$'";
}

TestResult run_property(const runtime::Sandbox& box, ContractBook& book,
                        const std::map<std::string, const ContractOutput*>& deployable,
                        const std::string& file, const ContractOutput& c, const AbiEntry& fn,
                        uint64_t gas, unsigned runs, uint64_t seed, GasReport* report) {
  const uint64_t test_seed = seed ^ name_hash(c.name + "." + fn.name);
  Rng rng{test_seed};
  uint64_t gas_sum = 0;
  for (unsigned run = 0; run < runs; ++run) {
    std::vector<Value> args;
    std::string err;
    for (const compiler::AbiParam& p : fn.inputs)
      if (!generate(p, rng, args, err)) {
        TestResult t;
        t.file = file;
        t.contract = c.name;
        t.name = fn.name;
        t.reason = err;
        return t;
      }
    TestResult t = run_test(box, book, deployable, file, c, fn, gas, args, report);
    if (t.passed) {
      gas_sum += t.gas;
      continue;
    }
    // Shrink each argument in turn: the value nearest 0 (of the same sign)
    // for which the test still fails the same way, by bisection of its
    // magnitude between a passing value and a failing one (exact when
    // failing is monotone in the argument).
    std::vector<unsigned> widths;
    for (const compiler::AbiParam& p : fn.inputs) signed_widths(p, widths);
    const std::string kind = failure_kind(t.reason);
    unsigned tries = 0;
    auto fails_with = [&](size_t k, const U256& value) {
      std::vector<Value> trial = args;
      trial[k].word = value;
      ++tries;
      TestResult again = run_test(box, book, deployable, file, c, fn, gas, trial);
      if (again.passed || failure_kind(again.reason) != kind) return false;
      args = std::move(trial);
      t = std::move(again);
      return true;
    };
    for (size_t k = 0; k < args.size() && tries < kMaxShrinkTries; ++k) {
      if (args[k].type == ValType::Buf || args[k].word.is_zero() || fails_with(k, U256::zero()))
        continue;
      // A negative value of an iN: its magnitude shrinks, its sign stays (an
      // i64 is 64 bits of two's complement, a wider one 256).
      const unsigned bits = k < widths.size() ? widths[k] : 0;
      const bool negative =
          bits > 0 && !vm::bit_and(vm::shr(args[k].word, bits - 1), U256::from_u64(1)).is_zero();
      const U256 mask64 = U256::from_u64(UINT64_MAX);
      auto value_of = [&](const U256& magnitude) {
        if (!negative) return magnitude;
        const U256 v = vm::neg(magnitude);
        return args[k].type == ValType::U64 ? vm::bit_and(v, mask64) : v;
      };
      const U256 start =
          negative ? (args[k].type == ValType::U64 ? vm::bit_and(vm::neg(args[k].word), mask64)
                                                   : vm::neg(args[k].word))
                   : args[k].word;
      U256 pass = U256::zero(), fail = start;
      while (tries < kMaxShrinkTries && vm::lt(U256::from_u64(1), vm::sub(fail, pass))) {
        const U256 mid = vm::add(pass, vm::shr(vm::sub(fail, pass), 1));
        if (fails_with(k, value_of(mid)))
          fail = mid;
        else
          pass = mid;
      }
      args[k].word = value_of(fail);
    }
    t.reason =
        "failed on run " + std::to_string(run + 1) + " of " + std::to_string(runs) + " with " +
        show_args(fn, args) + " (shrunk in " + std::to_string(tries) + " tries; replay: " +
        replay_command(seed, gas, runs == kDefaultRuns ? "" : " --runs " + std::to_string(runs),
                       c.name + "." + fn.name) +
        ")\n" + t.reason;
    return t;
  }
  TestResult t;
  t.file = file;
  t.contract = c.name;
  t.name = fn.name;
  t.passed = true;
  t.runs = runs;
  t.gas = runs ? gas_sum / runs : 0;
  return t;
}

// ---- invariant tests --------------------------------------------------------------
// A public invariant_* function (no parameters) is checked after every call
// of `runs` random sequences of `depth` calls, each in a fresh session after
// setup(): calls of the target contracts' functions that change state
// (t().target(c) in setup(), else every contract the test deployed), with
// generated arguments, from a few callers. A sequence that breaks the
// invariant is shrunk by dropping calls while it still breaks it.

struct Step {
  U256 target;
  const ContractOutput* contract = nullptr;
  const AbiEntry* fn = nullptr;
  std::vector<Value> args;
  Address from;
};

// The callers of the random calls: four plain accounts and the test contract.
std::vector<Address> actors_of(const Prepared& p) {
  std::vector<Address> a;
  for (uint64_t k = 1; k <= 4; ++k) a.push_back(Address::from_u256(U256::from_u64(0xac7000 + k)));
  a.push_back(p.self);
  return a;
}

std::string show_step(const Step& st) {
  std::string text = st.contract->name + "." + st.fn->name + show_args(*st.fn, st.args);
  return text + " from " + vm::to_hex_string(st.from.to_u256());
}

// Replays `steps` in a fresh session, checking the invariant after each; the
// index of the step after which it broke (its failure in `why`), or -1.
int replay(const runtime::Sandbox& box, ContractBook& book,
           const std::map<std::string, const ContractOutput*>& deployable, const ContractOutput& c,
           const AbiEntry& inv, uint64_t gas, const std::vector<Step>& steps, std::string& why,
           size_t* reverted = nullptr, GasReport* report = nullptr) {
  Prepared p = prepare(box, book, deployable, c, gas, report);
  if (!p.error.empty()) {
    why = p.error;
    return 0;
  }
  for (size_t i = 0; i < steps.size(); ++i) {
    const Step& st = steps[i];
    vm::ExecResult r = p.s->call(st.from, Address::from_u256(st.target),
                                 vm::call_input(st.fn->selector, st.args), gas);
    if (reverted && r.status != Status::Ok) ++*reverted;
    vm::ExecResult check =
        p.s->call(kTestSender, p.self, vm::call_input(inv.selector, std::vector<Value>{}), gas);
    if (check.status != Status::Ok) {
      why = explain(book, c, p, inv, check, gas);
      return static_cast<int>(i);
    }
  }
  return -1;
}

TestResult run_invariant(const runtime::Sandbox& box, ContractBook& book,
                         const std::map<std::string, const ContractOutput*>& deployable,
                         const std::string& file, const ContractOutput& c, const AbiEntry& inv,
                         uint64_t gas, unsigned runs, unsigned depth, uint64_t seed,
                         GasReport* report) {
  TestResult t;
  t.file = file;
  t.contract = c.name;
  t.name = inv.name;
  Rng rng{seed ^ name_hash(c.name + "." + inv.name)};
  // What to call: found once, in a prepared session.
  Prepared p = prepare(box, book, deployable, c, gas, nullptr);
  if (!p.error.empty()) {
    t.reason = p.error;
    return t;
  }
  std::vector<U256> targets = p.hooks->targets.empty() ? p.hooks->deployed : p.hooks->targets;
  struct Callable {
    U256 target;
    const ContractOutput* contract;
    const AbiEntry* fn;
  };
  std::vector<Callable> callable;
  for (const U256& target : targets) {
    const ContractOutput* tc = book.at(target);
    if (!tc) continue;
    for (const AbiEntry& f : tc->functions) {
      if (f.constructor || f.view) continue;
      bool scalar = true;
      for (const compiler::AbiParam& in : f.inputs)
        for (ValType v : in.flat) scalar = scalar && v != ValType::Buf;
      if (scalar) callable.push_back({target, tc, &f});
    }
  }
  if (callable.empty()) {
    t.reason =
        "no function to call: deploy a contract with t().deploy (or name one with t().target) in "
        "setup(), with public functions that change state and take scalar arguments";
    return t;
  }
  const std::vector<Address> actors = actors_of(p);
  size_t calls = 0, reverted = 0;
  for (unsigned run = 0; run < runs; ++run) {
    std::vector<Step> steps;
    for (unsigned d = 0; d < depth; ++d) {
      const Callable& pick = callable[rng.below(callable.size())];
      Step st{pick.target, pick.contract, pick.fn, {}, actors[rng.below(actors.size())]};
      std::string err;
      for (const compiler::AbiParam& in : pick.fn->inputs) (void)generate(in, rng, st.args, err);
      steps.push_back(std::move(st));
    }
    std::string why;
    int broke = replay(box, book, deployable, c, inv, gas, steps, why, &reverted, report);
    calls += broke < 0 ? steps.size() : static_cast<size_t>(broke) + 1;
    if (broke < 0) continue;
    steps.resize(static_cast<size_t>(broke) + 1);
    const size_t found = steps.size();
    // Shrink: drop each call in turn while the invariant still breaks.
    unsigned tries = 0;
    for (size_t i = 0; i < steps.size() && tries < kMaxShrinkTries;) {
      std::vector<Step> fewer = steps;
      fewer.erase(fewer.begin() + static_cast<long>(i));
      std::string why2;
      ++tries;
      const int b = fewer.empty() ? -1 : replay(box, book, deployable, c, inv, gas, fewer, why2);
      if (b >= 0) {
        fewer.resize(static_cast<size_t>(b) + 1);
        steps = std::move(fewer);
        why = std::move(why2);
      } else {
        ++i;
      }
    }
    // Then each argument of the calls left, to the smallest value that still
    // breaks it (bisection, as for property tests).
    auto still_breaks = [&](size_t i, size_t k, const U256& value) {
      std::vector<Step> trial = steps;
      trial[i].args[k].word = value;
      std::string why2;
      ++tries;
      const int b = replay(box, book, deployable, c, inv, gas, trial, why2);
      if (b < 0) return false;
      trial.resize(static_cast<size_t>(b) + 1);
      steps = std::move(trial);
      why = std::move(why2);
      return true;
    };
    for (size_t i = 0; i < steps.size() && tries < kMaxShrinkTries; ++i)
      for (size_t k = 0; i < steps.size() && k < steps[i].args.size() && tries < kMaxShrinkTries;
           ++k) {
        if (steps[i].args[k].word.is_zero() || still_breaks(i, k, U256::zero())) continue;
        U256 pass = U256::zero(), fail = steps[i].args[k].word;
        while (tries < kMaxShrinkTries && i < steps.size() &&
               vm::lt(U256::from_u64(1), vm::sub(fail, pass))) {
          const U256 mid = vm::add(pass, vm::shr(vm::sub(fail, pass), 1));
          if (still_breaks(i, k, mid))
            fail = mid;
          else
            pass = mid;
        }
      }
    std::string seq;
    for (size_t i = 0; i < steps.size(); ++i)
      seq += "\n  " + std::to_string(i + 1) + ". " + show_step(steps[i]);
    t.reason =
        "broken on run " + std::to_string(run + 1) + " after " + std::to_string(steps.size()) +
        " call" + (steps.size() == 1 ? "" : "s") + " (shrunk from " + std::to_string(found) +
        "; replay: " +
        replay_command(
            seed, gas,
            (runs == kDefaultInvariantRuns ? "" : " --invariant-runs " + std::to_string(runs)) +
                (depth == kDefaultDepth ? "" : " --depth " + std::to_string(depth)),
            c.name + "." + inv.name) +
        "):" + seq + "\n" + why;
    return t;
  }
  t.passed = true;
  t.runs = runs;
  t.note = "runs " + std::to_string(runs) + " x " + std::to_string(depth) + " calls, " +
           std::to_string(calls ? reverted * 100 / calls : 0) + "% reverted";
  return t;
}

struct GasStats {
  uint64_t calls = 0, min = 0, mean = 0, median = 0, max = 0;
};

GasStats stats_of(std::vector<uint64_t> v) {
  GasStats g;
  if (v.empty()) return g;
  std::sort(v.begin(), v.end());
  g.calls = v.size();
  g.min = v.front();
  g.max = v.back();
  uint64_t sum = 0;
  for (uint64_t x : v) sum += x;
  g.mean = sum / v.size();
  g.median = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  return g;
}

void print_gas_report(const GasReport& report) {
  std::printf("\ngas report: the calls the tests made to the project's contracts\n");
  if (report.empty()) std::printf("  (no calls)\n");
  for (const auto& [contract, fns] : report) {
    std::printf("  %-28s %8s %12s %12s %12s %12s\n", contract.c_str(), "calls", "min", "mean",
                "median", "max");
    for (const auto& [fname, samples] : fns) {
      const GasStats g = stats_of(samples);
      std::printf("    %-26s %8s %12s %12s %12s %12s\n", fname.c_str(),
                  with_commas(g.calls).c_str(), with_commas(g.min).c_str(),
                  with_commas(g.mean).c_str(), with_commas(g.median).c_str(),
                  with_commas(g.max).c_str());
    }
  }
  std::printf("\n");
}

// The gas snapshot: a line "Contract.test_name gas" per passing test, sorted,
// for review. Writing prints what changed; checking fails (exit 1) on any
// difference and writes nothing. A run of some tests only (`partial`:
// --match, or test files named) leaves the lines of the others as they are.
int check_snapshot(const std::string& path, std::map<std::string, uint64_t> now,
                   const std::set<std::string>& ran, bool partial, bool write, bool quiet) {
  std::map<std::string, uint64_t> before;
  std::vector<uint8_t> bytes;
  std::string err;
  const bool had = read_file(path, bytes, err);
  if (!had && !write) {
    std::fprintf(stderr, "writ test: --snapshot-check: %s (make it with --snapshot)\n",
                 err.c_str());
    return kExitTrap;
  }
  if (had) {
    std::string text(bytes.begin(), bytes.end());
    size_t line_no = 0;
    for (size_t pos = 0; pos < text.size();) {
      size_t end = text.find('\n', pos);
      if (end == std::string::npos) end = text.size();
      const std::string line = text.substr(pos, end - pos);
      pos = end + 1;
      ++line_no;
      if (line.empty()) continue;
      const size_t sp = line.rfind(' ');
      auto g = sp == std::string::npos ? std::nullopt : vm::parse_u256(line.substr(sp + 1));
      if (!g || !g->fits_u64()) {
        std::fprintf(stderr, "writ test: %s:%zu: expected \"Contract.test_name gas\"\n",
                     path.c_str(), line_no);
        return kExitInput;
      }
      before[line.substr(0, sp)] = g->low64();
    }
  }
  if (partial)
    for (const auto& [name, gas] : before)
      if (!ran.count(name)) now.emplace(name, gas);
  std::vector<std::string> changes;
  for (const auto& [name, gas] : now) {
    auto it = before.find(name);
    if (it == before.end()) {
      if (had) changes.push_back(name + ": new, " + with_commas(gas));
    } else if (it->second != gas) {
      const int64_t d = static_cast<int64_t>(gas) - static_cast<int64_t>(it->second);
      char pct[32];
      std::snprintf(
          pct, sizeof pct, "%+.1f%%",
          it->second ? 100.0 * static_cast<double>(d) / static_cast<double>(it->second) : 0.0);
      changes.push_back(name + ": " + with_commas(it->second) + " -> " + with_commas(gas) + " (" +
                        (d > 0 ? "+" : "-") + with_commas(static_cast<uint64_t>(d > 0 ? d : -d)) +
                        ", " + pct + ")");
    }
  }
  for (const auto& [name, gas] : before)
    if (!now.count(name)) changes.push_back(name + ": gone (was " + with_commas(gas) + ")");
  if (!quiet || !write)
    for (const std::string& c : changes)
      std::fprintf(write ? stdout : stderr, "gas snapshot: %s\n", c.c_str());
  if (!write) {
    if (changes.empty()) return kExitOk;
    std::fprintf(stderr, "writ test: the gas differs from %s in %zu test%s\n", path.c_str(),
                 changes.size(), changes.size() == 1 ? "" : "s");
    return kExitTrap;
  }
  std::string out;
  for (const auto& [name, gas] : now) out += name + " " + std::to_string(gas) + "\n";
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(out.data(), 1, out.size(), f) != out.size() || std::fclose(f) != 0) {
    std::fprintf(stderr, "writ test: %s: cannot write\n", path.c_str());
    return kExitInput;
  }
  if (!quiet) std::printf("gas snapshot: %zu tests written to %s\n", now.size(), path.c_str());
  return kExitOk;
}

}  // namespace

int load_test_world(const char* verb, std::vector<std::string> paths, compiler::CompileOptions opts,
                    TestWorld& w) {
  // The project (if any): its sources give the contracts tests deploy.
  std::string err;
  w.project = find_project(std::filesystem::current_path(), err);
  if (!err.empty()) {
    std::fprintf(stderr, "writ %s: %s\n", verb, err.c_str());
    return kExitInput;
  }
  if (paths.empty()) {
    if (!w.project) {
      std::fprintf(stderr,
                   "writ %s: no test files given and no writ.json here or above (writ init NAME "
                   "makes a project)\n",
                   verb);
      return kExitUsage;
    }
    paths.push_back(w.project->test_dir.string());
  }
  std::vector<std::string> test_files;
  for (const std::string& p : paths) {
    if (!collect_writ_files(p, test_files, err)) {
      std::fprintf(stderr, "writ %s: %s\n", verb, err.c_str());
      return kExitInput;
    }
  }
  if (w.project)
    for (const auto& d : w.project->import_dirs) opts.import_dirs.push_back(d.string());
  std::vector<std::string> source_files;
  if (w.project && !collect_writ_files(w.project->src_dir.string(), source_files, err)) {
    std::fprintf(stderr, "writ %s: %s\n", verb, err.c_str());
    return kExitInput;
  }

  // Compile everything; every error is shown before giving up.
  size_t errors = 0;
  auto compile = [&](const std::string& f) -> const compiler::CompileOutput* {
    w.outputs.push_back(compiler::compile_file(f, opts));
    std::fputs(w.outputs.back().diagnostics.c_str(), stderr);
    if (!w.outputs.back().ok) errors += std::max<size_t>(w.outputs.back().error_count, 1);
    return &w.outputs.back();
  };
  // A source that is also a test file (a project whose sources are its
  // whole directory, tests included) is compiled once, as a test: paths
  // compared as the files they name ("./test/a.writ" is "test/a.writ").
  auto file_id = [](const std::string& f) {
    std::error_code ec;
    const std::filesystem::path c = std::filesystem::weakly_canonical(f, ec);
    return ec ? f : c.string();
  };
  std::vector<std::string> test_ids;
  for (const std::string& f : test_files) test_ids.push_back(file_id(f));
  std::sort(test_ids.begin(), test_ids.end());
  for (const std::string& f : source_files)
    if (!std::binary_search(test_ids.begin(), test_ids.end(), file_id(f))) compile(f);
  for (const std::string& f : test_files) w.tests_by_file.emplace_back(f, compile(f));
  if (errors) {
    std::fprintf(stderr, "writ %s: %zu error%s\n", verb, errors, errors == 1 ? "" : "s");
    return kExitInput;
  }
  for (const auto& out : w.outputs) w.book.add_compiled(out);
  w.book.add_system_contracts();
  // The book holds the compiles' contracts first, in order.
  {
    size_t k = 0;
    for (const auto& out : w.outputs)
      for (size_t i = 0; i < out.contracts.size(); ++i)
        w.booked[&out].push_back(&w.book.entries()[k++].contract);
  }
  std::map<std::string, const ContractOutput*> sources;
  for (const auto& out : w.outputs) {
    const bool is_test = std::any_of(w.tests_by_file.begin(), w.tests_by_file.end(),
                                     [&](const auto& t) { return t.second == &out; });
    if (!is_test)
      for (const ContractOutput* c : w.booked[&out]) sources.emplace(c->name, c);
  }
  for (const auto& [file, out] : w.tests_by_file) {
    auto& d = w.deployable[out];
    d = sources;
    for (const ContractOutput* c : w.booked[out]) d[c->name] = c;
  }

  runtime::Genesis genesis = contracts::default_genesis();
  if (w.project && !w.project->genesis.empty()) {
    std::vector<uint8_t> text;
    if (!read_file(w.project->genesis.string(), text, err)) {
      std::fprintf(stderr, "writ %s: %s\n", verb, err.c_str());
      return kExitInput;
    }
    auto g = runtime::parse_genesis_json(std::string(text.begin(), text.end()),
                                         w.project->genesis.parent_path().string());
    if (!g.ok()) {
      std::fprintf(stderr, "writ %s: %s: %s\n", verb, w.project->genesis.string().c_str(),
                   g.error().to_string().c_str());
      return kExitInput;
    }
    genesis = std::move(g.value());
  }
  auto box = runtime::Sandbox::create(genesis);
  if (!box.ok()) {
    std::fprintf(stderr, "writ %s: the genesis: %s\n", verb, box.error().to_string().c_str());
    return kExitInput;
  }
  w.box = std::move(box.value());
  return kExitOk;
}

TestSession open_test_session(TestWorld& w, const compiler::CompileOutput& file,
                              const ContractOutput& c, uint64_t gas) {
  Prepared p = prepare(*w.box, w.book, w.deployable.at(&file), c, gas, nullptr);
  TestSession t;
  t.s = std::move(p.s);
  t.hooks = std::move(p.hooks);
  t.self = p.self;
  t.error = std::move(p.error);
  return t;
}

int cmd_test(const std::vector<std::string>& args) {
  Args a;
  const auto snapshot_file = [](const std::string& next) {
    return !next.empty() && next[0] != '-' && ends_with(next, ".gas-snapshot");
  };
  if (!parse_args("test", args,
                  {"--match", "--gas", "--stdlib", "--gas-profile", "--invariant-runs", "--depth",
                   "--runs", "--seed"},
                  {"--json", "--gas-report"}, a,
                  {{"--snapshot", snapshot_file}, {"--snapshot-check", snapshot_file}}))
    return kExitUsage;
  if (a.help) {
    std::fputs(kTestHelp, stdout);
    return kExitOk;
  }
  const std::vector<std::string>& paths = a.pos;
  const std::string match_text = a.one("--match") ? *a.one("--match") : "";
  const bool json = a.has("--json"), gas_report = a.has("--gas-report");
  const std::string profile_dir = a.one("--gas-profile") ? *a.one("--gas-profile") : "";
  uint64_t gas = runtime::kBlockGasLimit, runs = kDefaultRuns,
           invariant_runs = kDefaultInvariantRuns, depth = kDefaultDepth, seed = 0;
  if ((a.one("--gas") && !parse_gas("test", *a.one("--gas"), 1, gas)) ||
      (a.one("--runs") && !parse_count("test", "--runs", *a.one("--runs"), 1, 100'000, runs)) ||
      (a.one("--invariant-runs") &&
       !parse_count("test", "--invariant-runs", *a.one("--invariant-runs"), 1, 10'000,
                    invariant_runs)) ||
      (a.one("--depth") && !parse_count("test", "--depth", *a.one("--depth"), 1, 10'000, depth)) ||
      (a.one("--seed") && !parse_count("test", "--seed", *a.one("--seed"), 0, UINT64_MAX, seed)))
    return kExitUsage;
  // --snapshot writes the file, --snapshot-check compares with it: the last given counts.
  enum class Snapshot { None, Write, Check } snapshot = Snapshot::None;
  std::string snapshot_path;
  if (const std::string* last = a.last_of({"--snapshot", "--snapshot-check"})) {
    snapshot = *last == "--snapshot" ? Snapshot::Write : Snapshot::Check;
    snapshot_path = *a.one(*last);
  }
  compiler::CompileOptions opts;
  opts.stdlib_dir = a.one("--stdlib") ? *a.one("--stdlib") : default_stdlib_dir();
  // --match: a POSIX extended regular expression, searched in Contract.test_name.
  struct Matcher {
    regex_t re{};
    bool compiled = false;
    ~Matcher() {
      if (compiled) regfree(&re);
    }
    bool operator()(const std::string& s) const {
      return regexec(&re, s.c_str(), 0, nullptr, 0) == 0;
    }
  };
  std::unique_ptr<Matcher> match;
  if (!match_text.empty()) {
    match = std::make_unique<Matcher>();
    if (int rc = regcomp(&match->re, match_text.c_str(), REG_EXTENDED | REG_NOSUB); rc != 0) {
      char why[256];
      regerror(rc, &match->re, why, sizeof why);
      std::fprintf(stderr, "writ test: --match %s is not a regular expression: %s\n",
                   match_text.c_str(), why);
      return kExitUsage;
    }
    match->compiled = true;
  }

  TestWorld world;
  if (int rc = load_test_world("test", paths, opts, world); rc != kExitOk) return rc;
  const std::optional<Project>& project = world.project;
  ContractBook& book = world.book;
  const auto& tests_by_file = world.tests_by_file;
  const auto& box = world.box;
  std::string err;

  std::unique_ptr<GasProfiler> profiler;
  if (!profile_dir.empty()) {
    profiler = std::make_unique<GasProfiler>(book);
    t_profiler = profiler.get();
  }
  const auto started = std::chrono::steady_clock::now();
  std::vector<TestResult> results;
  GasReport report;
  for (const auto& [file, out] : tests_by_file) {
    const auto& deployable = world.deployable.at(out);
    for (size_t ci = 0; ci < out->contracts.size(); ++ci) {
      const ContractOutput& c = out->contracts[ci];
      const ContractOutput* in_book = world.booked.at(out)[ci];
      std::vector<const AbiEntry*> tests;
      for (const AbiEntry& f : c.functions)
        if ((f.name.rfind("test_", 0) == 0 ||
             (f.name.rfind("invariant_", 0) == 0 && f.inputs.empty())) &&
            !f.constructor && (!match || (*match)(c.name + "." + f.name)))
          tests.push_back(&f);
      if (tests.empty()) continue;
      if (!json) std::printf("%s: %s\n", file.c_str(), c.name.c_str());
      for (const AbiEntry* f : tests) {
        const ContractOutput& tc = in_book ? *in_book : c;
        GasReport* rep = gas_report ? &report : nullptr;
        TestResult t = f->name.rfind("invariant_", 0) == 0
                           ? run_invariant(*box, book, deployable, file, tc, *f, gas,
                                           static_cast<unsigned>(invariant_runs),
                                           static_cast<unsigned>(depth), seed, rep)
                       : f->inputs.empty()
                           ? run_test(*box, book, deployable, file, tc, *f, gas, {}, rep)
                           : run_property(*box, book, deployable, file, tc, *f, gas,
                                          static_cast<unsigned>(runs), seed, rep);
        if (!json) {
          if (t.passed && !t.note.empty())
            std::printf("  %-4s  %-40s %s\n", "ok", t.name.c_str(), t.note.c_str());
          else if (!t.passed && t.gas == 0)
            std::printf("  %-4s  %s\n", "FAIL", t.name.c_str());
          else if (t.runs)
            std::printf("  %-4s  %-40s gas %s (mean of %u runs)\n", "ok", t.name.c_str(),
                        with_commas(t.gas).c_str(), t.runs);
          else
            std::printf("  %-4s  %-40s gas %s\n", t.passed ? "ok" : "FAIL", t.name.c_str(),
                        with_commas(t.gas).c_str());
          if (!t.passed) {
            std::string indented = "        " + t.reason;
            for (size_t p = 0; (p = indented.find('\n', p)) != std::string::npos; p += 9)
              indented.insert(p + 1, "        ");
            std::printf("%s\n", indented.c_str());
          }
          std::fflush(stdout);
        }
        results.push_back(std::move(t));
      }
    }
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  size_t passed = 0, failed = 0;
  for (const TestResult& t : results) (t.passed ? passed : failed)++;
  if (json) {
    std::string o = "{\"tests\":[";
    for (size_t i = 0; i < results.size(); ++i) {
      const TestResult& t = results[i];
      o += std::string(i ? "," : "") + "{\"file\":\"" + json_escape(t.file) + "\",\"contract\":\"" +
           json_escape(t.contract) + "\",\"name\":\"" + json_escape(t.name) + "\",\"status\":\"" +
           (t.passed ? "pass" : "fail") + "\",\"gas\":" + std::to_string(t.gas);
      if (t.runs) o += ",\"runs\":" + std::to_string(t.runs);
      if (!t.passed) o += ",\"reason\":\"" + json_escape(t.reason) + "\"";
      o += "}";
    }
    o += "],\"passed\":" + std::to_string(passed) + ",\"failed\":" + std::to_string(failed);
    if (gas_report) {
      o += ",\"gas_report\":{";
      bool first_c = true;
      for (const auto& [contract, fns] : report) {
        o += std::string(first_c ? "" : ",") + "\"" + json_escape(contract) + "\":{";
        first_c = false;
        bool first_f = true;
        for (const auto& [fname, samples] : fns) {
          const GasStats g = stats_of(samples);
          o += std::string(first_f ? "" : ",") + "\"" + json_escape(fname) +
               "\":{\"calls\":" + std::to_string(g.calls) + ",\"min\":" + std::to_string(g.min) +
               ",\"mean\":" + std::to_string(g.mean) + ",\"median\":" + std::to_string(g.median) +
               ",\"max\":" + std::to_string(g.max) + "}";
          first_f = false;
        }
        o += "}";
      }
      o += "}";
    }
    o += "}";
    std::printf("%s\n", o.c_str());
  } else {
    if (results.empty())
      std::printf("no tests%s\n",
                  match ? " match --match" : " (public test_* functions of a contract)");
    if (gas_report) print_gas_report(report);
    std::printf("%zu passed, %zu failed (%.2f s)\n", passed, failed, secs);
  }
  if (profiler) {
    t_profiler = nullptr;
    if (!write_profile(*profiler, profile_dir, err)) {
      std::fprintf(stderr, "writ test: --gas-profile: %s\n", err.c_str());
      return kExitInput;
    }
    if (!json)
      std::printf("gas profile: %zu stacks, %zu source files -> %s (gas.folded, FILE.gas)\n",
                  profiler->folded.size(), profiler->by_line.size(), profile_dir.c_str());
  }
  if (snapshot != Snapshot::None) {
    if (snapshot_path.empty())
      snapshot_path =
          ((project ? project->root : std::filesystem::current_path()) / ".gas-snapshot").string();
    // Invariants have no gas of their own to snapshot.
    std::map<std::string, uint64_t> now;
    std::set<std::string> ran;
    for (const TestResult& t : results) {
      if (t.name.rfind("invariant_", 0) == 0) continue;
      ran.insert(t.contract + "." + t.name);
      if (t.passed) now[t.contract + "." + t.name] = t.gas;
    }
    const int rc =
        check_snapshot(snapshot_path, std::move(now), ran, !match_text.empty() || !paths.empty(),
                       snapshot == Snapshot::Write, json);
    if (rc != kExitOk) return rc;
  }
  return failed ? kExitTrap : kExitOk;
}

}  // namespace writ::cli
