// `writ test`: tests written in Writ (docs/testing.md). A test contract is a
// contract with public `test_*` functions; each test runs in a session of
// its own over the genesis state (runtime::Sandbox): the test contract is
// deployed, its `setup()` runs if it has one, then the test function. A test
// passes when its function returns and every expectation it set was met.
// The helpers of stdlib/test.writ (`t().deploy`, `prank`, `warp`, ...) are
// calls to kHelpers that the runner answers (TestHooks).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <regex>

#include "commands.hpp"
#include "decode.hpp"
#include "project.hpp"
#include "writ/compiler/abi_format.hpp"
#include "writ/compiler/compiler.hpp"
#include "writ/contracts/system.hpp"
#include "writ/runtime/sandbox.hpp"
#include "writ/vm/abi.hpp"

namespace writ::cli {

const char* kTestHelp =
    "usage: writ test [PATH...] [--match REGEX] [--gas N] [--json] [--stdlib DIR]\n"
    "Runs the tests written in Writ: every public test_* function of every\n"
    "contract in the test files, each in a fresh in-memory chain made from the\n"
    "genesis (the system contracts included). PATH is a test file or a\n"
    "directory of them; by default the project's test directory (writ.json,\n"
    "found from the current directory up). The contracts of the project's\n"
    "sources can be deployed by tests with t().deploy(\"Name\", init).\n"
    "  --match REGEX  only the tests whose Contract.test_name matches\n"
    "  --gas N        gas for each test function (default: the block gas limit)\n"
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

class TestHooks final : public runtime::CallHooks {
 public:
  TestHooks(runtime::Sandbox::Session& s, ContractBook& book,
            const std::map<std::string, const ContractOutput*>& deployable)
      : s_(s), book_(book), deployable_(deployable) {}

  U256 test_contract{};
  std::string failure;  // the first broken expectation or helper misuse

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
  uint64_t gas = 0;
  std::string reason;  // failures: what went wrong, then where (several lines)
};

std::string with_commas(uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

// Runs one test function in a fresh session.
TestResult run_test(const runtime::Sandbox& box, ContractBook& book,
                    const std::map<std::string, const ContractOutput*>& deployable,
                    const std::string& file, const ContractOutput& c, const AbiEntry& fn,
                    uint64_t gas) {
  TestResult t;
  t.file = file;
  t.contract = c.name;
  t.name = fn.name;
  auto s = box.session();
  TestHooks hooks(*s, book, deployable);
  s->set_hooks(&hooks);
  vm::ExecResult r;
  auto at = s->deploy(kTestSender, c.bytecode, {}, gas, r);
  if (!at.ok()) {
    t.reason = "the test contract did not deploy: " + at.error().message;
    return t;
  }
  const U256 self = at.value().to_u256();
  hooks.test_contract = self;
  book.bind(self, &c);
  auto call = [&](const AbiEntry& f) {
    return s->call(kTestSender, at.value(), vm::call_input(f.selector, std::vector<Value>{}), gas);
  };
  auto explain = [&](const AbiEntry& f, const vm::ExecResult& res) {
    std::string why = std::string(vm::status_name(res.status));
    if (res.status == Status::Revert && !res.output.empty())
      why = "reverted: " + book.revert(&c, res.output);
    else if (!res.detail.empty())
      why += ": " + res.detail;
    if (res.status == Status::OutOfGas)
      why += " (the function did not finish within " + with_commas(gas) + " gas; --gas sets it)";
    if (!hooks.failure.empty()) why += "\n" + hooks.failure;
    Frame top;
    top.address = self;
    top.selector = f.selector;
    top.selector_known = true;
    top.status = res.status;
    top.func = res.func;
    top.pc = res.pc;
    top.detail = res.detail;
    std::string chain = format_chain(book, top, res.calls, res.calls_omitted, res.output);
    while (!chain.empty() && chain.back() == '\n') chain.pop_back();
    return why + (chain.empty() ? "" : "\n" + chain);
  };
  for (const AbiEntry& f : c.functions) {
    if (f.name != "setup" || !f.inputs.empty()) continue;
    vm::ExecResult sr = call(f);
    if (sr.status != Status::Ok || !hooks.failure.empty()) {
      t.reason = "setup() failed: " + explain(f, sr);
      return t;
    }
  }
  vm::ExecResult tr = call(fn);
  hooks.finish();
  t.gas = gas - static_cast<uint64_t>(tr.gas_left < 0 ? 0 : tr.gas_left);
  if (tr.status == Status::Ok && hooks.failure.empty()) {
    t.passed = true;
    return t;
  }
  t.reason = tr.status == Status::Ok ? hooks.failure : explain(fn, tr);
  return t;
}

}  // namespace

int cmd_test(const std::vector<std::string>& args) {
  std::vector<std::string> paths;
  std::string match_text;
  bool json = false;
  uint64_t gas = runtime::kBlockGasLimit;
  compiler::CompileOptions opts;
  opts.stdlib_dir = default_stdlib_dir();
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto need = [&](const char* opt) -> const std::string* {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "writ test: %s needs a value\n", opt);
        return nullptr;
      }
      return &args[++i];
    };
    const std::string* v = nullptr;
    if (a == "--help" || a == "-h") {
      std::fputs(kTestHelp, stdout);
      return kExitOk;
    } else if (a == "--match") {
      if (!(v = need("--match"))) return kExitUsage;
      match_text = *v;
    } else if (a == "--gas") {
      if (!(v = need("--gas"))) return kExitUsage;
      auto g = vm::parse_u256(*v);
      if (!g || !g->fits_u64() || g->low64() == 0 || g->low64() > runtime::kBlockGasLimit) {
        std::fprintf(stderr,
                     "writ test: --gas %s is not a gas amount up to the block gas limit %llu\n",
                     v->c_str(), static_cast<unsigned long long>(runtime::kBlockGasLimit));
        return kExitUsage;
      }
      gas = g->low64();
    } else if (a == "--stdlib") {
      if (!(v = need("--stdlib"))) return kExitUsage;
      opts.stdlib_dir = *v;
    } else if (a == "--json") {
      json = true;
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "writ test: unknown option %s\n", a.c_str());
      return kExitUsage;
    } else {
      paths.push_back(a);
    }
  }
  std::optional<std::regex> match;
  if (!match_text.empty()) {
    try {
      match.emplace(match_text);
    } catch (const std::regex_error& e) {
      std::fprintf(stderr, "writ test: --match %s is not a regular expression: %s\n",
                   match_text.c_str(), e.what());
      return kExitUsage;
    }
  }

  // The project (if any): its sources give the contracts tests deploy.
  std::string err;
  std::optional<Project> project = find_project(std::filesystem::current_path(), err);
  if (!err.empty()) {
    std::fprintf(stderr, "writ test: %s\n", err.c_str());
    return kExitInput;
  }
  if (paths.empty()) {
    if (!project) {
      std::fprintf(stderr,
                   "writ test: no test files given and no writ.json here or above (writ init NAME "
                   "makes a project)\n");
      return kExitUsage;
    }
    paths.push_back(project->test_dir.string());
  }
  std::vector<std::string> test_files;
  for (const std::string& p : paths) {
    if (!collect_writ_files(p, test_files, err)) {
      std::fprintf(stderr, "writ test: %s\n", err.c_str());
      return kExitInput;
    }
  }
  if (project)
    for (const auto& d : project->import_dirs) opts.import_dirs.push_back(d.string());
  std::vector<std::string> source_files;
  if (project && !collect_writ_files(project->src_dir.string(), source_files, err)) {
    std::fprintf(stderr, "writ test: %s\n", err.c_str());
    return kExitInput;
  }

  // Compile everything; every error is shown before giving up.
  std::deque<compiler::CompileOutput> outputs;
  size_t errors = 0;
  std::vector<std::pair<std::string, const compiler::CompileOutput*>> tests_by_file;
  auto compile = [&](const std::string& f) -> const compiler::CompileOutput* {
    outputs.push_back(compiler::compile_file(f, opts));
    std::fputs(outputs.back().diagnostics.c_str(), stderr);
    if (!outputs.back().ok) errors += std::max<size_t>(outputs.back().error_count, 1);
    return &outputs.back();
  };
  for (const std::string& f : source_files)
    if (std::find(test_files.begin(), test_files.end(), f) == test_files.end()) compile(f);
  for (const std::string& f : test_files) tests_by_file.emplace_back(f, compile(f));
  if (errors) {
    std::fprintf(stderr, "writ test: %zu error%s\n", errors, errors == 1 ? "" : "s");
    return kExitInput;
  }
  ContractBook book;
  std::map<std::string, const ContractOutput*> deployable;
  for (const auto& out : outputs) {
    book.add_compiled(out);
  }
  book.add_system_contracts();
  for (const auto& e : book.entries())
    if (!e.system) deployable.emplace(e.contract.name, &e.contract);

  runtime::Genesis genesis = contracts::default_genesis();
  if (project && !project->genesis.empty()) {
    std::vector<uint8_t> text;
    if (!read_file(project->genesis.string(), text, err)) {
      std::fprintf(stderr, "writ test: %s\n", err.c_str());
      return kExitInput;
    }
    auto g = runtime::parse_genesis_json(std::string(text.begin(), text.end()),
                                         project->genesis.parent_path().string());
    if (!g.ok()) {
      std::fprintf(stderr, "writ test: %s: %s\n", project->genesis.string().c_str(),
                   g.error().to_string().c_str());
      return kExitInput;
    }
    genesis = std::move(g.value());
  }
  auto box = runtime::Sandbox::create(genesis);
  if (!box.ok()) {
    std::fprintf(stderr, "writ test: the genesis: %s\n", box.error().to_string().c_str());
    return kExitInput;
  }

  const auto started = std::chrono::steady_clock::now();
  std::vector<TestResult> results;
  for (const auto& [file, out] : tests_by_file) {
    for (const ContractOutput& c : out->contracts) {
      const ContractOutput* in_book = book.find_name(c.name);
      std::vector<const AbiEntry*> tests;
      for (const AbiEntry& f : c.functions)
        if (f.name.rfind("test_", 0) == 0 && !f.constructor &&
            (!match || std::regex_search(c.name + "." + f.name, *match)))
          tests.push_back(&f);
      if (tests.empty()) continue;
      if (!json) std::printf("%s: %s\n", file.c_str(), c.name.c_str());
      for (const AbiEntry* f : tests) {
        TestResult t;
        if (!f->inputs.empty()) {
          t.file = file;
          t.contract = c.name;
          t.name = f->name;
          t.reason = "takes parameters: property tests are not supported yet";
        } else {
          t = run_test(*box.value(), book, deployable, file, in_book ? *in_book : c, *f, gas);
        }
        if (!json) {
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
      if (!t.passed) o += ",\"reason\":\"" + json_escape(t.reason) + "\"";
      o += "}";
    }
    o += "],\"passed\":" + std::to_string(passed) + ",\"failed\":" + std::to_string(failed) + "}";
    std::printf("%s\n", o.c_str());
  } else {
    if (results.empty())
      std::printf("no tests%s\n",
                  match ? " match --match" : " (public test_* functions of a contract)");
    std::printf("%zu passed, %zu failed (%.2f s)\n", passed, failed, secs);
  }
  return failed ? kExitTrap : kExitOk;
}

}  // namespace writ::cli
